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
    Offer, Resource, bulk, conflict_now, moved, newest_first_window, on_resource,
    transition_refused,
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
use crate::views::invitations::{
    BatchAnswerItem, BatchOfferItem, InvitationOffer, InvitationResult, ResourceRef,
};

pub(crate) fn invalid_token() -> ApiError {
    ApiError::not_found(
        ProblemCode::InvitationNotFound,
        "This invitation link is not valid: it may have been replaced by a newer one.",
    )
}

/// What a link's token opens.
pub(crate) enum Opened {
    /// One invitation.
    One(Invitation),
    /// A bulk invitation's recipient: the batch, and every row of it
    /// addressed to them with its asset, by the assets' names.
    Batch(Uuid, Vec<(Invitation, Resource)>),
}

impl Opened {
    /// The invitation that speaks for the token: the one, or the first row
    /// of the batch still pending (else the first expired, else the first),
    /// the one whose refusal a single invitation would give.
    fn lead(&self, now: Now) -> &Invitation {
        match self {
            Self::One(inv) => inv,
            Self::Batch(_, rows) => {
                let reads = |s: InvitationState| {
                    rows.iter()
                        .map(|(i, _)| i)
                        .find(|i| invitation::effective_state(i.status, i.expires_at, now) == s)
                };
                reads(InvitationState::Pending)
                    .or_else(|| reads(InvitationState::Expired))
                    .unwrap_or(&rows[0].0)
            }
        }
    }
}

/// What a link's token opens (404 for any other token): an invitation by
/// its token's hash, else a bulk invitation's recipient.
pub(crate) fn by_token(c: &mut Conn, token: &str) -> Outcome<Opened> {
    let hash = TokenHash::of(token.trim());
    if let Some(inv) = invitations::find_by_token_hash(c, hash.as_str())? {
        return Ok(Opened::One(inv));
    }
    if let Some((batch, email)) = invitations::batch::find_recipient(c, hash.as_str())? {
        let rows = bulk::recipient_rows(c, batch, &email)?;
        if !rows.is_empty() {
            return Ok(Opened::Batch(batch, rows));
        }
    }
    Err(invalid_token())
}

/// What an invitation offers, by its token; a bulk invitation's lists
/// every asset offered to the recipient.
pub fn preview(c: &mut Conn, token: &str, now: Now) -> Outcome<InvitationOffer> {
    match by_token(c, token)? {
        Opened::One(inv) => offer(c, &inv, now),
        opened @ Opened::Batch(..) => {
            let lead = opened.lead(now);
            let Opened::Batch(_, rows) = &opened else { return Err(ApiError::internal()) };
            let (_, resource) =
                rows.iter().find(|(i, _)| i.id == lead.id).ok_or_else(ApiError::internal)?;
            let mut offer = InvitationOffer::new(lead, resource, now);
            offer.assets = Some(rows.iter().map(|(i, r)| BatchOfferItem::new(i, r, now)).collect());
            Ok(offer)
        }
    }
}

/// What `inv` offers, with its resource as it is now.
fn offer(c: &mut Conn, inv: &Invitation, now: Now) -> Outcome<InvitationOffer> {
    Ok(InvitationOffer::new(inv, &Resource::of(c, inv)?, now))
}

/// Accept by token, signed in with the invited email.
pub fn accept(c: &mut Conn, caller: &Caller, token: &str, now: Now) -> Outcome<InvitationResult> {
    let user = caller.user(c)?;
    match by_token(c, token)? {
        Opened::One(inv) => accept_for(c, &inv, &user, now),
        Opened::Batch(batch, rows) => accept_batch(c, batch, &rows, &user, now),
    }
}

/// Decline by token (no sign-in needed; the token is the key).
pub fn decline(c: &mut Conn, token: &str, now: Now) -> Outcome<InvitationResult> {
    match by_token(c, token)? {
        Opened::One(inv) => decline_for(c, &inv, None, now),
        Opened::Batch(batch, rows) => decline_batch(c, batch, &rows, now),
    }
}

/// The rows of a bulk invitation's recipient as they are now (read again
/// after the locks), with their assets as `rows` had them, and which of
/// them `event` moves (the refusal a single invitation would give when
/// none).
fn batch_rows_now(
    c: &mut Conn,
    batch: Uuid,
    rows: &[(Invitation, Resource)],
    event: InvitationEvent,
    now: Now,
) -> Outcome<Vec<(Invitation, Resource)>> {
    let email = &rows.first().ok_or_else(invalid_token)?.0.email;
    let fresh = bulk::recipient_rows(c, batch, email)?;
    let states: Vec<_> = fresh.iter().map(|(i, _)| (i.status, i.expires_at)).collect();
    let moving = invitation::batch_transition(&states, event, now).map_err(transition_refused)?;
    Ok(moving.into_iter().map(|i| fresh[i].clone()).collect())
}

