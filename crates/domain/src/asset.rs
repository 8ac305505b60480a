//! The asset access resolver.
//!
//! A user reaches an asset along parallel paths (root, collaborator,
//! households, shares, the site the asset is placed at, estate admin); the
//! effective level is the highest level over all paths that count ("across
//! parallel paths, the most generous wins").
//!
//! [`effective_level`] (the check path, allocation-free) and [`explain`] (the
//! explanation, one [`PathEvaluation`] per path) are both folds over the same
//! private path walk, so they cannot disagree.

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::RefusalKind;
use crate::estate::{effective_site_role, override_is_capped};
use crate::roles::{
    AssetLevel, EstateRole, HouseholdRole, InvitationPermission, SiteOverride, SiteRole,
};
use crate::values::is_past;

/// Everything the resolver needs to know about one user and one asset,
/// loaded by the store. Borrowed slices: checking allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct AccessFacts<'a> {
    /// The user is a root user (full on everything).
    pub is_root: bool,
    /// The user is a collaborator of the asset.
    pub is_collaborator: bool,
    /// The households the user is a member of (direct memberships only:
    /// inheritance is one level), with whether each head is a collaborator
    /// of this asset.
    pub households: &'a [HouseholdFact],
    /// The user's shares on this asset (and, for explanation, pending
    /// invitations to it).
    pub shares: &'a [ShareFact],
    /// The site the asset is placed at and the user's standing in its
    /// estate; `None` for an asset in no estate.
    pub site: Option<SitePathFact>,
    /// The time of the request.
    pub now: DateTime<Utc>,
}

impl<'a> AccessFacts<'a> {
    /// Facts with no path at all, at `now`.
    pub const fn none(now: DateTime<Utc>) -> Self {
        Self {
            is_root: false,
            is_collaborator: false,
            households: &[],
            shares: &[],
            site: None,
            now,
        }
    }
}

/// [`AccessFacts`] that own their lists, for facts built once and read many
/// times (property tests, benchmarks). `rest` holds the other facts; its own
/// lists are not read.
#[derive(Debug, Clone)]
pub struct OwnedAccessFacts {
    pub households: Vec<HouseholdFact>,
    pub shares: Vec<ShareFact>,
    pub rest: AccessFacts<'static>,
}

impl OwnedAccessFacts {
    /// The facts, borrowing the lists.
    pub fn facts(&self) -> AccessFacts<'_> {
        AccessFacts { households: &self.households, shares: &self.shares, ..self.rest }
    }
}

/// The user's membership of one household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HouseholdFact {
    /// The household's head; `None` when the read that found the path
    /// names no head (the one-statement access reads count household
    /// roles through collaborating heads, not the heads themselves).
    pub head_id: Option<Uuid>,
    /// The user's role in that household.
    pub role: HouseholdRole,
    /// Whether the head is a collaborator of the asset (only then does the
    /// member inherit it).
    pub head_is_collaborator: bool,
}

/// Where a share stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareStatus {
    /// An accepted invitation's share, in force unless past its access expiry.
    Active,
    /// Revoked (kept for the record): gives nothing.
    Revoked,
    /// An invitation to this asset still pending: gives nothing until
    /// accepted. Included only so that `explain` can mention it.
    InvitationPending,
}

/// One share (or pending invitation) of the asset to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareFact {
    /// The share's id (or the pending invitation's id).
    pub id: Uuid,
    pub permission: InvitationPermission,
    /// When the access ends; `None` = never.
    pub access_expires_at: Option<DateTime<Utc>>,
    pub status: ShareStatus,
}

impl ShareFact {
    pub const fn active(
        id: Uuid,
        permission: InvitationPermission,
        access_expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self { id, permission, access_expires_at, status: ShareStatus::Active }
    }
}

/// The site the asset is placed at and the user's standing in its estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SitePathFact {
    pub site_id: Uuid,
    pub estate_id: Uuid,
    /// The user's estate role; `None` if not a member.
    pub estate_role: Option<EstateRole>,
    /// The user's override at this site, if any.
    pub site_override: Option<SiteOverride>,
}

/// The kinds of path to an asset (the rows of the spec's path table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    Root,
    Collaborator,
    Household,
    Share,
    Site,
    EstateAdmin,
}

impl PathKind {
    pub const ALL: [Self; 6] = [
        Self::Root,
        Self::Collaborator,
        Self::Household,
        Self::Share,
        Self::Site,
        Self::EstateAdmin,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Collaborator => "collaborator",
            Self::Household => "household",
            Self::Share => "share",
            Self::Site => "site",
            Self::EstateAdmin => "estate_admin",
        }
    }
}

