//! Who is asking: the bearer token, verified, and its sign-in session still
//! open (a disabled account, a password change or a sign-out closes it, so
//! its tokens stop working here even before they expire).
use axum::{extract::FromRequestParts, http::request::Parts};
use serde::Deserialize;
use uuid::Uuid;
use zoufang_runtime::auth::Claims;

use crate::{accounts::store, error::ApiError, state::AppState};

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
        if !store::session_is_open(&state.pool, sid).await? {
            return Err(ApiError::unauthenticated(
                "the session has ended (signed out, password changed or account disabled); sign in again",
            ));
        }
        Ok(Self {
            token,
            claims,
            session_id: sid,
        })
    }
}
