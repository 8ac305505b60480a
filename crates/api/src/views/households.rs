//! What the API answers about households.

use chrono::{DateTime, Utc};
use keyholder_domain::HouseholdRole;
use serde::Serialize;
use utoipa::ToSchema;

use crate::views::common::UserSummary;

pub(crate) fn role_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    super::string_values(&["viewer", "editor", "manager"])
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdMemberView {
    pub user: UserSummary,
    #[schema(schema_with = role_schema)]
    pub role: HouseholdRole,
    pub added_at: DateTime<Utc>,
}

/// My household.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdView {
    pub head: UserSummary,
    pub members: Vec<HouseholdMemberView>,
}

/// A household I belong to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    pub head: UserSummary,
    #[schema(schema_with = role_schema)]
    pub role: HouseholdRole,
    pub added_at: DateTime<Utc>,
}

crate::views::common::located! {
    HouseholdMemberView => |v| format!("/api/v1/household/members/{}", v.user.id);
}
