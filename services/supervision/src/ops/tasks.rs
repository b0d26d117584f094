//! Callback tasks made from events: resolved or explained ledger items and
//! recorded visits, sampled by the campaign's policy in force when the event
//! happened. A task's id derives from the event's id, so a replayed event
//! makes no second task — and announces none: `supervision.callback.assigned`
//! is written with the task, in the same transaction, only when it is new.
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_bus::{
    Envelope,
    consumer::{Poison, known_enum},
    outbox::{self, NewEvent},
};
use zoufang_core::fields::county_of;
use zoufang_proto::{
    common::v1::{ItemKind, VisitMode},
    events::v1::{IssueChange, IssueChanged, VisitRecorded},
    supervision::v1::CallbackSubject,
};
use zoufang_types::labels;

use super::{
    setup::policy_row,
    view::{self, TaskChange},
};
use crate::store::ledger::Outcome;
use crate::{
    domain::{
        backcheck::Recorded,
        sampling::{self, SamplingPolicy},
        signals::{Thresholds, VisitFacts, risk_from_totals, signals_for},
    },
    store::{self, callbacks::CallbackRow, policies::PolicyRow},
};

/// Names callback tasks after the events that made them.
const TASK_NAMESPACE: Uuid = Uuid::from_u128(0x3c1e_9b0a_44f2_4d6b_8a1e_6f2d_95c7_0b13);
/// Days a task is due when the campaign set no policy.
const DEFAULT_DUE_DAYS: u32 = 7;
/// Failed attempts before a task closes as unreachable, without a policy.
const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The task id made from an event id.
pub fn task_id(event_id: Uuid) -> Uuid {
    Uuid::new_v5(&TASK_NAMESPACE, event_id.as_bytes())
}

fn as_policy(p: &PolicyRow) -> SamplingPolicy {
    let u = |v: i32| u32::try_from(v).unwrap_or(0);
    SamplingPolicy {
        item_share_bp: u(p.item_share_bp),
        visit_share_bp: u(p.visit_share_bp),
        min_visits_per_cadre: u(p.min_visits_per_cadre),
        high_risk_threshold: u(p.high_risk_threshold),
        high_risk_visit_share_bp: u(p.high_risk_visit_share_bp),
        ..SamplingPolicy::default()
    }
}

async fn policy_at(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Option<Uuid>,
    env: &Envelope,
) -> anyhow::Result<PolicyRow> {
    let found = match campaign_id {
        Some(c) => store::policies::in_force(&mut *conn, county, c, env.time).await?,
        None => None,
    };
    Ok(found.unwrap_or_else(|| {
        policy_row(
            &SamplingPolicy::default(),
            DEFAULT_DUE_DAYS,
            DEFAULT_MAX_ATTEMPTS,
        )
    }))
}

#[allow(clippy::too_many_arguments)]
async fn create(
    conn: &mut PgConnection,
    env: &Envelope,
    now: DateTime<Utc>,
    policy: &PolicyRow,
    subject: CallbackSubject,
    (region_code, region_name): (&str, String),
    campaign_id: Option<Uuid>,
    household_id: Option<Uuid>,
    issue_id: Option<Uuid>,
    visit_id: Option<Uuid>,
    summary: String,
    cadre_ids: Vec<String>,
    recorded: Recorded,
) -> anyhow::Result<bool> {
    let county = county_of(region_code);
    let supervisor = store::teams::least_loaded_member(&mut *conn, &county, region_code)
        .await?
        .unwrap_or_default();
    let row = CallbackRow {
        county,
        callback_id: task_id(env.id),
        subject: subject as i16,
        issue_id,
        visit_id,
        household_id,
        region_code: region_code.to_owned(),
        region_name,
        campaign_id,
        supervisor_id: supervisor,
        state: "open".into(),
        due_at: now + Duration::days(i64::from(policy.due_days.max(1))),
        attempts: 0,
        max_attempts: policy.max_attempts.max(1),
        summary,
        policy_version: policy.version,
        cadre_ids,
        reached: false,
        visit_confirmed: false,
        fix_confirmed: false,
        satisfaction: 0,
        comment: String::new(),
        recorded_member_count: recorded.member_count,
        recorded_help_fen: recorded.help_fen,
        recorded_visit_date: recorded.visit_date,
        answered_member_count: None,
        answered_help_fen: None,
        answered_visit_date: None,
        backcheck_mismatches: 0,
        created_at: now,
        completed_at: None,
    };
    let created = store::callbacks::insert(&mut *conn, &row).await?;
    if created {
        announce(conn, &row, TaskChange::Assigned).await?;
    }
    Ok(created)
}

