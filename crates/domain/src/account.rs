//! Rules about accounts themselves: what an account whose email is not
//! verified may do.
//!
//! Anyone can register any address. Until the inbox is proven (the
//! verification link, a password reset link or an emailed invitation token),
//! the account may be a squatter's: it must not grant anything to anyone or
//! set up anything that would outlive it and be inherited by the address's
//! real owner (household members, collaborators, estates, invitations). It
//! may still keep its own garage: create assets, records and photos.

use uuid::Uuid;

use crate::RefusalKind;

/// What an unverified account tried to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SharingAction {
    /// Add someone to my household, or change a member's role.
    HouseholdMember,
    /// Add a collaborator to an asset (one or many).
    Collaborator,
    /// Create an estate.
    CreateEstate,
    /// Grant an estate role, invite to an estate, or transfer ownership.
    EstateGrant,
    /// Send or resend an asset invitation.
    AssetInvitation,
}

impl SharingAction {
    pub const ALL: [Self; 5] = [
        Self::HouseholdMember,
        Self::Collaborator,
        Self::CreateEstate,
        Self::EstateGrant,
        Self::AssetInvitation,
    ];

    /// What the action is, for the refusal's detail.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::HouseholdMember => "adding people to your household",
            Self::Collaborator => "adding collaborators",
            Self::CreateEstate => "creating an estate",
            Self::EstateGrant => "granting estate roles or inviting",
            Self::AssetInvitation => "sending asset invitations",
        }
    }
}

/// Refusal for an unverified account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnverifiedRefusal(pub SharingAction);

impl UnverifiedRefusal {
    pub const fn code(self) -> &'static str {
        "email_not_verified"
    }

    pub const fn kind(self) -> RefusalKind {
        RefusalKind::Forbidden
    }
}

/// Whether an account may grant or set up shared things: only once its email
/// is verified.
pub fn check_may_share(
    email_verified: bool,
    action: SharingAction,
) -> Result<(), UnverifiedRefusal> {
    if email_verified { Ok(()) } else { Err(UnverifiedRefusal(action)) }
}

/// What the first proof of the inbox (verification or reset of an account
/// that was never verified) does to what the account set up before: every
/// grant it made to someone else ends. With [`check_may_share`] in force an
/// unverified account cannot make such grants; this rule also covers
/// accounts that made them before the rule existed.
pub const fn first_proof_revokes_earlier_grants(was_ever_verified: bool) -> bool {
    !was_ever_verified
}

/// What stands in the way of deleting an account: the estates it owns
/// (ownership moves only by transfer) and the assets it is the only
/// collaborator of (an asset always keeps one). Root accounts are not
/// deleted through the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletionFacts {
    pub is_root: bool,
    pub owned_estates: Vec<Uuid>,
    pub sole_collaborator_of: Vec<Uuid>,
}

/// Refusal to delete an account, naming everything in the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRefusal(pub DeletionFacts);

impl DeletionRefusal {
    pub const fn code(&self) -> &'static str {
        "account_deletion_blocked"
    }

    pub const fn kind(&self) -> RefusalKind {
        RefusalKind::Conflict
    }

    pub fn detail(&self) -> String {
        let f = &self.0;
        if f.is_root {
            return "A root account cannot be deleted.".to_owned();
        }
        let mut parts = Vec::new();
        match f.owned_estates.len() {
            0 => {}
            1 => parts.push("you own an estate: transfer its ownership first".to_owned()),
            n => parts.push(format!("you own {n} estates: transfer their ownership first")),
        }
        match f.sole_collaborator_of.len() {
            0 => {}
            1 => parts.push(
                "you are the only collaborator of an asset: add another collaborator or delete it"
                    .to_owned(),
            ),
            n => parts.push(format!(
                "you are the only collaborator of {n} assets: add other collaborators or delete them"
            )),
        }
        format!("Your account cannot be deleted yet: {}.", parts.join("; "))
    }
}

/// Whether an account may be deleted: not a root account, owning no
/// estate, and no asset left without a collaborator by its going.
pub fn check_may_delete(facts: DeletionFacts) -> Result<(), DeletionRefusal> {
    if facts.is_root || !facts.owned_estates.is_empty() || !facts.sole_collaborator_of.is_empty() {
        return Err(DeletionRefusal(facts));
    }
    Ok(())
}

