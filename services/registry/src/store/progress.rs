//! Progress queries ("访的程度怎样了"): a cadre's actuals against quotas, and a
//! region's or work zone's figures grouped by child (township or village).
//!
//! Region figures are computed by a handful of grouped queries over one
//! [`Area`], each grouping by `left(village_code, key_len)`, so a county with
//! 20 townships or a township with 30 villages costs the same few round trips.
//! Every query filters on the county first (the distribution column).
//!
//! The region queries read per-village counters (`progress_*` tables, see
//! migration `20261201090001_progress_counters.sql`) that triggers keep in
//! the same transaction as every write to households, visits and items: a
//! county's answer sums a few thousand counter rows instead of scanning its
//! ~250k visits (issue 9: ≤ 50 ms p95 for a township, ≤ 200 ms for a county
//! on a province of 30M visits). `progress_rebuild()` recomputes them.
use sqlx::PgExecutor;
use uuid::Uuid;

/// What one cadre did in one campaign, from their non-disputed visits.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CadreTotals {
    /// Visits.
    pub visits: i64,
    /// Distinct households visited.
    pub households_visited: i64,
    /// Visits with an overnight stay.
    pub overnight_stays: i64,
    /// Distinct key-group households (重点户) visited.
    pub key_households_visited: i64,
    /// Help (cash + goods value) per household helped, in fen, largest first;
    /// households given nothing are left out.
    pub help_per_household_fen: Vec<i64>,
    /// The cadre's visits flagged disputed (not counted above).
    pub disputed_visits: i64,
}

/// A cadre's totals in a campaign: visits whose `cadre_ids` include them.
pub async fn cadre_totals(
    ex: impl PgExecutor<'_>,
    county: &str,
    campaign_id: Uuid,
    cadre_id: Uuid,
) -> sqlx::Result<CadreTotals> {
    sqlx::query_as(
        "WITH v AS (
             SELECT household_id, overnight_stay, disputed,
                    help_cash_fen + help_goods_value_fen AS help
             FROM visits
             WHERE county = $1::char(6) AND campaign_id = $2 AND cadre_ids @> ARRAY[$3::uuid]
         ), per_household AS (
             SELECT v.household_id, sum(v.help)::bigint AS help, bool_or(h.is_key) AS is_key
             FROM v JOIN households h ON h.county = $1::char(6) AND h.household_id = v.household_id
             WHERE NOT v.disputed
             GROUP BY v.household_id
         )
         SELECT
             (SELECT count(*) FROM v WHERE NOT disputed) AS visits,
             (SELECT count(*) FROM per_household) AS households_visited,
             (SELECT count(*) FROM v WHERE NOT disputed AND overnight_stay) AS overnight_stays,
             (SELECT count(*) FROM per_household WHERE is_key) AS key_households_visited,
             (SELECT COALESCE(array_agg(help ORDER BY help DESC), '{}')
                FROM per_household WHERE help > 0) AS help_per_household_fen,
             (SELECT count(*) FROM v WHERE disputed) AS disputed_visits",
    )
    .bind(county)
    .bind(campaign_id)
    .bind(cadre_id)
    .fetch_one(ex)
    .await
}

/// The villages a region query covers, and how they group into children.
#[derive(Debug, Clone)]
pub struct Area {
    /// County of the campaign (distribution column).
    pub county: String,
    /// The campaign.
    pub campaign_id: Uuid,
    /// Villages whose code starts with this (digits only).
    pub prefix: String,
    /// When set, only these villages (a work zone).
    pub villages: Option<Vec<String>>,
    /// Child key = the first `key_len` digits of the village code
    /// (9 groups by township, 12 by village).
    pub key_len: i32,
}

/// Households registered in one child.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseholdCount {
    /// Child key (`key_len` digits).
    pub key: String,
    /// Households registered.
    pub households: i64,
}

