//! The supervision service's operations: authorization, validation, and the
//! transactions that change state and write events together.
pub mod callbacks;
pub mod setup;
pub mod tasks;
pub mod view;

/// What every operation needs.
#[derive(Debug, Clone)]
pub struct State {
    /// The service's database pool (search_path = supervision).
    pub pool: sqlx::PgPool,
}
