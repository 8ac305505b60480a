//! Assembling the server: state, middleware, routes, the mail worker.

use crate::problems::ProblemCode;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Server, Service};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Condition, ErrorHandlers};
use actix_web::{App, HttpMessage, HttpServer, web};
use actix_web_prom::PrometheusMetricsBuilder;
use anyhow::Context;
use tokio::sync::{Notify, watch};
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{ApiError, problemize};
use crate::mail::{Delivery, MailWorker};
use crate::ops::invitations::respond;
use crate::ratelimit::AuthLimit;
use crate::routes::{metrics, pages};
use crate::state::AppState;
use crate::telemetry::{Metrics, RequestSpan, RequestTag};
use crate::{openapi, startup};

/// Registers every route: the documented ones from each route module's
/// list ([`crate::routes::endpoints`]), the sign-in and token routes behind
/// the per-address limit, and the pages' static files.
pub fn routes(cfg: &mut web::ServiceConfig, limit: &AuthLimit) {
    for (path, group) in crate::routes::by_path(crate::routes::endpoints()) {
        let limited = group.iter().any(|e| e.limited);
        let resource = group
            .iter()
            .flat_map(crate::routes::Endpoint::routes)
            .fold(web::resource(path), actix_web::Resource::route);
        if limited {
            cfg.service(resource.wrap(limit.middleware()));
        } else {
            cfg.service(resource);
        }
    }
    cfg.service(web::resource("/pages/{name}").route(web::get().to(pages::asset)));
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static(crate::idempotency::KEY_HEADER),
            header::IF_MATCH,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::LOCATION,
            header::LINK,
            header::HeaderName::from_static("x-request-id"),
            header::ETAG,
            header::HeaderName::from_static(crate::idempotency::REPLAYED_HEADER),
            // The file name of an export.
            header::CONTENT_DISPOSITION,
        ])
        .max_age(3600);
    for origin in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
        cors = if origin == "*" { cors.allow_any_origin() } else { cors.allowed_origin(origin) };
    }
    cors
}

const HSTS: &str = "max-age=31536000; includeSubDomains";

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// An uploaded file's bytes: nothing loads, and a browser that shows it
/// anyway (an image opened in a tab) runs it sandboxed, in no origin. Set
/// by the download itself (however its path was spelled) and by path here.
pub(crate) const FILE_CSP: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";
const SWAGGER_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                           script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/// A running server and its background work.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    worker: tokio::task::JoinHandle<()>,
    sweeper: tokio::task::JoinHandle<()>,
    webhooks: tokio::task::JoinHandle<()>,
    /// Deletes the objects of deleted files.
    file_deletions: tokio::task::JoinHandle<()>,
    shutdown: watch::Sender<bool>,
    /// The `KEYHOLDER_METRICS_BIND` listener and its port.
    metrics_server: Option<(Server, u16)>,
}

impl Application {
    /// Connects, migrates, bootstraps and binds; call `run` to serve.
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let (db, secret) = prepare_database(&config, &clock).await?;
        let metrics = Metrics::new();
        let wakeup = Arc::new(Notify::new());
        let proxies = Arc::new(crate::proxy::Proxies::from_config(&config));
        let files = crate::files::FileStore::from_config(&config)?;
        tracing::info!(store = files.kind, "file store ready");
        let state =
            app_state(&config, (db.clone(), files), &secret, &clock, &metrics, &wakeup, &proxies);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let worker = mail_worker(&config, state.clone())?;
        let worker = tokio::spawn(worker.run(shutdown_rx.clone()));
        let webhooks = crate::webhooks::WebhookWorker::new(state.clone());
        let webhooks = tokio::spawn(webhooks.run(shutdown_rx.clone()));
        let file_deletions =
            tokio::spawn(crate::files::run_deletions(state.clone(), shutdown_rx.clone()));
        let sweeper = tokio::spawn(sweep_invitations(state.clone(), shutdown_rx));

        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let metrics_server = config
            .metrics_bind
            .map(|bind| metrics_server(bind, web::Data::new(state.clone())))
            .transpose()?;
        let prometheus = prometheus(&metrics)?;
        let limit = AuthLimit::new(config.auth_rate_limit, proxies.clone());
        let cors_origins = config.cors_origins.clone();
        // HSTS when the public URL is https (browsers ignore it over plain
        // http), or when a trusted proxy says the request came over https.
        let always_hsts = config.app_url.starts_with("https://");
        let data = web::Data::new(state.clone());
        // Serialized once: each worker would otherwise keep its own copy of
        // the whole document (about 4 MiB per worker on the heap).
        let document = web::Bytes::from(
            serde_json::to_vec(&openapi::document()).context("serializing the OpenAPI document")?,
        );
        let server = HttpServer::new(move || {
            let proxies = proxies.clone();
            App::new()
                .app_data(data.clone())
                .configure(|cfg| routes(cfg, &limit))
                .service(openapi_document(document.clone()))
                .service(
                    SwaggerUi::new("/swagger-ui/{_:.*}")
                        .config(utoipa_swagger_ui::Config::from("/api-docs/openapi.json")),
                )
                .default_service(web::to(no_such_resource))
                .wrap(Condition::new(!cors_origins.is_empty(), cors(&cors_origins)))
                // Outside CORS, so a refused preflight is problem+json too.
                .wrap(ErrorHandlers::new().default_handler(problemize))
                .wrap_fn(move |req, srv| {
                    let csp = content_policy(req.path());
                    let request_id = req.extensions().get::<RequestTag>().map(|t| t.0.clone());
                    let hsts = always_hsts
                        || proxies.forwarded_https(req.peer_addr().map(|a| a.ip()), req.headers());
                    let fut = srv.call(req);
                    async move {
                        let mut res = fut.await?;
                        secure_headers(res.headers_mut(), csp, hsts, request_id);
                        Ok(res)
                    }
                })
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(prometheus.clone())
                .wrap(actix_web::middleware::from_fn(crate::lifecycle::track))
                .wrap(actix_web::middleware::from_fn(crate::telemetry::access_log))
        })
        .worker_max_blocking_threads(blocking_threads(&config))
        .listen(listener)?
        .shutdown_timeout(30)
        // Signals are ours (see `run` and crate::lifecycle).
        .disable_signals()
        .run();
        Ok(Self {
            port,
            server,
            state,
            worker,
            sweeper,
            webhooks,
            file_deletions,
            shutdown,
            metrics_server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The port of the `KEYHOLDER_METRICS_BIND` listener, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(_, port)| *port)
    }

