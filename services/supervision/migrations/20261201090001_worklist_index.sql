-- A supervisor's worklist (ListWorklist) at province scale (issue 9): the
-- caller's open callbacks, due first, found by supervisor alone — the
-- query has no county (a supervisor's id is theirs across counties), so
-- callbacks_worklist, which leads with county, could only be scanned whole.
-- In the query's order, so a page is the first rows of one index range.
CREATE INDEX callbacks_open_by_supervisor ON callbacks (supervisor_id, due_at, callback_id)
    WHERE state = 'open';
