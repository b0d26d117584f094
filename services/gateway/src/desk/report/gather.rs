//! Asks the three services, as the caller, for a region's figures and
//! each child's: the registry's progress (one call gives every child), then
//! the ledger's and supervision's statistics per region prefix, a few calls
//! at a time. The services enforce role and scope.
use futures::{StreamExt, TryStreamExt, stream};
use zoufang_proto::{
    issues::v1::GetIssueStatisticsRequest,
    registry::v1::{GetCampaignRequest, GetRegionProgressRequest},
    supervision::v1::GetCallbackStatisticsRequest,
};
use zoufang_types::RegionCode;

use super::figures::{Answers, Level, Summary, summarize};
use crate::door::{ApiError, Upstreams};

/// Statistics calls in flight at once for one report.
const CONCURRENCY: usize = 8;

/// The summary of `region` in `campaign_id` as of `now`, with a row per child.
#[tracing::instrument(skip_all, fields(region = %region.as_str(), campaign_id = %campaign_id), err(Debug))]
pub async fn summary(
    up: &Upstreams,
    token: &str,
    region: &RegionCode,
    level: Level,
    campaign_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Summary, ApiError> {
    let mut registry = up.registry(token);
    let campaign = registry
        .get_campaign(GetCampaignRequest {
            campaign_id: campaign_id.to_owned(),
        })
        .await?
        .into_inner()
        .campaign
        .ok_or_else(|| ApiError::internal("the registry answered a campaign without its body"))?;
    let progress = registry
        .get_region_progress(GetRegionProgressRequest {
            campaign_id: campaign_id.to_owned(),
            region_code: region.as_str().to_owned(),
            zone_id: String::new(),
        })
        .await?
        .into_inner();
    let total = progress
        .total
        .ok_or_else(|| ApiError::internal("the registry answered progress without a total"))?;

    let mut all = vec![total];
    all.extend(progress.children);
    let answers: Vec<Answers> = stream::iter(all)
        .map(|p| async move {
            // The services take a full code too; the key's prefix keeps the
            // request the same whatever the key's form.
            let prefix = zoufang_types::region_prefix(&p.key).to_owned();
            let (issues, callbacks) = tokio::try_join!(
                async {
                    up.issues(token)
                        .get_issue_statistics(GetIssueStatisticsRequest {
                            region_code: prefix.clone(),
                            campaign_id: campaign_id.to_owned(),
                        })
                        .await
                },
                async {
                    up.supervision(token)
                        .get_callback_statistics(GetCallbackStatisticsRequest {
                            region_code: prefix.clone(),
                            campaign_id: campaign_id.to_owned(),
                            failure_threshold_bp: 0,
                        })
                        .await
                },
            )?;
            Ok::<_, ApiError>(Answers {
                progress: p,
                issues: issues.into_inner(),
                callbacks: callbacks.into_inner().totals.unwrap_or_default(),
            })
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    let (total, children) = answers
        .split_first()
        .ok_or_else(|| ApiError::internal("no answers"))?;
    Ok(summarize(region, level, &campaign, total, children, now))
}
