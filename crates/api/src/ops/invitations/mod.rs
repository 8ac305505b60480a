//! Invitations, written once for both kinds of resource. An estate
//! invitation offers an estate role; an asset invitation offers a permission
//! on one asset, optionally for a limited time. Everything else is shared:
//! sending (the invitee check, the rate limits, the hashed token, the email
//! and the audit event, in the caller's transaction), resending, cancelling,
//! the token side (preview, accept, accept-signup, decline), the invitee's
//! own list, and the sweeper that writes `expired`.
//!
//! What differs by kind is in [`estate`] (who manages, and the direct grant
//! to a registered user) and [`asset`] (who manages, the management table
//! and its stats); [`respond`] holds the invitee's side, which dispatches on
//! the invitation's own kind.

pub mod asset;
pub mod bulk;
pub mod estate;
pub mod respond;

use crate::problems::ProblemCode;
use chrono::{DateTime, Duration, Utc};
use keyholder_domain::account::SharingAction;
use keyholder_domain::invitation::{self, InvitationEvent, ResendExpiry, TransitionRefusal};
use keyholder_domain::token::SecretToken;
use keyholder_domain::values::{Email, Expiry, Message};
use keyholder_domain::{EstateRole, InvitationPermission, InvitationState};

use keyholder_store::audit::{self, Action};
use keyholder_store::invitations::{self, Invitation, NewInvitation, ResourceType};
use keyholder_store::outbox;
use keyholder_store::users::User;
use serde_json::{Value, json};
use uuid::Uuid;

use super::event;
use crate::auth::require_verified;
use crate::error::{ApiError, FieldErrors};
use crate::mail::invitation_templates;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::ratelimit::Budget;
use crate::state::AppState;
use crate::views::common::CursorQuery;

/// The resource an invitation opens, as views and emails name it.
#[derive(Clone)]
pub(crate) struct Resource {
    pub kind: ResourceType,
    pub id: Uuid,
    pub name: String,
    /// An asset's reference (a plate, a serial number).
    pub reference: Option<String>,
}

impl Resource {
    pub(crate) fn estate(e: &keyholder_store::estates::Estate) -> Self {
        Self { kind: ResourceType::Estate, id: e.id, name: e.name.clone(), reference: None }
    }

    pub(crate) fn asset(a: &keyholder_store::assets::Asset) -> Self {
        Self {
            kind: ResourceType::Asset,
            id: a.id,
            name: a.name.clone(),
            reference: a.reference.clone(),
        }
    }

    /// The resource of `inv` (named empty when it is gone).
    pub(crate) fn of(c: &mut Conn, inv: &Invitation) -> Outcome<Self> {
        let id = inv.resource_id;
        let found = match inv.resource_type {
            ResourceType::Estate => keyholder_store::estates::get(c, id)?.map(|e| Self::estate(&e)),
            ResourceType::Asset => keyholder_store::assets::get(c, id)?.map(|a| Self::asset(&a)),
        };
        Ok(found.unwrap_or(Self {
            kind: inv.resource_type,
            id,
            name: String::new(),
            reference: None,
        }))
    }

    /// How emails name it: "the estate Riverside", or "Van (AB-123)".
    fn mail_label(&self) -> String {
        match (self.kind, &self.reference) {
            (ResourceType::Estate, _) => format!("the estate {}", self.name),
            (ResourceType::Asset, Some(r)) => format!("{} ({r})", self.name),
            (ResourceType::Asset, None) => self.name.clone(),
        }
    }

    /// The unverified-account refusal names what was attempted.
    fn sharing_action(&self) -> SharingAction {
        match self.kind {
            ResourceType::Estate => SharingAction::EstateGrant,
            ResourceType::Asset => SharingAction::AssetInvitation,
        }
    }

    /// An audit event by `actor` on this resource.
    fn event(
        &self,
        actor: &User,
        action: Action,
        before: Option<Value>,
        after: Option<Value>,
    ) -> audit::NewAuditEvent<'static> {
        event(actor, action, self.kind.as_str(), self.id, before, after)
    }
}

/// An audit event on the resource `inv` opens, by its invitee (or by no
/// one: a token holder, the sweeper).
fn on_resource(
    inv: &Invitation,
    actor_id: Option<Uuid>,
    action: Action,
    before: Option<Value>,
    after: Option<Value>,
) -> audit::NewAuditEvent<'static> {
    audit::NewAuditEvent {
        actor_id,
        action,
        target_type: inv.resource_type.as_str(),
        target_id: inv.resource_id.to_string(),
        before,
        after,
    }
}

