//! Keyset paging of the asset invitation table, on both databases.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use keyholder_tests::{AssetRow, TestApp, ids, on_both_backends};
use serde_json::Value;

on_both_backends!(
    the_table_walks_by_cursor_in_every_sort,
    table_cursors_the_server_did_not_give_are_refused,
    table_totals_stop_at_one_thousand_and_stats_stay_exact,
    root_walks_every_invitation_by_cursor,
);

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().map(|s| DateTime::parse_from_rfc3339(s).expect("rfc 3339").to_utc())
}

/// The order `sort` promises: the column (expiry "never" after every
/// date), then the id, both in the sort's direction.
fn in_sort_order(items: &[Value], sort: &str) -> Vec<String> {
    let mut sorted = items.to_vec();
    let (descending, column) = match sort.strip_prefix('-') {
        Some(c) => (true, c),
        None if sort.is_empty() => (true, "invited_at"),
        None => (false, sort),
    };
    sorted.sort_by(|a, b| {
        let by_column = match column {
            "invited_at" => time(&a["invited_at"]).cmp(&time(&b["invited_at"])),
            "expires_at" => {
                let key = |v: &Value| (v["expires_at"].is_null(), time(&v["expires_at"]));
                key(a).cmp(&key(b))
            }
            "email" => a["email"].as_str().cmp(&b["email"].as_str()),
            other => panic!("no sort {other}"),
        };
        let order = by_column.then_with(|| a["id"].as_str().cmp(&b["id"].as_str()));
        if descending { order.reverse() } else { order }
    });
    ids(&sorted)
}

async fn the_table_walks_by_cursor_in_every_sort(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let other = app.register_verified("other").await;
    let van = app.create_vehicle(&owner, "Van", None).await.id;
    let truck = app.create_vehicle(&owner, "Truck", None).await.id;
    let theirs = app.create_vehicle(&other, "Theirs", None).await.id;
    let t0 = Utc::now() - Duration::hours(1);
    let s = Duration::seconds;
    let soon = Some(Utc::now() + Duration::days(3));
    let later = Some(Utc::now() + Duration::days(9));
    // Ties everywhere: invited_at, expiry (set and never), and an email
    // on both assets.
    app.seed_asset_invitations(
        &owner,
        &[
            (&van, "alpha@example.com", t0, soon),
            (&van, "bravo@example.com", t0, None),
            (&van, "delta@example.com", t0 + s(1), later),
            (&truck, "alpha@example.com", t0 + s(1), soon),
            (&truck, "charlie@example.com", t0 + s(2), None),
            (&truck, "echo@example.com", t0 + s(2), None),
            (&van, "foxtrot@example.com", t0 + s(3), soon),
        ],
    );
    app.seed_asset_invitations(&other, &[(&theirs, "zulu@example.com", t0, None)]);
    for sort in ["", "invited_at", "-invited_at", "expires_at", "-expires_at", "email", "-email"] {
        let path = if sort.is_empty() {
            "/api/v1/asset-invitations".to_owned()
        } else {
            format!("/api/v1/asset-invitations?sort={sort}")
        };
        let sep = if sort.is_empty() { '?' } else { '&' };
        let full = app.get(&format!("{path}{sep}per_page=100"), Some(&owner.token)).await;
        full.assert_status(200);
        let all = full.items().clone();
        assert_eq!(all.len(), 7, "only my assets' invitations ({sort})");
        assert_eq!(full.body["total"], 7);
        assert_eq!(full.body["total_exact"], true);
        assert!(full.body["next_cursor"].is_null());
        assert_eq!(ids(&all), in_sort_order(&all, sort), "sort {sort:?}");
        let (walked, pages) = app.walk(&owner.token, &path, 2).await;
        assert_eq!(ids(&walked), ids(&all), "the walk is one big page ({sort})");
        assert_eq!(pages, 4, "{sort}");
        let unique: HashSet<String> = ids(&walked).into_iter().collect();
        assert_eq!(unique.len(), 7, "no duplicates ({sort})");
    }
    // The per-asset table, filters and page numbers page the same way.
    for (path, n) in [
        (format!("/api/v1/assets/{van}/invitations?sort=-expires_at"), 4),
        (format!("/api/v1/assets/{truck}/invitations?sort=email"), 3),
        ("/api/v1/asset-invitations?status=pending&sort=expires_at".to_owned(), 7),
        ("/api/v1/asset-invitations?q=ALPHA&sort=-email".to_owned(), 2),
        ("/api/v1/asset-invitations?q=truck&sort=invited_at".to_owned(), 3),
    ] {
        let full = app.get(&format!("{path}&per_page=100"), Some(&owner.token)).await;
        full.assert_status(200);
        let all = full.items().clone();
        assert_eq!(all.len(), n, "{path}");
        assert_eq!(full.body["total"], n, "{path}");
        let (walked, _) = app.walk(&owner.token, &path, 2).await;
        assert_eq!(ids(&walked), ids(&all), "{path}");
    }
    let full = app.try_asset_invitations(&owner, "?sort=email&per_page=100").await;
    let all = ids(full.items());
    let second = app.try_asset_invitations(&owner, "?sort=email&per_page=2&page=2").await;
    second.assert_status(200);
    assert_eq!(ids(second.items()), all[2..4]);
    assert_eq!(second.body["page"], 2);
    assert_eq!(second.body["total"], 7);
    // Its cursor goes on from there.
    let next = second.body["next_cursor"].as_str().expect("more");
    let third =
        app.try_asset_invitations(&owner, &format!("?sort=email&per_page=2&cursor={next}")).await;
    assert_eq!(ids(third.items()), all[4..6]);
}

