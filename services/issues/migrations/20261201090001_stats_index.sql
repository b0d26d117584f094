-- Ledger statistics by region (GetIssueStatistics, the campaign summaries)
-- at province scale (issue 9): a county's or township's items as one range
-- of this index — county first, then the region code in pattern order so
-- `region_code LIKE '430426104%'` is a range — with every column the
-- statistics count included, so they are counted from the index alone.
-- The statistics queries filter on the county whenever the prefix names one.
CREATE INDEX issues_stats ON issues (county, region_code text_pattern_ops)
    INCLUDE (campaign_id, kind, category, state, disposition, resolved_in_time, deadline,
             ever_escalated, reopen_count, households_involved);
