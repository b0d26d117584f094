//! The category taxonomy and a campaign's SLA rules.
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::{county_of, parse_uuid, require_text},
};
use zoufang_proto::issues::v1::*;
use zoufang_types::{RegionCode, scope::require_covers_both};

use super::State;
use crate::{
    domain::sla::{self, SlaRule},
    store,
};

const ADMINS: &[&str] = &[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN];

/// The county whose taxonomy the caller may extend: their scope must be
/// exactly one county. A county's categories are shared by its townships,
/// so a township admin adding one would change every township's list.
fn county_of_scope(claims: &Claims) -> ServiceResult<String> {
    match claims.scope.len() {
        6 => Ok(county_of(&claims.scope)),
        n if n < 6 => Err(ServiceError::PermissionDenied(
            "categories belong to a county: use a token scoped to one".into(),
        )),
        _ => Err(ServiceError::PermissionDenied(format!(
            "categories are shared by the whole county: only an admin whose scope is the county may add one (yours is {:?})",
            claims.scope
        ))),
    }
}

/// The built-in categories and the county's own.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_categories(
    state: &State,
    claims: &Claims,
    _req: ListCategoriesRequest,
) -> ServiceResult<ListCategoriesResponse> {
    let county = if claims.scope.len() >= 6 {
        county_of(&claims.scope)
    } else {
        "000000".into()
    };
    let rows = store::categories::list(&state.pool, &county).await?;
    Ok(ListCategoriesResponse {
        categories: rows
            .into_iter()
            .map(|r| Category {
                name: r.name,
                builtin: r.builtin,
            })
            .collect(),
    })
}

/// Adds a county category.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create_category(
    state: &State,
    claims: &Claims,
    req: CreateCategoryRequest,
) -> ServiceResult<CreateCategoryResponse> {
    claims.require_any_role(ADMINS)?;
    let name = require_text("name", &req.name, 32)?;
    let county = county_of_scope(claims)?;
    store::categories::add(&state.pool, &county, &name).await?;
    Ok(CreateCategoryResponse {
        category: Some(Category {
            name,
            builtin: false,
        }),
    })
}

/// Replaces a campaign's SLA rules.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn set_sla_rules(
    state: &State,
    claims: &Claims,
    req: SetSlaRulesRequest,
) -> ServiceResult<SetSlaRulesResponse> {
    claims.require_any_role(ADMINS)?;
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let region = RegionCode::parse("region_code", &req.region_code)?;
    // The rules are stored per county and campaign, whatever region the
    // request names: replacing them needs a scope covering the county. A
    // township admin once replaced the county campaign's rules by naming
    // their own township.
    require_covers_both(claims, Some(region.county()), region.as_str())?;
    let rules: Vec<SlaRule> = req
        .rules
        .iter()
        .map(|r| SlaRule {
            kind: r.kind,
            category: r.category.trim().to_owned(),
            priority: r.priority,
            days: r.days,
        })
        .collect();
    sla::validate_rules("rules", &rules)?;
    let mut tx = state.pool.begin().await?;
    store::sla::replace(&mut tx, region.county(), campaign_id, &rules).await?;
    tx.commit().await?;
    Ok(SetSlaRulesResponse { rules: req.rules })
}
