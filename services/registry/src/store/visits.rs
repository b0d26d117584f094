//! Visits (走访记录) and the items raised on them.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, QueryBuilder, Row as _};
use uuid::Uuid;
use zoufang_bus::outbox::OutboxRow;

use super::campaigns::CampaignRow;
use crate::domain::tally::{Tally, VisitFigures};

/// A visit row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VisitRow {
    pub county: String,
    pub visit_id: Uuid,
    pub campaign_id: Uuid,
    pub household_id: Uuid,
    pub village_code: String,
    pub cadre_ids: Vec<Uuid>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub mode: i16,
    pub overnight_stay: bool,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub situation: String,
    pub narrative: String,
    pub policies_explained: Vec<String>,
    pub materials: serde_json::Value,
    pub help_cash_fen: i64,
    pub help_goods_description: String,
    pub help_goods_value_fen: i64,
    pub photo_refs: Vec<String>,
    pub complete: bool,
    pub missing_fields: Vec<String>,
    pub disputed: bool,
    pub dispute_reason: String,
    pub body_hash: Vec<u8>,
    pub recorded_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "county, visit_id, campaign_id, household_id, village_code, cadre_ids, started_at, \
         ended_at, mode, overnight_stay, latitude, longitude, situation, narrative, \
         policies_explained, materials, help_cash_fen, help_goods_description, \
         help_goods_value_fen, photo_refs, complete, missing_fields, disputed, dispute_reason, \
         body_hash, recorded_at"
    };
}

/// An item row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub visit_id: Uuid,
    pub item_no: i32,
    pub kind: i16,
    pub category: String,
    pub description: String,
    pub households_involved: i32,
    pub resolved_on_spot: bool,
    pub resolution_note: String,
    pub urgent: bool,
}