/// Visit figures of one child, from the campaign's visits.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct VisitCounts {
    /// Child key (`key_len` digits).
    pub key: String,
    /// Non-disputed visits.
    pub visits: i64,
    /// Distinct households with a non-disputed visit.
    pub households_visited: i64,
    /// Non-disputed visits with an overnight stay.
    pub overnight_stays: i64,
    /// Distinct households given help (cash or goods) on a non-disputed visit.
    pub households_helped: i64,
    /// Cash given, in fen.
    pub help_cash_fen: i64,
    /// Value of goods given, in fen.
    pub help_goods_value_fen: i64,
    /// Items raised on non-disputed visits.
    pub items_raised: i64,
    /// Of those, resolved on the spot.
    pub items_resolved_on_spot: i64,
    /// Visits flagged disputed (excluded from every other figure).
    pub disputed_visits: i64,
}

/// Non-disputed visits of one child in one mode.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ModeRow {
    /// Child key.
    pub key: String,
    /// Visit mode (`zoufang.common.v1.VisitMode`).
    pub mode: i16,
    /// Visits.
    pub visits: i64,
}

/// Materials handed out in one child, by name, on non-disputed visits.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MaterialRow {
    /// Child key.
    pub key: String,
    /// Material name.
    pub name: String,
    /// Total quantity.
    pub quantity: i64,
}

/// A region row that is a child of the area.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NamedRegion {
    /// 12-digit code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// The filter shared by the grouped queries: $1 county, $2 LIKE prefix,
/// $3 optional village list, $4 key length; visit queries add $5 campaign.
/// The county is bound as text: cast to the column's char(6), or the
/// comparison is made on text and no index leading with county applies.
macro_rules! area_filter {
    ($alias:literal) => {
        concat!(
            $alias,
            "county = $1::char(6) AND ",
            $alias,
            "village_code LIKE $2 AND ($3::char(12)[] IS NULL OR ",
            $alias,
            "village_code = ANY($3::char(12)[]))"
        )
    };
}

/// Households registered, per child of the area (from the per-village
/// counters the households triggers keep).
pub async fn household_counts(
    ex: impl PgExecutor<'_>,
    a: &Area,
) -> sqlx::Result<Vec<HouseholdCount>> {
    sqlx::query_as(concat!(
        "SELECT left(village_code, $4) AS key, sum(households)::bigint AS households
         FROM progress_village_households WHERE ",
        area_filter!(""),
        " GROUP BY 1 HAVING sum(households) > 0 ORDER BY 1"
    ))
    .bind(&a.county)
    .bind(super::like_prefix(&a.prefix))
    .bind(&a.villages)
    .bind(a.key_len)
    .fetch_all(ex)
    .await
}

/// Visit, help, item and dispute figures per child of the area, summed from
/// the per-village counters (`progress_villages`) that the visits and items
/// triggers keep in the writing transaction; a child appears when it has a
/// visit at all, disputed or not.
pub async fn visit_counts(ex: impl PgExecutor<'_>, a: &Area) -> sqlx::Result<Vec<VisitCounts>> {
    sqlx::query_as(concat!(
        "SELECT left(village_code, $4) AS key,
                sum(visits)::bigint AS visits,
                sum(households_visited)::bigint AS households_visited,
                sum(overnight_stays)::bigint AS overnight_stays,
                sum(households_helped)::bigint AS households_helped,
                sum(help_cash_fen)::bigint AS help_cash_fen,
                sum(help_goods_value_fen)::bigint AS help_goods_value_fen,
                sum(items_raised)::bigint AS items_raised,
                sum(items_resolved_on_spot)::bigint AS items_resolved_on_spot,
                sum(disputed_visits)::bigint AS disputed_visits
         FROM progress_villages
         WHERE campaign_id = $5 AND ",
        area_filter!(""),
        " GROUP BY 1 HAVING sum(visits) + sum(disputed_visits) > 0 ORDER BY 1"
    ))
    .bind(&a.county)
    .bind(super::like_prefix(&a.prefix))
    .bind(&a.villages)
    .bind(a.key_len)
    .bind(a.campaign_id)
    .fetch_all(ex)
    .await
}

