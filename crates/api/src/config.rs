//! Configuration from the environment (and the same names as flags).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/keyholder.db";

#[derive(Parser, Debug)]
#[command(
    name = "keyholder",
    version,
    about = "Keyholder: a self-hostable service for sharing access"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run pending migrations, then serve the API (the default).
    Serve,
    /// Run pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document to standard output.
    Openapi,
    /// Run pending migrations, then fill the database with a large,
    /// deterministic world for benchmarks (idempotent).
    Seed(SeedArgs),
    /// Write a consistent copy of the database while the server runs: a
    /// SQLite file (`VACUUM INTO`), or a `pg_dump` custom-format archive.
    Backup(BackupArgs),
}

/// `keyholder backup` options.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct BackupArgs {
    /// The file to write; it must not exist yet.
    pub output: PathBuf,
}

/// `keyholder seed` options. Related rows (collaborators, shares,
/// households, records) scale with `--assets` and `--users`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct SeedArgs {
    /// Users to create (at least 20), four of them the known accounts.
    #[arg(long, default_value_t = 10_000)]
    pub users: u64,
    /// Assets to create (at least 200); half of them in one estate.
    #[arg(long, default_value_t = 1_000_000)]
    pub assets: u64,
    /// Invitations to create, in every status; most on `seed-inviter`'s assets.
    #[arg(long, default_value_t = 100_000)]
    pub invitations: u64,
    /// The password of every seeded account.
    #[arg(
        long,
        env = "KEYHOLDER_SEED_PASSWORD",
        default_value = "bench-password-1",
        hide_env_values = true
    )]
    pub password: Secret,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// Every setting is global: `keyholder --bind X serve` and
