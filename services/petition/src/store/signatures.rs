//! Signatures of webhook requests already accepted (replay protection).
use sqlx::PgConnection;

/// Remembers `signature`; false when it was seen before (a replay).
pub async fn remember(
    conn: &mut PgConnection,
    county: &str,
    signature: &str,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO seen_signatures (county, signature) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(county)
    .bind(signature)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Forgets signatures older than `keep_secs` (far past the freshness
/// window, after which a replay is refused as stale anyway).
pub async fn prune(pool: &sqlx::PgPool, keep_secs: i64) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "DELETE FROM seen_signatures WHERE seen_at < now() - make_interval(secs => $1)",
    )
    .bind(keep_secs as f64)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}
