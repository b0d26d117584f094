//! Households: personal data arrives here already encrypted and hashed.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::progress::{count_registered, move_helped_tags};

/// A household row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseholdRow {
    pub county: String,
    pub household_id: Uuid,
    pub village_code: String,
    pub group_name: String,
    pub address: String,
    pub head_name: String,
    pub id_number_cipher: Vec<u8>,
    pub phone_cipher: Option<Vec<u8>>,
    pub member_count: i32,
    pub open_tags: Vec<String>,
    pub sensitive_tags_cipher: Option<Vec<u8>>,
    pub is_key: bool,
    pub body_hash: Vec<u8>,
    pub registered_at: DateTime<Utc>,
    pub version: i64,
}

macro_rules! columns {
    () => {
        "county, household_id, village_code, group_name, address, head_name, \
         id_number_cipher, phone_cipher, member_count, open_tags, sensitive_tags_cipher, is_key, \
         body_hash, registered_at, version"
    };
}

/// A household to insert.
#[derive(Debug, Clone)]
pub struct NewHousehold {
    pub county: String,
    pub household_id: Uuid,
    pub village_code: String,
    pub group_name: String,
    pub address: String,
    pub head_name: String,
    pub id_number_cipher: Vec<u8>,
    pub id_number_hash: Vec<u8>,
    pub phone_cipher: Option<Vec<u8>>,
    pub phone_hash: Option<Vec<u8>>,
    pub member_count: i32,
    pub tags: TagColumns,
    pub body_hash: Vec<u8>,
}

/// The tag columns, derived together.
#[derive(Debug, Clone)]
pub struct TagColumns {
    pub open_tags: Vec<String>,
    pub sensitive_tags_cipher: Option<Vec<u8>>,
    pub tag_hashes: Vec<Vec<u8>>,
    pub is_key: bool,
}

/// Inserts unless the id exists, counting it in its village's progress
/// counter; true when inserted.
pub async fn insert(conn: &mut PgConnection, h: &NewHousehold) -> sqlx::Result<bool> {
    let inserted: i64 = sqlx::query_scalar(concat!(
        "WITH added AS (
            INSERT INTO households (county, household_id, village_code, group_name, address,
                head_name, id_number_cipher, id_number_hash, phone_cipher, phone_hash,
                member_count, open_tags, sensitive_tags_cipher, tag_hashes, is_key, body_hash)
            VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
            ON CONFLICT (county, household_id) DO NOTHING
            RETURNING county, village_code
         ), ",
        count_registered!("added"),
        " SELECT count(*) FROM added"
    ))
    .bind(&h.county)
    .bind(h.household_id)
    .bind(&h.village_code)
    .bind(&h.group_name)
    .bind(&h.address)
    .bind(&h.head_name)
    .bind(&h.id_number_cipher)
    .bind(&h.id_number_hash)
    .bind(&h.phone_cipher)
    .bind(&h.phone_hash)
    .bind(h.member_count)
    .bind(&h.tags.open_tags)
    .bind(&h.tags.sensitive_tags_cipher)
    .bind(&h.tags.tag_hashes)
    .bind(h.tags.is_key)
    .bind(&h.body_hash)
    .fetch_one(conn)
    .await?;
    Ok(inserted == 1)
}

/// Inserts many households in one statement, skipping any whose id or ID
/// number is already registered; the ids actually inserted. Columns go as
/// arrays (one bind each, whatever the batch size); the per-row arrays
/// (tags, tag hashes) travel as JSON and comma-separated hex.
pub async fn insert_many(
    conn: &mut PgConnection,
    rows: &[&NewHousehold],
) -> sqlx::Result<Vec<Uuid>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let col = |f: fn(&NewHousehold) -> String| rows.iter().map(|h| f(h)).collect::<Vec<_>>();
    let bytes =
        |f: fn(&NewHousehold) -> Option<Vec<u8>>| rows.iter().map(|h| f(h)).collect::<Vec<_>>();
    sqlx::query_scalar(concat!(
        "WITH added AS (
            INSERT INTO households (county, household_id, village_code, group_name, address,
                head_name, id_number_cipher, id_number_hash, phone_cipher, phone_hash,
                member_count, open_tags, sensitive_tags_cipher, tag_hashes, is_key, body_hash)
            SELECT county, household_id, village_code, group_name, address, head_name,
                id_number_cipher, id_number_hash, phone_cipher, phone_hash, member_count,
                ARRAY(SELECT jsonb_array_elements_text(open_tags::jsonb)), sensitive_tags_cipher,
                ARRAY(SELECT decode(h, 'hex') FROM unnest(string_to_array(tag_hashes, ',')) AS h),
                is_key, body_hash
            FROM UNNEST($1::char(6)[], $2::uuid[], $3::char(12)[], $4::text[], $5::text[],
                        $6::text[], $7::bytea[], $8::bytea[], $9::bytea[], $10::bytea[],
                        $11::int[], $12::text[], $13::bytea[], $14::text[], $15::bool[],
                        $16::bytea[])
              AS r(county, household_id, village_code, group_name, address, head_name,
                   id_number_cipher, id_number_hash, phone_cipher, phone_hash, member_count,
                   open_tags, sensitive_tags_cipher, tag_hashes, is_key, body_hash)
            ON CONFLICT DO NOTHING
            RETURNING county, village_code, household_id
         ), ",
        count_registered!("added"),
        " SELECT household_id FROM added"
    ))
    .bind(col(|h| h.county.clone()))
    .bind(rows.iter().map(|h| h.household_id).collect::<Vec<_>>())
    .bind(col(|h| h.village_code.clone()))
    .bind(col(|h| h.group_name.clone()))
    .bind(col(|h| h.address.clone()))
    .bind(col(|h| h.head_name.clone()))
    .bind(bytes(|h| Some(h.id_number_cipher.clone())))
    .bind(bytes(|h| Some(h.id_number_hash.clone())))
    .bind(bytes(|h| h.phone_cipher.clone()))
    .bind(bytes(|h| h.phone_hash.clone()))
    .bind(rows.iter().map(|h| h.member_count).collect::<Vec<_>>())
    .bind(col(|h| {
        serde_json::to_string(&h.tags.open_tags).unwrap_or_else(|_| "[]".into())
    }))
    .bind(bytes(|h| h.tags.sensitive_tags_cipher.clone()))
    .bind(col(|h| {
        h.tags
            .tag_hashes
            .iter()
            .map(hex::encode)
            .collect::<Vec<_>>()
            .join(",")
    }))
    .bind(rows.iter().map(|h| h.tags.is_key).collect::<Vec<_>>())
    .bind(bytes(|h| Some(h.body_hash.clone())))
    .fetch_all(conn)
    .await
}

