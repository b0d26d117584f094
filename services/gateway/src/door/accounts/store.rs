//! All SQL of accounts and sessions.
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// An account row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub account_id: Uuid,
    pub username: String,
    pub user_id: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub scope: String,
    pub active: bool,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "account_id, username, user_id, display_name, password_hash, roles, scope, active, \
         failed_attempts, locked_until, created_by, created_at"
    };
}

/// Inserts unless the username or user id is taken; true when inserted.
pub async fn insert<'e>(exec: impl PgExecutor<'e>, a: &AccountRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO accounts (account_id, username, user_id, display_name, password_hash, roles,
            scope, active, created_by)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING",
    )
    .bind(a.account_id)
    .bind(&a.username)
    .bind(&a.user_id)
    .bind(&a.display_name)
    .bind(&a.password_hash)
    .bind(&a.roles)
    .bind(&a.scope)
    .bind(a.active)
    .bind(&a.created_by)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Inserts an account that must change its password at the first
/// sign-in, unless the username or user id is taken; true when inserted.
pub async fn insert_requiring_change<'e>(
    exec: impl PgExecutor<'e>,
    a: &AccountRow,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO accounts (account_id, username, user_id, display_name, password_hash, roles,
            scope, active, created_by, must_change_password)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,true) ON CONFLICT DO NOTHING",
    )
    .bind(a.account_id)
    .bind(&a.username)
    .bind(&a.user_id)
    .bind(&a.display_name)
    .bind(&a.password_hash)
    .bind(&a.roles)
    .bind(&a.scope)
    .bind(a.active)
    .bind(&a.created_by)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An account by the person it speaks for.
pub async fn by_user_id<'e>(
    exec: impl PgExecutor<'e>,
    user_id: &str,
) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM accounts WHERE user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(exec)
    .await
}

/// Whether an account has still to replace its initial password.
pub async fn must_change_password<'e>(exec: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT must_change_password FROM accounts WHERE account_id = $1")
        .bind(id)
        .fetch_optional(exec)
        .await
        .map(|v| v.unwrap_or(false))
}

/// Replaces an initial password not yet changed by a new one (still to be
/// changed at the first sign-in); false when the account has meanwhile
/// chosen its own.
pub async fn reset_initial_password<'e>(
    exec: impl PgExecutor<'e>,
    id: Uuid,
    phc: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET password_hash = $2 WHERE account_id = $1 AND must_change_password",
    )
    .bind(id)
    .bind(phc)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether any account exists (for the bootstrap admin).
pub async fn any<'e>(exec: impl PgExecutor<'e>) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts)")
        .fetch_one(exec)
        .await
}

/// An account by username.
pub async fn by_username<'e>(
    exec: impl PgExecutor<'e>,
    username: &str,
) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM accounts WHERE username = $1"
    ))
    .bind(username)
    .fetch_optional(exec)
    .await
}

/// An account by id.
pub async fn by_id<'e>(exec: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM accounts WHERE account_id = $1"
    ))
    .bind(id)
    .fetch_optional(exec)
    .await
}

/// Accounts whose scope lies under `prefix`, by username.
pub async fn under<'e>(
    exec: impl PgExecutor<'e>,
    prefix: &str,
    limit: i64,
) -> sqlx::Result<Vec<AccountRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM accounts WHERE starts_with(scope, $1) ORDER BY username LIMIT $2"
    ))
    .bind(prefix)
    .bind(limit)
    .fetch_all(exec)
    .await
}

/// Reserves one password check of an account before it is made, in one
/// statement so parallel guesses queue on the row instead of all reading
/// the same old count: the count goes up (a lock that ran out starts a new
/// count), and the check that reaches `threshold` also sets the lock, so
/// at most `threshold` checks run before the lock. None when the account is
/// locked: then no password may be checked at all. A check that succeeds
/// gives the count back with [`clear_failures`]; a failed one leaves it.
pub async fn reserve_check<'e>(
    exec: impl PgExecutor<'e>,
    id: Uuid,
    threshold: i32,
    lock_minutes: i64,
) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar(
        "UPDATE accounts SET
            failed_attempts = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END,
            locked_until = CASE
                WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END) >= $2
                THEN now() + $3::float8 * interval '1 minute'
                ELSE NULL END
         WHERE account_id = $1 AND (locked_until IS NULL OR locked_until <= now())
         RETURNING failed_attempts",
    )
    .bind(id)
    .bind(threshold)
    .bind(lock_minutes as f64)
    .fetch_optional(exec)
    .await
}