/// Writes the task event `change` of `row` into the outbox on `conn` (inside
/// the transaction that created or marked the task).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn announce(
    conn: &mut PgConnection,
    row: &CallbackRow,
    change: TaskChange,
) -> anyhow::Result<()> {
    outbox::enqueue(
        conn,
        NewEvent::of_change(
            &view::task_event(row, change),
            &row.region_code,
            format!("callbacks/{}", row.callback_id),
        )?,
    )
    .await?;
    Ok(())
}

/// The kind of a changed ledger item: an item of no kind is a problem; a
/// kind this build does not know parks the event.
pub fn issue_kind(issue: &IssueChanged) -> Result<ItemKind, Poison> {
    match known_enum("kind", issue.kind)? {
        ItemKind::Unspecified => Ok(ItemKind::Problem),
        kind => Ok(kind),
    }
}

/// The mode of a recorded visit (unspecified stays so); a mode this build
/// does not know parks the event.
pub fn visit_mode(visit: &VisitRecorded) -> Result<VisitMode, Poison> {
    known_enum("mode", visit.mode)
}

/// A resolved or explained item: always for urgent, dispute and petition
/// items, a sampled share of the rest. True when a task was created.
#[tracing::instrument(skip_all, fields(issue_id = %issue.issue_id), err(level = "debug"))]
pub async fn from_issue(
    conn: &mut PgConnection,
    env: &Envelope,
    issue: &IssueChanged,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let issue_id = Uuid::parse_str(&issue.issue_id)?;
    let campaign_id = Uuid::parse_str(&issue.campaign_id).ok();
    let county = county_of(&issue.region_code);
    let policy = policy_at(conn, &county, campaign_id, env).await?;
    let kind = issue_kind(issue)?;
    if !sampling::item_needs_callback(&as_policy(&policy), env.id, kind, issue.urgent) {
        return Ok(false);
    }
    let summary = format!(
        "{}：{}｜处理：{}",
        issue.category, issue.description, issue.note
    );
    let cadres = vec![issue.responsible_cadre_id.clone()]
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect();
    create(
        conn,
        env,
        now,
        &policy,
        CallbackSubject::Issue,
        (&issue.region_code, issue.region_name.trim().to_owned()),
        campaign_id,
        Uuid::parse_str(&issue.household_id).ok(),
        Some(issue_id),
        None,
        summary,
        cadres,
        Recorded::default(),
    )
    .await
}

/// Reads the visit's fabrication signals against the same cadres' other
/// visits, stores them, adds the visit to its cadres' risk totals, and
/// returns the highest risk score among its cadres.
async fn read_signals(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Uuid,
    visit: &VisitRecorded,
    started: chrono::DateTime<Utc>,
) -> anyhow::Result<u32> {
    let facts = VisitFacts {
        visit_id: Uuid::parse_str(&visit.visit_id)?,
        cadre_ids: visit
            .cadre_ids
            .iter()
            .filter_map(|c| Uuid::parse_str(c).ok())
            .collect(),
        household_id: Uuid::parse_str(&visit.household_id)?,
        started_at: started,
        ended_at: visit
            .ended_at
            .as_ref()
            .and_then(zoufang_core::fields::to_chrono)
            .unwrap_or(started),
        mode: visit_mode(visit)?,
        location: visit.location.map(|l| (l.latitude, l.longitude)),
        photo_refs: visit.photo_refs.clone(),
        household_phone_hash: None,
    };
    let others = store::facts::neighbours(&mut *conn, county, &facts).await?;
    let phone_households = usize::try_from(visit.phone_shared_households).unwrap_or(0);
    let signals = signals_for(&facts, &others, phone_households, &Thresholds::default());
    if !store::facts::insert(
        conn,
        county,
        campaign_id,
        &facts,
        &serde_json::to_value(&signals)?,
    )
    .await?
    {
        // Already read (the same visit under another event id): its cadres'
        // totals already count it.
        let mut risk = 0;
        for cadre in &visit.cadre_ids {
            let t = store::facts::risk_of(&mut *conn, county, campaign_id, cadre).await?;
            risk = risk.max(score_of(t));
        }
        return Ok(risk);
    }
    let weight: i64 = signals.iter().map(|s| i64::from(s.weight())).sum();
    let mut risk = 0;
    for cadre in &visit.cadre_ids {
        let t = store::facts::add_to_risk(
            conn,
            county,
            campaign_id,
            cadre,
            !signals.is_empty(),
            weight,
        )
        .await?;
        risk = risk.max(score_of(t));
    }
    Ok(risk)
}

/// The risk score of a cadre's totals.
pub fn score_of(t: store::facts::RiskTotals) -> u32 {
    risk_from_totals(
        usize::try_from(t.visits).unwrap_or(0),
        usize::try_from(t.flagged_visits).unwrap_or(0),
        u64::try_from(t.total_weight).unwrap_or(0),
    )
}