/// Of these (county, household id) pairs, those registered: id and body hash.
pub async fn bodies_of(
    ex: impl PgExecutor<'_>,
    counties: &[String],
    ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, Vec<u8>)>> {
    sqlx::query_as(
        "SELECT h.household_id, h.body_hash FROM households h
         JOIN UNNEST($1::char(6)[], $2::uuid[]) AS k(county, household_id)
           ON h.county = k.county AND h.household_id = k.household_id",
    )
    .bind(counties)
    .bind(ids)
    .fetch_all(ex)
    .await
}

/// Of these (county, ID-number hash) pairs, those registered: county, hash,
/// the household holding it and its village.
pub async fn holders_of(
    ex: impl PgExecutor<'_>,
    counties: &[String],
    id_number_hashes: &[Vec<u8>],
) -> sqlx::Result<Vec<(String, Vec<u8>, Uuid, String)>> {
    sqlx::query_as(
        "SELECT h.county::text, h.id_number_hash, h.household_id, h.village_code::text
         FROM households h
         JOIN UNNEST($1::char(6)[], $2::bytea[]) AS k(county, id_number_hash)
           ON h.county = k.county AND h.id_number_hash = k.id_number_hash",
    )
    .bind(counties)
    .bind(id_number_hashes)
    .fetch_all(ex)
    .await
}

/// One household by id.
pub async fn get(
    ex: impl PgExecutor<'_>,
    county: &str,
    household_id: Uuid,
) -> sqlx::Result<Option<HouseholdRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM households WHERE county = $1::char(6) AND household_id = $2"
    ))
    .bind(county)
    .bind(household_id)
    .fetch_optional(ex)
    .await
}

/// Households with this ID-number hash, in any county.
pub async fn find_by_id_hash(
    ex: impl PgExecutor<'_>,
    id_number_hash: &[u8],
) -> sqlx::Result<Vec<HouseholdRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM households WHERE id_number_hash = $1"
    ))
    .bind(id_number_hash)
    .fetch_all(ex)
    .await
}

/// A page of households whose village code starts with `prefix`.
pub async fn list(
    ex: impl PgExecutor<'_>,
    prefix: &str,
    tag_hash: Option<&[u8]>,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<HouseholdRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM households
         WHERE village_code LIKE $1
           AND ($2::bytea IS NULL OR tag_hashes @> ARRAY[$2::bytea])
           AND ($3::uuid IS NULL OR household_id > $3)
         ORDER BY household_id LIMIT $4"
    ))
    .bind(super::like_prefix(prefix))
    .bind(tag_hash)
    .bind(after)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Replaces a household's tags, moving its helped campaigns in the progress
/// counters from its old tag set to the new one. The caller holds the row
/// ([`lock`]).
pub async fn update_tags(
    conn: &mut PgConnection,
    county: &str,
    household_id: Uuid,
    tags: &TagColumns,
) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "WITH old AS (
            SELECT tag_hashes FROM households WHERE county = $1::char(6) AND household_id = $2
         ), changed AS (
            UPDATE households
               SET open_tags = $3, sensitive_tags_cipher = $4, tag_hashes = $5, is_key = $6
             WHERE county = $1::char(6) AND household_id = $2
            RETURNING county, household_id, tag_hashes
         ), ",
        move_helped_tags!("old", "changed"),
        " SELECT count(*) FROM changed"
    ))
    .bind(county)
    .bind(household_id)
    .bind(&tags.open_tags)
    .bind(&tags.sensitive_tags_cipher)
    .bind(&tags.tag_hashes)
    .bind(tags.is_key)
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks a household row for an update.
pub async fn lock(
    conn: &mut PgConnection,
    county: &str,
    household_id: Uuid,
) -> sqlx::Result<Option<HouseholdRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM households WHERE county = $1::char(6) AND household_id = $2 FOR UPDATE"
    ))
    .bind(county)
    .bind(household_id)
    .fetch_optional(conn)
    .await
}

