-- Wake the answer dispatcher as soon as a transaction that queued answers
-- commits (NOTIFY is delivered at commit, never for a rolled-back write), on
-- whichever replica it runs.
CREATE FUNCTION replies_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('petition_replies', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER replies_notify AFTER INSERT ON replies
    FOR EACH STATEMENT EXECUTE FUNCTION replies_notify();
