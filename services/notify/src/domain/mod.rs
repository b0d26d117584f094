//! Pure rules of the notification service, free of I/O.
pub mod digest;
pub mod ladder;
pub mod quiet;
pub mod rules;
pub mod template;

// Quiet hours, digests and the dates in messages are read in Beijing time;
// a time in a message is shown to the minute (`2026-11-29 08:00`).
pub use zoufang_types::beijing::{minute as show_time, offset as beijing};
