//! `zfdemo`: a demo county and a simulated campaign, made from a seed
//! through the running services' gRPC APIs only.
//!
//! From `--seed` the generator (`zoufang_gen::county`: SplitMix64 streams,
//! ids UUIDv5 of the seed) plans
//! 祁东县 (430426) with townships and villages in the 12-digit code format,
//! work zones, households with tags, valid ID numbers and mobile phones,
//! township and county-department cadres, a campaign with the seeds'
//! quotas and its assignments (包片, 联系村, 帮扶户); then this crate makes
//! them through the APIs and simulates the campaign: visits in every mode with nights stayed, help and materials,
//! items raised (problems, suggestions, disputes, petitions) resolved on the
//! spot or worked through the ledger (assigned and resolved in time, still
//! in progress, escalated — some signed for and fixed by the department —,
//! explained, left open), walk-in reception items, supervision callbacks
//! answered (satisfied, basically satisfied, one unsatisfied, a few
//! unreachable or not yet made, one visit the resident denies) and petition
//! cases taken in through the petition bridge's batch door.
//!
//! Its [`Totals`] are counted from what it created, with the definitions
//! the campaign summary (`GET /v1/reports/summary`) uses, after waiting
//! until the asynchronous parts (ledger items from visits, callback tasks,
//! callback outcomes) have landed. Every create is idempotent by a derived
//! id and every ledger step starts from the item's current state, so the
//! same seed and size again changes nothing and reports the same totals.
//! Calls that fail for a passing reason (a service busy or restarting) are
//! retried with back-off.
use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    fmt::Write as _,
    future::Future,
    time::Duration,
};

use anyhow::{Context as _, anyhow, bail, ensure};
use chrono::{DateTime, NaiveTime, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;
use zoufang_core::auth::{
    BearerInterceptor, DEV_JWT_PRIVATE_KEY_PEM, DEV_JWT_PUBLIC_KEY_PEM, JwtKeys, roles,
};
use zoufang_proto::{
    common::v1::{GeoPoint, Help, ItemKind, MaterialHandout, RaisedItem, VisitMode},
    events::v1::Satisfaction,
    issues::v1::{
        AssignIssueRequest, CreateIssueRequest, EscalateIssueRequest, ExplainIssueRequest,
        GetIssueRequest, GetIssueStatisticsRequest, GetIssueStatisticsResponse, Issue, IssueSource,
        IssueState, ListIssuesRequest, ResolveIssueRequest, SignIssueRequest, StartIssueRequest,
        issue_service_client::IssueServiceClient,
    },
    petition::v1::{
        AcceptCaseRequest, Case, GetCaseRequest, ImportCasesRequest, ListCasesRequest,
        RegisterSourceRequest, Stage, petition_service_client::PetitionServiceClient,
    },
    registry::v1::{
        AnnounceCadresRequest, CampaignStatus, CompletenessPolicy, CreateAssignmentRequest,
        CreateCampaignRequest, CreateWorkZoneRequest, GetCampaignRequest, GetRegionProgressRequest,
        GetVisitRequest, ImportRegionsRequest, Quota, QuotaMetric, RecordVisitRequest,
        RegionProgress, RegisterCadreRequest, RegisterHouseholdRequest, RegisterHouseholdsRequest,
        registry_service_client::RegistryServiceClient,
    },
    supervision::v1::{
        Callback, CallbackState, CallbackSubject, CallbackTotals, CreateTeamRequest,
        GetCallbackStatisticsRequest, ListWorklistRequest, Method, RecordAttemptRequest,
        SetSamplingPolicyRequest, supervision_service_client::SupervisionServiceClient,
    },
};

pub use zoufang_gen::county::{COUNTY, COUNTY_CODE};
use zoufang_gen::{
    county::{
        COUNTY_NAME, County,
        campaign::{Answer, Campaign, Fate, Item, PetitionCase, Visit, plan_campaign},
        households::{Household, plan_households},
        model::{
            MAX_ATTEMPTS, MIN_VISITS_PER_CADRE, after_callback, after_ledger, gets_callback,
            open_state, policy, visit_groups,
        },
        plan_county, region_csv,
        words::*,
    },
    rng::{Rng, id},
};

/// Where the services are and what to make.
#[derive(Debug, Clone)]
pub struct Config {
    /// Registry gRPC URL (`http://127.0.0.1:50051`).
    pub registry_url: String,
    /// Ledger gRPC URL (`http://127.0.0.1:50052`).
    pub issues_url: String,
    /// Supervision gRPC URL (`http://127.0.0.1:50053`).
    pub supervision_url: String,
    /// Petition bridge gRPC URL (`http://127.0.0.1:50055`).
    pub petition_url: String,
    /// Gateway HTTP URL, only to print where the summary is.
    pub gateway_url: String,
    /// The sign-in authority's ES256 private key (PEM): the demo acts as an
    /// operator holding it, as `zfctl token` does.
    pub jwt_private_key: String,
    /// The matching public key (PEM) the services verify with.
    pub jwt_public_key: String,
    /// Everything generated follows from it.
    pub seed: u64,
    /// Households to register (at least 20).
    pub households: usize,
    /// How long to wait for each asynchronous step (ledger, callbacks).
    pub timeout: Duration,
    /// Progress lines on stderr.
    pub verbose: bool,
}

impl Config {
    /// The `scripts/run.sh` addresses with the PUBLISHED development keys
    /// (`scripts/run.sh` runs the services in development mode).
    pub fn local(seed: u64, households: usize) -> Self {
        Self {
            registry_url: "http://127.0.0.1:50051".into(),
            issues_url: "http://127.0.0.1:50052".into(),
            supervision_url: "http://127.0.0.1:50053".into(),
            petition_url: "http://127.0.0.1:50055".into(),
            gateway_url: "http://127.0.0.1:8080".into(),
            jwt_private_key: DEV_JWT_PRIVATE_KEY_PEM.into(),
            jwt_public_key: DEV_JWT_PUBLIC_KEY_PEM.into(),
            seed,
            households,
            timeout: Duration::from_secs(180),
            verbose: false,
        }
    }
}

// ---------------------------------------------------------------------------
// The campaign request

/// The campaign's quotas by position (the seeds' figures).
fn quotas() -> Vec<Quota> {
    let q = |position: &str, metric: QuotaMetric, target: i64, min_amount_fen: i64| Quota {
        position: position.into(),
        metric: metric as i32,
        target,
        min_amount_fen,
    };
    vec![
        q("党委书记", QuotaMetric::HouseholdsVisited, 50, 0),
        q("乡镇长", QuotaMetric::HouseholdsVisited, 50, 0),
        q("班子成员", QuotaMetric::HouseholdsVisited, 50, 0),
        q("工作队员", QuotaMetric::HouseholdsVisited, 60, 0),
        q("工作队员", QuotaMetric::OvernightStays, 10, 0),
        q("工作队员", QuotaMetric::HouseholdsHelped, 5, 10_000),
    ]
}

fn campaign_request(c: &Campaign) -> CreateCampaignRequest {
    CreateCampaignRequest {
        campaign_id: c.id.to_string(),
        region_code: COUNTY_CODE.into(),
        name: c.name.clone(),
        starts_at: Some(ts(c.anchor)),
        ends_at: Some(ts(c.anchor + chrono::Duration::days(60))),
        themes: vec![
            "信访维稳".into(),
            "民生工程".into(),
            "中心工作".into(),
            "政策宣传".into(),
        ],
        status: CampaignStatus::Active as i32,
        completeness_policy: CompletenessPolicy::Refuse as i32,
        quotas: quotas(),
    }
}

fn ts(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    }
}

/// Beijing midnight `days` before today's Beijing date, in UTC.
fn beijing_midnight_days_ago(days: i64) -> DateTime<Utc> {
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let date = today - chrono::Duration::days(days);
    date.and_time(NaiveTime::MIN).and_utc() - chrono::Duration::hours(8)
}

// ---------------------------------------------------------------------------
// Totals

/// Setup counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setup {
    pub townships: i64,
    pub villages: i64,
    pub work_zones: i64,
    pub cadres: i64,
    pub assignments: i64,
    pub households: i64,
    pub poor_households: i64,
    pub petition_households: i64,
}

/// Visit figures (the registry's region progress).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitTotals {
    pub households_total: i64,
    pub households_visited: i64,
    pub coverage_bp: i64,
    pub visits: i64,
    /// 入户走访, 电话, 集中接访, 带案下访, 同吃同住.
    pub by_mode: [i64; 5],
    pub overnight_stays: i64,
    pub disputed_visits: i64,
    pub items_raised_on_visits: i64,
    pub items_resolved_on_spot_on_visits: i64,
}

