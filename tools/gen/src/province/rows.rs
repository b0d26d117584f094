//! The big tables' rows, made by index: households in village order, and
//! the visits, their items, the ledger (民情台账) and supervision's callbacks,
//! interleaving the townships as real traffic would.
use std::{collections::HashMap, sync::Arc};

use uuid::Uuid;

use super::{
    K_CALLBACK, K_HOUSEHOLD, K_ISSUE, K_OTHER_ISSUE, K_VISIT, K_VISITS, Province, STAFF, TAGS,
    VILLAGE_CADRES, copy::Sink, traits, words::*,
};
use crate::{
    people::person,
    rng::{Rng, uuid_of},
};

/// How much to make: households, visits (spread over the households; some
/// get none) and ledger items (~90% raised on visits, the rest from walk-in
/// reception, the hotline and petitions).
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub households: u64,
    pub visits: u64,
    pub items: u64,
}

/// The fixed parts every generator needs.
#[derive(Clone)]
pub struct Gen {
    pub p: Arc<Province>,
    /// Keyed hashes of the tags, as the registry computes them.
    pub tag_hashes: Arc<HashMap<&'static str, Vec<u8>>>,
    /// Tags the registry keeps encrypted.
    pub is_sensitive: fn(&str) -> bool,
    /// Unix seconds: the campaigns began 90 days before `now`.
    pub now: i64,
    pub start: i64,
    /// Share of households never visited, and the mean extra visits of a
    /// visited household (geometric).
    pub unvisited: f64,
    pub extra_q: f64,
    /// Items per visit, and non-visit ledger items per household.
    pub item_rate: f64,
    pub other_rate: f64,
}

impl Gen {
    /// The generator of `p` at `now` (Unix seconds); `tag_hash` is the
    /// registry's keyed hash of a tag, `is_sensitive` its rule for the tags
    /// kept encrypted.
    pub fn new(
        p: Arc<Province>,
        size: Size,
        now: i64,
        tag_hash: impl Fn(&str) -> Vec<u8>,
        is_sensitive: fn(&str) -> bool,
    ) -> Self {
        let tag_hashes = TAGS.iter().map(|(t, _)| (*t, tag_hash(t))).collect();
        let args = size;
        let h = args.households.max(1) as f64;
        let per_household = args.visits as f64 / h;
        let visited = per_household.min(0.88);
        let extra = (per_household / visited.max(1e-9) - 1.0).max(0.0);
        let visit_items = args.items as f64 * 0.9;
        Self {
            p,
            tag_hashes: Arc::new(tag_hashes),
            is_sensitive,
            now,
            start: now - 90 * 86_400,
            unvisited: 1.0 - visited,
            extra_q: extra / (1.0 + extra),
            item_rate: if args.visits == 0 {
                0.0
            } else {
                visit_items / args.visits as f64
            },
            other_rate: (args.items as f64 - visit_items) / h,
        }
    }

    /// Households in village order (as imports register them).
    pub fn households(&self, sink: &mut Sink) -> bool {
        let p = &self.p;
        for v in &p.villages {
            let county = &v.code[..6];
            for h in v.first..v.first + v.households {
                let mut r = Rng::at(p.seed, K_HOUSEHOLD, h);
                let t = traits(p.seed, h);
                let group = r.range(1, 12);
                let (open, sensitive): (Vec<&str>, Vec<&str>) =
                    t.tags.iter().partition(|tag| !(self.is_sensitive)(tag));
                let hashes: Vec<&[u8]> = t
                    .tags
                    .iter()
                    .map(|tag| self.tag_hashes[tag].as_slice())
                    .collect();
                let mut row = sink.row();
                row.raw(county)
                    .uuid(p.household_id(h))
                    .raw(&v.code)
                    .text(&format!("第{group}组"))
                    .text(&format!("{}第{group}组{}号", v.name, r.range(1, 80)))
                    .text(&person(&mut r))
                    // ID number: version + nonce + 18 digits + tag.
                    .random_bytes(&mut r, 1 + 12 + 18 + 16)
                    .random_bytes(&mut r, 32);
                if t.has_phone {
                    row.random_bytes(&mut r, 1 + 12 + 11 + 16)
                        .random_bytes(&mut r, 32);
                } else {
                    row.null().null();
                }
                row.int(t.members).array(&open);
                if sensitive.is_empty() {
                    row.null();
                } else {
                    let json = serde_json::to_string(&sensitive).unwrap_or_default();
                    row.random_bytes(&mut r, 1 + 12 + json.len() + 16);
                }
                row.bytes_array(&hashes)
                    .bool(!t.tags.is_empty())
                    .random_bytes(&mut r, 32)
                    .ts(self.start - 86_400 * r.range(10, 400))
                    .end();
                if !sink.flush_if_full() {
                    return false;
                }
            }
        }
        sink.flush()
    }

