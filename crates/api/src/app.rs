//! Assembling the server: state, middleware, routes, the mail worker.

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
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{ApiError, problemize};
use crate::mail::{Delivery, MailWorker};
use crate::ratelimit::AuthLimit;
use crate::routes::{
    access, accounts, asset_invitations, assets, estates, health, households, invitations, me,
    metrics, pages,
};
use crate::state::AppState;
use crate::telemetry::{Metrics, RequestSpan};
use crate::{openapi, startup};

/// Registers every route under its path.
pub fn routes(cfg: &mut web::ServiceConfig, limit: &AuthLimit) {
    cfg.service(
        web::scope("/api/v1")
            .service(
                web::resource("/auth/register")
                    .wrap(limit.middleware())
                    .route(web::post().to(accounts::register)),
            )
            .service(
                web::resource("/auth/login")
                    .wrap(limit.middleware())
                    .route(web::post().to(accounts::login)),
            )
            .service(
                web::resource("/auth/verify-email")
                    .wrap(limit.middleware())
                    .route(web::post().to(accounts::verify_email)),
            )
            .service(
                web::resource("/auth/verify-email/resend")
                    .wrap(limit.middleware())
                    .route(web::post().to(accounts::resend_verification)),
            )
            .service(
                web::resource("/auth/password-reset")
                    .wrap(limit.middleware())
                    .route(web::post().to(accounts::password_reset)),
            )
            .service(
                web::resource("/auth/password-reset/confirm")
                    .wrap(limit.middleware())
                    .route(web::post().to(accounts::password_reset_confirm)),
            )
            .service(web::resource("/me").route(web::get().to(me::me)))
            .service(web::resource("/me/password").route(web::put().to(me::change_password)))
            .service(
                web::resource("/estates")
                    .route(web::get().to(estates::list_estates))
                    .route(web::post().to(estates::create_estate)),
            )
            .service(
                web::resource("/estates/{estate_id}")
                    .route(web::get().to(estates::get_estate))
                    .route(web::patch().to(estates::rename_estate))
                    .route(web::delete().to(estates::delete_estate)),
            )
            .service(
                web::resource("/estates/{estate_id}/transfer-ownership")
                    .route(web::post().to(estates::transfer_ownership)),
            )
            .service(
                web::resource("/estates/{estate_id}/sites")
                    .route(web::get().to(estates::list_sites))
                    .route(web::post().to(estates::create_site)),
            )
            .service(
                web::resource("/estates/{estate_id}/members")
                    .route(web::get().to(estates::list_members)),
            )
            .service(
                web::resource("/estates/{estate_id}/members/{user_id}")
                    .route(web::put().to(estates::set_member))
                    .route(web::delete().to(estates::remove_member)),
            )
            .service(
                web::resource("/sites/{site_id}")
                    .route(web::get().to(estates::get_site))
                    .route(web::patch().to(estates::rename_site))
                    .route(web::delete().to(estates::delete_site)),
            )
            .service(
                web::resource("/sites/{site_id}/members")
                    .route(web::get().to(estates::list_site_members)),
            )
            .service(
                web::resource("/estates/{estate_id}/user-search")
                    .route(web::get().to(invitations::user_search)),
            )
            .service(
                web::resource("/estates/{estate_id}/invitations")
                    .route(web::get().to(invitations::list_invitations))
                    .route(web::post().to(invitations::invite)),
            )
            .service(
                web::resource("/estates/{estate_id}/invitations/{invitation_id}/resend")
                    .route(web::post().to(invitations::resend_invitation)),
            )
            .service(
                web::resource("/estates/{estate_id}/invitations/{invitation_id}/cancel")
                    .route(web::post().to(invitations::cancel_invitation)),
            )
            .service(
                web::resource("/invitations/preview")
                    .wrap(limit.middleware())
                    .route(web::post().to(invitations::preview_invitation)),
            )
            .service(
                web::resource("/invitations/accept")
                    .wrap(limit.middleware())
                    .route(web::post().to(invitations::accept_invitation)),
            )
            .service(
                web::resource("/invitations/accept-signup")
                    .wrap(limit.middleware())
                    .route(web::post().to(invitations::accept_signup)),
            )
            .service(
                web::resource("/invitations/decline")
                    .wrap(limit.middleware())
                    .route(web::post().to(invitations::decline_invitation)),
            )
            .service(
                web::resource("/me/invitations").route(web::get().to(invitations::my_invitations)),
            )
            .service(
                web::resource("/me/invitations/{invitation_id}/accept")
                    .route(web::post().to(invitations::accept_mine)),
            )
            .service(
                web::resource("/me/invitations/{invitation_id}/decline")
                    .route(web::post().to(invitations::decline_mine)),
            )
            .service(
                web::resource("/assets")
                    .route(web::get().to(assets::garage))
                    .route(web::post().to(assets::create_asset)),
            )
            .service(
                web::resource("/assets/{asset_id}")
                    .route(web::get().to(assets::get_asset))
                    .route(web::patch().to(assets::update_asset))
                    .route(web::delete().to(assets::delete_asset)),
            )
            .service(
                web::resource("/assets/{asset_id}/records")
                    .route(web::get().to(assets::list_records))
                    .route(web::post().to(assets::add_record)),
            )
            .service(
                web::resource("/assets/{asset_id}/records/{record_id}")
                    .route(web::patch().to(assets::update_record))
                    .route(web::delete().to(assets::delete_record)),
            )
            .service(
                web::resource("/assets/{asset_id}/photos")
                    .route(web::get().to(assets::list_photos))
                    .route(web::post().to(assets::add_photo)),
            )
            .service(
                web::resource("/assets/{asset_id}/photos/{photo_id}")
                    .route(web::delete().to(assets::delete_photo)),
            )
            .service(
                web::resource("/assets/{asset_id}/collaborators")
                    .route(web::get().to(assets::list_collaborators))
                    .route(web::post().to(assets::add_collaborator)),
            )
            .service(
                web::resource("/assets/{asset_id}/collaborators/{user_id}")
                    .route(web::delete().to(assets::remove_collaborator)),
            )
            .service(
                web::resource("/collaborators").route(web::get().to(assets::collaborator_split)),
            )
            .service(web::resource("/collaborators/add").route(web::post().to(assets::bulk_add)))
            .service(
                web::resource("/collaborators/remove").route(web::post().to(assets::bulk_remove)),
            )
            .service(
                web::resource("/asset-invitations")
                    .route(web::get().to(asset_invitations::list))
                    .route(web::post().to(asset_invitations::send_invitation)),
            )
            .service(
                web::resource("/asset-invitations/stats")
                    .route(web::get().to(asset_invitations::stats)),
            )
            .service(
                web::resource("/asset-invitations/{invitation_id}")
                    .route(web::get().to(asset_invitations::details)),
            )
            .service(
                web::resource("/asset-invitations/{invitation_id}/resend")
                    .route(web::post().to(asset_invitations::resend)),
            )
            .service(
                web::resource("/asset-invitations/{invitation_id}/cancel")
                    .route(web::post().to(asset_invitations::cancel)),
            )
            .service(
                web::resource("/assets/{asset_id}/invitations")
                    .route(web::get().to(asset_invitations::list_for_asset))
                    .route(web::post().to(asset_invitations::send_for_asset)),
            )
            .service(
                web::resource("/assets/{asset_id}/shares")
                    .route(web::get().to(asset_invitations::list_shares)),
            )
            .service(
                web::resource("/assets/{asset_id}/shares/{user_id}")
                    .route(web::patch().to(asset_invitations::change_share))
                    .route(web::delete().to(asset_invitations::revoke_share)),
            )
            .service(
                web::resource("/me/shares/{asset_id}")
                    .route(web::delete().to(asset_invitations::drop_share)),
            )
            .service(web::resource("/access/explain").route(web::get().to(access::explain)))
            .service(
                web::resource("/assets/{asset_id}/access")
                    .route(web::get().to(access::who_has_access)),
            )
            .service(web::resource("/audit").route(web::get().to(access::audit_trail)))
            .service(web::resource("/household").route(web::get().to(households::my_household)))
            .service(
                web::resource("/household/members").route(web::post().to(households::add_member)),
            )
            .service(
                web::resource("/household/members/{user_id}")
                    .route(web::patch().to(households::change_role))
                    .route(web::delete().to(households::remove_member)),
            )
            .service(web::resource("/households").route(web::get().to(households::my_memberships)))
            .service(
                web::resource("/households/{head_id}/membership")
                    .route(web::delete().to(households::leave)),
            )
            .service(
                web::resource("/sites/{site_id}/members/{user_id}")
                    .route(web::put().to(estates::set_site_override))
                    .route(web::delete().to(estates::clear_site_override)),
            ),
    )
    .service(web::resource("/verify-email").route(web::get().to(pages::verify_email)))
    .service(web::resource("/reset-password").route(web::get().to(pages::reset_password)))
    .service(web::resource("/invitations/accept").route(web::get().to(pages::accept_invitation)))
    .service(web::resource("/pages/{name}").route(web::get().to(pages::asset)))
    .service(web::resource("/health/live").route(web::get().to(health::live)))
    .service(web::resource("/health/ready").route(web::get().to(health::ready)))
    .service(web::resource("/metrics").route(web::get().to(metrics::metrics)));
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600);
    for origin in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