/// Help given (帮扶慰问).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelpTotals {
    pub households_helped: i64,
    pub poor_households_helped: i64,
    pub cash_fen: i64,
    pub goods_value_fen: i64,
}

/// The ledger's figures for the campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerTotals {
    pub collected: i64,
    /// Of them, taken in at walk-in reception (开门接访) rather than on a visit.
    pub walk_in: i64,
    pub problems: i64,
    pub suggestions: i64,
    pub disputes: i64,
    pub petitions: i64,
    pub resolved_on_spot: i64,
    pub resolved_in_time: i64,
    pub resolved_late: i64,
    pub escalated: i64,
    pub explained: i64,
    pub open: i64,
    pub overdue: i64,
    pub reopened: i64,
    pub verified: i64,
    pub disputes_mediated: i64,
    pub dispute_households: i64,
    pub by_category: BTreeMap<String, i64>,
}

/// Supervision callbacks for the campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackFigures {
    pub callbacks: i64,
    pub done: i64,
    pub unreachable: i64,
    pub open: i64,
    pub overdue: i64,
    pub attempted: i64,
    pub reached: i64,
    pub items_answered: i64,
    pub items_satisfied: i64,
    pub unsatisfied: i64,
    pub visits_checked: i64,
    pub visits_not_confirmed: i64,
}

/// Petition cases taken in through the bridge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PetitionTotals {
    pub cases: i64,
    pub accepted: i64,
    pub matched_households: i64,
    /// Ledger items the cases became (outside the campaign: a case has none).
    pub ledger_items: i64,
}

/// What the generator made, counted the way the campaign summary counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub seed: u64,
    pub campaign_id: String,
    pub campaign_name: String,
    pub region_code: String,
    pub setup: Setup,
    pub visits: VisitTotals,
    pub help: HelpTotals,
    pub materials: BTreeMap<String, i64>,
    pub ledger: LedgerTotals,
    pub callbacks: CallbackFigures,
    pub petition: PetitionTotals,
}

/// What is past its deadline now: open ledger items and open callbacks of
/// the demo (nothing right after it is made: the ledger's deadlines are
/// days away and callbacks are due in a week).
#[derive(Debug, Clone, Copy, Default)]
struct Overdue {
    items: i64,
    callbacks: i64,
}

/// `num / den` in basis points, truncated.
fn bp(num: i64, den: i64) -> i64 {
    if den <= 0 {
        0
    } else {
        num.max(0) * 10_000 / den
    }
}

const MODES: [(VisitMode, &str, &str, &str); 5] = [
    (
        VisitMode::DoorToDoor,
        "door_to_door",
        "入户走访",
        "door to door",
    ),
    (VisitMode::Phone, "phone", "电话走访", "phone"),
    (VisitMode::Reception, "reception", "集中接访", "reception"),
    (VisitMode::CaseVisit, "case_visit", "带案下访", "case visit"),
    (VisitMode::LiveIn, "live_in", "同吃同住", "live-in"),
];

fn mode_index(m: VisitMode) -> usize {
    MODES.iter().position(|(x, ..)| *x == m).unwrap_or(0)
}

fn count(
    seed: u64,
    county: &County,
    households: &[Household],
    c: &Campaign,
    petition: PetitionTotals,
    overdue: Overdue,
) -> Totals {
    let denied: HashSet<usize> = c.denied_visit.into_iter().collect();
    let mut t = Totals {
        seed,
        campaign_id: c.id.to_string(),
        campaign_name: c.name.clone(),
        region_code: COUNTY_CODE.into(),
        petition,
        ..Default::default()
    };
    t.setup = Setup {
        townships: county.townships.len() as i64,
        villages: county.villages.len() as i64,
        work_zones: county.townships.iter().map(|t| t.zones.len() as i64).sum(),
        cadres: county.cadres.len() as i64,
        assignments: c.assignments.len() as i64,
        households: households.len() as i64,
        poor_households: households.iter().filter(|h| h.poor()).count() as i64,
        petition_households: households.iter().filter(|h| h.petitioner()).count() as i64,
    };

    // The registry's figures leave out visits the resident denied.
    let mut visited = HashSet::new();
    let mut helped = HashSet::new();
    for (i, v) in c.visits.iter().enumerate() {
        if denied.contains(&i) {
            t.visits.disputed_visits += 1;
            continue;
        }
        visited.insert(v.household);
        t.visits.visits += 1;
        t.visits.by_mode[mode_index(v.mode)] += 1;
        t.visits.overnight_stays += i64::from(v.overnight);
        t.visits.items_raised_on_visits += v.items.len() as i64;
        t.visits.items_resolved_on_spot_on_visits += v
            .items
            .iter()
            .filter(|i| c.items[**i].fate == Fate::OnSpot)
            .count() as i64;
        if v.cash_fen + v.goods_fen > 0 {
            helped.insert(v.household);
        }
        t.help.cash_fen += v.cash_fen;
        t.help.goods_value_fen += v.goods_fen;
        for (name, q) in &v.materials {
            *t.materials.entry((*name).to_owned()).or_default() += i64::from(*q);
        }
    }
    t.visits.households_total = households.len() as i64;
    t.visits.households_visited = visited.len() as i64;
    t.visits.coverage_bp = bp(t.visits.households_visited, t.visits.households_total);
    t.help.households_helped = helped.len() as i64;
    t.help.poor_households_helped = helped.iter().filter(|h| households[**h].poor()).count() as i64;

    // The ledger's, with the ledger's definitions.
    let l = &mut t.ledger;
    let cb = &mut t.callbacks;
    for item in &c.items {
        let first = after_ledger(item);
        let end = after_callback(item, first);
        l.collected += 1;
        l.walk_in += i64::from(item.walk_in.is_some());
        match item.kind {
            ItemKind::Problem => l.problems += 1,
            ItemKind::Suggestion => l.suggestions += 1,
            ItemKind::Dispute => l.disputes += 1,
            _ => l.petitions += 1,
        }
        *l.by_category.entry(item.category.to_owned()).or_default() += 1;
        l.resolved_on_spot += i64::from(end.disposition == 1);
        l.resolved_in_time +=
            i64::from(end.in_time == Some(true) && !matches!(end.disposition, 1 | 4));
        l.resolved_late += i64::from(end.in_time == Some(false) && end.disposition != 4);
        l.escalated += i64::from(end.ever_escalated);
        l.explained += i64::from(end.disposition == 4);
        l.reopened += i64::from(end.reopened);
        l.verified += i64::from(end.state == IssueState::Verified);
        let closed = matches!(
            end.state,
            IssueState::Resolved | IssueState::Verified | IssueState::Explained
        );
        if item.kind == ItemKind::Dispute && closed {
            l.disputes_mediated += 1;
            l.dispute_households += i64::from(item.households_involved);
        }
        l.open += i64::from(open_state(end.state));
        if gets_callback(item, &first) {
            cb.callbacks += 1;
            match item.answer {
                Answer::LeaveOpen => cb.open += 1,
                Answer::Unreachable => {
                    cb.unreachable += 1;
                    cb.attempted += 1;
                }
                answer => {
                    cb.done += 1;
                    cb.attempted += 1;
                    cb.reached += 1;
                    cb.items_answered += 1;
                    cb.items_satisfied +=
                        i64::from(matches!(answer, Answer::Satisfied | Answer::Basically));
                    cb.unsatisfied += i64::from(answer == Answer::Unsatisfied);
                }
            }
        }
    }
    // Visit callbacks: the first two of each cadre and week, all reached.
    let checked: i64 = visit_groups(&c.visits, county)
        .values()
        .map(|n| (*n).min(MIN_VISITS_PER_CADRE as usize) as i64)
        .sum();
    cb.callbacks += checked;
    cb.done += checked;
    cb.attempted += checked;
    cb.reached += checked;
    cb.visits_checked = checked;
    cb.visits_not_confirmed = denied.len() as i64;
    l.overdue = overdue.items;
    cb.overdue = overdue.callbacks;
    t
}

