//! Revoked sign-in sessions, known to every service within a second of the
//! gateway closing them (sign-out, disable, password change, a reused
//! refresh token), so a token stops working everywhere and not only at the
//! gateway.
//!
//! The gateway publishes `gateway.session.revoked` through its outbox. A
//! RabbitMQ stream keeps those events for an hour; every process of every
//! service reads it from [`REMEMBER`] ago onwards (`zoufang_bus::revocation`)
//! into the [`RevokedSessions`] set kept here, which
//! [`super::AuthInterceptor`] consults. Reading from the past (a stream
//! offset by time) is what lets a replica that starts, or reconnects after
//! the broker went away, learn the revocations made while it was not
//! listening: access tokens live at most five minutes, so a window of
//! fifteen covers every token still alive.
//!
//! While the broker is away the set cannot grow: a revoked token then works
//! until it expires (at most five minutes), which is the price of not
//! making every request depend on the broker. `zf_revocation_feed_up`
//! shows it.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use prost::Message as _;
use zoufang_proto::events::v1::SessionsRevoked;

/// Routing key of the gateway's revocation events.
pub const SESSION_REVOKED: &str = zoufang_proto::catalogue::gateway::SESSION_REVOKED;

/// How far back a reader starts, and how long a revoked session is
/// remembered: longer than any access token lives (five minutes and the
/// verifier's leeway), with room for clocks that disagree.
pub const REMEMBER: Duration = Duration::from_secs(15 * 60);

/// Session ids whose tokens are refused, each until [`REMEMBER`] after its
/// revocation. Cheap to clone: clones share one set.
#[derive(Debug, Clone, Default)]
pub struct RevokedSessions {
    inner: Arc<Mutex<HashMap<String, u64>>>,
}

/// Seconds from the Unix epoch to `t` (0 before it).
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl RevokedSessions {
    /// Records that `session_id` was revoked at `revoked_at` (Unix seconds).
    pub fn revoke(&self, session_id: &str, revoked_at: u64) {
        let mut set = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        set.insert(session_id.to_owned(), revoked_at);
        let cutoff = unix_secs(SystemTime::now()).saturating_sub(REMEMBER.as_secs());
        // Forget what no live token can carry any more; the set stays the
        // size of fifteen minutes of sign-outs.
        if set.len().is_multiple_of(256) {
            set.retain(|_, at| *at >= cutoff);
        }
    }

    /// Whether tokens of `session_id` must be refused.
    pub fn is_revoked(&self, session_id: &str) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(session_id)
    }

    /// How many revoked sessions are remembered.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies one event; false when the payload is not a `SessionsRevoked`.
    pub fn apply(&self, payload: &[u8]) -> bool {
        let Ok(event) = SessionsRevoked::decode(payload) else {
            return false;
        };
        let at = event
            .revoked_at
            .map(|t| t.seconds.max(0) as u64)
            .unwrap_or_else(|| unix_secs(SystemTime::now()));
        for sid in &event.session_ids {
            self.revoke(sid, at);
        }
        true
    }
}

/// Resolves once a token with `claims` stops being valid: it expires, or
/// its session is revoked. Long-lived responses to a person (the inbox
/// stream) end then, rather than outliving a sign-out or a disabled account.
pub async fn until_invalid(claims: &super::Claims, revoked: &RevokedSessions) {
    loop {
        let now = unix_secs(SystemTime::now()) as i64;
        if now >= claims.exp || claims.sid.as_deref().is_some_and(|s| revoked.is_revoked(s)) {
            return;
        }
        // Checking twice a second costs a lock and a hash lookup per stream.
        let left = Duration::from_secs(u64::try_from(claims.exp - now).unwrap_or(0));
        tokio::time::sleep(left.min(Duration::from_millis(500))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(sids: &[&str], at: i64) -> Vec<u8> {
        SessionsRevoked {
            session_ids: sids.iter().map(|s| (*s).to_owned()).collect(),
            user_id: "u1".into(),
            reason: 1,
            revoked_at: Some(prost_types::Timestamp {
                seconds: at,
                nanos: 0,
            }),
        }
        .encode_to_vec()
    }

    #[test]
    fn an_event_revokes_each_session_it_names() {
        let set = RevokedSessions::default();
        let now = unix_secs(SystemTime::now()) as i64;
        assert!(set.apply(&event(&["s1", "s2"], now)));
        assert!(set.is_revoked("s1") && set.is_revoked("s2"));
        assert!(!set.is_revoked("s3"));
        assert!(!set.apply(b"\xff\xff not protobuf"));
    }

    #[tokio::test]
    async fn a_token_turns_invalid_when_it_expires_or_its_session_is_revoked() {
        let now = unix_secs(SystemTime::now()) as i64;
        let set = RevokedSessions::default();
        let claims = |exp: i64, sid: Option<&str>| super::super::Claims {
            sub: "u1".into(),
            roles: vec![],
            scope: String::new(),
            exp,
            sid: sid.map(str::to_owned),
            ..Default::default()
        };
        let expired = claims(now - 1, None);
        tokio::time::timeout(Duration::from_millis(100), until_invalid(&expired, &set))
            .await
            .expect("an expired token is invalid at once");
        let live = claims(now + 600, Some("s9"));
        let waiting = tokio::time::timeout(Duration::from_millis(700), until_invalid(&live, &set));
        assert!(waiting.await.is_err(), "a live token stays valid");
        let (set2, live2) = (set.clone(), live.clone());
        let watcher = tokio::spawn(async move { until_invalid(&live2, &set2).await });
        set.revoke("s9", now as u64);
        tokio::time::timeout(Duration::from_secs(2), watcher)
            .await
            .expect("revocation ends the wait")
            .unwrap();
    }

    #[test]
    fn clones_share_the_set() {
        let a = RevokedSessions::default();
        let b = a.clone();
        a.revoke("s1", unix_secs(SystemTime::now()));
        assert!(b.is_revoked("s1"));
    }

    #[test]
    fn old_revocations_are_forgotten_as_the_set_grows() {
        let set = RevokedSessions::default();
        let now = unix_secs(SystemTime::now());
        set.revoke("ancient", now - REMEMBER.as_secs() - 60);
        for i in 0..255 {
            set.revoke(&format!("s{i}"), now);
        }
        assert!(!set.is_revoked("ancient"), "pruned at the 256th entry");
        assert!(set.is_revoked("s0"));
    }
}
