//! Shared application state, built once at start.

use std::sync::Arc;

use keyholder_store::Db;
use tokio::sync::Notify;

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::Config;
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
}

impl AppState {
    /// Runs `op` in one write transaction off the executor: the change, its
    /// audit event and any email it queues commit together or not at all.
    pub async fn write<T, F>(&self, op: F) -> Result<T, crate::error::ApiError>
    where
        F: FnOnce(&mut keyholder_store::DbConnection) -> Result<T, crate::error::ApiError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.db(move |db| db.write(op)).await
    }

    /// Runs `op` in one read transaction off the executor.
    pub async fn read<T, F>(&self, op: F) -> Result<T, crate::error::ApiError>
    where
        F: FnOnce(&mut keyholder_store::DbConnection) -> Result<T, crate::error::ApiError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.db(move |db| db.read(op)).await
    }

    /// Runs a blocking database job off the async executor.
    pub async fn db<T, E, F>(&self, f: F) -> Result<T, crate::error::ApiError>
    where
        F: FnOnce(&Db) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
        crate::error::ApiError: From<E>,
    {
        let wait = self.config.db_timeout.max(1);
        let _permit = tokio::time::timeout(
            std::time::Duration::from_secs(wait),
            self.db_gate.clone().acquire_owned(),
        )
        .await
        .map_err(|_| {
            tracing::warn!("no database connection freed up in {wait} s");
            crate::error::ApiError::unavailable("The database is busy; try again shortly.")
        })?
        .map_err(|_| crate::error::ApiError::internal())?;
        let db = self.db.clone();
        Ok(actix_web::web::block(move || f(&db)).await??)
    }

    /// Runs a read that is one statement by primary keys (a caller and the
    /// resource it names, with the caller's access facts): on SQLite at once
    /// on this worker thread ([`keyholder_store::Db::run_here`]), on
    /// PostgreSQL on a pooled connection off the executor, as [`Self::db`].
    pub async fn read_one<T, E, F>(&self, f: F) -> Result<T, crate::error::ApiError>
    where
        F: FnOnce(&mut keyholder_store::DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<keyholder_store::StoreError> + Send + 'static,
        crate::error::ApiError: From<E>,
    {
        match self.db.backend() {
            keyholder_store::Backend::Sqlite => Ok(self.db.run_here(f)?),
            keyholder_store::Backend::Postgres => self.db(move |db| db.run(f)).await,
        }
    }

    /// Tells the mail worker that new rows are waiting.
    pub fn mail_queued(&self) {
        self.mail_wakeup.notify_one();
    }
}
