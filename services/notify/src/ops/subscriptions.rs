//! Group robots (WeCom, DingTalk) and signed webhooks subscribed to a region.
//! Secrets are encrypted at rest and never shown again.
use uuid::Uuid;
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::{county_of, parse_uuid, require_text},
};
use zoufang_proto::notify::v1::*;
use zoufang_types::{RegionCode, RegionScope};

use super::{State, directory::county_prefix, view};
use crate::{
    domain::template,
    store::{self, subscriptions::SubscriptionRow},
};

const ADMINS: &[&str] = &[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN];
/// Names subscriptions after the client's request id.
const SUBSCRIPTION_NAMESPACE: Uuid = Uuid::from_u128(0x5d0b_7c2e_1f84_4a39_9e6d_c3b1_08a7_f452);
/// A webhook's HMAC key must be at least this long to mean anything.
const MIN_WEBHOOK_SECRET: usize = 16;

/// Subscribes a robot or webhook to a region (idempotent by request id).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create(
    state: &State,
    claims: &Claims,
    req: CreateSubscriptionRequest,
) -> ServiceResult<CreateSubscriptionResponse> {
    claims.require_any_role(ADMINS)?;
    let s = req
        .subscription
        .ok_or_else(|| ServiceError::invalid("subscription", "required"))?;
    let request_id = require_text("subscription.request_id", &s.request_id, 100)?;
    let name = require_text("subscription.name", &s.name, 100)?;
    let channel = Channel::try_from(s.channel).unwrap_or(Channel::Unspecified);
    if !matches!(
        channel,
        Channel::Wecom | Channel::Dingtalk | Channel::Webhook
    ) {
        return Err(ServiceError::invalid(
            "subscription.channel",
            "choose WECOM, DINGTALK or WEBHOOK",
        ));
    }
    let region = RegionCode::parse("subscription.region_code", &s.region_code)?;
    claims.require_scope(region.as_str())?;
    let url = require_text("subscription.url", &s.url, 1000)?;
    // https to public addresses only (unless the operator allows more): the
    // URL is called by this service, from inside the network.
    if let Err(why) = state.sender.policy().check_registration(&url).await {
        return Err(ServiceError::invalid("subscription.url", why.to_string()));
    }
    if channel == Channel::Webhook && s.secret.chars().count() < MIN_WEBHOOK_SECRET {
        return Err(ServiceError::invalid(
            "subscription.secret",
            format!("a webhook needs a signing secret of at least {MIN_WEBHOOK_SECRET} characters"),
        ));
    }
    for (i, kind) in s.kinds.iter().enumerate() {
        if template::variables(kind).is_none() {
            return Err(ServiceError::invalid(
                format!("subscription.kinds[{i}]"),
                format!("unknown kind {kind:?}"),
            ));
        }
    }
    let county = region.county().to_owned();
    let subscription_id = Uuid::new_v5(
        &SUBSCRIPTION_NAMESPACE,
        format!("{county}:{request_id}").as_bytes(),
    );
    let row = SubscriptionRow {
        county,
        subscription_id,
        name,
        channel: view::channel_name(channel).to_owned(),
        region_code: region.as_str().to_owned(),
        scope: RegionScope::for_code(&region).as_str().to_owned(),
        url,
        secret_enc: (!s.secret.is_empty()).then(|| state.pii.encrypt(&s.secret)),
        kinds: s.kinds.clone(),
        active: true,
        created_by: claims.sub.clone(),
        created_at: state.clock.now(),
    };
    let mut conn = state.pool.acquire().await?;
    store::subscriptions::insert(&mut conn, &row).await?;
    let saved = store::subscriptions::get(&mut *conn, subscription_id)
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("subscription vanished")))?;
    if saved.url != row.url || saved.channel != row.channel || saved.region_code != row.region_code
    {
        return Err(ServiceError::AlreadyExists(format!(
            "request_id {request_id} already made a different subscription"
        )));
    }
    Ok(CreateSubscriptionResponse {
        subscription: Some(view::subscription(&saved)),
    })
}

/// The subscriptions under a region.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListSubscriptionsRequest,
) -> ServiceResult<ListSubscriptionsResponse> {
    claims.require_any_role(ADMINS)?;
    let prefix = county_prefix(claims, &req.region_code)?;
    let rows = store::subscriptions::list(&state.pool, &county_of(&prefix), &prefix).await?;
    Ok(ListSubscriptionsResponse {
        subscriptions: rows.iter().map(view::subscription).collect(),
    })
}

/// Stops a subscription.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn disable(
    state: &State,
    claims: &Claims,
    req: DisableSubscriptionRequest,
) -> ServiceResult<DisableSubscriptionResponse> {
    claims.require_any_role(ADMINS)?;
    let id = parse_uuid("subscription_id", &req.subscription_id)?;
    let found = store::subscriptions::get(&state.pool, id)
        .await?
        .filter(|s| claims.covers(&s.region_code))
        .ok_or_else(|| ServiceError::NotFound(format!("subscription {id}")))?;
    let saved = store::subscriptions::disable(&state.pool, &found.county, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("subscription {id}")))?;
    Ok(DisableSubscriptionResponse {
        subscription: Some(view::subscription(&saved)),
    })
}
