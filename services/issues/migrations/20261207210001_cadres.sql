-- The ledger's directory of cadres: a projection of the registry's
-- registry.cadre.* events (never read from the registry's tables), so
-- AssignIssue refuses an unknown cadre and one whose region does not cover
-- the item. `as_of` is the registry's time of the statement applied: an
-- older statement arriving late changes nothing. Filled after the fact by
-- the registry's AnnounceCadres.
CREATE TABLE cadres (
    county       char(6)     NOT NULL,
    cadre_id     uuid        NOT NULL,
    name         text        NOT NULL,
    -- The region prefix the cadre works in (6, 9 or 12 digits).
    region_code  varchar(12) NOT NULL,
    as_of        timestamptz NOT NULL,
    PRIMARY KEY (county, cadre_id)
);

-- Names travel with the item, so notices name places and people: the place
-- from the visit event (the registry's region names), the responsible
-- cadre from the directory above when assigned (from the visit when the
-- visiting cadre is responsible). '' when not known.
ALTER TABLE issues
    ADD COLUMN region_name text NOT NULL DEFAULT '',
    ADD COLUMN responsible_cadre_name text NOT NULL DEFAULT '';

-- The names of places the ledger learned from visit events (the registry's
-- region names travel with each visit): the village's and its township's.
-- An item from reception, a hotline or a petition case names its place from
-- here when a visit was ever recorded there ('' otherwise).
CREATE TABLE places (
    county  char(6)     NOT NULL,
    code    varchar(12) NOT NULL,
    name    text        NOT NULL,
    PRIMARY KEY (county, code)
);
