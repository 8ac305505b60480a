//! Logging (pretty or JSON, with a request id per request) and the
//! Prometheus registry behind `/metrics`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{HttpMessage, web};
use prometheus::{IntCounter, IntGauge, Registry};
use std::time::Instant;
use tracing::Span;

use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::error::ApiError;
use crate::state::AppState;

/// The request span of every request: the method, the route template, the
/// path with the query string's values redacted (user search sends an email
/// address there), `client_ip` as the rate limits see it (see
/// [`crate::proxy`], not the client-written left-most `X-Forwarded-For`
/// entry) and the request id of [`Arrival`]. Events logged while the
/// request runs carry it; the access line is [`Arrival::depart`]'s.
#[derive(Debug)]
pub struct RequestSpan;

/// The request's id, as logged and answered in `x-request-id`.
#[derive(Clone, Debug)]
pub struct RequestTag(pub String);

/// The user a valid access token named, for the access line.
#[derive(Clone, Copy, Debug)]
pub struct LoggedUser(pub uuid::Uuid);

/// The caller's `x-request-id` when it is 1 to 128 characters of letters,
/// digits and `-_.:+/=` (anything else could forge log lines or carry
/// data), else a new id.
fn request_tag(request: &ServiceRequest) -> String {
    request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

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
        let request_id = request.extensions().get::<RequestTag>().map(|t| t.0.clone());
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = %route,
            target = %redact_target(request.path(), request.query_string()),
            client_ip = %client_ip,
            user_agent = %user_agent,
            request_id = request_id.as_deref().unwrap_or_default(),
        )
    }

    /// Nothing: the access line is written outside the span.
    fn on_request_end<B: MessageBody>(_: Span, _: &Result<ServiceResponse<B>, actix_web::Error>) {}
}

/// The middleware that writes each request's access line; the outermost,
/// so the request id is set before the request span is built and the line
/// is written after the span closed.
pub async fn access_log<B: MessageBody>(
    request: ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let arrival = Arrival::of(&request);
    let outcome = next.call(request).await;
    arrival.depart(&outcome);
    outcome
}

/// A request as it arrived: what its access line needs from before the
/// call.
struct Arrival {
    method: String,
    route: String,
    request_id: String,
    at: Instant,
}

impl Arrival {
    /// Notes the arrival and gives the request its id.
    fn of(request: &ServiceRequest) -> Self {
        let request_id = request_tag(request);
        request.extensions_mut().insert(RequestTag(request_id.clone()));
        Self {
            method: request.method().as_str().to_owned(),
            route: request.match_pattern().unwrap_or_else(|| "default".to_owned()),
            request_id,
            at: Instant::now(),
        }
    }

    /// The request's one access line, after its answer: method, route
    /// template (never the path's values or the query string), status,
    /// duration, request id, user, and for an error its problem code.
    /// Below 500 at INFO (a 2xx of the health probes at DEBUG: balancers
    /// ask every few seconds); a 5xx at ERROR with its cause, the only line
    /// that request writes.
    fn depart<B>(self, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        let (status, error, user) = match outcome {
            Ok(res) => (
                res.status(),
                res.response().error(),
                res.request().extensions().get::<LoggedUser>().map(|u| u.0),
            ),
            Err(e) => (e.as_response_error().status_code(), Some(e), None),
        };
        let api = error.and_then(|e| e.as_error::<ApiError>());
        let code = api.map(|e| e.code.as_str());
        let user_id = user.map(tracing::field::display);
        let duration_ms = (self.at.elapsed().as_secs_f64() * 1e5).round() / 100.0;
        macro_rules! emit {
            ($level:ident, $($cause:tt)*) => {
                tracing::$level!(
                    method = %self.method,
                    route = %self.route,
                    status = status.as_u16(),
                    duration_ms,
                    request_id = %self.request_id,
                    user_id,
                    code,
                    $($cause)*
                    "request"
                )
            };
        }
        if status.is_server_error() {
            let cause = match api {
                Some(api) => api.cause.clone(),
                None => error.map(ToString::to_string),
            };
            let cause = cause.map(|c| redact_emails(&c));
            emit!(error, cause,);
        } else if status.is_success() && self.route.starts_with("/health/") {
            emit!(debug,);
        } else {
            emit!(info,);
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
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (tests) finds a subscriber set and changes nothing.
    let _ = match format {
        LogFormat::Json => json_subscriber(filter, std::io::stdout).try_init(),
        LogFormat::Pretty => {
            // Colours only on a terminal: a file or a journal gets plain text.
            use std::io::IsTerminal;
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_target(false)
                .with_ansi(std::io::stdout().is_terminal())
                .finish()
                .try_init()
        }
    };
}

/// `KEYHOLDER_LOG_FORMAT=json`: one object per line, the event's fields at
/// the top level and the request span once (`span`), not again in a
/// `spans` list.
fn json_subscriber<W>(filter: EnvFilter, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(writer)
        .with_ansi(false)
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .finish()
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
        let subscriber = json_subscriber(EnvFilter::new("info"), move || writer.clone());
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
                .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
                .wrap(actix_web::middleware::from_fn(access_log)),
        )
        .await;
        let req = actix_web::test::TestRequest::get()
            .uri("/search?email=secret.person%40example.com")
            .insert_header(("x-request-id", "trace-7f3a"))
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
        // Two lines: the handler's event inside the span (once), then the
        // request's access line, at INFO for a 4xx, with the caller's id.
        let lines: Vec<serde_json::Value> = logged
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
            .collect();
        assert_eq!(lines.len(), 2, "{logged}");
        assert_eq!(lines[0]["message"], "searching");
        assert_eq!(lines[0]["span"]["request_id"], "trace-7f3a");
        assert_eq!(lines[0]["span"]["target"], "/search?email=[redacted]");
        assert!(lines[0].get("spans").is_none(), "{logged}");
        let access = &lines[1];
        assert_eq!(access["message"], "request");
        assert_eq!(access["level"], "INFO");
        assert_eq!(access["method"], "GET");
        assert_eq!(access["route"], "/search");
        assert_eq!(access["status"], 404);
        assert_eq!(access["code"], "user_not_found");
        assert_eq!(access["request_id"], "trace-7f3a");
        assert!(access["duration_ms"].as_f64().is_some(), "{access}");
        assert!(access.get("span").is_none(), "{access}");
    }
}
