//! The two sheets a township files, as pure functions from the services'
//! records to rows of cells:
//!
//! - 大走访活动记录表: one row per visit — when, where, whose household,
//!   which cadres, how, the family's situation, the diary (民情日记), what
//!   was raised and what became of it on the spot, policies explained,
//!   materials handed out, help given (元, cash plus goods at their value)
//!   and remarks (a disputed visit, an incomplete record).
//! - 民情台账: one row per ledger item — registered when, where, whose,
//!   from which source, what, who answers for it and by when, its state,
//!   the result and the callback (回访).
//!
//! Dates and times are Beijing time. Money is kept in fen here and shown
//! in yuan by the writers.
use zoufang_proto::{
    issues::v1::{Disposition, Issue, IssueState, Priority},
    registry::v1::Visit,
};
use zoufang_types::Fen;

use super::{
    directory::Directory,
    period::{clock, date, date_of, instant},
};

/// One cell of a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// A count.
    Int(i64),
    /// Money in fen, shown as yuan with two decimals.
    Yuan(i64),
}

impl Cell {
    fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }

    fn blank() -> Self {
        Self::Text(String::new())
    }
}

/// The columns of the 大走访活动记录表, with their widths in Excel units.
pub const VISIT_COLUMNS: [(&str, f64); 23] = [
    ("序号", 6.0),
    ("走访日期", 11.0),
    ("起止时间", 12.0),
    ("乡镇", 10.0),
    ("村(社区)", 10.0),
    ("村民小组", 9.0),
    ("户主姓名", 9.0),
    ("家庭人口", 6.0),
    ("联系电话", 13.0),
    ("户类别", 12.0),
    ("走访干部", 12.0),
    ("走访方式", 9.0),
    ("是否住宿", 6.0),
    ("家庭情况", 24.0),
    ("民情日记", 40.0),
    ("群众诉求/反映问题", 36.0),
    ("处理情况", 28.0),
    ("政策宣传", 16.0),
    ("发放资料", 16.0),
    ("帮扶情况(元)", 10.0),
    ("帮扶明细", 20.0),
    ("照片(张)", 6.0),
    ("备注", 20.0),
];

/// The columns of the 民情台账.
pub const LEDGER_COLUMNS: [(&str, f64); 20] = [
    ("序号", 6.0),
    ("登记日期", 11.0),
    ("乡镇", 10.0),
    ("村(社区)", 10.0),
    ("户主姓名", 9.0),
    ("来源", 9.0),
    ("类型", 9.0),
    ("类别", 10.0),
    ("事项内容", 36.0),
    ("涉及户数", 6.0),
    ("紧急程度", 6.0),
    ("处置方式", 9.0),
    ("责任人", 9.0),
    ("责任单位", 16.0),
    ("办理时限", 11.0),
    ("办理状态", 9.0),
    ("办理结果", 30.0),
    ("办结日期", 11.0),
    ("回访情况", 20.0),
    ("备注", 16.0),
];

/// 走访方式, 类型 of a raised item and 来源 of a ledger item: the labels
/// every service uses.
pub use zoufang_types::labels::{
    issue_source as source_label, item_kind as kind_label, visit_mode as mode_label,
};

/// 紧急程度.
pub fn priority_label(priority: i32) -> &'static str {
    match Priority::try_from(priority).unwrap_or_default() {
        Priority::Normal => "一般",
        Priority::High => "较急",
        Priority::Urgent => "紧急",
        Priority::Unspecified => "",
    }
}

/// 处置方式.
pub fn disposition_label(disposition: i32) -> &'static str {
    match Disposition::try_from(disposition).unwrap_or_default() {
        Disposition::OnSpot => "当即解决",
        Disposition::TimeLimited => "限时解决",
        Disposition::Escalated => "上报",
        Disposition::Explained => "解释说明",
        Disposition::Unspecified => "",
    }
}

/// 办理状态.
pub fn state_label(state: i32) -> &'static str {
    match IssueState::try_from(state).unwrap_or_default() {
        IssueState::Open => "待交办",
        IssueState::Assigned => "已交办",
        IssueState::InProgress => "办理中",
        IssueState::Resolved => "已办结",
        IssueState::Verified => "已销号",
        IssueState::Explained => "已解释说明",
        IssueState::Escalated => "已上报",
        IssueState::Reopened => "重新办理",
        IssueState::Duplicate => "已合并",
        IssueState::Unspecified => "",
    }
}