/// Households of a village (or any prefix), counted.
pub async fn count_in(ex: impl PgExecutor<'_>, prefix: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM households WHERE village_code LIKE $1")
        .bind(super::like_prefix(prefix))
        .fetch_one(ex)
        .await
}

/// How many households of the county share this household's phone number
/// (by keyed hash); 0 when it has none.
pub async fn phone_sharers(
    ex: impl PgExecutor<'_>,
    county: &str,
    household_id: Uuid,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM households o
         JOIN households h ON h.county = o.county AND h.phone_hash = o.phone_hash
         WHERE h.county = $1::char(6) AND h.household_id = $2",
    )
    .bind(county)
    .bind(household_id)
    .fetch_one(ex)
    .await
}

/// The editable fields of a household as they will be stored (phone
/// already encrypted and hashed).
#[derive(Debug, Clone)]
pub struct EditedFields {
    pub address: String,
    pub group_name: String,
    pub phone_cipher: Option<Vec<u8>>,
    pub phone_hash: Option<Vec<u8>>,
    pub member_count: i32,
}

/// One edit's history row: the changed values arrive encrypted.
#[derive(Debug, Clone)]
pub struct NewHistory<'a> {
    pub actor: &'a str,
    pub roles: &'a [String],
    pub fields: Vec<String>,
    pub changes_cipher: Vec<u8>,
    pub note: &'a str,
    pub changed_at: DateTime<Utc>,
}

/// Writes an edit and its history row, moving the version from `expected`
/// to `expected + 1`; false (nothing written) when the stored version is no
/// longer `expected`. The caller holds the row ([`lock`]) in its transaction.
pub async fn update_fields(
    conn: &mut PgConnection,
    county: &str,
    household_id: Uuid,
    expected: i64,
    fields: &EditedFields,
    history: &NewHistory<'_>,
) -> sqlx::Result<bool> {
    let updated: i64 = sqlx::query_scalar(
        "WITH changed AS (
            UPDATE households
               SET address = $4, group_name = $5, phone_cipher = $6, phone_hash = $7,
                   member_count = $8, version = version + 1
             WHERE county = $1::char(6) AND household_id = $2 AND version = $3
            RETURNING county, household_id, version
         ), kept AS (
            INSERT INTO household_history (county, household_id, version, actor, roles, fields,
                changes_cipher, note, changed_at)
            SELECT county, household_id, version, $9, $10, $11, $12, $13, $14 FROM changed
            RETURNING version
         )
         SELECT count(*) FROM kept",
    )
    .bind(county)
    .bind(household_id)
    .bind(expected)
    .bind(&fields.address)
    .bind(&fields.group_name)
    .bind(&fields.phone_cipher)
    .bind(&fields.phone_hash)
    .bind(fields.member_count)
    .bind(history.actor)
    .bind(history.roles)
    .bind(&history.fields)
    .bind(&history.changes_cipher)
    .bind(history.note)
    .bind(history.changed_at)
    .fetch_one(conn)
    .await?;
    Ok(updated == 1)
}

/// A history row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub version: i64,
    pub actor: String,
    pub roles: Vec<String>,
    pub fields: Vec<String>,
    pub changes_cipher: Vec<u8>,
    pub note: String,
    pub changed_at: DateTime<Utc>,
}

/// A household's edits, newest first: those below version `before` when
/// given, at most `limit`.
pub async fn history(
    ex: impl PgExecutor<'_>,
    county: &str,
    household_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<HistoryRow>> {
    sqlx::query_as(
        "SELECT version, actor, roles, fields, changes_cipher, note, changed_at
         FROM household_history
         WHERE county = $1::char(6) AND household_id = $2
           AND ($3::bigint IS NULL OR version < $3)
         ORDER BY version DESC LIMIT $4",
    )
    .bind(county)
    .bind(household_id)
    .bind(before)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// The fields changed by the edits after version `since` (for a stale
/// edit's refusal: what changed under it), oldest first, each once.
pub async fn fields_changed_since(
    ex: impl PgExecutor<'_>,
    county: &str,
    household_id: Uuid,
    since: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT f FROM (
            SELECT f, min(h.version) AS first
            FROM household_history h, unnest(h.fields) AS f
            WHERE h.county = $1::char(6) AND h.household_id = $2 AND h.version > $3
            GROUP BY f
         ) s ORDER BY first, f",
    )
    .bind(county)
    .bind(household_id)
    .bind(since)
    .fetch_all(ex)
    .await
}