/// What an invitation offers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Offer {
    /// An estate role.
    Role(EstateRole),
    /// A permission on one asset, until an optional end.
    Permission(InvitationPermission, Option<DateTime<Utc>>),
}

impl Offer {
    fn as_str(self) -> &'static str {
        match self {
            Self::Role(r) => r.as_str(),
            Self::Permission(p, _) => p.as_str(),
        }
    }

    fn access_expires_at(self) -> Option<DateTime<Utc>> {
        match self {
            Self::Role(_) => None,
            Self::Permission(_, until) => until,
        }
    }

    /// What an invitation stored offers.
    pub(crate) fn of(inv: &Invitation) -> Outcome<Self> {
        match inv.resource_type {
            ResourceType::Estate => inv.role.parse().map(Self::Role),
            ResourceType::Asset => {
                inv.role.parse().map(|p| Self::Permission(p, inv.access_expires_at))
            }
        }
        .map_err(|_| ApiError::internal())
    }
}

/// An invitation's fields as the request gave them. `role` is the estate
/// role or the asset permission, in the field the kind names it.
pub struct Fields {
    pub email: String,
    pub role: String,
    pub message: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub access_expires_at: Option<DateTime<Utc>>,
}

/// The field that names what an invitation of `kind` offers.
fn offer_field(kind: ResourceType) -> &'static str {
    match kind {
        ResourceType::Estate => "role",
        ResourceType::Asset => "permission",
    }
}

impl Fields {
    pub fn new(
        email: String,
        role: String,
        message: Option<String>,
        expires_at: Option<DateTime<Utc>>,
        access_expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self { email, role, message, expires_at, access_expires_at }
    }
}

/// An invitation ready to send: every field valid.
pub(crate) struct Draft {
    pub email: Email,
    pub offer: Offer,
    message: Option<Message>,
    expires: Option<Expiry>,
}

/// The terms as a request gives them: the role or permission, the
/// message, the link's expiry and the access expiry.
pub(crate) type TermFields<'a> =
    (&'a str, Option<&'a str>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// What an invitation offers, checked: the offer, the message and the
/// link's expiry.
pub(crate) struct Terms {
    pub offer: Offer,
    message: Option<Message>,
    expires: Option<Expiry>,
}

impl Terms {
    /// Checks the offered role or permission, the message and both
    /// expiries, adding each bad field to `v`.
    pub(crate) fn check(
        v: &mut FieldErrors,
        kind: ResourceType,
        (role, message, expires_at, access_expires_at): TermFields<'_>,
        now: Now,
    ) -> Option<Self> {
        let offered = match kind {
            ResourceType::Estate => role.parse::<EstateRole>().map(Offer::Role),
            ResourceType::Asset => {
                role.parse::<InvitationPermission>().map(|p| Offer::Permission(p, None))
            }
        };
        let offer = offered.map_err(|e| v.add(offer_field(kind), e.to_string())).ok();
        let message = v.check("message", Message::parse_optional(message));
        let expires = v.check("expires_at", Expiry::parse_optional(expires_at, now));
        let until = match kind {
            ResourceType::Estate => Some(None),
            ResourceType::Asset => {
                v.check("access_expires_at", Expiry::parse_optional(access_expires_at, now))
            }
        };
        let (Some(offer), Some(message), Some(expires), Some(until)) =
            (offer, message, expires, until)
        else {
            return None;
        };
        let offer = match offer {
            Offer::Permission(p, _) => Offer::Permission(p, until.as_ref().map(Expiry::at)),
            role => role,
        };
        Some(Self { offer, message, expires })
    }

    pub(crate) fn message(&self) -> Option<&str> {
        self.message.as_ref().map(Message::as_str)
    }

    pub(crate) fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires.as_ref().map(Expiry::at)
    }
}

