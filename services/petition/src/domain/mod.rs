//! Pure rules of the petition bridge.
pub mod clock;