    /// Visits, their items, the ledger and the callbacks, walking the
    /// townships round-robin one household at a time, so each county's rows
    /// spread over the whole of every table as real traffic leaves them.
    pub fn activity(
        &self,
        visits: &mut Sink,
        items: &mut Sink,
        issues: &mut Sink,
        callbacks: &mut Sink,
    ) -> bool {
        let p = &self.p;
        // Per township: the next village and household.
        let mut cursors: Vec<(usize, usize, u64)> = p
            .townships
            .iter()
            .enumerate()
            .map(|(ti, t)| (ti, t.villages.start, p.villages[t.villages.start].first))
            .collect();
        while !cursors.is_empty() {
            let mut i = 0;
            while i < cursors.len() {
                let (ti, mut vi, mut h) = cursors[i];
                let t = &p.townships[ti];
                while vi < t.villages.end && h >= p.villages[vi].first + p.villages[vi].households {
                    vi += 1;
                    if vi < t.villages.end {
                        h = p.villages[vi].first;
                    }
                }
                if vi >= t.villages.end {
                    cursors.swap_remove(i);
                    continue;
                }
                self.household_activity(vi, h, visits, items, issues, callbacks);
                cursors[i] = (ti, vi, h + 1);
                i += 1;
            }
            if !(visits.flush_if_full()
                && items.flush_if_full()
                && issues.flush_if_full()
                && callbacks.flush_if_full())
            {
                return false;
            }
        }
        visits.flush() && items.flush() && issues.flush() && callbacks.flush()
    }

