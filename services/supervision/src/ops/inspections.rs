//! Inspections (督查记录): a supervisor's finding about a cadre or a village
//! — diary incomplete, quota behind, discipline — with a rectification date
//! and its close-out.
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::{parse_uuid, require_text, to_timestamp},
};
use zoufang_proto::supervision::v1::*;
use zoufang_types::{RegionCode, scope::require_visible};

use super::State;
use crate::store::{self, inspections::InspectionRow};

const INSPECTORS: &[&str] = &[
    roles::SUPERVISOR,
    roles::TOWNSHIP_ADMIN,
    roles::COUNTY_ADMIN,
];

fn view(r: &InspectionRow, now: DateTime<Utc>) -> Inspection {
    Inspection {
        inspection_id: r.inspection_id.to_string(),
        cadre_id: r.cadre_id.clone(),
        region_code: r.region_code.clone(),
        kind: i32::from(r.kind),
        finding: r.finding.clone(),
        inspector_id: r.inspector_id.clone(),
        rectify_by: Some(to_timestamp(r.rectify_by)),
        closed: r.closed_at.is_some(),
        close_note: r.close_note.clone(),
        closed_at: r.closed_at.map(to_timestamp),
        created_at: Some(to_timestamp(r.created_at)),
        overdue: r.closed_at.is_none() && r.rectify_by < now,
    }
}

/// Records a finding (idempotent by inspection_id).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create(
    state: &State,
    claims: &Claims,
    req: CreateInspectionRequest,
) -> ServiceResult<CreateInspectionResponse> {
    claims.require_any_role(INSPECTORS)?;
    let inspection_id = parse_uuid("inspection_id", &req.inspection_id)?;
    let region = RegionCode::parse("region_code", &req.region_code)?;
    claims.require_scope(region.as_str())?;
    let kind = FindingKind::try_from(req.kind).unwrap_or(FindingKind::Unspecified);
    if kind == FindingKind::Unspecified {
        return Err(ServiceError::invalid(
            "kind",
            "choose diary incomplete, quota behind, discipline or other",
        ));
    }
    let finding = require_text("finding", &req.finding, 2000)?;
    if !(1..=90).contains(&req.rectify_within_days) {
        return Err(ServiceError::invalid(
            "rectify_within_days",
            "must be between 1 and 90",
        ));
    }
    let cadre_id = req.cadre_id.trim().to_owned();
    let body_hash = Sha256::digest(format!(
        "{cadre_id}\0{region}\0{}\0{finding}\0{}",
        req.kind, req.rectify_within_days
    ))
    .to_vec();
    let now = state.clock.now();
    let row = InspectionRow {
        county: region.county().to_owned(),
        inspection_id,
        cadre_id,
        region_code: region.as_str().to_owned(),
        kind: kind as i16,
        finding,
        inspector_id: claims.sub.clone(),
        rectify_by: now + Duration::days(i64::from(req.rectify_within_days)),
        closed_at: None,
        close_note: String::new(),
        body_hash: body_hash.clone(),
        created_at: now,
    };
    let mut tx = state.pool.begin().await?;
    store::inspections::insert(&mut tx, &row).await?;
    let stored = store::inspections::find(&mut tx, inspection_id, false)
        .await?
        .ok_or_else(|| anyhow::anyhow!("inspection vanished after insert"))?;
    if stored.body_hash != body_hash {
        return Err(ServiceError::AlreadyExists(format!(
            "inspection_id {inspection_id} was already used for another finding"
        )));
    }
    tx.commit().await?;
    Ok(CreateInspectionResponse {
        inspection: Some(view(&stored, state.clock.now())),
    })
}

/// Closes a finding once it is rectified.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn close(
    state: &State,
    claims: &Claims,
    req: CloseInspectionRequest,
) -> ServiceResult<CloseInspectionResponse> {
    claims.require_any_role(INSPECTORS)?;
    let inspection_id = parse_uuid("inspection_id", &req.inspection_id)?;
    let note = require_text("note", &req.note, 1000)?;
    let not_found = || ServiceError::NotFound(format!("inspection {inspection_id}"));
    let mut tx = state.pool.begin().await?;
    let row = store::inspections::find(&mut tx, inspection_id, true)
        .await?
        .ok_or_else(not_found)?;
    require_visible(claims, &row.region_code, not_found)?;
    if row.closed_at.is_some() {
        return Err(ServiceError::FailedPrecondition(format!(
            "inspection {inspection_id} is already closed"
        )));
    }
    store::inspections::close(&mut tx, &row.county, inspection_id, &note).await?;
    let row = store::inspections::find(&mut tx, inspection_id, false)
        .await?
        .ok_or_else(|| anyhow::anyhow!("inspection vanished"))?;
    tx.commit().await?;
    Ok(CloseInspectionResponse {
        inspection: Some(view(&row, state.clock.now())),
    })
}

/// Findings of a region (open ones first).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListInspectionsRequest,
) -> ServiceResult<ListInspectionsResponse> {
    let prefix = zoufang_types::list_prefix(claims, &req.region_code)?;
    let cadre = Some(req.cadre_id.trim()).filter(|c| !c.is_empty());
    let rows = store::inspections::list(&state.pool, &prefix, req.open_only, cadre).await?;
    let now = state.clock.now();
    Ok(ListInspectionsResponse {
        inspections: rows.iter().map(|r| view(r, now)).collect(),
    })
}
