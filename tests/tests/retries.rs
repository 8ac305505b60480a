//! Safe retries and concurrent edits, on both databases:
//! - `Idempotency-Key` on the creating `POST`s: a retry replays the first
//!   answer byte for byte and creates nothing; the key on another request is
//!   422; a failed request stores nothing; keys belong to their caller and
//!   last 24 hours;
//! - strong `ETag`s on single resources and on the members matrix,
//!   `If-None-Match` (304) and `If-Match` (412 on a stale tag, nothing
//!   changed);
//! - racing: the same key sent twice at once creates one estate; two
//!   writers with the same `If-Match` leave exactly one winner.

use std::sync::Arc;

use keyholder_tests::{PASSWORD, Reply, Session, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    a_retried_create_replays_the_first_answer_and_creates_once,
    a_key_sent_with_another_body_or_path_is_refused,
    a_failed_request_keeps_its_key_free,
    a_malformed_key_is_refused_naming_the_header,
    keys_belong_to_their_caller_and_last_a_day,
    every_creating_post_replays,
    single_resources_carry_an_etag_and_answer_304,
    a_stale_if_match_changes_nothing,
    household_changes_honour_if_match,
    records_photos_and_invitations_honour_if_match,
    the_members_matrix_is_tagged_and_checked,
    concurrent_retries_with_one_key_create_once,
    matrix_writers_with_one_if_match_leave_one_winner,
    estate_renames_with_one_if_match_leave_one_winner,
    record_edits_with_one_if_match_leave_one_winner,
);

const ROUNDS: usize = 4;

/// One request with extra headers; `body` is sent as JSON when given.
async fn send(
    app: &TestApp,
    by: &Session,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(&by.token);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    TestApp::reply(req.send().await.expect("the server answers")).await
}

async fn create_estate(app: &TestApp, by: &Session, key: &str, name: &str) -> Reply {
    let body = json!({"name": name});
    send(app, by, Method::POST, "/api/v1/estates", &[("Idempotency-Key", key)], Some(body)).await
}

/// The names of the estates `by` sees.
async fn estate_names(app: &TestApp, by: &Session) -> Vec<String> {
    let r = app.try_estates(by, "?per_page=100").await;
    r.assert_status(200);
    r.items().iter().map(|e| e["name"].as_str().expect("a name").to_owned()).collect()
}

fn etag(r: &Reply) -> String {
    let tag = r.header("etag").unwrap_or_else(|| panic!("no ETag: {} {}", r.status, r.text));
    assert!(tag.starts_with('"') && tag.ends_with('"'), "a strong tag: {tag}");
    tag.to_owned()
}

// ---------------------------------------------------------------- keys

async fn a_retried_create_replays_the_first_answer_and_creates_once(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let first = create_estate(&app, &owner, "k-1", "Riverside").await;
    first.assert_status(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = create_estate(&app, &owner, "k-1", "Riverside").await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.text, first.text, "the first answer, byte for byte");
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(estate_names(&app, &owner).await, ["Riverside"], "one estate was created");
}

async fn a_key_sent_with_another_body_or_path_is_refused(app: TestApp) {
    let owner = app.register_verified("owner").await;
    create_estate(&app, &owner, "k-2", "Riverside").await.assert_status(201);
    create_estate(&app, &owner, "k-2", "Hillside")
        .await
        .assert_problem(422, "idempotency_key_reused");
    let asset = json!({"name": "Van"});
    let other_path = [("Idempotency-Key", "k-2")];
    send(&app, &owner, Method::POST, "/api/v1/assets", &other_path, Some(asset))
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert_eq!(estate_names(&app, &owner).await, ["Riverside"]);
    assert_eq!(app.try_garage(&owner, "").await.body["total"], 0, "no asset was created");
}

