//! The recipient directory and preferences.
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::{county_of, page_size, require_text},
};
use zoufang_proto::notify::v1::*;
use zoufang_types::{
    MobilePhone, RegionCode, RegionLevel, RegionScope,
    scope::{require_covers_both, require_visible},
};

use super::{State, fanout::preferences_or_default, view};
use crate::{
    domain::{quiet::DAY_MINUTES, template},
    store::{self, preferences::PreferencesRow, recipients::RecipientRow},
};

/// Who may maintain the directory and others' preferences.
const ADMINS: &[&str] = &[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN, roles::SERVICE];

/// Adds or updates a person; their phone is encrypted, shown masked.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn upsert(
    state: &State,
    claims: &Claims,
    req: UpsertRecipientRequest,
) -> ServiceResult<UpsertRecipientResponse> {
    claims.require_any_role(ADMINS)?;
    let r = req
        .recipient
        .ok_or_else(|| ServiceError::invalid("recipient", "required"))?;
    let recipient_id = require_text("recipient.recipient_id", &r.recipient_id, 64)?;
    let name = require_text("recipient.name", &r.name, 50)?;
    if r.roles.is_empty() {
        return Err(ServiceError::invalid(
            "recipient.roles",
            "give at least one role",
        ));
    }
    for (i, role) in r.roles.iter().enumerate() {
        if !roles::ALL.contains(&role.as_str()) {
            return Err(ServiceError::invalid(
                format!("recipient.roles[{i}]"),
                format!("unknown role {role:?}; known: {}", roles::ALL.join(", ")),
            ));
        }
    }
    let region = RegionCode::parse("recipient.region_code", &r.region_code)?;
    check_roles_fit_region(&r.roles, &region)?;
    claims.require_scope(region.as_str())?;
    let (phone_enc, phone_masked) = if r.phone.is_empty() {
        (None, String::new())
    } else {
        let phone = MobilePhone::parse("recipient.phone", &r.phone)?;
        (Some(state.pii.encrypt(phone.as_str())), phone.masked())
    };
    let row = RecipientRow {
        county: region.county().to_owned(),
        recipient_id,
        name,
        roles: r.roles.clone(),
        region_code: region.as_str().to_owned(),
        scope: RegionScope::for_code(&region).as_str().to_owned(),
        phone_enc,
        phone_masked,
        active: !req.deactivate,
        updated_at: state.clock.now(),
    };
    // The row as stored must be the caller's too: a township admin once
    // rewrote the county leader's row (inactive, new role, new phone) by
    // sending values inside their township.
    let mut tx = state.pool.begin().await?;
    let stored = store::recipients::lock(&mut tx, &row.county, &row.recipient_id).await?;
    require_covers_both(
        claims,
        stored.as_ref().map(|s| s.region_code.as_str()),
        region.as_str(),
    )?;
    let saved = store::recipients::upsert(&mut tx, &row, &claims.scope)
        .await?
        .ok_or_else(|| {
            ServiceError::Aborted(format!(
                "recipient {} was written by someone else meanwhile; re-read and retry",
                row.recipient_id
            ))
        })?;
    tx.commit().await?;
    Ok(UpsertRecipientResponse {
        recipient: Some(view::recipient(&saved)),
    })
}

/// Roles that act for a whole county: they receive the county's
/// escalations, so they belong to someone registered at county level.
const COUNTY_WIDE_ROLES: &[&str] = &[
    roles::COUNTY_ADMIN,
    roles::DEPARTMENT,
    roles::PETITION_BUREAU,
];

/// A county-wide role needs a region at county level or above: otherwise a
/// township admin could make someone of their township a "county admin"
/// recipient and route the county's escalations about it to them.
pub fn check_roles_fit_region(held: &[String], region: &RegionCode) -> ServiceResult<()> {
    if region.level() <= RegionLevel::County {
        return Ok(());
    }
    match held
        .iter()
        .position(|r| COUNTY_WIDE_ROLES.contains(&r.as_str()))
    {
        Some(i) => Err(ServiceError::invalid(
            format!("recipient.roles[{i}]"),
            format!(
                "{} acts for a whole county: give the county's code as region_code, not {region}",
                held[i]
            ),
        )),
        None => Ok(()),
    }
}

/// The county (6+ digit prefix) a list request reads.
pub fn county_prefix(claims: &Claims, requested: &str) -> ServiceResult<String> {
    let prefix = zoufang_types::list_prefix(claims, requested)?;
    if prefix.len() < 6 {
        return Err(ServiceError::invalid(
            "region_code",
            "name a county (6 digits) or a region inside one",
        ));
    }
    Ok(prefix)
}

