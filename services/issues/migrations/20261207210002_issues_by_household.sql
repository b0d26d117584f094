-- A household's ledger items (一户一档, ListIssues by household_id), in id
-- order for paging.
CREATE INDEX issues_household ON issues (household_id, issue_id)
    WHERE household_id IS NOT NULL;
