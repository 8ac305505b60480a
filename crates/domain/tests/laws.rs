//! Property tests of the composition laws and the lifecycle.

use chrono::{DateTime, Duration, TimeZone, Utc};
use keyholder_domain::asset::{
    AccessFacts, HouseholdFact, OwnedAccessFacts as Facts, PathKind, ShareFact, ShareStatus,
    SitePathFact, effective_level, explain,
};
use keyholder_domain::estate::{SiteCapability, cap, effective_site_role, site_can};
use keyholder_domain::invitation::{
    ResendExpiry, ShareGrant, is_allowed_transition, merge_estate_role, merge_share, resend_expiry,
};
use keyholder_domain::{
    AssetLevel, Email, EstateRole, HouseholdRole, InvitationEvent, InvitationPermission,
    InvitationState, SiteOverride, effective_state, split_common_partial, transition,
};
use proptest::prelude::*;
use proptest::sample::select;
use uuid::Uuid;

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().expect("valid date")
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

fn expiry() -> impl Strategy<Value = Option<DateTime<Utc>>> {
    prop::option::of((-120_i64..120).prop_map(|m| base() + Duration::minutes(m)))
}

fn household() -> impl Strategy<Value = HouseholdFact> {
    (uuid(), select(HouseholdRole::ALL.to_vec()), any::<bool>()).prop_map(
        |(head_id, role, head_is_collaborator)| HouseholdFact {
            head_id: Some(head_id),
            role,
            head_is_collaborator,
        },
    )
}

fn share() -> impl Strategy<Value = ShareFact> {
    (
        uuid(),
        select(InvitationPermission::ALL.to_vec()),
        expiry(),
        select(vec![
            ShareStatus::Active,
            ShareStatus::Active,
            ShareStatus::Revoked,
            ShareStatus::InvitationPending,
        ]),
    )
        .prop_map(|(id, permission, access_expires_at, status)| ShareFact {
            id,
            permission,
            access_expires_at,
            status,
        })
}

fn estate_role() -> impl Strategy<Value = Option<EstateRole>> {
    prop::option::of(select(EstateRole::ALL.to_vec()))
}

fn site_override() -> impl Strategy<Value = Option<SiteOverride>> {
    prop::option::of(select(SiteOverride::ALL.to_vec()))
}

fn site() -> impl Strategy<Value = SitePathFact> {
    (uuid(), uuid(), estate_role(), site_override()).prop_map(
        |(site_id, estate_id, estate_role, site_override)| SitePathFact {
            site_id,
            estate_id,
            estate_role,
            site_override,
        },
    )
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.2),
        prop::collection::vec(household(), 0..6),
        prop::collection::vec(share(), 0..5),
        prop::option::of(site()),
    )
        .prop_map(|(is_root, is_collaborator, households, shares, site)| Facts {
            households,
            shares,
            rest: AccessFacts { is_root, is_collaborator, site, ..AccessFacts::none(base()) },
        })
}

fn next<T: Copy + PartialEq>(all: &[T], x: T) -> T {
    let i = all.iter().position(|&y| y == x).unwrap_or(0);
    all[(i + 1).min(all.len() - 1)]
}

