//! Households: every non-root user heads one; members inherit exactly the
//! assets on which their head is a collaborator, at their role's level, one
//! level deep. A user in several households gets the highest role among the
//! heads that reach the asset.

use uuid::Uuid;

use crate::RefusalKind;
use crate::asset::HouseholdFact;
use crate::roles::{AssetLevel, HouseholdRole};

/// A user as households see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HouseholdUser {
    pub id: Uuid,
    pub is_root: bool,
}

/// What the store knows about the pair when a head adds a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddMemberFacts {
    /// The candidate is already a member of the head's household.
    pub already_member: bool,
    /// The head is a member of the candidate's household (adding would make
    /// the two members of each other's households).
    pub head_is_member_of_candidate: bool,
}

/// Why a household change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HouseholdRefusal {
    /// A root user has no household (404).
    #[error("a root user has no household")]
    RootHasNoHousehold,
    /// A user cannot join their own household (422).
    #[error("you cannot join your own household")]
    OwnHousehold,
    /// A root user cannot be a household member (422).
    #[error("a root user cannot be a household member")]
    RootCandidate,
    /// Already a member (409).
    #[error("already a member of this household")]
    AlreadyMember,
    /// Two users cannot be in each other's households (409).
    #[error("two users cannot be in each other's households")]
    MutualMembership,
    /// Only the head changes or removes members; a member may only leave
    /// (403).
    #[error("only the head of the household manages its members")]
    NotHead,
    /// The user is not a member of this household (404).
    #[error("not a member of this household")]
    NotAMember,
}

impl HouseholdRefusal {
    pub const ALL: [Self; 7] = [
        Self::RootHasNoHousehold,
        Self::OwnHousehold,
        Self::RootCandidate,
        Self::AlreadyMember,
        Self::MutualMembership,
        Self::NotHead,
        Self::NotAMember,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Self::RootHasNoHousehold => "root_has_no_household",
            Self::OwnHousehold => "own_household",
            Self::RootCandidate => "root_cannot_be_member",
            Self::AlreadyMember => "already_member",
            Self::MutualMembership => "mutual_membership",
            Self::NotHead => "not_household_head",
            Self::NotAMember => "not_household_member",
        }
    }

    pub const fn detail(self) -> &'static str {
        match self {
            Self::RootHasNoHousehold => {
                "Root users have no household: a household that sees every asset would be a security risk."
            }
            Self::OwnHousehold => "A user cannot be a member of their own household.",
            Self::RootCandidate => "A root user cannot be added as a household member.",
            Self::AlreadyMember => "The user is already a member of this household.",
            Self::MutualMembership => "Two users cannot be members of each other's households.",
            Self::NotHead => {
                "Only the head of a household adds, changes and removes its members; a member may leave."
            }
            Self::NotAMember => "The user is not a member of this household.",
        }
    }

    pub const fn kind(self) -> RefusalKind {
        match self {
            Self::RootHasNoHousehold | Self::NotAMember => RefusalKind::NotFound,
            Self::OwnHousehold | Self::RootCandidate => RefusalKind::Invalid,
            Self::AlreadyMember | Self::MutualMembership => RefusalKind::Conflict,
            Self::NotHead => RefusalKind::Forbidden,
        }
    }
}

/// Whether the user heads a household: everyone but root (404
/// `root_has_no_household` for root).
pub fn check_heads_household(user: HouseholdUser) -> Result<(), HouseholdRefusal> {
    first_refusal([(user.is_root, HouseholdRefusal::RootHasNoHousehold)])
}

/// The first refusal whose condition holds, in the order the spec answers
/// them; `Ok` when none does.
fn first_refusal<const N: usize>(
    checks: [(bool, HouseholdRefusal); N],
) -> Result<(), HouseholdRefusal> {
    checks.into_iter().find(|&(refused, _)| refused).map_or(Ok(()), |(_, refusal)| Err(refusal))
}

