//! Campaign summaries (活动总结) and the county view through the gateway,
//! on the real services: a generated county-wide campaign whose true
//! totals are worked out here, independently, while it is recorded —
//! visits in every mode with nights stayed, help in fen to poor and other
//! households, materials, items of every kind resolved on the spot, in time
//! through the ledger, escalated, explained, disputes with households
//! involved — summarises to exactly those totals as JSON, Markdown, HTML
//! (with its SVG charts) and XLSX; the county view ranks the townships; a
//! township admin cannot read another township.
use std::{collections::BTreeMap, io::Cursor, time::Duration};

use calamine::{Data, Reader, Xlsx};
use serde_json::Value;
use uuid::Uuid;
use zoufang_core::auth::roles;
use zoufang_e2e::{Issues, Registry, Supervision, eventually, fixtures, gateway::TestGateway};
use zoufang_gateway::desk::report::render::pct;
use zoufang_gen::rng::Rng;
use zoufang_proto::{
    common::v1::{Help, ItemKind, MaterialHandout, RaisedItem, VisitMode},
    issues::v1::*,
    registry::v1::*,
    supervision::v1::{SamplingPolicy, SetSamplingPolicyRequest},
};
use zoufang_types::Fen;

const COUNTY: &str = "430426000000";
/// (code, name) of the three townships: 104 partly visited, 105 fully, 106 not at all.
const TOWNSHIPS: [(&str, &str); 3] = [
    ("430426104000", "白鹤铺镇"),
    ("430426105000", "太和堂镇"),
    ("430426106000", "归阳镇"),
];
/// (code, name, households).
const VILLAGES: [(&str, &str, usize); 6] = [
    ("430426104201", "黄龙村", 4),
    ("430426104202", "肖家村", 3),
    ("430426104203", "桃源村", 3),
    ("430426105201", "新塘村", 3),
    ("430426105202", "石门村", 2),
    ("430426106201", "双桥村", 2),
];
/// Tags by household, in turn: two poor (低保, 特困户), two not (留守, 残疾).
const TAGS: [&str; 4] = ["低保", "留守", "特困户", "残疾"];
const MODES: [VisitMode; 5] = [
    VisitMode::DoorToDoor,
    VisitMode::Phone,
    VisitMode::Reception,
    VisitMode::CaseVisit,
    VisitMode::LiveIn,
];
const LEAFLET: &str = "惠民政策宣传资料";
const MANUAL: &str = "农技手册";

fn region_csv() -> String {
    let mut lines = vec![
        "code,name,level,pcode".to_owned(),
        "430000000000,湖南省,1,".into(),
        "430400000000,衡阳市,2,430000000000".into(),
        format!("{COUNTY},祁东县,3,430400000000"),
    ];
    for (code, name) in TOWNSHIPS {
        lines.push(format!("{code},{name},4,{COUNTY}"));
    }
    for (code, name, _) in VILLAGES {
        lines.push(format!("{code},{name},5,{}000", &code[..9]));
    }
    lines.join("\n")
}

/// What happens to an item in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    OnSpot,
    InTime,
    InTimeVerified,
    Escalate,
    Explain,
    Open,
}

/// The true figures of one region, counted as the campaign is generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Truth {
    households_total: i64,
    households_visited: i64,
    visits: i64,
    by_mode: [i64; 5],
    overnight: i64,
    disputed_visits: i64,
    helped: i64,
    poor_helped: i64,
    cash_fen: i64,
    goods_fen: i64,
    materials: BTreeMap<String, i64>,
    items_on_visits: i64,
    items_on_spot_on_visits: i64,
    collected: i64,
    by_kind: [i64; 4],
    on_spot: i64,
    in_time: i64,
    escalated: i64,
    explained: i64,
    open: i64,
    verified: i64,
    disputes_mediated: i64,
    dispute_households: i64,
    by_category: BTreeMap<String, i64>,
}

impl Truth {
    fn add(&mut self, o: &Truth) {
        self.households_total += o.households_total;
        self.households_visited += o.households_visited;
        self.visits += o.visits;
        for i in 0..5 {
            self.by_mode[i] += o.by_mode[i];
        }
        self.overnight += o.overnight;
        self.disputed_visits += o.disputed_visits;
        self.helped += o.helped;
        self.poor_helped += o.poor_helped;
        self.cash_fen += o.cash_fen;
        self.goods_fen += o.goods_fen;
        for (k, v) in &o.materials {
            *self.materials.entry(k.clone()).or_default() += v;
        }
        self.items_on_visits += o.items_on_visits;
        self.items_on_spot_on_visits += o.items_on_spot_on_visits;
        self.collected += o.collected;
        for i in 0..4 {
            self.by_kind[i] += o.by_kind[i];
        }
        self.on_spot += o.on_spot;
        self.in_time += o.in_time;
        self.escalated += o.escalated;
        self.explained += o.explained;
        self.open += o.open;
        self.verified += o.verified;
        self.disputes_mediated += o.disputes_mediated;
        self.dispute_households += o.dispute_households;
        for (k, v) in &o.by_category {
            *self.by_category.entry(k.clone()).or_default() += v;
        }
    }

