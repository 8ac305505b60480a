//! What the administrators' console answers.

use chrono::{DateTime, Utc};
use keyholder_store::users::User;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::access::MyGrantView;

/// An account as root sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11",
    "email": "ada@example.com",
    "email_verified": true,
    "username": "ada",
    "display_name": "Ada Lovelace",
    "is_root": false,
    "status": "active",
    "created_at": "2026-11-23T09:00:00Z",
    "disabled_at": null,
    "deleted_at": null
}))]
pub struct AdminUserView {
    pub id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub username: String,
    pub display_name: String,
    pub is_root: bool,
    /// `active`, `disabled` (cannot sign in) or `deleted` (a tombstone).
    #[schema(value_type = crate::views::wire::AccountState)]
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl From<&User> for AdminUserView {
    fn from(u: &User) -> Self {
        let status = if u.deleted_at.is_some() {
            "deleted"
        } else if u.disabled_at.is_some() {
            "disabled"
        } else {
            "active"
        };
        Self {
            id: u.id,
            email: u.email.clone(),
            email_verified: u.email_verified(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            is_root: u.is_root,
            status,
            created_at: u.created_at,
            disabled_at: u.disabled_at,
            deleted_at: u.deleted_at,
        }
    }
}

/// One account with what it holds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user": {
        "id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "email": "ada@example.com",
        "email_verified": true, "username": "ada", "display_name": "Ada Lovelace",
        "is_root": false, "status": "active", "created_at": "2026-11-23T09:00:00Z",
        "disabled_at": null, "deleted_at": null
    },
    "access": [{
        "kind": "estate_role",
        "resource": {"type": "estate", "id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90", "name": "Riverside"},
        "estate": null, "head": null, "role": "owner",
        "since": "2026-11-23T09:10:00Z", "until": null, "active": true
    }],
    "access_complete": true,
    "sessions": 2
}))]
pub struct AdminUserDetail {
    pub user: AdminUserView,
    /// Everything that gives the account access (its estate roles, site
    /// overrides, collaborations, households and shares), newest first, up
    /// to 500.
    pub access: Vec<MyGrantView>,
    /// Whether `access` is every grant (false: there are more than 500).
    pub access_complete: bool,
    /// How many sessions of the account can still be refreshed (up to 1,001).
    pub sessions: i64,
}
