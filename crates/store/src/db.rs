//! The connection enum over SQLite and PostgreSQL, the pool, migrations and
//! transactions. The backend is chosen by the URL scheme.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{Result, StoreError};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The PostgreSQL advisory lock key that serializes migration runs
/// ("keyholdr" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6b65_7968_6f6c_6472;

/// The first statement of a SQLite write transaction: it changes nothing
/// but takes the write lock at once, waiting (busy timeout) while another
/// process writes. Without it a transaction that reads first and writes
/// later fails with "database is locked" when another process (a second
/// server on the same file, `keyholder migrate`) wrote in between: SQLite
/// cannot wait there without risking a deadlock. Within one process the
/// writer mutex already queues writers.
const SQLITE_TAKE_WRITE_LOCK: &str =
    "UPDATE __diesel_schema_migrations SET version = version WHERE 0";

fn names(applied: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    applied.iter().map(ToString::to_string).collect()
}

/// One connection type for both databases; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The connection store functions take: a short name for [`DbConnection`].
pub type Conn = DbConnection;

/// Which database a URL points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://path`, `sqlite:path` or `postgres://...` / `postgresql://...`.
    pub fn parse(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                StoreError::Config(format!(
                    "unsupported database URL scheme in {:?}: use sqlite://path or postgres://...",
                    redact_url(url)
                ))
            })?;
        if path.is_empty() {
            return Err(StoreError::Config("the SQLite URL names no file".into()));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite file, when this is a SQLite URL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(p) => Some(p),
            Self::Postgres(_) => None,
        }
    }
}

/// Removes a password from a URL for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// r2d2 manager that opens the right connection for the URL and prepares
/// SQLite connections (foreign keys, WAL, busy timeout).
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

