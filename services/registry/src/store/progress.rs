//! Progress queries ("访的程度怎样了"): a cadre's actuals against quotas, and a
//! region's or work zone's figures grouped by child (township or village),
//! and the per-village counters those read, kept here.
//!
//! Region figures are computed by a handful of grouped queries over one
//! [`Area`], each grouping by `left(village_code, key_len)`, so a county with
//! 20 townships or a township with 30 villages costs the same few round trips.
//! Every query filters on the county first (the distribution column).
//!
//! The region queries read per-village counters (`progress_*` tables, see
//! migration `20261201090001_progress_counters.sql`): a county's answer sums
//! a few thousand counter rows instead of scanning its ~250k visits (issue 9:
//! ≤ 50 ms p95 for a township, ≤ 200 ms for a county on a province of 30M
//! visits). The statements that write households and visits keep them in
//! the same statement (as data-modifying CTEs) from the pieces below: a
//! visit's [`Tally`] ([`push_visit_tally`]), households registered
//! ([`count_registered!`]) and a household's tags changed
//! ([`move_helped_tags!`]). [`rebuild`] recomputes them from the tables
//! after a bulk load that bypassed those statements.
//!
//! A village's counters are split over 16 slots, one per backend
//! (`pg_backend_pid() & 15`), so concurrent transactions in one village
//! rarely wait on one counter row; the queries sum the slots (a slot alone
//! may go negative when a visit is taken back by another backend than
//! counted it). Upserts that touch several rows go in key order (no deadlock
//! between concurrent batches).
//!
//! Locks: a household whose helped status moves has its row read with FOR
//! SHARE (for its tag set), and a tag change holds the household row
//! (`households::lock`) before it reads `progress_households`, so each sees
//! the other or waits for it.
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::tally::Tally;

/// This backend's slot of a village's counters (written out as is in
/// [`count_registered!`]).
macro_rules! slot {
    () => {
        "(pg_backend_pid() & 15)::smallint"
    };
}

/// A CTE `counted` adding the households of the data-modifying CTE `$added`
/// (returning `county, village_code`) to `progress_village_households`. For
/// the statements that register households.
macro_rules! count_registered {
    ($added:literal) => {
        concat!(
            "counted AS (
            INSERT INTO progress_village_households AS p (county, village_code, slot, households)
            SELECT county, village_code, (pg_backend_pid() & 15)::smallint, count(*)
              FROM ",
            $added,
            " GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (county, village_code, slot) DO UPDATE
               SET households = p.households + excluded.households
         )"
        )
    };
}

/// A CTE `moved` moving a household's helped campaigns from its old tag set
/// (`$old`, a CTE or table returning `tag_hashes` as the statement found
/// them) to its new one (`$new`, returning `county, household_id,
/// tag_hashes`, e.g. the UPDATE's RETURNING). The household row must be held
/// (`households::lock`) before the statement starts.
macro_rules! move_helped_tags {
    ($old:literal, $new:literal) => {
        concat!(
            "moved AS (
            INSERT INTO progress_helped_tags AS t
                   (county, campaign_id, village_code, tag_hashes, households)
            SELECT ph.county, ph.campaign_id, ph.village_code, x.tags, sum(x.n)
              FROM ",
            $new,
            " AS c
              JOIN progress_households ph
                ON ph.county = c.county AND ph.household_id = c.household_id
             CROSS JOIN LATERAL (SELECT o.tag_hashes, -1 FROM ",
            $old,
            " AS o UNION ALL SELECT c.tag_hashes, 1) AS x(tags, n)
             WHERE ph.helped_visits > 0 AND cardinality(x.tags) > 0
             GROUP BY 1, 2, 3, 4
            HAVING sum(x.n) <> 0
             ORDER BY 1, 2, 3, 4
            ON CONFLICT (county, campaign_id, village_code, tag_hashes) DO UPDATE
               SET households = t.households + excluded.households
         )"
        )
    };
}

pub(crate) use {count_registered, move_helped_tags};

