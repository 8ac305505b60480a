//! One named test per row of the estate tables in `shared/spec/domain.md`:
//! default/effective site roles, the capabilities table and the grant table
//! ("Who may grant what").

use keyholder_domain::estate::{
    EstateActor, EstateCapability as EC, EstateMember, GrantRefusal, SiteCapability as SC,
    administers_estate, administers_site, cap, check_edit_member, check_grant_new_member,
    check_leave, check_remove_member, check_replace_overrides, check_set_estate_role,
    check_set_override, check_transfer_ownership, default_site_role, effective_site_role,
    effective_site_role_of, estate_can, may_invite_members, override_is_capped,
    promotion_drops_overrides, site_can,
};
use keyholder_domain::{EstateRole, RefusalKind, SiteOverride, SiteRole};
use uuid::Uuid;

mod support;
use support::assert_answer;

use EstateRole::{Admin, Editor, Owner, Viewer};

fn actor(role: EstateRole) -> EstateActor {
    EstateActor::member(Uuid::new_v4(), role)
}

fn member(role: EstateRole) -> EstateMember {
    EstateMember { user_id: Uuid::new_v4(), role }
}

/// A fresh `by` actor changing a fresh `target` member's estate role `to`.
fn set_role(by: EstateRole, target: EstateRole, to: EstateRole) -> Result<(), GrantRefusal> {
    check_set_estate_role(&actor(by), &member(target), to)
}

/// The `admin` override, which only owners (and root) give or replace.
const ADMIN: Option<SiteOverride> = Some(SiteOverride::Admin);

/// Every override but `admin`, and no override at all.
const UP_TO_EDITOR: [Option<SiteOverride>; 4] =
    [None, Some(SiteOverride::None), Some(SiteOverride::Viewer), Some(SiteOverride::Editor)];

/// A fresh `by` actor changing a fresh `target` member's override from
/// `current` to `new`, at a site where the actor is site admin.
fn set_override(
    by: EstateRole,
    target: EstateRole,
    current: Option<SiteOverride>,
    new: Option<SiteOverride>,
) -> Result<(), GrantRefusal> {
    check_set_override(&actor(by), Some(SiteRole::Admin), &member(target), current, new)
}

/// `by` may give editors and viewers any override up to `editor` (or remove
/// theirs) when they currently hold `current`.
fn assert_sets_up_to_editor(by: EstateRole, current: Option<SiteOverride>) {
    for target in [Viewer, Editor] {
        for new in UP_TO_EDITOR {
            assert_eq!(set_override(by, target, current, new), Ok(()));
        }
    }
}

// --- Default and effective site roles ---------------------------------------

#[test]
fn default_site_role_owner_and_admin_give_admin_editor_gives_editor_viewer_gives_viewer() {
    // Viewer, editor, admin, owner:
    let defaults = EstateRole::ALL.map(default_site_role);
    assert_eq!(defaults, [SiteRole::Viewer, SiteRole::Editor, SiteRole::Admin, SiteRole::Admin]);
    for r in EstateRole::ALL {
        assert_eq!(effective_site_role(r, None), Some(default_site_role(r)));
    }
}

#[test]
fn cap_viewer_is_viewer_editor_admin_owner_are_admin() {
    // Viewer, editor, admin, owner:
    let caps = EstateRole::ALL.map(cap);
    assert_eq!(caps, [SiteRole::Viewer, SiteRole::Admin, SiteRole::Admin, SiteRole::Admin]);
}

#[test]
fn estate_viewer_is_read_only_at_every_site_whatever_the_override() {
    for o in SiteOverride::OPTIONS {
        let eff = effective_site_role(Viewer, o);
        assert!(eff <= Some(SiteRole::Viewer));
        assert!(!site_can(eff, SC::EditContent));
    }
}

#[test]
fn estate_editor_may_be_raised_lowered_or_kept_off_per_site() {
    assert_eq!(effective_site_role(Editor, Some(SiteOverride::Admin)), Some(SiteRole::Admin));
    assert_eq!(effective_site_role(Editor, Some(SiteOverride::Viewer)), Some(SiteRole::Viewer));
    assert_eq!(effective_site_role(Editor, Some(SiteOverride::None)), None);
}

