//! What the API answers about households.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::views::common::UserSummary;
use crate::views::estates::wire_enum;

wire_enum! {
    /// A member's role in a household, lowest first: they reach the head's
    /// assets at view, edit or manage level.
    #[schema(example = "editor")]
    HouseholdRole = HouseholdRole { Viewer, Editor, Manager }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"user": {"id": "e1b6d4a9-3c7f-4a2e-9d58-6f0b2c8e7a13", "username": "sam.patel", "display_name": "Sam Patel", "email": null}, "role": "editor", "added_at": "2026-03-01T09:30:00Z"}))]
pub struct HouseholdMemberView {
    pub user: UserSummary,
    pub role: HouseholdRole,
    pub added_at: DateTime<Utc>,
}

/// My household.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"head": {"id": "c4a7e2f9-5b1d-4c8e-a3f6-7d9b0e2c5a18", "username": "alex.morgan", "display_name": "Alex Morgan", "email": null}, "members": [{"user": {"id": "e1b6d4a9-3c7f-4a2e-9d58-6f0b2c8e7a13", "username": "sam.patel", "display_name": "Sam Patel", "email": null}, "role": "editor", "added_at": "2026-03-01T09:30:00Z"}]}))]
pub struct HouseholdView {
    pub head: UserSummary,
    pub members: Vec<HouseholdMemberView>,
}

/// A household I belong to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"head": {"id": "c4a7e2f9-5b1d-4c8e-a3f6-7d9b0e2c5a18", "username": "alex.morgan", "display_name": "Alex Morgan", "email": null}, "role": "viewer", "added_at": "2026-02-14T18:00:00Z"}))]
pub struct MembershipView {
    pub head: UserSummary,
    pub role: HouseholdRole,
    pub added_at: DateTime<Utc>,
}

crate::views::common::located! {
    HouseholdMemberView => |v| format!("/api/v1/household/members/{}", v.user.id);
}

#[cfg(test)]
mod tests {
    #[test]
    fn roles_keep_the_domains_names() {
        for v in keyholder_domain::HouseholdRole::ALL {
            let wire = serde_json::json!(super::HouseholdRole::from(v));
            assert_eq!(wire, serde_json::json!(v.as_str()));
        }
    }
}
