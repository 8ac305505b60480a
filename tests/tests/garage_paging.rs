//! The garage pages by keyset: following `next_cursor` gives every asset the
//! caller can reach, by every path, exactly once and in the order of one
//! big page; ties on the creation instant are broken by id; totals are
//! counted up to 1,000 and say when they stop there; root pages the whole
//! table the same way. On both databases.

use chrono::Utc;
use keyholder_store::assets::{self, Placement};
use keyholder_tests::{Session, TestApp, on_both_backends};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    walking_the_garage_by_cursor_gives_one_big_page_in_order,
    a_cursor_the_server_did_not_give_is_refused,
    totals_stop_counting_at_one_thousand,
);

fn id(s: &str) -> Uuid {
    Uuid::parse_str(s).expect("uuid")
}

/// Creates `n` assets for `owner` straight in the database, all with the
/// same creation instant (so only the id orders them), optionally placed.
fn many_assets(app: &TestApp, owner: &Session, n: usize, placement: Option<Placement>) {
    let owner = id(&owner.id);
    let now = Utc::now();
    app.app_state
        .db
        .write(|c| {
            for i in 0..n {
                assets::create(c, &format!("Bulk {i}"), None, &json!({}), placement, owner, now)?;
            }
            Ok::<_, keyholder_store::StoreError>(())
        })
        .expect("bulk assets");
}

fn names(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|a| {
            (
                a["id"].as_str().expect("id").to_owned(),
                a["my_access"].as_str().expect("level").to_owned(),
            )
        })
        .collect()
}

async fn walking_the_garage_by_cursor_gives_one_big_page_in_order(app: TestApp) {
    let me = app.register_verified("mia").await;
    let head = app.register_verified("head").await;
    let other = app.register_verified("other").await;
    // Collaborator on five, created in the same instant (ties broken by id).
    many_assets(&app, &me, 5, None);
    // Household of a collaborating head: three of the head's, one of which
    // I also collaborate on (reached twice, listed once).
    many_assets(&app, &head, 3, None);
    app.try_add_to_household(&head, &me.username, "viewer").await.assert_status(201);
    let heads = app.try_garage(&head, "?per_page=100").await;
    let twice = heads.body["items"][0]["id"].as_str().expect("id").to_owned();
    app.add_collaborator(&head, &twice, &me.username).await;
    // An estate where I am an editor: four at site A, three at site B where
    // an override keeps me off.
    let estate = app.create_estate(&other, "Depot").await.id;
    let site_a = app.create_site(&other, &estate, "A").await.id;
    let site_b = app.create_site(&other, &estate, "B").await.id;
    app.grant_role(&other, &estate, &me, "editor").await;
    let at = |site: &str| Some(Placement { site_id: id(site), estate_id: id(&estate) });
    many_assets(&app, &other, 4, at(&site_a));
    many_assets(&app, &other, 3, at(&site_b));
    app.try_set_site_override(&other, &site_b, &me, "none").await.assert_status(200);
    // Another user's private assets stay out.
    many_assets(&app, &other, 6, None);

    let all = app.try_garage(&me, "?per_page=100").await;
    all.assert_status(200);
    let expected = names(all.items());
    assert_eq!(expected.len(), 5 + 3 + 4, "every path, each asset once");
    assert_eq!(all.body["total"], 12);
    assert_eq!(all.body["total_exact"], true);
    assert_eq!(all.body["next_cursor"], Value::Null);
    let mut ids: Vec<&String> = expected.iter().map(|(i, _)| i).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "no asset twice");
    let levels: Vec<&str> = expected.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(levels.iter().filter(|l| **l == "full").count(), 6);
    assert_eq!(levels.iter().filter(|l| **l == "view").count(), 2);
    assert_eq!(levels.iter().filter(|l| **l == "edit").count(), 4);

    for per_page in [1, 2, 5, 11] {
        let (walked, pages) = app.walk(&me.token, "/api/v1/assets", per_page).await;
        assert_eq!(names(&walked), expected, "per_page={per_page}");
        assert_eq!(pages, 12_usize.div_ceil(per_page), "per_page={per_page}");
    }
    // Filters hold across pages: the site filter and the search.
    let (at_a, _) = app.walk(&me.token, &format!("/api/v1/assets?site_id={site_a}"), 3).await;
    assert_eq!(at_a.len(), 4);
    assert!(at_a.iter().all(|a| a["site_id"] == json!(site_a)));
    let (searched, _) = app.walk(&me.token, "/api/v1/assets?q=bulk%201", 1).await;
    assert!(searched.iter().all(|a| a["name"].as_str().expect("name").starts_with("Bulk 1")));
    // Page numbers still work and agree with the cursor walk.
    let page2 = app.try_garage(&me, "?per_page=5&page=2").await;
    assert_eq!(names(page2.items()), expected[5..10].to_vec());
    // A removal holds on the next page: once kept off site A too, its
    // assets are gone from the rest of the walk.
    let first = app.try_garage(&me, "?per_page=2").await;
    let cursor = first.str("next_cursor");
    app.try_set_site_override(&other, &site_a, &me, "none").await.assert_status(200);
    let rest = app.try_garage(&me, &format!("?per_page=100&cursor={cursor}")).await;
    assert!(rest.items().iter().all(|a| a["site_id"] != json!(site_a)));
}

