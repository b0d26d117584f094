//! The transition RPCs: who may do what, with which inputs. The moves
//! themselves are in `lifecycle`.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::{parse_uuid, require_text},
};
use zoufang_proto::issues::v1::*;

use super::{
    SYSTEM, State, find_in_scope, is_department_of,
    lifecycle::{self, Actor, apply},
    view,
};
use crate::{
    domain::{
        assignee, routing,
        state::{Action, State as IssueState},
    },
    store::{self, issues::IssueRow},
};

const ADMINS: &[&str] = &[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN];

fn expected(v: i64) -> ServiceResult<i64> {
    if v <= 0 {
        return Err(ServiceError::invalid(
            "expected_version",
            "send the version you read (optimistic concurrency)",
        ));
    }
    Ok(v)
}

/// Admins, the responsible cadre, or the department the issue was escalated to.
async fn require_handler(
    conn: &mut PgConnection,
    claims: &Claims,
    issue_id: Uuid,
) -> ServiceResult<IssueRow> {
    let row = find_in_scope(conn, claims, issue_id).await?;
    let allowed = claims.has_any_role(ADMINS)
        || (claims.has_role(roles::CADRE) && row.responsible_cadre_id == claims.sub)
        || is_department_of(claims, &row);
    if !allowed {
        return Err(ServiceError::PermissionDenied(format!(
            "only the responsible cadre, the department it was escalated to, or an admin may handle issue {issue_id}"
        )));
    }
    Ok(row)
}

macro_rules! finish {
    ($tx:ident, $row:expr, $resp:ident) => {{
        let row = $row;
        $tx.commit().await?;
        Ok($resp {
            issue: Some(view::issue(&row)),
        })
    }};
}

/// Assigns (or hands over) the issue to a cadre (交办), optionally with a
/// deadline (限时解决). The cadre must be in the ledger's directory (kept
/// from the registry's cadre events) and their region must cover the item
/// ([`assignee::check`]).
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn assign(
    state: &State,
    claims: &Claims,
    req: AssignIssueRequest,
) -> ServiceResult<AssignIssueResponse> {
    claims.require_any_role(ADMINS)?;
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let version = expected(req.expected_version)?;
    let cadre = assignee::parse_cadre_id("cadre_id", &req.cadre_id)?;
    let mut tx = state.pool.begin().await?;
    let item = find_in_scope(&mut tx, claims, issue_id).await?;
    // A complaint about the cadre never goes to them, whoever they are.
    routing::check_assignee("cadre_id", req.cadre_id.trim(), &item.concerned_cadre_ids)?;
    let known = store::cadres::get(&mut *tx, &item.county, cadre).await?;
    assignee::check(
        "cadre_id",
        cadre,
        known.as_ref().map(|k| assignee::Known {
            name: &k.name,
            region_code: &k.region_code,
        }),
        &item.region_code,
    )?;
    let name = known.map(|k| k.name).unwrap_or_default();
    let cadre_id = cadre.to_string();
    let actor = Actor {
        name: &claims.sub,
        expected_version: Some(version),
        at: state.clock.now(),
    };
    let row = apply(
        &mut tx,
        Some(claims),
        issue_id,
        actor,
        Action::Assign,
        req.note.trim(),
        lifecycle::assign(&cadre_id, &name, req.deadline_days),
    )
    .await?;
    finish!(tx, row, AssignIssueResponse)
}

/// The responsible cadre starts work.
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn start(
    state: &State,
    claims: &Claims,
    req: StartIssueRequest,
) -> ServiceResult<StartIssueResponse> {
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let version = expected(req.expected_version)?;
    let mut tx = state.pool.begin().await?;
    require_handler(&mut tx, claims, issue_id).await?;
    let actor = Actor {
        name: &claims.sub,
        expected_version: Some(version),
        at: state.clock.now(),
    };
    let row = apply(
        &mut tx,
        Some(claims),
        issue_id,
        actor,
        Action::Start,
        req.note.trim(),
        |_, _| Ok(()),
    )
    .await?;
    finish!(tx, row, StartIssueResponse)
}

