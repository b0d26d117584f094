//! Callback statistics by region and by cadre, and the cadres whose visits
//! fail verification too often (the made-up-visit signal).
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::{county_of, parse_optional_uuid},
};
use zoufang_proto::supervision::v1::*;

use super::{State, tasks};
use crate::{
    domain::backcheck::rate_bp,
    store::{self, callbacks::Totals},
};

/// Verification failure rate above which a cadre is listed, by default (20%).
pub const DEFAULT_FAILURE_THRESHOLD_BP: u32 = 2_000;

fn totals(t: &Totals) -> CallbackTotals {
    CallbackTotals {
        callbacks: t.callbacks,
        done: t.done,
        unreachable: t.unreachable,
        open: t.open,
        overdue: t.overdue,
        reach_rate_bp: rate_bp(t.reached, t.attempted),
        satisfaction_rate_bp: rate_bp(t.items_satisfied, t.items_answered),
        visit_confirmation_rate_bp: rate_bp(
            t.visits_checked - t.visits_not_confirmed,
            t.visits_checked,
        ),
        visits_checked: t.visits_checked,
        visits_not_confirmed: t.visits_not_confirmed,
        backcheck_mismatches: t.backcheck_mismatches,
    }
}

/// The figures of a region (and campaign).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn statistics(
    state: &State,
    claims: &Claims,
    req: GetCallbackStatisticsRequest,
) -> ServiceResult<GetCallbackStatisticsResponse> {
    claims.require_any_role(&[
        roles::SUPERVISOR,
        roles::TOWNSHIP_ADMIN,
        roles::COUNTY_ADMIN,
    ])?;
    let prefix = zoufang_types::list_prefix(claims, &req.region_code)?;
    let campaign_id = parse_optional_uuid("campaign_id", &req.campaign_id)?;
    if req.failure_threshold_bp > 10_000 {
        return Err(ServiceError::invalid(
            "failure_threshold_bp",
            "is at most 10000",
        ));
    }
    let threshold = if req.failure_threshold_bp == 0 {
        DEFAULT_FAILURE_THRESHOLD_BP
    } else {
        req.failure_threshold_bp
    };
    let rows =
        store::callbacks::totals(&state.pool, &prefix, campaign_id, state.clock.now()).await?;
    let (total, cadres) = rows
        .split_first()
        .map(|(t, c)| (t.clone(), c.to_vec()))
        .unwrap_or_default();
    let suspects = cadres
        .iter()
        .filter(|c| {
            c.visits_checked > 0 && rate_bp(c.visits_not_confirmed, c.visits_checked) > threshold
        })
        .map(|c| c.cadre_id.clone())
        .collect();
    let mut by_cadre: Vec<CadreCallbackStatistics> = cadres
        .iter()
        .map(|c| CadreCallbackStatistics {
            cadre_id: c.cadre_id.clone(),
            totals: Some(totals(c)),
            ..Default::default()
        })
        .collect();
    // Risk totals are kept per county and campaign: shown to county-wide callers.
    if prefix.len() == 6 {
        for (cadre_id, risk) in
            store::facts::risks(&state.pool, &county_of(&prefix), campaign_id).await?
        {
            let row = match by_cadre.iter_mut().position(|c| c.cadre_id == cadre_id) {
                Some(i) => &mut by_cadre[i],
                None => {
                    by_cadre.push(CadreCallbackStatistics {
                        cadre_id,
                        totals: Some(totals(&Totals::default())),
                        ..Default::default()
                    });
                    by_cadre.last_mut().expect("just pushed")
                }
            };
            row.risk_score = tasks::score_of(risk);
            row.visits_recorded = i64::from(risk.visits);
            row.flagged_visits = i64::from(risk.flagged_visits);
        }
    }
    Ok(GetCallbackStatisticsResponse {
        totals: Some(totals(&total)),
        by_cadre,
        suspect_cadre_ids: suspects,
    })
}
