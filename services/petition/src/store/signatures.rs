//! MACs of signed requests already accepted (replay protection), for the
//! webhook and the AMQP door.
use sqlx::PgConnection;

/// How long an accepted MAC is remembered. A signed request is fresh for the
/// freshness window either side of its timestamp, so the window must stay
/// well below this (checked at start: `Config::validate`).
pub const RETENTION_SECS: i64 = 7 * 86_400;

/// Remembers `mac` (the decoded bytes, so every spelling of one signature
/// is one entry); false when it was seen before (a replay).
pub async fn remember(conn: &mut PgConnection, county: &str, mac: &[u8]) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO seen_signatures (county, mac) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(county)
    .bind(mac)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Forgets MACs older than `keep_secs` (far past the freshness window,
/// after which a replay is refused as stale anyway).
pub async fn prune(pool: &sqlx::PgPool, keep_secs: i64) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "DELETE FROM seen_signatures WHERE seen_at < now() - make_interval(secs => $1)",
    )
    .bind(keep_secs as f64)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}