/// What recording a visit reads before it writes, in one query: the
/// household (found by id alone, across counties), a visit already stored
/// under the id, the campaign and the cadres known in the household's county.
#[derive(Debug, Clone)]
pub struct RecordContext {
    pub county: String,
    pub household_id: Uuid,
    pub village_code: String,
    pub open_tags: Vec<String>,
    pub is_key: bool,
    pub member_count: i32,
    /// Households of the county with this household's phone, itself
    /// included (0 without a phone).
    pub phone_sharers: i64,
    /// The body hash of the visit already stored under the id, if any.
    pub existing_body_hash: Option<Vec<u8>>,
    /// The campaign, when it exists in the household's county.
    pub campaign: Option<CampaignRow>,
    /// Which of the asked cadre ids are registered in the county.
    pub known_cadres: Vec<Uuid>,
    /// Their names, in the order of `known_cadres`.
    pub known_cadre_names: Vec<String>,
    /// The names of the household's village and its township ('' when
    /// the region table has none).
    pub village_name: String,
    pub township_name: String,
    /// The database's clock, the visit's `recorded_at`.
    pub now: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ContextRow {
    county: String,
    household_id: Uuid,
    village_code: String,
    open_tags: Vec<String>,
    is_key: bool,
    member_count: i32,
    phone_sharers: i64,
    existing_body_hash: Option<Vec<u8>>,
    c_campaign_id: Option<Uuid>,
    c_region_code: Option<String>,
    c_name: Option<String>,
    c_starts_at: Option<DateTime<Utc>>,
    c_ends_at: Option<DateTime<Utc>>,
    c_themes: Option<Vec<String>>,
    c_status: Option<i16>,
    c_completeness_policy: Option<i16>,
    c_body_hash: Option<Vec<u8>>,
    known_cadres: Vec<Uuid>,
    known_cadre_names: Vec<String>,
    village_name: Option<String>,
    township_name: Option<String>,
    now: DateTime<Utc>,
}

/// Reads the [`RecordContext`] of a visit; None when no household has the id.
/// One round trip instead of one per lookup: recording is the hot path.
pub async fn record_context(
    ex: impl PgExecutor<'_>,
    household_id: Uuid,
    visit_id: Uuid,
    campaign_id: Uuid,
    cadre_ids: &[Uuid],
) -> sqlx::Result<Option<RecordContext>> {
    let row: Option<ContextRow> = sqlx::query_as(
        "SELECT h.county, h.household_id, h.village_code, h.open_tags, h.is_key, h.member_count,
                (SELECT count(*) FROM households o
                 WHERE o.county = h.county AND o.phone_hash = h.phone_hash) AS phone_sharers,
                v.body_hash AS existing_body_hash,
                c.campaign_id AS c_campaign_id, c.region_code AS c_region_code, c.name AS c_name,
                c.starts_at AS c_starts_at, c.ends_at AS c_ends_at, c.themes AS c_themes,
                c.status AS c_status, c.completeness_policy AS c_completeness_policy,
                c.body_hash AS c_body_hash,
                ARRAY(SELECT k.cadre_id FROM cadres k
                      WHERE k.county = h.county AND k.cadre_id = ANY($4)
                      ORDER BY k.cadre_id) AS known_cadres,
                ARRAY(SELECT k.name FROM cadres k
                      WHERE k.county = h.county AND k.cadre_id = ANY($4)
                      ORDER BY k.cadre_id) AS known_cadre_names,
                (SELECT r.name FROM regions r
                 WHERE r.county = h.county AND r.code = h.village_code) AS village_name,
                (SELECT r.name FROM regions r
                 WHERE r.county = h.county
                   AND r.code = rpad(left(h.village_code, 9), 12, '0')::char(12)) AS township_name,
                now() AS now
         FROM households h
         LEFT JOIN visits v ON v.county = h.county AND v.visit_id = $2
         LEFT JOIN campaigns c ON c.county = h.county AND c.campaign_id = $3
         WHERE h.household_id = $1
         LIMIT 1",
    )
    .bind(household_id)
    .bind(visit_id)
    .bind(campaign_id)
    .bind(cadre_ids)
    .fetch_optional(ex)
    .await?;
    Ok(row.map(|r| {
        let campaign = match (
            r.c_campaign_id,
            r.c_region_code,
            r.c_name,
            r.c_starts_at,
            r.c_ends_at,
            r.c_themes,
            r.c_status,
            r.c_completeness_policy,
            r.c_body_hash,
        ) {
            (
                Some(campaign_id),
                Some(region_code),
                Some(name),
                Some(starts_at),
                Some(ends_at),
                Some(themes),
                Some(status),
                Some(completeness_policy),
                Some(body_hash),
            ) => Some(CampaignRow {
                county: r.county.clone(),
                campaign_id,
                region_code,
                name,
                starts_at,
                ends_at,
                themes,
                status,
                completeness_policy,
                body_hash,
            }),
            _ => None,
        };
        RecordContext {
            county: r.county,
            household_id: r.household_id,
            village_code: r.village_code,
            open_tags: r.open_tags,
            is_key: r.is_key,
            member_count: r.member_count,
            phone_sharers: r.phone_sharers,
            existing_body_hash: r.existing_body_hash,
            campaign,
            known_cadres: r.known_cadres,
            known_cadre_names: r.known_cadre_names,
            village_name: r.village_name.unwrap_or_default(),
            township_name: r.township_name.unwrap_or_default(),
            now: r.now,
        }
    }))
}

/// The statement of [`insert_recorded`] before its event: the visit and its
/// items as data-modifying CTEs of one statement. Items, the progress
/// counters and the event appended after them are written only when the
/// visit was (they select from its RETURNING). The same text each time, so the connection's
/// prepared statement is reused.
const INSERT_RECORDED: &str = "WITH visit AS (
            INSERT INTO visits (county, visit_id, campaign_id, household_id, village_code,
                cadre_ids, started_at, ended_at, mode, overnight_stay, latitude, longitude,
                situation, narrative, policies_explained, materials, help_cash_fen,
                help_goods_description, help_goods_value_fen, photo_refs, complete,
                missing_fields, body_hash, recorded_at)
            VALUES (";

/// Writes a new visit with its items, its progress counters and its
/// `registry.visit.recorded` event in one statement, which PostgreSQL runs as one transaction: all or
/// nothing, without BEGIN and COMMIT round trips. False (nothing written)
/// when the id is taken. Call `outbox::wake` after it.
pub async fn insert_recorded(
    conn: &mut PgConnection,
    v: &VisitRow,
    items: &[ItemRow],
    event: OutboxRow,
) -> sqlx::Result<bool> {
    let mut query = QueryBuilder::new(INSERT_RECORDED);
    let mut values = query.separated(", ");
    values
        .push_bind(&v.county)
        .push_bind(v.visit_id)
        .push_bind(v.campaign_id)
        .push_bind(v.household_id)
        .push_bind(&v.village_code)
        .push_bind(&v.cadre_ids)
        .push_bind(v.started_at)
        .push_bind(v.ended_at)
        .push_bind(v.mode)
        .push_bind(v.overnight_stay)
        .push_bind(v.latitude)
        .push_bind(v.longitude)
        .push_bind(&v.situation)
        .push_bind(&v.narrative)
        .push_bind(&v.policies_explained)
        .push_bind(&v.materials)
        .push_bind(v.help_cash_fen)
        .push_bind(&v.help_goods_description)
        .push_bind(v.help_goods_value_fen)
        .push_bind(&v.photo_refs)
        .push_bind(v.complete)
        .push_bind(&v.missing_fields)
        .push_bind(&v.body_hash)
        .push_bind(v.recorded_at);
    query.push(
        ")
            ON CONFLICT (county, visit_id) DO NOTHING
            RETURNING county, visit_id, campaign_id, household_id, village_code
         ), items AS (
            INSERT INTO visit_items (county, visit_id, item_no, kind, category, description,
                households_involved, resolved_on_spot, resolution_note, urgent)
            SELECT visit.county, visit.visit_id, i.*
            FROM visit, UNNEST(",
    );
    let mut columns = query.separated(", ");
    columns
        .push_bind(items.iter().map(|i| i.item_no).collect::<Vec<_>>())
        .push_unseparated("::int[]")
        .push_bind(items.iter().map(|i| i.kind).collect::<Vec<_>>())
        .push_unseparated("::smallint[]")
        .push_bind(
            items
                .iter()
                .map(|i| i.category.as_str())
                .collect::<Vec<_>>(),
        )
        .push_unseparated("::text[]")
        .push_bind(
            items
                .iter()
                .map(|i| i.description.as_str())
                .collect::<Vec<_>>(),
        )
        .push_unseparated("::text[]")
        .push_bind(
            items
                .iter()
                .map(|i| i.households_involved)
                .collect::<Vec<_>>(),
        )
        .push_unseparated("::int[]")
        .push_bind(items.iter().map(|i| i.resolved_on_spot).collect::<Vec<_>>())
        .push_unseparated("::bool[]")
        .push_bind(
            items
                .iter()
                .map(|i| i.resolution_note.as_str())
                .collect::<Vec<_>>(),
        )
        .push_unseparated("::text[]")
        .push_bind(items.iter().map(|i| i.urgent).collect::<Vec<_>>())
        .push_unseparated("::bool[]");
    query.push(
        ") AS i
         )",
    );
    let on_spot: Vec<bool> = items.iter().map(|i| i.resolved_on_spot).collect();
    super::progress::push_visit_tally(&mut query, &Tally::recorded(&figures(v, &on_spot)), "visit");
    query.push(", ");
    event.push_cte(&mut query, "event", "visit");
    query.push(" SELECT count(*) FROM visit");
    let inserted: i64 = query.build().fetch_one(conn).await?.try_get(0)?;
    Ok(inserted == 1)
}

/// One visit.
pub async fn get(
    ex: impl PgExecutor<'_>,
    county: &str,
    visit_id: Uuid,
) -> sqlx::Result<Option<VisitRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM visits WHERE county = $1::char(6) AND visit_id = $2"
    ))
    .bind(county)
    .bind(visit_id)
    .fetch_optional(ex)
    .await
}