fn establish(url: &DatabaseUrl) -> Result<DbConnection> {
    match url {
        DatabaseUrl::Postgres(u) => {
            let mut conn = diesel::PgConnection::establish(u)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            // No JIT: its threshold is the planner's cost estimate, which
            // for a user's reach (estimated from the estates' averages) runs
            // far past it, and compiling then costs 15-17 ms on a statement
            // that runs in 10 (measured on the invitation stats of the 1M
            // seed). Every statement here is a short indexed read.
            conn.batch_execute("SET jit = off")?;
            Ok(DbConnection::Postgresql(conn))
        }
        DatabaseUrl::Sqlite(path) => {
            let path = path
                .to_str()
                .ok_or_else(|| StoreError::Config("the SQLite path is not UTF-8".into()))?;
            let mut conn = diesel::SqliteConnection::establish(path)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            // A 1 MiB page cache per connection (SQLite's default is 2 MiB):
            // the kernel caches the file anyway, and on the 1M seed the
            // garage and invitation lists ran as fast with half the
            // memory per connection.
            conn.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA cache_size = -1024; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// A pooled connection and what the pool knows of its health.
pub struct PoolConn {
    inner: DbConnection,
    /// When it was last handed back to the pool (or opened).
    returned_at: std::time::Instant,
    /// Set when a statement failed and a ping then failed too: the pool
    /// drops it instead of handing it out again.
    broken: bool,
}

impl std::ops::Deref for PoolConn {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for PoolConn {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.inner
    }
}

impl PoolConn {
    /// After a failed unit of work: a connection that no longer answers is
    /// marked broken, so the pool replaces it (after a database restart the
    /// next request gets a fresh connection).
    fn check_after_failure(&mut self) {
        if self.inner.batch_execute("SELECT 1").is_err() {
            self.broken = true;
        }
    }
}

/// A connection handed back to the pool within this window is handed out
/// again without a ping (as HikariCP's alive-bypass window): under load no
/// request pays an extra round trip, and one idle longer is checked first.
const ALIVE_BYPASS: Duration = Duration::from_millis(500);

impl r2d2::ManageConnection for Manager {
    type Connection = PoolConn;
    type Error = StoreError;

    fn connect(&self) -> Result<PoolConn> {
        Ok(PoolConn {
            inner: establish(&self.url)?,
            returned_at: std::time::Instant::now(),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut PoolConn) -> Result<()> {
        if conn.returned_at.elapsed() < ALIVE_BYPASS {
            return Ok(());
        }
        conn.inner.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    fn has_broken(&self, conn: &mut PoolConn) -> bool {
        conn.returned_at = std::time::Instant::now();
        conn.broken
    }
}

/// Lets one log line through per window and counts the ones it holds back:
/// while the database is down the pool retries every few hundred
/// milliseconds, and a line per try buries everything else.
#[derive(Debug)]
pub struct LogThrottle {
    window: Duration,
    /// When the last line was let through, and the lines held back since.
    state: Mutex<Option<(std::time::Instant, u64)>>,
}

impl LogThrottle {
    pub const fn new(window: Duration) -> Self {
        Self { window, state: Mutex::new(None) }
    }

    /// `Some(n)` when a line may be written now (`n` were held back since
    /// the last one); `None` when this one is held back.
    pub fn admit(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &mut *state {
            Some((last, held)) if last.elapsed() < self.window => {
                *held += 1;
                None
            }
            _ => {
                let held = state.map_or(0, |(_, n)| n);
                *state = Some((std::time::Instant::now(), 0));
                Some(held)
            }
        }
    }

    /// The condition is over: starts afresh, returning whether any line was
    /// let through since the last reset (so the end is worth a line too).
    pub fn reset(&self) -> bool {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take().is_some()
    }

    pub fn window(&self) -> Duration {
        self.window
    }
}

/// The pool's connection errors, through a [`LogThrottle`] of 30 s.
#[derive(Debug)]
struct ThrottledErrors(LogThrottle);

impl Default for ThrottledErrors {
    fn default() -> Self {
        Self(LogThrottle::new(Duration::from_secs(30)))
    }
}

impl r2d2::HandleError<StoreError> for ThrottledErrors {
    fn handle_error(&self, error: StoreError) {
        if let Some(held_back) = self.0.admit() {
            tracing::error!(
                error = %error,
                held_back,
                "cannot open a database connection (more failures in the next {} s are counted, \
                 not logged)",
                self.0.window().as_secs()
            );
        }
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Pool settings.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a connection before answering 503.
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { max_size: 10, connection_timeout: Duration::from_secs(5) }
    }
}

/// The database: a pool plus what the backend needs to stay correct under
/// concurrent writers.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    url: DatabaseUrl,
    /// SQLite allows one writer at a time; writers in this process queue here
    /// instead of failing with `SQLITE_BUSY` when a read transaction upgrades.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// Tells this database apart from others opened in the same process,
    /// for the per-thread SQLite connection of [`Db::run_here`].
    id: u64,
}

static NEXT_DB_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    /// The instant by which the job running on this thread must have its
    /// connection ([`Db::by`]); unset, the pool's own timeout applies.
    static DEADLINE: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
    /// This thread's own SQLite connection for [`Db::run_here`], with the
    /// id of the database it belongs to.
    static HERE: std::cell::RefCell<Option<(u64, DbConnection)>> =
        const { std::cell::RefCell::new(None) };
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend()).finish_non_exhaustive()
    }
}

/// Creates a missing SQLite file readable and writable by its owner only
/// (mode 0600; SQLite gives its `-wal` and `-shm` files the mode of the
/// database file). An existing file keeps its mode; `:memory:` and `file:`
/// URIs are left to SQLite.
fn create_private(path: &Path) -> Result<()> {
    let name = path.as_os_str();
    if name == ":memory:" || name.to_string_lossy().starts_with("file:") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Config(format!(
            "cannot create the database file {}: {e}",
            path.display()
        ))),
    }
}

