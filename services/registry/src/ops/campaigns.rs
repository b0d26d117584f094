//! Campaigns with quotas by position, responsibility assignments (包保), and
//! the check that every village has a township staff member responsible.
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
};
use zoufang_proto::registry::v1::{
    Assignment, AssignmentTarget, CadreUnit, Campaign, CampaignStatus, CompletenessPolicy,
    CreateAssignmentRequest, CreateAssignmentResponse, CreateCampaignRequest,
    CreateCampaignResponse, GetCampaignRequest, GetCampaignResponse, ListAssignmentsRequest,
    ListAssignmentsResponse, ListCampaignsRequest, ListCampaignsResponse,
    ListUncoveredVillagesRequest, ListUncoveredVillagesResponse, Quota, QuotaMetric,
    SetCampaignStatusRequest, SetCampaignStatusResponse, UpdateCampaignRequest,
    UpdateCampaignResponse,
};
use zoufang_types::{RegionCode, RegionLevel};

use super::{State, parse_uuid, require_text, to_chrono, to_timestamp};
use crate::{
    domain::{campaign_status, quota, validate_quotas},
    store::{
        self,
        campaigns::{AssignmentRow, CampaignRow, QuotaRow},
    },
};

const ADMIN_ROLES: &[&str] = &[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN];

/// How far outside its period a visit may start (late diaries, time zones).
const PERIOD_SLACK_DAYS: i64 = 1;

/// Creates a campaign over a county or a township (idempotent by campaign_id).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create(
    state: &State,
    claims: &Claims,
    req: CreateCampaignRequest,
) -> ServiceResult<CreateCampaignResponse> {
    claims.require_any_role(ADMIN_ROLES)?;
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let region = RegionCode::parse("region_code", &req.region_code)?;
    if !matches!(region.level(), RegionLevel::County | RegionLevel::Township) {
        return Err(ServiceError::invalid(
            "region_code",
            "a campaign covers a county or a township",
        ));
    }
    claims.require_scope(region.as_str())?;
    let Editable {
        name,
        starts_at,
        ends_at,
        themes,
        policy,
        quotas,
    } = editable(
        &req.name,
        req.starts_at.as_ref(),
        req.ends_at.as_ref(),
        &req.themes,
        req.completeness_policy,
        &req.quotas,
    )?;
    let status = match CampaignStatus::try_from(req.status) {
        Ok(CampaignStatus::Unspecified) => CampaignStatus::Active,
        Ok(s) => s,
        Err(_) => {
            return Err(ServiceError::invalid(
                "status",
                format!("unknown status {}", req.status),
            ));
        }
    };
    // Normalise defaults into the body before hashing, so a retry that spells
    // a default explicitly is still the same campaign.
    let normalized = CreateCampaignRequest {
        status: status as i32,
        completeness_policy: policy as i32,
        themes: themes.clone(),
        ..req.clone()
    };
    let row = CampaignRow {
        county: region.county().to_owned(),
        campaign_id,
        region_code: region.prefix().to_owned(),
        name,
        starts_at,
        ends_at,
        themes,
        status: status as i16,
        completeness_policy: policy as i16,
        body_hash: state.body_hash(&normalized),
    };
    let quotas = quota_rows(&quotas);
    let mut tx = state.pool.begin().await?;
    store::campaigns::insert(&mut tx, &row, &quotas).await?;
    let stored = store::campaigns::get(&mut *tx, &row.county, campaign_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("campaign vanished after insert"))?;
    if stored.body_hash != row.body_hash {
        return Err(ServiceError::AlreadyExists(format!(
            "campaign_id {campaign_id} already exists with different details"
        )));
    }
    let quotas = store::campaigns::quotas(&mut *tx, &row.county, campaign_id).await?;
    tx.commit().await?;
    Ok(CreateCampaignResponse {
        campaign: Some(view(&stored, &quotas)),
    })
}

/// What an admin may set on a campaign, at creation and after, checked.
struct Editable {
    name: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    themes: Vec<String>,
    policy: CompletenessPolicy,
    quotas: Vec<quota::Quota>,
}

