//! `keyholder seed` on both databases: a small world (60 users, 1 800
//! assets, 500 invitations) seeded into a running server's database through
//! the same function the binary runs; its counts and shape, what the known
//! accounts reach through the HTTP API, an account made before the seed left
//! alone, and a second run that writes nothing.

use diesel::dsl::{count_star, exists, not};
use diesel::prelude::*;
use keyholder_tests::keyholder_api::config::SeedArgs;
use keyholder_tests::keyholder_api::seeding;
use keyholder_tests::keyholder_store::schema::{
    asset_collaborators, asset_photos, asset_records, asset_shares, assets, audit_events,
    estate_members, estates, household_members, invitations, site_overrides, sites, users,
};
use keyholder_tests::keyholder_store::seed::{self, SeedReport};
use keyholder_tests::keyholder_store::{DbConnection, StoreError};
use keyholder_tests::{PASSWORD, TestApp, on_both_backends};
use serde_json::json;

const USERS: u64 = 60;
/// The estate admin's 900 stay under the 1,000 up to which lists count.
const ASSETS: u64 = 1_800;
const INVITATIONS: u64 = 500;
const SEED_PASSWORD: &str = "seed-test-password";

async fn run_seed(app: &TestApp) -> SeedReport {
    let config = TestApp::config(&app.db.url, &app.mail_dir);
    let args = SeedArgs {
        users: USERS,
        assets: ASSETS,
        invitations: INVITATIONS,
        password: SEED_PASSWORD.into(),
    };
    tokio::task::spawn_blocking(move || seeding::run(&config, &args))
        .await
        .expect("the seed thread")
        .expect("the seed runs")
}

/// Every row of every table the seed writes (seeded or not).
fn all_counts(c: &mut DbConnection) -> Result<Vec<i64>, StoreError> {
    /// The row count of each table, in the order named.
    macro_rules! counts {
        ($($table:ident),*) => { vec![$($table::table.count().get_result(c)?),*] };
    }
    Ok(counts![
        users,
        estates,
        sites,
        estate_members,
        site_overrides,
        assets,
        asset_collaborators,
        asset_records,
        asset_photos,
        household_members,
        asset_shares,
        invitations,
        audit_events
    ])
}

async fn login(app: &TestApp, login: &str, password: &str) -> String {
    let r = app.login(login, password).await;
    r.assert_status(200);
    r.str("access_token")
}

async fn garage_total(app: &TestApp, token: &str) -> i64 {
    let r = app.try_garage(token, "?per_page=100").await;
    r.assert_status(200);
    r.body["total"].as_i64().expect("total")
}

