//! The scenario (one user, one asset, the raw relations between them) and the
//! keyholder side's decision on it.

use chrono::{DateTime, Utc};
use keyholder_domain::asset::{
    AccessFacts, AssetCapability, HouseholdFact, OwnedAccessFacts, ShareFact, SitePathFact,
    asset_can, effective_level,
};
use keyholder_domain::{AssetLevel, HouseholdRole};
use uuid::Uuid;

/// One user asking about one asset, as the relations the store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub user: Uuid,
    pub asset: Uuid,
    pub is_root: bool,
    /// The asset's collaborators (the user among them or not).
    pub collaborators: Vec<Uuid>,
    /// The households the user is a member of: (head, the user's role).
    pub households: Vec<(Uuid, HouseholdRole)>,
    /// The user's share on the asset (keyed by asset and user: at most one).
    pub share: Option<ShareFact>,
    /// The asset's site, and the user's estate role and override there.
    pub site: Option<SitePathFact>,
    pub now: DateTime<Utc>,
}

impl Scenario {
    /// The facts the store derives from these relations.
    pub fn facts(&self) -> OwnedAccessFacts {
        OwnedAccessFacts {
            households: self
                .households
                .iter()
                .map(|&(head_id, role)| HouseholdFact {
                    head_id: Some(head_id),
                    role,
                    head_is_collaborator: self.collaborators.contains(&head_id),
                })
                .collect(),
            shares: self.share.into_iter().collect(),
            rest: AccessFacts {
                is_root: self.is_root,
                is_collaborator: self.collaborators.contains(&self.user),
                site: self.site,
                ..AccessFacts::none(self.now)
            },
        }
    }

    /// A scenario with no path at all.
    pub fn empty(user: Uuid, asset: Uuid, now: DateTime<Utc>) -> Self {
        Self {
            user,
            asset,
            is_root: false,
            collaborators: Vec::new(),
            households: Vec::new(),
            share: None,
            site: None,
            now,
        }
    }
}

/// The capability that stands for "may do `level`" on the keyholder side.
pub const fn capability_for(level: AssetLevel) -> AssetCapability {
    match level {
        AssetLevel::View => AssetCapability::Read,
        AssetLevel::Edit => AssetCapability::UpdateDetails,
        AssetLevel::Manage => AssetCapability::DeleteRecordsAndPhotos,
        AssetLevel::Full => AssetCapability::DeleteAsset,
    }
}

/// The keyholder decision: may the user do `level` on the asset?
pub fn keyholder_allows(facts: &AccessFacts<'_>, level: AssetLevel) -> bool {
    asset_can(effective_level(facts), capability_for(level))
}
