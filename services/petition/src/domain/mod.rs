//! Pure rules of the petition bridge.
pub mod batch;
pub mod change;
pub mod clock;
pub mod codes;
pub mod inbound;
