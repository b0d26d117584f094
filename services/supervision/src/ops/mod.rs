//! The supervision service's operations: authorization, validation, and the
//! transactions that change state and write events together.
pub mod assessment;
pub mod callbacks;
pub mod inspections;
pub mod setup;
pub mod signals;
pub mod stats;
pub mod sweep;
pub mod tasks;
pub mod view;

use std::sync::Arc;

use tonic::transport::Channel;
use zoufang_core::{auth::exchange::TokenExchange, clock::Clock};

/// What every operation needs.
#[derive(Debug, Clone)]
pub struct State {
    /// The service's database pool (search_path = supervision).
    pub pool: sqlx::PgPool,
    /// A lazily connected channel to the registry.
    pub registry: Channel,
    /// Obtains from the sign-in authority short-lived tokens that act for
    /// the calling person, so the registry audits a phone read under the
    /// supervisor's own name (supervision signs nothing itself).
    pub exchange: Arc<TokenExchange>,
    /// Where "now" comes from: due dates, overdue marks, answers' times.
    pub clock: Clock,
}
