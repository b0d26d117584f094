//! Bearer-token authentication (DESIGN.md §3 "Conventions").
//!
//! Tokens are ES256 JWTs carrying `sub`, `roles`, `scope` (a prefix of the
//! 12-digit region code, `""` = everything), `exp`, the issuer [`ISSUER`] and
//! an audience: [`AUDIENCE`] for a person's access token, `zoufang-<service>`
//! for a token the authority issued for one purpose at one service
//! ([`service_audience`], see `exchange`). Only the gateway (the sign-in
//! authority) holds the private key; services verify with the public key.
//! Servers wrap their services in [`AuthInterceptor`], which verifies the
//! token and leaves the [`Claims`] in the request extensions for handlers to
//! read with [`claims`]; clients add the header with [`BearerInterceptor`].
use std::{fmt, sync::Arc};

use anyhow::Context as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status, service::Interceptor};

use crate::error::{ServiceError, ServiceResult};

pub mod revocation;
pub use revocation::RevokedSessions;
pub mod exchange;

/// The `iss` of every token: the gateway, the only holder of the private key.
pub const ISSUER: &str = "zoufang-gateway";
/// The `aud` of a person's access token: every service accepts it.
pub const AUDIENCE: &str = "zoufang";

/// The audience of a token meant only for `service` (its schema name, e.g.
/// `registry`): that service accepts it, no other does.
pub fn service_audience(service: &str) -> String {
    format!("{AUDIENCE}-{service}")
}

/// DEVELOPMENT ONLY — PUBLISHED, NOT SECRET. The ES256 private key (PKCS#8)
/// used under `ZF_DEV_MODE=1` and by tests. Anyone can sign tokens with it:
/// the services refuse to start without real keys unless the development
/// flag is set.
pub const DEV_JWT_PRIVATE_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnsTbSbtCDxDpntF/
DIVh7CiCc9TH05u4lDIU1H6PYGKhRANCAAQfY7aYR/yq75mEw+Fooy/BPZProC4L
G1w3trhlFdmt8sr907KYv0QV//r2QV/kYh4xOTeM/f/e0U8QpZWDdRPO
-----END PRIVATE KEY-----";
/// DEVELOPMENT ONLY — the public half of [`DEV_JWT_PRIVATE_KEY_PEM`] (SPKI).
pub const DEV_JWT_PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEH2O2mEf8qu+ZhMPhaKMvwT2T66Au
CxtcN7a4ZRXZrfLK/dOymL9EFf/69kFf5GIeMTk3jP3/3tFPEKWVg3UTzg==
-----END PUBLIC KEY-----";

/// Seconds of clock skew tolerated on `exp`: field tablets keep poor time.
const LEEWAY_SECS: u64 = 30;

/// Role names as they appear in the `roles` claim.
pub mod roles {
    /// Village cadre doing household visits.
    pub const CADRE: &str = "cadre";
    /// Administrator of one township.
    pub const TOWNSHIP_ADMIN: &str = "township_admin";
    /// Supervisor checking visit quality.
    pub const SUPERVISOR: &str = "supervisor";
    /// A county department that receives and handles issues.
    pub const DEPARTMENT: &str = "department";
    /// Administrator of the whole county.
    pub const COUNTY_ADMIN: &str = "county_admin";
    /// The petition (xinfang) bureau.
    pub const PETITION_BUREAU: &str = "petition_bureau";
    /// Another Zoufang service calling this one.
    pub const SERVICE: &str = "service";
    /// Every known role, for validating input such as `zfctl --roles`.
    pub const ALL: &[&str] = &[
        CADRE,
        TOWNSHIP_ADMIN,
        SUPERVISOR,
        DEPARTMENT,
        COUNTY_ADMIN,
        PETITION_BUREAU,
        SERVICE,
    ];
}

