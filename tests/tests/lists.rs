//! Every list in the API answers one envelope (`items`, `total`,
//! `total_exact`, `page`, `per_page`, `next_cursor`) and a GitHub-style
//! `Link` header: each list is walked to its end by following
//! `rel="next"` alone, and the paging-by-number links are followed too.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use keyholder_tests::keyholder_store::invitations::ResourceType;
use keyholder_tests::{FOREIGN_CURSOR, Reply, Session, TestApp, on_both_backends};
use serde_json::{Value, json};

/// The links of a `Link` header by `rel`: `(rel, url)`.
fn links(reply: &Reply) -> Vec<(String, String)> {
    let Some(header) = reply.header("link") else {
        return Vec::new();
    };
    header
        .split(", ")
        .map(|part| {
            let (url, rel) = part.split_once(">; rel=\"").expect("<url>; rel=\"...\"");
            let url = url.strip_prefix('<').expect("<url>");
            (rel.trim_end_matches('"').to_owned(), url.to_owned())
        })
        .collect()
}

/// The URL of the link with this `rel`, if any.
fn link(reply: &Reply, rel: &str) -> Option<String> {
    links(reply).into_iter().find(|(r, _)| r == rel).map(|(_, url)| url)
}

/// Asserts the envelope every list answers.
#[track_caller]
fn assert_envelope(page: &Reply) {
    page.assert_status(200);
    for member in ["items", "total", "total_exact", "page", "per_page", "next_cursor"] {
        assert!(page.body.get(member).is_some(), "no {member} in {}", page.text);
    }
    assert!(page.body["items"].is_array(), "{}", page.text);
}

/// `path` with `per_page` added to its query.
fn with_per_page(path: &str, per_page: usize) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}per_page={per_page}")
}

/// Lists `path` in one page, then walks it two at a time by following
/// `Link: rel="next"` alone: the same items in the same order, each once,
/// the last page without a next link, as many pages as it takes. The
/// number of items.
async fn walk_by_links(app: &TestApp, token: &str, path: &str) -> usize {
    let full = app.get(&with_per_page(path, 100), Some(token)).await;
    assert_envelope(&full);
    let all = full.items().clone();
    let n = all.len();
    assert!(n >= 3, "{path} needs three items to page: {}", full.text);
    assert_eq!(full.body["total"], n, "{path}");
    assert_eq!(full.body["total_exact"], true, "{path}");
    assert!(full.body["next_cursor"].is_null(), "{path}");
    assert_eq!(link(&full, "next"), None, "{path}: one page has no next");
    let (mut walked, mut pages) = (Vec::new(), 0);
    let mut url = Some(with_per_page(path, 2));
    while let Some(at) = url {
        let page = app.get(&at, Some(token)).await;
        assert_envelope(&page);
        pages += 1;
        assert_eq!(page.body["total"], n, "{at}");
        assert!(page.items().len() <= 2, "{at}: {}", page.text);
        url = link(&page, "next");
        assert_eq!(url.is_some(), page.body["next_cursor"].is_string(), "{at}: {}", page.text);
        if url.is_none() {
            assert!(!page.items().is_empty() || n == 0, "{at}: an empty last page");
        }
        walked.extend(page.items().iter().cloned());
        assert!(pages <= 50, "the walk of {path} must end");
    }
    assert_eq!(walked, all, "{path}: every item once, in order");
    let unique: HashSet<String> = walked.iter().map(Value::to_string).collect();
    assert_eq!(unique.len(), n, "{path}: no duplicates");
    assert_eq!(pages, n.div_ceil(2), "{path}");
    n
}

/// A world with at least three items in every list, and the paths of
/// those lists with the token that reads each.
struct World {
    lists: Vec<(String, String)>,
}