/// Raises exactly one path of `f` (or adds one), chosen by `which`.
fn raise(f: &Facts, which: usize, pick: usize) -> Facts {
    let mut g = f.clone();
    match which % 9 {
        0 => g.rest.is_root = true,
        1 => g.rest.is_collaborator = true,
        2 if !g.households.is_empty() => {
            let i = pick % g.households.len();
            g.households[i].role = next(&HouseholdRole::ALL, g.households[i].role);
        }
        3 if !g.households.is_empty() => {
            let i = pick % g.households.len();
            g.households[i].head_is_collaborator = true;
        }
        4 if !g.shares.is_empty() => {
            let i = pick % g.shares.len();
            g.shares[i].permission = next(&InvitationPermission::ALL, g.shares[i].permission);
        }
        5 if !g.shares.is_empty() => {
            let i = pick % g.shares.len();
            g.shares[i].status = ShareStatus::Active;
            g.shares[i].access_expires_at =
                g.shares[i].access_expires_at.map(|t| t + Duration::hours(3));
        }
        6 => {
            if let Some(s) = &mut g.rest.site {
                s.estate_role =
                    Some(s.estate_role.map_or(EstateRole::Viewer, |r| next(&EstateRole::ALL, r)));
            }
        }
        7 => {
            if let Some(s) = &mut g.rest.site {
                s.site_override = Some(
                    s.site_override.map_or(SiteOverride::Admin, |o| next(&SiteOverride::ALL, o)),
                );
            }
        }
        _ => g.households.push(HouseholdFact {
            head_id: Some(Uuid::from_u128(pick as u128)),
            role: HouseholdRole::Viewer,
            head_is_collaborator: true,
        }),
    }
    g
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn raising_any_one_path_never_lowers_the_effective_level(
        f in facts(), which in 0_usize..9, pick in any::<usize>()
    ) {
        let g = raise(&f, which, pick);
        prop_assert!(effective_level(&g.facts()) >= effective_level(&f.facts()));
    }

    #[test]
    fn effective_level_equals_explain_effective(f in facts()) {
        prop_assert_eq!(explain(&f.facts()).effective, effective_level(&f.facts()));
    }

    #[test]
    fn effective_is_the_maximum_of_the_counted_paths(f in facts()) {
        let r = explain(&f.facts());
        let max = r.paths.iter().filter(|p| p.counted).filter_map(|p| p.level).max();
        prop_assert_eq!(r.effective, max);
        for p in &r.paths {
            prop_assert_eq!(p.counted, p.level.is_some());
            if !p.counted {
                prop_assert!(p.reason.is_some());
            }
        }
        // One path per household and share, in order, plus root/collaborator/site.
        let households = r.paths.iter().filter(|p| p.kind == PathKind::Household).count();
        let shares = r.paths.iter().filter(|p| p.kind == PathKind::Share).count();
        prop_assert_eq!(households, f.households.len());
        prop_assert_eq!(shares, f.shares.len());
    }

    #[test]
    fn the_effective_site_role_never_exceeds_the_cap(
        role in select(EstateRole::ALL.to_vec()), o in site_override()
    ) {
        let eff = effective_site_role(role, o);
        prop_assert!(eff <= Some(cap(role)));
    }

    #[test]
    fn an_estate_viewer_never_gets_edit_at_any_site(o in site_override(), s in site()) {
        let eff = effective_site_role(EstateRole::Viewer, o);
        prop_assert!(!site_can(eff, SiteCapability::EditContent));
        let s = SitePathFact { estate_role: Some(EstateRole::Viewer), site_override: o, ..s };
        let facts = AccessFacts { site: Some(s), ..AccessFacts::none(base()) };
        prop_assert!(effective_level(&facts) <= Some(AssetLevel::View));
    }

    #[test]
    fn final_invitation_states_never_move(
        stored in select(vec![
            InvitationState::Accepted,
            InvitationState::Declined,
            InvitationState::Expired,
            InvitationState::Cancelled,
        ]),
        event in select(InvitationEvent::ALL.to_vec()),
        exp in expiry(),
        minutes in -200_i64..200,
    ) {
        let now = base() + Duration::minutes(minutes);
        prop_assert!(transition(stored, exp, event, now).is_err());
        prop_assert_eq!(effective_state(stored, exp, now), stored);
    }

    #[test]
    fn random_event_sequences_only_pass_through_allowed_transitions(
        exp in expiry(),
        steps in prop::collection::vec(
            (select(InvitationEvent::ALL.to_vec()), 0_i64..60, prop::option::of(expiry())),
            0..20,
        ),
    ) {
        let mut state = InvitationState::Pending;
        let mut expires_at = exp;
        let mut now = base() - Duration::minutes(150);
        for (event, advance, requested) in steps {
            now += Duration::minutes(advance);
            let before = effective_state(state, expires_at, now);
            match transition(state, expires_at, event, now) {
                Ok(to) => {
                    prop_assert!(
                        is_allowed_transition(state, event, to),
                        "{state} --{event}--> {to}"
                    );
                    if event == InvitationEvent::Resend {
                        let req = ResendExpiry::from_field(requested);
                        if let Ok(new) = resend_expiry(expires_at, req, now) {
                            expires_at = new;
                        }
                    }
                    state = to;
                }
                Err(_) => {
                    // A refused event changes nothing; only `pending` moves.
                    prop_assert!(
                        before.is_final() || event == InvitationEvent::Expire,
                        "pending refused {event}"
                    );
                }
            }
        }
    }

    #[test]
    fn merged_share_keeps_the_higher_level_and_later_expiry(
        p1 in select(InvitationPermission::ALL.to_vec()),
        p2 in select(InvitationPermission::ALL.to_vec()),
        e1 in expiry(),
        e2 in expiry(),
    ) {
        let a = ShareGrant { permission: p1, access_expires_at: e1 };
        let b = ShareGrant { permission: p2, access_expires_at: e2 };
        let m = merge_share(a, b);
        prop_assert_eq!(m, merge_share(b, a));
        prop_assert_eq!(m.permission, p1.max(p2));
        // None (never) is the latest.
        let key = |e: Option<DateTime<Utc>>| e.map_or(i64::MAX, |t| t.timestamp());
        prop_assert_eq!(key(m.access_expires_at), key(e1).max(key(e2)));
    }

    #[test]
    fn merged_estate_role_is_the_higher(
        a in estate_role(), b in select(EstateRole::ALL.to_vec())
    ) {
        let m = merge_estate_role(a, b);
        prop_assert!(m >= b);
        prop_assert!(a.is_none_or(|a| m >= a));
    }

    #[test]
    fn split_partitions_the_collaborators(
        assets in prop::collection::vec(0_u128..6, 0..6),
        pairs in prop::collection::vec((0_u128..8, 0_u128..5), 0..30),
    ) {
        let selection: Vec<Uuid> = assets.iter().map(|&a| Uuid::from_u128(a)).collect();
        let pairs: Vec<(Uuid, Uuid)> = pairs
            .iter()
            .map(|&(a, u)| (Uuid::from_u128(a), Uuid::from_u128(100 + u)))
            .collect();
        let split = split_common_partial(&selection, &pairs);
        let mut distinct = selection.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let mut seen = Vec::new();
        for &u in &split.common {
            for a in &distinct {
                prop_assert!(pairs.contains(&(*a, u)));
            }
            seen.push(u);
        }
        for (u, held) in &split.partial {
            prop_assert!(!held.is_empty() && held.len() < distinct.len());
            for a in held {
                prop_assert!(pairs.contains(&(*a, *u)));
            }
            seen.push(*u);
        }
        let mut expected: Vec<Uuid> = pairs
            .iter()
            .filter(|(a, _)| distinct.contains(a))
            .map(|&(_, u)| u)
            .collect();
        expected.sort_unstable();
        expected.dedup();
        seen.sort_unstable();
        prop_assert_eq!(seen, expected);
    }

    #[test]
    fn email_parsing_is_idempotent(s in "[ A-Za-z0-9._@-]{0,40}") {
        if let Ok(e) = Email::parse(&s) {
            prop_assert_eq!(Email::parse(e.as_str()), Ok(e.clone()));
            prop_assert_eq!(e.as_str().matches('@').count(), 1);
        }
    }
}
