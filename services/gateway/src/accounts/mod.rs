//! Accounts and sign-in (登录): argon2id passwords, sessions whose id rides
//! in the access token, rotating refresh tokens, lock-out after repeated
//! failures, password change; and, in `admin`, admins creating, listing
//! and disabling accounts (their tokens stop working at once).
mod admin;
pub mod password;
pub mod revocation;
pub mod store;

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
use zoufang_runtime::auth::roles;

use crate::{
    caller::Caller,
    endpoints::{Endpoint, Module, op, schema_ref},
    error::ApiError,
    state::AppState,
};
use revocation::{Sessions, end_sessions};
use store::AccountRow;
use zoufang_proto::events::v1::RevocationReason;

pub use admin::{AccountView, ListQuery, NewAccount, bootstrap};
use admin::{create_account, disable_account, enable_account, list_accounts};

/// The rule of lock-out: after `threshold` failures in a row the account
/// locks for `minutes`; returns the new count and the lock.
pub fn after_failure(
    failures_before: i32,
    threshold: i32,
    minutes: i64,
    now: DateTime<Utc>,
) -> (i32, Option<DateTime<Utc>>) {
    let n = failures_before + 1;
    if n >= threshold {
        (0, Some(now + Duration::minutes(minutes)))
    } else {
        (n, None)
    }
}

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

fn tokens(
    state: &AppState,
    a: &AccountRow,
    session_id: Uuid,
    refresh: String,
) -> Result<Tokens, ApiError> {
    let ttl = state.settings.access_token_secs;
    let access = state.keys.mint_extended(&AccessClaims {
        sub: &a.user_id,
        roles: &a.roles,
        scope: &a.scope,
        exp: (Utc::now() + Duration::seconds(ttl)).timestamp(),
        sid: session_id,
    })?;
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

fn wrong_credentials() -> ApiError {
    ApiError::unauthenticated("用户名或密码错误")
}

async fn sign_in(
    State(state): State<AppState>,
    Json(req): Json<SignIn>,
) -> Result<Json<Tokens>, ApiError> {
    let Some(account) = store::by_username(&state.pool, req.username.trim()).await? else {
        // Spend the same time as a real check, so usernames cannot be probed by timing.
        let _ = tokio::task::spawn_blocking(|| password::hash("timing-equaliser-1")).await;
        return Err(wrong_credentials());
    };
    let now = Utc::now();
    if let Some(until) = account.locked_until.filter(|t| *t > now) {
        let minutes = (until - now).num_minutes() + 1;
        return Err(ApiError::new(
            http::StatusCode::LOCKED,
            "locked",
            format!("连续登录失败次数过多，账号已锁定，请{minutes}分钟后再试"),
        ));
    }
    if !account.active {
        return Err(ApiError::forbidden("账号已停用，请联系管理员"));
    }
    let phc = account.password_hash.clone();
    let given = req.password.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&given, &phc))
        .await
        .map_err(ApiError::internal)?;
    if !ok {
        let s = &state.settings;
        let (attempts, lock) = after_failure(
            account.failed_attempts,
            s.lockout_threshold,
            s.lockout_minutes,
            now,
        );
        store::record_failure(&state.pool, account.account_id, attempts, lock).await?;
        return Err(wrong_credentials());
    }
    store::clear_failures(&state.pool, account.account_id).await?;
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
    if session_too_old(started, state.settings.session_max_days, Utc::now()) {
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
        )
        .await?;
        return Err(bad());
    }
    let account = store::by_id(&state.pool, account_id)
        .await?
        .filter(|a| a.active)
        .ok_or_else(bad)?;
    let next = new_refresh_token(session_id);
    let expires = Utc::now() + Duration::days(state.settings.refresh_token_days);
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
    Json(req): Json<ChangePassword>,
) -> Result<Json<serde_json::Value>, ApiError> {
    password::check_policy("new_password", &req.new_password)?;
    if req.new_password == req.old_password {
        return Err(ApiError::invalid("new_password", "新密码不能与原密码相同"));
    }
    let account = account_of_caller(&state, &caller).await?;
    let (phc, old) = (account.password_hash.clone(), req.old_password.clone());
    let ok = tokio::task::spawn_blocking(move || password::verify(&old, &phc))
        .await
        .map_err(ApiError::internal)?;
    if !ok {
        return Err(ApiError::invalid("old_password", "原密码错误"));
    }
    let new = req.new_password.clone();
    let phc = tokio::task::spawn_blocking(move || password::hash(&new))
        .await
        .map_err(ApiError::internal)??;
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
                "Sign in (登录): a token with the account's roles and scope, and a refresh token",
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
            "/v1/auth/refresh",
            post(refresh),
            op(
                "auth",
                "A new access token for a refresh token (which rotates)",
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
            op("auth", "Ends this session", true, None, ok.clone(), vec![]),
        ),
        Endpoint::new(
            http::Method::GET,
            "/v1/auth/me",
            get(who_am_i),
            op(
                "auth",
                "Who the token speaks for",
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
                "Changes the caller's password; other sessions end",
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
                "Creates an account (county admins; township admins for their township's cadres)",
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
                "Accounts under a scope",
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
                "Disables an account; its tokens stop working",
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
                "Enables (and unlocks) an account",
                true,
                None,
                schema_ref("Account"),
                vec![id_param],
            ),
        ),
    ];
    (endpoints, vec![("Account", account), ("Me", me)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_failure_locks_and_resets_the_count() {
        let now = Utc::now();
        assert_eq!(after_failure(0, 5, 15, now), (1, None));
        assert_eq!(after_failure(3, 5, 15, now), (4, None));
        assert_eq!(
            after_failure(4, 5, 15, now),
            (0, Some(now + Duration::minutes(15)))
        );
    }

    #[test]
    fn sessions_end_at_their_absolute_lifetime() {
        let now = Utc::now();
        assert!(!session_too_old(now - Duration::days(29), 30, now));
        assert!(session_too_old(now - Duration::days(30), 30, now));
    }
}
