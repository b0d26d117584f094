//! Transitions of an issue. Every one goes through [`apply`]: lock the row,
//! check the caller's version (a stale one is ABORTED, never a lost write),
//! ask the state machine, change the fields, and write the row, its timeline
//! entry and its event in one transaction.
use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_bus::outbox::{self, NewEvent};
use zoufang_core::{ServiceError, ServiceResult, auth::Claims};
use zoufang_proto::{
    events::v1::IssueChange,
    issues::v1::{Disposition, Priority},
};

use super::{find_in_scope, view};
use crate::{
    domain::{
        routing,
        sla::{self, SlaRule},
        state::{Action, State as IssueState, transition},
    },
    store::{self, issues::IssueRow, timeline::NewEntry},
};

/// Who asks for a change, which version they saw (None: the service
/// itself, acting on an event, takes the row as it is), and when (read from
/// the service's clock).
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub expected_version: Option<i64>,
    pub at: DateTime<Utc>,
}

/// Applies `action` to an issue the caller may see. `change` edits the row
/// after the state machine allowed the move; it may refuse with an error.
#[tracing::instrument(skip_all, fields(%issue_id), err(level = "debug"))]
pub async fn apply(
    conn: &mut PgConnection,
    claims: Option<&Claims>,
    issue_id: Uuid,
    actor: Actor<'_>,
    action: Action,
    note: &str,
    change: impl FnOnce(&mut IssueRow, DateTime<Utc>) -> ServiceResult<()>,
) -> ServiceResult<IssueRow> {
    let county = match claims {
        Some(c) => find_in_scope(conn, c, issue_id).await?.county,
        None => store::issues::county_of(&mut *conn, issue_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("issue {issue_id}")))?,
    };
    let mut row = store::issues::lock(conn, &county, issue_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("issue {issue_id}")))?;
    if let Some(expected) = actor.expected_version
        && expected != row.version
    {
        return Err(ServiceError::Aborted(format!(
            "issue {issue_id} changed since you read it (version {expected}, now {}); read it again",
            row.version
        )));
    }
    let from = IssueState::parse(&row.state)
        .ok_or_else(|| anyhow::anyhow!("issue {issue_id} has unknown state {:?}", row.state))?;
    let to = transition(from, action)?;
    let now = actor.at;
    row.state = to.as_str().to_owned();
    change(&mut row, now)?;
    let version = row.version;
    if !store::issues::update(conn, &row, version).await? {
        return Err(ServiceError::Aborted(format!(
            "issue {issue_id} changed concurrently; read it again"
        )));
    }
    row.version += 1;
    row.updated_at = now;
    record(
        conn,
        &row,
        from.as_str(),
        actor.name,
        action.as_str(),
        view::change_of(action),
        note,
        None,
    )
    .await?;
    Ok(row)
}

/// Appends the timeline entry and writes the event of a change.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn record(
    conn: &mut PgConnection,
    row: &IssueRow,
    from_state: &str,
    actor: &str,
    action: &str,
    change: IssueChange,
    note: &str,
    related: Option<Uuid>,
) -> ServiceResult<()> {
    store::timeline::append(
        conn,
        &NewEntry {
            county: &row.county,
            issue_id: row.issue_id,
            actor,
            action,
            from_state,
            to_state: &row.state,
            note,
            related_issue_id: related,
        },
    )
    .await?;
    outbox::enqueue(
        conn,
        NewEvent::of_change(
            &view::event(row, change, actor, note),
            &row.region_code,
            format!("issues/{}", row.issue_id),
        )
        .map_err(ServiceError::Internal)?,
    )
    .await?;
    Ok(())
}

fn days(n: i32) -> Duration {
    Duration::days(i64::from(n))
}

/// Closes a round: when and whether it was in time.
fn close_round(row: &mut IssueRow, now: DateTime<Utc>) {
    row.resolved_at = Some(now);
    row.resolved_in_time = Some(row.deadline.is_none_or(|d| now <= d));
}

/// Assigns a cadre (never one the complaint concerns), named `name`,
/// optionally with a deadline.
pub fn assign<'a>(
    cadre_id: &'a str,
    name: &'a str,
    deadline_days: i32,
) -> impl FnOnce(&mut IssueRow, DateTime<Utc>) -> ServiceResult<()> + 'a {
    move |row, now| {
        routing::check_assignee("cadre_id", cadre_id, &row.concerned_cadre_ids)?;
        if !(0..=365).contains(&deadline_days) {
            return Err(ServiceError::invalid(
                "deadline_days",
                "must be between 0 and 365",
            ));
        }
        row.responsible_cadre_id = cadre_id.to_owned();
        row.responsible_cadre_name = name.to_owned();
        if deadline_days > 0 {
            row.deadline = Some(now + days(deadline_days));
            row.disposition = Disposition::TimeLimited as i16;
        }
        Ok(())
    }
}