/// `keyholder serve --bind X` mean the same.
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Database URL: `sqlite://path` or `postgres://...`. Falls back to
    /// `DATABASE_URL`, then to `sqlite://data/keyholder.db`.
    #[arg(global = true, long, env = "KEYHOLDER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,

    /// Address to listen on.
    #[arg(global = true, long, env = "KEYHOLDER_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// HS256 secret for access tokens. Generated into `jwt-secret` beside a
    /// SQLite database when unset; required with PostgreSQL.
    #[arg(global = true, long, env = "KEYHOLDER_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// Access token lifetime in seconds: short, as a refresh token gets the
    /// next one.
    #[arg(global = true, long, env = "KEYHOLDER_TOKEN_TTL", default_value_t = 900, value_parser = clap::value_parser!(u64).range(60..=31_536_000))]
    pub token_ttl: u64,

    /// Seconds a session may go unrefreshed before it ends (each refresh
    /// starts the count again): 30 days by default.
    #[arg(global = true, long, env = "KEYHOLDER_REFRESH_TTL", default_value_t = 2_592_000, value_parser = clap::value_parser!(u64).range(600..=31_536_000))]
    pub refresh_ttl: u64,

    /// Base URL of the pages that emailed links open.
    #[arg(global = true, long, env = "KEYHOLDER_APP_URL", default_value = "http://localhost:8080")]
    pub app_url: String,

    /// `smtp://host:port` (or `smtps://`) to deliver email over SMTP.
    #[arg(global = true, long, env = "KEYHOLDER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret>,

    /// Folder to write each email into as an `.eml` file (when no SMTP URL).
    #[arg(global = true, long, env = "KEYHOLDER_MAIL_DIR")]
    pub mail_dir: Option<PathBuf>,

    /// Sender of every email.
    #[arg(
        global = true,
        long,
        env = "KEYHOLDER_MAIL_FROM",
        default_value = "Keyholder <no-reply@localhost>"
    )]
    pub mail_from: String,

    /// Root user bootstrap: created at start when missing.
    #[arg(global = true, long, env = "KEYHOLDER_ROOT_EMAIL")]
    pub root_email: Option<String>,
    #[arg(global = true, long, env = "KEYHOLDER_ROOT_USERNAME")]
    pub root_username: Option<String>,
    #[arg(global = true, long, env = "KEYHOLDER_ROOT_PASSWORD", hide_env_values = true)]
    pub root_password: Option<Secret>,

    /// Comma-separated origins allowed to call the API from a browser.
    #[arg(global = true, long, env = "KEYHOLDER_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Requests per minute per client address to login, register, password
    /// reset and the token endpoints; 0 turns the limit off.
    #[arg(global = true, long, env = "KEYHOLDER_AUTH_RATE_LIMIT", default_value_t = 20)]
    pub auth_rate_limit: u32,

    /// Requests per minute, per user and per address, to user search,
    /// invitation sending and resending; 0 turns the limit off.
    #[arg(global = true, long, env = "KEYHOLDER_ACTION_RATE_LIMIT", default_value_t = 30)]
    pub action_rate_limit: u32,

    /// Invitation emails (new or resent) one user may send per 24 hours.
    #[arg(global = true, long, env = "KEYHOLDER_INVITE_DAILY_LIMIT", default_value_t = 200)]
    pub invite_daily_limit: u32,

    /// Take the client address from the proxy header (only behind a proxy
    /// that appends to it): the `KEYHOLDER_PROXY_HOPS`-th entry from the right.
    #[arg(global = true, long, env = "KEYHOLDER_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// Comma-separated IPs/CIDRs of the reverse proxies. When set, the proxy
    /// header is read only from these peers and the client is the right-most
    /// address that is not one of them (implies `KEYHOLDER_TRUST_PROXY`).
    #[arg(global = true, long, env = "KEYHOLDER_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::proxy::IpNet>,

    /// With `KEYHOLDER_TRUST_PROXY` and no `KEYHOLDER_TRUSTED_PROXIES`: how
    /// many proxies stand in front of the server.
    #[arg(global = true, long, env = "KEYHOLDER_PROXY_HOPS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub proxy_hops: u32,

    /// The header the proxies append the client address to (only that one is
    /// read).
    #[arg(global = true, long, env = "KEYHOLDER_PROXY_HEADER", value_enum, default_value_t = crate::proxy::ProxyHeader::XForwardedFor)]
    pub proxy_header: crate::proxy::ProxyHeader,

    /// Attempts per minute, per user and per address, to change the password
    /// with the current one; 0 turns the limit off.
    #[arg(global = true, long, env = "KEYHOLDER_PASSWORD_RATE_LIMIT", default_value_t = 5)]
    pub password_rate_limit: u32,

    /// Password hashes/verifications computed at once across the server; 0
    /// means one per CPU core.
    #[arg(global = true, long, env = "KEYHOLDER_MAX_CONCURRENT_HASHES", default_value_t = 0)]
    pub max_concurrent_hashes: u32,

    /// Milliseconds a request waits for a free password hasher before
    /// answering 503 `server_busy`.
    #[arg(global = true, long, env = "KEYHOLDER_HASH_WAIT_MS", default_value_t = 500)]
    pub hash_wait_ms: u64,

    /// Serve `/metrics` only on this separate address (the main listener then
    /// answers 404 for it).
    #[arg(global = true, long, env = "KEYHOLDER_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Bearer token that `/metrics` requires.
    #[arg(global = true, long, env = "KEYHOLDER_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,

    /// Log format.
    #[arg(global = true, long, env = "KEYHOLDER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// Largest connection pool size: 10 on PostgreSQL, 4 on SQLite when
    /// unset. SQLite takes one writer at a time and each worker thread reads
    /// single resources on a connection of its own, so more pooled
    /// connections add memory (a page cache each) but no throughput.
    #[arg(global = true, long, env = "KEYHOLDER_DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,

    /// Seconds a request waits for a database connection before answering 503.
    #[arg(global = true, long, env = "KEYHOLDER_DB_TIMEOUT", default_value_t = 5)]
    pub db_timeout: u64,

    /// Seconds to keep serving after SIGTERM, with `/health/ready` answering
    /// 503 and every answer closing its connection, before the server waits
    /// for a quiet moment and stops accepting: the time a balancer needs to
    /// take it out of rotation.
    #[arg(global = true, long, env = "KEYHOLDER_SHUTDOWN_DELAY", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=300))]
    pub shutdown_delay: u64,

    /// Milliseconds between two looks at the mail outbox.
    #[arg(global = true, long, env = "KEYHOLDER_MAIL_POLL_MS", default_value_t = 1000)]
    pub mail_poll_ms: u64,

    /// Let webhook endpoints point at private and local addresses
    /// (loopback, private networks, link-local, `localhost`), for a receiver
    /// on the same host or network. Off by default, so that a webhook cannot
    /// reach internal services.
    #[arg(global = true, long, env = "KEYHOLDER_WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,

    /// Failed webhook delivery attempts in a row after which the endpoint
    /// is disabled and its owner emailed.
    #[arg(global = true, long, env = "KEYHOLDER_WEBHOOK_DISABLE_AFTER", default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub webhook_disable_after: u32,

    /// Seconds a webhook receiver has to answer.
    #[arg(global = true, long, env = "KEYHOLDER_WEBHOOK_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub webhook_timeout: u64,

    /// Folder of uploaded files when no S3 bucket is set. Unset: a `files`
    /// folder beside the SQLite database (`data/files` on PostgreSQL,
    /// where every replica must see the same folder; use S3 there).
    #[arg(global = true, long, env = "KEYHOLDER_FILES_DIR")]
    pub files_dir: Option<std::path::PathBuf>,

    /// An S3-compatible bucket for uploaded files (AWS S3, MinIO, Ceph,
    /// Garage, ...): set, files are stored there instead of on disk. The
    /// credentials come from `KEYHOLDER_S3_ACCESS_KEY_ID` and
    /// `KEYHOLDER_S3_SECRET_ACCESS_KEY`, else the usual `AWS_*` variables
    /// (or the instance's role).
    #[arg(global = true, long, env = "KEYHOLDER_S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// The S3 endpoint, for a service other than AWS (for example
    /// `http://minio:9000`); unset: AWS for the region.
    #[arg(global = true, long, env = "KEYHOLDER_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// The bucket's region.
    #[arg(global = true, long, env = "KEYHOLDER_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// The S3 access key id (else `AWS_ACCESS_KEY_ID`).
    #[arg(global = true, long, env = "KEYHOLDER_S3_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<Secret>,

    /// The S3 secret access key (else `AWS_SECRET_ACCESS_KEY`).
    #[arg(global = true, long, env = "KEYHOLDER_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<Secret>,

    /// Largest uploaded file, in bytes (more is 413 `file_too_large`); at
    /// most 100 MiB, as an upload is held in memory until it is stored.
    #[arg(global = true, long, env = "KEYHOLDER_FILE_MAX_BYTES", default_value_t = 10 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..=104_857_600))]
    pub file_max_bytes: u64,

    /// Seconds an upload may take to arrive and be stored (more is 408
    /// `upload_timeout`); well under the hour after which the sweeper
    /// deletes an uncommitted upload's object.
    #[arg(global = true, long, env = "KEYHOLDER_UPLOAD_TIMEOUT", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=1800))]
    pub upload_timeout: u64,

    /// Most files one asset holds (more is 409 `file_limit_reached`).
    #[arg(global = true, long, env = "KEYHOLDER_FILES_PER_ASSET", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub files_per_asset: u32,

    /// The most rows one export holds (more is 422 `export_too_large`):
    /// not a setting, fixed at [`EXPORT_MAX_ROWS`]; tests set it lower to
    /// reach the limit without writing that many rows.
    #[arg(skip = EXPORT_MAX_ROWS)]
    pub export_max_rows: usize,

    /// Rows an export reads per keyset page: not a setting, fixed at
    /// [`EXPORT_PAGE_ROWS`]; tests set it lower to walk many pages.
    #[arg(skip = EXPORT_PAGE_ROWS)]
    pub export_page_rows: i64,
}

