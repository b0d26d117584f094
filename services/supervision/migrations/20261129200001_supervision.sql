-- Supervision callbacks (督查回访). Keys lead with the 6-digit county code.

CREATE TABLE teams (
    county       char(6)     NOT NULL,
    team_id      uuid        NOT NULL,
    name         text        NOT NULL,
    region_code  varchar(12) NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, team_id)
);

CREATE TABLE team_members (
    county         char(6) NOT NULL,
    team_id        uuid    NOT NULL,
    supervisor_id  text    NOT NULL,
    PRIMARY KEY (county, team_id, supervisor_id),
    FOREIGN KEY (county, team_id) REFERENCES teams (county, team_id)
);

-- Every version of a campaign's policy is kept: an event is sampled by the
-- version in force when it happened, so replays decide the same way.
CREATE TABLE sampling_policies (
    county                    char(6)     NOT NULL,
    campaign_id               uuid        NOT NULL,
    version                   integer     NOT NULL,
    item_share_bp             integer     NOT NULL,
    visit_share_bp            integer     NOT NULL,
    min_visits_per_cadre      integer     NOT NULL,
    high_risk_threshold       integer     NOT NULL,
    high_risk_visit_share_bp  integer     NOT NULL,
    due_days                  integer     NOT NULL,
    max_attempts              integer     NOT NULL,
    created_at                timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, campaign_id, version)
);

CREATE TABLE callbacks (
    county           char(6)     NOT NULL,
    callback_id      uuid        NOT NULL,
    subject          smallint    NOT NULL,
    issue_id         uuid,
    visit_id         uuid,
    household_id     uuid,
    region_code      varchar(12) NOT NULL,
    campaign_id      uuid,
    supervisor_id    text        NOT NULL DEFAULT '',
    state            text        NOT NULL DEFAULT 'open',
    due_at           timestamptz NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL,
    summary          text        NOT NULL DEFAULT '',
    policy_version   integer     NOT NULL DEFAULT 0,
    -- Who made the visit or answers for the item: kept for statistics,
    -- never shown on the worklist (blind verification).
    cadre_ids        text[]      NOT NULL DEFAULT '{}',
    reached          boolean     NOT NULL DEFAULT false,
    visit_confirmed  boolean     NOT NULL DEFAULT false,
    fix_confirmed    boolean     NOT NULL DEFAULT false,
    satisfaction     smallint    NOT NULL DEFAULT 0,
    comment          text        NOT NULL DEFAULT '',
    -- Back-check (visit callbacks): what the diary recorded …
    recorded_member_count  integer,
    recorded_help_fen      bigint,
    recorded_visit_date    date,
    -- … what the resident answered, and how many answers contradict it.
    answered_member_count  integer,
    answered_help_fen      bigint,
    answered_visit_date    date,
    backcheck_mismatches   integer     NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    PRIMARY KEY (county, callback_id)
);
CREATE INDEX callbacks_by_id ON callbacks (callback_id);
CREATE INDEX callbacks_worklist ON callbacks (county, supervisor_id, due_at) WHERE state = 'open';
CREATE INDEX callbacks_issue ON callbacks (county, issue_id);

CREATE TABLE callback_attempts (
    county       char(6)     NOT NULL,
    callback_id  uuid        NOT NULL,
    attempt_no   integer     NOT NULL,
    method       smallint    NOT NULL,
    reached      boolean     NOT NULL,
    actor        text        NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, callback_id, attempt_no)
);

-- Visits selected per cadre per period (ISO week), for the per-cadre minimum.
CREATE TABLE cadre_sampling (
    county       char(6) NOT NULL,
    campaign_id  uuid    NOT NULL,
    cadre_id     text    NOT NULL,
    period       date    NOT NULL,
    selected     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (county, campaign_id, cadre_id, period)
);

-- Every recorded visit's facts and the fabrication signals read from them
-- (no callback needed): the input of a cadre's risk score.
CREATE TABLE visit_facts (
    county        char(6)     NOT NULL,
    visit_id      uuid        NOT NULL,
    campaign_id   uuid        NOT NULL,
    cadre_ids     text[]      NOT NULL,
    household_id  uuid        NOT NULL,
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz NOT NULL,
    mode          smallint    NOT NULL,
    latitude      double precision,
    longitude     double precision,
    photo_refs    text[]      NOT NULL DEFAULT '{}',
    signals       jsonb       NOT NULL DEFAULT '[]',
    PRIMARY KEY (county, visit_id)
);
CREATE INDEX visit_facts_cadres ON visit_facts USING gin (cadre_ids);
CREATE INDEX visit_facts_photos ON visit_facts USING gin (photo_refs);

-- Running totals per cadre and campaign; the score follows from them.
CREATE TABLE cadre_risk (
    county          char(6) NOT NULL,
    campaign_id     uuid    NOT NULL,
    cadre_id        text    NOT NULL,
    visits          integer NOT NULL DEFAULT 0,
    flagged_visits  integer NOT NULL DEFAULT 0,
    total_weight    bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (county, campaign_id, cadre_id)
);

-- Inspections (督查记录) with their rectification date and close-out.
CREATE TABLE inspections (
    county         char(6)     NOT NULL,
    inspection_id  uuid        NOT NULL,
    cadre_id       text        NOT NULL DEFAULT '',
    region_code    varchar(12) NOT NULL,
    kind           smallint    NOT NULL,
    finding        text        NOT NULL,
    inspector_id   text        NOT NULL,
    rectify_by     timestamptz NOT NULL,
    closed_at      timestamptz,
    close_note     text        NOT NULL DEFAULT '',
    body_hash      bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, inspection_id)
);
CREATE INDEX inspections_by_id ON inspections (inspection_id);
CREATE INDEX inspections_region ON inspections (county, region_code);

-- How each responsible cadre's ledger items ended, from the ledger's events:
-- the timeliness part of the assessment (考核).
CREATE TABLE cadre_ledger (
    county        char(6) NOT NULL,
    campaign_id   uuid    NOT NULL,
    cadre_id      text    NOT NULL,
    in_time       integer NOT NULL DEFAULT 0,
    late          integer NOT NULL DEFAULT 0,
    overdue       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (county, campaign_id, cadre_id)
);