/// Locks one visit for an update.
pub async fn lock(
    conn: &mut PgConnection,
    county: &str,
    visit_id: Uuid,
) -> sqlx::Result<Option<VisitRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM visits WHERE county = $1::char(6) AND visit_id = $2 FOR UPDATE"
    ))
    .bind(county)
    .bind(visit_id)
    .fetch_optional(conn)
    .await
}

/// The county a visit id lives in, if any.
pub async fn county_of(ex: impl PgExecutor<'_>, visit_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT county FROM visits WHERE visit_id = $1 LIMIT 1")
        .bind(visit_id)
        .fetch_optional(ex)
        .await
}

/// Items of the given visits, in visit and item order.
pub async fn items_of(
    ex: impl PgExecutor<'_>,
    county: &str,
    visit_ids: &[Uuid],
) -> sqlx::Result<Vec<ItemRow>> {
    sqlx::query_as(
        "SELECT visit_id, item_no, kind, category, description, households_involved,
                resolved_on_spot, resolution_note, urgent
         FROM visit_items WHERE county = $1::char(6) AND visit_id = ANY($2) ORDER BY visit_id, item_no",
    )
    .bind(county)
    .bind(visit_ids)
    .fetch_all(ex)
    .await
}

/// Filters of a visit list.
#[derive(Debug, Clone, Default)]
pub struct VisitFilter {
    pub prefix: String,
    pub household_id: Option<Uuid>,
    pub cadre_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// A page of visits.
pub async fn list(ex: impl PgExecutor<'_>, f: &VisitFilter) -> sqlx::Result<Vec<VisitRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM visits
         WHERE village_code LIKE $1
           AND ($2::uuid IS NULL OR household_id = $2)
           AND ($3::uuid IS NULL OR cadre_ids @> ARRAY[$3::uuid])
           AND ($4::uuid IS NULL OR campaign_id = $4)
           AND ($5::uuid IS NULL OR visit_id > $5)
         ORDER BY visit_id LIMIT $6"
    ))
    .bind(super::like_prefix(&f.prefix))
    .bind(f.household_id)
    .bind(f.cadre_id)
    .bind(f.campaign_id)
    .bind(f.after)
    .bind(f.limit)
    .fetch_all(ex)
    .await
}