/// Checks the editable fields, naming the first one that is wrong.
fn editable(
    name: &str,
    starts_at: Option<&prost_types::Timestamp>,
    ends_at: Option<&prost_types::Timestamp>,
    themes: &[String],
    policy: i32,
    quotas: &[Quota],
) -> ServiceResult<Editable> {
    let name = require_text("name", name, 100)?;
    let starts_at = starts_at
        .and_then(to_chrono)
        .ok_or_else(|| ServiceError::invalid("starts_at", "is required"))?;
    let ends_at = ends_at
        .and_then(to_chrono)
        .ok_or_else(|| ServiceError::invalid("ends_at", "is required"))?;
    if ends_at <= starts_at {
        return Err(ServiceError::invalid("ends_at", "must be after starts_at"));
    }
    let policy = match CompletenessPolicy::try_from(policy) {
        Ok(CompletenessPolicy::Unspecified) => CompletenessPolicy::Flag,
        Ok(p) => p,
        Err(_) => {
            return Err(ServiceError::invalid(
                "completeness_policy",
                format!("unknown policy {policy}: one of REFUSE, FLAG"),
            ));
        }
    };
    let quotas: Vec<quota::Quota> = quotas.iter().map(quota_of).collect();
    validate_quotas("quotas", &quotas)?;
    let mut unique: Vec<String> = Vec::new();
    for t in themes {
        let t = t.trim();
        if !t.is_empty() && !unique.iter().any(|x| x == t) {
            unique.push(t.to_owned());
        }
    }
    Ok(Editable {
        name,
        starts_at,
        ends_at,
        themes: unique,
        policy,
        quotas,
    })
}

fn quota_rows(quotas: &[quota::Quota]) -> Vec<QuotaRow> {
    quotas
        .iter()
        .map(|q| QuotaRow {
            position: q.position.trim().to_owned(),
            metric: q.metric as i16,
            target: q.target,
            min_amount_fen: q.min_amount_fen,
        })
        .collect()
}

/// Edits a campaign's name, period, themes, completeness policy and
/// quotas (all of them: the request is the campaign as it should be). Its
/// region and status do not change here; a closed campaign is final.
#[tracing::instrument(skip_all, err(level = "debug"), fields(campaign_id = %req.campaign_id))]
pub async fn update(
    state: &State,
    claims: &Claims,
    req: UpdateCampaignRequest,
) -> ServiceResult<UpdateCampaignResponse> {
    claims.require_any_role(ADMIN_ROLES)?;
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let found = find_in_scope(state, claims, campaign_id).await?;
    claims.require_scope(&found.region_code)?;
    let e = editable(
        &req.name,
        req.starts_at.as_ref(),
        req.ends_at.as_ref(),
        &req.themes,
        req.completeness_policy,
        &req.quotas,
    )?;
    let mut tx = state.pool.begin().await?;
    let c = store::campaigns::get_for_update(&mut tx, &found.county, campaign_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("campaign {campaign_id}")))?;
    if c.status == CampaignStatus::Closed as i16 {
        return Err(ServiceError::FailedPrecondition(format!(
            "campaign {campaign_id} is closed; its figures are final"
        )));
    }
    let row = CampaignRow {
        name: e.name,
        starts_at: e.starts_at,
        ends_at: e.ends_at,
        themes: e.themes,
        completeness_policy: e.policy as i16,
        ..c
    };
    store::campaigns::update(&mut tx, &row, &quota_rows(&e.quotas)).await?;
    let quotas = store::campaigns::quotas(&mut *tx, &row.county, campaign_id).await?;
    tx.commit().await?;
    Ok(UpdateCampaignResponse {
        campaign: Some(view(&row, &quotas)),
    })
}