async fn a_failed_request_keeps_its_key_free(app: TestApp) {
    let owner = app.register_verified("owner").await;
    create_estate(&app, &owner, "k-3", "").await.assert_status(422);
    let created = create_estate(&app, &owner, "k-3", "Riverside").await;
    created.assert_status(201);
    assert_eq!(created.header("idempotent-replayed"), None, "nothing was stored for the 422");
    let replayed = create_estate(&app, &owner, "k-3", "Riverside").await;
    assert_eq!((replayed.status, replayed.text.as_str()), (201, created.text.as_str()));
    assert_eq!(estate_names(&app, &owner).await, ["Riverside"]);
}

async fn a_malformed_key_is_refused_naming_the_header(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let long = "k".repeat(256);
    for key in ["two words", long.as_str(), "tab\there", "é"] {
        let r = create_estate(&app, &owner, key, "Riverside").await;
        r.assert_problem(422, "validation_failed");
        assert!(r.body["errors"]["Idempotency-Key"].is_string(), "{key:?}: {}", r.text);
    }
    let longest = "k".repeat(255);
    create_estate(&app, &owner, &longest, "Riverside").await.assert_status(201);
    assert_eq!(estate_names(&app, &owner).await, ["Riverside"]);
}

async fn keys_belong_to_their_caller_and_last_a_day(app: TestApp) {
    let [alice, bob] = app.register_verified_each(["alice", "bob"]).await;
    let a = create_estate(&app, &alice, "shared-key", "Riverside").await;
    let b = create_estate(&app, &bob, "shared-key", "Riverside").await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_ne!(a.id(), b.id(), "another caller's key never matches");
    assert_eq!(b.header("idempotent-replayed"), None);
    // A day later the key is free again: the same request creates anew.
    app.clock.advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
    let token = app.sign_in(&alice.username, PASSWORD).await;
    let alice = Session { token, ..alice };
    let later = create_estate(&app, &alice, "shared-key", "Riverside").await;
    later.assert_status(201);
    assert_eq!(later.header("idempotent-replayed"), None);
    assert_ne!(later.id(), a.id());
    assert_eq!(estate_names(&app, &alice).await.len(), 2);
}

async fn every_creating_post_replays(app: TestApp) {
    let [owner, friend] = app.register_verified_each(["owner", "friend"]).await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    let asset = app.create_vehicle(&owner, "Van", None).await.id;
    let creating: Vec<(String, Value, &str)> = vec![
        (format!("/api/v1/estates/{estate}/sites"), json!({"name": "North"}), "sites"),
        ("/api/v1/assets".into(), json!({"name": "Truck"}), "assets"),
        (
            format!("/api/v1/assets/{asset}/records"),
            json!({"kind": "note", "date": "2026-01-02", "title": "Tyres"}),
            "records",
        ),
        (
            format!("/api/v1/assets/{asset}/photos"),
            json!({"url": "https://x.example/a.jpg"}),
            "photos",
        ),
        (
            format!("/api/v1/assets/{asset}/collaborators"),
            json!({"username": friend.username}),
            "collaborators",
        ),
        (
            "/api/v1/household/members".into(),
            json!({"username": friend.username, "role": "viewer"}),
            "household",
        ),
        (
            format!("/api/v1/assets/{asset}/invitations"),
            json!({"email": "guest@example.com", "permission": "view"}),
            "asset invitations",
        ),
        (
            format!("/api/v1/estates/{estate}/invitations"),
            json!({"email": friend.email, "role": "viewer"}),
            "estate invitations",
        ),
    ];
    for (i, (path, body, what)) in creating.into_iter().enumerate() {
        let key = format!("every-{i}");
        let headers = [("Idempotency-Key", key.as_str())];
        let first = send(&app, &owner, Method::POST, &path, &headers, Some(body.clone())).await;
        assert_eq!(first.status, 201, "{what}: {}", first.text);
        let again = send(&app, &owner, Method::POST, &path, &headers, Some(body)).await;
        assert_eq!(again.status, 201, "{what} replayed: {}", again.text);
        assert_eq!(again.text, first.text, "{what}: the same answer");
        assert_eq!(again.header("idempotent-replayed"), Some("true"), "{what}");
    }
    // One of each was created.
    assert_eq!(app.try_sites(&owner, &estate).await.body["total"], 1);
    assert_eq!(app.try_garage(&owner, "").await.body["total"], 2, "the van and one truck");
    assert_eq!(app.try_records(&owner, &asset).await.body["total"], 1);
    assert_eq!(app.try_photos(&owner, &asset).await.body["total"], 1);
    assert_eq!(app.try_asset_invitations_of(&owner, &asset).await.body["total"], 1);
    assert_eq!(app.try_members(&owner, &estate, "").await.body["total"], 2);
}

