-- Distributes Zoufang's tables over a Citus cluster, sharded by county.
--
-- Run once, on the Citus coordinator, in the Zoufang database, AFTER every
-- service has started once against the coordinator (so each has created its
-- schema and run its migrations) and BEFORE real traffic:
--
--   psql "postgres://…@coordinator/zoufang" -v ON_ERROR_STOP=1 -f deploy/citus/distribute.sql
--
-- One transaction: it distributes everything or nothing. It is not meant to
-- run twice (create_distributed_table refuses a table that already is one).
-- Tables that already hold rows are copied into their shards; afterwards
-- free the coordinator's local copies with
--   SELECT truncate_local_data_after_distributing_table('<schema>.<table>');
--
-- Layout (see README.md):
--   * Every service table keys on `county` (char(6), the first six digits of
--     the 12-digit region code) and is hash-distributed on it. Each service
--     schema is one colocation group: its first table starts the group
--     (colocate_with => 'none'), the rest join it. So one county's rows of
--     one service — and its outbox and inbox rows, written in the same
--     transaction as the change — sit on one shard: a county's transaction
--     is a single-node transaction, and joins on (county, …) run on one node.
--   * Small lookup tables, and the gateway's county-less tables, are
--     reference tables: a full copy on every node.
--   * The migrators' own bookkeeping (_sqlx_migrations and
--     _zf_runtime_migrations in every schema) stays a plain local table on
--     the coordinator, where the services run their migrations.
--   * Order matters: a table is distributed after every table its foreign
--     keys reference.
--
-- tests/tests/schema_keys.rs parses this file: every table of every service
-- schema must appear here exactly once (distributed on 'county', colocated
-- within its schema, or a reference table), and the reference tables must
-- be exactly the test's allow-list. A migration that adds a table must add
-- a line here.

-- The runtime's outbox has an AFTER INSERT trigger (pg_notify wakes the
-- relay) and the ledger's issue_timeline a BEFORE UPDATE/DELETE trigger
-- (append-only). Citus distributes tables with triggers only with this on;
-- both triggers then run on the worker that holds the shard. Consequence for
-- the outbox: the NOTIFY fires on the worker, where no relay listens, so the
-- relays fall back to their 1-second poll (see README.md). Set it for the
-- database too (ALTER DATABASE … SET citus.enable_unsafe_triggers = on) so
-- that a later migration touching these triggers is propagated.
SET citus.enable_unsafe_triggers = on;

