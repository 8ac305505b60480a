//! Steps and fixtures shared by the tests (each includes this module with
//! `mod support;`) and the resolver benchmark (with `#[path]`). Each includer
//! uses a different part of it, hence the `dead_code` allowance.

#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use keyholder_domain::asset::{
    AccessFacts, HouseholdFact, OwnedAccessFacts, ShareFact, ShareStatus, SitePathFact,
};
use keyholder_domain::{
    EstateRole, HouseholdRole, InvitationPermission, Refusal, RefusalKind, SiteOverride,
};
use uuid::Uuid;

/// A refusal is answered with `code`, as `kind`, whose HTTP status is
/// `status`.
pub fn assert_answer(err: &impl Refusal, code: &str, kind: RefusalKind, status: u16) {
    assert_eq!(err.code(), code);
    assert_eq!(err.kind(), kind);
    assert_eq!(err.kind().http_status(), status);
}

/// A realistic mix of facts for a user who is not a collaborator (so every
/// path is evaluated): `households` memberships (roles in turn, every other
/// head a collaborator), `shares` shares (in turn: edit past its expiry,
/// revoked manage, view expiring tomorrow) and an estate editor's admin
/// override at the asset's site.
pub fn mixed_facts(now: DateTime<Utc>, households: u128, shares: u128) -> OwnedAccessFacts {
    let households = (0..households)
        .map(|i| HouseholdFact {
            head_id: Some(Uuid::from_u128(i + 1)),
            role: HouseholdRole::ALL[usize::try_from(i % 3).expect("small")],
            head_is_collaborator: i % 2 == 0,
        })
        .collect();
    let shares = (0..shares)
        .map(|i| {
            let id = Uuid::from_u128(10 + i);
            match i % 3 {
                0 => {
                    ShareFact::active(id, InvitationPermission::Edit, Some(now - Duration::days(1)))
                }
                1 => ShareFact {
                    status: ShareStatus::Revoked,
                    ..ShareFact::active(id, InvitationPermission::Manage, None)
                },
                _ => {
                    ShareFact::active(id, InvitationPermission::View, Some(now + Duration::days(1)))
                }
            }
        })
        .collect();
    let site = SitePathFact {
        site_id: Uuid::from_u128(20),
        estate_id: Uuid::from_u128(21),
        estate_role: Some(EstateRole::Editor),
        site_override: Some(SiteOverride::Admin),
    };
    OwnedAccessFacts {
        households,
        shares,
        rest: AccessFacts { site: Some(site), ..AccessFacts::none(now) },
    }
}
