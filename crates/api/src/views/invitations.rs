//! Invitations as their senders see them (one view per resource kind), as
//! their invitees see them (the offer), and the outcomes of sending and
//! answering one.

use chrono::{DateTime, Utc};
use keyholder_domain::invitation;
use keyholder_store::invitations::Invitation;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ops::invitations::Resource;
use crate::views::common::UserSummary;
use crate::views::estates::MemberView;
use crate::views::wire::{
    AssetPermission, EstateRole, InvitationAnswer, InvitationResourceType, InvitationStatus,
    InviteOutcomeKind,
};

/// The estate or asset an invitation opens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90", "name": "Hartwell Estate"}))]
pub struct ResourceRef {
    pub id: Uuid,
    pub name: String,
}

impl ResourceRef {
    pub(crate) fn of(resource: &Resource) -> Self {
        Self { id: resource.id, name: resource.name.clone() }
    }
}

/// Who sent an invitation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "username": "ada", "display_name": "Ada Lovelace"}))]
pub struct Inviter {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
}

impl Inviter {
    fn of(inv: &Invitation) -> Self {
        Self {
            id: inv.invited_by,
            username: inv.inviter_username.clone(),
            display_name: inv.inviter_display_name.clone(),
        }
    }
}

/// The first 80 characters of a message.
fn preview(text: Option<&String>) -> Option<String> {
    text.map(|m| {
        let mut p: String = m.chars().take(80).collect();
        if m.chars().count() > 80 {
            p.push('…');
        }
        p
    })
}

/// An invitation's status as read at `now` (pending past its expiry reads
/// as expired).
fn status(inv: &Invitation, now: DateTime<Utc>) -> String {
    invitation::effective_state(inv.status, inv.expires_at, now).as_str().to_owned()
}

/// An invitation as its senders see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "b7e2c9d4-1a3f-4e6b-8c5d-9f0a1b2c3d4e",
    "estate": {"id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90", "name": "Hartwell Estate"},
    "email": "sam@example.com",
    "role": "editor",
    "message": "Welcome to the Riverside team",
    "message_preview": "Welcome to the Riverside team",
    "status": "pending",
    "invited_by": {"id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "username": "ada", "display_name": "Ada Lovelace"},
    "invited_at": "2026-03-01T09:30:00Z",
    "expires_at": "2026-03-15T09:30:00Z",
    "last_sent_at": "2026-03-01T09:30:00Z",
    "resend_count": 0,
    "responded_at": null
}))]
pub struct EstateInvitationView {
    pub id: Uuid,
    pub estate: ResourceRef,
    pub email: String,
    #[schema(value_type = EstateRole)]
    pub role: String,
    pub message: Option<String>,
    /// The first 80 characters of the message.
    pub message_preview: Option<String>,
    /// A pending invitation past its expiry reads as expired.
    #[schema(value_type = InvitationStatus)]
    pub status: String,
    pub invited_by: Inviter,
    pub invited_at: DateTime<Utc>,
    /// Null: never.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_sent_at: DateTime<Utc>,
    #[schema(minimum = 0)]
    pub resend_count: i32,
    pub responded_at: Option<DateTime<Utc>>,
}

impl EstateInvitationView {
    pub(crate) fn new(inv: &Invitation, estate: &Resource, now: DateTime<Utc>) -> Self {
        Self {
            id: inv.id,
            estate: ResourceRef::of(estate),
            email: inv.email.clone(),
            role: inv.role.clone(),
            message: inv.message.clone(),
            message_preview: preview(inv.message.as_ref()),
            status: status(inv, now),
            invited_by: Inviter::of(inv),
            invited_at: inv.invited_at,
            expires_at: inv.expires_at,
            last_sent_at: inv.last_sent_at,
            resend_count: inv.resend_count,
            responded_at: inv.responded_at,
        }
    }
}

/// The asset an invitation opens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "c41d8e2f-6a7b-4c9d-8e1f-0a2b3c4d5e6f", "name": "Ford Transit", "reference": "VAN-07"}))]
pub struct AssetRef {
    pub id: Uuid,
    pub name: String,
    pub reference: Option<String>,
}

impl AssetRef {
    /// The asset an invitation opens, as its senders see it named.
    pub(crate) fn of(asset: &Resource) -> Self {
        Self { id: asset.id, name: asset.name.clone(), reference: asset.reference.clone() }
    }
}

