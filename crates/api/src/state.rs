//! Shared application state, built once at start.

use std::sync::Arc;

use keyholder_store::{Backend, Db, DbConnection};
use tokio::sync::Notify;

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::ApiError;
use crate::telemetry::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub tokens: TokenKeys,
    pub clock: Clock,
    /// Wakes the mail worker after a commit that queued email.
    pub mail_wakeup: Arc<Notify>,
    pub metrics: Metrics,
    /// Per-user budget for search and invitations.
    pub user_limit: Arc<crate::ratelimit::UserLimit>,
    /// Per-user and per-address budget for password changes.
    pub password_limit: Arc<crate::ratelimit::UserLimit>,
    /// Caps the password hashes computing at once.
    pub hashing: Arc<crate::passwords::HashGate>,
    /// Whom to believe about the client address and scheme.
    pub proxies: Arc<crate::proxy::Proxies>,
    /// One permit per pooled connection: requests beyond the pool wait
    /// here, on the executor, instead of each parking a blocking thread on
    /// the pool's lock (which costs a thread switch per wake-up).
    pub db_gate: Arc<tokio::sync::Semaphore>,
    /// Set once a shutdown signal arrived (see [`crate::lifecycle`]).
    pub drain: Arc<crate::lifecycle::Drain>,
    /// Where uploaded files' bytes live (a folder, or an S3 bucket).
    pub files: crate::files::FileStore,
}

/// How a use case meets the database.
#[derive(Clone, Copy, Debug)]
pub enum Tx {
    /// One write transaction: the change, its audit event and any email it
    /// queues commit together or not at all.
    Write,
    /// One read transaction: one snapshot on SQLite; on PostgreSQL
    /// `READ COMMITTED`, each statement seeing the latest commit (use
    /// [`Tx::Snapshot`] when several statements must agree).
    Read,
    /// One read-only transaction whose statements all see one snapshot,
    /// on both databases (`REPEATABLE READ` on PostgreSQL): an export read
    /// page by page.
    Snapshot,
    /// A pooled connection without a transaction: reads whose statements do
    /// not need to agree with each other.
    Run,
    /// A read that is one statement by primary keys (a caller and the
    /// resource it names, with the caller's access facts): on SQLite at once
    /// on this worker thread ([`keyholder_store::Db::run_here`]), on
    /// PostgreSQL as [`Tx::Run`].
    One,
}

/// A job on one connection that may move to the blocking pool.
pub trait Job<T>: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static {}

impl<T, F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static> Job<T> for F {}

impl AppState {
    /// Runs `op` on the database as `tx` says, off the async executor
    /// (except [`Tx::One`] on SQLite).
    pub async fn on<T: Send + 'static>(&self, tx: Tx, op: impl Job<T>) -> Result<T, ApiError> {
        match tx {
            Tx::Write => self.db(move |db| db.write(op)).await,
            Tx::Read => self.db(move |db| db.read(op)).await,
            Tx::Snapshot => self.db(move |db| db.snapshot(op)).await,
            Tx::One if self.db.backend() == Backend::Sqlite => self.db.run_here(op),
            Tx::Run | Tx::One => self.db(move |db| db.run(op)).await,
        }
    }

    /// [`Tx::Write`], for the routes without a caller.
    pub async fn write<T: Send + 'static>(&self, op: impl Job<T>) -> Result<T, ApiError> {
        self.on(Tx::Write, op).await
    }

    /// [`Tx::Read`], for the routes without a caller.
    pub async fn read<T: Send + 'static>(&self, op: impl Job<T>) -> Result<T, ApiError> {
        self.on(Tx::Read, op).await
    }

    /// Runs a blocking database job off the async executor.
    pub async fn db<T, E, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Db) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
        ApiError: From<E>,
    {
        let wait = self.config.db_timeout.max(1);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
        let _permit = tokio::time::timeout(
            std::time::Duration::from_secs(wait),
            self.db_gate.clone().acquire_owned(),
        )
        .await
        .map_err(|_| {
            ApiError::unavailable("The database is busy; try again shortly.")
                .caused_by(format!("no database connection freed up in {wait} s"))
        })?
        .map_err(|_| ApiError::internal())?;
        let db = self.db.clone();
        Ok(actix_web::web::block(move || Db::by(deadline, || f(&db))).await??)
    }

    /// Tells the mail worker that new rows are waiting.
    pub fn mail_queued(&self) {
        self.mail_wakeup.notify_one();
    }
}
