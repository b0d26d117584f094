-- Household edits (一户一档, issue 20): a version per household for
-- optimistic concurrency, and the history of every edit.
--
-- `version` counts edits of what UpdateHousehold changes (address, group,
-- phone, member count); a new household is version 1. Tag changes
-- (UpdateHouseholdTags, e.g. the petition bridge's 重点信访) do not move it,
-- so an admin's edit form is not refused for a tag someone else added.
ALTER TABLE households ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- One row per edit, written in the edit's transaction: who, when, which
-- fields, and the old and new values. The values include personal data
-- (phone numbers), so they are stored encrypted (AES-256-GCM, a JSON array
-- of {field, old, new}) and masked when shown; `fields` names the fields in
-- plain text so the history can be read without decrypting.
CREATE TABLE household_history (
    county          char(6)     NOT NULL,
    household_id    uuid        NOT NULL,
    -- The version this edit made (the household's version after it).
    version         bigint      NOT NULL,
    actor           text        NOT NULL,
    roles           text[]      NOT NULL,
    fields          text[]      NOT NULL,
    changes_cipher  bytea       NOT NULL,
    note            text        NOT NULL DEFAULT '',
    changed_at      timestamptz NOT NULL,
    PRIMARY KEY (county, household_id, version),
    FOREIGN KEY (county, household_id) REFERENCES households (county, household_id)
);