    pub fn household_activity(
        &self,
        vi: usize,
        h: u64,
        visits: &mut Sink,
        items: &mut Sink,
        issues: &mut Sink,
        callbacks: &mut Sink,
    ) {
        let p = &self.p;
        let v = &p.villages[vi];
        let county = &p.counties[v.county];
        let mut r = Rng::at(p.seed, K_VISITS, h);
        let t = traits(p.seed, h);
        let household_id = p.household_id(h);
        let tagged = !t.tags.is_empty();
        let mut n_visits = 0u64;
        if !r.chance(self.unvisited) {
            n_visits = 1;
            while n_visits < 32 && r.chance(self.extra_q) {
                n_visits += 1;
            }
        }
        // The township cadre answering for this village (包村干部).
        let local = (vi - p.townships[v.township].villages.start) as u64;
        let responsible = p.staff(v.township, local % STAFF);
        for k in 0..n_visits {
            let visit_no = (h << 5) | k;
            let visit_id = uuid_of(p.seed, K_VISIT, visit_no);
            let mut r = Rng::at(p.seed, K_VISIT, visit_no);
            let started = self.start + r.range(0, self.now - self.start - 7200);
            let ended = started + r.range(20, 90) * 60;
            let recorded = ended + r.range(60, 3600);
            let mut cadres = vec![if r.chance(0.7) {
                responsible
            } else {
                p.village_cadre(vi, r.below(VILLAGE_CADRES))
            }];
            if r.chance(0.25) {
                cadres.push(p.village_cadre(vi, r.below(VILLAGE_CADRES)));
                cadres.dedup();
            }
            let cadre_texts: Vec<String> = cadres.iter().map(Uuid::to_string).collect();
            let mode: i64 = match r.below(100) {
                0..=79 => 1,
                80..=87 => 2,
                88..=91 => 3,
                92..=94 => 4,
                _ => 5,
            };
            let overnight = mode == 5 || r.chance(0.02);
            let help_p = if tagged { 0.3 } else { 0.04 };
            let cash = if r.chance(help_p) {
                r.range(2, 10) * 10_000
            } else {
                0
            };
            let goods = if r.chance(help_p * 0.6) {
                r.range(5, 30) * 1_000
            } else {
                0
            };
            let disputed = r.chance(0.003);
            let n_items = if r.chance(self.item_rate * 0.8) {
                1 + u64::from(r.chance(0.2)) * (1 + u64::from(r.chance(0.25)))
            } else {
                0
            };
            let mut row = visits.row();
            row.raw(&county.code)
                .uuid(visit_id)
                .uuid(county.campaign_id)
                .uuid(household_id)
                .raw(&v.code)
                .array(&cadre_texts)
                .ts(started)
                .ts(ended)
                .int(mode)
                .bool(overnight);
            if mode == 2 {
                row.null().null();
            } else {
                row.float(26.0 + (v.county as f64 * 0.037) % 3.0 + r.unit() * 0.05)
                    .float(110.0 + (v.county as f64 * 0.053) % 3.5 + r.unit() * 0.05);
            }
            let chars = r.range(60, 160) as usize;
            let narrative = prose(&mut r, NARRATIVE, chars);
            row.text(r.word(SITUATIONS)).text(&narrative);
            let policies: Vec<&str> = (0..r.below(3)).map(|_| r.word(POLICIES)).collect();
            row.array(&policies);
            let mut materials = String::from("[");
            for m in 0..r.below(3) {
                if m > 0 {
                    materials.push_str(", ");
                }
                let _ = std::fmt::Write::write_fmt(
                    &mut materials,
                    format_args!(
                        "{{\"name\": \"{}\", \"quantity\": {}}}",
                        r.word(MATERIALS),
                        r.range(1, 5)
                    ),
                );
            }
            materials.push(']');
            row.text(&materials)
                .int(cash)
                .text(if goods > 0 { r.word(GOODS) } else { "" })
                .int(goods);
            let photos: Vec<String> = (0..r.range(1, 3))
                .map(|i| format!("photos/2026/{visit_id}-{i}.jpg"))
                .collect();
            row.array(&photos);
            let complete = r.chance(0.95);
            row.bool(complete)
                .array(if complete {
                    &[][..]
                } else {
                    &["narrative"][..]
                })
                .bool(disputed)
                .text(if disputed {
                    "回访时户主否认有过此次走访"
                } else {
                    ""
                })
                .random_bytes(&mut r, 32)
                .ts(recorded)
                .end();

            // A share of visits is called back (督查回访), blind to the cadre.
            if !disputed && r.chance(0.03) {
                let created = recorded + 86_400;
                let due = created + 7 * 86_400;
                let state = if due < self.now - 2 * 86_400 {
                    match r.below(100) {
                        0..=87 => "done",
                        88..=91 => "unreachable",
                        _ => "open",
                    }
                } else if r.chance(0.3) {
                    "done"
                } else {
                    "open"
                };
                let callback_id = uuid_of(p.seed, K_CALLBACK, visit_no << 2);
                let supervisor = r.pick(&county.supervisors);
                let done = state == "done";
                let completed = (state != "open").then(|| created + r.range(3600, 5 * 86_400));
                let mut row = callbacks.row();
                row.raw(&county.code)
                    .uuid(callback_id)
                    .int(2)
                    .null()
                    .uuid(visit_id)
                    .uuid(household_id)
                    .raw(&v.code)
                    .uuid(county.campaign_id)
                    .raw(supervisor)
                    .raw(state)
                    .ts(due)
                    .int(match state {
                        "done" => r.range(1, 2),
                        "unreachable" => 3,
                        _ => r.range(0, 1),
                    })
                    .int(3)
                    .text(&format!("核实{}的走访", v.name))
                    .int(1)
                    .array(&cadre_texts)
                    .bool(done)
                    .bool(done && r.chance(0.97))
                    .bool(false)
                    .int(0)
                    .text(if done { "户主确认走访属实" } else { "" })
                    .int(t.members)
                    .int(cash + goods)
                    .date(started);
                if done {
                    row.int(t.members).int(cash + goods).date(started);
                } else {
                    row.null().null().null();
                }
                row.int(0).ts(created).opt_ts(completed).end();
            }

            for item_no in 1..=n_items {
                self.visit_item(
                    &mut r,
                    (vi, h, visit_no, item_no),
                    (visit_id, household_id, &cadres, recorded),
                    items,
                    issues,
                    callbacks,
                );
            }
        }
        // Items from walk-in reception, the hotline and petition cases.
        let mut others = 0;
        while others < 3 && r.chance(if others == 0 { self.other_rate } else { 0.1 }) {
            others += 1;
            let created = self.start + r.range(0, self.now - self.start - 3600);
            let source = match r.below(100) {
                0..=39 => 2,
                40..=84 => 3,
                _ => 4,
            };
            let issue_id = uuid_of(p.seed, K_OTHER_ISSUE, (h << 2) | others);
            let kind = if source == 4 {
                4
            } else {
                1 + r.below(3) as i64
            };
            let category = match kind {
                3 => "矛盾纠纷",
                4 => "信访积案",
                _ => r.word(CATEGORIES),
            };
            let (in_campaign, known, urgent) = (r.chance(0.6), r.chance(0.8), r.chance(0.05));
            let description = r.word(DESCRIPTIONS);
            self.issue(
                &mut r,
                IssueSeed {
                    issue_id,
                    source,
                    visit_id: None,
                    item_no: 0,
                    campaign: in_campaign,
                    household_id: known.then_some(household_id),
                    vi,
                    kind,
                    on_spot: false,
                    urgent,
                    households_involved: 0,
                    responsible,
                    created,
                    description,
                    category,
                },
                issues,
                callbacks,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn visit_item(
        &self,
        r: &mut Rng,
        (vi, _h, visit_no, item_no): (usize, u64, u64, u64),
        (visit_id, household_id, cadres, recorded): (Uuid, Uuid, &[Uuid], i64),
        items: &mut Sink,
        issues: &mut Sink,
        callbacks: &mut Sink,
    ) {
        let p = &self.p;
        let v = &p.villages[vi];
        let kind: i64 = match r.below(100) {
            0..=59 => 1,
            60..=79 => 2,
            80..=91 => 3,
            _ => 4,
        };
        let category = match kind {
            3 => "矛盾纠纷",
            4 => "信访积案",
            _ => r.word(CATEGORIES),
        };
        let description = r.word(DESCRIPTIONS);
        let households_involved = if kind == 3 { r.range(2, 5) } else { 0 };
        let on_spot = kind != 4 && r.chance(0.3);
        let urgent = r.chance(0.03);
        items
            .row()
            .raw(&v.code[..6])
            .uuid(visit_id)
            .int(item_no as i64)
            .int(kind)
            .text(category)
            .text(description)
            .int(households_involved)
            .bool(on_spot)
            .text(if on_spot {
                "现场解释说明，户主认可"
            } else {
                ""
            })
            .bool(urgent)
            .end();
        let created = recorded + r.range(1, 30);
        self.issue(
            r,
            IssueSeed {
                issue_id: uuid_of(p.seed, K_ISSUE, (visit_no << 2) | item_no),
                source: 1,
                visit_id: Some(visit_id),
                item_no: item_no as i64,
                campaign: true,
                household_id: Some(household_id),
                vi,
                kind,
                on_spot,
                urgent,
                households_involved,
                responsible: cadres[0],
                created,
                description,
                category,
            },
            issues,
            callbacks,
        );
    }

    /// One ledger item and, when it was resolved or explained and sampled,
    /// its callback.
    pub fn issue(&self, r: &mut Rng, s: IssueSeed<'_>, issues: &mut Sink, callbacks: &mut Sink) {
        let p = &self.p;
        let v = &p.villages[s.vi];
        let county = &p.counties[v.county];
        // A ledger item keeps the category the visit gave it.
        let category = s.category;
        let age_days = (self.now - s.created) as f64 / 86_400.0;
        let priority = if s.urgent {
            3
        } else if r.chance(0.1) {
            2
        } else {
            1
        };
        let mut disposition = 0;
        let mut deadline = None;
        let mut resolved_at = None;
        let mut in_time = None;
        let mut ever_escalated = false;
        let mut department = "";
        let mut merged_into = None;
        let state: &str;
        if s.on_spot {
            disposition = 1;
            resolved_at = Some(s.created);
            in_time = Some(true);
            state = if r.chance(0.7) {
                "verified"
            } else {
                "resolved"
            };
        } else if r.chance(0.02) {
            state = "duplicate";
            merged_into = Some(uuid_of(p.seed, K_ISSUE, r.next_u64()));
        } else {
            disposition = match r.below(100) {
                0..=67 => 2,
                68..=79 => 3,
                _ => 4,
            };
            if disposition == 4 {
                // 解释说明: explained within days, a few still waiting.
                let at = s.created + r.range(3600, 5 * 86_400);
                if at < self.now && r.chance(0.8) {
                    resolved_at = Some(at);
                    state = "explained";
                } else {
                    state = "assigned";
                }
            } else {
                let days = *r.pick(&[7, 15, 30]);
                let due = s.created + days * 86_400;
                deadline = Some(due);
                if disposition == 3 {
                    ever_escalated = true;
                    department = r.word(DEPARTMENTS);
                }
                let done = r.chance((age_days / (days as f64 * 1.2)).min(0.95));
                if done {
                    let at =
                        (s.created + r.range(86_400, days * 86_400 * 13 / 10)).min(self.now - 60);
                    resolved_at = Some(at);
                    in_time = Some(at <= due);
                    state = if r.chance(0.65) {
                        "verified"
                    } else {
                        "resolved"
                    };
                } else {
                    state = match r.below(100) {
                        0..=14 => "open",
                        15..=44 => "assigned",
                        45..=89 => {
                            if disposition == 3 {
                                "escalated"
                            } else {
                                "in_progress"
                            }
                        }
                        _ => "reopened",
                    };
                }
            }
        }
        let reopened = state == "reopened" || r.chance(0.02);
        let version = r.range(1, 6);
        let mut row = issues.row();
        row.raw(&county.code)
            .uuid(s.issue_id)
            .int(s.source)
            .opt_uuid(s.visit_id)
            .int(s.item_no)
            .opt_uuid(s.campaign.then_some(county.campaign_id))
            .opt_uuid(s.household_id)
            .raw(&v.code)
            .int(s.kind)
            .text(category)
            .text(s.description)
            .int(s.households_involved)
            .int(priority)
            .int(disposition)
            .raw(state)
            .text(&if disposition >= 2 {
                s.responsible.to_string()
            } else {
                String::new()
            })
            .text(department)
            .opt_ts(deadline)
            .text(if resolved_at.is_some() && disposition != 4 {
                "已按要求整改到位"
            } else {
                ""
            })
            .text(if disposition == 4 {
                "已向当事人解释相关政策"
            } else {
                ""
            })
            .int(i64::from(reopened))
            .int(1 + i64::from(reopened))
            .int(i64::from(ever_escalated))
            .opt_uuid(merged_into)
            .bool(r.chance(0.05))
            .raw(match in_time {
                Some(true) => "t",
                Some(false) => "f",
                None => "\\N",
            })
            .bool(ever_escalated)
            .int(version)
            .random_bytes(r, 32)
            .ts(s.created)
            .ts(resolved_at.unwrap_or(s.created))
            .opt_ts(resolved_at)
            .end();

        // Callbacks on resolved or explained items: always for urgent,
        // dispute and petition items, a share of the others.
        let closed = matches!(state, "resolved" | "verified" | "explained");
        if closed && (s.urgent || s.kind >= 3 || r.chance(0.3)) {
            let created = resolved_at.unwrap_or(s.created) + 43_200;
            let state = match state {
                "verified" => "done",
                "explained" if r.chance(0.7) => "done",
                _ => "open",
            };
            let done = state == "done";
            let mut row = callbacks.row();
            row.raw(&county.code)
                .uuid(uuid_of(
                    p.seed,
                    K_CALLBACK,
                    (s.issue_id.as_u64_pair().0 << 2) | 1,
                ))
                .int(1)
                .uuid(s.issue_id)
                .opt_uuid(s.visit_id)
                .opt_uuid(s.household_id)
                .raw(&v.code)
                .opt_uuid(s.campaign.then_some(county.campaign_id))
                .raw(r.pick(&county.supervisors).as_str())
                .raw(state)
                .ts(created + 7 * 86_400)
                .int(if done { r.range(1, 2) } else { r.range(0, 2) })
                .int(3)
                .text(&format!("{}：{}", category, s.description))
                .int(1)
                .array(&[s.responsible.to_string()])
                .bool(done)
                .bool(false)
                .bool(done)
                .int(if done {
                    *r.pick(&[1, 1, 1, 2, 2, 3])
                } else {
                    0
                })
                .text(if done { "问题已解决" } else { "" })
                .null()
                .null()
                .null()
                .null()
                .null()
                .null()
                .int(0)
                .ts(created)
                .opt_ts(done.then(|| created + r.range(3600, 3 * 86_400)))
                .end();
        }
    }
}

pub struct IssueSeed<'a> {
    pub issue_id: Uuid,
    pub source: i64,
    pub visit_id: Option<Uuid>,
    pub item_no: i64,
    pub campaign: bool,
    pub household_id: Option<Uuid>,
    pub vi: usize,
    pub kind: i64,
    pub on_spot: bool,
    pub urgent: bool,
    pub households_involved: i64,
    pub responsible: Uuid,
    pub created: i64,
    pub description: &'a str,
    pub category: &'a str,
}
