//! The Chinese text skeleton of a campaign summary, modelled on the seeds'
//! summaries ("共走访群众420户 … 当即解决36条 … 化解矛盾纠纷23起，涉及43户"):
//! every sentence carries the system's figures; what only people know
//! (how the campaign was organised, typical cases) is left for the writer.
use super::{
    Block, callback_rate, category_table, date_zh, datetime_zh, detail_table, pct, ranking_table,
    reach_rate, svg,
};
use zoufang_types::Fen;

use crate::desk::report::figures::{Figures, Level, Ranked, Summary};

/// The blocks of a summary; with `ranking`, the county leadership view.
pub fn document(s: &Summary, ranking: Option<&[Ranked]>) -> Vec<Block> {
    let t = &s.totals;
    let unit = s.row_level.label_zh();
    let mut out = vec![
        Block::Title(match ranking {
            Some(_) => format!("{}“大走访”活动情况汇总（各乡镇排名）", s.region_name),
            None => format!("{}“大走访”活动总结", s.region_name),
        }),
        Block::Meta(format!(
            "活动：{}　时间：{}至{}　数据截至：{}",
            s.campaign.name,
            date_zh(&s.campaign.starts_at),
            date_zh(&s.campaign.ends_at),
            datetime_zh(&s.generated_at)
        )),
        Block::Para(intro(s)),
        Block::Heading("一、走访开展情况".into()),
        Block::Para(visits_text(t)),
        Block::Heading("二、帮扶慰问情况".into()),
        Block::Para(help_text(t)),
        Block::Heading("三、民情台账建立情况".into()),
        Block::Para(ledger_text(t)),
        Block::Para(disposal_text(t)),
        Block::Para(format!(
            "化解矛盾纠纷{}起，涉及{}户群众。",
            t.ledger.disputes_mediated, t.ledger.dispute_households
        )),
    ];
    if !t.ledger.by_category.is_empty() {
        out.push(Block::Table(category_table(&t.ledger)));
    }
    out.push(Block::Chart {
        title: "民情台账办理情况".into(),
        svg: svg::funnel(&funnel_stages(t)),
    });
    out.push(Block::Heading("四、督查回访情况".into()));
    out.push(Block::Para(callbacks_text(t)));
    out.push(Block::Heading(format!(
        "五、各{}情况",
        unit.trim_end_matches("（社区）")
    )));
    out.push(Block::Table(detail_table(s)));
    let bars: Vec<(String, i32)> = s
        .rows
        .iter()
        .map(|r| (r.name.clone(), r.figures.visits.coverage_bp))
        .collect();
    out.push(Block::Chart {
        title: format!("各{}走访覆盖率", unit.trim_end_matches("（社区）")),
        svg: svg::coverage_bars(&bars, t.visits.coverage_bp),
    });
    let mut next = "六";
    if let Some(ranked) = ranking {
        out.push(Block::Heading("六、各乡镇排名".into()));
        out.push(Block::Para(
            "覆盖率排名按已走访户数占登记户数的比例从高到低；办结率排名按已办结（已解决、已核实、已解释说明）诉求占收集诉求的比例从高到低；数值相同的并列，未收集到诉求的乡镇排在最后。".into(),
        ));
        out.push(Block::Table(ranking_table(ranked)));
        next = "七";
    }
    out.push(Block::Heading(format!("{next}、存在的问题和下一步打算")));
    out.push(Block::Para(
        "（以下由系统根据数据列出，供撰写时参考。）".into(),
    ));
    for line in problems(s) {
        out.push(Block::Para(line));
    }
    out
}

fn intro(s: &Summary) -> String {
    let themes = if s.campaign.themes.is_empty() {
        String::new()
    } else {
        format!("以“{}”为主题的", s.campaign.themes.join("、"))
    };
    let scope = match s.level {
        Level::County => format!("全县{}个乡镇", s.rows.len()),
        Level::Township => format!(
            "全{}{}个村（社区）",
            township_word(&s.region_name),
            s.rows.len()
        ),
        Level::Village => s.region_name.clone(),
    };
    format!(
        "根据“{}”的部署，{}于{}至{}开展了{}“大走访”活动，组织干部深入{}进村入户、走访群众。现将活动开展情况总结如下：",
        s.campaign.name,
        s.region_name,
        date_zh(&s.campaign.starts_at),
        date_zh(&s.campaign.ends_at),
        themes,
        scope
    )
}

