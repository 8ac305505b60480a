//! Who the client is behind reverse proxies: its address (for rate limits and
//! logs) and whether it spoke HTTPS (for HSTS).
//!
//! A proxy *appends* the address it saw to `X-Forwarded-For` (or a `for=`
//! element to `Forwarded`), after whatever the client sent. Only the
//! right-most entries are therefore trustworthy: the chain is walked from the
//! peer leftwards, skipping trusted proxies, and the first address that is not
//! a trusted proxy is the client.
//!
//! * Nothing trusted (the default): the TCP peer, headers ignored.
//! * `KEYHOLDER_TRUSTED_PROXIES` (IPs/CIDRs): headers are read only when the
//!   peer is one of them; every listed address is skipped.
//! * `KEYHOLDER_TRUST_PROXY=true` without a list: `KEYHOLDER_PROXY_HOPS`
//!   proxies (default 1) stand in front, whatever their addresses; the client
//!   is the hops-th entry from the right (with one proxy: the right-most).
//!
//! When the walk meets an entry it cannot parse (`unknown`, an obfuscated
//! `_name`, garbage), it stops at the last address it reached (the proxy that
//! wrote it). When the chain is shorter than the configured hops, the
//! right-most entry is used (written by the nearest proxy), never one further
//! left that the client may have written.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use actix_web::http::header::HeaderMap;

use crate::config::Config;

/// Which header the proxies write. Only that one is read: a client can put
/// the other one in its request and a proxy that does not know it passes it on
/// untouched.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProxyHeader {
    /// `X-Forwarded-For` (and `X-Forwarded-Proto`).
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239: `for=` and `proto=`).
    Forwarded,
}

/// An IP network: `10.0.0.0/8`, `fd00::/8`, or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` lies in this network (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                self.prefix,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, prefix: u8, bits: u32) -> bool {
    let host_bits = bits - u32::from(prefix);
    if host_bits >= bits {
        return true;
    }
    (a >> host_bits) == (b >> host_bits)
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR network"))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?} has a prefix length outside 0..={max}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Trust {
    /// Headers are ignored: the client is the peer.
    Nobody,
    /// This many proxies stand in front, whatever their addresses.
    Hops(usize),
    /// The proxies are exactly these networks.
    Networks(Vec<IpNet>),
}

/// The proxy configuration: whom to believe and which header to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxies {
    trust: Trust,
    header: ProxyHeader,
}

/// What the walk found.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Client {
    ip: Option<IpAddr>,
    /// The scheme a trusted proxy reported for the client's request.
    https: bool,
}

/// One entry of the forwarding chain: an address, or something unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Hop {
    ip: Option<IpAddr>,
    /// `proto=` of a `Forwarded` element.
    proto: Option<String>,
}

impl Proxies {
    /// Headers are never read.
    pub fn none() -> Self {
        Self {
            trust: Trust::Nobody,
            header: ProxyHeader::XForwardedFor,
        }
    }

    /// `hops` proxies in front (at least one).
    pub fn hops(hops: usize, header: ProxyHeader) -> Self {
        Self {
            trust: Trust::Hops(hops.max(1)),
            header,
        }
    }

    /// The proxies are these networks (an empty list trusts nobody).
    pub fn networks(networks: Vec<IpNet>, header: ProxyHeader) -> Self {
        if networks.is_empty() {
            return Self::none();
        }
        Self {
            trust: Trust::Networks(networks),
            header,
        }
    }

    /// From `KEYHOLDER_TRUSTED_PROXIES`, `KEYHOLDER_TRUST_PROXY`,
    /// `KEYHOLDER_PROXY_HOPS` and `KEYHOLDER_PROXY_HEADER`.
    pub fn from_config(config: &Config) -> Self {
        if !config.trusted_proxies.is_empty() {
            Self::networks(config.trusted_proxies.clone(), config.proxy_header)
        } else if config.trust_proxy {
            Self::hops(
                usize::try_from(config.proxy_hops).unwrap_or(usize::MAX),
                config.proxy_header,
            )
        } else {
            Self::none()
        }
    }

