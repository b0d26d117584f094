//! Authenticating a signed case, whichever door it came by: the webhook
//! carries the signature in HTTP headers, the AMQP door in message headers,
//! with one scheme (`runtime::signing`): the registered source's secret,
//! `HMAC-SHA256(secret, "{ts}.{body}")`, and the freshness window. What
//! passes is the source and the MAC's bytes, which intake remembers so the
//! same request is taken once.
use zoufang_bus::signing;
use zoufang_core::ServiceError;

use crate::{ops::State, store, store::sources::SourceRow};

/// Names of the three headers (lower case, as HTTP carries them; the AMQP
/// door reads them case-insensitively).
pub const HEADER_SOURCE: &str = "x-zoufang-source";
pub const HEADER_TIMESTAMP: &str = "x-zoufang-timestamp";
pub const HEADER_SIGNATURE: &str = "x-zoufang-signature";

/// The signature's parts as they arrived (each may be missing).
#[derive(Debug, Clone, Copy, Default)]
pub struct Signed<'a> {
    pub source: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Why a request is not authentic; the text is safe to answer the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unauthenticated {
    #[error("missing X-Zoufang-Source")]
    NoSource,
    #[error("unsigned: send X-Zoufang-Timestamp and X-Zoufang-Signature")]
    Unsigned,
    #[error("X-Zoufang-Source is not a registered source system")]
    UnknownSource,
    #[error("the source system has no signing secret")]
    NoSecret,
    #[error("{0}")]
    Signature(#[from] signing::SignatureError),
}

/// An authentic request: who sent it and the MAC to remember.
#[derive(Debug, Clone)]
pub struct Authentic {
    pub source: SourceRow,
    pub mac: Vec<u8>,
}

/// Checks `signed` over `body`. The outer error is ours (the database); the
/// inner one is the request's.
pub async fn authenticate(
    state: &State,
    signed: Signed<'_>,
    body: &[u8],
) -> Result<Result<Authentic, Unauthenticated>, ServiceError> {
    let Some(source_name) = signed.source.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Err(Unauthenticated::NoSource));
    };
    let (Some(timestamp), Some(signature)) = (signed.timestamp, signed.signature) else {
        return Ok(Err(Unauthenticated::Unsigned));
    };
    let Some(source) = store::sources::by_name(&state.pool, source_name).await? else {
        return Ok(Err(Unauthenticated::UnknownSource));
    };
    let Some(secret) = source
        .secret_enc
        .as_deref()
        .and_then(|enc| state.pii.decrypt(enc).ok())
    else {
        return Ok(Err(Unauthenticated::NoSecret));
    };
    // Freshness is wall-clock time; the service clock is business time
    // (tests move it through the statutory periods).
    Ok(signing::verify_mac(
        secret.as_bytes(),
        timestamp,
        signature,
        body,
        state.wall.now(),
        state.settings.signature_window_secs,
    )
    .map(|mac| Authentic { source, mac })
    .map_err(Unauthenticated::from))
}
