//! What the API answers about access: explanations and their paths.

use chrono::{DateTime, Utc};
use keyholder_domain::AssetLevel;
use keyholder_domain::asset::PathEvaluation;
use keyholder_domain::estate_paths::{RolePath, ViaIds};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::common::UserSummary;

/// One way a user may reach a resource, counted or not.
#[derive(Debug, Serialize, ToSchema)]
pub struct PathView {
    /// `root`, `collaborator`, `household`, `share`, `site`, `estate_admin`
    /// (assets); `root`, `membership`, `invitation` (estates); `root`,
    /// `estate_role`, `site_override`, `invitation` (sites).
    #[schema(example = "household")]
    pub kind: &'static str,
    /// The level or role this path gives (null when it gives nothing).
    pub level: Option<&'static str>,
    /// The household head, share or invitation, site or estate it runs through.
    pub via: Option<Uuid>,
    pub counted: bool,
    /// Why it does not count (or is capped): `head_not_collaborator`,
    /// `share_expired`, `share_revoked`, `no_estate_membership`,
    /// `capped_by_estate_role`, `kept_off_site`, `invitation_pending`.
    pub reason: Option<&'static str>,
    /// For shares: when the access ends.
    pub until: Option<DateTime<Utc>>,
}

/// The answer of explain.
#[derive(Debug, Serialize, ToSchema)]
pub struct Explanation {
    pub user: UserSummary,
    #[schema(example = "asset")]
    pub resource_type: &'static str,
    pub resource_id: Uuid,
    /// The effective level (assets) or role (estates, sites); null: none.
    pub effective: Option<&'static str>,
    /// What the effective level or role allows.
    pub capabilities: Vec<&'static str>,
    pub paths: Vec<PathView>,
}

/// A user who can reach an asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    pub user: UserSummary,
    #[schema(example = "edit")]
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