/// Campaigns the caller may see (those in its scope and those covering
/// it), newest id first, a page at a time.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListCampaignsRequest,
) -> ServiceResult<ListCampaignsResponse> {
    let prefix = zoufang_types::list_prefix(claims, &req.region_code)?;
    let status = match CampaignStatus::try_from(req.status) {
        Ok(CampaignStatus::Unspecified) => None,
        Ok(s) => Some(s as i16),
        Err(_) => {
            return Err(ServiceError::invalid(
                "status",
                "one of PLANNED, ACTIVE, CLOSED (or unset for all)",
            ));
        }
    };
    let size = match req.page_size {
        0 => 50,
        n @ 1..=200 => i64::from(n),
        _ => return Err(ServiceError::invalid("page_size", "between 1 and 200")),
    };
    let after = match req.page_token.trim() {
        "" => None,
        t => Some(parse_uuid("page_token", t)?),
    };
    let county = (prefix.len() >= 6).then(|| &prefix[..6]);
    let mut rows =
        store::campaigns::list(&state.pool, &prefix, county, status, after, size + 1).await?;
    let more = rows.len() as i64 > size;
    rows.truncate(size as usize);
    let mut campaigns = Vec::with_capacity(rows.len());
    for c in &rows {
        let quotas = store::campaigns::quotas(&state.pool, &c.county, c.campaign_id).await?;
        campaigns.push(view(c, &quotas));
    }
    Ok(ListCampaignsResponse {
        next_page_token: match rows.last() {
            Some(last) if more => last.campaign_id.to_string(),
            _ => String::new(),
        },
        campaigns,
    })
}

/// Activates or closes a campaign (启动 / 结束). Only an admin whose scope
/// covers the whole campaign may: a township admin cannot close the
/// county's campaign.
#[tracing::instrument(skip_all, err(level = "debug"), fields(campaign_id = %req.campaign_id))]
pub async fn set_status(
    state: &State,
    claims: &Claims,
    req: SetCampaignStatusRequest,
) -> ServiceResult<SetCampaignStatusResponse> {
    claims.require_any_role(ADMIN_ROLES)?;
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let to = CampaignStatus::try_from(req.status)
        .map_err(|_| ServiceError::invalid("status", "one of ACTIVE, CLOSED"))?;
    let found = find_in_scope(state, claims, campaign_id).await?;
    claims.require_scope(&found.region_code)?;
    let mut tx = state.pool.begin().await?;
    // Read again under the transaction's lock so two admins do not race.
    let c = store::campaigns::get_for_update(&mut tx, &found.county, campaign_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("campaign {campaign_id}")))?;
    let from = CampaignStatus::try_from(i32::from(c.status)).unwrap_or(CampaignStatus::Unspecified);
    let changes = campaign_status::transition(from, to).map_err(|why| {
        if to == CampaignStatus::Unspecified || to == CampaignStatus::Planned {
            ServiceError::invalid("status", why)
        } else {
            ServiceError::FailedPrecondition(why)
        }
    })?;
    if changes {
        store::campaigns::set_status(&mut tx, &c.county, campaign_id, to as i16).await?;
    }
    let stored = store::campaigns::get(&mut *tx, &c.county, campaign_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("campaign vanished while its status changed"))?;
    let quotas = store::campaigns::quotas(&mut *tx, &c.county, campaign_id).await?;
    tx.commit().await?;
    Ok(SetCampaignStatusResponse {
        campaign: Some(view(&stored, &quotas)),
    })
}

/// Reads a campaign in scope.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn get(
    state: &State,
    claims: &Claims,
    req: GetCampaignRequest,
) -> ServiceResult<GetCampaignResponse> {
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let campaign = find_in_scope(state, claims, campaign_id).await?;
    let quotas = store::campaigns::quotas(&state.pool, &campaign.county, campaign_id).await?;
    Ok(GetCampaignResponse {
        campaign: Some(view(&campaign, &quotas)),
    })
}

/// Loads a campaign the caller may see: its region within the caller's scope,
/// or the caller's scope within its region (a township admin sees the county's campaign).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn find_in_scope(
    state: &State,
    claims: &Claims,
    campaign_id: Uuid,
) -> ServiceResult<CampaignRow> {
    let not_found = || ServiceError::NotFound(format!("campaign {campaign_id}"));
    let county = store::campaigns::county_of(&state.pool, campaign_id)
        .await?
        .ok_or_else(not_found)?;
    let c = store::campaigns::get(&state.pool, &county, campaign_id)
        .await?
        .ok_or_else(not_found)?;
    // Outside the scope reads exactly like unknown (no existence oracle).
    if !claims.covers(&c.region_code) && !claims.scope.starts_with(&c.region_code) {
        return Err(not_found());
    }
    Ok(c)
}

