//! Rendering a summary: a document model (headings, paragraphs, typed
//! tables, charts) built once in `text`, written out as Markdown, HTML with
//! SVG charts, or an XLSX workbook. Cells keep their type (count, fen,
//! basis points) so the workbook gets numbers and the text gets 元 with two
//! decimals and percentages with one.
pub mod html;
pub mod markdown;
pub mod svg;
pub mod text;
pub mod xlsx;

use chrono::{DateTime, FixedOffset};
use zoufang_types::{Fen, beijing};

use super::figures::{Callbacks, Figures, Ledger, Ranked, Summary};

/// A table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Count(i64),
    /// Money in fen, shown in 元.
    Fen(i64),
    /// A rate in basis points, shown as a percentage; None shows "—".
    Rate(Option<i32>),
}

impl Cell {
    /// The cell as text.
    pub fn show(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Fen(f) => Fen(*f).yuan(),
            Cell::Rate(r) => r.map(pct).unwrap_or_else(|| "—".into()),
        }
    }
}

/// A table: caption, header, rows and an optional total row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub total: Option<Vec<Cell>>,
}

/// One block of a rendered summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Title(String),
    /// A line under the title (period, campaign).
    Meta(String),
    Heading(String),
    Para(String),
    Table(Table),
    /// An SVG chart (HTML only; Markdown names it).
    Chart {
        title: String,
        svg: String,
    },
}

/// Basis points as a percentage with one decimal, rounded half up: 8575 → "85.8%".
pub fn pct(bp: i32) -> String {
    let tenths = (i64::from(bp) * 10 + if bp >= 0 { 50 } else { -50 }) / 100;
    let sign = if tenths < 0 { "-" } else { "" };
    let t = tenths.unsigned_abs();
    format!("{sign}{}.{}%", t / 10, t % 10)
}

/// An RFC 3339 time as a Beijing-time date: "2026年3月6日".
pub fn date_zh(rfc3339: &str) -> String {
    beijing(rfc3339)
        .map(|t| t.format("%Y年%-m月%-d日").to_string())
        .unwrap_or_else(|| "（未定）".into())
}

/// An RFC 3339 time as Beijing date and minute: "2026年3月6日 08:30".
pub fn datetime_zh(rfc3339: &str) -> String {
    beijing(rfc3339)
        .map(|t| t.format("%Y年%-m月%-d日 %H:%M").to_string())
        .unwrap_or_default()
}

fn beijing(rfc3339: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| beijing::local(t.with_timezone(&chrono::Utc)))
}

/// One headline figure: section, name, value, unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub section: &'static str,
    pub name: String,
    pub value: Cell,
    pub unit: &'static str,
}