/// Records the fix (办结).
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn resolve(
    state: &State,
    claims: &Claims,
    req: ResolveIssueRequest,
) -> ServiceResult<ResolveIssueResponse> {
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let version = expected(req.expected_version)?;
    let resolution = require_text("resolution", &req.resolution, 2000)?;
    let mut tx = state.pool.begin().await?;
    require_handler(&mut tx, claims, issue_id).await?;
    let actor = Actor {
        name: &claims.sub,
        expected_version: Some(version),
        at: state.clock.now(),
    };
    let row = apply(
        &mut tx,
        Some(claims),
        issue_id,
        actor,
        Action::Resolve,
        &resolution.clone(),
        lifecycle::resolve(resolution),
    )
    .await?;
    finish!(tx, row, ResolveIssueResponse)
}

/// Closes with an explanation (解释说明), recording the resident's acknowledgment.
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn explain(
    state: &State,
    claims: &Claims,
    req: ExplainIssueRequest,
) -> ServiceResult<ExplainIssueResponse> {
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let version = expected(req.expected_version)?;
    let explanation = require_text("explanation", &req.explanation, 2000)?;
    let mut tx = state.pool.begin().await?;
    require_handler(&mut tx, claims, issue_id).await?;
    let actor = Actor {
        name: &claims.sub,
        expected_version: Some(version),
        at: state.clock.now(),
    };
    let change = lifecycle::explain(explanation.clone(), req.resident_acknowledged);
    let row = apply(
        &mut tx,
        Some(claims),
        issue_id,
        actor,
        Action::Explain,
        &explanation,
        change,
    )
    .await?;
    finish!(tx, row, ExplainIssueResponse)
}

/// Escalates to a lead department with assisting ones (上报; 牵头 / 协办).
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn escalate(
    state: &State,
    claims: &Claims,
    req: EscalateIssueRequest,
) -> ServiceResult<EscalateIssueResponse> {
    claims.require_any_role(ADMINS)?;
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let version = expected(req.expected_version)?;
    let department = require_text("department", &req.department, 64)?;
    let mut assisting = Vec::new();
    for (i, d) in req.assisting_departments.iter().enumerate() {
        let d = require_text(&format!("assisting_departments[{i}]"), d, 64)?;
        if d == department || assisting.contains(&d) {
            return Err(ServiceError::invalid(
                format!("assisting_departments[{i}]"),
                "is the lead department or listed twice",
            ));
        }
        assisting.push(d);
    }
    let mut tx = state.pool.begin().await?;
    let actor = Actor {
        name: &claims.sub,
        expected_version: Some(version),
        at: state.clock.now(),
    };
    let note = format!("{department} {}", req.note.trim())
        .trim()
        .to_owned();
    let row = apply(
        &mut tx,
        Some(claims),
        issue_id,
        actor,
        Action::Escalate,
        &note,
        lifecycle::escalate(department, assisting, req.sign_within_hours),
    )
    .await?;
    finish!(tx, row, EscalateIssueResponse)
}

async fn require_department(
    conn: &mut PgConnection,
    claims: &Claims,
    issue_id: Uuid,
) -> ServiceResult<IssueRow> {
    let row = find_in_scope(conn, claims, issue_id).await?;
    let lead = claims.has_role(roles::DEPARTMENT) && row.department == claims.sub;
    if !lead && !claims.has_role(roles::COUNTY_ADMIN) {
        return Err(ServiceError::PermissionDenied(format!(
            "only the lead department of issue {issue_id} may sign for or return it"
        )));
    }
    Ok(row)
}

/// The lead department signs for the issue (签收).
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn sign(
    state: &State,
    claims: &Claims,
    req: SignIssueRequest,
) -> ServiceResult<SignIssueResponse> {
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let version = expected(req.expected_version)?;
    let mut tx = state.pool.begin().await?;
    require_department(&mut tx, claims, issue_id).await?;
    let actor = Actor {
        name: &claims.sub,
        expected_version: Some(version),
        at: state.clock.now(),
    };
    let row = apply(
        &mut tx,
        Some(claims),
        issue_id,
        actor,
        Action::Sign,
        req.note.trim(),
        |row, now| {
            if row.signed_at.is_some() {
                return Err(ServiceError::FailedPrecondition(format!(
                    "issue {} was already signed for",
                    row.issue_id
                )));
            }
            row.signed_at = Some(now);
            Ok(())
        },
    )
    .await?;
    finish!(tx, row, SignIssueResponse)
}

