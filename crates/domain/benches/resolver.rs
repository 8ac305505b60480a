//! The access resolver's check path against its explanation, on a realistic
//! mix: a collaborator check, 5 households, 3 shares and 1 site path.

use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use keyholder_domain::asset::{
    AccessFacts, HouseholdFact, ShareFact, ShareStatus, SitePathFact, effective_level, explain,
};
use keyholder_domain::{EstateRole, HouseholdRole, InvitationPermission, SiteOverride};
use uuid::Uuid;

fn resolver(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().expect("valid date");
    let households: Vec<HouseholdFact> = (0..5_u128)
        .map(|i| HouseholdFact {
            head_id: Some(Uuid::from_u128(i + 1)),
            role: HouseholdRole::ALL[usize::try_from(i % 3).expect("small")],
            head_is_collaborator: i % 2 == 0,
        })
        .collect();
    let shares = [
        ShareFact::active(
            Uuid::from_u128(10),
            InvitationPermission::Edit,
            Some(now - Duration::days(1)),
        ),
        ShareFact {
            status: ShareStatus::Revoked,
            ..ShareFact::active(Uuid::from_u128(11), InvitationPermission::Manage, None)
        },
        ShareFact::active(
            Uuid::from_u128(12),
            InvitationPermission::View,
            Some(now + Duration::days(1)),
        ),
    ];
    // Not a collaborator, so every path is evaluated (no short cut at full).
    let facts = AccessFacts {
        is_root: false,
        is_collaborator: false,
        households: &households,
        shares: &shares,
        site: Some(SitePathFact {
            site_id: Uuid::from_u128(20),
            estate_id: Uuid::from_u128(21),
            estate_role: Some(EstateRole::Editor),
            site_override: Some(SiteOverride::Admin),
        }),
        now,
    };
    let collaborator = AccessFacts { is_collaborator: true, ..facts };

    let mut group = c.benchmark_group("resolver");
    group.bench_function("effective_level/5h_3s_1site", |b| {
        b.iter(|| effective_level(black_box(&facts)));
    });
    group.bench_function("effective_level/collaborator_short_cut", |b| {
        b.iter(|| effective_level(black_box(&collaborator)));
    });
    group.bench_function("explain/5h_3s_1site", |b| {
        b.iter(|| explain(black_box(&facts)));
    });
    group.finish();
}

criterion_group!(benches, resolver);
criterion_main!(benches);
