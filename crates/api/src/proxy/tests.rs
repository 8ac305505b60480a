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

/// The client address `p` reads from one `X-Forwarded-For` header.
fn xff(p: &Proxies, value: &str) -> Option<IpAddr> {
    client(p, &[("x-forwarded-for", value)])
}

/// The client address `p` reads from one `Forwarded` header.
fn fwd(p: &Proxies, value: &str) -> Option<IpAddr> {
    client(p, &[("forwarded", value)])
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
    for bad in ["", "10.0.0.0/33", "::/129", "10.0.0.0/x", "example.com", "10.0.0/8"] {
        assert!(bad.parse::<IpNet>().is_err(), "{bad:?} should be refused");
    }
    assert_eq!("10.0.0.0/8".parse::<IpNet>().map(|n| n.to_string()), Ok("10.0.0.0/8".into()));
}

#[test]
fn nodes_parse_in_every_documented_form() {
    assert_eq!(parse_node("192.0.2.43"), Some(ip("192.0.2.43")));
    assert_eq!(parse_node("192.0.2.43:47011"), Some(ip("192.0.2.43")));
    assert_eq!(parse_node("2001:db8:cafe::17"), Some(ip("2001:db8:cafe::17")));
    assert_eq!(parse_node("[2001:db8:cafe::17]"), Some(ip("2001:db8:cafe::17")));
    assert_eq!(parse_node("[2001:db8:cafe::17]:4711"), Some(ip("2001:db8:cafe::17")));
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
    assert_eq!(xff(&p, "203.0.113.9"), Some(ip(PEER)));
    assert_eq!(fwd(&p, "for=203.0.113.9"), Some(ip(PEER)));
    assert_eq!(p.client_ip(None, &headers(&[("x-forwarded-for", "1.1.1.1")])), None);
    assert!(!p.forwarded_https(Some(ip(PEER)), &headers(&[("x-forwarded-proto", "https")])));
}

#[test]
fn one_hop_takes_the_right_most_entry_not_the_left_most() {
    let p = Proxies::hops(1, ProxyHeader::XForwardedFor);
    assert_eq!(xff(&p, "203.0.113.9"), Some(ip("203.0.113.9")));
    // The client wrote the left entries; the proxy appended the last one.
    assert_eq!(xff(&p, "1.1.1.1, 2.2.2.2, 203.0.113.9"), Some(ip("203.0.113.9")));
    // Several header lines are one list, in order.
    assert_eq!(
        client(&p, &[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "203.0.113.9")]),
        Some(ip("203.0.113.9"))
    );
    // No header: the peer.
    assert_eq!(client(&p, &[]), Some(ip(PEER)));
    // IPv6 and ports.
    assert_eq!(xff(&p, "1.1.1.1, [2001:db8::5]:1234"), Some(ip("2001:db8::5")));
    assert_eq!(xff(&p, "2001:db8::5"), Some(ip("2001:db8::5")));
}

#[test]
fn several_hops_take_the_nth_entry_from_the_right() {
    let p = Proxies::hops(2, ProxyHeader::XForwardedFor);
    assert_eq!(xff(&p, "6.6.6.6, 203.0.113.9, 10.0.0.2"), Some(ip("203.0.113.9")));
    // Shorter than the hops: the right-most entry, never one the client wrote.
    assert_eq!(xff(&p, "10.0.0.2"), Some(ip("10.0.0.2")));
    let three = Proxies::hops(3, ProxyHeader::XForwardedFor);
    assert_eq!(xff(&three, "6.6.6.6, 203.0.113.9"), Some(ip("203.0.113.9")));
}

#[test]
fn unparseable_entries_stop_the_walk_at_the_last_known_address() {
    let p = Proxies::hops(1, ProxyHeader::XForwardedFor);
    // The right-most entry is garbage: the proxy that wrote it (the peer).
    assert_eq!(xff(&p, "1.1.1.1, unknown"), Some(ip(PEER)));
    assert_eq!(xff(&p, "1.1.1.1,"), Some(ip(PEER)));
    // Garbage further left than the client does not matter.
    assert_eq!(xff(&p, "garbage, 203.0.113.9"), Some(ip("203.0.113.9")));
    let two = Proxies::hops(2, ProxyHeader::XForwardedFor);
    assert_eq!(xff(&two, "1.1.1.1, _hidden, 10.0.0.2"), Some(ip("10.0.0.2")));
    let listed = Proxies::networks(nets(&["10.0.0.0/8"]), ProxyHeader::XForwardedFor);
    assert_eq!(xff(&listed, "1.1.1.1, nonsense, 10.0.0.2"), Some(ip("10.0.0.2")));
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
    let p =
        Proxies::networks(nets(&["10.0.0.0/8", "2001:db8:ff::/48"]), ProxyHeader::XForwardedFor);
    assert_eq!(xff(&p, "6.6.6.6, 203.0.113.9, 10.0.0.3, 10.0.0.2"), Some(ip("203.0.113.9")));
    // Every entry a proxy: the left-most one (still a proxy, never spoofed).
    assert_eq!(xff(&p, "10.0.0.3, 10.0.0.2"), Some(ip("10.0.0.3")));
    // A peer outside the list is the client, whatever it claims.
    assert_eq!(
        p.client_ip(Some(ip("198.51.100.1")), &headers(&[("x-forwarded-for", "203.0.113.9")])),
        Some(ip("198.51.100.1"))
    );
    assert!(
        !p.forwarded_https(Some(ip("198.51.100.1")), &headers(&[("x-forwarded-proto", "https")]))
    );
    // IPv4-mapped peers of a dual-stack socket count as IPv4.
    assert_eq!(
        p.client_ip(Some(ip("::ffff:10.0.0.1")), &headers(&[("x-forwarded-for", "203.0.113.9")])),
        Some(ip("203.0.113.9"))
    );
    assert_eq!(
        p.client_ip(Some(ip("2001:db8:ff::1")), &headers(&[("x-forwarded-for", "2001:db8:1::9")])),
        Some(ip("2001:db8:1::9"))
    );
    // No peer at all: nothing is trusted.
    assert_eq!(p.client_ip(None, &headers(&[("x-forwarded-for", "203.0.113.9")])), None);
    assert_eq!(Proxies::networks(Vec::new(), ProxyHeader::Forwarded), Proxies::none());
}

