//! Query plans on a seeded database: the garage (first page, a cursor page,
//! search and site filters), a user's own grants (`GET /me/access`) and the
//! one-statement access reads never scan
//! `assets`, `asset_collaborators`, `asset_shares` or `invitations` whole;
//! they reach rows through the caller's indexes. SQLite `EXPLAIN QUERY
//! PLAN` and PostgreSQL `EXPLAIN` (after `ANALYZE`), on both databases.

use chrono::Utc;
use diesel::prelude::*;
use keyholder_store::garage::{self, GarageQuery, GarageStart};
use keyholder_store::paging::Window;
use keyholder_store::schema::{asset_collaborators, estate_members, invitations, sites};
use keyholder_store::seed::{self, SeedSize};
use keyholder_store::{
    DatabaseUrl, Db, DbConnection, PoolOptions, StoreError, access, changes, my_access,
};
use keyholder_tests::{Backend, TestDb};
use uuid::Uuid;

/// The tables no per-user request may read whole, with the aliases the
/// statements give them.
const GUARDED: [(&str, &[&str]); 4] = [
    ("assets", &["a"]),
    ("asset_collaborators", &["c"]),
    ("asset_shares", &["s"]),
    ("invitations", &["i"]),
];

/// The full scans of guarded tables in a plan, as the lines that show them.
fn full_scans(backend: Backend, plan: &[String]) -> Vec<String> {
    plan.iter()
        .filter(|line| {
            let line = line.trim();
            match backend {
                // SQLite: `SCAN t`, `SCAN t AS x` or `SCAN x` (with or
                // without `USING ... INDEX`: a whole index is a whole table).
                Backend::Sqlite => {
                    let Some(rest) = line.strip_prefix("SCAN ") else {
                        return false;
                    };
                    let mut words = rest.split_whitespace();
                    let first = words.next().unwrap_or_default();
                    let alias = match (words.next(), words.next()) {
                        (Some("AS"), Some(a)) => a,
                        _ => first,
                    };
                    GUARDED.iter().any(|(t, aliases)| first == *t || aliases.contains(&alias))
                }
                // PostgreSQL: `Seq Scan on t [x]`.
                Backend::Postgres => GUARDED.iter().any(|(t, _)| {
                    line.contains(&format!("Seq Scan on {t} "))
                        || line.ends_with(&format!("Seq Scan on {t}"))
                }),
            }
        })
        .cloned()
        .collect()
}

