//! Shares: what an accepted asset invitation leaves.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::InvitationPermission;
use uuid::Uuid;

use crate::collaborators::Person;
use crate::db::DbConnection;
use crate::error::{StoreError, parse};
use crate::schema::{asset_shares, users};
use crate::time::{from_db, to_db};
use crate::users::parse_id;

fn opt_id(s: Option<String>) -> Result<Option<Uuid>, StoreError> {
    s.as_deref().map(parse_id).transpose()
}

/// A share: what an accepted asset invitation leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub asset_id: Uuid,
    pub user: Person,
    pub permission: InvitationPermission,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub granted_at: DateTime<Utc>,
    pub invitation_id: Option<Uuid>,
}

type ShareRow = (
    String,
    String,
    Option<NaiveDateTime>,
    NaiveDateTime,
    Option<String>,
    (String, String, String, String),
);

fn share(r: ShareRow) -> Result<Share, StoreError> {
    let (asset_id, permission, until, granted, invitation, (id, username, display_name, email)) = r;
    Ok(Share {
        asset_id: parse_id(&asset_id)?,
        user: Person {
            id: parse_id(&id)?,
            username,
            display_name,
            email,
        },
        permission: parse(&permission)?,
        access_expires_at: until.map(from_db),
        granted_at: from_db(granted),
        invitation_id: opt_id(invitation)?,
    })
}

macro_rules! share_select {
    () => {
        (
            asset_shares::asset_id,
            asset_shares::permission,
            asset_shares::access_expires_at,
            asset_shares::granted_at,
            asset_shares::invitation_id,
            (
                users::id,
                users::username,
                users::display_name,
                users::email,
            ),
        )
    };
}

/// The user's share on an asset, if any (expired or not).
pub fn get_share(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Share>, StoreError> {
    asset_shares::table
        .inner_join(users::table.on(users::id.eq(asset_shares::user_id)))
        .filter(asset_shares::asset_id.eq(asset_id.to_string()))
        .filter(asset_shares::user_id.eq(user_id.to_string()))
        .select(share_select!())
        .first::<ShareRow>(conn)
        .optional()?
        .map(share)
        .transpose()
}

/// Shares of an asset, oldest first.
pub fn shares(conn: &mut DbConnection, asset_id: Uuid) -> Result<Vec<Share>, StoreError> {
    asset_shares::table
        .inner_join(users::table.on(users::id.eq(asset_shares::user_id)))
        .filter(asset_shares::asset_id.eq(asset_id.to_string()))
        .select(share_select!())
        .order((asset_shares::granted_at.asc(), asset_shares::user_id.asc()))
        .load::<ShareRow>(conn)?
        .into_iter()
        .map(share)
        .collect()
}

/// Writes a share (replacing the user's existing one on the asset).
pub fn put_share(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
    permission: InvitationPermission,
    access_expires_at: Option<DateTime<Utc>>,
    invitation_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::delete(asset_shares::table.find((asset_id.to_string(), user_id.to_string())))
        .execute(conn)?;
    diesel::insert_into(asset_shares::table)
        .values((
            asset_shares::asset_id.eq(asset_id.to_string()),
            asset_shares::user_id.eq(user_id.to_string()),
            asset_shares::permission.eq(permission.as_str()),
            asset_shares::access_expires_at.eq(access_expires_at.map(to_db)),
            asset_shares::granted_at.eq(to_db(now)),
            asset_shares::invitation_id.eq(invitation_id.map(|i| i.to_string())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Changes a share's permission and access expiry; false when there is none.
pub fn update_share(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
    permission: InvitationPermission,
    access_expires_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    Ok(
        diesel::update(asset_shares::table.find((asset_id.to_string(), user_id.to_string())))
            .set((
                asset_shares::permission.eq(permission.as_str()),
                asset_shares::access_expires_at.eq(access_expires_at.map(to_db)),
            ))
            .execute(conn)?
            == 1,
    )
}

/// Revokes a share; false when there is none.
pub fn delete_share(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(
        diesel::delete(asset_shares::table.find((asset_id.to_string(), user_id.to_string())))
            .execute(conn)?
            == 1,
    )
}