/// The headline figures of a summary, in the order the text tells them.
pub fn indicators(f: &Figures) -> Vec<Indicator> {
    let mut out = Vec::new();
    let mut add = |section: &'static str, name: &str, value: Cell, unit: &'static str| {
        out.push(Indicator {
            section,
            name: name.to_owned(),
            value,
            unit,
        });
    };
    let v = &f.visits;
    add("走访", "登记户数", Cell::Count(v.households_total), "户");
    add(
        "走访",
        "已走访户数",
        Cell::Count(v.households_visited),
        "户",
    );
    add("走访", "覆盖率", Cell::Rate(Some(v.coverage_bp)), "");
    add("走访", "走访次数", Cell::Count(v.visits), "次");
    for m in &v.by_mode {
        add("走访", m.label, Cell::Count(m.visits), "次");
    }
    add("走访", "住宿农户家", Cell::Count(v.overnight_stays), "晚");
    add(
        "走访",
        "走访中反映诉求",
        Cell::Count(v.items_raised_on_visits),
        "件",
    );
    add(
        "走访",
        "回访否认的走访",
        Cell::Count(v.disputed_visits),
        "次",
    );
    let h = &f.help;
    add("帮扶", "帮扶户数", Cell::Count(h.households_helped), "户");
    add(
        "帮扶",
        "其中困难群众",
        Cell::Count(h.poor_households_helped),
        "户",
    );
    add("帮扶", "慰问金", Cell::Fen(h.cash_fen), "元");
    add("帮扶", "物资折价", Cell::Fen(h.goods_value_fen), "元");
    add("帮扶", "帮扶合计", Cell::Fen(h.total_fen), "元");
    add("帮扶", "发放资料", Cell::Count(f.materials.total), "份");
    for m in &f.materials.by_name {
        add(
            "帮扶",
            &format!("资料：{}", m.name),
            Cell::Count(m.quantity),
            "份",
        );
    }
    let l = &f.ledger;
    for (name, n, unit) in ledger_lines(l) {
        add("台账", name, Cell::Count(n), unit);
    }
    add("台账", "办结率", Cell::Rate(l.resolution_rate_bp), "");
    for c in &l.by_category {
        add(
            "台账",
            &format!("类别：{}", c.category),
            Cell::Count(c.count),
            "件",
        );
    }
    let c = &f.callbacks;
    add("回访", "安排回访", Cell::Count(c.callbacks), "件");
    add("回访", "完成回访", Cell::Count(c.done), "件");
    add("回访", "联系不上", Cell::Count(c.unreachable), "件");
    add("回访", "联系成功率", Cell::Rate(reach_rate(c)), "");
    add(
        "回访",
        "群众满意率",
        Cell::Rate(callback_rate(c.done, c.satisfaction_rate_bp)),
        "",
    );
    add("回访", "核实走访", Cell::Count(c.visits_checked), "户次");
    add(
        "回访",
        "走访核实率",
        Cell::Rate(callback_rate(
            c.visits_checked,
            c.visit_confirmation_rate_bp,
        )),
        "",
    );
    add(
        "回访",
        "未能核实的走访",
        Cell::Count(c.visits_not_confirmed),
        "次",
    );
    out
}

/// 联系成功率: supervision answers 0 both when no callback was attempted
/// and when every attempt failed; only the second is a real 0%.
pub fn reach_rate(c: &Callbacks) -> Option<i32> {
    let attempted = c.done > 0 || c.unreachable > 0 || c.reach_rate_bp > 0;
    callback_rate(i64::from(attempted), c.reach_rate_bp)
}

/// Supervision answers 0 for a rate with no base; shown as "—" then.
pub fn callback_rate(base: i64, bp: u32) -> Option<i32> {
    (base > 0).then(|| i32::try_from(bp).unwrap_or(10_000))
}

/// The ledger's counts with their names and units.
fn ledger_lines(l: &Ledger) -> [(&'static str, i64, &'static str); 17] {
    [
        ("收集诉求", l.collected, "件"),
        ("问题", l.problems, "件"),
        ("意见建议", l.suggestions, "条"),
        ("矛盾纠纷", l.disputes, "起"),
        ("信访事项", l.petitions, "件"),
        ("当即解决", l.resolved_on_spot, "件"),
        ("限时解决", l.resolved_in_time, "件"),
        ("逾期办结", l.resolved_late, "件"),
        ("上报", l.escalated, "件"),
        ("解释说明", l.explained, "件"),
        ("已办结", l.closed, "件"),
        ("办理中", l.open, "件"),
        ("超期未办结", l.overdue, "件"),
        ("回访核实", l.verified, "件"),
        ("重新办理", l.reopened, "件"),
        ("化解矛盾纠纷", l.disputes_mediated, "起"),
        ("纠纷涉及户数", l.dispute_households, "户"),
    ]
}

