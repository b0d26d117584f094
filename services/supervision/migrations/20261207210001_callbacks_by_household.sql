-- A household's callbacks (一户一档, ListCallbacks by household_id), in
-- id order for paging.
CREATE INDEX callbacks_household ON callbacks (household_id, callback_id)
    WHERE household_id IS NOT NULL;
