//! The audit trail of unmasked personal-data reads.
use sqlx::PgConnection;
use uuid::Uuid;

/// One unmasked read.
#[derive(Debug, Clone)]
pub struct PiiRead<'a> {
    /// County of the subject.
    pub county: &'a str,
    /// Who read (token `sub`).
    pub actor: &'a str,
    /// Their roles at the time.
    pub roles: &'a [String],
    /// `household` or `cadre`.
    pub subject_kind: &'a str,
    /// Whose data.
    pub subject_id: Uuid,
    /// Which fields were shown in full.
    pub fields: &'a [&'a str],
    /// Why (given by the caller).
    pub purpose: &'a str,
}

/// Records an unmasked read.
pub async fn record(conn: &mut PgConnection, read: &PiiRead<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO pii_access_audit (county, actor, roles, subject_kind, subject_id, fields, purpose)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(read.county)
    .bind(read.actor)
    .bind(read.roles)
    .bind(read.subject_kind)
    .bind(read.subject_id)
    .bind(read.fields)
    .bind(read.purpose)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many unmasked reads of `subject_id` were recorded.
pub async fn count_for(
    conn: &mut PgConnection,
    county: &str,
    subject_id: Uuid,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM pii_access_audit WHERE county = $1::char(6) AND subject_id = $2",
    )
    .bind(county)
    .bind(subject_id)
    .fetch_one(conn)
    .await
}