impl Db {
    /// Connects (creating the SQLite file, mode 0600, and its folder when
    /// needed).
    pub fn connect(url: &DatabaseUrl, options: &PoolOptions) -> Result<Self> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Config(format!("cannot create the folder {}: {e}", parent.display()))
            })?;
        }
        if let DatabaseUrl::Sqlite(path) = url {
            create_private(path)?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(1))
            .connection_timeout(options.connection_timeout)
            .test_on_check_out(true)
            .error_handler(Box::new(ThrottledErrors::default()))
            .build(Manager { url: url.clone() })
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let sqlite_writer = match url {
            DatabaseUrl::Sqlite(_) => Some(Arc::new(Mutex::new(()))),
            DatabaseUrl::Postgres(_) => None,
        };
        Ok(Self {
            pool,
            url: url.clone(),
            sqlite_writer,
            id: NEXT_DB_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Runs the embedded migrations that have not run yet.
    ///
    /// Replicas started together take turns: on PostgreSQL the run holds a
    /// session advisory lock on a connection of its own (released when that
    /// connection closes, even if the process dies); on SQLite it is one
    /// exclusive transaction, which other processes wait for (busy timeout).
    /// Whoever comes second finds nothing left to run.
    pub fn migrate(&self) -> Result<Vec<String>> {
        let migration_error =
            |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
        let applied = match &self.url {
            DatabaseUrl::Postgres(_) => {
                let mut conn = establish(&self.url)?;
                conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
                let applied = conn.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
                // Closing the connection would release it too.
                conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
                applied.map_err(migration_error)?
            }
            DatabaseUrl::Sqlite(_) => {
                let mut conn = self.conn()?;
                let _guard = self.writer_guard();
                let DbConnection::Sqlite(sqlite) = &mut conn.inner else {
                    return Err(StoreError::Config("a SQLite URL opened another database".into()));
                };
                sqlite.exclusive_transaction(|c| {
                    c.run_pending_migrations(SQLITE_MIGRATIONS).map(names).map_err(migration_error)
                })?
            }
        };
        Ok(applied)
    }

    /// Writes a consistent copy of this SQLite database to `output` (a new
    /// file, created owner-only) with `VACUUM INTO`, while others go on
    /// writing, and checks the copy with `PRAGMA integrity_check`.
    pub fn copy_sqlite_to(&self, output: &Path) -> Result<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Config("only a SQLite database is copied this way".into()));
        }
        let target = output
            .to_str()
            .filter(|p| !p.chars().any(char::is_control))
            .ok_or_else(|| StoreError::Config("the backup path must be plain UTF-8".into()))?;
        create_private(output)?;
        let mut conn = self.conn()?;
        let copied =
            conn.inner.batch_execute(&format!("VACUUM INTO '{}'", target.replace('\'', "''")));
        if let Err(e) = copied {
            let _ = std::fs::remove_file(output);
            return Err(e.into());
        }
        let mut copy = establish(&DatabaseUrl::Sqlite(output.to_path_buf()))?;
        #[derive(QueryableByName)]
        struct Check {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check").load(&mut copy)?;
        match check.first() {
            Some(c) if check.len() == 1 && c.integrity_check == "ok" => Ok(()),
            _ => Err(StoreError::Config(format!(
                "the copy at {} failed its integrity check",
                output.display()
            ))),
        }
    }

    /// A connection from the pool (503 when none frees up in time, or by
    /// the deadline [`Db::by`] set).
    pub fn conn(&self) -> Result<PooledConnection> {
        let got = match DEADLINE.get() {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(StoreError::Unavailable(
                        "no database connection within the request's time".into(),
                    ));
                }
                self.pool.get_timeout(left)
            }
            None => self.pool.get(),
        };
        got.map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Runs `f` (on this thread) with every connection it asks for due by
    /// `deadline`: a request that already queued for its turn waits for a
    /// connection only what is left of its time, so no answer takes longer
    /// than the configured timeout, even while the database is down.
    pub fn by<T>(deadline: std::time::Instant, f: impl FnOnce() -> T) -> T {
        struct Reset(Option<std::time::Instant>);
        impl Drop for Reset {
            fn drop(&mut self) {
                DEADLINE.set(self.0);
            }
        }
        let _reset = Reset(DEADLINE.replace(Some(deadline)));
        f()
    }

    /// Checks that the database answers, waiting at most `timeout`.
    pub fn ping(&self, timeout: Duration) -> Result<()> {
        let mut conn =
            self.pool.get_timeout(timeout).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        conn.inner.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    fn writer_guard(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        self.sqlite_writer
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Runs `f` in one read-write transaction: everything it writes (the
    /// change, its audit event, the emails it queues) commits together or not
    /// at all.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        self.pooled(|conn| {
            let _guard = self.writer_guard();
            conn.inner.transaction(|c| {
                if let DbConnection::Sqlite(sqlite) = c {
                    sqlite.batch_execute(SQLITE_TAKE_WRITE_LOCK)?;
                }
                f(c)
            })
        })
    }

    /// Runs `f` on a connection from the pool; after a failure the
    /// connection is checked before it goes back.
    fn pooled<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut PooledConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn()?;
        let result = f(&mut conn);
        if result.is_err() {
            conn.check_after_failure();
        }
        result
    }

    /// Runs `f` on a connection without a transaction: for a read that is
    /// one statement (each statement sees a consistent snapshot by itself),
    /// so no BEGIN/COMMIT round trips are paid.
    pub fn run<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.pooled(|conn| f(conn))
    }

    /// On SQLite, runs the one-statement read `f` at once on the calling
    /// thread, on a connection this thread keeps for this database (opened
    /// on first use); on PostgreSQL, as [`Db::run`] (a pooled connection,
    /// still on the calling thread: callers on an async executor use this
    /// for SQLite only, as a PostgreSQL read waits on the network). A read by primary keys takes tens
    /// of microseconds, less than handing it to another thread and waking
    /// this one again, which is what a pooled read costs. In WAL mode a
    /// reader never waits for the writer, and each statement reads the
    /// latest commit: nothing is cached between requests.
    pub fn run_here<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        if self.backend() != Backend::Sqlite {
            return self.run(f);
        }
        HERE.with(|here| {
            let mut here = here
                .try_borrow_mut()
                .map_err(|_| StoreError::Unavailable("the thread's connection is in use".into()))?;
            if here.as_ref().is_none_or(|(id, _)| *id != self.id) {
                *here = None;
                *here = Some((self.id, establish(&self.url)?));
            }
            let Some((_, conn)) = here.as_mut() else {
                return Err(StoreError::Unavailable("no connection".into()).into());
            };
            let result = f(conn);
            if result.is_err() && conn.batch_execute("SELECT 1").is_err() {
                *here = None;
            }
            result
        })
    }

    /// Runs `f` in one transaction meant for reads. On SQLite its reads see
    /// one snapshot; on PostgreSQL it runs at the default `READ COMMITTED`,
    /// where each statement sees the latest commit (reads of many statements
    /// that must agree use [`Db::snapshot`]).
    pub fn read<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        self.pooled(|conn| conn.inner.transaction(f))
    }

    /// Runs `f` in one read-only transaction whose statements all see the
    /// same snapshot, for a read of many statements that must agree (an
    /// export read page by page). On PostgreSQL the transaction is
    /// `REPEATABLE READ, READ ONLY` (under the default `READ COMMITTED` each
    /// statement would see the latest commit); on SQLite the first read of a
    /// deferred transaction fixes its snapshot until it ends (WAL), and a
    /// writer meanwhile neither waits for it nor shows up in it.
    pub fn snapshot<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        self.pooled(|conn| {
            conn.inner.transaction(|c| {
                if let DbConnection::Postgresql(pg) = c {
                    pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
                }
                f(c)
            })
        })
    }
}

