//! Each visit's fabrication signals, for township and county admins (the
//! supervisors' worklist stays blind to cadres; this view is for analysis).
use zoufang_core::{
    ServiceResult,
    auth::{Claims, roles},
    fields::{page_size, parse_uuid, to_timestamp},
};
use zoufang_proto::supervision::v1::*;
use zoufang_types::RegionCode;

use super::State;
use crate::{domain::signals::Signal, store};

fn detail(s: &Signal) -> (String, String) {
    match s {
        Signal::TooShort { minutes } => (String::new(), format!("{minutes} 分钟")),
        Signal::Overlapping { other_visit } | Signal::PhotoReused { other_visit } => {
            (other_visit.to_string(), String::new())
        }
        Signal::SamePlace {
            other_visit,
            meters,
        } => (other_visit.to_string(), format!("{meters:.0} 米")),
        Signal::ImpossibleTravel {
            other_visit,
            km,
            kmh,
        } => (
            other_visit.to_string(),
            format!("{km:.1} 公里，需时速 {kmh:.0} 公里"),
        ),
        Signal::SharedPhone { households } => {
            (String::new(), format!("同一号码登记 {households} 户"))
        }
    }
}

/// A campaign's visits with their signals.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListVisitSignalsRequest,
) -> ServiceResult<ListVisitSignalsResponse> {
    claims.require_any_role(&[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN])?;
    let campaign_id = parse_uuid("campaign_id", &req.campaign_id)?;
    let region = RegionCode::parse_named("region_code", &req.region_code)?;
    claims.require_scope(region.county())?;
    let cadre = Some(req.cadre_id.trim()).filter(|c| !c.is_empty());
    let rows = store::facts::signals_of(
        &state.pool,
        region.county(),
        campaign_id,
        cadre,
        req.flagged_only,
        page_size(req.page_size),
    )
    .await?;
    let visits = rows
        .into_iter()
        .map(|r| {
            let signals: Vec<Signal> = serde_json::from_value(r.signals).unwrap_or_default();
            VisitSignals {
                visit_id: r.visit_id.to_string(),
                cadre_ids: r.cadre_ids,
                started_at: Some(to_timestamp(r.started_at)),
                signals: signals
                    .iter()
                    .map(|s| {
                        let (other_visit_id, detail) = detail(s);
                        VisitSignal {
                            code: s.code().to_owned(),
                            label: s.label_zh().to_owned(),
                            other_visit_id,
                            detail,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(ListVisitSignalsResponse { visits })
}