async fn table_cursors_the_server_did_not_give_are_refused(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let van = app.create_vehicle(&owner, "Van", None).await.id;
    let t0 = Utc::now() - Duration::hours(1);
    app.seed_asset_invitations(
        &owner,
        &[
            (&van, "alpha@example.com", t0, None),
            (&van, "bravo@example.com", t0, None),
            (&van, "charlie@example.com", t0, None),
        ],
    );
    let bad = ["not-a-cursor", "e30", "eyJrIjoieCIsImkiOiJ5In0", "%20"];
    app.assert_cursors_refused(&owner.token, "/api/v1/asset-invitations", &bad).await;
    // An email sort's cursor is no position in the invitation times.
    let by_email = app.try_asset_invitations(&owner, "?sort=email&per_page=1").await;
    let cursor = by_email.body["next_cursor"].as_str().expect("more");
    let r = app.try_asset_invitations(&owner, &format!("?sort=invited_at&cursor={cursor}")).await;
    r.assert_problem(422, "validation_failed");
    assert!(!r.body["errors"]["cursor"].is_null(), "{}", r.text);
    // The asset comes first: a stranger's garbage cursor is still 404.
    let stranger = app.register_verified("stranger").await;
    app.get(&format!("/api/v1/assets/{van}/invitations?cursor=garbage"), Some(&stranger.token))
        .await
        .assert_status(404);
}

