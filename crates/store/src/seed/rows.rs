//! The seeded tables' rows, written in batches, and the count of seeded rows
//! a table holds.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::{
    SeedProgress, TAG_ASSET, TAG_AUDIT, TAG_ESTATE, TAG_INVITATION, TAG_PHOTO, TAG_RECORD,
    TAG_SITE, TAG_USER, TableReport, id_range,
};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{
    asset_collaborators, asset_photos, asset_records, asset_shares, assets, audit_events,
    estate_members, estates, household_members, invitations, site_overrides, sites, users,
};

#[derive(Insertable)]
#[diesel(table_name = users)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct UserRow<'a> {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) username: String,
    pub(crate) username_canonical: String,
    pub(crate) display_name: String,
    pub(crate) password_hash: &'a str,
    pub(crate) is_root: bool,
    pub(crate) email_verified_at: Option<NaiveDateTime>,
    pub(crate) credentials_changed_at: NaiveDateTime,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = estates)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct EstateRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = sites)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct SiteRow {
    pub(crate) id: String,
    pub(crate) estate_id: String,
    pub(crate) name: String,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = estate_members)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct MemberRow {
    pub(crate) estate_id: String,
    pub(crate) user_id: String,
    pub(crate) role: &'static str,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = site_overrides)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct OverrideRow {
    pub(crate) site_id: String,
    pub(crate) user_id: String,
    pub(crate) estate_id: String,
    pub(crate) role: &'static str,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = assets)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct AssetRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) reference: Option<String>,
    pub(crate) search_text: String,
    pub(crate) attributes: String,
    pub(crate) site_id: Option<String>,
    pub(crate) estate_id: Option<String>,
    pub(crate) created_by: Option<String>,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = asset_collaborators)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct CollaboratorRow {
    pub(crate) asset_id: String,
    pub(crate) user_id: String,
    pub(crate) added_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = asset_records)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct RecordRow {
    pub(crate) id: String,
    pub(crate) asset_id: String,
    pub(crate) kind: &'static str,
    pub(crate) record_date: NaiveDate,
    pub(crate) title: String,
    pub(crate) notes: Option<String>,
    pub(crate) cost: Option<f64>,
    pub(crate) odometer: Option<i64>,
    pub(crate) created_by: Option<String>,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = asset_photos)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct PhotoRow {
    pub(crate) id: String,
    pub(crate) asset_id: String,
    pub(crate) url: String,
    pub(crate) caption: Option<String>,
    pub(crate) created_by: Option<String>,
    pub(crate) created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = household_members)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct HouseholdRow {
    pub(crate) head_id: String,
    pub(crate) member_id: String,
    pub(crate) role: &'static str,
    pub(crate) added_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = asset_shares)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct ShareRow {
    pub(crate) asset_id: String,
    pub(crate) user_id: String,
    pub(crate) permission: &'static str,
    pub(crate) access_expires_at: Option<NaiveDateTime>,
    pub(crate) granted_at: NaiveDateTime,
    pub(crate) invitation_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = invitations)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct InvitationRow {
    pub(crate) id: String,
    pub(crate) resource_type: &'static str,
    pub(crate) resource_id: String,
    pub(crate) email: String,
    pub(crate) role: &'static str,
    pub(crate) message: Option<String>,
    pub(crate) status: &'static str,
    pub(crate) token_hash: String,
    pub(crate) invited_by: String,
    pub(crate) invited_at: NaiveDateTime,
    pub(crate) expires_at: Option<NaiveDateTime>,
    pub(crate) access_expires_at: Option<NaiveDateTime>,
    pub(crate) last_sent_at: NaiveDateTime,
    pub(crate) resend_count: i32,
    pub(crate) responded_at: Option<NaiveDateTime>,
    pub(crate) responded_by: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct AuditRow {
    pub(crate) id: String,
    pub(crate) actor_id: Option<String>,
    pub(crate) action: &'static str,
    pub(crate) target_type: &'static str,
    pub(crate) target_id: String,
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
    pub(crate) created_at: NaiveDateTime,
}

/// Rows of one table written in batches: COPY into a table that holds none
/// of the seeded rows yet (PostgreSQL), else multi-row inserts that skip the
/// rows already there.
pub(crate) trait Batch: Sized {
    const COLUMNS: usize;
    fn write(conn: &mut DbConnection, rows: &[Self], copy: bool) -> Result<usize, DieselError>;
}

/// SQLite allows 32 766 bound parameters per statement, PostgreSQL 65 535.
pub(crate) const SQLITE_PARAMS: usize = 32_000;
pub(crate) const PG_PARAMS: usize = 65_000;
pub(crate) const MAX_ROWS_PER_STATEMENT: usize = 5_000;

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
                            written +=
                                diesel::copy_from($table).from_insertable(rows).execute(pg)?;
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

pub(crate) fn count_table(conn: &mut DbConnection, table: &str) -> Result<u64, StoreError> {
    let n = match table {
        "users" => count_seeded!(conn, users::table, users::id, TAG_USER)?,
        "estates" => count_seeded!(conn, estates::table, estates::id, TAG_ESTATE)?,
        "sites" => count_seeded!(conn, sites::table, sites::id, TAG_SITE)?,
        "estate_members" => {
            count_seeded!(conn, estate_members::table, estate_members::estate_id, TAG_ESTATE)?
        }
        "site_overrides" => {
            count_seeded!(conn, site_overrides::table, site_overrides::site_id, TAG_SITE)?
        }
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
        "household_members" => {
            count_seeded!(conn, household_members::table, household_members::head_id, TAG_USER)?
        }
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
    /// Fills `table` with the rows `generate` makes for each unit in
    /// `0..units`, `block` units per transaction.
    pub(crate) fn fill<R: Batch>(
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
