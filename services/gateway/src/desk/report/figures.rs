//! The figures of a campaign summary (活动总结) and the county ranking, as
//! plain data built by pure functions from what the three services answer:
//! the registry's region progress (visits, coverage, help, materials), the
//! ledger's statistics (items and how they ended) and supervision's callback
//! totals. Counts stay integers, money stays in fen and rates in basis
//! points (10000 = 100%), so the JSON is exact; rendering formats them.
use serde::Serialize;
use zoufang_proto::{
    common::v1::VisitMode,
    issues::v1::GetIssueStatisticsResponse,
    registry::v1::{Campaign, CampaignStatus, RegionProgress},
    supervision::v1::CallbackTotals,
};
use zoufang_types::{RegionCode, RegionLevel, labels};

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

/// Visits made and how many households they reached (走访开展情况).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Visits {
    pub households_total: i64,
    pub households_visited: i64,
    /// Households visited / registered, basis points, truncated (the registry's figure).
    pub coverage_bp: i32,
    pub visits: i64,
    /// Every mode, in a fixed order, zeros included.
    pub by_mode: Vec<ModeVisits>,
    /// Nights cadres stayed in households (住宿).
    pub overnight_stays: i64,
    /// Visits the resident denied on callback; counted nowhere else.
    pub disputed_visits: i64,
    /// Items residents raised on these visits (the ledger also has walk-ins and hotlines).
    pub items_raised_on_visits: i64,
    pub items_resolved_on_spot_on_visits: i64,
}

/// Visits of one mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModeVisits {
    /// door_to_door, phone, reception, case_visit, live_in (other for unknown values).
    pub mode: &'static str,
    pub label: &'static str,
    pub visits: i64,
}

/// Help given (帮扶慰问), in fen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Help {
    pub households_helped: i64,
    /// Of those, households tagged poor (低保, 特困, 五保, 脱贫户 …).
    pub poor_households_helped: i64,
    pub cash_fen: i64,
    pub goods_value_fen: i64,
    pub total_fen: i64,
}

/// Materials handed out (送资料).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Materials {
    pub total: i64,
    /// Most handed out first.
    pub by_name: Vec<Material>,
}

/// One material and how many were handed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Material {
    pub name: String,
    pub quantity: i64,
}

/// The ledger (民情台账): what was collected and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ledger {
    /// Every item collected (duplicates merged away), from visits, reception and hotlines.
    pub collected: i64,
    pub problems: i64,
    pub suggestions: i64,
    pub disputes: i64,
    pub petitions: i64,
    /// 当即解决.
    pub resolved_on_spot: i64,
    /// 限时解决, by the deadline.
    pub resolved_in_time: i64,
    pub resolved_late: i64,
    /// 上报 (ever escalated to a department).
    pub escalated: i64,
    /// 解释说明.
    pub explained: i64,
    /// Still being handled, and of those past their deadline.
    pub open: i64,
    pub overdue: i64,
    /// Resolved, verified or explained: collected − open.
    pub closed: i64,
    /// 办结率: closed / collected, basis points truncated; None when nothing was collected.
    pub resolution_rate_bp: Option<i32>,
    /// Reopened after an unsatisfied callback.
    pub reopened: i64,
    /// Confirmed by a supervisor's callback (回访核实).
    pub verified: i64,
    /// 化解矛盾纠纷 … 起，涉及 … 户.
    pub disputes_mediated: i64,
    pub dispute_households: i64,
    /// Items per category, most first.
    pub by_category: Vec<CategoryCount>,
}

/// Items of one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryCount {
    pub category: String,
    pub count: i64,
}

/// Supervision callbacks (督查回访).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Callbacks {
    pub callbacks: i64,
    pub done: i64,
    pub unreachable: i64,
    pub open: i64,
    pub overdue: i64,
    pub reach_rate_bp: u32,
    /// 满意 + 基本满意 among answered item callbacks.
    pub satisfaction_rate_bp: u32,
    pub visit_confirmation_rate_bp: u32,
    pub visits_checked: i64,
    pub visits_not_confirmed: i64,
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

/// A township's place in the county view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub code: String,
    pub name: String,
    pub coverage_bp: i32,
    /// 1 = highest coverage; equal coverage shares a rank (1, 2, 2, 4).
    pub coverage_rank: u32,
    pub resolution_rate_bp: Option<i32>,
    /// 1 = highest 办结率; equal rates share a rank; townships that collected
    /// nothing have no rate and share the rank after every one that has.
    pub resolution_rank: u32,
}

/// The county leadership view: the county summary with one row per
/// township, and each township's ranks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountyView {
    #[serde(flatten)]
    pub summary: Summary,
    /// By coverage rank, then resolution rank, then code.
    pub ranking: Vec<Ranked>,
}

/// `num / den` in basis points, truncated; None when `den` is 0.
pub fn rate_bp(num: i64, den: i64) -> Option<i32> {
    if den <= 0 {
        return None;
    }
    let bp = i128::from(num.max(0)) * 10_000 / i128::from(den);
    Some(i32::try_from(bp.min(10_000)).unwrap_or(10_000))
}