/// A page of the directory under a region, masked.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListRecipientsRequest,
) -> ServiceResult<ListRecipientsResponse> {
    claims.require_any_role(ADMINS)?;
    let prefix = county_prefix(claims, &req.region_code)?;
    let limit = page_size(req.page_size);
    let rows = store::recipients::list(
        &state.pool,
        &county_of(&prefix),
        &prefix,
        &req.role,
        &req.page_token,
        limit + 1,
    )
    .await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let rows: Vec<_> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    Ok(ListRecipientsResponse {
        next_page_token: if more {
            rows.last()
                .map(|r| r.recipient_id.clone())
                .unwrap_or_default()
        } else {
            String::new()
        },
        recipients: rows.iter().map(view::recipient).collect(),
    })
}

/// The person whose preferences a request is about: the caller, or someone
/// an admin covers.
async fn subject(state: &State, claims: &Claims, requested: &str) -> ServiceResult<RecipientRow> {
    let id = if requested.is_empty() {
        claims.sub.as_str()
    } else {
        requested
    };
    // The role first, and out-of-scope people answer like unknown ones, so
    // the answer never tells whether someone elsewhere is in the directory.
    let not_found = || {
        ServiceError::NotFound(format!(
            "recipient {id} is not in the notification directory"
        ))
    };
    if id != claims.sub {
        claims.require_any_role(ADMINS)?;
    }
    let row = store::recipients::find(&state.pool, id)
        .await?
        .ok_or_else(not_found)?;
    if id != claims.sub {
        require_visible(claims, &row.region_code, not_found)?;
    }
    Ok(row)
}

/// A person's preferences (the defaults when never set).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn get_preferences(
    state: &State,
    claims: &Claims,
    req: GetPreferencesRequest,
) -> ServiceResult<GetPreferencesResponse> {
    let who = subject(state, claims, &req.recipient_id).await?;
    let stored = store::preferences::get(&state.pool, &who.county, &who.recipient_id).await?;
    let prefs = preferences_or_default(&who.county, &who.recipient_id, stored);
    Ok(GetPreferencesResponse {
        preferences: Some(view::preferences(&prefs)),
    })
}

/// Replaces a person's preferences.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn set_preferences(
    state: &State,
    claims: &Claims,
    req: SetPreferencesRequest,
) -> ServiceResult<SetPreferencesResponse> {
    let p = req
        .preferences
        .ok_or_else(|| ServiceError::invalid("preferences", "required"))?;
    let minutes = 0..i32::try_from(DAY_MINUTES).unwrap_or(1440);
    for (field, v) in [
        ("preferences.quiet_start_minute", p.quiet_start_minute),
        ("preferences.quiet_end_minute", p.quiet_end_minute),
    ] {
        if !minutes.contains(&v) {
            return Err(ServiceError::invalid(
                field,
                "minutes after midnight, 0–1439",
            ));
        }
    }
    for (i, kind) in p.muted_kinds.iter().enumerate() {
        if template::variables(kind).is_none() {
            return Err(ServiceError::invalid(
                format!("preferences.muted_kinds[{i}]"),
                format!("unknown kind {kind:?}"),
            ));
        }
    }
    let who = subject(state, claims, &p.recipient_id).await?;
    let row = PreferencesRow {
        county: who.county.clone(),
        recipient_id: who.recipient_id.clone(),
        sms_enabled: p.sms_enabled,
        digest_enabled: p.digest_enabled,
        quiet_start_minute: p.quiet_start_minute,
        quiet_end_minute: p.quiet_end_minute,
        muted_kinds: p.muted_kinds.clone(),
    };
    let mut conn = state.pool.acquire().await?;
    store::preferences::upsert(&mut conn, &row).await?;
    Ok(SetPreferencesResponse {
        preferences: Some(view::preferences(&row)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn county_wide_roles_need_a_county_region() {
        let code = |s: &str| RegionCode::parse("region_code", s).expect(s);
        let held = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let county = code("430426000000");
        let village = code("430426104201");
        assert!(check_roles_fit_region(&held(&[roles::COUNTY_ADMIN]), &county).is_ok());
        assert!(check_roles_fit_region(&held(&[roles::CADRE]), &village).is_ok());
        let e = check_roles_fit_region(&held(&[roles::CADRE, roles::DEPARTMENT]), &village)
            .unwrap_err();
        assert!(e.to_string().contains("recipient.roles[1]"), "{e}");
        assert!(
            check_roles_fit_region(&held(&[roles::COUNTY_ADMIN]), &code("430426104000")).is_err()
        );
    }
}
