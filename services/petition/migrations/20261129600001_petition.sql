-- The petition-system bridge (信访对接). Keys lead with the 6-digit county code.

-- Systems that send cases (信访信息系统, 12345 hotlines) and receive answers.
-- The signing secret is encrypted (AES-GCM under ZF_PII_KEY).
CREATE TABLE sources (
    county         char(6)     NOT NULL,
    source_system  text        NOT NULL,
    display_name   text        NOT NULL,
    region_code    varchar(12) NOT NULL,
    callback_url   text        NOT NULL DEFAULT '',
    secret_enc     bytea,
    created_by     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, source_system)
);
-- A source's name is unique across counties: webhooks name only the source.
CREATE UNIQUE INDEX sources_by_name ON sources (source_system);

-- Cases and work orders. The petitioner's ID number is kept only as a keyed
-- hash (for matching) and masked; name and phone are encrypted and masked.
CREATE TABLE cases (
    county             char(6)     NOT NULL,
    case_id            uuid        NOT NULL,
    source_system      text        NOT NULL,
    external_id        text        NOT NULL,
    hotline            boolean     NOT NULL,
    channel            text        NOT NULL,
    sequence           bigint      NOT NULL,
    name_enc           bytea,
    name_masked        text        NOT NULL DEFAULT '',
    id_hash            bytea,
    id_masked          text        NOT NULL DEFAULT '',
    phone_enc          bytea,
    phone_masked       text        NOT NULL DEFAULT '',
    region_code        varchar(12) NOT NULL,
    content            text        NOT NULL,
    attachments        jsonb       NOT NULL DEFAULT '[]',
    received_at        timestamptz NOT NULL,
    household_id       uuid,
    issue_id           uuid        NOT NULL,
    stage              text        NOT NULL,
    outcome            text        NOT NULL DEFAULT '',
    due_at             timestamptz,
    extended           boolean     NOT NULL DEFAULT false,
    extension_reason   text        NOT NULL DEFAULT '',
    answered_at        timestamptz,
    reply_text         text        NOT NULL DEFAULT '',
    assignee           text        NOT NULL DEFAULT '',
    merged_into        uuid,
    version            bigint      NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, case_id),
    UNIQUE (county, source_system, external_id)
);
CREATE INDEX cases_by_issue ON cases (issue_id);
CREATE INDEX cases_by_household ON cases (county, household_id) WHERE household_id IS NOT NULL;
CREATE INDEX cases_by_region ON cases (county, region_code, case_id);
CREATE INDEX cases_by_claim ON cases (county, id_hash) WHERE id_hash IS NOT NULL;

-- What happened to a case, in order.
CREATE TABLE case_log (
    county   char(6)     NOT NULL,
    case_id  uuid        NOT NULL,
    seq      bigserial   NOT NULL,
    at       timestamptz NOT NULL,
    actor    text        NOT NULL,
    change   text        NOT NULL,
    stage    text        NOT NULL,
    note     text        NOT NULL DEFAULT '',
    PRIMARY KEY (county, case_id, seq)
);

-- Signatures of accepted webhook requests, kept past the freshness window,
-- so a captured request sent again is refused.
CREATE TABLE seen_signatures (
    county     char(6)     NOT NULL,
    signature  text        NOT NULL,
    seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, signature)
);

-- Answers pushed back to the source system, once per case and change.
CREATE TABLE replies (
    county        char(6)     NOT NULL,
    reply_id      uuid        NOT NULL,
    case_id       uuid        NOT NULL,
    source_system text        NOT NULL,
    change        text        NOT NULL,
    body          jsonb       NOT NULL,
    state         text        NOT NULL DEFAULT 'pending',
    attempts      integer     NOT NULL DEFAULT 0,
    next_at       timestamptz NOT NULL,
    locked_until  timestamptz,
    last_error    text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    sent_at       timestamptz,
    PRIMARY KEY (county, reply_id)
);
CREATE INDEX replies_due ON replies (next_at) WHERE state IN ('pending', 'sending');
CREATE INDEX replies_by_case ON replies (county, case_id, created_at);