/// Counts how a ledger item ended for its responsible cadre (考核 timeliness):
/// resolved or explained by its deadline, after it, or overdue.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn count_outcome(
    conn: &mut PgConnection,
    env: &Envelope,
    change: IssueChange,
    issue: &IssueChanged,
) -> anyhow::Result<()> {
    let (Ok(campaign_id), false) = (
        Uuid::parse_str(&issue.campaign_id),
        issue.responsible_cadre_id.is_empty(),
    ) else {
        return Ok(());
    };
    let outcome = if change == IssueChange::Overdue {
        Outcome::Overdue
    } else {
        match issue
            .deadline
            .as_ref()
            .and_then(zoufang_core::fields::to_chrono)
        {
            Some(deadline) if env.time > deadline => Outcome::Late,
            _ => Outcome::InTime,
        }
    };
    let county = county_of(&issue.region_code);
    store::ledger::add(
        conn,
        &county,
        campaign_id,
        &issue.responsible_cadre_id,
        outcome,
    )
    .await?;
    Ok(())
}

fn week_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

fn mode_zh(mode: i32) -> &'static str {
    match labels::visit_mode(mode) {
        "" => labels::VISIT,
        label => label,
    }
}

/// A recorded visit: a sampled share per cadre, with a minimum per cadre and week.
#[tracing::instrument(skip_all, fields(visit_id = %visit.visit_id), err(level = "debug"))]
pub async fn from_visit(
    conn: &mut PgConnection,
    env: &Envelope,
    visit: &VisitRecorded,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let visit_id = Uuid::parse_str(&visit.visit_id)?;
    let Ok(campaign_id) = Uuid::parse_str(&visit.campaign_id) else {
        return Ok(false);
    };
    let county = county_of(&visit.village_code);
    let policy = policy_at(conn, &county, Some(campaign_id), env).await?;
    let Some(cadre) = visit.cadre_ids.first() else {
        return Ok(false);
    };
    let started = visit
        .started_at
        .as_ref()
        .and_then(zoufang_core::fields::to_chrono)
        .unwrap_or(env.time);
    let period = week_of(started.date_naive());
    let selected_so_far =
        store::policies::cadre_selected(&mut *conn, &county, campaign_id, cadre, period).await?;
    let risk = read_signals(conn, &county, campaign_id, visit, started).await?;
    let chosen = sampling::visit_needs_verification(
        &as_policy(&policy),
        env.id,
        risk,
        u32::try_from(selected_so_far).unwrap_or(0),
    );
    if !chosen {
        return Ok(false);
    }
    let summary = format!(
        "{} {}，核实是否走访",
        started.format("%Y-%m-%d"),
        mode_zh(visit.mode)
    );
    let created = create(
        conn,
        env,
        now,
        &policy,
        CallbackSubject::Visit,
        (
            &visit.village_code,
            format!(
                "{}{}",
                visit.township_name.trim(),
                visit.village_name.trim()
            ),
        ),
        Some(campaign_id),
        Uuid::parse_str(&visit.household_id).ok(),
        None,
        Some(visit_id),
        summary,
        visit.cadre_ids.clone(),
        Recorded {
            member_count: (visit.household_member_count > 0)
                .then_some(visit.household_member_count),
            help_fen: Some(
                visit
                    .help
                    .as_ref()
                    .map_or(0, |h| h.cash_fen + h.goods_value_fen),
            ),
            visit_date: Some(started.date_naive()),
        },
    )
    .await?;
    if created {
        store::policies::bump_cadre_selected(conn, &county, campaign_id, cadre, period, true)
            .await?;
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kinds_and_modes_of_consumed_events_are_poison() {
        let issue = |kind: i32| IssueChanged {
            kind,
            ..Default::default()
        };
        assert_eq!(issue_kind(&issue(0)), Ok(ItemKind::Problem));
        assert_eq!(
            issue_kind(&issue(ItemKind::Petition as i32)),
            Ok(ItemKind::Petition)
        );
        assert!(
            issue_kind(&issue(42))
                .unwrap_err()
                .0
                .starts_with("kind has the unknown value 42")
        );
        let visit = |mode: i32| VisitRecorded {
            mode,
            ..Default::default()
        };
        assert_eq!(visit_mode(&visit(0)), Ok(VisitMode::Unspecified));
        assert_eq!(
            visit_mode(&visit(VisitMode::LiveIn as i32)),
            Ok(VisitMode::LiveIn)
        );
        assert!(
            visit_mode(&visit(-1))
                .unwrap_err()
                .0
                .starts_with("mode has the unknown value -1")
        );
    }
}
