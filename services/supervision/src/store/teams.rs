//! Supervision teams (督查组) and their members.
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A team with its members.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamRow {
    pub team_id: Uuid,
    pub name: String,
    pub region_code: String,
    pub member_ids: Vec<String>,
}

/// Creates a team and its members unless the id exists; true when created.
pub async fn insert(conn: &mut PgConnection, county: &str, t: &TeamRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO teams (county, team_id, name, region_code) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(county)
    .bind(t.team_id)
    .bind(&t.name)
    .bind(&t.region_code)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO team_members (county, team_id, supervisor_id) SELECT $1, $2, m FROM UNNEST($3::text[]) m")
        .bind(county)
        .bind(t.team_id)
        .bind(&t.member_ids)
        .execute(conn)
        .await?;
    Ok(true)
}

const SELECT: &str = "SELECT t.team_id, t.name, t.region_code,
        COALESCE(array_agg(m.supervisor_id ORDER BY m.supervisor_id) FILTER (WHERE m.supervisor_id IS NOT NULL), '{}') AS member_ids
     FROM teams t LEFT JOIN team_members m ON m.county = t.county AND m.team_id = t.team_id";

/// One team.
pub async fn get(
    ex: impl PgExecutor<'_>,
    county: &str,
    team_id: Uuid,
) -> sqlx::Result<Option<TeamRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE t.county = $1::char(6) AND t.team_id = $2 GROUP BY t.team_id, t.name, t.region_code"
    )))
    .bind(county)
    .bind(team_id)
    .fetch_optional(ex)
    .await
}

/// Teams whose region starts with `prefix`.
pub async fn list(ex: impl PgExecutor<'_>, prefix: &str) -> sqlx::Result<Vec<TeamRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE t.region_code LIKE $1 GROUP BY t.team_id, t.name, t.region_code ORDER BY t.name"
    )))
    .bind(super::like_prefix(prefix))
    .fetch_all(ex)
    .await
}

/// The member in scope of `region_code` with the fewest open callbacks:
/// teams whose region is a prefix of it, the most specific team first.
pub async fn least_loaded_member(
    ex: impl PgExecutor<'_>,
    county: &str,
    region_code: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT m.supervisor_id FROM teams t
         JOIN team_members m ON m.county = t.county AND m.team_id = t.team_id
         WHERE t.county = $1::char(6) AND $2 LIKE t.region_code || '%'
         ORDER BY length(t.region_code) DESC,
                  (SELECT count(*) FROM callbacks c
                   WHERE c.county = t.county AND c.supervisor_id = m.supervisor_id AND c.state = 'open'),
                  m.supervisor_id
         LIMIT 1",
    )
    .bind(county)
    .bind(region_code)
    .fetch_optional(ex)
    .await
}