async fn a_cursor_the_server_did_not_give_is_refused(app: TestApp) {
    let me = app.register_verified("mia").await;
    many_assets(&app, &me, 3, None);
    for bad in ["not-a-cursor", "eyJrIjoieCIsImkiOiJ5In0", "e30"] {
        let r = app.try_garage(&me, &format!("?cursor={bad}")).await;
        r.assert_problem(422, "validation_failed");
        assert!(r.text.contains("cursor"), "{}", r.text);
    }
}

async fn totals_stop_counting_at_one_thousand(app: TestApp) {
    let me = app.register_verified("mia").await;
    many_assets(&app, &me, 1003, None);
    let first = app.try_garage(&me, "?per_page=100").await;
    first.assert_status(200);
    assert_eq!(first.body["total"], 1000);
    assert_eq!(first.body["total_exact"], false);
    let (walked, pages) = app.walk(&me.token, "/api/v1/assets", 100).await;
    assert_eq!(walked.len(), 1003);
    assert_eq!(pages, 11);
    let mut ids: Vec<&str> = walked.iter().map(|a| a["id"].as_str().expect("id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1003);
    // A smaller reach is counted exactly.
    let bob = app.register_verified("bob").await;
    many_assets(&app, &bob, 2, None);
    let few = app.try_garage(&bob, "").await;
    assert_eq!(few.body["total"], 2);
    assert_eq!(few.body["total_exact"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_pages_every_asset_by_cursor() {
    for backend in keyholder_tests::backends() {
        let app = TestApp::spawn_with_root(backend).await;
        let root = app.root_token().await;
        let ada = app.register_verified("ada").await;
        let bob = app.register_verified("bob").await;
        many_assets(&app, &ada, 4, None);
        many_assets(&app, &bob, 3, None);
        let all = app.try_garage(&root, "?per_page=100").await;
        let expected = names(all.items());
        assert_eq!(expected.len(), 7, "{backend:?}");
        assert!(expected.iter().all(|(_, l)| l == "full"));
        assert_eq!(all.body["total"], 7);
        let (walked, pages) = app.walk(&root, "/api/v1/assets", 2).await;
        assert_eq!(names(&walked), expected, "{backend:?}");
        assert_eq!(pages, 4);
        let (searched, _) = app.walk(&root, "/api/v1/assets?q=bulk%202", 1).await;
        assert_eq!(searched.len(), 2, "one of ada's and one of bob's");
    }
}
