//! Work teams (工作队): a township's cadres who visit together, led by a
//! 队长 (`domain::work_team` holds who may be in one). Created idempotently
//! by the caller's team_id; members replaced whole (SetWorkTeamMembers) or
//! added (AddWorkTeamMembers, what the cadre import uses). Writes need a
//! township or county admin whose scope covers the team's township; a team
//! outside the caller's scope answers as an unknown one.
use uuid::Uuid;
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
};
use zoufang_proto::registry::v1::{
    AddWorkTeamMembersRequest, AddWorkTeamMembersResponse, CreateWorkTeamRequest,
    CreateWorkTeamResponse, ListWorkTeamsRequest, ListWorkTeamsResponse, SetWorkTeamMembersRequest,
    SetWorkTeamMembersResponse, WorkTeam,
};
use zoufang_types::{RegionCode, RegionLevel};

use super::{State, parse_uuid};
use crate::{
    domain::work_team::{cadre_fits, members_with_leader, team_name},
    store::{self, teams::TeamRow},
};

const ADMINS: &[&str] = &[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN];

/// An optional UUID field ("" is none).
fn optional_uuid(field: &str, raw: &str) -> ServiceResult<Option<Uuid>> {
    match raw.trim() {
        "" => Ok(None),
        s => parse_uuid(field, s).map(Some),
    }
}

/// Cadre ids of a repeated field, each parsed under its own index.
fn cadre_ids(field: &str, raw: &[String]) -> ServiceResult<Vec<Uuid>> {
    raw.iter()
        .enumerate()
        .map(|(i, s)| parse_uuid(&format!("{field}[{i}]"), s))
        .collect()
}

/// The field a cadre id came from, for its error.
fn field_of(
    id: Uuid,
    leader: Option<Uuid>,
    leader_field: &str,
    listed: &[Uuid],
    list_field: &str,
) -> String {
    match listed.iter().position(|m| *m == id) {
        Some(i) => format!("{list_field}[{i}]"),
        None if leader == Some(id) => leader_field.to_owned(),
        None => list_field.to_owned(),
    }
}

