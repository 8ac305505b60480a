//! The Cedar model of the asset access rules (`benches/cedar_model`, the
//! other side of the `resolver_vs_cedar` benchmark) decides exactly as
//! `effective_level` + `asset_can` do, for every action, on a few hundred
//! generated scenarios; and the check notices a rule that differs.

#[path = "../benches/cedar_model/mod.rs"]
mod cedar_model;

use cedar_model::{CedarModel, POLICIES, check_equivalence, scenarios};

#[test]
fn cedar_model_decides_as_the_resolver() {
    let model = CedarModel::new();
    let all = scenarios(0x5EED, 500);
    assert!(all.len() > 500);
    let compared = check_equivalence(&model, &all).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(compared, all.len() * 4);
}

#[test]
fn another_seed_agrees_too() {
    let model = CedarModel::new();
    let all = scenarios(42, 300);
    check_equivalence(&model, &all).unwrap_or_else(|e| panic!("{e}"));
}

/// Each mutation changes one rule of the Cedar model; the equivalence check
/// must find a scenario where it decides differently from the resolver.
#[test]
fn the_check_catches_a_rule_that_differs() {
    let mutations: [(&str, &str, &str); 10] = [
        (
            "root only views",
            "permit(principal, action, resource)\nwhen { principal.is_root };",
            "permit(principal, action in Action::\"view\", resource)\nwhen { principal.is_root };",
        ),
        (
            "household viewer gets edit",
            "(action in Action::\"view\" &&\n   principal.household_heads.viewer",
            "(action in Action::\"edit\" &&\n   principal.household_heads.viewer",
        ),
        (
            "household manager capped at edit",
            "principal.household_heads.manager.containsAny(resource.collaborators) ||",
            "(action in Action::\"edit\" &&\n   principal.household_heads.manager.containsAny(resource.collaborators)) ||",
        ),
        (
            "expiry inclusive (now == expiry still counts)",
            "then context.now < resource.getTag(principal.key).access_expires_at",
            "then context.now <= resource.getTag(principal.key).access_expires_at",
        ),
        (
            "revoked shares count",
            "resource.getTag(principal.key).status == \"active\"",
            "resource.getTag(principal.key).status != \"invitation_pending\"",
        ),
        (
            "an edit share gives manage",
            "resource.getTag(principal.key).permission == \"manage\"",
            "[\"edit\", \"manage\"].contains(resource.getTag(principal.key).permission)",
        ),
        (
            "override none does not keep a viewer off",
            "!(resource.site.hasTag(principal.key) &&\n    resource.site.getTag(principal.key) == \"none\")",
            "true",
        ),
        (
            "estate viewer not capped (override editor gives edit)",
            "principal in resource.site.estate.editors &&\n  (if",
            "principal in resource.site.estate.viewers &&\n  (if",
        ),
        (
            "override viewer does not lower an estate editor",
            "then [\"editor\", \"admin\"].contains(resource.site.getTag(principal.key))",
            "then [\"viewer\", \"editor\", \"admin\"].contains(resource.site.getTag(principal.key))",
        ),
        (
            "estate editors get full",
            "when { resource has site && principal in resource.site.estate.admins };",
            "when { resource has site && principal in resource.site.estate.editors };",
        ),
    ];
    let all = scenarios(0x5EED, 500);
    for (name, from, to) in mutations {
        assert_eq!(
            POLICIES.matches(from).count(),
            1,
            "mutation {name:?}: the text to replace must occur exactly once"
        );
        let mutated = POLICIES.replacen(from, to, 1);
        let model = CedarModel::with_policies(&mutated)
            .unwrap_or_else(|e| panic!("mutation {name:?} does not validate: {e}"));
        assert!(check_equivalence(&model, &all).is_err(), "mutation {name:?} went unnoticed");
    }
}

/// Cedar's datetime has millisecond precision; the model refuses finer times
/// rather than round them (which could flip an expiry at the boundary).
#[test]
fn sub_millisecond_times_are_refused() {
    let model = CedarModel::new();
    let mut s = scenarios(1, 0).remove(0);
    s.now += chrono::Duration::microseconds(1);
    assert!(model.request(&s, keyholder_domain::AssetLevel::View, false).is_err());
}
