//! All of the bridge's SQL, one module per table.
pub mod cases;
pub mod replies;
pub mod signatures;
pub mod sources;