/// A completeness gap, as the form's own words.
fn missing_label(field: &str) -> String {
    let plain = match field {
        "situation" => Some("家庭情况"),
        "narrative" => Some("民情日记"),
        "location" => Some("定位"),
        "photo_refs" => Some("照片"),
        "policies_explained" => Some("政策宣传"),
        "materials" => Some("发放资料"),
        "help.goods_description" => Some("帮扶物资说明"),
        _ => None,
    };
    if let Some(p) = plain {
        return p.to_owned();
    }
    let item = field
        .strip_prefix("items[")
        .and_then(|rest| rest.split_once("]."))
        .and_then(|(i, what)| Some((i.parse::<usize>().ok()? + 1, what)));
    match item {
        Some((n, "category")) => format!("第{n}条诉求类别"),
        Some((n, "resolution_note")) => format!("第{n}条诉求解决情况"),
        Some((n, "description")) => format!("第{n}条诉求内容"),
        _ => field.to_owned(),
    }
}

/// `09:30-10:45`; `23:00-10-09 01:00` when it ends on another day.
fn span(v: &Visit) -> String {
    match (instant(v.started_at.as_ref()), instant(v.ended_at.as_ref())) {
        (Some(s), Some(e)) if date_of(s) == date_of(e) => format!("{}-{}", clock(s), clock(e)),
        (Some(s), Some(e)) => format!("{}-{} {}", clock(s), date_of(e).format("%m-%d"), clock(e)),
        (Some(s), None) => clock(s),
        _ => String::new(),
    }
}

/// One row of the 大走访活动记录表.
pub fn visit_row(seq: usize, v: &Visit, d: &Directory) -> Vec<Cell> {
    let household = d.household(&v.household_id);
    let of = |f: fn(&super::directory::HouseholdInfo) -> String| {
        Cell::Text(household.map(f).unwrap_or_default())
    };
    let mut items = Vec::new();
    let mut handling = Vec::new();
    for it in &v.items {
        let mut line = format!(
            "{}.[{}·{}]{}",
            it.item_no,
            kind_label(it.kind),
            it.category.trim(),
            it.description.trim()
        );
        if it.households_involved > 0 {
            line.push_str(&format!("（涉及{}户）", it.households_involved));
        }
        if it.urgent {
            line.push_str("（紧急）");
        }
        items.push(line);
        handling.push(match (it.resolved_on_spot, it.resolution_note.trim()) {
            (true, "") => format!("{}.当即解决", it.item_no),
            (true, note) => format!("{}.当即解决：{note}", it.item_no),
            (false, _) => format!("{}.转民情台账办理", it.item_no),
        });
    }
    let materials: Vec<String> = v
        .materials
        .iter()
        .map(|m| format!("{}×{}", m.name.trim(), m.quantity))
        .collect();
    let help = v.help.clone().unwrap_or_default();
    let mut help_detail = Vec::new();
    if help.cash_fen > 0 {
        help_detail.push(format!("现金{}元", Fen(help.cash_fen).yuan()));
    }
    match (help.goods_description.trim(), help.goods_value_fen) {
        ("", 0) => {}
        ("", value) => help_detail.push(format!("物资（折合{}元）", Fen(value).yuan())),
        (goods, 0) => help_detail.push(goods.to_owned()),
        (goods, value) => help_detail.push(format!("{goods}（折合{}元）", Fen(value).yuan())),
    }
    let mut remarks = Vec::new();
    if v.disputed {
        remarks.push(match v.dispute_reason.trim() {
            "" => "回访存疑".to_owned(),
            reason => format!("回访存疑：{reason}"),
        });
    }
    if let Some(c) = &v.completeness
        && !c.complete
        && !c.missing_fields.is_empty()
    {
        let gaps: Vec<String> = c.missing_fields.iter().map(|f| missing_label(f)).collect();
        remarks.push(format!("记录不完整，缺：{}", gaps.join("、")));
    }
    let cadres: Vec<String> = v.cadre_ids.iter().map(|c| d.cadre(c)).collect();
    vec![
        Cell::Int(seq as i64),
        Cell::text(instant(v.started_at.as_ref()).map(date).unwrap_or_default()),
        Cell::text(span(v)),
        Cell::text(d.township_of(&v.village_code)),
        Cell::text(d.village_of(&v.village_code)),
        of(|h| h.group_name.clone()),
        of(|h| h.head_name.clone()),
        household.map_or_else(Cell::blank, |h| Cell::Int(i64::from(h.member_count))),
        of(|h| h.phone.clone()),
        of(|h| h.tags.join("、")),
        Cell::text(cadres.join("、")),
        Cell::text(mode_label(v.mode)),
        Cell::text(if v.overnight_stay { "是" } else { "否" }),
        Cell::text(v.situation.trim()),
        Cell::text(v.narrative.trim()),
        Cell::text(items.join("\n")),
        Cell::text(handling.join("\n")),
        Cell::text(v.policies_explained.join("、")),
        Cell::text(materials.join("；")),
        Cell::Yuan(help.cash_fen + help.goods_value_fen),
        Cell::text(help_detail.join("；")),
        Cell::Int(v.photo_refs.len() as i64),
        Cell::text(remarks.join("；")),
    ]
}