/// 镇, 乡 or 街道, from the township's name.
fn township_word(name: &str) -> &'static str {
    if name.ends_with('乡') {
        "乡"
    } else if name.ends_with("街道") {
        "街道"
    } else {
        "镇"
    }
}

fn visits_text(f: &Figures) -> String {
    let v = &f.visits;
    let modes: Vec<String> = v
        .by_mode
        .iter()
        .filter(|m| m.visits > 0)
        .map(|m| format!("{}{}次", m.label, m.visits))
        .collect();
    let mut s = format!(
        "本次活动共走访群众{}户，占登记户数{}户的{}（覆盖率）；累计走访{}次",
        v.households_visited,
        v.households_total,
        pct(v.coverage_bp),
        v.visits
    );
    if !modes.is_empty() {
        s.push_str(&format!("，其中{}", modes.join("、")));
    }
    s.push_str(&format!(
        "。干部在农户家中住宿{}晚。走访中群众当面反映诉求{}件，当场解决{}件。",
        v.overnight_stays, v.items_raised_on_visits, v.items_resolved_on_spot_on_visits
    ));
    if v.disputed_visits > 0 {
        s.push_str(&format!(
            "另有{}次走访经回访群众否认，未计入以上数字。",
            v.disputed_visits
        ));
    }
    s
}

fn help_text(f: &Figures) -> String {
    let h = &f.help;
    let mut s = format!(
        "共帮扶慰问群众{}户，其中困难群众（低保、特困、五保、脱贫户等）{}户；发放慰问金{}元，送去物资折合{}元，合计{}元。",
        h.households_helped,
        h.poor_households_helped,
        Fen(h.cash_fen).yuan(),
        Fen(h.goods_value_fen).yuan(),
        Fen(h.total_fen).yuan()
    );
    if f.materials.total > 0 {
        let names: Vec<String> = f
            .materials
            .by_name
            .iter()
            .map(|m| format!("《{}》{}份", m.name, m.quantity))
            .collect();
        s.push_str(&format!(
            "为群众送去各类资料{}份，其中{}。",
            f.materials.total,
            names.join("、")
        ));
    } else {
        s.push_str("本次活动未登记发放资料。");
    }
    s
}

fn ledger_text(f: &Figures) -> String {
    let l = &f.ledger;
    let mut s = format!(
        "在走访过程中，共梳理群众反映的问题和建议{}件，其中问题{}件、意见建议{}条、矛盾纠纷{}起、信访事项{}件。",
        l.collected, l.problems, l.suggestions, l.disputes, l.petitions
    );
    if !l.by_category.is_empty() {
        let cats: Vec<String> = l
            .by_category
            .iter()
            .map(|c| format!("{}{}件", c.category, c.count))
            .collect();
        s.push_str(&format!("按类别分，{}。", cats.join("、")));
    }
    s
}

fn disposal_text(f: &Figures) -> String {
    let l = &f.ledger;
    let mut s = format!(
        "对梳理出的问题，能办的马上办，当即解决{}件；不能当场解决的明确责任人和时限，限时解决{}件",
        l.resolved_on_spot, l.resolved_in_time
    );
    if l.resolved_late > 0 {
        s.push_str(&format!("，逾期办结{}件", l.resolved_late));
    }
    s.push_str(&format!(
        "；上报上级部门{}件，解释说明{}件。目前已办结{}件，办结率{}；尚在办理{}件",
        l.escalated,
        l.explained,
        l.closed,
        l.resolution_rate_bp.map(pct).unwrap_or_else(|| "—".into()),
        l.open
    ));
    if l.overdue > 0 {
        s.push_str(&format!("，其中超期{}件", l.overdue));
    }
    s.push_str(&format!("。经督查回访核实{}件", l.verified));
    if l.reopened > 0 {
        s.push_str(&format!("，因群众不满意重新办理{}件", l.reopened));
    }
    s.push('。');
    s
}

