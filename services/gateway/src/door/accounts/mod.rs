//! Accounts and sign-in (登录): argon2id passwords, sessions whose id rides
//! in the access token, rotating refresh tokens, lock-out after repeated
//! failures, password change; and, in `admin`, admins creating, listing
//! and disabling accounts (their tokens stop working at once).
mod admin;
pub mod hashing;
pub mod password;
pub mod provision;
pub mod revocation;
pub mod store;
pub mod user_id;

use axum::{
    Json,
    extract::State,
    routing::{get, post},
};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zoufang_core::auth::roles;

use crate::door::{
    browser,
    caller::Caller,
    client_addr::ClientAddr,
    endpoints::{Endpoint, Module, op, schema_ref},
    error::ApiError,
    state::AppState,
};
use revocation::{Sessions, end_sessions};
use store::AccountRow;
use zoufang_proto::events::v1::RevocationReason;

pub use admin::{AccountView, ListQuery, NewAccount, bootstrap};
use admin::{create_account, disable_account, enable_account, list_accounts};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub old_password: String,
    pub new_password: String,
}

/// What a sign-in or refresh returns.
#[derive(Debug, Serialize)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub user: Me,
}

/// Who the token speaks for.
#[derive(Debug, Serialize)]
pub struct Me {
    pub user_id: String,
    pub roles: Vec<String>,
    pub scope: String,
}

#[derive(Serialize)]
struct AccessClaims<'a> {
    sub: &'a str,
    roles: &'a [String],
    scope: &'a str,
    exp: i64,
    sid: Uuid,
}

/// Whether a session signed in at `started` has outlived `max_days`.
pub fn session_too_old(started: DateTime<Utc>, max_days: i64, now: DateTime<Utc>) -> bool {
    now - started >= Duration::days(max_days)
}

fn refresh_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn new_refresh_token(session_id: Uuid) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{session_id}.{}", hex::encode(bytes))
}

/// A short-lived access token for `a` in session `session_id`.
pub fn mint_access(state: &AppState, a: &AccountRow, session_id: Uuid) -> Result<String, ApiError> {
    Ok(state.keys.mint_extended(&AccessClaims {
        sub: &a.user_id,
        roles: &a.roles,
        scope: &a.scope,
        exp: (state.clock.now() + Duration::seconds(state.settings.access_token_secs)).timestamp(),
        sid: session_id,
    })?)
}

fn tokens(
    state: &AppState,
    a: &AccountRow,
    session_id: Uuid,
    refresh: String,
) -> Result<Tokens, ApiError> {
    let ttl = state.settings.access_token_secs;
    let access = mint_access(state, a, session_id)?;
    Ok(Tokens {
        access_token: access,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: refresh,
        user: Me {
            user_id: a.user_id.clone(),
            roles: a.roles.clone(),
            scope: a.scope.clone(),
        },
    })
}

/// The one answer to a failed sign-in, whatever failed: an unknown user, a
/// wrong password, or an account that is locked (whose password is then not
/// even checked). It names the lock-out for everyone, so a locked account
/// cannot be told apart from a wrong password.
fn wrong_credentials() -> ApiError {
    ApiError::unauthenticated("用户名或密码错误；连续失败多次后账号将暂时锁定，请稍后再试")
}

fn too_many_from_here() -> ApiError {
    ApiError::new(
        http::StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "登录失败次数过多，请稍后再试",
    )
}

/// Spends the time of a real check without checking anything, so unknown
/// and locked accounts cannot be told apart by timing either.
async fn equalise(permit: hashing::Permit) -> Result<(), ApiError> {
    let _ = permit.run(|| password::hash("timing-equaliser-1")).await?;
    Ok(())
}