#[test]
fn override_above_cap_is_stored_but_has_no_effect_until_estate_role_allows() {
    let o = Some(SiteOverride::Editor);
    assert!(override_is_capped(Viewer, o));
    assert_eq!(effective_site_role(Viewer, o), Some(SiteRole::Viewer));
    // Raising the estate role lets the stored override apply.
    assert!(!override_is_capped(Editor, o));
    assert_eq!(effective_site_role(Editor, o), Some(SiteRole::Editor));
}

#[test]
fn site_with_effective_role_none_is_invisible() {
    let eff = effective_site_role(Editor, Some(SiteOverride::None));
    assert_eq!(eff, None);
    assert!(!site_can(eff, SC::Read));
}

#[test]
fn any_site_access_requires_estate_membership() {
    for o in SiteOverride::OPTIONS {
        assert_eq!(effective_site_role_of(None, o), None);
    }
}

// --- Capabilities table -----------------------------------------------------

#[test]
fn any_estate_member_may_read_estate_list_its_sites_and_members() {
    for r in EstateRole::ALL {
        assert!(estate_can(r, EC::Read));
    }
    assert!(!estate_can(None, EC::Read));
}

#[test]
fn estate_editor_and_above_may_edit_estate_level_content() {
    assert!(!estate_can(Viewer, EC::EditContent));
    assert!(estate_can(Editor, EC::EditContent));
    assert!(estate_can(Admin, EC::EditContent));
    assert!(estate_can(Owner, EC::EditContent));
}

#[test]
fn estate_admin_and_above_may_rename_estate_create_delete_sites_and_change_settings() {
    assert!(!estate_can(Viewer, EC::Manage));
    assert!(!estate_can(Editor, EC::Manage));
    assert!(estate_can(Admin, EC::Manage));
    assert!(estate_can(Owner, EC::Manage));
    assert!(estate_can(Admin, EC::ManageMembers));
    assert!(!estate_can(Editor, EC::ManageMembers));
}

#[test]
fn only_owner_may_delete_estate_and_transfer_ownership() {
    for r in [Viewer, Editor, Admin] {
        assert!(!estate_can(r, EC::Delete));
        assert!(!estate_can(r, EC::TransferOwnership));
    }
    assert!(estate_can(Owner, EC::Delete));
    assert!(estate_can(Owner, EC::TransferOwnership));
}

#[test]
fn effective_site_viewer_and_above_may_read_site() {
    assert!(!site_can(None, SC::Read));
    for r in SiteRole::ALL {
        assert!(site_can(r, SC::Read));
    }
}

#[test]
fn effective_site_editor_and_above_may_edit_site_content() {
    assert!(!site_can(SiteRole::Viewer, SC::EditContent));
    assert!(site_can(SiteRole::Editor, SC::EditContent));
    assert!(site_can(SiteRole::Admin, SC::EditContent));
}

#[test]
fn only_effective_site_admin_may_manage_site_members() {
    assert!(!site_can(SiteRole::Viewer, SC::ManageMembers));
    assert!(!site_can(SiteRole::Editor, SC::ManageMembers));
    assert!(site_can(SiteRole::Admin, SC::ManageMembers));
}

#[test]
fn administers_means_estate_admin_or_owner_site_admin_or_root() {
    assert!(administers_estate(false, Some(Admin)));
    assert!(administers_estate(false, Some(Owner)));
    assert!(!administers_estate(false, Some(Editor)));
    assert!(administers_estate(true, None));
    assert!(administers_site(false, Some(SiteRole::Admin)));
    assert!(!administers_site(false, Some(SiteRole::Editor)));
    assert!(administers_site(true, None));
}

// --- Grant table: estate owner ---------------------------------------------

#[test]
fn estate_owner_may_grant_any_estate_role_but_owner() {
    let owner = actor(Owner);
    for from in [Viewer, Editor, Admin] {
        for to in [Viewer, Editor, Admin] {
            assert_eq!(check_set_estate_role(&owner, &member(from), to), Ok(()));
        }
        assert_eq!(
            check_set_estate_role(&owner, &member(from), Owner),
            Err(GrantRefusal::OwnerTransferRequired)
        );
    }
    for r in [Viewer, Editor, Admin] {
        assert_eq!(check_grant_new_member(&owner, r), Ok(()));
    }
    assert_eq!(check_grant_new_member(&owner, Owner), Err(GrantRefusal::OwnerTransferRequired));
}

