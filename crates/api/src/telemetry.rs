//! Logging (pretty or JSON, with a request id per request) and the
//! Prometheus registry behind `/metrics`.

use prometheus::{IntCounter, IntGauge, Registry};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Sets up the global subscriber once; later calls (tests) do nothing.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// Counters of our own, registered beside the HTTP metrics.
#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    pub mail_delivered: IntCounter,
    pub mail_failed: IntCounter,
    pub mail_pending: IntGauge,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let mail_delivered = IntCounter::new("keyholder_mail_delivered_total", "Emails delivered")
            .expect("valid metric name");
        let mail_failed = IntCounter::new(
            "keyholder_mail_failed_attempts_total",
            "Email delivery attempts that failed (each is retried)",
        )
        .expect("valid metric name");
        let mail_pending = IntGauge::new("keyholder_mail_pending", "Emails waiting in the outbox")
            .expect("valid metric name");
        for c in [&mail_delivered, &mail_failed] {
            registry
                .register(Box::new(c.clone()))
                .expect("registered once");
        }
        registry
            .register(Box::new(mail_pending.clone()))
            .expect("registered once");
        Self {
            registry,
            mail_delivered,
            mail_failed,
            mail_pending,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