async fn table_totals_stop_at_one_thousand_and_stats_stay_exact(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let van = app.create_vehicle(&owner, "Van", None).await.id;
    let truck = app.create_vehicle(&owner, "Truck", None).await.id;
    let t0 = Utc::now() - Duration::hours(2);
    let emails: Vec<String> = (0..1002).map(|n| format!("p{n:04}@example.com")).collect();
    let rows: Vec<AssetRow<'_>> = emails
        .iter()
        .enumerate()
        .map(|(n, e)| {
            let asset = if n % 2 == 0 { van.as_str() } else { truck.as_str() };
            (asset, e.as_str(), t0 + Duration::seconds(i64::try_from(n % 7).unwrap_or(0)), None)
        })
        .collect();
    app.seed_asset_invitations(&owner, &rows);
    // One more, pending but past its expiry (not yet swept): expired.
    app.seed_asset_invitations(
        &owner,
        &[(&van, "late@example.com", t0 - Duration::days(3), Some(t0 - Duration::days(1)))],
    );
    for path in [
        "/api/v1/asset-invitations",
        "/api/v1/asset-invitations?status=pending",
        "/api/v1/asset-invitations?q=example",
        "/api/v1/asset-invitations?permission=view&sort=email",
    ] {
        let r = app.get(path, Some(&owner.token)).await;
        r.assert_status(200);
        assert_eq!(r.body["total"], 1000, "{path}");
        assert_eq!(r.body["total_exact"], false, "{path}");
        assert_eq!(r.items().len(), 25);
    }
    let expired = app.try_asset_invitations(&owner, "?status=expired").await;
    assert_eq!(expired.body["total"], 1);
    assert_eq!(expired.body["total_exact"], true);
    assert_eq!(expired.body["items"][0]["email"], "late@example.com");
    let van_only =
        app.try_asset_invitations(&owner, &format!("?asset_id={van}&status=pending")).await;
    assert_eq!(van_only.body["total"], 501);
    assert_eq!(van_only.body["total_exact"], true);
    let stats = app.try_asset_invitation_stats(&owner, "").await;
    stats.assert_status(200);
    assert_eq!(stats.body["total"], 1003);
    assert_eq!(stats.body["pending"], 1002);
    assert_eq!(stats.body["expired"], 1);
    let (walked, pages) =
        app.walk(&owner.token, "/api/v1/asset-invitations?sort=-expires_at", 100).await;
    assert_eq!(pages, 11);
    let unique: HashSet<String> = ids(&walked).into_iter().collect();
    assert_eq!(unique.len(), 1003);
    assert_eq!(ids(&walked), in_sort_order(&walked, "-expires_at"));
    // Cancelling and accepting move the exact counts.
    let first = walked[0]["id"].as_str().expect("id").to_owned();
    app.try_cancel_asset_invitation(&owner, &first, serde_json::json!({})).await.assert_status(200);
    let stats = app.try_asset_invitation_stats(&owner, &format!("?asset_id={van}")).await;
    let cancelled_on_van = walked[0]["asset"]["id"] == van.as_str();
    assert_eq!(stats.body["total"], 502);
    assert_eq!(stats.body["cancelled"], i64::from(cancelled_on_van));
    assert_eq!(stats.body["pending"], 501 - i64::from(cancelled_on_van));
    assert_eq!(stats.body["expired"], 1);
}

async fn root_walks_every_invitation_by_cursor(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let root = app.root_token().await;
    let owner = app.register_verified("owner").await;
    let other = app.register_verified("other").await;
    let van = app.create_vehicle(&owner, "Van", None).await.id;
    let theirs = app.create_vehicle(&other, "Theirs", None).await.id;
    let t0 = Utc::now() - Duration::hours(1);
    let soon = Some(Utc::now() + Duration::days(3));
    app.seed_asset_invitations(
        &owner,
        &[
            (&van, "alpha@example.com", t0, soon),
            (&van, "bravo@example.com", t0, None),
            (&van, "charlie@example.com", t0, soon),
        ],
    );
    app.seed_asset_invitations(
        &other,
        &[
            (&theirs, "alpha@example.com", t0, None),
            (&theirs, "delta@example.com", t0 + Duration::seconds(1), soon),
        ],
    );
    for sort in ["-invited_at", "expires_at", "-expires_at", "email", "-email"] {
        let path = format!("/api/v1/asset-invitations?sort={sort}");
        let full = app.get(&format!("{path}&per_page=100"), Some(&root)).await;
        full.assert_status(200);
        let all = full.items().clone();
        assert_eq!(all.len(), 5, "root sees every invitation");
        assert_eq!(full.body["total"], 5);
        assert_eq!(ids(&all), in_sort_order(&all, sort), "{sort}");
        let (walked, pages) = app.walk(&root, &path, 2).await;
        assert_eq!(ids(&walked), ids(&all), "{sort}");
        assert_eq!(pages, 3);
    }
    let q = app.try_asset_invitations(&root, "?q=theirs&sort=email").await;
    assert_eq!(q.body["total"], 2);
    let stats = app.try_asset_invitation_stats(&root, "").await;
    assert_eq!(stats.body["total"], 5);
    assert_eq!(stats.body["pending"], 5);
    let pending =
        app.try_asset_invitations(&root, &format!("?status=pending&asset_id={theirs}")).await;
    assert_eq!(pending.body["total"], 2);
    assert_eq!(pending.body["total_exact"], true);
}
