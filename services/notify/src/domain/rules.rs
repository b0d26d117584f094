//! Which events concern whom (按角色和区域): each consumed event becomes
//! zero or more facts, each with its template kind, its audience (named
//! people, or the holders of a role whose region covers the subject), its
//! template variables and a fact key. The fact key names the fact itself,
//! not the event: the same fact arriving twice (a redelivery, a replay, an
//! `assigned` after a `created` naming the same cadre) pages nobody twice.
use prost_types::Timestamp;
use zoufang_bus::consumer::{Poison, known_enum};
use zoufang_core::{auth::roles, fields::to_chrono};
use zoufang_proto::{
    catalogue::supervision,
    common::v1::ItemKind,
    events::v1::{
        CallbackTask, CallbackTaskChange, CaseChange, IssueChange, IssueChanged,
        PetitionCaseChanged, VisitDisputed,
    },
};
use zoufang_types::labels;

use super::{show_time, template::Vars};

/// Who a fact reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// One person by user id (a cadre's id, a supervisor's id).
    Person(String),
    /// Every active holder of `role` whose region covers the fact's region.
    Role(&'static str),
}

/// Something a person must hear about.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The template key.
    pub kind: &'static str,
    /// Names the fact; with the recipient, unique in the inbox.
    pub fact_key: String,
    /// issue, callback, visit, petition, digest.
    pub subject_type: &'static str,
    pub subject_id: String,
    /// The subject's 12-digit region code.
    pub region_code: String,
    /// Urgent facts skip SMS quiet hours.
    pub urgent: bool,
    pub vars: Vars,
    pub audience: Vec<Audience>,
}

/// What the service does with an issue event besides paging people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followup {
    /// Nothing more.
    None,
    /// Start the escalation ladder and list the item in the digest as overdue.
    StartLadder,
    /// List the item in the assignee's digest as due soon.
    DueSoon,
    /// The item no longer needs anyone: stop its ladder, drop it from digests.
    Settled,
    /// A new assignee or deadline: drop the old digest entries and ladder.
    Reset,
}

fn ts(t: Option<&Timestamp>) -> String {
    t.and_then(to_chrono)
        .map(show_time)
        .unwrap_or_else(|| "未定".into())
}

fn ts_key(t: Option<&Timestamp>) -> i64 {
    t.map_or(0, |t| t.seconds)
}

/// A changed ledger item whose kind this build does not know is parked,
/// not announced under the label of a problem.
pub fn known_kind(i: &IssueChanged) -> Result<ItemKind, Poison> {
    known_enum("kind", i.kind)
}

/// 问题 / 意见建议 / 矛盾纠纷 / 信访.
pub fn kind_zh(kind: i32) -> &'static str {
    match labels::item_kind(kind) {
        "" => labels::item_kind(ItemKind::Problem as i32),
        label => label,
    }
}