#[cfg(test)]
mod deadline_tests {
    use super::*;

    #[test]
    fn a_job_past_its_deadline_gets_no_connection_and_the_deadline_ends_with_it() {
        let dir = tempfile::tempdir().expect("dir");
        let url = DatabaseUrl::Sqlite(dir.path().join("k.db"));
        let db = Db::connect(&url, &PoolOptions::default()).expect("connect");
        let past = std::time::Instant::now();
        let refused = Db::by(past, || db.conn().map(drop));
        assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");
        let soon = std::time::Instant::now() + Duration::from_secs(5);
        assert!(Db::by(soon, || db.conn().map(drop)).is_ok());
        // Outside `by`, the pool's own timeout applies again.
        assert!(db.conn().is_ok());
    }
}

#[cfg(test)]
mod throttle_tests {
    use super::LogThrottle;
    use std::time::Duration;

    #[test]
    fn a_throttle_lets_one_line_through_per_window_and_counts_the_rest() {
        let throttle = LogThrottle::new(Duration::from_millis(200));
        assert_eq!(throttle.admit(), Some(0));
        assert_eq!(throttle.admit(), None);
        assert_eq!(throttle.admit(), None);
        std::thread::sleep(Duration::from_millis(250));
        // The next line says how many were held back.
        assert_eq!(throttle.admit(), Some(2));
        assert!(throttle.reset());
        assert!(!throttle.reset());
        assert_eq!(throttle.admit(), Some(0));
    }
}
