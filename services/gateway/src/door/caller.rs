//! Who is asking: the bearer token, verified, and its sign-in session still
//! open (a disabled account, a password change or a sign-out closes it, so
//! its tokens stop working here even before they expire); or, without an
//! Authorization header, the console's session cookie (`door::browser`),
//! for which a state-changing request must also carry the session's CSRF
//! token. An account that must change its password (the bootstrap admin)
//! reaches only the password change, its session and sign-out until it has.
use axum::{extract::FromRequestParts, http::request::Parts};
use serde::Deserialize;
use uuid::Uuid;
use zoufang_core::auth::Claims;

use crate::door::{
    accounts::{self, store},
    browser,
    error::ApiError,
    state::AppState,
};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The raw token, forwarded to the services.
    pub token: String,
    pub claims: Claims,
    pub session_id: Uuid,
    /// The session's CSRF token when the caller signed in by cookie (the
    /// console); None for a bearer token.
    pub csrf_token: Option<String>,
}

#[derive(Deserialize)]
struct SessionClaim {
    sid: Uuid,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let authorization = parts.headers.get(http::header::AUTHORIZATION);
        if authorization.is_none()
            && let Some(cookie) = browser::cookie_value(&parts.headers)
        {
            return from_cookie(parts, state, cookie).await;
        }
        let header = authorization.and_then(|v| v.to_str().ok()).ok_or_else(|| {
            ApiError::unauthenticated("sign in and send Authorization: Bearer <token>")
        })?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| {
                ApiError::unauthenticated("the Authorization header must be Bearer <token>")
            })?
            .trim()
            .to_owned();
        let claims = state
            .keys
            .verify(&token)
            .map_err(|e| ApiError::unauthenticated(e.to_string()))?;
        let SessionClaim { sid } = state
            .keys
            .verify_extended(&token)
            .map_err(|_| ApiError::unauthenticated("this token was not issued by a sign-in"))?;
        let Some(must_change) = store::open_session_state(&state.pool, sid).await? else {
            return Err(ApiError::unauthenticated(
                "the session has ended (signed out, password changed or account disabled); sign in again",
            ));
        };
        refuse_before_password_change(must_change, parts.uri.path())?;
        Ok(Self {
            token,
            claims,
            session_id: sid,
            csrf_token: None,
        })
    }
}

/// The caller of a console session cookie: the session open, the cookie's
/// secret the one stored, the session within its absolute lifetime, the
/// CSRF token sent on a state-changing request; then a short-lived access
/// token minted for the services, as a bearer caller would send.
async fn from_cookie(parts: &Parts, state: &AppState, cookie: &str) -> Result<Caller, ApiError> {
    let ended =
        || ApiError::unauthenticated("登录已失效（已退出、密码已修改或账号已停用），请重新登录");
    let sid = browser::session_of(cookie).ok_or_else(ended)?;
    let row = store::open_browser_session_row(&state.pool, sid)
        .await?
        .ok_or_else(ended)?;
    if !browser::same(&browser::cookie_hash(cookie), &row.cookie_hash) {
        return Err(ended());
    }
    if accounts::session_too_old(
        row.started,
        state.settings.session_max_days,
        state.clock.now(),
    ) {
        store::revoke(&state.pool, sid).await?;
        return Err(ApiError::unauthenticated(
            "登录已超过最长有效期，请重新登录",
        ));
    }
    if browser::needs_csrf(&parts.method) {
        let sent = parts
            .headers
            .get(browser::CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !browser::same(sent, row.csrf_token.as_bytes()) {
            return Err(ApiError::new(
                http::StatusCode::FORBIDDEN,
                "csrf_failed",
                "请求缺少有效的 CSRF 令牌（X-CSRF-Token），请刷新页面后重试",
            ));
        }
    }
    refuse_before_password_change(row.must_change_password, parts.uri.path())?;
    let token = accounts::mint_access(state, &row.account, sid)?;
    let claims = state
        .keys
        .verify(&token)
        .map_err(|e| ApiError::unauthenticated(e.to_string()))?;
    Ok(Caller {
        token,
        claims,
        session_id: sid,
        csrf_token: Some(row.csrf_token),
    })
}

fn refuse_before_password_change(must_change: bool, path: &str) -> Result<(), ApiError> {
    if must_change && !allowed_before_password_change(path) {
        return Err(ApiError::new(
            http::StatusCode::FORBIDDEN,
            "password_change_required",
            "首次登录须先修改密码（POST /v1/auth/password）",
        ));
    }
    Ok(())
}

/// What an account that must change its password may still call: the
/// change itself, its session (the console reads who is signed in) and
/// sign-out.
pub fn allowed_before_password_change(path: &str) -> bool {
    matches!(
        path,
        "/v1/auth/password" | "/v1/auth/sign-out" | "/v1/auth/session"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_password_change_and_sign_out_come_before_a_required_change() {
        assert!(allowed_before_password_change("/v1/auth/password"));
        assert!(allowed_before_password_change("/v1/auth/sign-out"));
        assert!(allowed_before_password_change("/v1/auth/session"));
        for path in [
            "/v1/auth/me",
            "/v1/accounts",
            "/v1/registry/GetHousehold",
            "/v1/auth/password/x",
        ] {
            assert!(!allowed_before_password_change(path), "{path}");
        }
    }
}