fn vars(pairs: Vec<(&str, String)>) -> Vars {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A place by name ("白地市镇朝阳村"), or by its code when the event
/// carried no name (an older publisher, a region the publisher has no name
/// for).
pub fn place(name: &str, code: &str) -> String {
    non_empty(name.trim(), code)
}

/// The place of a township and a village name, either possibly empty.
fn place_of(township: &str, village: &str, code: &str) -> String {
    place(&format!("{}{}", township.trim(), village.trim()), code)
}

/// Who answers for an item, by name: the responsible cadre's name, their
/// id when the event carried no name, 未指定 when there is nobody.
pub fn responsible(i: &IssueChanged) -> String {
    non_empty(
        i.responsible_cadre_name.trim(),
        &non_empty(&i.responsible_cadre_id, "未指定"),
    )
}

/// The variables of an issue's templates (`link` is added by the caller).
pub fn issue_vars(i: &IssueChanged) -> Vars {
    vars(vec![
        ("region_code", i.region_code.clone()),
        ("region_name", place(&i.region_name, &i.region_code)),
        ("category", non_empty(&i.category, kind_zh(i.kind))),
        ("kind_zh", kind_zh(i.kind).into()),
        ("description", i.description.clone()),
        ("deadline", ts(i.deadline.as_ref())),
        ("priority", i.priority.clone()),
        ("responsible", responsible(i)),
        ("reopen_count", i.reopen_count.to_string()),
        ("note", i.note.clone()),
        ("state", i.state.clone()),
    ])
}

fn non_empty(s: &str, fallback: &str) -> String {
    if s.is_empty() {
        fallback.into()
    } else {
        s.into()
    }
}

fn issue_fact(i: &IssueChanged, kind: &'static str, key: String, who: Vec<Audience>) -> Fact {
    Fact {
        kind,
        fact_key: key,
        subject_type: "issue",
        subject_id: i.issue_id.clone(),
        region_code: i.region_code.clone(),
        urgent: i.urgent || i.priority == "urgent",
        vars: issue_vars(i),
        audience: who,
    }
}

/// The facts of an `issues.issue.<change>` event, and what else to do.
pub fn from_issue(change: IssueChange, i: &IssueChanged) -> (Vec<Fact>, Followup) {
    let cadre = &i.responsible_cadre_id;
    let assignee = || {
        if cadre.is_empty() {
            vec![]
        } else {
            vec![Audience::Person(cadre.clone())]
        }
    };
    let deadline = ts_key(i.deadline.as_ref());
    match change {
        IssueChange::Created | IssueChange::Assigned if !cadre.is_empty() => (
            vec![issue_fact(
                i,
                "issue.assigned",
                format!("issue:{}:assigned:{cadre}:{}", i.issue_id, i.reopen_count),
                assignee(),
            )],
            Followup::Reset,
        ),
        IssueChange::Reopened => (
            vec![issue_fact(
                i,
                "issue.reopened",
                format!("issue:{}:reopened:{}", i.issue_id, i.reopen_count),
                assignee(),
            )],
            Followup::Reset,
        ),
        IssueChange::DueSoon => (
            vec![issue_fact(
                i,
                "issue.due_soon",
                format!("issue:{}:due_soon:{deadline}", i.issue_id),
                assignee(),
            )],
            Followup::DueSoon,
        ),
        IssueChange::Overdue => (
            vec![issue_fact(
                i,
                "issue.overdue",
                overdue_key(&i.issue_id, deadline, 0),
                assignee(),
            )],
            Followup::StartLadder,
        ),
        IssueChange::Resolved
        | IssueChange::Explained
        | IssueChange::Verified
        | IssueChange::Merged => (vec![], Followup::Settled),
        _ => (vec![], Followup::None),
    }
}

/// The fact key of an overdue item's rung.
pub fn overdue_key(issue_id: &str, deadline_secs: i64, level: u32) -> String {
    format!("issue:{issue_id}:overdue:{deadline_secs}:{level}")
}

/// A callback task assigned to a supervisor, or overdue. An unassigned task
/// reaches every supervisor covering its region.
pub fn from_callback(change: CallbackTaskChange, c: &CallbackTask) -> Option<Fact> {
    let kind = match change {
        CallbackTaskChange::Assigned => "callback.assigned",
        CallbackTaskChange::Overdue => "callback.overdue",
        CallbackTaskChange::Unspecified => return None,
    };
    let verb = supervision::task_verb_of(change)?;
    let audience = if c.supervisor_id.is_empty() {
        vec![Audience::Role(roles::SUPERVISOR)]
    } else {
        vec![Audience::Person(c.supervisor_id.clone())]
    };
    let subject_zh = if c.subject == "visit" {
        "走访核实"
    } else {
        "事项办理"
    };
    Some(Fact {
        kind,
        fact_key: format!("callback:{}:{verb}", c.callback_id),
        subject_type: "callback",
        subject_id: c.callback_id.clone(),
        region_code: c.region_code.clone(),
        urgent: false,
        vars: vars(vec![
            ("region_code", c.region_code.clone()),
            // Tasks made before names travelled carry none: the code stands in.
            ("region_name", place(&c.region_name, &c.region_code)),
            ("subject_zh", subject_zh.into()),
            ("summary", c.summary.clone()),
            ("due_at", ts(c.due_at.as_ref())),
        ]),
        audience,
    })
}

/// A visit flagged disputed: the township's leaders, and the cadres who
/// recorded it.
pub fn from_dispute(d: &VisitDisputed) -> Fact {
    let mut audience = vec![Audience::Role(roles::TOWNSHIP_ADMIN)];
    audience.extend(
        d.cadre_ids
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| Audience::Person(c.clone())),
    );
    Fact {
        kind: "visit.disputed",
        fact_key: format!("visit:{}:disputed", d.visit_id),
        subject_type: "visit",
        subject_id: d.visit_id.clone(),
        region_code: d.village_code.clone(),
        urgent: false,
        vars: vars(vec![
            ("region_code", d.village_code.clone()),
            (
                "region_name",
                place_of(&d.township_name, &d.village_name, &d.village_code),
            ),
            ("reason", non_empty(&d.reason, "回访未能核实")),
        ]),
        audience,
    }
}