/// The lead department returns the issue with a reason (退回): back to the township.
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn return_issue(
    state: &State,
    claims: &Claims,
    req: ReturnIssueRequest,
) -> ServiceResult<ReturnIssueResponse> {
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let version = expected(req.expected_version)?;
    let reason = require_text("reason", &req.reason, 500)?;
    let mut tx = state.pool.begin().await?;
    require_department(&mut tx, claims, issue_id).await?;
    let actor = Actor {
        name: &claims.sub,
        expected_version: Some(version),
        at: state.clock.now(),
    };
    let row = apply(
        &mut tx,
        Some(claims),
        issue_id,
        actor,
        Action::Return,
        &reason,
        |row, _| {
            if row.signed_at.is_some() {
                return Err(ServiceError::FailedPrecondition(format!(
                    "issue {} was signed for; it can no longer be returned",
                    row.issue_id
                )));
            }
            row.department.clear();
            row.assisting_departments.clear();
            row.sign_deadline = None;
            row.escalation_level = 0;
            row.disposition = 0;
            Ok(())
        },
    )
    .await?;
    finish!(tx, row, ReturnIssueResponse)
}

/// A county supervision order (督办).
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn supervise(
    state: &State,
    claims: &Claims,
    req: SuperviseIssueRequest,
) -> ServiceResult<SuperviseIssueResponse> {
    claims.require_any_role(&[roles::COUNTY_ADMIN])?;
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let version = expected(req.expected_version)?;
    let mut tx = state.pool.begin().await?;
    let actor = Actor {
        name: &claims.sub,
        expected_version: Some(version),
        at: state.clock.now(),
    };
    let row = apply(
        &mut tx,
        Some(claims),
        issue_id,
        actor,
        Action::Supervise,
        req.note.trim(),
        lifecycle::supervise(req.deadline_days),
    )
    .await?;
    finish!(tx, row, SuperviseIssueResponse)
}

const CHECKERS: &[&str] = &[
    roles::SUPERVISOR,
    roles::TOWNSHIP_ADMIN,
    roles::COUNTY_ADMIN,
    roles::SERVICE,
];

/// Confirms the fix (核实).
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn verify(
    state: &State,
    claims: &Claims,
    req: VerifyIssueRequest,
) -> ServiceResult<VerifyIssueResponse> {
    claims.require_any_role(CHECKERS)?;
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let version = expected(req.expected_version)?;
    let mut tx = state.pool.begin().await?;
    let actor = Actor {
        name: &claims.sub,
        expected_version: Some(version),
        at: state.clock.now(),
    };
    let row = apply(
        &mut tx,
        Some(claims),
        issue_id,
        actor,
        Action::Verify,
        req.note.trim(),
        |_, _| Ok(()),
    )
    .await?;
    finish!(tx, row, VerifyIssueResponse)
}

/// Reopens an issue for another round of rectification.
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn reopen(
    state: &State,
    claims: &Claims,
    req: ReopenIssueRequest,
) -> ServiceResult<ReopenIssueResponse> {
    claims.require_any_role(CHECKERS)?;
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let version = expected(req.expected_version)?;
    let reason = require_text("reason", &req.reason, 500)?;
    let mut tx = state.pool.begin().await?;
    let row = reopen_in(
        &mut tx,
        state,
        Some(claims),
        issue_id,
        Actor {
            name: &claims.sub,
            expected_version: Some(version),
            at: state.clock.now(),
        },
        &reason,
        None,
    )
    .await?;
    finish!(tx, row, ReopenIssueResponse)
}

