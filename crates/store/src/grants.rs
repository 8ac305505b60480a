//! What an account granted to others, found and revoked as one change.
//!
//! Used when an account that was never verified proves its inbox for the
//! first time (verification link, password reset, or signing up through an
//! invitation): whatever it granted before that proof may have been set up
//! by someone squatting the address, and the address's real owner must not
//! inherit it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::id::DbId;
use crate::schema::{
    asset_collaborators, asset_shares, audit_events, estate_members, household_members,
    invitations, site_overrides,
};

/// How many grants were revoked, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Revoked {
    /// Members removed from the account's household.
    pub household_members: usize,
    /// Pending invitations the account sent, now cancelled.
    pub invitations: usize,
    /// Shares left by invitations the account sent.
    pub shares: usize,
    /// Collaborators the account added to assets (not itself).
    pub collaborators: usize,
    /// Estate members the account granted a role directly (not itself).
    pub estate_members: usize,
}

impl Revoked {
    pub fn total(&self) -> usize {
        self.household_members
            + self.invitations
            + self.shares
            + self.collaborators
            + self.estate_members
    }
}

/// (resource id, user id) pairs the account granted, read from its own audit
/// events of `action`.
fn granted_by(conn: &mut Conn, actor: Uuid, action: &str) -> Result<Vec<(DbId, DbId)>> {
    let rows: Vec<(String, Option<String>)> = audit_events::table
        .filter(audit_events::actor_id.eq(DbId(actor)))
        .filter(audit_events::action.eq(action))
        .select((audit_events::target_id, audit_events::after))
        .load(conn)?;
    // Ids that do not parse match no row: skipping them deletes nothing less.
    Ok(rows
        .into_iter()
        .filter_map(|(target, after)| {
            let after: serde_json::Value = serde_json::from_str(after.as_deref()?).ok()?;
            let user = Uuid::parse_str(after.get("user_id")?.as_str()?).ok()?;
            let target = Uuid::parse_str(&target).ok()?;
            (user != actor).then_some((DbId(target), DbId(user)))
        })
        .collect())
}

/// Revokes every grant `user` made to someone else: its household members,
/// its pending invitations, the shares its accepted invitations left, the
/// collaborators it added and the estate members it granted directly. Runs
/// inside the caller's transaction.
pub fn revoke_all_granted_by(conn: &mut Conn, user: Uuid, _now: DateTime<Utc>) -> Result<Revoked> {
    let id = DbId(user);
    let mut revoked = Revoked {
        household_members: diesel::delete(
            household_members::table.filter(household_members::head_id.eq(id)),
        )
        .execute(conn)?,
        ..Revoked::default()
    };
    revoked.invitations = diesel::update(
        invitations::table
            .filter(invitations::invited_by.eq(id))
            .filter(invitations::status.eq("pending")),
    )
    .set(invitations::status.eq("cancelled"))
    .execute(conn)?;
    let sent = invitations::table
        .filter(invitations::invited_by.eq(id))
        .select(invitations::id.nullable());
    revoked.shares = diesel::delete(
        asset_shares::table
            .filter(asset_shares::invitation_id.eq_any(sent))
            .filter(asset_shares::user_id.ne(id)),
    )
    .execute(conn)?;
    for (asset, member) in granted_by(conn, user, crate::audit::Action::CollaboratorAdded.as_str())?
    {
        revoked.collaborators += diesel::delete(
            asset_collaborators::table
                .filter(asset_collaborators::asset_id.eq(asset))
                .filter(asset_collaborators::user_id.eq(member)),
        )
        .execute(conn)?;
    }
    for (estate, member) in granted_by(conn, user, crate::audit::Action::MemberAdded.as_str())? {
        let removed = diesel::delete(
            estate_members::table
                .filter(estate_members::estate_id.eq(estate))
                .filter(estate_members::user_id.eq(member))
                .filter(estate_members::role.ne("owner")),
        )
        .execute(conn)?;
        if removed > 0 {
            diesel::delete(
                site_overrides::table
                    .filter(site_overrides::estate_id.eq(estate))
                    .filter(site_overrides::user_id.eq(member)),
            )
            .execute(conn)?;
            crate::estates::bump_revision(conn, estate.0)?;
            crate::assets::drop_estate_access(conn, estate.0, member.0)?;
        }
        revoked.estate_members += removed;
    }
    Ok(revoked)
}
