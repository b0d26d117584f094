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

/// Records a failed sign-in; locks until `lock_until` when given.
pub async fn record_failure<'e>(
    exec: impl PgExecutor<'e>,
    id: Uuid,
    attempts: i32,
    lock_until: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE accounts SET failed_attempts = $2, locked_until = $3 WHERE account_id = $1",
    )
    .bind(id)
    .bind(attempts)
    .bind(lock_until)
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
