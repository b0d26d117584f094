-- When the overdue notice (supervision.callback.overdue) was written for an
-- open callback past its due time: once per task, however many sweeps run.
ALTER TABLE callbacks ADD COLUMN overdue_notified_at timestamptz;

-- The sweeper's work list: open callbacks not yet announced as overdue, by due time.
CREATE INDEX callbacks_overdue_sweep ON callbacks (due_at)
    WHERE state = 'open' AND overdue_notified_at IS NULL;
