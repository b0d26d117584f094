//! SMS quiet hours (免打扰时段): a non-urgent SMS that falls inside them is
//! held until they end. Windows are read in Beijing time and may wrap midnight.
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};

use super::beijing;

/// A daily window in minutes after Beijing midnight; `start == end` is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// First quiet minute.
    pub start_minute: u32,
    /// First minute after the quiet window.
    pub end_minute: u32,
}

impl Default for QuietHours {
    /// 22:00–07:00.
    fn default() -> Self {
        Self {
            start_minute: 22 * 60,
            end_minute: 7 * 60,
        }
    }
}

/// Minutes in a day.
pub const DAY_MINUTES: u32 = 24 * 60;

impl QuietHours {
    /// Whether `minute` (after midnight) lies in the window.
    pub fn contains(&self, minute: u32) -> bool {
        let (s, e) = (self.start_minute, self.end_minute);
        if s == e {
            false
        } else if s < e {
            (s..e).contains(&minute)
        } else {
            minute >= s || minute < e
        }
    }

    /// When an SMS created at `now` may go out: at once when urgent or
    /// outside the window, otherwise at the window's end.
    pub fn release_at(&self, now: DateTime<Utc>, urgent: bool) -> DateTime<Utc> {
        let local = now.with_timezone(&beijing());
        let minute = local.hour() * 60 + local.minute();
        if urgent || !self.contains(minute) {
            return now;
        }
        let end = NaiveTime::from_hms_opt(self.end_minute / 60, self.end_minute % 60, 0)
            .unwrap_or(NaiveTime::MIN);
        let mut date = local.date_naive();
        if minute >= self.end_minute {
            // Past today's end: the window runs into tomorrow.
            date += Duration::days(1);
        }
        beijing()
            .from_local_datetime(&date.and_time(end))
            .single()
            .map_or(now, |t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        beijing()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn an_sms_at_23_waits_until_7_next_morning() {
        let q = QuietHours::default();
        assert_eq!(
            q.release_at(bj(2026, 11, 29, 23, 0), false),
            bj(2026, 11, 30, 7, 0)
        );
    }

    #[test]
    fn an_sms_after_midnight_waits_until_7_the_same_day() {
        let q = QuietHours::default();
        assert_eq!(
            q.release_at(bj(2026, 11, 30, 3, 15), false),
            bj(2026, 11, 30, 7, 0)
        );
    }

    #[test]
    fn urgent_and_daytime_go_at_once() {
        let q = QuietHours::default();
        let night = bj(2026, 11, 29, 23, 0);
        assert_eq!(q.release_at(night, true), night);
        let day = bj(2026, 11, 29, 10, 0);
        assert_eq!(q.release_at(day, false), day);
        assert_eq!(
            q.release_at(bj(2026, 11, 30, 7, 0), false),
            bj(2026, 11, 30, 7, 0)
        );
    }

    #[test]
    fn a_window_inside_one_day_and_an_empty_one() {
        let q = QuietHours {
            start_minute: 12 * 60,
            end_minute: 14 * 60,
        };
        assert_eq!(
            q.release_at(bj(2026, 11, 29, 13, 0), false),
            bj(2026, 11, 29, 14, 0)
        );
        assert!(!q.contains(14 * 60));
        let none = QuietHours {
            start_minute: 0,
            end_minute: 0,
        };
        assert!(!none.contains(0) && !none.contains(23 * 60));
    }
}