    /// Counts one item and what the ledger will do with it.
    fn item(&mut self, item: &RaisedItem, fate: Fate) {
        self.items_on_visits += 1;
        self.items_on_spot_on_visits += i64::from(item.resolved_on_spot);
        self.collected += 1;
        self.by_kind[(item.kind - 1) as usize] += 1;
        *self.by_category.entry(item.category.clone()).or_default() += 1;
        match fate {
            Fate::OnSpot => self.on_spot += 1,
            Fate::InTime => self.in_time += 1,
            Fate::InTimeVerified => {
                self.in_time += 1;
                self.verified += 1;
            }
            Fate::Escalate => {
                self.escalated += 1;
                self.open += 1;
            }
            Fate::Explain => self.explained += 1,
            Fate::Open => self.open += 1,
        }
        if item.kind == ItemKind::Dispute as i32 && fate != Fate::Escalate && fate != Fate::Open {
            self.disputes_mediated += 1;
            self.dispute_households += i64::from(item.households_involved);
        }
    }

    fn coverage_bp(&self) -> i64 {
        if self.households_total == 0 {
            0
        } else {
            self.households_visited * 10_000 / self.households_total
        }
    }

    fn resolution_bp(&self) -> Option<i64> {
        (self.collected > 0).then(|| (self.collected - self.open) * 10_000 / self.collected)
    }

    /// Asserts a region's JSON figures are exactly these.
    fn check(&self, j: &Value, what: &str) {
        let n = |v: &Value| {
            v.as_i64()
                .unwrap_or_else(|| panic!("{what}: {v} is not a number"))
        };
        let v = &j["visits"];
        let got_modes: Vec<i64> = v["by_mode"]
            .as_array()
            .expect("by_mode")
            .iter()
            .take(5)
            .map(|m| n(&m["visits"]))
            .collect();
        let got = [
            (
                "households_total",
                n(&v["households_total"]),
                self.households_total,
            ),
            (
                "households_visited",
                n(&v["households_visited"]),
                self.households_visited,
            ),
            ("coverage_bp", n(&v["coverage_bp"]), self.coverage_bp()),
            ("visits", n(&v["visits"]), self.visits),
            ("overnight_stays", n(&v["overnight_stays"]), self.overnight),
            (
                "disputed_visits",
                n(&v["disputed_visits"]),
                self.disputed_visits,
            ),
            (
                "items_raised_on_visits",
                n(&v["items_raised_on_visits"]),
                self.items_on_visits,
            ),
            (
                "items_resolved_on_spot_on_visits",
                n(&v["items_resolved_on_spot_on_visits"]),
                self.items_on_spot_on_visits,
            ),
            (
                "households_helped",
                n(&j["help"]["households_helped"]),
                self.helped,
            ),
            (
                "poor_households_helped",
                n(&j["help"]["poor_households_helped"]),
                self.poor_helped,
            ),
            ("cash_fen", n(&j["help"]["cash_fen"]), self.cash_fen),
            (
                "goods_value_fen",
                n(&j["help"]["goods_value_fen"]),
                self.goods_fen,
            ),
            (
                "total_fen",
                n(&j["help"]["total_fen"]),
                self.cash_fen + self.goods_fen,
            ),
            (
                "materials.total",
                n(&j["materials"]["total"]),
                self.materials.values().sum(),
            ),
        ];
        for (field, got, want) in got {
            assert_eq!(got, want, "{what}: {field}");
        }
        assert_eq!(got_modes, self.by_mode.to_vec(), "{what}: visits by mode");
        let materials: BTreeMap<String, i64> = j["materials"]["by_name"]
            .as_array()
            .expect("materials")
            .iter()
            .map(|m| {
                (
                    m["name"].as_str().unwrap_or_default().to_owned(),
                    n(&m["quantity"]),
                )
            })
            .collect();
        assert_eq!(materials, self.materials, "{what}: materials");

        let l = &j["ledger"];
        let got = [
            ("collected", n(&l["collected"]), self.collected),
            ("problems", n(&l["problems"]), self.by_kind[0]),
            ("suggestions", n(&l["suggestions"]), self.by_kind[1]),
            ("disputes", n(&l["disputes"]), self.by_kind[2]),
            ("petitions", n(&l["petitions"]), self.by_kind[3]),
            ("resolved_on_spot", n(&l["resolved_on_spot"]), self.on_spot),
            ("resolved_in_time", n(&l["resolved_in_time"]), self.in_time),
            ("resolved_late", n(&l["resolved_late"]), 0),
            ("escalated", n(&l["escalated"]), self.escalated),
            ("explained", n(&l["explained"]), self.explained),
            ("open", n(&l["open"]), self.open),
            ("overdue", n(&l["overdue"]), 0),
            ("closed", n(&l["closed"]), self.collected - self.open),
            ("reopened", n(&l["reopened"]), 0),
            ("verified", n(&l["verified"]), self.verified),
            (
                "disputes_mediated",
                n(&l["disputes_mediated"]),
                self.disputes_mediated,
            ),
            (
                "dispute_households",
                n(&l["dispute_households"]),
                self.dispute_households,
            ),
        ];
        for (field, got, want) in got {
            assert_eq!(got, want, "{what}: ledger.{field}");
        }
        assert_eq!(
            l["resolution_rate_bp"].as_i64(),
            self.resolution_bp(),
            "{what}: resolution rate"
        );
        let categories: BTreeMap<String, i64> = l["by_category"]
            .as_array()
            .expect("by_category")
            .iter()
            .map(|c| {
                (
                    c["category"].as_str().unwrap_or_default().to_owned(),
                    n(&c["count"]),
                )
            })
            .collect();
        assert_eq!(categories, self.by_category, "{what}: categories");
    }
}

