//! Webhook delivery: the worker that sends the queued deliveries (see
//! [`keyholder_store::webhooks`]), how each is signed, and which addresses
//! an endpoint may point at.
//!
//! Each delivery is a `POST` of the event's JSON with these headers:
//! - `Keyholder-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the MAC
//!   of `"<t>.<body>"` under the endpoint's secret (verify it in constant
//!   time and refuse a `t` older than five minutes);
//! - `Keyholder-Event` (the action, or `ping`), `Keyholder-Delivery` (the
//!   delivery's id, the same on each attempt) and `Keyholder-Webhook` (the
//!   endpoint's id).
//!
//! An endpoint's deliveries go out one at a time, in the order they were
//! queued (one worker per replica: across replicas and retries the order is
//! not kept; the body's `occurred_at` and the changes feed give it).
//!
//! A 2xx answer within the timeout delivers it; anything else (another
//! status, a redirect, a timeout, a refused connection) is a failed attempt,
//! tried again after a growing wait up to eight attempts. After
//! `KEYHOLDER_WEBHOOK_DISABLE_AFTER` failed attempts in a row the endpoint
//! is disabled and its owner emailed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use keyholder_store::db::LogThrottle;
use keyholder_store::webhooks::{self, AfterFailure, Due};
use sha2::Sha256;
use tokio::sync::watch;

use crate::state::AppState;

/// Deliveries claimed per look at the queue.
const BATCH: i64 = 16;
/// How long a claim holds before another worker may take the delivery.
const LEASE_SECONDS: i64 = 120;

/// The signature header of `body` sent at `t` (unix seconds).
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A new endpoint secret: `whsec_` and 32 random bytes (base64url).
pub fn new_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether deliveries may go to `ip`: not loopback, private, link-local,
/// shared (CGNAT), unspecified, multicast or documentation addresses,
/// unless the server allows private targets.
pub fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Why an endpoint URL is refused, if it is: it must be an absolute
/// `https://` (or `http://`) URL with a host, no user name or password, at
/// most 2,048 characters, and (unless private targets are allowed) its host
/// must not be a private address.
pub fn check_url(raw: &str, allow_private: bool) -> Result<(), &'static str> {
    if raw.len() > 2048 {
        return Err("must be at most 2048 characters");
    }
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain spaces or control characters");
    }
    let url = reqwest::Url::parse(raw).map_err(|_| "must be an absolute http(s) URL")?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an http or https URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password");
    }
    let Some(host) = url.host() else { return Err("must name a host") };
    if allow_private {
        return Ok(());
    }
    let ip = match host {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") || d.ends_with(".internal") {
                return Err("must not point at a private or local address");
            }
            None
        }
    };
    if ip.is_some_and(|ip| !public(ip)) {
        return Err("must not point at a private or local address");
    }
    Ok(())
}

