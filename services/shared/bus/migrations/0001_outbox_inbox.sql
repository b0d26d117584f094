-- Runtime tables every service carries in its own schema: the transactional
-- outbox (events written in the same transaction as the state change) and
-- the inbox (event ids already applied by this service's consumers).
-- Keys lead with the 6-digit county code so Citus can distribute them.

CREATE TABLE outbox (
    county        char(6)     NOT NULL,
    seq           bigserial   NOT NULL,
    event_id      uuid        NOT NULL,
    routing_key   text        NOT NULL,
    subject       text        NOT NULL,
    payload       bytea       NOT NULL,
    trace_headers jsonb       NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    unroutable    boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (county, seq)
);

-- The relay's work list: unpublished rows in commit order.
CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;

-- Wake the relay as soon as a transaction that wrote events commits
-- (NOTIFY is delivered at commit, never for a rolled-back write).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE inbox (
    county       char(6)     NOT NULL,
    event_id     uuid        NOT NULL,
    routing_key  text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, event_id)
);
