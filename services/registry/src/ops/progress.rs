//! Progress ("访的程度怎样了"): a cadre's figures against the quotas of their
//! position, and a village's, work zone's, township's or county's figures
//! with a per-child breakdown. Disputed visits count nowhere but in
//! `disputed_visits`: a visit the resident denies is not progress.
use std::collections::BTreeMap;

use uuid::Uuid;
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
};
use zoufang_proto::{
    common::v1::MaterialHandout,
    registry::v1::{
        GetCadreProgressRequest, GetCadreProgressResponse, GetRegionProgressRequest,
        GetRegionProgressResponse, ModeCount, QuotaProgress, RegionProgress,
    },
};
use zoufang_types::{RegionCode, RegionLevel, scope::require_visible};

use super::{
    State,
    campaigns::{find_in_scope, stored_quota},
    parse_uuid,
};
use crate::{
    domain::quota::{CadreActuals, coverage_bp, evaluate},
    store::{
        self,
        campaigns::CampaignRow,
        progress::{Area, NamedRegion},
    },
    tags::POVERTY_TAGS,
};

/// Who may read progress: everyone who visits, leads or checks visits.
const READ_ROLES: &[&str] = &[
    roles::CADRE,
    roles::TOWNSHIP_ADMIN,
    roles::COUNTY_ADMIN,
    roles::SUPERVISOR,
    roles::SERVICE,
];

/// Whether the caller may see counts by poverty tag: the roles that may
/// reveal sensitive tags, and services (which pass figures to such people).
pub fn may_count_poverty(claims: &Claims) -> bool {
    claims.has_any_role(crate::ops::households::REVEAL_ROLES) || claims.has_role(roles::SERVICE)
}

/// A cadre's progress in a campaign against the quotas of their position.
/// The cadre must be in the caller's scope, or be the caller.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn cadre(
    state: &State,
    claims: &Claims,
    req: GetCadreProgressRequest,
) -> ServiceResult<GetCadreProgressResponse> {
    claims.require_any_role(READ_ROLES)?;
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let cadre_id = parse_uuid("cadre_id", &req.cadre_id)?;
    let campaign = find_in_scope(state, claims, campaign_id).await?;
    let county = &campaign.county;
    let not_found = || {
        ServiceError::NotFound(format!(
            "cadre_id {cadre_id}: no such cadre in county {county}"
        ))
    };
    let cadre = store::cadres::get(&state.pool, county, cadre_id)
        .await?
        .ok_or_else(not_found)?;
    if Uuid::parse_str(&claims.sub).ok() != Some(cadre_id) {
        require_visible(claims, &cadre.region_code, not_found)?;
    }
    let totals = store::progress::cadre_totals(&state.pool, county, campaign_id, cadre_id).await?;
    let quotas: Vec<_> = store::campaigns::quotas(&state.pool, county, campaign_id)
        .await?
        .into_iter()
        .map(stored_quota)
        .collect();
    let actuals = CadreActuals {
        visits: totals.visits,
        households_visited: totals.households_visited,
        overnight_stays: totals.overnight_stays,
        key_households_visited: totals.key_households_visited,
        help_per_household_fen: totals.help_per_household_fen,
    };
    let quotas: Vec<QuotaProgress> = evaluate(&quotas, &cadre.position, &actuals)
        .into_iter()
        .map(|p| QuotaProgress {
            metric: p.metric as i32,
            target: p.target,
            actual: p.actual,
            met: p.met,
        })
        .collect();
    Ok(GetCadreProgressResponse {
        campaign_id: campaign_id.to_string(),
        cadre_id: cadre_id.to_string(),
        position: cadre.position,
        all_met: quotas.iter().all(|q| q.met),
        quotas,
        disputed_visits: totals.disputed_visits,
    })
}

