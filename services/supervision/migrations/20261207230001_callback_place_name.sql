-- The place a callback is about, by name (乡镇 + 村 as the visit or ledger
-- event carried it), so notices name the village instead of its code.
-- Empty for tasks made before names travelled: notices then show the code.
ALTER TABLE callbacks ADD COLUMN region_name text NOT NULL DEFAULT '';