/// Resolves names for deliveries, refusing private addresses (so a name
/// that resolves to one, even after it was registered, is not called).
#[derive(Debug, Clone)]
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = format!("{}:0", name.as_str());
            let found: Vec<SocketAddr> = tokio::net::lookup_host(host).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| public(a.ip())).collect();
            if allowed.is_empty() {
                return Err("the host resolves only to private or local addresses".into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client deliveries go through: no redirects, the timeout, and
/// (unless private targets are allowed) the public-only resolver.
pub fn client(timeout: Duration, allow_private: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("Keyholder-Webhooks/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    builder.build().expect("the webhook HTTP client builds")
}

/// Sends the queued deliveries until shutdown.
pub struct WebhookWorker {
    state: AppState,
    client: reqwest::Client,
    poll: Duration,
    errors: LogThrottle,
}

impl WebhookWorker {
    pub fn new(state: AppState) -> Self {
        let config = &state.config;
        let client =
            client(Duration::from_secs(config.webhook_timeout), config.webhook_allow_private);
        let poll = Duration::from_millis(config.mail_poll_ms.max(10));
        Self { state, client, poll, errors: LogThrottle::new(Duration::from_secs(60)) }
    }

    /// Runs until `shutdown` turns true; the batch under way is finished
    /// first.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            if let Err(e) = self.drain().await
                && let Some(held_back) = self.errors.admit()
            {
                tracing::warn!(error = %e, held_back, "webhook worker could not read its queue; retrying (logged at most once a minute)");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Sends every due delivery, batch by batch.
    pub async fn drain(&mut self) -> Result<usize, String> {
        let mut total = 0;
        loop {
            let now = self.state.clock.now();
            let db = self.state.db.clone();
            let lease = now + chrono::Duration::seconds(LEASE_SECONDS);
            let batch = tokio::task::spawn_blocking(move || {
                db.write(|c| webhooks::claim_due(c, now, lease, BATCH))
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e: keyholder_store::StoreError| e.to_string())?;
            if batch.is_empty() {
                return Ok(total);
            }
            // Endpoints in parallel; each endpoint's deliveries one after
            // the other, in the order they were queued.
            let mut groups: Vec<(uuid::Uuid, Vec<Due>)> = Vec::new();
            for due in batch {
                match groups.iter_mut().find(|(e, _)| *e == due.endpoint_id) {
                    Some((_, dues)) => dues.push(due),
                    None => groups.push((due.endpoint_id, vec![due])),
                }
            }
            let this = &*self;
            let sends = groups.into_iter().map(|(_, dues)| async move {
                let mut sent = Vec::new();
                for due in dues {
                    sent.push(this.send(due).await);
                }
                sent
            });
            for (due, outcome) in futures_util::future::join_all(sends).await.into_iter().flatten()
            {
                self.record(due, outcome).await;
                total += 1;
            }
        }
    }

    /// One attempt: the answer's status, or why there was none.
    async fn send(&self, due: Due) -> (Due, Result<u16, (Option<u16>, String)>) {
        if let Err(why) = check_url(&due.url, self.state.config.webhook_allow_private) {
            return (due, Err((None, format!("the URL {why}"))));
        }
        let t = self.state.clock.now().timestamp();
        let sent = self
            .client
            .post(&due.url)
            .header("content-type", "application/json")
            .header("keyholder-signature", signature(&due.secret, t, &due.payload))
            .header("keyholder-event", &due.action)
            .header("keyholder-delivery", due.id.to_string())
            .header("keyholder-webhook", due.endpoint_id.to_string())
            .body(due.payload.clone())
            .send()
            .await;
        let outcome = match sent {
            Ok(answer) if answer.status().is_success() => Ok(answer.status().as_u16()),
            Ok(answer) => {
                let status = answer.status();
                Err((Some(status.as_u16()), format!("answered {status}")))
            }
            Err(e) => Err((None, describe(&e))),
        };
        (due, outcome)
    }

    async fn record(&self, due: Due, outcome: Result<u16, (Option<u16>, String)>) {
        let now = self.state.clock.now();
        let db = self.state.db.clone();
        let disable_after =
            i32::try_from(self.state.config.webhook_disable_after).unwrap_or(i32::MAX);
        let (id, endpoint) = (due.id, due.endpoint_id);
        let marked = tokio::task::spawn_blocking(move || {
            db.write(|c| match outcome {
                Ok(status) => {
                    webhooks::mark_delivered(c, &due, i32::from(status), now)?;
                    Ok::<_, crate::error::ApiError>(None)
                }
                Err((status, error)) => {
                    let status = status.map(i32::from);
                    match webhooks::mark_failed(c, &due, status, &error, disable_after, now)? {
                        AfterFailure::Kept => Ok(None),
                        AfterFailure::Disabled(endpoint) => {
                            crate::ops::webhooks::disabled(c, &endpoint, now)?;
                            Ok(Some(endpoint.id))
                        }
                    }
                }
            })
        })
        .await;
        match marked {
            Ok(Ok(Some(disabled))) => {
                tracing::warn!(webhook_id = %disabled, "webhook endpoint disabled after repeated failures; its owner is emailed");
                self.state.mail_queued();
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::warn!(delivery_id = %id, webhook_id = %endpoint, error = ?e, "webhook delivery outcome not recorded; the delivery will be tried again");
            }
            Err(e) => tracing::warn!(delivery_id = %id, error = %e, "webhook record task failed"),
        }
    }
}

/// A failed call in words, without the URL's query (which may hold a
/// token of the receiver's).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirected"
    } else {
        "failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() { what.to_owned() } else { format!("{what}: {cause}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_the_time_and_the_body() {
        // RFC 4231 style check against a value computed independently
        // (python3 -c "import hmac,hashlib;print(hmac.new(b'whsec_test',
        // b'1700000000.{\"a\":1}', hashlib.sha256).hexdigest())").
        let sig = signature("whsec_test", 1_700_000_000, r#"{"a":1}"#);
        assert_eq!(
            sig,
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn private_and_local_targets_are_refused_unless_allowed() {
        for bad in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "https://10.1.2.3/hook",
            "https://192.168.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://[fd00::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://100.64.0.1/",
            "http://metadata.google.internal/",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
            assert!(check_url(bad, true).is_ok(), "{bad}");
        }
        for bad in [
            "ftp://example.com/",
            "https://user:pass@example.com/",
            "example.com/hook",
            "https://exa mple.com/",
            "javascript:alert(1)",
        ] {
            assert!(check_url(bad, true).is_err(), "{bad}");
        }
        assert!(check_url("https://hooks.example.com/keyholder?x=1", false).is_ok());
        assert!(check_url("https://8.8.8.8/", false).is_ok());
    }

    #[test]
    fn secrets_are_long_and_distinct() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_") && a.len() >= 48, "{a}");
        assert_ne!(a, b);
    }
}
