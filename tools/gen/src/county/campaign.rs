//! The demo campaign, from the seed and the size: assignments (包片, 联系村,
//! 帮扶户), visits in every mode with help, materials and policies, the
//! items raised and what becomes of each in the ledger, walk-in reception
//! items, the callbacks' answers, petition cases, and a calendar.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use zoufang_proto::{
    common::v1::{ItemKind, VisitMode},
    registry::v1::AssignmentTarget,
};

use super::{
    COUNTY_NAME, County,
    households::{Household, county_id_number},
    model::{MIN_VISITS_PER_CADRE, after_ledger, gets_callback, group_key, visit_groups},
    words::*,
};
use crate::{
    people::{MALE, person_name},
    rng::{Rng, bucket, id},
};

/// What happens to an item in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// 当即解决 during the visit.
    OnSpot,
    /// Nobody has taken it up yet.
    Open,
    /// Assigned with a deadline and being worked on (办理中).
    InProgress,
    /// Assigned with a deadline and resolved (限时解决).
    TimeLimited,
    /// Closed with an explanation (解释说明).
    Explain,
    /// Escalated to a county department, not yet fixed (上报).
    Escalate,
    /// Escalated, signed for and fixed by the department.
    EscalateResolved,
}

/// What the resident says when a supervisor calls about an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Not called yet.
    LeaveOpen,
    /// Nobody answers, three times.
    Unreachable,
    Satisfied,
    Basically,
    /// 不满意: the item reopens.
    Unsatisfied,
}

#[derive(Debug, Clone)]
pub struct Item {
    /// The visit (or, for walk-ins, the issue id) and the item's number (0 for walk-ins).
    pub key: (Uuid, i32),
    pub village: usize,
    pub kind: ItemKind,
    pub category: &'static str,
    pub description: String,
    pub households_involved: i32,
    pub urgent: bool,
    pub resolution_note: String,
    pub fate: Fate,
    pub department: &'static str,
    pub answer: Answer,
    /// For walk-in reception items (开门接访): the household who came.
    pub walk_in: Option<Uuid>,
    /// Who answers for it (the village's work-team member).
    pub responsible: usize,
}

#[derive(Debug, Clone)]
pub struct Visit {
    pub id: Uuid,
    pub household: usize,
    pub cadres: Vec<usize>,
    /// The township cadre whose day the visit takes.
    pub owner: usize,
    pub mode: VisitMode,
    pub overnight: bool,
    pub follow_up: bool,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub cash_fen: i64,
    pub goods_fen: i64,
    pub goods: &'static str,
    pub materials: Vec<(&'static str, i32)>,
    pub policies: Vec<&'static str>,
    pub items: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct PetitionCase {
    pub external_id: String,
    pub channel: &'static str,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub region: String,
    pub content: String,
    pub received: String,
    pub accept: bool,
    /// The petitioner heads a registered household (the bridge matches it).
    pub registered: bool,
}

#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub anchor: DateTime<Utc>,
    pub visits: Vec<Visit>,
    pub items: Vec<Item>,
    /// (assignment id, cadre, target, target id).
    pub assignments: Vec<(Uuid, usize, AssignmentTarget, String)>,
    /// The visit the resident denies on callback (verified by callback for sure).
    pub denied_visit: Option<usize>,
    pub cases: Vec<PetitionCase>,
}

/// The day `day` of the campaign, `minutes` after Beijing midnight, in UTC.
pub fn at(anchor: DateTime<Utc>, day: i64, minutes: i64) -> DateTime<Utc> {
    anchor + chrono::Duration::days(day) + chrono::Duration::minutes(minutes)
}

pub fn topics(kind: ItemKind) -> &'static [Topic] {
    match kind {
        ItemKind::Suggestion => SUGGESTIONS,
        ItemKind::Dispute => DISPUTES,
        ItemKind::Petition => PETITIONS,
        _ => PROBLEMS,
    }
}

