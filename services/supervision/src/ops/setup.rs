//! Teams and sampling policies.
use uuid::Uuid;
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::{county_of, parse_uuid, require_text},
};
use zoufang_proto::supervision::v1::*;
use zoufang_types::{RegionCode, RegionScope};

use super::State;
use crate::{
    domain::sampling::SamplingPolicy as Policy,
    store::{self, policies::PolicyRow, teams::TeamRow},
};

const ADMINS: &[&str] = &[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN];

fn team_view(t: TeamRow) -> Team {
    Team {
        team_id: t.team_id.to_string(),
        name: t.name,
        region_code: t.region_code,
        member_ids: t.member_ids,
    }
}

/// Creates a team over a region (idempotent by team_id).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create_team(
    state: &State,
    claims: &Claims,
    req: CreateTeamRequest,
) -> ServiceResult<CreateTeamResponse> {
    claims.require_any_role(ADMINS)?;
    let team_id = parse_uuid("team_id", &req.team_id)?;
    let name = require_text("name", &req.name, 50)?;
    let region = RegionScope::parse("region_code", &req.region_code)?;
    if region.as_str().len() < 6 {
        return Err(ServiceError::invalid(
            "region_code",
            "a team works within a county: give at least its 6 digits",
        ));
    }
    claims.require_scope(region.as_str())?;
    let mut members: Vec<String> = Vec::new();
    for (i, m) in req.member_ids.iter().enumerate() {
        let m = require_text(&format!("member_ids[{i}]"), m, 64)?;
        if !members.contains(&m) {
            members.push(m);
        }
    }
    if members.is_empty() {
        return Err(ServiceError::invalid(
            "member_ids",
            "a team needs at least one member",
        ));
    }
    let county = county_of(region.as_str());
    let row = TeamRow {
        team_id,
        name,
        region_code: region.as_str().to_owned(),
        member_ids: members,
    };
    let mut tx = state.pool.begin().await?;
    store::teams::insert(&mut tx, &county, &row).await?;
    let mut stored = store::teams::get(&mut *tx, &county, team_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("team vanished"))?;
    let mut wanted = row.member_ids.clone();
    wanted.sort();
    stored.member_ids.sort();
    if stored.name != row.name
        || stored.region_code != row.region_code
        || stored.member_ids != wanted
    {
        return Err(ServiceError::AlreadyExists(format!(
            "team_id {team_id} already exists with different details"
        )));
    }
    tx.commit().await?;
    Ok(CreateTeamResponse {
        team: Some(team_view(stored)),
    })
}

/// Teams within a region (and the caller's scope).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_teams(
    state: &State,
    claims: &Claims,
    req: ListTeamsRequest,
) -> ServiceResult<ListTeamsResponse> {
    let prefix = zoufang_types::list_prefix(claims, &req.region_code)?;
    let teams = store::teams::list(&state.pool, &prefix).await?;
    Ok(ListTeamsResponse {
        teams: teams.into_iter().map(team_view).collect(),
    })
}

/// The stored form of a policy, with the callback settings.
pub fn policy_row(p: &Policy, due_days: u32, max_attempts: u32) -> PolicyRow {
    let i = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    PolicyRow {
        version: 0,
        item_share_bp: i(p.item_share_bp),
        visit_share_bp: i(p.visit_share_bp),
        min_visits_per_cadre: i(p.min_visits_per_cadre),
        high_risk_threshold: i(p.high_risk_threshold),
        high_risk_visit_share_bp: i(p.high_risk_visit_share_bp),
        due_days: i(due_days),
        max_attempts: i(max_attempts),
    }
}

/// Adds a new version of a campaign's policy; it applies to later events.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn set_policy(
    state: &State,
    claims: &Claims,
    req: SetSamplingPolicyRequest,
) -> ServiceResult<SetSamplingPolicyResponse> {
    claims.require_any_role(ADMINS)?;
    let campaign_id: Uuid = parse_uuid("campaign_id", &req.campaign_id)?;
    let region = RegionCode::parse("region_code", &req.region_code)?;
    claims.require_scope(region.county())?;
    let p = req
        .policy
        .ok_or_else(|| ServiceError::invalid("policy", "is required"))?;
    let policy = Policy {
        item_share_bp: p.item_share_bp,
        visit_share_bp: p.visit_share_bp,
        min_visits_per_cadre: p.min_visits_per_cadre,
        high_risk_threshold: p.high_risk_threshold,
        high_risk_visit_share_bp: p.high_risk_visit_share_bp,
        ..Policy::default()
    };
    policy.validate("policy")?;
    if !(1..=60).contains(&p.due_days) {
        return Err(ServiceError::invalid(
            "policy.due_days",
            "must be between 1 and 60",
        ));
    }
    if !(1..=10).contains(&p.max_attempts) {
        return Err(ServiceError::invalid(
            "policy.max_attempts",
            "must be between 1 and 10",
        ));
    }
    let mut tx = state.pool.begin().await?;
    let version = store::policies::add(
        &mut tx,
        region.county(),
        campaign_id,
        &policy_row(&policy, p.due_days, p.max_attempts),
    )
    .await?;
    tx.commit().await?;
    Ok(SetSamplingPolicyResponse {
        policy: Some(p),
        version: u32::try_from(version).unwrap_or_default(),
    })
}
