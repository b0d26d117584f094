-- Notifications (通知). Keys lead with the 6-digit county code.

-- The people notifications reach: who holds which role where. The phone is
-- encrypted (AES-GCM under ZF_PII_KEY); only the SMS sender decrypts it.
CREATE TABLE recipients (
    county        char(6)     NOT NULL,
    recipient_id  text        NOT NULL,
    name          text        NOT NULL,
    roles         text[]      NOT NULL DEFAULT '{}',
    region_code   varchar(12) NOT NULL,
    -- The region-code prefix the person serves (430426104 for a township).
    scope         text        NOT NULL,
    phone_enc     bytea,
    phone_masked  text        NOT NULL DEFAULT '',
    active        boolean     NOT NULL DEFAULT true,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, recipient_id)
);
CREATE INDEX recipients_by_id ON recipients (recipient_id);
CREATE INDEX recipients_by_scope ON recipients (county, scope) WHERE active;

-- A recipient without a row here has the defaults (SMS on, digest on,
-- quiet hours 22:00–07:00 Beijing time).
CREATE TABLE preferences (
    county              char(6) NOT NULL,
    recipient_id        text    NOT NULL,
    sms_enabled         boolean NOT NULL,
    digest_enabled      boolean NOT NULL,
    quiet_start_minute  integer NOT NULL,
    quiet_end_minute    integer NOT NULL,
    muted_kinds         text[]  NOT NULL DEFAULT '{}',
    PRIMARY KEY (county, recipient_id)
);

-- Message templates; defaults are seeded below and edited through UpdateTemplate.
CREATE TABLE templates (
    kind        text        PRIMARY KEY,
    title       text        NOT NULL,
    body        text        NOT NULL,
    sms_body    text        NOT NULL DEFAULT '',
    version     integer     NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text        NOT NULL DEFAULT 'system'
);

-- Group robots and webhooks subscribed to a region. The secret is encrypted.
CREATE TABLE subscriptions (
    county           char(6)     NOT NULL,
    subscription_id  uuid        NOT NULL,
    name             text        NOT NULL,
    channel          text        NOT NULL,
    region_code      varchar(12) NOT NULL,
    scope            text        NOT NULL,
    url              text        NOT NULL,
    secret_enc       bytea,
    kinds            text[]      NOT NULL DEFAULT '{}',
    active           boolean     NOT NULL DEFAULT true,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, subscription_id)
);
CREATE INDEX subscriptions_by_id ON subscriptions (subscription_id);

-- The inbox. One row per recipient and fact: the same fact never pages the
-- same person twice, however many events carry it.
CREATE TABLE notifications (
    county           char(6)     NOT NULL,
    notification_id  uuid        NOT NULL,
    recipient_id     text        NOT NULL,
    fact_key         text        NOT NULL,
    kind             text        NOT NULL,
    title            text        NOT NULL,
    body             text        NOT NULL,
    link             text        NOT NULL DEFAULT '',
    subject_type     text        NOT NULL,
    subject_id       text        NOT NULL,
    region_code      varchar(12) NOT NULL,
    urgent           boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    read_at          timestamptz,
    PRIMARY KEY (county, notification_id),
    UNIQUE (county, recipient_id, fact_key)
);
CREATE INDEX notifications_by_id ON notifications (notification_id);
-- The inbox page: unread first, then newest first.
CREATE INDEX notifications_inbox
    ON notifications (recipient_id, (read_at IS NOT NULL), created_at DESC, notification_id DESC);