/// A head adding a candidate to their household. Checked in the spec's order
/// of answers: 404 (root head), 422 (own household, root candidate), 409
/// (already a member, mutual membership).
pub fn validate_add_member(
    head: HouseholdUser,
    candidate: HouseholdUser,
    facts: AddMemberFacts,
) -> Result<(), HouseholdRefusal> {
    check_heads_household(head)?;
    first_refusal([
        (head.id == candidate.id, HouseholdRefusal::OwnHousehold),
        (candidate.is_root, HouseholdRefusal::RootCandidate),
        (facts.already_member, HouseholdRefusal::AlreadyMember),
        (facts.head_is_member_of_candidate, HouseholdRefusal::MutualMembership),
    ])
}

/// Changing a member's role or removing them: the head only, and the user
/// must be a member. A member removing themselves is leaving, allowed.
pub fn check_manage_member(
    actor_id: Uuid,
    head_id: Uuid,
    member_id: Uuid,
    is_member: bool,
) -> Result<(), HouseholdRefusal> {
    first_refusal([
        (actor_id != head_id && actor_id != member_id, HouseholdRefusal::NotHead),
        (!is_member, HouseholdRefusal::NotAMember),
    ])
}

/// Changing a member's role: only the head (a member cannot raise their own
/// role).
pub fn check_change_role(
    actor_id: Uuid,
    head_id: Uuid,
    is_member: bool,
) -> Result<(), HouseholdRefusal> {
    first_refusal([
        (actor_id != head_id, HouseholdRefusal::NotHead),
        (!is_member, HouseholdRefusal::NotAMember),
    ])
}

/// The highest role among the households whose head is a collaborator of
/// the asset. Only direct memberships are passed in: inheritance is one
/// level, so a head's own inherited, shared or site-derived access is never
/// part of the input.
pub fn highest_inherited_role(households: &[HouseholdFact]) -> Option<HouseholdRole> {
    households.iter().filter(|h| h.head_is_collaborator).map(|h| h.role).max()
}

/// The level a user inherits on an asset through their households.
pub fn inherited_level(households: &[HouseholdFact]) -> Option<AssetLevel> {
    highest_inherited_role(households).map(HouseholdRole::level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> HouseholdUser {
        HouseholdUser { id: Uuid::new_v4(), is_root: false }
    }

    #[test]
    fn add_member_refusals_in_order() {
        let head = user();
        let cand = user();
        let root = HouseholdUser { id: Uuid::new_v4(), is_root: true };
        let none = AddMemberFacts::default();
        assert_eq!(validate_add_member(head, cand, none), Ok(()));
        assert_eq!(
            validate_add_member(root, cand, none),
            Err(HouseholdRefusal::RootHasNoHousehold)
        );
        assert_eq!(validate_add_member(head, head, none), Err(HouseholdRefusal::OwnHousehold));
        assert_eq!(validate_add_member(head, root, none), Err(HouseholdRefusal::RootCandidate));
        assert_eq!(
            validate_add_member(
                head,
                cand,
                AddMemberFacts { already_member: true, head_is_member_of_candidate: true }
            ),
            Err(HouseholdRefusal::AlreadyMember)
        );
        assert_eq!(
            validate_add_member(
                head,
                cand,
                AddMemberFacts { already_member: false, head_is_member_of_candidate: true }
            ),
            Err(HouseholdRefusal::MutualMembership)
        );
        assert_eq!(HouseholdRefusal::MutualMembership.kind().http_status(), 409);
        assert_eq!(HouseholdRefusal::RootCandidate.kind().http_status(), 422);
        assert_eq!(HouseholdRefusal::RootHasNoHousehold.kind().http_status(), 404);
    }

    #[test]
    fn only_the_head_manages_but_members_may_leave() {
        let head = Uuid::new_v4();
        let member = Uuid::new_v4();
        let other = Uuid::new_v4();
        assert_eq!(check_manage_member(head, head, member, true), Ok(()));
        assert_eq!(check_manage_member(member, head, member, true), Ok(()));
        assert_eq!(check_manage_member(other, head, member, true), Err(HouseholdRefusal::NotHead));
        assert_eq!(
            check_manage_member(head, head, other, false),
            Err(HouseholdRefusal::NotAMember)
        );
        assert_eq!(check_change_role(member, head, true), Err(HouseholdRefusal::NotHead));
        assert_eq!(check_change_role(head, head, true), Ok(()));
    }

    #[test]
    fn codes_are_distinct() {
        crate::assert_distinct_codes(&HouseholdRefusal::ALL);
    }
}
