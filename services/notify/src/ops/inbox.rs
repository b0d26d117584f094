//! The caller's inbox: list (unread first, keyset pages), mark read, unread
//! count, and the stream of new notifications. Every read and write also
//! checks the recipient's region against the caller's scope (see
//! `store::notifications`), so a token whose `sub` names someone outside
//! its scope reaches nothing.
use std::pin::Pin;

use futures::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use tonic::Status;
use uuid::Uuid;
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::Claims,
    fields::{page_size, parse_uuid},
};
use zoufang_proto::notify::v1::*;

use super::{State, view};
use crate::store::{self, notifications::InboxCursor};

/// A page of the caller's inbox, with each message's delivery states.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListInboxRequest,
) -> ServiceResult<ListInboxResponse> {
    let limit = page_size(req.page_size);
    let after = view::parse_token(&req.page_token)?.map(|(read, created_at, notification_id)| {
        InboxCursor {
            read,
            created_at,
            notification_id,
        }
    });
    let rows = store::notifications::page(
        &state.pool,
        &claims.sub,
        &claims.scope,
        after,
        req.unread_only,
        limit + 1,
    )
    .await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let rows: Vec<_> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.notification_id).collect();
    let deliveries = store::deliveries::of_notifications(&state.pool, &ids).await?;
    let next_page_token = match rows.last() {
        Some(last) if more => view::token(
            last.read_at.is_some(),
            last.created_at,
            last.notification_id,
        ),
        _ => String::new(),
    };
    let notifications = rows
        .iter()
        .map(|n| {
            let own = deliveries
                .iter()
                .filter(|d| d.notification_id == Some(n.notification_id))
                .map(view::delivery)
                .collect();
            view::notification(n, own)
        })
        .collect();
    Ok(ListInboxResponse {
        notifications,
        next_page_token,
        unread_count: store::notifications::unread_count(&state.pool, &claims.sub, &claims.scope)
            .await?,
    })
}

/// Marks the caller's notifications read.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn mark_read(
    state: &State,
    claims: &Claims,
    req: MarkReadRequest,
) -> ServiceResult<MarkReadResponse> {
    let ids = if req.all {
        None
    } else {
        if req.notification_ids.is_empty() {
            return Err(ServiceError::invalid(
                "notification_ids",
                "name the notifications to mark, or set all",
            ));
        }
        let ids = req
            .notification_ids
            .iter()
            .enumerate()
            .map(|(i, id)| parse_uuid(&format!("notification_ids[{i}]"), id))
            .collect::<ServiceResult<Vec<_>>>()?;
        Some(ids)
    };
    let marked = store::notifications::mark_read(
        &state.pool,
        &claims.sub,
        &claims.scope,
        ids.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(MarkReadResponse {
        marked: i64::try_from(marked).unwrap_or(i64::MAX),
        unread_count: store::notifications::unread_count(&state.pool, &claims.sub, &claims.scope)
            .await?,
    })
}

/// How many notifications the caller has not read.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn unread_count(
    state: &State,
    claims: &Claims,
    _req: GetUnreadCountRequest,
) -> ServiceResult<GetUnreadCountResponse> {
    Ok(GetUnreadCountResponse {
        unread_count: store::notifications::unread_count(&state.pool, &claims.sub, &claims.scope)
            .await?,
    })
}

/// The stream type of StreamInbox.
pub type InboxStream = Pin<Box<dyn Stream<Item = Result<StreamInboxResponse, Status>> + Send>>;

/// The caller's new notifications as they are committed, until the client
/// goes away, the service stops or the caller's token stops being valid
/// (expired, or its session revoked). A client that falls far behind misses
/// some and should re-list.
pub fn stream(state: &State, claims: &Claims) -> InboxStream {
    let me = claims.sub.clone();
    let (token, revoked) = (claims.clone(), state.revoked.clone());
    let invalid = Box::pin(async move {
        zoufang_core::auth::revocation::until_invalid(&token, &revoked).await;
    });
    let scope = claims.scope.clone();
    let pool = state.pool.clone();
    let signals = BroadcastStream::new(state.inbox.subscribe());
    let stop = state.shutdown.clone().cancelled_owned();
    let out = signals
        .filter_map(move |signal| {
            let (me, scope, pool) = (me.clone(), scope.clone(), pool.clone());
            async move {
                let signal = signal.ok()?;
                if signal.recipient_id != me {
                    return None;
                }
                match store::notifications::get(&pool, &me, &scope, signal.notification_id).await {
                    Ok(row) => row.map(|n| {
                        Ok(StreamInboxResponse {
                            notification: Some(view::notification(&n, vec![])),
                        })
                    }),
                    Err(e) => Some(Err(Status::from(ServiceError::from(e)))),
                }
            }
        })
        .take_until(stop)
        .take_until(invalid);
    Box::pin(out)
}