async fn world(app: &TestApp) -> World {
    let [owner, m1, m2] = app.register_verified_each(["owner", "mia", "max"]).await;
    let [h1, h2, h3] = app.register_verified_each(["hal", "hop", "hue"]).await;
    let e1 = app.create_estate(&owner, "Estate 1").await.id;
    let e2 = app.create_estate(&owner, "Estate 2").await.id;
    let e3 = app.create_estate(&owner, "Estate 3").await.id;
    let mut sites = Vec::new();
    for name in ["North", "South", "East"] {
        sites.push(app.create_site(&owner, &e1, name).await.id);
    }
    app.grant_role(&owner, &e1, &m1, "viewer").await;
    app.grant_role(&owner, &e1, &m2, "editor").await;
    let van = app.create_vehicle(&owner, "Van 1", None).await.id;
    let bus = app.create_vehicle(&owner, "Van 2", None).await.id;
    app.create_vehicle(&owner, "Van 3", None).await;
    fill_asset(app, &owner, &van, [&h1, &h2, &h3]).await;
    for collaborator in [&m1, &m2] {
        app.add_collaborator(&owner, &van, &collaborator.username).await;
    }
    for head in [&owner, &h1, &h2] {
        app.household_add(head, &m1, "viewer").await;
    }
    let at = |minutes| Utc::now() - Duration::minutes(minutes);
    app.seed_invitations(
        &owner,
        &[
            (ResourceType::Estate, &e1, "new1@example.com", at(3), None),
            (ResourceType::Estate, &e1, "new2@example.com", at(2), None),
            (ResourceType::Estate, &e1, "new3@example.com", at(2), None),
            (ResourceType::Estate, &e2, &m2.email, at(5), None),
            (ResourceType::Estate, &e3, &m2.email, at(5), None),
            (ResourceType::Asset, &bus, &m2.email, at(4), None),
        ],
    );
    let o = owner.token.clone();
    let lists = vec![
        ("/api/v1/estates".to_owned(), o.clone()),
        (format!("/api/v1/estates/{e1}/sites"), o.clone()),
        (format!("/api/v1/estates/{e1}/members"), o.clone()),
        (format!("/api/v1/sites/{}/members", sites[0]), o.clone()),
        (format!("/api/v1/estates/{e1}/invitations"), o.clone()),
        ("/api/v1/assets".to_owned(), o.clone()),
        (format!("/api/v1/assets/{van}/records"), o.clone()),
        (format!("/api/v1/assets/{van}/photos"), o.clone()),
        (format!("/api/v1/assets/{van}/shares"), o.clone()),
        (format!("/api/v1/assets/{van}/collaborators"), o.clone()),
        (format!("/api/v1/assets/{van}/access"), o.clone()),
        (format!("/api/v1/assets/{van}/invitations"), o.clone()),
        ("/api/v1/asset-invitations".to_owned(), o.clone()),
        ("/api/v1/audit".to_owned(), o),
        ("/api/v1/households".to_owned(), m1.token.clone()),
        ("/api/v1/me/access".to_owned(), m1.token.clone()),
        ("/api/v1/me/invitations".to_owned(), m2.token.clone()),
    ];
    World { lists }
}

/// Three records (two on one date), three photos, and a share to each of
/// `holders` (each invited and accepted).
async fn fill_asset(app: &TestApp, owner: &Session, asset: &str, holders: [&Session; 3]) {
    for (date, title) in [("2026-11-01", "Service"), ("2026-11-01", "Tyres"), ("2026-10-01", "MOT")]
    {
        let body = json!({"kind": "service", "date": date, "title": title});
        app.try_add_record(owner, asset, body).await.assert_status(201);
    }
    for n in 1..=3 {
        let body = json!({"url": format!("https://example.com/{n}.jpg")});
        app.try_add_photo(owner, asset, body).await.assert_status(201);
    }
    for holder in holders {
        let invited = app.send_asset_invitation(owner, asset, &holder.email, "view").await;
        app.try_accept(holder, &invited.token).await.assert_status(200);
    }
}

