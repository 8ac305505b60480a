//! Where uploaded files' bytes live: a folder on the local disk (the
//! default, beside the SQLite database) or an S3-compatible bucket, both
//! through `object_store`. The rows that list the files, and the access
//! check, are the database's (`keyholder_store::files`); this module only
//! writes, reads and deletes objects by key, and runs the deletion queue.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use anyhow::Context as _;
use futures_util::stream::BoxStream;
use keyholder_store::Db;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt as _, RetryConfig};
use uuid::Uuid;

use crate::config::Config;

/// The object store of uploaded files.
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<dyn ObjectStore>,
    /// `local` or `s3`, for logs.
    pub kind: &'static str,
    /// Wakes the deletion loop after a commit that queued deletions.
    wakeup: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileStore({})", self.kind)
    }
}

/// A failure of the object store, with what it said (never a credential:
/// `object_store` does not put them in its errors).
#[derive(Debug, thiserror::Error)]
#[error("file store: {0}")]
pub struct StoreFailure(#[from] pub object_store::Error);

impl FileStore {
    /// The bucket when `KEYHOLDER_S3_BUCKET` is set, else the folder
    /// (created if missing).
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        if let Some(bucket) = config.s3_bucket.as_deref().filter(|b| !b.trim().is_empty()) {
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket.trim())
                .with_region(&config.s3_region)
                .with_retry(RetryConfig {
                    max_retries: 3,
                    retry_timeout: Duration::from_secs(15),
                    ..RetryConfig::default()
                })
                .with_client_options(
                    ClientOptions::new()
                        .with_timeout(Duration::from_secs(60))
                        .with_connect_timeout(Duration::from_secs(5)),
                );
            if let Some(endpoint) = config.s3_endpoint.as_deref().filter(|e| !e.trim().is_empty()) {
                builder = builder
                    .with_endpoint(endpoint.trim())
                    .with_allow_http(endpoint.trim().starts_with("http://"));
            }
            if let Some(key) = config.s3_access_key_id.as_deref() {
                builder = builder.with_access_key_id(key);
            }
            if let Some(secret) = config.s3_secret_access_key.as_deref() {
                builder = builder.with_secret_access_key(secret);
            }
            let store =
                builder.build().context("the S3 settings (KEYHOLDER_S3_*) are not usable")?;
            return Ok(Self::new(Arc::new(store), "s3"));
        }
        let dir = files_dir(config);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the files folder {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(&dir)
            .with_context(|| format!("cannot use the files folder {}", dir.display()))?
            .with_automatic_cleanup(true);
        Ok(Self::new(Arc::new(store), "local"))
    }

    fn new(inner: Arc<dyn ObjectStore>, kind: &'static str) -> Self {
        Self { inner, kind, wakeup: Arc::new(tokio::sync::Notify::new()) }
    }

    /// Tells the deletion loop that keys were queued (a file or an asset
    /// was deleted), so objects go at once rather than at the next poll.
    pub fn deletions_queued(&self) {
        self.wakeup.notify_one();
    }

    /// The key of a file's object: by asset, then file.
    pub fn key(asset_id: Uuid, file_id: Uuid) -> String {
        format!("assets/{asset_id}/{file_id}")
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreFailure> {
        self.inner.put(&ObjectPath::from(key), bytes.into()).await?;
        Ok(())
    }

    /// The object's bytes as a stream.
    pub async fn get(
        &self,
        key: &str,
    ) -> Result<BoxStream<'static, object_store::Result<Bytes>>, StoreFailure> {
        Ok(self.inner.get(&ObjectPath::from(key)).await?.into_stream())
    }

    /// Deletes an object; one already gone counts as deleted.
    pub async fn delete(&self, key: &str) -> Result<(), StoreFailure> {
        match self.inner.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether an object is there (for tests and operators).
    pub async fn exists(&self, key: &str) -> Result<bool, StoreFailure> {
        match self.inner.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// `KEYHOLDER_FILES_DIR`, else `files` beside the SQLite database, else
/// `data/files`.
pub fn files_dir(config: &Config) -> std::path::PathBuf {
    if let Some(dir) = &config.files_dir {
        return dir.clone();
    }
    let url = config.resolved_database_url();
    keyholder_store::DatabaseUrl::parse(&url)
        .ok()
        .and_then(|u| u.sqlite_path().map(|p| p.to_path_buf()))
        .map(|p| p.parent().unwrap_or_else(|| std::path::Path::new(".")).join("files"))
        .unwrap_or_else(|| std::path::PathBuf::from("data/files"))
}

/// Deletes the objects whose keys are due on the deletion queue: each is
/// claimed (a lease of five minutes, `SKIP LOCKED` on PostgreSQL), deleted
/// from the store, and its key dropped; a failure is retried with backoff
/// (one minute doubling to six hours). Returns how many were deleted.
pub async fn sweep_deletions(
    db: &Db,
    store: &FileStore,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<usize> {
    use keyholder_store::files;
    let mut deleted = 0;
    loop {
        let claimed = {
            let db = db.clone();
            let lease = now + chrono::Duration::minutes(5);
            tokio::task::spawn_blocking(move || {
                db.write(|c| files::claim_deletions(c, now, lease, 100))
            })
            .await??
        };
        if claimed.is_empty() {
            return Ok(deleted);
        }
        let batch = claimed.len();
        for d in claimed {
            let outcome = store.delete(&d.storage_key).await;
            let db = db.clone();
            match outcome {
                Ok(()) => {
                    deleted += 1;
                    let key = d.storage_key;
                    tokio::task::spawn_blocking(move || {
                        db.write(|c| files::deletion_done(c, &key))
                    })
                    .await??;
                }
                Err(e) => {
                    let shift = u32::try_from(d.attempts.clamp(0, 9)).unwrap_or(9);
                    let wait =
                        chrono::Duration::minutes(1 << shift).min(chrono::Duration::hours(6));
                    tracing::warn!(key = %d.storage_key, error = %e, attempts = d.attempts + 1, "file deletion failed; retrying later");
                    let (key, error) = (d.storage_key, e.to_string());
                    tokio::task::spawn_blocking(move || {
                        db.write(|c| files::deletion_failed(c, &key, &error, now + wait))
                    })
                    .await??;
                }
            }
        }
        if batch < 100 {
            return Ok(deleted);
        }
    }
}

/// Deletes queued objects whenever told ([`FileStore::deletions_queued`])
/// and every five seconds (deletions queued by other replicas, retries and
/// abandoned uploads), until shutdown.
pub async fn run_deletions(
    state: crate::state::AppState,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let now = state.clock.now();
        match sweep_deletions(&state.db, &state.files, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "file objects deleted"),
            Err(e) => tracing::warn!(error = %e, "file deletion sweep failed"),
        }
        tokio::select! {
            () = state.files.wakeup.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.changed() => break,
        }
    }
}
