//! The invitee's side, for both kinds: preview, accept (signed in, or with a
//! new account), decline, my pending invitations; and the sweeper that
//! writes `expired`.

use crate::problems::ProblemCode;
use keyholder_domain::estate::{self, EstateActor};
use keyholder_domain::invitation::{
    self, InvitationEvent, ShareGrant, merge_estate_role, merge_share,
};
use keyholder_domain::token::TokenHash;
use keyholder_domain::values::{DisplayName, Email};
use keyholder_domain::{AssetCapability, InvitationState, asset_can};
use keyholder_store::audit::{self, Action};
use keyholder_store::invitations::{self, Invitation, ResourceType};
use keyholder_store::users::{self, NewUser, Taken, User};
use keyholder_store::{DbConnection, assets, estates, locks, outbox, shares, sites};
use serde_json::json;
use uuid::Uuid;

use super::{
    Offer, Resource, conflict_now, moved, newest_first_window, on_resource, transition_refused,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::mail::invitation_templates;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::ops::access::judge;
use crate::ops::accounts::Profile;
use crate::ops::accounts::{prove_inbox, revoke_unverified_grants};
use crate::ops::event;
use crate::views::common::{Cursor, CursorPage, CursorQuery};
use crate::views::invitations::{InvitationOffer, InvitationResult, ResourceRef};

pub(crate) fn invalid_token() -> ApiError {
    ApiError::not_found(
        ProblemCode::InvitationNotFound,
        "This invitation link is not valid: it may have been replaced by a newer one.",
    )
}

/// The invitation a link's token opens (404 for any other token).
pub(crate) fn by_token(c: &mut Conn, token: &str) -> Outcome<Invitation> {
    invitations::find_by_token_hash(c, TokenHash::of(token.trim()).as_str())?
        .ok_or_else(invalid_token)
}

/// What an invitation offers, by its token.
pub fn preview(c: &mut Conn, token: &str, now: Now) -> Outcome<InvitationOffer> {
    by_token(c, token).and_then(|inv| offer(c, &inv, now))
}

/// What `inv` offers, with its resource as it is now.
fn offer(c: &mut Conn, inv: &Invitation, now: Now) -> Outcome<InvitationOffer> {
    Ok(InvitationOffer::new(inv, &Resource::of(c, inv)?, now))
}

/// Accept by token, signed in with the invited email.
pub fn accept(c: &mut Conn, caller: &Caller, token: &str, now: Now) -> Outcome<InvitationResult> {
    let user = caller.user(c)?;
    let inv = by_token(c, token)?;
    accept_for(c, &inv, &user, now)
}

/// Decline by token (no sign-in needed; the token is the key).
pub fn decline(c: &mut Conn, token: &str, now: Now) -> Outcome<InvitationResult> {
    let inv = by_token(c, token)?;
    decline_for(c, &inv, None, now)
}

/// Locks the estate of an invitation, or the asset's estate and the asset.
fn lock_parents(c: &mut Conn, inv: &Invitation) -> Outcome<()> {
    match inv.resource_type {
        ResourceType::Estate => locks::estate(c, inv.resource_id)?,
        ResourceType::Asset => locks::assets_with_estates(c, &[inv.resource_id], &[])?,
    }
    Ok(())
}

/// Acceptance re-checks the sender: an invitation grants only what its
/// inviter may still grant now (an admin removed or demoted since, or a
/// collaborator who lost full access, no longer grants through it).
fn check_inviter_still_may_grant(
    c: &mut Conn,
    inv: &Invitation,
    offer: Offer,
    now: Now,
) -> Outcome<()> {
    let lost = || {
        ApiError::conflict(
            ProblemCode::InviterCannotGrant,
            "Whoever sent this invitation may no longer grant this access; ask for a new invitation.",
        )
    };
    // An inviter who never proved their inbox grants nothing (invitations
    // such an account sent before sharing required a verified email).
    let Some(inviter) = users::find(c, inv.invited_by)?.filter(User::email_verified) else {
        return Err(lost());
    };
    let may = match offer {
        Offer::Role(offered) => {
            let actor = EstateActor {
                user_id: inviter.id,
                is_root: inviter.is_root,
                role: estates::member_role(c, inv.resource_id, inviter.id)?,
            };
            estate::check_grant_new_member(&actor, offered).is_ok()
        }
        Offer::Permission(..) => match assets::get(c, inv.resource_id)? {
            Some(asset) => {
                let row = assets::access_row(c, &asset, inviter.id)?;
                judge(&inviter, &asset, &row, now)
                    .is_some_and(|level| asset_can(Some(level), AssetCapability::ManageInvitations))
            }
            None => false,
        },
    };
    if may { Ok(()) } else { Err(lost()) }
}

/// Grants what `offer` offers to `user`, merged with what they hold: the
/// higher estate role, or the wider share. Returns what they now hold.
fn grant(c: &mut Conn, inv: &Invitation, offer: Offer, user: &User, now: Now) -> Outcome<String> {
    let id = inv.resource_id;
    match offer {
        Offer::Role(offered) => {
            let existing = estates::member_role(c, id, user.id)?;
            let role = merge_estate_role(existing, offered);
            match existing {
                None => estates::add_member(c, id, user.id, role, now)?,
                Some(r) if r != role => estates::set_role(c, id, user.id, role, now)?,
                Some(_) => {}
            }
            if estate::promotion_drops_overrides(role) {
                sites::delete_overrides(c, id, user.id)?;
            }
            Ok(role.as_str().to_owned())
        }
        Offer::Permission(permission, access_expires_at) => {
            let new = ShareGrant { permission, access_expires_at };
            let merged = match shares::get_share(c, id, user.id)? {
                Some(held) => merge_share(
                    ShareGrant {
                        permission: held.permission,
                        access_expires_at: held.access_expires_at,
                    },
                    new,
                ),
                None => new,
            };
            let until = merged.access_expires_at;
            shares::put_share(c, id, user.id, merged.permission, until, Some(inv.id), now)?;
            Ok(merged.permission.as_str().to_owned())
        }
    }
}

/// Accepts for `user` inside the caller's transaction: the grant, the state
/// change, the verified email, the audit event and the inviter's email.
pub(crate) fn accept_for(
    c: &mut Conn,
    inv: &Invitation,
    user: &User,
    now: Now,
) -> Outcome<InvitationResult> {
    // Lock what the grant hangs on (the estate, or the asset's estate and
    // then the asset), then read the invitation again: a removal or a
    // cancellation that committed meanwhile is seen.
    lock_parents(c, inv)?;
    let inv = &invitations::get(c, inv.id)?.ok_or_else(invalid_token)?;
    invitation::transition(inv.status, inv.expires_at, InvitationEvent::Accept, now)
        .map_err(transition_refused)?;
    let offer = Offer::of(inv)?;
    check_inviter_still_may_grant(c, inv, offer, now)?;
    let invited = Email::parse(&inv.email).map_err(|_| ApiError::internal())?;
    let mine = Email::parse(&user.email).map_err(|_| ApiError::internal())?;
    invitation::check_accepting_user(&invited, &mine).map_err(ApiError::refused)?;
    if !invitations::transition(c, inv.id, InvitationState::Accepted, Some(user.id), now)? {
        return Err(conflict_now(c, inv.id, now)?);
    }
    let role = grant(c, inv, offer, user, now)?;
    prove_inbox(c, user, now)?;
    let resource = Resource::of(c, inv)?;
    let (before, mut after) = moved(inv, InvitationState::Accepted);
    if let Some(after) = after.as_mut() {
        after["user_id"] = json!(user.id);
        after["role"] = json!(role);
    }
    audit::record(c, &resource.event(user, Action::InvitationAccepted, before, after), now)?;
    notify_inviter(c, inv, &user.display_name, &resource, true, now)?;
    Ok(InvitationResult {
        status: "accepted",
        resource_type: inv.resource_type.as_str(),
        resource: ResourceRef::of(&resource),
        role: Some(role),
    })
}

/// Emails the inviter that their invitation was accepted or declined.
fn notify_inviter(
    c: &mut Conn,
    inv: &Invitation,
    invitee: &str,
    resource: &Resource,
    accepted: bool,
    now: Now,
) -> Outcome<()> {
    if let Some(sender) = users::find(c, inv.invited_by)? {
        let mail = invitation_templates::responded(
            &sender.email,
            invitee,
            &resource.mail_label(),
            accepted,
        );
        outbox::enqueue(c, &mail, now)?;
    }
    Ok(())
}

/// Declines `inv`, by its token (no actor) or by its verified invitee.
pub(crate) fn decline_for(
    c: &mut Conn,
    inv: &Invitation,
    actor: Option<&User>,
    now: Now,
) -> Outcome<InvitationResult> {
    invitation::transition(inv.status, inv.expires_at, InvitationEvent::Decline, now)
        .map_err(transition_refused)?;
    let by = actor.map(|u| u.id);
    if !invitations::transition(c, inv.id, InvitationState::Declined, by, now)? {
        return Err(conflict_now(c, inv.id, now)?);
    }
    let resource = Resource::of(c, inv)?;
    let (before, after) = moved(inv, InvitationState::Declined);
    let event = on_resource(inv, by, Action::InvitationDeclined, before, after);
    audit::record(c, &event, now)?;
    notify_inviter(c, inv, &inv.email, &resource, false, now)?;
    Ok(InvitationResult {
        status: "declined",
        resource_type: inv.resource_type.as_str(),
        resource: ResourceRef::of(&resource),
        role: None,
    })
}

/// The account a new invitee signs up with, the password already hashed.
pub struct Signup {
    pub token: String,
    pub profile: Profile,
    pub password_hash: String,
}

/// Create the account for the invited email and accept, in one step. An
/// account nobody ever verified that holds the address is taken over: the
/// token proves the inbox.
pub fn accept_signup(c: &mut Conn, cmd: &Signup, now: Now) -> Outcome<User> {
    let inv = by_token(c, &cmd.token)?;
    invitation::transition(inv.status, inv.expires_at, InvitationEvent::Accept, now)
        .map_err(transition_refused)?;
    let username = cmd.profile.username.as_str();
    let display = cmd.profile.display_name.as_ref().map_or(username, DisplayName::as_str);
    let taken = || {
        ApiError::conflict(ProblemCode::UsernameTaken, format!("The username {username} is taken."))
    };
    let registered = || {
        ApiError::conflict(
            ProblemCode::EmailRegistered,
            "An account with this email exists: sign in, then accept the invitation.",
        )
    };
    let user = match users::find_by_email(c, &inv.email)? {
        Some(existing) if existing.email_verified() => return Err(registered()),
        Some(existing) if existing.disabled_at.is_some() => {
            return Err(crate::ops::accounts::account_disabled());
        }
        Some(existing) => {
            // Nothing granted to the account before carries over; its
            // earlier sessions end with its new credentials.
            let user = users::claim_unverified(
                c,
                existing.id,
                username,
                display,
                &cmd.password_hash,
                now,
            )?
            .ok_or_else(taken)?;
            crate::ops::sessions::end_all(c, &user)?;
            revoke_unverified_grants(c, &existing, now)?;
            let before = json!({"username": existing.username});
            let after = json!({"username": user.username, "via_invitation": inv.id});
            let event =
                event(&user, Action::UserClaimed, "user", user.id, Some(before), Some(after));
            audit::record(c, &event, now)?;
            user
        }
        None => {
            let new = NewUser {
                email: &inv.email,
                username,
                display_name: display,
                password_hash: &cmd.password_hash,
                is_root: false,
                email_verified_at: Some(now),
            };
            let user = match users::insert(c, &new, now)? {
                Ok(u) => u,
                Err(Taken::Email) => return Err(registered()),
                Err(Taken::Username) => return Err(taken()),
            };
            let after =
                json!({"email": user.email, "username": user.username, "via_invitation": inv.id});
            let event = event(&user, Action::UserRegistered, "user", user.id, None, Some(after));
            audit::record(c, &event, now)?;
            user
        }
    };
    accept_for(c, &inv, &user, now)?;
    Ok(user)
}

/// 403 `email_not_verified`: invitations are shown only to verified
/// addresses.
fn verified_invitee(c: &mut Conn, caller: &Caller) -> Outcome<User> {
    let user = caller.user(c)?;
    if user.email_verified() {
        Ok(user)
    } else {
        Err(ApiError::forbidden(
            ProblemCode::EmailNotVerified,
            "Verify your email address first: invitations are shown only to verified addresses.",
        ))
    }
}

/// Pending invitations addressed to my verified email, newest first.
pub fn mine(
    c: &mut Conn,
    caller: &Caller,
    q: &CursorQuery,
    now: Now,
) -> Outcome<CursorPage<InvitationOffer>> {
    let user = verified_invitee(c, caller)?;
    let window = newest_first_window(q)?;
    let page = invitations::pending_for_email_page(c, &user.email, now, &window)?;
    let next = page.items.last().filter(|_| page.more).map(|i| Cursor::at(i.invited_at, i.id));
    let items =
        page.items.iter().map(|inv| offer(c, inv, now)).collect::<Result<Vec<_>, ApiError>>()?;
    Ok(CursorPage::new(items, page.counted, q, next))
}

/// Answers an invitation addressed to my verified email (404 for any
/// other) with `answer`, given the invitation and me.
fn answer_mine(
    c: &mut Conn,
    caller: &Caller,
    id: Uuid,
    answer: impl FnOnce(&mut DbConnection, &Invitation, &User) -> Result<InvitationResult, ApiError>,
) -> Outcome<InvitationResult> {
    let user = verified_invitee(c, caller)?;
    let inv = invitations::get(c, id)?.filter(|inv| inv.email == user.email).ok_or_else(|| {
        ApiError::not_found(ProblemCode::InvitationNotFound, "No such invitation for your email.")
    })?;
    answer(c, &inv, &user)
}

/// Accept an invitation to my verified email, without the token.
pub fn accept_mine(c: &mut Conn, caller: &Caller, id: Uuid, now: Now) -> Outcome<InvitationResult> {
    answer_mine(c, caller, id, |c, inv, user| accept_for(c, inv, user, now))
}

/// Decline an invitation to my verified email, without the token.
pub fn decline_mine(
    c: &mut Conn,
    caller: &Caller,
    id: Uuid,
    now: Now,
) -> Outcome<InvitationResult> {
    answer_mine(c, caller, id, |c, inv, user| decline_for(c, inv, Some(user), now))
}

/// Writes `expired` on invitations past their expiry, with an audit event
/// each; run by the background sweeper.
pub fn sweep_expired(db: &keyholder_store::Db, now: Now) -> Outcome<usize> {
    db.write(|c| {
        let expired = invitations::expire_due(c, now, 500)?;
        for inv in &expired {
            let (before, after) = moved(inv, InvitationState::Expired);
            let event = on_resource(inv, None, Action::InvitationExpired, before, after);
            audit::record(c, &event, now)?;
        }
        Ok(expired.len())
    })
}
