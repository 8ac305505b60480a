//! Why a user does or does not reach an estate or a site: one walk over the
//! facts per resource, which both the decision (the effective role that
//! enforcement uses) and the explanation fold over, as
//! [`crate::asset::explain`] does for assets.

use uuid::Uuid;

use crate::asset::NotCountedReason;
use crate::estate::{cap, default_site_role};
use crate::roles::{EstateRole, SiteOverride, SiteRole};

/// A way to an estate or a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RolePathKind {
    /// Root reaches everything.
    Root,
    /// An estate membership, on the estate itself.
    Membership,
    /// The estate role's default at a site.
    EstateRole,
    /// A site override.
    SiteOverride,
    /// A pending invitation (never counts until accepted).
    Invitation,
}

impl RolePathKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Membership => "membership",
            Self::EstateRole => "estate_role",
            Self::SiteOverride => "site_override",
            Self::Invitation => "invitation",
        }
    }
}

/// What a path runs through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    Nothing,
    Estate,
    Site,
    Invitation,
}

/// One path to an estate or a site, as explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolePath<R> {
    pub kind: RolePathKind,
    /// The role the path names (a stored override is shown as stored,
    /// `none` included; an invitation shows the role it offers).
    pub shown: Option<&'static str>,
    /// What the path grants when it counts (an override capped by the
    /// estate role grants the cap).
    pub grants: Option<R>,
    pub via: Via,
    pub counted: bool,
    pub reason: Option<NotCountedReason>,
}

/// The facts about one user and one estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EstateFacts {
    pub is_root: bool,
    pub role: Option<EstateRole>,
    /// A pending invitation to the estate, with the role it offers.
    pub invitation: Option<Option<EstateRole>>,
}

/// The facts about one user and one site of an estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteFacts {
    pub is_root: bool,
    /// The user's estate role (none: not a member).
    pub role: Option<EstateRole>,
    pub site_override: Option<SiteOverride>,
    /// A pending invitation to the site's estate, with the role it offers.
    pub invitation: Option<Option<EstateRole>>,
}

impl SiteFacts {
    /// A member's facts at a site, without root or invitations: what
    /// enforcement looks at.
    pub const fn member(role: Option<EstateRole>, site_override: Option<SiteOverride>) -> Self {
        Self { is_root: false, role, site_override, invitation: None }
    }
}

/// A decision and the paths behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleResolution<R> {
    pub effective: Option<R>,
    pub paths: Vec<RolePath<R>>,
}

fn invitation_path<R>(offered: Option<EstateRole>) -> RolePath<R> {
    RolePath {
        kind: RolePathKind::Invitation,
        shown: offered.map(EstateRole::as_str),
        grants: None,
        via: Via::Invitation,
        counted: false,
        reason: Some(NotCountedReason::InvitationPending),
    }
}

/// What every resource's paths are made of: root, the paths through the
/// user's estate membership (one or two), and a pending invitation.
struct PathFacts<R> {
    is_root: bool,
    membership: [Option<RolePath<R>>; 2],
    invitation: Option<Option<EstateRole>>,
}

