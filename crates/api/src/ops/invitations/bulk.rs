//! Bulk asset invitations: several emails times several assets, with one
//! permission, message and expiry, in one all-or-nothing step. Every
//! (email, asset) pair is an ordinary asset invitation (listed, cancelled
//! and answered from `GET /me/invitations` one by one) that carries the
//! batch's id; each recipient gets one email listing every asset and one
//! token that answers all of their rows still pending ([`super::respond`]).
//! The per-minute and daily limits count emails, so recipients, not rows.

use std::collections::HashMap;

use keyholder_domain::account::SharingAction;
use keyholder_domain::asset::AssetCapability;
use keyholder_domain::asset_can;
use keyholder_domain::collaborators::check_bulk_access;
use keyholder_domain::invitation::{
    self, InvitationEvent, MAX_BATCH_ASSETS, MAX_BATCH_EMAILS, ResendExpiry, repeated,
};
use keyholder_domain::token::SecretToken;
use keyholder_domain::values::Email;
use keyholder_store::assets::{self, Asset};
use keyholder_store::audit::{self, Action};
use keyholder_store::invitations::batch::{self, NewBatch, NewBatchRow};
use keyholder_store::invitations::{self, Invitation, ResourceType};
use keyholder_store::users::User;
use keyholder_store::{locks, outbox};
use serde_json::json;
use uuid::Uuid;

use super::{Managed, Resource, Sending, Terms, conflict_now, transition_refused};
use crate::auth::{Caller, require_verified};
use crate::error::{ApiError, FieldErrors};
use crate::mail::invitation_templates;
use crate::ops::Conn;
use crate::ops::Deferred;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::ops::access::judge;
use crate::ops::collaborators::collaborator_refused;
use crate::problems::ProblemCode;
use crate::views::invitations::{AssetInvitationView, AssetRef, BulkInvitationView};

