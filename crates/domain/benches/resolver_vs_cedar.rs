//! Keyholder's access resolver against the same rules written as Cedar
//! policies (`cedar_model`), on the same decisions.
//!
//! Before measuring, a few hundred generated scenarios are run through both
//! sides for every action and the run stops if any decision differs (the
//! same check is `tests/cedar_equivalence.rs`).
//!
//! Per case (group `vs_cedar_<case>`), the decision "may the user `edit` the
//! asset?":
//!
//! - `keyholder_decide`: `asset_can(effective_level(&facts), UpdateDetails)`
//!   on prebuilt `AccessFacts`.
//! - `cedar_decide_prebuilt`: `Authorizer::is_authorized` with the policy
//!   set, entities and request built outside the timed loop.
//! - `keyholder_build_and_decide` / `cedar_build_and_decide`: both sides
//!   start from the same in-memory relations (the rows the store has read)
//!   and build their inputs per decision: `AccessFacts` on one side; the
//!   entities (without schema validation, the cheaper way) and request on the
//!   other. This is how Cedar would be used here, since the facts are read
//!   from the database per request.
//! - `keyholder_effective_level` / `cedar_highest_action_prebuilt`: the
//!   effective level; Cedar is asked full, manage, edit, view in turn until
//!   one is allowed (prebuilt requests and entities).
//!
//! After the run the ratios are printed from criterion's own estimates
//! (`<criterion dir>/<group>/<function>/new/estimates.json`, median).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::SystemTime;

use chrono::Duration;
use criterion::Criterion;
use keyholder_domain::asset::{
    AssetCapability, ShareFact, SitePathFact, asset_can, effective_level,
};
use keyholder_domain::{AssetLevel, EstateRole, HouseholdRole, InvitationPermission, SiteOverride};
use uuid::Uuid;

mod cedar_model;

use cedar_model::{CedarModel, Scenario, base_now, check_equivalence, scenarios};

/// The decision every case compares.
const ACTION: AssetLevel = AssetLevel::Edit;
const CAPABILITY: AssetCapability = AssetCapability::UpdateDetails;

struct Case {
    name: &'static str,
    what: &'static str,
    scenario: Scenario,
}

fn cases() -> Vec<Case> {
    let user = Uuid::from_u128(0xA);
    let asset = Uuid::from_u128(0xB);
    let now = base_now();
    let people: Vec<Uuid> = (1..=4).map(|i| Uuid::from_u128(0x100 + i)).collect();
    let empty = Scenario::empty(user, asset, now);
    let site = |estate_role, site_override| {
        Some(SitePathFact {
            site_id: Uuid::from_u128(0x200),
            estate_id: Uuid::from_u128(0x300),
            estate_role,
            site_override,
        })
    };
    vec![
        Case {
            name: "a_collaborator",
            what: "a collaborator of the asset (3 collaborators)",
            scenario: Scenario { collaborators: vec![people[0], user, people[1]], ..empty.clone() },
        },
        Case {
            name: "b_household",
            what: "an editor in the household of a collaborator (2 households, 1 head collaborates)",
            scenario: Scenario {
                collaborators: vec![people[0], people[1]],
                households: vec![
                    (people[2], HouseholdRole::Manager),
                    (people[1], HouseholdRole::Editor),
                ],
                ..empty.clone()
            },
        },
        Case {
            name: "c_estate_override",
            what: "an estate editor with an admin override at the asset's site",
            scenario: Scenario {
                collaborators: vec![people[0]],
                site: site(Some(EstateRole::Editor), Some(SiteOverride::Admin)),
                ..empty.clone()
            },
        },
        Case {
            name: "d_no_access",
            what: "no access: 2 households whose heads do not collaborate, an expired \
                   share, the asset at a site of an estate the user is not in",
            scenario: Scenario {
                collaborators: vec![people[0]],
                households: vec![
                    (people[1], HouseholdRole::Manager),
                    (people[2], HouseholdRole::Editor),
                ],
                share: Some(ShareFact::active(
                    Uuid::from_u128(0x400),
                    InvitationPermission::Manage,
                    Some(now - Duration::days(1)),
                )),
                site: site(None, Some(SiteOverride::Editor)),
                ..empty.clone()
            },
        },
    ]
}