/// Reserves one sign-in attempt of a client address within its window of
/// `window_minutes`; false when the address has used `limit` already.
/// A successful sign-in gives it back ([`release_address`]), so only
/// failures count.
pub async fn reserve_address<'e>(
    exec: impl PgExecutor<'e>,
    client: &str,
    limit: i32,
    window_minutes: i64,
) -> sqlx::Result<bool> {
    let row: Option<i32> = sqlx::query_scalar(
        "INSERT INTO sign_in_throttle AS t (client, window_start, attempts) VALUES ($1, now(), 1)
         ON CONFLICT (client) DO UPDATE SET
            attempts = CASE WHEN t.window_start <= now() - $3::float8 * interval '1 minute'
                            THEN 1 ELSE t.attempts + 1 END,
            window_start = CASE WHEN t.window_start <= now() - $3::float8 * interval '1 minute'
                                THEN now() ELSE t.window_start END
         WHERE t.window_start <= now() - $3::float8 * interval '1 minute' OR t.attempts < $2
         RETURNING attempts",
    )
    .bind(client)
    .bind(limit)
    .bind(window_minutes as f64)
    .fetch_optional(exec)
    .await?;
    Ok(row.is_some())
}

/// Gives back an address's reservation after a successful sign-in.
pub async fn release_address<'e>(exec: impl PgExecutor<'e>, client: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sign_in_throttle SET attempts = greatest(attempts - 1, 0) WHERE client = $1",
    )
    .bind(client)
    .execute(exec)
    .await?;
    Ok(())
}

/// Writes down one password check and its outcome.
pub async fn record_attempt<'e>(
    exec: impl PgExecutor<'e>,
    account_id: Uuid,
    client: &str,
    purpose: &str,
    succeeded: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sign_in_attempts (account_id, client, purpose, succeeded) VALUES ($1,$2,$3,$4)",
    )
    .bind(account_id)
    .bind(client)
    .bind(purpose)
    .bind(succeeded)
    .execute(exec)
    .await?;
    Ok(())
}

/// Clears failures after a good sign-in (or an admin's unlock).
pub async fn clear_failures<'e>(exec: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE accounts SET failed_attempts = 0, locked_until = NULL WHERE account_id = $1",
    )
    .bind(id)
    .execute(exec)
    .await?;
    Ok(())
}

/// Sets a new password hash (which satisfies a required change).
pub async fn set_password<'e>(exec: impl PgExecutor<'e>, id: Uuid, phc: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE accounts SET password_hash = $2, password_changed_at = now(),
            must_change_password = false
         WHERE account_id = $1",
    )
    .bind(id)
    .bind(phc)
    .execute(exec)
    .await?;
    Ok(())
}

/// Turns an account on or off.
pub async fn set_active<'e>(exec: impl PgExecutor<'e>, id: Uuid, active: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE accounts SET active = $2, failed_attempts = 0, locked_until = NULL WHERE account_id = $1")
        .bind(id)
        .bind(active)
        .execute(exec)
        .await?;
    Ok(())
}

/// Opens a session.
pub async fn open_session<'e>(
    exec: impl PgExecutor<'e>,
    session_id: Uuid,
    account_id: Uuid,
    refresh_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (session_id, account_id, refresh_hash, expires_at) VALUES ($1,$2,$3,$4)",
    )
    .bind(session_id)
    .bind(account_id)
    .bind(refresh_hash)
    .bind(expires_at)
    .execute(exec)
    .await?;
    Ok(())
}

/// Whether a session is open and its account active.
pub async fn session_is_open<'e>(
    exec: impl PgExecutor<'e>,
    session_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sessions s JOIN accounts a USING (account_id)
                        WHERE s.session_id = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
                          AND a.active)",
    )
    .bind(session_id)
    .fetch_one(exec)
    .await
}

