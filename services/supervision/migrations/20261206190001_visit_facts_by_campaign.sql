-- ListVisitSignals reads a campaign's visits newest first, a page at a
-- time. Without this index it sorted every visit of the county's campaign
-- (~250k in a county) for each page; with it, a page is a backward range
-- read that stops at the page size. (With a cadre, it reads the cadre's
-- rows of visit_fact_cadres, newest first, instead.)
CREATE INDEX visit_facts_by_campaign ON visit_facts (county, campaign_id, started_at, visit_id);

-- When supervision stored a visit's facts (and checked it): how far the
-- fabrication check runs behind the visits, for operators and for
-- bench-pipeline. Rows already stored get the migration's time.
ALTER TABLE visit_facts ADD COLUMN stored_at timestamptz NOT NULL DEFAULT now();