/// The most rows one export (`.../export`) holds.
pub const EXPORT_MAX_ROWS: usize = 50_000;

/// Rows an export reads per keyset page.
pub const EXPORT_PAGE_ROWS: i64 = 1000;

impl Config {
    /// The pool size: as configured, else the backend's default.
    pub fn pool_size(&self) -> u32 {
        let sqlite = !self.resolved_database_url().starts_with("postgres");
        self.db_pool_size.unwrap_or(if sqlite { 4 } else { 10 }).max(1)
    }

    /// The database URL after the documented fallbacks.
    pub fn resolved_database_url(&self) -> String {
        self.database_url
            .as_deref()
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty())
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|s| !s.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
    }

    /// The configuration with every default, as if no variable were set.
    pub fn defaults() -> Self {
        Cli::parse_from(["keyholder"]).config
    }

    /// `app_url` without a trailing slash.
    pub fn app_base(&self) -> &str {
        self.app_url.trim_end_matches('/')
    }
}

/// A configured secret (a password, key, token, or a URL that may hold
/// one): read like any string, shown by `Debug` as `[redacted]`, so a
/// logged configuration carries none.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::ops::Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.into())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["keyholder"];
        all.extend_from_slice(args);
        Cli::parse_from(all).config
    }

    #[test]
    fn the_pool_is_four_connections_on_sqlite_and_ten_on_postgresql_unless_set() {
        assert_eq!(config(&["--database-url", "sqlite://data/k.db"]).pool_size(), 4);
        assert_eq!(config(&["--database-url", "postgres://u@db/keyholder"]).pool_size(), 10);
        assert_eq!(
            config(&["--database-url", "postgres://u@db/keyholder", "--db-pool-size", "3"])
                .pool_size(),
            3
        );
        assert_eq!(
            config(&["--database-url", "sqlite://k.db", "--db-pool-size", "0"]).pool_size(),
            1
        );
    }

    #[test]
    fn flags_are_taken_before_or_after_the_subcommand() {
        for args in [
            &["keyholder", "serve", "--bind", "0.0.0.0:9000", "--db-pool-size", "3"][..],
            &["keyholder", "--bind", "0.0.0.0:9000", "serve", "--db-pool-size", "3"][..],
        ] {
            let cli = Cli::try_parse_from(args).expect("parses");
            assert_eq!(cli.command, Some(Command::Serve));
            assert_eq!(cli.config.bind.to_string(), "0.0.0.0:9000");
            assert_eq!(cli.config.db_pool_size, Some(3));
        }
        let cli = Cli::try_parse_from(["keyholder", "migrate", "--database-url", "sqlite://x.db"])
            .expect("parses");
        assert_eq!(cli.command, Some(Command::Migrate));
        assert_eq!(cli.config.resolved_database_url(), "sqlite://x.db");
        assert!(Cli::try_parse_from(["keyholder", "serve", "--no-such-flag"]).is_err());
    }

    #[test]
    fn a_logged_configuration_shows_no_secret() {
        let c = config(&[
            "--database-url",
            "postgres://kh:db-pass@db/keyholder",
            "--jwt-secret",
            "jwt-secret-0123456789abcdef0123456789",
            "--smtp-url",
            "smtp://mailer:smtp-pass@mail:587",
            "--root-password",
            "root-pass-0123",
            "--metrics-token",
            "metrics-token-0123",
        ]);
        let shown = format!("{c:?}");
        for secret in ["db-pass", "jwt-secret-0", "smtp-pass", "root-pass", "metrics-token-0"] {
            assert!(!shown.contains(secret), "{secret} is in {shown}");
        }
        assert!(shown.contains("bind: 127.0.0.1:8080"), "{shown}");
        assert_eq!(c.jwt_secret.as_deref(), Some("jwt-secret-0123456789abcdef0123456789"));
    }
}
