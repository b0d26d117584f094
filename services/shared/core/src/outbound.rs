//! Outbound HTTP to URLs that callers choose (webhook subscriptions, group
//! robots, petition callbacks): only `https://` to public addresses, unless
//! the operator's allow-list (`OUTBOUND_ALLOW`) names the host or its
//! network. Checked when the URL is registered (a clear error naming the
//! field) and again at every send, after DNS resolution, on the very
//! addresses the connection is made to (a name that resolved to a public
//! address at registration may point inside later: DNS rebinding).
//!
//! `OUTBOUND_ALLOW` is a comma-separated list of host names (exact, any
//! case), IP addresses and CIDR networks, e.g.
//! `127.0.0.1,10.20.0.0/16,robot.intranet`. An allowed host or address may
//! also be reached over plain `http://`.
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::Url;

/// Whether `ip` is an ordinary public unicast address: not loopback,
/// private, link-local (cloud metadata 169.254.169.254), CGNAT, unspecified,
/// multicast, broadcast, documentation or otherwise reserved; IPv6 only in
/// global unicast 2000::/3 minus its special blocks, and IPv4 embedded in
/// IPv6 (mapped, NAT64, 6to4) judged as the IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network", 0.0.0.0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 64:ff9b::/96 carries an IPv4 address in its last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [hi, lo] = [s[6].to_be_bytes(), s[7].to_be_bytes()];
        return is_public_v4(Ipv4Addr::new(hi[0], hi[1], lo[0], lo[1]));
    }
    // 6to4 2002::/16 carries one in bits 16..48.
    if s[0] == 0x2002 {
        let [hi, lo] = [s[1].to_be_bytes(), s[2].to_be_bytes()];
        return is_public_v4(Ipv4Addr::new(hi[0], hi[1], lo[0], lo[1]));
    }
    let global_unicast = s[0] & 0xe000 == 0x2000;
    let protocol_assignments = s[0] == 0x2001 && s[1] < 0x0200; // 2001::/23, Teredo
    let documentation = s[0] == 0x2001 && s[1] == 0x0db8; // 2001:db8::/32
    global_unicast && !protocol_assignments && !documentation
}

/// The operator's allow-list: host names, addresses and networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    hosts: Vec<String>,
    nets: Vec<(IpAddr, u8)>,
}

impl AllowList {
    /// Parses `OUTBOUND_ALLOW` (see the module docs); empty allows nothing.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut list = Self::default();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (addr, bits) = match entry.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (entry, None),
            };
            match (addr.parse::<IpAddr>(), bits) {
                (Ok(ip), bits) => {
                    let ip = ip.to_canonical();
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    let bits = match bits {
                        None => max,
                        Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| {
                            format!("OUTBOUND_ALLOW: bad prefix length in {entry:?}")
                        })?,
                    };
                    list.nets.push((ip, bits));
                }
                (Err(_), None)
                    if entry
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
                {
                    list.hosts.push(entry.to_ascii_lowercase());
                }
                _ => {
                    return Err(format!(
                        "OUTBOUND_ALLOW: {entry:?} is neither a host name, an IP address nor a CIDR network"
                    ));
                }
            }
        }
        Ok(list)
    }

    /// Whether the host name itself is listed.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host)
    }

    /// Whether the address lies in a listed network.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|(net, bits)| in_net(ip, *net, *bits))
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Why a URL may not be called. The texts are for the person registering
/// it; at send time callers see only [`GENERIC_REFUSAL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not a valid absolute URL")]
    Invalid,
    #[error("must be an https:// URL")]
    NotHttps,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error(
        "points to a loopback, private or otherwise non-public address; only public addresses \
         may be called unless the operator allows it (OUTBOUND_ALLOW)"
    )]
    NotPublic,
    #[error("its host name does not resolve")]
    Unresolvable,
}

/// The failure reason shown to callers when a send was refused here.
pub const GENERIC_REFUSAL: &str = "the address is not allowed (public https only)";

/// How long a registration waits for DNS.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The rule for outbound URLs, with the operator's allow-list.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allow: Arc<AllowList>,
}

impl OutboundPolicy {
    /// A policy with the allow-list `OUTBOUND_ALLOW` (see the module docs).
    pub fn new(allow_spec: &str) -> Result<Self, String> {
        Ok(Self {
            allow: Arc::new(AllowList::parse(allow_spec)?),
        })
    }

    fn address_ok(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allow.allows_ip(ip)
    }

    /// The checks a URL passes on its own, without DNS: absolute http(s),
    /// no credentials, https unless the host is allowed, and a literal
    /// address public or allowed. Used at registration and before each send
    /// (connections to literal addresses skip the resolver).
    pub fn check_url(&self, raw: &str) -> Result<Url, Refused> {
        let url = Url::parse(raw.trim()).map_err(|_| Refused::Invalid)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::NotHttps);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused::Credentials);
        }
        let (host_allowed, literal) = match url.host() {
            None => return Err(Refused::Invalid),
            Some(url::Host::Domain(d)) => (self.allow.allows_host(d), None),
            Some(url::Host::Ipv4(ip)) => (self.allow.allows_ip(ip.into()), Some(IpAddr::V4(ip))),
            Some(url::Host::Ipv6(ip)) => (self.allow.allows_ip(ip.into()), Some(IpAddr::V6(ip))),
        };
        if url.scheme() != "https" && !host_allowed {
            return Err(Refused::NotHttps);
        }
        if let Some(ip) = literal
            && !self.address_ok(ip)
        {
            return Err(Refused::NotPublic);
        }
        Ok(url)
    }

    /// Everything [`check_url`](Self::check_url) checks, and the addresses
    /// the host resolves to now (each must be public or allowed).
    pub async fn check_registration(&self, raw: &str) -> Result<(), Refused> {
        let url = self.check_url(raw)?;
        let Some(url::Host::Domain(host)) = url.host() else {
            return Ok(());
        };
        if self.allow.allows_host(host) {
            return Ok(());
        }
        let addrs = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, 443)))
            .await
            .map_err(|_| Refused::Unresolvable)?
            .map_err(|_| Refused::Unresolvable)?
            .collect::<Vec<_>>();
        if addrs.is_empty() {
            return Err(Refused::Unresolvable);
        }
        if addrs.iter().any(|a| !self.address_ok(a.ip())) {
            return Err(Refused::NotPublic);
        }
        Ok(())
    }

    /// A client builder whose every connection goes only to checked
    /// addresses: its resolver refuses a name with any address that is not
    /// public (or allowed), no proxy is used (it would resolve for us) and
    /// redirects are not followed.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        // Err only means a provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckingResolver {
                policy: self.clone(),
            }))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
    }
}

