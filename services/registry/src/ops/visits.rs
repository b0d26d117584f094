//! Visits (走访记录): recording (idempotent by the client's visit id, with the
//! completeness check the campaign asks for), reading, listing and flagging
//! disputed. Recording writes the `registry.visit.recorded` event in the same
//! transaction.
use uuid::Uuid;
use zoufang_bus::outbox::{self, NewEvent};
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    error::FieldViolation,
};
use zoufang_proto::{
    common::v1::{GeoPoint, Help, MaterialHandout, RaisedItem},
    events::v1::{VisitDisputed, VisitRecorded},
    registry::v1::{
        Completeness, CompletenessPolicy, FlagVisitDisputedRequest, FlagVisitDisputedResponse,
        GetVisitRequest, GetVisitResponse, ListVisitsRequest, ListVisitsResponse,
        RecordVisitRequest, RecordVisitResponse, Visit,
    },
};
use zoufang_types::scope::require_visible;

use super::{State, page_size, parse_uuid, require_text, to_timestamp};
use crate::{
    domain::{ValidVisit, check_completeness, fingerprint, validate_visit},
    store::{
        self,
        visits::{ItemRow, RecordContext, VisitFilter, VisitRow},
    },
};

/// Records a visit. The same id with the same body returns the stored visit
/// (`created = false`); the same id with another body is refused.
///
/// Two statements on one connection: one read of everything the checks need
/// ([`store::visits::record_context`]), then, when every check passed, one
/// statement writing the visit, its items and its event together (a single
/// statement is a transaction of its own); the relays are woken after, off
/// the caller's path. The reads are not locked, as they were not in the transaction this replaces
/// (READ COMMITTED reads each statement's own snapshot): the id's unique key
/// settles a race between two records of the same visit, and the foreign
/// keys a vanished household or campaign.
#[tracing::instrument(skip_all, fields(visit_id = %req.visit_id), err(level = "debug"))]
pub async fn record(
    state: &State,
    claims: &Claims,
    req: RecordVisitRequest,
) -> ServiceResult<RecordVisitResponse> {
    claims.require_any_role(&[roles::CADRE, roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN])?;
    let valid = validate_visit(&req, state.clock.now())?;
    let is_admin = claims.has_any_role(&[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN]);
    if !is_admin {
        let me = Uuid::parse_str(&claims.sub).ok();
        if !me.is_some_and(|me| valid.cadre_ids.contains(&me)) {
            return Err(ServiceError::PermissionDenied(
                "a cadre records only visits they took part in (cadre_ids must include you)".into(),
            ));
        }
    }
    let body_hash = state
        .pii
        .keyed_hash("visit_body", &hex::encode(fingerprint(&req)));

    let unknown_household = || {
        ServiceError::invalid(
            "household_id",
            format!("no household {} is registered", valid.household_id),
        )
    };
    let mut conn = state.pool.acquire().await?;
    loop {
        let ctx = store::visits::record_context(
            &mut *conn,
            valid.household_id,
            valid.visit_id,
            valid.campaign_id,
            &valid.cadre_ids,
        )
        .await?
        .ok_or_else(unknown_household)?;
        // A household outside the scope is refused exactly as an unknown one.
        require_visible(claims, &ctx.village_code, unknown_household)?;

        // A retry of a visit already stored: answer from what was stored,
        // even if the campaign has closed since.
        if let Some(stored_hash) = &ctx.existing_body_hash {
            if *stored_hash != body_hash {
                return Err(ServiceError::AlreadyExists(format!(
                    "visit_id {} was already used for a different visit",
                    valid.visit_id
                )));
            }
            let existing = store::visits::get(&mut *conn, &ctx.county, valid.visit_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("visit {} vanished", valid.visit_id))?;
            return Ok(RecordVisitResponse {
                visit: Some(load_view(&mut conn, existing).await?),
                created: false,
            });
        }

        let missing = check_record(&req, &valid, &ctx)?;
        let row = visit_row(&req, &valid, &ctx, missing, body_hash.clone());
        let items = item_rows(&valid);
        let visit = view(&row, &items);
        let event = recorded_event(&visit, &row, &ctx);
        let outbox_row = NewEvent::of(
            &event,
            &row.village_code,
            format!("visits/{}", row.visit_id),
        )
        .into_row();
        let event_id = outbox_row.event_id;
        if !store::visits::insert_recorded(&mut conn, &row, &items, outbox_row).await? {
            // Lost a race with the same id, committed meanwhile (the unique
            // key waited for it): read again and answer like a retry.
            continue;
        }
        // The event is committed: wake the relays without making the caller
        // wait for it (see outbox::Waker).
        state.outbox_waker.wake(&[event_id]);
        return Ok(RecordVisitResponse {
            visit: Some(visit),
            created: true,
        });
    }
}