/// The generated campaign: its id, the truth per village, and each
/// item's fate by (visit id, item no).
struct Campaign {
    id: String,
    villages: BTreeMap<&'static str, Truth>,
    fates: BTreeMap<(String, i32), Fate>,
    cadres: BTreeMap<&'static str, String>,
}

impl Campaign {
    fn truth(&self, prefix: &str) -> Truth {
        let mut t = Truth::default();
        for (code, v) in &self.villages {
            if code.starts_with(prefix) {
                t.add(v);
            }
        }
        t
    }
}

fn visit_base(campaign_id: &str, household_id: &str, cadre_id: &str, k: i64) -> RecordVisitRequest {
    let mut v = fixtures::visit_request(
        &fixtures::Seed {
            campaign_id: campaign_id.into(),
            cadre_id: cadre_id.into(),
            household_ids: vec![],
        },
        household_id,
    );
    // One visit every 16 hours, back from now.
    v.started_at = fixtures::ago((k + 2) * 16 * 3600);
    v.ended_at = fixtures::ago((k + 2) * 16 * 3600 - 3600);
    v.materials.clear();
    v.help = None;
    v.items.clear();
    v
}

/// Seeds regions, cadres, households and a county-wide campaign, records
/// the generated visits and returns the truth.
async fn generate(admin: &mut Registry, sup: &mut Supervision) -> Campaign {
    admin
        .import_regions(ImportRegionsRequest {
            csv: region_csv().into_bytes(),
        })
        .await
        .expect("import regions");
    let mut cadres = BTreeMap::new();
    for (i, (code, _)) in TOWNSHIPS.iter().enumerate() {
        let id = Uuid::new_v4().to_string();
        admin
            .register_cadre(RegisterCadreRequest {
                cadre_id: id.clone(),
                name: format!("工作队员{i}"),
                phone: format!("1380734000{i}"),
                unit: CadreUnit::TownshipOffice as i32,
                position: "工作队员".into(),
                region_code: code[..9].into(),
                roles: vec!["cadre".into()],
            })
            .await
            .expect("register cadre");
        cadres.insert(*code, id);
    }
    let campaign_id = Uuid::new_v4().to_string();
    admin
        .create_campaign(CreateCampaignRequest {
            campaign_id: campaign_id.clone(),
            region_code: COUNTY.into(),
            name: "祁东县万名干部下乡进村入户大走访".into(),
            starts_at: fixtures::ago(30 * 86400),
            ends_at: fixtures::ago(-30 * 86400),
            themes: vec!["信访维稳".into(), "民生工程".into()],
            status: CampaignStatus::Active as i32,
            completeness_policy: CompletenessPolicy::Refuse as i32,
            quotas: vec![],
        })
        .await
        .expect("create campaign");
    // Supervision verifies every visit of town 104 and calls back no
    // ordinary item: its visit callbacks there are exactly the visits.
    sup.set_sampling_policy(SetSamplingPolicyRequest {
        campaign_id: campaign_id.clone(),
        region_code: TOWNSHIPS[0].0.into(),
        policy: Some(SamplingPolicy {
            item_share_bp: 0,
            visit_share_bp: 10_000,
            min_visits_per_cadre: 0,
            high_risk_threshold: 60,
            high_risk_visit_share_bp: 10_000,
            due_days: 3,
            max_attempts: 3,
        }),
    })
    .await
    .expect("sampling policy");

    // The generator's seeded stream, so the campaign is the same every run.
    let mut rng = Rng::new(20_261_129, "report", 0);
    let mut villages: BTreeMap<&'static str, Truth> = BTreeMap::new();
    let mut fates = BTreeMap::new();
    let mut cycle = [
        Fate::InTime,
        Fate::Escalate,
        Fate::Explain,
        Fate::InTimeVerified,
        Fate::Open,
    ]
    .into_iter()
    .cycle();
    let mut visits: Vec<(RecordVisitRequest, &'static str)> = Vec::new();
    let mut k = 0i64;
    let mut g = 0usize;
    for (village, _, n) in VILLAGES {
        let township = &village[..9];
        let cadre = &cadres[format!("{township}000").as_str()];
        let truth = villages.entry(village).or_default();
        for i in 0..n {
            let household_id = Uuid::new_v4().to_string();
            let tag = TAGS[g % TAGS.len()];
            g += 1;
            let mut req = fixtures::household_request(&household_id, village, g as u32);
            req.tags = vec![tag.into()];
            admin
                .register_household(req)
                .await
                .expect("register household");
            truth.households_total += 1;
            // 105 visits everyone, 106 no one, 104 about two in three (never 桃源村's last).
            let visited = match township {
                "430426105" => true,
                "430426106" => false,
                _ => !(village == "430426104203" && i == n - 1) && rng.below(3) != 0,
            };
            if !visited {
                continue;
            }
            truth.households_visited += 1;
            let mut helped = false;
            for _ in 0..1 + rng.below(2) {
                let mut v = visit_base(&campaign_id, &household_id, cadre, k);
                k += 1;
                let m = rng.below(5) as usize;
                v.mode = MODES[m] as i32;
                v.overnight_stay = MODES[m] == VisitMode::LiveIn || (m == 0 && rng.below(3) == 0);
                if v.overnight_stay {
                    v.ended_at = fixtures::ago((k + 1) * 16 * 3600 - 12 * 3600);
                }
                truth.visits += 1;
                truth.by_mode[m] += 1;
                truth.overnight += i64::from(v.overnight_stay);
                if rng.below(3) == 0 {
                    let cash = (1 + rng.below(3) as i64) * 10_000;
                    let goods = rng.below(2) as i64 * (2_550 + rng.below(90) as i64 * 7);
                    v.help = Some(Help {
                        cash_fen: cash,
                        goods_description: if goods > 0 {
                            "化肥两袋".into()
                        } else {
                            String::new()
                        },
                        goods_value_fen: goods,
                    });
                    truth.cash_fen += cash;
                    truth.goods_fen += goods;
                    helped = true;
                }
                if rng.below(2) == 0 {
                    let q = 1 + rng.below(4) as i32;
                    v.materials.push(MaterialHandout {
                        name: LEAFLET.into(),
                        quantity: q,
                    });
                    *truth.materials.entry(LEAFLET.into()).or_default() += i64::from(q);
                    if rng.below(3) == 0 {
                        v.materials.push(MaterialHandout {
                            name: MANUAL.into(),
                            quantity: 2,
                        });
                        *truth.materials.entry(MANUAL.into()).or_default() += 2;
                    }
                }
                for no in 1..=rng.below(3) as i32 {
                    let kind = 1 + rng.below(4) as i32;
                    let category = match kind {
                        1 => ["城镇建设", "民生工程", "农田水利"][rng.below(3) as usize],
                        2 => "经济发展",
                        3 => "矛盾纠纷",
                        _ => "信访积案",
                    };
                    let on_spot = rng.below(3) == 0;
                    let item = RaisedItem {
                        item_no: no,
                        kind,
                        category: category.into(),
                        description: format!("群众反映的第{no}件事"),
                        households_involved: if kind == 3 {
                            2 + rng.below(3) as i32
                        } else {
                            0
                        },
                        resolved_on_spot: on_spot,
                        resolution_note: if on_spot {
                            "现场协调解决".into()
                        } else {
                            String::new()
                        },
                        urgent: false,
                    };
                    let fate = if on_spot {
                        Fate::OnSpot
                    } else {
                        cycle.next().expect("cycle")
                    };
                    truth.item(&item, fate);
                    fates.insert((v.visit_id.clone(), no), fate);
                    v.items.push(item);
                }
                visits.push((v, village));
            }
            if helped {
                truth.helped += 1;
                truth.poor_helped += i64::from(tag == "低保" || tag == "特困户");
            }
        }
    }

    // A scripted visit in 新塘村 makes sure every fate and kind occurs.
    let (first_105, _) = visits
        .iter()
        .find(|(_, v)| v.starts_with("430426105201"))
        .expect("a visit in 新塘村");
    let household = first_105.household_id.clone();
    let mut v = visit_base(&campaign_id, &household, &cadres["430426105000"], k);
    k += 1;
    let scripted = [
        (ItemKind::Dispute, "矛盾纠纷", 3, false, Fate::InTime),
        (ItemKind::Dispute, "矛盾纠纷", 2, true, Fate::OnSpot),
        (ItemKind::Petition, "信访积案", 0, false, Fate::Escalate),
        (ItemKind::Suggestion, "经济发展", 0, false, Fate::Explain),
        (
            ItemKind::Problem,
            "民生工程",
            0,
            false,
            Fate::InTimeVerified,
        ),
        (ItemKind::Problem, "城镇建设", 0, false, Fate::Open),
    ];
    let truth = villages.get_mut("430426105201").expect("新塘村");
    truth.visits += 1;
    truth.by_mode[0] += 1;
    for (i, (kind, category, involved, on_spot, fate)) in scripted.into_iter().enumerate() {
        let item = RaisedItem {
            item_no: i as i32 + 1,
            kind: kind as i32,
            category: category.into(),
            description: "专项走访中群众反映".into(),
            households_involved: involved,
            resolved_on_spot: on_spot,
            resolution_note: if on_spot {
                "当场调解，双方认可".into()
            } else {
                String::new()
            },
            urgent: false,
        };
        truth.item(&item, fate);
        fates.insert((v.visit_id.clone(), i as i32 + 1), fate);
        v.items.push(item);
    }
    visits.push((v, "430426105201"));

    // A visit the resident denies: it counts only as disputed.
    let (first_104, _) = visits
        .iter()
        .find(|(_, v)| v.starts_with("430426104"))
        .expect("a visit in 白鹤铺镇");
    let mut denied = visit_base(
        &campaign_id,
        &first_104.household_id.clone(),
        &cadres["430426104000"],
        k,
    );
    denied.mode = VisitMode::Phone as i32;
    denied.help = Some(Help {
        cash_fen: 99_900,
        ..Default::default()
    });
    let denied_village = visits
        .iter()
        .find(|(v, _)| v.household_id == denied.household_id)
        .map(|(_, village)| *village)
        .expect("village");
    villages
        .get_mut(denied_village)
        .expect("village")
        .disputed_visits += 1;
    let denied_id = denied.visit_id.clone();
    visits.push((denied, denied_village));

    for (v, _) in visits {
        admin.record_visit(v).await.expect("record visit");
    }
    admin
        .flag_visit_disputed(FlagVisitDisputedRequest {
            visit_id: denied_id,
            reason: "回访户主称未接到电话".into(),
        })
        .await
        .expect("flag disputed");
    Campaign {
        id: campaign_id,
        villages,
        fates,
        cadres,
    }
}

/// Waits for the ledger to hold every item, then moves each to its fate.
async fn work_the_ledger(ledger: &mut Issues, c: &Campaign) {
    let want = c.truth("430426").collected;
    let caught_up = eventually(Duration::from_secs(30), || {
        let mut ledger = ledger.clone();
        async move {
            let s = ledger
                .get_issue_statistics(GetIssueStatisticsRequest {
                    region_code: "430426".into(),
                    campaign_id: c.id.clone(),
                })
                .await
                .ok()?
                .into_inner();
            (s.collected == want).then_some(())
        }
    })
    .await;
    assert!(
        caught_up.is_some(),
        "the ledger never held all {want} items"
    );

    let mut issues = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = ledger
            .list_issues(ListIssuesRequest {
                campaign_id: c.id.clone(),
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .expect("list issues")
            .into_inner();
        issues.extend(page.issues);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(issues.len() as i64, want);
    for issue in issues {
        let fate = c.fates[&(issue.visit_id.clone(), issue.item_no)];
        let id = issue.issue_id.clone();
        let cadre = &c.cadres[format!("{}000", &issue.region_code[..9]).as_str()];
        let one = |r: Option<Issue>| r.expect("issue");
        match fate {
            Fate::OnSpot | Fate::Open => {}
            Fate::InTime | Fate::InTimeVerified => {
                let i = one(ledger
                    .assign_issue(AssignIssueRequest {
                        issue_id: id.clone(),
                        expected_version: issue.version,
                        cadre_id: cadre.clone(),
                        deadline_days: 7,
                        note: "限时解决".into(),
                    })
                    .await
                    .expect("assign")
                    .into_inner()
                    .issue);
                let i = one(ledger
                    .resolve_issue(ResolveIssueRequest {
                        issue_id: id.clone(),
                        expected_version: i.version,
                        resolution: "已按期办结".into(),
                    })
                    .await
                    .expect("resolve")
                    .into_inner()
                    .issue);
                if fate == Fate::InTimeVerified {
                    ledger
                        .verify_issue(VerifyIssueRequest {
                            issue_id: id,
                            expected_version: i.version,
                            note: "回访群众满意".into(),
                        })
                        .await
                        .expect("verify");
                }
            }
            Fate::Escalate => {
                ledger
                    .escalate_issue(EscalateIssueRequest {
                        issue_id: id,
                        expected_version: issue.version,
                        department: "县交通局".into(),
                        assisting_departments: vec![],
                        sign_within_hours: 48,
                        note: "需县直部门解决".into(),
                    })
                    .await
                    .expect("escalate");
            }
            Fate::Explain => {
                ledger
                    .explain_issue(ExplainIssueRequest {
                        issue_id: id,
                        expected_version: issue.version,
                        explanation: "已按政策向群众解释说明".into(),
                        resident_acknowledged: true,
                    })
                    .await
                    .expect("explain");
            }
        }
    }
}

/// Writes a rendered report into `$ZF_REPORT_DUMP` when set, to look at.
fn dump(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("ZF_REPORT_DUMP") {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(std::path::Path::new(&dir).join(name), bytes);
    }
}

async fn get_raw(stack: &TestGateway, token: &str, path: &str) -> reqwest::Response {
    stack
        .http()
        .get(stack.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET")
}

fn content_type(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn row<'a>(j: &'a Value, code: &str) -> &'a Value {
    j["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no row {code}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_generated_campaign_summarises_to_its_true_totals() {
    let stack = TestGateway::start().await;
    let mut registry = stack
        .registry
        .client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    let mut sup = stack
        .supervision
        .supervision_client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    let c = generate(&mut registry, &mut sup).await;
    let mut ledger = stack
        .issues
        .issues_client("admin-1", &[roles::COUNTY_ADMIN], "430426")
        .await;
    // Items go to their township's cadre: the ledger's directory must know them.
    for cadre in c.cadres.values() {
        zoufang_e2e::ledger::await_cadre(&stack.issues.pool, cadre).await;
    }
    work_the_ledger(&mut ledger, &c).await;
    let admin = stack.admin_token().await;
    let town = TOWNSHIPS[0].0;
    let (t104, t105, t106) = (
        c.truth("430426104"),
        c.truth("430426105"),
        c.truth("430426106"),
    );
    assert!(
        t104.households_visited < t104.households_total,
        "104 is partly visited"
    );
    assert!(t104.visits > 0 && t104.helped > 0);

    // The township summary as JSON: exactly the true totals, a row per village.
    let (status, j) = stack
        .get(
            &format!(
                "/v1/reports/summary?region_code={town}&campaign_id={}",
                c.id
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{j}");
    assert_eq!(
        (
            j["region_name"].as_str(),
            j["level"].as_str(),
            j["row_level"].as_str()
        ),
        (Some("白鹤铺镇"), Some("township"), Some("village"))
    );
    assert_eq!(j["campaign"]["campaign_id"], c.id.as_str());
    t104.check(&j, "白鹤铺镇");
    assert_eq!(j["rows"].as_array().map(Vec::len), Some(3));
    for (code, name, _) in VILLAGES.iter().filter(|v| v.0.starts_with("430426104")) {
        let r = row(&j, code);
        assert_eq!(r["name"], *name);
        c.villages[code].check(r, name);
    }

    // The county summary: every township, the sums of all.
    let (status, county) = stack
        .get(
            &format!(
                "/v1/reports/summary?region_code={COUNTY}&campaign_id={}",
                c.id
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{county}");
    c.truth("430426").check(&county, "祁东县");
    for (code, name) in TOWNSHIPS {
        c.truth(&code[..9]).check(row(&county, code), name);
    }

    // Markdown: the text skeleton tells those numbers.
    let resp = get_raw(
        &stack,
        &admin,
        &format!(
            "/v1/reports/summary?region_code={town}&campaign_id={}&format=md",
            c.id
        ),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(content_type(&resp).starts_with("text/markdown"));
    let md = resp.text().await.expect("markdown");
    dump("summary.md", md.as_bytes());
    let cov = i32::try_from(t104.coverage_bp()).expect("bp");
    for want in [
        "# 白鹤铺镇“大走访”活动总结".to_owned(),
        format!(
            "本次活动共走访群众{}户，占登记户数{}户的{}",
            t104.households_visited,
            t104.households_total,
            pct(cov)
        ),
        format!("累计走访{}次", t104.visits),
        format!("住宿{}晚", t104.overnight),
        format!(
            "共帮扶慰问群众{}户，其中困难群众（低保、特困、五保、脱贫户等）{}户",
            t104.helped, t104.poor_helped
        ),
        format!(
            "发放慰问金{}元，送去物资折合{}元",
            Fen(t104.cash_fen).yuan(),
            Fen(t104.goods_fen).yuan()
        ),
        format!("共梳理群众反映的问题和建议{}件", t104.collected),
        format!("当即解决{}件", t104.on_spot),
        format!("限时解决{}件", t104.in_time),
        format!(
            "上报上级部门{}件，解释说明{}件",
            t104.escalated, t104.explained
        ),
        format!(
            "化解矛盾纠纷{}起，涉及{}户群众",
            t104.disputes_mediated, t104.dispute_households
        ),
        format!(
            "| 黄龙村 | {} | {} |",
            c.villages["430426104201"].households_total,
            c.villages["430426104201"].households_visited
        ),
        format!(
            "| **合计** | {} | {} |",
            t104.households_total, t104.households_visited
        ),
        "另有1次走访经回访群众否认".to_owned(),
    ] {
        assert!(md.contains(&want), "missing {want:?} in\n{md}");
    }

    // HTML: the same text with both SVG charts inline.
    let resp = get_raw(
        &stack,
        &admin,
        &format!(
            "/v1/reports/summary?region_code={town}&campaign_id={}&format=html",
            c.id
        ),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(content_type(&resp).starts_with("text/html"));
    let html = resp.text().await.expect("html");
    dump("summary.html", html.as_bytes());
    assert_eq!(
        html.matches("<svg xmlns=\"http://www.w3.org/2000/svg\"")
            .count(),
        2
    );
    assert!(html.contains("aria-label=\"走访覆盖率\""));
    assert!(html.contains("aria-label=\"民情台账办理情况\""));
    assert!(
        html.contains(&format!("{}件（100.0%）", t104.collected)),
        "the funnel starts at everything collected"
    );
    assert!(html.contains(&format!("当即解决{}件", t104.on_spot)));
    for name in ["黄龙村", "肖家村", "桃源村"] {
        assert!(html.contains(name));
    }
    assert!(!html.contains("<script"));

    // XLSX: opens, with the same totals on the summary sheet and the table sheet.
    let resp = get_raw(
        &stack,
        &admin,
        &format!(
            "/v1/reports/summary?region_code={town}&campaign_id={}&format=xlsx",
            c.id
        ),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(content_type(&resp), zoufang_gateway::desk::report::XLSX);
    let disposition = resp
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"summary-430426104000.xlsx\""),
        "{disposition}"
    );
    let bytes = resp.bytes().await.expect("xlsx");
    dump("summary.xlsx", &bytes);
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    assert_eq!(book.sheet_names(), vec!["活动总结", "分村情况", "诉求分类"]);
    let sheet = book.worksheet_range("活动总结").expect("summary sheet");
    let value = |name: &str| -> f64 {
        sheet
            .rows()
            .find(|r| r.get(1) == Some(&Data::String(name.into())))
            .and_then(|r| match r.get(2) {
                Some(Data::Float(f)) => Some(*f),
                Some(Data::Int(i)) => Some(*i as f64),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no number for {name}"))
    };
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    for (name, want) in [
        ("登记户数", t104.households_total as f64),
        ("已走访户数", t104.households_visited as f64),
        ("覆盖率", t104.coverage_bp() as f64 / 10_000.0),
        ("走访次数", t104.visits as f64),
        ("住宿农户家", t104.overnight as f64),
        ("帮扶户数", t104.helped as f64),
        ("其中困难群众", t104.poor_helped as f64),
        ("慰问金", t104.cash_fen as f64 / 100.0),
        ("物资折价", t104.goods_fen as f64 / 100.0),
        ("收集诉求", t104.collected as f64),
        ("当即解决", t104.on_spot as f64),
        ("限时解决", t104.in_time as f64),
        ("上报", t104.escalated as f64),
        ("解释说明", t104.explained as f64),
        ("回访核实", t104.verified as f64),
        ("化解矛盾纠纷", t104.disputes_mediated as f64),
        ("纠纷涉及户数", t104.dispute_households as f64),
    ] {
        assert!(
            close(value(name), want),
            "{name}: {} != {want}",
            value(name)
        );
    }
    let table = book.worksheet_range("分村情况").expect("table sheet");
    assert_eq!(table.get((1, 0)), Some(&Data::String("黄龙村".into())));
    assert_eq!(table.get((4, 0)), Some(&Data::String("合计".into())));
    assert_eq!(
        table.get((4, 2)),
        Some(&Data::Float(t104.households_visited as f64))
    );

    // The county view: each township ranked by coverage and by 办结率.
    let (status, view) = stack
        .get(
            &format!("/v1/reports/county?county=430426&campaign_id={}", c.id),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    c.truth("430426").check(&view, "county view");
    let ranking: Vec<(String, i64, i64)> = view["ranking"]
        .as_array()
        .expect("ranking")
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap_or_default().to_owned(),
                r["coverage_rank"].as_i64().unwrap_or_default(),
                r["resolution_rank"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    let (r104, r105) = (
        t104.resolution_bp().expect("104 collected"),
        t105.resolution_bp().expect("105 collected"),
    );
    assert_eq!(t106.resolution_bp(), None);
    let (rank104, rank105) = match r104.cmp(&r105) {
        std::cmp::Ordering::Greater => (1, 2),
        std::cmp::Ordering::Less => (2, 1),
        std::cmp::Ordering::Equal => (1, 1),
    };
    assert_eq!(
        ranking,
        vec![
            ("430426105000".to_owned(), 1, rank105),
            ("430426104000".to_owned(), 2, rank104),
            ("430426106000".to_owned(), 3, 3),
        ],
        "105 visited everyone, 104 some, 106 no one; 106 collected nothing"
    );
    let resp = get_raw(
        &stack,
        &admin,
        &format!(
            "/v1/reports/county?county={COUNTY}&campaign_id={}&format=html",
            c.id
        ),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.expect("html");
    dump("county.html", html.as_bytes());
    assert!(html.contains("各乡镇排名"));
    assert_eq!(html.matches("<svg").count(), 2);
    let resp = get_raw(
        &stack,
        &admin,
        &format!(
            "/v1/reports/county?county=430426&campaign_id={}&format=xlsx",
            c.id
        ),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let book: Xlsx<_> =
        Xlsx::new(Cursor::new(resp.bytes().await.expect("xlsx").to_vec())).expect("workbook");
    assert_eq!(
        book.sheet_names(),
        vec!["活动总结", "分乡镇情况", "诉求分类", "各乡镇排名"]
    );

    // Callbacks: every visit recorded in town 104 is verified (the policy
    // set before any visit), no ordinary item is called back; disputes and urgent items
    // always are, and those are counted here from supervision's rows with
    // plain SQL. No callback was completed.
    let issue_callbacks = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM supervision.callbacks
             WHERE subject = 1 AND campaign_id = $1::uuid AND region_code LIKE '430426104%'",
        )
        .bind(&c.id)
        .fetch_one(&stack.pool)
        .await
        .expect("issue callbacks")
    };
    let visit_callbacks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM supervision.callbacks
         WHERE subject = 2 AND campaign_id = $1::uuid AND region_code LIKE '430426104%'",
    )
    .bind(&c.id)
    .fetch_one(&stack.pool)
    .await
    .expect("visit callbacks");
    // Every visit recorded there: the counted ones and the one the
    // resident denies (flagged disputed after supervision sampled it).
    let want_visits = t104.visits + t104.disputed_visits;
    let mut last = Value::Null;
    let matched = eventually(Duration::from_secs(30), || async {
        let want = want_visits + issue_callbacks().await;
        let (_, j) = stack
            .get(
                &format!(
                    "/v1/reports/summary?region_code={town}&campaign_id={}",
                    c.id
                ),
                Some(&admin),
            )
            .await;
        let cb = j["callbacks"].clone();
        let ok = cb["callbacks"].as_i64() == Some(want)
            && cb["open"].as_i64() == Some(want)
            && cb["done"].as_i64() == Some(0)
            && cb["visits_checked"].as_i64() == Some(0)
            && cb["reach_rate_bp"].as_u64() == Some(0)
            && cb["satisfaction_rate_bp"].as_u64() == Some(0);
        ok.then_some(())
    })
    .await;
    if matched.is_none() {
        let (_, j) = stack
            .get(
                &format!(
                    "/v1/reports/summary?region_code={town}&campaign_id={}",
                    c.id
                ),
                Some(&admin),
            )
            .await;
        last = j["callbacks"].clone();
    }
    assert!(
        matched.is_some(),
        "the summary's callbacks are not the {want_visits} visits recorded in town 104 (supervision \
         holds {visit_callbacks} visit callbacks there) plus its {} issue callbacks, all open: {last}",
        issue_callbacks().await
    );
    assert!(want_visits > 0, "town 104 had visits to verify");
    let visit_callbacks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM supervision.callbacks
         WHERE subject = 2 AND campaign_id = $1::uuid AND region_code LIKE '430426104%'",
    )
    .bind(&c.id)
    .fetch_one(&stack.pool)
    .await
    .expect("visit callbacks");
    assert_eq!(
        visit_callbacks, want_visits,
        "one callback per visit of town 104"
    );
    stack.stop().await;
}

#[tokio::test]
async fn reports_stay_inside_the_callers_township_and_name_bad_fields() {
    let stack = TestGateway::start().await;
    let mut registry = stack
        .registry
        .client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    let seed = fixtures::seed(&mut registry).await;
    registry
        .record_visit(fixtures::visit_request(&seed, &seed.household_ids[0]))
        .await
        .expect("record visit");
    let admin = stack.admin_token().await;
    let town104 = stack
        .account(
            &admin,
            "town104",
            &[roles::TOWNSHIP_ADMIN],
            "430426104",
            "town104",
        )
        .await;
    let town105 = stack
        .account(
            &admin,
            "town105",
            &[roles::TOWNSHIP_ADMIN],
            "430426105",
            "town105",
        )
        .await;
    let cadre = stack
        .account(
            &admin,
            "cadre1",
            &[roles::CADRE],
            "430426104201",
            &seed.cadre_id,
        )
        .await;
    let summary = |region: &str| {
        format!(
            "/v1/reports/summary?region_code={region}&campaign_id={}",
            seed.campaign_id
        )
    };

    let (s, own) = stack
        .get(&summary(fixtures::TOWNSHIP), Some(&town104))
        .await;
    assert_eq!(s, 200, "{own}");
    assert_eq!(own["visits"]["households_visited"], 1);
    assert_eq!(own["help"]["cash_fen"], 20_000);
    let (s, e) = stack
        .get(&summary(fixtures::TOWNSHIP), Some(&town105))
        .await;
    assert!(s == 403 || s == 404, "another township's report: {s} {e}");
    let (s, e) = stack.get(&summary("430426000000"), Some(&town104)).await;
    assert_eq!(s, 403, "the county's report: {e}");
    let (s, e) = stack
        .get(
            &format!(
                "/v1/reports/county?county=430426&campaign_id={}",
                seed.campaign_id
            ),
            Some(&town104),
        )
        .await;
    assert_eq!(s, 403, "the county view: {e}");
    let (s, e) = stack.get(&summary(fixtures::TOWNSHIP), Some(&cadre)).await;
    assert_eq!(s, 403, "a cadre: {e}");
    let (s, _) = stack.get(&summary(fixtures::TOWNSHIP), None).await;
    assert_eq!(s, 401);

    // Bad input names its field.
    for (path, field) in [
        (
            format!("/v1/reports/summary?campaign_id={}", seed.campaign_id),
            "region_code",
        ),
        (summary(fixtures::VILLAGES[0]), "region_code"),
        (summary("4304261040"), "region_code"),
        (
            format!("{}&format=pdf", summary(fixtures::TOWNSHIP)),
            "format",
        ),
        (
            format!(
                "/v1/reports/summary?region_code={}&campaign_id=x",
                fixtures::TOWNSHIP
            ),
            "campaign_id",
        ),
        (
            format!(
                "/v1/reports/county?county=4304&campaign_id={}",
                seed.campaign_id
            ),
            "county",
        ),
        (
            format!(
                "/v1/reports/county?county={}&campaign_id={}",
                fixtures::TOWNSHIP,
                seed.campaign_id
            ),
            "county",
        ),
        // The campaign covers 白鹤铺镇 only.
        (summary(fixtures::OTHER_TOWNSHIP), "region_code"),
    ] {
        let (s, e) = stack.get(&path, Some(&admin)).await;
        assert_eq!(s, 400, "{path}: {e}");
        assert_eq!(e["field_errors"][0]["field"], field, "{path}: {e}");
    }
    let (s, e) = stack
        .get(
            &format!(
                "/v1/reports/summary?region_code={}&campaign_id={}",
                fixtures::TOWNSHIP,
                Uuid::new_v4()
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(s, 404, "unknown campaign: {e}");

    // The OpenAPI document declares both reports and their media types.
    let (s, doc) = stack.get("/openapi.json", None).await;
    assert_eq!(s, 200);
    for path in ["/v1/reports/summary", "/v1/reports/county"] {
        let content = &doc["paths"][path]["get"]["responses"]["200"]["content"];
        for media in [
            "application/json",
            "text/markdown",
            "text/html",
            zoufang_gateway::desk::report::XLSX,
        ] {
            assert!(content.get(media).is_some(), "{path} {media}");
        }
    }
    assert!(doc["components"]["schemas"]["CountyReport"]["properties"]["ranking"].is_object());
    stack.stop().await;
}