impl Totals {
    /// The figures in the shape of the campaign summary's JSON (`visits`,
    /// `help`, `materials`, `ledger`, `callbacks`), to compare with it.
    pub fn figures_json(&self) -> Value {
        let v = &self.visits;
        let l = &self.ledger;
        let c = &self.callbacks;
        let closed = l.collected - l.open;
        json!({
            "visits": {
                "households_total": v.households_total,
                "households_visited": v.households_visited,
                "coverage_bp": v.coverage_bp,
                "visits": v.visits,
                "by_mode": MODES.iter().enumerate().map(|(i, (_, key, label, _))| json!({
                    "mode": key, "label": label, "visits": v.by_mode[i],
                })).collect::<Vec<_>>(),
                "overnight_stays": v.overnight_stays,
                "disputed_visits": v.disputed_visits,
                "items_raised_on_visits": v.items_raised_on_visits,
                "items_resolved_on_spot_on_visits": v.items_resolved_on_spot_on_visits,
            },
            "help": {
                "households_helped": self.help.households_helped,
                "poor_households_helped": self.help.poor_households_helped,
                "cash_fen": self.help.cash_fen,
                "goods_value_fen": self.help.goods_value_fen,
                "total_fen": self.help.cash_fen + self.help.goods_value_fen,
            },
            "materials": {
                "total": self.materials.values().sum::<i64>(),
                "by_name": self.materials.iter()
                    .map(|(name, q)| json!({"name": name, "quantity": q}))
                    .collect::<Vec<_>>(),
            },
            "ledger": {
                "collected": l.collected,
                "problems": l.problems,
                "suggestions": l.suggestions,
                "disputes": l.disputes,
                "petitions": l.petitions,
                "resolved_on_spot": l.resolved_on_spot,
                "resolved_in_time": l.resolved_in_time,
                "resolved_late": l.resolved_late,
                "escalated": l.escalated,
                "explained": l.explained,
                "open": l.open,
                "overdue": l.overdue,
                "closed": closed,
                "resolution_rate_bp": (l.collected > 0).then(|| bp(closed, l.collected)),
                "reopened": l.reopened,
                "verified": l.verified,
                "disputes_mediated": l.disputes_mediated,
                "dispute_households": l.dispute_households,
                "by_category": l.by_category.iter()
                    .map(|(k, n)| json!({"category": k, "count": n}))
                    .collect::<Vec<_>>(),
            },
            "callbacks": {
                "callbacks": c.callbacks,
                "done": c.done,
                "unreachable": c.unreachable,
                "open": c.open,
                "overdue": c.overdue,
                "reach_rate_bp": bp(c.reached, c.attempted),
                "satisfaction_rate_bp": bp(c.items_satisfied, c.items_answered),
                "visit_confirmation_rate_bp":
                    bp(c.visits_checked - c.visits_not_confirmed, c.visits_checked),
                "visits_checked": c.visits_checked,
                "visits_not_confirmed": c.visits_not_confirmed,
            },
        })
    }

    /// Everything, as JSON (`--json`).
    pub fn to_json(&self, gateway_url: &str) -> Value {
        let s = &self.setup;
        let p = &self.petition;
        json!({
            "seed": self.seed,
            "campaign_id": self.campaign_id,
            "campaign_name": self.campaign_name,
            "region_code": self.region_code,
            "summary_url": self.summary_url(gateway_url),
            "setup": {
                "townships": s.townships, "villages": s.villages, "work_zones": s.work_zones,
                "cadres": s.cadres, "assignments": s.assignments, "households": s.households,
                "poor_households": s.poor_households, "petition_households": s.petition_households,
            },
            "figures": self.figures_json(),
            "ledger_walk_in": self.ledger.walk_in,
            "callbacks_unsatisfied": self.callbacks.unsatisfied,
            "petition": {
                "cases": p.cases, "accepted": p.accepted,
                "matched_households": p.matched_households, "ledger_items": p.ledger_items,
            },
        })
    }

    /// Where the gateway serves this campaign's county summary.
    pub fn summary_url(&self, gateway_url: &str) -> String {
        format!(
            "{}/v1/reports/summary?region_code={}&campaign_id={}",
            gateway_url.trim_end_matches('/'),
            self.region_code,
            self.campaign_id
        )
    }