    /// Serves until SIGTERM/SIGINT, drains (see [`crate::lifecycle`]: no
    /// request sent before the stop goes unanswered), then stops the mail
    /// worker after its current batch. Also ends when [`Self::handle`]
    /// stops the server.
    pub async fn run(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(|(server, _)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let handle = self.server.handle();
        let drain = self.state.drain.clone();
        let delay = Duration::from_secs(self.state.config.shutdown_delay);
        let signals = tokio::spawn(async move {
            crate::lifecycle::shutdown_signal().await;
            drain.drain(delay).await;
            tracing::info!("no request running; stopping");
            handle.stop(true).await;
        });
        let result = self.server.await;
        signals.abort();
        // The metrics listener stops with the main one.
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        let _ = self.shutdown.send(true);
        let _ = self.worker.await;
        let _ = self.sweeper.await;
        let _ = self.webhooks.await;
        let _ = self.file_deletions.await;
        result
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// Blocking work is database jobs (at most one per pooled connection, see
/// `AppState::db`) and password hashes (capped by the hash gate): more
/// threads than that only cost memory.
fn blocking_threads(config: &Config) -> usize {
    let wanted = config.pool_size().saturating_add(config.max_concurrent_hashes.max(1));
    usize::try_from(wanted).unwrap_or(16)
}

/// 404 problem+json for every path no route serves.
async fn no_such_resource() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(ProblemCode::NotFound, "No such resource."))
}

/// The worker that delivers the outbox.
fn mail_worker(config: &Config, state: AppState) -> anyhow::Result<MailWorker> {
    let delivery = Delivery::from_config(config)?;
    let from = config.mail_from.parse().with_context(|| {
        format!("KEYHOLDER_MAIL_FROM is not a valid mailbox: {}", config.mail_from)
    })?;
    let poll = Duration::from_millis(config.mail_poll_ms.max(10));
    Ok(MailWorker::new(state, delivery, from, poll))
}

/// Request metrics by route pattern (unmatched paths pooled, `/metrics`
/// itself left out).
fn prometheus(metrics: &Metrics) -> anyhow::Result<actix_web_prom::PrometheusMetrics> {
    PrometheusMetricsBuilder::new("keyholder")
        .registry(metrics.registry.clone())
        .mask_unmatched_patterns("UNMATCHED")
        .exclude("/metrics")
        .build()
        .map_err(|e| anyhow::anyhow!("metrics setup failed: {e}"))
}

/// Connects, migrates, reads the token secret and bootstraps root, each on
/// the blocking pool.
async fn prepare_database(
    config: &Config,
    clock: &Clock,
) -> anyhow::Result<(keyholder_store::Db, Vec<u8>)> {
    let db = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || startup::connect(&config)).await??
    };
    {
        let db = db.clone();
        let applied = tokio::task::spawn_blocking(move || db.migrate()).await??;
        for m in applied {
            tracing::info!(migration = %m, "migration applied");
        }
    }
    let secret = startup::jwt_secret(config, db.url())?;
    {
        let (config, db, clock) = (config.clone(), db.clone(), clock.clone());
        tokio::task::spawn_blocking(move || startup::bootstrap_root(&config, &db, &clock))
            .await??;
    }
    Ok((db, secret))
}