/// Progress of a village, township or county (`region_code`) or of a work
/// zone (`zone_id`) in a campaign: the total and one row per child
/// (townships of a county, villages of a township or zone; none for a village).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn region(
    state: &State,
    claims: &Claims,
    req: GetRegionProgressRequest,
) -> ServiceResult<GetRegionProgressResponse> {
    claims.require_any_role(READ_ROLES)?;
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let campaign = find_in_scope(state, claims, campaign_id).await?;
    let target = resolve(state, claims, &campaign, &req).await?;
    let area = &target.area;

    let mut tx = state.pool.begin().await?;
    store::progress::snapshot(&mut tx).await?;
    let households = store::progress::household_counts(&mut *tx, area).await?;
    let visits = store::progress::visit_counts(&mut *tx, area).await?;
    let modes = store::progress::mode_counts(&mut *tx, area).await?;
    let materials = store::progress::material_sums(&mut *tx, area).await?;
    // Counting by poverty tag is for those who may see the tags: a
    // village's "1 poor household helped" next to the one household a
    // cadre helped tells who is poor.
    let poor_helped = if may_count_poverty(claims) {
        let poverty: Vec<Vec<u8>> = POVERTY_TAGS
            .iter()
            .map(|t| state.pii.keyed_hash("tag", t))
            .collect();
        store::progress::poor_helped_counts(&mut *tx, area, &poverty).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;

    // Children first from the region table, so empty ones still show.
    let key_of = |code: &str| code.chars().take(area.key_len as usize).collect::<String>();
    let mut rows: BTreeMap<String, (String, Tally)> = target
        .children
        .iter()
        .map(|r| (key_of(&r.code), (r.name.clone(), Tally::default())))
        .collect();
    for h in households {
        tally(&mut rows, h.key).households_total = h.households;
    }
    for v in visits {
        let t = tally(&mut rows, v.key.clone());
        t.households_visited = v.households_visited;
        t.visits = v.visits;
        t.overnight_stays = v.overnight_stays;
        t.households_helped = v.households_helped;
        t.help_cash_fen = v.help_cash_fen;
        t.help_goods_value_fen = v.help_goods_value_fen;
        t.items_raised = v.items_raised;
        t.items_resolved_on_spot = v.items_resolved_on_spot;
        t.disputed_visits = v.disputed_visits;
    }
    for m in modes {
        *tally(&mut rows, m.key).by_mode.entry(m.mode).or_default() += m.visits;
    }
    for m in materials {
        *tally(&mut rows, m.key).materials.entry(m.name).or_default() += m.quantity;
    }
    for p in poor_helped {
        tally(&mut rows, p.key).poor_households_helped = p.households;
    }

    let mut total = Tally::default();
    for (_, t) in rows.values() {
        total.add(t);
    }
    let children = if target.has_children {
        rows.into_iter()
            .map(|(key, (name, t))| t.into_proto(format!("{key:0<12}"), name))
            .collect()
    } else {
        Vec::new()
    };
    Ok(GetRegionProgressResponse {
        total: Some(total.into_proto(target.key, target.name)),
        children,
    })
}

/// A level as the regions table stores it (1 province … 5 village).
fn stored_level(level: RegionLevel) -> i16 {
    i16::try_from(level.as_i32()).unwrap_or_default()
}

/// The row of `key`, created empty when the key is not a known child (a
/// village missing from the region table still counts in the total).
fn tally(rows: &mut BTreeMap<String, (String, Tally)>, key: String) -> &mut Tally {
    &mut rows.entry(key).or_default().1
}

/// What a region request resolved to.
struct Target {
    /// Region code (12 digits) or zone id.
    key: String,
    /// Region or zone name.
    name: String,
    /// The villages counted and how they group.
    area: Area,
    /// The children that exist in the region table (or zone).
    children: Vec<NamedRegion>,
    /// False for a village, which has no breakdown.
    has_children: bool,
}

/// Checks the request (exactly one of region_code and zone_id, in scope and
/// overlapping the campaign's region) and works out the area to count. Only
/// the part of the region inside the campaign's region is counted: a county
/// asked about a township's campaign shows that township.
async fn resolve(
    state: &State,
    claims: &Claims,
    campaign: &CampaignRow,
    req: &GetRegionProgressRequest,
) -> ServiceResult<Target> {
    let county = campaign.county.clone();
    let overlaps = |prefix: &str| {
        prefix.starts_with(&campaign.region_code) || campaign.region_code.starts_with(prefix)
    };
    let narrower = |prefix: &str| {
        let campaign_prefix = campaign.region_code.as_str();
        let longer = if prefix.len() >= campaign_prefix.len() {
            prefix
        } else {
            campaign_prefix
        };
        longer.to_owned()
    };
    let area = |prefix: String, villages: Option<Vec<String>>, key_len: i32| Area {
        county: county.clone(),
        campaign_id: campaign.campaign_id,
        prefix,
        villages,
        key_len,
    };
    match (req.region_code.trim(), req.zone_id.trim()) {
        ("", "") => Err(ServiceError::invalid(
            "region_code",
            "give a region_code or a zone_id",
        )),
        (_, "") => {
            let region = RegionCode::parse_named("region_code", &req.region_code)?;
            let child_level = match region.level() {
                RegionLevel::County => Some(RegionLevel::Township),
                RegionLevel::Township => Some(RegionLevel::Village),
                RegionLevel::Village => None,
                _ => {
                    let why = "progress is by village, township or county";
                    return Err(ServiceError::invalid("region_code", why));
                }
            };
            // Children are keyed by their significant digits; a village is its own key.
            let key_len = child_level.unwrap_or(RegionLevel::Village).prefix_len() as i32;
            claims.require_scope(region.as_str())?;
            if !overlaps(region.prefix()) {
                let why = format!(
                    "{region} is outside the campaign's region {}",
                    campaign.region_code
                );
                return Err(ServiceError::invalid("region_code", why));
            }
            let row = store::regions::get(&state.pool, region.as_str())
                .await?
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "region_code",
                        format!("{region} is not in the region table"),
                    )
                })?;
            let prefix = narrower(region.prefix());
            let children = match child_level {
                Some(level) => {
                    store::progress::regions_under(
                        &state.pool,
                        &county,
                        &prefix,
                        stored_level(level),
                        None,
                    )
                    .await?
                }
                None => Vec::new(),
            };
            Ok(Target {
                key: region.as_str().to_owned(),
                name: row.name,
                area: area(prefix, None, key_len),
                children,
                has_children: child_level.is_some(),
            })
        }
        ("", zone_id) => {
            let zone_id = parse_uuid("zone_id", zone_id)?;
            let not_found = || {
                ServiceError::NotFound(format!(
                    "zone_id {zone_id}: no such work zone in county {county}"
                ))
            };
            let zone = store::regions::get_zone(&state.pool, &county, zone_id)
                .await?
                .ok_or_else(not_found)?;
            require_visible(claims, &zone.township_code, not_found)?;
            let township = RegionCode::parse("zone_id", &zone.township_code)?;
            if !overlaps(township.prefix()) {
                let why = format!(
                    "the zone lies outside the campaign's region {}",
                    campaign.region_code
                );
                return Err(ServiceError::invalid("zone_id", why));
            }
            let prefix = narrower(township.prefix());
            let villages = zone.village_codes;
            let children = store::progress::regions_under(
                &state.pool,
                &county,
                &prefix,
                stored_level(RegionLevel::Village),
                Some(&villages),
            )
            .await?;
            Ok(Target {
                key: zone_id.to_string(),
                name: zone.name,
                area: area(prefix, Some(villages), 12),
                children,
                has_children: true,
            })
        }
        _ => Err(ServiceError::invalid(
            "zone_id",
            "give either region_code or zone_id, not both",
        )),
    }
}

