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

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{
    asset_collaborators, asset_photos, asset_records, asset_shares, assets, audit_events,
    estate_members, estates, household_members, invitations, site_overrides, sites, users,
};

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

const ESTATES: u64 = 20;
const SITES_PER_ESTATE: u64 = 100;
const OWNER20_ASSETS: u64 = 20;
const OWNER50_ASSETS: u64 = 50;
const KNOWN: u64 = KNOWN_ACCOUNTS.len() as u64;
const USER_OWNER20: u64 = 0;
const USER_OWNER50: u64 = 1;
const USER_ESTATE_ADMIN: u64 = 2;
const USER_INVITER: u64 = 3;

const TAG_USER: u16 = 1;
const TAG_ESTATE: u16 = 2;
const TAG_SITE: u16 = 3;
const TAG_ASSET: u16 = 4;
const TAG_RECORD: u16 = 5;
const TAG_PHOTO: u16 = 6;
const TAG_INVITATION: u16 = 7;
const TAG_AUDIT: u16 = 8;

/// How big a world to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedSize {
    pub users: u64,
    pub assets: u64,
    pub invitations: u64,
}

impl Default for SeedSize {
    fn default() -> Self {
        Self {
            users: 10_000,
            assets: 1_000_000,
            invitations: 100_000,
        }
    }
}

impl SeedSize {
    pub const MIN_USERS: u64 = 20;
    pub const MIN_ASSETS: u64 = 200;
    /// Ids keep the row number in 48 bits; the rest is far beyond any use.
    const MAX: u64 = 100_000_000;

    /// Refuses sizes the world's layout cannot hold.
    pub fn validate(&self) -> Result<(), StoreError> {
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
            return Err(StoreError::Config(format!(
                "--invitations must be at most {}",
                Self::MAX
            )));
        }
        Ok(())
    }
}

/// The id of seeded row `n` of the table with `tag`.
pub fn seed_id(tag: u16, n: u64) -> String {
    format!("5eed{tag:04x}-0000-8000-8000-{n:012x}")
}

/// The half-open range of ids (as text) a table's seeded rows fall in.
fn id_range(tag: u16) -> (String, String) {
    (format!("5eed{tag:04x}-"), format!("5eed{tag:04x}."))
}

/// The id of a seeded user (for tests and the benchmark).
pub fn user_id(n: u64) -> String {
    seed_id(TAG_USER, n)
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
        self.tables
            .iter()
            .filter(|t| t.after != t.expected)
            .collect()
    }
}

// ------------------------------------------------------------------ the world

/// A stateless 64-bit mix (splitmix64 finaliser) of a row number and a salt.
fn h(n: u64, salt: u64) -> u64 {
    let mut z = n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(0x5EED);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `h` as a percentage, 0 to 99.
fn pct(n: u64, salt: u64) -> u64 {
    h(n, salt) % 100
}

fn pick<'a>(list: &[&'a str], n: u64, salt: u64) -> &'a str {
    list[usize::try_from(h(n, salt) % list.len() as u64).unwrap_or(0)]
}

fn ms(ms: u64) -> Duration {
    Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX))
}

fn days(d: u64) -> Duration {
    Duration::days(i64::try_from(d).unwrap_or(0))
}

/// Up to `N` user numbers, without allocating.
#[derive(Debug, Clone, Copy)]
struct Few<const N: usize> {
    items: [u64; N],
    len: usize,
}

