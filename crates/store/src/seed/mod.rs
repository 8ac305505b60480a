//! `keyholder seed`: a large, deterministic world for benchmarks and manual
//! testing, written against [`DbConnection`] for both databases.
//!
//! Every id is a UUID string derived from a table tag and a row number
//! (`5eedTTTT-0000-8000-8000-NNNNNNNNNNNN`), and every value from the row
//! number, so a second run produces the same rows: a table whose seed rows
//! are all there is skipped, an empty one is filled at full speed (COPY on
//! PostgreSQL), and a partly filled one (an interrupted run) is completed
//! with inserts that ignore the rows already there. Rows outside the seed's
//! id ranges are never changed or deleted. An audit event (`seed.world`)
//! written first records the size, so a database seeded with another size
//! is refused before anything is written (the ids would mix).
//!
//! The world, for `users` U, `assets` A and `invitations` N:
//!
//! - U verified users sharing one password hash; four known accounts:
//!   [`OWNER20`] (collaborator on 20 personal assets, nothing else),
//!   [`OWNER50`] (the same with 50), [`ESTATE_ADMIN`] (admin of the one
//!   estate that holds A/2 assets over its 100 sites, nothing else) and
//!   [`INVITER`] (collaborator on a set of personal assets that carry 90 %
//!   of the invitations).
//! - 20 estates of 100 sites each, members with every role (owner, admin,
//!   editor, viewer), site overrides including `none`.
//! - A assets: half in the big estate, a tenth in the 19 others, the rest
//!   personal; created over three years, one millisecond or more apart.
//! - Collaborators (every asset one, 40 % a second, 15 % a third), shares
//!   (every asset one, 40 % a second; a third with an access expiry, some
//!   past), households of 2 to 5 people whose heads are collaborators.
//! - N invitations in every status, to assets (mostly the inviter's) and
//!   estates; pending ones only with a future expiry or none, so nothing is
//!   left for the expiry sweeper.
//! - A few thousand records, photos and audit events.

mod fill;
mod rows;
mod world;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::{Conn, DbConnection};
use crate::error::{Result, StoreError};
use crate::schema::{audit_events, users};

use rows::{AuditRow, Batch, Run};
use world::World;

pub use rows::{TABLES, counts};

/// Collaborator on exactly 20 personal assets; no other path to anything.
pub const OWNER20: &str = "seed-owner20";
/// Collaborator on exactly 50 personal assets; no other path to anything.
pub const OWNER50: &str = "seed-owner50";
/// Admin of the one estate holding half of all assets; nothing else.
pub const ESTATE_ADMIN: &str = "seed-estate-admin";
/// Collaborator on the assets that carry most asset invitations.
pub const INVITER: &str = "seed-inviter";
/// The domain of every seeded email address.
pub const EMAIL_DOMAIN: &str = "seed.keyholder.test";
/// The known accounts, in user-number order (numbers 0 to 3).
pub const KNOWN_ACCOUNTS: [&str; 4] = [OWNER20, OWNER50, ESTATE_ADMIN, INVITER];

pub(crate) const ESTATES: u64 = 20;
pub(crate) const SITES_PER_ESTATE: u64 = 100;
pub(crate) const OWNER20_ASSETS: u64 = 20;
pub(crate) const OWNER50_ASSETS: u64 = 50;
pub(crate) const KNOWN: u64 = KNOWN_ACCOUNTS.len() as u64;
pub(crate) const USER_OWNER20: u64 = 0;
pub(crate) const USER_OWNER50: u64 = 1;
pub(crate) const USER_ESTATE_ADMIN: u64 = 2;
pub(crate) const USER_INVITER: u64 = 3;

/// The table tag at the front of every seeded id: each seeded table's ids
/// fall in a range of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Tag {
    User = 1,
    Estate,
    Site,
    Asset,
    Record,
    Photo,
    Invitation,
    Audit,
}

/// How big a world to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedSize {
    pub users: u64,
    pub assets: u64,
    pub invitations: u64,
}