/// Whether a send failed because this policy refused the address.
pub fn is_refusal(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.downcast_ref::<Refused>().is_some() {
            return true;
        }
        next = e.source();
    }
    false
}

/// Resolves, checks every address, and hands the connector only those.
struct CheckingResolver {
    policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for CheckingResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !policy.allow.allows_host(&host)
                && (addrs.is_empty() || addrs.iter().any(|a| !policy.address_ok(a.ip())))
            {
                tracing::warn!(%host, ?addrs, "outbound request refused: the name resolves to a non-public address");
                return Err(
                    Box::new(Refused::NotPublic) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect(s)
    }

    #[test]
    fn only_ordinary_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254", // cloud metadata
            "169.254.0.1",
            "100.64.0.1", // CGNAT
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1", // ULA
            "fe80::1",      // link-local
            "ff02::1",
            "::ffff:127.0.0.1", // IPv4-mapped
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1", // NAT64 of 10.0.0.1
            "2002:7f00:1::1", // 6to4 of 127.0.0.1
            "2001:db8::1",    // documentation
            "2001::1",        // Teredo
            "::127.0.0.1",    // IPv4-compatible (deprecated)
        ] {
            assert!(!is_public(ip(private)), "{private} counted as public");
        }
        for public in [
            "1.1.1.1",
            "101.226.4.6",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "169.253.1.1",
            "2400:3200::1",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::101:101",
        ] {
            assert!(is_public(ip(public)), "{public} counted as non-public");
        }
    }

    #[test]
    fn the_allow_list_takes_hosts_addresses_and_networks() {
        let list = AllowList::parse(" 127.0.0.1, 10.20.0.0/16 ,Robot.Intranet,fd00::/8").unwrap();
        assert!(list.allows_ip(ip("127.0.0.1")));
        assert!(list.allows_ip(ip("::ffff:127.0.0.1")));
        assert!(!list.allows_ip(ip("127.0.0.2")));
        assert!(list.allows_ip(ip("10.20.3.4")));
        assert!(!list.allows_ip(ip("10.21.0.1")));
        assert!(list.allows_ip(ip("fd12::1")));
        assert!(list.allows_host("robot.intranet"));
        assert!(list.allows_host("ROBOT.intranet."));
        assert!(!list.allows_host("intranet"));
        assert_eq!(AllowList::parse("").unwrap(), AllowList::default());
        assert!(AllowList::parse("10.0.0.0/33").is_err());
        assert!(AllowList::parse("http://x").is_err());
        assert!(
            AllowList::parse("0.0.0.0/0")
                .unwrap()
                .allows_ip(ip("10.0.0.1"))
        );
    }

    #[test]
    fn urls_must_be_https_to_public_literal_addresses_unless_allowed() {
        let strict = OutboundPolicy::default();
        assert!(
            strict
                .check_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
                .is_ok()
        );
        assert_eq!(
            strict.check_url("http://example.com/hook").unwrap_err(),
            Refused::NotHttps
        );
        assert_eq!(
            strict.check_url("ftp://example.com/").unwrap_err(),
            Refused::NotHttps
        );
        assert_eq!(strict.check_url("not a url").unwrap_err(), Refused::Invalid);
        assert_eq!(
            strict
                .check_url("https://guest:guest@example.com/")
                .unwrap_err(),
            Refused::Credentials
        );
        for inside in [
            "https://127.0.0.1:15672/api/overview",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[fd00::1]/",
            "https://0.0.0.0/",
            "https://10.0.0.1/",
            "https://2130706433/", // 127.0.0.1 as one number
            "https://0x7f.1/",
        ] {
            assert_eq!(
                strict.check_url(inside).unwrap_err(),
                Refused::NotPublic,
                "{inside}"
            );
        }
        let dev = OutboundPolicy::new("127.0.0.1,robot.intranet").unwrap();
        assert!(dev.check_url("http://127.0.0.1:8099/hook").is_ok());
        assert!(dev.check_url("http://robot.intranet/send").is_ok());
        assert_eq!(
            dev.check_url("http://10.0.0.1/").unwrap_err(),
            Refused::NotHttps
        );
    }

    #[tokio::test]
    async fn registration_resolves_and_checks_every_address() {
        let strict = OutboundPolicy::default();
        assert_eq!(
            strict
                .check_registration("https://localhost:15672/api/overview")
                .await,
            Err(Refused::NotPublic)
        );
        let dev = OutboundPolicy::new("127.0.0.0/8,::1").unwrap();
        assert_eq!(dev.check_registration("https://localhost/").await, Ok(()));
    }

    #[tokio::test]
    async fn the_client_refuses_names_that_resolve_inside() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = OutboundPolicy::default().client_builder().build().unwrap();
        let err = client
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .expect_err("connected to loopback by name");
        assert!(is_refusal(&err), "{err:?}");
    }
}