/// Every one of `members` is a registered cadre of the county who may work
/// in `township`, and in no other team than `team_id`.
#[allow(clippy::too_many_arguments)]
async fn check_members(
    state: &State,
    county: &str,
    township: &str,
    team_id: Uuid,
    members: &[Uuid],
    leader: Option<Uuid>,
    (leader_field, listed, list_field): (&str, &[Uuid], &str),
) -> ServiceResult<()> {
    let found = store::teams::cadre_regions(&state.pool, county, members).await?;
    for id in members {
        let field = || field_of(*id, leader, leader_field, listed, list_field);
        match found.iter().find(|(c, _)| c == id) {
            None => {
                return Err(ServiceError::invalid(
                    field(),
                    format!("干部{id}未在本县登记"),
                ));
            }
            Some((_, region)) if !cadre_fits(region, township) => {
                return Err(ServiceError::invalid(
                    field(),
                    format!(
                        "干部{id}的工作区域（{region}）不在工作队所在乡镇{township}，也不是县直干部"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some((id, other)) = store::teams::in_other_teams(&state.pool, county, members, team_id)
        .await?
        .into_iter()
        .next()
    {
        return Err(ServiceError::invalid(
            field_of(id, leader, leader_field, listed, list_field),
            format!(
                "干部{id}已是工作队“{other}”的成员：一名干部只能在一个工作队，请先从原工作队移出"
            ),
        ));
    }
    Ok(())
}

/// Creates a work team (idempotent by team_id).
#[tracing::instrument(skip_all, err(level = "debug"), fields(team_id = %req.team_id))]
pub async fn create(
    state: &State,
    claims: &Claims,
    req: CreateWorkTeamRequest,
) -> ServiceResult<CreateWorkTeamResponse> {
    claims.require_any_role(ADMINS)?;
    let team_id = parse_uuid("team_id", &req.team_id)?;
    let township = RegionCode::parse("township_code", req.township_code.trim())?;
    if township.level() != RegionLevel::Township {
        return Err(ServiceError::invalid(
            "township_code",
            format!("{township}不是乡镇（街道）代码：工作队属于一个乡镇"),
        ));
    }
    claims.require_scope(township.as_str())?;
    if !store::regions::exists(&state.pool, township.as_str()).await? {
        return Err(ServiceError::invalid(
            "township_code",
            format!("{township}不在区划表中，请先导入区划"),
        ));
    }
    let name = team_name(&req.name).map_err(|e| ServiceError::invalid("name", e))?;
    let leader = optional_uuid("leader_cadre_id", &req.leader_cadre_id)?;
    let zone_id = optional_uuid("zone_id", &req.zone_id)?;
    let listed = cadre_ids("member_cadre_ids", &req.member_cadre_ids)?;
    let county = township.county().to_owned();
    if let Some(zone_id) = zone_id {
        match store::regions::get_zone(&state.pool, &county, zone_id).await? {
            Some(z) if z.township_code == township.as_str() => {}
            Some(z) => {
                return Err(ServiceError::invalid(
                    "zone_id",
                    format!(
                        "工作片“{}”属于乡镇{}，不是{township}",
                        z.name, z.township_code
                    ),
                ));
            }
            None => {
                return Err(ServiceError::invalid(
                    "zone_id",
                    format!("找不到工作片{zone_id}"),
                ));
            }
        }
    }
    let members = members_with_leader(&listed, leader);
    check_members(
        state,
        &county,
        township.as_str(),
        team_id,
        &members,
        leader,
        ("leader_cadre_id", &listed, "member_cadre_ids"),
    )
    .await?;
    let body_hash = state.body_hash(&CreateWorkTeamRequest {
        team_id: team_id.to_string(),
        township_code: township.as_str().to_owned(),
        name: name.clone(),
        leader_cadre_id: leader.map(|l| l.to_string()).unwrap_or_default(),
        zone_id: zone_id.map(|z| z.to_string()).unwrap_or_default(),
        member_cadre_ids: members.iter().map(Uuid::to_string).collect(),
    });
    let row = TeamRow {
        county: county.clone(),
        team_id,
        township_code: township.as_str().to_owned(),
        name: name.clone(),
        leader_cadre_id: leader,
        zone_id,
        body_hash: body_hash.clone(),
        member_cadre_ids: members.clone(),
    };
    let mut tx = state.pool.begin().await?;
    let created = match store::teams::insert(&mut tx, &row).await {
        Ok(created) => created,
        Err(e) if zoufang_core::db::is_unique_violation(&e, "work_teams_name_unique") => {
            return Err(ServiceError::AlreadyExists(format!(
                "name: 乡镇{township}已有名为“{name}”的工作队"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if created {
        match store::teams::add_members(&mut tx, &county, team_id, &members).await {
            Ok(()) => {}
            Err(e)
                if zoufang_core::db::is_unique_violation(&e, "work_team_members_cadre_unique") =>
            {
                return Err(ServiceError::AlreadyExists(
                    "member_cadre_ids: 有干部刚被加入另一个工作队，请刷新后重试".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let stored = store::teams::get(&mut *tx, &county, team_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("work team vanished after insert"))?;
    if stored.body_hash != body_hash {
        return Err(ServiceError::AlreadyExists(format!(
            "team_id {team_id} 已用于另一个工作队（内容不同）"
        )));
    }
    tx.commit().await?;
    Ok(CreateWorkTeamResponse {
        team: Some(view(stored)),
        created,
    })
}

/// The work teams of a region within the caller's scope.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListWorkTeamsRequest,
) -> ServiceResult<ListWorkTeamsResponse> {
    let prefix = zoufang_types::list_prefix(claims, req.region_code.trim())?;
    let rows = store::teams::list(&state.pool, &prefix).await?;
    Ok(ListWorkTeamsResponse {
        teams: rows.into_iter().map(view).collect(),
    })
}

/// A team the caller may change: NotFound when unknown or outside scope.
async fn team_in_scope(state: &State, claims: &Claims, raw: &str) -> ServiceResult<TeamRow> {
    claims.require_any_role(ADMINS)?;
    let team_id = parse_uuid("team_id", raw)?;
    store::teams::find(&state.pool, team_id)
        .await?
        .filter(|t| claims.covers(&t.township_code))
        .ok_or_else(|| ServiceError::NotFound(format!("work team {team_id}")))
}

/// Replaces a team's members and leader.
#[tracing::instrument(skip_all, err(level = "debug"), fields(team_id = %req.team_id))]
pub async fn set_members(
    state: &State,
    claims: &Claims,
    req: SetWorkTeamMembersRequest,
) -> ServiceResult<SetWorkTeamMembersResponse> {
    let team = team_in_scope(state, claims, &req.team_id).await?;
    let leader = optional_uuid("leader_cadre_id", &req.leader_cadre_id)?;
    let listed = cadre_ids("member_cadre_ids", &req.member_cadre_ids)?;
    let members = members_with_leader(&listed, leader);
    let team = change(
        state,
        &team,
        &members,
        leader,
        Replace::All,
        ("leader_cadre_id", &listed, "member_cadre_ids"),
    )
    .await?;
    Ok(SetWorkTeamMembersResponse {
        team: Some(view(team)),
    })
}

/// Adds members (and names the leader when given).
#[tracing::instrument(skip_all, err(level = "debug"), fields(team_id = %req.team_id))]
pub async fn add_members(
    state: &State,
    claims: &Claims,
    req: AddWorkTeamMembersRequest,
) -> ServiceResult<AddWorkTeamMembersResponse> {
    let team = team_in_scope(state, claims, &req.team_id).await?;
    let leader = optional_uuid("leader_cadre_id", &req.leader_cadre_id)?;
    let listed = cadre_ids("cadre_ids", &req.cadre_ids)?;
    if listed.is_empty() && leader.is_none() {
        return Err(ServiceError::invalid("cadre_ids", "请至少给出一名干部"));
    }
    let added = members_with_leader(&listed, leader);
    let team = change(
        state,
        &team,
        &added,
        leader,
        Replace::Nothing,
        ("leader_cadre_id", &listed, "cadre_ids"),
    )
    .await?;
    Ok(AddWorkTeamMembersResponse {
        team: Some(view(team)),
    })
}

/// Whether a membership change replaces the members not named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replace {
    All,
    Nothing,
}

/// Checks and applies a membership change under the team's row lock.
async fn change(
    state: &State,
    team: &TeamRow,
    members: &[Uuid],
    leader: Option<Uuid>,
    replace: Replace,
    fields: (&str, &[Uuid], &str),
) -> ServiceResult<TeamRow> {
    check_members(
        state,
        &team.county,
        &team.township_code,
        team.team_id,
        members,
        leader,
        fields,
    )
    .await?;
    let mut tx = state.pool.begin().await?;
    if !store::teams::lock(&mut tx, &team.county, team.team_id).await? {
        return Err(ServiceError::NotFound(format!(
            "work team {}",
            team.team_id
        )));
    }
    if replace == Replace::All {
        store::teams::remove_others(&mut tx, &team.county, team.team_id, members).await?;
    }
    match store::teams::add_members(&mut tx, &team.county, team.team_id, members).await {
        Ok(()) => {}
        Err(e) if zoufang_core::db::is_unique_violation(&e, "work_team_members_cadre_unique") => {
            return Err(ServiceError::AlreadyExists(format!(
                "{}: 有干部刚被加入另一个工作队，请刷新后重试",
                fields.2
            )));
        }
        Err(e) => return Err(e.into()),
    }
    if replace == Replace::All || leader.is_some() {
        store::teams::set_leader(&mut tx, &team.county, team.team_id, leader).await?;
    }
    let stored = store::teams::get(&mut *tx, &team.county, team.team_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("work team vanished under its lock"))?;
    tx.commit().await?;
    Ok(stored)
}

/// The proto view of a team.
pub fn view(t: TeamRow) -> WorkTeam {
    WorkTeam {
        team_id: t.team_id.to_string(),
        township_code: t.township_code,
        name: t.name,
        leader_cadre_id: t.leader_cadre_id.map(|l| l.to_string()).unwrap_or_default(),
        zone_id: t.zone_id.map(|z| z.to_string()).unwrap_or_default(),
        member_cadre_ids: t.member_cadre_ids.iter().map(Uuid::to_string).collect(),
    }
}
