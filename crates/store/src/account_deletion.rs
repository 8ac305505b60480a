//! Deleting an account: what stands in its way, and every row that gives
//! it access or that it holds, ended in the caller's transaction. The
//! account's row stays as a nameless tombstone (no email, no username, no
//! password), so the audit trail, the invitations it sent and the records
//! it wrote keep naming "a deleted account" rather than nobody.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::id::DbId;
use crate::schema::{
    asset_collaborators, asset_history_readers, asset_shares, email_changes, email_tokens,
    estate_members, household_members, idempotency_keys, invitations, sessions, site_overrides,
    users,
};
use crate::time::to_db;

/// The estates the user is a member of, and the assets they collaborate
/// on: what a deletion locks (estates first) before it judges.
pub fn holdings(conn: &mut Conn, user_id: Uuid) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
    let me = DbId(user_id);
    let estates: Vec<DbId> = estate_members::table
        .filter(estate_members::user_id.eq(me))
        .select(estate_members::estate_id)
        .order(estate_members::estate_id)
        .load(conn)?;
    let assets: Vec<DbId> = asset_collaborators::table
        .filter(asset_collaborators::user_id.eq(me))
        .select(asset_collaborators::asset_id)
        .order(asset_collaborators::asset_id)
        .load(conn)?;
    Ok((
        estates.into_iter().map(Uuid::from).collect(),
        assets.into_iter().map(Uuid::from).collect(),
    ))
}

/// The estates the user owns (read after the locks).
pub fn owned_estates(conn: &mut Conn, user_id: Uuid) -> Result<Vec<Uuid>> {
    let owned: Vec<DbId> = estate_members::table
        .filter(estate_members::user_id.eq(DbId(user_id)))
        .filter(estate_members::role.eq("owner"))
        .select(estate_members::estate_id)
        .order(estate_members::estate_id)
        .load(conn)?;
    Ok(owned.into_iter().map(Uuid::from).collect())
}

/// What a deletion ended, for the audit trail.
#[derive(Debug, Default, Clone)]
pub struct Ended {
    /// Estate memberships: estate and role.
    pub memberships: Vec<(Uuid, String)>,
    /// Assets collaborated on.
    pub collaborations: Vec<Uuid>,
    /// Households headed: their members and roles.
    pub household_members: Vec<(Uuid, String)>,
    /// Households belonged to: head and role.
    pub households: Vec<(Uuid, String)>,
    /// Shares held: asset and permission.
    pub shares: Vec<(Uuid, String)>,
    /// Pending invitations sent: id, resource type, resource id, email.
    pub invitations: Vec<(Uuid, String, Uuid, String)>,
}

/// Ends everything the account holds and leaves its row as a tombstone.
pub fn delete(conn: &mut Conn, user_id: Uuid, now: DateTime<Utc>) -> Result<Ended> {
    let me = DbId(user_id);
    let pairs = |rows: Vec<(DbId, String)>| -> Vec<(Uuid, String)> {
        rows.into_iter().map(|(id, s)| (id.0, s)).collect()
    };
    let memberships: Vec<(DbId, String)> = estate_members::table
        .filter(estate_members::user_id.eq(me))
        .select((estate_members::estate_id, estate_members::role))
        .order(estate_members::estate_id)
        .load(conn)?;
    diesel::delete(site_overrides::table.filter(site_overrides::user_id.eq(me))).execute(conn)?;
    diesel::delete(estate_members::table.filter(estate_members::user_id.eq(me))).execute(conn)?;
    for (estate, _) in &memberships {
        crate::estates::bump_revision(conn, estate.0)?;
    }
    let collaborations: Vec<DbId> = asset_collaborators::table
        .filter(asset_collaborators::user_id.eq(me))
        .select(asset_collaborators::asset_id)
        .order(asset_collaborators::asset_id)
        .load(conn)?;
    diesel::delete(asset_collaborators::table.filter(asset_collaborators::user_id.eq(me)))
        .execute(conn)?;
    let household_members: Vec<(DbId, String)> = household_members::table
        .filter(household_members::head_id.eq(me))
        .select((household_members::member_id, household_members::role))
        .order(household_members::member_id)
        .load(conn)?;
    let households: Vec<(DbId, String)> = household_members::table
        .filter(household_members::member_id.eq(me))
        .select((household_members::head_id, household_members::role))
        .order(household_members::head_id)
        .load(conn)?;
    diesel::delete(
        household_members::table
            .filter(household_members::head_id.eq(me).or(household_members::member_id.eq(me))),
    )
    .execute(conn)?;
    let shares: Vec<(DbId, String)> = asset_shares::table
        .filter(asset_shares::user_id.eq(me))
        .select((asset_shares::asset_id, asset_shares::permission))
        .order(asset_shares::asset_id)
        .load(conn)?;
    diesel::delete(asset_shares::table.filter(asset_shares::user_id.eq(me))).execute(conn)?;
    let pending = invitations::table
        .filter(invitations::invited_by.eq(me))
        .filter(invitations::status.eq("pending"));
    let sent: Vec<(DbId, String, DbId, String)> = pending
        .select((
            invitations::id,
            invitations::resource_type,
            invitations::resource_id,
            invitations::email,
        ))
        .order(invitations::id)
        .load(conn)?;
    diesel::update(pending).set(invitations::status.eq("cancelled")).execute(conn)?;
    diesel::delete(sessions::table.filter(sessions::user_id.eq(me))).execute(conn)?;
    diesel::delete(email_tokens::table.filter(email_tokens::user_id.eq(me))).execute(conn)?;
    diesel::delete(email_changes::table.filter(email_changes::user_id.eq(me))).execute(conn)?;
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::user_id.eq(me)))
        .execute(conn)?;
    diesel::delete(asset_history_readers::table.filter(asset_history_readers::user_id.eq(me)))
        .execute(conn)?;
    let tomb = format!("deleted-{user_id}");
    diesel::update(users::table.find(me))
        .set((
            users::email.eq(format!("{user_id}@deleted.invalid")),
            users::username.eq(&tomb),
            users::username_canonical.eq(&tomb),
            users::display_name.eq("Deleted account"),
            users::password_hash.eq(""),
            users::is_root.eq(false),
            users::email_verified_at.eq(None::<chrono::NaiveDateTime>),
            users::credentials_changed_at.eq(to_db(now)),
            users::updated_at.eq(to_db(now)),
            users::deleted_at.eq(Some(to_db(now))),
        ))
        .execute(conn)?;
    Ok(Ended {
        memberships: pairs(memberships),
        collaborations: collaborations.into_iter().map(Uuid::from).collect(),
        household_members: pairs(household_members),
        households: pairs(households),
        shares: pairs(shares),
        invitations: sent
            .into_iter()
            .map(|(id, kind, resource, email)| (id.0, kind, resource.0, email))
            .collect(),
    })
}
