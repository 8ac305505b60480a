//! One named test per row of the asset tables in `shared/spec/domain.md`: the
//! paths to an asset, the asset capability table and the collaborator vs
//! household member matrix.

use chrono::{DateTime, Duration, TimeZone, Utc};
use keyholder_domain::asset::{
    AccessFacts, AssetCapability as AC, HouseholdFact, NotCountedReason, PathKind, ShareFact,
    ShareStatus, SitePathFact, administers_asset, asset_can, effective_level, explain,
};
use keyholder_domain::household::inherited_level;
use keyholder_domain::{AssetLevel, EstateRole, HouseholdRole, InvitationPermission, SiteOverride};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().expect("valid date")
}

fn household(role: HouseholdRole, head_is_collaborator: bool) -> HouseholdFact {
    HouseholdFact { head_id: Some(Uuid::new_v4()), role, head_is_collaborator }
}

fn site(estate_role: Option<EstateRole>, site_override: Option<SiteOverride>) -> SitePathFact {
    SitePathFact { site_id: Uuid::new_v4(), estate_id: Uuid::new_v4(), estate_role, site_override }
}

/// The level a household member of a collaborator head gets.
fn member_level(role: HouseholdRole) -> Option<AssetLevel> {
    let hs = [household(role, true)];
    effective_level(&AccessFacts { households: &hs, ..AccessFacts::none(now()) })
}

fn collaborator_level() -> Option<AssetLevel> {
    effective_level(&AccessFacts { is_collaborator: true, ..AccessFacts::none(now()) })
}

// --- Paths to an asset -------------------------------------------------------

#[test]
fn root_user_has_full() {
    let facts = AccessFacts { is_root: true, ..AccessFacts::none(now()) };
    assert_eq!(effective_level(&facts), Some(AssetLevel::Full));
    let r = explain(&facts);
    assert_eq!(r.paths[0].kind, PathKind::Root);
    assert!(r.administers());
}

#[test]
fn collaborator_of_the_asset_has_full() {
    assert_eq!(collaborator_level(), Some(AssetLevel::Full));
}

#[test]
fn household_member_whose_head_is_a_collaborator_gets_the_members_role_level() {
    assert_eq!(member_level(HouseholdRole::Viewer), Some(AssetLevel::View));
    assert_eq!(member_level(HouseholdRole::Editor), Some(AssetLevel::Edit));
    assert_eq!(member_level(HouseholdRole::Manager), Some(AssetLevel::Manage));
}

#[test]
fn household_member_whose_head_is_not_a_collaborator_gets_nothing() {
    let hs = [household(HouseholdRole::Manager, false)];
    let facts = AccessFacts { households: &hs, ..AccessFacts::none(now()) };
    assert_eq!(effective_level(&facts), None);
    let r = explain(&facts);
    assert_eq!(r.paths[0].reason, Some(NotCountedReason::HeadNotCollaborator));
    assert_eq!(r.paths[0].claimed, Some(AssetLevel::Manage));
    assert_eq!(r.paths[0].via, hs[0].head_id);
}

#[test]
fn share_not_expired_gives_its_permission() {
    for (p, l) in [
        (InvitationPermission::View, AssetLevel::View),
        (InvitationPermission::Edit, AssetLevel::Edit),
        (InvitationPermission::Manage, AssetLevel::Manage),
    ] {
        for expiry in [None, Some(now() + Duration::hours(1))] {
            let shares = [ShareFact::active(Uuid::new_v4(), p, expiry)];
            let facts = AccessFacts { shares: &shares, ..AccessFacts::none(now()) };
            assert_eq!(effective_level(&facts), Some(l));
        }
    }
}

#[test]
fn expired_revoked_or_pending_share_gives_nothing() {
    let id = Uuid::new_v4();
    let cases = [
        (
            ShareFact::active(id, InvitationPermission::Manage, Some(now())),
            NotCountedReason::ShareExpired,
        ),
        (
            ShareFact {
                status: ShareStatus::Revoked,
                ..ShareFact::active(id, InvitationPermission::Manage, None)
            },
            NotCountedReason::ShareRevoked,
        ),
        (
            ShareFact {
                status: ShareStatus::InvitationPending,
                ..ShareFact::active(id, InvitationPermission::Manage, None)
            },
            NotCountedReason::InvitationPending,
        ),
    ];
    for (share, reason) in cases {
        let shares = [share];
        let facts = AccessFacts { shares: &shares, ..AccessFacts::none(now()) };
        assert_eq!(effective_level(&facts), None);
        let r = explain(&facts);
        assert_eq!(r.paths[0].reason, Some(reason));
        assert!(!r.paths[0].counted);
        assert_eq!(r.paths[0].via, Some(id));
    }
}