// ---------------------------------------------------------------- tags

async fn single_resources_carry_an_etag_and_answer_304(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let (estate, site) = app.estate_with_site(&owner, "Riverside", "North").await;
    let asset = app.create_vehicle(&owner, "Van", None).await.id;
    let paths = [
        format!("/api/v1/estates/{estate}"),
        format!("/api/v1/sites/{site}"),
        format!("/api/v1/assets/{asset}"),
        "/api/v1/me".to_owned(),
        "/api/v1/household".to_owned(),
    ];
    for path in &paths {
        let r = send(&app, &owner, Method::GET, path, &[], None).await;
        r.assert_status(200);
        let tag = etag(&r);
        let same = send(&app, &owner, Method::GET, path, &[], None).await;
        assert_eq!(etag(&same), tag, "{path}: the same state, the same tag");
        let cached = send(&app, &owner, Method::GET, path, &[("If-None-Match", &tag)], None).await;
        assert_eq!(cached.status, 304, "{path}: {}", cached.text);
        assert_eq!(cached.text, "", "{path}: 304 has no body");
        assert_eq!(cached.header("etag"), Some(tag.as_str()));
        let other = [("If-None-Match", "\"something-else\"")];
        send(&app, &owner, Method::GET, path, &other, None).await.assert_status(200);
    }
    // A change changes the tag: the old one no longer answers 304.
    let before = etag(&send(&app, &owner, Method::GET, &paths[0], &[], None).await);
    app.try_rename_estate(&owner, &estate, json!({"name": "Lakeside"})).await.assert_status(200);
    let after =
        send(&app, &owner, Method::GET, &paths[0], &[("If-None-Match", &before)], None).await;
    after.assert_status(200);
    assert_ne!(etag(&after), before);
    assert_eq!(after.body["name"], "Lakeside");
}

async fn a_stale_if_match_changes_nothing(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let (estate, site) = app.estate_with_site(&owner, "Riverside", "North").await;
    let asset = app.create_vehicle(&owner, "Van", None).await.id;
    let cases = [
        (format!("/api/v1/estates/{estate}"), "name"),
        (format!("/api/v1/sites/{site}"), "name"),
        (format!("/api/v1/assets/{asset}"), "name"),
    ];
    for (path, field) in &cases {
        let read = send(&app, &owner, Method::GET, path, &[], None).await;
        let (old_tag, old_name) = (etag(&read), read.body[field].clone());
        // Fresh: applied, answered with the new tag the next read shows.
        let fresh = [("If-Match", old_tag.as_str())];
        let saved =
            send(&app, &owner, Method::PATCH, path, &fresh, Some(json!({(*field): "One"}))).await;
        saved.assert_status(200);
        let new_tag = etag(&saved);
        assert_ne!(new_tag, old_tag);
        let reread = send(&app, &owner, Method::GET, path, &[], None).await;
        assert_eq!(etag(&reread), new_tag, "{path}: the write answers the tag a read shows");
        // Stale: 412 and nothing changed, for an edit and for a delete.
        let stale = [("If-Match", old_tag.as_str())];
        send(&app, &owner, Method::PATCH, path, &stale, Some(json!({(*field): "Two"})))
            .await
            .assert_problem(412, "precondition_failed");
        send(&app, &owner, Method::DELETE, path, &stale, None)
            .await
            .assert_problem(412, "precondition_failed");
        let still = send(&app, &owner, Method::GET, path, &[], None).await;
        assert_eq!((still.status, &still.body[field]), (200, &json!("One")), "{path}");
        assert_ne!(old_name, json!("One"));
        // `*` and no header apply as before.
        let any = [("If-Match", "*")];
        send(&app, &owner, Method::PATCH, path, &any, Some(json!({(*field): "Three"})))
            .await
            .assert_status(200);
    }
    // A fresh tag deletes; the stale one above did not.
    let path = format!("/api/v1/assets/{asset}");
    let tag = etag(&send(&app, &owner, Method::GET, &path, &[], None).await);
    send(&app, &owner, Method::DELETE, &path, &[("If-Match", &tag)], None).await.assert_status(204);
    app.try_get_asset(&owner, &asset).await.assert_problem(404, "asset_not_found");
}

