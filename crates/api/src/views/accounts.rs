//! What the API answers about accounts and sessions.

use chrono::{DateTime, Utc};
use keyholder_store::users::User;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::wire::{AcknowledgementStatus, TokenType};

/// The current user.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11",
    "email": "ada@example.com",
    "email_verified": false,
    "username": "ada",
    "display_name": "Ada Lovelace",
    "is_root": false,
    "created_at": "2026-11-23T09:00:00Z"
}))]
pub struct MeView {
    pub id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub username: String,
    pub display_name: String,
    pub is_root: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for MeView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            email_verified: u.email_verified(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            is_root: u.is_root,
            created_at: u.created_at,
        }
    }
}

/// A session: the user and an access token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user": {
        "id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11",
        "email": "ada@example.com",
        "email_verified": true,
        "username": "ada",
        "display_name": "Ada Lovelace",
        "is_root": false,
        "created_at": "2026-11-23T09:00:00Z"
    },
    "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4ZDNjMWY5ZSJ9.5mQ0b3Vx3nY2cTq1Zr8kP0aWmXv7sLh4dJc9eFg2HiE",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "Qm9yZWFsaXMgc2FpbGVkIG5vcnRoIGF0IGRhd24",
    "refresh_expires_in": 2592000,
    "session_id": "5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
}))]
pub struct AuthResponse {
    pub user: MeView,
    /// JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    #[schema(value_type = TokenType)]
    pub token_type: &'static str,
    /// Seconds until the access token expires (then refresh it).
    pub expires_in: u64,
    /// Send it to `POST /auth/refresh` for the next access token. It works
    /// once: the answer carries its successor, and presenting a used one
    /// again ends the session.
    pub refresh_token: String,
    /// Seconds the session may go unrefreshed before it ends.
    pub refresh_expires_in: u64,
    /// This session, as `GET /me/sessions` lists it.
    pub session_id: Uuid,
}

/// One of my sessions (a sign-in on some device).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
    "created_at": "2026-12-01T09:30:00Z",
    "last_used_at": "2026-12-06T08:15:00Z",
    "expires_at": "2027-01-05T08:15:00Z",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    "address": "203.0.113.7",
    "current": true
}))]
pub struct SessionView {
    pub id: Uuid,
    /// When I signed in.
    pub created_at: DateTime<Utc>,
    /// The sign-in or the last refresh of its access token (access tokens
    /// are refreshed every few minutes while the session is in use).
    pub last_used_at: DateTime<Utc>,
    /// When it ends unless refreshed before.
    pub expires_at: DateTime<Utc>,
    /// The `User-Agent` the client sent at sign-in, if any.
    pub user_agent: Option<String>,
    /// The client address at sign-in, if known.
    pub address: Option<String>,
    /// Whether this is the session of the token asking.
    pub current: bool,
}

impl SessionView {
    pub fn new(s: keyholder_store::sessions::Session, current: Uuid) -> Self {
        Self {
            current: s.id == current,
            id: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            user_agent: s.user_agent,
            address: s.address,
        }
    }
}

/// How many sessions a request ended.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"revoked": 2}))]
pub struct RevokedSessions {
    pub revoked: usize,
}

/// A short acknowledgement.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "sent", "detail": "A new verification link is on its way."}))]
pub struct StatusMessage {
    #[schema(value_type = AcknowledgementStatus)]
    pub status: &'static str,
    pub detail: String,
}

crate::views::common::located! {
    // A new account is read back at /me with its access token.
    AuthResponse => |_v| "/api/v1/me".to_owned();
}

/// Which emails I get. The four kinds below can be turned off; security
/// emails (password changed, email address changed, account deleted, links
/// I asked for) always go out.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_granted": true,
    "access_reduced": true,
    "access_expiring": true,
    "invitation_expiring": false,
    "security": true
}))]
pub struct NotificationSettingsView {
    /// Someone gave me access without an invitation: an estate role, a
    /// collaboration, a place in their household.
    pub access_granted: bool,
    /// A share of mine was revoked, or a role or permission of mine lowered.
    pub access_reduced: bool,
    /// Three days before a share of mine ends.
    pub access_expiring: bool,
    /// Three days before an invitation I sent expires unanswered.
    pub invitation_expiring: bool,
    /// Security emails: always on.
    pub security: bool,
}

impl From<keyholder_store::notifications::Settings> for NotificationSettingsView {
    fn from(s: keyholder_store::notifications::Settings) -> Self {
        Self {
            access_granted: s.access_granted,
            access_reduced: s.access_reduced,
            access_expiring: s.access_expiring,
            invitation_expiring: s.invitation_expiring,
            security: true,
        }
    }
}