/// A row of the invitation table (and the details).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "e5a1b2c3-d4e5-4f60-8a7b-1c2d3e4f5a6b",
    "asset": {"id": "c41d8e2f-6a7b-4c9d-8e1f-0a2b3c4d5e6f", "name": "Ford Transit", "reference": "VAN-07"},
    "email": "shop@example.com",
    "message": "Specs for the brake job",
    "message_preview": "Specs for the brake job",
    "permission": "view",
    "status": "pending",
    "invited_by": {"id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "username": "ada", "display_name": "Ada Lovelace"},
    "invited_at": "2026-03-01T09:30:00Z",
    "expires_at": "2026-03-15T09:30:00Z",
    "access_expires_at": null,
    "last_sent_at": "2026-03-01T09:30:00Z",
    "resend_count": 0,
    "responded_at": null,
    "batch_id": null
}))]
pub struct AssetInvitationView {
    pub id: Uuid,
    pub asset: AssetRef,
    pub email: String,
    pub message: Option<String>,
    /// The first 80 characters of the message.
    pub message_preview: Option<String>,
    #[schema(value_type = AssetPermission)]
    pub permission: String,
    /// A pending invitation past its expiry reads as expired.
    #[schema(value_type = InvitationStatus)]
    pub status: String,
    pub invited_by: Inviter,
    pub invited_at: DateTime<Utc>,
    /// When the link stops working; null: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the granted access ends; null: never.
    pub access_expires_at: Option<DateTime<Utc>>,
    pub last_sent_at: DateTime<Utc>,
    #[schema(minimum = 0)]
    pub resend_count: i32,
    pub responded_at: Option<DateTime<Utc>>,
    /// The bulk invitation this row was sent in (`POST
    /// /asset-invitations/bulk`); null for one sent alone.
    pub batch_id: Option<Uuid>,
}

impl AssetInvitationView {
    pub(crate) fn new(inv: &Invitation, asset: AssetRef, now: DateTime<Utc>) -> Self {
        Self {
            id: inv.id,
            asset,
            email: inv.email.clone(),
            message: inv.message.clone(),
            message_preview: preview(inv.message.as_ref()),
            permission: inv.role.clone(),
            status: status(inv, now),
            invited_by: Inviter::of(inv),
            invited_at: inv.invited_at,
            expires_at: inv.expires_at,
            access_expires_at: inv.access_expires_at,
            last_sent_at: inv.last_sent_at,
            resend_count: inv.resend_count,
            responded_at: inv.responded_at,
            batch_id: inv.batch_id,
        }
    }
}

/// The answer to a bulk invitation: its id, how many recipients were
/// emailed, and every invitation row it created (each email with each
/// asset, in the order the request named them).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "batch_id": "5b0e9c2d-7f3a-4d18-9b6e-2c4a8f1e0d37",
    "recipients": 1,
    "invitations": [{
        "id": "e5a1b2c3-d4e5-4f60-8a7b-1c2d3e4f5a6b",
        "asset": {"id": "c41d8e2f-6a7b-4c9d-8e1f-0a2b3c4d5e6f", "name": "Ford Transit", "reference": "VAN-07"},
        "email": "fleet@partner.example",
        "message": "Our vans for the season",
        "message_preview": "Our vans for the season",
        "permission": "view",
        "status": "pending",
        "invited_by": {"id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "username": "ada", "display_name": "Ada Lovelace"},
        "invited_at": "2026-03-01T09:30:00Z",
        "expires_at": "2026-03-15T09:30:00Z",
        "access_expires_at": null,
        "last_sent_at": "2026-03-01T09:30:00Z",
        "resend_count": 0,
        "responded_at": null,
        "batch_id": "5b0e9c2d-7f3a-4d18-9b6e-2c4a8f1e0d37"
    }]
}))]
pub struct BulkInvitationView {
    pub batch_id: Uuid,
    /// How many emails were sent: one per recipient, listing every asset.
    #[schema(minimum = 1, maximum = 50)]
    pub recipients: usize,
    pub invitations: Vec<AssetInvitationView>,
}

/// One asset a bulk invitation's token offers, with its own invitation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"invitation_id": "e5a1b2c3-d4e5-4f60-8a7b-1c2d3e4f5a6b", "asset": {"id": "c41d8e2f-6a7b-4c9d-8e1f-0a2b3c4d5e6f", "name": "Ford Transit", "reference": "VAN-07"}, "status": "pending"}))]
pub struct BatchOfferItem {
    pub invitation_id: Uuid,
    pub asset: AssetRef,
    /// This row's status: only the pending ones are accepted or declined
    /// with the token.
    #[schema(value_type = InvitationStatus)]
    pub status: String,
}

impl BatchOfferItem {
    pub(crate) fn new(inv: &Invitation, asset: &Resource, now: DateTime<Utc>) -> Self {
        Self { invitation_id: inv.id, asset: AssetRef::of(asset), status: status(inv, now) }
    }
}

/// One asset a bulk invitation's token answered, with what its answer left.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"invitation_id": "e5a1b2c3-d4e5-4f60-8a7b-1c2d3e4f5a6b", "resource": {"id": "c41d8e2f-6a7b-4c9d-8e1f-0a2b3c4d5e6f", "name": "Ford Transit"}, "role": "view"}))]
pub struct BatchAnswerItem {
    pub invitation_id: Uuid,
    pub resource: ResourceRef,
    /// Accepted: the permission now held on the asset (the higher of the
    /// offered one and any held before); declined: null.
    #[schema(schema_with = super::wire::granted_role_schema)]
    pub role: Option<String>,
}