/// Reads `path` (200) and answers its tag, after checking that the tag
/// answers 304.
async fn tag_of(app: &TestApp, by: &Session, path: &str) -> String {
    let tag = etag(send(app, by, Method::GET, path, &[], None).await.assert_status(200));
    let cached = send(app, by, Method::GET, path, &[("If-None-Match", &tag)], None).await;
    assert_eq!((cached.status, cached.text.as_str()), (304, ""), "{path}");
    tag
}

/// A record, a photo and an asset invitation are read with an `ETag`, and
/// their writes compare `If-Match`: stale is 412 and changes nothing; fresh
/// applies and answers the tag the next read shows.
async fn records_photos_and_invitations_honour_if_match(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let asset = app.create_vehicle(&owner, "Van", None).await.id;
    let record = json!({"kind": "service", "date": "2026-11-01", "title": "Oil change"});
    let record = app.try_add_record(&owner, &asset, record).await.assert_status(201).str("id");
    let path = format!("/api/v1/assets/{asset}/records/{record}");
    let old = tag_of(&app, &owner, &path).await;
    let saved = send(
        &app,
        &owner,
        Method::PATCH,
        &path,
        &[("If-Match", &old)],
        Some(json!({"title": "Oil and filter"})),
    )
    .await;
    saved.assert_status(200);
    assert_eq!(etag(&saved), tag_of(&app, &owner, &path).await, "the edit answers the new tag");
    let stale = [("If-Match", old.as_str())];
    send(&app, &owner, Method::PATCH, &path, &stale, Some(json!({"title": "Brakes"})))
        .await
        .assert_problem(412, "precondition_failed");
    send(&app, &owner, Method::DELETE, &path, &stale, None)
        .await
        .assert_problem(412, "precondition_failed");
    let still = app.try_get_record(&owner, &asset, &record).await;
    assert_eq!((still.status, &still.body["title"]), (200, &json!("Oil and filter")));
    let fresh = tag_of(&app, &owner, &path).await;
    send(&app, &owner, Method::DELETE, &path, &[("If-Match", &fresh)], None)
        .await
        .assert_status(204);
    app.try_get_record(&owner, &asset, &record).await.assert_problem(404, "record_not_found");

    let photo = json!({"url": "https://photos.example.com/van.jpg", "caption": "Front"});
    let photo = app.try_add_photo(&owner, &asset, photo).await.assert_status(201).str("id");
    let path = format!("/api/v1/assets/{asset}/photos/{photo}");
    let tag = tag_of(&app, &owner, &path).await;
    let other = [("If-Match", "\"another-photo\"")];
    send(&app, &owner, Method::DELETE, &path, &other, None)
        .await
        .assert_problem(412, "precondition_failed");
    app.try_get_photo(&owner, &asset, &photo).await.assert_status(200);
    send(&app, &owner, Method::DELETE, &path, &[("If-Match", &tag)], None).await.assert_status(204);
    app.try_get_photo(&owner, &asset, &photo).await.assert_problem(404, "photo_not_found");

    let invited = app.send_asset_invitation(&owner, &asset, "guest@example.com", "view").await;
    let path = format!("/api/v1/asset-invitations/{}", invited.id);
    let old = tag_of(&app, &owner, &path).await;
    let later = json!({"expires_at": "2099-01-01T00:00:00Z"});
    let resent = send(
        &app,
        &owner,
        Method::POST,
        &format!("{path}/resend"),
        &[("If-Match", &old)],
        Some(later),
    )
    .await;
    resent.assert_status(200);
    assert_eq!(etag(&resent), tag_of(&app, &owner, &path).await);
    let stale = [("If-Match", old.as_str())];
    send(&app, &owner, Method::POST, &format!("{path}/cancel"), &stale, Some(json!({})))
        .await
        .assert_problem(412, "precondition_failed");
    let read = send(&app, &owner, Method::GET, &path, &[], None).await;
    assert_eq!(read.body["status"], "pending", "a stale cancel leaves it pending");
    let fresh = [("If-Match", etag(&read))];
    let fresh: Vec<(&str, &str)> = fresh.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let cancelled =
        send(&app, &owner, Method::POST, &format!("{path}/cancel"), &fresh, Some(json!({}))).await;
    assert_eq!((cancelled.status, &cancelled.body["status"]), (200, &json!("cancelled")));
}