impl<const N: usize> Few<N> {
    fn new() -> Self {
        Self {
            items: [0; N],
            len: 0,
        }
    }
    fn push(&mut self, v: u64) {
        if self.len < N {
            self.items[self.len] = v;
            self.len += 1;
        }
    }
    fn as_slice(&self) -> &[u64] {
        &self.items[..self.len]
    }
    fn contains(&self, v: u64) -> bool {
        self.as_slice().contains(&v)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    Personal,
    Site { estate: u64, site: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvitationKind {
    /// On one of the inviter's assets.
    Inviter,
    /// On some other asset, by its first collaborator.
    OtherAsset,
    /// To an estate, by its owner.
    Estate,
}

/// Every number the world is derived from.
#[derive(Debug, Clone)]
struct World {
    users: u64,
    assets: u64,
    /// Users other than the known accounts (numbers 4..users).
    regular: u64,
    inviter_assets: u64,
    /// Assets from here on are the general population.
    general_start: u64,
    /// `[general_start, big_end)`: the big estate.
    big_end: u64,
    /// `[big_end, other_end)`: the 19 other estates; the rest is personal.
    other_end: u64,
    members_per_estate: u64,
    admins_per_estate: u64,
    editors_per_estate: u64,
    records: u64,
    photos: u64,
    audit: u64,
    inv_inviter: u64,
    inv_other: u64,
    inv_estate: u64,
    now: NaiveDateTime,
    origin: NaiveDateTime,
    /// Milliseconds over which assets were created.
    span_ms: u64,
    perm_mul: u64,
    /// Seconds between two sign-ups.
    user_gap_s: i64,
}

impl World {
    fn new(size: &SeedSize, now: DateTime<Utc>) -> Self {
        let assets = size.assets;
        let inviter_assets = (assets / 1000).clamp(10, 1000);
        let general_start = OWNER20_ASSETS + OWNER50_ASSETS + inviter_assets;
        let big_end = general_start + assets / 2;
        let other_end = (big_end + assets / 10).min(assets);
        let regular = size.users - KNOWN;
        let members_per_estate = regular.min(50);
        let admins_per_estate = (members_per_estate / 10).max(1);
        let editors_per_estate = (members_per_estate * 3 / 10).max(1);
        let inv_estate = size.invitations / 20;
        let inv_other = size.invitations / 20;
        let inv_inviter = size.invitations - inv_estate - inv_other;
        // Whole seconds, so every derived time is exact on both backends.
        let now = chrono::DateTime::from_timestamp(now.timestamp(), 0)
            .unwrap_or(now)
            .naive_utc();
        let origin = now - Duration::days(3 * 365);
        let span_ms = u64::try_from((Duration::days(3 * 365 - 2)).num_milliseconds()).unwrap_or(0);
        let perm_mul = [1_000_003_u64, 999_983, 1_299_709, 15_485_863]
            .into_iter()
            .find(|p| !assets.is_multiple_of(*p))
            .unwrap_or(1);
        Self {
            users: size.users,
            assets,
            regular,
            inviter_assets,
            general_start,
            big_end,
            other_end,
            members_per_estate,
            admins_per_estate,
            editors_per_estate,
            records: (assets / 200).max(20),
            photos: (assets / 400).max(10),
            audit: (assets / 250).max(50),
            inv_inviter,
            inv_other,
            inv_estate,
            now,
            origin,
            span_ms,
            perm_mul,
            user_gap_s: (2 * 365 * 86_400 / i64::try_from(size.users).unwrap_or(1)).clamp(1, 137),
        }
    }

    /// A regular user's number from any value.
    fn regular_user(&self, v: u64) -> u64 {
        KNOWN + v % self.regular
    }

    /// The next regular user after `u` (wrapping).
    fn next_regular(&self, u: u64) -> u64 {
        KNOWN + (u - KNOWN + 1) % self.regular
    }

    /// A regular user from `v` that is not in `avoid`.
    fn regular_except<const N: usize>(&self, v: u64, avoid: &Few<N>) -> u64 {
        let mut u = self.regular_user(v);
        while avoid.contains(u) {
            u = self.next_regular(u);
        }
        u
    }

    fn general_count(&self) -> u64 {
        self.assets - self.general_start
    }

    /// The asset's first collaborator (its creator).
    fn primary(&self, n: u64) -> u64 {
        if n < OWNER20_ASSETS {
            USER_OWNER20
        } else if n < OWNER20_ASSETS + OWNER50_ASSETS {
            USER_OWNER50
        } else if n < self.general_start {
            USER_INVITER
        } else {
            // The first `regular` general assets go to each regular user in
            // turn, so every regular user collaborates on something.
            let g = n - self.general_start;
            if g < self.regular {
                KNOWN + g
            } else {
                self.regular_user(h(n, 1))
            }
        }
    }

    fn collaborators(&self, n: u64) -> Few<3> {
        let mut c = Few::new();
        let first = self.primary(n);
        c.push(first);
        let second = if n < OWNER20_ASSETS {
            n % 4 == 1
        } else if n < OWNER20_ASSETS + OWNER50_ASSETS {
            n % 5 == 2
        } else if n < self.general_start {
            n.is_multiple_of(3)
        } else {
            pct(n, 2) < 40
        };
        if second {
            let u = self.regular_except(h(n, 3), &c);
            c.push(u);
            if n >= self.general_start && pct(n, 4) < 38 {
                let u = self.regular_except(h(n, 5), &c);
                c.push(u);
            }
        }
        c
    }

    /// Shares: (user, permission, access expiry).
    fn shares(&self, n: u64) -> Few<2> {
        let collaborators = self.collaborators(n);
        let mut avoid: Few<5> = Few::new();
        for &u in collaborators.as_slice() {
            avoid.push(u);
        }
        let mut out = Few::new();
        let first = self.regular_except(h(n, 10), &avoid);
        avoid.push(first);
        out.push(first);
        if pct(n, 11) < 40 {
            out.push(self.regular_except(h(n, 12), &avoid));
        }
        out
    }

    fn placement(&self, n: u64) -> Placement {
        if n < self.general_start || n >= self.other_end {
            Placement::Personal
        } else if n < self.big_end {
            Placement::Site {
                estate: 0,
                site: h(n, 30) % SITES_PER_ESTATE,
            }
        } else {
            Placement::Site {
                estate: 1 + h(n, 31) % (ESTATES - 1),
                site: h(n, 32) % SITES_PER_ESTATE,
            }
        }
    }

    fn asset_created(&self, n: u64) -> NaiveDateTime {
        let rank = (u128::from(n) * u128::from(self.perm_mul) + 12_345) % u128::from(self.assets);
        let offset = rank * u128::from(self.span_ms) / u128::from(self.assets);
        self.origin + ms(u64::try_from(offset).unwrap_or(0))
    }

    /// A moment between `from` and a day before now.
    fn between(&self, from: NaiveDateTime, v: u64) -> NaiveDateTime {
        let end = self.now - Duration::days(1);
        let span = (end - from).num_milliseconds().max(1);
        from + Duration::milliseconds(i64::try_from(v % span.unsigned_abs()).unwrap_or(0))
    }

    /// Household of regular user `u`: members (user, role) when `u` heads one.
    fn household(&self, u: u64) -> Few<4> {
        let mut out = Few::new();
        let r = u - KNOWN;
        // Heads are among the users guaranteed a collaborator row.
        if r >= self.regular.min(self.general_count()) || !h(u, 20).is_multiple_of(4) {
            return out;
        }
        let size = 2 + h(u, 21) % 4;
        let mut taken: Few<5> = Few::new();
        taken.push(u);
        for j in 0..size - 1 {
            let m = self.regular_except(h(u, 22 + j), &taken);
            taken.push(m);
            out.push(m);
        }
        out
    }

    /// Estate members: (user, role).
    fn estate_members(&self, e: u64) -> Vec<(u64, &'static str)> {
        let base = (e * 131) % self.regular;
        let mut out: Vec<(u64, &'static str)> = (0..self.members_per_estate)
            .map(|k| {
                let user = KNOWN + (base + k) % self.regular;
                (user, self.member_role(k))
            })
            .collect();
        if e == 0 {
            out.push((USER_ESTATE_ADMIN, "admin"));
        }
        out
    }

    fn member_role(&self, k: u64) -> &'static str {
        if k == 0 {
            "owner"
        } else if k <= self.admins_per_estate {
            "admin"
        } else if k <= self.admins_per_estate + self.editors_per_estate {
            "editor"
        } else {
            "viewer"
        }
    }

    fn estate_owner(&self, e: u64) -> u64 {
        KNOWN + (e * 131) % self.regular
    }

    /// Site overrides: (user, site within the estate, role).
    fn site_overrides(&self, e: u64) -> Vec<(u64, u64, &'static str)> {
        const ROLES: [&str; 4] = ["none", "viewer", "editor", "admin"];
        let mut out = Vec::new();
        let base = (e * 131) % self.regular;
        for k in 0..self.members_per_estate {
            if k <= self.admins_per_estate || k % 4 != 0 {
                continue;
            }
            let user = KNOWN + (base + k) % self.regular;
            for j in 0..3 {
                let site = (k * 7 + j * 31 + e) % SITES_PER_ESTATE;
                let role = ROLES[usize::try_from((k / 4 + j) % 4).unwrap_or(0)];
                out.push((user, site, role));
            }
        }
        out
    }

    fn invitation_kind(&self, j: u64) -> (InvitationKind, u64) {
        if j < self.inv_inviter {
            (InvitationKind::Inviter, j)
        } else if j < self.inv_inviter + self.inv_other {
            (InvitationKind::OtherAsset, j - self.inv_inviter)
        } else {
            (
                InvitationKind::Estate,
                j - self.inv_inviter - self.inv_other,
            )
        }
    }

    fn total_invitations(&self) -> u64 {
        self.inv_inviter + self.inv_other + self.inv_estate
    }
}

// ------------------------------------------------------------------ rows

#[derive(Insertable)]
#[diesel(table_name = users)]
#[diesel(treat_none_as_default_value = false)]
struct UserRow<'a> {
    id: String,
    email: String,
    username: String,
    username_canonical: String,
    display_name: String,
    password_hash: &'a str,
    is_root: bool,
    email_verified_at: Option<NaiveDateTime>,
    credentials_changed_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = estates)]
#[diesel(treat_none_as_default_value = false)]
struct EstateRow {
    id: String,
    name: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = sites)]
