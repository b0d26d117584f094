//! Regions (行政区划) and work zones (工作片).
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A region row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegionRow {
    pub code: String,
    pub name: String,
    pub level: i16,
    pub parent_code: Option<String>,
    pub kind: String,
}

/// A region to upsert.
#[derive(Debug, Clone)]
pub struct NewRegion {
    pub county: String,
    pub code: String,
    pub name: String,
    pub level: i16,
    pub parent_code: Option<String>,
    pub kind: String,
}

/// Inserts or updates regions; returns (inserted, updated).
pub async fn upsert(conn: &mut PgConnection, rows: &[NewRegion]) -> sqlx::Result<(i64, i64)> {
    let mut inserted = 0;
    let mut updated = 0;
    for chunk in rows.chunks(5000) {
        let counts: Vec<bool> = sqlx::query_scalar(
            "INSERT INTO regions (county, code, name, level, parent_code, kind)
             SELECT * FROM UNNEST($1::char(6)[], $2::char(12)[], $3::text[], $4::smallint[],
                                  $5::char(12)[], $6::text[])
             ON CONFLICT (county, code) DO UPDATE
               SET name = EXCLUDED.name, level = EXCLUDED.level,
                   parent_code = EXCLUDED.parent_code, kind = EXCLUDED.kind
             RETURNING (xmax = 0)",
        )
        .bind(chunk.iter().map(|r| r.county.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.code.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.level).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|r| r.parent_code.clone())
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|r| r.kind.clone()).collect::<Vec<_>>())
        .fetch_all(&mut *conn)
        .await?;
        for fresh in counts {
            if fresh {
                inserted += 1;
            } else {
                updated += 1;
            }
        }
    }
    Ok((inserted, updated))
}

/// The stored rows of `codes`, locked until the transaction ends.
pub async fn lock_many(conn: &mut PgConnection, codes: &[String]) -> sqlx::Result<Vec<RegionRow>> {
    let counties: Vec<String> = codes.iter().map(|c| c.chars().take(6).collect()).collect();
    sqlx::query_as(
        "SELECT r.code::text AS code, r.name, r.level, r.parent_code::text AS parent_code, r.kind
         FROM regions r
         JOIN UNNEST($1::char(6)[], $2::char(12)[]) AS k(county, code)
           ON r.county = k.county AND r.code = k.code
         ORDER BY r.code FOR UPDATE OF r",
    )
    .bind(counties)
    .bind(codes)
    .fetch_all(conn)
    .await
}

/// True when the code is in the region table.
pub async fn exists(ex: impl PgExecutor<'_>, code: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM regions WHERE county = $1::char(6) AND code = $2::char(12))",
    )
    .bind(&code[..6.min(code.len())])
    .bind(code)
    .fetch_one(ex)
    .await
}

/// Of these codes, those in the region table.
pub async fn existing(ex: impl PgExecutor<'_>, codes: &[String]) -> sqlx::Result<Vec<String>> {
    let counties: Vec<String> = codes.iter().map(|c| c.chars().take(6).collect()).collect();
    sqlx::query_scalar(
        "SELECT r.code::text FROM regions r
         JOIN UNNEST($1::char(6)[], $2::char(12)[]) AS k(county, code)
           ON r.county = k.county AND r.code = k.code",
    )
    .bind(counties)
    .bind(codes)
    .fetch_all(ex)
    .await
}

/// One region.
pub async fn get(ex: impl PgExecutor<'_>, code: &str) -> sqlx::Result<Option<RegionRow>> {
    sqlx::query_as(
        "SELECT code, name, level, parent_code, kind FROM regions
         WHERE county = $1::char(6) AND code = $2::char(12)",
    )
    .bind(&code[..6.min(code.len())])
    .bind(code)
    .fetch_optional(ex)
    .await
}

