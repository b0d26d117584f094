-- Retention (runtime::retention): the sweep finds published outbox rows and
-- inbox ids past their window by age, oldest first. Both columns only grow
-- with time, so these indexes take their inserts at the right edge.
CREATE INDEX outbox_created ON outbox (created_at);
CREATE INDEX inbox_received ON inbox (received_at);
