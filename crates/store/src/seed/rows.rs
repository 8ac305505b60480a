//! The seeded tables' rows, written in batches, and the count of seeded rows
//! a table holds.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::{SeedProgress, TableReport, Tag, id_range};
use crate::db::{Conn, DbConnection};
use crate::error::{Result, StoreError};
use crate::schema::{
    asset_collaborators, asset_photos, asset_records, asset_shares, assets, audit_events,
    estate_members, estates, household_members, invitations, site_overrides, sites, users,
};

/// Rows of one table written in batches: COPY into a table that holds none
/// of the seeded rows yet (PostgreSQL), else multi-row inserts that skip the
/// rows already there.
pub(crate) trait Batch: Sized {
    const COLUMNS: usize;
    fn write(conn: &mut Conn, rows: &[Self], copy: bool) -> Result<usize, DieselError>;
}

/// SQLite allows 32 766 bound parameters per statement, PostgreSQL 65 535.
pub(crate) const SQLITE_PARAMS: usize = 32_000;
pub(crate) const PG_PARAMS: usize = 65_000;
pub(crate) const MAX_ROWS_PER_STATEMENT: usize = 5_000;

/// How many rows of `R` one insert takes under a limit of `params` bound
/// parameters.
fn per_statement<R: Batch>(params: usize) -> usize {
    (params / R::COLUMNS).min(MAX_ROWS_PER_STATEMENT)
}

/// Declares the seeded tables in the order the seed fills them: for each, the
/// row it inserts (a [`Batch`]), the key column whose seed id range tells its
/// seeded rows apart, and the range's tag. Also makes [`TABLES`] and
/// [`count_table`] from the same list.
macro_rules! seed_tables {
    ($($table:ident by $key:ident in $tag:path: $row:ident $(<$lt:lifetime>)? {
        $($field:ident: $ty:ty),* $(,)?
    })*) => {
        $(
            #[derive(Insertable)]
            #[diesel(table_name = $table, treat_none_as_default_value = false)]
            pub(crate) struct $row $(<$lt>)? {
                $(pub(crate) $field: $ty),*
            }

            impl $(<$lt>)? Batch for $row $(<$lt>)? {
                const COLUMNS: usize = [$(stringify!($field)),*].len();
                fn write(
                    conn: &mut Conn,
                    rows: &[Self],
                    copy: bool,
                ) -> Result<usize, DieselError> {
                    match conn {
                        DbConnection::Postgresql(pg) if copy => {
                            diesel::copy_from($table::table).from_insertable(rows).execute(pg)
                        }
                        DbConnection::Postgresql(pg) => {
                            rows.chunks(per_statement::<Self>(PG_PARAMS)).try_fold(0, |n, chunk| {
                                let insert = diesel::insert_into($table::table).values(chunk);
                                Ok(n + insert.on_conflict_do_nothing().execute(pg)?)
                            })
                        }
                        DbConnection::Sqlite(lite) => {
                            rows.chunks(per_statement::<Self>(SQLITE_PARAMS)).try_fold(0, |n, chunk| {
                                let insert = diesel::insert_or_ignore_into($table::table).values(chunk);
                                Ok(n + insert.execute(lite)?)
                            })
                        }
                    }
                }
            }
        )*

        /// The tables the seed fills, in the order it fills them.
        pub const TABLES: [&str; [$(stringify!($table)),*].len()] = [$(stringify!($table)),*];

        /// Seeded rows currently in `table`: those whose key column falls in
        /// the table's seed id range.
        pub(crate) fn count_table(conn: &mut Conn, table: &str) -> Result<u64> {
            $(
                if table == stringify!($table) {
                    let (lo, hi) = id_range($tag);
                    let n: i64 = $table::table
                        .filter($table::$key.ge(lo))
                        .filter($table::$key.lt(hi))
                        .count()
                        .get_result(conn)?;
                    return Ok(u64::try_from(n).unwrap_or(0));
                }
            )*
            Err(StoreError::Config(format!("unknown seed table {table}")))
        }
    };
}

