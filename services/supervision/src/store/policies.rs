//! Versions of a campaign's sampling policy.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A stored policy version.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyRow {
    pub version: i32,
    pub item_share_bp: i32,
    pub visit_share_bp: i32,
    pub min_visits_per_cadre: i32,
    pub high_risk_threshold: i32,
    pub high_risk_visit_share_bp: i32,
    pub due_days: i32,
    pub max_attempts: i32,
}

/// Adds a new version (the previous plus one); returns it.
pub async fn add(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Uuid,
    p: &PolicyRow,
) -> sqlx::Result<i32> {
    // Serialise concurrent changes of one campaign's policy.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("policy:{campaign_id}"))
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "INSERT INTO sampling_policies (county, campaign_id, version, item_share_bp, visit_share_bp,
            min_visits_per_cadre, high_risk_threshold, high_risk_visit_share_bp, due_days, max_attempts)
         SELECT $1, $2, COALESCE(max(version), 0) + 1, $3, $4, $5, $6, $7, $8, $9
         FROM sampling_policies WHERE county = $1::char(6) AND campaign_id = $2
         RETURNING version",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(p.item_share_bp)
    .bind(p.visit_share_bp)
    .bind(p.min_visits_per_cadre)
    .bind(p.high_risk_threshold)
    .bind(p.high_risk_visit_share_bp)
    .bind(p.due_days)
    .bind(p.max_attempts)
    .fetch_one(conn)
    .await
}

/// The version in force at `at` (None: the defaults apply).
pub async fn in_force(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<Option<PolicyRow>> {
    sqlx::query_as(
        "SELECT version, item_share_bp, visit_share_bp, min_visits_per_cadre, high_risk_threshold,
                high_risk_visit_share_bp, due_days, max_attempts
         FROM sampling_policies WHERE county = $1::char(6) AND campaign_id = $2 AND created_at <= $3
         ORDER BY version DESC LIMIT 1",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(at)
    .fetch_optional(ex)
    .await
}

/// Counts one more visit selected for a cadre in a period; returns the count before.
pub async fn bump_cadre_selected(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Uuid,
    cadre_id: &str,
    period: chrono::NaiveDate,
    selected: bool,
) -> sqlx::Result<i32> {
    sqlx::query_scalar(
        "INSERT INTO cadre_sampling (county, campaign_id, cadre_id, period, selected)
         VALUES ($1, $2, $3, $4, $5::int)
         ON CONFLICT (county, campaign_id, cadre_id, period)
           DO UPDATE SET selected = cadre_sampling.selected + EXCLUDED.selected
         RETURNING selected - $5::int",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(cadre_id)
    .bind(period)
    .bind(i32::from(selected))
    .fetch_one(conn)
    .await
}

/// Visits selected for a cadre in a period so far.
pub async fn cadre_selected(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Uuid,
    cadre_id: &str,
    period: chrono::NaiveDate,
) -> sqlx::Result<i32> {
    Ok(sqlx::query_scalar(
        "SELECT selected FROM cadre_sampling WHERE county = $1::char(6) AND campaign_id = $2 AND cadre_id = $3 AND period = $4",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(cadre_id)
    .bind(period)
    .fetch_optional(ex)
    .await?
    .unwrap_or(0))
}