/// An item's fate when it was not resolved on the spot.
pub fn later_fate(rng: &mut Rng, kind: ItemKind) -> Fate {
    use Fate::*;
    let (fates, weights): (&[Fate], &[u64]) = match kind {
        ItemKind::Suggestion => (&[TimeLimited, Explain, Open], &[35, 50, 15]),
        ItemKind::Dispute => (
            &[TimeLimited, InProgress, Escalate, Explain],
            &[60, 15, 10, 15],
        ),
        ItemKind::Petition => (
            &[TimeLimited, InProgress, Escalate, EscalateResolved, Explain],
            &[25, 15, 15, 15, 30],
        ),
        _ => (
            &[
                TimeLimited,
                InProgress,
                Escalate,
                EscalateResolved,
                Explain,
                Open,
            ],
            &[48, 10, 8, 8, 16, 10],
        ),
    };
    fates[rng.weighted(weights)]
}

/// A new item of `kind` raised in `village`.
pub fn new_item(
    rng: &mut Rng,
    key: (Uuid, i32),
    village: usize,
    responsible: usize,
    kind: ItemKind,
    may_settle_on_spot: bool,
) -> Item {
    let t = rng.pick(topics(kind));
    // Only problems and suggestions are settled on the spot: a dispute is
    // mediated, and a petition answered, through the ledger (and every one
    // is called back). An item resolved on the spot is resolved by the
    // ledger's own consumer of the visit event, so any other ledger on the
    // same broker (a second stack, parallel test runs) resolves it too and
    // announces it under another event id; were it callback-worthy, each
    // such announcement would make supervision call it back once more.
    let on_spot_pct = match kind {
        ItemKind::Problem => 35,
        ItemKind::Suggestion => 30,
        _ => 0,
    };
    let urgent = t.urgent_ok && rng.pct(50);
    let on_spot = may_settle_on_spot && !urgent && rng.pct(on_spot_pct);
    let households_involved = if kind == ItemKind::Dispute {
        [1, 2, 2, 2, 2, 2, 2, 3, 3, 4][rng.below(10) as usize]
    } else {
        0
    };
    let resolution_note = if on_spot {
        (*rng.pick(ON_SPOT_NOTES)).to_owned()
    } else {
        String::new()
    };
    let fate = if on_spot {
        Fate::OnSpot
    } else {
        later_fate(rng, kind)
    };
    Item {
        key,
        village,
        kind,
        category: t.category,
        description: t.text.to_owned(),
        households_involved,
        urgent,
        resolution_note,
        fate,
        department: t.department,
        answer: Answer::Satisfied,
        walk_in: None,
        responsible,
    }
}

pub fn item_kind(rng: &mut Rng) -> ItemKind {
    [
        ItemKind::Problem,
        ItemKind::Suggestion,
        ItemKind::Dispute,
        ItemKind::Petition,
    ][rng.weighted(&[34, 44, 16, 6])]
}