#[diesel(treat_none_as_default_value = false)]
struct SiteRow {
    id: String,
    estate_id: String,
    name: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = estate_members)]
#[diesel(treat_none_as_default_value = false)]
struct MemberRow {
    estate_id: String,
    user_id: String,
    role: &'static str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = site_overrides)]
#[diesel(treat_none_as_default_value = false)]
struct OverrideRow {
    site_id: String,
    user_id: String,
    estate_id: String,
    role: &'static str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = assets)]
#[diesel(treat_none_as_default_value = false)]
struct AssetRow {
    id: String,
    name: String,
    reference: Option<String>,
    search_text: String,
    attributes: String,
    site_id: Option<String>,
    estate_id: Option<String>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = asset_collaborators)]
#[diesel(treat_none_as_default_value = false)]
struct CollaboratorRow {
    asset_id: String,
    user_id: String,
    added_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = asset_records)]
#[diesel(treat_none_as_default_value = false)]
struct RecordRow {
    id: String,
    asset_id: String,
    kind: &'static str,
    record_date: NaiveDate,
    title: String,
    notes: Option<String>,
    cost: Option<f64>,
    odometer: Option<i64>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = asset_photos)]
#[diesel(treat_none_as_default_value = false)]
struct PhotoRow {
    id: String,
    asset_id: String,
    url: String,
    caption: Option<String>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = household_members)]
#[diesel(treat_none_as_default_value = false)]
struct HouseholdRow {
    head_id: String,
    member_id: String,
    role: &'static str,
    added_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = asset_shares)]
#[diesel(treat_none_as_default_value = false)]
struct ShareRow {
    asset_id: String,
    user_id: String,
    permission: &'static str,
    access_expires_at: Option<NaiveDateTime>,
    granted_at: NaiveDateTime,
    invitation_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = invitations)]
