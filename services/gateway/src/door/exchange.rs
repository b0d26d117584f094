//! The token exchange (`POST /internal/token` on the admin listener, which
//! only the private network reaches): services obtain short-lived tokens for
//! one purpose at one service from the only holder of the private key,
//! instead of signing their own. See `zoufang_core::auth::exchange` for
//! the protocol; this module holds the policy (which client may obtain which
//! purpose, what the token says) and the endpoint.
use std::{collections::HashMap, sync::Arc};

use axum::{Json, Router, extract::State, response::IntoResponse, routing::post};
use http::StatusCode;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zoufang_core::auth::{
    Actor, Claims, JwtKeys,
    exchange::{
        ExchangeRequest, ExchangeResponse, MAX_TTL_SECS, PATH, codes, dev_service_secret, purposes,
    },
    roles, service_audience,
};
use zoufang_core::clock::Clock;

use crate::door::accounts::store;

/// Who a purpose's token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A person, whose own access token must be presented; they must hold
    /// one of these roles.
    Delegated(&'static [&'static str]),
    /// The client service itself, within a requested region.
    Service,
}

/// One purpose: which client may obtain it, for which service, for whom.
#[derive(Debug, Clone, Copy)]
pub struct Purpose {
    pub name: &'static str,
    pub client: &'static str,
    /// The one service the token is good for (its audience).
    pub service: &'static str,
    pub kind: Kind,
}

/// Every purpose the authority issues tokens for.
pub const PURPOSES: &[Purpose] = &[
    Purpose {
        name: purposes::CALLBACK_PHONE,
        client: "supervision",
        service: "registry",
        kind: Kind::Delegated(&[roles::SUPERVISOR]),
    },
    Purpose {
        name: purposes::ASSESSMENT,
        client: "supervision",
        service: "registry",
        kind: Kind::Delegated(&[
            roles::TOWNSHIP_ADMIN,
            roles::COUNTY_ADMIN,
            roles::SUPERVISOR,
        ]),
    },
    Purpose {
        name: purposes::PETITION_MATCH,
        client: "petition",
        service: "registry",
        kind: Kind::Service,
    },
];

/// The clients known to the exchange: id → SHA-256 of its secret.
#[derive(Debug, Clone)]
pub struct ServiceClients(HashMap<String, [u8; 32]>);