/// A petition case or hotline work order received: the township's leaders
/// and the county petition bureau must decide on acceptance within the
/// statutory time.
pub fn from_petition(change: CaseChange, p: &PetitionCaseChanged) -> Option<Fact> {
    if change != CaseChange::Received {
        return None;
    }
    let kind_zh = if p.kind == "hotline" {
        "12345工单"
    } else {
        "信访件"
    };
    Some(Fact {
        kind: "petition.received",
        fact_key: format!("petition:{}:received", p.case_id),
        subject_type: "petition",
        subject_id: p.case_id.clone(),
        region_code: p.region_code.clone(),
        urgent: false,
        vars: vars(vec![
            ("region_code", p.region_code.clone()),
            // Petition cases carry no place name yet: the code stands in.
            ("region_name", place("", &p.region_code)),
            ("channel", p.channel.clone()),
            ("source_system", p.source_system.clone()),
            ("kind_zh", kind_zh.into()),
            ("summary", p.summary.clone()),
            ("due_at", ts(p.due_at.as_ref())),
        ]),
        audience: vec![
            Audience::Role(roles::TOWNSHIP_ADMIN),
            Audience::Role(roles::PETITION_BUREAU),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use IssueChange::*;

    fn issue(change: IssueChange) -> IssueChanged {
        IssueChanged {
            issue_id: "0b5c".into(),
            change: change.into(),
            region_code: "430426104201".into(),
            responsible_cadre_id: "cadre-1".into(),
            category: "道路".into(),
            kind: ItemKind::Problem as i32,
            deadline: Some(Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
            ..IssueChanged::default()
        }
    }

    #[test]
    fn an_item_of_unknown_kind_is_poison() {
        assert_eq!(known_kind(&issue(Created)), Ok(ItemKind::Problem));
        let odd = IssueChanged {
            kind: 17,
            ..issue(Created)
        };
        assert!(
            known_kind(&odd)
                .unwrap_err()
                .0
                .starts_with("kind has the unknown value 17")
        );
    }

    #[test]
    fn created_and_assigned_naming_the_same_cadre_are_one_fact() {
        let (a, _) = from_issue(Created, &issue(Created));
        let (b, follow) = from_issue(Assigned, &issue(Assigned));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].fact_key, b[0].fact_key);
        assert_eq!(b[0].audience, vec![Audience::Person("cadre-1".into())]);
        assert_eq!(follow, Followup::Reset);
    }

    #[test]
    fn a_reassignment_or_a_reopening_is_a_new_fact() {
        let mut other = issue(Assigned);
        other.responsible_cadre_id = "cadre-2".into();
        let (a, _) = from_issue(Assigned, &issue(Assigned));
        let (b, _) = from_issue(Assigned, &other);
        assert_ne!(a[0].fact_key, b[0].fact_key);
        let mut again = issue(Reopened);
        let (r1, _) = from_issue(Reopened, &again);
        again.reopen_count = 1;
        let (r2, _) = from_issue(Reopened, &again);
        assert_ne!(r1[0].fact_key, r2[0].fact_key);
    }

    #[test]
    fn places_and_people_are_named_by_name_the_code_only_in_want_of_one() {
        let mut i = issue(Assigned);
        let v = issue_vars(&i);
        assert_eq!(v["region_name"], "430426104201", "no name carried");
        assert_eq!(v["responsible"], "cadre-1");
        i.region_name = "白鹤铺镇长塘村".into();
        i.responsible_cadre_name = "李四".into();
        let v = issue_vars(&i);
        assert_eq!(v["region_name"], "白鹤铺镇长塘村");
        assert_eq!(v["responsible"], "李四");
        i.responsible_cadre_id.clear();
        i.responsible_cadre_name.clear();
        assert_eq!(issue_vars(&i)["responsible"], "未指定");
        let d = from_dispute(&VisitDisputed {
            visit_id: "v".into(),
            village_code: "430426104201".into(),
            village_name: "长塘村".into(),
            township_name: "白鹤铺镇".into(),
            ..VisitDisputed::default()
        });
        assert_eq!(d.vars["region_name"], "白鹤铺镇长塘村");
    }

    #[test]
    fn an_unassigned_creation_pages_nobody() {
        let mut i = issue(Created);
        i.responsible_cadre_id.clear();
        assert!(from_issue(Created, &i).0.is_empty());
    }

    #[test]
    fn overdue_starts_the_ladder_and_settling_stops_it() {
        let (facts, follow) = from_issue(Overdue, &issue(Overdue));
        assert_eq!(facts[0].kind, "issue.overdue");
        assert_eq!(facts[0].fact_key, overdue_key("0b5c", 1_800_000_000, 0));
        assert_eq!(follow, Followup::StartLadder);
        for change in [Resolved, Explained, Verified, Merged] {
            assert_eq!(from_issue(change, &issue(change)).1, Followup::Settled);
        }
    }

    #[test]
    fn urgency_comes_from_the_flag_or_the_priority() {
        let mut i = issue(Assigned);
        assert!(!from_issue(Assigned, &i).0[0].urgent);
        i.priority = "urgent".into();
        assert!(from_issue(Assigned, &i).0[0].urgent);
    }

    #[test]
    fn a_callback_notice_names_its_place_the_code_only_in_want_of_one() {
        let mut c = CallbackTask {
            callback_id: "cb".into(),
            change: CallbackTaskChange::Assigned.into(),
            region_code: "430426104201".into(),
            subject: "visit".into(),
            ..CallbackTask::default()
        };
        let vars = |c: &CallbackTask| {
            from_callback(CallbackTaskChange::Assigned, c)
                .expect("a fact")
                .vars
        };
        assert_eq!(vars(&c)["region_name"], "430426104201");
        c.region_name = "白鹤铺镇长塘村".into();
        assert_eq!(vars(&c)["region_name"], "白鹤铺镇长塘村");
    }

    #[test]
    fn an_unassigned_callback_reaches_the_regions_supervisors() {
        let mut c = CallbackTask {
            callback_id: "cb".into(),
            change: CallbackTaskChange::Assigned.into(),
            region_code: "430426104201".into(),
            subject: "visit".into(),
            ..CallbackTask::default()
        };
        let fact = from_callback(CallbackTaskChange::Assigned, &c);
        assert_eq!(
            fact.as_ref().map(|f| f.fact_key.as_str()),
            Some("callback:cb:assigned")
        );
        assert_eq!(
            fact.map(|f| f.audience),
            Some(vec![Audience::Role(roles::SUPERVISOR)])
        );
        c.supervisor_id = "sup-1".into();
        let fact = from_callback(CallbackTaskChange::Overdue, &c);
        assert_eq!(
            fact.as_ref().map(|f| f.fact_key.as_str()),
            Some("callback:cb:overdue")
        );
        assert_eq!(fact.as_ref().map(|f| f.kind), Some("callback.overdue"));
        assert_eq!(
            fact.map(|f| f.audience),
            Some(vec![Audience::Person("sup-1".into())])
        );
    }

    #[test]
    fn a_dispute_reaches_the_township_and_the_cadres() {
        let f = from_dispute(&VisitDisputed {
            visit_id: "v".into(),
            village_code: "430426104201".into(),
            cadre_ids: vec!["c1".into(), "c2".into()],
            ..VisitDisputed::default()
        });
        assert_eq!(f.audience.len(), 3);
        assert_eq!(
            f.vars.get("reason").map(String::as_str),
            Some("回访未能核实")
        );
    }

    #[test]
    fn only_a_received_petition_pages() {
        let mut p = PetitionCaseChanged {
            case_id: "p".into(),
            change: CaseChange::Received.into(),
            kind: "hotline".into(),
            ..PetitionCaseChanged::default()
        };
        assert_eq!(
            from_petition(CaseChange::Received, &p).and_then(|f| f.vars.get("kind_zh").cloned()),
            Some("12345工单".into())
        );
        p.change = CaseChange::Accepted.into();
        assert!(from_petition(CaseChange::Accepted, &p).is_none());
    }
}
