//! The token exchange: how a service obtains from the sign-in authority (the
//! gateway) a short-lived token for one purpose at one other service, instead
//! of signing tokens itself (services hold no private key).
//!
//! The gateway serves `POST /internal/token` on its admin listener (private
//! network only). A client (a service) authenticates with its id and secret
//! (`ZF_SERVICE_SECRET`) and names a purpose; each client may obtain only
//! its own purposes. A delegated purpose also needs the person's own valid
//! access token (`subject_token`): the issued token keeps the person as `sub`
//! (so audits name them) and adds `act: {sub: <client>}`. A service purpose
//! names a region `scope` and is issued to the service itself.
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use crate::error::{ServiceError, ServiceResult};

/// The path of the exchange on the gateway's admin listener.
pub const PATH: &str = "/internal/token";
/// Longest lifetime of an exchanged token.
pub const MAX_TTL_SECS: i64 = 120;

/// Purposes the authority issues tokens for.
pub mod purposes {
    /// Supervision reads a household's phone for the assigned supervisor's callback.
    pub const CALLBACK_PHONE: &str = "callback-phone";
    /// Supervision reads cadres and their progress for a person's assessment.
    pub const ASSESSMENT: &str = "assessment";
    /// The petition bridge finds and tags a petitioner's household.
    pub const PETITION_MATCH: &str = "petition-match";
}

/// DEVELOPMENT ONLY — PUBLISHED. The secret of `client` under
/// `ZF_DEV_MODE=1` (and in tests), on both sides of the exchange.
pub fn dev_service_secret(client: &str) -> String {
    format!("zoufang-dev-service-secret-{client}")
}

/// What a client sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    pub client_id: String,
    pub client_secret: String,
    pub purpose: String,
    /// The person's access token, for a delegated purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_token: Option<String>,
    /// The region prefix, for a service purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl std::fmt::Display for ExchangeRequest {
    // Never the secret or the subject token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} asking for {}", self.client_id, self.purpose)
    }
}

/// What the authority answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExchangeResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub audience: String,
}

/// A client of the exchange: one service's credentials and the authority's URL.
pub struct TokenExchange {
    url: String,
    client_id: String,
    secret: String,
    http: reqwest::Client,
    /// Service tokens by (purpose, scope), reused until shortly before expiry.
    cache: Mutex<HashMap<(String, String), (String, Instant)>>,
}

impl std::fmt::Debug for TokenExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TokenExchange {{ url: {}, client_id: {} }}",
            self.url, self.client_id
        )
    }
}

impl TokenExchange {
    /// A client posting to `url` (the full URL of [`PATH`]) as `client_id`.
    pub fn new(url: &str, client_id: &str, secret: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "TOKEN_EXCHANGE_URL must be an http(s) URL, got {url:?}"
        );
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            url: url.to_owned(),
            client_id: client_id.to_owned(),
            secret: secret.to_owned(),
            http,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// A token acting for the person whose access token is `subject_token`.
    /// Never cached: it lives as long as one operation.
    pub async fn delegated(&self, purpose: &str, subject_token: &str) -> ServiceResult<String> {
        let answer = self
            .post(purpose, Some(subject_token.to_owned()), None)
            .await?;
        Ok(answer.access_token)
    }

    /// A token of this service itself for `purpose` in `scope`, reused while
    /// it has more than a third of its life left.
    pub async fn for_service(&self, purpose: &str, scope: &str) -> ServiceResult<String> {
        let key = (purpose.to_owned(), scope.to_owned());
        if let Some((token, until)) = self.cache.lock().expect("cache").get(&key)
            && *until > Instant::now()
        {
            return Ok(token.clone());
        }
        let answer = self.post(purpose, None, Some(scope.to_owned())).await?;
        let reuse = Duration::from_secs(u64::try_from(answer.expires_in * 2 / 3).unwrap_or(0));
        let mut cache = self.cache.lock().expect("cache");
        cache.retain(|_, (_, until)| *until > Instant::now());
        cache.insert(key, (answer.access_token.clone(), Instant::now() + reuse));
        Ok(answer.access_token)
    }

    async fn post(
        &self,
        purpose: &str,
        subject_token: Option<String>,
        scope: Option<String>,
    ) -> ServiceResult<ExchangeResponse> {
        let body = ExchangeRequest {
            client_id: self.client_id.clone(),
            client_secret: self.secret.clone(),
            purpose: purpose.to_owned(),
            subject_token,
            scope,
        };
        let resp = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("token exchange unreachable: {e}"))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp
                .json()
                .await
                .map_err(|e| anyhow::anyhow!("token exchange answered garbage: {e}"))?);
        }
        let v = resp.json::<serde_json::Value>().await.unwrap_or_default();
        let (code, message) = (
            v["code"].as_str().unwrap_or_default(),
            v["message"].as_str().unwrap_or_default(),
        );
        let why = format!("the token authority refused {purpose}: {message}");
        Err(match code {
            // The person's own token was refused (expired, signed out) or
            // does not allow the purpose: the caller's problem.
            codes::SUBJECT_UNAUTHENTICATED => ServiceError::Unauthenticated(why),
            codes::SUBJECT_FORBIDDEN => ServiceError::PermissionDenied(why),
            // Our own credentials or configuration are wrong: a server fault.
            _ => ServiceError::Internal(anyhow::anyhow!("{why} (HTTP {status}, {code})")),
        })
    }
}

/// The `code` of the authority's refusals.
pub mod codes {
    /// Unknown client or wrong secret (401).
    pub const INVALID_CLIENT: &str = "invalid_client";
    /// The client may not obtain this purpose (403).
    pub const UNAUTHORIZED_CLIENT: &str = "unauthorized_client";
    /// The request is malformed: unknown purpose, missing token or scope (400).
    pub const INVALID_REQUEST: &str = "invalid_request";
    /// The person's token is not valid (expired, signed out, forged) (401).
    pub const SUBJECT_UNAUTHENTICATED: &str = "subject_unauthenticated";
    /// The person's roles do not allow the purpose (403).
    pub const SUBJECT_FORBIDDEN: &str = "subject_forbidden";
}
