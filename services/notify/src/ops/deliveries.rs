//! Per-channel delivery state for admins: what went out, what waits, what
//! failed and why.
use zoufang_core::{
    ServiceResult,
    auth::{Claims, roles},
    fields::{county_of, page_size},
};
use zoufang_proto::notify::v1::*;

use super::{State, directory::county_prefix, view};
use crate::store;

/// A page of deliveries under a region, newest first.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListDeliveriesRequest,
) -> ServiceResult<ListDeliveriesResponse> {
    claims.require_any_role(&[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN, roles::SERVICE])?;
    let prefix = county_prefix(claims, &req.region_code)?;
    let wanted_state = match DeliveryState::try_from(req.state).unwrap_or_default() {
        DeliveryState::Pending => "pending",
        DeliveryState::Sent => "sent",
        DeliveryState::Failed => "failed",
        DeliveryState::Unspecified => "",
    };
    let channel = view::channel_name(Channel::try_from(req.channel).unwrap_or_default());
    let after = view::parse_token(&req.page_token)?.map(|(_, at, id)| (at, id));
    let limit = page_size(req.page_size);
    let rows = store::deliveries::page(
        &state.pool,
        &county_of(&prefix),
        &prefix,
        wanted_state,
        channel,
        after,
        limit + 1,
    )
    .await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let rows: Vec<_> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    Ok(ListDeliveriesResponse {
        next_page_token: match rows.last() {
            Some(last) if more => view::token(false, last.created_at, last.delivery_id),
            _ => String::new(),
        },
        deliveries: rows.iter().map(view::delivery).collect(),
    })
}