/// Accepts, for `user`, every row of a bulk invitation's recipient still
/// pending, in one transaction: all of them or none (409
/// `inviter_cannot_grant` naming the assets the sender may no longer
/// grant). The inviter hears once, naming every asset.
fn accept_batch(
    c: &mut Conn,
    batch: Uuid,
    rows: &[(Invitation, Resource)],
    user: &User,
    now: Now,
) -> Outcome<InvitationResult> {
    let asset_ids: Vec<Uuid> = rows.iter().map(|(i, _)| i.resource_id).collect();
    locks::assets_with_estates(c, &asset_ids, &[])?;
    let pending = batch_rows_now(c, batch, rows, InvitationEvent::Accept, now)?;
    let lead = &pending.first().ok_or_else(invalid_token)?.0;
    let invited = Email::parse(&lead.email).map_err(|_| ApiError::internal())?;
    let mine = Email::parse(&user.email).map_err(|_| ApiError::internal())?;
    invitation::check_accepting_user(&invited, &mine).map_err(ApiError::refused)?;
    let mut lost = Vec::new();
    for (inv, _) in &pending {
        if check_inviter_still_may_grant(c, inv, Offer::of(inv)?, now).is_err() {
            lost.push(inv.resource_id);
        }
    }
    if !lost.is_empty() {
        return Err(ApiError::conflict(
            ProblemCode::InviterCannotGrant,
            "Whoever sent this invitation may no longer grant some of these assets (listed in `asset_ids`); nothing was accepted. Accept the others one by one from your invitations, or ask for a new invitation.",
        )
        .with_extra("asset_ids", json!(lost)));
    }
    let mut answered = Vec::with_capacity(pending.len());
    for (inv, resource) in &pending {
        if !invitations::transition(c, inv.id, InvitationState::Accepted, Some(user.id), now)? {
            return Err(conflict_now(c, inv.id, now)?);
        }
        let role = grant(c, inv, Offer::of(inv)?, user, now)?;
        let (before, mut after) = moved(inv, InvitationState::Accepted);
        if let Some(after) = after.as_mut() {
            after["user_id"] = json!(user.id);
            after["role"] = json!(role);
            after["batch_id"] = json!(batch);
        }
        audit::record(c, &resource.event(user, Action::InvitationAccepted, before, after), now)?;
        answered.push(BatchAnswerItem {
            invitation_id: inv.id,
            resource: ResourceRef::of(resource),
            role: Some(role),
        });
    }
    prove_inbox(c, user, now)?;
    let resources: Vec<&Resource> = pending.iter().map(|(_, r)| r).collect();
    notify_inviter_of_batch(c, lead, &user.display_name, &resources, true, now)?;
    Ok(batch_result("accepted", batch, answered))
}

/// Declines every row of a bulk invitation's recipient still pending, by
/// its token. The inviter hears once, naming every asset.
fn decline_batch(
    c: &mut Conn,
    batch: Uuid,
    rows: &[(Invitation, Resource)],
    now: Now,
) -> Outcome<InvitationResult> {
    let pending = batch_rows_now(c, batch, rows, InvitationEvent::Decline, now)?;
    let lead = &pending.first().ok_or_else(invalid_token)?.0;
    let mut answered = Vec::with_capacity(pending.len());
    for (inv, resource) in &pending {
        if !invitations::transition(c, inv.id, InvitationState::Declined, None, now)? {
            return Err(conflict_now(c, inv.id, now)?);
        }
        let (before, mut after) = moved(inv, InvitationState::Declined);
        if let Some(after) = after.as_mut() {
            after["batch_id"] = json!(batch);
        }
        let event = on_resource(inv, None, Action::InvitationDeclined, before, after);
        audit::record(c, &event, now)?;
        answered.push(BatchAnswerItem {
            invitation_id: inv.id,
            resource: ResourceRef::of(resource),
            role: None,
        });
    }
    let resources: Vec<&Resource> = pending.iter().map(|(_, r)| r).collect();
    notify_inviter_of_batch(c, lead, &lead.email, &resources, false, now)?;
    Ok(batch_result("declined", batch, answered))
}

/// The answer to a bulk invitation's token: the first asset on top, every
/// one in `assets`.
fn batch_result(
    status: &'static str,
    batch: Uuid,
    answered: Vec<BatchAnswerItem>,
) -> InvitationResult {
    let first = &answered[0];
    InvitationResult {
        status,
        resource_type: ResourceType::Asset.as_str(),
        resource: ResourceRef { id: first.resource.id, name: first.resource.name.clone() },
        role: first.role.clone(),
        batch_id: Some(batch),
        assets: Some(answered),
    }
}

/// Emails the inviter once that a bulk invitation's recipient accepted or
/// declined, naming every asset.
fn notify_inviter_of_batch(
    c: &mut Conn,
    lead: &Invitation,
    invitee: &str,
    resources: &[&Resource],
    accepted: bool,
    now: Now,
) -> Outcome<()> {
    if let Some(sender) = users::find(c, lead.invited_by)? {
        let labels: Vec<String> = resources.iter().map(|r| r.mail_label()).collect();
        let mail =
            invitation_templates::responded(&sender.email, invitee, &labels.join(", "), accepted);
        outbox::enqueue(c, &mail, now)?;
    }
    Ok(())
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
        batch_id: inv.batch_id,
        assets: None,
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
        batch_id: inv.batch_id,
        assets: None,
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
    let opened = by_token(c, &cmd.token)?;
    let inv = opened.lead(now).clone();
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
    match &opened {
        Opened::One(inv) => accept_for(c, inv, &user, now)?,
        Opened::Batch(batch, rows) => accept_batch(c, *batch, rows, &user, now)?,
    };
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
