//! What the API answers about estates, sites and members.

use chrono::{DateTime, Utc};
use keyholder_domain::{EstateRole, SiteOverride, SiteRole};
use keyholder_store::estates::{Estate, Member};
use keyholder_store::sites::Site;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::common::{
    UserSummary, estate_role_schema, nullable_estate_role_schema, nullable_site_override_schema,
    nullable_site_role_schema, site_role_schema,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct EstateView {
    pub id: Uuid,
    pub name: String,
    /// My estate role; null for a root user who is not a member.
    #[schema(schema_with = nullable_estate_role_schema)]
    pub my_role: Option<EstateRole>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EstateView {
    pub fn new(e: &Estate, my_role: Option<EstateRole>) -> Self {
        let Estate { id, ref name, created_at, updated_at } = *e;
        Self { id, name: name.clone(), my_role, created_at, updated_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteView {
    pub id: Uuid,
    pub estate_id: Uuid,
    pub name: String,
    /// My effective role at this site.
    #[schema(schema_with = site_role_schema)]
    pub effective_role: SiteRole,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SiteView {
    pub fn new(s: &Site, effective_role: SiteRole) -> Self {
        let Site { id, estate_id, ref name, created_at, updated_at } = *s;
        Self { id, estate_id, name: name.clone(), effective_role, created_at, updated_at }
    }
}

/// A member's access at one site.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberSite {
    pub site_id: Uuid,
    pub site_name: String,
    /// The site override, or null for the estate default.
    #[serde(rename = "override")]
    #[schema(schema_with = nullable_site_override_schema)]
    pub override_: Option<SiteOverride>,
    /// The role that applies (null: kept off the site).
    #[schema(schema_with = nullable_site_role_schema)]
    pub effective_role: Option<SiteRole>,
}

/// A row of Users & Permissions.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user: UserSummary,
    #[schema(schema_with = estate_role_schema)]
    pub role: EstateRole,
    pub sites: Vec<MemberSite>,
}

/// A member as seen from one site.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteMemberView {
    pub user: UserSummary,
    #[schema(schema_with = estate_role_schema)]
    pub estate_role: EstateRole,
    #[serde(rename = "override")]
    #[schema(schema_with = nullable_site_override_schema)]
    pub override_: Option<SiteOverride>,
    #[schema(schema_with = nullable_site_role_schema)]
    pub effective_role: Option<SiteRole>,
}

pub fn summary(m: &Member, show_email: bool) -> UserSummary {
    UserSummary {
        id: m.user_id,
        username: m.username.clone(),
        display_name: m.display_name.clone(),
        email: show_email.then(|| m.email.clone()),
    }
}

crate::views::common::located! {
    EstateView => |v| format!("/api/v1/estates/{}", v.id);
    SiteView => |v| format!("/api/v1/sites/{}", v.id);
}