/// Reopens and, when the rectification loops are used up, escalates one
/// level up in the same transaction (also used for unsatisfied callbacks and
/// petition reviews). The new round's deadline is `deadline` when given,
/// else the rules' second-round deadline.
#[tracing::instrument(skip_all, fields(%issue_id), err(level = "debug"))]
pub async fn reopen_in(
    conn: &mut PgConnection,
    state: &State,
    claims: Option<&Claims>,
    issue_id: Uuid,
    actor: Actor<'_>,
    reason: &str,
    deadline: Option<DateTime<Utc>>,
) -> ServiceResult<IssueRow> {
    let county = store::issues::county_of(&mut *conn, issue_id)
        .await?
        .unwrap_or_default();
    let campaign = store::issues::get(&mut *conn, &county, issue_id)
        .await?
        .and_then(|r| r.campaign_id);
    let rules = store::sla::of(&mut *conn, &county, campaign).await?;
    let mut escalate_up = false;
    let row = apply(
        conn,
        claims,
        issue_id,
        actor,
        Action::Reopen,
        reason,
        lifecycle::reopen(rules, state.settings.max_loops, deadline, &mut escalate_up),
    )
    .await?;
    if !escalate_up {
        return Ok(row);
    }
    let level = row.escalation_level;
    let department = routing::level_label_zh(level).to_owned();
    let note = format!("整改 {} 轮仍未解决，自动上报{department}", row.reopen_count);
    let system = Actor {
        name: SYSTEM,
        expected_version: None,
        at: row.updated_at,
    };
    let row = apply(
        conn,
        None,
        issue_id,
        system,
        Action::Escalate,
        &note,
        move |row, now| {
            lifecycle::escalate(department, vec![], 0)(row, now)?;
            row.escalation_level = level;
            Ok(())
        },
    )
    .await?;
    Ok(row)
}

/// Marks an issue a duplicate of another; the other's timeline shows the merge.
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn merge(
    state: &State,
    claims: &Claims,
    req: MergeIssueRequest,
) -> ServiceResult<MergeIssueResponse> {
    claims.require_any_role(ADMINS)?;
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let into = parse_uuid("into_issue_id", &req.into_issue_id)?;
    let version = expected(req.expected_version)?;
    let mut tx = state.pool.begin().await?;
    let actor = Actor {
        name: &claims.sub,
        expected_version: Some(version),
        at: state.clock.now(),
    };
    let row = merge_in(
        &mut tx,
        Some(claims),
        issue_id,
        into,
        actor,
        req.note.trim(),
    )
    .await?;
    finish!(tx, row, MergeIssueResponse)
}

/// Marks `issue_id` a duplicate of `into` (which must not be a duplicate
/// itself, and lie in the same county); `into`'s timeline shows the merge
/// too. With `claims`, both must be within the caller's sight.
#[tracing::instrument(skip_all, fields(%issue_id, %into), err(level = "debug"))]
pub async fn merge_in(
    conn: &mut PgConnection,
    claims: Option<&Claims>,
    issue_id: Uuid,
    into: Uuid,
    actor: Actor<'_>,
    note: &str,
) -> ServiceResult<IssueRow> {
    if into == issue_id {
        return Err(ServiceError::invalid(
            "into_issue_id",
            "an issue cannot be merged into itself",
        ));
    }
    let target = match claims {
        Some(c) => find_in_scope(conn, c, into).await?,
        None => {
            let not_found = || ServiceError::NotFound(format!("issue {into}"));
            let county = store::issues::county_of(&mut *conn, into)
                .await?
                .ok_or_else(not_found)?;
            store::issues::get(&mut *conn, &county, into)
                .await?
                .ok_or_else(not_found)?
        }
    };
    if target.state == IssueState::Duplicate.as_str() {
        return Err(ServiceError::FailedPrecondition(format!(
            "issue {into} is itself a duplicate; merge into {}",
            target
                .merged_into
                .map(|u| u.to_string())
                .unwrap_or_default()
        )));
    }
    let actor_name = actor.name.to_owned();
    let row = apply(
        conn,
        claims,
        issue_id,
        actor,
        Action::Merge,
        note,
        |row, _| {
            if row.county != target.county {
                return Err(ServiceError::invalid(
                    "into_issue_id",
                    "issues of different counties cannot be merged",
                ));
            }
            row.merged_into = Some(into);
            Ok(())
        },
    )
    .await?;
    let note = format!("合并重复诉求 {issue_id}");
    // The surviving issue's timeline shows the merge too (no second event).
    store::timeline::append(
        conn,
        &store::timeline::NewEntry {
            county: &target.county,
            issue_id: into,
            actor: &actor_name,
            action: "merge_in",
            from_state: &target.state,
            to_state: &target.state,
            note: &note,
            related_issue_id: Some(issue_id),
        },
    )
    .await?;
    Ok(row)
}
