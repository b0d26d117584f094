//! The client's address, for throttling sign-ins: the socket's peer, or,
//! only when that peer is a configured trusted proxy, the nearest address
//! in X-Forwarded-For that is not one of those proxies. Anyone can write
//! X-Forwarded-For, so trusting it by default would let one client pose as
//! many.
use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

use crate::door::{error::ApiError, state::AppState};

/// The client address as a throttle key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        Ok(Self(client_address(
            peer,
            &forwarded,
            &state.settings.trusted_proxies,
        )))
    }
}

/// The client address from the peer, the X-Forwarded-For headers (in order)
/// and the trusted proxies. Without a known peer (a router driven without a
/// socket) every request shares the key `unknown`.
pub fn client_address(peer: Option<IpAddr>, forwarded: &[&str], trusted: &[IpAddr]) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    let canonical = |ip: IpAddr| ip.to_canonical();
    if !trusted.contains(&canonical(peer)) {
        return canonical(peer).to_string();
    }
    // Walk from the nearest hop outwards; the first untrusted hop is the
    // client as our own proxies saw it. What lies further left the client wrote.
    let hops: Vec<&str> = forwarded
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let mut nearest = canonical(peer);
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&canonical(ip)) => nearest = canonical(ip),
            Ok(ip) => return canonical(ip).to_string(),
            // A proxy of ours wrote something that is no address: one bucket.
            Err(_) => return "invalid-forwarded-for".into(),
        }
    }
    nearest.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let client = ip("203.0.113.7");
        // No trusted proxies: the header is ignored.
        assert_eq!(
            client_address(Some(client), &["198.51.100.1"], &[]),
            "203.0.113.7"
        );
        let proxy = ip("10.0.0.2");
        assert_eq!(
            client_address(Some(proxy), &["198.51.100.1"], &[]),
            "10.0.0.2"
        );
        // Behind a trusted proxy: the nearest untrusted hop, not what the client wrote.
        assert_eq!(
            client_address(Some(proxy), &["1.1.1.1, 198.51.100.1"], &[proxy]),
            "198.51.100.1"
        );
        assert_eq!(
            client_address(
                Some(proxy),
                &["1.1.1.1", "198.51.100.1, 10.0.0.3"],
                &[proxy, ip("10.0.0.3")]
            ),
            "198.51.100.1"
        );
        assert_eq!(client_address(Some(proxy), &[], &[proxy]), "10.0.0.2");
        assert_eq!(
            client_address(Some(proxy), &["junk"], &[proxy]),
            "invalid-forwarded-for"
        );
        assert_eq!(client_address(None, &["1.1.1.1"], &[]), "unknown");
        // An IPv4 peer seen through an IPv6 socket is the same client.
        assert_eq!(
            client_address(Some(ip("::ffff:203.0.113.7")), &[], &[]),
            "203.0.113.7"
        );
    }
}
