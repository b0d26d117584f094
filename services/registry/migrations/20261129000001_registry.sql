-- The visit registry's tables. Every table carries the 6-digit county code
-- first in its primary key so Citus can distribute it by county (DESIGN.md §5).
-- Personal data (ID numbers, phones, sensitive tags) is stored encrypted
-- (AES-256-GCM) and found only through keyed hashes (HMAC-SHA256).

CREATE TABLE regions (
    county       char(6)  NOT NULL,
    code         char(12) NOT NULL,
    name         text     NOT NULL,
    level        smallint NOT NULL,
    parent_code  char(12),
    kind         text     NOT NULL DEFAULT '',
    PRIMARY KEY (county, code)
);
CREATE INDEX regions_parent ON regions (parent_code);

-- 工作片: a township's villages grouped for leadership (no official code).
CREATE TABLE work_zones (
    county         char(6)     NOT NULL,
    zone_id        uuid        NOT NULL,
    township_code  char(12)    NOT NULL,
    name           text        NOT NULL,
    body_hash      bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, zone_id)
);
CREATE TABLE work_zone_villages (
    county        char(6)  NOT NULL,
    zone_id       uuid     NOT NULL,
    village_code  char(12) NOT NULL,
    PRIMARY KEY (county, zone_id, village_code),
    -- A village belongs to one zone at most.
    CONSTRAINT work_zone_villages_village_unique UNIQUE (county, village_code),
    FOREIGN KEY (county, zone_id) REFERENCES work_zones (county, zone_id)
);

CREATE TABLE households (
    county             char(6)     NOT NULL,
    household_id       uuid        NOT NULL,
    village_code       char(12)    NOT NULL,
    group_name         text        NOT NULL DEFAULT '',
    address            text        NOT NULL DEFAULT '',
    head_name          text        NOT NULL,
    id_number_cipher   bytea       NOT NULL,
    id_number_hash     bytea       NOT NULL,
    phone_cipher       bytea,
    phone_hash         bytea,
    member_count       integer     NOT NULL,
    -- Tags not considered sensitive (留守, 空巢老人, 退役军人, 重点信访 …), plain.
    open_tags          text[]      NOT NULL DEFAULT '{}',
    -- Sensitive tags (低保, 特困, 五保, 残疾 …): encrypted JSON array, plus
    -- keyed hashes of each so lists can filter on them.
    sensitive_tags_cipher bytea,
    tag_hashes         bytea[]     NOT NULL DEFAULT '{}',
    -- Any tag at all: a key-group household (重点户) for quotas.
    is_key             boolean     NOT NULL DEFAULT false,
    body_hash          bytea       NOT NULL,
    registered_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, household_id),
    CONSTRAINT households_id_number_unique UNIQUE (county, id_number_hash)
);
CREATE INDEX households_village ON households (county, village_code, household_id);
CREATE INDEX households_phone_hash ON households (county, phone_hash);
CREATE INDEX households_tag_hashes ON households USING gin (tag_hashes);

CREATE TABLE cadres (
    county        char(6)     NOT NULL,
    cadre_id      uuid        NOT NULL,
    name          text        NOT NULL,
    phone_cipher  bytea,
    phone_hash    bytea,
    unit          smallint    NOT NULL,
    position      text        NOT NULL,
    region_code   varchar(12) NOT NULL,
    roles         text[]      NOT NULL DEFAULT '{}',
    body_hash     bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, cadre_id)
);
CREATE INDEX cadres_region ON cadres (county, region_code);

CREATE TABLE campaigns (
    county               char(6)     NOT NULL,
    campaign_id          uuid        NOT NULL,
    region_code          varchar(12) NOT NULL,
    name                 text        NOT NULL,
    starts_at            timestamptz NOT NULL,
    ends_at              timestamptz NOT NULL,
    themes               text[]      NOT NULL DEFAULT '{}',
    status               smallint    NOT NULL,
    completeness_policy  smallint    NOT NULL,
    body_hash            bytea       NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, campaign_id)
);

CREATE TABLE campaign_quotas (
    county          char(6) NOT NULL,
    campaign_id     uuid    NOT NULL,
    position        text    NOT NULL,
    metric          smallint NOT NULL,
    target          bigint  NOT NULL,
    min_amount_fen  bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (county, campaign_id, position, metric),
    FOREIGN KEY (county, campaign_id) REFERENCES campaigns (county, campaign_id)
);

