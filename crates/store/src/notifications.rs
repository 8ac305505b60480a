//! Which optional emails a user wants, and the reminders due three days
//! before a share ends or a pending invitation expires (each sent once:
//! the row is marked by a conditional update, so two sweepers on two
//! replicas cannot both send it).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{Conn, DbConnection};
use crate::error::Result;
use crate::id::DbId;
use crate::schema::{
    asset_shares, assets, estates, expiry_reminders, invitations, notification_settings, users,
};
use crate::time::{from_db, to_db};

/// A user's choices (all on unless they turned one off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Access given without an invitation: an estate role, a collaboration,
    /// a household.
    pub access_granted: bool,
    /// A share revoked, or a role or permission lowered.
    pub access_reduced: bool,
    /// Three days before a share of theirs ends.
    pub access_expiring: bool,
    /// Three days before an invitation they sent expires unanswered.
    pub invitation_expiring: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            access_granted: true,
            access_reduced: true,
            access_expiring: true,
            invitation_expiring: true,
        }
    }
}

/// The kinds of optional email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    AccessGranted,
    AccessReduced,
    AccessExpiring,
    InvitationExpiring,
}

impl Settings {
    pub fn wants(&self, kind: Kind) -> bool {
        match kind {
            Kind::AccessGranted => self.access_granted,
            Kind::AccessReduced => self.access_reduced,
            Kind::AccessExpiring => self.access_expiring,
            Kind::InvitationExpiring => self.invitation_expiring,
        }
    }
}

/// The user's settings.
pub fn get(conn: &mut Conn, user_id: Uuid) -> Result<Settings> {
    let row: Option<(bool, bool, bool, bool)> = notification_settings::table
        .find(DbId(user_id))
        .select((
            notification_settings::access_granted,
            notification_settings::access_reduced,
            notification_settings::access_expiring,
            notification_settings::invitation_expiring,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map_or_else(Settings::default, |(a, b, c, d)| Settings {
        access_granted: a,
        access_reduced: b,
        access_expiring: c,
        invitation_expiring: d,
    }))
}

/// Stores the user's settings.
pub fn set(conn: &mut Conn, user_id: Uuid, s: &Settings, now: DateTime<Utc>) -> Result<()> {
    diesel::delete(notification_settings::table.find(DbId(user_id))).execute(conn)?;
    diesel::insert_into(notification_settings::table)
        .values((
            notification_settings::user_id.eq(DbId(user_id)),
            notification_settings::access_granted.eq(s.access_granted),
            notification_settings::access_reduced.eq(s.access_reduced),
            notification_settings::access_expiring.eq(s.access_expiring),
            notification_settings::invitation_expiring.eq(s.invitation_expiring),
            notification_settings::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A share ending soon: its holder and asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndingShare {
    pub asset_id: Uuid,
    pub asset_name: String,
    pub user_id: Uuid,
    pub until: DateTime<Utc>,
}

/// Shares ending within `(now, horizon]` whose holder was not reminded of
/// that end yet (up to `limit`), soonest first.
pub fn shares_ending(
    conn: &mut Conn,
    now: DateTime<Utc>,
    horizon: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<EndingShare>> {
    let reminded = expiry_reminders::table
        .filter(expiry_reminders::kind.eq("share"))
        .filter(expiry_reminders::subject.eq(asset_shares::asset_id))
        .filter(expiry_reminders::other.eq(asset_shares::user_id))
        .filter(expiry_reminders::due_at.nullable().eq(asset_shares::access_expires_at));
    let rows: Vec<(DbId, String, DbId, Option<NaiveDateTime>)> = asset_shares::table
        .inner_join(assets::table.on(assets::id.eq(asset_shares::asset_id)))
        .filter(asset_shares::access_expires_at.gt(to_db(now)))
        .filter(asset_shares::access_expires_at.le(to_db(horizon)))
        .filter(diesel::dsl::not(diesel::dsl::exists(reminded)))
        .select((
            asset_shares::asset_id,
            assets::name,
            asset_shares::user_id,
            asset_shares::access_expires_at,
        ))
        .order(asset_shares::access_expires_at)
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(asset, name, user, until)| {
            until.map(|t| EndingShare {
                asset_id: asset.0,
                asset_name: name,
                user_id: user.0,
                until: from_db(t),
            })
        })
        .collect())
}

/// Claims the reminder of one end (`kind`, its two keys and the instant):
/// whether this call did, so that it is sent once.
pub fn claim_reminder(
    conn: &mut Conn,
    kind: &str,
    (subject, other): (Uuid, Uuid),
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let row = (
        expiry_reminders::kind.eq(kind),
        expiry_reminders::subject.eq(subject.to_string()),
        expiry_reminders::other.eq(other.to_string()),
        expiry_reminders::due_at.eq(to_db(due_at)),
        expiry_reminders::sent_at.eq(to_db(now)),
    );
    let inserted = match conn {
        DbConnection::Postgresql(pg) => diesel::insert_into(expiry_reminders::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConnection::Sqlite(lite) => {
            diesel::insert_or_ignore_into(expiry_reminders::table).values(row).execute(lite)?
        }
    };
    Ok(inserted == 1)
}

/// A pending invitation expiring soon: who sent it, to whom, for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringInvitation {
    pub id: Uuid,
    pub invited_by: Uuid,
    pub email: String,
    pub resource_type: String,
    pub resource_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Pending invitations expiring within `(now, horizon]` whose sender was
/// not reminded of that expiry yet (up to `limit`), soonest first.
pub fn invitations_expiring(
    conn: &mut Conn,
    now: DateTime<Utc>,
    horizon: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ExpiringInvitation>> {
    let reminded = expiry_reminders::table
        .filter(expiry_reminders::kind.eq("invitation"))
        .filter(expiry_reminders::subject.eq(invitations::id))
        .filter(expiry_reminders::due_at.nullable().eq(invitations::expires_at));
    let rows: Vec<(DbId, DbId, String, String, DbId, Option<NaiveDateTime>)> = invitations::table
        .filter(invitations::status.eq("pending"))
        .filter(invitations::expires_at.gt(to_db(now)))
        .filter(invitations::expires_at.le(to_db(horizon)))
        .filter(diesel::dsl::not(diesel::dsl::exists(reminded)))
        .select((
            invitations::id,
            invitations::invited_by,
            invitations::email,
            invitations::resource_type,
            invitations::resource_id,
            invitations::expires_at,
        ))
        .order(invitations::expires_at)
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, by, email, kind, resource, at)| {
            at.map(|t| ExpiringInvitation {
                id: id.0,
                invited_by: by.0,
                email,
                resource_type: kind,
                resource_id: resource.0,
                expires_at: from_db(t),
            })
        })
        .collect())
}

/// The name of an estate or an asset, for an email.
pub fn resource_name(conn: &mut Conn, resource_type: &str, id: Uuid) -> Result<Option<String>> {
    Ok(if resource_type == "estate" {
        estates::table.find(DbId(id)).select(estates::name).first(conn).optional()?
    } else {
        assets::table.find(DbId(id)).select(assets::name).first(conn).optional()?
    })
}

/// The address and username of a user whose email is verified (only a
/// proven inbox hears about access), if so.
pub fn verified_inbox(conn: &mut Conn, user_id: Uuid) -> Result<Option<(String, String)>> {
    Ok(users::table
        .find(DbId(user_id))
        .filter(users::email_verified_at.is_not_null())
        .filter(users::deleted_at.is_null())
        .select((users::email, users::username))
        .first(conn)
        .optional()?)
}