#[diesel(treat_none_as_default_value = false)]
struct InvitationRow {
    id: String,
    resource_type: &'static str,
    resource_id: String,
    email: String,
    role: &'static str,
    message: Option<String>,
    status: &'static str,
    token_hash: String,
    invited_by: String,
    invited_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    access_expires_at: Option<NaiveDateTime>,
    last_sent_at: NaiveDateTime,
    resend_count: i32,
    responded_at: Option<NaiveDateTime>,
    responded_by: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
#[diesel(treat_none_as_default_value = false)]
struct AuditRow {
    id: String,
    actor_id: Option<String>,
    action: &'static str,
    target_type: &'static str,
    target_id: String,
    before: Option<String>,
    after: Option<String>,
    created_at: NaiveDateTime,
}

/// Rows of one table written in batches: COPY into a table that holds none
/// of the seeded rows yet (PostgreSQL), else multi-row inserts that skip the
/// rows already there.
trait Batch: Sized {
    const COLUMNS: usize;
    fn write(conn: &mut DbConnection, rows: &[Self], copy: bool) -> Result<usize, DieselError>;
}

/// SQLite allows 32 766 bound parameters per statement, PostgreSQL 65 535.
const SQLITE_PARAMS: usize = 32_000;
const PG_PARAMS: usize = 65_000;
const MAX_ROWS_PER_STATEMENT: usize = 5_000;

macro_rules! batch {
    ($row:ty, $table:path, $columns:expr) => {
        impl Batch for $row {
            const COLUMNS: usize = $columns;
            fn write(
                conn: &mut DbConnection,
                rows: &[Self],
                copy: bool,
            ) -> Result<usize, DieselError> {
                let mut written = 0;
                match conn {
                    DbConnection::Postgresql(pg) => {
                        if copy {
                            written += diesel::copy_from($table)
                                .from_insertable(rows)
                                .execute(pg)?;
                        } else {
                            let per = (PG_PARAMS / Self::COLUMNS).min(MAX_ROWS_PER_STATEMENT);
                            for chunk in rows.chunks(per) {
                                written += diesel::insert_into($table)
                                    .values(chunk)
                                    .on_conflict_do_nothing()
                                    .execute(pg)?;
                            }
                        }
                    }
                    DbConnection::Sqlite(lite) => {
                        let per = (SQLITE_PARAMS / Self::COLUMNS).min(MAX_ROWS_PER_STATEMENT);
                        for chunk in rows.chunks(per) {
                            written += diesel::insert_or_ignore_into($table)
                                .values(chunk)
                                .execute(lite)?;
                        }
                    }
                }
                Ok(written)
            }
        }
    };
}

batch!(UserRow<'_>, users::table, 11);
batch!(EstateRow, estates::table, 4);
batch!(SiteRow, sites::table, 5);
batch!(MemberRow, estate_members::table, 5);
batch!(OverrideRow, site_overrides::table, 6);
batch!(AssetRow, assets::table, 10);
batch!(CollaboratorRow, asset_collaborators::table, 3);
batch!(RecordRow, asset_records::table, 11);
batch!(PhotoRow, asset_photos::table, 6);
batch!(HouseholdRow, household_members::table, 4);
batch!(ShareRow, asset_shares::table, 6);
batch!(InvitationRow, invitations::table, 16);
batch!(AuditRow, audit_events::table, 8);

/// Seeded rows currently in a table: those whose key column falls in a
/// seed id range.
macro_rules! count_seeded {
    ($conn:expr, $table:path, $column:path, $tag:expr) => {{
        let (lo, hi) = id_range($tag);
        $table
            .filter($column.ge(lo))
            .filter($column.lt(hi))
            .count()
            .get_result::<i64>($conn)
            .map(|n| u64::try_from(n).unwrap_or(0))
    }};
}

fn count_table(conn: &mut DbConnection, table: &str) -> Result<u64, StoreError> {
    let n = match table {
        "users" => count_seeded!(conn, users::table, users::id, TAG_USER)?,
        "estates" => count_seeded!(conn, estates::table, estates::id, TAG_ESTATE)?,
        "sites" => count_seeded!(conn, sites::table, sites::id, TAG_SITE)?,
        "estate_members" => count_seeded!(
            conn,
            estate_members::table,
            estate_members::estate_id,
            TAG_ESTATE
        )?,
        "site_overrides" => count_seeded!(
            conn,
            site_overrides::table,
            site_overrides::site_id,
            TAG_SITE
        )?,
        "assets" => count_seeded!(conn, assets::table, assets::id, TAG_ASSET)?,
        "asset_collaborators" => count_seeded!(
            conn,
            asset_collaborators::table,
            asset_collaborators::asset_id,
            TAG_ASSET
        )?,
        "asset_records" => {
            count_seeded!(conn, asset_records::table, asset_records::id, TAG_RECORD)?
        }
        "asset_photos" => count_seeded!(conn, asset_photos::table, asset_photos::id, TAG_PHOTO)?,
        "household_members" => count_seeded!(
            conn,
            household_members::table,
            household_members::head_id,
            TAG_USER
        )?,
        "asset_shares" => {
            count_seeded!(conn, asset_shares::table, asset_shares::asset_id, TAG_ASSET)?
        }
        "invitations" => count_seeded!(conn, invitations::table, invitations::id, TAG_INVITATION)?,
        "audit_events" => count_seeded!(conn, audit_events::table, audit_events::id, TAG_AUDIT)?,
        other => return Err(StoreError::Config(format!("unknown seed table {other}"))),
    };
    Ok(n)
}

/// The tables the seed fills, in the order it fills them.
pub const TABLES: [&str; 13] = [
    "users",
    "estates",
    "sites",
    "estate_members",
    "site_overrides",
    "assets",
    "asset_collaborators",
    "asset_records",
    "asset_photos",
    "household_members",
    "asset_shares",
    "invitations",
    "audit_events",
];

/// Seeded rows in each table now, in [`TABLES`] order.
pub fn counts(conn: &mut DbConnection) -> Result<Vec<(&'static str, u64)>, StoreError> {
    TABLES
        .iter()
        .map(|t| Ok((*t, count_table(conn, t)?)))
        .collect()
}

// ------------------------------------------------------------------ the run

struct Run<'a, 'p> {
    conn: &'a mut DbConnection,
    progress: &'a mut (dyn SeedProgress + 'p),
    pg: bool,
    reports: Vec<TableReport>,
}

impl Run<'_, '_> {
    /// Fills `table` with the rows `generate` makes for each unit in
    /// `0..units`, `block` units per transaction.
    fn fill<R: Batch>(
        &mut self,
        table: &'static str,
        expected: u64,
        units: u64,
        block: u64,
        mut generate: impl FnMut(u64, &mut Vec<R>),
    ) -> Result<(), StoreError> {
        let before = count_table(self.conn, table)?;
        self.progress.start(table, expected);
        if before == expected {
            self.progress.advance(expected);
            self.progress.finish(table, 0, true);
            self.reports.push(TableReport {
                table,
                expected,
                before,
                inserted: 0,
                after: before,
            });
            return Ok(());
        }
        let copy = self.pg && before == 0;
        let mut inserted = 0_u64;
        let mut rows: Vec<R> = Vec::new();
        let mut start = 0;
        while start < units {
            let end = (start + block.max(1)).min(units);
            rows.clear();
            for unit in start..end {
                generate(unit, &mut rows);
            }
            let written = self
                .conn
                .transaction(|c| R::write(c, &rows, copy))
                .map_err(StoreError::from)?;
            inserted += written as u64;
            self.progress.advance(rows.len() as u64);
            start = end;
        }
        self.progress.finish(table, inserted, false);
        let after = count_table(self.conn, table)?;
        self.reports.push(TableReport {
            table,
            expected,
            before,
            inserted,
            after,
        });
        Ok(())
    }
}

/// Units (assets, users, invitations) generated per transaction: about
/// 20 000 to 50 000 rows.
const BLOCK: u64 = 20_000;

const ESTATE_NAMES: [&str; 20] = [
    "Northfield",
    "Riverside",
    "Oakridge",
    "Harbourside",
    "Millbrook",
    "Westgate",
    "Ashdown",
    "Kingsmead",
    "Fernhill",
    "Stonebridge",
    "Larkspur",
    "Highmoor",
    "Brambleton",
    "Cedar Vale",
    "Elmstead",
    "Foxhollow",
    "Greywater",
    "Hollins",
    "Ivybank",
    "Juniper Fields",
];

const SITE_KINDS: [&str; 8] = [
    "Depot",
    "Yard",
    "Workshop",
    "Farm",
    "Warehouse",
    "Barn",
    "Garage",
    "Compound",
];

const MAKES: [&str; 24] = [
    "Ford Transit",
    "Toyota Hilux",
    "VW Crafter",
    "Mercedes Sprinter",
    "Land Rover Defender",
    "Nissan Navara",
    "Isuzu D-Max",
    "Renault Master",
    "Iveco Daily",
    "JCB 3CX",
    "Kubota KX057",
    "John Deere 6120M",
    "Massey Ferguson 5711",
    "Honda EU22i Generator",
    "Toyota 8FG25 Forklift",
    "Hyster H3.0",
    "Stihl MS 462",
    "Husqvarna Rider 216",
    "Yamaha Viking",
    "Polaris Ranger",
    "Fiat Ducato",
    "Peugeot Boxer",
    "Skoda Octavia",
    "Tesla Model 3",
];

const COLOURS: [&str; 8] = [
    "white", "silver", "black", "blue", "red", "green", "yellow", "grey",
];
const FUELS: [&str; 4] = ["diesel", "petrol", "electric", "hybrid"];

fn plate(n: u64) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNOPRSTUVWXYZ";
    let l = |salt: u64| {
        char::from(LETTERS[usize::try_from(h(n, salt) % LETTERS.len() as u64).unwrap_or(0)])
    };
    format!(
        "{}{}{:02} {}{}{}",
        l(40),
        l(41),
        h(n, 42) % 100,
        l(43),
        l(44),
        l(45)
    )
}