/// What a verified token says about its bearer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Role names (see [`roles`]); missing means none, which grants nothing.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Region-code prefix the bearer may act in; `""` is everything. Required
    /// in the token: defaulting a missing scope to "everything" would widen access.
    pub scope: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// The sign-in session the token belongs to (tokens the gateway issues
    /// for a person carry it); a revoked session's tokens are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Why the authority issued this token, for a token obtained through the
    /// token exchange (e.g. `callback-phone`); absent on sign-in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The service acting on the person's behalf (RFC 8693 `act`), for a
    /// delegated token; `sub` stays the person, so audits name them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
}

/// The actor of a delegated token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The acting service's client id (e.g. `supervision`).
    pub sub: String,
}

impl Claims {
    /// Whether the bearer has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Whether the bearer has at least one of `roles`.
    pub fn has_any_role(&self, roles: &[&str]) -> bool {
        roles.iter().any(|r| self.has_role(r))
    }

    /// Whether `region_code` (or a prefix of one) lies inside the bearer's scope.
    pub fn covers(&self, region_code: &str) -> bool {
        region_code.starts_with(&self.scope)
    }

    /// PermissionDenied naming the roles needed unless the bearer has one.
    pub fn require_any_role(&self, roles: &[&str]) -> ServiceResult<()> {
        if self.has_any_role(roles) {
            return Ok(());
        }
        let (need, have) = (roles.join(", "), self.roles.join(", "));
        Err(denied(format!(
            "this operation needs one of the roles [{need}]; you have [{have}]"
        )))
    }

    /// PermissionDenied unless `region_code` is inside the bearer's scope.
    pub fn require_scope(&self, region_code: &str) -> ServiceResult<()> {
        if self.covers(region_code) {
            return Ok(());
        }
        Err(denied(format!(
            "region {region_code} is outside your scope {}",
            self.scope
        )))
    }
}

fn denied(reason: String) -> ServiceError {
    ServiceError::PermissionDenied(reason)
}

fn is_region_prefix(s: &str) -> bool {
    s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Rules beyond the signature; shared by `mint` and `verify` so we never
/// mint a token we would then refuse.
fn check_shape(c: &Claims) -> Result<(), String> {
    if c.sub.trim().is_empty() {
        return Err("token has an empty sub".into());
    }
    if !is_region_prefix(&c.scope) {
        return Err(format!(
            "token scope {:?} is not a region code prefix (at most 12 digits)",
            c.scope
        ));
    }
    Ok(())
}

/// Keys that sign and verify tokens, with the one algorithm they accept.
pub struct JwtKeys {
    /// `None` for verify-only keys (a service holding only the public key).
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    /// Pins exactly one algorithm (ES256), so a token cannot choose another
    /// (the classic HS256-signed-with-the-public-key confusion), and requires
    /// [`ISSUER`] and one of the accepted audiences.
    validation: Validation,
}

impl fmt::Debug for JwtKeys {
    // Hand-written: key material stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (alg, can_sign) = (self.validation.algorithms[0], self.encoding.is_some());
        write!(f, "JwtKeys {{ algorithm: {alg:?}, can_sign: {can_sign} }}")
    }
}

/// What is signed: the claims plus issuer and audience.
#[derive(Serialize)]
struct Signed<'a, T: Serialize> {
    iss: &'static str,
    aud: &'a str,
    #[serde(flatten)]
    claims: &'a T,
}