/// The checks of a new visit against what is stored, in the order callers
/// see them: campaign, its region and period, cadres, then completeness.
/// Returns the fields missing under a campaign that accepts incomplete
/// records.
fn check_record(
    req: &RecordVisitRequest,
    valid: &ValidVisit,
    ctx: &RecordContext,
) -> ServiceResult<Vec<String>> {
    let county = &ctx.county;
    let campaign = ctx.campaign.as_ref().ok_or_else(|| {
        ServiceError::invalid(
            "campaign_id",
            format!("no campaign {} in county {county}", valid.campaign_id),
        )
    })?;
    if !ctx.village_code.starts_with(campaign.region_code.as_str()) {
        return Err(ServiceError::invalid(
            "household_id",
            format!(
                "the household's village {} is outside the campaign's region {}",
                ctx.village_code, campaign.region_code
            ),
        ));
    }
    super::campaigns::ensure_accepts_visits(campaign, valid.started_at)?;
    let unknown: Vec<FieldViolation> = valid
        .cadre_ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !ctx.known_cadres.contains(id))
        .map(|(i, id)| FieldViolation {
            field: format!("cadre_ids[{i}]"),
            reason: format!("no cadre {id} is registered in county {county}"),
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ServiceError::InvalidArgument(unknown));
    }

    let missing = check_completeness(req);
    if !missing.is_empty() && campaign.completeness_policy == CompletenessPolicy::Refuse as i16 {
        return Err(ServiceError::InvalidArgument(
            missing
                .iter()
                .map(|f| FieldViolation {
                    field: f.clone(),
                    reason: "is missing: the campaign refuses incomplete records (记录不完整)"
                        .into(),
                })
                .collect(),
        ));
    }
    Ok(missing)
}

/// The row of a new visit, exactly as stored, so the answer and the event
/// are built from it without reading it back: `recorded_at` is the
/// database's clock, read with the context.
fn visit_row(
    req: &RecordVisitRequest,
    valid: &ValidVisit,
    ctx: &RecordContext,
    missing: Vec<String>,
    body_hash: Vec<u8>,
) -> VisitRow {
    VisitRow {
        county: ctx.county.clone(),
        visit_id: valid.visit_id,
        campaign_id: valid.campaign_id,
        household_id: valid.household_id,
        village_code: ctx.village_code.clone(),
        cadre_ids: valid.cadre_ids.clone(),
        started_at: valid.started_at,
        ended_at: valid.ended_at,
        mode: valid.mode as i16,
        overnight_stay: req.overnight_stay,
        latitude: req.location.map(|l| l.latitude),
        longitude: req.location.map(|l| l.longitude),
        situation: req.situation.trim().to_owned(),
        narrative: req.narrative.trim().to_owned(),
        policies_explained: req
            .policies_explained
            .iter()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        materials: serde_json::Value::Array(
            req.materials
                .iter()
                .map(|m| serde_json::json!({"name": m.name.trim(), "quantity": m.quantity}))
                .collect(),
        ),
        help_cash_fen: req.help.as_ref().map_or(0, |h| h.cash_fen),
        help_goods_description: req
            .help
            .as_ref()
            .map_or(String::new(), |h| h.goods_description.trim().to_owned()),
        help_goods_value_fen: req.help.as_ref().map_or(0, |h| h.goods_value_fen),
        photo_refs: req.photo_refs.clone(),
        complete: missing.is_empty(),
        missing_fields: missing,
        disputed: false,
        dispute_reason: String::new(),
        body_hash,
        recorded_at: ctx.now,
    }
}

fn item_rows(valid: &ValidVisit) -> Vec<ItemRow> {
    valid
        .items
        .iter()
        .map(|i| ItemRow {
            visit_id: valid.visit_id,
            item_no: i.item_no,
            kind: i.kind as i16,
            category: i.category.trim().to_owned(),
            description: i.description.trim().to_owned(),
            households_involved: i.households_involved,
            resolved_on_spot: i.resolved_on_spot,
            resolution_note: i.resolution_note.trim().to_owned(),
            urgent: i.urgent,
        })
        .collect()
}