#[test]
fn asset_at_a_site_gives_the_effective_site_role_viewer_view_editor_edit_admin_manage() {
    let cases = [
        (EstateRole::Viewer, None, AssetLevel::View),
        (EstateRole::Editor, None, AssetLevel::Edit),
        (EstateRole::Editor, Some(SiteOverride::Admin), AssetLevel::Manage),
        (EstateRole::Editor, Some(SiteOverride::Viewer), AssetLevel::View),
    ];
    for (role, o, level) in cases {
        let facts = AccessFacts { site: Some(site(Some(role), o)), ..AccessFacts::none(now()) };
        assert_eq!(effective_level(&facts), Some(level), "{role} {o:?}");
        let r = explain(&facts);
        assert_eq!(r.paths.len(), 1);
        assert_eq!(r.paths[0].kind, PathKind::Site);
    }
}

#[test]
fn asset_at_a_site_the_member_is_kept_off_or_without_membership_gives_nothing() {
    let kept_off = AccessFacts {
        site: Some(site(Some(EstateRole::Editor), Some(SiteOverride::None))),
        ..AccessFacts::none(now())
    };
    assert_eq!(effective_level(&kept_off), None);
    assert_eq!(explain(&kept_off).paths[0].reason, Some(NotCountedReason::KeptOffSite));
    let outsider = AccessFacts { site: Some(site(None, None)), ..AccessFacts::none(now()) };
    assert_eq!(effective_level(&outsider), None);
    assert_eq!(explain(&outsider).paths[0].reason, Some(NotCountedReason::NoEstateMembership));
}

#[test]
fn asset_in_an_estate_where_the_user_is_owner_or_admin_gives_full() {
    for role in [EstateRole::Admin, EstateRole::Owner] {
        let s = site(Some(role), None);
        let facts = AccessFacts { site: Some(s), ..AccessFacts::none(now()) };
        assert_eq!(effective_level(&facts), Some(AssetLevel::Full));
        let r = explain(&facts);
        let estate =
            r.paths.iter().find(|p| p.kind == PathKind::EstateAdmin).expect("estate admin path");
        assert_eq!(estate.level, Some(AssetLevel::Full));
        assert_eq!(estate.via, Some(s.estate_id));
    }
    for role in [EstateRole::Viewer, EstateRole::Editor] {
        let facts = AccessFacts { site: Some(site(Some(role), None)), ..AccessFacts::none(now()) };
        assert!(effective_level(&facts) < Some(AssetLevel::Full));
    }
}

#[test]
fn the_highest_level_over_all_paths_applies() {
    let hs = [household(HouseholdRole::Viewer, true)];
    let shares = [ShareFact::active(Uuid::new_v4(), InvitationPermission::Edit, None)];
    let facts = AccessFacts {
        households: &hs,
        shares: &shares,
        site: Some(site(Some(EstateRole::Editor), Some(SiteOverride::Admin))),
        ..AccessFacts::none(now())
    };
    assert_eq!(effective_level(&facts), Some(AssetLevel::Manage));
    let r = explain(&facts);
    assert_eq!(r.effective, Some(AssetLevel::Manage));
    assert_eq!(r.counted_paths().count(), 3);
}

// --- Asset capability table --------------------------------------------------

#[test]
fn view_may_read_the_asset_its_records_photos_and_collaborator_list() {
    assert!(asset_can(AssetLevel::View, AC::Read));
    assert!(!asset_can(None, AC::Read));
    assert!(!asset_can(AssetLevel::View, AC::UpdateDetails));
}

#[test]
fn edit_may_update_asset_fields_add_and_edit_records_add_photos() {
    for c in [AC::UpdateDetails, AC::AddEditRecords, AC::AddPhotos] {
        assert!(!asset_can(AssetLevel::View, c));
        assert!(asset_can(AssetLevel::Edit, c));
    }
    assert!(!asset_can(AssetLevel::Edit, AC::DeleteRecordsAndPhotos));
}

#[test]
fn manage_may_delete_records_and_photos() {
    assert!(!asset_can(AssetLevel::Edit, AC::DeleteRecordsAndPhotos));
    assert!(asset_can(AssetLevel::Manage, AC::DeleteRecordsAndPhotos));
    assert!(!asset_can(AssetLevel::Manage, AC::DeleteAsset));
}