/// Pushes the CTEs (each preceded by `, `) that apply `t` to the counters of
/// the visit returned by the CTE `gate` (`county, campaign_id, household_id,
/// village_code`; no row, no change): the household's counts
/// (`progress_households`), whose visited / helped transitions move the
/// village's distinct-household figures and, for a helped status moving,
/// the household's tag set (`progress_helped_tags`, read with the household
/// row held FOR SHARE); then the village's row (`progress_villages`).
pub fn push_visit_tally(query: &mut QueryBuilder<Postgres>, t: &Tally, gate: &str) {
    query.push(format_args!(
        ", progress_household AS (
            INSERT INTO progress_households AS p
                   (county, household_id, campaign_id, village_code, visits, helped_visits)
            SELECT county, household_id, campaign_id, village_code, "
    ));
    query.push_bind(t.visits).push("::int, ");
    query.push_bind(t.helped_visits).push(format_args!(
        "::int FROM {gate}
            ON CONFLICT (county, household_id, campaign_id, village_code) DO UPDATE
               SET visits = p.visits + excluded.visits,
                   helped_visits = p.helped_visits + excluded.helped_visits
            RETURNING p.county, p.household_id, p.campaign_id, p.village_code,
                      sign(p.visits) - sign(p.visits - "
    ));
    query.push_bind(t.visits).push(
        "::int) AS visited,
                      sign(p.helped_visits) - sign(p.helped_visits - ",
    );
    query.push_bind(t.helped_visits).push(
        "::int) AS helped
         ), helped_household AS (
            SELECT ph.county, ph.campaign_id, ph.village_code, ph.helped, h.tag_hashes
              FROM progress_household ph
              JOIN households h ON h.county = ph.county AND h.household_id = ph.household_id
             WHERE ph.helped <> 0
               FOR SHARE OF h
         ), helped_tags AS (
            INSERT INTO progress_helped_tags AS t
                   (county, campaign_id, village_code, tag_hashes, households)
            SELECT county, campaign_id, village_code, tag_hashes, helped
              FROM helped_household WHERE cardinality(tag_hashes) > 0
            ON CONFLICT (county, campaign_id, village_code, tag_hashes) DO UPDATE
               SET households = t.households + excluded.households
         ), progress_village AS (
            INSERT INTO progress_villages AS p
                   (county, campaign_id, village_code, slot, visits, households_visited,
                    overnight_stays, households_helped, help_cash_fen, help_goods_value_fen,
                    items_raised, items_resolved_on_spot, disputed_visits, by_mode, materials)
            SELECT county, campaign_id, village_code, ",
    );
    query.push(slot!()).push(", ");
    query.push_bind(i64::from(t.visits)).push(", visited, ");
    query.push_bind(t.overnight_stays).push(", helped, ");
    query.push_bind(t.help_cash_fen).push(", ");
    query.push_bind(t.help_goods_value_fen).push(", ");
    query.push_bind(t.items_raised).push(", ");
    query.push_bind(t.items_resolved_on_spot).push(", ");
    query.push_bind(i64::from(t.disputed_visits)).push(", ");
    query.push_bind(json_map(&t.by_mode)).push("::jsonb, ");
    query.push_bind(json_map(&t.materials)).push(
        "::jsonb
              FROM progress_household
            ON CONFLICT (county, campaign_id, village_code, slot) DO UPDATE
               SET visits = p.visits + excluded.visits,
                   households_visited = p.households_visited + excluded.households_visited,
                   overnight_stays = p.overnight_stays + excluded.overnight_stays,
                   households_helped = p.households_helped + excluded.households_helped,
                   help_cash_fen = p.help_cash_fen + excluded.help_cash_fen,
                   help_goods_value_fen = p.help_goods_value_fen + excluded.help_goods_value_fen,
                   items_raised = p.items_raised + excluded.items_raised,
                   items_resolved_on_spot =
                       p.items_resolved_on_spot + excluded.items_resolved_on_spot,
                   disputed_visits = p.disputed_visits + excluded.disputed_visits,
                   by_mode = CASE WHEN excluded.by_mode = '{}'::jsonb THEN p.by_mode
                                  ELSE progress_jsonb_add(p.by_mode, excluded.by_mode) END,
                   materials = CASE WHEN excluded.materials = '{}'::jsonb THEN p.materials
                                    ELSE progress_jsonb_add(p.materials, excluded.materials) END
         )",
    );
}

fn json_map(map: &std::collections::BTreeMap<String, i64>) -> serde_json::Value {
    serde_json::Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(*v)))
            .collect(),
    )
}

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
/// counters the household registrations keep).
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
/// the per-village counters (`progress_villages`) that recording and
/// disputing visits keep in the writing statement; a child appears when it has a
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

