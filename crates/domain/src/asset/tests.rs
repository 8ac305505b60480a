use super::*;

#[test]
fn counted_iff_level() {
    let now = Utc::now();
    let hs = [
        HouseholdFact {
            head_id: Some(Uuid::new_v4()),
            role: HouseholdRole::Editor,
            head_is_collaborator: false,
        },
        HouseholdFact {
            head_id: Some(Uuid::new_v4()),
            role: HouseholdRole::Viewer,
            head_is_collaborator: true,
        },
    ];
    let facts = AccessFacts { households: &hs, ..AccessFacts::none(now) };
    let r = explain(&facts);
    assert_eq!(r.effective, Some(AssetLevel::View));
    for p in &r.paths {
        assert_eq!(p.counted, p.level.is_some());
    }
    assert_eq!(r.counted_paths().count(), 1);
}

#[test]
fn no_paths_no_access() {
    let facts = AccessFacts::none(Utc::now());
    assert_eq!(effective_level(&facts), None);
    assert!(explain(&facts).paths.is_empty());
}

#[test]
fn placement_rules() {
    let base = PlacementFacts {
        is_root: false,
        asset_level: Some(AssetLevel::Full),
        target_site_role: Some(Some(SiteRole::Editor)),
        leaving_estate_role: None,
    };
    assert_eq!(check_placement(&base), Ok(()));
    assert_eq!(
        check_placement(&PlacementFacts { asset_level: Some(AssetLevel::Manage), ..base }),
        Err(PlacementRefusal::FullAccessRequired)
    );
    assert_eq!(
        check_placement(&PlacementFacts { target_site_role: Some(Some(SiteRole::Viewer)), ..base }),
        Err(PlacementRefusal::SiteEditorRequired)
    );
    assert_eq!(
        check_placement(&PlacementFacts { target_site_role: Some(None), ..base }),
        Err(PlacementRefusal::SiteEditorRequired)
    );
    assert_eq!(
        check_placement(&PlacementFacts {
            target_site_role: None,
            leaving_estate_role: Some(Some(EstateRole::Editor)),
            ..base
        }),
        Err(PlacementRefusal::EstateAdminRequired)
    );
    assert_eq!(
        check_placement(&PlacementFacts {
            target_site_role: None,
            leaving_estate_role: Some(Some(EstateRole::Admin)),
            ..base
        }),
        Ok(())
    );
    assert_eq!(
        check_placement(&PlacementFacts {
            is_root: true,
            asset_level: None,
            target_site_role: Some(None),
            leaving_estate_role: Some(None),
        }),
        Ok(())
    );
}