#[test]
fn forwarded_elements_are_parsed_per_rfc_7239() {
    let p = Proxies::hops(1, ProxyHeader::Forwarded);
    assert_eq!(fwd(&p, "for=192.0.2.60;proto=http;by=203.0.113.43"), Some(ip("192.0.2.60")));
    assert_eq!(
        fwd(&p, r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711""#),
        Some(ip("2001:db8:cafe::17"))
    );
    assert_eq!(fwd(&p, r#"For="192.0.2.43:47011""#), Some(ip("192.0.2.43")));
    assert_eq!(
        client(&p, &[("forwarded", "for=6.6.6.6"), ("forwarded", "for=192.0.2.43")]),
        Some(ip("192.0.2.43"))
    );
    // Obfuscated, unknown or missing `for`: the proxy that wrote it.
    assert_eq!(fwd(&p, "for=6.6.6.6, for=unknown"), Some(ip(PEER)));
    assert_eq!(fwd(&p, "for=6.6.6.6, for=_hidden"), Some(ip(PEER)));
    assert_eq!(fwd(&p, "for=6.6.6.6, proto=https"), Some(ip(PEER)));
    assert_eq!(fwd(&p, "for=6.6.6.6, for=1.1.1.1;for=2.2.2.2"), Some(ip(PEER)));
    // A quoted comma does not split an element.
    assert_eq!(fwd(&p, r#"for="_a,b";proto=https, for=192.0.2.1"#), Some(ip("192.0.2.1")));
    // An unterminated quote from the client swallows the rest: the peer.
    assert_eq!(fwd(&p, r#"for="6.6.6.6, for=192.0.2.1"#), Some(ip(PEER)));
    // IPv6 must be quoted and bracketed to carry a port; bare is accepted.
    assert_eq!(fwd(&p, r#"for="[::1]""#), Some(ip("::1")));
    assert_eq!(fwd(&p, r#"for="[::1"#), Some(ip(PEER)));
    // Only the configured header is read.
    assert_eq!(xff(&p, "203.0.113.9"), Some(ip(PEER)));
    let xff = Proxies::hops(1, ProxyHeader::XForwardedFor);
    assert_eq!(fwd(&xff, "for=203.0.113.9"), Some(ip(PEER)));
}

#[test]
fn https_is_taken_from_the_trusted_hop_only() {
    let p = Proxies::hops(1, ProxyHeader::XForwardedFor);
    let https =
        |p: &Proxies, pairs: &[(&str, &str)]| p.forwarded_https(Some(ip(PEER)), &headers(pairs));
    assert!(https(&p, &[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-proto", "https")]));
    assert!(https(&p, &[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-proto", "http, HTTPS")]));
    assert!(!https(
        &p,
        &[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-proto", "https, http")]
    ));
    assert!(!https(&p, &[("x-forwarded-for", "203.0.113.9")]));
    // The client's own claim without any forwarded address: no proxy spoke.
    assert!(!https(&p, &[("x-forwarded-proto", "https")]));
    let f = Proxies::hops(1, ProxyHeader::Forwarded);
    assert!(https(&f, &[("forwarded", "for=6.6.6.6;proto=http, for=192.0.2.1;proto=https")]));
    assert!(!https(&f, &[("forwarded", "for=6.6.6.6;proto=https, for=192.0.2.1;proto=http")]));
    assert!(https(&f, &[("forwarded", r#"proto="HTTPS";for=192.0.2.1"#)]));
    let two = Proxies::hops(2, ProxyHeader::Forwarded);
    assert!(https(&two, &[("forwarded", "for=192.0.2.1;proto=https, for=10.0.0.2;proto=http")]));
}

#[test]
fn configuration_picks_the_mode() {
    let mut config = Config::defaults();
    assert_eq!(Proxies::from_config(&config), Proxies::none());
    config.trust_proxy = true;
    assert_eq!(Proxies::from_config(&config), Proxies::hops(1, ProxyHeader::XForwardedFor));
    config.proxy_hops = 2;
    config.proxy_header = ProxyHeader::Forwarded;
    assert_eq!(Proxies::from_config(&config), Proxies::hops(2, ProxyHeader::Forwarded));
    config.trust_proxy = false;
    config.trusted_proxies = nets(&["10.0.0.0/8"]);
    assert_eq!(
        Proxies::from_config(&config),
        Proxies::networks(nets(&["10.0.0.0/8"]), ProxyHeader::Forwarded)
    );
}