/// 回访情况, from what the callbacks did to the item: verified after a
/// satisfied callback, reopened after an unsatisfied one.
fn callback_label(i: &Issue) -> String {
    let again = match i.reopen_count {
        0 => String::new(),
        n => format!("回访不满意，已重新办理{n}次"),
    };
    match IssueState::try_from(i.state).unwrap_or_default() {
        IssueState::Verified => "已回访，群众认可".into(),
        IssueState::Resolved | IssueState::Explained if again.is_empty() => "待回访".into(),
        IssueState::Resolved | IssueState::Explained => format!("待回访（{again}）"),
        IssueState::Duplicate => String::new(),
        _ => again,
    }
}

/// One row of the 民情台账.
pub fn ledger_row(seq: usize, i: &Issue, d: &Directory) -> Vec<Cell> {
    let household = d.household(&i.household_id);
    let mut unit = i.department.trim().to_owned();
    if !i.assisting_departments.is_empty() {
        let assisting = i.assisting_departments.join("、");
        unit = match unit.as_str() {
            "" => format!("协办：{assisting}"),
            lead => format!("{lead}（协办：{assisting}）"),
        };
    }
    let mut result = Vec::new();
    if !i.resolution.trim().is_empty() {
        result.push(i.resolution.trim().to_owned());
    }
    if !i.explanation.trim().is_empty() {
        let mut e = format!("解释说明：{}", i.explanation.trim());
        if i.resident_acknowledged {
            e.push_str("（群众认可）");
        }
        result.push(e);
    }
    let mut remarks = Vec::new();
    if i.supervised {
        remarks.push("督办件".to_owned());
    }
    if i.rectification_round > 1 {
        remarks.push(format!("第{}轮整改", i.rectification_round));
    }
    match i.escalation_level {
        0 => {}
        1 => remarks.push("已上报县直部门".into()),
        _ => remarks.push("已上报县领导".into()),
    }
    if !i.merged_into.is_empty() {
        remarks.push("与其他事项合并办理".into());
    }
    let on =
        |ts: Option<&prost_types::Timestamp>| Cell::text(instant(ts).map(date).unwrap_or_default());
    vec![
        Cell::Int(seq as i64),
        on(i.created_at.as_ref()),
        Cell::text(d.township_of(&i.region_code)),
        Cell::text(d.village_of(&i.region_code)),
        Cell::text(household.map(|h| h.head_name.clone()).unwrap_or_default()),
        Cell::text(source_label(i.source)),
        Cell::text(kind_label(i.kind)),
        Cell::text(i.category.trim()),
        Cell::text(i.description.trim()),
        match i.households_involved {
            n if n > 0 => Cell::Int(i64::from(n)),
            _ => Cell::blank(),
        },
        Cell::text(priority_label(i.priority)),
        Cell::text(disposition_label(i.disposition)),
        Cell::text(match i.responsible_cadre_id.trim() {
            "" => String::new(),
            id => d.cadre(id),
        }),
        Cell::text(unit),
        on(i.deadline.as_ref()),
        Cell::text(state_label(i.state)),
        Cell::text(result.join("；")),
        on(i.resolved_at.as_ref()),
        Cell::text(callback_label(i)),
        Cell::text(remarks.join("；")),
    ]
}

#[cfg(test)]
mod tests {
    use prost_types::Timestamp;
    use zoufang_proto::{
        common::v1::{Help, ItemKind, MaterialHandout, RaisedItem, VisitMode},
        issues::v1::IssueSource,
        registry::v1::Completeness,
    };

    use super::*;
    use crate::desk::export::directory::HouseholdInfo;

    fn at(rfc3339: &str) -> Option<Timestamp> {
        let t = chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap();
        Some(Timestamp {
            seconds: t.timestamp(),
            nanos: 0,
        })
    }