-- Outbound deliveries: SMS per recipient, robots and webhooks per
-- subscription, each once per fact.
CREATE TABLE deliveries (
    county           char(6)     NOT NULL,
    delivery_id      uuid        NOT NULL,
    notification_id  uuid,
    channel          text        NOT NULL,
    target           text        NOT NULL,
    fact_key         text        NOT NULL,
    kind             text        NOT NULL,
    title            text        NOT NULL,
    body             text        NOT NULL,
    sms_text         text        NOT NULL DEFAULT '',
    link             text        NOT NULL DEFAULT '',
    subject_type     text        NOT NULL,
    subject_id       text        NOT NULL,
    region_code      varchar(12) NOT NULL,
    urgent           boolean     NOT NULL DEFAULT false,
    state            text        NOT NULL DEFAULT 'pending',
    attempts         integer     NOT NULL DEFAULT 0,
    next_at          timestamptz NOT NULL,
    locked_until     timestamptz,
    last_error       text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz,
    PRIMARY KEY (county, delivery_id),
    UNIQUE (county, channel, target, fact_key)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_by_notification ON deliveries (county, notification_id);
CREATE INDEX deliveries_by_region ON deliveries (county, region_code, created_at DESC);

-- Overdue items climbing the escalation ladder (责任人 → 乡镇 → 县).
CREATE TABLE escalations (
    county      char(6)     NOT NULL,
    issue_id    uuid        NOT NULL,
    deadline    timestamptz NOT NULL,
    level       integer     NOT NULL,
    next_at     timestamptz NOT NULL,
    vars        jsonb       NOT NULL,
    region_code varchar(12) NOT NULL,
    urgent      boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (county, issue_id)
);
CREATE INDEX escalations_due ON escalations (next_at);

-- What each person has due soon or overdue, for the daily digest.
CREATE TABLE open_items (
    county        char(6)     NOT NULL,
    recipient_id  text        NOT NULL,
    issue_id      uuid        NOT NULL,
    status        text        NOT NULL,
    title         text        NOT NULL,
    deadline      timestamptz,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (county, recipient_id, issue_id)
);
CREATE INDEX open_items_by_issue ON open_items (county, issue_id);

-- One digest per person and Beijing date.
CREATE TABLE digests (
    county        char(6) NOT NULL,
    recipient_id  text    NOT NULL,
    digest_date   date    NOT NULL,
    PRIMARY KEY (county, recipient_id, digest_date)
);

INSERT INTO templates (kind, title, body, sms_body) VALUES
('issue.assigned', '新交办事项：{{category}}',
 '{{region_code}} 的{{kind_zh}}事项已交由您办理：{{description}}。办结时限：{{deadline}}。',
 '【走访】您有新交办事项（{{category}}），请于{{deadline}}前办结，详见{{link}}'),
('issue.reopened', '事项被退回重办：{{category}}',
 '回访未通过，事项第{{reopen_count}}次退回重办：{{description}}。{{note}} 办结时限：{{deadline}}。',
 '【走访】事项（{{category}}）回访未通过，已退回重办，请于{{deadline}}前办结，详见{{link}}'),
('issue.due_soon', '事项即将到期：{{category}}',
 '您负责的事项将于{{deadline}}到期：{{description}}。',
 ''),
('issue.overdue', '事项已超期：{{category}}',
 '您负责的事项已于{{deadline}}超期未办结：{{description}}。请尽快办理。',
 '【走访】您负责的事项（{{category}}）已超期，请尽快办结，详见{{link}}'),
('issue.overdue.township', '超期督办：{{category}}',
 '{{region_code}} 的事项已于{{deadline}}超期，责任人{{responsible}}仍未办结：{{description}}。请督促办理。',
 '【走访】辖区事项（{{category}}）超期未办结，请督促办理，详见{{link}}'),
('issue.overdue.county', '超期上报：{{category}}',
 '{{region_code}} 的事项已于{{deadline}}超期，经乡镇督办仍未办结：{{description}}。',
 '【走访】{{region_code}}事项（{{category}}）严重超期，请关注，详见{{link}}'),
('callback.assigned', '新回访任务',
 '{{region_code}} 有一项{{subject_zh}}回访任务待办，请于{{due_at}}前完成：{{summary}}',
 ''),
('callback.overdue', '回访任务已超期',
 '{{region_code}} 的{{subject_zh}}回访任务已于{{due_at}}超期：{{summary}}',
 '【走访】您有回访任务已超期，请尽快完成，详见{{link}}'),
('visit.disputed', '走访记录存疑',
 '{{region_code}} 的一条走访记录被标记存疑：{{reason}}。请核实。',
 ''),
('petition.received', '新信访件：{{channel}}',
 '收到来自{{source_system}}的{{kind_zh}}（{{channel}}），请于{{due_at}}前作出是否受理的决定：{{summary}}',
 '【走访】收到新{{kind_zh}}，请于{{due_at}}前决定是否受理，详见{{link}}'),
('digest', '每日待办：{{count}}项',
 '您有{{overdue_count}}项超期、{{due_soon_count}}项即将到期的事项：\n{{items}}',
 '');
