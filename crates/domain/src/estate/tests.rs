use super::*;

#[test]
fn root_has_every_estate_and_site_capability_without_a_role() {
    let root = EstateActor::root(Uuid::nil());
    assert!(root.sees());
    assert!(EstateCapability::ALL.iter().all(|c| root.can(*c)));
    let at_site = SiteActor { is_root: true, effective: None };
    assert!(at_site.sees());
    assert!(SiteCapability::ALL.iter().all(|c| at_site.can(*c)));
}

#[test]
fn a_non_member_sees_nothing_and_a_member_has_their_roles_capabilities() {
    let stranger = EstateActor { user_id: Uuid::nil(), is_root: false, role: None };
    assert!(!stranger.sees());
    assert!(!stranger.can(EstateCapability::Read));
    let editor = EstateActor::member(Uuid::nil(), EstateRole::Editor);
    for c in EstateCapability::ALL {
        assert_eq!(editor.can(c), estate_can(EstateRole::Editor, c));
    }
    let kept_off = SiteActor { is_root: false, effective: None };
    assert!(!kept_off.sees() && !kept_off.can(SiteCapability::Read));
}

#[test]
fn admins_ignore_stray_overrides() {
    for o in SiteOverride::ALL {
        assert_eq!(effective_site_role(EstateRole::Admin, Some(o)), Some(SiteRole::Admin));
        assert_eq!(effective_site_role(EstateRole::Owner, Some(o)), Some(SiteRole::Admin));
    }
}

#[test]
fn every_refusal_has_a_distinct_code_and_a_detail() {
    crate::assert_distinct_codes(&GrantRefusal::ALL);
    for r in GrantRefusal::ALL {
        assert!(r.detail().ends_with('.'));
    }
}

#[test]
fn transfer_requires_owner_and_an_existing_member() {
    let owner = EstateActor::member(Uuid::new_v4(), EstateRole::Owner);
    let admin = EstateActor::member(Uuid::new_v4(), EstateRole::Admin);
    let other = Uuid::new_v4();
    assert_eq!(check_transfer_ownership(&owner, other, Some(EstateRole::Viewer)), Ok(()));
    assert_eq!(check_transfer_ownership(&owner, other, None), Err(GrantRefusal::NotAMember));
    assert_eq!(
        check_transfer_ownership(&owner, owner.user_id, Some(EstateRole::Owner)),
        Err(GrantRefusal::SelfRoleChange)
    );
    assert_eq!(
        check_transfer_ownership(&admin, other, Some(EstateRole::Editor)),
        Err(GrantRefusal::InsufficientRole)
    );
    assert!(promotion_drops_overrides(EstateRole::Owner));
    assert!(promotion_drops_overrides(EstateRole::Admin));
    assert!(!promotion_drops_overrides(EstateRole::Editor));
    assert_eq!(FORMER_OWNER_ROLE, EstateRole::Admin);
}

#[test]
fn replace_overrides_checks_only_changes() {
    let site_a = Uuid::new_v4();
    let site_b = Uuid::new_v4();
    let actor = EstateActor::member(Uuid::new_v4(), EstateRole::Editor);
    let target = EstateMember { user_id: Uuid::new_v4(), role: EstateRole::Viewer };
    let roles = |s: Uuid| {
        if s == site_a { Some(SiteRole::Admin) } else { Some(SiteRole::Editor) }
    };
    // Site admin at A may set an override at A and leave B's as it is.
    let current = [(site_b, SiteOverride::Viewer)];
    let requested = [(site_a, SiteOverride::Editor), (site_b, SiteOverride::Viewer)];
    assert_eq!(check_replace_overrides(&actor, roles, &target, &current, &requested), Ok(()));
    // Dropping B's override (by omitting it) touches a site they do not administer.
    let requested = [(site_a, SiteOverride::Editor)];
    assert_eq!(
        check_replace_overrides(&actor, roles, &target, &current, &requested),
        Err(GrantRefusal::SiteAdminScope)
    );
    // Duplicates are invalid input.
    let requested = [(site_a, SiteOverride::Editor), (site_a, SiteOverride::None)];
    assert_eq!(
        check_replace_overrides(&actor, roles, &target, &[], &requested),
        Err(GrantRefusal::DuplicateSite)
    );
    // An editor who administers no site involved has no standing at all.
    let no_admin = |_s: Uuid| Some(SiteRole::Editor);
    let requested = [(site_a, SiteOverride::Editor)];
    assert_eq!(
        check_replace_overrides(&actor, no_admin, &target, &[], &requested),
        Err(GrantRefusal::InsufficientRole)
    );
}