/// The state every request shares (the database and the store of
/// uploaded files come as one pair).
fn app_state(
    config: &Config,
    (db, files): (keyholder_store::Db, crate::files::FileStore),
    secret: &[u8],
    clock: &Clock,
    metrics: &Metrics,
    wakeup: &Arc<Notify>,
    proxies: &Arc<crate::proxy::Proxies>,
) -> AppState {
    AppState {
        files,
        db,
        tokens: TokenKeys::new(secret, config.token_ttl, config.refresh_ttl),
        clock: clock.clone(),
        mail_wakeup: wakeup.clone(),
        metrics: metrics.clone(),
        user_limit: Arc::new(crate::ratelimit::UserLimit::new(
            config.action_rate_limit,
            proxies.clone(),
        )),
        password_limit: Arc::new(crate::ratelimit::UserLimit::new(
            config.password_rate_limit,
            proxies.clone(),
        )),
        hashing: Arc::new(crate::passwords::HashGate::from_config(config)),
        proxies: proxies.clone(),
        db_gate: Arc::new(tokio::sync::Semaphore::new(
            usize::try_from(config.pool_size()).unwrap_or(1),
        )),
        config: Arc::new(config.clone()),
        drain: crate::lifecycle::new(),
    }
}

/// `/api-docs/openapi.json`: the document, serialized once at start.
fn openapi_document(document: web::Bytes) -> actix_web::Resource {
    web::resource("/api-docs/openapi.json").route(web::get().to(move || {
        let document = document.clone();
        async move {
            actix_web::HttpResponse::Ok().content_type(header::ContentType::json()).body(document)
        }
    }))
}

/// The content security policy for a path: Swagger UI and the pages for
/// emailed links load their own scripts and styles; the API loads nothing.
fn content_policy(path: &str) -> &'static str {
    let page = matches!(
        path,
        "/verify-email" | "/confirm-email" | "/reset-password" | "/invitations/accept"
    ) || path.starts_with("/pages/");
    if path.starts_with("/swagger-ui") {
        SWAGGER_CSP
    } else if path.starts_with("/api/v1/assets/") && path.ends_with("/content") {
        FILE_CSP
    } else if page {
        pages::PAGES_CSP
    } else {
        API_CSP
    }
}

/// The headers every answer carries: no sniffing, no framing, no referrer,
/// the content policy, HSTS over https, no caching of API answers, and the
/// request id.
fn secure_headers(
    h: &mut header::HeaderMap,
    csp: &'static str,
    hsts: bool,
    request_id: Option<String>,
) {
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // A handler that set its own policy (a file's download) keeps it.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    if hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if csp != SWAGGER_CSP && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        h.insert(header::HeaderName::from_static("x-request-id"), id);
    }
}

/// The separate listener of `KEYHOLDER_METRICS_BIND`: `/metrics` only.
fn metrics_server(
    bind: std::net::SocketAddr,
    data: web::Data<AppState>,
) -> anyhow::Result<(Server, u16)> {
    let listener = TcpListener::bind(bind)
        .with_context(|| format!("cannot listen on {bind} (KEYHOLDER_METRICS_BIND)"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(metrics::MetricsListener)
            .service(web::resource("/metrics").route(web::get().to(metrics::metrics)))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::not_found(
                    ProblemCode::NotFound,
                    "No such resource.",
                ))
            }))
            .wrap(ErrorHandlers::new().default_handler(problemize))
    })
    .workers(1)
    .listen(listener)?
    .shutdown_timeout(5)
    .run();
    Ok((server, port))
}

/// Writes `expired` on invitations past their expiry, every 30 seconds
/// (reads already treat them as expired; this keeps the table truthful),
/// and queues the reminders now due (three days before a share ends or a
/// pending invitation expires).
async fn sweep_invitations(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        let db = state.db.clone();
        let now = state.clock.now();
        match tokio::task::spawn_blocking(move || respond::sweep_expired(&db, now)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(count = n, "invitations expired"),
            Ok(Err(e)) => tracing::warn!(error = %e, "invitation sweep failed"),
            Err(e) => tracing::warn!(error = %e, "invitation sweep task failed"),
        }
        let db = state.db.clone();
        match tokio::task::spawn_blocking(move || crate::ops::shares::report_expired(&db, now))
            .await
        {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(count = n, "share expiries reported"),
            Ok(Err(e)) => tracing::warn!(error = ?e, "share expiry sweep failed"),
            Err(e) => tracing::warn!(error = %e, "share expiry sweep task failed"),
        }
        let db = state.db.clone();
        match tokio::task::spawn_blocking(move || crate::ops::notify::send_reminders(&db, now))
            .await
        {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => {
                tracing::info!(count = n, "expiry reminders queued");
                state.mail_queued();
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "reminder sweep failed"),
            Err(e) => tracing::warn!(error = %e, "reminder sweep task failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = shutdown.changed() => break,
        }
    }
}
