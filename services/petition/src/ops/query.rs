//! Reading cases, their logs and their answers' delivery state.
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::Claims,
    fields::{page_size, parse_optional_uuid, parse_uuid, to_timestamp},
};
use zoufang_proto::petition::v1::{
    CaseKind, CaseLogEntry, GetCaseRequest, GetCaseResponse, ListCasesRequest, ListCasesResponse,
    ListRepliesRequest, ListRepliesResponse, Stage as PbStage,
};

use super::{HANDLERS, READERS, State, view};
use crate::store::{self, cases::CaseRow};

async fn visible(state: &State, claims: &Claims, field: &str, id: &str) -> ServiceResult<CaseRow> {
    let case_id = parse_uuid(field, id)?;
    store::cases::get(&state.pool, case_id)
        .await?
        .filter(|r| claims.covers(&r.region_code))
        .ok_or_else(|| ServiceError::NotFound(format!("case {case_id}")))
}

/// One case with its log.
#[tracing::instrument(skip_all, fields(case_id = %req.case_id), err(level = "debug"))]
pub async fn get(
    state: &State,
    claims: &Claims,
    req: GetCaseRequest,
) -> ServiceResult<GetCaseResponse> {
    claims.require_any_role(READERS)?;
    let row = visible(state, claims, "case_id", &req.case_id).await?;
    let log = store::cases::log_of(&state.pool, &row.county, row.case_id).await?;
    Ok(GetCaseResponse {
        case: Some(view::case(&row)),
        log: log
            .into_iter()
            .map(|l| CaseLogEntry {
                at: Some(to_timestamp(l.at)),
                actor: l.actor,
                change: l.change,
                stage: stage_pb(&l.stage),
                note: l.note,
            })
            .collect(),
    })
}

fn stage_pb(code: &str) -> i32 {
    [
        PbStage::Received,
        PbStage::NotAccepted,
        PbStage::Handling,
        PbStage::Replied,
        PbStage::UnderReview,
        PbStage::Reviewed,
        PbStage::UnderReReview,
        PbStage::Final,
        PbStage::Returned,
        PbStage::Merged,
    ]
    .into_iter()
    .find(|s| view::stage_code(*s) == Some(code))
    .unwrap_or(PbStage::Unspecified) as i32
}

/// A page of cases in the caller's scope.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListCasesRequest,
) -> ServiceResult<ListCasesResponse> {
    claims.require_any_role(READERS)?;
    let prefix = zoufang_types::list_prefix(claims, &req.region_code)?;
    let stage = match PbStage::try_from(req.stage) {
        Ok(s) => view::stage_code(s).map(str::to_owned),
        Err(_) => return Err(ServiceError::invalid("stage", "unknown stage")),
    };
    let hotline = match CaseKind::try_from(req.kind) {
        Ok(CaseKind::Unspecified) => None,
        Ok(CaseKind::Petition) => Some(false),
        Ok(CaseKind::Hotline) => Some(true),
        Err(_) => return Err(ServiceError::invalid("kind", "unknown kind")),
    };
    let limit = page_size(req.page_size);
    let rows = store::cases::list(
        &state.pool,
        &store::cases::Filter {
            prefix,
            stage,
            hotline,
            household_id: parse_optional_uuid("household_id", &req.household_id)?,
            open_only: req.open_only,
            after: parse_optional_uuid("page_token", &req.page_token)?,
            limit: limit + 1,
        },
    )
    .await?;
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    Ok(ListCasesResponse {
        cases: rows.iter().map(view::case).collect(),
        next_page_token: if more {
            rows.last()
                .map(|r| r.case_id.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        },
    })
}

/// A case's answers to its source and their delivery state.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn replies(
    state: &State,
    claims: &Claims,
    req: ListRepliesRequest,
) -> ServiceResult<ListRepliesResponse> {
    claims.require_any_role(HANDLERS)?;
    let row = visible(state, claims, "case_id", &req.case_id).await?;
    let replies = store::replies::of_case(&state.pool, &row.county, row.case_id).await?;
    Ok(ListRepliesResponse {
        replies: replies.iter().map(view::reply).collect(),
    })
}
