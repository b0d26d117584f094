-- Progress counters (issue 9, scale): the figures of GetRegionProgress kept
-- per village by triggers, in the same transaction as the write that
-- changes them, so a township's or a county's progress reads a few hundred
-- counter rows instead of every visit (a county holds ~250k visits).
--
-- They reproduce the live queries exactly:
--   * progress_village_households: households registered, per village.
--   * progress_households: per campaign, village and household, its
--     non-disputed visits and those with help, so "distinct households
--     visited / helped" move only when a household's count leaves or
--     reaches zero.
--   * progress_villages: per campaign and village, every additive figure
--     (visits, overnight stays, help, items raised and resolved on the
--     spot, disputed visits, visits per mode, materials per name) and the
--     distinct-household figures above. A disputed visit counts only in
--     disputed_visits, its items nowhere, as in the live queries.
--   * progress_helped_tags: per campaign and village, helped households
--     grouped by their exact set of tag hashes, so "poor households helped"
--     is a sum over the sets that overlap the poverty tags' hashes (which
--     only the service can compute) — never a scan of households.
-- A village's counters are split over 16 slots, one per backend (process
-- id mod 16), so concurrent transactions in one village rarely wait on one
-- counter row; the queries sum the slots (a slot alone may even go
-- negative when a visit is taken back by another backend than counted it).
--
-- Triggers: row-level for inserted visits and items (RecordVisit writes one
-- visit and its items per statement: plain one-row upserts with cached
-- plans are the cheapest); statement-level with transition tables for
-- households inserted (batch registration and import) and for deletes, one
-- aggregated upsert per table in key order (no deadlock between
-- concurrent batches); row-level for the updates that matter (a visit
-- disputed, a household's tags or village changed). The functions run with the registry's schema as search_path,
-- whoever writes. TRUNCATE is not followed: after one, or after loading
-- with triggers disabled (session_replication_role = replica), run
-- SELECT registry.progress_rebuild().
--
-- Locks: a household whose helped status moves has its row read with FOR
-- SHARE after its progress_households row is written, so a concurrent tag
-- change (which holds the household row, then reads progress_households
-- without locking it) is either seen or sees this transaction's count.

CREATE TABLE progress_village_households (
    county        char(6)  NOT NULL,
    village_code  char(12) NOT NULL,
    slot          smallint NOT NULL,
    households    bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (county, village_code, slot)
);

CREATE TABLE progress_households (
    county         char(6)  NOT NULL,
    household_id   uuid     NOT NULL,
    campaign_id    uuid     NOT NULL,
    village_code   char(12) NOT NULL,
    visits         integer  NOT NULL DEFAULT 0,
    helped_visits  integer  NOT NULL DEFAULT 0,
    PRIMARY KEY (county, household_id, campaign_id, village_code)
);

CREATE TABLE progress_villages (
    county                  char(6)  NOT NULL,
    campaign_id             uuid     NOT NULL,
    village_code            char(12) NOT NULL,
    slot                    smallint NOT NULL,
    visits                  bigint   NOT NULL DEFAULT 0,
    households_visited      bigint   NOT NULL DEFAULT 0,
    overnight_stays         bigint   NOT NULL DEFAULT 0,
    households_helped       bigint   NOT NULL DEFAULT 0,
    help_cash_fen           bigint   NOT NULL DEFAULT 0,
    help_goods_value_fen    bigint   NOT NULL DEFAULT 0,
    items_raised            bigint   NOT NULL DEFAULT 0,
    items_resolved_on_spot  bigint   NOT NULL DEFAULT 0,
    disputed_visits         bigint   NOT NULL DEFAULT 0,
    -- {"<mode>": visits}: non-disputed visits per VisitMode.
    by_mode                 jsonb    NOT NULL DEFAULT '{}',
    -- {"<name>": quantity}: materials handed out on non-disputed visits.
    materials               jsonb    NOT NULL DEFAULT '{}',
    PRIMARY KEY (county, campaign_id, village_code, slot)
) WITH (fillfactor = 70);

CREATE TABLE progress_helped_tags (
    county        char(6)  NOT NULL,
    campaign_id   uuid     NOT NULL,
    village_code  char(12) NOT NULL,
    -- The household's tag_hashes (never empty: an untagged household is
    -- never a poor one, so it is not kept here).
    tag_hashes    bytea[]  NOT NULL,
    households    bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (county, campaign_id, village_code, tag_hashes)
);