-- 包保: who answers for a zone, a village or a household in a campaign.
CREATE TABLE assignments (
    county         char(6)     NOT NULL,
    assignment_id  uuid        NOT NULL,
    campaign_id    uuid        NOT NULL,
    cadre_id       uuid        NOT NULL,
    target         smallint    NOT NULL,
    target_id      text        NOT NULL,
    region_code    varchar(12) NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, assignment_id),
    CONSTRAINT assignments_target_unique UNIQUE (county, campaign_id, cadre_id, target, target_id),
    FOREIGN KEY (county, campaign_id) REFERENCES campaigns (county, campaign_id),
    FOREIGN KEY (county, cadre_id) REFERENCES cadres (county, cadre_id)
);
CREATE INDEX assignments_campaign ON assignments (county, campaign_id, target);

CREATE TABLE visits (
    county                  char(6)     NOT NULL,
    visit_id                uuid        NOT NULL,
    campaign_id             uuid        NOT NULL,
    household_id            uuid        NOT NULL,
    village_code            char(12)    NOT NULL,
    cadre_ids               uuid[]      NOT NULL,
    started_at              timestamptz NOT NULL,
    ended_at                timestamptz NOT NULL,
    mode                    smallint    NOT NULL,
    overnight_stay          boolean     NOT NULL,
    latitude                double precision,
    longitude               double precision,
    situation               text        NOT NULL,
    narrative               text        NOT NULL,
    policies_explained      text[]      NOT NULL DEFAULT '{}',
    materials               jsonb       NOT NULL DEFAULT '[]',
    help_cash_fen           bigint      NOT NULL DEFAULT 0,
    help_goods_description  text        NOT NULL DEFAULT '',
    help_goods_value_fen    bigint      NOT NULL DEFAULT 0,
    photo_refs              text[]      NOT NULL DEFAULT '{}',
    complete                boolean     NOT NULL,
    missing_fields          text[]      NOT NULL DEFAULT '{}',
    disputed                boolean     NOT NULL DEFAULT false,
    dispute_reason          text        NOT NULL DEFAULT '',
    body_hash               bytea       NOT NULL,
    recorded_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, visit_id),
    FOREIGN KEY (county, household_id) REFERENCES households (county, household_id),
    FOREIGN KEY (county, campaign_id) REFERENCES campaigns (county, campaign_id)
);
CREATE INDEX visits_campaign_village ON visits (county, campaign_id, village_code);
CREATE INDEX visits_household ON visits (county, household_id);
CREATE INDEX visits_cadres ON visits USING gin (cadre_ids);

CREATE TABLE visit_items (
    county               char(6)  NOT NULL,
    visit_id             uuid     NOT NULL,
    item_no              integer  NOT NULL,
    kind                 smallint NOT NULL,
    category             text     NOT NULL,
    description          text     NOT NULL,
    households_involved  integer  NOT NULL DEFAULT 0,
    resolved_on_spot     boolean  NOT NULL,
    resolution_note      text     NOT NULL DEFAULT '',
    urgent               boolean  NOT NULL DEFAULT false,
    PRIMARY KEY (county, visit_id, item_no),
    FOREIGN KEY (county, visit_id) REFERENCES visits (county, visit_id)
);

-- Every read of unmasked personal data: who, what, why, when.
CREATE TABLE pii_access_audit (
    county        char(6)     NOT NULL,
    audit_id      bigserial   NOT NULL,
    actor         text        NOT NULL,
    roles         text[]      NOT NULL,
    subject_kind  text        NOT NULL,
    subject_id    uuid        NOT NULL,
    fields        text[]      NOT NULL,
    purpose       text        NOT NULL,
    accessed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, audit_id)
);
CREATE INDEX pii_access_audit_subject ON pii_access_audit (county, subject_id);
CREATE INDEX households_id_number_hash ON households (id_number_hash);

-- Lookups by id alone (the API takes ids without their county). Under Citus
-- these fan out to every shard; callers that know the county avoid that.
CREATE INDEX households_by_id ON households (household_id);
CREATE INDEX visits_by_id ON visits (visit_id);
CREATE INDEX campaigns_by_id ON campaigns (campaign_id);