const MODES: [(VisitMode, &str, &str); 5] = labels::VISIT_MODES;

/// The visit figures of a progress row.
pub fn visits_of(p: &RegionProgress) -> Visits {
    let mut by_mode: Vec<ModeVisits> = MODES
        .iter()
        .map(|(mode, key, label)| ModeVisits {
            mode: key,
            label,
            visits: p
                .visits_by_mode
                .iter()
                .filter(|m| m.mode == *mode as i32)
                .map(|m| m.visits)
                .sum(),
        })
        .collect();
    let other: i64 = p
        .visits_by_mode
        .iter()
        .filter(|m| !MODES.iter().any(|(mode, ..)| m.mode == *mode as i32))
        .map(|m| m.visits)
        .sum();
    if other > 0 {
        by_mode.push(ModeVisits {
            mode: "other",
            label: "其他方式",
            visits: other,
        });
    }
    Visits {
        households_total: p.households_total,
        households_visited: p.households_visited,
        coverage_bp: p.coverage_bp,
        visits: p.visits,
        by_mode,
        overnight_stays: p.overnight_stays,
        disputed_visits: p.disputed_visits,
        items_raised_on_visits: p.items_raised,
        items_resolved_on_spot_on_visits: p.items_resolved_on_spot,
    }
}

/// The help figures of a progress row.
pub fn help_of(p: &RegionProgress) -> Help {
    Help {
        households_helped: p.households_helped,
        poor_households_helped: p.poor_households_helped,
        cash_fen: p.help_cash_fen,
        goods_value_fen: p.help_goods_value_fen,
        total_fen: p.help_cash_fen + p.help_goods_value_fen,
    }
}

/// The materials of a progress row, most handed out first.
pub fn materials_of(p: &RegionProgress) -> Materials {
    let mut by_name: Vec<Material> = Vec::new();
    for m in &p.materials {
        match by_name.iter_mut().find(|x| x.name == m.name) {
            Some(x) => x.quantity += i64::from(m.quantity),
            None => by_name.push(Material {
                name: m.name.clone(),
                quantity: i64::from(m.quantity),
            }),
        }
    }
    by_name.sort_by(|a, b| {
        b.quantity
            .cmp(&a.quantity)
            .then_with(|| a.name.cmp(&b.name))
    });
    Materials {
        total: by_name.iter().map(|m| m.quantity).sum(),
        by_name,
    }
}

/// The ledger figures of a statistics answer.
pub fn ledger_of(s: &GetIssueStatisticsResponse) -> Ledger {
    let closed = (s.collected - s.open).max(0);
    Ledger {
        collected: s.collected,
        problems: s.problems,
        suggestions: s.suggestions,
        disputes: s.disputes,
        petitions: s.petitions,
        resolved_on_spot: s.resolved_on_spot,
        resolved_in_time: s.resolved_in_time,
        resolved_late: s.resolved_late,
        escalated: s.escalated,
        explained: s.explained,
        open: s.open,
        overdue: s.overdue,
        closed,
        resolution_rate_bp: rate_bp(closed, s.collected),
        reopened: s.reopened,
        verified: s.verified,
        disputes_mediated: s.disputes_mediated,
        dispute_households: s.dispute_households,
        by_category: s
            .by_category
            .iter()
            .map(|c| CategoryCount {
                category: c.category.clone(),
                count: c.count,
            })
            .collect(),
    }
}

