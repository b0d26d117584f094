//! Campaigns (走访活动), their quotas, and responsibility assignments (包保).
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::regions::RegionRow;

/// A campaign row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRow {
    pub county: String,
    pub campaign_id: Uuid,
    pub region_code: String,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub themes: Vec<String>,
    pub status: i16,
    pub completeness_policy: i16,
    pub body_hash: Vec<u8>,
}

/// A quota row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuotaRow {
    pub position: String,
    pub metric: i16,
    pub target: i64,
    pub min_amount_fen: i64,
}

/// Inserts a campaign and its quotas unless the id exists; true when inserted.
pub async fn insert(
    conn: &mut PgConnection,
    c: &CampaignRow,
    quotas: &[QuotaRow],
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO campaigns (county, campaign_id, region_code, name, starts_at, ends_at, themes,
                                status, completeness_policy, body_hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (county, campaign_id) DO NOTHING",
    )
    .bind(&c.county)
    .bind(c.campaign_id)
    .bind(&c.region_code)
    .bind(&c.name)
    .bind(c.starts_at)
    .bind(c.ends_at)
    .bind(&c.themes)
    .bind(c.status)
    .bind(c.completeness_policy)
    .bind(&c.body_hash)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    insert_quotas(conn, &c.county, c.campaign_id, quotas).await?;
    Ok(true)
}

