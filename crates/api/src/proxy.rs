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
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(u128::from(u32::from(net)), u128::from(u32::from(ip)), self.prefix, 32)
            }
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
        Self { trust: Trust::Nobody, header: ProxyHeader::XForwardedFor }
    }

    /// `hops` proxies in front (at least one).
    pub fn hops(hops: usize, header: ProxyHeader) -> Self {
        Self { trust: Trust::Hops(hops.max(1)), header }
    }

    /// The proxies are these networks (an empty list trusts nobody).
    pub fn networks(networks: Vec<IpNet>, header: ProxyHeader) -> Self {
        if networks.is_empty() {
            return Self::none();
        }
        Self { trust: Trust::Networks(networks), header }
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
        let direct = Client { ip: peer, https: false };
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
            ProxyHeader::Forwarded => {
                chosen.proto.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("https"))
            }
            ProxyHeader::XForwardedFor => {
                x_forwarded_proto(headers).is_some_and(|p| p.eq_ignore_ascii_case("https"))
            }
        };
        Client { ip: Some(ip.to_canonical()), https }
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
    all.split(',').map(|entry| Hop { ip: parse_node(entry.trim()), proto: None }).collect()
}

/// The right-most `X-Forwarded-Proto` value (the one the nearest proxy set).
fn x_forwarded_proto(headers: &HeaderMap) -> Option<String> {
    let all = joined(headers, "x-forwarded-proto")?;
    all.rsplit(',').next().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty())
}

fn forwarded(headers: &HeaderMap) -> Vec<Hop> {
    let Some(all) = joined(headers, "forwarded") else {
        return Vec::new();
    };
    split_unquoted(&all, ',')
        .into_iter()
        .map(|element| {
            let mut hop = Hop { ip: None, proto: None };
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
                        && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))))
        });
    if !port_ok {
        return None;
    }
    ip.parse::<std::net::Ipv6Addr>().ok().map(|ip| IpAddr::V6(ip).to_canonical())
}

#[cfg(test)]
mod tests;