/// The figures of one row, added up across children for the total.
#[derive(Debug, Default)]
struct Tally {
    households_total: i64,
    households_visited: i64,
    visits: i64,
    by_mode: BTreeMap<i16, i64>,
    overnight_stays: i64,
    households_helped: i64,
    poor_households_helped: i64,
    help_cash_fen: i64,
    help_goods_value_fen: i64,
    materials: BTreeMap<String, i64>,
    items_raised: i64,
    items_resolved_on_spot: i64,
    disputed_visits: i64,
}

impl Tally {
    /// Adds another row's figures. Every figure is additive because a
    /// household (and so each of its visits) lies in exactly one village.
    fn add(&mut self, o: &Tally) {
        self.households_total += o.households_total;
        self.households_visited += o.households_visited;
        self.visits += o.visits;
        for (mode, n) in &o.by_mode {
            *self.by_mode.entry(*mode).or_default() += n;
        }
        self.overnight_stays += o.overnight_stays;
        self.households_helped += o.households_helped;
        self.poor_households_helped += o.poor_households_helped;
        self.help_cash_fen += o.help_cash_fen;
        self.help_goods_value_fen += o.help_goods_value_fen;
        for (name, q) in &o.materials {
            *self.materials.entry(name.clone()).or_default() += q;
        }
        self.items_raised += o.items_raised;
        self.items_resolved_on_spot += o.items_resolved_on_spot;
        self.disputed_visits += o.disputed_visits;
    }

    fn into_proto(self, key: String, name: String) -> RegionProgress {
        RegionProgress {
            key,
            name,
            households_total: self.households_total,
            households_visited: self.households_visited,
            coverage_bp: coverage_bp(self.households_visited, self.households_total),
            visits: self.visits,
            visits_by_mode: self
                .by_mode
                .into_iter()
                .map(|(mode, visits)| ModeCount {
                    mode: i32::from(mode),
                    visits,
                })
                .collect(),
            overnight_stays: self.overnight_stays,
            households_helped: self.households_helped,
            help_cash_fen: self.help_cash_fen,
            help_goods_value_fen: self.help_goods_value_fen,
            materials: self
                .materials
                .into_iter()
                .map(|(name, q)| MaterialHandout {
                    name,
                    quantity: i32::try_from(q).unwrap_or(i32::MAX),
                })
                .collect(),
            items_raised: self.items_raised,
            items_resolved_on_spot: self.items_resolved_on_spot,
            disputed_visits: self.disputed_visits,
            poor_households_helped: self.poor_households_helped,
        }
    }
}