async fn every_list_walks_to_its_end_by_its_links(app: TestApp) {
    let World { lists } = world(&app).await;
    for (path, token) in &lists {
        walk_by_links(&app, token, path).await;
    }
}

async fn the_former_arrays_answer_the_envelope_and_page(app: TestApp) {
    let World { lists } = world(&app).await;
    for suffix in ["/shares", "/access", "/households", "/me/invitations"] {
        let (path, token) = lists.iter().find(|(p, _)| p.ends_with(suffix)).expect(suffix);
        let first = app.get(&with_per_page(path, 1), Some(token)).await;
        assert_envelope(&first);
        assert_eq!(first.items().len(), 1, "{path}: {}", first.text);
        assert_eq!(first.body["per_page"], 1);
        assert!(first.body["total"].as_i64().is_some_and(|t| t >= 3), "{}", first.text);
        let next = first.body["next_cursor"].as_str().expect("a next page");
        let second = app.get(&format!("{path}?per_page=1&cursor={next}"), Some(token)).await;
        assert_envelope(&second);
        assert_ne!(second.items(), first.items(), "{path}");
        app.assert_cursors_refused(token, path, &["garbage", "e30", FOREIGN_CURSOR]).await;
        app.get(&with_per_page(path, 101), Some(token))
            .await
            .assert_problem(422, "validation_failed");
    }
}

async fn paging_by_number_links_prev_first_and_last(app: TestApp) {
    let World { lists } = world(&app).await;
    for (path, token) in &lists {
        let all = app.get(&with_per_page(path, 100), Some(token)).await;
        let n = all.items().len();
        let second = app.get(&format!("{path}?per_page=1&page=2"), Some(token)).await;
        assert_envelope(&second);
        assert_eq!(second.items()[0], all.items()[1], "{path}");
        let prev = app.get(&link(&second, "prev").expect("prev"), Some(token)).await;
        assert_eq!(prev.items()[0], all.items()[0], "{path} prev");
        let first = app.get(&link(&second, "first").expect("first"), Some(token)).await;
        assert_eq!(first.items()[0], all.items()[0], "{path} first");
        let last = app.get(&link(&second, "last").expect("last"), Some(token)).await;
        assert_eq!(last.items()[0], all.items()[n - 1], "{path} last");
        assert_eq!(link(&last, "next"), None, "{path}: the last page has no next");
        let next = app.get(&link(&second, "next").expect("next"), Some(token)).await;
        assert_eq!(next.items()[0], all.items()[2], "{path} next");
        // A page reached by cursor links only onwards.
        assert_eq!(link(&next, "prev"), None, "{path}");
    }
}

async fn links_keep_the_callers_filters_encoded(app: TestApp) {
    let owner = app.register_verified("owner").await;
    for n in 1..=3 {
        app.create_vehicle(&owner, &format!("Van & Co {n}"), None).await;
    }
    app.create_vehicle(&owner, "Truck", None).await;
    let path = "/api/v1/assets?q=Van%20%26%20Co";
    let first = app.get(&with_per_page(path, 2), Some(&owner.token)).await;
    assert_eq!(first.body["total"], 3, "{}", first.text);
    let next = link(&first, "next").expect("next");
    assert!(next.starts_with("/api/v1/assets?q=Van%20%26%20Co&per_page=2&cursor="), "{next}");
    let last = link(&first, "last").expect("last");
    assert_eq!(last, "/api/v1/assets?q=Van%20%26%20Co&per_page=2&page=2");
    let rest = app.get(&next, Some(&owner.token)).await;
    let names: Vec<&str> = rest.items().iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(names, ["Van & Co 1"], "{}", rest.text);
    assert_eq!(walk_by_links(&app, &owner.token, path).await, 3);
}

on_both_backends!(
    every_list_walks_to_its_end_by_its_links,
    the_former_arrays_answer_the_envelope_and_page,
    paging_by_number_links_prev_first_and_last,
    links_keep_the_callers_filters_encoded,
);