fn username(u: u64) -> String {
    match usize::try_from(u).ok().and_then(|i| KNOWN_ACCOUNTS.get(i)) {
        Some(name) => (*name).to_owned(),
        None => format!("seed-user-{u:05}"),
    }
}

fn email(u: u64) -> String {
    format!("{}@{EMAIL_DOMAIN}", username(u))
}

/// A token hash no token hashes to in practice (64 hex digits, the row
/// number in the last 16, so they are unique).
fn token_hash(j: u64) -> String {
    format!(
        "{:016x}{:016x}{:016x}{:016x}",
        h(j, 70),
        h(j, 71),
        h(j, 72),
        j ^ 0x5EED_0000_0000_0000
    )
}

/// Seeds the world of `size` (see the module documentation). Every account
/// gets `password_hash`. Idempotent: a database that already holds this
/// world is left as it is (`already_seeded`).
pub fn seed(
    conn: &mut DbConnection,
    size: &SeedSize,
    password_hash: &str,
    now: DateTime<Utc>,
    progress: &mut dyn SeedProgress,
) -> Result<SeedReport, StoreError> {
    size.validate()?;
    let w = World::new(size, now);
    refuse_foreign_known_accounts(conn)?;
    let claimed = claim_world(conn, &w)?;
    let pg = matches!(conn, DbConnection::Postgresql(_));
    prepare(conn)?;
    let result = {
        let mut run = Run {
            conn: &mut *conn,
            progress,
            pg,
            reports: Vec::new(),
        };
        fill_all(&mut run, &w, password_hash).map(|()| run.reports)
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
            let _ = restore(conn);
            return Err(e);
        }
    };
    let already_seeded = reports
        .iter()
        .all(|r| r.inserted == 0 && r.before == r.expected);
    if !already_seeded {
        diesel::sql_query("ANALYZE").execute(conn)?;
        if !pg {
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(conn)?;
        }
    }
    restore(conn)?;
    Ok(SeedReport {
        tables: reports,
        already_seeded,
    })
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