/// The matrix page's tag as `by` reads it.
/// The household's tag guards a role change and a removal: a stale one is
/// 412 and leaves the member and their role as they were.
async fn household_changes_honour_if_match(app: TestApp) {
    let [head, kim, lou] = app.register_verified_each(["head", "kim", "lou"]).await;
    app.household_add(&head, &kim, "viewer").await;
    let household = "/api/v1/household";
    let old = etag(&send(&app, &head, Method::GET, household, &[], None).await);
    app.household_add(&head, &lou, "viewer").await;
    let stale = [("If-Match", old.as_str())];
    let kim_path = format!("{household}/members/{}", kim.id);
    send(&app, &head, Method::PATCH, &kim_path, &stale, Some(json!({"role": "manager"})))
        .await
        .assert_problem(412, "precondition_failed");
    send(&app, &head, Method::DELETE, &kim_path, &stale, None)
        .await
        .assert_problem(412, "precondition_failed");
    let read = send(&app, &head, Method::GET, household, &[], None).await;
    let roles: Vec<(&str, &str)> = read.body["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (m["user"]["username"].as_str().unwrap_or(""), m["role"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(roles, [("kim", "viewer"), ("lou", "viewer")]);
    // The current tag applies, and the answer carries the tag a read shows.
    let fresh = [("If-Match", etag(&read))];
    let fresh: Vec<(&str, &str)> = fresh.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved =
        send(&app, &head, Method::PATCH, &kim_path, &fresh, Some(json!({"role": "manager"}))).await;
    saved.assert_status(200);
    let reread = send(&app, &head, Method::GET, household, &[], None).await;
    assert_eq!(etag(&saved), etag(&reread));
    let fresh = [("If-Match", etag(&reread))];
    let fresh: Vec<(&str, &str)> = fresh.iter().map(|(k, v)| (*k, v.as_str())).collect();
    send(&app, &head, Method::DELETE, &kim_path, &fresh, None).await.assert_status(204);
}

async fn matrix_tag(app: &TestApp, by: &Session, estate: &str) -> String {
    let path = format!("/api/v1/estates/{estate}/members");
    etag(send(app, by, Method::GET, &path, &[], None).await.assert_status(200))
}

async fn role_of(app: &TestApp, by: &Session, estate: &str, user: &Session) -> String {
    let r = app.try_members(by, estate, "").await;
    r.row_of(user)["role"].as_str().expect("a role").to_owned()
}

async fn the_members_matrix_is_tagged_and_checked(app: TestApp) {
    let [owner, member] = app.register_verified_each(["owner", "member"]).await;
    let (estate, site) = app.estate_with_site(&owner, "Riverside", "North").await;
    app.grant_role(&owner, &estate, &member, "viewer").await;
    let members = format!("/api/v1/estates/{estate}/members");
    let tag = matrix_tag(&app, &owner, &estate).await;
    let cached = send(&app, &owner, Method::GET, &members, &[("If-None-Match", &tag)], None).await;
    assert_eq!((cached.status, cached.text.as_str()), (304, ""));

    // A fresh If-Match applies and answers the next tag to send.
    let path = format!("{members}/{}", member.id);
    let editor = Some(json!({"role": "editor"}));
    let saved = send(&app, &owner, Method::PUT, &path, &[("If-Match", &tag)], editor).await;
    saved.assert_status(200);
    let next = etag(&saved);
    // The old tag is stale for every change of the matrix.
    let admin = Some(json!({"role": "admin"}));
    send(&app, &owner, Method::PUT, &path, &[("If-Match", &tag)], admin)
        .await
        .assert_problem(412, "precondition_failed");
    let site_path = format!("/api/v1/sites/{site}/members/{}", member.id);
    let none = Some(json!({"role": "none"}));
    send(&app, &owner, Method::PUT, &site_path, &[("If-Match", &tag)], none.clone())
        .await
        .assert_problem(412, "precondition_failed");
    send(&app, &owner, Method::DELETE, &path, &[("If-Match", &tag)], None)
        .await
        .assert_problem(412, "precondition_failed");
    assert_eq!(role_of(&app, &owner, &estate, &member).await, "editor", "nothing changed");
    let r = app.try_site_members(&owner, &site).await;
    assert_eq!(r.row_of(&member)["override"], Value::Null, "no override was set");
    // The tag a write answered works, and so does the one a read shows.
    let over = send(&app, &owner, Method::PUT, &site_path, &[("If-Match", &next)], none).await;
    over.assert_status(200);
    let read = matrix_tag(&app, &owner, &estate).await;
    assert_ne!(read, tag);
    send(&app, &owner, Method::DELETE, &path, &[("If-Match", &read)], None)
        .await
        .assert_status(204);
    assert_eq!(app.try_members(&owner, &estate, "").await.body["total"], 1);
}

// ---------------------------------------------------------------- races

/// One racing request: who sends it, the method, the path, its headers and
/// its JSON body.
type Call<'a> = (&'a Session, Method, String, Vec<(String, String)>, Value);

