-- The gateway's own data: accounts and sign-in sessions. Nothing else; the
-- services own everything the accounts act on.

CREATE TABLE accounts (
    account_id        uuid        PRIMARY KEY,
    username          text        NOT NULL UNIQUE,
    -- The id the services know the person by (a cadre's id); the token's `sub`.
    user_id           text        NOT NULL UNIQUE,
    display_name      text        NOT NULL,
    -- argon2id PHC string.
    password_hash     text        NOT NULL,
    roles             text[]      NOT NULL,
    -- Region-code prefix the account may act in.
    scope             text        NOT NULL,
    active            boolean     NOT NULL DEFAULT true,
    failed_attempts   integer     NOT NULL DEFAULT 0,
    locked_until      timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_by        text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_by_scope ON accounts (scope);

-- A sign-in. Access tokens carry its id; revoking it (sign-out, disable,
-- password change, a refresh token used twice) stops them at the gateway.
CREATE TABLE sessions (
    session_id     uuid        PRIMARY KEY,
    account_id     uuid        NOT NULL REFERENCES accounts (account_id),
    -- SHA-256 of the current refresh token; rotated on every refresh.
    refresh_hash   bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    refreshed_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz
);
CREATE INDEX sessions_by_account ON sessions (account_id) WHERE revoked_at IS NULL;