/// `registry.visit.recorded`, from the visit as stored and its household.
fn recorded_event(visit: &Visit, row: &VisitRow, ctx: &RecordContext) -> VisitRecorded {
    VisitRecorded {
        visit_id: visit.visit_id.clone(),
        campaign_id: visit.campaign_id.clone(),
        household_id: visit.household_id.clone(),
        village_code: visit.village_code.clone(),
        cadre_ids: visit.cadre_ids.clone(),
        mode: visit.mode,
        started_at: visit.started_at,
        ended_at: visit.ended_at,
        overnight_stay: visit.overnight_stay,
        location: visit.location,
        help: visit.help.clone(),
        photo_refs: visit.photo_refs.clone(),
        items: visit.items.clone(),
        complete: row.complete,
        missing_fields: row.missing_fields.clone(),
        recorded_at: visit.recorded_at,
        household_tags: ctx.open_tags.clone(),
        key_household: ctx.is_key,
        household_member_count: ctx.member_count,
        phone_shared_households: i32::try_from(ctx.phone_sharers).unwrap_or(i32::MAX),
        village_name: ctx.village_name.clone(),
        township_name: ctx.township_name.clone(),
        cadre_names: visit
            .cadre_ids
            .iter()
            .map(|id| {
                ctx.known_cadres
                    .iter()
                    .position(|k| k.to_string() == *id)
                    .and_then(|i| ctx.known_cadre_names.get(i).cloned())
                    .unwrap_or_default()
            })
            .collect(),
    }
}

/// Reads one visit within the caller's scope.
#[tracing::instrument(skip_all, fields(visit_id = %req.visit_id), err(level = "debug"))]
pub async fn get(
    state: &State,
    claims: &Claims,
    req: GetVisitRequest,
) -> ServiceResult<GetVisitResponse> {
    let visit_id = parse_uuid("visit_id", &req.visit_id)?;
    let mut conn = state.pool.acquire().await?;
    let row = find_in_scope(&mut conn, claims, visit_id).await?;
    let visit = load_view(&mut conn, row).await?;
    Ok(GetVisitResponse { visit: Some(visit) })
}

