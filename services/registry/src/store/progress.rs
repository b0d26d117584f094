//! Progress queries ("访的程度怎样了"): a cadre's actuals against quotas, and a
//! region's or work zone's figures grouped by child (township or village).
//!
//! Region figures are computed by a handful of grouped queries over one
//! [`Area`], each grouping by `left(village_code, key_len)`, so a county with
//! 20 townships or a township with 30 villages costs the same few round trips.
//! Every query filters on the county first (the distribution column).
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
             WHERE county = $1 AND campaign_id = $2 AND cadre_ids @> ARRAY[$3::uuid]
         ), per_household AS (
             SELECT v.household_id, sum(v.help)::bigint AS help, bool_or(h.is_key) AS is_key
             FROM v JOIN households h ON h.county = $1 AND h.household_id = v.household_id
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
macro_rules! area_filter {
    ($alias:literal) => {
        concat!(
            $alias,
            "county = $1 AND ",
            $alias,
            "village_code LIKE $2 AND ($3::char(12)[] IS NULL OR ",
            $alias,
            "village_code = ANY($3::char(12)[]))"
        )
    };
}

/// Households registered, per child of the area.
pub async fn household_counts(
    ex: impl PgExecutor<'_>,
    a: &Area,
) -> sqlx::Result<Vec<HouseholdCount>> {
    sqlx::query_as(concat!(
        "SELECT left(village_code, $4) AS key, count(*) AS households FROM households WHERE ",
        area_filter!(""),
        " GROUP BY 1 ORDER BY 1"
    ))
    .bind(&a.county)
    .bind(super::like_prefix(&a.prefix))
    .bind(&a.villages)
    .bind(a.key_len)
    .fetch_all(ex)
    .await
}

/// Visit, help, item and dispute figures per child of the area. Items are
/// counted per visit in a lateral subquery so the join does not multiply visits.
pub async fn visit_counts(ex: impl PgExecutor<'_>, a: &Area) -> sqlx::Result<Vec<VisitCounts>> {
    sqlx::query_as(concat!(
        "SELECT left(v.village_code, $4) AS key,
                count(*) FILTER (WHERE NOT v.disputed) AS visits,
                count(DISTINCT v.household_id) FILTER (WHERE NOT v.disputed) AS households_visited,
                count(*) FILTER (WHERE NOT v.disputed AND v.overnight_stay) AS overnight_stays,
                count(DISTINCT v.household_id) FILTER (
                    WHERE NOT v.disputed AND v.help_cash_fen + v.help_goods_value_fen > 0
                ) AS households_helped,
                COALESCE(sum(v.help_cash_fen) FILTER (WHERE NOT v.disputed), 0)::bigint
                    AS help_cash_fen,
                COALESCE(sum(v.help_goods_value_fen) FILTER (WHERE NOT v.disputed), 0)::bigint
                    AS help_goods_value_fen,
                COALESCE(sum(i.raised) FILTER (WHERE NOT v.disputed), 0)::bigint AS items_raised,
                COALESCE(sum(i.on_spot) FILTER (WHERE NOT v.disputed), 0)::bigint
                    AS items_resolved_on_spot,
                count(*) FILTER (WHERE v.disputed) AS disputed_visits
         FROM visits v
         CROSS JOIN LATERAL (
             SELECT count(*) AS raised, count(*) FILTER (WHERE vi.resolved_on_spot) AS on_spot
             FROM visit_items vi WHERE vi.county = v.county AND vi.visit_id = v.visit_id
         ) i
         WHERE v.campaign_id = $5 AND ",
        area_filter!("v."),
        " GROUP BY 1 ORDER BY 1"
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
/// include one of `tag_hashes` (keyed hashes of the poverty tags), per child.
pub async fn poor_helped_counts(
    ex: impl PgExecutor<'_>,
    a: &Area,
    tag_hashes: &[Vec<u8>],
) -> sqlx::Result<Vec<KeyCount>> {
    sqlx::query_as(concat!(
        "SELECT left(v.village_code, $4) AS key, count(DISTINCT v.household_id) AS households
         FROM visits v
         JOIN households h ON h.county = v.county AND h.household_id = v.household_id
         WHERE v.campaign_id = $5 AND NOT v.disputed
           AND v.help_cash_fen + v.help_goods_value_fen > 0
           AND h.tag_hashes && $6::bytea[] AND ",
        area_filter!("v."),
        " GROUP BY 1 ORDER BY 1"
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
        "SELECT left(village_code, $4) AS key, mode, count(*) AS visits FROM visits
         WHERE campaign_id = $5 AND NOT disputed AND ",
        area_filter!(""),
        " GROUP BY 1, 2 ORDER BY 1, 2"
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
        "SELECT left(v.village_code, $4) AS key, m->>'name' AS name,
                sum((m->>'quantity')::bigint)::bigint AS quantity
         FROM visits v CROSS JOIN LATERAL jsonb_array_elements(v.materials) AS m
         WHERE v.campaign_id = $5 AND NOT v.disputed AND ",
        area_filter!("v."),
        " GROUP BY 1, 2 ORDER BY 1, 2"
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
         WHERE county = $1 AND code LIKE $2 AND level = $3
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