impl Fields {
    /// Checks every field at once: one 422 names each bad one.
    pub(crate) fn check(self, kind: ResourceType, now: Now) -> Outcome<Draft> {
        let mut v = FieldErrors::new();
        let email = v.check("email", Email::parse(&self.email));
        let terms = Terms::check(
            &mut v,
            kind,
            (&self.role, self.message.as_deref(), self.expires_at, self.access_expires_at),
            now,
        );
        let (Some(email), Some(Terms { offer, message, expires })) = (email, terms) else {
            return Err(v.into_error());
        };
        Ok(Draft { email, offer, message, expires })
    }
}

/// What sending an email needs beyond the database: the request's share of
/// the per-user budget, the daily email limit and the links' base address.
pub struct Sending {
    budget: Budget,
    daily_limit: u32,
    app_base: String,
}

impl Sending {
    pub fn new(state: &AppState, budget: Budget) -> Self {
        Self {
            budget,
            daily_limit: state.config.invite_daily_limit,
            app_base: state.config.app_base().to_owned(),
        }
    }

    /// The checks before anything is granted or sent: not to myself (422
    /// `self_invitation`), and within my per-minute budget (429).
    fn admit(&self, sender: &User, to: &Email) -> Outcome<()> {
        let me = Email::parse(&sender.email).map_err(|_| ApiError::internal())?;
        invitation::check_invitee(&me, to).map_err(ApiError::refused)?;
        self.budget.spend(sender.id)
    }

    /// 429 `daily_invitation_limit` once `sender` mailed the day's share.
    fn check_daily_limit(&self, c: &mut Conn, sender: &User, now: Now) -> Outcome<()> {
        self.check_daily_room(c, sender, 1, now)
    }

