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
    "expires_in": 3600
}))]
pub struct AuthResponse {
    pub user: MeView,
    /// JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    #[schema(value_type = TokenType)]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
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