    /// The client address: the peer, or the right-most address in the
    /// forwarding chain that is not a trusted proxy.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        self.resolve(peer, headers).ip
    }

    /// Whether a trusted proxy says the client used HTTPS.
    pub fn forwarded_https(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        self.resolve(peer, headers).https
    }

    fn resolve(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Client {
        let peer = peer.map(|p| p.to_canonical());
        let direct = Client {
            ip: peer,
            https: false,
        };
        let is_proxy = |ip: Option<IpAddr>, position: usize| match &self.trust {
            Trust::Nobody => false,
            Trust::Hops(n) => position <= *n,
            Trust::Networks(nets) => ip.is_some_and(|ip| nets.iter().any(|n| n.contains(ip))),
        };
        // Position 1 is the peer, 2 the right-most entry, and so on.
        if !is_proxy(peer, 1) {
            return direct;
        }
        let chain = match self.header {
            ProxyHeader::XForwardedFor => x_forwarded_for(headers),
            ProxyHeader::Forwarded => forwarded(headers),
        };
        let Some(last) = chain.last() else {
            return direct;
        };
        let chosen: &Hop = match &self.trust {
            // Shorter than the hops: the request skipped an outer proxy, or a
            // proxy does not append. Only the right-most entry is certain.
            Trust::Hops(n) if chain.len() < *n => last,
            _ => {
                let mut chosen: Option<&Hop> = None;
                let mut position = 1;
                for hop in chain.iter().rev() {
                    if hop.ip.is_none() {
                        break;
                    }
                    chosen = Some(hop);
                    position += 1;
                    if !is_proxy(hop.ip, position) {
                        break;
                    }
                }
                match chosen {
                    Some(hop) => hop,
                    None => return direct,
                }
            }
        };
        let Some(ip) = chosen.ip else {
            return direct;
        };
        let https = match self.header {
            ProxyHeader::Forwarded => chosen
                .proto
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case("https")),
            ProxyHeader::XForwardedFor => {
                x_forwarded_proto(headers).is_some_and(|p| p.eq_ignore_ascii_case("https"))
            }
        };
        Client {
            ip: Some(ip.to_canonical()),
            https,
        }
    }
}

/// The values of every `name` header, in order, as one comma-separated list.
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for value in headers.get_all(name) {
        // A header that is not visible ASCII is unusable as a whole.
        let value = value.to_str().unwrap_or("\u{0}");
        match &mut out {
            Some(s) => {
                s.push(',');
                s.push_str(value);
            }
            None => out = Some(value.to_owned()),
        }
    }
    out
}

fn x_forwarded_for(headers: &HeaderMap) -> Vec<Hop> {
    let Some(all) = joined(headers, "x-forwarded-for") else {
        return Vec::new();
    };
    all.split(',')
        .map(|entry| Hop {
            ip: parse_node(entry.trim()),
            proto: None,
        })
        .collect()
}

/// The right-most `X-Forwarded-Proto` value (the one the nearest proxy set).
fn x_forwarded_proto(headers: &HeaderMap) -> Option<String> {
    let all = joined(headers, "x-forwarded-proto")?;
    all.rsplit(',')
        .next()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
}