impl Default for SeedSize {
    fn default() -> Self {
        Self { users: 10_000, assets: 1_000_000, invitations: 100_000 }
    }
}

impl SeedSize {
    pub const MIN_USERS: u64 = 20;
    pub const MIN_ASSETS: u64 = 200;
    /// Ids keep the row number in 48 bits; the rest is far beyond any use.
    const MAX: u64 = 100_000_000;

    /// Refuses sizes the world's layout cannot hold.
    pub fn validate(&self) -> Result<()> {
        if self.users < Self::MIN_USERS || self.users > Self::MAX {
            return Err(StoreError::Config(format!(
                "--users must be between {} and {}",
                Self::MIN_USERS,
                Self::MAX
            )));
        }
        if self.assets < Self::MIN_ASSETS || self.assets > Self::MAX {
            return Err(StoreError::Config(format!(
                "--assets must be between {} and {}",
                Self::MIN_ASSETS,
                Self::MAX
            )));
        }
        if self.invitations > Self::MAX {
            return Err(StoreError::Config(format!("--invitations must be at most {}", Self::MAX)));
        }
        Ok(())
    }
}

/// The id of seeded row `n` of the table with `tag`.
pub fn seed_id(tag: Tag, n: u64) -> String {
    let tag = tag as u16;
    format!("5eed{tag:04x}-0000-8000-8000-{n:012x}")
}

/// The half-open range of ids (as text) a table's seeded rows fall in.
pub(crate) fn id_range(tag: Tag) -> (String, String) {
    let tag = tag as u16;
    (format!("5eed{tag:04x}-"), format!("5eed{tag:04x}."))
}

/// The id of a seeded user (for tests and the benchmark).
pub fn user_id(n: u64) -> String {
    seed_id(Tag::User, n)
}