/// Who visits whom, how, when, what was given and raised.
pub fn plan_campaign(
    seed: u64,
    size: usize,
    county: &County,
    households: &[Household],
    anchor: DateTime<Utc>,
) -> Campaign {
    let tag = format!("{size}/");
    let mut visits: Vec<Visit> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    let mut assignments = Vec::new();

    // 包片 and 联系村.
    for (t, town) in county.townships.iter().enumerate() {
        for (z, (zone_id, _, _)) in town.zones.iter().enumerate() {
            assignments.push((
                id(seed, &format!("{tag}assignment/zone/{t}/{z}")),
                town.leaders[z],
                AssignmentTarget::Zone,
                zone_id.to_string(),
            ));
        }
        for v in &town.villages {
            let village = &county.villages[*v];
            assignments.push((
                id(seed, &format!("{tag}assignment/village/{v}")),
                village.member,
                AssignmentTarget::Village,
                village.code.clone(),
            ));
        }
    }
    // 帮扶户: each work-team member helps up to three poor households of their villages.
    let mut helped_by: HashSet<usize> = HashSet::new();
    let mut per_member: HashMap<usize, usize> = HashMap::new();
    for (h, hh) in households.iter().enumerate() {
        let member = county.villages[hh.village].member;
        let n = per_member.entry(member).or_insert(0);
        if hh.poor() && *n < 3 {
            *n += 1;
            helped_by.insert(h);
            assignments.push((
                id(seed, &format!("{tag}assignment/household/{h}")),
                member,
                AssignmentTarget::Household,
                hh.id.to_string(),
            ));
        }
    }

    let mut dept_visits = vec![0usize; county.departments.len()];
    let mut next_dept = 0usize;
    for (h, hh) in households.iter().enumerate() {
        let mut rng = Rng::new(seed, &format!("{tag}visits"), h as u64);
        let village = &county.villages[hh.village];
        let town = &county.townships[village.township];
        let member = village.member;
        let bangfu = helped_by.contains(&h);
        if !(bangfu || hh.petitioner() || rng.pct(88)) {
            continue;
        }
        let n_visits = if (bangfu && rng.pct(60)) || rng.pct(12) {
            2
        } else {
            1
        };
        for k in 0..n_visits {
            let follow_up = k == 1;
            let vid = id(seed, &format!("{tag}visit/{h}/{k}"));
            let (cadres, owner, mode) = if follow_up {
                let mode = if rng.pct(50) {
                    VisitMode::Phone
                } else {
                    VisitMode::DoorToDoor
                };
                (vec![member], member, mode)
            } else if hh.petitioner() {
                // 带案下访: a county department or the party secretary brings the case.
                let n = county.departments.len();
                match (0..n)
                    .map(|i| (next_dept + i) % n)
                    .find(|d| dept_visits[*d] < 3)
                {
                    Some(d) => {
                        dept_visits[d] += 1;
                        next_dept = d + 1;
                        (
                            vec![county.departments[d], member],
                            member,
                            VisitMode::CaseVisit,
                        )
                    }
                    None => (vec![town.secretary], town.secretary, VisitMode::CaseVisit),
                }
            } else {
                let who = match rng.below(100) {
                    0..=7 => town.leaders[village.zone],
                    8..=9 if hh.poor() => town.secretary,
                    10..=11 if hh.poor() => town.mayor,
                    _ => member,
                };
                let mode = if who == member {
                    match rng.below(100) {
                        0..=10 => VisitMode::LiveIn,
                        11..=14 => VisitMode::Reception,
                        15..=17 => VisitMode::Phone,
                        _ => VisitMode::DoorToDoor,
                    }
                } else {
                    VisitMode::DoorToDoor
                };
                (vec![who], who, mode)
            };
            let in_person = matches!(
                mode,
                VisitMode::DoorToDoor | VisitMode::LiveIn | VisitMode::CaseVisit
            );
            // Help: the helped households from their cadre; other poor
            // households often; a few others in goods.
            let (mut cash_fen, mut goods_fen, mut goods) = (0, 0, "");
            if in_person {
                if bangfu && k == n_visits - 1 {
                    cash_fen = rng.range(2, 5) * 10_000;
                    if rng.pct(40) {
                        goods_fen = rng.range(80, 150) * 100;
                        goods = "大米一袋、食用油一桶";
                    }
                } else if !bangfu && hh.poor() && !follow_up && rng.pct(45) {
                    cash_fen = rng.range(1, 2) * 10_000;
                } else if !follow_up && rng.pct(3) {
                    goods_fen = 12_000;
                    goods = "化肥两袋";
                }
            }
            let mut materials = Vec::new();
            if in_person && rng.pct(65) {
                materials.push((LEAFLET, rng.range(1, 3) as i32));
                if rng.pct(35) {
                    materials.push((*rng.pick(EXTRA_MATERIALS), 1));
                }
            }
            let mut policies = Vec::new();
            if in_person || mode == VisitMode::Reception {
                policies.push(*rng.pick(POLICIES));
                if hh.poor() {
                    policies.push("低保和特困供养政策");
                }
            }
            // Items raised.
            let mut visit_items = Vec::new();
            let (one, two) = match mode {
                VisitMode::Reception => (60, 10),
                VisitMode::Phone => (8, 0),
                VisitMode::CaseVisit => (100, 20),
                _ if follow_up => (6, 0),
                _ => (24, 5),
            };
            let n_items = if rng.pct(one) {
                1 + usize::from(rng.pct(two))
            } else {
                0
            };
            for no in 0..n_items {
                let kind = if mode == VisitMode::CaseVisit && no == 0 {
                    ItemKind::Petition
                } else {
                    item_kind(&mut rng)
                };
                let key = (vid, no as i32 + 1);
                let item = new_item(&mut rng, key, hh.village, member, kind, true);
                visit_items.push(items.len());
                items.push(item);
            }
            visits.push(Visit {
                id: vid,
                household: h,
                cadres,
                owner,
                mode,
                overnight: mode == VisitMode::LiveIn,
                follow_up,
                start: anchor,
                end: anchor,
                cash_fen,
                goods_fen,
                goods,
                materials,
                policies,
                items: visit_items,
            });
        }
    }

    // Walk-in reception (开门接访) at each township office: about one item per 150 households.
    let mut per_town: Vec<Vec<usize>> = vec![Vec::new(); county.townships.len()];
    for (h, hh) in households.iter().enumerate() {
        per_town[county.villages[hh.village].township].push(h);
    }
    for (t, town_households) in per_town.iter().enumerate() {
        for k in 0..town_households.len().div_ceil(150) {
            let mut rng = Rng::new(seed, &format!("{tag}walk-in/{t}"), k as u64);
            let hh = &households[*rng.pick(town_households)];
            let issue_id = id(seed, &format!("{tag}walk-in/{t}/{k}"));
            let kind = item_kind(&mut rng);
            let member = county.villages[hh.village].member;
            let mut item = new_item(&mut rng, (issue_id, 0), hh.village, member, kind, false);
            item.walk_in = Some(hh.id);
            items.push(item);
        }
    }

    schedule(&mut visits, anchor);

    // Callback answers: by a hash of the item; one resident is not satisfied.
    for item in &mut items {
        item.answer = match bucket(item.key.0, item.key.1) {
            0..=2 => Answer::LeaveOpen,
            3..=5 => Answer::Unreachable,
            6..=21 => Answer::Basically,
            _ => Answer::Satisfied,
        };
    }
    let unsatisfied = items
        .iter()
        .position(|i| i.kind == ItemKind::Dispute && i.fate == Fate::TimeLimited)
        .or_else(|| {
            items
                .iter()
                .position(|i| i.fate == Fate::TimeLimited && gets_callback(i, &after_ledger(i)))
        });
    if let Some(i) = unsatisfied {
        items[i].answer = Answer::Unsatisfied;
    }

    // The denied visit: one whose verification is certain (its first cadre
    // has no more visits that week than the policy's minimum), a phone call
    // if there is one.
    let groups = visit_groups(&visits, county);
    let certain = |v: &Visit| groups[&group_key(v, county)] <= MIN_VISITS_PER_CADRE as usize;
    let denied_visit = visits
        .iter()
        .position(|v| certain(v) && v.mode == VisitMode::Phone)
        .or_else(|| visits.iter().position(certain));

    let cases = plan_cases(seed, size, county, households, anchor);
    Campaign {
        id: id(seed, &format!("{size}/campaign")),
        name: format!("{COUNTY_NAME}“万名干部下乡进村入户”大走访（演示 {seed}）"),
        anchor,
        visits,
        items,
        assignments,
        denied_visit,
        cases,
    }
}