/// Checks a sign-in's credentials under the address and account throttles:
/// the account when the password is right and the account active.
async fn check_credentials(
    state: &AppState,
    client: &ClientAddr,
    req: &SignIn,
) -> Result<AccountRow, ApiError> {
    let s = &state.settings;
    // The address's budget first: refusing here tells nothing about the account.
    if !store::reserve_address(
        &state.pool,
        &client.0,
        s.address_limit,
        s.address_window_minutes,
    )
    .await?
    {
        return Err(too_many_from_here());
    }
    let account = store::by_username(&state.pool, req.username.trim()).await?;
    // The hashing slot before the account's reservation, so a busy gateway
    // (503) does not use up the account's attempts.
    let permit = state.hashing.permit().await?;
    let reserved = match &account {
        Some(a) => {
            store::reserve_check(
                &state.pool,
                a.account_id,
                s.lockout_threshold,
                s.lockout_minutes,
            )
            .await?
        }
        None => None,
    };
    let (Some(account), Some(_)) = (account, reserved) else {
        // Unknown, or locked: no password is checked.
        equalise(permit).await?;
        return Err(wrong_credentials());
    };
    let phc = account.password_hash.clone();
    let given = req.password.clone();
    let ok = permit.run(move || password::verify(&given, &phc)).await?;
    store::record_attempt(&state.pool, account.account_id, &client.0, "sign_in", ok).await?;
    if !ok {
        // The reservation stays: it was this failure.
        return Err(wrong_credentials());
    }
    store::clear_failures(&state.pool, account.account_id).await?;
    store::release_address(&state.pool, &client.0).await?;
    // Only the right password learns that the account is disabled.
    if !account.active {
        return Err(ApiError::forbidden("账号已停用，请联系管理员"));
    }
    Ok(account)
}

async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddr,
    Json(req): Json<SignIn>,
) -> Result<Json<Tokens>, ApiError> {
    let account = check_credentials(&state, &client, &req).await?;
    let now = state.clock.now();
    let session_id = Uuid::now_v7();
    let refresh = new_refresh_token(session_id);
    let expires = now + Duration::days(state.settings.refresh_token_days);
    store::open_session(
        &state.pool,
        session_id,
        account.account_id,
        &refresh_hash(&refresh),
        expires,
    )
    .await?;
    Ok(Json(tokens(&state, &account, session_id, refresh)?))
}

/// The console's view of its session: who is signed in and the CSRF token
/// its page sends back.
#[derive(Debug, Serialize)]
pub struct WebSession {
    /// None for a caller signed in with a bearer token.
    pub csrf_token: Option<String>,
    pub user: WebUser,
}

/// The signed-in person as the console shows them.
#[derive(Debug, Serialize)]
pub struct WebUser {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub scope: String,
    pub must_change_password: bool,
}

impl WebUser {
    fn of(a: &AccountRow, must_change_password: bool) -> Self {
        Self {
            user_id: a.user_id.clone(),
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            roles: a.roles.clone(),
            scope: a.scope.clone(),
            must_change_password,
        }
    }
}

/// Sign-in for the console (浏览器登录): the same checks as a token
/// sign-in, answered with an HttpOnly session cookie and the session's CSRF
/// token instead of tokens. The cookie lives as long as a refresh token
/// would (REFRESH_TOKEN_DAYS), never past SESSION_MAX_DAYS.
async fn web_sign_in(
    State(state): State<AppState>,
    client: ClientAddr,
    tls: browser::OverTls,
    Json(req): Json<SignIn>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let account = check_credentials(&state, &client, &req).await?;
    let session_id = Uuid::now_v7();
    let (cookie, cookie_hash) = browser::new_cookie_secret(session_id);
    let csrf = browser::new_csrf_token();
    let days = state
        .settings
        .refresh_token_days
        .min(state.settings.session_max_days);
    store::open_browser_session(
        &state.pool,
        session_id,
        account.account_id,
        &cookie_hash,
        &csrf,
        &refresh_hash(&new_refresh_token(session_id)),
        state.clock.now() + Duration::days(days),
    )
    .await?;
    let must_change = store::must_change_password(&state.pool, account.account_id).await?;
    Ok((
        [(
            http::header::SET_COOKIE,
            browser::set_cookie(&cookie, days * 86_400, tls.0),
        )],
        Json(WebSession {
            csrf_token: Some(csrf),
            user: WebUser::of(&account, must_change),
        }),
    ))
}

