//! The daily digest (每日待办): once per Beijing day, after the configured
//! hour, each person with items due soon or overdue gets one message listing them.
use chrono::{DateTime, NaiveDate, Timelike, Utc};

use super::{beijing, show_time, template::Vars};

/// One line of a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestItem {
    /// `overdue` or `due_soon`.
    pub status: String,
    pub title: String,
    pub deadline: Option<DateTime<Utc>>,
}

/// The Beijing date whose digest is due at `now`, once `hour` has passed.
pub fn due_date(now: DateTime<Utc>, hour: u32) -> Option<NaiveDate> {
    let local = now.with_timezone(&beijing());
    (local.hour() >= hour).then(|| local.date_naive())
}

/// The digest template's variables: counts and the list, overdue first.
pub fn vars(items: &[DigestItem]) -> Vars {
    let mut sorted: Vec<&DigestItem> = items.iter().collect();
    sorted.sort_by_key(|i| (i.status != "overdue", i.deadline));
    let overdue = items.iter().filter(|i| i.status == "overdue").count();
    let lines: Vec<String> = sorted
        .iter()
        .map(|i| {
            let tag = if i.status == "overdue" {
                "超期"
            } else {
                "将到期"
            };
            let due = i.deadline.map(show_time).unwrap_or_else(|| "未定".into());
            format!("· [{tag}] {}（时限 {due}）", i.title)
        })
        .collect();
    [
        ("count", items.len().to_string()),
        ("overdue_count", overdue.to_string()),
        ("due_soon_count", (items.len() - overdue).to_string()),
        ("items", lines.join("\n")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn due_only_after_the_hour_in_beijing() {
        // 23:30 UTC on the 28th is 07:30 on the 29th in Beijing.
        let early = Utc
            .with_ymd_and_hms(2026, 11, 28, 23, 30, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(due_date(early, 8), None);
        let later = Utc
            .with_ymd_and_hms(2026, 11, 29, 0, 30, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(due_date(later, 8), NaiveDate::from_ymd_opt(2026, 11, 29));
    }

    #[test]
    fn lists_overdue_first_with_counts() {
        let at = Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).single();
        let v = vars(&[
            DigestItem {
                status: "due_soon".into(),
                title: "路灯".into(),
                deadline: at,
            },
            DigestItem {
                status: "overdue".into(),
                title: "道路".into(),
                deadline: at,
            },
        ]);
        assert_eq!(v.get("count").map(String::as_str), Some("2"));
        assert_eq!(v.get("overdue_count").map(String::as_str), Some("1"));
        let items = v.get("items").cloned().unwrap_or_default();
        assert!(
            items.starts_with("· [超期] 道路（时限 2026-11-29 10:00）"),
            "{items}"
        );
    }
}
