//! Where a request comes from. By default the client is the socket peer and every
//! forwarding header is ignored (anyone can send one). Behind reverse proxies the operator
//! says which to trust (`RAPPORT_TRUSTED_PROXIES`): either how many proxies stand in front
//! (`1` for one nginx), or the proxies' addresses (`10.0.0.0/8, 192.168.1.7`). The client
//! is then read from `X-Forwarded-For` counting from the right — the end the proxies
//! append to — past the trusted hops, never from its left end, which the client writes.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use rapport_domain::net::client_key;

use crate::state::AppState;

/// Which proxies in front of Rapport may say who the client is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TrustedProxies {
    /// None: the socket peer is the client (the default).
    #[default]
    None,
    /// This many proxies, each appending to `X-Forwarded-For`, stand in front.
    Hops(u8),
    /// Proxies at these addresses: the client is the last address, from the right, that
    /// is not one of them (and the peer itself must be one for the header to count).
    Networks(Vec<IpNet>),
}

impl TrustedProxies {
    /// Parses `RAPPORT_TRUSTED_PROXIES`: empty or `0` (none), a number of hops (1 to 10),
    /// or a comma-separated list of addresses and CIDR networks.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "0" {
            return Ok(Self::None);
        }
        if raw.bytes().all(|b| b.is_ascii_digit()) {
            return match raw.parse::<u8>() {
                Ok(n @ 1..=10) => Ok(Self::Hops(n)),
                _ => Err("a number of proxy hops must be 0 to 10".into()),
            };
        }
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("{s:?} is neither a number of hops, an address nor a CIDR network")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::Networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        match self {
            Self::Networks(nets) => nets.iter().any(|n| n.contains(&canonical(ip))),
            _ => false,
        }
    }

    /// The client address of a request that arrived from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        let chain = || forwarded_for(headers);
        match self {
            Self::None => peer,
            Self::Hops(n) => {
                let chain = chain();
                // The nearest proxy is the peer; the n-th from the right of the header is
                // what the farthest trusted proxy saw. A shorter header than the hops
                // configured means fewer proxies appended than expected: take its first.
                let at = chain.len().saturating_sub(usize::from(*n));
                chain.get(at).copied().flatten().unwrap_or(peer)
            }
            Self::Networks(_) => {
                if !self.trusts(peer) {
                    return peer;
                }
                let mut client = peer;
                for hop in chain().into_iter().rev() {
                    let Some(ip) = hop else {
                        // An entry that is no address: stop at the last one we could read.
                        break;
                    };
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                client
            }
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:1.2.3.4`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Every `X-Forwarded-For` entry, left to right across all such headers; an entry that is
/// not an address (with an optional port) is `None`.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        // Entry by entry, so bytes that are not text in one entry (which the client can
        // write) never hide the entries the trusted proxies appended after it.
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(|raw| {
            let s = std::str::from_utf8(raw).unwrap_or("?").trim();
            s.parse::<IpAddr>()
                .ok()
                .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
                .map(canonical)
        })
        .collect()
}

/// Whom a request is counted as by every HTTP limit: its client address, as
/// [`AppState::trusted_proxies`] says to read it, keyed by
/// [`rapport_domain::net::client_key`] — an IPv6 client counts per /64, like SMTP's.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(ClientIp(client_key(
            state.trusted_proxies.client(peer, &parts.headers),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn bytes_that_are_not_text_spoil_only_their_own_entry() {
        let proxies = TrustedProxies::parse("1").unwrap();
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.9").unwrap(),
        );
        assert_eq!(proxies.client(ip("10.0.0.1"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn parses_hops_and_networks() {
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::None);
        assert_eq!(TrustedProxies::parse("0").unwrap(), TrustedProxies::None);
        assert_eq!(TrustedProxies::parse("2").unwrap(), TrustedProxies::Hops(2));
        assert!(TrustedProxies::parse("11").is_err());
        assert!(TrustedProxies::parse("999").is_err());
        let nets = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7,::1").unwrap();
        assert!(nets.trusts(ip("10.2.3.4")) && nets.trusts(ip("192.168.1.7")));
        assert!(nets.trusts(ip("::1")) && !nets.trusts(ip("192.168.1.8")));
        assert!(TrustedProxies::parse("10.0.0.0/8, nginx").is_err());
    }

    #[test]
    fn with_no_trusted_proxy_the_header_is_ignored() {
        let t = TrustedProxies::None;
        assert_eq!(
            t.client(ip("203.0.113.9"), &headers(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn hops_count_from_the_right() {
        let one = TrustedProxies::Hops(1);
        let peer = ip("10.0.0.1");
        // The client put a lie on the left; the proxy appended the real address.
        let h = headers(&["6.6.6.6, 198.51.100.7"]);
        assert_eq!(one.client(peer, &h), ip("198.51.100.7"));
        let two = TrustedProxies::Hops(2);
        let h = headers(&["6.6.6.6", "198.51.100.7, 10.0.0.2"]);
        assert_eq!(two.client(peer, &h), ip("198.51.100.7"));
        assert_eq!(
            one.client(peer, &HeaderMap::new()),
            peer,
            "no header: the peer"
        );
        assert_eq!(
            one.client(peer, &headers(&["junk"])),
            peer,
            "no address: the peer"
        );
        assert_eq!(
            two.client(peer, &headers(&["198.51.100.7"])),
            ip("198.51.100.7")
        );
        assert_eq!(
            one.client(peer, &headers(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn networks_skip_trusted_proxies_only() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers(&["6.6.6.6, 198.51.100.7, 10.0.0.9"]);
        assert_eq!(t.client(ip("10.0.0.1"), &h), ip("198.51.100.7"));
        assert_eq!(
            t.client(ip("203.0.113.5"), &h),
            ip("203.0.113.5"),
            "a peer that is not a trusted proxy cannot speak for anyone"
        );
        assert_eq!(
            t.client(ip("::ffff:10.0.0.1"), &h),
            ip("198.51.100.7"),
            "IPv4-mapped peers are their IPv4 address"
        );
    }
}