/// Who is signed in (the console calls it at start): 401 without a session.
async fn web_session(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<WebSession>, ApiError> {
    let account = account_of_caller(&state, &caller).await?;
    let must_change = store::must_change_password(&state.pool, account.account_id).await?;
    Ok(Json(WebSession {
        csrf_token: caller.csrf_token.clone(),
        user: WebUser::of(&account, must_change),
    }))
}

/// Sign-out for the console: the session ends (its cookie is refused from
/// now on, wherever a copy of it is) and the cookie is cleared.
async fn web_sign_out(
    State(state): State<AppState>,
    tls: browser::OverTls,
    caller: Caller,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    end_sessions(
        &state.pool,
        Sessions::One(caller.session_id),
        &caller.claims.sub,
        &caller.claims.scope,
        RevocationReason::SignedOut,
        state.clock.now(),
    )
    .await?;
    Ok((
        [(http::header::SET_COOKIE, browser::clear_cookie(tls.0))],
        Json(json!({"signed_out": true})),
    ))
}

async fn refresh(
    State(state): State<AppState>,
    Json(req): Json<Refresh>,
) -> Result<Json<Tokens>, ApiError> {
    let bad = || ApiError::unauthenticated("refresh token is not valid; sign in again");
    let session_id = req
        .refresh_token
        .split_once('.')
        .and_then(|(id, _)| Uuid::parse_str(id).ok())
        .ok_or_else(bad)?;
    let (account_id, stored, open, started) = store::by_refresh(&state.pool, session_id)
        .await?
        .ok_or_else(bad)?;
    let given = refresh_hash(&req.refresh_token);
    if !open {
        return Err(bad());
    }
    if session_too_old(started, state.settings.session_max_days, state.clock.now()) {
        // The absolute lifetime ends the session however often it refreshed.
        store::revoke(&state.pool, session_id).await?;
        return Err(ApiError::unauthenticated(
            "登录已超过最长有效期，请重新登录",
        ));
    }
    if stored != given {
        // An old refresh token came back: someone else holds the session.
        let owner = store::by_id(&state.pool, account_id).await?;
        let (user_id, scope) = owner
            .as_ref()
            .map(|a| (a.user_id.as_str(), a.scope.as_str()))
            .unwrap_or_default();
        end_sessions(
            &state.pool,
            Sessions::One(session_id),
            user_id,
            scope,
            RevocationReason::RefreshReused,
            state.clock.now(),
        )
        .await?;
        return Err(bad());
    }
    let account = store::by_id(&state.pool, account_id)
        .await?
        .filter(|a| a.active)
        .ok_or_else(bad)?;
    let next = new_refresh_token(session_id);
    let expires = state.clock.now() + Duration::days(state.settings.refresh_token_days);
    if !store::rotate(
        &state.pool,
        session_id,
        &given,
        &refresh_hash(&next),
        expires,
    )
    .await?
    {
        return Err(bad());
    }
    Ok(Json(tokens(&state, &account, session_id, next)?))
}

async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    end_sessions(
        &state.pool,
        Sessions::One(caller.session_id),
        &caller.claims.sub,
        &caller.claims.scope,
        RevocationReason::SignedOut,
        state.clock.now(),
    )
    .await?;
    Ok(Json(json!({"signed_out": true})))
}

async fn who_am_i(caller: Caller) -> Json<Me> {
    Json(Me {
        user_id: caller.claims.sub.clone(),
        roles: caller.claims.roles.clone(),
        scope: caller.claims.scope.clone(),
    })
}

async fn account_of_caller(state: &AppState, caller: &Caller) -> Result<AccountRow, ApiError> {
    let row: Option<(Uuid,)> =
        sqlx::query_as("SELECT account_id FROM sessions WHERE session_id = $1")
            .bind(caller.session_id)
            .fetch_optional(&state.pool)
            .await?;
    let id = row
        .ok_or_else(|| ApiError::unauthenticated("no session"))?
        .0;
    store::by_id(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("no account"))
}