/// Petition cases (信访件) from the county's petition system: the 重点信访
/// households' cases, and one petitioner the registry does not know. All
/// but the first are accepted (受理).
pub fn plan_cases(
    seed: u64,
    size: usize,
    county: &County,
    households: &[Household],
    anchor: DateTime<Utc>,
) -> Vec<PetitionCase> {
    let n_cases = (size / 250).clamp(3, 12);
    let mut petitioners: Vec<usize> = (0..households.len())
        .filter(|h| households[*h].petitioner())
        .collect();
    petitioners.extend((0..households.len()).filter(|h| !households[*h].petitioner()));
    let used: HashSet<&str> = households.iter().map(|h| h.id_number.as_str()).collect();
    let contents = [
        "反映征地补偿款分配不公，要求重新核算",
        "反映宅基地被邻居占用多年未解决",
        "反映修路占地青苗补偿未到位",
        "反映低保资格被取消，要求复核",
        "反映山林承包合同纠纷",
        "反映危房改造补助未发放",
    ];
    let channels = ["来信", "来访", "网上", "电话"];
    (0..n_cases)
        .map(|k| {
            let mut rng = Rng::new(seed, &format!("{size}/petition"), k as u64);
            let received_day = 20 + rng.range(0, 8);
            let received_min = 8 * 60 + rng.range(0, 8 * 60);
            let received = (at(anchor, received_day, received_min) + chrono::Duration::hours(8))
                .format("%Y-%m-%d %H:%M")
                .to_string();
            let external_id = format!("QDXF-{seed}-{size}-{:03}", k + 1);
            let content = (*rng.pick(&contents)).to_owned();
            let channel = *rng.pick(&channels);
            if k + 1 == n_cases || petitioners.len() <= k {
                // Someone outside the register: no household is matched.
                let birth = NaiveDate::from_ymd_opt(1960, 1, 1).unwrap_or_default()
                    + chrono::Days::new(k as u64);
                let village = rng.pick(&county.villages);
                PetitionCase {
                    external_id,
                    channel,
                    name: person_name(&mut rng, MALE),
                    id_number: (0..1000u64)
                        .map(|s| county_id_number(birth, 999 - s))
                        .find(|n| !used.contains(n.as_str()))
                        .unwrap_or_default(),
                    phone: String::new(),
                    region: village.code.clone(),
                    content,
                    received,
                    accept: k != 0,
                    registered: false,
                }
            } else {
                let hh = &households[petitioners[k]];
                PetitionCase {
                    external_id,
                    channel,
                    name: hh.head.clone(),
                    id_number: hh.id_number.clone(),
                    phone: hh.phone.clone(),
                    region: county.villages[hh.village].code.clone(),
                    content,
                    received,
                    accept: k != 0,
                    registered: true,
                }
            }
        })
        .collect()
}