seed_tables! {
    users by id in Tag::User: UserRow<'a> {
        id: String, email: String, username: String, username_canonical: String,
        display_name: String, password_hash: &'a str, is_root: bool,
        email_verified_at: Option<NaiveDateTime>, credentials_changed_at: NaiveDateTime,
        created_at: NaiveDateTime, updated_at: NaiveDateTime,
    }
    estates by id in Tag::Estate: EstateRow {
        id: String, name: String, created_at: NaiveDateTime, updated_at: NaiveDateTime,
    }
    sites by id in Tag::Site: SiteRow {
        id: String, estate_id: String, name: String,
        created_at: NaiveDateTime, updated_at: NaiveDateTime,
    }
    estate_members by estate_id in Tag::Estate: MemberRow {
        estate_id: String, user_id: String, role: &'static str,
        created_at: NaiveDateTime, updated_at: NaiveDateTime,
    }
    site_overrides by site_id in Tag::Site: OverrideRow {
        site_id: String, user_id: String, estate_id: String, role: &'static str,
        created_at: NaiveDateTime, updated_at: NaiveDateTime,
    }
    assets by id in Tag::Asset: AssetRow {
        id: String, name: String, reference: Option<String>, search_text: String,
        attributes: String, site_id: Option<String>, estate_id: Option<String>,
        created_by: Option<String>, created_at: NaiveDateTime, updated_at: NaiveDateTime,
    }
    asset_collaborators by asset_id in Tag::Asset: CollaboratorRow {
        asset_id: String, user_id: String, added_at: NaiveDateTime,
    }
    asset_records by id in Tag::Record: RecordRow {
        id: String, asset_id: String, kind: &'static str, record_date: NaiveDate,
        title: String, notes: Option<String>, cost: Option<f64>, odometer: Option<i64>,
        created_by: Option<String>, created_at: NaiveDateTime, updated_at: NaiveDateTime,
    }
    asset_photos by id in Tag::Photo: PhotoRow {
        id: String, asset_id: String, url: String, caption: Option<String>,
        created_by: Option<String>, created_at: NaiveDateTime,
    }
    household_members by head_id in Tag::User: HouseholdRow {
        head_id: String, member_id: String, role: &'static str, added_at: NaiveDateTime,
    }
    asset_shares by asset_id in Tag::Asset: ShareRow {
        asset_id: String, user_id: String, permission: &'static str,
        access_expires_at: Option<NaiveDateTime>, granted_at: NaiveDateTime,
        invitation_id: Option<String>,
    }
    invitations by id in Tag::Invitation: InvitationRow {
        id: String, resource_type: &'static str, resource_id: String, email: String,
        role: &'static str, message: Option<String>, status: &'static str,
        token_hash: String, invited_by: String, invited_at: NaiveDateTime,
        expires_at: Option<NaiveDateTime>, access_expires_at: Option<NaiveDateTime>,
        last_sent_at: NaiveDateTime, resend_count: i32,
        responded_at: Option<NaiveDateTime>, responded_by: Option<String>,
    }
    audit_events by id in Tag::Audit: AuditRow {
        id: String, actor_id: Option<String>, action: &'static str,
        target_type: &'static str, target_id: String,
        before: Option<String>, after: Option<String>, created_at: NaiveDateTime,
    }
}

/// Seeded rows in each table now, in [`TABLES`] order.
pub fn counts(conn: &mut Conn) -> Result<Vec<(&'static str, u64)>> {
    TABLES.iter().map(|t| Ok((*t, count_table(conn, t)?))).collect()
}

// ------------------------------------------------------------------ the run

pub(crate) struct Run<'a, 'p> {
    pub(crate) conn: &'a mut DbConnection,
    pub(crate) progress: &'a mut (dyn SeedProgress + 'p),
    pub(crate) pg: bool,
    pub(crate) reports: Vec<TableReport>,
}

impl Run<'_, '_> {
    /// [`Run::fill`] for a table of one row per unit: `count` rows, the
    /// `n`th made by `row(n)`.
    pub(crate) fn fill_each<R: Batch>(
        &mut self,
        table: &'static str,
        count: u64,
        block: u64,
        row: impl Fn(u64) -> R,
    ) -> Result<()> {
        self.fill(table, count, count, block, |n, rows| rows.push(row(n)))
    }

    /// Fills `table` with the rows `generate` makes for each unit in
    /// `0..units`, `block` units per transaction.
    pub(crate) fn fill<R: Batch>(
        &mut self,
        table: &'static str,
        expected: u64,
        units: u64,
        block: u64,
        mut generate: impl FnMut(u64, &mut Vec<R>),
    ) -> Result<()> {
        let before = count_table(self.conn, table)?;
        self.progress.start(table, expected);
        if before == expected {
            self.progress.advance(expected);
            self.progress.finish(table, 0, true);
            self.reports.push(TableReport { table, expected, before, inserted: 0, after: before });
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
            let written =
                self.conn.transaction(|c| R::write(c, &rows, copy)).map_err(StoreError::from)?;
            inserted += written as u64;
            self.progress.advance(rows.len() as u64);
            start = end;
        }
        self.progress.finish(table, inserted, false);
        let after = count_table(self.conn, table)?;
        self.reports.push(TableReport { table, expected, before, inserted, after });
        Ok(())
    }
}
