//! Beijing time (北京时间, UTC+8, no daylight saving): the clock every
//! township works by. Instants are stored in UTC; calendar days (a visit of
//! the 20th, a quota's week, a digest's morning, a statutory deadline's
//! date) and the times people read are Beijing time.
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone as _, Utc};

/// UTC+8.
pub fn offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// An instant on the Beijing clock.
pub fn local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&offset())
}

/// The Beijing calendar day of an instant: 23:30 UTC on the 19th is the 20th.
pub fn date_of(t: DateTime<Utc>) -> NaiveDate {
    local(t).date_naive()
}

/// A wall-clock time read in Beijing, as an instant.
pub fn from_local(t: NaiveDateTime) -> DateTime<Utc> {
    // A fixed offset has no gaps or folds: the mapping is always single.
    offset()
        .from_local_datetime(&t)
        .single()
        .expect("a fixed offset maps every local time")
        .with_timezone(&Utc)
}

/// Midnight at the start of a Beijing day, as an instant.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    from_local(day.and_time(chrono::NaiveTime::MIN))
}

/// `2026-10-08 09:30`, Beijing time: how messages and sheets show a time.
pub fn minute(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-10-08`, Beijing time.
pub fn date(t: DateTime<Utc>) -> String {
    date_of(t).format("%Y-%m-%d").to_string()
}

/// `09:30`, Beijing time.
pub fn clock(t: DateTime<Utc>) -> String {
    local(t).format("%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn late_utc_evening_is_the_next_beijing_day() {
        let t = utc("2026-10-19T23:30:00Z");
        assert_eq!(date_of(t), NaiveDate::from_ymd_opt(2026, 10, 20).unwrap());
        assert_eq!(minute(t), "2026-10-20 07:30");
        assert_eq!(date(t), "2026-10-20");
        assert_eq!(clock(t), "07:30");
    }

    #[test]
    fn a_beijing_day_starts_at_16_utc_the_day_before() {
        let day = NaiveDate::from_ymd_opt(2026, 10, 20).unwrap();
        assert_eq!(start_of(day), utc("2026-10-19T16:00:00Z"));
        assert_eq!(date_of(start_of(day)), day);
        assert_eq!(
            date_of(start_of(day) - chrono::Duration::seconds(1)),
            day.pred_opt().unwrap()
        );
    }
}