impl JwtKeys {
    /// ES256 (P-256) from PEM: the private key as PKCS#8 (`BEGIN PRIVATE KEY`),
    /// the public key as SPKI (`BEGIN PUBLIC KEY`). Without a private key the
    /// keys only verify, which is all a service but the issuer should hold.
    /// They accept the audience [`AUDIENCE`]; add a service's own with
    /// [`Self::accepting`].
    pub fn from_pem_es256(private_pem: Option<&[u8]>, public_pem: &[u8]) -> anyhow::Result<Self> {
        let encoding = private_pem
            .map(EncodingKey::from_ec_pem)
            .transpose()
            .context("JWT private key is not a PKCS#8 PEM EC key")?;
        let decoding = DecodingKey::from_ec_pem(public_pem)
            .context("JWT public key is not a PEM EC public key")?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        let keys = Self {
            encoding,
            decoding,
            validation,
        };
        if keys.encoding.is_some() {
            // A private key that is not the public key's other half would
            // mint tokens nobody accepts: refuse it at start.
            let probe = keys.mint_for("probe", &[], "", chrono::Duration::minutes(1))?;
            keys.verify(&probe).map_err(|_| {
                anyhow::anyhow!("the JWT private key does not match the public key")
            })?;
        }
        Ok(keys)
    }

    /// The PUBLISHED development key pair (signs and verifies): for
    /// `ZF_DEV_MODE=1` and tests only.
    pub fn development() -> Self {
        Self::from_pem_es256(
            Some(DEV_JWT_PRIVATE_KEY_PEM.as_bytes()),
            DEV_JWT_PUBLIC_KEY_PEM.as_bytes(),
        )
        .expect("the development key pair is valid")
    }

    /// These keys also accept tokens whose audience is `audience` (a
    /// service accepts [`service_audience`] of itself).
    pub fn accepting(mut self, audience: &str) -> Self {
        let mut all: Vec<String> = self.validation.aud.iter().flatten().cloned().collect();
        all.push(audience.to_owned());
        self.validation.set_audience(&all);
        self
    }

    /// Checks signature, issuer, audience, expiry (30 s leeway) and claim shape.
    pub fn verify(&self, token: &str) -> ServiceResult<Claims> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| ServiceError::Unauthenticated(describe(&e)))?;
        check_shape(&data.claims).map_err(ServiceError::Unauthenticated)?;
        Ok(data.claims)
    }

    /// Signs `claims` for every service ([`AUDIENCE`]); fails for
    /// verify-only keys and malformed claims.
    pub fn mint(&self, claims: &Claims) -> anyhow::Result<String> {
        self.mint_to(claims, AUDIENCE)
    }

    /// Signs `claims` for `audience` only.
    pub fn mint_to(&self, claims: &Claims, audience: &str) -> anyhow::Result<String> {
        check_shape(claims).map_err(anyhow::Error::msg)?;
        self.sign(claims, audience)
    }

    /// Signs a claims value with more fields than [`Claims`] (the gateway
    /// adds its session id); services read the standard ones and ignore the rest.
    pub fn mint_extended<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        self.sign(claims, AUDIENCE)
    }

    /// [`Self::mint_extended`] for `audience` only (the token exchange).
    pub fn mint_extended_to<T: Serialize>(
        &self,
        claims: &T,
        audience: &str,
    ) -> anyhow::Result<String> {
        self.sign(claims, audience)
    }

    fn sign<T: Serialize>(&self, claims: &T, audience: &str) -> anyhow::Result<String> {
        let key = self
            .encoding
            .as_ref()
            .context("these JWT keys only verify: no private key was configured")?;
        let header = Header::new(self.validation.algorithms[0]);
        let signed = Signed {
            iss: ISSUER,
            aud: audience,
            claims,
        };
        Ok(jsonwebtoken::encode(&header, &signed, key)?)
    }

    /// Verifies a token (signature, issuer, audience, expiry) and reads it as `T`.
    pub fn verify_extended<T: serde::de::DeserializeOwned>(&self, token: &str) -> ServiceResult<T> {
        jsonwebtoken::decode::<T>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| ServiceError::Unauthenticated(describe(&e)))
    }

    /// Signs a token for `sub` that expires `ttl` from now.
    pub fn mint_for(
        &self,
        sub: &str,
        roles: &[&str],
        scope: &str,
        ttl: chrono::Duration,
    ) -> anyhow::Result<String> {
        self.mint(&Claims {
            sub: sub.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            scope: scope.to_owned(),
            exp: (chrono::Utc::now() + ttl).timestamp(),
            ..Claims::default()
        })
    }
}