fn callbacks_text(f: &Figures) -> String {
    let c = &f.callbacks;
    if c.callbacks == 0 {
        return "督查组尚未安排回访。".into();
    }
    let rate = |base: i64, bp: u32| {
        callback_rate(base, bp)
            .map(pct)
            .unwrap_or_else(|| "—".into())
    };
    let mut s = format!(
        "督查组采取电话、上门等方式开展回访，共安排回访{}件，已完成{}件，联系成功率{}，群众满意率（满意和基本满意）{}",
        c.callbacks,
        c.done,
        reach_rate(c).map(pct).unwrap_or_else(|| "—".into()),
        rate(c.done, c.satisfaction_rate_bp)
    );
    if c.visits_checked > 0 {
        s.push_str(&format!(
            "；核实走访真实性{}户次，核实率{}",
            c.visits_checked,
            rate(c.visits_checked, c.visit_confirmation_rate_bp)
        ));
        if c.visits_not_confirmed > 0 {
            s.push_str(&format!("，未能核实{}次", c.visits_not_confirmed));
        }
    }
    s.push('。');
    s
}

/// Collected → closed → verified, the ledger's funnel.
pub fn funnel_stages(f: &Figures) -> Vec<(String, i64)> {
    let l = &f.ledger;
    vec![
        ("收集诉求".into(), l.collected),
        ("已办结".into(), l.closed),
        (
            "当即/限时解决".into(),
            l.resolved_on_spot + l.resolved_in_time,
        ),
        ("回访核实".into(), l.verified),
    ]
}