async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddr,
    Json(req): Json<ChangePassword>,
) -> Result<Json<serde_json::Value>, ApiError> {
    password::check_policy("new_password", &req.new_password)?;
    if req.new_password == req.old_password {
        return Err(ApiError::invalid("new_password", "新密码不能与原密码相同"));
    }
    let account = account_of_caller(&state, &caller).await?;
    // The old password is guessed like a sign-in: same reservation, same lock.
    let permit = state.hashing.permit().await?;
    let s = &state.settings;
    if store::reserve_check(
        &state.pool,
        account.account_id,
        s.lockout_threshold,
        s.lockout_minutes,
    )
    .await?
    .is_none()
    {
        return Err(ApiError::new(
            http::StatusCode::LOCKED,
            "locked",
            "原密码连续错误次数过多，账号已暂时锁定，请稍后再试",
        ));
    }
    let (phc, old) = (account.password_hash.clone(), req.old_password.clone());
    let ok = permit.run(move || password::verify(&old, &phc)).await?;
    store::record_attempt(
        &state.pool,
        account.account_id,
        &client.0,
        "change_password",
        ok,
    )
    .await?;
    if !ok {
        return Err(ApiError::invalid("old_password", "原密码错误"));
    }
    store::clear_failures(&state.pool, account.account_id).await?;
    let new = req.new_password.clone();
    let phc = state
        .hashing
        .permit()
        .await?
        .run(move || password::hash(&new))
        .await??;
    store::set_password(&state.pool, account.account_id, &phc).await?;
    // Every other sign-in of this account ends; this one goes on.
    end_sessions(
        &state.pool,
        Sessions::AllOf {
            account_id: account.account_id,
            keep: Some(caller.session_id),
        },
        &account.user_id,
        &account.scope,
        RevocationReason::PasswordChanged,
        state.clock.now(),
    )
    .await?;
    Ok(Json(json!({"changed": true})))
}

fn tokens_schema() -> serde_json::Value {
    json!({"type": "object", "required": ["access_token", "token_type", "expires_in", "refresh_token", "user"],
        "properties": {
            "access_token": {"type": "string"}, "token_type": {"type": "string"},
            "expires_in": {"type": "integer"}, "refresh_token": {"type": "string"},
            "user": schema_ref("Me")}})
}

