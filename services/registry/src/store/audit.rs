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

/// Records an unmasked read of `fields` of each household in `subjects`
/// (county, id) at once: a list filtered by a sensitive tag reveals every
/// household it shows.
pub async fn record_households(
    conn: &mut PgConnection,
    actor: &str,
    roles: &[String],
    fields: &[&str],
    purpose: &str,
    subjects: &[(String, Uuid)],
) -> sqlx::Result<()> {
    if subjects.is_empty() {
        return Ok(());
    }
    let (counties, ids): (Vec<String>, Vec<Uuid>) = subjects.iter().cloned().unzip();
    sqlx::query(
        "INSERT INTO pii_access_audit (county, actor, roles, subject_kind, subject_id, fields, purpose)
         SELECT s.county, $3, $4, 'household', s.id, $5, $6
         FROM UNNEST($1::char(6)[], $2::uuid[]) AS s(county, id)",
    )
    .bind(counties)
    .bind(ids)
    .bind(actor)
    .bind(roles)
    .bind(fields)
    .bind(purpose)
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
