//! Logging (pretty or JSON, with a request id per request) and the
//! Prometheus registry behind `/metrics`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{HttpMessage, web};
use prometheus::{IntCounter, IntGauge, Registry};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::error::ApiError;
use crate::state::AppState;

/// The request span of every request: tracing-actix-web's fields, but the
/// query string's values are redacted from `http.target` (user search sends
/// an email address there) and `http.client_ip` is the address the rate
/// limits use (see [`crate::proxy`]), not the client-written left-most
/// `X-Forwarded-For` entry.
#[derive(Debug)]
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let peer = request.peer_addr().map(|a| a.ip());
        let client_ip = match request.app_data::<web::Data<AppState>>() {
            Some(state) => state.proxies.client_ip(peer, request.headers()),
            None => peer,
        }
        .map(|ip| ip.to_string())
        .unwrap_or_default();
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let route = request.match_pattern().unwrap_or_else(|| "default".to_owned());
        let method = request.method().as_str().to_owned();
        let flavor = match request.version() {
            actix_web::http::Version::HTTP_09 => "0.9",
            actix_web::http::Version::HTTP_10 => "1.0",
            actix_web::http::Version::HTTP_2 => "2.0",
            actix_web::http::Version::HTTP_3 => "3.0",
            _ => "1.1",
        };
        let request_id =
            request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        let connection_info = request.connection_info();
        tracing::info_span!(
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.flavor = %flavor,
            http.scheme = %connection_info.scheme(),
            http.host = %connection_info.host(),
            http.client_ip = %client_ip,
            http.user_agent = %user_agent,
            http.target = %redact_target(request.path(), request.query_string()),
            http.status_code = tracing::field::Empty,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    /// Like tracing-actix-web's, but an error is recorded by its problem code
    /// (and safe `Debug`), never by a message that may quote the request.
    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, error) = match outcome {
            Ok(res) => (res.status(), res.response().error()),
            Err(e) => (e.as_response_error().status_code(), Some(e)),
        };
        span.record("http.status_code", i64::from(status.as_u16()));
        span.record("otel.status_code", if status.is_server_error() { "ERROR" } else { "OK" });
        let Some(error) = error else {
            return;
        };
        if let Some(api) = error.as_error::<ApiError>() {
            span.record("exception.message", api.code.as_str());
            span.record("exception.details", tracing::field::debug(api));
        } else if status.is_server_error() {
            span.record("exception.message", tracing::field::display(error));
            span.record("exception.details", tracing::field::debug(error));
        } else {
            span.record("exception.message", status.canonical_reason().unwrap_or("client error"));
        }
    }
}

/// The path with every query value replaced by `[redacted]` (names stay, so
/// logs still tell which parameters were sent; a part without `=` is
/// redacted whole).
pub fn redact_target(path: &str, query: &str) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let redacted: Vec<String> = query
        .split('&')
        .map(|part| match part.split_once('=') {
            Some((name, _)) if is_plain_name(name) => format!("{name}=[redacted]"),
            _ if part.is_empty() => String::new(),
            _ => "[redacted]".to_owned(),
        })
        .collect();
    format!("{path}?{}", redacted.join("&"))
}

/// `text` with every email address replaced by `[email]` (for error messages
/// from elsewhere, such as SMTP replies, before they are logged).
pub fn redact_emails(text: &str) -> String {
    let is_local = |c: char| c.is_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c);
    let is_domain = |c: char| c.is_alphanumeric() || c == '.' || c == '-';
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    // `copied` is the index up to which `chars` has been written to `out`.
    let mut copied = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let mut start = i;
            while start > copied && is_local(chars[start - 1]) {
                start -= 1;
            }
            let mut end = i + 1;
            while end < chars.len() && is_domain(chars[end]) {
                end += 1;
            }
            if start < i && end > i + 1 {
                out.extend(&chars[copied..start]);
                out.push_str("[email]");
                copied = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out.extend(&chars[copied..]);
    out
}

/// A query parameter name worth keeping in logs: short and unremarkable.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.[]".contains(&b))
}

/// Sets up the global subscriber once; later calls (tests) do nothing.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
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
            registry.register(Box::new(c.clone())).expect("registered once");
        }
        registry.register(Box::new(mail_pending.clone())).expect("registered once");
        Self { registry, mail_delivered, mail_failed, mail_pending }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_redacted_from_text() {
        assert_eq!(
            redact_emails("550 5.1.1 <bob.smith+x@mail.example.com>: Recipient address rejected"),
            "550 5.1.1 <[email]>: Recipient address rejected"
        );
        assert_eq!(redact_emails("a@b and c@d.e"), "[email] and [email]");
        assert_eq!(redact_emails("no address @ here, @x, y@"), "no address @ here, @x, y@");
        assert_eq!(redact_emails("ünï@exämple.com!"), "[email]!");
        assert_eq!(redact_emails(""), "");
    }

    #[test]
    fn query_values_are_redacted_names_kept() {
        assert_eq!(redact_target("/api/v1/me", ""), "/api/v1/me");
        assert_eq!(
            redact_target("/api/v1/estates/x/user-search", "email=ada%40example.com"),
            "/api/v1/estates/x/user-search?email=[redacted]"
        );
        assert_eq!(
            redact_target("/a", "email=ada@example.com&limit=10&&flag"),
            "/a?email=[redacted]&limit=[redacted]&&[redacted]"
        );
        // A "name" that is itself data is redacted whole.
        assert_eq!(redact_target("/a", "ada@example.com=1"), "/a?[redacted]");
        assert_eq!(redact_target("/a", "ada@example.com"), "/a?[redacted]");
        assert_eq!(redact_target("/a", "token=abc"), "/a?token=[redacted]");
    }

    /// A request with a query string, logged through [`RequestSpan`]: the
    /// error event carries the span, which must not carry the email.
    #[actix_web::test]
    async fn the_request_span_never_carries_query_values() {
        use std::io::Write;
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl Write for Buffer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = actix_web::test::init_service(
            actix_web::App::new()
                .route(
                    "/search",
                    web::get().to(|| async {
                        tracing::info!("searching");
                        Err::<actix_web::HttpResponse, _>(crate::error::ApiError::not_found(
                            crate::problems::ProblemCode::UserNotFound,
                            "No user is named typed.into.username@example.org.",
                        ))
                    }),
                )
                .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new()),
        )
        .await;
        let req = actix_web::test::TestRequest::get()
            .uri("/search?email=secret.person%40example.com")
            .to_request();
        let res = actix_web::test::call_service(&app, req).await;
        assert_eq!(res.status(), 404);
        let logged = String::from_utf8_lossy(
            &buffer.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned();
        assert!(logged.contains("searching"), "{logged}");
        assert!(logged.contains("/search?email=[redacted]"), "{logged}");
        assert!(!logged.contains("secret.person"), "{logged}");
        // The error is logged by its code, never by its detail text.
        assert!(logged.contains("user_not_found"), "{logged}");
        assert!(!logged.contains("typed.into.username"), "{logged}");
    }
}