/// Sends all requests at the same moment, each from its own task.
async fn race(app: &TestApp, calls: Vec<Call<'_>>) -> Vec<Reply> {
    let gate = Arc::new(tokio::sync::Barrier::new(calls.len()));
    let tasks: Vec<_> = calls
        .into_iter()
        .map(|(by, method, path, headers, body)| {
            let mut req = app.client.request(method, app.url(&path)).bearer_auth(&by.token);
            for (name, value) in headers {
                req = req.header(name, value);
            }
            let req = req.json(&body);
            let gate = Arc::clone(&gate);
            tokio::spawn(async move {
                gate.wait().await;
                TestApp::reply(req.send().await.expect("the server answers")).await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.expect("the request's task"));
    }
    replies
}

async fn concurrent_retries_with_one_key_create_once(app: TestApp) {
    let owner = app.register_verified("owner").await;
    for round in 0..ROUNDS {
        let (key, name) = (format!("race-{round}"), format!("Estate {round}"));
        let call = || {
            let headers = vec![("Idempotency-Key".to_owned(), key.clone())];
            (&owner, Method::POST, "/api/v1/estates".to_owned(), headers, json!({"name": name}))
        };
        let replies = race(&app, vec![call(), call(), call()]).await;
        let mut ids = Vec::new();
        for r in &replies {
            match r.status {
                201 => ids.push(r.id()),
                409 => {
                    r.assert_problem(409, "idempotency_key_in_progress");
                    assert!(r.header("retry-after").is_some(), "409 says when to retry");
                }
                other => panic!("round {round}: {other} {}", r.text),
            }
        }
        assert!(!ids.is_empty(), "round {round}: one request created the estate");
        assert!(ids.iter().all(|id| *id == ids[0]), "round {round}: one estate id: {ids:?}");
        let named = estate_names(&app, &owner).await.into_iter().filter(|n| *n == name).count();
        assert_eq!(named, 1, "round {round}: exactly one estate was created");
    }
}

/// Asserts that exactly one reply is `success` and every other is 412.
#[track_caller]
fn one_winner(round: usize, replies: &[Reply], success: u16) -> usize {
    let mut winner = None;
    for (i, r) in replies.iter().enumerate() {
        if r.status == success {
            assert!(winner.is_none(), "round {round}: two writers won with one If-Match");
            winner = Some(i);
        } else {
            r.assert_problem(412, "precondition_failed");
        }
    }
    winner.unwrap_or_else(|| panic!("round {round}: nobody won: {replies:?}"))
}

async fn matrix_writers_with_one_if_match_leave_one_winner(app: TestApp) {
    let [owner, member] = app.register_verified_each(["owner", "member"]).await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.grant_role(&owner, &estate, &member, "viewer").await;
    let path = format!("/api/v1/estates/{estate}/members/{}", member.id);
    for round in 0..ROUNDS {
        let tag = matrix_tag(&app, &owner, &estate).await;
        // Both change the member (a no-op save leaves the revision as it is).
        let roles = if round % 2 == 0 { ["editor", "admin"] } else { ["admin", "editor"] };
        let call = |role: &str| {
            let headers = vec![("If-Match".to_owned(), tag.clone())];
            (&owner, Method::PUT, path.clone(), headers, json!({"role": role}))
        };
        let replies = race(&app, vec![call(roles[0]), call(roles[1])]).await;
        let winner = one_winner(round, &replies, 200);
        assert_eq!(role_of(&app, &owner, &estate, &member).await, roles[winner], "round {round}");
        // Back to a plain member for the next round.
        app.try_set_estate_role(&owner, &estate, &member.id, json!({"role": "viewer"}))
            .await
            .assert_status(200);
    }
}

async fn estate_renames_with_one_if_match_leave_one_winner(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    let path = format!("/api/v1/estates/{estate}");
    for round in 0..ROUNDS {
        let tag = etag(&send(&app, &owner, Method::GET, &path, &[], None).await);
        let names = [format!("A{round}"), format!("B{round}")];
        let call = |name: &str| {
            let headers = vec![("If-Match".to_owned(), tag.clone())];
            (&owner, Method::PATCH, path.clone(), headers, json!({"name": name}))
        };
        let replies = race(&app, vec![call(&names[0]), call(&names[1])]).await;
        let winner = one_winner(round, &replies, 200);
        let now = app.try_get_estate(&owner, &estate).await;
        assert_eq!(now.body["name"], json!(names[winner]), "round {round}: the winner's name");
    }
}

async fn record_edits_with_one_if_match_leave_one_winner(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let asset = app.create_vehicle(&owner, "Van", None).await.id;
    let record = json!({"kind": "repair", "date": "2026-10-01", "title": "Brakes"});
    let record = app.try_add_record(&owner, &asset, record).await.assert_status(201).str("id");
    let path = format!("/api/v1/assets/{asset}/records/{record}");
    for round in 0..ROUNDS {
        let tag = etag(&send(&app, &owner, Method::GET, &path, &[], None).await);
        let titles = [format!("A{round}"), format!("B{round}")];
        let call = |title: &str| {
            let headers = vec![("If-Match".to_owned(), tag.clone())];
            (&owner, Method::PATCH, path.clone(), headers, json!({"title": title}))
        };
        let replies = race(&app, vec![call(&titles[0]), call(&titles[1])]).await;
        let winner = one_winner(round, &replies, 200);
        let now = app.try_get_record(&owner, &asset, &record).await;
        assert_eq!(now.body["title"], json!(titles[winner]), "round {round}: the winner's title");
    }
}