#[test]
fn estate_owner_may_set_any_site_override() {
    for target in [Viewer, Editor] {
        for current in SiteOverride::OPTIONS {
            for new in SiteOverride::OPTIONS {
                assert_eq!(set_override(Owner, target, current, new), Ok(()));
            }
        }
    }
}

#[test]
fn estate_owner_may_remove_any_member_but_cannot_be_removed_or_demoted() {
    let owner = actor(Owner);
    for r in [Viewer, Editor, Admin] {
        assert_eq!(check_remove_member(&owner, &member(r)), Ok(()));
    }
    let admin = actor(Admin);
    let the_owner = member(Owner);
    assert_eq!(check_remove_member(&admin, &the_owner), Err(GrantRefusal::OwnerTransferRequired));
    assert_eq!(
        check_set_estate_role(&admin, &the_owner, Admin),
        Err(GrantRefusal::OwnerTransferRequired)
    );
}

#[test]
fn ownership_moves_only_by_transfer_and_old_owner_becomes_admin() {
    let owner = actor(Owner);
    let next = member(Editor);
    assert_eq!(check_transfer_ownership(&owner, next.user_id, Some(next.role)), Ok(()));
    assert_eq!(keyholder_domain::estate::FORMER_OWNER_ROLE, Admin);
    assert!(promotion_drops_overrides(Owner));
    assert_eq!(
        check_transfer_ownership(&actor(Admin), next.user_id, Some(next.role)),
        Err(GrantRefusal::InsufficientRole)
    );
}

// --- Grant table: estate admin ---------------------------------------------

#[test]
fn estate_admin_may_grant_estate_roles_editor_and_viewer() {
    let admin = actor(Admin);
    for from in [Viewer, Editor] {
        for to in [Viewer, Editor] {
            assert_eq!(check_set_estate_role(&admin, &member(from), to), Ok(()));
        }
    }
    assert_eq!(check_grant_new_member(&admin, Editor), Ok(()));
    assert_eq!(check_grant_new_member(&admin, Viewer), Ok(()));
}

#[test]
fn estate_admin_may_not_grant_admin() {
    assert_eq!(set_role(Admin, Editor, Admin), Err(GrantRefusal::CannotGrantRole));
    assert_eq!(check_grant_new_member(&actor(Admin), Admin), Err(GrantRefusal::CannotGrantRole));
}

#[test]
fn estate_admin_may_not_change_another_admin() {
    let admin = actor(Admin);
    let other = member(Admin);
    assert_eq!(
        check_set_estate_role(&admin, &other, Editor),
        Err(GrantRefusal::CannotChangeMember)
    );
    assert_eq!(check_remove_member(&admin, &other), Err(GrantRefusal::CannotChangeMember));
    assert_eq!(
        check_set_override(&admin, Some(SiteRole::Admin), &other, None, None),
        Err(GrantRefusal::CannotChangeMember)
    );
}

#[test]
fn estate_admin_may_remove_editors_and_viewers() {
    let admin = actor(Admin);
    assert_eq!(check_remove_member(&admin, &member(Editor)), Ok(()));
    assert_eq!(check_remove_member(&admin, &member(Viewer)), Ok(()));
}

#[test]
fn estate_admin_may_set_overrides_none_viewer_editor_at_any_site() {
    assert_sets_up_to_editor(Admin, Some(SiteOverride::Editor));
}

#[test]
fn estate_admin_may_not_set_an_admin_override() {
    assert_eq!(set_override(Admin, Editor, None, ADMIN), Err(GrantRefusal::CannotGrantRole));
}

#[test]
fn estate_admin_may_not_replace_an_admin_override() {
    for new in [None, Some(SiteOverride::None), Some(SiteOverride::Viewer)] {
        let replaced = set_override(Admin, Editor, ADMIN, new);
        assert_eq!(replaced, Err(GrantRefusal::CannotReplaceOverride));
    }
}