/// A reason the caller can act on, in fixed words: never the library's
/// message (which lists the algorithms it knows) nor the token.
fn describe(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        ErrorKind::ExpiredSignature => "token expired".into(),
        ErrorKind::InvalidSignature => "bad token signature".into(),
        ErrorKind::InvalidAlgorithm => "token algorithm is not the one this service accepts".into(),
        ErrorKind::InvalidIssuer => "token was not issued by the sign-in authority".into(),
        ErrorKind::InvalidAudience => "token is not meant for this service".into(),
        ErrorKind::MissingRequiredClaim(c)
            if ["exp", "sub", "iss", "aud"].contains(&c.as_str()) =>
        {
            format!("token lacks the {c} claim")
        }
        _ => "malformed token".into(),
    }
}

/// Server-side interceptor: verifies `authorization: Bearer <token>`,
/// refuses tokens of revoked sessions, and stores the [`Claims`] in the
/// request extensions.
#[derive(Debug, Clone)]
pub struct AuthInterceptor {
    /// Keys to verify with; shared by every clone of the service.
    pub keys: Arc<JwtKeys>,
    /// Sessions the gateway closed ([`revocation`]); shared likewise.
    pub revoked: RevokedSessions,
}

impl AuthInterceptor {
    /// The verified claims of `token`, unless its session was revoked.
    pub fn check(&self, token: &str) -> ServiceResult<Claims> {
        let claims = self.keys.verify(token)?;
        if claims
            .sid
            .as_deref()
            .is_some_and(|sid| self.revoked.is_revoked(sid))
        {
            return Err(ServiceError::Unauthenticated(
                "the session has ended (signed out, password changed or account disabled); sign in again".into(),
            ));
        }
        Ok(claims)
    }
}

impl Interceptor for AuthInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let claims = self.check(bearer_token(&request)?)?;
        request.extensions_mut().insert(claims);
        Ok(request)
    }
}

/// The raw bearer token of `request` (a service acting on the caller's
/// behalf presents it to the token exchange).
pub fn bearer_token<T>(request: &Request<T>) -> ServiceResult<&str> {
    let unauth = |m: &str| ServiceError::Unauthenticated(m.to_owned());
    let Some(value) = request.metadata().get("authorization") else {
        return Err(unauth(
            "missing authorization metadata: send `authorization: Bearer <token>`",
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| unauth("authorization metadata is not ASCII"))?;
    // The scheme is case-insensitive (RFC 7235).
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(unauth("authorization metadata must be `Bearer <token>`")),
    }
}

/// The verified claims of `req`, cloned. Unauthenticated when absent, which
/// means the service was not wrapped in [`AuthInterceptor`].
pub fn claims<T>(req: &Request<T>) -> Result<Claims, Status> {
    req.extensions().get::<Claims>().cloned().ok_or_else(|| {
        Status::unauthenticated("no verified claims: the service is not wrapped in AuthInterceptor")
    })
}

/// Client-side interceptor adding `authorization: Bearer <token>`, for
/// services calling each other and for tests.
#[derive(Clone)]
pub struct BearerInterceptor(pub String);

impl fmt::Debug for BearerInterceptor {
    // The token is a credential; keep it out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerInterceptor([redacted])")
    }
}

impl Interceptor for BearerInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let value = format!("Bearer {}", self.0).parse().map_err(|_| {
            Status::unauthenticated("bearer token has characters not allowed in metadata")
        })?;
        request.metadata_mut().insert("authorization", value);
        // Every call between services is authenticated, so this is also where
        // the caller's trace context joins the request (W3C traceparent).
        crate::telemetry::inject_into_metadata(request.metadata_mut());
        Ok(request)
    }
}

#[cfg(test)]
mod tests;
