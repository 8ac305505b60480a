//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes).
//!
//! Request handlers go through [`hash_limited`] and [`verify_limited`]: at
//! most [`HashGate`]'s number of hashes run at once across the server, and a
//! request that cannot get a turn quickly answers 503 `server_busy` instead
//! of queueing behind a flood.

use crate::problems::ProblemCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use keyholder_domain::values::Password;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

/// Seconds a client is told to wait after a 503 `server_busy`.
const BUSY_RETRY_AFTER: u64 = 1;

/// Caps the password hashes computing at once.
#[derive(Debug)]
pub struct HashGate {
    permits: Arc<Semaphore>,
    size: usize,
    wait: Duration,
}

impl HashGate {
    /// `size` hashes at once (0: one per CPU core); a request waits at most
    /// `wait` for its turn.
    pub fn new(size: usize, wait: Duration) -> Self {
        let size = if size == 0 {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        } else {
            size
        };
        Self { permits: Arc::new(Semaphore::new(size)), size, wait }
    }

    /// `KEYHOLDER_MAX_CONCURRENT_HASHES` and `KEYHOLDER_HASH_WAIT_MS`.
    pub fn from_config(config: &Config) -> Self {
        Self::new(
            usize::try_from(config.max_concurrent_hashes).unwrap_or(usize::MAX),
            Duration::from_millis(config.hash_wait_ms),
        )
    }

    /// How many hashes may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// A turn, or 503 `server_busy` (with `Retry-After`) after the wait.
    pub async fn acquire(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        let permits = self.permits.clone();
        match tokio::time::timeout(self.wait, permits.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out (or closed, which never happens): too busy.
            Ok(Err(_)) | Err(_) => {
                let mut err = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ProblemCode::ServerBusy,
                    "The server is busy checking other passwords; try again in a moment.",
                );
                err.retry_after = Some(BUSY_RETRY_AFTER);
                Err(err)
            }
        }
    }
}

/// [`hash`] on a blocking thread, once the gate gives a turn.
pub async fn hash_limited(state: &AppState, password: Password) -> Result<String, ApiError> {
    let permit = state.hashing.acquire().await?;
    // The permit moves into the job: it is held until the hash is done even
    // when the client goes away.
    web::block(move || {
        let _permit = permit;
        hash(password.expose())
    })
    .await?
}

/// [`verify`] on a blocking thread, once the gate gives a turn. With no
/// stored hash (an unknown account) it checks against [`dummy_hash`] and
/// answers `false`, taking as long.
pub async fn verify_limited(
    state: &AppState,
    password: String,
    stored: Option<String>,
) -> Result<bool, ApiError> {
    let permit = state.hashing.acquire().await?;
    let ok = web::block(move || {
        let _permit = permit;
        match stored.as_deref() {
            Some(stored) => verify(&password, stored),
            None => {
                verify(&password, dummy_hash());
                false
            }
        }
    })
    .await?;
    Ok(ok)
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string. CPU-heavy: call from a blocking task.
pub fn hash(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        ApiError::internal()
    })
}

/// Checks a password against a stored PHC string (the parameters come from
/// the string). CPU-heavy: call from a blocking task.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so a failed
/// login takes as long either way.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("not-a-real-password-0000").unwrap_or_default())
}
