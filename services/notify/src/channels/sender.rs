//! The HTTP sender: POSTs a built [`OutboundRequest`] and classifies the
//! vendor's answer (see the formats in the module above).
use std::time::Duration;

use zoufang_core::outbound::{self, OutboundPolicy};

use super::{
    MAX_RESPONSE_BYTES, OutboundRequest, SendError, TargetKind, classify_response,
    transport_failure,
};

/// Sends built requests; one per service (reuses connections).
#[derive(Debug, Clone)]
pub struct Sender {
    /// For URLs callers chose (robots, webhooks): connects only to addresses
    /// `policy` allows, checked as they resolve.
    checked: reqwest::Client,
    /// For the operator's SMS provider (configuration, trusted as is).
    operator: reqwest::Client,
    policy: OutboundPolicy,
    timeout: Duration,
}

impl Sender {
    /// `timeout` bounds each request; `policy` decides which robot and
    /// webhook URLs may be called. Installs the ring rustls provider once.
    pub fn new(timeout: Duration, policy: OutboundPolicy) -> anyhow::Result<Self> {
        // Err only means a provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let user_agent = concat!("zoufang-notify/", env!("CARGO_PKG_VERSION"));
        // A URL that redirects is misconfigured; following it would turn the
        // POST into a GET and carry the body elsewhere (both clients).
        let checked = policy
            .client_builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(user_agent)
            .build()?;
        let operator = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent)
            .build()?;
        Ok(Self {
            checked,
            operator,
            policy,
            timeout,
        })
    }

    /// The rule robot and webhook URLs are registered under.
    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// POSTs the request; Ok on success as the channel defines it.
    pub async fn send(
        &self,
        target_kind: TargetKind,
        req: &OutboundRequest,
    ) -> Result<(), SendError> {
        let client = if target_kind == TargetKind::Sms {
            &self.operator
        } else {
            // Again at every send: literal addresses skip the resolver.
            if let Err(why) = self.policy.check_url(&req.url) {
                return Err(
                    SendError::permanent(outbound::GENERIC_REFUSAL).with_detail(why.to_string())
                );
            }
            &self.checked
        };
        let mut builder = client.post(&req.url).body(req.body.clone());
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut response = builder.send().await.map_err(|e| {
            let failure = transport_failure(&e, self.timeout);
            if outbound::is_refusal(&e) {
                SendError::permanent(outbound::GENERIC_REFUSAL).with_detail(failure.detail)
            } else {
                failure
            }
        })?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BYTES.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() >= MAX_RESPONSE_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                // A success status whose answer cannot be read: robots and SMS
                // need the answer, so that is retryable; a webhook's 2xx suffices.
                Err(e) if (200..300).contains(&status) && target_kind != TargetKind::Webhook => {
                    let failure = transport_failure(&e, self.timeout);
                    return Err(SendError::retryable(format!(
                        "HTTP {status}, answer unreadable: {}",
                        failure.reason
                    ))
                    .with_detail(failure.detail));
                }
                Err(_) => break,
            }
        }
        classify_response(target_kind, status, &body)
    }
}
