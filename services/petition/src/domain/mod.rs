//! Pure rules of the petition bridge.
pub mod clock;
pub mod inbound;