/// A bulk invitation's fields as the request gave them.
pub struct BulkFields {
    pub emails: Vec<String>,
    pub asset_ids: Vec<Uuid>,
    pub permission: String,
    pub message: Option<String>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub access_expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Invite several emails to several assets at once.
pub struct SendBulk {
    pub fields: Deferred<BulkFields>,
    pub sending: Sending,
}

/// The selected assets, each once, in the order given: 422 for none or
/// more than [`MAX_BATCH_ASSETS`] (before anything is looked up), then 404
/// naming the ones out of my reach and 403 naming the ones I see without
/// full access (as the bulk collaborator dialogs answer).
fn selected_assets(c: &mut Conn, user: &User, ids: &[Uuid], now: Now) -> Outcome<Vec<Asset>> {
    if ids.is_empty() {
        return Err(ApiError::field("asset_ids", "select at least one asset"));
    }
    if ids.len() > MAX_BATCH_ASSETS {
        return Err(ApiError::field(
            "asset_ids",
            format!("select at most {MAX_BATCH_ASSETS} assets"),
        ));
    }
    let mut unique: Vec<Uuid> = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    locks::assets_with_estates(c, &unique, &[])?;
    let mut found: HashMap<Uuid, Asset> =
        assets::get_many(c, &unique)?.into_iter().map(|a| (a.id, a)).collect();
    let mut levels = Vec::with_capacity(unique.len());
    for id in &unique {
        let level = match found.get(id) {
            Some(a) => judge(user, a, &assets::access_row(c, a, user.id)?, now),
            None => None,
        };
        levels.push((*id, level));
    }
    check_bulk_access(&levels).map_err(|r| collaborator_refused(&r))?;
    Ok(unique.iter().filter_map(|id| found.remove(id)).collect())
}

/// Everything the body says, checked at once (one 422 names each bad
/// field): 1 to 50 emails, none twice (case-insensitively), each asset
/// once, and the terms of a single invitation. A batch must also fit in
/// one minute's sending budget, which waiting cannot change.
fn check_fields(f: &BulkFields, capacity: Option<usize>, now: Now) -> Outcome<(Vec<Email>, Terms)> {
    let mut v = FieldErrors::new();
    if f.emails.is_empty() {
        v.add("emails", "name at least one email");
    } else if f.emails.len() > MAX_BATCH_EMAILS {
        v.add("emails", format!("name at most {MAX_BATCH_EMAILS} emails"));
    } else if let Some(max) = capacity.filter(|max| f.emails.len() > *max) {
        v.add(
            "emails",
            format!("at most {max} invitation emails may be sent per minute: send fewer at a time"),
        );
    }
    let parsed: Vec<Option<Email>> = f
        .emails
        .iter()
        .enumerate()
        .map(|(i, e)| v.check(&format!("emails[{i}]"), Email::parse(e)))
        .collect();
    let emails: Vec<Email> = parsed.iter().flatten().cloned().collect();
    if emails.len() == parsed.len() {
        for i in repeated(&emails) {
            v.add(&format!("emails[{i}]"), "repeats an earlier email");
        }
    }
    for i in repeated(&f.asset_ids) {
        v.add(&format!("asset_ids[{i}]"), "repeats an earlier asset");
    }
    let terms = Terms::check(
        &mut v,
        ResourceType::Asset,
        (&f.permission, f.message.as_deref(), f.expires_at, f.access_expires_at),
        now,
    );
    match terms {
        Some(terms) if v.is_empty() => Ok((emails, terms)),
        _ => Err(v.into_error()),
    }
}

/// 409 `invitation_pending` naming every (email, asset) pair that has a
/// pending invitation already.
fn already_pending(pairs: &[(Uuid, String)], names: &HashMap<Uuid, String>) -> ApiError {
    let (asset, email) = &pairs[0];
    let name = names.get(asset).map_or("", String::as_str);
    let more = match pairs.len() {
        1 => String::new(),
        n => format!(" (and {} more pairs, listed in `pairs`)", n - 1),
    };
    let listed: Vec<_> = pairs.iter().map(|(a, e)| json!({"email": e, "asset_id": a})).collect();
    ApiError::conflict(
        ProblemCode::InvitationPending,
        format!(
            "A pending invitation to {email} for the asset {name} already exists{more}; resend or cancel it, or leave the pair out. Nothing was sent."
        ),
    )
    .with_extra("pairs", json!(listed))
}

/// Sends the bulk invitation: every row, its audit event and one email per
/// recipient, in the caller's transaction, or nothing.
pub fn send(c: &mut Conn, caller: &Caller, cmd: SendBulk, now: Now) -> Outcome<BulkInvitationView> {
    let user = caller.user(c)?;
    // Without readable asset ids there is nothing to authorize against.
    let fields = cmd.fields?;
    let assets = selected_assets(c, &user, &fields.asset_ids, now)?;
    require_verified(&user, SharingAction::AssetInvitation)?;
    let (emails, terms) = check_fields(&fields, cmd.sending.budget.capacity(), now)?;
    let me = Email::parse(&user.email).map_err(|_| ApiError::internal())?;
    for email in &emails {
        invitation::check_invitee(&me, email)
            .map_err(|r| ApiError::refused(r).with_extra("email", json!(email.as_str())))?;
    }
    cmd.sending.budget.spend_n(user.id, emails.len())?;
    cmd.sending.check_daily_room(c, &user, emails.len(), now)?;
    let asset_ids: Vec<Uuid> = assets.iter().map(|a| a.id).collect();
    let addresses: Vec<&str> = emails.iter().map(Email::as_str).collect();
    let pending = batch::pending_pairs(c, &asset_ids, &addresses, now)?;
    if !pending.is_empty() {
        let names = assets.iter().map(|a| (a.id, a.name.clone())).collect();
        return Err(already_pending(&pending, &names));
    }
    let batch_id = Uuid::new_v4();
    let rows: Vec<NewBatchRow<'_>> = addresses
        .iter()
        .flat_map(|email| {
            asset_ids.iter().map(|asset_id| NewBatchRow {
                asset_id: *asset_id,
                email,
                token_hash: SecretToken::generate().hash().as_str().to_owned(),
            })
        })
        .collect();
    let tokens: Vec<SecretToken> = emails.iter().map(|_| SecretToken::generate()).collect();
    let hashes: Vec<String> = tokens.iter().map(|t| t.hash().as_str().to_owned()).collect();
    let recipients: Vec<(&str, &str)> =
        addresses.iter().copied().zip(hashes.iter().map(String::as_str)).collect();
    let new = NewBatch {
        id: batch_id,
        role: terms.offer.as_str(),
        message: terms.message(),
        invited_by: user.id,
        expires_at: terms.expires_at(),
        access_expires_at: terms.offer.access_expires_at(),
    };
    let created = batch::insert(c, &new, &rows, &recipients, now)?;
    let resources: Vec<Resource> = assets.iter().map(Resource::asset).collect();
    for inv in &created {
        let resource = resources.iter().find(|r| r.id == inv.resource_id);
        let resource = resource.ok_or_else(ApiError::internal)?;
        let after = json!({
            "invitation_id": inv.id,
            "email": inv.email,
            "permission": inv.role,
            "expires_at": inv.expires_at,
            "access_expires_at": inv.access_expires_at,
            "batch_id": batch_id,
        });
        let event = resource.event(&user, Action::InvitationCreated, None, Some(after));
        audit::record(c, &event, now)?;
    }
    for (email, token) in addresses.iter().zip(&tokens) {
        let theirs: Vec<&Invitation> = created.iter().filter(|i| i.email == *email).collect();
        let first = theirs.first().copied().ok_or_else(ApiError::internal)?;
        cmd.sending.mail_batch(c, first, &resources, token, now)?;
        batch::record_mailing(c, (batch_id, email), user.id, theirs.len(), now)?;
    }
    let invitations = created
        .iter()
        .map(|inv| {
            let r = resources.iter().find(|r| r.id == inv.resource_id);
            r.map(|r| AssetInvitationView::new(inv, AssetRef::of(r), now))
                .ok_or_else(ApiError::internal)
        })
        .collect::<Outcome<Vec<_>>>()?;
    Ok(BulkInvitationView { batch_id, recipients: emails.len(), invitations })
}

impl Sending {
    /// Queues one recipient's email of a batch, listing `assets`, with the
    /// link carrying `token`; `inv` is one of their rows (the terms are
    /// the same on each).
    pub(super) fn mail_batch(
        &self,
        c: &mut Conn,
        inv: &Invitation,
        assets: &[Resource],
        token: &SecretToken,
        now: Now,
    ) -> Outcome<()> {
        let labels: Vec<String> = assets.iter().map(Resource::mail_label).collect();
        let role = format!("{} access", inv.role);
        let mail = invitation_templates::bulk_invitation(&invitation_templates::BulkOffer {
            app_base: &self.app_base,
            to: &inv.email,
            inviter: &inv.inviter_display_name,
            assets: &labels,
            role: &role,
            message: inv.message.as_deref(),
            expires_at: inv.expires_at,
            access_expires_at: inv.access_expires_at,
            token: token.as_str(),
        });
        outbox::enqueue(c, &mail, now)?;
        Ok(())
    }
}

/// The rows of a batch addressed to one email, with the asset of each,
/// ordered by the asset's name (then id), as the email and the preview
/// list them.
pub(crate) fn recipient_rows(
    c: &mut Conn,
    batch_id: Uuid,
    email: &str,
) -> Outcome<Vec<(Invitation, Resource)>> {
    let mut rows = batch::rows_for(c, batch_id, email)?
        .into_iter()
        .map(|inv| Resource::of(c, &inv).map(|r| (inv, r)))
        .collect::<Outcome<Vec<_>>>()?;
    rows.sort_by(|(a, ra), (b, rb)| {
        (ra.name.to_lowercase(), a.resource_id).cmp(&(rb.name.to_lowercase(), b.resource_id))
    });
    Ok(rows)
}

/// Resends a batch row: the recipient's one email again, listing every
/// row of the batch still pending for them, with a new token (the old
/// link stops working) and optionally a new expiry for all of them. It is
/// one email: one from the per-minute budget and one towards the daily
/// limit; each row's `resend_count` goes up and each gets an
/// `invitation.resent` event. The caller needs full access to every asset
/// the link opens (403 `full_access_required` otherwise), since the new
/// link replaces the old one for all of them.
pub(crate) fn resend(
    c: &mut Conn,
    m: &mut Managed,
    (batch_id, requested): (Uuid, ResendExpiry),
    sending: &Sending,
    now: Now,
) -> Outcome<()> {
    require_verified(&m.user, SharingAction::AssetInvitation)?;
    let rows = recipient_rows(c, batch_id, &m.inv.email)?;
    let states: Vec<_> = rows.iter().map(|(i, _)| (i.status, i.expires_at)).collect();
    // The row in the path must itself be resendable.
    invitation::transition(m.inv.status, m.inv.expires_at, InvitationEvent::Resend, now)
        .map_err(transition_refused)?;
    let moving = invitation::batch_transition(&states, InvitationEvent::Resend, now)
        .map_err(transition_refused)?;
    let pending: Vec<&(Invitation, Resource)> = moving.iter().map(|&i| &rows[i]).collect();
    for (inv, _) in &pending {
        let full = match assets::get(c, inv.resource_id)? {
            Some(a) => judge(&m.user, &a, &assets::access_row(c, &a, m.user.id)?, now)
                .is_some_and(|l| asset_can(Some(l), AssetCapability::ManageInvitations)),
            None => false,
        };
        if !full {
            return Err(ApiError::forbidden(
                ProblemCode::FullAccessRequired,
                "This invitation's link also opens assets you do not have full access to; whoever manages all of them may resend it, or cancel this one and invite again.",
            ));
        }
    }
    let expires_at = invitation::resend_expiry(m.inv.expires_at, requested, now)
        .map_err(|e| ApiError::field("expires_at", e.to_string()))?;
    sending.budget.spend(m.user.id)?;
    sending.check_daily_limit(c, &m.user, now)?;
    let token = SecretToken::generate();
    batch::replace_token(c, batch_id, &m.inv.email, token.hash().as_str())?;
    for (inv, resource) in &pending {
        let row_hash = SecretToken::generate();
        if !invitations::resend(c, inv.id, row_hash.hash().as_str(), expires_at, now)? {
            return Err(conflict_now(c, inv.id, now)?);
        }
        let after =
            json!({"invitation_id": inv.id, "expires_at": expires_at, "batch_id": batch_id});
        let event = resource.event(&m.user, Action::InvitationResent, None, Some(after));
        audit::record(c, &event, now)?;
    }
    m.inv = invitations::get(c, m.inv.id)?.ok_or_else(ApiError::internal)?;
    let assets: Vec<Resource> = pending.iter().map(|(_, r)| r.clone()).collect();
    sending.mail_batch(c, &m.inv, &assets, &token, now)?;
    batch::record_mailing(c, (batch_id, &m.inv.email), m.user.id, pending.len(), now)?;
    Ok(())
}
