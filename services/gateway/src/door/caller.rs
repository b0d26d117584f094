//! Who is asking: the bearer token, verified, and its sign-in session still
//! open (a disabled account, a password change or a sign-out closes it, so
//! its tokens stop working here even before they expire). An account that
//! must change its password (the bootstrap admin) reaches only the password
//! change and sign-out until it has.
use axum::{extract::FromRequestParts, http::request::Parts};
use serde::Deserialize;
use uuid::Uuid;
use zoufang_core::auth::Claims;

use crate::door::{accounts::store, error::ApiError, state::AppState};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The raw token, forwarded to the services.
    pub token: String,
    pub claims: Claims,
    pub session_id: Uuid,
}

#[derive(Deserialize)]
struct SessionClaim {
    sid: Uuid,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
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
        if must_change && !allowed_before_password_change(parts.uri.path()) {
            return Err(ApiError::new(
                http::StatusCode::FORBIDDEN,
                "password_change_required",
                "首次登录须先修改密码（POST /v1/auth/password）",
            ));
        }
        Ok(Self {
            token,
            claims,
            session_id: sid,
        })
    }
}

/// What an account that must change its password may still call.
pub fn allowed_before_password_change(path: &str) -> bool {
    matches!(path, "/v1/auth/password" | "/v1/auth/sign-out")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_password_change_and_sign_out_come_before_a_required_change() {
        assert!(allowed_before_password_change("/v1/auth/password"));
        assert!(allowed_before_password_change("/v1/auth/sign-out"));
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