/// The per-village or per-township table, with a total row.
pub fn detail_table(s: &Summary) -> Table {
    let unit = s.row_level.label_zh();
    let header = [
        unit,
        "登记户数",
        "已走访户数",
        "覆盖率",
        "走访次数",
        "住宿（晚）",
        "帮扶户数",
        "其中困难群众",
        "帮扶金额（元）",
        "收集诉求",
        "当即解决",
        "限时解决",
        "上报",
        "解释说明",
        "化解纠纷",
        "办结率",
        "群众满意率",
    ]
    .iter()
    .map(|h| (*h).to_owned())
    .collect();
    let cells = |name: &str, f: &Figures| {
        vec![
            Cell::Text(name.to_owned()),
            Cell::Count(f.visits.households_total),
            Cell::Count(f.visits.households_visited),
            Cell::Rate(Some(f.visits.coverage_bp)),
            Cell::Count(f.visits.visits),
            Cell::Count(f.visits.overnight_stays),
            Cell::Count(f.help.households_helped),
            Cell::Count(f.help.poor_households_helped),
            Cell::Fen(f.help.total_fen),
            Cell::Count(f.ledger.collected),
            Cell::Count(f.ledger.resolved_on_spot),
            Cell::Count(f.ledger.resolved_in_time),
            Cell::Count(f.ledger.escalated),
            Cell::Count(f.ledger.explained),
            Cell::Count(f.ledger.disputes_mediated),
            Cell::Rate(f.ledger.resolution_rate_bp),
            Cell::Rate(callback_rate(
                f.callbacks.done,
                f.callbacks.satisfaction_rate_bp,
            )),
        ]
    };
    Table {
        caption: format!("分{}情况", unit.trim_end_matches("（社区）")),
        header,
        rows: s.rows.iter().map(|r| cells(&r.name, &r.figures)).collect(),
        total: Some(cells("合计", &s.totals)),
    }
}

/// Items per category.
pub fn category_table(l: &Ledger) -> Table {
    Table {
        caption: "诉求分类".into(),
        header: vec!["类别".into(), "件数".into(), "占比".into()],
        rows: l
            .by_category
            .iter()
            .map(|c| {
                vec![
                    Cell::Text(c.category.clone()),
                    Cell::Count(c.count),
                    Cell::Rate(super::figures::rate_bp(c.count, l.collected)),
                ]
            })
            .collect(),
        total: Some(vec![
            Cell::Text("合计".into()),
            Cell::Count(l.collected),
            Cell::Rate(super::figures::rate_bp(l.collected, l.collected)),
        ]),
    }
}

/// The townships' ranks.
pub fn ranking_table(ranked: &[Ranked]) -> Table {
    Table {
        caption: "各乡镇排名".into(),
        header: ["乡镇", "覆盖率", "覆盖率排名", "办结率", "办结率排名"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect(),
        rows: ranked
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.name.clone()),
                    Cell::Rate(Some(r.coverage_bp)),
                    Cell::Count(i64::from(r.coverage_rank)),
                    Cell::Rate(r.resolution_rate_bp),
                    Cell::Count(i64::from(r.resolution_rank)),
                ]
            })
            .collect(),
        total: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_cells_and_rates_format() {
        assert_eq!(Cell::Fen(0).show(), "0.00");
        assert_eq!(Cell::Fen(5).show(), "0.05");
        assert_eq!(Cell::Fen(6_000_000).show(), "60000.00");
        assert_eq!(Cell::Fen(12_345).show(), "123.45");
        assert_eq!(Cell::Fen(-150).show(), "-1.50");
        assert_eq!(pct(8571), "85.7%");
        assert_eq!(pct(8575), "85.8%");
        assert_eq!(pct(10_000), "100.0%");
        assert_eq!(pct(0), "0.0%");
        assert_eq!(pct(4), "0.0%");
        assert_eq!(pct(5), "0.1%");
        assert_eq!(Cell::Rate(None).show(), "—");
    }

    #[test]
    fn dates_are_beijing_time() {
        assert_eq!(date_zh("2026-03-05T16:30:00+00:00"), "2026年3月6日");
        assert_eq!(datetime_zh("2026-03-05T16:30:00Z"), "2026年3月6日 00:30");
        assert_eq!(date_zh(""), "（未定）");
    }

    #[test]
    fn callback_rates_without_a_base_show_nothing() {
        assert_eq!(callback_rate(0, 0), None);
        assert_eq!(callback_rate(4, 7500), Some(7500));
        let mut c = Callbacks {
            callbacks: 8,
            ..Default::default()
        };
        assert_eq!(reach_rate(&c), None, "nothing attempted yet");
        c.unreachable = 1;
        assert_eq!(reach_rate(&c), Some(0), "every attempt failed");
        c.done = 1;
        c.reach_rate_bp = 5000;
        assert_eq!(reach_rate(&c), Some(5000));
    }
}