/// Refuses visits to closed campaigns and visits far outside the period.
pub fn ensure_accepts_visits(c: &CampaignRow, started_at: DateTime<Utc>) -> ServiceResult<()> {
    if c.status == CampaignStatus::Closed as i16 {
        return Err(ServiceError::FailedPrecondition(format!(
            "campaign {} is closed",
            c.campaign_id
        )));
    }
    let slack = Duration::days(PERIOD_SLACK_DAYS);
    if started_at < c.starts_at - slack || started_at > c.ends_at + slack {
        return Err(ServiceError::invalid(
            "started_at",
            format!(
                "{started_at} is outside the campaign period {} – {}",
                c.starts_at, c.ends_at
            ),
        ));
    }
    Ok(())
}

/// Assigns a cadre to a zone, village or household of a campaign.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn assign(
    state: &State,
    claims: &Claims,
    req: CreateAssignmentRequest,
) -> ServiceResult<CreateAssignmentResponse> {
    claims.require_any_role(ADMIN_ROLES)?;
    let assignment_id = parse_uuid("assignment_id", &req.assignment_id)?;
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let cadre_id = parse_uuid("cadre_id", &req.cadre_id)?;
    let campaign = find_in_scope(state, claims, campaign_id).await?;
    let county = campaign.county.clone();
    if store::cadres::get(&state.pool, &county, cadre_id)
        .await?
        .is_none()
    {
        return Err(ServiceError::invalid(
            "cadre_id",
            format!("no cadre {cadre_id} is registered in county {county}"),
        ));
    }
    let target = AssignmentTarget::try_from(req.target)
        .ok()
        .filter(|t| *t != AssignmentTarget::Unspecified)
        .ok_or_else(|| ServiceError::invalid("target", "choose zone, village or household"))?;
    let (target_id, region_code) = match target {
        AssignmentTarget::Zone => {
            let zone_id = parse_uuid("target_id", &req.target_id)?;
            let zone = store::regions::get_zone(&state.pool, &county, zone_id)
                .await?
                .ok_or_else(|| {
                    ServiceError::invalid("target_id", format!("no work zone {zone_id}"))
                })?;
            (zone_id.to_string(), zone.township_code)
        }
        AssignmentTarget::Village => {
            let village = RegionCode::parse("target_id", &req.target_id)?;
            if village.level() != RegionLevel::Village
                || !store::regions::exists(&state.pool, village.as_str()).await?
            {
                return Err(ServiceError::invalid(
                    "target_id",
                    format!("{village} is not a village in the region table"),
                ));
            }
            (village.as_str().to_owned(), village.as_str().to_owned())
        }
        AssignmentTarget::Household => {
            let household_id = parse_uuid("target_id", &req.target_id)?;
            let h = store::households::get(&state.pool, &county, household_id)
                .await?
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "target_id",
                        format!("no household {household_id} in county {county}"),
                    )
                })?;
            (household_id.to_string(), h.village_code)
        }
        AssignmentTarget::Unspecified => unreachable!("filtered above"),
    };
    if !region_code.starts_with(&campaign.region_code) {
        return Err(ServiceError::invalid(
            "target_id",
            format!(
                "{region_code} is outside the campaign's region {}",
                campaign.region_code
            ),
        ));
    }
    claims.require_scope(&region_code)?;
    let row = AssignmentRow {
        county: county.clone(),
        assignment_id,
        campaign_id,
        cadre_id,
        target: target as i16,
        target_id,
        region_code,
    };
    let mut tx = state.pool.begin().await?;
    match store::campaigns::insert_assignment(&mut tx, &row).await {
        Ok(_) => {}
        Err(e) if zoufang_core::db::is_unique_violation(&e, "assignments_target_unique") => {
            return Err(ServiceError::AlreadyExists(
                "this cadre is already assigned to this target in the campaign".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let stored = store::campaigns::get_assignment(&mut *tx, &county, assignment_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("assignment vanished after insert"))?;
    if stored != row {
        return Err(ServiceError::AlreadyExists(format!(
            "assignment_id {assignment_id} already exists with different details"
        )));
    }
    tx.commit().await?;
    Ok(CreateAssignmentResponse {
        assignment: Some(assignment_view(stored)),
    })
}

/// A campaign's assignments (optionally one cadre's), within the caller's scope.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_assignments(
    state: &State,
    claims: &Claims,
    req: ListAssignmentsRequest,
) -> ServiceResult<ListAssignmentsResponse> {
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let cadre_id = match req.cadre_id.trim() {
        "" => None,
        c => Some(parse_uuid("cadre_id", c)?),
    };
    let campaign = find_in_scope(state, claims, campaign_id).await?;
    let rows =
        store::campaigns::assignments(&state.pool, &campaign.county, campaign_id, cadre_id).await?;
    Ok(ListAssignmentsResponse {
        assignments: rows
            .into_iter()
            .filter(|a| claims.covers(&a.region_code))
            .map(assignment_view)
            .collect(),
    })
}

/// Villages with no township office staff member responsible (联系村) —
/// the seeds' rule "确保每个村都有一名镇机关工作人员负责".
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn uncovered_villages(
    state: &State,
    claims: &Claims,
    req: ListUncoveredVillagesRequest,
) -> ServiceResult<ListUncoveredVillagesResponse> {
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let campaign = find_in_scope(state, claims, campaign_id).await?;
    let prefix = zoufang_types::list_prefix(claims, &campaign.region_code)?;
    let rows = store::campaigns::uncovered_villages(
        &state.pool,
        &campaign.county,
        campaign_id,
        &prefix,
        AssignmentTarget::Village as i16,
        CadreUnit::TownshipOffice as i16,
    )
    .await?;
    Ok(ListUncoveredVillagesResponse {
        villages: rows.into_iter().map(super::regions::region_view).collect(),
    })
}

/// A quota as the request gives it (an unknown metric reads `Unspecified`,
/// which validation refuses).
fn quota_of(q: &Quota) -> quota::Quota {
    quota::Quota {
        position: q.position.clone(),
        metric: QuotaMetric::try_from(q.metric).unwrap_or(QuotaMetric::Unspecified),
        target: q.target,
        min_amount_fen: q.min_amount_fen,
    }
}

/// A stored quota.
pub fn stored_quota(q: QuotaRow) -> quota::Quota {
    quota::Quota {
        position: q.position,
        metric: QuotaMetric::try_from(i32::from(q.metric)).unwrap_or(QuotaMetric::Unspecified),
        target: q.target,
        min_amount_fen: q.min_amount_fen,
    }
}

/// The proto view of a campaign.
pub fn view(c: &CampaignRow, quotas: &[QuotaRow]) -> Campaign {
    Campaign {
        campaign_id: c.campaign_id.to_string(),
        region_code: format!("{:0<12}", c.region_code),
        name: c.name.clone(),
        starts_at: Some(to_timestamp(c.starts_at)),
        ends_at: Some(to_timestamp(c.ends_at)),
        themes: c.themes.clone(),
        status: i32::from(c.status),
        completeness_policy: i32::from(c.completeness_policy),
        quotas: quotas
            .iter()
            .map(|q| Quota {
                position: q.position.clone(),
                metric: i32::from(q.metric),
                target: q.target,
                min_amount_fen: q.min_amount_fen,
            })
            .collect(),
    }
}

fn assignment_view(a: AssignmentRow) -> Assignment {
    Assignment {
        assignment_id: a.assignment_id.to_string(),
        campaign_id: a.campaign_id.to_string(),
        cadre_id: a.cadre_id.to_string(),
        target: i32::from(a.target),
        target_id: a.target_id,
        region_code: a.region_code,
    }
}
