//! The worked examples of the seed help pages, by name.

use chrono::{TimeZone, Utc};
use keyholder_domain::asset::{
    AccessFacts, AssetCapability, HouseholdFact, NotCountedReason, SitePathFact, asset_can,
    effective_level, explain,
};
use keyholder_domain::estate::{SiteCapability, effective_site_role, site_can};
use keyholder_domain::household::highest_inherited_role;
use keyholder_domain::{AssetLevel, EstateRole, HouseholdRole, SiteOverride, split_common_partial};
use uuid::Uuid;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().expect("valid date")
}

/// "if the household for `test` and `test2` can both access the same vehicle
/// but `test` only granted Viewer role to `test3` whereas `test2` granted
/// Manager role to `test3`, `test3` will have permissions from the Manager
/// Role."
#[test]
fn test3_in_households_of_test_and_test2_gets_highest_role() {
    let (test, test2) = (Uuid::new_v4(), Uuid::new_v4());
    let test3_households = [
        HouseholdFact {
            head_id: Some(test),
            role: HouseholdRole::Viewer,
            head_is_collaborator: true,
        },
        HouseholdFact {
            head_id: Some(test2),
            role: HouseholdRole::Manager,
            head_is_collaborator: true,
        },
    ];
    let facts = AccessFacts { households: &test3_households, ..AccessFacts::none(now()) };
    assert_eq!(highest_inherited_role(&test3_households), Some(HouseholdRole::Manager));
    assert_eq!(effective_level(&facts), Some(AssetLevel::Manage));
    assert!(asset_can(effective_level(&facts), AssetCapability::DeleteRecordsAndPhotos));
    let r = explain(&facts);
    assert_eq!(r.counted_paths().count(), 2);
}

/// "`test3` is a member of `test` household, but `test` is a member of
/// `test4` household, `test3` does not inherit vehicles from `test4`".
#[test]
fn test3_does_not_inherit_from_test4() {
    let (test, test4) = (Uuid::new_v4(), Uuid::new_v4());
    // test4 is a collaborator of the vehicle; test inherits it from test4.
    let test_households = [HouseholdFact {
        head_id: Some(test4),
        role: HouseholdRole::Manager,
        head_is_collaborator: true,
    }];
    let test_facts = AccessFacts { households: &test_households, ..AccessFacts::none(now()) };
    assert_eq!(effective_level(&test_facts), Some(AssetLevel::Manage));

    // test3's only household is test's, and test is not a collaborator:
    // test's inherited access passes nothing on.
    let test3_households = [HouseholdFact {
        head_id: Some(test),
        role: HouseholdRole::Manager,
        head_is_collaborator: false,
    }];
    let test3_facts = AccessFacts { households: &test3_households, ..AccessFacts::none(now()) };
    assert_eq!(effective_level(&test3_facts), None);
    let r = explain(&test3_facts);
    assert_eq!(r.paths.len(), 1);
    assert_eq!(r.paths[0].reason, Some(NotCountedReason::HeadNotCollaborator));
    assert_eq!(r.paths[0].via, Some(test));
}

/// "If a user is an Estate Viewer but you grant them Site Editor, they can
/// still only view - the estate role limits them."
#[test]
fn estate_viewer_with_site_editor_can_only_view() {
    let eff = effective_site_role(EstateRole::Viewer, Some(SiteOverride::Editor));
    assert!(site_can(eff, SiteCapability::Read));
    assert!(!site_can(eff, SiteCapability::EditContent));

    let facts = AccessFacts {
        site: Some(SitePathFact {
            site_id: Uuid::new_v4(),
            estate_id: Uuid::new_v4(),
            estate_role: Some(EstateRole::Viewer),
            site_override: Some(SiteOverride::Editor),
        }),
        ..AccessFacts::none(now())
    };
    assert_eq!(effective_level(&facts), Some(AssetLevel::View));
    let r = explain(&facts);
    assert_eq!(r.paths[0].reason, Some(NotCountedReason::CappedByEstateRole));
    assert_eq!(r.paths[0].claimed, Some(AssetLevel::Edit));
    assert_eq!(r.paths[0].level, Some(AssetLevel::View));
}

/// "Fix: Change their estate role to Editor or Admin."
#[test]
fn estate_viewer_fix_is_raising_the_estate_role_to_editor() {
    let eff = effective_site_role(EstateRole::Editor, Some(SiteOverride::Editor));
    assert!(site_can(eff, SiteCapability::EditContent));
    let eff = effective_site_role(EstateRole::Admin, Some(SiteOverride::Editor));
    assert!(site_can(eff, SiteCapability::EditContent));
}

/// "Users need estate Viewer (minimum) before site access works".
#[test]
fn site_access_needs_estate_viewer_minimum() {
    let facts = AccessFacts {
        site: Some(SitePathFact {
            site_id: Uuid::new_v4(),
            estate_id: Uuid::new_v4(),
            estate_role: None,
            site_override: Some(SiteOverride::Editor),
        }),
        ..AccessFacts::none(now())
    };
    assert_eq!(effective_level(&facts), None);
    assert_eq!(explain(&facts).paths[0].reason, Some(NotCountedReason::NoEstateMembership));
}

/// "`test` has access to both vehicles but `test2` only has access to one of
/// the vehicles": test is common, test2 partial.
#[test]
fn test_is_common_and_test2_is_partial() {
    let (v1, v2) = (Uuid::new_v4(), Uuid::new_v4());
    let (test, test2) = (Uuid::new_v4(), Uuid::new_v4());
    let split = split_common_partial(&[v1, v2], &[(v1, test), (v2, test), (v1, test2)]);
    assert_eq!(split.common, vec![test]);
    assert_eq!(split.partial, vec![(test2, vec![v1])]);
}