// --- Grant table: site admin ------------------------------------------------

#[test]
fn site_admin_may_set_overrides_none_viewer_editor_at_that_site_for_editors_and_viewers() {
    // A site admin is an estate editor raised to admin at the site.
    assert_sets_up_to_editor(Editor, Some(SiteOverride::Viewer));
}

#[test]
fn site_admin_may_not_change_estate_admins_or_owner() {
    for target in [Admin, Owner] {
        let changed = set_override(Editor, target, None, Some(SiteOverride::Viewer));
        assert_eq!(changed, Err(GrantRefusal::CannotChangeMember));
    }
}

#[test]
fn site_admin_may_not_grant_site_admin() {
    assert_eq!(set_override(Editor, Editor, None, ADMIN), Err(GrantRefusal::CannotGrantRole));
}

#[test]
fn site_admin_may_not_replace_an_admin_override() {
    let replaced = set_override(Editor, Editor, ADMIN, Some(SiteOverride::Editor));
    assert_eq!(replaced, Err(GrantRefusal::CannotReplaceOverride));
}

#[test]
fn site_admin_grants_at_that_site_only() {
    let site_admin = actor(Editor);
    let target = member(Viewer);
    // At a site where the actor is only an editor: no standing.
    let editor_override = Some(SiteOverride::Editor);
    let at_editor_site =
        check_set_override(&site_admin, Some(SiteRole::Editor), &target, None, editor_override);
    assert_eq!(at_editor_site, Err(GrantRefusal::InsufficientRole));
    // In a `sites` list touching another site: named as the site-admin scope rule.
    let (here, there) = (Uuid::new_v4(), Uuid::new_v4());
    let role_at = |s: Uuid| {
        if s == here { Some(SiteRole::Admin) } else { Some(SiteRole::Editor) }
    };
    let replace = |sites: &[(Uuid, SiteOverride)]| {
        check_replace_overrides(&site_admin, role_at, &target, &[], sites)
    };
    let both = [(here, SiteOverride::Editor), (there, SiteOverride::Editor)];
    assert_eq!(replace(&both), Err(GrantRefusal::SiteAdminScope));
    assert_eq!(replace(&[(here, SiteOverride::Editor)]), Ok(()));
}

#[test]
fn site_admin_may_not_grant_estate_roles() {
    let site_admin = actor(Editor);
    assert_eq!(set_role(Editor, Viewer, Editor), Err(GrantRefusal::InsufficientRole));
    assert_eq!(check_grant_new_member(&site_admin, Viewer), Err(GrantRefusal::InsufficientRole));
    assert!(!may_invite_members(&site_admin));
}

// --- Grant table: editor, viewer --------------------------------------------

#[test]
fn editor_and_viewer_may_grant_nothing() {
    for r in [Editor, Viewer] {
        let a = actor(r);
        let t = member(Viewer);
        assert_eq!(check_set_estate_role(&a, &t, Viewer), Err(GrantRefusal::InsufficientRole));
        assert_eq!(check_remove_member(&a, &t), Err(GrantRefusal::InsufficientRole));
        assert_eq!(check_grant_new_member(&a, Viewer), Err(GrantRefusal::InsufficientRole));
        // At a site where their effective role is not admin.
        let eff = effective_site_role(r, None);
        assert_ne!(eff, Some(SiteRole::Admin));
        assert_eq!(
            check_set_override(&a, eff, &t, None, Some(SiteOverride::Viewer)),
            Err(GrantRefusal::InsufficientRole)
        );
        assert!(!may_invite_members(&a));
    }
}

// --- Rules below the grant table ---------------------------------------------

#[test]
fn nobody_changes_their_own_role() {
    for r in EstateRole::ALL {
        let a = actor(r);
        let me = EstateMember { user_id: a.user_id, role: r };
        assert_eq!(check_set_estate_role(&a, &me, Viewer), Err(GrantRefusal::SelfRoleChange));
        assert_eq!(
            check_set_override(&a, Some(SiteRole::Admin), &me, None, None),
            Err(GrantRefusal::SelfRoleChange)
        );
    }
    let root = EstateActor::root(Uuid::new_v4());
    let me = EstateMember { user_id: root.user_id, role: Admin };
    assert_eq!(check_set_estate_role(&root, &me, Editor), Err(GrantRefusal::SelfRoleChange));
}