-- One change to the counters: a visit counted (visits +1) or taken back
-- (-1) with its items, or a household's visited / helped status moving.
-- Amounts are signed.
CREATE TYPE progress_delta AS (
    county                char(6),
    campaign_id           uuid,
    village_code          char(12),
    household_id          uuid,
    disputed              boolean,
    visits                integer,
    helped                boolean,
    overnight             integer,
    help_cash_fen         bigint,
    help_goods_value_fen  bigint,
    mode                  smallint,
    -- {"<name>": quantity}.
    materials             jsonb,
    items                 bigint,
    items_on_spot         bigint,
    households_visited    integer,
    households_helped     integer
);

-- This backend's slot of a village's counters.
CREATE FUNCTION progress_slot() RETURNS smallint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (pg_backend_pid() & 15)::smallint
$$;

-- The sum of two {"key": number} maps; keys that reach zero are dropped.
CREATE FUNCTION progress_jsonb_add(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    k text;
    v text;
    total numeric;
    r jsonb := COALESCE(a, '{}'::jsonb);
BEGIN
    FOR k, v IN SELECT key, value FROM jsonb_each_text(COALESCE(b, '{}'::jsonb)) LOOP
        total := COALESCE((r->>k)::numeric, 0) + v::numeric;
        IF total = 0 THEN
            r := r - k;
        ELSE
            r := jsonb_set(r, ARRAY[k], to_jsonb(total));
        END IF;
    END LOOP;
    RETURN r;
END;
$$;

-- A visit's materials as {"<name>": quantity × dir}.
CREATE FUNCTION progress_materials(materials jsonb, dir integer) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    named jsonb := '{}'::jsonb;
BEGIN
    IF jsonb_typeof(materials) = 'array' AND jsonb_array_length(materials) > 0 THEN
        SELECT COALESCE(jsonb_object_agg(name, q), '{}'::jsonb) INTO named
          FROM (SELECT m->>'name' AS name, dir * sum((m->>'quantity')::numeric) AS q
                  FROM jsonb_array_elements(materials) m
                 GROUP BY 1) per_name;
    END IF;
    RETURN named;
END;
$$;

-- What one visit row contributes, times `dir` (+1 counted, -1 taken
-- back), with `items` / `on_spot` of its items (already signed).
CREATE FUNCTION progress_visit_delta(v visits, dir integer, items bigint, on_spot bigint)
RETURNS progress_delta
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
BEGIN
    RETURN ROW(
        v.county, v.campaign_id, v.village_code, v.household_id, v.disputed, dir,
        v.help_cash_fen + v.help_goods_value_fen > 0,
        CASE WHEN v.overnight_stay THEN dir ELSE 0 END,
        dir * v.help_cash_fen, dir * v.help_goods_value_fen, v.mode,
        progress_materials(v.materials, dir), items, on_spot, 0, 0)::progress_delta;
END;
$$;

-- One visit counted (dir +1, items none yet): a statement that wrote one
-- visit, as RecordVisit does, in plain single-row statements.
CREATE FUNCTION progress_count_visit(v visits, dir integer) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    counted constant boolean := NOT v.disputed;
    d_visits constant integer := CASE WHEN counted THEN dir ELSE 0 END;
    d_helped_visits constant integer :=
        CASE WHEN counted AND v.help_cash_fen + v.help_goods_value_fen > 0 THEN dir ELSE 0 END;
    now_visits integer;
    now_helped integer;
    d_visited integer := 0;
    d_helped integer := 0;
    d_modes jsonb := '{}'::jsonb;
    d_named jsonb := '{}'::jsonb;
BEGIN
    IF counted THEN
        INSERT INTO progress_households AS p
               (county, household_id, campaign_id, village_code, visits, helped_visits)
        VALUES (v.county, v.household_id, v.campaign_id, v.village_code, d_visits, d_helped_visits)
        ON CONFLICT (county, household_id, campaign_id, village_code) DO UPDATE
           SET visits = p.visits + excluded.visits,
               helped_visits = p.helped_visits + excluded.helped_visits
        RETURNING p.visits, p.helped_visits INTO now_visits, now_helped;
        d_visited := sign(now_visits) - sign(now_visits - d_visits);
        d_helped := sign(now_helped) - sign(now_helped - d_helped_visits);
        IF d_helped <> 0 THEN
            PERFORM 1 FROM households h
              WHERE h.county = v.county AND h.household_id = v.household_id
              FOR SHARE;
            INSERT INTO progress_helped_tags AS t
                   (county, campaign_id, village_code, tag_hashes, households)
            SELECT v.county, v.campaign_id, v.village_code, h.tag_hashes, d_helped
              FROM households h
             WHERE h.county = v.county AND h.household_id = v.household_id
               AND cardinality(h.tag_hashes) > 0
            ON CONFLICT (county, campaign_id, village_code, tag_hashes) DO UPDATE
               SET households = t.households + excluded.households;
        END IF;
        d_modes := jsonb_build_object(v.mode::text, dir);
        d_named := progress_materials(v.materials, dir);
    END IF;
    INSERT INTO progress_villages AS p
           (county, campaign_id, village_code, slot, visits, households_visited, overnight_stays,
            households_helped, help_cash_fen, help_goods_value_fen, disputed_visits, by_mode,
            materials)
    VALUES (v.county, v.campaign_id, v.village_code, progress_slot(), d_visits, d_visited,
            CASE WHEN v.overnight_stay THEN d_visits ELSE 0 END, d_helped,
            CASE WHEN counted THEN dir * v.help_cash_fen ELSE 0 END,
            CASE WHEN counted THEN dir * v.help_goods_value_fen ELSE 0 END,
            CASE WHEN counted THEN 0 ELSE dir END, d_modes, d_named)
    ON CONFLICT (county, campaign_id, village_code, slot) DO UPDATE
       SET visits = p.visits + excluded.visits,
           households_visited = p.households_visited + excluded.households_visited,
           overnight_stays = p.overnight_stays + excluded.overnight_stays,
           households_helped = p.households_helped + excluded.households_helped,
           help_cash_fen = p.help_cash_fen + excluded.help_cash_fen,
           help_goods_value_fen = p.help_goods_value_fen + excluded.help_goods_value_fen,
           disputed_visits = p.disputed_visits + excluded.disputed_visits,
           by_mode = CASE WHEN excluded.by_mode = '{}'::jsonb THEN p.by_mode
                          ELSE progress_jsonb_add(p.by_mode, excluded.by_mode) END,
           materials = CASE WHEN excluded.materials = '{}'::jsonb THEN p.materials
                            ELSE progress_jsonb_add(p.materials, excluded.materials) END;
END;
$$;

-- Applies any number of deltas in three set-based steps, each upsert in key
-- order: households (their visited / helped transitions become more
-- deltas), the tag sets of households whose helped status moved, then the
-- village rows.
CREATE FUNCTION progress_apply(deltas progress_delta[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    moved progress_delta[];
BEGIN
    IF cardinality(deltas) IS NULL OR cardinality(deltas) = 0 THEN
        RETURN;
    END IF;
    WITH d AS (
        SELECT county, household_id, campaign_id, village_code,
               COALESCE(sum(visits) FILTER (WHERE NOT disputed), 0)::integer AS dv,
               COALESCE(sum(visits) FILTER (WHERE NOT disputed AND helped), 0)::integer AS dh
          FROM unnest(deltas)
         GROUP BY 1, 2, 3, 4
    ), up AS (
        INSERT INTO progress_households AS p
               (county, household_id, campaign_id, village_code, visits, helped_visits)
        SELECT county, household_id, campaign_id, village_code, dv, dh
          FROM d WHERE dv <> 0 OR dh <> 0
         ORDER BY 1, 2, 3, 4
        ON CONFLICT (county, household_id, campaign_id, village_code) DO UPDATE
           SET visits = p.visits + excluded.visits,
               helped_visits = p.helped_visits + excluded.helped_visits
        RETURNING p.county, p.household_id, p.campaign_id, p.village_code, p.visits,
                  p.helped_visits
    )
    SELECT array_agg(ROW(
               d.county, d.campaign_id, d.village_code, d.household_id,
               false, 0, false, 0, 0, 0, NULL, NULL, 0, 0,
               sign(up.visits) - sign(up.visits - d.dv),
               sign(up.helped_visits) - sign(up.helped_visits - d.dh))::progress_delta)
      INTO moved
      FROM up JOIN d USING (county, household_id, campaign_id, village_code)
     WHERE sign(up.visits) <> sign(up.visits - d.dv)
        OR sign(up.helped_visits) <> sign(up.helped_visits - d.dh);

    IF moved IS NOT NULL THEN
        PERFORM 1 FROM households h
          WHERE (h.county, h.household_id) IN (
                  SELECT m.county, m.household_id FROM unnest(moved) m
                   WHERE m.households_helped <> 0)
          ORDER BY h.county, h.household_id
          FOR SHARE OF h;
        INSERT INTO progress_helped_tags AS t
               (county, campaign_id, village_code, tag_hashes, households)
        SELECT m.county, m.campaign_id, m.village_code, h.tag_hashes, sum(m.households_helped)
          FROM unnest(moved) m
          JOIN households h ON h.county = m.county AND h.household_id = m.household_id
         WHERE m.households_helped <> 0 AND cardinality(h.tag_hashes) > 0
         GROUP BY 1, 2, 3, 4
         ORDER BY 1, 2, 3, 4
        ON CONFLICT (county, campaign_id, village_code, tag_hashes) DO UPDATE
           SET households = t.households + excluded.households;
        deltas := deltas || moved;
    END IF;

    WITH d AS (
        SELECT * FROM unnest(deltas)
    ), modes AS (
        SELECT county, campaign_id, village_code, jsonb_object_agg(mode::text, n) AS by_mode
          FROM (SELECT county, campaign_id, village_code, mode, sum(visits) AS n
                  FROM d WHERE NOT disputed AND mode IS NOT NULL
                 GROUP BY 1, 2, 3, 4) per_mode
         WHERE n <> 0
         GROUP BY 1, 2, 3
    ), named AS (
        SELECT county, campaign_id, village_code, jsonb_object_agg(name, q) AS materials
          FROM (SELECT d.county, d.campaign_id, d.village_code, e.key AS name,
                       sum(e.value::numeric) AS q
                  FROM d CROSS JOIN LATERAL jsonb_each_text(COALESCE(d.materials, '{}'::jsonb)) e
                 WHERE NOT d.disputed
                 GROUP BY 1, 2, 3, 4) per_name
         WHERE q <> 0
         GROUP BY 1, 2, 3
    ), sums AS (
        SELECT county, campaign_id, village_code,
               COALESCE(sum(visits) FILTER (WHERE NOT disputed), 0) AS visits,
               sum(households_visited) AS households_visited,
               COALESCE(sum(overnight) FILTER (WHERE NOT disputed), 0) AS overnight_stays,
               sum(households_helped) AS households_helped,
               COALESCE(sum(help_cash_fen) FILTER (WHERE NOT disputed), 0) AS help_cash_fen,
               COALESCE(sum(help_goods_value_fen) FILTER (WHERE NOT disputed), 0)
                   AS help_goods_value_fen,
               COALESCE(sum(items) FILTER (WHERE NOT disputed), 0) AS items_raised,
               COALESCE(sum(items_on_spot) FILTER (WHERE NOT disputed), 0)
                   AS items_resolved_on_spot,
               COALESCE(sum(visits) FILTER (WHERE disputed), 0) AS disputed_visits
          FROM d
         GROUP BY 1, 2, 3
    )
    INSERT INTO progress_villages AS p
           (county, campaign_id, village_code, slot, visits, households_visited, overnight_stays,
            households_helped, help_cash_fen, help_goods_value_fen, items_raised,
            items_resolved_on_spot, disputed_visits, by_mode, materials)
    SELECT s.county, s.campaign_id, s.village_code, progress_slot(), s.visits,
           s.households_visited, s.overnight_stays, s.households_helped, s.help_cash_fen,
           s.help_goods_value_fen, s.items_raised, s.items_resolved_on_spot, s.disputed_visits,
           COALESCE(m.by_mode, '{}'::jsonb), COALESCE(n.materials, '{}'::jsonb)
      FROM sums s
      LEFT JOIN modes m USING (county, campaign_id, village_code)
      LEFT JOIN named n USING (county, campaign_id, village_code)
     ORDER BY 1, 2, 3
    ON CONFLICT (county, campaign_id, village_code, slot) DO UPDATE
       SET visits = p.visits + excluded.visits,
           households_visited = p.households_visited + excluded.households_visited,
           overnight_stays = p.overnight_stays + excluded.overnight_stays,
           households_helped = p.households_helped + excluded.households_helped,
           help_cash_fen = p.help_cash_fen + excluded.help_cash_fen,
           help_goods_value_fen = p.help_goods_value_fen + excluded.help_goods_value_fen,
           items_raised = p.items_raised + excluded.items_raised,
           items_resolved_on_spot = p.items_resolved_on_spot + excluded.items_resolved_on_spot,
           disputed_visits = p.disputed_visits + excluded.disputed_visits,
           by_mode = CASE WHEN excluded.by_mode = '{}'::jsonb THEN p.by_mode
                          ELSE progress_jsonb_add(p.by_mode, excluded.by_mode) END,
           materials = CASE WHEN excluded.materials = '{}'::jsonb THEN p.materials
                            ELSE progress_jsonb_add(p.materials, excluded.materials) END;
END;
$$;

-- ------------------------------------------------------------- visits

-- A visit's items come after it (in RecordVisit, in the same statement),
-- so a new visit counts with none; the items' trigger adds them. Row-level
-- on purpose: the hot path (RecordVisit, one visit per statement) runs one
-- call with cached plans, where a statement-level trigger reading its
-- transition table cost several times more (measured with
-- bench-record-visit and pg_stat_user_functions).
CREATE FUNCTION progress_visit_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM progress_count_visit(NEW, 1);
    RETURN NULL;
END;
$$;
CREATE TRIGGER progress_visit_inserted AFTER INSERT ON visits
    FOR EACH ROW EXECUTE FUNCTION progress_visit_inserted();

-- A deleted visit's items were deleted before it (foreign key), and taken
-- back by the items' trigger then.
CREATE FUNCTION progress_visits_deleted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM progress_apply(ARRAY(SELECT progress_visit_delta(r, -1, 0, 0) FROM removed r));
    RETURN NULL;
END;
$$;
CREATE TRIGGER progress_visits_deleted AFTER DELETE ON visits
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION progress_visits_deleted();

-- A visit disputed (or any counted column changed): take the old row back
-- with its items, count the new one with them.
CREATE FUNCTION progress_visit_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    n bigint;
    s bigint;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE resolved_on_spot) INTO n, s
      FROM visit_items WHERE county = OLD.county AND visit_id = OLD.visit_id;
    PERFORM progress_apply(ARRAY[progress_visit_delta(OLD, -1, -n, -s),
                                 progress_visit_delta(NEW, 1, n, s)]);
    RETURN NULL;
END;
$$;
CREATE TRIGGER progress_visit_updated
    AFTER UPDATE OF campaign_id, household_id, village_code, mode, overnight_stay,
                    help_cash_fen, help_goods_value_fen, materials, disputed ON visits
    FOR EACH ROW
    WHEN (OLD.disputed IS DISTINCT FROM NEW.disputed
          OR OLD.campaign_id IS DISTINCT FROM NEW.campaign_id
          OR OLD.household_id IS DISTINCT FROM NEW.household_id
          OR OLD.village_code IS DISTINCT FROM NEW.village_code
          OR OLD.mode IS DISTINCT FROM NEW.mode
          OR OLD.overnight_stay IS DISTINCT FROM NEW.overnight_stay
          OR OLD.help_cash_fen IS DISTINCT FROM NEW.help_cash_fen
          OR OLD.help_goods_value_fen IS DISTINCT FROM NEW.help_goods_value_fen
          OR OLD.materials IS DISTINCT FROM NEW.materials)
    EXECUTE FUNCTION progress_visit_updated();

-- -------------------------------------------------------- visit items

-- A new item counts on its visit's village (unless the visit is disputed).
-- Row-level for the same reason as the visits' insert trigger: a visit's
-- two or three items cost two or three one-row upserts with cached plans.
CREATE FUNCTION progress_item_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO progress_villages AS p
           (county, campaign_id, village_code, slot, items_raised, items_resolved_on_spot)
    SELECT v.county, v.campaign_id, v.village_code, progress_slot(), 1,
           CASE WHEN NEW.resolved_on_spot THEN 1 ELSE 0 END
      FROM visits v
     WHERE v.county = NEW.county AND v.visit_id = NEW.visit_id AND NOT v.disputed
    ON CONFLICT (county, campaign_id, village_code, slot) DO UPDATE
       SET items_raised = p.items_raised + excluded.items_raised,
           items_resolved_on_spot = p.items_resolved_on_spot + excluded.items_resolved_on_spot;
    RETURN NULL;
END;
$$;
CREATE TRIGGER progress_item_inserted AFTER INSERT ON visit_items
    FOR EACH ROW EXECUTE FUNCTION progress_item_inserted();

-- Deleted items (rare: a visit taken back) are taken back per statement,
-- one upsert per village, of the items of non-disputed visits.
CREATE FUNCTION progress_items_deleted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO progress_villages AS p
           (county, campaign_id, village_code, slot, items_raised, items_resolved_on_spot)
    SELECT v.county, v.campaign_id, v.village_code, progress_slot(), -count(*),
           -count(*) FILTER (WHERE i.resolved_on_spot)
      FROM removed i JOIN visits v ON v.county = i.county AND v.visit_id = i.visit_id
     WHERE NOT v.disputed
     GROUP BY 1, 2, 3
     ORDER BY 1, 2, 3
    ON CONFLICT (county, campaign_id, village_code, slot) DO UPDATE
       SET items_raised = p.items_raised + excluded.items_raised,
           items_resolved_on_spot = p.items_resolved_on_spot + excluded.items_resolved_on_spot;
    RETURN NULL;
END;
$$;
CREATE TRIGGER progress_items_deleted AFTER DELETE ON visit_items
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION progress_items_deleted();

CREATE FUNCTION progress_item_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO progress_villages AS p
           (county, campaign_id, village_code, slot, items_raised, items_resolved_on_spot)
    SELECT v.county, v.campaign_id, v.village_code, progress_slot(), sum(x.n), sum(x.s)
      FROM (VALUES (OLD.county, OLD.visit_id, -1, CASE WHEN OLD.resolved_on_spot THEN -1 ELSE 0 END),
                   (NEW.county, NEW.visit_id, 1, CASE WHEN NEW.resolved_on_spot THEN 1 ELSE 0 END))
           AS x(county, visit_id, n, s)
      JOIN visits v ON v.county = x.county AND v.visit_id = x.visit_id
     WHERE NOT v.disputed
     GROUP BY 1, 2, 3
     ORDER BY 1, 2, 3
    ON CONFLICT (county, campaign_id, village_code, slot) DO UPDATE
       SET items_raised = p.items_raised + excluded.items_raised,
           items_resolved_on_spot = p.items_resolved_on_spot + excluded.items_resolved_on_spot;
    RETURN NULL;
END;
$$;
CREATE TRIGGER progress_item_updated
    AFTER UPDATE OF county, visit_id, resolved_on_spot ON visit_items
    FOR EACH ROW
    WHEN (OLD.county IS DISTINCT FROM NEW.county
          OR OLD.visit_id IS DISTINCT FROM NEW.visit_id
          OR OLD.resolved_on_spot IS DISTINCT FROM NEW.resolved_on_spot)
    EXECUTE FUNCTION progress_item_updated();

-- --------------------------------------------------------- households

CREATE FUNCTION progress_households_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO progress_village_households AS p (county, village_code, slot, households)
        SELECT county, village_code, progress_slot(), count(*)
          FROM added GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (county, village_code, slot) DO UPDATE
           SET households = p.households + excluded.households;
    ELSE
        INSERT INTO progress_village_households AS p (county, village_code, slot, households)
        SELECT county, village_code, progress_slot(), -count(*)
          FROM removed GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (county, village_code, slot) DO UPDATE
           SET households = p.households + excluded.households;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER progress_households_inserted AFTER INSERT ON households
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION progress_households_changed();
CREATE TRIGGER progress_households_deleted AFTER DELETE ON households
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION progress_households_changed();

-- A household moved to another village (counted there from now on; its
-- visits keep the village they were made in), or its tags changed (its
-- helped campaigns move from the old tag set to the new one). The UPDATE
-- holds the household row, so a visit whose helped status moves meanwhile
-- waits for it (see the lock note at the top).
CREATE FUNCTION progress_household_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF OLD.county IS DISTINCT FROM NEW.county
       OR OLD.village_code IS DISTINCT FROM NEW.village_code THEN
        INSERT INTO progress_village_households AS p (county, village_code, slot, households)
        SELECT x.county, x.village_code, progress_slot(), x.n
          FROM (VALUES (OLD.county, OLD.village_code, -1), (NEW.county, NEW.village_code, 1))
               AS x(county, village_code, n)
         ORDER BY 1, 2
        ON CONFLICT (county, village_code, slot) DO UPDATE
           SET households = p.households + excluded.households;
    END IF;
    IF OLD.tag_hashes IS DISTINCT FROM NEW.tag_hashes THEN
        INSERT INTO progress_helped_tags AS t
               (county, campaign_id, village_code, tag_hashes, households)
        SELECT ph.county, ph.campaign_id, ph.village_code, x.tags, sum(x.n)
          FROM progress_households ph
         CROSS JOIN (VALUES (OLD.tag_hashes, -1), (NEW.tag_hashes, 1)) AS x(tags, n)
         WHERE ph.county = OLD.county AND ph.household_id = OLD.household_id
           AND ph.helped_visits > 0 AND cardinality(x.tags) > 0
         GROUP BY 1, 2, 3, 4
         ORDER BY 1, 2, 3, 4
        ON CONFLICT (county, campaign_id, village_code, tag_hashes) DO UPDATE
           SET households = t.households + excluded.households;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER progress_household_updated
    AFTER UPDATE OF county, village_code, tag_hashes ON households
    FOR EACH ROW
    WHEN (OLD.county IS DISTINCT FROM NEW.county
          OR OLD.village_code IS DISTINCT FROM NEW.village_code
          OR OLD.tag_hashes IS DISTINCT FROM NEW.tag_hashes)
    EXECUTE FUNCTION progress_household_updated();

-- ------------------------------------------------------------- rebuild

-- Recomputes every counter from the tables (all in slot 0), with writes to
-- households, visits and items held off meanwhile. Run after a bulk load
-- with triggers disabled; the tests compare it with what the triggers kept.
CREATE FUNCTION progress_rebuild() RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    LOCK TABLE households, visits, visit_items IN SHARE MODE;
    TRUNCATE progress_village_households, progress_households, progress_villages,
             progress_helped_tags;

    INSERT INTO progress_village_households (county, village_code, slot, households)
    SELECT county, village_code, 0, count(*) FROM households GROUP BY 1, 2;

    INSERT INTO progress_households
           (county, household_id, campaign_id, village_code, visits, helped_visits)
    SELECT county, household_id, campaign_id, village_code,
           count(*) FILTER (WHERE NOT disputed),
           count(*) FILTER (WHERE NOT disputed AND help_cash_fen + help_goods_value_fen > 0)
      FROM visits
     GROUP BY 1, 2, 3, 4;

    INSERT INTO progress_helped_tags (county, campaign_id, village_code, tag_hashes, households)
    SELECT p.county, p.campaign_id, p.village_code, h.tag_hashes, count(*)
      FROM progress_households p
      JOIN households h ON h.county = p.county AND h.household_id = p.household_id
     WHERE p.helped_visits > 0 AND cardinality(h.tag_hashes) > 0
     GROUP BY 1, 2, 3, 4;

    INSERT INTO progress_villages
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
      LEFT JOIN named n USING (county, campaign_id, village_code);
END;
$$;

-- Counters for what is already recorded.
SELECT progress_rebuild();
