//! Rules about accounts themselves: what an account whose email is not
//! verified may do.
//!
//! Anyone can register any address. Until the inbox is proven (the
//! verification link, a password reset link or an emailed invitation token),
//! the account may be a squatter's: it must not grant anything to anyone or
//! set up anything that would outlive it and be inherited by the address's
//! real owner (household members, collaborators, estates, invitations). It
//! may still keep its own garage: create assets, records and photos.

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
}