-- Shards per distributed table: 32 (Citus's default) spreads ~100 counties
-- three or four to a shard; counties are never split across shards. Use a
-- multiple of the worker count; changing it later means re-sharding.
SET citus.shard_count = 32;

BEGIN;
-- Foreign keys between tables distributed in the same transaction need the
-- sequential mode.
SET LOCAL citus.multi_shard_modify_mode = 'sequential';

-- ---------------------------------------------------------------- registry
SELECT create_distributed_table('registry.regions', 'county', colocate_with => 'none');
SELECT create_distributed_table('registry.work_zones', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.work_zone_villages', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.households', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.cadres', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.campaigns', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.campaign_quotas', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.assignments', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.work_teams', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.work_team_members', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.visits', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.visit_items', 'county', colocate_with => 'registry.regions');
-- Progress counters, kept by the registry's statements that write
-- households and visits (store/progress.rs): colocated, so a county's
-- counters sit on the shard of its visits and those statements stay router
-- queries.
SELECT create_distributed_table('registry.progress_village_households', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.progress_households', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.progress_villages', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.progress_helped_tags', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.household_history', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.pii_access_audit', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.outbox', 'county', colocate_with => 'registry.regions');
SELECT create_distributed_table('registry.inbox', 'county', colocate_with => 'registry.regions');

-- ------------------------------------------------------------------ issues
SELECT create_distributed_table('issues.issues', 'county', colocate_with => 'none');
SELECT create_distributed_table('issues.issue_timeline', 'county', colocate_with => 'issues.issues');
SELECT create_distributed_table('issues.sla_rules', 'county', colocate_with => 'issues.issues');
SELECT create_distributed_table('issues.cadres', 'county', colocate_with => 'issues.issues');
SELECT create_distributed_table('issues.places', 'county', colocate_with => 'issues.issues');
SELECT create_distributed_table('issues.outbox', 'county', colocate_with => 'issues.issues');
SELECT create_distributed_table('issues.inbox', 'county', colocate_with => 'issues.issues');
-- Categories: a dozen built-in ones under county '000000' plus each county's
-- own, always read as county IN ('000000', $county): as a reference table
-- that is one local read on any node, never two shards.
SELECT create_reference_table('issues.categories');

-- ------------------------------------------------------------- supervision
SELECT create_distributed_table('supervision.teams', 'county', colocate_with => 'none');
SELECT create_distributed_table('supervision.team_members', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.sampling_policies', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.callbacks', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.callback_attempts', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.cadre_sampling', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.visit_facts', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.visit_fact_cadres', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.visit_fact_photos', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.cadre_risk', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.inspections', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.cadre_ledger', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.outbox', 'county', colocate_with => 'supervision.teams');
SELECT create_distributed_table('supervision.inbox', 'county', colocate_with => 'supervision.teams');

-- ------------------------------------------------------------------ notify
SELECT create_distributed_table('notify.recipients', 'county', colocate_with => 'none');
SELECT create_distributed_table('notify.preferences', 'county', colocate_with => 'notify.recipients');
SELECT create_distributed_table('notify.subscriptions', 'county', colocate_with => 'notify.recipients');
SELECT create_distributed_table('notify.notifications', 'county', colocate_with => 'notify.recipients');
SELECT create_distributed_table('notify.deliveries', 'county', colocate_with => 'notify.recipients');
SELECT create_distributed_table('notify.escalations', 'county', colocate_with => 'notify.recipients');
SELECT create_distributed_table('notify.open_items', 'county', colocate_with => 'notify.recipients');
SELECT create_distributed_table('notify.digests', 'county', colocate_with => 'notify.recipients');
SELECT create_distributed_table('notify.outbox', 'county', colocate_with => 'notify.recipients');
SELECT create_distributed_table('notify.inbox', 'county', colocate_with => 'notify.recipients');
-- Message templates: one row per kind (a dozen), province-wide, keyed by
-- kind alone; read for every notification.
SELECT create_reference_table('notify.templates');

-- ---------------------------------------------------------------- petition
SELECT create_distributed_table('petition.cases', 'county', colocate_with => 'none');
SELECT create_distributed_table('petition.case_log', 'county', colocate_with => 'petition.cases');
SELECT create_distributed_table('petition.seen_signatures', 'county', colocate_with => 'petition.cases');
SELECT create_distributed_table('petition.replies', 'county', colocate_with => 'petition.cases');
SELECT create_distributed_table('petition.outbox', 'county', colocate_with => 'petition.cases');
SELECT create_distributed_table('petition.inbox', 'county', colocate_with => 'petition.cases');
-- Source systems: a handful per county. Its key leads with county, but a
-- webhook names only the source, so source_system is unique across counties
-- (unique index sources_by_name) — a unique index a distributed table cannot
-- have without the county. As a reference table every webhook finds its
-- source (and signing secret) locally.
SELECT create_reference_table('petition.sources');

-- ----------------------------------------------------------------- gateway
-- The gateway's tables have no county (an account's scope may span
-- counties, or be the whole province). Accounts are small and read on every
-- request. Sessions and import jobs/errors are county-less too but NOT
-- reference data — they are here as a stop-gap (the test's allow-list says
-- so for each): they work as reference tables, at the price of every write
-- going to every node. See README.md for the alternatives.
SELECT create_reference_table('gateway.accounts');
SELECT create_reference_table('gateway.sessions');
SELECT create_reference_table('gateway.import_jobs');
SELECT create_reference_table('gateway.import_errors');
SELECT create_reference_table('gateway.import_credentials');
-- The sign-in throttle's tables (by client address, by account): the same
-- stop-gap, the same price on every failed sign-in.
SELECT create_reference_table('gateway.sign_in_throttle');
SELECT create_reference_table('gateway.sign_in_attempts');
-- The runtime gives every schema an outbox and an inbox, the gateway's too
-- (keyed by county like everywhere; the gateway publishes its revoked
-- sessions, under the county of the account's scope, 000000 when wider).
SELECT create_distributed_table('gateway.outbox', 'county', colocate_with => 'none');
SELECT create_distributed_table('gateway.inbox', 'county', colocate_with => 'gateway.outbox');

-- Nothing left behind: every table of the service schemas is now a Citus
-- table, except the migrators' bookkeeping. A new migration's table that is
-- missing above stops the script here (and the transaction rolls back).
DO $$
DECLARE
    missing text;
BEGIN
    SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY 1)
      INTO missing
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('registry', 'issues', 'supervision', 'notify', 'petition', 'gateway')
       AND c.relkind IN ('r', 'p')
       AND c.relname NOT IN ('_sqlx_migrations', '_zf_runtime_migrations')
       AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'not distributed: % (add them to deploy/citus/distribute.sql)', missing;
    END IF;
END;
$$;

COMMIT;
