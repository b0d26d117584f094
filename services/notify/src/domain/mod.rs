//! Pure rules of the notification service, free of I/O.
pub mod digest;
pub mod ladder;
pub mod quiet;
pub mod rules;
pub mod template;

use chrono::{DateTime, FixedOffset, Utc};

/// Beijing time (UTC+8, no daylight saving): quiet hours, digests and the
/// dates in messages are read in it.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// A time as messages show it: `2026-11-29 08:00` Beijing time.
pub fn show_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}