/// A page of visits, filtered by region, household, cadre or campaign.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListVisitsRequest,
) -> ServiceResult<ListVisitsResponse> {
    let opt_uuid = |field: &str, v: &str| -> ServiceResult<Option<Uuid>> {
        match v.trim() {
            "" => Ok(None),
            s => parse_uuid(field, s).map(Some),
        }
    };
    let household_id = opt_uuid("household_id", &req.household_id)?;
    if req.region_code.trim().is_empty() && household_id.is_none() && claims.scope.is_empty() {
        return Err(ServiceError::invalid(
            "region_code",
            "give a region or a household to list visits of",
        ));
    }
    let limit = page_size(req.page_size);
    let filter = VisitFilter {
        prefix: zoufang_types::list_prefix(claims, &req.region_code)?,
        household_id,
        cadre_id: opt_uuid("cadre_id", &req.cadre_id)?,
        campaign_id: opt_uuid("campaign_id", &req.campaign_id)?,
        after: opt_uuid("page_token", &req.page_token)?,
        limit: limit + 1,
    };
    let mut conn = state.pool.acquire().await?;
    let rows = store::visits::list(&mut *conn, &filter).await?;
    let more = rows.len() as i64 > limit;
    let rows: Vec<VisitRow> = rows.into_iter().take(limit as usize).collect();
    let next_page_token = if more {
        rows.last()
            .map(|r| r.visit_id.to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let mut visits = Vec::with_capacity(rows.len());
    for row in rows {
        visits.push(load_view(&mut conn, row).await?);
    }
    Ok(ListVisitsResponse {
        visits,
        next_page_token,
    })
}

/// Flags a visit disputed (once; flagging again changes nothing).
#[tracing::instrument(skip_all, fields(visit_id = %req.visit_id), err(level = "debug"))]
pub async fn flag_disputed(
    state: &State,
    claims: &Claims,
    req: FlagVisitDisputedRequest,
) -> ServiceResult<FlagVisitDisputedResponse> {
    claims.require_any_role(&[
        roles::SUPERVISOR,
        roles::TOWNSHIP_ADMIN,
        roles::COUNTY_ADMIN,
        roles::SERVICE,
    ])?;
    let visit_id = parse_uuid("visit_id", &req.visit_id)?;
    let reason = require_text("reason", &req.reason, 500)?;
    let mut tx = state.pool.begin().await?;
    let row = find_in_scope(&mut tx, claims, visit_id).await?;
    flag_in(&mut tx, &row.county, visit_id, &reason, &claims.sub).await?;
    let row = store::visits::get(&mut *tx, &row.county, visit_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("visit vanished"))?;
    let visit = load_view(&mut tx, row).await?;
    tx.commit().await?;
    Ok(FlagVisitDisputedResponse { visit: Some(visit) })
}

/// Flags a visit disputed once, with its event; flagging again changes
/// nothing. Also used when a callback could not confirm the visit.
#[tracing::instrument(skip_all, fields(%visit_id), err(level = "debug"))]
pub async fn flag_in(
    conn: &mut sqlx::PgConnection,
    county: &str,
    visit_id: Uuid,
    reason: &str,
    flagged_by: &str,
) -> ServiceResult<()> {
    let row = store::visits::lock(conn, county, visit_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("visit {visit_id}")))?;
    if row.disputed {
        return Ok(());
    }
    let items = store::visits::items_of(&mut *conn, county, &[visit_id]).await?;
    store::visits::set_disputed(conn, &row, &items, reason).await?;
    let (village_name, township_name) =
        store::regions::names_of(&mut *conn, &row.village_code).await?;
    let event = VisitDisputed {
        visit_id: visit_id.to_string(),
        household_id: row.household_id.to_string(),
        village_code: row.village_code.clone(),
        cadre_ids: row.cadre_ids.iter().map(Uuid::to_string).collect(),
        reason: reason.to_owned(),
        flagged_by: flagged_by.to_owned(),
        village_name,
        township_name,
    };
    outbox::enqueue(
        conn,
        NewEvent::of(&event, &row.village_code, format!("visits/{visit_id}")),
    )
    .await?;
    Ok(())
}

async fn find_in_scope(
    conn: &mut sqlx::PgConnection,
    claims: &Claims,
    visit_id: Uuid,
) -> ServiceResult<VisitRow> {
    let not_found = || ServiceError::NotFound(format!("visit {visit_id}"));
    let county = store::visits::county_of(&mut *conn, visit_id)
        .await?
        .ok_or_else(not_found)?;
    let row = store::visits::get(&mut *conn, &county, visit_id)
        .await?
        .ok_or_else(not_found)?;
    require_visible(claims, &row.village_code, not_found)?;
    Ok(row)
}

async fn load_view(conn: &mut sqlx::PgConnection, row: VisitRow) -> ServiceResult<Visit> {
    let items = store::visits::items_of(&mut *conn, &row.county, &[row.visit_id]).await?;
    Ok(view(&row, &items))
}

/// The proto view of a stored visit.
pub fn view(row: &VisitRow, items: &[ItemRow]) -> Visit {
    let materials = row
        .materials
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| MaterialHandout {
                    name: m["name"].as_str().unwrap_or_default().to_owned(),
                    quantity: m["quantity"]
                        .as_i64()
                        .and_then(|q| i32::try_from(q).ok())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Visit {
        visit_id: row.visit_id.to_string(),
        campaign_id: row.campaign_id.to_string(),
        household_id: row.household_id.to_string(),
        village_code: row.village_code.clone(),
        cadre_ids: row.cadre_ids.iter().map(Uuid::to_string).collect(),
        started_at: Some(to_timestamp(row.started_at)),
        ended_at: Some(to_timestamp(row.ended_at)),
        mode: i32::from(row.mode),
        overnight_stay: row.overnight_stay,
        location: match (row.latitude, row.longitude) {
            (Some(latitude), Some(longitude)) => Some(GeoPoint {
                latitude,
                longitude,
            }),
            _ => None,
        },
        situation: row.situation.clone(),
        narrative: row.narrative.clone(),
        policies_explained: row.policies_explained.clone(),
        materials,
        help: Some(Help {
            cash_fen: row.help_cash_fen,
            goods_description: row.help_goods_description.clone(),
            goods_value_fen: row.help_goods_value_fen,
        }),
        photo_refs: row.photo_refs.clone(),
        items: items
            .iter()
            .filter(|i| i.visit_id == row.visit_id)
            .map(|i| RaisedItem {
                item_no: i.item_no,
                kind: i32::from(i.kind),
                category: i.category.clone(),
                description: i.description.clone(),
                households_involved: i.households_involved,
                resolved_on_spot: i.resolved_on_spot,
                resolution_note: i.resolution_note.clone(),
                urgent: i.urgent,
            })
            .collect(),
        completeness: Some(Completeness {
            complete: row.complete,
            missing_fields: row.missing_fields.clone(),
        }),
        disputed: row.disputed,
        dispute_reason: row.dispute_reason.clone(),
        recorded_at: Some(to_timestamp(row.recorded_at)),
    }
}