/// Why root may not disable an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisableRefusal {
    /// Root's own account: it would lock itself out.
    Myself,
    /// The only enabled root account: nobody could administer the server.
    LastRoot,
}

impl DisableRefusal {
    pub const fn code(self) -> &'static str {
        match self {
            Self::Myself => "cannot_disable_self",
            Self::LastRoot => "last_root",
        }
    }

    pub const fn kind(self) -> RefusalKind {
        RefusalKind::Conflict
    }

    pub const fn detail(self) -> &'static str {
        match self {
            Self::Myself => "You cannot disable your own account.",
            Self::LastRoot => {
                "This is the only enabled root account; enable or create another first."
            }
        }
    }
}

/// Whether root may disable an account: not its own, and not the last
/// enabled root (`enabled_roots` counts the enabled root accounts, the
/// target included when it is one).
pub fn check_may_disable(
    actor: Uuid,
    target: Uuid,
    target_is_root: bool,
    enabled_roots: usize,
) -> Result<(), DisableRefusal> {
    if actor == target {
        return Err(DisableRefusal::Myself);
    }
    if target_is_root && enabled_roots <= 1 {
        return Err(DisableRefusal::LastRoot);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unverified_account_may_not_grant_or_set_up_anything_shared() {
        for action in SharingAction::ALL {
            let refused = check_may_share(false, action).expect_err("refused");
            assert_eq!(refused.code(), "email_not_verified");
            assert_eq!(refused.kind().http_status(), 403);
            assert!(!action.describe().is_empty());
        }
    }

    #[test]
    fn a_verified_account_may_share() {
        for action in SharingAction::ALL {
            assert_eq!(check_may_share(true, action), Ok(()));
        }
    }

    #[test]
    fn the_first_proof_of_a_never_verified_account_revokes_its_grants() {
        assert!(first_proof_revokes_earlier_grants(false));
        assert!(!first_proof_revokes_earlier_grants(true));
    }

    #[test]
    fn an_account_that_owns_an_estate_or_is_an_assets_last_collaborator_is_not_deleted() {
        let estate = Uuid::new_v4();
        let asset = Uuid::new_v4();
        let owner = DeletionFacts { owned_estates: vec![estate], ..DeletionFacts::default() };
        let refused = check_may_delete(owner).expect_err("owner");
        assert_eq!(refused.code(), "account_deletion_blocked");
        assert_eq!(refused.kind().http_status(), 409);
        assert!(refused.detail().contains("transfer its ownership"), "{}", refused.detail());
        let alone =
            DeletionFacts { sole_collaborator_of: vec![asset, asset], ..DeletionFacts::default() };
        let refused = check_may_delete(alone).expect_err("last collaborator");
        assert!(refused.detail().contains("only collaborator of 2 assets"), "{}", refused.detail());
        let both = DeletionFacts {
            is_root: false,
            owned_estates: vec![estate],
            sole_collaborator_of: vec![asset],
        };
        assert_eq!(check_may_delete(both.clone()).expect_err("both").0, both);
    }

    #[test]
    fn a_root_account_is_not_deleted() {
        let root = DeletionFacts { is_root: true, ..DeletionFacts::default() };
        let refused = check_may_delete(root).expect_err("root");
        assert_eq!(refused.detail(), "A root account cannot be deleted.");
    }

    #[test]
    fn an_account_with_nothing_in_the_way_may_be_deleted() {
        assert_eq!(check_may_delete(DeletionFacts::default()), Ok(()));
    }

    #[test]
    fn root_cannot_disable_itself_or_the_last_root() {
        let (root, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(check_may_disable(root, root, true, 2), Err(DisableRefusal::Myself));
        assert_eq!(check_may_disable(root, other, true, 1), Err(DisableRefusal::LastRoot));
        assert_eq!(check_may_disable(root, other, true, 2), Ok(()));
        assert_eq!(check_may_disable(root, other, false, 1), Ok(()));
        for r in [DisableRefusal::Myself, DisableRefusal::LastRoot] {
            assert_eq!(r.kind().http_status(), 409);
            assert!(!r.detail().is_empty());
        }
    }
}
