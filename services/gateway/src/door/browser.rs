//! Browser sessions (浏览器会话) for the web console: sign-in sets an
//! HttpOnly, SameSite=Strict cookie (Secure behind TLS) instead of handing
//! the page tokens it would have to keep where scripts can read them; every
//! state-changing request signed in by that cookie must carry the session's
//! CSRF token in `X-CSRF-Token`. The cookie is `<session id>.<secret>`; the
//! gateway keeps the secret's SHA-256 and, per request, mints the
//! short-lived access token the services expect. Bearer tokens keep working
//! for API clients; a request with an Authorization header is never read
//! as a cookie session.
use http::{HeaderMap, HeaderValue, Method, header};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::door::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "zf_session";
/// The header a page sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A fresh cookie value for `session_id` and the SHA-256 the gateway keeps.
pub fn new_cookie_secret(session_id: Uuid) -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let value = format!("{session_id}.{}", hex::encode(bytes));
    let hash = cookie_hash(&value);
    (value, hash)
}

/// A fresh CSRF token.
pub fn new_csrf_token() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the gateway keeps of a cookie value.
pub fn cookie_hash(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// The session cookie's value, when the request carries one.
pub fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// The session id a cookie value names (its secret is checked against the
/// stored hash by the caller).
pub fn session_of(value: &str) -> Option<Uuid> {
    let (id, secret) = value.split_once('.')?;
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| Uuid::parse_str(id).ok())
        .flatten()
}

/// Whether a request with this method changes state, so a cookie session
/// must prove it comes from the console's own page.
pub fn needs_csrf(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Compares two byte strings in time independent of where they differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the request reached us over TLS: said by `X-Forwarded-Proto`
/// from a trusted proxy (the gateway itself speaks plain HTTP behind one).
pub fn behind_tls(headers: &HeaderMap, peer_trusted: bool) -> bool {
    peer_trusted
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// Whether this request reached the gateway over TLS (its cookie is then
/// `Secure`), as a handler extracts it.
#[derive(Debug, Clone, Copy)]
pub struct OverTls(pub bool);

impl axum::extract::FromRequestParts<AppState> for OverTls {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let trusted = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .is_some_and(|c| {
                state
                    .settings
                    .trusted_proxies
                    .contains(&c.0.ip().to_canonical())
            });
        Ok(Self(behind_tls(&parts.headers, trusted)))
    }
}

/// The `Set-Cookie` that opens a session for `max_age_secs`.
pub fn set_cookie(value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("cookie values are ASCII")
}

/// The `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; zf_session=abc.def ; b=2")]);
        assert_eq!(cookie_value(&h), Some("abc.def"));
        let h = headers(&[("cookie", "a=1"), ("cookie", "zf_session=x")]);
        assert_eq!(cookie_value(&h), Some("x"));
        assert_eq!(cookie_value(&headers(&[("cookie", "zf_sessionx=1")])), None);
        assert_eq!(cookie_value(&headers(&[("cookie", "zf_session=")])), None);
    }

    #[test]
    fn a_fresh_cookie_names_its_session_and_hashes_to_what_is_kept() {
        let id = Uuid::now_v7();
        let (value, hash) = new_cookie_secret(id);
        assert_eq!(session_of(&value), Some(id));
        assert_eq!(cookie_hash(&value), hash);
        assert_ne!(new_cookie_secret(id).0, value);
    }

    #[test]
    fn malformed_cookies_name_no_session() {
        let id = Uuid::now_v7();
        for v in [
            "".to_owned(),
            id.to_string(),
            format!("{id}."),
            format!("{id}.xyz"),
            format!("{id}.{}", "g".repeat(64)),
            format!("not-a-uuid.{}", "a".repeat(64)),
        ] {
            assert_eq!(session_of(&v), None, "{v}");
        }
    }

    #[test]
    fn only_state_changing_methods_need_the_csrf_token() {
        assert!(!needs_csrf(&Method::GET));
        assert!(!needs_csrf(&Method::HEAD));
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(needs_csrf(&m), "{m}");
        }
    }

    #[test]
    fn tls_is_believed_only_from_a_trusted_proxy() {
        let h = headers(&[("x-forwarded-proto", "https")]);
        assert!(behind_tls(&h, true));
        assert!(!behind_tls(&h, false));
        assert!(!behind_tls(
            &headers(&[("x-forwarded-proto", "http")]),
            true
        ));
        assert!(!behind_tls(&HeaderMap::new(), true));
    }

    #[test]
    fn cookies_are_http_only_and_strict_and_secure_only_behind_tls() {
        let c = set_cookie("v", 60, false);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/"));
        assert!(!c.contains("Secure"));
        assert!(
            set_cookie("v", 60, true)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
        assert!(clear_cookie(false).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn comparison_is_exact() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
