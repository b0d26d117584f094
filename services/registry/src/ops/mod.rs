//! The registry's operations: authorization (role and region scope),
//! validation, and the transactions that change state and write events.
//! Each function takes the caller's claims and a request message and returns
//! a response message, so the gRPC layer stays a thin mapping.
pub mod cadres;
pub mod campaigns;
pub mod households;
pub mod progress;
pub mod regions;
pub mod teams;
pub mod visits;

use std::sync::Arc;

use zoufang_bus::outbox;
pub use zoufang_core::fields::{
    county_of, page_size, parse_uuid, require_text, to_chrono, to_timestamp,
};
use zoufang_core::{clock::Clock, pii::PiiCipher};

/// What every operation needs.
#[derive(Debug, Clone)]
pub struct State {
    /// The registry's database pool (search_path = registry).
    pub pool: sqlx::PgPool,
    /// Encrypts and hashes personal data.
    pub pii: Arc<PiiCipher>,
    /// Where "now" comes from (a visit may not lie in its future).
    pub clock: Clock,
    /// Wakes the outbox relays after a write that defers it (recording a
    /// visit), off the caller's path.
    pub outbox_waker: outbox::Waker,
}

impl State {
    /// Wraps a pool, a cipher and a clock.
    pub fn new(pool: sqlx::PgPool, pii: PiiCipher, clock: Clock) -> Self {
        Self {
            outbox_waker: outbox::Waker::new(pool.clone()),
            pool,
            pii: Arc::new(pii),
            clock,
        }
    }

    /// A keyed fingerprint of a request body, to tell a retried create from
    /// a different body under the same id. Keyed, because bodies may carry
    /// personal data that a plain hash would let anyone confirm by guessing.
    pub fn body_hash(&self, message: &impl prost::Message) -> Vec<u8> {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(message.encode_to_vec());
        self.pii.keyed_hash("request_body", &hex::encode(digest))
    }
}