fn forwarded(headers: &HeaderMap) -> Vec<Hop> {
    let Some(all) = joined(headers, "forwarded") else {
        return Vec::new();
    };
    split_unquoted(&all, ',')
        .into_iter()
        .map(|element| {
            let mut hop = Hop {
                ip: None,
                proto: None,
            };
            let mut seen_for = false;
            for pair in split_unquoted(element, ';') {
                let Some((key, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = unquote(value.trim());
                match key.trim().to_ascii_lowercase().as_str() {
                    // A repeated `for` makes the element ambiguous.
                    "for" if !seen_for => {
                        seen_for = true;
                        hop.ip = value.as_deref().and_then(parse_node);
                    }
                    "for" => hop.ip = None,
                    "proto" => hop.proto = value,
                    _ => {}
                }
            }
            hop
        })
        .collect()
}

/// Splits on `sep` outside double-quoted strings (with `\` escapes).
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A token, or a quoted-string without its quotes and escapes; `None` when a
/// quote is unbalanced.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return (!value.contains('"')).then(|| value.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// An address with an optional port: `192.0.2.1`, `192.0.2.1:80`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:80`. Anything else
/// (`unknown`, `_hidden`, garbage) is `None`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip().to_canonical());
    }
    // `[v6]` without a port, or `[v6]:_obfuscated` (RFC 7239 node port).
    let rest = s.strip_prefix('[')?;
    let (ip, after) = rest.split_once(']')?;
    let port_ok = after.is_empty()
        || after.strip_prefix(':').is_some_and(|p| {
            !p.is_empty()
                && (p.bytes().all(|b| b.is_ascii_digit())
                    || (p.starts_with('_')
                        && p.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))))
        });
    if !port_ok {
        return None;
    }
    ip.parse::<std::net::Ipv6Addr>()
        .ok()
        .map(|ip| IpAddr::V6(ip).to_canonical())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        map
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().expect("network")).collect()
    }

    const PEER: &str = "10.0.0.1";

    fn client(p: &Proxies, pairs: &[(&str, &str)]) -> Option<IpAddr> {
        p.client_ip(Some(ip(PEER)), &headers(pairs))
    }

    #[test]
    fn networks_parse_and_match() {
        let n: IpNet = "10.0.0.0/8".parse().expect("net");
        assert!(n.contains(ip("10.1.2.3")));
        assert!(!n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.9.9.9")), "IPv4-mapped IPv6");
        assert!(!n.contains(ip("2001:db8::1")));
        let one: IpNet = "192.0.2.7".parse().expect("net");
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6: IpNet = "2001:db8::/32".parse().expect("net");
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        let all: IpNet = "0.0.0.0/0".parse().expect("net");
        assert!(all.contains(ip("203.0.113.1")));
        let all6: IpNet = "::/0".parse().expect("net");
        assert!(all6.contains(ip("2001:db8::1")));
        assert!("[::1]".parse::<IpNet>().is_ok());
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/x",
            "example.com",
            "10.0.0/8",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            "10.0.0.0/8".parse::<IpNet>().map(|n| n.to_string()),
            Ok("10.0.0.0/8".into())
        );
    }

    #[test]
    fn nodes_parse_in_every_documented_form() {
        assert_eq!(parse_node("192.0.2.43"), Some(ip("192.0.2.43")));
        assert_eq!(parse_node("192.0.2.43:47011"), Some(ip("192.0.2.43")));
        assert_eq!(
            parse_node("2001:db8:cafe::17"),
            Some(ip("2001:db8:cafe::17"))
        );
        assert_eq!(
            parse_node("[2001:db8:cafe::17]"),
            Some(ip("2001:db8:cafe::17"))
        );
        assert_eq!(
            parse_node("[2001:db8:cafe::17]:4711"),
            Some(ip("2001:db8:cafe::17"))
        );
        assert_eq!(parse_node("[2001:db8::1]:_port"), Some(ip("2001:db8::1")));
        assert_eq!(parse_node("::ffff:192.0.2.1"), Some(ip("192.0.2.1")));
        for bad in [
            "unknown",
            "_hidden",
            "",
            "[2001:db8::1",
            "[2001:db8::1]x",
            "[2001:db8::1]:",
            "1.2.3",
            "a b",
            "[192.0.2.1]",
        ] {
            assert_eq!(parse_node(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn nothing_trusted_means_the_peer() {
        let p = Proxies::none();
        assert_eq!(
            client(&p, &[("x-forwarded-for", "203.0.113.9")]),
            Some(ip(PEER))
        );
        assert_eq!(
            client(&p, &[("forwarded", "for=203.0.113.9")]),
            Some(ip(PEER))
        );
        assert_eq!(
            p.client_ip(None, &headers(&[("x-forwarded-for", "1.1.1.1")])),
            None
        );
        assert!(!p.forwarded_https(Some(ip(PEER)), &headers(&[("x-forwarded-proto", "https")])));
    }

    #[test]
    fn one_hop_takes_the_right_most_entry_not_the_left_most() {
        let p = Proxies::hops(1, ProxyHeader::XForwardedFor);
        assert_eq!(
            client(&p, &[("x-forwarded-for", "203.0.113.9")]),
            Some(ip("203.0.113.9"))
        );
        // The client wrote the left entries; the proxy appended the last one.
        assert_eq!(
            client(&p, &[("x-forwarded-for", "1.1.1.1, 2.2.2.2, 203.0.113.9")]),
            Some(ip("203.0.113.9"))
        );
        // Several header lines are one list, in order.
        assert_eq!(
            client(
                &p,
                &[
                    ("x-forwarded-for", "1.1.1.1"),
                    ("x-forwarded-for", "203.0.113.9")
                ]
            ),
            Some(ip("203.0.113.9"))
        );
        // No header: the peer.
        assert_eq!(client(&p, &[]), Some(ip(PEER)));
        // IPv6 and ports.
        assert_eq!(
            client(&p, &[("x-forwarded-for", "1.1.1.1, [2001:db8::5]:1234")]),
            Some(ip("2001:db8::5"))
        );
        assert_eq!(
            client(&p, &[("x-forwarded-for", "2001:db8::5")]),
            Some(ip("2001:db8::5"))
        );
    }

    #[test]
    fn several_hops_take_the_nth_entry_from_the_right() {
        let p = Proxies::hops(2, ProxyHeader::XForwardedFor);
        assert_eq!(
            client(&p, &[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.2")]),
            Some(ip("203.0.113.9"))
        );
        // Shorter than the hops: the right-most entry, never one the client wrote.
        assert_eq!(
            client(&p, &[("x-forwarded-for", "10.0.0.2")]),
            Some(ip("10.0.0.2"))
        );
        let three = Proxies::hops(3, ProxyHeader::XForwardedFor);
        assert_eq!(
            client(&three, &[("x-forwarded-for", "6.6.6.6, 203.0.113.9")]),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn unparseable_entries_stop_the_walk_at_the_last_known_address() {
        let p = Proxies::hops(1, ProxyHeader::XForwardedFor);
        // The right-most entry is garbage: the proxy that wrote it (the peer).
        assert_eq!(
            client(&p, &[("x-forwarded-for", "1.1.1.1, unknown")]),
            Some(ip(PEER))
        );
        assert_eq!(
            client(&p, &[("x-forwarded-for", "1.1.1.1,")]),
            Some(ip(PEER))
        );
        // Garbage further left than the client does not matter.
        assert_eq!(
            client(&p, &[("x-forwarded-for", "garbage, 203.0.113.9")]),
            Some(ip("203.0.113.9"))
        );
        let two = Proxies::hops(2, ProxyHeader::XForwardedFor);
        assert_eq!(
            client(&two, &[("x-forwarded-for", "1.1.1.1, _hidden, 10.0.0.2")]),
            Some(ip("10.0.0.2"))
        );
        let listed = Proxies::networks(nets(&["10.0.0.0/8"]), ProxyHeader::XForwardedFor);
        assert_eq!(
            client(
                &listed,
                &[("x-forwarded-for", "1.1.1.1, nonsense, 10.0.0.2")]
            ),
            Some(ip("10.0.0.2"))
        );
        // A header that is not ASCII at all.
        let mut map = HeaderMap::new();
        map.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_bytes(b"1.1.1.1, \xff").expect("value"),
        );
        assert_eq!(p.client_ip(Some(ip(PEER)), &map), Some(ip(PEER)));
    }

    #[test]
    fn trusted_networks_skip_every_listed_proxy() {
        let p = Proxies::networks(
            nets(&["10.0.0.0/8", "2001:db8:ff::/48"]),
            ProxyHeader::XForwardedFor,
        );
        assert_eq!(
            client(
                &p,
                &[(
                    "x-forwarded-for",
                    "6.6.6.6, 203.0.113.9, 10.0.0.3, 10.0.0.2"
                )]
            ),
            Some(ip("203.0.113.9"))
        );
        // Every entry a proxy: the left-most one (still a proxy, never spoofed).
        assert_eq!(
            client(&p, &[("x-forwarded-for", "10.0.0.3, 10.0.0.2")]),
            Some(ip("10.0.0.3"))
        );
        // A peer outside the list is the client, whatever it claims.
        assert_eq!(
            p.client_ip(
                Some(ip("198.51.100.1")),
                &headers(&[("x-forwarded-for", "203.0.113.9")])
            ),
            Some(ip("198.51.100.1"))
        );
        assert!(!p.forwarded_https(
            Some(ip("198.51.100.1")),
            &headers(&[("x-forwarded-proto", "https")])
        ));
        // IPv4-mapped peers of a dual-stack socket count as IPv4.
        assert_eq!(
            p.client_ip(
                Some(ip("::ffff:10.0.0.1")),
                &headers(&[("x-forwarded-for", "203.0.113.9")])
            ),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            p.client_ip(
                Some(ip("2001:db8:ff::1")),
                &headers(&[("x-forwarded-for", "2001:db8:1::9")])
            ),
            Some(ip("2001:db8:1::9"))
        );
        // No peer at all: nothing is trusted.
        assert_eq!(
            p.client_ip(None, &headers(&[("x-forwarded-for", "203.0.113.9")])),
            None
        );
        assert_eq!(
            Proxies::networks(Vec::new(), ProxyHeader::Forwarded),
            Proxies::none()
        );
    }

    #[test]
    fn forwarded_elements_are_parsed_per_rfc_7239() {
        let p = Proxies::hops(1, ProxyHeader::Forwarded);
        assert_eq!(
            client(
                &p,
                &[("forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43")]
            ),
            Some(ip("192.0.2.60"))
        );
        assert_eq!(
            client(
                &p,
                &[(
                    "forwarded",
                    r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711""#
                )]
            ),
            Some(ip("2001:db8:cafe::17"))
        );
        assert_eq!(
            client(&p, &[("forwarded", r#"For="192.0.2.43:47011""#)]),
            Some(ip("192.0.2.43"))
        );
        assert_eq!(
            client(
                &p,
                &[
                    ("forwarded", "for=6.6.6.6"),
                    ("forwarded", "for=192.0.2.43")
                ]
            ),
            Some(ip("192.0.2.43"))
        );
        // Obfuscated, unknown or missing `for`: the proxy that wrote it.
        assert_eq!(
            client(&p, &[("forwarded", "for=6.6.6.6, for=unknown")]),
            Some(ip(PEER))
        );
        assert_eq!(
            client(&p, &[("forwarded", "for=6.6.6.6, for=_hidden")]),
            Some(ip(PEER))
        );
        assert_eq!(
            client(&p, &[("forwarded", "for=6.6.6.6, proto=https")]),
            Some(ip(PEER))
        );
        assert_eq!(
            client(&p, &[("forwarded", "for=6.6.6.6, for=1.1.1.1;for=2.2.2.2")]),
            Some(ip(PEER))
        );
        // A quoted comma does not split an element.
        assert_eq!(
            client(
                &p,
                &[("forwarded", r#"for="_a,b";proto=https, for=192.0.2.1"#)]
            ),
            Some(ip("192.0.2.1"))
        );
        // An unterminated quote from the client swallows the rest: the peer.
        assert_eq!(
            client(&p, &[("forwarded", r#"for="6.6.6.6, for=192.0.2.1"#)]),
            Some(ip(PEER))
        );
        // IPv6 must be quoted and bracketed to carry a port; bare is accepted.
        assert_eq!(
            client(&p, &[("forwarded", r#"for="[::1]""#)]),
            Some(ip("::1"))
        );
        assert_eq!(client(&p, &[("forwarded", r#"for="[::1"#)]), Some(ip(PEER)));
        // Only the configured header is read.
        assert_eq!(
            client(&p, &[("x-forwarded-for", "203.0.113.9")]),
            Some(ip(PEER))
        );
        let xff = Proxies::hops(1, ProxyHeader::XForwardedFor);
        assert_eq!(
            client(&xff, &[("forwarded", "for=203.0.113.9")]),
            Some(ip(PEER))
        );
    }

    #[test]
    fn https_is_taken_from_the_trusted_hop_only() {
        let p = Proxies::hops(1, ProxyHeader::XForwardedFor);
        let https = |p: &Proxies, pairs: &[(&str, &str)]| {
            p.forwarded_https(Some(ip(PEER)), &headers(pairs))
        };
        assert!(https(
            &p,
            &[
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-proto", "https")
            ]
        ));
        assert!(https(
            &p,
            &[
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-proto", "http, HTTPS")
            ]
        ));
        assert!(!https(
            &p,
            &[
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-proto", "https, http")
            ]
        ));
        assert!(!https(&p, &[("x-forwarded-for", "203.0.113.9")]));
        // The client's own claim without any forwarded address: no proxy spoke.
        assert!(!https(&p, &[("x-forwarded-proto", "https")]));
        let f = Proxies::hops(1, ProxyHeader::Forwarded);
        assert!(https(
            &f,
            &[(
                "forwarded",
                "for=6.6.6.6;proto=http, for=192.0.2.1;proto=https"
            )]
        ));
        assert!(!https(
            &f,
            &[(
                "forwarded",
                "for=6.6.6.6;proto=https, for=192.0.2.1;proto=http"
            )]
        ));
        assert!(https(
            &f,
            &[("forwarded", r#"proto="HTTPS";for=192.0.2.1"#)]
        ));
        let two = Proxies::hops(2, ProxyHeader::Forwarded);
        assert!(https(
            &two,
            &[(
                "forwarded",
                "for=192.0.2.1;proto=https, for=10.0.0.2;proto=http"
            )]
        ));
    }

    #[test]
    fn configuration_picks_the_mode() {
        let mut config = Config::defaults();
        assert_eq!(Proxies::from_config(&config), Proxies::none());
        config.trust_proxy = true;
        assert_eq!(
            Proxies::from_config(&config),
            Proxies::hops(1, ProxyHeader::XForwardedFor)
        );
        config.proxy_hops = 2;
        config.proxy_header = ProxyHeader::Forwarded;
        assert_eq!(
            Proxies::from_config(&config),
            Proxies::hops(2, ProxyHeader::Forwarded)
        );
        config.trust_proxy = false;
        config.trusted_proxies = nets(&["10.0.0.0/8"]);
        assert_eq!(
            Proxies::from_config(&config),
            Proxies::networks(nets(&["10.0.0.0/8"]), ProxyHeader::Forwarded)
        );
    }
}
