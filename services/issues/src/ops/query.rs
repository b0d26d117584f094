//! Reads: one issue with its timeline, filtered lists, and statistics.
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::{page_size, parse_optional_uuid, parse_uuid},
};
use zoufang_proto::issues::v1::*;

use super::{State, find_in_scope, is_department_of, view};
use crate::{
    domain::state::State as IssueState,
    store::{self, issues::IssueFilter},
};

/// One issue with its timeline.
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn get(
    state: &State,
    claims: &Claims,
    req: GetIssueRequest,
) -> ServiceResult<GetIssueResponse> {
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let mut conn = state.pool.acquire().await?;
    let row = find_in_scope(&mut conn, claims, issue_id).await?;
    let timeline = store::timeline::of(&mut *conn, &row.county, issue_id).await?;
    Ok(GetIssueResponse {
        issue: Some(view::issue(&row)),
        timeline: timeline.iter().map(view::entry).collect(),
    })
}

fn department_only(claims: &Claims) -> bool {
    claims.has_role(roles::DEPARTMENT)
        && !claims.has_any_role(&[
            roles::TOWNSHIP_ADMIN,
            roles::COUNTY_ADMIN,
            roles::SUPERVISOR,
            roles::CADRE,
            roles::SERVICE,
        ])
}

/// Issues by filters, keyset-paginated; a department sees only its own.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListIssuesRequest,
) -> ServiceResult<ListIssuesResponse> {
    let limit = page_size(req.page_size);
    let state_filter = match req.state {
        0 => None,
        s => Some(
            IssueState::from_proto(s)
                .ok_or_else(|| ServiceError::invalid("state", format!("unknown state {s}")))?
                .as_str()
                .to_owned(),
        ),
    };
    let department = if department_only(claims) {
        Some(claims.sub.clone())
    } else {
        Some(req.department.trim().to_owned()).filter(|d| !d.is_empty())
    };
    let filter = IssueFilter {
        prefix: zoufang_types::list_prefix(claims, &req.region_code)?,
        state: state_filter,
        kind: (req.kind != 0).then_some(req.kind as i16),
        category: Some(req.category.trim().to_owned()).filter(|c| !c.is_empty()),
        responsible: Some(req.responsible_cadre_id.trim().to_owned()).filter(|c| !c.is_empty()),
        overdue_at: req.overdue_only.then(|| state.clock.now()),
        source: (req.source != 0).then_some(req.source as i16),
        campaign_id: parse_optional_uuid("campaign_id", &req.campaign_id)?,
        department,
        household_id: parse_optional_uuid("household_id", &req.household_id)?,
        after: parse_optional_uuid("page_token", &req.page_token)?,
        limit: limit + 1,
    };
    let rows = store::issues::list(&state.pool, &filter).await?;
    let more = rows.len() as i64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    Ok(ListIssuesResponse {
        next_page_token: if more {
            rows.last()
                .map(|r| r.issue_id.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        },
        issues: rows
            .iter()
            .filter(|r| !department_only(claims) || is_department_of(claims, r))
            .map(view::issue)
            .collect(),
    })
}

/// The summary figures of a region (and campaign).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn statistics(
    state: &State,
    claims: &Claims,
    req: GetIssueStatisticsRequest,
) -> ServiceResult<GetIssueStatisticsResponse> {
    if department_only(claims) {
        return Err(ServiceError::PermissionDenied(
            "departments see their own issues, not region statistics".into(),
        ));
    }
    let prefix = zoufang_types::list_prefix(claims, &req.region_code)?;
    let campaign_id = parse_optional_uuid("campaign_id", &req.campaign_id)?;
    let t = store::stats::totals(&state.pool, &prefix, campaign_id, state.clock.now()).await?;
    let by_category = store::stats::by_category(&state.pool, &prefix, campaign_id).await?;
    Ok(GetIssueStatisticsResponse {
        collected: t.collected,
        problems: t.problems,
        suggestions: t.suggestions,
        disputes: t.disputes,
        petitions: t.petitions,
        resolved_on_spot: t.resolved_on_spot,
        resolved_in_time: t.resolved_in_time,
        resolved_late: t.resolved_late,
        overdue: t.overdue,
        escalated: t.escalated,
        explained: t.explained,
        reopened: t.reopened,
        verified: t.verified,
        disputes_mediated: t.disputes_mediated,
        dispute_households: t.dispute_households,
        open: t.open,
        by_category: by_category
            .into_iter()
            .map(|(category, count)| CategoryCount { category, count })
            .collect(),
    })
}
