//! Keyholder's access rules: roles, capabilities, access resolution, the
//! invitation lifecycle, household inheritance and validated values.
//!
//! Pure: no I/O, no database, no HTTP, no clock reads (time is passed in).
//! `shared/spec/domain.md` is the authority; every table row there has a
//! named test in this crate.

pub mod account;
pub mod asset;
pub mod collaborators;
pub mod disclosure;
pub mod estate;
pub mod estate_paths;
pub mod household;
pub mod invitation;
pub mod roles;
pub mod token;
pub mod values;

pub use asset::{
    AccessFacts, AssetCapability, HouseholdFact, NotCountedReason, PathEvaluation, PathKind,
    PlacementFacts, PlacementRefusal, Resolution, ShareFact, ShareStatus, SitePathFact,
    administers_asset, asset_can, effective_level, explain,
};
pub use collaborators::{CollaboratorRefusal, CollaboratorSplit, split_common_partial};
pub use estate::{
    EstateActor, EstateCapability, EstateMember, GrantRefusal, SiteCapability, cap,
    default_site_role, effective_site_role, effective_site_role_of, estate_can, site_can,
};
pub use household::{AddMemberFacts, HouseholdRefusal, HouseholdUser, validate_add_member};
pub use invitation::{
    InvitationEvent, InvitationState, ResendExpiry, TransitionRefusal, effective_state, transition,
};
pub use roles::{
    AssetLevel, EstateRole, HouseholdRole, InvitationPermission, SiteOverride, SiteRole,
    UnknownValue,
};
pub use token::{SecretToken, TokenHash};
pub use values::{DisplayName, Email, Expiry, Message, Password, Username, ValueError};

/// How a refusal should be answered at the HTTP edge. The domain does not
/// speak HTTP; this is the mapping the spec fixes (404 → 403 → 422 → 409,
/// plus 410 for accepting or declining an expired invitation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// 404: the thing does not exist or may not be seen.
    NotFound,
    /// 403: may see, may not act; the code names the rule.
    Forbidden,
    /// 422: invalid input.
    Invalid,
    /// 409: conflicts with the current state.
    Conflict,
    /// 410: gone (an expired invitation being accepted or declined).
    Gone,
}

/// A rule's refusal, as every check of the domain returns it: the kind of
/// answer (the HTTP edge maps it to a status), a stable code clients can
/// branch on, and a sentence for people. The API turns any refusal into its
/// error the same way (`ApiError::refused`).
pub trait Refusal {
    fn kind(&self) -> RefusalKind;
    fn code(&self) -> &'static str;
    fn detail(&self) -> std::borrow::Cow<'static, str>;
}

impl<R: Refusal + ?Sized> Refusal for &R {
    fn kind(&self) -> RefusalKind {
        (**self).kind()
    }
    fn code(&self) -> &'static str {
        (**self).code()
    }
    fn detail(&self) -> std::borrow::Cow<'static, str> {
        (**self).detail()
    }
}

/// [`Refusal`] for refusal types whose inherent `kind`, `code` and `detail`
/// take `self` by value.
macro_rules! refusal_by_value {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::Refusal for $t {
            fn kind(&self) -> $crate::RefusalKind {
                <$t>::kind(*self)
            }
            fn code(&self) -> &'static str {
                <$t>::code(*self)
            }
            fn detail(&self) -> std::borrow::Cow<'static, str> {
                <$t>::detail(*self).into()
            }
        }
    )*};
}

refusal_by_value!(
    estate::GrantRefusal,
    household::HouseholdRefusal,
    invitation::TransitionRefusal,
    invitation::InviteeRefusal,
    asset::PlacementRefusal,
    account::DisableRefusal,
);

impl Refusal for collaborators::CollaboratorRefusal {
    fn kind(&self) -> RefusalKind {
        Self::kind(self)
    }
    fn code(&self) -> &'static str {
        Self::code(self)
    }
    fn detail(&self) -> std::borrow::Cow<'static, str> {
        Self::detail(self).into()
    }
}

impl Refusal for account::DeletionRefusal {
    fn kind(&self) -> RefusalKind {
        Self::kind(self)
    }
    fn code(&self) -> &'static str {
        Self::code(self)
    }
    fn detail(&self) -> std::borrow::Cow<'static, str> {
        Self::detail(self).into()
    }
}

impl Refusal for account::UnverifiedRefusal {
    fn kind(&self) -> RefusalKind {
        Self::kind(*self)
    }
    fn code(&self) -> &'static str {
        Self::code(*self)
    }
    fn detail(&self) -> std::borrow::Cow<'static, str> {
        format!(
            "Verify your email address before {}: follow the link we sent you, or ask for a new one.",
            self.0.describe()
        )
        .into()
    }
}

/// No two of `refusals` share a code.
#[cfg(test)]
fn assert_distinct_codes<R: Refusal>(refusals: &[R]) {
    let mut codes: Vec<_> = refusals.iter().map(Refusal::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), refusals.len());
}

impl RefusalKind {
    /// The HTTP status the spec gives this kind of refusal.
    pub const fn http_status(self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Forbidden => 403,
            Self::Invalid => 422,
            Self::Conflict => 409,
            Self::Gone => 410,
        }
    }
}