/// Requires the account to choose a new password before anything else.
pub async fn require_password_change<'e>(exec: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE accounts SET must_change_password = true WHERE account_id = $1")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// An open session (its account active): whether the account must change
/// its password first. None when the session has ended.
pub async fn open_session_state<'e>(
    exec: impl PgExecutor<'e>,
    session_id: Uuid,
) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar(
        "SELECT a.must_change_password FROM sessions s JOIN accounts a USING (account_id)
         WHERE s.session_id = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND a.active",
    )
    .bind(session_id)
    .fetch_optional(exec)
    .await
}

/// A session found by its refresh token's hash: (account, refresh hash,
/// still open, signed in at).
pub async fn by_refresh<'e>(
    exec: impl PgExecutor<'e>,
    session_id: Uuid,
) -> sqlx::Result<Option<(Uuid, Vec<u8>, bool, DateTime<Utc>)>> {
    sqlx::query_as(
        "SELECT account_id, refresh_hash, (revoked_at IS NULL AND expires_at > now()), created_at
         FROM sessions WHERE session_id = $1",
    )
    .bind(session_id)
    .fetch_optional(exec)
    .await
}

/// Replaces a session's refresh token if it still is `old`; false when it
/// was already rotated (a stolen token used twice).
pub async fn rotate<'e>(
    exec: impl PgExecutor<'e>,
    session_id: Uuid,
    old: &[u8],
    new: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET refresh_hash = $3, refreshed_at = now(), expires_at = $4
         WHERE session_id = $1 AND refresh_hash = $2 AND revoked_at IS NULL",
    )
    .bind(session_id)
    .bind(old)
    .bind(new)
    .bind(expires_at)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends one session; its id when it was open.
pub async fn revoke<'e>(exec: impl PgExecutor<'e>, session_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = now() WHERE session_id = $1 AND revoked_at IS NULL
         RETURNING session_id",
    )
    .bind(session_id)
    .fetch_all(exec)
    .await
}

/// Ends every session of an account except `keep`; the ids of those ended.
pub async fn revoke_all<'e>(
    exec: impl PgExecutor<'e>,
    account_id: Uuid,
    keep: Option<Uuid>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = now()
         WHERE account_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR session_id <> $2)
         RETURNING session_id",
    )
    .bind(account_id)
    .bind(keep)
    .fetch_all(exec)
    .await
}

/// A browser session as the cookie path reads it: the stored cookie hash
/// and CSRF token, when it was opened, and its account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BrowserSessionRow {
    pub cookie_hash: Vec<u8>,
    pub csrf_token: String,
    pub started: DateTime<Utc>,
    pub must_change_password: bool,
    #[sqlx(flatten)]
    pub account: AccountRow,
}

/// Opens a browser session: its cookie's hash and CSRF token; the refresh
/// hash is a random value no refresh token matches (browser sessions do
/// not refresh).
pub async fn open_browser_session<'e>(
    exec: impl PgExecutor<'e>,
    session_id: Uuid,
    account_id: Uuid,
    cookie_hash: &[u8],
    csrf_token: &str,
    unusable_refresh_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (session_id, account_id, refresh_hash, expires_at, cookie_hash, csrf_token)
         VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(session_id)
    .bind(account_id)
    .bind(unusable_refresh_hash)
    .bind(expires_at)
    .bind(cookie_hash)
    .bind(csrf_token)
    .execute(exec)
    .await?;
    Ok(())
}

/// An open browser session (not revoked, not expired, its account active).
pub async fn open_browser_session_row<'e>(
    exec: impl PgExecutor<'e>,
    session_id: Uuid,
) -> sqlx::Result<Option<BrowserSessionRow>> {
    sqlx::query_as(concat!(
        "SELECT s.cookie_hash, s.csrf_token, s.created_at AS started, a.must_change_password, ",
        "a.account_id, a.username, a.user_id, a.display_name, a.password_hash, a.roles, a.scope, ",
        "a.active, a.failed_attempts, a.locked_until, a.created_by, a.created_at
         FROM sessions s JOIN accounts a USING (account_id)
         WHERE s.session_id = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND a.active
           AND s.cookie_hash IS NOT NULL AND s.csrf_token IS NOT NULL"
    ))
    .bind(session_id)
    .fetch_optional(exec)
    .await
}