/// The names of a village (or township) code and of its township, '' for
/// what the region table does not hold: (village name, township name);
/// for a township-level code, ('', its name).
pub async fn names_of(ex: impl PgExecutor<'_>, code: &str) -> sqlx::Result<(String, String)> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT (SELECT name FROM regions WHERE county = $1::char(6) AND code = $2::char(12)
                   AND right($2, 3) <> '000'),
                (SELECT name FROM regions WHERE county = $1::char(6)
                   AND code = rpad(left($2, 9), 12, '0')::char(12))",
    )
    .bind(&code[..6.min(code.len())])
    .bind(code)
    .fetch_optional(ex)
    .await?;
    let (village, township) = row.unwrap_or_default();
    Ok((village.unwrap_or_default(), township.unwrap_or_default()))
}

/// Direct children of a region (or the top level when `parent` is None).
pub async fn children(
    ex: impl PgExecutor<'_>,
    parent: Option<&str>,
) -> sqlx::Result<Vec<RegionRow>> {
    sqlx::query_as(
        "SELECT code, name, level, parent_code, kind FROM regions
         WHERE parent_code IS NOT DISTINCT FROM $1 ORDER BY code",
    )
    .bind(parent)
    .fetch_all(ex)
    .await
}

/// Villages (level 5) whose code starts with `prefix`.
pub async fn villages_under(ex: impl PgExecutor<'_>, prefix: &str) -> sqlx::Result<Vec<RegionRow>> {
    sqlx::query_as(
        "SELECT code, name, level, parent_code, kind FROM regions
         WHERE level = 5 AND code LIKE $1 ORDER BY code",
    )
    .bind(super::like_prefix(prefix))
    .fetch_all(ex)
    .await
}

/// A work zone row with its villages.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ZoneRow {
    pub zone_id: Uuid,
    pub township_code: String,
    pub name: String,
    pub body_hash: Vec<u8>,
    pub village_codes: Vec<String>,
}

/// Inserts a zone and its villages unless the id exists; true when inserted.
pub async fn insert_zone(
    conn: &mut PgConnection,
    county: &str,
    zone_id: Uuid,
    township_code: &str,
    name: &str,
    villages: &[String],
    body_hash: &[u8],
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO work_zones (county, zone_id, township_code, name, body_hash)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (county, zone_id) DO NOTHING",
    )
    .bind(county)
    .bind(zone_id)
    .bind(township_code)
    .bind(name)
    .bind(body_hash)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO work_zone_villages (county, zone_id, village_code)
         SELECT $1, $2, v FROM UNNEST($3::char(12)[]) AS v",
    )
    .bind(county)
    .bind(zone_id)
    .bind(villages)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

const ZONE_SELECT: &str = "SELECT z.zone_id, z.township_code, z.name, z.body_hash,
        COALESCE(array_agg(v.village_code::text ORDER BY v.village_code)
                 FILTER (WHERE v.village_code IS NOT NULL), '{}') AS village_codes
     FROM work_zones z
     LEFT JOIN work_zone_villages v ON v.county = z.county AND v.zone_id = z.zone_id";

/// One zone.
pub async fn get_zone(
    ex: impl PgExecutor<'_>,
    county: &str,
    zone_id: Uuid,
) -> sqlx::Result<Option<ZoneRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ZONE_SELECT} WHERE z.county = $1::char(6) AND z.zone_id = $2 GROUP BY z.zone_id, z.township_code, z.name, z.body_hash"
    )))
    .bind(county)
    .bind(zone_id)
    .fetch_optional(ex)
    .await
}

/// A zone by id alone (any county).
pub async fn find_zone(ex: impl PgExecutor<'_>, zone_id: Uuid) -> sqlx::Result<Option<ZoneRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ZONE_SELECT} WHERE z.zone_id = $1 GROUP BY z.zone_id, z.township_code, z.name, z.body_hash"
    )))
    .bind(zone_id)
    .fetch_optional(ex)
    .await
}

/// Zones of a township.
pub async fn zones_of(ex: impl PgExecutor<'_>, township_code: &str) -> sqlx::Result<Vec<ZoneRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ZONE_SELECT} WHERE z.county = $1::char(6) AND z.township_code = $2::char(12)
         GROUP BY z.zone_id, z.township_code, z.name, z.body_hash ORDER BY z.name"
    )))
    .bind(&township_code[..6.min(township_code.len())])
    .bind(township_code)
    .fetch_all(ex)
    .await
}