/// Why a path gives nothing, or less than it claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCountedReason {
    /// The household's head is not a collaborator of the asset (inheritance
    /// needs a collaborator head and is one level only).
    HeadNotCollaborator,
    /// The share's access expiry has passed.
    ShareExpired,
    /// The share was revoked.
    ShareRevoked,
    /// The asset is in an estate the user is not a member of.
    NoEstateMembership,
    /// The site override is above what the estate role allows; the path
    /// counts at the capped level (the path is still counted).
    CappedByEstateRole,
    /// The user's override at the site is `none`.
    KeptOffSite,
    /// The invitation has not been accepted yet.
    InvitationPending,
}

impl NotCountedReason {
    pub const ALL: [Self; 7] = [
        Self::HeadNotCollaborator,
        Self::ShareExpired,
        Self::ShareRevoked,
        Self::NoEstateMembership,
        Self::CappedByEstateRole,
        Self::KeptOffSite,
        Self::InvitationPending,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Self::HeadNotCollaborator => "head_not_collaborator",
            Self::ShareExpired => "share_expired",
            Self::ShareRevoked => "share_revoked",
            Self::NoEstateMembership => "no_estate_membership",
            Self::CappedByEstateRole => "capped_by_estate_role",
            Self::KeptOffSite => "kept_off_site",
            Self::InvitationPending => "invitation_pending",
        }
    }
}

/// One path, evaluated.
///
/// Invariant: `counted == level.is_some()`. `claimed` is what the path would
/// give without its restriction (the household role's level, the share's
/// permission, the site override); `reason` says why the path gives nothing
/// or, for `capped_by_estate_role`, less than it claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PathEvaluation {
    pub kind: PathKind,
    pub level: Option<AssetLevel>,
    pub claimed: Option<AssetLevel>,
    /// The household head, share (or invitation), site or estate the path
    /// runs through; `None` for root and collaborator.
    pub via: Option<Uuid>,
    pub counted: bool,
    pub reason: Option<NotCountedReason>,
    /// For shares: when the access ends.
    pub until: Option<DateTime<Utc>>,
}

impl PathEvaluation {
    /// Whether the path ties the user to this asset, as opposed to a fact
    /// about the user that has nothing to do with it: a household whose
    /// head is not a collaborator, an estate the user is not in, or root's
    /// blanket access. Someone else's explanation shows only related paths,
    /// and a user without any is not explained to others at all (404), so
    /// explain cannot be used to learn a stranger's households or email.
    pub const fn relates_to_asset(&self) -> bool {
        !matches!(
            (self.kind, self.reason),
            (PathKind::Root, _)
                | (PathKind::Household, Some(NotCountedReason::HeadNotCollaborator))
                | (PathKind::Site, Some(NotCountedReason::NoEstateMembership))
        )
    }

    const fn counted(kind: PathKind, level: AssetLevel, via: Option<Uuid>) -> Self {
        Self {
            kind,
            level: Some(level),
            claimed: Some(level),
            via,
            counted: true,
            reason: None,
            until: None,
        }
    }

    const fn not_counted(
        kind: PathKind,
        claimed: Option<AssetLevel>,
        via: Option<Uuid>,
        reason: NotCountedReason,
    ) -> Self {
        Self { kind, level: None, claimed, via, counted: false, reason: Some(reason), until: None }
    }
}

/// The explanation of a user's access to an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The highest level over the counted paths; `None`: no access.
    pub effective: Option<AssetLevel>,
    /// Every path considered, counted or not, in the order root,
    /// collaborator, households, shares, site, estate admin.
    pub paths: Vec<PathEvaluation>,
}

impl Resolution {
    /// Whether the user administers the asset (full access).
    pub fn administers(&self) -> bool {
        administers_asset(self.effective)
    }

    pub fn counted_paths(&self) -> impl Iterator<Item = &PathEvaluation> {
        self.paths.iter().filter(|p| p.counted)
    }
}

