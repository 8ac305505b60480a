//! Stopping without dropping a request.
//!
//! actix-web's own signal handling closes every keep-alive connection that
//! is between requests the moment SIGTERM arrives, including one whose next
//! request already sits unread in the socket: the client sees the
//! connection closed with no answer. So the server handles the signals
//! itself: on SIGTERM (or SIGINT) it first keeps serving, answering
//! `/health/ready` with 503 and every request with `Connection: close`,
//! for `KEYHOLDER_SHUTDOWN_DELAY` seconds (time for a balancer to notice),
//! then until no request has been running or begun for [`QUIET`] (at most
//! [`QUIET_CAP`]); only then does it stop accepting and let the requests in
//! flight finish (up to 30 s).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::web;

use crate::state::AppState;

/// How long no request may have run before the server stops accepting.
pub const QUIET: Duration = Duration::from_millis(500);
/// The longest wait for [`QUIET`] under steady traffic.
pub const QUIET_CAP: Duration = Duration::from_secs(10);

/// Whether the server is draining, and what runs.
#[derive(Debug)]
pub struct Drain {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    /// Milliseconds after `origin` at which the last request began.
    last_start: AtomicU64,
    origin: Instant,
}

impl Default for Drain {
    fn default() -> Self {
        Self {
            draining: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            last_start: AtomicU64::new(0),
            origin: Instant::now(),
        }
    }
}

impl Drain {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Starts draining, then waits `delay`, then for [`QUIET`] (at most
    /// [`QUIET_CAP`]).
    pub async fn drain(&self, delay: Duration) {
        self.draining.store(true, Ordering::Release);
        tokio::time::sleep(delay).await;
        let quiet_ms = u64::try_from(QUIET.as_millis()).unwrap_or(500);
        let cap = Instant::now() + QUIET_CAP;
        while Instant::now() < cap {
            let idle = self.in_flight.load(Ordering::Acquire) == 0
                && self.now_ms().saturating_sub(self.last_start.load(Ordering::Acquire))
                    >= quiet_ms;
            if idle {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Counts the request while it runs; while draining, its answer closes the
/// connection (the client opens a new one, to another replica once the
/// balancer has noticed).
pub async fn track<B: MessageBody>(
    request: ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let Some(drain) = request.app_data::<web::Data<AppState>>().map(|s| s.drain.clone()) else {
        return next.call(request).await;
    };
    drain.in_flight.fetch_add(1, Ordering::AcqRel);
    drain.last_start.store(drain.now_ms(), Ordering::Release);
    let outcome = next.call(request).await;
    drain.in_flight.fetch_sub(1, Ordering::AcqRel);
    // Counted as running until its answer: the quiet period starts now.
    drain.last_start.store(drain.now_ms(), Ordering::Release);
    let mut res = outcome?;
    if drain.is_draining() {
        res.response_mut().head_mut().set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received; draining"),
                    _ = int.recv() => tracing::info!("SIGINT received; draining"),
                }
            }
            _ => {
                tracing::warn!("cannot listen for signals; stop the server with SIGKILL");
                std::future::pending::<()>().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C received; draining");
    }
}

/// A shared [`Drain`].
pub fn new() -> Arc<Drain> {
    Arc::new(Drain::default())
}