/// The callback figures of supervision's totals.
pub fn callbacks_of(t: &CallbackTotals) -> Callbacks {
    Callbacks {
        callbacks: t.callbacks,
        done: t.done,
        unreachable: t.unreachable,
        open: t.open,
        overdue: t.overdue,
        reach_rate_bp: t.reach_rate_bp,
        satisfaction_rate_bp: t.satisfaction_rate_bp,
        visit_confirmation_rate_bp: t.visit_confirmation_rate_bp,
        visits_checked: t.visits_checked,
        visits_not_confirmed: t.visits_not_confirmed,
    }
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

/// Competition ranks (1, 2, 2, 4) of `values`, highest first; `None`
/// values rank after every `Some` and share that rank.
pub fn competition_ranks(values: &[Option<i32>]) -> Vec<u32> {
    values
        .iter()
        .map(|v| {
            let better = values.iter().filter(|o| better_than(**o, *v)).count();
            u32::try_from(better).unwrap_or(u32::MAX - 1) + 1
        })
        .collect()
}

fn better_than(a: Option<i32>, b: Option<i32>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Each row's ranks by coverage and by 办结率, ordered by coverage rank,
/// then resolution rank, then code.
pub fn rank(rows: &[Row]) -> Vec<Ranked> {
    let coverage: Vec<Option<i32>> = rows
        .iter()
        .map(|r| Some(r.figures.visits.coverage_bp))
        .collect();
    let resolution: Vec<Option<i32>> = rows
        .iter()
        .map(|r| r.figures.ledger.resolution_rate_bp)
        .collect();
    let by_coverage = competition_ranks(&coverage);
    let by_resolution = competition_ranks(&resolution);
    let mut ranked: Vec<Ranked> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| Ranked {
            code: r.code.clone(),
            name: r.name.clone(),
            coverage_bp: r.figures.visits.coverage_bp,
            coverage_rank: by_coverage[i],
            resolution_rate_bp: r.figures.ledger.resolution_rate_bp,
            resolution_rank: by_resolution[i],
        })
        .collect();
    ranked.sort_by(|a, b| {
        (a.coverage_rank, a.resolution_rank, &a.code).cmp(&(
            b.coverage_rank,
            b.resolution_rank,
            &b.code,
        ))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_proto::{
        common::v1::MaterialHandout, issues::v1::CategoryCount as Cat, registry::v1::ModeCount,
    };

    fn progress(key: &str, total: i64, visited: i64, coverage_bp: i32) -> RegionProgress {
        RegionProgress {
            key: key.into(),
            name: format!("{key}村"),
            households_total: total,
            households_visited: visited,
            coverage_bp,
            ..Default::default()
        }
    }

    fn row(code: &str, coverage_bp: i32, collected: i64, open: i64) -> Row {
        let a = Answers {
            progress: progress(code, 10, 0, coverage_bp),
            issues: GetIssueStatisticsResponse {
                collected,
                open,
                ..Default::default()
            },
            ..Default::default()
        };
        Row {
            code: code.into(),
            name: code.into(),
            figures: figures(&a),
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
    fn visits_list_every_mode_in_order_and_keep_unknown_ones() {
        let p = RegionProgress {
            visits: 9,
            visits_by_mode: vec![
                ModeCount {
                    mode: VisitMode::LiveIn as i32,
                    visits: 2,
                },
                ModeCount {
                    mode: VisitMode::DoorToDoor as i32,
                    visits: 6,
                },
                ModeCount {
                    mode: 42,
                    visits: 1,
                },
            ],
            overnight_stays: 2,
            ..progress("1", 20, 7, 3500)
        };
        let v = visits_of(&p);
        let got: Vec<(&str, i64)> = v.by_mode.iter().map(|m| (m.mode, m.visits)).collect();
        assert_eq!(
            got,
            vec![
                ("door_to_door", 6),
                ("phone", 0),
                ("reception", 0),
                ("case_visit", 0),
                ("live_in", 2),
                ("other", 1)
            ]
        );
        assert_eq!(
            (v.households_visited, v.coverage_bp, v.overnight_stays),
            (7, 3500, 2)
        );
    }

    #[test]
    fn help_adds_cash_and_goods_and_materials_merge_by_name() {
        let p = RegionProgress {
            households_helped: 3,
            poor_households_helped: 2,
            help_cash_fen: 30_000,
            help_goods_value_fen: 12_345,
            materials: vec![
                MaterialHandout {
                    name: "宣传资料".into(),
                    quantity: 5,
                },
                MaterialHandout {
                    name: "农技手册".into(),
                    quantity: 7,
                },
                MaterialHandout {
                    name: "宣传资料".into(),
                    quantity: 4,
                },
            ],
            ..Default::default()
        };
        let h = help_of(&p);
        assert_eq!(
            (h.households_helped, h.poor_households_helped, h.total_fen),
            (3, 2, 42_345)
        );
        let m = materials_of(&p);
        assert_eq!(m.total, 16);
        assert_eq!(
            m.by_name,
            vec![
                Material {
                    name: "宣传资料".into(),
                    quantity: 9
                },
                Material {
                    name: "农技手册".into(),
                    quantity: 7
                }
            ]
        );
    }

    #[test]
    fn ledger_closes_what_is_not_open() {
        let s = GetIssueStatisticsResponse {
            collected: 12,
            open: 3,
            resolved_on_spot: 5,
            disputes_mediated: 2,
            dispute_households: 5,
            by_category: vec![Cat {
                category: "民生工程".into(),
                count: 12,
            }],
            ..Default::default()
        };
        let l = ledger_of(&s);
        assert_eq!((l.closed, l.resolution_rate_bp), (9, Some(7500)));
        assert_eq!(l.by_category[0].category, "民生工程");
        let empty = ledger_of(&GetIssueStatisticsResponse::default());
        assert_eq!((empty.closed, empty.resolution_rate_bp), (0, None));
    }

    #[test]
    fn ranks_are_shared_on_ties_and_missing_rates_come_last() {
        assert_eq!(
            competition_ranks(&[Some(5), Some(9), Some(5), None, Some(1), None]),
            vec![2, 1, 2, 5, 4, 5]
        );
        let rows = vec![
            row("430426101000", 8000, 4, 1),  // coverage 2nd, 75%
            row("430426102000", 9500, 0, 0),  // coverage 1st, no items
            row("430426103000", 8000, 10, 0), // coverage 2nd, 100%
        ];
        let ranked = rank(&rows);
        let got: Vec<(&str, u32, u32)> = ranked
            .iter()
            .map(|r| (r.code.as_str(), r.coverage_rank, r.resolution_rank))
            .collect();
        assert_eq!(
            got,
            vec![
                ("430426102000", 1, 3),
                ("430426103000", 2, 1),
                ("430426101000", 2, 2)
            ]
        );
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
