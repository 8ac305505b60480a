//! What the API answers about access: explanations and their paths.

use chrono::{DateTime, Utc};
use keyholder_domain::AssetLevel;
use keyholder_domain::asset::PathEvaluation;
use keyholder_domain::estate_paths::{RolePath, ViaIds};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::common::UserSummary;
use crate::views::wire::{
    AccessPathKind, Capability, ExplainedResourceType, NotCountedReason, level_or_role_schema,
};

/// One way a user may reach a resource, counted or not.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "household",
    "level": "edit",
    "via": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
    "counted": true,
    "reason": null,
    "until": null
}))]
pub struct PathView {
    #[schema(value_type = AccessPathKind)]
    pub kind: &'static str,
    /// The level or role this path gives (null when it gives nothing).
    #[schema(schema_with = level_or_role_schema)]
    pub level: Option<&'static str>,
    /// The household head, share or invitation, site or estate it runs through.
    pub via: Option<Uuid>,
    pub counted: bool,
    /// Why it does not count (or is capped); null when it counts in full.
    #[schema(value_type = Option<NotCountedReason>)]
    pub reason: Option<&'static str>,
    /// For shares: when the access ends.
    pub until: Option<DateTime<Utc>>,
}

/// The answer of explain.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user": {"id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "username": "sam", "display_name": "Sam Okafor", "email": "sam@example.com"},
    "resource_type": "asset",
    "resource_id": "c41d8e2f-6a7b-4c9d-8e1f-0a2b3c4d5e6f",
    "effective": "edit",
    "capabilities": ["read", "update_details", "add_edit_records", "add_photos"],
    "paths": [
        {"kind": "household", "level": "edit", "via": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "counted": true, "reason": null, "until": null},
        {"kind": "share", "level": "view", "via": "e5a1b2c3-d4e5-4f60-8a7b-1c2d3e4f5a6b", "counted": false, "reason": "share_expired", "until": "2026-02-01T00:00:00Z"}
    ]
}))]
pub struct Explanation {
    pub user: UserSummary,
    #[schema(value_type = ExplainedResourceType)]
    pub resource_type: &'static str,
    pub resource_id: Uuid,
    /// The effective level (assets) or role (estates, sites); null: none.
    #[schema(schema_with = level_or_role_schema)]
    pub effective: Option<&'static str>,
    /// What the effective level or role allows.
    #[schema(value_type = Vec<Capability>)]
    pub capabilities: Vec<&'static str>,
    pub paths: Vec<PathView>,
}

/// A user who can reach an asset.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user": {"id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "username": "sam", "display_name": "Sam Okafor", "email": null},
    "level": "edit",
    "paths": [
        {"kind": "household", "level": "edit", "via": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "counted": true, "reason": null, "until": null}
    ]
}))]
pub struct AccessEntry {
    pub user: UserSummary,
    #[schema(value_type = crate::views::wire::AssetLevel)]
    pub level: &'static str,
    pub paths: Vec<PathView>,
}

impl PathView {
    /// A path to an asset.
    pub fn of_asset(p: &PathEvaluation) -> Self {
        Self {
            kind: p.kind.as_str(),
            level: p.level.map(AssetLevel::as_str),
            via: p.via,
            counted: p.counted,
            reason: p.reason.map(|r| r.code()),
            until: p.until,
        }
    }

    /// A path to an estate or a site.
    pub fn of_role<R>(p: &RolePath<R>, ids: &ViaIds) -> Self {
        Self {
            kind: p.kind.as_str(),
            level: p.shown,
            via: ids.of(p.via),
            counted: p.counted,
            reason: p.reason.map(|r| r.code()),
            until: None,
        }
    }
}

/// What a grant of mine is on.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantResource {
    #[serde(rename = "type")]
    #[schema(value_type = crate::views::wire::GrantResourceType)]
    pub type_: &'static str,
    /// The estate, site or asset; for a household, its head's user id.
    pub id: Uuid,
    /// Its name; for a household, the head's display name.
    pub name: String,
}

/// An estate a site belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantEstate {
    pub id: Uuid,
    pub name: String,
}

/// One grant I hold, and where it comes from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "share",
    "resource": {"type": "asset", "id": "c41d8e2f-6a7b-4c9d-8e1f-0a2b3c4d5e6f", "name": "Ford Transit"},
    "estate": null,
    "head": null,
    "role": "view",
    "since": "2026-11-02T10:15:00Z",
    "until": "2027-06-30T17:00:00Z",
    "active": true
}))]
pub struct MyGrantView {
    #[schema(value_type = crate::views::wire::AccessGrantKind)]
    pub kind: &'static str,
    pub resource: GrantResource,
    /// For a site override: the site's estate.
    pub estate: Option<GrantEstate>,
    /// For a household membership: its head, whose assets I reach (those
    /// the head collaborates on).
    pub head: Option<UserSummary>,
    /// What the grant gives: the estate role, the site override, `full` for
    /// a collaboration, my household role, or the share's permission.
    pub role: String,
    /// When it was granted.
    pub since: DateTime<Utc>,
    /// When it ends (shares with an access expiry); null: no end.
    pub until: Option<DateTime<Utc>>,
    /// Whether it gives access now (false for a share past its end).
    pub active: bool,
}