async fn seeds_a_world_once(app: TestApp) {
    // Someone who was there before the seed.
    let bystander = app.register("bystander").await;
    let own = app.create_asset(&bystander, json!({"name": "My own van"})).await.id;
    let before = app.with_db(all_counts);

    let report = run_seed(&app).await;
    assert!(!report.already_seeded, "{report:?}");
    assert!(report.mismatches().is_empty(), "{report:?}");
    let counts = app.with_db(all_counts);
    let added: Vec<i64> = counts.iter().zip(&before).map(|(a, b)| a - b).collect();
    let reported: Vec<i64> =
        report.tables.iter().map(|t| i64::try_from(t.inserted).expect("count")).collect();
    assert_eq!(added, reported, "the report tells what was written");
    let n = |x: u64| i64::try_from(x).expect("count");
    // users, estates, sites, assets and invitations exactly as asked.
    assert_eq!(added[0], n(USERS));
    assert_eq!(added[1], 20);
    assert_eq!(added[2], 20 * 100);
    assert_eq!(added[5], n(ASSETS));
    assert_eq!(added[11], n(INVITATIONS));
    // About three rows of collaborators, shares and households per asset.
    let relations = added[6] + added[9] + added[10];
    assert!(
        (n(ASSETS) * 5 / 2..=n(ASSETS) * 7 / 2).contains(&relations),
        "{relations} relation rows for {ASSETS} assets"
    );
    assert!(added[6] > n(ASSETS), "some assets have several collaborators");
    assert!(added[7] > 0 && added[8] > 0 && added[12] > 0);

    // The shape of the world.
    let shape = app.with_db(|c| {
        let orphans: i64 = assets::table
            .filter(not(exists(
                asset_collaborators::table.filter(asset_collaborators::asset_id.eq(assets::id)),
            )))
            .count()
            .get_result(c)?;
        let mut times: Vec<chrono::NaiveDateTime> =
            assets::table.select(assets::created_at).load(c)?;
        times.sort();
        times.dedup();
        let distinct_times = i64::try_from(times.len()).expect("count");
        let placed: i64 =
            assets::table.filter(assets::estate_id.is_not_null()).count().get_result(c)?;
        let mut statuses: Vec<(String, String)> = invitations::table
            .select((invitations::resource_type, invitations::status))
            .distinct()
            .load(c)?;
        statuses.sort();
        let no_expiry: i64 = asset_shares::table
            .filter(asset_shares::access_expires_at.is_null())
            .count()
            .get_result(c)?;
        let now = chrono::Utc::now().naive_utc();
        let expired_shares: i64 = asset_shares::table
            .filter(asset_shares::access_expires_at.lt(now))
            .count()
            .get_result(c)?;
        let live_expiring: i64 = asset_shares::table
            .filter(asset_shares::access_expires_at.gt(now))
            .count()
            .get_result(c)?;
        let stale_pending: i64 = invitations::table
            .filter(invitations::status.eq("pending"))
            .filter(invitations::expires_at.le(now))
            .count()
            .get_result(c)?;
        let households: Vec<(String, i64)> = household_members::table
            .group_by(household_members::head_id)
            .select((household_members::head_id, count_star()))
            .load(c)?;
        let heads_not_collaborating: i64 = household_members::table
            .filter(not(exists(
                asset_collaborators::table
                    .filter(asset_collaborators::user_id.eq(household_members::head_id)),
            )))
            .count()
            .get_result(c)?;
        let mut roles: Vec<String> =
            estate_members::table.select(estate_members::role).distinct().load(c)?;
        roles.sort();
        let none_overrides: i64 =
            site_overrides::table.filter(site_overrides::role.eq("none")).count().get_result(c)?;
        Ok::<_, StoreError>((
            orphans,
            distinct_times,
            placed,
            statuses,
            (no_expiry, expired_shares, live_expiring, stale_pending),
            households,
            heads_not_collaborating,
            roles,
            none_overrides,
        ))
    });
    let (orphans, distinct_times, placed, statuses, shares, households, lone_heads, roles, none) =
        shape;
    assert_eq!(orphans, 0, "every asset has a collaborator");
    assert_eq!(distinct_times, n(ASSETS) + 1, "asset times are distinct");
    assert!((n(ASSETS) / 2..=n(ASSETS) * 7 / 10).contains(&placed), "{placed} assets at sites");
    let mut expected_statuses = Vec::new();
    for kind in ["asset", "estate"] {
        for status in ["accepted", "cancelled", "declined", "expired", "pending"] {
            expected_statuses.push((kind.to_owned(), status.to_owned()));
        }
    }
    assert_eq!(statuses, expected_statuses);
    let (no_expiry, expired_shares, live_expiring, stale_pending) = shares;
    assert!(no_expiry > 0 && expired_shares > 0 && live_expiring > 0);
    assert_eq!(stale_pending, 0, "nothing left for the expiry sweeper");
    assert!(!households.is_empty());
    for (head, members) in &households {
        assert!((1..=4).contains(members), "household of {head}: {members}");
    }
    assert_eq!(lone_heads, 0, "household heads are collaborators");
    assert_eq!(roles, ["admin", "editor", "owner", "viewer"]);
    assert!(none > 0, "some members are kept off a site");

    // What the known accounts reach, through the API.
    let owner20 = login(&app, seed::OWNER20, SEED_PASSWORD).await;
    assert_eq!(garage_total(&app, &owner20).await, 20);
    let page = app.try_garage(&owner20, "?per_page=100").await;
    let items = page.items();
    assert_eq!(items.len(), 20);
    assert!(items.iter().all(|a| a["my_access"] == "full"), "{}", page.text);
    let one = items[0]["id"].as_str().expect("id");
    app.try_get_asset(&owner20, &one).await.assert_status(200);
    app.try_get_asset(&owner20, &own).await.assert_status(404);
    let owner50 = login(&app, "seed-owner50@seed.keyholder.test", SEED_PASSWORD).await;
    assert_eq!(garage_total(&app, &owner50).await, 50);
    let admin = login(&app, seed::ESTATE_ADMIN, SEED_PASSWORD).await;
    assert_eq!(garage_total(&app, &admin).await, n(ASSETS / 2));
    let inviter = login(&app, seed::INVITER, SEED_PASSWORD).await;
    let inviter_id = seed::user_id(3);
    let sent: i64 = app.with_db(|c| {
        Ok::<_, StoreError>(
            invitations::table
                .filter(invitations::invited_by.eq(&inviter_id))
                .filter(invitations::resource_type.eq("asset"))
                .count()
                .get_result(c)?,
        )
    });
    assert!(sent >= n(INVITATIONS) * 8 / 10, "the inviter sent {sent}");
    let stats = app.try_asset_invitation_stats(&inviter, "").await;
    stats.assert_status(200);
    assert_eq!(stats.body["total"], sent, "{}", stats.text);
    for status in ["pending", "accepted", "declined", "expired", "cancelled"] {
        assert!(stats.body[status].as_i64().expect("count") > 0, "{}", stats.text);
    }
    let table = app.try_asset_invitations(&inviter, "?per_page=20&sort=-invited_at").await;
    table.assert_status(200);
    assert_eq!(table.body["total"], sent);
    assert_eq!(table.items().len(), 20);
    // The wrong password is still wrong.
    app.login(seed::OWNER20, PASSWORD).await.assert_status(401);
    // The account from before the seed sees only its own asset.
    assert_eq!(garage_total(&app, &bystander.token).await, 1);

    // A second run writes nothing.
    let again = run_seed(&app).await;
    assert!(again.already_seeded, "{again:?}");
    assert!(again.tables.iter().all(|t| t.inserted == 0));
    assert_eq!(app.with_db(all_counts), counts);
    assert_eq!(garage_total(&app, &owner20).await, 20);
    assert_eq!(garage_total(&app, &bystander.token).await, 1);
}

on_both_backends!(seeds_a_world_once);
