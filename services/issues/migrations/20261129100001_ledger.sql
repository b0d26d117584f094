-- The issue ledger (民情台账). Keys lead with the 6-digit county code so the
-- tables distribute by county under Citus; reference data (categories) uses
-- county '000000' for entries that hold everywhere.

CREATE TABLE issues (
    county                 char(6)     NOT NULL,
    issue_id               uuid        NOT NULL,
    source                 smallint    NOT NULL,
    visit_id               uuid,
    item_no                integer     NOT NULL DEFAULT 0,
    campaign_id            uuid,
    household_id           uuid,
    region_code            varchar(12) NOT NULL,
    kind                   smallint    NOT NULL,
    category               text        NOT NULL,
    description            text        NOT NULL,
    households_involved    integer     NOT NULL DEFAULT 0,
    priority               smallint    NOT NULL,
    disposition            smallint    NOT NULL DEFAULT 0,
    state                  text        NOT NULL,
    responsible_cadre_id   text        NOT NULL DEFAULT '',
    department             text        NOT NULL DEFAULT '',
    assisting_departments  text[]      NOT NULL DEFAULT '{}',
    deadline               timestamptz,
    resolution             text        NOT NULL DEFAULT '',
    explanation            text        NOT NULL DEFAULT '',
    resident_acknowledged  boolean     NOT NULL DEFAULT false,
    reopen_count           integer     NOT NULL DEFAULT 0,
    rectification_round    integer     NOT NULL DEFAULT 1,
    escalation_level       integer     NOT NULL DEFAULT 0,
    merged_into            uuid,
    concerned_cadre_ids    text[]      NOT NULL DEFAULT '{}',
    supervised             boolean     NOT NULL DEFAULT false,
    sign_deadline          timestamptz,
    signed_at              timestamptz,
    -- Resolved (or explained) by its deadline: the 限时解决 figure.
    resolved_in_time       boolean,
    ever_escalated         boolean     NOT NULL DEFAULT false,
    -- The deadline a due-soon / overdue event was last emitted for: one
    -- event per threshold and deadline, however many sweeps run.
    due_soon_emitted_for   timestamptz,
    overdue_emitted_for    timestamptz,
    -- The sign deadline an unsigned-escalation event was emitted for.
    sign_overdue_emitted_for timestamptz,
    version                bigint      NOT NULL DEFAULT 1,
    body_hash              bytea       NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    resolved_at            timestamptz,
    PRIMARY KEY (county, issue_id),
    CONSTRAINT issues_visit_item_unique UNIQUE (county, visit_id, item_no)
);
CREATE INDEX issues_by_id ON issues (issue_id);
CREATE INDEX issues_region ON issues (county, region_code, issue_id);
CREATE INDEX issues_campaign ON issues (county, campaign_id);
CREATE INDEX issues_responsible ON issues (county, responsible_cadre_id) WHERE responsible_cadre_id <> '';
CREATE INDEX issues_department ON issues (county, department) WHERE department <> '';
-- The sweeper's work list: open items with a deadline.
CREATE INDEX issues_open_deadlines ON issues (deadline)
    WHERE deadline IS NOT NULL AND state IN ('open', 'assigned', 'in_progress', 'escalated', 'reopened');

-- Append-only: who, when, from, to, note.
CREATE TABLE issue_timeline (
    county            char(6)     NOT NULL,
    issue_id          uuid        NOT NULL,
    seq               bigserial   NOT NULL,
    at                timestamptz NOT NULL DEFAULT now(),
    actor             text        NOT NULL,
    action            text        NOT NULL,
    from_state        text        NOT NULL DEFAULT '',
    to_state          text        NOT NULL,
    note              text        NOT NULL DEFAULT '',
    related_issue_id  uuid,
    PRIMARY KEY (county, issue_id, seq)
);

CREATE FUNCTION issue_timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issue_timeline is append-only';
END;
$$;
CREATE TRIGGER issue_timeline_append_only BEFORE UPDATE OR DELETE ON issue_timeline
    FOR EACH ROW EXECUTE FUNCTION issue_timeline_append_only();

CREATE TABLE categories (
    county   char(6) NOT NULL,
    name     text    NOT NULL,
    builtin  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (county, name)
);
INSERT INTO categories (county, name, builtin) VALUES
    ('000000', '经济发展', true), ('000000', '城镇建设', true), ('000000', '民生工程', true),
    ('000000', '农田水利', true), ('000000', '社会治安', true), ('000000', '矛盾纠纷', true),
    ('000000', '信访积案', true), ('000000', '政策咨询', true), ('000000', '环境卫生', true),
    ('000000', '交通出行', true), ('000000', '社会保障', true), ('000000', '其他', true);

-- A campaign's default deadlines (days) by kind, category and priority;
-- 0 / '' match everything.
CREATE TABLE sla_rules (
    county       char(6)  NOT NULL,
    campaign_id  uuid     NOT NULL,
    kind         smallint NOT NULL DEFAULT 0,
    category     text     NOT NULL DEFAULT '',
    priority     smallint NOT NULL DEFAULT 0,
    days         integer  NOT NULL,
    PRIMARY KEY (county, campaign_id, kind, category, priority)
);
