//! Deleting my account: refused while I own an estate or am the only
//! collaborator of an asset (the domain's rule); otherwise every access I
//! hold or granted through my household ends in one transaction, the
//! pending invitations I sent are cancelled, each ended access is in the
//! trail, my row becomes a nameless tombstone, and a confirmation email
//! goes to my address when it is verified.

use keyholder_domain::account::{DeletionFacts, check_may_delete};
use keyholder_domain::collaborators::{CollaboratorRefusal, check_membership_end};
use keyholder_store::account_deletion;
use keyholder_store::audit::{self, Action};
use keyholder_store::users::User;
use keyholder_store::{collaborators, locks, outbox};
use serde_json::json;

use super::accounts::event as account_event;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::mail::templates;
use crate::ops::{Conn, Now, Outcome, event};
use crate::problems::ProblemCode;

const REASON: &str = "account_deleted";

/// Delete the caller's account, whose password the handler confirmed
/// (`checked`: the account as it was then).
pub fn delete(c: &mut Conn, actor: &Caller, checked: &User, now: Now) -> Outcome<()> {
    // Estates, then assets, then the account: the order a membership or
    // collaborator change locks in, so neither can slip between this check
    // and the deletion. The caller is read again under the locks: a second
    // deletion, or a password change since the check, is refused.
    let (estates, assets) = account_deletion::holdings(c, checked.id)?;
    locks::assets_with_estates(c, &assets, &estates)?;
    locks::users(c, &[checked.id])?;
    let user = &actor.user(c)?;
    if user.password_hash != checked.password_hash {
        return Err(ApiError::forbidden(
            ProblemCode::WrongPassword,
            "The current password is not correct.",
        ));
    }
    let pairs = collaborators::collaborator_pairs(c, &assets)?;
    let sole_collaborator_of = match check_membership_end(&pairs, user.id) {
        Err(CollaboratorRefusal::LastCollaborator { asset_ids }) => asset_ids,
        _ => Vec::new(),
    };
    let facts = DeletionFacts {
        is_root: user.is_root,
        owned_estates: account_deletion::owned_estates(c, user.id)?,
        sole_collaborator_of,
    };
    if let Err(refusal) = check_may_delete(facts) {
        let (estate_ids, asset_ids) = (&refusal.0.owned_estates, &refusal.0.sole_collaborator_of);
        let (estate_ids, asset_ids) = (json!(estate_ids), json!(asset_ids));
        return Err(ApiError::refused(&refusal)
            .with_extra("estate_ids", estate_ids)
            .with_extra("asset_ids", asset_ids));
    }
    let ended = account_deletion::delete(c, user.id, now)?;
    let me = user.id;
    let mut record = |ev| audit::record(c, &ev, now);
    for (estate, role) in &ended.memberships {
        let before = json!({"user_id": me, "role": role, "reason": REASON});
        record(event(user, Action::MemberLeft, "estate", estate, Some(before), None))?;
    }
    for asset in &ended.collaborations {
        let before = json!({"user_id": me, "reason": REASON});
        record(event(user, Action::CollaboratorRemoved, "asset", asset, Some(before), None))?;
    }
    for (asset, permission) in &ended.shares {
        let before = json!({"user_id": me, "permission": permission, "reason": REASON});
        record(event(user, Action::ShareDropped, "asset", asset, Some(before), None))?;
    }
    for (member, role) in &ended.household_members {
        let before = json!({"user_id": member, "role": role, "reason": REASON});
        record(event(user, Action::HouseholdMemberRemoved, "household", me, Some(before), None))?;
    }
    for (head, role) in &ended.households {
        let before = json!({"user_id": me, "role": role, "reason": REASON});
        record(event(user, Action::HouseholdMemberLeft, "household", head, Some(before), None))?;
    }
    for (invitation, kind, resource, email) in &ended.invitations {
        let target = if kind == "estate" { "estate" } else { "asset" };
        let before = json!({"invitation_id": invitation, "email": email, "status": "pending"});
        let after = json!({"invitation_id": invitation, "status": "cancelled", "reason": REASON});
        record(event(
            user,
            Action::InvitationCancelled,
            target,
            resource,
            Some(before),
            Some(after),
        ))?;
    }
    let before = json!({
        "estate_memberships": ended.memberships.len(),
        "collaborations": ended.collaborations.len(),
        "shares": ended.shares.len(),
        "household_members": ended.household_members.len(),
        "households": ended.households.len(),
        "invitations_cancelled": ended.invitations.len(),
    });
    record(account_event(user, Action::UserDeleted, Some(before), None))?;
    // Only a proven inbox hears about it (anyone can register an address).
    if user.email_verified() {
        outbox::enqueue(c, &templates::account_deleted(&user.email, &user.username), now)?;
    }
    tracing::info!(user_id = %user.id, "account deleted");
    Ok(())
}