    fn directory() -> Directory {
        let mut d = Directory::default();
        d.add_region("430426104000", "白鹤铺镇");
        d.add_region("430426104201", "黄龙村");
        d.add_household(
            "h-1",
            HouseholdInfo {
                head_name: "唐怀珠".into(),
                group_name: "肖家组".into(),
                member_count: 4,
                phone: "139****0001".into(),
                tags: vec!["低保".into(), "留守".into()],
            },
        );
        d.add_cadre("c-1", "周飞好");
        d.add_cadre("c-2", "李明");
        d
    }

    fn texts(row: &[Cell]) -> Vec<String> {
        row.iter()
            .map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Int(n) => format!("#{n}"),
                Cell::Yuan(f) => format!("¥{}", Fen(*f).yuan()),
            })
            .collect()
    }

    fn visit() -> Visit {
        Visit {
            visit_id: "v-1".into(),
            household_id: "h-1".into(),
            village_code: "430426104201".into(),
            cadre_ids: vec!["c-1".into(), "c-2".into()],
            // 23:30 UTC on the 19th is 07:30 on the 20th in Beijing.
            started_at: at("2026-10-19T23:30:00Z"),
            ended_at: at("2026-10-20T01:05:00Z"),
            mode: VisitMode::DoorToDoor as i32,
            overnight_stay: true,
            situation: "一家四口，户主务农".into(),
            narrative: "户主反映道路难行。".into(),
            policies_explained: vec!["低保政策".into(), "医保政策".into()],
            materials: vec![
                MaterialHandout {
                    name: "惠民政策宣传资料".into(),
                    quantity: 3,
                },
                MaterialHandout {
                    name: "农技手册".into(),
                    quantity: 1,
                },
            ],
            help: Some(Help {
                cash_fen: 20000,
                goods_description: "化肥两袋".into(),
                goods_value_fen: 15050,
            }),
            photo_refs: vec!["a.jpg".into(), "b.jpg".into()],
            items: vec![
                RaisedItem {
                    item_no: 1,
                    kind: ItemKind::Problem as i32,
                    category: "城镇建设".into(),
                    description: "道路需硬化".into(),
                    urgent: true,
                    ..Default::default()
                },
                RaisedItem {
                    item_no: 2,
                    kind: ItemKind::Dispute as i32,
                    category: "矛盾纠纷".into(),
                    description: "宅基地边界争执".into(),
                    households_involved: 2,
                    resolved_on_spot: true,
                    resolution_note: "现场丈量，双方认可".into(),
                    ..Default::default()
                },
            ],
            completeness: Some(Completeness {
                complete: true,
                missing_fields: vec![],
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_visit_fills_every_column_of_the_form() {
        let row = visit_row(7, &visit(), &directory());
        assert_eq!(row.len(), VISIT_COLUMNS.len());
        assert_eq!(
            texts(&row),
            [
                "#7",
                "2026-10-20",
                "07:30-09:05",
                "白鹤铺镇",
                "黄龙村",
                "肖家组",
                "唐怀珠",
                "#4",
                "139****0001",
                "低保、留守",
                "周飞好、李明",
                "入户走访",
                "是",
                "一家四口，户主务农",
                "户主反映道路难行。",
                "1.[问题·城镇建设]道路需硬化（紧急）\n2.[矛盾纠纷·矛盾纠纷]宅基地边界争执（涉及2户）",
                "1.转民情台账办理\n2.当即解决：现场丈量，双方认可",
                "低保政策、医保政策",
                "惠民政策宣传资料×3；农技手册×1",
                "¥350.50",
                "现金200.00元；化肥两袋（折合150.50元）",
                "#2",
                "",
            ]
        );
    }

    #[test]
    fn unknown_names_gaps_and_disputes_show_plainly() {
        let mut v = visit();
        v.household_id = "h-unknown".into();
        v.cadre_ids = vec!["c-9".into()];
        v.ended_at = at("2026-10-21T01:00:00Z");
        v.help = None;
        v.items.clear();
        v.materials.clear();
        v.overnight_stay = false;
        v.disputed = true;
        v.dispute_reason = "群众称未见到干部".into();
        v.completeness = Some(Completeness {
            complete: false,
            missing_fields: vec![
                "narrative".into(),
                "items[0].category".into(),
                "help.goods_description".into(),
                "something_new".into(),
            ],
        });
        let t = texts(&visit_row(1, &v, &directory()));
        assert_eq!(t[2], "07:30-10-21 09:00");
        assert_eq!(&t[5..10], ["", "", "", "", ""]);
        assert_eq!(t[10], "c-9");
        assert_eq!(t[12], "否");
        assert_eq!((t[15].as_str(), t[16].as_str()), ("", ""));
        assert_eq!((t[19].as_str(), t[20].as_str()), ("¥0.00", ""));
        assert_eq!(
            t[22],
            "回访存疑：群众称未见到干部；记录不完整，缺：民情日记、第1条诉求类别、帮扶物资说明、something_new"
        );
    }

    fn issue() -> Issue {
        Issue {
            issue_id: "i-1".into(),
            source: IssueSource::Visit as i32,
            household_id: "h-1".into(),
            region_code: "430426104201".into(),
            kind: ItemKind::Problem as i32,
            category: "城镇建设".into(),
            description: "道路需硬化".into(),
            priority: Priority::High as i32,
            disposition: Disposition::TimeLimited as i32,
            state: IssueState::Resolved as i32,
            responsible_cadre_id: "c-1".into(),
            department: "县交通局".into(),
            assisting_departments: vec!["县财政局".into()],
            deadline: at("2026-10-30T16:00:00Z"),
            resolution: "已硬化600米".into(),
            created_at: at("2026-10-19T16:30:00Z"),
            resolved_at: at("2026-10-25T03:00:00Z"),
            ..Default::default()
        }
    }

    #[test]
    fn a_ledger_item_fills_every_column() {
        let row = ledger_row(3, &issue(), &directory());
        assert_eq!(row.len(), LEDGER_COLUMNS.len());
        assert_eq!(
            texts(&row),
            [
                "#3",
                "2026-10-20",
                "白鹤铺镇",
                "黄龙村",
                "唐怀珠",
                "走访",
                "问题",
                "城镇建设",
                "道路需硬化",
                "",
                "较急",
                "限时解决",
                "周飞好",
                "县交通局（协办：县财政局）",
                "2026-10-31",
                "已办结",
                "已硬化600米",
                "2026-10-25",
                "待回访",
                "",
            ]
        );
    }

    #[test]
    fn ledger_states_callbacks_and_remarks() {
        let d = directory();
        let mut i = issue();
        i.state = IssueState::Verified as i32;
        assert_eq!(texts(&ledger_row(1, &i, &d))[18], "已回访，群众认可");
        i.state = IssueState::InProgress as i32;
        i.reopen_count = 1;
        i.rectification_round = 2;
        i.supervised = true;
        i.escalation_level = 1;
        let t = texts(&ledger_row(1, &i, &d));
        assert_eq!(t[15], "办理中");
        assert_eq!(t[18], "回访不满意，已重新办理1次");
        assert_eq!(t[19], "督办件；第2轮整改；已上报县直部门");
        // A walk-in item at the township office: no village, no household.
        let walk_in = Issue {
            source: IssueSource::Reception as i32,
            region_code: "430426104000".into(),
            household_id: String::new(),
            kind: ItemKind::Dispute as i32,
            households_involved: 3,
            state: IssueState::Explained as i32,
            disposition: Disposition::Explained as i32,
            resolution: String::new(),
            explanation: "属历史遗留问题，已按政策解释".into(),
            resident_acknowledged: true,
            department: String::new(),
            responsible_cadre_id: String::new(),
            ..issue()
        };
        let t = texts(&ledger_row(2, &walk_in, &d));
        assert_eq!(
            (t[2].as_str(), t[3].as_str(), t[4].as_str(), t[5].as_str()),
            ("白鹤铺镇", "", "", "开门接访")
        );
        assert_eq!(t[9], "#3");
        assert_eq!((t[12].as_str(), t[13].as_str()), ("", "协办：县财政局"));
        assert_eq!(t[16], "解释说明：属历史遗留问题，已按政策解释（群众认可）");
        assert_eq!(t[18], "待回访");
    }

    #[test]
    fn labels_cover_every_value() {
        assert_eq!(mode_label(VisitMode::LiveIn as i32), "同吃同住");
        assert_eq!(mode_label(99), "");
        assert_eq!(state_label(IssueState::Duplicate as i32), "已合并");
        assert_eq!(source_label(IssueSource::Petition as i32), "信访件");
        assert_eq!(priority_label(Priority::Urgent as i32), "紧急");
        assert_eq!(disposition_label(Disposition::OnSpot as i32), "当即解决");
    }
}