/// What an invitation offers, as its invitee sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "b7e2c9d4-1a3f-4e6b-8c5d-9f0a1b2c3d4e",
    "resource_type": "estate",
    "resource": {"id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90", "name": "Hartwell Estate"},
    "email": "sam@example.com",
    "role": "editor",
    "message": "Welcome to the Riverside team",
    "invited_by": {"id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "username": "ada", "display_name": "Ada Lovelace"},
    "invited_at": "2026-03-01T09:30:00Z",
    "expires_at": "2026-03-15T09:30:00Z",
    "status": "pending",
    "batch_id": null,
    "assets": null
}))]
pub struct InvitationOffer {
    pub id: Uuid,
    #[schema(value_type = InvitationResourceType)]
    pub resource_type: &'static str,
    pub resource: ResourceRef,
    /// The invited email.
    pub email: String,
    #[schema(schema_with = super::wire::offered_role_schema)]
    pub role: String,
    pub message: Option<String>,
    pub invited_by: Inviter,
    pub invited_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(value_type = InvitationStatus)]
    pub status: String,
    /// The bulk invitation this one belongs to; null for one sent alone.
    pub batch_id: Option<Uuid>,
    /// Previewing a bulk invitation's token: every asset of the batch
    /// offered to this email, each with its invitation and status (the
    /// fields above are those of the first one still pending, else the
    /// first). Null elsewhere.
    pub assets: Option<Vec<BatchOfferItem>>,
}

impl InvitationOffer {
    pub(crate) fn new(inv: &Invitation, resource: &Resource, now: DateTime<Utc>) -> Self {
        Self {
            id: inv.id,
            resource_type: inv.resource_type.as_str(),
            resource: ResourceRef::of(resource),
            email: inv.email.clone(),
            role: inv.role.clone(),
            message: inv.message.clone(),
            invited_by: Inviter::of(inv),
            invited_at: inv.invited_at,
            expires_at: inv.expires_at,
            status: status(inv, now),
            batch_id: inv.batch_id,
            assets: None,
        }
    }
}

/// The answer to an estate invitation: granted at once to a registered
/// user (201), or a pending invitation emailed to anyone else (202).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "outcome": "invited",
    "member": null,
    "invitation": {
        "id": "b7e2c9d4-1a3f-4e6b-8c5d-9f0a1b2c3d4e",
        "estate": {"id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90", "name": "Hartwell Estate"},
        "email": "sam@example.com",
        "role": "editor",
        "message": "Welcome to the Riverside team",
        "message_preview": "Welcome to the Riverside team",
        "status": "pending",
        "invited_by": {"id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "username": "ada", "display_name": "Ada Lovelace"},
        "invited_at": "2026-03-01T09:30:00Z",
        "expires_at": null,
        "last_sent_at": "2026-03-01T09:30:00Z",
        "resend_count": 0,
        "responded_at": null
    }
}))]
pub struct InviteOutcome {
    #[schema(value_type = InviteOutcomeKind)]
    pub outcome: &'static str,
    pub member: Option<MemberView>,
    pub invitation: Option<EstateInvitationView>,
}

/// The result of accepting or declining.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "accepted",
    "resource_type": "estate",
    "resource": {"id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90", "name": "Hartwell Estate"},
    "role": "editor",
    "batch_id": null,
    "assets": null
}))]
pub struct InvitationResult {
    #[schema(value_type = InvitationAnswer)]
    pub status: &'static str,
    #[schema(value_type = InvitationResourceType)]
    pub resource_type: &'static str,
    pub resource: ResourceRef,
    #[schema(schema_with = super::wire::granted_role_schema)]
    pub role: Option<String>,
    /// The bulk invitation the answer belongs to; null for one sent alone.
    pub batch_id: Option<Uuid>,
    /// Answering with a bulk invitation's token: every asset it answered
    /// (the recipient's rows that were still pending; `resource` and
    /// `role` are the first one's). Null elsewhere.
    pub assets: Option<Vec<BatchAnswerItem>>,
}

/// The user a search found.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"user": {"id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "username": "sam", "display_name": "Sam Okafor", "email": "sam@example.com"}}))]
pub struct UserSearchResult {
    pub user: UserSummary,
}

/// The six stats cards.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"total": 12, "pending": 3, "accepted": 5, "declined": 1, "expired": 2, "cancelled": 1}))]
pub struct StatsView {
    #[schema(example = 12)]
    pub total: i64,
    #[schema(example = 3)]
    pub pending: i64,
    #[schema(example = 5)]
    pub accepted: i64,
    #[schema(example = 1)]
    pub declined: i64,
    #[schema(example = 2)]
    pub expired: i64,
    #[schema(example = 1)]
    pub cancelled: i64,
}

impl From<keyholder_store::invitations::Stats> for StatsView {
    fn from(s: keyholder_store::invitations::Stats) -> Self {
        Self {
            total: s.total,
            pending: s.pending,
            accepted: s.accepted,
            declined: s.declined,
            expired: s.expired,
            cancelled: s.cancelled,
        }
    }
}

crate::views::common::located! {
    AssetInvitationView => |v| format!("/api/v1/asset-invitations/{}", v.id);
    BulkInvitationView => |v| format!("/api/v1/asset-invitations?batch_id={}", v.batch_id);
}
