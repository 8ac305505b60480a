//! The access resolver's check path against its explanation, on a realistic
//! mix: a collaborator check, 5 households, 3 shares and 1 site path.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use keyholder_domain::asset::{AccessFacts, effective_level, explain};

#[path = "../tests/support/mod.rs"]
mod support;

fn resolver(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().expect("valid date");
    let mix = support::mixed_facts(now, 5, 3);
    let facts = mix.facts();
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