/// Recomputes every counter from the tables (all in slot 0), with writes to
/// households, visits and items held off meanwhile: after a bulk load that
/// bypassed the service's statements (`tests/bench/scale.rs` loads with
/// COPY). Whole-database; run it in a transaction of its own.
pub async fn rebuild(conn: &mut PgConnection) -> sqlx::Result<()> {
    for statement in REBUILD {
        sqlx::query(*statement).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The statements of [`rebuild`], in order.
const REBUILD: &[&str] = &[
    "LOCK TABLE households, visits, visit_items IN SHARE MODE",
    "TRUNCATE progress_village_households, progress_households, progress_villages,
              progress_helped_tags",
    "INSERT INTO progress_village_households (county, village_code, slot, households)
     SELECT county, village_code, 0, count(*) FROM households GROUP BY 1, 2",
    "INSERT INTO progress_households
            (county, household_id, campaign_id, village_code, visits, helped_visits)
     SELECT county, household_id, campaign_id, village_code,
            count(*) FILTER (WHERE NOT disputed),
            count(*) FILTER (WHERE NOT disputed AND help_cash_fen + help_goods_value_fen > 0)
       FROM visits
      GROUP BY 1, 2, 3, 4",
    "INSERT INTO progress_helped_tags (county, campaign_id, village_code, tag_hashes, households)
     SELECT p.county, p.campaign_id, p.village_code, h.tag_hashes, count(*)
       FROM progress_households p
       JOIN households h ON h.county = p.county AND h.household_id = p.household_id
      WHERE p.helped_visits > 0 AND cardinality(h.tag_hashes) > 0
      GROUP BY 1, 2, 3, 4",
    "INSERT INTO progress_villages
            (county, campaign_id, village_code, slot, visits, households_visited, overnight_stays,
             households_helped, help_cash_fen, help_goods_value_fen, items_raised,
             items_resolved_on_spot, disputed_visits, by_mode, materials)
     WITH items AS (
         SELECT county, visit_id, count(*) AS n, count(*) FILTER (WHERE resolved_on_spot) AS s
           FROM visit_items GROUP BY 1, 2
     ), per_mode AS (
         SELECT v.county, v.campaign_id, v.village_code, v.mode, v.disputed,
                count(*) AS visits,
                count(*) FILTER (WHERE v.overnight_stay) AS overnight_stays,
                sum(v.help_cash_fen) AS help_cash_fen,
                sum(v.help_goods_value_fen) AS help_goods_value_fen,
                COALESCE(sum(i.n), 0) AS items, COALESCE(sum(i.s), 0) AS on_spot
           FROM visits v LEFT JOIN items i ON i.county = v.county AND i.visit_id = v.visit_id
          GROUP BY 1, 2, 3, 4, 5
     ), per_village AS (
         SELECT county, campaign_id, village_code,
                COALESCE(sum(visits) FILTER (WHERE NOT disputed), 0) AS visits,
                COALESCE(sum(overnight_stays) FILTER (WHERE NOT disputed), 0) AS overnight_stays,
                COALESCE(sum(help_cash_fen) FILTER (WHERE NOT disputed), 0) AS help_cash_fen,
                COALESCE(sum(help_goods_value_fen) FILTER (WHERE NOT disputed), 0)
                    AS help_goods_value_fen,
                COALESCE(sum(items) FILTER (WHERE NOT disputed), 0) AS items_raised,
                COALESCE(sum(on_spot) FILTER (WHERE NOT disputed), 0) AS items_resolved_on_spot,
                COALESCE(sum(visits) FILTER (WHERE disputed), 0) AS disputed_visits,
                COALESCE(jsonb_object_agg(mode::text, visits) FILTER (WHERE NOT disputed),
                         '{}'::jsonb) AS by_mode
           FROM per_mode
          GROUP BY 1, 2, 3
     ), reached AS (
         SELECT county, campaign_id, village_code,
                count(*) FILTER (WHERE visits > 0) AS visited,
                count(*) FILTER (WHERE helped_visits > 0) AS helped
           FROM progress_households GROUP BY 1, 2, 3
     ), named AS (
         SELECT county, campaign_id, village_code, jsonb_object_agg(name, q) AS materials
           FROM (SELECT v.county, v.campaign_id, v.village_code, m->>'name' AS name,
                        sum((m->>'quantity')::numeric) AS q
                   FROM visits v
                  CROSS JOIN LATERAL jsonb_array_elements(
                        CASE WHEN jsonb_typeof(v.materials) = 'array' THEN v.materials
                             ELSE '[]'::jsonb END) m
                  WHERE NOT v.disputed
                  GROUP BY 1, 2, 3, 4) per_name
          WHERE q <> 0
          GROUP BY 1, 2, 3
     )
     SELECT v.county, v.campaign_id, v.village_code, 0, v.visits, COALESCE(h.visited, 0),
            v.overnight_stays, COALESCE(h.helped, 0), v.help_cash_fen, v.help_goods_value_fen,
            v.items_raised, v.items_resolved_on_spot, v.disputed_visits, v.by_mode,
            COALESCE(n.materials, '{}'::jsonb)
       FROM per_village v
       LEFT JOIN reached h USING (county, campaign_id, village_code)
       LEFT JOIN named n USING (county, campaign_id, village_code)",
];