/// Shortfalls the data shows, one sentence each.
fn problems(s: &Summary) -> Vec<String> {
    let t = &s.totals;
    let mut out = Vec::new();
    let unvisited = t.visits.households_total - t.visits.households_visited;
    if unvisited > 0 {
        let mut line = format!("尚有{unvisited}户群众未走访到");
        if let Some(low) = s
            .rows
            .iter()
            .filter(|r| r.figures.visits.households_total > 0)
            .min_by_key(|r| (r.figures.visits.coverage_bp, r.code.clone()))
        {
            line.push_str(&format!(
                "，覆盖率最低的是{}（{}）",
                low.name,
                pct(low.figures.visits.coverage_bp)
            ));
        }
        line.push_str("，下一步要补齐走访，做到应访尽访。");
        out.push(line);
    }
    let idle: Vec<&str> = s
        .rows
        .iter()
        .filter(|r| r.figures.visits.households_total > 0 && r.figures.visits.visits == 0)
        .map(|r| r.name.as_str())
        .collect();
    if !idle.is_empty() {
        out.push(format!("{}尚无走访记录。", idle.join("、")));
    }
    if t.ledger.open > 0 {
        let mut line = format!("尚有{}件群众诉求正在办理", t.ledger.open);
        if t.ledger.overdue > 0 {
            line.push_str(&format!("，其中{}件已超过办理时限", t.ledger.overdue));
        }
        line.push_str("，要明确时限、跟踪督办，做到件件有着落。");
        out.push(line);
    }
    if t.ledger.reopened > 0 {
        out.push(format!(
            "有{}件诉求因群众不满意重新办理，要查找原因、整改到位。",
            t.ledger.reopened
        ));
    }
    let mut doubtful = Vec::new();
    if t.callbacks.visits_not_confirmed > 0 {
        doubtful.push(format!(
            "{}次走访未能核实",
            t.callbacks.visits_not_confirmed
        ));
    }
    if t.visits.disputed_visits > 0 {
        doubtful.push(format!("{}次走访被群众否认", t.visits.disputed_visits));
    }
    if !doubtful.is_empty() {
        out.push(format!(
            "回访中有{}，要加强民情日记记录的规范性和真实性。",
            doubtful.join("、")
        ));
    }
    if out.is_empty() {
        out.push("各项工作按计划推进，未发现突出问题。".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::report::figures::{
        CampaignInfo, CategoryCount, Ledger, ModeVisits, Row, Visits,
    };

    fn summary() -> Summary {
        let totals = Figures {
            visits: Visits {
                households_total: 500,
                households_visited: 420,
                coverage_bp: 8400,
                visits: 450,
                by_mode: vec![
                    ModeVisits {
                        mode: "door_to_door",
                        label: "入户走访",
                        visits: 440,
                    },
                    ModeVisits {
                        mode: "phone",
                        label: "电话走访",
                        visits: 0,
                    },
                    ModeVisits {
                        mode: "live_in",
                        label: "同吃同住",
                        visits: 10,
                    },
                ],
                overnight_stays: 10,
                ..Default::default()
            },
            ledger: Ledger {
                collected: 120,
                suggestions: 80,
                problems: 40,
                resolved_on_spot: 36,
                disputes_mediated: 23,
                dispute_households: 43,
                open: 4,
                overdue: 1,
                closed: 116,
                resolution_rate_bp: Some(9666),
                by_category: vec![CategoryCount {
                    category: "民生工程".into(),
                    count: 120,
                }],
                ..Default::default()
            },
            ..Default::default()
        };
        let row = |code: &str, name: &str, total, visited, bp| Row {
            code: code.into(),
            name: name.into(),
            figures: Figures {
                visits: Visits {
                    households_total: total,
                    households_visited: visited,
                    coverage_bp: bp,
                    ..Default::default()
                },
                ..Default::default()
            },
        };
        Summary {
            region_code: "430426104000".into(),
            region_name: "白鹤铺镇".into(),
            level: Level::Township,
            campaign: CampaignInfo {
                campaign_id: "c".into(),
                name: "万名干部下乡进村入户大走访".into(),
                region_code: "430426104000".into(),
                starts_at: "2026-03-06T00:00:00+08:00".into(),
                ends_at: "2026-04-20T00:00:00+08:00".into(),
                themes: vec!["信访维稳".into(), "民生工程".into()],
                status: "active",
            },
            generated_at: "2026-04-01T02:00:00Z".into(),
            totals,
            row_level: Level::Village,
            rows: vec![
                row("430426104201", "黄龙村", 300, 300, 10_000),
                row("430426104202", "肖家村", 200, 120, 6000),
            ],
        }
    }

    fn text(blocks: &[Block]) -> String {
        blocks
            .iter()
            .filter_map(|b| match b {
                Block::Para(p) | Block::Title(p) | Block::Meta(p) | Block::Heading(p) => {
                    Some(p.as_str())
                }
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_skeleton_tells_the_seeds_figures() {
        let doc = document(&summary(), None);
        let t = text(&doc);
        for want in [
            "白鹤铺镇“大走访”活动总结",
            "2026年3月6日至2026年4月20日",
            "以“信访维稳、民生工程”为主题",
            "全镇2个村（社区）",
            "共走访群众420户，占登记户数500户的84.0%",
            "其中入户走访440次、同吃同住10次",
            "住宿10晚",
            "问题40件、意见建议80条",
            "当即解决36件",
            "化解矛盾纠纷23起，涉及43户群众",
            "办结率96.7%",
            "其中超期1件",
            "尚有80户群众未走访到，覆盖率最低的是肖家村（60.0%）",
            "督查组尚未安排回访",
        ] {
            assert!(t.contains(want), "missing {want:?} in\n{t}");
        }
        assert!(!t.contains("电话走访0次"), "modes never used are left out");
        assert_eq!(
            doc.iter()
                .filter(|b| matches!(b, Block::Chart { .. }))
                .count(),
            2
        );
    }

    #[test]
    fn the_county_view_explains_its_ranking() {
        let ranked = crate::desk::report::figures::rank(&summary().rows);
        let t = text(&document(&summary(), Some(&ranked)));
        assert!(t.contains("六、各乡镇排名"));
        assert!(t.contains("七、存在的问题和下一步打算"));
        assert!(t.contains("并列"));
    }
}
