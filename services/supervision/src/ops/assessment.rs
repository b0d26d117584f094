//! The cadre assessment (考核) of a campaign: quota coverage from the
//! registry, ledger timeliness from the ledger's events, and verification,
//! back-check and satisfaction from this service's callbacks — each shown,
//! then combined by the caller's weights.
use std::collections::HashMap;

use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{BearerInterceptor, Claims, roles},
    fields::parse_uuid,
};
use zoufang_proto::{
    registry::v1::{
        GetCadreProgressRequest, ListCadresRequest, registry_service_client::RegistryServiceClient,
    },
    supervision::v1::*,
};

use super::State;
use crate::{
    domain::assessment::{self, Components, Weights},
    store::{self, callbacks::Totals},
};

/// The registry's refusal as ours: what the caller got wrong stays the
/// caller's (an unknown campaign is NotFound, not a server error); only the
/// registry failing is internal.
fn from_registry(s: tonic::Status) -> ServiceError {
    let message = format!("registry: {}", s.message());
    match s.code() {
        tonic::Code::NotFound => ServiceError::NotFound(message),
        // The only caller input the registry sees is the campaign id.
        tonic::Code::InvalidArgument => ServiceError::invalid("campaign_id", message),
        tonic::Code::PermissionDenied => ServiceError::PermissionDenied(message),
        tonic::Code::Unauthenticated => ServiceError::Unauthenticated(message),
        _ => ServiceError::Internal(anyhow::anyhow!(message)),
    }
}

/// The assessment of the cadres of a region in a campaign.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn assess(
    state: &State,
    claims: &Claims,
    bearer: &str,
    req: GetCadreAssessmentRequest,
) -> ServiceResult<GetCadreAssessmentResponse> {
    claims.require_any_role(&[
        roles::TOWNSHIP_ADMIN,
        roles::COUNTY_ADMIN,
        roles::SUPERVISOR,
    ])?;
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let prefix = zoufang_types::list_prefix(claims, &req.region_code)?;
    let weights = req.weights.map_or_else(Weights::default, |w| Weights {
        coverage: w.coverage,
        timeliness: w.timeliness,
        verification: w.verification,
        backcheck: w.backcheck,
        satisfaction: w.satisfaction,
    });

    // The registry answers in the caller's name, within the caller's scope:
    // the sign-in authority exchanges the caller's token for one that says so.
    let token = state
        .exchange
        .delegated(zoufang_core::auth::exchange::purposes::ASSESSMENT, bearer)
        .await?;
    let mut registry =
        RegistryServiceClient::with_interceptor(state.registry.clone(), BearerInterceptor(token));
    let cadres = registry
        .list_cadres(ListCadresRequest {
            region_code: prefix.clone(),
        })
        .await
        .map_err(from_registry)?
        .into_inner()
        .cadres;

    let callbacks: HashMap<String, Totals> =
        store::callbacks::totals(&state.pool, &prefix, Some(campaign_id), state.clock.now())
            .await?
            .into_iter()
            .skip(1)
            .map(|t| (t.cadre_id.clone(), t))
            .collect();

    let mut out = Vec::with_capacity(cadres.len());
    for cadre in cadres {
        let progress = registry
            .get_cadre_progress(GetCadreProgressRequest {
                campaign_id: campaign_id.to_string(),
                cadre_id: cadre.cadre_id.clone(),
            })
            .await
            .map_err(from_registry)?
            .into_inner();
        let quotas: Vec<(i64, i64)> = progress
            .quotas
            .iter()
            .map(|q| (q.target, q.actual))
            .collect();
        let county = zoufang_core::fields::county_of(&cadre.region_code);
        let (in_time, late, overdue) =
            store::ledger::counts(&state.pool, &county, campaign_id, &cadre.cadre_id).await?;
        let t = callbacks.get(&cadre.cadre_id).cloned().unwrap_or_default();
        let c = Components {
            coverage: assessment::coverage(&quotas),
            timeliness: assessment::timeliness(in_time, late, overdue),
            verification: assessment::verification(t.visits_checked, t.visits_not_confirmed),
            backcheck: assessment::backcheck(t.visits_checked, t.backcheck_mismatches),
            satisfaction: assessment::satisfaction(t.items_answered, t.items_satisfied),
        };
        out.push(CadreAssessment {
            cadre_id: cadre.cadre_id,
            name: cadre.name,
            position: cadre.position,
            coverage: c.coverage,
            timeliness: c.timeliness,
            items_in_time: in_time,
            items_late: late,
            items_overdue: overdue,
            verification: c.verification,
            backcheck: c.backcheck,
            satisfaction: c.satisfaction,
            score: assessment::score(&c, &weights),
        });
    }
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.cadre_id.cmp(&b.cadre_id))
    });
    Ok(GetCadreAssessmentResponse {
        cadres: out,
        weights: Some(AssessmentWeights {
            coverage: weights.coverage,
            timeliness: weights.timeliness,
            verification: weights.verification,
            backcheck: weights.backcheck,
            satisfaction: weights.satisfaction,
        }),
    })
}