#[allow(clippy::print_stdout)]
fn equivalence(model: &CedarModel) {
    let all = scenarios(0x5EED, 500);
    match check_equivalence(model, &all) {
        Ok(n) => println!(
            "equivalence: {} scenarios, {n} decisions: keyholder and Cedar agree on every one",
            all.len()
        ),
        Err(e) => panic!("keyholder and Cedar disagree: {e}"),
    }
}

fn bench_case(c: &mut Criterion, model: &CedarModel, case: &Case) {
    let s = &case.scenario;
    let owned = s.facts();
    let facts = owned.facts();
    let entities = model.entities(s, true).expect("entities");
    let request = model.request(s, ACTION, true).expect("request");
    let requests = AssetLevel::ALL.map(|l| model.request(s, l, false).expect("request"));

    // Both sides give the same answer on this case.
    let keyholder = asset_can(effective_level(&facts), CAPABILITY);
    let cedar = model.decide(&request, &entities).expect("no Cedar errors");
    assert_eq!(keyholder, cedar, "{}: the sides disagree", case.name);
    assert_eq!(
        effective_level(&facts),
        model.highest_level(&requests, &entities),
        "{}: the levels disagree",
        case.name
    );

    let mut group = c.benchmark_group(format!("vs_cedar_{}", case.name));
    group.bench_function("keyholder_decide", |b| {
        b.iter(|| asset_can(effective_level(black_box(&facts)), CAPABILITY));
    });
    group.bench_function("cedar_decide_prebuilt", |b| {
        b.iter(|| {
            model
                .authorizer
                .is_authorized(black_box(&request), &model.policies, black_box(&entities))
                .decision()
        });
    });
    group.bench_function("keyholder_build_and_decide", |b| {
        b.iter(|| {
            let owned = black_box(s).facts();
            asset_can(effective_level(&owned.facts()), CAPABILITY)
        });
    });
    group.bench_function("cedar_build_and_decide", |b| {
        b.iter(|| {
            let s = black_box(s);
            let entities = model.entities(s, false).expect("entities");
            let request = model.request(s, ACTION, false).expect("request");
            model.authorizer.is_authorized(&request, &model.policies, &entities).decision()
        });
    });
    group.bench_function("keyholder_effective_level", |b| {
        b.iter(|| effective_level(black_box(&facts)));
    });
    group.bench_function("cedar_highest_action_prebuilt", |b| {
        b.iter(|| model.highest_level(black_box(&requests), black_box(&entities)));
    });
    group.finish();
}

/// Where criterion writes its results (as criterion 0.5 decides it).
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    // <target>/release/deps/<bench binary>
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// The median of one benchmark in this run, in nanoseconds.
fn median_ns(group: &str, function: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir().join(group).join(function).join("new").join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None; // from an earlier run (filtered out of this one)
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

#[allow(clippy::print_stdout)]
fn report(cases: &[Case], since: SystemTime) {
    const PAIRS: [(&str, &str, &str); 3] = [
        ("decide `edit`, prebuilt inputs", "cedar_decide_prebuilt", "keyholder_decide"),
        (
            "decide `edit`, inputs built per decision",
            "cedar_build_and_decide",
            "keyholder_build_and_decide",
        ),
        (
            "effective level, prebuilt inputs",
            "cedar_highest_action_prebuilt",
            "keyholder_effective_level",
        ),
    ];
    let mut lines = Vec::new();
    for case in cases {
        let group = format!("vs_cedar_{}", case.name);
        for (label, cedar, keyholder) in PAIRS {
            if let (Some(c), Some(k)) =
                (median_ns(&group, cedar, since), median_ns(&group, keyholder, since))
            {
                lines.push(format!(
                    "{:<20} {:<42} {:>12.1} ns {:>10.2} ns {:>9.0}x",
                    case.name,
                    label,
                    c,
                    k,
                    c / k
                ));
            }
        }
    }
    if lines.is_empty() {
        return;
    }
    println!("\nCedar vs keyholder (criterion medians of this run; speedup = Cedar / keyholder)");
    println!(
        "{:<20} {:<42} {:>15} {:>13} {:>10}",
        "case", "measure", "Cedar", "keyholder", "speedup"
    );
    for line in lines {
        println!("{line}");
    }
    for case in cases {
        println!("  {}: {}", case.name, case.what);
    }
}

fn main() {
    let model = CedarModel::new();
    equivalence(&model);
    let cases = cases();
    let since = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    for case in &cases {
        bench_case(&mut c, &model, case);
    }
    c.final_summary();
    report(&cases, since);
}
