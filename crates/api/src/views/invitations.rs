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

/// The schema of an asset permission (`view`, `edit` or `manage`).
pub fn permission_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    super::string_values(&["view", "edit", "manage"])
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceRef {
    pub id: Uuid,
    pub name: String,
}

impl ResourceRef {
    pub(crate) fn of(resource: &Resource) -> Self {
        Self { id: resource.id, name: resource.name.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
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
pub struct EstateInvitationView {
    pub id: Uuid,
    pub estate: ResourceRef,
    pub email: String,
    #[schema(schema_with = crate::views::common::estate_role_schema)]
    pub role: String,
    pub message: Option<String>,
    /// The first 80 characters of the message.
    pub message_preview: Option<String>,
    /// `pending`, `accepted`, `declined`, `expired` or `cancelled` (a pending
    /// invitation past its expiry reads as expired).
    #[schema(example = "pending")]
    pub status: String,
    pub invited_by: Inviter,
    pub invited_at: DateTime<Utc>,
    /// Null: never.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_sent_at: DateTime<Utc>,
    #[schema(example = 0)]
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

#[derive(Debug, Serialize, ToSchema)]
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
pub struct AssetInvitationView {
    pub id: Uuid,
    pub asset: AssetRef,
    #[schema(example = "shop@example.com")]
    pub email: String,
    #[schema(example = "Specs for the brake job")]
    pub message: Option<String>,
    /// The first 80 characters of the message.
    #[schema(example = "Specs for the brake job")]
    pub message_preview: Option<String>,
    #[schema(schema_with = permission_schema)]
    pub permission: String,
    /// `pending`, `accepted`, `declined`, `expired` or `cancelled`; a pending
    /// invitation past its expiry reads as expired.
    #[schema(example = "pending")]
    pub status: String,
    pub invited_by: Inviter,
    pub invited_at: DateTime<Utc>,
    /// When the link stops working; null: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the granted access ends; null: never.
    pub access_expires_at: Option<DateTime<Utc>>,
    pub last_sent_at: DateTime<Utc>,
    pub resend_count: i32,
    pub responded_at: Option<DateTime<Utc>>,
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
        }
    }
}

/// What an invitation offers, as its invitee sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOffer {
    pub id: Uuid,
    /// `estate` or `asset`.
    #[schema(example = "estate")]
    pub resource_type: &'static str,
    pub resource: ResourceRef,
    /// The invited email.
    pub email: String,
    /// The estate role or asset permission offered.
    #[schema(example = "editor")]
    pub role: String,
    pub message: Option<String>,
    pub invited_by: Inviter,
    pub invited_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(example = "pending")]
    pub status: String,
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
        }
    }
}

/// The answer to an estate invitation: granted at once to a registered
/// user (201), or a pending invitation emailed to anyone else (202).
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteOutcome {
    /// `granted` or `invited`.
    #[schema(example = "invited")]
    pub outcome: &'static str,
    pub member: Option<MemberView>,
    pub invitation: Option<EstateInvitationView>,
}

/// The result of accepting or declining.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResult {
    /// `accepted` or `declined`.
    #[schema(example = "accepted")]
    pub status: &'static str,
    #[schema(example = "estate")]
    pub resource_type: &'static str,
    pub resource: ResourceRef,
    /// The role or permission I now hold (accepted only).
    pub role: Option<String>,
}

/// The user a search found.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSearchResult {
    pub user: UserSummary,
}

/// The six stats cards.
#[derive(Debug, Serialize, ToSchema)]
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

crate::views::common::located! {
    AssetInvitationView => |v| format!("/api/v1/asset-invitations/{}", v.id);
}
