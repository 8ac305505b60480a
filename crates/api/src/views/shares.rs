//! What the API answers about shares: the grants accepted asset invitations
//! leave.

use chrono::{DateTime, Utc};
use keyholder_domain::InvitationPermission;
use keyholder_store::shares::Share;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::common::{UserSummary, person};
use crate::views::invitations::permission_schema;

/// A share: an accepted invitation's grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareView {
    pub asset_id: Uuid,
    pub user: UserSummary,
    #[schema(schema_with = permission_schema)]
    pub permission: InvitationPermission,
    /// Null: never.
    pub access_expires_at: Option<DateTime<Utc>>,
    /// Whether it still gives access (false once its access expiry passed).
    pub active: bool,
    pub granted_at: DateTime<Utc>,
    pub invitation_id: Option<Uuid>,
}

impl ShareView {
    pub fn new(s: &Share, now: DateTime<Utc>) -> Self {
        Self {
            asset_id: s.asset_id,
            user: person(&s.user, true),
            permission: s.permission,
            access_expires_at: s.access_expires_at,
            active: !keyholder_domain::values::is_past(s.access_expires_at, now),
            granted_at: s.granted_at,
            invitation_id: s.invitation_id,
        }
    }
}