const HSTS: &str = "max-age=31536000; includeSubDomains";

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
const SWAGGER_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                           script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/// A running server and its background work.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    worker: tokio::task::JoinHandle<()>,
    sweeper: tokio::task::JoinHandle<()>,
    shutdown: watch::Sender<bool>,
    /// The `KEYHOLDER_METRICS_BIND` listener and its port.
    metrics_server: Option<(Server, u16)>,
}

impl Application {
    /// Connects, migrates, bootstraps and binds; call `run` to serve.
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Self> {
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
        let secret = startup::jwt_secret(&config, db.url())?;
        {
            let (config, db, clock) = (config.clone(), db.clone(), clock.clone());
            tokio::task::spawn_blocking(move || startup::bootstrap_root(&config, &db, &clock))
                .await??;
        }
        let metrics = Metrics::new();
        let delivery = Delivery::from_config(&config)?;
        let from = config.mail_from.parse().with_context(|| {
            format!(
                "KEYHOLDER_MAIL_FROM is not a valid mailbox: {}",
                config.mail_from
            )
        })?;
        let wakeup = Arc::new(Notify::new());
        let proxies = Arc::new(crate::proxy::Proxies::from_config(&config));
        let state = AppState {
            db: db.clone(),
            tokens: TokenKeys::new(&secret, config.token_ttl),
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
            hashing: Arc::new(crate::passwords::HashGate::from_config(&config)),
            proxies: proxies.clone(),
            db_gate: Arc::new(tokio::sync::Semaphore::new(
                usize::try_from(config.pool_size()).unwrap_or(1),
            )),
            config: Arc::new(config.clone()),
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let worker = MailWorker::new(
            db,
            delivery,
            from,
            clock,
            wakeup,
            Duration::from_millis(config.mail_poll_ms.max(10)),
            metrics.clone(),
        );
        let worker = tokio::spawn(worker.run(shutdown_rx.clone()));
        let sweeper = tokio::spawn(sweep_invitations(state.clone(), shutdown_rx));

        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let blocking_threads = usize::try_from(
            config
                .pool_size()
                .saturating_add(config.max_concurrent_hashes.max(1)),
        )
        .unwrap_or(16);
        let metrics_server = match config.metrics_bind {
            Some(bind) => Some(metrics_server(bind, web::Data::new(state.clone()))?),
            None => None,
        };
        let prometheus = PrometheusMetricsBuilder::new("keyholder")
            .registry(metrics.registry.clone())
            .mask_unmatched_patterns("UNMATCHED")
            .exclude("/metrics")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics setup failed: {e}"))?;
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
            let document = document.clone();
            let proxies = proxies.clone();
            App::new()
                .app_data(data.clone())
                .configure(|cfg| routes(cfg, &limit))
                .service(
                    web::resource("/api-docs/openapi.json").route(web::get().to(move || {
                        let document = document.clone();
                        async move {
                            actix_web::HttpResponse::Ok()
                                .content_type(header::ContentType::json())
                                .body(document)
                        }
                    })),
                )
                .service(
                    SwaggerUi::new("/swagger-ui/{_:.*}")
                        .config(utoipa_swagger_ui::Config::from("/api-docs/openapi.json")),
                )
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(ApiError::not_found(
                        "not_found",
                        "No such resource.",
                    ))
                }))
                .wrap(Condition::new(
                    !cors_origins.is_empty(),
                    cors(&cors_origins),
                ))
                // Outside CORS, so a refused preflight is problem+json too.
                .wrap(ErrorHandlers::new().default_handler(problemize))
                .wrap_fn(move |req, srv| {
                    let swagger = req.path().starts_with("/swagger-ui");
                    let page = matches!(
                        req.path(),
                        "/verify-email" | "/reset-password" | "/invitations/accept"
                    ) || req.path().starts_with("/pages/");
                    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
                    let hsts = always_hsts
                        || proxies.forwarded_https(req.peer_addr().map(|a| a.ip()), req.headers());
                    let fut = srv.call(req);
                    async move {
                        let mut res = fut.await?;
                        let h = res.headers_mut();
                        h.insert(
                            header::X_CONTENT_TYPE_OPTIONS,
                            HeaderValue::from_static("nosniff"),
                        );
                        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
                        h.insert(
                            header::REFERRER_POLICY,
                            HeaderValue::from_static("no-referrer"),
                        );
                        let csp = if swagger {
                            SWAGGER_CSP
                        } else if page {
                            pages::PAGES_CSP
                        } else {
                            API_CSP
                        };
                        h.insert(
                            header::CONTENT_SECURITY_POLICY,
                            HeaderValue::from_static(csp),
                        );
                        if hsts {
                            h.insert(
                                header::STRICT_TRANSPORT_SECURITY,
                                HeaderValue::from_static(HSTS),
                            );
                        }
                        if !swagger && !h.contains_key(header::CACHE_CONTROL) {
                            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                        }
                        if let Some(id) =
                            request_id.and_then(|id: String| HeaderValue::from_str(&id).ok())
                        {
                            h.insert(header::HeaderName::from_static("x-request-id"), id);
                        }
                        Ok(res)
                    }
                })
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(prometheus.clone())
        })
        // Blocking work is database jobs (at most one per pooled connection,
        // see `AppState::db`) and password hashes (capped by the hash gate):
        // more threads than that only cost memory.
        .worker_max_blocking_threads(blocking_threads)
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        Ok(Self {
            port,
            server,
            state,
            worker,
            sweeper,
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

    /// Serves until SIGTERM/SIGINT (in-flight requests finish), then stops
    /// the mail worker after its current batch.
    pub async fn run(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(|(server, _)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let result = self.server.await;
        // The metrics listener stops with the main one.
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        let _ = self.shutdown.send(true);
        let _ = self.worker.await;
        let _ = self.sweeper.await;
        result
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
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
                    "not_found",
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

/// Writes `expired` on invitations past their expiry, every 30 seconds.
/// (Reads already treat them as expired; this keeps the table truthful.)
async fn sweep_invitations(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        let db = state.db.clone();
        let now = state.clock.now();
        match tokio::task::spawn_blocking(move || invitations::sweep_expired(&db, now)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(count = n, "invitations expired"),
            Ok(Err(e)) => tracing::warn!(error = %e, "invitation sweep failed"),
            Err(e) => tracing::warn!(error = %e, "invitation sweep task failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = shutdown.changed() => break,
        }
    }
}
