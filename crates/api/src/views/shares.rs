//! What the API answers about shares: the grants accepted asset invitations
//! leave.

use chrono::{DateTime, Utc};
use keyholder_store::shares::Share;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::common::{UserSummary, person};
use crate::views::estates::wire_enum;

wire_enum! {
    /// The permission an asset invitation offers and the share it leaves
    /// carries, lowest first.
    #[schema(example = "edit")]
    AssetPermission = InvitationPermission { View, Edit, Manage }
}

/// A share: an accepted invitation's grant.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"asset_id": "7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47", "user": {"id": "e1b6d4a9-3c7f-4a2e-9d58-6f0b2c8e7a13", "username": "sam.patel", "display_name": "Sam Patel", "email": "sam@example.com"}, "permission": "edit", "access_expires_at": "2026-12-31T23:59:59Z", "active": true, "granted_at": "2026-03-02T10:15:00Z", "invitation_id": "b7e3a1c9-2d5f-4a8e-9c64-3f1d7b0e5a28"}))]
pub struct ShareView {
    pub asset_id: Uuid,
    pub user: UserSummary,
    pub permission: AssetPermission,
    /// Null: never.
    #[schema(required = true)]
    pub access_expires_at: Option<DateTime<Utc>>,
    /// Whether it still gives access (false once its access expiry passed).
    pub active: bool,
    pub granted_at: DateTime<Utc>,
    #[schema(required = true)]
    pub invitation_id: Option<Uuid>,
}

impl ShareView {
    pub fn new(s: &Share, now: DateTime<Utc>) -> Self {
        Self {
            asset_id: s.asset_id,
            user: person(&s.user, true),
            permission: s.permission.into(),
            access_expires_at: s.access_expires_at,
            active: !keyholder_domain::values::is_past(s.access_expires_at, now),
            granted_at: s.granted_at,
            invitation_id: s.invitation_id,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn permissions_keep_the_domains_names() {
        for v in keyholder_domain::InvitationPermission::ALL {
            let wire = serde_json::json!(super::AssetPermission::from(v));
            assert_eq!(wire, serde_json::json!(v.as_str()));
        }
    }
}