/// Records the fix. An escalated item is fixed only after its department
/// signed for it.
pub fn resolve(
    resolution: String,
) -> impl FnOnce(&mut IssueRow, DateTime<Utc>) -> ServiceResult<()> {
    move |row, now| {
        if row.disposition == Disposition::Escalated as i16
            && row.signed_at.is_none()
            && !row.department.is_empty()
        {
            return Err(ServiceError::FailedPrecondition(format!(
                "issue {} waits for {} to sign for it (签收) before it can be resolved",
                row.issue_id, row.department
            )));
        }
        record_fix(row, resolution, now);
        Ok(())
    }
}

/// Records a fix made outside the ledger: a petition case the petition
/// system answered 支持. The answer is a fact, so it closes the item
/// whoever holds it (also an escalation nobody signed for yet).
pub fn answered(
    resolution: String,
) -> impl FnOnce(&mut IssueRow, DateTime<Utc>) -> ServiceResult<()> {
    move |row, now| {
        record_fix(row, resolution, now);
        Ok(())
    }
}

fn record_fix(row: &mut IssueRow, resolution: String, now: DateTime<Utc>) {
    if row.disposition == Disposition::Unspecified as i16 {
        row.disposition = Disposition::TimeLimited as i16;
    }
    row.resolution = resolution;
    close_round(row, now);
}

/// Closes with an explanation (解释说明) and the resident's acknowledgment.
pub fn explain(
    explanation: String,
    acknowledged: bool,
) -> impl FnOnce(&mut IssueRow, DateTime<Utc>) -> ServiceResult<()> {
    move |row, now| {
        row.explanation = explanation;
        row.resident_acknowledged = acknowledged;
        row.disposition = Disposition::Explained as i16;
        close_round(row, now);
        Ok(())
    }
}

/// Escalates to a lead department with assisting ones; it must sign in time.
pub fn escalate(
    department: String,
    assisting: Vec<String>,
    sign_within_hours: i32,
) -> impl FnOnce(&mut IssueRow, DateTime<Utc>) -> ServiceResult<()> {
    move |row, now| {
        let hours = if sign_within_hours <= 0 {
            24
        } else {
            sign_within_hours.min(24 * 30)
        };
        row.department = department;
        row.assisting_departments = assisting;
        row.sign_deadline = Some(now + Duration::hours(i64::from(hours)));
        row.signed_at = None;
        row.escalation_level = row.escalation_level.max(1);
        row.ever_escalated = true;
        row.disposition = Disposition::Escalated as i16;
        Ok(())
    }
}

/// A supervision order (督办): priority up, deadline tightened.
pub fn supervise(
    deadline_days: i32,
) -> impl FnOnce(&mut IssueRow, DateTime<Utc>) -> ServiceResult<()> {
    move |row, now| {
        if !(1..=365).contains(&deadline_days) {
            return Err(ServiceError::invalid(
                "deadline_days",
                "must be between 1 and 365",
            ));
        }
        row.supervised = true;
        let p = Priority::try_from(i32::from(row.priority)).unwrap_or(Priority::Normal);
        row.priority = sla::priority_raised(p) as i16;
        row.deadline = Some(sla::supervised_deadline(row.deadline, now, deadline_days));
        Ok(())
    }
}

/// Reopens for another round of rectification (二次整改) with a shorter
/// deadline — or with `deadline` when one is given (a petition review's
/// statutory deadline), overriding the rules. Sets `escalate_up` when the
/// loops are exhausted and the item must go one level up.
pub fn reopen(
    rules: Vec<SlaRule>,
    max_loops: i32,
    deadline: Option<DateTime<Utc>>,
    escalate_up: &mut bool,
) -> impl FnOnce(&mut IssueRow, DateTime<Utc>) -> ServiceResult<()> + '_ {
    move |row, now| {
        row.reopen_count += 1;
        let kind =
            zoufang_proto::common::v1::ItemKind::try_from(i32::from(row.kind)).unwrap_or_default();
        let priority = Priority::try_from(i32::from(row.priority)).unwrap_or(Priority::Normal);
        let first = sla::deadline_days(&rules, kind, &row.category, priority);
        let outcome = routing::after_reopen(
            row.reopen_count,
            row.rectification_round,
            row.escalation_level,
            first,
            max_loops,
        );
        row.rectification_round = outcome.round;
        row.deadline = Some(deadline.unwrap_or_else(|| now + days(outcome.deadline_days)));
        row.resolved_at = None;
        row.resolved_in_time = None;
        *escalate_up = outcome.escalate;
        if outcome.escalate {
            row.escalation_level = outcome.escalation_level;
        }
        Ok(())
    }
}