async fn insert_quotas(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Uuid,
    quotas: &[QuotaRow],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO campaign_quotas (county, campaign_id, position, metric, target, min_amount_fen)
         SELECT $1, $2, * FROM UNNEST($3::text[], $4::smallint[], $5::bigint[], $6::bigint[])",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(quotas.iter().map(|q| q.position.clone()).collect::<Vec<_>>())
    .bind(quotas.iter().map(|q| q.metric).collect::<Vec<_>>())
    .bind(quotas.iter().map(|q| q.target).collect::<Vec<_>>())
    .bind(quotas.iter().map(|q| q.min_amount_fen).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// One campaign.
pub async fn get(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Uuid,
) -> sqlx::Result<Option<CampaignRow>> {
    sqlx::query_as(
        "SELECT county, campaign_id, region_code, name, starts_at, ends_at, themes, status,
                completeness_policy, body_hash
         FROM campaigns WHERE county = $1::char(6) AND campaign_id = $2",
    )
    .bind(county)
    .bind(campaign_id)
    .fetch_optional(ex)
    .await
}

/// Campaigns lying in `prefix` or covering it (a county campaign is seen
/// from each of its townships), newest id first, after `after`; `county`
/// narrows to one county when the prefix names one.
pub async fn list(
    ex: impl PgExecutor<'_>,
    prefix: &str,
    county: Option<&str>,
    status: Option<i16>,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<CampaignRow>> {
    sqlx::query_as(
        "SELECT county, campaign_id, region_code, name, starts_at, ends_at, themes, status,
                completeness_policy, body_hash
         FROM campaigns
         WHERE ($1::char(6) IS NULL OR county = $1::char(6))
           AND (region_code LIKE $2 || '%' OR $2 LIKE region_code || '%')
           AND ($3::smallint IS NULL OR status = $3)
           AND ($4::uuid IS NULL OR campaign_id < $4)
         ORDER BY campaign_id DESC
         LIMIT $5",
    )
    .bind(county)
    .bind(prefix)
    .bind(status)
    .bind(after)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Sets a campaign's status.
pub async fn set_status(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Uuid,
    status: i16,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE campaigns SET status = $3 WHERE county = $1::char(6) AND campaign_id = $2")
        .bind(county)
        .bind(campaign_id)
        .bind(status)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces a campaign's editable fields and its quotas.
pub async fn update(
    conn: &mut PgConnection,
    c: &CampaignRow,
    quotas: &[QuotaRow],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE campaigns SET name = $3, starts_at = $4, ends_at = $5, themes = $6,
                              completeness_policy = $7
         WHERE county = $1::char(6) AND campaign_id = $2",
    )
    .bind(&c.county)
    .bind(c.campaign_id)
    .bind(&c.name)
    .bind(c.starts_at)
    .bind(c.ends_at)
    .bind(&c.themes)
    .bind(c.completeness_policy)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM campaign_quotas WHERE county = $1::char(6) AND campaign_id = $2")
        .bind(&c.county)
        .bind(c.campaign_id)
        .execute(&mut *conn)
        .await?;
    insert_quotas(conn, &c.county, c.campaign_id, quotas).await
}

/// A campaign, locked for an update in this transaction.
pub async fn get_for_update(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Uuid,
) -> sqlx::Result<Option<CampaignRow>> {
    sqlx::query_as(
        "SELECT county, campaign_id, region_code, name, starts_at, ends_at, themes, status,
                completeness_policy, body_hash
         FROM campaigns WHERE county = $1::char(6) AND campaign_id = $2 FOR UPDATE",
    )
    .bind(county)
    .bind(campaign_id)
    .fetch_optional(conn)
    .await
}

/// The county a campaign id lives in.
pub async fn county_of(ex: impl PgExecutor<'_>, campaign_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT county FROM campaigns WHERE campaign_id = $1 LIMIT 1")
        .bind(campaign_id)
        .fetch_optional(ex)
        .await
}

/// A campaign's quotas.
pub async fn quotas(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Uuid,
) -> sqlx::Result<Vec<QuotaRow>> {
    sqlx::query_as(
        "SELECT position, metric, target, min_amount_fen FROM campaign_quotas
         WHERE county = $1::char(6) AND campaign_id = $2 ORDER BY position, metric",
    )
    .bind(county)
    .bind(campaign_id)
    .fetch_all(ex)
    .await
}

/// An assignment row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AssignmentRow {
    pub county: String,
    pub assignment_id: Uuid,
    pub campaign_id: Uuid,
    pub cadre_id: Uuid,
    pub target: i16,
    pub target_id: String,
    pub region_code: String,
}

/// Inserts an assignment unless its id exists; true when inserted.
pub async fn insert_assignment(conn: &mut PgConnection, a: &AssignmentRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO assignments (county, assignment_id, campaign_id, cadre_id, target, target_id, region_code)
         VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (county, assignment_id) DO NOTHING",
    )
    .bind(&a.county)
    .bind(a.assignment_id)
    .bind(a.campaign_id)
    .bind(a.cadre_id)
    .bind(a.target)
    .bind(&a.target_id)
    .bind(&a.region_code)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One assignment.
pub async fn get_assignment(
    ex: impl PgExecutor<'_>,
    county: &str,
    id: Uuid,
) -> sqlx::Result<Option<AssignmentRow>> {
    sqlx::query_as(
        "SELECT county, assignment_id, campaign_id, cadre_id, target, target_id, region_code
         FROM assignments WHERE county = $1::char(6) AND assignment_id = $2",
    )
    .bind(county)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A campaign's assignments, optionally of one cadre.
pub async fn assignments(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Uuid,
    cadre_id: Option<Uuid>,
) -> sqlx::Result<Vec<AssignmentRow>> {
    sqlx::query_as(
        "SELECT county, assignment_id, campaign_id, cadre_id, target, target_id, region_code
         FROM assignments WHERE county = $1::char(6) AND campaign_id = $2
           AND ($3::uuid IS NULL OR cadre_id = $3)
         ORDER BY target, target_id, cadre_id",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(cadre_id)
    .fetch_all(ex)
    .await
}

/// Villages of the campaign's region (within `prefix`) that no township
/// office cadre answers for (联系村) in this campaign.
pub async fn uncovered_villages(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Uuid,
    prefix: &str,
    village_target: i16,
    township_unit: i16,
) -> sqlx::Result<Vec<RegionRow>> {
    sqlx::query_as(
        "SELECT r.code, r.name, r.level, r.parent_code, r.kind FROM regions r
         WHERE r.county = $1::char(6) AND r.level = 5 AND r.code LIKE $3
           AND NOT EXISTS (
             SELECT 1 FROM assignments a
             JOIN cadres c ON c.county = a.county AND c.cadre_id = a.cadre_id
             WHERE a.county = $1::char(6) AND a.campaign_id = $2 AND a.target = $4
               AND a.target_id = r.code AND c.unit = $5)
         ORDER BY r.code",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(super::like_prefix(prefix))
    .bind(village_target)
    .bind(township_unit)
    .fetch_all(ex)
    .await
}