/// Walks every path in a fixed order, handing each evaluation to `f`.
/// Allocation-free; stops early when `f` breaks.
fn walk<B>(
    facts: &AccessFacts<'_>,
    mut f: impl FnMut(PathEvaluation) -> ControlFlow<B>,
) -> ControlFlow<B> {
    if facts.is_root {
        f(PathEvaluation::counted(PathKind::Root, AssetLevel::Full, None))?;
    }
    if facts.is_collaborator {
        f(PathEvaluation::counted(PathKind::Collaborator, AssetLevel::Full, None))?;
    }
    for h in facts.households {
        f(household_path(h))?;
    }
    for s in facts.shares {
        f(share_path(s, facts.now))?;
    }
    if let Some(site) = &facts.site {
        f(site_path(site))?;
        if let Some(role) = site.estate_role
            && role.administers()
        {
            f(PathEvaluation::counted(
                PathKind::EstateAdmin,
                AssetLevel::Full,
                Some(site.estate_id),
            ))?;
        }
    }
    ControlFlow::Continue(())
}

fn household_path(h: &HouseholdFact) -> PathEvaluation {
    let level = h.role.level();
    if h.head_is_collaborator {
        PathEvaluation::counted(PathKind::Household, level, h.head_id)
    } else {
        PathEvaluation::not_counted(
            PathKind::Household,
            Some(level),
            h.head_id,
            NotCountedReason::HeadNotCollaborator,
        )
    }
}

fn share_path(s: &ShareFact, now: DateTime<Utc>) -> PathEvaluation {
    let level = s.permission.level();
    let reason = match s.status {
        ShareStatus::Revoked => Some(NotCountedReason::ShareRevoked),
        ShareStatus::InvitationPending => Some(NotCountedReason::InvitationPending),
        ShareStatus::Active if is_past(s.access_expires_at, now) => {
            Some(NotCountedReason::ShareExpired)
        }
        ShareStatus::Active => None,
    };
    let mut path = match reason {
        None => PathEvaluation::counted(PathKind::Share, level, Some(s.id)),
        Some(r) => PathEvaluation::not_counted(PathKind::Share, Some(level), Some(s.id), r),
    };
    path.until = s.access_expires_at;
    path
}

fn site_path(site: &SitePathFact) -> PathEvaluation {
    let via = Some(site.site_id);
    let Some(role) = site.estate_role else {
        let claimed = site.site_override.and_then(SiteOverride::role).map(SiteRole::asset_level);
        return PathEvaluation::not_counted(
            PathKind::Site,
            claimed,
            via,
            NotCountedReason::NoEstateMembership,
        );
    };
    match effective_site_role(role, site.site_override) {
        None => {
            PathEvaluation::not_counted(PathKind::Site, None, via, NotCountedReason::KeptOffSite)
        }
        Some(effective) => {
            let mut path = PathEvaluation::counted(PathKind::Site, effective.asset_level(), via);
            if override_is_capped(role, site.site_override) {
                path.claimed =
                    site.site_override.and_then(SiteOverride::role).map(SiteRole::asset_level);
                path.reason = Some(NotCountedReason::CappedByEstateRole);
            }
            path
        }
    }
}

/// The one fold both entry points use: the highest counted level.
fn fold(acc: Option<AssetLevel>, path: &PathEvaluation) -> Option<AssetLevel> {
    if path.counted { acc.max(path.level) } else { acc }
}

/// The user's effective level on the asset; `None`: no access (the asset is
/// invisible, 404). Allocation-free; stops at the first full path.
pub fn effective_level(facts: &AccessFacts<'_>) -> Option<AssetLevel> {
    let mut best = None;
    let _ = walk(facts, |path| {
        best = fold(best, &path);
        if best == Some(AssetLevel::Full) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    best
}

/// Every path with its level and, where it does not count, the reason.
pub fn explain(facts: &AccessFacts<'_>) -> Resolution {
    let mut paths = Vec::with_capacity(
        2 + facts.households.len() + facts.shares.len() + 2 * usize::from(facts.site.is_some()),
    );
    let _ = walk::<()>(facts, |path| {
        paths.push(path);
        ControlFlow::Continue(())
    });
    let effective = paths.iter().fold(None, fold);
    Resolution { effective, paths }
}

/// What a level allows on an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetCapability {
    /// Read the asset, its records, photos and collaborator list; export and
    /// print: view.
    Read,
    /// Update the asset's fields (vehicle details): edit.
    UpdateDetails,
    /// Add and edit records: edit.
    AddEditRecords,
    /// Add photos: edit.
    AddPhotos,
    /// Delete records and photos (manage sub-resources): manage.
    DeleteRecordsAndPhotos,
    /// Delete the asset: full.
    DeleteAsset,
    /// Add and remove collaborators: full.
    ManageCollaborators,
    /// Send, resend and cancel invitations: full.
    ManageInvitations,
    /// List shares, change their permission or access expiry, revoke them:
    /// full.
    ManageShares,
    /// Move the asset between sites of its estate: full.
    MoveAsset,
}

impl AssetCapability {
    /// The capability's stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::UpdateDetails => "update_details",
            Self::AddEditRecords => "add_edit_records",
            Self::AddPhotos => "add_photos",
            Self::DeleteRecordsAndPhotos => "delete_records_and_photos",
            Self::DeleteAsset => "delete_asset",
            Self::ManageCollaborators => "manage_collaborators",
            Self::ManageInvitations => "manage_invitations",
            Self::ManageShares => "manage_shares",
            Self::MoveAsset => "move_asset",
        }
    }
}

