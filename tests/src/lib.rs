//! Test harness: starts Keyholder on port 0 against a fresh database (a
//! SQLite file in a temp folder, or a new PostgreSQL database) and speaks
//! HTTP to it like a frontend. Emails land as `.eml` files in a temp folder.

mod app;
mod client;
mod contract;
mod db;
mod paging;
mod steps;
mod views;

use serde_json::Value;

pub use app::{Email, Reply, Session, TestApp};
pub use client::{Bearer, NOBODY, Nobody};
pub use db::TestDb;
pub use keyholder_api;
pub use keyholder_store;
pub use keyholder_store::StoreError;

/// The JWT secret every test server uses, so tests can forge tokens.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
/// A password that satisfies the policy.
pub const PASSWORD: &str = "correct horse battery";

/// Root's password on servers started by `TestApp::spawn_with_root`.
pub const ROOT_PASSWORD: &str = "root password 123";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends a test that spawns its own servers runs on: SQLite, and
/// PostgreSQL when [`postgres_available`].
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    if postgres_available() {
        all.push(Backend::Postgres);
    }
    all
}

/// Generates one `#[tokio::test]` per backend for each named `async fn(TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::TestApp::spawn($crate::Backend::Sqlite).await;
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if !$crate::postgres_available() {
                        return;
                    }
                    let app = $crate::TestApp::spawn($crate::Backend::Postgres).await;
                    super::$name(app).await;
                }
            )*
        }
    };
}

/// Whether PostgreSQL tests run: `KEYHOLDER_TEST_POSTGRES_URL` set. Under
/// `CI=true` a missing URL is a failure, never a skip.
pub fn postgres_available() -> bool {
    if std::env::var("KEYHOLDER_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but KEYHOLDER_TEST_POSTGRES_URL is not set: PostgreSQL suites must run"
    );
    eprintln!("skipping the PostgreSQL variant: KEYHOLDER_TEST_POSTGRES_URL is not set");
    false
}

/// An hour before now, as RFC 3339: a time in the past that expiries refuse.
pub fn an_hour_ago() -> String {
    (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339()
}

/// Signs arbitrary claims with the test secret (or another secret).
pub fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

pub use paging::{AssetRow, FOREIGN_CURSOR, PendingRow, ids, newest_first, pairs, uid};
pub use views::*;
