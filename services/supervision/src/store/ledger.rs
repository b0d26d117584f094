//! How each responsible cadre's ledger items ended (from the ledger's events).
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Which count an event adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Resolved or explained by the deadline.
    InTime,
    /// Resolved or explained after it.
    Late,
    /// The deadline passed while open.
    Overdue,
}

/// Adds one outcome to a cadre's counts.
pub async fn add(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Uuid,
    cadre_id: &str,
    outcome: Outcome,
) -> sqlx::Result<()> {
    let (a, b, c) = match outcome {
        Outcome::InTime => (1, 0, 0),
        Outcome::Late => (0, 1, 0),
        Outcome::Overdue => (0, 0, 1),
    };
    sqlx::query(
        "INSERT INTO cadre_ledger (county, campaign_id, cadre_id, in_time, late, overdue)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (county, campaign_id, cadre_id) DO UPDATE SET
           in_time = cadre_ledger.in_time + EXCLUDED.in_time,
           late = cadre_ledger.late + EXCLUDED.late,
           overdue = cadre_ledger.overdue + EXCLUDED.overdue",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(cadre_id)
    .bind(a)
    .bind(b)
    .bind(c)
    .execute(conn)
    .await?;
    Ok(())
}

/// A cadre's counts (in time, late, overdue) in a campaign.
pub async fn counts(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Uuid,
    cadre_id: &str,
) -> sqlx::Result<(i64, i64, i64)> {
    Ok(sqlx::query_as::<_, (i32, i32, i32)>(
        "SELECT in_time, late, overdue FROM cadre_ledger WHERE county = $1::char(6) AND campaign_id = $2 AND cadre_id = $3",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(cadre_id)
    .fetch_optional(ex)
    .await?
    .map(|(a, b, c)| (i64::from(a), i64::from(b), i64::from(c)))
    .unwrap_or_default())
}
