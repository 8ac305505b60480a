//! What the API answers about accounts and sessions.

use chrono::{DateTime, Utc};
use keyholder_store::users::User;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

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
pub struct AuthResponse {
    pub user: MeView,
    /// JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: u64,
}

/// A short acknowledgement.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusMessage {
    #[schema(example = "sent")]
    pub status: &'static str,
    pub detail: String,
}

crate::views::common::located! {
    // A new account is read back at /me with its access token.
    AuthResponse => |_v| "/api/v1/me".to_owned();
}
