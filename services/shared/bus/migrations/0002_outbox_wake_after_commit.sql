-- A writer may wake the relays itself right after its commit instead of the
-- trigger notifying inside the transaction (outbox::insert_deferred_wake and
-- outbox::wake): a NOTIFY queued in a transaction takes a database-wide lock
-- held through the commit, so every transaction that notifies commits alone,
-- each waiting for its own WAL flush. It says so with a transaction-local
-- setting; without it (every other writer) the trigger notifies as before.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('zoufang.outbox_wake', true) IS DISTINCT FROM 'after_commit' THEN
        PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
    END IF;
    RETURN NULL;
END;
$$;