/// Households of one child counted by some rule.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyCount {
    /// Child key.
    pub key: String,
    /// Households.
    pub households: i64,
}

/// Distinct households given help on a non-disputed visit whose tags
/// include one of `tag_hashes` (keyed hashes of the poverty tags), per child:
/// the helped households kept per exact tag set (`progress_helped_tags`),
/// summed over the sets that overlap `tag_hashes`.
pub async fn poor_helped_counts(
    ex: impl PgExecutor<'_>,
    a: &Area,
    tag_hashes: &[Vec<u8>],
) -> sqlx::Result<Vec<KeyCount>> {
    sqlx::query_as(concat!(
        "SELECT left(village_code, $4) AS key, sum(households)::bigint AS households
         FROM progress_helped_tags
         WHERE campaign_id = $5 AND tag_hashes && $6::bytea[] AND ",
        area_filter!(""),
        " GROUP BY 1 HAVING sum(households) > 0 ORDER BY 1"
    ))
    .bind(&a.county)
    .bind(super::like_prefix(&a.prefix))
    .bind(&a.villages)
    .bind(a.key_len)
    .bind(a.campaign_id)
    .bind(tag_hashes)
    .fetch_all(ex)
    .await
}

/// Non-disputed visits per child and mode, ordered by child then mode.
pub async fn mode_counts(ex: impl PgExecutor<'_>, a: &Area) -> sqlx::Result<Vec<ModeRow>> {
    sqlx::query_as(concat!(
        "SELECT left(p.village_code, $4) AS key, m.key::smallint AS mode,
                sum(m.value::bigint)::bigint AS visits
         FROM progress_villages p CROSS JOIN LATERAL jsonb_each_text(p.by_mode) m
         WHERE p.campaign_id = $5 AND ",
        area_filter!("p."),
        " GROUP BY 1, 2 HAVING sum(m.value::bigint) > 0 ORDER BY 1, 2"
    ))
    .bind(&a.county)
    .bind(super::like_prefix(&a.prefix))
    .bind(&a.villages)
    .bind(a.key_len)
    .bind(a.campaign_id)
    .fetch_all(ex)
    .await
}

/// Materials handed out on non-disputed visits, summed per child and name.
pub async fn material_sums(ex: impl PgExecutor<'_>, a: &Area) -> sqlx::Result<Vec<MaterialRow>> {
    sqlx::query_as(concat!(
        "SELECT left(p.village_code, $4) AS key, m.key AS name,
                sum(m.value::bigint)::bigint AS quantity
         FROM progress_villages p CROSS JOIN LATERAL jsonb_each_text(p.materials) m
         WHERE p.campaign_id = $5 AND ",
        area_filter!("p."),
        " GROUP BY 1, 2 HAVING sum(m.value::bigint) <> 0 ORDER BY 1, 2"
    ))
    .bind(&a.county)
    .bind(super::like_prefix(&a.prefix))
    .bind(&a.villages)
    .bind(a.key_len)
    .bind(a.campaign_id)
    .fetch_all(ex)
    .await
}

/// Regions of `level` under `prefix` in a county (optionally only `codes`), by code.
pub async fn regions_under(
    ex: impl PgExecutor<'_>,
    county: &str,
    prefix: &str,
    level: i16,
    codes: Option<&[String]>,
) -> sqlx::Result<Vec<NamedRegion>> {
    sqlx::query_as(
        "SELECT code::text AS code, name FROM regions
         WHERE county = $1::char(6) AND code LIKE $2 AND level = $3
           AND ($4::char(12)[] IS NULL OR code = ANY($4::char(12)[]))
         ORDER BY code",
    )
    .bind(county)
    .bind(super::like_prefix(prefix))
    .bind(level)
    .bind(codes)
    .fetch_all(ex)
    .await
}

/// Makes the rest of the transaction read one snapshot, so the figures of
/// one answer agree with each other while visits keep arriving.
pub async fn snapshot(conn: &mut sqlx::PgConnection) -> sqlx::Result<()> {
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(conn)
        .await?;
    Ok(())
}
