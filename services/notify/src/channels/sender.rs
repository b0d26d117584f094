//! The HTTP sender: POSTs a built [`OutboundRequest`] and classifies the
//! vendor's answer (see the formats in the module above).
use std::time::Duration;

use super::{
    MAX_RESPONSE_BYTES, OutboundRequest, SendError, TargetKind, classify_response, transport_reason,
};

/// Sends built requests; one per service (reuses connections).
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    timeout: Duration,
}

impl Sender {
    /// `timeout` bounds each request. Installs the ring rustls provider once (ignore "already installed").
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        // Err only means a provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A robot or webhook URL that redirects is misconfigured; following
            // it would turn the POST into a GET and carry the body elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("zoufang-notify/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, timeout })
    }

    /// POSTs the request; Ok on success as the channel defines it.
    pub async fn send(
        &self,
        target_kind: TargetKind,
        req: &OutboundRequest,
    ) -> Result<(), SendError> {
        let mut builder = self.client.post(&req.url).body(req.body.clone());
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| SendError::retryable(transport_reason(&e, self.timeout)))?;
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
                    return Err(SendError::retryable(format!(
                        "HTTP {status}, answer unreadable: {}",
                        transport_reason(&e, self.timeout)
                    )));
                }
                Err(_) => break,
            }
        }
        classify_response(target_kind, status, &body)
    }
}