impl ServiceClients {
    /// Parses `client=sha256hex,…`; every client must be one a purpose names.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut map = HashMap::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, hash) = part
                .split_once('=')
                .ok_or_else(|| format!("ZF_SERVICE_CLIENTS: {part:?} is not client=sha256hex"))?;
            let id = id.trim();
            if !PURPOSES.iter().any(|p| p.client == id) {
                return Err(format!("ZF_SERVICE_CLIENTS: unknown client {id:?}"));
            }
            let mut digest = [0u8; 32];
            hex::decode_to_slice(hash.trim(), &mut digest).map_err(|_| {
                format!("ZF_SERVICE_CLIENTS: the hash of {id} must be 64 hex digits (sha256)")
            })?;
            map.insert(id.to_owned(), digest);
        }
        if map.is_empty() {
            return Err("ZF_SERVICE_CLIENTS names no client".into());
        }
        Ok(Self(map))
    }

    /// Every client with its PUBLISHED development secret.
    pub fn development() -> Self {
        let mut map = HashMap::new();
        for p in PURPOSES {
            map.insert(p.client.to_owned(), digest(&dev_service_secret(p.client)));
        }
        Self(map)
    }

    /// Whether `secret` is `client`'s.
    pub fn authenticate(&self, client: &str, secret: &str) -> bool {
        // Comparing digests: timing reveals nothing about the secret itself.
        self.0.get(client).is_some_and(|d| *d == digest(secret))
    }
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A refusal, with the code the client maps (see `codes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

fn refuse(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        code,
        message: message.into(),
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> axum::response::Response {
        let body = serde_json::json!({"code": self.code, "message": self.message});
        (self.status, Json(body)).into_response()
    }
}

/// The purpose `client` asks for, if it may have it.
pub fn purpose_for(client: &str, name: &str) -> Result<&'static Purpose, Refusal> {
    let p = PURPOSES.iter().find(|p| p.name == name).ok_or_else(|| {
        refuse(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            format!("unknown purpose {name:?}"),
        )
    })?;
    if p.client != client {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            codes::UNAUTHORIZED_CLIENT,
            format!("client {client} may not obtain {name}"),
        ));
    }
    Ok(p)
}

/// The claims of a delegated token: the person's, for `purpose`, acted on by
/// `client`, expiring within [`MAX_TTL_SECS`] and never after the person's token.
pub fn delegated_claims(subject: &Claims, p: &Purpose, now: i64) -> Result<Claims, Refusal> {
    let Kind::Delegated(allowed) = p.kind else {
        return Err(kind_mismatch());
    };
    if subject.act.is_some() || subject.purpose.is_some() {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            codes::SUBJECT_UNAUTHENTICATED,
            "the subject token must be the person's own access token",
        ));
    }
    if !subject.has_any_role(allowed) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            codes::SUBJECT_FORBIDDEN,
            format!("{} needs one of the roles [{}]", p.name, allowed.join(", ")),
        ));
    }
    Ok(Claims {
        sub: subject.sub.clone(),
        roles: subject.roles.clone(),
        scope: subject.scope.clone(),
        exp: (now + MAX_TTL_SECS).min(subject.exp),
        purpose: Some(p.name.to_owned()),
        act: Some(Actor {
            sub: p.client.to_owned(),
        }),
        // `issue` adds the person's session id.
        sid: None,
    })
}

/// The claims of a service token for `p` in `scope` (a non-empty region
/// prefix: a service never gets the whole country).
pub fn service_claims(p: &Purpose, scope: &str, now: i64) -> Result<Claims, Refusal> {
    if p.kind != Kind::Service {
        return Err(kind_mismatch());
    }
    if scope.is_empty() || scope.len() > 12 || !scope.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            "scope must be a region code prefix of 1–12 digits",
        ));
    }
    Ok(Claims {
        sub: format!("service:{}", p.client),
        roles: vec![roles::SERVICE.to_owned()],
        scope: scope.to_owned(),
        exp: now + MAX_TTL_SECS,
        purpose: Some(p.name.to_owned()),
        act: None,
        sid: None,
    })
}

fn kind_mismatch() -> Refusal {
    refuse(
        StatusCode::BAD_REQUEST,
        codes::INVALID_REQUEST,
        "this purpose is not of that kind",
    )
}

/// What the endpoint needs.
#[derive(Debug, Clone)]
pub struct ExchangeState {
    pub pool: sqlx::PgPool,
    pub keys: Arc<JwtKeys>,
    pub clients: Arc<ServiceClients>,
    /// Where "now" comes from (the tokens' issue and expiry times).
    pub clock: Clock,
}

/// The session id of a gateway access token.
#[derive(Deserialize)]
struct SessionClaim {
    #[serde(default)]
    sid: Option<Uuid>,
}

/// The routes of the exchange, for the admin listener.
pub fn router(state: ExchangeState) -> Router {
    Router::new().route(PATH, post(exchange)).with_state(state)
}

async fn exchange(
    State(state): State<ExchangeState>,
    Json(req): Json<ExchangeRequest>,
) -> Result<Json<ExchangeResponse>, Refusal> {
    if !state
        .clients
        .authenticate(&req.client_id, &req.client_secret)
    {
        tracing::warn!(client = %req.client_id, "token exchange: bad client credentials");
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            codes::INVALID_CLIENT,
            "unknown client or wrong secret",
        ));
    }
    let p = purpose_for(&req.client_id, &req.purpose)?;
    let now = state.clock.now().timestamp();
    let claims = match p.kind {
        Kind::Delegated(_) => {
            let token = req.subject_token.as_deref().ok_or_else(|| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    codes::INVALID_REQUEST,
                    "a delegated purpose needs the person's subject_token",
                )
            })?;
            let subject_refused =
                |m: String| refuse(StatusCode::UNAUTHORIZED, codes::SUBJECT_UNAUTHENTICATED, m);
            let subject = state
                .keys
                .verify(token)
                .map_err(|e| subject_refused(e.to_string()))?;
            let SessionClaim { sid } = state
                .keys
                .verify_extended(token)
                .map_err(|e| subject_refused(e.to_string()))?;
            // A sign-in token must still have its session; a token without
            // one was minted by an operator holding the private key (zfctl).
            if let Some(sid) = sid {
                let open = store::open_session_state(&state.pool, sid)
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "token exchange: session lookup failed");
                        refuse(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "unavailable",
                            "the session store is unavailable",
                        )
                    })?;
                match open {
                    None => return Err(subject_refused("the person's session has ended".into())),
                    Some(true) => {
                        return Err(subject_refused(
                            "the person must change their password first".into(),
                        ));
                    }
                    Some(false) => {}
                }
            }
            let claims = delegated_claims(&subject, p, now)?;
            return issue(&state, p, claims, sid);
        }
        Kind::Service => service_claims(p, req.scope.as_deref().unwrap_or_default(), now)?,
    };
    issue(&state, p, claims, None)
}

/// Signs `claims` for `p`'s service, carrying the person's session id.
fn issue(
    state: &ExchangeState,
    p: &Purpose,
    claims: Claims,
    sid: Option<Uuid>,
) -> Result<Json<ExchangeResponse>, Refusal> {
    // The session id rides along so a revoked session stops delegated tokens too.
    #[derive(serde::Serialize)]
    struct WithSession<'a> {
        #[serde(flatten)]
        claims: &'a Claims,
        #[serde(skip_serializing_if = "Option::is_none")]
        sid: Option<Uuid>,
    }
    let audience = service_audience(p.service);
    let now = state.clock.now().timestamp();
    let token = state
        .keys
        .mint_extended_to(
            &WithSession {
                claims: &claims,
                sid,
            },
            &audience,
        )
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "token exchange: cannot sign");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "cannot sign the token",
            )
        })?;
    tracing::info!(client = p.client, purpose = p.name, sub = %claims.sub,
        audience = %audience, "token exchange: issued");
    Ok(Json(ExchangeResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: (claims.exp - now).max(0),
        audience,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(roles: &[&str]) -> Claims {
        Claims {
            sub: "sup-1".into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            scope: "430426".into(),
            exp: 10_000,
            ..Claims::default()
        }
    }

    #[test]
    fn each_client_obtains_only_its_purposes() {
        assert!(purpose_for("supervision", purposes::CALLBACK_PHONE).is_ok());
        assert!(purpose_for("petition", purposes::PETITION_MATCH).is_ok());
        let e = purpose_for("petition", purposes::CALLBACK_PHONE).unwrap_err();
        assert_eq!(e.code, codes::UNAUTHORIZED_CLIENT);
        let e = purpose_for("supervision", purposes::PETITION_MATCH).unwrap_err();
        assert_eq!(e.code, codes::UNAUTHORIZED_CLIENT);
        assert_eq!(
            purpose_for("supervision", "x").unwrap_err().code,
            codes::INVALID_REQUEST
        );
    }

    #[test]
    fn delegated_tokens_keep_the_person_and_name_the_actor() {
        let p = purpose_for("supervision", purposes::CALLBACK_PHONE).unwrap();
        let c = delegated_claims(&person(&[roles::SUPERVISOR]), p, 1_000).unwrap();
        assert_eq!((c.sub.as_str(), c.scope.as_str()), ("sup-1", "430426"));
        assert_eq!(c.act.unwrap().sub, "supervision");
        assert_eq!(c.purpose.as_deref(), Some(purposes::CALLBACK_PHONE));
        assert_eq!(c.exp, 1_000 + MAX_TTL_SECS);
        // Never outlives the person's own token.
        let c = delegated_claims(&person(&[roles::SUPERVISOR]), p, 9_990).unwrap();
        assert_eq!(c.exp, 10_000);
        let e = delegated_claims(&person(&[roles::CADRE]), p, 1_000).unwrap_err();
        assert_eq!(e.code, codes::SUBJECT_FORBIDDEN);
        let mut again = person(&[roles::SUPERVISOR]);
        again.act = Some(Actor { sub: "x".into() });
        let e = delegated_claims(&again, p, 1_000).unwrap_err();
        assert_eq!(e.code, codes::SUBJECT_UNAUTHENTICATED);
    }

    #[test]
    fn service_tokens_need_a_region() {
        let p = purpose_for("petition", purposes::PETITION_MATCH).unwrap();
        let c = service_claims(p, "430426", 0).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.roles.as_slice()),
            ("service:petition", &[roles::SERVICE.to_owned()][..])
        );
        for bad in ["", "43a", "4304261040011"] {
            assert_eq!(
                service_claims(p, bad, 0).unwrap_err().code,
                codes::INVALID_REQUEST
            );
        }
    }

    #[test]
    fn clients_parse_and_authenticate() {
        let hash = hex::encode(digest("s3cret-value"));
        let c = ServiceClients::parse(&format!("supervision={hash}")).unwrap();
        assert!(c.authenticate("supervision", "s3cret-value"));
        assert!(!c.authenticate("supervision", "wrong"));
        assert!(!c.authenticate("petition", "s3cret-value"));
        assert!(
            ServiceClients::parse("stranger=00")
                .unwrap_err()
                .contains("unknown client")
        );
        assert!(
            ServiceClients::parse("supervision=xyz")
                .unwrap_err()
                .contains("64 hex")
        );
        assert!(ServiceClients::parse("").is_err());
        let dev = ServiceClients::development();
        assert!(dev.authenticate("petition", &dev_service_secret("petition")));
    }
}
