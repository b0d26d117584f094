-- How the fabrication check finds a new visit's neighbours (the same
-- cadre's visits around it, any visit reusing one of its photos): by btree
-- ranges over two small key tables kept with each visit's facts, instead
-- of GIN indexes over the arrays. The GIN lookup for a cadre returned every
-- visit of theirs in the campaign, and on a young table (no statistics yet)
-- the planner preferred scanning the county's visits: 2.3 ms a visit at
-- 150 visits/s, the largest single cost of the pipeline (BENCHMARKS.md).

-- The neighbours query is planned for each call's values (see
-- store::facts::neighbours): a generic plan on these tables before they
-- have statistics used only the county and the time as index condition and
-- filtered the cadre, reading every visit of the county in the window.

-- A visit's cadres, one row each, ordered by when the visit started.
CREATE TABLE visit_fact_cadres (
    county     char(6)     NOT NULL,
    cadre_id   text        NOT NULL,
    started_at timestamptz NOT NULL,
    visit_id   uuid        NOT NULL,
    PRIMARY KEY (county, cadre_id, started_at, visit_id)
);

-- A visit's photo references (照片), one row each.
CREATE TABLE visit_fact_photos (
    county    char(6) NOT NULL,
    photo_ref text    NOT NULL,
    visit_id  uuid    NOT NULL,
    PRIMARY KEY (county, photo_ref, visit_id)
);

INSERT INTO visit_fact_cadres (county, cadre_id, started_at, visit_id)
SELECT DISTINCT f.county, c.cadre_id, f.started_at, f.visit_id
FROM visit_facts f, unnest(f.cadre_ids) AS c(cadre_id);

INSERT INTO visit_fact_photos (county, photo_ref, visit_id)
SELECT DISTINCT f.county, p.photo_ref, f.visit_id
FROM visit_facts f, unnest(f.photo_refs) AS p(photo_ref);

DROP INDEX visit_facts_cadres;
DROP INDEX visit_facts_photos;