/// What the caller is told as the seed goes.
pub trait SeedProgress {
    /// A table starts: `rows` seeded rows belong in it.
    fn start(&mut self, table: &'static str, rows: u64);
    /// `rows` more were written (or found already there).
    fn advance(&mut self, rows: u64);
    /// The table is done: `inserted` new rows; `skipped` when every seeded
    /// row was already there.
    fn finish(&mut self, table: &'static str, inserted: u64, skipped: bool);
}

/// Progress that goes nowhere.
#[derive(Debug, Default)]
pub struct NoProgress;

impl SeedProgress for NoProgress {
    fn start(&mut self, _: &'static str, _: u64) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self, _: &'static str, _: u64, _: bool) {}
}

/// One table's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    pub table: &'static str,
    /// Seeded rows that belong in the table for this size.
    pub expected: u64,
    /// Seeded rows found before this run.
    pub before: u64,
    /// Rows this run added.
    pub inserted: u64,
    /// Seeded rows after this run.
    pub after: u64,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub tables: Vec<TableReport>,
    /// Every table already held exactly its seeded rows: nothing was written.
    pub already_seeded: bool,
}

impl SeedReport {
    /// Tables whose seeded rows differ from this size's world (a database
    /// seeded before with another size).
    pub fn mismatches(&self) -> Vec<&TableReport> {
        self.tables.iter().filter(|t| t.after != t.expected).collect()
    }
}

/// world is left as it is (`already_seeded`).
pub fn seed(
    conn: &mut Conn,
    size: &SeedSize,
    password_hash: &str,
    now: DateTime<Utc>,
    progress: &mut dyn SeedProgress,
) -> Result<SeedReport> {
    size.validate()?;
    let w = World::new(size, now);
    refuse_foreign_known_accounts(conn)?;
    let claimed = claim_world(conn, &w)?;
    let pg = matches!(conn, DbConnection::Postgresql(_));
    apply(conn, &PREPARE)?;
    let result = {
        let mut run = Run { conn: &mut *conn, progress, pg, reports: Vec::new() };
        fill::fill_all(&mut run, &w, password_hash).map(|()| run.reports)
    };
    let reports = match result {
        Ok(mut r) => {
            // The marker was written by this run, before its table's turn.
            if let Some(audit) = r.iter_mut().find(|t| t.table == "audit_events") {
                audit.before -= claimed;
                audit.inserted += claimed;
            }
            r
        }
        Err(e) => {
            let _ = apply(conn, &RESTORE);
            return Err(e);
        }
    };
    let already_seeded = reports.iter().all(|r| r.inserted == 0 && r.before == r.expected);
    if !already_seeded {
        diesel::sql_query("ANALYZE").execute(conn)?;
        if !pg {
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(conn)?;
        }
    }
    apply(conn, &RESTORE)?;
    Ok(SeedReport { tables: reports, already_seeded })
}

/// The audit event that records which world the database holds; its id
/// sorts after every other seeded audit event.
const MARKER_ROW: u64 = 0xFFFF_FFFF_FFFF;

fn marker_after(w: &World) -> String {
    format!(
        r#"{{"users":{},"assets":{},"invitations":{}}}"#,
        w.users,
        w.assets,
        w.total_invitations()
    )
}

pub(crate) fn marker(w: &World) -> AuditRow {
    AuditRow {
        id: seed_id(Tag::Audit, MARKER_ROW),
        actor_id: None,
        action: "seed.world",
        target_type: "database",
        target_id: "seed".to_owned(),
        before: None,
        after: Some(marker_after(w)),
        created_at: w.now,
    }
}

/// Refuses a database seeded with another size before writing anything
/// (ids derive from row numbers, so two sizes would mix); else records this
/// world's size, first, so an interrupted run is recognised too. Returns
/// the rows written (0 or 1).
fn claim_world(conn: &mut Conn, w: &World) -> Result<u64> {
    let found: Option<Option<String>> = audit_events::table
        .find(seed_id(Tag::Audit, MARKER_ROW))
        .select(audit_events::after)
        .first(conn)
        .optional()?;
    match found {
        Some(after) if after.as_deref() != Some(marker_after(w).as_str()) => {
            Err(StoreError::Config(format!(
                "the database holds a seeded world of another size ({}); \
                 seed an empty database",
                after.unwrap_or_default()
            )))
        }
        Some(_) => Ok(0),
        None => Ok(AuditRow::write(conn, &[marker(w)], false)? as u64),
    }
}

/// A known account's username held by an account the seed did not create
/// would make the benchmark's figures wrong: refuse.
fn refuse_foreign_known_accounts(conn: &mut Conn) -> Result<()> {
    for (n, name) in KNOWN_ACCOUNTS.iter().enumerate() {
        let found: Option<String> = users::table
            .filter(users::username_canonical.eq(*name))
            .select(users::id)
            .first(conn)
            .optional()?;
        if let Some(id) = found
            && id != user_id(n as u64)
        {
            return Err(StoreError::Config(format!(
                "the username {name} belongs to an account the seed did not create; \
                 seed an empty database"
            )));
        }
    }
    Ok(())
}

/// Bulk-load settings for this connection only: on SQLite no syncing, up
/// to 1 GiB of page cache (the indexes of a million assets fit) and
/// temporary tables in memory; on PostgreSQL no waiting for the WAL flush.
const PREPARE: Settings = Settings {
    sqlite: &[
        "PRAGMA synchronous = OFF",
        "PRAGMA cache_size = -1048576",
        "PRAGMA temp_store = MEMORY",
    ],
    pg: &["SET synchronous_commit = off"],
};

/// The connection's usual settings again.
const RESTORE: Settings = Settings {
    sqlite: &["PRAGMA synchronous = NORMAL", "PRAGMA cache_size = -2000"],
    pg: &["RESET synchronous_commit"],
};

/// Session settings, one statement each, per backend.
struct Settings {
    sqlite: &'static [&'static str],
    pg: &'static [&'static str],
}

/// Applies `settings` to this connection.
fn apply(conn: &mut Conn, settings: &Settings) -> Result<()> {
    let statements = match conn {
        DbConnection::Sqlite(_) => settings.sqlite,
        DbConnection::Postgresql(_) => settings.pg,
    };
    for statement in statements {
        diesel::sql_query(*statement).execute(conn)?;
    }
    Ok(())
}