/// The account endpoints and the schemas they use.
pub fn endpoints() -> Module {
    let string = json!({"type": "string"});
    let account = json!({"type": "object", "properties": {
        "account_id": {"type": "string", "format": "uuid"}, "username": string, "user_id": string,
        "display_name": string, "roles": {"type": "array", "items": string}, "scope": string,
        "active": {"type": "boolean"}, "locked": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"}}});
    let me = json!({"type": "object", "properties": {"user_id": string,
        "roles": {"type": "array", "items": string}, "scope": string}});
    let ok = json!({"type": "object"});
    let id_param = json!({"name": "account_id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}});
    let endpoints = vec![
        Endpoint::new(
            http::Method::POST,
            "/v1/auth/sign-in",
            post(sign_in),
            op(
                "auth",
                (
                    "登录",
                    "Sign in: an access token with the account's roles and scope, and a refresh token.",
                ),
                false,
                Some(
                    json!({"type": "object", "required": ["username", "password"], "additionalProperties": false,
                "properties": {"username": {"type": "string", "minLength": 1}, "password": {"type": "string"}}}),
                ),
                tokens_schema(),
                vec![],
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/auth/session",
            post(web_sign_in),
            op(
                "auth",
                (
                    "控制台登录",
                    "Console sign-in: an HttpOnly session cookie and the session's CSRF token, which every state-changing request sends back in X-CSRF-Token.",
                ),
                false,
                Some(
                    json!({"type": "object", "required": ["username", "password"], "additionalProperties": false,
                "properties": {"username": {"type": "string", "minLength": 1}, "password": {"type": "string"}}}),
                ),
                schema_ref("WebSession"),
                vec![],
            ),
        ),
        Endpoint::new(
            http::Method::GET,
            "/v1/auth/session",
            get(web_session),
            op(
                "auth",
                (
                    "当前登录",
                    "The signed-in person and, for a cookie session, its CSRF token.",
                ),
                true,
                None,
                schema_ref("WebSession"),
                vec![],
            ),
        ),
        Endpoint::new(
            http::Method::DELETE,
            "/v1/auth/session",
            axum::routing::delete(web_sign_out),
            op(
                "auth",
                (
                    "控制台退出",
                    "Console sign-out: the session ends and its cookie is cleared.",
                ),
                true,
                None,
                ok.clone(),
                vec![],
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/auth/refresh",
            post(refresh),
            op(
                "auth",
                (
                    "刷新访问令牌",
                    "A new access token for a refresh token (which rotates; a reused one ends the session).",
                ),
                false,
                Some(
                    json!({"type": "object", "required": ["refresh_token"], "additionalProperties": false,
                "properties": {"refresh_token": {"type": "string"}}}),
                ),
                tokens_schema(),
                vec![],
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/auth/sign-out",
            post(sign_out),
            op(
                "auth",
                ("退出登录", "Ends this session; its tokens stop working."),
                true,
                None,
                ok.clone(),
                vec![],
            ),
        ),
        Endpoint::new(
            http::Method::GET,
            "/v1/auth/me",
            get(who_am_i),
            op(
                "auth",
                (
                    "当前用户",
                    "Who the token speaks for: the account, its roles and its scope.",
                ),
                true,
                None,
                schema_ref("Me"),
                vec![],
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/auth/password",
            post(change_password),
            op(
                "auth",
                (
                    "修改密码",
                    "Changes the caller's password; the other sessions end.",
                ),
                true,
                Some(
                    json!({"type": "object", "required": ["old_password", "new_password"], "additionalProperties": false,
                "properties": {"old_password": {"type": "string"}, "new_password": {"type": "string"}}}),
                ),
                ok.clone(),
                vec![],
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/accounts",
            post(create_account),
            op(
                "accounts",
                (
                    "创建账号",
                    "Creates an account (county admins; township admins for their township's cadres). A scope given as a full 12-digit code stands for its region.",
                ),
                true,
                Some(
                    json!({"type": "object", "required": ["username", "password", "display_name", "roles", "scope"], "additionalProperties": false,
                "properties": {"username": string, "password": string, "display_name": string,
                    "roles": {"type": "array", "items": string}, "scope": string, "user_id": string}}),
                ),
                schema_ref("Account"),
                vec![],
            ),
        ),
        Endpoint::new(
            http::Method::GET,
            "/v1/accounts",
            get(list_accounts),
            op(
                "accounts",
                (
                    "账号列表",
                    "Accounts under a scope (a region code or a prefix of one; the caller's scope by default).",
                ),
                true,
                None,
                json!({"type": "array", "items": schema_ref("Account")}),
                vec![json!({"name": "scope", "in": "query", "required": false, "schema": string})],
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/accounts/{account_id}/disable",
            post(disable_account),
            op(
                "accounts",
                (
                    "停用账号",
                    "Disables an account; its tokens stop working at once.",
                ),
                true,
                None,
                schema_ref("Account"),
                vec![id_param.clone()],
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/accounts/{account_id}/enable",
            post(enable_account),
            op(
                "accounts",
                ("启用账号", "Enables (and unlocks) an account."),
                true,
                None,
                schema_ref("Account"),
                vec![id_param],
            ),
        ),
    ];
    let web_session = json!({"type": "object", "required": ["csrf_token", "user"], "properties": {
        "csrf_token": {"type": "string", "nullable": true},
        "user": {"type": "object",
            "required": ["user_id", "username", "display_name", "roles", "scope", "must_change_password"],
            "properties": {"user_id": string, "username": string, "display_name": string,
                "roles": {"type": "array", "items": string}, "scope": string,
                "must_change_password": {"type": "boolean"}}}}});
    (
        endpoints,
        vec![
            ("Account", account),
            ("Me", me),
            ("WebSession", web_session),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_at_their_absolute_lifetime() {
        let now = Utc::now();
        assert!(!session_too_old(now - Duration::days(29), 30, now));
        assert!(session_too_old(now - Duration::days(30), 30, now));
    }
}
