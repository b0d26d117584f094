//! The ledger's operations: authorization (role, region scope, department),
//! validation, and transactions that change an issue, append its timeline and
//! write its event together.
pub mod admin;
pub mod create;
pub mod lifecycle;
pub mod query;
pub mod sweep;
pub mod transitions;
pub mod view;

use chrono::Duration;
use uuid::Uuid;
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    clock::Clock,
};

use crate::store::{self, issues::IssueRow};

/// Settings the operations follow.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long before a deadline the due-soon event fires.
    pub due_soon: Duration,
    /// Reopenings after which an item escalates one level up by itself.
    pub max_loops: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            due_soon: Duration::hours(24),
            max_loops: crate::domain::routing::DEFAULT_MAX_LOOPS,
        }
    }
}

/// What every operation needs.
#[derive(Debug, Clone)]
pub struct State {
    /// The ledger's database pool (search_path = issues).
    pub pool: sqlx::PgPool,
    /// Deadlines and loops.
    pub settings: Settings,
    /// Where "now" comes from: deadlines, crossings and every change's time.
    pub clock: Clock,
}

/// The actor name of changes the service makes by itself.
pub const SYSTEM: &str = "system";

/// True when the caller may see the issue: within their region scope and,
/// for a department, only what was escalated to it.
pub fn may_see(claims: &Claims, row: &IssueRow) -> bool {
    if !claims.covers(&row.region_code) {
        return false;
    }
    let only_department = claims.has_role(roles::DEPARTMENT)
        && !claims.has_any_role(&[
            roles::TOWNSHIP_ADMIN,
            roles::COUNTY_ADMIN,
            roles::SUPERVISOR,
            roles::CADRE,
            roles::SERVICE,
        ]);
    !only_department || is_department_of(claims, row)
}

/// True when the caller is the lead or an assisting department of the issue.
pub fn is_department_of(claims: &Claims, row: &IssueRow) -> bool {
    claims.has_role(roles::DEPARTMENT)
        && !row.department.is_empty()
        && (row.department == claims.sub || row.assisting_departments.contains(&claims.sub))
}

/// Loads an issue the caller may see; elsewhere it reads as not found.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn find_in_scope(
    conn: &mut sqlx::PgConnection,
    claims: &Claims,
    issue_id: Uuid,
) -> ServiceResult<IssueRow> {
    let not_found = || ServiceError::NotFound(format!("issue {issue_id}"));
    let county = store::issues::county_of(&mut *conn, issue_id)
        .await?
        .ok_or_else(not_found)?;
    let row = store::issues::get(&mut *conn, &county, issue_id)
        .await?
        .ok_or_else(not_found)?;
    // Outside the scope reads exactly like unknown: a PermissionDenied here
    // once told a township which ids were other townships' issues.
    if !may_see(claims, &row) {
        return Err(not_found());
    }
    Ok(row)
}