fn plans_hold_on(backend: Backend) {
    let test_db = TestDb::new(backend);
    let db = Db::connect(&DatabaseUrl::parse(&test_db.url).expect("url"), &PoolOptions::default())
        .expect("connect");
    db.migrate().expect("migrate");
    let size = SeedSize { users: 100, assets: 10_000, invitations: 1_000 };
    let now = Utc::now();
    // The seed runs its own transactions (and SQLite pragmas outside them).
    db.run(|c| seed::seed(c, &size, "not-a-real-hash", now, &mut seed::NoProgress).map(|_| ()))
        .expect("seed");
    let uid = |n: u64| Uuid::parse_str(&seed::user_id(n)).expect("seeded user id");
    let owner20 = uid(0);
    let admin = uid(2);
    let inviter = uid(3);
    let mut report = Vec::new();
    let mut feed = Vec::new();
    db.run(|c: &mut DbConnection| {
        // The resources the access reads are asked about.
        let asset: String = asset_collaborators::table
            .filter(asset_collaborators::user_id.eq(owner20.to_string()))
            .select(asset_collaborators::asset_id)
            .first(c)?;
        let estate: String = estate_members::table
            .filter(estate_members::user_id.eq(admin.to_string()))
            .select(estate_members::estate_id)
            .first(c)?;
        let site: String =
            sites::table.filter(sites::estate_id.eq(&estate)).select(sites::id).first(c)?;
        let invitation: String = invitations::table
            .filter(invitations::resource_type.eq("asset"))
            .select(invitations::id)
            .first(c)?;
        let id = |s: &str| Uuid::parse_str(s).expect("uuid");
        // PostgreSQL runs a prepared statement on a generic plan (made
        // without the parameters' values) once it looks no worse than the
        // custom ones: that plan must not scan either.
        let modes: &[&str] = match backend {
            Backend::Sqlite => &[""],
            Backend::Postgres => &["", " (generic plan)"],
        };
        for mode in modes {
            if !mode.is_empty() {
                diesel::sql_query("SET plan_cache_mode = force_generic_plan").execute(c)?;
            }
            for caller in [owner20, admin, inviter] {
                // A session id the statements probe by primary key.
                let bearer = access::Bearer { user: caller, session: Uuid::new_v4() };
                for (name, plan) in
                    access::plans(c, bearer, id(&asset), id(&estate), id(&site), id(&invitation))?
                {
                    report.push((format!("{name} as {caller}{mode}"), plan));
                }
            }
            for caller in [owner20, admin, inviter] {
                let first = Window { limit: 25, offset: 0, after: None };
                let later = Window {
                    limit: 25,
                    offset: 0,
                    after: Some(((now, "share".to_owned()), Uuid::nil())),
                };
                for (label, window) in [("first page", first), ("a cursor page", later)] {
                    for (name, plan) in my_access::plans(c, caller, &window)? {
                        report.push((format!("{name}, {label}, as {caller}{mode}"), plan));
                    }
                }
            }
            for (name, plan) in
                keyholder_store::invitations::estate_table_plans(c, id(&estate), now)?
            {
                report.push((format!("{name}{mode}"), plan));
            }
            // The changes feed reads a range of the events' feed index and
            // keeps the caller's: never the whole trail.
            let (end, _) = changes::walk_end(c, changes::Position::START, 1000)?;
            for caller in [owner20, admin, inviter] {
                let plan = changes::explain_read(c, caller, changes::Position::START, end)?;
                feed.push((format!("changes feed as {caller}{mode}"), plan));
            }
            let site_id = id(&site);
            for caller in [owner20, admin, inviter] {
                for (label, q, site, start) in [
                    ("first page", None, None, GarageStart::Skip(0)),
                    ("page 50 by number", None, None, GarageStart::Skip(50 * 20)),
                    (
                        "a cursor page",
                        None,
                        None,
                        GarageStart::After { created_at: now, id: Uuid::nil() },
                    ),
                    // A substring search cannot use a B-tree: over an estate of
                    // half the table it reads that estate's assets either way,
                    // and PostgreSQL may rightly do so by a sequential scan. So
                    // the search is checked for callers of a narrow reach.
                    ("search", Some("asset 1"), None, GarageStart::Skip(0)),
                    ("site filter", None, Some(site_id), GarageStart::Skip(0)),
                ] {
                    if q.is_some() && caller == admin {
                        continue;
                    }
                    let query = GarageQuery {
                        user_id: caller,
                        q,
                        site,
                        now,
                        limit: 20,
                        start,
                        count_up_to: 1000,
                    };
                    for (name, plan) in garage::garage_plans(c, &query, false)? {
                        report.push((format!("{name}, {label}, as {caller}{mode}"), plan));
                    }
                }
            }
        }
        Ok::<_, StoreError>(())
    })
    .expect("plans");
    assert!(report.len() >= 40, "every statement was explained");
    // The plans read as the check expects: index searches are there to see.
    let marker = match backend {
        Backend::Sqlite => "SEARCH a USING",
        Backend::Postgres => "Index Scan using assets_pkey on assets a",
    };
    assert!(
        report.iter().any(|(_, plan)| plan.iter().any(|l| l.contains(marker))),
        "{backend:?}: no plan line contains {marker:?}: {report:#?}"
    );
    if backend == Backend::Postgres {
        // The generic plans are what was explained: their conditions name
        // the parameters, not the values.
        assert!(
            report
                .iter()
                .filter(|(name, _)| name.ends_with("(generic plan)"))
                .any(|(_, plan)| plan.iter().any(|l| l.contains("$1"))),
            "no generic plan was explained: {report:#?}"
        );
    }
    let mut failures = Vec::new();
    for (name, plan) in &report {
        assert!(!plan.is_empty(), "{name}: no plan");
        let scans = full_scans(backend, plan);
        if !scans.is_empty() {
            failures.push(format!(
                "{name}:\n  {}\n  plan:\n    {}",
                scans.join("\n  "),
                plan.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{backend:?}: full scans of guarded tables:\n{}",
        failures.join("\n\n")
    );
    assert_eq!(feed.len(), report_modes(backend) * 3);
    for (name, plan) in &feed {
        let whole = plan.iter().any(|l| {
            let l = l.trim();
            l.contains("Seq Scan on audit_events") || l == "SCAN e" || l.starts_with("SCAN e ")
        });
        let ranged = plan.iter().any(|l| l.contains("audit_events_feed_idx"));
        // On SQLite in the index's order (seq), so the read stops at its
        // limit instead of sorting the range. (PostgreSQL's index is the
        // order too; on a small table it may still choose to sort the few
        // rows, which the walk's cap bounds anyway.)
        let sorted = plan.iter().any(|l| l.contains("TEMP B-TREE FOR ORDER BY"));
        assert!(
            !sorted,
            "{backend:?} {name}: the feed is sorted, not walked:\n{}",
            plan.join("\n")
        );
        assert!(
            !whole && ranged,
            "{backend:?} {name}: not a range of the feed index:\n{}",
            plan.join("\n")
        );
        // What the caller administers is listed once per read and probed
        // per event, never read again for each event (a correlated
        // subquery over thousands of assets made one read of an estate
        // admin's feed take seconds).
        let once = match backend {
            Backend::Sqlite => "LIST SUBQUERY",
            Backend::Postgres => "hashed SubPlan",
        };
        assert!(
            plan.iter().any(|l| l.contains(once)),
            "{backend:?} {name}: the caller's targets are not read once ({once:?}):\n{}",
            plan.join("\n")
        );
    }
}

/// How many plan modes a backend is explained in (PostgreSQL: custom and
/// generic).
fn report_modes(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    }
}

#[test]
fn the_full_scan_check_sees_full_scans() {
    // How many full scans the check finds in these plan lines.
    let scans = |backend, lines: &[&str]| {
        full_scans(backend, &lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>()).len()
    };
    let sqlite = |lines: &[&str]| scans(Backend::Sqlite, lines);
    assert_eq!(sqlite(&["SCAN a"]), 1);
    assert_eq!(sqlite(&["SCAN assets AS a"]), 1);
    assert_eq!(sqlite(&["SCAN c USING COVERING INDEX asset_collaborators_user_idx"]), 1);
    assert_eq!(sqlite(&["SEARCH a USING INDEX assets_estate_created_idx (estate_id=?)"]), 0);
    assert_eq!(sqlite(&["SCAN picked", "SCAN u"]), 0);
    let pg = |lines: &[&str]| scans(Backend::Postgres, lines);
    assert_eq!(pg(&["  ->  Seq Scan on assets a  (cost=0.00..1.01 rows=1 width=32)"]), 1);
    assert_eq!(pg(&["Seq Scan on invitations"]), 1);
    assert_eq!(pg(&["  ->  Index Scan using assets_pkey on assets a"]), 0);
    assert_eq!(pg(&["  ->  Seq Scan on users u"]), 0);
}

#[test]
fn the_garage_and_access_reads_use_indexes_on_sqlite() {
    plans_hold_on(Backend::Sqlite);
}

#[test]
fn the_garage_and_access_reads_use_indexes_on_postgres() {
    if !keyholder_tests::postgres_available() {
        return;
    }
    plans_hold_on(Backend::Postgres);
}