impl AssetCapability {
    pub const ALL: [Self; 10] = [
        Self::Read,
        Self::UpdateDetails,
        Self::AddEditRecords,
        Self::AddPhotos,
        Self::DeleteRecordsAndPhotos,
        Self::DeleteAsset,
        Self::ManageCollaborators,
        Self::ManageInvitations,
        Self::ManageShares,
        Self::MoveAsset,
    ];

    /// The lowest level holding this capability.
    pub const fn required_level(self) -> AssetLevel {
        match self {
            Self::Read => AssetLevel::View,
            Self::UpdateDetails | Self::AddEditRecords | Self::AddPhotos => AssetLevel::Edit,
            Self::DeleteRecordsAndPhotos => AssetLevel::Manage,
            Self::DeleteAsset
            | Self::ManageCollaborators
            | Self::ManageInvitations
            | Self::ManageShares
            | Self::MoveAsset => AssetLevel::Full,
        }
    }
}

/// Whether a level (or no access, `None`) has the capability.
pub fn asset_can(level: impl Into<Option<AssetLevel>>, capability: AssetCapability) -> bool {
    level.into().is_some_and(|l| l >= capability.required_level())
}

/// "Administers" an asset: full access. Those who administer it see email
/// addresses in its collaborator and access lists.
pub fn administers_asset(level: Option<AssetLevel>) -> bool {
    level == Some(AssetLevel::Full)
}

/// Why placing or moving an asset is refused (403).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PlacementRefusal {
    #[error("placing or moving an asset needs full access to it")]
    FullAccessRequired,
    #[error("placing an asset at a site needs an effective role of editor or above there")]
    SiteEditorRequired,
    #[error("taking an asset out of an estate needs estate admin or owner there")]
    EstateAdminRequired,
}

impl PlacementRefusal {
    pub const fn code(self) -> &'static str {
        match self {
            Self::FullAccessRequired => "full_access_required",
            Self::SiteEditorRequired => "site_editor_required",
            Self::EstateAdminRequired => "estate_admin_required",
        }
    }

    pub const fn detail(self) -> &'static str {
        match self {
            Self::FullAccessRequired => {
                "Placing or moving an asset needs full access to the asset."
            }
            Self::SiteEditorRequired => {
                "Placing an asset at a site needs an effective site role of editor or above at that site."
            }
            Self::EstateAdminRequired => {
                "Taking an asset out of an estate needs the estate admin or owner role in the estate it leaves."
            }
        }
    }

    pub const fn kind(self) -> RefusalKind {
        RefusalKind::Forbidden
    }
}

/// Placing an asset (at creation or by a move).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacementFacts {
    pub is_root: bool,
    /// The actor's level on the asset (`Some(Full)` when creating it).
    pub asset_level: Option<AssetLevel>,
    /// `None`: to no site (a personal garage); `Some(role)`: to a site where
    /// the actor's effective role is `role` (itself `None` if kept off).
    pub target_site_role: Option<Option<SiteRole>>,
    /// `Some(role)` when the asset leaves an estate (to no site, or to
    /// another estate's site): the actor's role in the estate it leaves.
    pub leaving_estate_role: Option<Option<EstateRole>>,
}

/// Placing or moving an asset needs full on the asset and an effective role
/// of editor or above at the target site; taking it out of an estate also
/// needs estate admin or owner there. Root may do all of it.
pub fn check_placement(facts: &PlacementFacts) -> Result<(), PlacementRefusal> {
    if facts.is_root {
        return Ok(());
    }
    if !administers_asset(facts.asset_level) {
        return Err(PlacementRefusal::FullAccessRequired);
    }
    if let Some(role) = facts.target_site_role
        && role.is_none_or(|r| r < SiteRole::Editor)
    {
        return Err(PlacementRefusal::SiteEditorRequired);
    }
    if let Some(role) = facts.leaving_estate_role
        && !role.is_some_and(EstateRole::administers)
    {
        return Err(PlacementRefusal::EstateAdminRequired);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
