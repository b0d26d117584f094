//! The period an export covers and the Beijing clock everything is shown
//! in: townships file by the calendar day in China (UTC+8), so a visit at
//! 07:30 on the 20th Beijing time (23:30 UTC on the 19th) is a visit of the
//! 20th, both for the `from`/`to` filter and in the sheet.
use chrono::{DateTime, NaiveDate, Utc};
use prost_types::Timestamp;

use crate::door::ApiError;

/// A proto timestamp as chrono, if it is set and valid.
pub fn instant(ts: Option<&Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(zoufang_core::fields::to_chrono)
}

pub use zoufang_types::beijing::{clock, date, date_of, minute};

/// Inclusive Beijing calendar days; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Period {
    /// From the `from` and `to` query parameters (`YYYY-MM-DD`, empty = open).
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, ApiError> {
        let one = |field: &str, v: Option<&str>| -> Result<Option<NaiveDate>, ApiError> {
            match v.map(str::trim).unwrap_or_default() {
                "" => Ok(None),
                s => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| {
                        ApiError::invalid(field, format!("{s:?} is not a date as YYYY-MM-DD"))
                    }),
            }
        };
        let p = Self {
            from: one("from", from)?,
            to: one("to", to)?,
        };
        if let (Some(f), Some(t)) = (p.from, p.to)
            && f > t
        {
            return Err(ApiError::invalid("to", format!("{t} is before from {f}")));
        }
        Ok(p)
    }

    /// Whether neither end is set.
    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    /// Whether an instant falls on one of the period's Beijing days. A record
    /// without a time belongs only to an open period.
    pub fn contains(&self, t: Option<DateTime<Utc>>) -> bool {
        match t {
            None => self.is_open(),
            Some(t) => {
                let d = date_of(t);
                self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|to| d <= to)
            }
        }
    }

    /// `2026-10-01至2026-10-31`, `2026-10-01起`, `截至2026-10-31`, or `全部`.
    pub fn label(&self) -> String {
        match (self.from, self.to) {
            (Some(f), Some(t)) => format!("{f}至{t}"),
            (Some(f), None) => format!("{f}起"),
            (None, Some(t)) => format!("截至{t}"),
            (None, None) => "全部".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn days_are_beijing_days() {
        let late_utc = utc("2026-10-19T23:30:00Z");
        assert_eq!(date(late_utc), "2026-10-20");
        assert_eq!(clock(late_utc), "07:30");
        assert_eq!(minute(late_utc), "2026-10-20 07:30");
        let p = Period::parse(Some("2026-10-20"), Some("2026-10-20")).unwrap();
        assert!(p.contains(Some(late_utc)));
        assert!(p.contains(Some(utc("2026-10-20T15:59:59Z"))));
        assert!(
            !p.contains(Some(utc("2026-10-20T16:00:00Z"))),
            "00:00 on the 21st"
        );
        assert!(!p.contains(Some(utc("2026-10-19T15:59:59Z"))));
        assert!(!p.contains(None));
        assert!(Period::default().contains(None));
    }

    #[test]
    fn parsing_and_labels() {
        assert_eq!(Period::parse(None, Some(" ")).unwrap(), Period::default());
        let open_end = Period::parse(Some("2026-10-01"), None).unwrap();
        assert_eq!(open_end.label(), "2026-10-01起");
        assert!(open_end.contains(Some(utc("2099-01-01T00:00:00Z"))));
        assert_eq!(
            Period::parse(Some("2026-10-01"), Some("2026-10-31"))
                .unwrap()
                .label(),
            "2026-10-01至2026-10-31"
        );
        assert_eq!(
            Period::parse(None, Some("2026-10-31")).unwrap().label(),
            "截至2026-10-31"
        );
        assert_eq!(Period::default().label(), "全部");
        let e = Period::parse(Some("2026/10/01"), None).unwrap_err();
        assert_eq!(e.field_errors[0].field, "from");
        let e = Period::parse(Some("2026-10-02"), Some("2026-10-01")).unwrap_err();
        assert_eq!(e.field_errors[0].field, "to");
        // The extremes do not overflow.
        let wide = Period::parse(Some("0001-01-01"), Some("9999-12-31")).unwrap();
        assert!(wide.contains(Some(utc("2026-10-01T00:00:00Z"))));
    }
}
