-- What the test consumer applied: one row per application of an event, so
-- a double application shows up as two rows.
CREATE TABLE applied (
    seq       bigserial PRIMARY KEY,
    event_id  uuid NOT NULL,
    visit_id  uuid NOT NULL
);
