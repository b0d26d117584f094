-- Sign-in throttling (issue 18, medium 7). The per-account count lives in
-- accounts.failed_attempts; from now on it counts password checks since the
-- last success, reserved before the check, so parallel guesses cannot
-- outrun the lock.

-- Password checks per client address in the current window; a success
-- gives its reservation back, so only failures (and checks in flight) count.
CREATE TABLE sign_in_throttle (
    client        text        PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    attempts      integer     NOT NULL
);

-- Every password check against an existing account (sign-in or password
-- change), with its outcome: the audit of guessing, and the lock-out's proof.
CREATE TABLE sign_in_attempts (
    account_id  uuid        NOT NULL REFERENCES accounts (account_id),
    client      text        NOT NULL,
    -- sign_in | change_password
    purpose     text        NOT NULL,
    succeeded   boolean     NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_attempts_by_account ON sign_in_attempts (account_id, at);
