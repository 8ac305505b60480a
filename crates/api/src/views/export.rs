//! What `GET /me/export` answers: everything stored about the caller.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::access::MyGrantView;
use crate::views::accounts::SessionView;
use crate::views::audit::AuditEventView;

/// My account's own fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportAccount {
    pub id: Uuid,
    pub email: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub username: String,
    pub display_name: String,
    pub is_root: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A change of address waiting for the new address to confirm it.
    pub pending_email_change: Option<ExportEmailChange>,
}

/// A requested change of address.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportEmailChange {
    pub new_email: String,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An invitation I sent or that was sent to my address.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportInvitation {
    pub id: Uuid,
    /// `estate` or `asset`.
    pub resource_type: String,
    pub resource_id: Uuid,
    pub email: String,
    /// The estate role or the asset permission offered.
    pub role: String,
    pub status: String,
    pub invited_by: Uuid,
    pub invited_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The bulk invitation it was sent in (`null` when sent alone).
    #[schema(required = true)]
    pub batch_id: Option<Uuid>,
}

/// A record or photo I added to an asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportAuthored {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A member of the household I head.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportHouseholdMember {
    pub user_id: Uuid,
    pub username: String,
    pub role: String,
    pub added_at: DateTime<Utc>,
}

/// Everything Keyholder stores about me, as one document. Each list holds
/// at most 10,000 entries, newest first; `truncated` names the lists that
/// had more.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "format": "keyholder-export/1",
    "exported_at": "2026-12-06T21:00:00Z",
    "account": {
        "id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "email": "ada@example.com",
        "email_verified_at": "2026-11-23T09:05:00Z", "username": "ada",
        "display_name": "Ada Lovelace", "is_root": false,
        "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
        "pending_email_change": null
    },
    "sessions": [], "access": [], "household_members": [], "invitations_sent": [],
    "invitations_received": [], "records_written": [], "photos_added": [], "files_uploaded": [],
    "audit_events": [], "truncated": []
}))]
pub struct MyDataExport {
    /// The document's format and version.
    pub format: &'static str,
    pub exported_at: DateTime<Utc>,
    pub account: ExportAccount,
    /// My sessions that can still be refreshed.
    pub sessions: Vec<SessionView>,
    /// Everything that gives me access, as `GET /me/access` lists it.
    pub access: Vec<MyGrantView>,
    /// The members of the household I head.
    pub household_members: Vec<ExportHouseholdMember>,
    pub invitations_sent: Vec<ExportInvitation>,
    pub invitations_received: Vec<ExportInvitation>,
    pub records_written: Vec<ExportAuthored>,
    pub photos_added: Vec<ExportAuthored>,
    /// The files I uploaded to assets (the bytes stay with the asset).
    pub files_uploaded: Vec<ExportAuthored>,
    /// The events I acted in, and those about my account.
    pub audit_events: Vec<AuditEventView>,
    /// The lists cut at 10,000 entries.
    pub truncated: Vec<String>,
}
