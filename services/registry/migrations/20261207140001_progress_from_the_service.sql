-- Progress counters (issue 19, item 5): one source of truth. The counters
-- of 20261201090001 are now kept by the registry's own statements, in the
-- statement that writes households, visits and their items
-- (`src/store/progress.rs`, applied from `store/households.rs` and
-- `store/visits.rs`), so the triggers that kept them, and the functions
-- only they used, go. The rebuild moves to the service too
-- (`store::progress::rebuild`). Kept: the tables, and the jsonb sum the
-- service's upserts use.

DROP TRIGGER progress_visit_inserted ON visits;
DROP TRIGGER progress_visits_deleted ON visits;
DROP TRIGGER progress_visit_updated ON visits;
DROP TRIGGER progress_item_inserted ON visit_items;
DROP TRIGGER progress_items_deleted ON visit_items;
DROP TRIGGER progress_item_updated ON visit_items;
DROP TRIGGER progress_households_inserted ON households;
DROP TRIGGER progress_households_deleted ON households;
DROP TRIGGER progress_household_updated ON households;

DROP FUNCTION progress_visit_inserted();
DROP FUNCTION progress_visits_deleted();
DROP FUNCTION progress_visit_updated();
DROP FUNCTION progress_item_inserted();
DROP FUNCTION progress_items_deleted();
DROP FUNCTION progress_item_updated();
DROP FUNCTION progress_households_changed();
DROP FUNCTION progress_household_updated();
DROP FUNCTION progress_rebuild();
DROP FUNCTION progress_apply(progress_delta[]);
DROP FUNCTION progress_count_visit(visits, integer);
DROP FUNCTION progress_visit_delta(visits, integer, bigint, bigint);
DROP FUNCTION progress_materials(jsonb, integer);
DROP FUNCTION progress_slot();
DROP TYPE progress_delta;
