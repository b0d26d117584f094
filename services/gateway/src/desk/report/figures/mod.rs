//! The figures of a campaign summary (活动总结) and the county ranking, as
//! plain data built by pure functions from what the three services answer:
//! the registry's region progress (visits, coverage, help, materials), the
//! ledger's statistics (items and how they ended) and supervision's callback
//! totals. Counts stay integers, money stays in fen and rates in basis
//! points (10000 = 100%), so the JSON is exact; rendering formats them.
//!
//! A module per section of the summary: [`visits`], [`help`] (help and
//! materials), [`ledger`], [`callbacks`]; the county view's [`ranking`].
use serde::Serialize;
use zoufang_proto::{
    issues::v1::GetIssueStatisticsResponse,
    registry::v1::{Campaign, CampaignStatus, RegionProgress},
    supervision::v1::CallbackTotals,
};
use zoufang_types::{RegionCode, RegionLevel};

mod callbacks;
mod help;
mod ledger;
mod ranking;
mod visits;

pub use callbacks::{Callbacks, callbacks_of};
pub use help::{Help, Material, Materials, help_of, materials_of};
pub use ledger::{CategoryCount, Ledger, ledger_of};
pub use ranking::{CountyView, Ranked, competition_ranks, rank};
pub use visits::{ModeVisits, Visits, visits_of};

/// The level of a report's region or of its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    County,
    Township,
    Village,
}

impl Level {
    /// The level of a region code, when it is one a report is made for.
    pub fn of(code: &RegionCode) -> Option<Self> {
        match code.level() {
            RegionLevel::County => Some(Self::County),
            RegionLevel::Township => Some(Self::Township),
            RegionLevel::Village => Some(Self::Village),
            _ => None,
        }
    }

    /// The level one below (the rows of a report).
    pub fn child(self) -> Option<Self> {
        match self {
            Self::County => Some(Self::Township),
            Self::Township => Some(Self::Village),
            Self::Village => None,
        }
    }

    /// How the summaries name a unit of this level.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::County => "县",
            Self::Township => "乡镇",
            Self::Village => "村（社区）",
        }
    }
}

/// The campaign a summary covers; its period is the summary's period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignInfo {
    pub campaign_id: String,
    pub name: String,
    pub region_code: String,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
    pub themes: Vec<String>,
    /// planned, active or closed.
    pub status: &'static str,
}

/// Every figure of one region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub visits: Visits,
    pub help: Help,
    pub materials: Materials,
    pub ledger: Ledger,
    pub callbacks: Callbacks,
}

/// One row of the table: a village of a township, or a township of a county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// 12-digit code.
    pub code: String,
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A campaign summary of a township or a county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub region_code: String,
    pub region_name: String,
    pub level: Level,
    pub campaign: CampaignInfo,
    /// RFC 3339: the figures are as of this moment.
    pub generated_at: String,
    #[serde(flatten)]
    pub totals: Figures,
    /// The level of the rows (village for a township, township for a county).
    pub row_level: Level,
    pub rows: Vec<Row>,
}

/// `num / den` in basis points, truncated; None when `den` is 0.
pub fn rate_bp(num: i64, den: i64) -> Option<i32> {
    if den <= 0 {
        return None;
    }
    let bp = i128::from(num.max(0)) * 10_000 / i128::from(den);
    Some(i32::try_from(bp.min(10_000)).unwrap_or(10_000))
}

/// What the three services said about one region.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub progress: RegionProgress,
    pub issues: GetIssueStatisticsResponse,
    pub callbacks: CallbackTotals,
}

/// Every figure of one region.
pub fn figures(a: &Answers) -> Figures {
    Figures {
        visits: visits_of(&a.progress),
        help: help_of(&a.progress),
        materials: materials_of(&a.progress),
        ledger: ledger_of(&a.issues),
        callbacks: callbacks_of(&a.callbacks),
    }
}

/// The campaign as a summary shows it.
pub fn campaign_info(c: &Campaign) -> CampaignInfo {
    let time = |t: &Option<prost_types::Timestamp>| {
        t.as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    };
    CampaignInfo {
        campaign_id: c.campaign_id.clone(),
        name: c.name.clone(),
        region_code: c.region_code.clone(),
        starts_at: time(&c.starts_at),
        ends_at: time(&c.ends_at),
        themes: c.themes.clone(),
        status: match CampaignStatus::try_from(c.status) {
            Ok(CampaignStatus::Planned) => "planned",
            Ok(CampaignStatus::Active) => "active",
            Ok(CampaignStatus::Closed) => "closed",
            _ => "unspecified",
        },
    }
}

/// A summary from the answers about the region (`total`) and each child.
pub fn summarize(
    code: &RegionCode,
    level: Level,
    campaign: &Campaign,
    total: &Answers,
    children: &[Answers],
    generated_at: chrono::DateTime<chrono::Utc>,
) -> Summary {
    Summary {
        region_code: code.as_str().to_owned(),
        region_name: total.progress.name.clone(),
        level,
        campaign: campaign_info(campaign),
        generated_at: generated_at.to_rfc3339(),
        totals: figures(total),
        row_level: level.child().unwrap_or(level),
        rows: children
            .iter()
            .map(|c| Row {
                code: c.progress.key.clone(),
                name: c.progress.name.clone(),
                figures: figures(c),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn progress(
        key: &str,
        total: i64,
        visited: i64,
        coverage_bp: i32,
    ) -> RegionProgress {
        RegionProgress {
            key: key.into(),
            name: format!("{key}村"),
            households_total: total,
            households_visited: visited,
            coverage_bp,
            ..Default::default()
        }
    }

    #[test]
    fn rates_truncate_and_have_no_value_without_a_base() {
        assert_eq!(rate_bp(2, 3), Some(6666));
        assert_eq!(rate_bp(3, 3), Some(10_000));
        assert_eq!(rate_bp(0, 5), Some(0));
        assert_eq!(rate_bp(1, 0), None);
        assert_eq!(rate_bp(i64::MAX, i64::MAX), Some(10_000));
    }

    #[test]
    fn a_summary_has_the_totals_and_a_row_per_child() {
        let campaign = Campaign {
            campaign_id: "c".into(),
            name: "白鹤铺镇大走访".into(),
            region_code: "430426104000".into(),
            starts_at: Some(prost_types::Timestamp {
                seconds: 1_772_755_200,
                nanos: 0,
            }),
            status: CampaignStatus::Active as i32,
            ..Default::default()
        };
        let code = RegionCode::parse("region_code", "430426104000").unwrap();
        let total = Answers {
            progress: RegionProgress {
                name: "白鹤铺镇".into(),
                ..progress("430426104000", 3, 2, 6666)
            },
            ..Default::default()
        };
        let children = vec![
            Answers {
                progress: progress("430426104201", 2, 2, 10_000),
                ..Default::default()
            },
            Answers {
                progress: progress("430426104202", 1, 0, 0),
                ..Default::default()
            },
        ];
        let s = summarize(
            &code,
            Level::Township,
            &campaign,
            &total,
            &children,
            chrono::Utc::now(),
        );
        assert_eq!(
            (s.region_name.as_str(), s.level, s.row_level),
            ("白鹤铺镇", Level::Township, Level::Village)
        );
        assert_eq!(s.campaign.starts_at, "2026-03-06T00:00:00+00:00");
        assert_eq!(s.campaign.status, "active");
        assert_eq!(s.totals.visits.coverage_bp, 6666);
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[1].figures.visits.households_total, 1);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["visits"]["households_visited"], 2);
        assert_eq!(json["rows"][0]["visits"]["coverage_bp"], 10_000);
    }
}