    /// 429 `daily_invitation_limit` unless `sender` may mail `emails` more
    /// today: all of them, or none.
    fn check_daily_room(
        &self,
        c: &mut Conn,
        sender: &User,
        emails: usize,
        now: Now,
    ) -> Outcome<()> {
        let limit = i64::from(self.daily_limit);
        if limit <= 0 {
            return Ok(());
        }
        let more = i64::try_from(emails).unwrap_or(i64::MAX);
        let sent = invitations::sent_since(c, sender.id, now - Duration::hours(24))?;
        if sent.saturating_add(more) <= limit {
            return Ok(());
        }
        let detail = if emails > 1 {
            format!(
                "You may send {limit} invitation emails per 24 hours and have sent {sent}; these {emails} do not fit: try again later, or send fewer."
            )
        } else {
            format!(
                "You have sent {limit} invitation emails in the last 24 hours; try again later."
            )
        };
        let mut e = ApiError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::DailyInvitationLimit,
            detail,
        );
        e.retry_after = Some(3600);
        Err(e)
    }

    /// Queues the invitation email with the link carrying `token`.
    fn mail(
        &self,
        c: &mut Conn,
        inv: &Invitation,
        resource: &Resource,
        token: &SecretToken,
        now: Now,
    ) -> Outcome<()> {
        let role = match resource.kind {
            ResourceType::Estate => inv.role.clone(),
            ResourceType::Asset => format!("{} access", inv.role),
        };
        let mail = invitation_templates::invitation(&invitation_templates::Offer {
            app_base: &self.app_base,
            to: &inv.email,
            inviter: &inv.inviter_display_name,
            resource: &resource.mail_label(),
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

/// Creates the pending invitation, queues its email and records it, in the
/// caller's transaction (409 `invitation_pending` when one to this email
/// for this resource is pending already).
fn issue(
    c: &mut Conn,
    sender: &User,
    resource: &Resource,
    draft: &Draft,
    sending: &Sending,
    now: Now,
) -> Outcome<Invitation> {
    sending.check_daily_limit(c, sender, now)?;
    let token = SecretToken::generate();
    let created = invitations::insert(
        c,
        &NewInvitation {
            resource_type: resource.kind,
            resource_id: resource.id,
            email: draft.email.as_str(),
            role: draft.offer.as_str(),
            message: draft.message.as_ref().map(Message::as_str),
            token_hash: token.hash().as_str(),
            invited_by: sender.id,
            expires_at: draft.expires.as_ref().map(Expiry::at),
            access_expires_at: draft.offer.access_expires_at(),
        },
        now,
    )?;
    let Ok(inv) = created else {
        return Err(ApiError::conflict(
            ProblemCode::InvitationPending,
            format!(
                "A pending invitation to this email for this {} already exists; resend or cancel it.",
                resource.kind.as_str()
            ),
        ));
    };
    sending.mail(c, &inv, resource, &token, now)?;
    let mut after =
        json!({"invitation_id": inv.id, "email": inv.email, "expires_at": inv.expires_at});
    after[offer_field(resource.kind)] = json!(inv.role);
    if resource.kind == ResourceType::Asset {
        after["access_expires_at"] = json!(inv.access_expires_at);
    }
    audit::record(c, &resource.event(sender, Action::InvitationCreated, None, Some(after)), now)?;
    Ok(inv)
}

/// An invitation its sender side may manage, with the caller and the
/// resource it opens.
pub(crate) struct Managed {
    pub user: User,
    pub inv: Invitation,
    pub resource: Resource,
}

/// Resend a pending invitation: a new token (the old link stops working), a
/// new email, optionally a new expiry.
pub(crate) fn resend(
    c: &mut Conn,
    m: &mut Managed,
    requested: ResendExpiry,
    sending: &Sending,
    now: Now,
) -> Outcome<()> {
    require_verified(&m.user, m.resource.sharing_action())?;
    invitation::transition(m.inv.status, m.inv.expires_at, InvitationEvent::Resend, now)
        .map_err(transition_refused)?;
    let expires_at = invitation::resend_expiry(m.inv.expires_at, requested, now)
        .map_err(|e| ApiError::field("expires_at", e.to_string()))?;
    sending.budget.spend(m.user.id)?;
    sending.check_daily_limit(c, &m.user, now)?;
    let token = SecretToken::generate();
    if !invitations::resend(c, m.inv.id, token.hash().as_str(), expires_at, now)? {
        return Err(conflict_now(c, m.inv.id, now)?);
    }
    m.inv = invitations::get(c, m.inv.id)?.ok_or_else(ApiError::internal)?;
    sending.mail(c, &m.inv, &m.resource, &token, now)?;
    let after = json!({"invitation_id": m.inv.id, "expires_at": m.inv.expires_at});
    let event = m.resource.event(&m.user, Action::InvitationResent, None, Some(after));
    audit::record(c, &event, now)?;
    Ok(())
}

/// Cancel a pending invitation.
pub(crate) fn cancel(c: &mut Conn, m: &mut Managed, now: Now) -> Outcome<()> {
    invitation::transition(m.inv.status, m.inv.expires_at, InvitationEvent::Cancel, now)
        .map_err(transition_refused)?;
    if !invitations::transition(c, m.inv.id, InvitationState::Cancelled, None, now)? {
        return Err(conflict_now(c, m.inv.id, now)?);
    }
    let (before, after) = moved(&m.inv, InvitationState::Cancelled);
    let event = m.resource.event(&m.user, Action::InvitationCancelled, before, after);
    audit::record(c, &event, now)?;
    m.inv = invitations::get(c, m.inv.id)?.ok_or_else(ApiError::internal)?;
    Ok(())
}

/// An audit event's before and after for an invitation leaving `pending`.
fn moved(inv: &Invitation, to: InvitationState) -> (Option<Value>, Option<Value>) {
    (
        Some(json!({"invitation_id": inv.id, "status": "pending"})),
        Some(json!({"invitation_id": inv.id, "status": to.as_str()})),
    )
}

/// A refused transition, naming the invitation's current status.
pub(crate) fn transition_refused(r: TransitionRefusal) -> ApiError {
    let mut e = ApiError::refused(r);
    if let Some(state) = r.current_state() {
        e = e.with_extra("invitation_status", json!(state.as_str()));
    }
    e
}

/// The 409 for an invitation another request moved first.
fn conflict_now(c: &mut Conn, id: Uuid, now: Now) -> Outcome<ApiError> {
    let current = invitations::get(c, id)?
        .map(|i| invitation::effective_state(i.status, i.expires_at, now))
        .unwrap_or(InvitationState::Cancelled);
    Ok(transition_refused(TransitionRefusal::Final(current)))
}

/// The window of a newest-first invitation list (422 `cursor` for a cursor
/// that is not one of them).
fn newest_first_window(q: &CursorQuery) -> Outcome<keyholder_store::paging::Window<DateTime<Utc>>> {
    let after =
        q.after()?.map(|cursor| Ok::<_, ApiError>((cursor.instant()?, cursor.id))).transpose()?;
    Ok(keyholder_store::paging::Window { limit: q.per_page(), offset: q.offset(), after })
}
