//! A campaign's SLA rules.
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::sla::SlaRule;

/// Replaces a campaign's rules.
pub async fn replace(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Uuid,
    rules: &[SlaRule],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sla_rules WHERE county = $1::char(6) AND campaign_id = $2")
        .bind(county)
        .bind(campaign_id)
        .execute(&mut *conn)
        .await?;
    for r in rules {
        sqlx::query("INSERT INTO sla_rules (county, campaign_id, kind, category, priority, days) VALUES ($1,$2,$3,$4,$5,$6)")
            .bind(county)
            .bind(campaign_id)
            .bind(r.kind as i16)
            .bind(&r.category)
            .bind(r.priority as i16)
            .bind(r.days)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A campaign's rules (empty when it has none).
pub async fn of(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Option<Uuid>,
) -> sqlx::Result<Vec<SlaRule>> {
    let Some(campaign_id) = campaign_id else {
        return Ok(vec![]);
    };
    let rows: Vec<(i16, String, i16, i32)> = sqlx::query_as(
        "SELECT kind, category, priority, days FROM sla_rules WHERE county = $1::char(6) AND campaign_id = $2 ORDER BY kind, category, priority",
    )
    .bind(county)
    .bind(campaign_id)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, category, priority, days)| SlaRule {
            kind: i32::from(kind),
            category,
            priority: i32::from(priority),
            days,
        })
        .collect())
}
