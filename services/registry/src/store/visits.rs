//! Visits (走访记录) and the items raised on them.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

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

/// Inserts a visit unless its id exists; true when inserted.
pub async fn insert(conn: &mut PgConnection, v: &VisitRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO visits (county, visit_id, campaign_id, household_id, village_code, cadre_ids,
            started_at, ended_at, mode, overnight_stay, latitude, longitude, situation, narrative,
            policies_explained, materials, help_cash_fen, help_goods_description,
            help_goods_value_fen, photo_refs, complete, missing_fields, body_hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23)
         ON CONFLICT (county, visit_id) DO NOTHING",
    )
    .bind(&v.county)
    .bind(v.visit_id)
    .bind(v.campaign_id)
    .bind(v.household_id)
    .bind(&v.village_code)
    .bind(&v.cadre_ids)
    .bind(v.started_at)
    .bind(v.ended_at)
    .bind(v.mode)
    .bind(v.overnight_stay)
    .bind(v.latitude)
    .bind(v.longitude)
    .bind(&v.situation)
    .bind(&v.narrative)
    .bind(&v.policies_explained)
    .bind(&v.materials)
    .bind(v.help_cash_fen)
    .bind(&v.help_goods_description)
    .bind(v.help_goods_value_fen)
    .bind(&v.photo_refs)
    .bind(v.complete)
    .bind(&v.missing_fields)
    .bind(&v.body_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Inserts a visit's items.
pub async fn insert_items(
    conn: &mut PgConnection,
    county: &str,
    items: &[ItemRow],
) -> sqlx::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO visit_items (county, visit_id, item_no, kind, category, description,
            households_involved, resolved_on_spot, resolution_note, urgent)
         SELECT $1, * FROM UNNEST($2::uuid[], $3::int[], $4::smallint[], $5::text[], $6::text[],
                                  $7::int[], $8::bool[], $9::text[], $10::bool[])",
    )
    .bind(county)
    .bind(items.iter().map(|i| i.visit_id).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.item_no).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.kind).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.category.clone()).collect::<Vec<_>>())
    .bind(
        items
            .iter()
            .map(|i| i.description.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        items
            .iter()
            .map(|i| i.households_involved)
            .collect::<Vec<_>>(),
    )
    .bind(items.iter().map(|i| i.resolved_on_spot).collect::<Vec<_>>())
    .bind(
        items
            .iter()
            .map(|i| i.resolution_note.clone())
            .collect::<Vec<_>>(),
    )
    .bind(items.iter().map(|i| i.urgent).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
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
        " FROM visits WHERE county = $1 AND visit_id = $2"
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
        " FROM visits WHERE county = $1 AND visit_id = $2 FOR UPDATE"
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
         FROM visit_items WHERE county = $1 AND visit_id = ANY($2) ORDER BY visit_id, item_no",
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

/// Marks a visit disputed.
pub async fn set_disputed(
    conn: &mut PgConnection,
    county: &str,
    visit_id: Uuid,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE visits SET disputed = true, dispute_reason = $3 WHERE county = $1 AND visit_id = $2")
        .bind(county)
        .bind(visit_id)
        .bind(reason)
        .execute(conn)
        .await?;
    Ok(())
}