/// Puts each cadre's visits on the calendar: first visits over days 0–20,
/// follow-ups over days 21–28, daytime visits one after another between
/// 08:30 and 17:30 Beijing time, nights (同吃同住) from 18:00 to 07:30.
pub fn schedule(visits: &mut [Visit], anchor: DateTime<Utc>) {
    let mut by_owner: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, v) in visits.iter().enumerate() {
        by_owner.entry(v.owner).or_default().push(i);
    }
    for (owner, list) in by_owner {
        for (follow_up, first_day, days) in [(false, 0i64, 21i64), (true, 21, 8)] {
            let phase: Vec<usize> = list
                .iter()
                .copied()
                .filter(|i| visits[*i].follow_up == follow_up)
                .collect();
            let nights: Vec<usize> = phase
                .iter()
                .copied()
                .filter(|i| visits[*i].overnight)
                .collect();
            // At most one night a day: the rest become ordinary visits.
            for extra in nights.iter().skip(days as usize) {
                visits[*extra].overnight = false;
                visits[*extra].mode = VisitMode::DoorToDoor;
            }
            let nights: Vec<usize> = nights.into_iter().take(days as usize).collect();
            for (j, i) in nights.iter().enumerate() {
                let day = first_day + j as i64 * days / nights.len() as i64;
                visits[*i].start = at(anchor, day, 18 * 60);
                visits[*i].end = at(anchor, day + 1, 7 * 60 + 30);
            }
            let daytime: Vec<usize> = phase
                .iter()
                .copied()
                .filter(|i| !visits[*i].overnight)
                .collect();
            if daytime.is_empty() {
                continue;
            }
            let per_day = daytime.len().div_ceil(days as usize).max(1) as i64;
            let step = (540 / per_day).clamp(15, 100);
            let mut slots: HashMap<i64, i64> = HashMap::new();
            for (k, i) in daytime.iter().enumerate() {
                let day = first_day + k as i64 * days / daytime.len() as i64;
                let slot = slots.entry(day).or_insert(0);
                let start = 8 * 60 + 30 + *slot * step;
                *slot += 1;
                let mut rng = Rng::new(owner as u64, "duration", *i as u64);
                let minutes = match visits[*i].mode {
                    VisitMode::Phone => rng.range(6, 15).min(step - 2),
                    _ => (step * rng.range(45, 80) / 100).max(12),
                };
                visits[*i].start = at(anchor, day, start);
                visits[*i].end = at(anchor, day, start + minutes);
            }
        }
    }
}
