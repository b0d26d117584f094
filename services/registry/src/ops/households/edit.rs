//! Household edits (一户一档): address, group, phone and member count, from
//! the version the edit started from, each kept in the household's history
//! in the edit's transaction; and that history, a page at a time.
//!
//! No event is published: the services that use these fields read them
//! from the registry when they need them (supervision reads the phone for
//! a callback at the moment it is shown, in the supervisor's name), and no
//! other service keeps a copy. See docs/services.md.
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
};
use zoufang_proto::registry::v1::{
    HouseholdEdit, ListHouseholdHistoryRequest, ListHouseholdHistoryResponse,
    UpdateHouseholdRequest, UpdateHouseholdResponse,
};

use super::{find_in_scope, view};
use crate::{
    domain::household_edit::{self, Change, Editable},
    ops::{State, page_size, parse_uuid, to_timestamp},
    store::{
        self,
        households::{EditedFields, HouseholdRow, NewHistory},
    },
};

/// Who may edit a household: the admins of its township or county.
/// Cadres may not: the phone and the member count are what supervision's
/// callbacks check a cadre's visits against, so the cadre being checked
/// must not be able to change them.
pub const EDIT_ROLES: &[&str] = &[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN];

/// The stored editable fields, the phone decrypted.
fn editable(state: &State, row: &HouseholdRow) -> ServiceResult<Editable> {
    Ok(Editable {
        address: row.address.clone(),
        group_name: row.group_name.clone(),
        phone: match &row.phone_cipher {
            Some(c) => state.pii.decrypt(c)?,
            None => String::new(),
        },
        member_count: row.member_count,
    })
}

/// Edits a household from `expected_version`: a stale version is refused
/// (ABORTED, naming what changed since) and nothing is written; an edit that
/// changes nothing writes nothing; otherwise the row and its history row
/// are written in one transaction.
#[tracing::instrument(skip_all, fields(household_id = %req.household_id), err(level = "debug"))]
pub async fn update(
    state: &State,
    claims: &Claims,
    req: UpdateHouseholdRequest,
) -> ServiceResult<UpdateHouseholdResponse> {
    claims.require_any_role(EDIT_ROLES)?;
    if claims.purpose.is_some() || claims.act.is_some() {
        // A token the exchange issued for one purpose (a callback's phone,
        // an assessment) is for reading; edits come from the person.
        return Err(ServiceError::PermissionDenied(
            "修改户档须由本人登录操作，不接受为特定用途签发的令牌".into(),
        ));
    }
    let household_id = parse_uuid("household_id", &req.household_id)?;
    household_edit::check_request(&req)?;
    let now = state.clock.now();

    let mut tx = state.pool.begin().await?;
    // Scope is checked against the household as stored (its village), not
    // anything the request says; outside the scope reads as unknown.
    let found = find_in_scope(&mut tx, claims, household_id).await?;
    let row = store::households::lock(&mut tx, &found.county, household_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("household {household_id}")))?;
    if row.version != req.expected_version {
        let changed = store::households::fields_changed_since(
            &mut *tx,
            &row.county,
            household_id,
            req.expected_version.min(row.version),
        )
        .await?;
        return Err(household_edit::stale(
            req.expected_version,
            row.version,
            &changed,
        ));
    }
    let edit = household_edit::apply(&editable(state, &row)?, &req)?;
    if edit.changes.is_empty() {
        drop(tx);
        return Ok(UpdateHouseholdResponse {
            household: Some(view(state, &row, false)?),
            changed: false,
        });
    }
    let phone = edit.after.phone.as_str();
    let fields = EditedFields {
        address: edit.after.address.clone(),
        group_name: edit.after.group_name.clone(),
        phone_cipher: (!phone.is_empty()).then(|| state.pii.encrypt(phone)),
        phone_hash: (!phone.is_empty()).then(|| state.pii.keyed_hash("phone", phone)),
        member_count: edit.after.member_count,
    };
    let changes_json = serde_json::to_string(&edit.changes).map_err(anyhow::Error::from)?;
    let history = NewHistory {
        actor: &claims.sub,
        roles: &claims.roles,
        fields: edit.changes.iter().map(|c| c.field.clone()).collect(),
        changes_cipher: state.pii.encrypt(&changes_json),
        note: &edit.note,
        changed_at: now,
    };
    if !store::households::update_fields(
        &mut tx,
        &row.county,
        household_id,
        row.version,
        &fields,
        &history,
    )
    .await?
    {
        // The row is locked, so this means it changed between the read and
        // the lock: the same refusal as a stale version.
        return Err(household_edit::stale(
            req.expected_version,
            row.version + 1,
            &[],
        ));
    }
    let updated = store::households::get(&mut *tx, &row.county, household_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("household vanished during update"))?;
    tx.commit().await?;
    Ok(UpdateHouseholdResponse {
        household: Some(view(state, &updated, false)?),
        changed: true,
    })
}

/// A household's edits, newest first, a page at a time; phone numbers
/// masked. Anyone who may read the household may read its history.
#[tracing::instrument(skip_all, fields(household_id = %req.household_id), err(level = "debug"))]
pub async fn history(
    state: &State,
    claims: &Claims,
    req: ListHouseholdHistoryRequest,
) -> ServiceResult<ListHouseholdHistoryResponse> {
    let household_id = parse_uuid("household_id", &req.household_id)?;
    let before = match req.page_token.trim() {
        "" => None,
        t => Some(t.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
            ServiceError::invalid(
                "page_token",
                "翻页标记无效：请使用上一页返回的 next_page_token",
            )
        })?),
    };
    let limit = page_size(req.page_size);
    let mut conn = state.pool.acquire().await?;
    let row = find_in_scope(&mut conn, claims, household_id).await?;
    let rows = store::households::history(&mut *conn, &row.county, household_id, before, limit + 1)
        .await?;
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let edits = rows
        .iter()
        .map(|h| {
            let json = state.pii.decrypt(&h.changes_cipher)?;
            let changes: Vec<Change> = serde_json::from_str(&json).map_err(anyhow::Error::from)?;
            Ok(HouseholdEdit {
                version: h.version,
                actor: h.actor.clone(),
                actor_roles: h.roles.clone(),
                changed_at: Some(to_timestamp(h.changed_at)),
                changes: changes.iter().map(household_edit::shown).collect(),
                note: h.note.clone(),
            })
        })
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok(ListHouseholdHistoryResponse {
        next_page_token: match (more, rows.last()) {
            (true, Some(last)) => last.version.to_string(),
            _ => String::new(),
        },
        edits,
    })
}
