//! Visit facts, their fabrication signals, and cadres' running risk totals.
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;
use zoufang_proto::common::v1::VisitMode;

use crate::domain::signals::VisitFacts;

#[derive(sqlx::FromRow)]
struct FactRow {
    visit_id: Uuid,
    cadre_ids: Vec<String>,
    household_id: Uuid,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    mode: i16,
    latitude: Option<f64>,
    longitude: Option<f64>,
    photo_refs: Vec<String>,
}

impl From<FactRow> for VisitFacts {
    fn from(r: FactRow) -> Self {
        VisitFacts {
            visit_id: r.visit_id,
            cadre_ids: r
                .cadre_ids
                .iter()
                .filter_map(|c| Uuid::parse_str(c).ok())
                .collect(),
            household_id: r.household_id,
            started_at: r.started_at,
            ended_at: r.ended_at,
            mode: VisitMode::try_from(i32::from(r.mode)).unwrap_or_default(),
            location: r.latitude.zip(r.longitude),
            photo_refs: r.photo_refs,
            household_phone_hash: None,
        }
    }
}

/// The longest a visit lasts (the registry refuses longer ones): a visit
/// that ended after a time started at most this long before it, so the
/// cadre key table is searched by start time alone.
const MAX_VISIT_HOURS: i32 = 72;

/// Visits to compare a new one with: the same cadres' visits within a day of
/// it, and any visit sharing a photo reference (both found through the key
/// tables `visit_fact_cadres` and `visit_fact_photos`).
///
/// The neighbours' ids are found first (`MATERIALIZED`: index ranges of the
/// key tables), then their facts by primary key. Left to choose, the
/// planner — on tables without statistics, as in a new campaign's first
/// hours or wherever autovacuum lags — walked every fact of the county and
/// tested each against the key lookups: 5.6 ms a visit at 6,000 facts,
/// growing with the table, until supervision fell behind the visits
/// (measured with bench-pipeline and pg_stat_statements).
pub async fn neighbours(
    ex: impl PgExecutor<'_>,
    county: &str,
    v: &VisitFacts,
) -> sqlx::Result<Vec<VisitFacts>> {
    let cadres: Vec<String> = v.cadre_ids.iter().map(Uuid::to_string).collect();
    let rows: Vec<FactRow> = sqlx::query_as(
        "WITH near AS MATERIALIZED (
             SELECT c.visit_id FROM visit_fact_cadres c
             WHERE c.county = $1::char(6) AND c.cadre_id = ANY($3)
               AND c.started_at > $4 - make_interval(hours => $7) AND c.started_at < $5
             UNION
             SELECT p.visit_id FROM visit_fact_photos p
             WHERE p.county = $1::char(6) AND p.photo_ref = ANY($6))
         SELECT f.visit_id, f.cadre_ids, f.household_id, f.started_at, f.ended_at, f.mode,
                f.latitude, f.longitude, f.photo_refs
         FROM near JOIN visit_facts f ON f.county = $1::char(6) AND f.visit_id = near.visit_id
         WHERE f.visit_id <> $2
           AND ((f.cadre_ids && $3 AND f.started_at < $5 AND f.ended_at > $4) OR f.photo_refs && $6)
         ORDER BY f.started_at, f.visit_id LIMIT 500",
    )
    .bind(county)
    .bind(v.visit_id)
    .bind(&cadres)
    .bind(v.started_at - Duration::days(1))
    .bind(v.ended_at + Duration::days(1))
    .bind(&v.photo_refs)
    .bind(MAX_VISIT_HOURS)
    // Planned with each call's values, not as a cached generic plan: the
    // generic plan seeks the cadre key table by county and time only and
    // filters the cadre (3.9 ms against 0.2 ms at 6,000 facts, measured
    // with EXPLAIN ANALYZE). Planning costs about 0.3 ms.
    .persistent(false)
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(VisitFacts::from).collect())
}

/// Stores a visit's facts and signals; false when it was already stored.
pub async fn insert(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Uuid,
    v: &VisitFacts,
    signals: &serde_json::Value,
) -> sqlx::Result<bool> {
    // One statement: the facts, and their key rows only when the facts are
    // new (a data-modifying CTE runs whether or not it is read).
    let inserted: i64 = sqlx::query_scalar(
        "WITH f AS (
             INSERT INTO visit_facts (county, visit_id, campaign_id, cadre_ids, household_id,
                 started_at, ended_at, mode, latitude, longitude, photo_refs, signals)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT DO NOTHING
             RETURNING county, visit_id, cadre_ids, started_at, photo_refs
         ), c AS (
             INSERT INTO visit_fact_cadres (county, cadre_id, started_at, visit_id)
             SELECT DISTINCT f.county, x, f.started_at, f.visit_id FROM f, unnest(f.cadre_ids) x
         ), p AS (
             INSERT INTO visit_fact_photos (county, photo_ref, visit_id)
             SELECT DISTINCT f.county, x, f.visit_id FROM f, unnest(f.photo_refs) x
         )
         SELECT count(*) FROM f",
    )
    .bind(county)
    .bind(v.visit_id)
    .bind(campaign_id)
    .bind(v.cadre_ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
    .bind(v.household_id)
    .bind(v.started_at)
    .bind(v.ended_at)
    .bind(v.mode as i16)
    .bind(v.location.map(|l| l.0))
    .bind(v.location.map(|l| l.1))
    .bind(&v.photo_refs)
    .bind(signals)
    .fetch_one(conn)
    .await?;
    Ok(inserted == 1)
}

