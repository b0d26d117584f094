//! The inbox as Server-Sent Events for browsers: `GET /v1/notify/inbox/stream`
//! relays the notification service's `StreamInbox` (a gRPC server stream,
//! which the JSON transcoder does not carry) as one `notification` event per
//! new message, with keep-alives so proxies hold the connection open.
use std::{convert::Infallible, time::Duration};

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
    routing::get,
};
use futures::{Stream, StreamExt};
use serde_json::json;
use zoufang_core::auth::revocation::until_invalid;
use zoufang_proto::notify::v1::{StreamInboxRequest, StreamInboxResponse};

use crate::door::{
    caller::Caller,
    endpoints::{Endpoint, Module, op},
    error::ApiError,
    rpc::encode_json,
    state::AppState,
};

async fn stream(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let upstream = state
        .upstreams
        .notify(&caller.token)
        .stream_inbox(StreamInboxRequest {})
        .await?
        .into_inner();
    let descriptor = state
        .catalog
        .pool
        .get_message_by_name("zoufang.notify.v1.Notification")
        .ok_or_else(|| ApiError::internal("Notification is not in the descriptor set"))?;
    let events = upstream.map(move |item| {
        let event = match item {
            Ok(StreamInboxResponse {
                notification: Some(n),
            }) => {
                let dynamic = prost_reflect::DynamicMessage::decode(
                    descriptor.clone(),
                    prost::Message::encode_to_vec(&n).as_slice(),
                );
                match dynamic
                    .map_err(ApiError::internal)
                    .and_then(|m| encode_json(&m))
                {
                    Ok(v) => Event::default().event("notification").data(v.to_string()),
                    Err(e) => Event::default().event("error").data(json!(e).to_string()),
                }
            }
            Ok(StreamInboxResponse { notification: None }) => Event::default().comment("empty"),
            Err(status) => Event::default()
                .event("error")
                .data(json!(ApiError::from(status)).to_string()),
        };
        Ok(event)
    });
    // The stream ends when the gateway stops, so shutdown does not wait on
    // browsers; and when the caller's token stops being valid: it expired,
    // or the session ended (signed out here or on another replica, password
    // changed, account disabled). A browser reconnects with a fresh token.
    let (claims, revoked, pool, sid) = (
        caller.claims.clone(),
        state.revoked.clone(),
        state.pool.clone(),
        caller.session_id,
    );
    let ended = async move {
        tokio::select! {
            () = until_invalid(&claims, &revoked) => {}
            () = session_closed(&pool, sid) => {}
        }
    };
    let events = events
        .take_until(state.shutdown.clone().cancelled_owned())
        .take_until(Box::pin(ended));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Resolves once the session is no longer open in the gateway's table: the
/// backstop for a revocation the stream has not brought (the broker away).
async fn session_closed(pool: &sqlx::PgPool, session_id: uuid::Uuid) {
    let mut tick = tokio::time::interval(SESSION_RECHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // A database error is not a reason to cut the stream.
        if let Ok(false) = crate::door::accounts::store::session_is_open(pool, session_id).await {
            return;
        }
    }
}

/// How often an open inbox stream checks its session in the database.
const SESSION_RECHECK: Duration = Duration::from_secs(30);

/// The stream endpoint.
pub fn endpoints() -> Module {
    let mut operation = op(
        "notify",
        (
            "消息推送（SSE）",
            "The caller's new notifications as Server-Sent Events (event `notification`, data: a zoufang.notify.v1.Notification as JSON, snake_case fields).",
        ),
        true,
        None,
        json!({"type": "string"}),
        vec![],
    );
    operation["responses"]["200"]["content"] =
        json!({"text/event-stream": {"schema": {"type": "string"}}});
    (
        vec![Endpoint::new(
            http::Method::GET,
            "/v1/notify/inbox/stream",
            get(stream),
            operation,
        )],
        vec![],
    )
}
