//! Work teams (工作队) and their members.
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A team with its members.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamRow {
    pub county: String,
    pub team_id: Uuid,
    pub township_code: String,
    pub name: String,
    pub leader_cadre_id: Option<Uuid>,
    pub zone_id: Option<Uuid>,
    pub body_hash: Vec<u8>,
    pub member_cadre_ids: Vec<Uuid>,
}

const TEAM_SELECT: &str = "SELECT t.county::text AS county, t.team_id,
        t.township_code::text AS township_code, t.name, t.leader_cadre_id, t.zone_id, t.body_hash,
        COALESCE(array_agg(m.cadre_id ORDER BY m.cadre_id)
                 FILTER (WHERE m.cadre_id IS NOT NULL), '{}') AS member_cadre_ids
     FROM work_teams t
     LEFT JOIN work_team_members m ON m.county = t.county AND m.team_id = t.team_id";

const TEAM_GROUP: &str = "GROUP BY t.county, t.team_id, t.township_code, t.name, t.leader_cadre_id, t.zone_id, t.body_hash";

/// Inserts a team unless its id exists; true when inserted (its members
/// are then to be added with [`add_members`]).
pub async fn insert(conn: &mut PgConnection, t: &TeamRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO work_teams (county, team_id, township_code, name, leader_cadre_id, zone_id, body_hash)
         VALUES ($1::char(6), $2, $3::char(12), $4, $5, $6, $7)
         ON CONFLICT (county, team_id) DO NOTHING",
    )
    .bind(&t.county)
    .bind(t.team_id)
    .bind(&t.township_code)
    .bind(&t.name)
    .bind(t.leader_cadre_id)
    .bind(t.zone_id)
    .bind(&t.body_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One team of a county.
pub async fn get(
    ex: impl PgExecutor<'_>,
    county: &str,
    team_id: Uuid,
) -> sqlx::Result<Option<TeamRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TEAM_SELECT} WHERE t.county = $1::char(6) AND t.team_id = $2 {TEAM_GROUP}"
    )))
    .bind(county)
    .bind(team_id)
    .fetch_optional(ex)
    .await
}

/// A team by id alone (any county).
pub async fn find(ex: impl PgExecutor<'_>, team_id: Uuid) -> sqlx::Result<Option<TeamRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TEAM_SELECT} WHERE t.team_id = $1 {TEAM_GROUP}"
    )))
    .bind(team_id)
    .fetch_optional(ex)
    .await
}

/// Locks a team's row until the transaction ends (membership changes
/// queue on it); false when there is no such team.
pub async fn lock(conn: &mut PgConnection, county: &str, team_id: Uuid) -> sqlx::Result<bool> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "SELECT team_id FROM work_teams WHERE county = $1::char(6) AND team_id = $2 FOR UPDATE",
    )
    .bind(county)
    .bind(team_id)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Teams whose township starts with `prefix`, by township and name.
pub async fn list(ex: impl PgExecutor<'_>, prefix: &str) -> sqlx::Result<Vec<TeamRow>> {
    let county: Option<String> = (prefix.len() >= 6).then(|| prefix[..6].to_owned());
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TEAM_SELECT} WHERE ($1::char(6) IS NULL OR t.county = $1::char(6))
           AND t.township_code LIKE $2
         {TEAM_GROUP} ORDER BY t.township_code, t.name, t.team_id"
    )))
    .bind(county)
    .bind(super::like_prefix(prefix))
    .fetch_all(ex)
    .await
}

/// The region of each of `ids` registered in the county.
pub async fn cadre_regions(
    ex: impl PgExecutor<'_>,
    county: &str,
    ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "SELECT cadre_id, region_code::text FROM cadres
         WHERE county = $1::char(6) AND cadre_id = ANY($2)",
    )
    .bind(county)
    .bind(ids)
    .fetch_all(ex)
    .await
}

/// Of `ids`, those in a team other than `except`: (cadre, team name).
pub async fn in_other_teams(
    ex: impl PgExecutor<'_>,
    county: &str,
    ids: &[Uuid],
    except: Uuid,
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "SELECT m.cadre_id, t.name FROM work_team_members m
         JOIN work_teams t ON t.county = m.county AND t.team_id = m.team_id
         WHERE m.county = $1::char(6) AND m.cadre_id = ANY($2) AND m.team_id <> $3",
    )
    .bind(county)
    .bind(ids)
    .bind(except)
    .fetch_all(ex)
    .await
}

/// Adds members (those already in the team stay).
pub async fn add_members(
    conn: &mut PgConnection,
    county: &str,
    team_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO work_team_members (county, team_id, cadre_id)
         SELECT $1::char(6), $2, c FROM UNNEST($3::uuid[]) AS c
         ON CONFLICT (county, team_id, cadre_id) DO NOTHING",
    )
    .bind(county)
    .bind(team_id)
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes every member not in `keep`.
pub async fn remove_others(
    conn: &mut PgConnection,
    county: &str,
    team_id: Uuid,
    keep: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM work_team_members
         WHERE county = $1::char(6) AND team_id = $2 AND NOT (cadre_id = ANY($3))",
    )
    .bind(county)
    .bind(team_id)
    .bind(keep)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets (or clears) the leader.
pub async fn set_leader(
    conn: &mut PgConnection,
    county: &str,
    team_id: Uuid,
    leader: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE work_teams SET leader_cadre_id = $3, updated_at = now()
         WHERE county = $1::char(6) AND team_id = $2",
    )
    .bind(county)
    .bind(team_id)
    .bind(leader)
    .execute(conn)
    .await?;
    Ok(())
}