/// A cadre's running risk totals.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct RiskTotals {
    pub visits: i32,
    pub flagged_visits: i32,
    pub total_weight: i64,
}

/// Adds one visit to a cadre's totals and returns the new totals.
pub async fn add_to_risk(
    conn: &mut PgConnection,
    county: &str,
    campaign_id: Uuid,
    cadre_id: &str,
    flagged: bool,
    weight: i64,
) -> sqlx::Result<RiskTotals> {
    sqlx::query_as(
        "INSERT INTO cadre_risk (county, campaign_id, cadre_id, visits, flagged_visits, total_weight)
         VALUES ($1, $2, $3, 1, $4::int, $5)
         ON CONFLICT (county, campaign_id, cadre_id) DO UPDATE SET
           visits = cadre_risk.visits + 1,
           flagged_visits = cadre_risk.flagged_visits + EXCLUDED.flagged_visits,
           total_weight = cadre_risk.total_weight + EXCLUDED.total_weight
         RETURNING visits, flagged_visits, total_weight",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(cadre_id)
    .bind(i32::from(flagged))
    .bind(weight)
    .fetch_one(conn)
    .await
}

/// One cadre's totals in a campaign (zero when none).
pub async fn risk_of(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Uuid,
    cadre_id: &str,
) -> sqlx::Result<RiskTotals> {
    Ok(sqlx::query_as(
        "SELECT visits, flagged_visits, total_weight FROM cadre_risk
         WHERE county = $1::char(6) AND campaign_id = $2 AND cadre_id = $3",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(cadre_id)
    .fetch_optional(ex)
    .await?
    .unwrap_or_default())
}

/// Risk totals of a region's cadres in a campaign, by cadre.
pub async fn risks(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Option<Uuid>,
) -> sqlx::Result<Vec<(String, RiskTotals)>> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT cadre_id, sum(visits)::bigint, sum(flagged_visits)::bigint, sum(total_weight)::bigint FROM cadre_risk
         WHERE county = $1::char(6) AND ($2::uuid IS NULL OR campaign_id = $2) GROUP BY cadre_id ORDER BY cadre_id",
    )
    .bind(county)
    .bind(campaign_id)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(c, v, f, w)| {
            (
                c,
                RiskTotals {
                    visits: i32::try_from(v).unwrap_or(i32::MAX),
                    flagged_visits: i32::try_from(f).unwrap_or(i32::MAX),
                    total_weight: w,
                },
            )
        })
        .collect())
}

/// A stored visit with its signals.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignalsRow {
    pub visit_id: Uuid,
    pub cadre_ids: Vec<String>,
    pub started_at: DateTime<Utc>,
    pub signals: serde_json::Value,
}

/// A campaign's visits with their signals, newest first (ties by visit id,
/// descending). Each form is one backward index range that stops at
/// `limit`: the campaign's visits through `visit_facts_by_campaign`, or one
/// cadre's through `visit_fact_cadres`.
pub async fn signals_of(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Uuid,
    cadre_id: Option<&str>,
    flagged_only: bool,
    limit: i64,
) -> sqlx::Result<Vec<SignalsRow>> {
    let sql = match cadre_id {
        None => {
            "SELECT visit_id, cadre_ids, started_at, signals FROM visit_facts
             WHERE county = $1::char(6) AND campaign_id = $2
               AND (NOT $3 OR jsonb_array_length(signals) > 0)
             ORDER BY started_at DESC, visit_id DESC LIMIT $4"
        }
        Some(_) => {
            "SELECT f.visit_id, f.cadre_ids, f.started_at, f.signals
             FROM visit_fact_cadres c
             JOIN visit_facts f ON f.county = c.county AND f.visit_id = c.visit_id
             WHERE c.county = $1::char(6) AND c.cadre_id = $5 AND f.campaign_id = $2
               AND (NOT $3 OR jsonb_array_length(f.signals) > 0)
             ORDER BY c.started_at DESC, c.visit_id DESC LIMIT $4"
        }
    };
    let mut query = sqlx::query_as(sql)
        .bind(county)
        .bind(campaign_id)
        .bind(flagged_only)
        .bind(limit);
    if let Some(cadre_id) = cadre_id {
        query = query.bind(cadre_id);
    }
    query.fetch_all(ex).await
}