#[test]
fn member_may_leave_but_owner_must_transfer_first() {
    for r in [Viewer, Editor, Admin] {
        assert_eq!(check_leave(&member(r)), Ok(()));
    }
    assert_eq!(check_leave(&member(Owner)), Err(GrantRefusal::OwnerTransferRequired));
}

#[test]
fn owners_and_admins_cannot_be_given_overrides_422() {
    let owner = actor(Owner);
    for target in [Admin, Owner] {
        for o in SiteOverride::ALL {
            let err =
                check_set_override(&owner, Some(SiteRole::Admin), &member(target), None, Some(o))
                    .expect_err("no overrides for admins");
            assert_eq!(err, GrantRefusal::NoOverrideForAdmins);
            assert_answer(&err, "no_override_for_admins", RefusalKind::Invalid, 422);
        }
    }
}

#[test]
fn promotion_to_estate_admin_or_owner_deletes_overrides() {
    assert!(promotion_drops_overrides(Admin));
    assert!(promotion_drops_overrides(Owner));
    assert!(!promotion_drops_overrides(Editor));
    assert!(!promotion_drops_overrides(Viewer));
}

#[test]
fn root_has_the_owners_granting_powers() {
    let root = EstateActor::root(Uuid::new_v4());
    assert_eq!(check_set_estate_role(&root, &member(Editor), Admin), Ok(()));
    let to_owner = check_set_estate_role(&root, &member(Editor), Owner);
    assert_eq!(to_owner, Err(GrantRefusal::OwnerTransferRequired));
    assert_eq!(
        check_set_override(&root, None, &member(Editor), None, Some(SiteOverride::Admin)),
        Ok(())
    );
}

#[test]
fn forbidden_grants_are_403_with_codes_naming_the_rule() {
    let expected = [
        ("self_role_change", 403),
        ("owner_transfer_required", 403),
        ("cannot_grant_role", 403),
        ("cannot_change_member", 403),
        ("cannot_replace_override", 403),
        ("no_override_for_admins", 422),
        ("not_a_member", 404),
        ("site_admin_scope", 403),
        ("insufficient_role", 403),
        ("duplicate_site", 422),
    ];
    for (r, (code, status)) in GrantRefusal::ALL.iter().zip(expected) {
        assert_eq!(r.code(), code);
        assert_eq!(r.kind().http_status(), status, "{code}");
        assert!(!r.detail().is_empty());
    }
}

// --- Editing a member at all (before the body is read) ----------------------

#[test]
fn editing_a_member_needs_authority_even_for_an_unchanged_save() {
    // Viewers and editors hold none, whatever the body says.
    for r in [Viewer, Editor] {
        for t in [Viewer, Editor, Admin] {
            assert_eq!(
                check_edit_member(&actor(r), false, &member(t)),
                Err(GrantRefusal::InsufficientRole)
            );
        }
    }
    // Owners edit anyone but the owner; admins and site admins edit editors
    // and viewers only.
    for t in [Viewer, Editor, Admin] {
        assert_eq!(check_edit_member(&actor(Owner), false, &member(t)), Ok(()));
    }
    for t in [Viewer, Editor] {
        assert_eq!(check_edit_member(&actor(Admin), false, &member(t)), Ok(()));
        assert_eq!(check_edit_member(&actor(Editor), true, &member(t)), Ok(()));
    }
    assert_eq!(
        check_edit_member(&actor(Admin), false, &member(Admin)),
        Err(GrantRefusal::CannotChangeMember)
    );
    assert_eq!(
        check_edit_member(&actor(Editor), true, &member(Admin)),
        Err(GrantRefusal::CannotChangeMember)
    );
    for r in EstateRole::ALL {
        assert_eq!(
            check_edit_member(&actor(r), true, &member(Owner)),
            Err(GrantRefusal::OwnerTransferRequired)
        );
    }
    let me = actor(Owner);
    let myself = EstateMember { user_id: me.user_id, role: Owner };
    assert_eq!(check_edit_member(&me, false, &myself), Err(GrantRefusal::SelfRoleChange));
}
