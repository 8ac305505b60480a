//! Everything stored about one account, for its owner's export: the rows
//! that name the account, read by the per-user indexes, each list capped
//! (the answer says when one was cut).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::id::DbId;
use crate::schema::{
    asset_files, asset_photos, asset_records, household_members, invitation_batch_rows,
    invitations, users,
};
use crate::time::from_db;

/// The most rows of one kind an export holds.
pub const EXPORT_CAP: i64 = 10_000;

/// An invitation as an export lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRow {
    pub id: Uuid,
    pub resource_type: String,
    pub resource_id: Uuid,
    pub email: String,
    pub role: String,
    pub status: String,
    pub invited_by: Uuid,
    pub invited_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The bulk invitation it was sent in, if any.
    pub batch_id: Option<Uuid>,
}

type InvitationCols = (
    DbId,
    String,
    DbId,
    String,
    String,
    String,
    DbId,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
);

fn invitation_row(r: InvitationCols) -> InvitationRow {
    InvitationRow {
        id: r.0.0,
        resource_type: r.1,
        resource_id: r.2.0,
        email: r.3,
        role: r.4,
        status: r.5,
        invited_by: r.6.0,
        invited_at: from_db(r.7),
        expires_at: r.8.map(from_db),
        batch_id: r.9.and_then(|b| Uuid::parse_str(&b).ok()),
    }
}

/// An invitation's row in its bulk invitation, if any (joined on).
fn batch_rows() -> diesel::dsl::On<
    invitation_batch_rows::table,
    diesel::dsl::Eq<invitation_batch_rows::invitation_id, invitations::id>,
> {
    invitation_batch_rows::table.on(invitation_batch_rows::invitation_id.eq(invitations::id))
}

macro_rules! invitation_columns {
    () => {
        (
            invitations::id,
            invitations::resource_type,
            invitations::resource_id,
            invitations::email,
            invitations::role,
            invitations::status,
            invitations::invited_by,
            invitations::invited_at,
            invitations::expires_at,
            invitation_batch_rows::batch_id.nullable(),
        )
    };
}

/// The invitations the user sent, newest first (up to the cap + 1).
pub fn invitations_sent(conn: &mut Conn, user_id: Uuid) -> Result<Vec<InvitationRow>> {
    let rows: Vec<InvitationCols> = invitations::table
        .left_join(batch_rows())
        .filter(invitations::invited_by.eq(DbId(user_id)))
        .select(invitation_columns!())
        .order((invitations::invited_at.desc(), invitations::id.desc()))
        .limit(EXPORT_CAP + 1)
        .load(conn)?;
    Ok(rows.into_iter().map(invitation_row).collect())
}

/// The invitations sent to the address, newest first (up to the cap + 1).
pub fn invitations_received(conn: &mut Conn, email: &str) -> Result<Vec<InvitationRow>> {
    let rows: Vec<InvitationCols> = invitations::table
        .left_join(batch_rows())
        .filter(invitations::email.eq(email))
        .select(invitation_columns!())
        .order((invitations::invited_at.desc(), invitations::id.desc()))
        .limit(EXPORT_CAP + 1)
        .load(conn)?;
    Ok(rows.into_iter().map(invitation_row).collect())
}

/// A row the user wrote on an asset (a record or a photo): its id, the
/// asset and when.
pub type Authored = (Uuid, Uuid, DateTime<Utc>);

fn authored(rows: Vec<(DbId, DbId, NaiveDateTime)>) -> Vec<Authored> {
    rows.into_iter().map(|(id, asset, at)| (id.0, asset.0, from_db(at))).collect()
}

/// The records the user wrote, newest first (up to the cap + 1).
pub fn records_written(conn: &mut Conn, user_id: Uuid) -> Result<Vec<Authored>> {
    let rows = asset_records::table
        .filter(asset_records::created_by.eq(DbId(user_id)))
        .select((asset_records::id, asset_records::asset_id, asset_records::created_at))
        .order((asset_records::created_at.desc(), asset_records::id.desc()))
        .limit(EXPORT_CAP + 1)
        .load(conn)?;
    Ok(authored(rows))
}

/// The photos the user added, newest first (up to the cap + 1).
pub fn photos_added(conn: &mut Conn, user_id: Uuid) -> Result<Vec<Authored>> {
    let rows = asset_photos::table
        .filter(asset_photos::created_by.eq(DbId(user_id)))
        .select((asset_photos::id, asset_photos::asset_id, asset_photos::created_at))
        .order((asset_photos::created_at.desc(), asset_photos::id.desc()))
        .limit(EXPORT_CAP + 1)
        .load(conn)?;
    Ok(authored(rows))
}

/// The files the user uploaded, newest first (up to the cap + 1).
pub fn files_uploaded(conn: &mut Conn, user_id: Uuid) -> Result<Vec<Authored>> {
    let rows = asset_files::table
        .filter(asset_files::created_by.eq(DbId(user_id)))
        .select((asset_files::id, asset_files::asset_id, asset_files::created_at))
        .order((asset_files::created_at.desc(), asset_files::id.desc()))
        .limit(EXPORT_CAP + 1)
        .load(conn)?;
    Ok(authored(rows))
}

/// A household member: id, username, role and when they were added.
pub type Member = (Uuid, String, String, DateTime<Utc>);

/// The members of the household the user heads.
pub fn household_of(conn: &mut Conn, head: Uuid) -> Result<Vec<Member>> {
    let rows: Vec<(DbId, String, String, NaiveDateTime)> = household_members::table
        .inner_join(users::table.on(users::id.eq(household_members::member_id)))
        .filter(household_members::head_id.eq(DbId(head)))
        .select((
            household_members::member_id,
            users::username,
            household_members::role,
            household_members::added_at,
        ))
        .order((household_members::added_at, household_members::member_id))
        .limit(EXPORT_CAP + 1)
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, name, role, at)| (id.0, name, role, from_db(at))).collect())
}