/// What the progress counters read of a stored visit.
fn figures<'a>(v: &'a VisitRow, items_on_spot: &'a [bool]) -> VisitFigures<'a> {
    VisitFigures {
        mode: v.mode,
        overnight_stay: v.overnight_stay,
        help_cash_fen: v.help_cash_fen,
        help_goods_value_fen: v.help_goods_value_fen,
        materials: &v.materials,
        items_on_spot,
    }
}

/// Marks a visit disputed (`v`, as locked, and its items), taking it back
/// from the progress counters in the same statement; nothing when it
/// already is.
pub async fn set_disputed(
    conn: &mut PgConnection,
    v: &VisitRow,
    items: &[ItemRow],
    reason: &str,
) -> sqlx::Result<()> {
    let mut query = QueryBuilder::new(
        "WITH visit AS (
            UPDATE visits SET disputed = true, dispute_reason = ",
    );
    query.push_bind(reason).push(" WHERE county = ");
    query.push_bind(&v.county).push("::char(6) AND visit_id = ");
    query.push_bind(v.visit_id).push(
        " AND NOT disputed
            RETURNING county, campaign_id, household_id, village_code
         )",
    );
    let on_spot: Vec<bool> = items.iter().map(|i| i.resolved_on_spot).collect();
    super::progress::push_visit_tally(&mut query, &Tally::disputed(&figures(v, &on_spot)), "visit");
    query.push(" SELECT count(*) FROM visit");
    query.build().execute(conn).await?;
    Ok(())
}
