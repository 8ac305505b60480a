//! What the API answers about estates, sites and members.

use chrono::{DateTime, Utc};
use keyholder_store::estates::{Estate, Member};
use keyholder_store::sites::Site;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::common::UserSummary;

/// Declares a closed set of the contract: an enum with the variants of the
/// domain's enum `keyholder_domain::$domain` (the same wire names, lower
/// case), its schema component, and the conversion from the domain's value.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident = $domain:ident { $($variant:ident),+ $(,)? }) => {
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(rename_all = "lowercase")]
        $(#[$meta])*
        pub enum $name {
            $($variant),+
        }

        impl From<keyholder_domain::$domain> for $name {
            fn from(v: keyholder_domain::$domain) -> Self {
                match v {
                    $(keyholder_domain::$domain::$variant => Self::$variant),+
                }
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// A role in an estate, lowest first.
    #[schema(example = "editor")]
    EstateRole = EstateRole { Viewer, Editor, Admin, Owner }
}

wire_enum! {
    /// An effective role at a site, lowest first.
    #[schema(example = "editor")]
    SiteRole = SiteRole { Viewer, Editor, Admin }
}

wire_enum! {
    /// A member's override at one site: `none` keeps them off the site, the
    /// others set their role there (capped by their estate role).
    #[schema(example = "viewer")]
    SiteOverride = SiteOverride { None, Viewer, Editor, Admin }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "3f6c1a52-8d4e-4b7a-9c21-5e0d7f4a2b19", "name": "Hartwell Estate", "my_role": "owner", "created_at": "2026-03-01T09:30:00Z", "updated_at": "2026-03-04T14:05:00Z"}))]
pub struct EstateView {
    pub id: Uuid,
    pub name: String,
    /// My estate role; null for a root user who is not a member.
    #[schema(required = true)]
    pub my_role: Option<EstateRole>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EstateView {
    pub fn new(e: &Estate, my_role: Option<keyholder_domain::EstateRole>) -> Self {
        let Estate { id, ref name, created_at, updated_at } = *e;
        Self { id, name: name.clone(), my_role: my_role.map(Into::into), created_at, updated_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "9b2e4c7d-1f3a-4e6b-8a5c-2d7f0e9b4a61", "estate_id": "3f6c1a52-8d4e-4b7a-9c21-5e0d7f4a2b19", "name": "North Yard", "effective_role": "admin", "created_at": "2026-03-01T09:45:00Z", "updated_at": "2026-03-01T09:45:00Z"}))]
pub struct SiteView {
    pub id: Uuid,
    pub estate_id: Uuid,
    pub name: String,
    /// My effective role at this site.
    pub effective_role: SiteRole,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SiteView {
    pub fn new(s: &Site, effective_role: keyholder_domain::SiteRole) -> Self {
        let Site { id, estate_id, ref name, created_at, updated_at } = *s;
        let effective_role = effective_role.into();
        Self { id, estate_id, name: name.clone(), effective_role, created_at, updated_at }
    }
}

/// A member's access at one site.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"site_id": "9b2e4c7d-1f3a-4e6b-8a5c-2d7f0e9b4a61", "site_name": "North Yard", "override": "viewer", "effective_role": "viewer"}))]
pub struct MemberSite {
    pub site_id: Uuid,
    pub site_name: String,
    /// The site override, or null for the estate default.
    #[serde(rename = "override")]
    #[schema(required = true)]
    pub override_: Option<SiteOverride>,
    /// The role that applies (null: kept off the site).
    #[schema(required = true)]
    pub effective_role: Option<SiteRole>,
}

/// A row of Users & Permissions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"user": {"id": "c4a7e2f9-5b1d-4c8e-a3f6-7d9b0e2c5a18", "username": "alex.morgan", "display_name": "Alex Morgan", "email": "alex@example.com"}, "role": "editor", "sites": [{"site_id": "9b2e4c7d-1f3a-4e6b-8a5c-2d7f0e9b4a61", "site_name": "North Yard", "override": null, "effective_role": "editor"}, {"site_id": "1e8d3b6a-7c2f-4a9e-b5d1-0f4c8a2e6b37", "site_name": "South Depot", "override": "none", "effective_role": null}]}))]
pub struct MemberView {
    pub user: UserSummary,
    pub role: EstateRole,
    pub sites: Vec<MemberSite>,
}

/// A member as seen from one site.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"user": {"id": "c4a7e2f9-5b1d-4c8e-a3f6-7d9b0e2c5a18", "username": "alex.morgan", "display_name": "Alex Morgan", "email": "alex@example.com"}, "estate_role": "editor", "override": "viewer", "effective_role": "viewer"}))]
pub struct SiteMemberView {
    pub user: UserSummary,
    pub estate_role: EstateRole,
    #[serde(rename = "override")]
    #[schema(required = true)]
    pub override_: Option<SiteOverride>,
    #[schema(required = true)]
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// Each contract enum answers exactly the domain's wire names.
    #[test]
    fn wire_enums_keep_the_domains_names() {
        use keyholder_domain as d;
        for v in d::EstateRole::ALL {
            assert_eq!(json!(super::EstateRole::from(v)), json!(v.as_str()));
        }
        for v in d::SiteRole::ALL {
            assert_eq!(json!(super::SiteRole::from(v)), json!(v.as_str()));
        }
        for v in d::SiteOverride::ALL {
            assert_eq!(json!(super::SiteOverride::from(v)), json!(v.as_str()));
        }
    }
}