#[test]
fn full_may_delete_the_asset_manage_collaborators_invitations_shares_and_move_it() {
    for c in [
        AC::DeleteAsset,
        AC::ManageCollaborators,
        AC::ManageInvitations,
        AC::ManageShares,
        AC::MoveAsset,
    ] {
        assert!(!asset_can(AssetLevel::Manage, c));
        assert!(asset_can(AssetLevel::Full, c));
    }
    assert!(administers_asset(Some(AssetLevel::Full)));
    assert!(!administers_asset(Some(AssetLevel::Manage)));
}

#[test]
fn every_capability_is_monotone_in_the_level() {
    for c in AC::ALL {
        for (i, lo) in AssetLevel::ALL.iter().enumerate() {
            for hi in &AssetLevel::ALL[i..] {
                assert!(!asset_can(*lo, c) || asset_can(*hi, c));
            }
        }
    }
}

// --- Collaborator vs household member matrix ---------------------------------

/// (collaborator, household viewer, household editor, household manager)
fn matrix_row(c: AC) -> [bool; 4] {
    [
        asset_can(collaborator_level(), c),
        asset_can(member_level(HouseholdRole::Viewer), c),
        asset_can(member_level(HouseholdRole::Editor), c),
        asset_can(member_level(HouseholdRole::Manager), c),
    ]
}

/// One named test per row of the matrix: each capability of the row gives
/// `[collaborator, household viewer, household editor, household manager]`.
macro_rules! matrix_tests {
    ($($name:ident: $($capability:ident),+ => $row:expr;)+) => {$(
        #[test]
        fn $name() {
            for c in [$(AC::$capability),+] {
                assert_eq!(matrix_row(c), $row, "{c:?}");
            }
        }
    )+};
}

matrix_tests! {
    matrix_delete_the_vehicle_and_manage_collaborators_collaborator_only:
        DeleteAsset, ManageCollaborators => [true, false, false, false];
    matrix_add_and_edit_records_collaborator_household_editor_and_manager:
        AddEditRecords => [true, false, true, true];
    matrix_delete_records_collaborator_and_household_manager:
        DeleteRecordsAndPhotos => [true, false, false, true];
    matrix_edit_vehicle_details_collaborator_household_editor_and_manager:
        UpdateDetails => [true, false, true, true];
    matrix_read_export_print_everyone:
        Read => [true, true, true, true];
}

#[test]
fn matrix_inherit_the_heads_vehicles_automatically_household_members_only() {
    // A household member reaches every asset their head collaborates on,
    // with no row of their own on it.
    for role in HouseholdRole::ALL {
        let hs = [household(role, true)];
        assert_eq!(inherited_level(&hs), Some(role.level()));
    }
    // A collaborator is per asset: being one on the head's other vehicle,
    // or being the head's collaborator peer, gives nothing on this one.
    let not_on_this_vehicle = AccessFacts::none(now());
    assert_eq!(effective_level(&not_on_this_vehicle), None);
}

#[test]
fn household_viewer_cannot_add_records() {
    assert!(!asset_can(member_level(HouseholdRole::Viewer), AC::AddEditRecords));
    assert!(!asset_can(member_level(HouseholdRole::Viewer), AC::AddPhotos));
}

#[test]
fn household_members_cannot_delete_or_manage_collaborators_of_inherited_vehicles() {
    for role in HouseholdRole::ALL {
        assert!(!asset_can(member_level(role), AC::DeleteAsset));
        assert!(!asset_can(member_level(role), AC::ManageCollaborators));
    }
}

#[test]
fn only_paths_through_the_asset_relate_a_user_to_it() {
    // Unrelated facts: a household whose head is not a collaborator, an
    // estate the user is not in, root's blanket access.
    let hs = [household(HouseholdRole::Manager, false), household(HouseholdRole::Viewer, true)];
    let facts = AccessFacts {
        is_root: true,
        households: &hs,
        site: Some(site(None, None)),
        ..AccessFacts::none(now())
    };
    let r = explain(&facts);
    let related: Vec<(PathKind, Option<NotCountedReason>)> =
        r.paths.iter().filter(|p| p.relates_to_asset()).map(|p| (p.kind, p.reason)).collect();
    assert_eq!(related, [(PathKind::Household, None)]);
    // Every other kind of path relates, counted or not.
    let shares = [ShareFact {
        status: ShareStatus::Revoked,
        ..ShareFact::active(Uuid::new_v4(), InvitationPermission::View, None)
    }];
    let facts = AccessFacts {
        is_collaborator: true,
        shares: &shares,
        site: Some(site(Some(EstateRole::Viewer), Some(SiteOverride::None))),
        ..AccessFacts::none(now())
    };
    assert!(explain(&facts).paths.iter().all(|p| p.relates_to_asset()));
}