/// The facts about one user and one resource (an estate or a site).
trait Facts {
    /// The role the resource is reached with.
    type Role: Ord + Copy;
    /// Root reaches the resource with this role, shown by this name.
    const ROOT: (Self::Role, &'static str);

    fn path_facts(&self) -> PathFacts<Self::Role>;
}

impl Facts for EstateFacts {
    type Role = EstateRole;
    const ROOT: (EstateRole, &'static str) = (EstateRole::Owner, EstateRole::Owner.as_str());

    fn path_facts(&self) -> PathFacts<EstateRole> {
        let membership = RolePath {
            kind: RolePathKind::Membership,
            shown: self.role.map(EstateRole::as_str),
            grants: self.role,
            via: Via::Estate,
            counted: self.role.is_some(),
            reason: self.role.is_none().then_some(NotCountedReason::NoEstateMembership),
        };
        PathFacts {
            is_root: self.is_root,
            membership: [Some(membership), None],
            invitation: self.invitation,
        }
    }
}

impl Facts for SiteFacts {
    type Role = SiteRole;
    const ROOT: (SiteRole, &'static str) = (SiteRole::Admin, SiteRole::Admin.as_str());

    fn path_facts(&self) -> PathFacts<SiteRole> {
        let membership = match self.role {
            None => [
                Some(RolePath {
                    kind: RolePathKind::EstateRole,
                    shown: None,
                    grants: None,
                    via: Via::Estate,
                    counted: false,
                    reason: Some(NotCountedReason::NoEstateMembership),
                }),
                None,
            ],
            Some(role) => {
                // Owners and admins administer every site: an override found
                // for them is ignored.
                let over = self.site_override.filter(|_| !role.administers());
                let default = default_site_role(role);
                let by_role = RolePath {
                    kind: RolePathKind::EstateRole,
                    shown: Some(default.as_str()),
                    grants: Some(default),
                    via: Via::Estate,
                    counted: over.is_none(),
                    reason: None,
                };
                [Some(by_role), over.map(|o| override_path(role, o))]
            }
        };
        PathFacts { is_root: self.is_root, membership, invitation: self.invitation }
    }
}

/// Every path to the resource, in the order they are explained: root,
/// membership, a pending invitation.
fn paths<F: Facts>(f: &F) -> impl Iterator<Item = RolePath<F::Role>> {
    let PathFacts { is_root, membership, invitation } = f.path_facts();
    let (top, shown) = F::ROOT;
    let root = is_root.then_some(RolePath {
        kind: RolePathKind::Root,
        shown: Some(shown),
        grants: Some(top),
        via: Via::Nothing,
        counted: true,
        reason: None,
    });
    root.into_iter().chain(membership.into_iter().flatten()).chain(invitation.map(invitation_path))
}

/// A non-administrator's override: `none` keeps them off the site; one
/// above what the estate role allows counts at the cap.
fn override_path(role: EstateRole, o: SiteOverride) -> RolePath<SiteRole> {
    let allowed = SiteOverride::from(cap(role));
    let reason = if o == SiteOverride::None {
        Some(NotCountedReason::KeptOffSite)
    } else if o > allowed {
        Some(NotCountedReason::CappedByEstateRole)
    } else {
        None
    };
    RolePath {
        kind: RolePathKind::SiteOverride,
        shown: Some(o.as_str()),
        grants: o.min(allowed).role(),
        via: Via::Site,
        counted: o != SiteOverride::None,
        reason,
    }
}

fn fold<R: Ord + Copy>(best: Option<R>, path: &RolePath<R>) -> Option<R> {
    if path.counted { best.max(path.grants) } else { best }
}

/// The decision: the best role among the counted paths (nothing is kept).
fn decide<F: Facts>(f: &F) -> Option<F::Role> {
    paths(f).fold(None, |best, p| fold(best, &p))
}

/// The explanation: every path, and the decision they make.
fn resolve<F: Facts>(f: &F) -> RoleResolution<F::Role> {
    let paths: Vec<_> = paths(f).collect();
    let effective = paths.iter().fold(None, fold);
    RoleResolution { effective, paths }
}

/// The user's role on the estate (root counts as owner).
pub fn estate_role(f: &EstateFacts) -> Option<EstateRole> {
    decide(f)
}

/// Every path to the estate, and the role they give.
pub fn explain_estate(f: &EstateFacts) -> RoleResolution<EstateRole> {
    resolve(f)
}

/// The user's effective role at the site; `None`: kept off it (invisible).
pub fn site_role(f: &SiteFacts) -> Option<SiteRole> {
    decide(f)
}

/// Every path to the site, and the role they give.
pub fn explain_site(f: &SiteFacts) -> RoleResolution<SiteRole> {
    resolve(f)
}

/// The ids a path's [`Via`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViaIds {
    pub estate: Uuid,
    pub site: Option<Uuid>,
    pub invitation: Option<Uuid>,
}

impl ViaIds {
    pub fn of(&self, via: Via) -> Option<Uuid> {
        match via {
            Via::Nothing => None,
            Via::Estate => Some(self.estate),
            Via::Site => self.site,
            Via::Invitation => self.invitation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_explanation_agrees_with_the_site_role_enforced() {
        for is_root in [false, true] {
            for role in EstateRole::OPTIONS {
                for site_override in SiteOverride::OPTIONS {
                    for invitation in [None, Some(Some(EstateRole::Editor))] {
                        let f = SiteFacts { is_root, role, site_override, invitation };
                        assert_eq!(explain_site(&f).effective, site_role(&f), "{f:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn most_restrictive_role_wins_along_the_hierarchy() {
        // effective = min(override or default, cap(estate role)); owners and
        // admins are site admin everywhere; a pending invitation gives nothing.
        let at = |role, o| site_role(&SiteFacts::member(role, o));
        assert_eq!(at(Some(EstateRole::Viewer), Some(SiteOverride::Admin)), Some(SiteRole::Viewer));
        assert_eq!(at(Some(EstateRole::Editor), Some(SiteOverride::Admin)), Some(SiteRole::Admin));
        assert_eq!(at(Some(EstateRole::Editor), Some(SiteOverride::None)), None);
        assert_eq!(at(Some(EstateRole::Editor), None), Some(SiteRole::Editor));
        assert_eq!(at(Some(EstateRole::Admin), Some(SiteOverride::None)), Some(SiteRole::Admin));
        assert_eq!(at(None, Some(SiteOverride::Admin)), None);
        let invited = SiteFacts {
            invitation: Some(Some(EstateRole::Admin)),
            ..SiteFacts::member(None, None)
        };
        assert_eq!(site_role(&invited), None);
    }

    #[test]
    fn estate_explanation_agrees_with_the_estate_role_enforced() {
        for is_root in [false, true] {
            for role in EstateRole::OPTIONS {
                for invitation in [None, Some(None), Some(Some(EstateRole::Viewer))] {
                    let f = EstateFacts { is_root, role, invitation };
                    let r = explain_estate(&f);
                    assert_eq!(r.effective, estate_role(&f), "{f:?}");
                    let expected = if is_root { Some(EstateRole::Owner) } else { role };
                    assert_eq!(r.effective, expected, "{f:?}");
                }
            }
        }
    }

    #[test]
    fn a_capped_override_is_shown_as_stored_and_counts_at_the_cap() {
        let r =
            explain_site(&SiteFacts::member(Some(EstateRole::Viewer), Some(SiteOverride::Admin)));
        let over = r.paths.iter().find(|p| p.kind == RolePathKind::SiteOverride);
        let over = over.copied().expect("an override path");
        assert_eq!(over.shown, Some("admin"));
        assert_eq!(over.grants, Some(SiteRole::Viewer));
        assert_eq!(over.reason, Some(NotCountedReason::CappedByEstateRole));
        assert!(over.counted);
    }
}
