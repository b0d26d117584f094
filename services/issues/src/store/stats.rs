//! The figures of the campaign summaries, counted in one pass.
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Counts of a region (and optionally a campaign).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Totals {
    pub collected: i64,
    pub problems: i64,
    pub suggestions: i64,
    pub disputes: i64,
    pub petitions: i64,
    pub resolved_on_spot: i64,
    pub resolved_in_time: i64,
    pub resolved_late: i64,
    pub overdue: i64,
    pub escalated: i64,
    pub explained: i64,
    pub reopened: i64,
    pub verified: i64,
    pub disputes_mediated: i64,
    pub dispute_households: i64,
    pub open: i64,
}

/// The region filter of the statistics: the county (the distribution column
/// and the first column of the `issues_stats` index) whenever the prefix
/// names one, then the prefix itself. $1 is the LIKE pattern; the county
/// is the parameter given, bound as text and cast to the column's char(6)
/// (compared as text, no index leading with county would apply).
macro_rules! region_filter {
    (county $param:literal) => {
        concat!("county = ", $param, "::char(6) AND region_code LIKE $1")
    };
    (anywhere $param:literal) => {
        "region_code LIKE $1"
    };
}

/// The county a prefix lies in, when it is long enough to name one.
fn county_of(prefix: &str) -> Option<&str> {
    prefix.get(..6)
}

macro_rules! totals_sql {
    ($filter:tt) => {
        concat!(
            "SELECT count(*) AS collected,
            count(*) FILTER (WHERE kind = 1) AS problems,
            count(*) FILTER (WHERE kind = 2) AS suggestions,
            count(*) FILTER (WHERE kind = 3) AS disputes,
            count(*) FILTER (WHERE kind = 4) AS petitions,
            count(*) FILTER (WHERE disposition = 1) AS resolved_on_spot,
            count(*) FILTER (WHERE resolved_in_time AND disposition NOT IN (1, 4)) AS resolved_in_time,
            count(*) FILTER (WHERE resolved_in_time = false AND disposition <> 4) AS resolved_late,
            count(*) FILTER (WHERE deadline < $3
                AND state IN ('open', 'assigned', 'in_progress', 'escalated', 'reopened')) AS overdue,
            count(*) FILTER (WHERE ever_escalated) AS escalated,
            count(*) FILTER (WHERE disposition = 4) AS explained,
            count(*) FILTER (WHERE reopen_count > 0) AS reopened,
            count(*) FILTER (WHERE state = 'verified') AS verified,
            count(*) FILTER (WHERE kind = 3 AND state IN ('resolved', 'verified', 'explained')) AS disputes_mediated,
            COALESCE(sum(households_involved) FILTER (WHERE kind = 3 AND state IN ('resolved', 'verified', 'explained')), 0)::bigint AS dispute_households,
            count(*) FILTER (WHERE state IN ('open', 'assigned', 'in_progress', 'escalated', 'reopened')) AS open
         FROM issues
         WHERE ",
            region_filter!($filter "$4"),
            " AND ($2::uuid IS NULL OR campaign_id = $2) AND state <> 'duplicate'"
        )
    };
}

/// Counts the ledger of a region prefix. Duplicates are not counted: they
/// live on in the issue they were merged into.
pub async fn totals(
    ex: impl PgExecutor<'_>,
    prefix: &str,
    campaign_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<Totals> {
    let county = county_of(prefix);
    let sql = match county {
        Some(_) => totals_sql!(county),
        None => totals_sql!(anywhere),
    };
    let query = sqlx::query_as(sql)
        .bind(super::like_prefix(prefix))
        .bind(campaign_id)
        .bind(now);
    match county {
        Some(county) => query.bind(county),
        None => query,
    }
    .fetch_one(ex)
    .await
}

macro_rules! by_category_sql {
    ($filter:tt) => {
        concat!(
            "SELECT category, count(*) FROM issues WHERE ",
            region_filter!($filter "$3"),
            " AND ($2::uuid IS NULL OR campaign_id = $2) AND state <> 'duplicate'
         GROUP BY category ORDER BY count(*) DESC, category"
        )
    };
}

/// Items per category, most first.
pub async fn by_category(
    ex: impl PgExecutor<'_>,
    prefix: &str,
    campaign_id: Option<Uuid>,
) -> sqlx::Result<Vec<(String, i64)>> {
    let county = county_of(prefix);
    let sql = match county {
        Some(_) => by_category_sql!(county),
        None => by_category_sql!(anywhere),
    };
    let query = sqlx::query_as(sql)
        .bind(super::like_prefix(prefix))
        .bind(campaign_id);
    match county {
        Some(county) => query.bind(county),
        None => query,
    }
    .fetch_all(ex)
    .await
}