    /// A table with Chinese labels and English beside them.
    pub fn table(&self) -> String {
        let (s, v, h, l, c, p) = (
            &self.setup,
            &self.visits,
            &self.help,
            &self.ledger,
            &self.callbacks,
            &self.petition,
        );
        let yuan = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
        let pct = |bp: i64| format!("{}.{:02}%", bp / 100, bp % 100);
        let mut rows: Vec<(String, &str, String)> = vec![];
        let mut row = |zh: &str, en: &'static str, value: String| {
            rows.push((zh.to_owned(), en, value));
        };
        row("乡镇", "townships", s.townships.to_string());
        row("村（社区）", "villages", s.villages.to_string());
        row("工作片", "work zones", s.work_zones.to_string());
        row("干部", "cadres", s.cadres.to_string());
        row("包保责任", "assignments", s.assignments.to_string());
        row(
            "登记户数",
            "households registered",
            v.households_total.to_string(),
        );
        row(
            "  困难群众户",
            "poor households",
            s.poor_households.to_string(),
        );
        row(
            "  重点信访户",
            "petition households",
            s.petition_households.to_string(),
        );
        row(
            "走访群众户数",
            "households visited",
            v.households_visited.to_string(),
        );
        row("走访覆盖率", "coverage", pct(v.coverage_bp));
        row("走访次数", "visits", v.visits.to_string());
        for (i, (_, _, label, en)) in MODES.iter().enumerate() {
            row(&format!("  {label}"), en, v.by_mode[i].to_string());
        }
        row(
            "住宿（晚）",
            "overnight stays",
            v.overnight_stays.to_string(),
        );
        row(
            "回访否认的走访",
            "visits denied on callback",
            v.disputed_visits.to_string(),
        );
        row(
            "帮扶慰问户数",
            "households helped",
            h.households_helped.to_string(),
        );
        row(
            "  其中困难群众",
            "poor households helped",
            h.poor_households_helped.to_string(),
        );
        row("慰问金（元）", "cash given, yuan", yuan(h.cash_fen));
        row(
            "物资折款（元）",
            "goods given, yuan",
            yuan(h.goods_value_fen),
        );
        row(
            "送资料（份）",
            "materials handed out",
            self.materials.values().sum::<i64>().to_string(),
        );
        row("梳理问题建议", "items collected", l.collected.to_string());
        row(
            "  走访中反映",
            "raised on visits",
            v.items_raised_on_visits.to_string(),
        );
        row("  开门接访", "walk-in reception", l.walk_in.to_string());
        row("  问题", "problems", l.problems.to_string());
        row("  意见建议", "suggestions", l.suggestions.to_string());
        row("  矛盾纠纷", "disputes", l.disputes.to_string());
        row("  信访", "petitions", l.petitions.to_string());
        row(
            "当即解决",
            "resolved on the spot",
            l.resolved_on_spot.to_string(),
        );
        row(
            "限时解决",
            "resolved in time",
            l.resolved_in_time.to_string(),
        );
        row("上报部门", "escalated", l.escalated.to_string());
        row("解释说明", "explained", l.explained.to_string());
        row("办理中", "still open", l.open.to_string());
        row("  超期", "overdue", l.overdue.to_string());
        row("回访核实", "verified on callback", l.verified.to_string());
        row(
            "不满意重办",
            "reopened (unsatisfied)",
            l.reopened.to_string(),
        );
        row(
            "化解矛盾纠纷（起）",
            "disputes mediated",
            l.disputes_mediated.to_string(),
        );
        row(
            "  涉及户数",
            "households involved",
            l.dispute_households.to_string(),
        );
        row(
            "办结率",
            "resolution rate",
            pct(bp(l.collected - l.open, l.collected)),
        );
        row("督查回访", "callbacks", c.callbacks.to_string());
        row("  已回访", "done", c.done.to_string());
        row("  联系不上", "unreachable", c.unreachable.to_string());
        row("  待回访", "open", c.open.to_string());
        row(
            "  满意率",
            "satisfaction rate",
            pct(bp(c.items_satisfied, c.items_answered)),
        );
        row("  不满意", "unsatisfied", c.unsatisfied.to_string());
        row("  核实走访", "visits checked", c.visits_checked.to_string());
        row(
            "  走访未核实",
            "visits not confirmed",
            c.visits_not_confirmed.to_string(),
        );
        row("信访件", "petition cases", p.cases.to_string());
        row("  已受理", "accepted", p.accepted.to_string());
        row(
            "  匹配到户",
            "matched to households",
            p.matched_households.to_string(),
        );
        row("  进入台账", "in the ledger", p.ledger_items.to_string());
        let mut out = String::new();
        for (zh, en, value) in rows {
            // CJK characters take two columns.
            let width: usize = zh
                .chars()
                .map(|c| if c.is_ascii() { 1 } else { 2 })
                .sum::<usize>()
                + 1
                + en.len();
            let pad = 46usize.saturating_sub(width);
            let _ = writeln!(out, "  {zh} {en}{} {value:>12}", " ".repeat(pad));
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Comparing figures

/// Compares every figure `want` and `got` both have (objects by key; the
/// lists `by_mode`, `by_name` and `by_category` by their mode, name or
/// category, where an entry on one side only is a difference). Returns how
/// many figures were compared and the differences.
pub fn diff_figures(want: &Value, got: &Value) -> (usize, Vec<String>) {
    let mut diffs = Vec::new();
    let n = diff_at("", want, got, &mut diffs);
    (n, diffs)
}

fn list_key(v: &Value) -> Option<String> {
    ["mode", "category", "name"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
}

fn diff_at(path: &str, want: &Value, got: &Value, diffs: &mut Vec<String>) -> usize {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w
            .iter()
            .filter_map(|(k, wv)| g.get(k).map(|gv| (k, wv, gv)))
            .map(|(k, wv, gv)| diff_at(&format!("{path}.{k}"), wv, gv, diffs))
            .sum(),
        (Value::Array(w), Value::Array(g)) => {
            let keyed = |xs: &[Value]| -> BTreeMap<String, Value> {
                xs.iter()
                    .enumerate()
                    .map(|(i, x)| (list_key(x).unwrap_or_else(|| i.to_string()), x.clone()))
                    .collect()
            };
            let (w, g) = (keyed(w), keyed(g));
            let mut n = 0;
            for k in w.keys().chain(g.keys()).collect::<BTreeSet<_>>() {
                match (w.get(k), g.get(k)) {
                    (Some(a), Some(b)) => n += diff_at(&format!("{path}[{k}]"), a, b, diffs),
                    (a, b) => {
                        n += 1;
                        diffs.push(format!("{path}[{k}]: generated {a:?}, reported {b:?}"));
                    }
                }
            }
            n
        }
        (w, g) => {
            if w != g {
                diffs.push(format!("{path}: generated {w}, reported {g}"));
            }
            1
        }
    }
}

/// The figures the services give for the county and campaign, in the
/// summary's shape (the same mapping the gateway makes).
fn service_figures(
    p: &RegionProgress,
    s: &GetIssueStatisticsResponse,
    c: &CallbackTotals,
) -> Value {
    let mut materials: BTreeMap<String, i64> = BTreeMap::new();
    for m in &p.materials {
        *materials.entry(m.name.clone()).or_default() += i64::from(m.quantity);
    }
    let closed = (s.collected - s.open).max(0);
    let by_mode: Vec<Value> = MODES
        .iter()
        .map(|(mode, key, label, _)| {
            let visits: i64 = p
                .visits_by_mode
                .iter()
                .filter(|m| m.mode == *mode as i32)
                .map(|m| m.visits)
                .sum();
            json!({"mode": key, "label": label, "visits": visits})
        })
        .collect();
    json!({
        "visits": {
            "households_total": p.households_total,
            "households_visited": p.households_visited,
            "coverage_bp": p.coverage_bp,
            "visits": p.visits,
            "by_mode": by_mode,
            "overnight_stays": p.overnight_stays,
            "disputed_visits": p.disputed_visits,
            "items_raised_on_visits": p.items_raised,
            "items_resolved_on_spot_on_visits": p.items_resolved_on_spot,
        },
        "help": {
            "households_helped": p.households_helped,
            "poor_households_helped": p.poor_households_helped,
            "cash_fen": p.help_cash_fen,
            "goods_value_fen": p.help_goods_value_fen,
            "total_fen": p.help_cash_fen + p.help_goods_value_fen,
        },
        "materials": {
            "total": materials.values().sum::<i64>(),
            "by_name": materials.iter()
                .map(|(name, q)| json!({"name": name, "quantity": q}))
                .collect::<Vec<_>>(),
        },
        "ledger": {
            "collected": s.collected, "problems": s.problems, "suggestions": s.suggestions,
            "disputes": s.disputes, "petitions": s.petitions,
            "resolved_on_spot": s.resolved_on_spot, "resolved_in_time": s.resolved_in_time,
            "resolved_late": s.resolved_late, "escalated": s.escalated, "explained": s.explained,
            "open": s.open, "overdue": s.overdue, "closed": closed,
            "resolution_rate_bp": (s.collected > 0).then(|| bp(closed, s.collected)),
            "reopened": s.reopened, "verified": s.verified,
            "disputes_mediated": s.disputes_mediated, "dispute_households": s.dispute_households,
            "by_category": s.by_category.iter()
                .map(|k| json!({"category": k.category, "count": k.count}))
                .collect::<Vec<_>>(),
        },
        "callbacks": {
            "callbacks": c.callbacks, "done": c.done, "unreachable": c.unreachable,
            "open": c.open, "overdue": c.overdue,
            "reach_rate_bp": c.reach_rate_bp, "satisfaction_rate_bp": c.satisfaction_rate_bp,
            "visit_confirmation_rate_bp": c.visit_confirmation_rate_bp,
            "visits_checked": c.visits_checked, "visits_not_confirmed": c.visits_not_confirmed,
        },
    })
}

// ---------------------------------------------------------------------------
// Talking to the services

type Authed = InterceptedService<Channel, BearerInterceptor>;
type Registry = RegistryServiceClient<Authed>;
type Ledger = IssueServiceClient<Authed>;
type Supervision = SupervisionServiceClient<Authed>;
type Petition = PetitionServiceClient<Authed>;

struct Clients {
    keys: JwtKeys,
    registry: Channel,
    issues: Channel,
    supervision: Channel,
    petition: Channel,
    admin: String,
}

async fn channel(what: &str, url: &str) -> anyhow::Result<Channel> {
    Channel::from_shared(url.to_owned())
        .with_context(|| format!("{what} URL {url:?}"))?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .with_context(|| format!("cannot reach the {what} service at {url}"))
}

impl Clients {
    async fn connect(config: &Config) -> anyhow::Result<Self> {
        let keys = JwtKeys::from_pem_es256(
            Some(config.jwt_private_key.as_bytes()),
            config.jwt_public_key.as_bytes(),
        )?;
        let admin = keys.mint_for(
            "zfdemo",
            &[roles::COUNTY_ADMIN, roles::TOWNSHIP_ADMIN],
            COUNTY,
            chrono::Duration::hours(12),
        )?;
        Ok(Self {
            registry: channel("registry", &config.registry_url).await?,
            issues: channel("issues", &config.issues_url).await?,
            supervision: channel("supervision", &config.supervision_url).await?,
            petition: channel("petition", &config.petition_url).await?,
            keys,
            admin,
        })
    }

    fn token(&self, sub: &str, roles: &[&str]) -> anyhow::Result<String> {
        self.keys
            .mint_for(sub, roles, COUNTY, chrono::Duration::hours(12))
    }

    fn registry(&self) -> Registry {
        RegistryServiceClient::with_interceptor(
            self.registry.clone(),
            BearerInterceptor(self.admin.clone()),
        )
    }

    fn ledger(&self) -> Ledger {
        self.ledger_as(&self.admin)
    }

    fn ledger_as(&self, token: &str) -> Ledger {
        IssueServiceClient::with_interceptor(
            self.issues.clone(),
            BearerInterceptor(token.to_owned()),
        )
    }

    fn supervision(&self) -> Supervision {
        self.supervision_as(&self.admin)
    }

    fn supervision_as(&self, token: &str) -> Supervision {
        SupervisionServiceClient::with_interceptor(
            self.supervision.clone(),
            BearerInterceptor(token.to_owned()),
        )
    }

    fn petition(&self) -> Petition {
        PetitionServiceClient::with_interceptor(
            self.petition.clone(),
            BearerInterceptor(self.admin.clone()),
        )
    }
}

/// A gRPC error with what was being done.
fn rpc(what: impl std::fmt::Display) -> impl FnOnce(tonic::Status) -> anyhow::Error {
    move |s| anyhow!("{what}: {} ({:?})", s.message(), s.code())
}

/// Failures worth another try: the service is busy (a pool timeout is an
/// internal error), restarting or unreachable for a moment.
fn transient(s: &tonic::Status) -> bool {
    matches!(
        s.code(),
        Code::Unavailable
            | Code::Internal
            | Code::Unknown
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
    )
}

/// Tries of a call that keeps failing transiently.
const TRIES: u32 = 7;

/// The back-off before try `n` (from 2): 0.25 s doubling, at most 8 s.
async fn back_off(n: u32) {
    let ms = (250u64 << (n.saturating_sub(2)).min(5)).min(8_000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// `client.method(request)`, tried again on transient failures (every call
/// made this way is idempotent or a read); the response's body.
macro_rules! call {
    ($what:expr, $client:expr, $method:ident, $req:expr) => {{
        let req = $req;
        let mut client = $client.clone();
        let mut n = 1;
        loop {
            match client.$method(req.clone()).await {
                Ok(r) => break Ok::<_, anyhow::Error>(r.into_inner()),
                Err(s) if transient(&s) && n < TRIES => {
                    n += 1;
                    back_off(n).await;
                }
                Err(s) => break Err(rpc($what)(s)),
            }
        }
    }};
}

/// Polls `check` every 200 ms until it says done, or fails after `timeout`
/// with its last word on what is missing.
async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<String>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let Some(missing) = check().await? else {
            return Ok(());
        };
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "timed out after {} s waiting for {what}: {missing}",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Calls in flight at once (each service's pool is small).
const CONCURRENCY: usize = 6;

fn say(config: &Config, msg: impl std::fmt::Display) {
    if config.verbose {
        eprintln!("[zfdemo] {msg}");
    }
}

/// Generates the demo county and campaign against running services and
/// returns its totals.
pub async fn run(config: &Config) -> anyhow::Result<Totals> {
    ensure!(
        config.households >= 20,
        "--households must be at least 20 (got {})",
        config.households
    );
    let seed = config.seed;
    let clients = Clients::connect(config).await?;
    let county = plan_county(seed);
    let households = plan_households(seed, config.households, &county);

    say(
        config,
        format_args!(
            "{COUNTY_NAME}: {} townships, {} villages, {} cadres, {} households",
            county.townships.len(),
            county.villages.len(),
            county.cadres.len(),
            households.len()
        ),
    );
    setup_county(&clients, &county).await?;
    register_households(&clients, &county, &households).await?;

    // The campaign's period is its own record: a rerun takes it from there.
    let campaign_id = id(seed, &format!("{}/campaign", households.len()));
    let registry = clients.registry();
    let existing = {
        let mut n = 1;
        loop {
            let req = GetCampaignRequest {
                campaign_id: campaign_id.to_string(),
            };
            match registry.clone().get_campaign(req).await {
                Ok(r) => break r.into_inner().campaign,
                Err(s) if s.code() == Code::NotFound => break None,
                Err(s) if transient(&s) && n < TRIES => {
                    n += 1;
                    back_off(n).await;
                }
                Err(s) => return Err(rpc("read the campaign")(s)),
            }
        }
    };
    let anchor = match &existing {
        Some(c) => c
            .starts_at
            .as_ref()
            .and_then(|t| DateTime::from_timestamp(t.seconds, 0))
            .ok_or_else(|| anyhow!("campaign {campaign_id} has no start"))?,
        None => beijing_midnight_days_ago(30),
    };
    let campaign = plan_campaign(seed, households.len(), &county, &households, anchor);
    let supervision = clients.supervision();
    if existing.is_none() {
        // The policy first: it applies to the events after it.
        let req = SetSamplingPolicyRequest {
            campaign_id: campaign.id.to_string(),
            region_code: COUNTY_CODE.into(),
            policy: Some(policy()),
        };
        call!(
            "set the sampling policy",
            supervision,
            set_sampling_policy,
            req
        )?;
    }
    call!(
        "create the campaign",
        registry,
        create_campaign,
        campaign_request(&campaign)
    )?;
    let team = CreateTeamRequest {
        team_id: id(seed, "team").to_string(),
        name: "县委大走访督查组".into(),
        region_code: COUNTY.into(),
        member_ids: county
            .supervisors
            .iter()
            .map(|s| county.cadres[*s].id.to_string())
            .collect(),
    };
    call!(
        "create the supervision team",
        supervision,
        create_team,
        team
    )?;
    say(
        config,
        format_args!(
            "campaign {} ({}), {} assignments",
            campaign.id,
            campaign.name,
            campaign.assignments.len()
        ),
    );
    create_assignments(&clients, &county, &campaign).await?;

    say(
        config,
        format_args!(
            "recording {} visits and {} walk-in items",
            campaign.visits.len(),
            campaign
                .items
                .iter()
                .filter(|i| i.walk_in.is_some())
                .count()
        ),
    );
    record_visits(&clients, &county, &households, &campaign).await?;
    create_walk_ins(&clients, &county, &campaign).await?;

    say(config, "waiting for the ledger to hold every item");
    let issues = wait_for_ledger(&clients, config, &campaign).await?;
    say(config, "working the ledger");
    work_ledger(&clients, &county, &campaign, issues.clone()).await?;

    let expected = count(
        seed,
        &county,
        &households,
        &campaign,
        PetitionTotals::default(),
        Overdue::default(),
    );
    let want = expected.callbacks.callbacks;
    say(config, format_args!("waiting for {want} callback tasks"));
    let campaign_key = campaign.id.to_string();
    wait_for("the callback tasks", config.timeout, || {
        let supervision = supervision.clone();
        let campaign_id = campaign_key.clone();
        async move {
            let t = callback_totals(&supervision, &campaign_id).await?;
            ensure!(
                t.callbacks <= want,
                "supervision holds {} callbacks for the campaign, more than the {want} expected",
                t.callbacks
            );
            Ok((t.callbacks < want).then(|| format!("{} of {want} tasks", t.callbacks)))
        }
    })
    .await?;
    say(config, "answering callbacks");
    let callbacks_overdue =
        work_callbacks(&clients, &county, &households, &campaign, &issues).await?;
    wait_for_outcomes(&clients, config, &campaign, &expected).await?;

    say(config, "taking in petition cases");
    let petition = petition_cases(&clients, config, &campaign).await?;

    // Deadlines are the ledger's (set when items arrive and are assigned).
    let now = Utc::now().timestamp();
    let items_overdue = list_campaign_issues(&clients.ledger(), &campaign_key)
        .await?
        .iter()
        .filter(|i| {
            IssueState::try_from(i.state).is_ok_and(open_state)
                && i.deadline.as_ref().is_some_and(|d| d.seconds < now)
        })
        .count() as i64;
    let overdue = Overdue {
        items: items_overdue,
        callbacks: callbacks_overdue,
    };
    Ok(count(
        seed,
        &county,
        &households,
        &campaign,
        petition,
        overdue,
    ))
}

/// Compares the totals with what the services themselves answer for the
/// county and campaign; the differences (none when they agree).
pub async fn check_with_services(config: &Config, totals: &Totals) -> anyhow::Result<Vec<String>> {
    let clients = Clients::connect(config).await?;
    let req = GetRegionProgressRequest {
        campaign_id: totals.campaign_id.clone(),
        region_code: COUNTY_CODE.into(),
        zone_id: String::new(),
    };
    let progress = call!(
        "read the county's progress",
        clients.registry(),
        get_region_progress,
        req
    )?
    .total
    .unwrap_or_default();
    let stats = issue_stats(&clients.ledger(), &totals.campaign_id).await?;
    let callbacks = callback_totals(&clients.supervision(), &totals.campaign_id).await?;
    let (_, diffs) = diff_figures(
        &totals.figures_json(),
        &service_figures(&progress, &stats, &callbacks),
    );
    Ok(diffs)
}

async fn issue_stats(
    ledger: &Ledger,
    campaign_id: &str,
) -> anyhow::Result<GetIssueStatisticsResponse> {
    let req = GetIssueStatisticsRequest {
        region_code: COUNTY.into(),
        campaign_id: campaign_id.to_owned(),
    };
    call!(
        "read the ledger's statistics",
        ledger,
        get_issue_statistics,
        req
    )
}

async fn callback_totals(s: &Supervision, campaign_id: &str) -> anyhow::Result<CallbackTotals> {
    let req = GetCallbackStatisticsRequest {
        region_code: COUNTY.into(),
        campaign_id: campaign_id.to_owned(),
        failure_threshold_bp: 0,
    };
    Ok(call!(
        "read the callback statistics",
        s,
        get_callback_statistics,
        req
    )?
    .totals
    .unwrap_or_default())
}

async fn setup_county(clients: &Clients, county: &County) -> anyhow::Result<()> {
    let registry = clients.registry();
    let regions = ImportRegionsRequest {
        csv: region_csv(county).into_bytes(),
    };
    call!("import the region codes", registry, import_regions, regions)?;
    for town in &county.townships {
        for (zone_id, name, villages) in &town.zones {
            let req = CreateWorkZoneRequest {
                zone_id: zone_id.to_string(),
                township_code: town.code.clone(),
                name: name.clone(),
                village_codes: villages
                    .iter()
                    .map(|v| county.villages[*v].code.clone())
                    .collect(),
            };
            call!(
                format!("create work zone {name} of {}", town.name),
                registry,
                create_work_zone,
                req
            )?;
        }
    }
    stream::iter(county.cadres.iter())
        .map(|c| {
            let registry = registry.clone();
            let req = RegisterCadreRequest {
                cadre_id: c.id.to_string(),
                name: c.name.clone(),
                phone: c.phone.clone(),
                unit: c.unit as i32,
                position: c.position.into(),
                region_code: c.region.clone(),
                roles: c.roles.iter().map(|r| (*r).to_owned()).collect(),
            };
            async move {
                call!(
                    format!("register cadre {}", c.name),
                    registry,
                    register_cadre,
                    req
                )
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    // The ledger assigns items only to cadres its directory knows, which it
    // keeps from the registry's cadre events. A cadre registered by an
    // earlier run before the ledger kept one (registering again announces
    // nothing) is learned from this; on a fresh county it repeats, harmlessly,
    // what registering announced.
    let req = AnnounceCadresRequest {
        region_code: COUNTY.into(),
    };
    call!("announce the cadres", registry, announce_cadres, req)?;
    Ok(())
}

async fn register_households(
    clients: &Clients,
    county: &County,
    households: &[Household],
) -> anyhow::Result<()> {
    let registry = clients.registry();
    for (b, batch) in households.chunks(500).enumerate() {
        let req = RegisterHouseholdsRequest {
            households: batch
                .iter()
                .map(|h| RegisterHouseholdRequest {
                    household_id: h.id.to_string(),
                    village_code: county.villages[h.village].code.clone(),
                    group_name: h.group.clone(),
                    address: h.address.clone(),
                    head_name: h.head.clone(),
                    id_number: h.id_number.clone(),
                    phone: h.phone.clone(),
                    member_count: h.members,
                    tags: h.tags.iter().map(|t| (*t).to_owned()).collect(),
                })
                .collect(),
            all_or_nothing: false,
            validate_only: false,
        };
        let r = call!("register households", registry, register_households, req)?;
        if r.failed > 0 {
            let first = r
                .results
                .iter()
                .find(|x| !x.errors.is_empty())
                .map(|x| {
                    let e: Vec<String> = x
                        .errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.reason))
                        .collect();
                    format!("household {}: {}", b * 500 + x.index as usize, e.join("; "))
                })
                .unwrap_or_default();
            bail!(
                "the registry refused {} households (a demo of another --seed or \
                 --households in this database?); first: {first}",
                r.failed
            );
        }
    }
    Ok(())
}

async fn create_assignments(
    clients: &Clients,
    county: &County,
    c: &Campaign,
) -> anyhow::Result<()> {
    let registry = clients.registry();
    stream::iter(c.assignments.iter())
        .map(|(aid, cadre, target, target_id)| {
            let registry = registry.clone();
            let req = CreateAssignmentRequest {
                assignment_id: aid.to_string(),
                campaign_id: c.id.to_string(),
                cadre_id: county.cadres[*cadre].id.to_string(),
                target: *target as i32,
                target_id: target_id.clone(),
            };
            async move {
                call!(
                    format!("assign {target:?} {target_id}"),
                    registry,
                    create_assignment,
                    req
                )
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

fn mode_phrase(mode: VisitMode) -> &'static str {
    match mode {
        VisitMode::DoorToDoor => "入户走访",
        VisitMode::Phone => "电话回访",
        VisitMode::Reception => "在村部集中接访",
        VisitMode::CaseVisit => "带案下访",
        VisitMode::LiveIn => "与农户同吃同住",
        VisitMode::Unspecified => "走访",
    }
}

fn visit_request(
    county: &County,
    households: &[Household],
    c: &Campaign,
    v: &Visit,
) -> RecordVisitRequest {
    let hh = &households[v.household];
    let village = &county.villages[hh.village];
    let cadre = &county.cadres[v.cadres[0]];
    let in_person = matches!(
        v.mode,
        VisitMode::DoorToDoor | VisitMode::LiveIn | VisitMode::CaseVisit
    );
    let items: Vec<RaisedItem> = v
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let item = &c.items[*i];
            RaisedItem {
                item_no: n as i32 + 1,
                kind: item.kind as i32,
                category: item.category.into(),
                description: item.description.clone(),
                households_involved: item.households_involved,
                resolved_on_spot: item.fate == Fate::OnSpot,
                resolution_note: item.resolution_note.clone(),
                urgent: item.urgent,
            }
        })
        .collect();
    let mut narrative = format!(
        "{}{}{}{}户主{}家，了解家庭生产生活情况，",
        cadre.name,
        mode_phrase(v.mode),
        village.name,
        hh.group,
        hh.head
    );
    if items.is_empty() {
        narrative.push_str("群众对近期村里工作表示满意，无新的诉求。");
    } else {
        let said: Vec<&str> = items.iter().map(|i| i.description.as_str()).collect();
        let _ = write!(narrative, "户主反映：{}。", said.join("；"));
    }
    if v.cash_fen > 0 {
        let _ = write!(narrative, "送去慰问金{}元。", v.cash_fen / 100);
    }
    if !v.goods.is_empty() {
        let _ = write!(narrative, "送去{}。", v.goods);
    }
    if v.overnight {
        narrative.push_str("当晚住在户中，与群众拉家常。");
    }
    let situation = if hh.tags.contains(&"空巢老人") {
        format!("{}口人，老人独居，子女在外地", hh.members)
    } else {
        let mut rng = Rng::new(v.household as u64, "situation", 0);
        format!("一家{}口，{}", hh.members, rng.pick(OCCUPATIONS))
    };
    RecordVisitRequest {
        visit_id: v.id.to_string(),
        campaign_id: c.id.to_string(),
        household_id: hh.id.to_string(),
        cadre_ids: v
            .cadres
            .iter()
            .map(|x| county.cadres[*x].id.to_string())
            .collect(),
        started_at: Some(ts(v.start)),
        ended_at: Some(ts(v.end)),
        mode: v.mode as i32,
        overnight_stay: v.overnight,
        location: in_person.then_some(GeoPoint {
            latitude: hh.location.0,
            longitude: hh.location.1,
        }),
        situation,
        narrative,
        policies_explained: v.policies.iter().map(|p| (*p).to_owned()).collect(),
        materials: v
            .materials
            .iter()
            .map(|(name, q)| MaterialHandout {
                name: (*name).into(),
                quantity: *q,
            })
            .collect(),
        help: (v.cash_fen + v.goods_fen > 0).then(|| Help {
            cash_fen: v.cash_fen,
            goods_description: v.goods.into(),
            goods_value_fen: v.goods_fen,
        }),
        photo_refs: if in_person {
            vec![format!(
                "demo/{}/{}.jpg",
                &c.id.simple().to_string()[..8],
                v.id
            )]
        } else {
            vec![]
        },
        items,
    }
}

async fn record_visits(
    clients: &Clients,
    county: &County,
    households: &[Household],
    c: &Campaign,
) -> anyhow::Result<()> {
    let registry = clients.registry();
    stream::iter(c.visits.iter())
        .map(|v| {
            let registry = registry.clone();
            let req = visit_request(county, households, c, v);
            async move {
                call!(
                    format!("record visit {}", v.id),
                    registry,
                    record_visit,
                    req
                )
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

async fn create_walk_ins(clients: &Clients, county: &County, c: &Campaign) -> anyhow::Result<()> {
    let ledger = clients.ledger();
    stream::iter(c.items.iter().filter(|i| i.walk_in.is_some()))
        .map(|item| {
            let ledger = ledger.clone();
            let req = CreateIssueRequest {
                issue_id: item.key.0.to_string(),
                source: IssueSource::Reception as i32,
                region_code: county.villages[item.village].code.clone(),
                household_id: item.walk_in.map(|h| h.to_string()).unwrap_or_default(),
                campaign_id: c.id.to_string(),
                kind: item.kind as i32,
                category: item.category.into(),
                description: format!("开门接访：{}", item.description),
                households_involved: item.households_involved,
                urgent: item.urgent,
                concerned_cadre_ids: vec![],
            };
            async move { call!("create a walk-in item", ledger, create_issue, req) }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Every ledger item of the campaign.
async fn list_campaign_issues(ledger: &Ledger, campaign_id: &str) -> anyhow::Result<Vec<Issue>> {
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let req = ListIssuesRequest {
            region_code: COUNTY.into(),
            campaign_id: campaign_id.to_owned(),
            page_size: 500,
            page_token: page_token.clone(),
            ..Default::default()
        };
        let page = call!("list the campaign's ledger items", ledger, list_issues, req)?;
        out.extend(page.issues);
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = page.next_page_token;
    }
}

/// Waits until the ledger holds every item (those of visits come from the
/// registry's events) and returns them, each with its plan index.
async fn wait_for_ledger(
    clients: &Clients,
    config: &Config,
    c: &Campaign,
) -> anyhow::Result<Vec<(usize, Issue)>> {
    let want = c.items.len() as i64;
    let campaign_id = c.id.to_string();
    let ledger = clients.ledger();
    wait_for("the ledger items", config.timeout, || {
        let ledger = ledger.clone();
        let campaign_id = campaign_id.clone();
        async move {
            let s = issue_stats(&ledger, &campaign_id).await?;
            Ok((s.collected < want).then(|| format!("{} of {want} items", s.collected)))
        }
    })
    .await?;
    let by_key: HashMap<(Uuid, i32), usize> = c
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.key, i))
        .collect();
    let mut out = Vec::new();
    for issue in list_campaign_issues(&ledger, &campaign_id).await? {
        let key = if issue.visit_id.is_empty() {
            (Uuid::parse_str(&issue.issue_id)?, 0)
        } else {
            (Uuid::parse_str(&issue.visit_id)?, issue.item_no)
        };
        let i = by_key
            .get(&key)
            .ok_or_else(|| anyhow!("ledger item {} is not one of the demo's", issue.issue_id))?;
        out.push((*i, issue));
    }
    ensure!(
        out.len() == c.items.len(),
        "the ledger holds {} of the campaign's {} items",
        out.len(),
        c.items.len()
    );
    Ok(out)
}

/// Moves each item from where it is towards its fate.
async fn work_ledger(
    clients: &Clients,
    county: &County,
    c: &Campaign,
    issues: Vec<(usize, Issue)>,
) -> anyhow::Result<()> {
    stream::iter(issues)
        .map(|(i, issue)| {
            let item = &c.items[i];
            let cadre = county.cadres[item.responsible].id.to_string();
            async move {
                let department = clients.token(item.department, &[roles::DEPARTMENT])?;
                advance(
                    clients.ledger(),
                    clients.ledger_as(&department),
                    issue,
                    item,
                    &cadre,
                )
                .await
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Takes the item's next steps from its current state. A step that fails
/// for a passing reason, or finds the item changed (a stale version), is
/// retried from the item as the ledger then holds it.
async fn advance(
    mut admin: Ledger,
    mut department: Ledger,
    mut issue: Issue,
    item: &Item,
    cadre: &str,
) -> anyhow::Result<()> {
    use IssueState as S;
    let id = issue.issue_id.clone();
    let mut troubles = 0;
    loop {
        let state = S::try_from(issue.state).unwrap_or(S::Unspecified);
        let v = issue.version;
        let (step, result) = match (item.fate, state) {
            (Fate::TimeLimited | Fate::InProgress, S::Open) => (
                "assign",
                admin
                    .assign_issue(AssignIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        cadre_id: cadre.into(),
                        deadline_days: if item.kind == ItemKind::Petition {
                            30
                        } else {
                            15
                        },
                        note: "限时解决".into(),
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::InProgress, S::Assigned) => (
                "start",
                admin
                    .start_issue(StartIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        note: "已到现场查看，正在协调".into(),
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::TimeLimited, S::Assigned | S::InProgress) => (
                "resolve",
                admin
                    .resolve_issue(ResolveIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        resolution: match item.kind {
                            ItemKind::Dispute => "组织双方调解，达成书面协议".into(),
                            ItemKind::Suggestion => "建议已采纳，纳入村级工作计划".into(),
                            _ => "已按期办结，群众认可".into(),
                        },
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::Explain, S::Open) => (
                "explain",
                admin
                    .explain_issue(ExplainIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        explanation: "已向群众解释相关政策规定，群众表示理解".into(),
                        resident_acknowledged: true,
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::Escalate | Fate::EscalateResolved, S::Open) => (
                "escalate",
                admin
                    .escalate_issue(EscalateIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        department: item.department.into(),
                        assisting_departments: vec![],
                        sign_within_hours: 48,
                        note: "需县直部门协调解决".into(),
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::EscalateResolved, S::Escalated) if issue.signed_at.is_none() => (
                "sign for",
                department
                    .sign_issue(SignIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        note: "已签收".into(),
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::EscalateResolved, S::Escalated) => (
                "resolve",
                department
                    .resolve_issue(ResolveIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        resolution: format!("{}已安排资金解决", item.department),
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            _ => return Ok(()),
        };
        match result {
            Ok(Some(next)) => issue = next,
            Ok(None) => bail!("the ledger answered {step} of item {id} without the item"),
            // A cadre registered a moment ago may not have reached the
            // ledger's directory yet: it says so, and to try again shortly.
            Err(s)
                if (transient(&s)
                    || s.code() == Code::Aborted
                    || (step == "assign" && s.code() == Code::FailedPrecondition))
                    && troubles < TRIES =>
            {
                troubles += 1;
                back_off(troubles + 1).await;
                let req = GetIssueRequest {
                    issue_id: id.clone(),
                };
                issue = call!(format!("read ledger item {id}"), admin, get_issue, req)?
                    .issue
                    .ok_or_else(|| anyhow!("the ledger answered without item {id}"))?;
            }
            Err(s) => return Err(rpc(format!("{step} ledger item {id}"))(s)),
        }
    }
}

/// What a supervisor records for one callback.
enum Reply {
    Item(Answer),
    Visit {
        confirmed: bool,
        members: i32,
        date: String,
    },
}

/// Answers the callbacks on each supervisor's worklist as planned; the
/// number of the demo's callbacks left open past their due time.
async fn work_callbacks(
    clients: &Clients,
    county: &County,
    households: &[Household],
    c: &Campaign,
    issues: &[(usize, Issue)],
) -> anyhow::Result<i64> {
    let by_issue: HashMap<&str, usize> = issues
        .iter()
        .map(|(i, issue)| (issue.issue_id.as_str(), *i))
        .collect();
    let by_visit: HashMap<String, usize> = c
        .visits
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id.to_string(), i))
        .collect();
    let reply_to = |cb: &Callback| -> Option<Reply> {
        if cb.subject == CallbackSubject::Issue as i32 {
            let item = &c.items[*by_issue.get(cb.issue_id.as_str())?];
            (item.answer != Answer::LeaveOpen).then_some(Reply::Item(item.answer))
        } else {
            let i = *by_visit.get(&cb.visit_id)?;
            let v = &c.visits[i];
            Some(Reply::Visit {
                confirmed: c.denied_visit != Some(i),
                members: households[v.household].members,
                date: v.start.date_naive().format("%Y-%m-%d").to_string(),
            })
        }
    };
    let mut overdue = 0;
    for s in &county.supervisors {
        let sub = county.cadres[*s].id.to_string();
        let sup = clients.supervision_as(&clients.token(&sub, &[roles::SUPERVISOR])?);
        loop {
            let req = ListWorklistRequest {
                page_size: 500,
                overdue_only: false,
            };
            let page = call!("read the worklist", sup, list_worklist, req)?.callbacks;
            let now = Utc::now().timestamp();
            let ours_overdue = page
                .iter()
                .filter(|cb| {
                    let ours = by_issue.contains_key(cb.issue_id.as_str())
                        || by_visit.contains_key(&cb.visit_id);
                    ours && cb.due_at.as_ref().is_some_and(|d| d.seconds < now)
                })
                .count() as i64;
            let todo: Vec<(Callback, Reply)> = page
                .into_iter()
                .filter_map(|cb| reply_to(&cb).map(|r| (cb, r)))
                .collect();
            if todo.is_empty() {
                overdue += ours_overdue;
                break;
            }
            stream::iter(todo)
                .map(|(cb, reply)| answer(sup.clone(), cb, reply))
                .buffer_unordered(CONCURRENCY)
                .try_collect::<Vec<_>>()
                .await?;
        }
    }
    Ok(overdue)
}

/// One attempt, tried again on transient failures; None when the callback
/// was closed meanwhile (an earlier try went through after all).
async fn attempt(
    sup: &mut Supervision,
    req: RecordAttemptRequest,
) -> anyhow::Result<Option<Callback>> {
    let mut n = 1;
    loop {
        match sup.record_attempt(req.clone()).await {
            Ok(r) => return Ok(r.into_inner().callback),
            Err(s) if s.code() == Code::FailedPrecondition => return Ok(None),
            Err(s) if transient(&s) && n < TRIES => {
                n += 1;
                back_off(n).await;
            }
            Err(s) => {
                return Err(rpc(format!(
                    "record a callback attempt on {}",
                    req.callback_id
                ))(s));
            }
        }
    }
}

async fn answer(mut sup: Supervision, cb: Callback, reply: Reply) -> anyhow::Result<()> {
    let base = RecordAttemptRequest {
        callback_id: cb.callback_id.clone(),
        method: Method::Phone as i32,
        ..Default::default()
    };
    let req = match reply {
        Reply::Item(Answer::Unreachable) => {
            for _ in 0..MAX_ATTEMPTS + 2 {
                let req = RecordAttemptRequest {
                    reached: false,
                    comment: "电话无人接听".into(),
                    ..base.clone()
                };
                match attempt(&mut sup, req).await? {
                    Some(c) if c.state == CallbackState::Open as i32 => {}
                    _ => break,
                }
            }
            return Ok(());
        }
        Reply::Item(a) => {
            let (satisfaction, fixed, comment) = match a {
                Answer::Unsatisfied => (
                    Satisfaction::Unsatisfied,
                    false,
                    "群众反映问题没有真正解决，要求重新处理",
                ),
                Answer::Basically => (
                    Satisfaction::BasicallySatisfied,
                    true,
                    "问题已解决，希望以后多来看看",
                ),
                _ => (Satisfaction::Satisfied, true, "问题已解决，群众满意"),
            };
            RecordAttemptRequest {
                reached: true,
                fix_confirmed: fixed,
                satisfaction: satisfaction as i32,
                comment: comment.into(),
                ..base
            }
        }
        Reply::Visit {
            confirmed: true,
            members,
            date,
        } => RecordAttemptRequest {
            reached: true,
            visit_confirmed: true,
            comment: "户主确认干部上门走访".into(),
            answered_member_count: Some(members),
            answered_visit_date: date,
            ..base
        },
        Reply::Visit {
            confirmed: false, ..
        } => RecordAttemptRequest {
            reached: true,
            visit_confirmed: false,
            comment: "户主称没有干部来过".into(),
            ..base
        },
    };
    attempt(&mut sup, req).await?;
    Ok(())
}

/// Waits until the callback outcomes reached the ledger (verified, reopened)
/// and the registry (the denied visit flagged disputed).
async fn wait_for_outcomes(
    clients: &Clients,
    config: &Config,
    c: &Campaign,
    expected: &Totals,
) -> anyhow::Result<()> {
    let campaign_id = c.id.to_string();
    let ledger = clients.ledger();
    let (verified, reopened) = (expected.ledger.verified, expected.ledger.reopened);
    wait_for(
        "the callback outcomes in the ledger",
        config.timeout,
        || {
            let ledger = ledger.clone();
            let campaign_id = campaign_id.clone();
            async move {
                let s = issue_stats(&ledger, &campaign_id).await?;
                Ok((s.verified != verified || s.reopened != reopened).then(|| {
                    format!(
                        "verified {} of {verified}, reopened {} of {reopened}",
                        s.verified, s.reopened
                    )
                }))
            }
        },
    )
    .await?;
    if let Some(i) = c.denied_visit {
        let visit_id = c.visits[i].id.to_string();
        let registry = clients.registry();
        wait_for("the denied visit to be flagged", config.timeout, || {
            let registry = registry.clone();
            let visit_id = visit_id.clone();
            async move {
                let req = GetVisitRequest {
                    visit_id: visit_id.clone(),
                };
                let v = call!("read the denied visit", registry, get_visit, req)?
                    .visit
                    .unwrap_or_default();
                Ok((!v.disputed).then(|| format!("visit {visit_id} not yet disputed")))
            }
        })
        .await?;
    }
    Ok(())
}

/// The bridge's cases from the demo's petition system.
async fn our_cases(
    petition: &Petition,
    source: &str,
    ours: &HashMap<&str, &PetitionCase>,
) -> anyhow::Result<Vec<Case>> {
    let mut out: Vec<Case> = Vec::new();
    let mut page_token = String::new();
    loop {
        let req = ListCasesRequest {
            region_code: COUNTY.into(),
            page_size: 500,
            page_token: page_token.clone(),
            ..Default::default()
        };
        let page = call!("list the petition cases", petition, list_cases, req)?;
        out.extend(
            page.cases
                .into_iter()
                .filter(|k| k.source_system == source && ours.contains_key(k.external_id.as_str())),
        );
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = page.next_page_token;
    }
}

/// Registers the county's petition system, imports its cases as a CSV
/// batch, accepts all but the first (受理), and waits for their ledger items.
async fn petition_cases(
    clients: &Clients,
    config: &Config,
    c: &Campaign,
) -> anyhow::Result<PetitionTotals> {
    let petition = clients.petition();
    let source = "qidong-xinfang";
    let req = RegisterSourceRequest {
        source_system: source.into(),
        display_name: "祁东县信访信息系统".into(),
        region_code: COUNTY.into(),
        callback_url: String::new(),
        secret: format!("zfdemo-{}-signing-secret", config.seed),
    };
    call!(
        "register the petition system",
        petition,
        register_source,
        req
    )?;
    let mut csv = String::from("外部编号,渠道,信访人,身份证号,联系电话,区划代码,内容,收到时间\n");
    for k in &c.cases {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{}",
            k.external_id, k.channel, k.name, k.id_number, k.phone, k.region, k.content, k.received
        );
    }
    let req = ImportCasesRequest {
        source_system: source.into(),
        file_name: "信访件.csv".into(),
        content: csv.into_bytes(),
    };
    let r = call!("import the petition cases", petition, import_cases, req)?;
    if let Some(e) = r.errors.first() {
        bail!(
            "the petition bridge refused row {} ({}): {}",
            e.row,
            e.column,
            e.reason
        );
    }
    let ours: HashMap<&str, &PetitionCase> = c
        .cases
        .iter()
        .map(|k| (k.external_id.as_str(), k))
        .collect();
    let cases = our_cases(&petition, source, &ours).await?;
    ensure!(
        cases.len() == c.cases.len(),
        "the petition bridge holds {} of the {} cases",
        cases.len(),
        c.cases.len()
    );
    for k in &cases {
        if !(ours[k.external_id.as_str()].accept && k.stage == Stage::Received as i32) {
            continue;
        }
        let req = AcceptCaseRequest {
            case_id: k.case_id.clone(),
            expected_version: 0,
            note: "依法受理，转乡镇办理".into(),
            new_facts: false,
        };
        let mut petition = petition.clone();
        let mut n = 1;
        loop {
            match petition.accept_case(req.clone()).await {
                Ok(_) => break,
                Err(s) if transient(&s) && n < TRIES => {
                    n += 1;
                    back_off(n).await;
                }
                // An earlier try went through after all?
                Err(s) if s.code() == Code::FailedPrecondition => {
                    let get = GetCaseRequest {
                        case_id: k.case_id.clone(),
                    };
                    let now = call!("read a petition case", petition, get_case, get)?;
                    if now.case.is_some_and(|x| x.stage != Stage::Received as i32) {
                        break;
                    }
                    return Err(rpc(format!("accept case {}", k.external_id))(s));
                }
                Err(s) => return Err(rpc(format!("accept case {}", k.external_id))(s)),
            }
        }
    }
    let issue_ids: Vec<String> = cases.iter().map(|k| k.issue_id.clone()).collect();
    ensure!(
        issue_ids.iter().all(|i| !i.is_empty()),
        "the petition bridge named no ledger item for some cases"
    );
    let ledger = clients.ledger();
    wait_for("the petition cases' ledger items", config.timeout, || {
        let ledger = ledger.clone();
        let issue_ids = issue_ids.clone();
        async move {
            let mut missing = 0;
            for id in &issue_ids {
                let req = GetIssueRequest {
                    issue_id: id.clone(),
                };
                match ledger.clone().get_issue(req).await {
                    Ok(_) => {}
                    Err(s) if s.code() == Code::NotFound || transient(&s) => missing += 1,
                    Err(s) => return Err(rpc("read a petition case's item")(s)),
                }
            }
            Ok((missing > 0).then(|| format!("{missing} items missing")))
        }
    })
    .await?;
    // The totals are the generated cases'; the bridge must hold exactly them.
    let totals = PetitionTotals {
        cases: c.cases.len() as i64,
        accepted: c.cases.iter().filter(|k| k.accept).count() as i64,
        matched_households: c.cases.iter().filter(|k| k.registered).count() as i64,
        ledger_items: c.cases.len() as i64,
    };
    let cases = our_cases(&petition, source, &ours).await?;
    let held = PetitionTotals {
        cases: cases.len() as i64,
        accepted: cases
            .iter()
            .filter(|k| k.stage != Stage::Received as i32)
            .count() as i64,
        matched_households: cases.iter().filter(|k| !k.household_id.is_empty()).count() as i64,
        ledger_items: issue_ids.len() as i64,
    };
    ensure!(
        held == totals,
        "the petition bridge holds {held:?}, not the generated {totals:?}"
    );
    Ok(totals)
}