fn marker(w: &World) -> AuditRow {
    AuditRow {
        id: seed_id(TAG_AUDIT, MARKER_ROW),
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
fn claim_world(conn: &mut DbConnection, w: &World) -> Result<u64, StoreError> {
    let found: Option<Option<String>> = audit_events::table
        .find(seed_id(TAG_AUDIT, MARKER_ROW))
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
fn refuse_foreign_known_accounts(conn: &mut DbConnection) -> Result<(), StoreError> {
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

/// Bulk-load settings for this connection only.
fn prepare(conn: &mut DbConnection) -> Result<(), StoreError> {
    match conn {
        DbConnection::Sqlite(_) => {
            diesel::sql_query("PRAGMA synchronous = OFF").execute(conn)?;
            // Up to 1 GiB of page cache: the indexes of a million assets fit.
            diesel::sql_query("PRAGMA cache_size = -1048576").execute(conn)?;
            diesel::sql_query("PRAGMA temp_store = MEMORY").execute(conn)?;
        }
        DbConnection::Postgresql(_) => {
            diesel::sql_query("SET synchronous_commit = off").execute(conn)?;
        }
    }
    Ok(())
}

fn restore(conn: &mut DbConnection) -> Result<(), StoreError> {
    match conn {
        DbConnection::Sqlite(_) => {
            diesel::sql_query("PRAGMA synchronous = NORMAL").execute(conn)?;
            diesel::sql_query("PRAGMA cache_size = -2000").execute(conn)?;
        }
        DbConnection::Postgresql(_) => {
            diesel::sql_query("RESET synchronous_commit").execute(conn)?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_lines)]
fn fill_all(run: &mut Run<'_, '_>, w: &World, password_hash: &str) -> Result<(), StoreError> {
    let now = w.now;
    let asset_id = |n: u64| seed_id(TAG_ASSET, n);
    let uid = |u: u64| seed_id(TAG_USER, u);
    let estate_id = |e: u64| seed_id(TAG_ESTATE, e);
    let site_id = |e: u64, s: u64| seed_id(TAG_SITE, e * SITES_PER_ESTATE + s);
    // Users sign up over the first months, one a few minutes after another.
    let user_created =
        |u: u64| w.origin - Duration::days(30) + Duration::seconds(w.user_gap_s * u as i64);

    // -------------------------------------------------------------- users
    run.fill(
        "users",
        w.users,
        w.users,
        BLOCK,
        |u, rows: &mut Vec<UserRow<'_>>| {
            let name = username(u);
            let created = user_created(u);
            let display = match usize::try_from(u).ok().and_then(|i| KNOWN_ACCOUNTS.get(i)) {
                Some(known) => format!("Seed {}", known.trim_start_matches("seed-")),
                None => format!("Seed User {u}"),
            };
            rows.push(UserRow {
                id: uid(u),
                email: email(u),
                username_canonical: name.to_lowercase(),
                username: name,
                display_name: display,
                password_hash,
                is_root: false,
                email_verified_at: Some(created + Duration::minutes(5)),
                credentials_changed_at: created,
                created_at: created,
                updated_at: created + Duration::minutes(5),
            });
        },
    )?;

    // -------------------------------------------------------------- estates and sites
    let estate_created = |e: u64| w.origin - Duration::days(20) + Duration::hours(e as i64 * 7);
    run.fill("estates", ESTATES, ESTATES, BLOCK, |e, rows| {
        rows.push(EstateRow {
            id: estate_id(e),
            name: format!("{} Estate", ESTATE_NAMES[usize::try_from(e).unwrap_or(0)]),
            created_at: estate_created(e),
            updated_at: estate_created(e),
        });
    })?;
    run.fill(
        "sites",
        ESTATES * SITES_PER_ESTATE,
        ESTATES * SITES_PER_ESTATE,
        BLOCK,
        |i, rows| {
            let (e, s) = (i / SITES_PER_ESTATE, i % SITES_PER_ESTATE);
            let created = estate_created(e) + Duration::minutes(s as i64 + 1);
            rows.push(SiteRow {
                id: site_id(e, s),
                estate_id: estate_id(e),
                name: format!(
                    "{} {} {}",
                    ESTATE_NAMES[usize::try_from(e).unwrap_or(0)],
                    pick(&SITE_KINDS, i, 50),
                    s + 1
                ),
                created_at: created,
                updated_at: created,
            });
        },
    )?;
    let members: u64 = (0..ESTATES).map(|e| w.estate_members(e).len() as u64).sum();
    run.fill("estate_members", members, ESTATES, BLOCK, |e, rows| {
        for (k, (user, role)) in w.estate_members(e).into_iter().enumerate() {
            let at = estate_created(e) + Duration::hours(k as i64 + 1);
            rows.push(MemberRow {
                estate_id: estate_id(e),
                user_id: uid(user),
                role,
                created_at: at,
                updated_at: at,
            });
        }
    })?;
    let overrides: u64 = (0..ESTATES).map(|e| w.site_overrides(e).len() as u64).sum();
    run.fill("site_overrides", overrides, ESTATES, BLOCK, |e, rows| {
        for (user, site, role) in w.site_overrides(e) {
            let at = estate_created(e) + Duration::days(2);
            rows.push(OverrideRow {
                site_id: site_id(e, site),
                user_id: uid(user),
                estate_id: estate_id(e),
                role,
                created_at: at,
                updated_at: at,
            });
        }
    })?;

    // -------------------------------------------------------------- assets
    run.fill("assets", w.assets, w.assets, BLOCK, |n, rows| {
        let created = w.asset_created(n);
        let name = format!("{} #{}", pick(&MAKES, n, 60), n + 1);
        let reference = (pct(n, 61) < 80).then(|| plate(n));
        let search_text =
            format!("{} {}", name, reference.as_deref().unwrap_or_default()).to_lowercase();
        let attributes = if pct(n, 62) < 70 {
            format!(
                r#"{{"year":{},"colour":"{}","fuel":"{}"}}"#,
                2008 + h(n, 63) % 18,
                pick(&COLOURS, n, 64),
                pick(&FUELS, n, 65)
            )
        } else {
            "{}".to_owned()
        };
        let (site, estate) = match w.placement(n) {
            Placement::Personal => (None, None),
            Placement::Site { estate, site } => {
                (Some(site_id(estate, site)), Some(estate_id(estate)))
            }
        };
        let updated = if pct(n, 66) < 30 {
            w.between(created, h(n, 67))
        } else {
            created
        };
        rows.push(AssetRow {
            id: asset_id(n),
            name,
            reference,
            search_text,
            attributes,
            site_id: site,
            estate_id: estate,
            created_by: Some(uid(w.primary(n))),
            created_at: created,
            updated_at: updated,
        });
    })?;
    let collaborators: u64 = (0..w.assets).map(|n| w.collaborators(n).len as u64).sum();
    run.fill(
        "asset_collaborators",
        collaborators,
        w.assets,
        BLOCK,
        |n, rows| {
            let created = w.asset_created(n);
            for (i, &u) in w.collaborators(n).as_slice().iter().enumerate() {
                let added = if i == 0 {
                    created
                } else {
                    w.between(created, h(n, 80 + i as u64))
                };
                rows.push(CollaboratorRow {
                    asset_id: asset_id(n),
                    user_id: uid(u),
                    added_at: added,
                });
            }
        },
    )?;

    // -------------------------------------------------------------- records and photos
    const KINDS: [&str; 6] = [
        "service",
        "repair",
        "inspection",
        "work_order",
        "fuel",
        "note",
    ];
    // The first records and photos go to seed-owner20's assets, so the
    // benchmark's asset has some.
    let record_asset = |j: u64, salt: u64| {
        if j < 3 * OWNER20_ASSETS {
            j % OWNER20_ASSETS
        } else {
            h(j, salt) % w.assets
        }
    };
    run.fill("asset_records", w.records, w.records, BLOCK, |j, rows| {
        let n = record_asset(j, 90);
        let kind = pick(&KINDS, j, 91);
        let at = w.between(w.asset_created(n), h(j, 92));
        let title = match kind {
            "service" => "Annual service",
            "repair" => "Replaced brake pads",
            "inspection" => "Safety inspection",
            "work_order" => "Fit tow bar",
            "fuel" => "Fuel top-up",
            _ => "Note",
        };
        let costly = matches!(kind, "service" | "repair" | "fuel" | "work_order");
        rows.push(RecordRow {
            id: seed_id(TAG_RECORD, j),
            asset_id: asset_id(n),
            kind,
            record_date: at.date(),
            title: title.to_owned(),
            notes: (pct(j, 93) < 50).then(|| format!("Seeded record {j}")),
            cost: costly.then(|| (h(j, 94) % 90_000) as f64 / 100.0 + 10.0),
            odometer: (pct(j, 95) < 70).then(|| i64::try_from(h(j, 96) % 250_000).unwrap_or(0)),
            created_by: Some(uid(w.primary(n))),
            created_at: at,
            updated_at: at,
        });
    })?;
    run.fill("asset_photos", w.photos, w.photos, BLOCK, |j, rows| {
        let n = record_asset(j, 100);
        let at = w.between(w.asset_created(n), h(j, 101));
        rows.push(PhotoRow {
            id: seed_id(TAG_PHOTO, j),
            asset_id: asset_id(n),
            url: format!("https://photos.example.test/seed/{j}.jpg"),
            caption: (pct(j, 102) < 60).then(|| format!("Photo {} of asset {}", j + 1, n + 1)),
            created_by: Some(uid(w.primary(n))),
            created_at: at,
        });
    })?;

    // -------------------------------------------------------------- households
    const HOUSEHOLD_ROLES: [&str; 3] = ["viewer", "editor", "manager"];
    let households: u64 = (KNOWN..w.users).map(|u| w.household(u).len as u64).sum();
    run.fill(
        "household_members",
        households,
        w.users - KNOWN,
        BLOCK,
        |r, rows| {
            let head = KNOWN + r;
            for (i, &m) in w.household(head).as_slice().iter().enumerate() {
                rows.push(HouseholdRow {
                    head_id: uid(head),
                    member_id: uid(m),
                    role: pick(&HOUSEHOLD_ROLES, head * 8 + i as u64, 110),
                    added_at: w.between(user_created(head), h(head, 111 + i as u64)),
                });
            }
        },
    )?;

    // -------------------------------------------------------------- shares
    const PERMISSIONS: [&str; 3] = ["view", "edit", "manage"];
    let shares: u64 = (0..w.assets).map(|n| w.shares(n).len as u64).sum();
    run.fill("asset_shares", shares, w.assets, BLOCK, |n, rows| {
        let created = w.asset_created(n);
        for (i, &u) in w.shares(n).as_slice().iter().enumerate() {
            let salt = 120 + 10 * i as u64;
            let p = pct(n, salt);
            let permission = if p < 50 {
                PERMISSIONS[0]
            } else if p < 85 {
                PERMISSIONS[1]
            } else {
                PERMISSIONS[2]
            };
            let e = pct(n, salt + 1);
            let access_expires_at = if e < 65 {
                None
            } else if e < 85 {
                Some(now + days(1 + h(n, salt + 2) % 365))
            } else {
                Some(now - days(1 + h(n, salt + 2) % 365))
            };
            let granted = w.between(created, h(n, salt + 3));
            rows.push(ShareRow {
                asset_id: asset_id(n),
                user_id: uid(u),
                permission,
                access_expires_at: access_expires_at.map(|t| t.max(granted + Duration::hours(1))),
                granted_at: granted,
                invitation_id: None,
            });
        }
    })?;

    // -------------------------------------------------------------- invitations
    const DOMAINS: [&str; 6] = [
        "example.test",
        "mail.test",
        "fleet.test",
        "farm.test",
        "contractors.test",
        "family.test",
    ];
    const ESTATE_ROLES: [&str; 3] = ["viewer", "editor", "admin"];
    run.fill(
        "invitations",
        w.total_invitations(),
        w.total_invitations(),
        BLOCK,
        |j, rows| {
            let (kind, k) = w.invitation_kind(j);
            let (resource_type, resource_id, inviter, role) = match kind {
                InvitationKind::Inviter => (
                    "asset",
                    asset_id(OWNER20_ASSETS + OWNER50_ASSETS + k % w.inviter_assets),
                    USER_INVITER,
                    pick(&PERMISSIONS, j, 130),
                ),
                InvitationKind::OtherAsset => {
                    let n = w.general_start + h(j, 131) % w.general_count();
                    (
                        "asset",
                        asset_id(n),
                        w.primary(n),
                        pick(&PERMISSIONS, j, 130),
                    )
                }
                InvitationKind::Estate => {
                    let e = k % ESTATES;
                    (
                        "estate",
                        estate_id(e),
                        w.estate_owner(e),
                        pick(&ESTATE_ROLES, j, 130),
                    )
                }
            };
            let s = pct(j, 132);
            let status = match s {
                0..30 => "pending",
                30..55 => "accepted",
                55..70 => "declined",
                70..85 => "expired",
                _ => "cancelled",
            };
            // Pending ones were sent in the last two weeks; the others over
            // the last year.
            let window_ms: u64 = if status == "pending" {
                14 * 86_400_000
            } else {
                365 * 86_400_000
            };
            let invited = now - Duration::hours(1) - ms(h(j, 133) % window_ms);
            let expires_at = match status {
                "pending" => (pct(j, 134) < 80).then(|| now + days(1 + h(j, 135) % 30)),
                "expired" => Some(invited + days(7)),
                _ => (pct(j, 134) < 70).then(|| invited + days(14)),
            };
            let access_expires_at = (resource_type == "asset" && pct(j, 136) < 30)
                .then(|| invited + days(30 + h(j, 137) % 335));
            let resend_count = if pct(j, 138) < 80 {
                0
            } else {
                1 + i32::try_from(h(j, 139) % 3).unwrap_or(0)
            };
            let last_sent = (invited + Duration::hours(i64::from(resend_count) * 6)).min(now);
            let responder = w.regular_user(h(j, 140));
            let (email_to, responded_at, responded_by) = match status {
                "accepted" => (
                    email(responder),
                    Some((invited + Duration::hours(2 + (h(j, 141) % 48) as i64)).min(now)),
                    Some(uid(responder)),
                ),
                "declined" => (
                    format!("guest{j}@{}", pick(&DOMAINS, j, 142)),
                    Some((invited + Duration::hours(1 + (h(j, 141) % 72) as i64)).min(now)),
                    None,
                ),
                _ => (format!("guest{j}@{}", pick(&DOMAINS, j, 142)), None, None),
            };
            rows.push(InvitationRow {
                id: seed_id(TAG_INVITATION, j),
                resource_type,
                resource_id,
                email: email_to,
                role,
                message: (pct(j, 143) < 40)
                    .then(|| format!("Hi, here is access to our {resource_type}. Invitation {j}.")),
                status,
                token_hash: token_hash(j),
                invited_by: uid(inviter),
                invited_at: invited,
                expires_at,
                access_expires_at,
                last_sent_at: last_sent,
                resend_count,
                responded_at,
                responded_by,
            });
        },
    )?;

    // -------------------------------------------------------------- audit events
    // The events, then the marker `claim_world` wrote first.
    run.fill(
        "audit_events",
        w.audit + 1,
        w.audit + 1,
        BLOCK,
        |j, rows| {
            if j == w.audit {
                rows.push(marker(w));
                return;
            }
            let n = h(j, 150) % w.assets;
            let actor = w.primary(n);
            let at = w.between(w.asset_created(n), h(j, 151));
            let (action, target_type, target_id, after) = match j % 5 {
                0 => (
                    crate::audit::Action::AssetCreated.as_str(),
                    "asset",
                    asset_id(n),
                    format!(r#"{{"name":"{} #{}"}}"#, pick(&MAKES, n, 60), n + 1),
                ),
                1 => {
                    let c = w.collaborators(n);
                    let u = c.as_slice().last().copied().unwrap_or(actor);
                    (
                        crate::audit::Action::CollaboratorAdded.as_str(),
                        "asset",
                        asset_id(n),
                        format!(r#"{{"user_id":"{}"}}"#, uid(u)),
                    )
                }
                2 => (
                    crate::audit::Action::InvitationCreated.as_str(),
                    "asset",
                    asset_id(n),
                    format!(
                        r#"{{"email":"guest-audit{j}@example.test","permission":"{}"}}"#,
                        pick(&PERMISSIONS, j, 152)
                    ),
                ),
                3 => {
                    let e = j % ESTATES;
                    let members = w.estate_members(e);
                    let (u, role) =
                        members[usize::try_from(h(j, 153) % members.len() as u64).unwrap_or(0)];
                    (
                        crate::audit::Action::MemberAdded.as_str(),
                        "estate",
                        estate_id(e),
                        format!(r#"{{"user_id":"{}","role":"{role}"}}"#, uid(u)),
                    )
                }
                _ => (
                    crate::audit::Action::UserRegistered.as_str(),
                    "user",
                    uid(actor),
                    format!(r#"{{"username":"{}"}}"#, username(actor)),
                ),
            };
            rows.push(AuditRow {
                id: seed_id(TAG_AUDIT, j),
                actor_id: Some(uid(actor)),
                action,
                target_type,
                target_id,
                before: None,
                after: Some(after),
                created_at: at,
            });
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(users: u64, assets: u64, invitations: u64) -> World {
        World::new(
            &SeedSize {
                users,
                assets,
                invitations,
            },
            Utc::now(),
        )
    }

    #[test]
    fn ids_parse_and_sort_by_row_number() {
        let a = seed_id(TAG_ASSET, 9);
        let b = seed_id(TAG_ASSET, 10);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
        assert!(a < b);
        let (lo, hi) = id_range(TAG_ASSET);
        assert!(lo.as_str() < a.as_str() && a.as_str() < hi.as_str());
        assert!(seed_id(TAG_USER, u64::from(u32::MAX)) < id_range(TAG_ESTATE).0);
    }

    #[test]
    fn known_accounts_reach_what_they_should() {
        for (users, assets) in [(60, 2_000), (10_000, 1_000_000), (20, 200)] {
            let w = world(users, assets, 500);
            let count = |u: u64| {
                (0..w.assets)
                    .filter(|&n| w.collaborators(n).contains(u) || w.shares(n).contains(u))
                    .count()
            };
            assert_eq!(count(USER_OWNER20), 20);
            assert_eq!(count(USER_OWNER50), 50);
            assert_eq!(count(USER_ESTATE_ADMIN), 0);
            assert_eq!(count(USER_INVITER) as u64, w.inviter_assets);
            let big = (0..w.assets)
                .filter(|&n| matches!(w.placement(n), Placement::Site { estate: 0, .. }))
                .count() as u64;
            assert_eq!(big, assets / 2);
            for u in KNOWN..w.users {
                for m in w.household(u).as_slice() {
                    assert!(*m >= KNOWN && *m != u);
                }
            }
        }
    }

    #[test]
    fn asset_times_are_distinct_and_in_the_past() {
        let w = world(60, 2_000, 500);
        let mut times: Vec<_> = (0..w.assets).map(|n| w.asset_created(n)).collect();
        assert!(times.iter().all(|t| *t < w.now));
        times.sort();
        times.dedup();
        assert_eq!(times.len() as u64, w.assets);
    }
}
