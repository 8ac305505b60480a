//! Assets, records, photos, collaborators (single and bulk), households and
//! the garage, on both databases: the seed page's examples by name,
//! LubeLogger's permission matrix, and IDOR attempts on every sub-resource.

use chrono::{Duration, Utc};
use keyholder_tests::{Reply, Session, TestApp, on_both_backends};
use serde_json::{Value, json};

async fn vehicle(app: &TestApp, owner: &Session, name: &str) -> String {
    let r = app
        .post(
            "/api/v1/assets",
            Some(&owner.token),
            json!({"name": name, "reference": "KX21 ABC"}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["my_access"], "full");
    r.body["id"].as_str().expect("id").to_owned()
}

async fn household_add(app: &TestApp, head: &Session, member: &Session, role: &str) {
    app.post(
        "/api/v1/household/members",
        Some(&head.token),
        json!({"username": member.username, "role": role}),
    )
    .await
    .assert_status(201);
}

async fn collaborate(app: &TestApp, by: &Session, asset: &str, user: &Session) {
    app.post(
        &format!("/api/v1/assets/{asset}/collaborators"),
        Some(&by.token),
        json!({"username": user.username}),
    )
    .await
    .assert_status(201);
}

async fn access(app: &TestApp, user: &Session, asset: &str) -> Option<String> {
    let r = app
        .get(&format!("/api/v1/assets/{asset}"), Some(&user.token))
        .await;
    match r.status {
        200 => Some(r.body["my_access"].as_str().expect("my_access").to_owned()),
        404 => None,
        other => panic!("unexpected {other}: {}", r.text),
    }
}

fn record_body() -> Value {
    json!({"kind": "service", "date": "2026-11-01", "title": "Annual service", "cost": 189.5, "odometer": 48210})
}

/// What each actor can do, judged from real requests: [delete the vehicle
/// and manage collaborators, bulk-manage collaborators, add and edit records,
/// delete records, edit vehicle details, read].
async fn matrix_row(app: &TestApp, owner: &Session, actor: &Session, asset: &str) -> [bool; 6] {
    // A record to delete, made by the owner each time.
    let rec = app
        .post(
            &format!("/api/v1/assets/{asset}/records"),
            Some(&owner.token),
            record_body(),
        )
        .await;
    let rec_id = rec.body["id"].as_str().expect("record").to_owned();
    let read = app
        .get(
            &format!("/api/v1/assets/{asset}/records"),
            Some(&actor.token),
        )
        .await
        .status
        == 200;
    let add = app
        .post(
            &format!("/api/v1/assets/{asset}/records"),
            Some(&actor.token),
            record_body(),
        )
        .await
        .status
        == 201;
    let edit_details = app
        .patch(
            &format!("/api/v1/assets/{asset}"),
            Some(&actor.token),
            json!({"attributes": {"colour": "blue"}}),
        )
        .await
        .status
        == 200;
    let delete_record = app
        .delete(
            &format!("/api/v1/assets/{asset}/records/{rec_id}"),
            Some(&actor.token),
        )
        .await
        .status
        == 204;
    let bulk = app
        .get(
            &format!("/api/v1/collaborators?asset_ids={asset}"),
            Some(&actor.token),
        )
        .await
        .status
        == 200;
    // Full access gets past the permission check to the 409 for an existing
    // collaborator; anyone else stops at 403. Nothing changes either way.
    let full = app
        .post(
            &format!("/api/v1/assets/{asset}/collaborators"),
            Some(&actor.token),
            json!({"username": owner.username}),
        )
        .await
        .status
        == 409;
    [full, bulk, add, delete_record, edit_details, read]
}

on_both_backends!(
    asset_lifecycle_and_sub_resources,
    collaborator_vs_household_permission_matrix,
    test3_in_households_of_test_and_test2_gets_the_higher_role,
    test3_does_not_inherit_from_test4,
    household_members_need_their_head_to_be_a_collaborator,
    collaborators_single_vehicle,
    bulk_dialog_same_collaborators_on_all,
    bulk_dialog_test_on_both_test2_on_one,
    bulk_calls_are_all_or_nothing_and_name_the_assets,
    idor_attempts_on_every_sub_resource_answer_404,
    households_rules,
    garage_lists_every_path_in_one_page,
    placing_and_moving_assets_between_sites,
    leaving_an_estate_drops_asset_access,
    asset_changes_write_audit_events,
);

async fn asset_lifecycle_and_sub_resources(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    app.post("/api/v1/assets", Some(&ada.token), json!({"name": ""}))
        .await
        .assert_problem(422, "validation_failed");
    let id = vehicle(&app, &ada, "Van 7").await;
    let got = app
        .get(&format!("/api/v1/assets/{id}"), Some(&ada.token))
        .await;
    assert_eq!(got.body["name"], "Van 7");
    assert_eq!(got.body["reference"], "KX21 ABC");
    let patched = app
        .patch(
            &format!("/api/v1/assets/{id}"),
            Some(&ada.token),
            json!({"name": "Van 8", "reference": null, "attributes": {"make": "Ford"}}),
        )
        .await;
    patched.assert_status(200);
    assert_eq!(patched.body["name"], "Van 8");
    assert!(patched.body["reference"].is_null());
    assert_eq!(patched.body["attributes"]["make"], "Ford");
    let rec = app
        .post(
            &format!("/api/v1/assets/{id}/records"),
            Some(&ada.token),
            record_body(),
        )
        .await;
    rec.assert_status(201);
    assert_eq!(rec.body["kind"], "service");
    assert_eq!(rec.body["cost"], 189.5);
    let rec_id = rec.body["id"].as_str().expect("id").to_owned();
    let bad = app
        .post(
            &format!("/api/v1/assets/{id}/records"),
            Some(&ada.token),
            json!({"kind": "party", "date": "2026-11-01", "title": " ", "cost": -1}),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    app.post(
        &format!("/api/v1/assets/{id}/records"),
        Some(&ada.token),
        json!({"kind": "fuel", "date": "not a date", "title": "x"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let edited = app
        .patch(
            &format!("/api/v1/assets/{id}/records/{rec_id}"),
            Some(&ada.token),
            json!({"kind": "repair", "date": "2026-11-02", "title": "Brakes"}),
        )
        .await;
    edited.assert_status(200);
    assert_eq!(edited.body["title"], "Brakes");
    let photo = app
        .post(
            &format!("/api/v1/assets/{id}/photos"),
            Some(&ada.token),
            json!({"url": "https://photos.example.com/v.jpg", "caption": "Front"}),
        )
        .await;
    photo.assert_status(201);
    app.post(
        &format!("/api/v1/assets/{id}/photos"),
        Some(&ada.token),
        json!({"url": "javascript:alert(1)"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let photos = app
        .get(&format!("/api/v1/assets/{id}/photos"), Some(&ada.token))
        .await;
    assert_eq!(photos.body["total"], 1);
    // Strangers see nothing at all.
    for path in [
        format!("/api/v1/assets/{id}"),
        format!("/api/v1/assets/{id}/records"),
        format!("/api/v1/assets/{id}/photos"),
        format!("/api/v1/assets/{id}/collaborators"),
    ] {
        app.get(&path, Some(&bob.token))
            .await
            .assert_problem(404, "asset_not_found");
    }
    app.delete(&format!("/api/v1/assets/{id}"), Some(&bob.token))
        .await
        .assert_problem(404, "asset_not_found");
    app.delete(&format!("/api/v1/assets/{id}"), Some(&ada.token))
        .await
        .assert_status(204);
    app.get(&format!("/api/v1/assets/{id}"), Some(&ada.token))
        .await
        .assert_problem(404, "asset_not_found");
    let left: i64 = app.with_db(|c| {
        use diesel::prelude::*;
        keyholder_store::schema::asset_records::table
            .count()
            .get_result(c)
            .map_err(Into::into)
    });
    assert_eq!(left, 0, "records go with the asset");
}

async fn collaborator_vs_household_permission_matrix(app: TestApp) {
    let head = app.register_verified("head").await;
    let co = app.register_verified("coowner").await;
    let viewer = app.register_verified("hviewer").await;
    let editor = app.register_verified("heditor").await;
    let manager = app.register_verified("hmanager").await;
    let id = vehicle(&app, &head, "Truck").await;
    collaborate(&app, &head, &id, &co).await;
    household_add(&app, &head, &viewer, "viewer").await;
    household_add(&app, &head, &editor, "editor").await;
    household_add(&app, &head, &manager, "manager").await;
    // [delete vehicle + manage collaborators, bulk manage, add/edit records, delete records, edit details, read]
    assert_eq!(
        matrix_row(&app, &head, &co, &id).await,
        [true, true, true, true, true, true]
    );
    assert_eq!(
        matrix_row(&app, &head, &viewer, &id).await,
        [false, false, false, false, false, true]
    );
    assert_eq!(
        matrix_row(&app, &head, &editor, &id).await,
        [false, false, true, false, true, true]
    );
    assert_eq!(
        matrix_row(&app, &head, &manager, &id).await,
        [false, false, true, true, true, true]
    );
    assert_eq!(access(&app, &viewer, &id).await.as_deref(), Some("view"));
    assert_eq!(access(&app, &editor, &id).await.as_deref(), Some("edit"));
    assert_eq!(access(&app, &manager, &id).await.as_deref(), Some("manage"));
    // Household members never delete the vehicle or manage collaborators.
    for member in [&viewer, &editor, &manager] {
        app.delete(&format!("/api/v1/assets/{id}"), Some(&member.token))
            .await
            .assert_problem(403, "full_access_required");
        app.post(
            &format!("/api/v1/assets/{id}/collaborators"),
            Some(&member.token),
            json!({"username": "coowner"}),
        )
        .await
        .assert_problem(403, "full_access_required");
    }
    app.post(
        &format!("/api/v1/assets/{id}/records"),
        Some(&viewer.token),
        record_body(),
    )
    .await
    .assert_problem(403, "edit_access_required");
    // The co-owner can delete it.
    app.delete(&format!("/api/v1/assets/{id}"), Some(&co.token))
        .await
        .assert_status(204);
}

async fn test3_in_households_of_test_and_test2_gets_the_higher_role(app: TestApp) {
    let test = app.register_verified("test").await;
    let test2 = app.register_verified("test2").await;
    let test3 = app.register_verified("test3").await;
    let id = vehicle(&app, &test, "Shared car").await;
    collaborate(&app, &test, &id, &test2).await;
    household_add(&app, &test, &test3, "viewer").await;
    household_add(&app, &test2, &test3, "manager").await;
    assert_eq!(access(&app, &test3, &id).await.as_deref(), Some("manage"));
    app.post(
        &format!("/api/v1/assets/{id}/records"),
        Some(&test3.token),
        record_body(),
    )
    .await
    .assert_status(201);
    let memberships = app.get("/api/v1/households", Some(&test3.token)).await;
    assert_eq!(memberships.body.as_array().expect("list").len(), 2);
}

async fn test3_does_not_inherit_from_test4(app: TestApp) {
    let test = app.register_verified("test").await;
    let test3 = app.register_verified("test3").await;
    let test4 = app.register_verified("test4").await;
    let id = vehicle(&app, &test4, "test4's car").await;
    household_add(&app, &test4, &test, "manager").await;
    household_add(&app, &test, &test3, "manager").await;
    assert_eq!(access(&app, &test, &id).await.as_deref(), Some("manage"));
    assert_eq!(
        access(&app, &test3, &id).await,
        None,
        "inheritance is one level only"
    );
    let garage = app.get("/api/v1/assets", Some(&test3.token)).await;
    assert_eq!(garage.body["total"], 0);
}

async fn household_members_need_their_head_to_be_a_collaborator(app: TestApp) {
    let head = app.register_verified("head").await;
    let other = app.register_verified("other").await;
    let member = app.register_verified("member").await;
    let id = vehicle(&app, &other, "Not the head's").await;
    household_add(&app, &head, &member, "manager").await;
    assert_eq!(access(&app, &member, &id).await, None);
    collaborate(&app, &other, &id, &head).await;
    assert_eq!(access(&app, &member, &id).await.as_deref(), Some("manage"));
    app.delete(
        &format!("/api/v1/assets/{id}/collaborators/{}", head.id),
        Some(&other.token),
    )
    .await
    .assert_status(204);
    assert_eq!(
        access(&app, &member, &id).await,
        None,
        "takes effect on the next request"
    );
}

async fn collaborators_single_vehicle(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    let id = vehicle(&app, &ada, "Van").await;
    let missing = app
        .post(
            &format!("/api/v1/assets/{id}/collaborators"),
            Some(&ada.token),
            json!({"username": "ghost"}),
        )
        .await;
    missing.assert_problem(404, "user_not_found");
    assert!(
        missing.body["detail"]
            .as_str()
            .expect("detail")
            .contains("ghost")
    );
    assert_eq!(missing.body["username"], "ghost");
    collaborate(&app, &ada, &id, &bob).await;
    app.post(
        &format!("/api/v1/assets/{id}/collaborators"),
        Some(&ada.token),
        json!({"username": "BOB"}),
    )
    .await
    .assert_problem(409, "already_collaborator");
    let list = app
        .get(
            &format!("/api/v1/assets/{id}/collaborators"),
            Some(&bob.token),
        )
        .await;
    assert_eq!(list.body["can_manage"], true);
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["user"]["username"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["ada", "bob"]);
    // Bob sees it in his garage at once.
    assert_eq!(
        app.get("/api/v1/assets", Some(&bob.token)).await.body["total"],
        1
    );
    app.delete(
        &format!("/api/v1/assets/{id}/collaborators/{}", ada.id),
        Some(&bob.token),
    )
    .await
    .assert_status(204);
    let last = app
        .delete(
            &format!("/api/v1/assets/{id}/collaborators/{}", bob.id),
            Some(&bob.token),
        )
        .await;
    last.assert_problem(409, "last_collaborator");
    assert_eq!(last.body["asset_ids"], json!([id]));
    app.delete(
        &format!("/api/v1/assets/{id}/collaborators/{}", ada.id),
        Some(&bob.token),
    )
    .await
    .assert_problem(404, "not_a_collaborator");
}

async fn bulk_dialog_same_collaborators_on_all(app: TestApp) {
    let test = app.register_verified("test").await;
    let test2 = app.register_verified("test2").await;
    let a = vehicle(&app, &test, "A").await;
    let b = vehicle(&app, &test, "B").await;
    collaborate(&app, &test, &a, &test2).await;
    collaborate(&app, &test, &b, &test2).await;
    let split = app
        .get(
            &format!("/api/v1/collaborators?asset_ids={a},{b}"),
            Some(&test.token),
        )
        .await;
    split.assert_status(200);
    let common: Vec<&str> = split.body["common"]
        .as_array()
        .expect("common")
        .iter()
        .map(|u| u["username"].as_str().expect("u"))
        .collect();
    assert_eq!(common, ["test", "test2"]);
    assert_eq!(split.body["partial"], json!([]));
}

async fn bulk_dialog_test_on_both_test2_on_one(app: TestApp) {
    let test = app.register_verified("test").await;
    let test2 = app.register_verified("test2").await;
    let test3 = app.register_verified("test3").await;
    let a = vehicle(&app, &test, "A").await;
    let b = vehicle(&app, &test, "B").await;
    collaborate(&app, &test, &a, &test2).await;
    let split = app
        .get(
            &format!("/api/v1/collaborators?asset_ids={a},{b}"),
            Some(&test.token),
        )
        .await;
    assert_eq!(split.body["common"][0]["username"], "test");
    assert_eq!(split.body["partial"][0]["user"]["username"], "test2");
    assert_eq!(split.body["partial"][0]["asset_ids"], json!([a]));
    // "Move selected" to common: existing pairs are left alone.
    let moved = app
        .post(
            "/api/v1/collaborators/add",
            Some(&test.token),
            json!({"asset_ids": [a, b], "usernames": ["test2"]}),
        )
        .await;
    moved.assert_status(200);
    assert_eq!(moved.body["common"].as_array().expect("common").len(), 2);
    assert_eq!(moved.body["partial"], json!([]));
    // Adding in the dialog adds as common.
    let added = app
        .post(
            "/api/v1/collaborators/add",
            Some(&test.token),
            json!({"asset_ids": [a, b], "usernames": ["test3"]}),
        )
        .await;
    assert_eq!(added.body["common"].as_array().expect("common").len(), 3);
    // Remove selected, common or partial.
    let removed = app
        .post(
            "/api/v1/collaborators/remove",
            Some(&test.token),
            json!({"asset_ids": [a, b], "user_ids": [test2.id, test3.id]}),
        )
        .await;
    removed.assert_status(200);
    let common: Vec<&str> = removed.body["common"]
        .as_array()
        .expect("common")
        .iter()
        .map(|u| u["username"].as_str().expect("u"))
        .collect();
    assert_eq!(common, ["test"]);
}

async fn bulk_calls_are_all_or_nothing_and_name_the_assets(app: TestApp) {
    let test = app.register_verified("test").await;
    let test2 = app.register_verified("test2").await;
    let member = app.register_verified("member").await;
    let a = vehicle(&app, &test, "A").await;
    let b = vehicle(&app, &test, "B").await;
    let hidden = vehicle(&app, &test2, "Hidden").await;
    collaborate(&app, &test, &a, &test2).await;
    // Removing test from both would leave B with nobody: nothing happens.
    let r = app
        .post(
            "/api/v1/collaborators/remove",
            Some(&test.token),
            json!({"asset_ids": [a, b], "user_ids": [test.id]}),
        )
        .await;
    r.assert_problem(409, "last_collaborator");
    assert_eq!(r.body["asset_ids"], json!([b]));
    let split = app
        .get(
            &format!("/api/v1/collaborators?asset_ids={a},{b}"),
            Some(&test.token),
        )
        .await;
    assert_eq!(
        split.body["common"][0]["username"], "test",
        "test is still on both"
    );
    // Invisible assets are 404, named; visible without full access are 403, named.
    let r = app
        .post(
            "/api/v1/collaborators/add",
            Some(&test.token),
            json!({"asset_ids": [a, hidden], "usernames": ["member"]}),
        )
        .await;
    r.assert_problem(404, "assets_not_found");
    assert_eq!(r.body["asset_ids"], json!([hidden]));
    household_add(&app, &test, &member, "manager").await;
    let r = app
        .get(
            &format!("/api/v1/collaborators?asset_ids={a},{b}"),
            Some(&member.token),
        )
        .await;
    r.assert_problem(403, "full_access_required");
    assert_eq!(r.body["asset_ids"], json!([a, b]));
    // An unknown username: nothing is added anywhere.
    let r = app
        .post(
            "/api/v1/collaborators/add",
            Some(&test.token),
            json!({"asset_ids": [a, b], "usernames": ["member", "ghost"]}),
        )
        .await;
    r.assert_problem(404, "user_not_found");
    let split = app
        .get(
            &format!("/api/v1/collaborators?asset_ids={a},{b}"),
            Some(&test.token),
        )
        .await;
    assert!(!split.text.contains("\"member\""), "{}", split.text);
    app.get("/api/v1/collaborators?asset_ids=nope", Some(&test.token))
        .await
        .assert_problem(422, "validation_failed");
    app.post(
        "/api/v1/collaborators/add",
        Some(&test.token),
        json!({"asset_ids": [], "usernames": ["member"]}),
    )
    .await
    .assert_problem(422, "validation_failed");
}

async fn idor_attempts_on_every_sub_resource_answer_404(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let eve = app.register_verified("eve").await;
    let mine = vehicle(&app, &eve, "Eve's").await;
    let theirs = vehicle(&app, &ada, "Ada's").await;
    let rec = app
        .post(
            &format!("/api/v1/assets/{theirs}/records"),
            Some(&ada.token),
            record_body(),
        )
        .await;
    let rec_id = rec.body["id"].as_str().expect("id").to_owned();
    let photo = app
        .post(
            &format!("/api/v1/assets/{theirs}/photos"),
            Some(&ada.token),
            json!({"url": "https://x.example/p.jpg"}),
        )
        .await;
    let photo_id = photo.body["id"].as_str().expect("id").to_owned();
    // Ada's record and photo through Eve's own asset.
    app.patch(
        &format!("/api/v1/assets/{mine}/records/{rec_id}"),
        Some(&eve.token),
        record_body(),
    )
    .await
    .assert_problem(404, "record_not_found");
    app.delete(
        &format!("/api/v1/assets/{mine}/records/{rec_id}"),
        Some(&eve.token),
    )
    .await
    .assert_problem(404, "record_not_found");
    app.delete(
        &format!("/api/v1/assets/{mine}/photos/{photo_id}"),
        Some(&eve.token),
    )
    .await
    .assert_problem(404, "photo_not_found");
    app.delete(
        &format!("/api/v1/assets/{mine}/collaborators/{}", ada.id),
        Some(&eve.token),
    )
    .await
    .assert_problem(404, "not_a_collaborator");
    // Directly on Ada's asset.
    let paths: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (
            reqwest::Method::GET,
            format!("/api/v1/assets/{theirs}"),
            None,
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/v1/assets/{theirs}"),
            Some(json!({"name": "mine now"})),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v1/assets/{theirs}"),
            None,
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/assets/{theirs}/records"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/assets/{theirs}/records"),
            Some(record_body()),
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/v1/assets/{theirs}/records/{rec_id}"),
            Some(record_body()),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v1/assets/{theirs}/records/{rec_id}"),
            None,
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/assets/{theirs}/photos"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/assets/{theirs}/photos"),
            Some(json!({"url": "https://x.example/q.jpg"})),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v1/assets/{theirs}/photos/{photo_id}"),
            None,
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/assets/{theirs}/collaborators"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/assets/{theirs}/collaborators"),
            Some(json!({"username": "eve"})),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v1/assets/{theirs}/collaborators/{}", ada.id),
            None,
        ),
    ];
    for (method, path, body) in paths {
        let r: Reply = app
            .request(method.clone(), &path, Some(&eve.token), body)
            .await;
        r.assert_problem(404, "asset_not_found");
    }
    let r = app
        .post(
            "/api/v1/collaborators/add",
            Some(&eve.token),
            json!({"asset_ids": [theirs], "usernames": ["eve"]}),
        )
        .await;
    r.assert_problem(404, "assets_not_found");
    // Nothing changed for Ada.
    assert_eq!(
        app.get(
            &format!("/api/v1/assets/{theirs}/records"),
            Some(&ada.token)
        )
        .await
        .body["total"],
        1
    );
    assert_eq!(
        app.get(&format!("/api/v1/assets/{theirs}/photos"), Some(&ada.token))
            .await
            .body["total"],
        1
    );
    let list = app
        .get(
            &format!("/api/v1/assets/{theirs}/collaborators"),
            Some(&ada.token),
        )
        .await;
    assert_eq!(list.body["items"].as_array().expect("items").len(), 1);
}

async fn households_rules(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    let cy = app.register_verified("cyd").await;
    let mine = app.get("/api/v1/household", Some(&ada.token)).await;
    mine.assert_status(200);
    assert_eq!(mine.body["head"]["username"], "ada");
    assert_eq!(mine.body["members"], json!([]));
    app.post(
        "/api/v1/household/members",
        Some(&ada.token),
        json!({"username": "ghost", "role": "viewer"}),
    )
    .await
    .assert_problem(404, "user_not_found");
    app.post(
        "/api/v1/household/members",
        Some(&ada.token),
        json!({"username": "ada", "role": "viewer"}),
    )
    .await
    .assert_problem(422, "own_household");
    app.post(
        "/api/v1/household/members",
        Some(&ada.token),
        json!({"username": "bob", "role": "owner"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    household_add(&app, &ada, &bob, "viewer").await;
    app.post(
        "/api/v1/household/members",
        Some(&ada.token),
        json!({"username": "bob", "role": "editor"}),
    )
    .await
    .assert_problem(409, "already_member");
    app.post(
        "/api/v1/household/members",
        Some(&bob.token),
        json!({"username": "ada", "role": "viewer"}),
    )
    .await
    .assert_problem(409, "mutual_membership");
    let changed = app
        .patch(
            &format!("/api/v1/household/members/{}", bob.id),
            Some(&ada.token),
            json!({"role": "manager"}),
        )
        .await;
    changed.assert_status(200);
    assert_eq!(changed.body["members"][0]["role"], "manager");
    app.patch(
        &format!("/api/v1/household/members/{}", cy.id),
        Some(&ada.token),
        json!({"role": "manager"}),
    )
    .await
    .assert_problem(404, "not_household_member");
    let bobs = app.get("/api/v1/households", Some(&bob.token)).await;
    assert_eq!(bobs.body[0]["head"]["username"], "ada");
    assert_eq!(bobs.body[0]["role"], "manager");
    app.delete(
        &format!("/api/v1/households/{}/membership", ada.id),
        Some(&bob.token),
    )
    .await
    .assert_status(204);
    assert_eq!(
        app.get("/api/v1/households", Some(&bob.token)).await.body,
        json!([])
    );
    app.delete(
        &format!("/api/v1/households/{}/membership", ada.id),
        Some(&bob.token),
    )
    .await
    .assert_problem(404, "not_household_member");
    household_add(&app, &ada, &cy, "editor").await;
    app.delete(
        &format!("/api/v1/household/members/{}", cy.id),
        Some(&ada.token),
    )
    .await
    .assert_status(204);
    assert_eq!(
        app.get("/api/v1/household", Some(&ada.token)).await.body["members"],
        json!([])
    );
}

async fn garage_lists_every_path_in_one_page(app: TestApp) {
    let me = app.register_verified("mia").await;
    let other = app.register_verified("other").await;
    let head = app.register_verified("head").await;
    // Collaborator.
    let own = vehicle(&app, &me, "Own van").await;
    // Household of a collaborating head.
    let inherited = vehicle(&app, &head, "Head's car").await;
    household_add(&app, &head, &me, "editor").await;
    // Share (accepted invitation), one active and one expired.
    let shared = vehicle(&app, &other, "Shared trailer").await;
    let expired = vehicle(&app, &other, "Old trailer").await;
    let now = Utc::now();
    for (asset, until) in [
        (&shared, now + Duration::days(1)),
        (&expired, now - Duration::days(1)),
    ] {
        let (a, u) = (
            uuid::Uuid::parse_str(asset).expect("id"),
            uuid::Uuid::parse_str(&me.id).expect("id"),
        );
        app.app_state
            .db
            .write(|c| {
                use diesel::prelude::*;
                use keyholder_store::schema::asset_shares::dsl::*;
                diesel::insert_into(asset_shares)
                    .values((
                        asset_id.eq(a.to_string()),
                        user_id.eq(u.to_string()),
                        permission.eq("view"),
                        access_expires_at.eq(Some(until.naive_utc())),
                        granted_at.eq(now.naive_utc()),
                    ))
                    .execute(c)
                    .map_err(keyholder_store::StoreError::from)
            })
            .expect("share fixture");
    }
    // Site path: other's estate, where I am an editor.
    let estate = app
        .post(
            "/api/v1/estates",
            Some(&other.token),
            json!({"name": "Depot"}),
        )
        .await;
    let estate_id = estate.body["id"].as_str().expect("id").to_owned();
    let site = app
        .post(
            &format!("/api/v1/estates/{estate_id}/sites"),
            Some(&other.token),
            json!({"name": "Yard"}),
        )
        .await;
    let site_id = site.body["id"].as_str().expect("id").to_owned();
    let at_site = app
        .post(
            "/api/v1/assets",
            Some(&other.token),
            json!({"name": "Forklift", "site_id": site_id}),
        )
        .await;
    at_site.assert_status(201);
    let at_site = at_site.body["id"].as_str().expect("id").to_owned();
    app.post(
        &format!("/api/v1/estates/{estate_id}/invitations"),
        Some(&other.token),
        json!({"email": "mia@example.com", "role": "editor"}),
    )
    .await
    .assert_status(201);
    // Not mine at all.
    vehicle(&app, &other, "Private").await;
    let garage = app.get("/api/v1/assets", Some(&me.token)).await;
    garage.assert_status(200);
    let got: Vec<(String, String)> = garage.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().expect("name").to_owned(),
                a["my_access"].as_str().expect("access").to_owned(),
            )
        })
        .collect();
    let expect = [
        ("Forklift", "edit"),
        ("Shared trailer", "view"),
        ("Head's car", "edit"),
        ("Own van", "full"),
    ];
    assert_eq!(
        got.iter()
            .map(|(n, a)| (n.as_str(), a.as_str()))
            .collect::<Vec<_>>(),
        expect
    );
    assert_eq!(garage.body["total"], 4);
    let _ = (own, inherited, expired, at_site);
    // Search, site filter and paging.
    let q = app.get("/api/v1/assets?q=TRAIL", Some(&me.token)).await;
    assert_eq!(q.body["total"], 1);
    let q = app.get("/api/v1/assets?q=kx21", Some(&me.token)).await;
    assert_eq!(q.body["total"], 3, "the reference is searched too");
    let q = app.get("/api/v1/assets?q=%25", Some(&me.token)).await;
    assert_eq!(q.body["total"], 0, "wildcards are literal");
    let q = app
        .get(
            &format!("/api/v1/assets?site_id={site_id}"),
            Some(&me.token),
        )
        .await;
    assert_eq!(q.body["items"][0]["name"], "Forklift");
    assert_eq!(q.body["total"], 1);
    let p = app
        .get("/api/v1/assets?per_page=3&page=2", Some(&me.token))
        .await;
    assert_eq!(p.body["items"].as_array().expect("items").len(), 1);
    assert_eq!(p.body["total"], 4);
    let beyond = app
        .get("/api/v1/assets?per_page=3&page=5", Some(&me.token))
        .await;
    assert_eq!(beyond.body["items"], json!([]));
    assert_eq!(beyond.body["total"], 4);
}

async fn placing_and_moving_assets_between_sites(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let viewer = app.register_verified("viewer").await;
    let editor = app.register_verified("editor").await;
    let estate = app
        .post(
            "/api/v1/estates",
            Some(&owner.token),
            json!({"name": "Depot"}),
        )
        .await;
    let estate_id = estate.body["id"].as_str().expect("id").to_owned();
    let mut sites = Vec::new();
    for n in ["A", "B"] {
        let s = app
            .post(
                &format!("/api/v1/estates/{estate_id}/sites"),
                Some(&owner.token),
                json!({"name": n}),
            )
            .await;
        sites.push(s.body["id"].as_str().expect("id").to_owned());
    }
    for (u, r) in [("viewer", "viewer"), ("editor", "editor")] {
        app.post(
            &format!("/api/v1/estates/{estate_id}/invitations"),
            Some(&owner.token),
            json!({"email": format!("{u}@example.com"), "role": r}),
        )
        .await
        .assert_status(201);
    }
    app.post(
        "/api/v1/assets",
        Some(&viewer.token),
        json!({"name": "x", "site_id": sites[0]}),
    )
    .await
    .assert_problem(403, "site_editor_required");
    app.post(
        "/api/v1/assets",
        Some(&viewer.token),
        json!({"name": "x", "site_id": uuid::Uuid::new_v4()}),
    )
    .await
    .assert_problem(404, "site_not_found");
    let made = app
        .post(
            "/api/v1/assets",
            Some(&editor.token),
            json!({"name": "Mower", "site_id": sites[0]}),
        )
        .await;
    made.assert_status(201);
    let id = made.body["id"].as_str().expect("id").to_owned();
    // The estate viewer reads it through the site.
    assert_eq!(access(&app, &viewer, &id).await.as_deref(), Some("view"));
    let moved = app
        .patch(
            &format!("/api/v1/assets/{id}"),
            Some(&editor.token),
            json!({"site_id": sites[1]}),
        )
        .await;
    moved.assert_status(200);
    assert_eq!(moved.body["site_id"], sites[1].as_str());
    // Leaving the estate needs estate admin there.
    app.patch(
        &format!("/api/v1/assets/{id}"),
        Some(&editor.token),
        json!({"site_id": null}),
    )
    .await
    .assert_problem(403, "estate_admin_required");
    app.patch(
        &format!("/api/v1/assets/{id}"),
        Some(&viewer.token),
        json!({"site_id": sites[0]}),
    )
    .await
    .assert_problem(403, "full_access_required");
    // Sites and estates holding assets are not deleted.
    app.delete(&format!("/api/v1/sites/{}", sites[1]), Some(&owner.token))
        .await
        .assert_problem(409, "site_has_assets");
    app.delete(&format!("/api/v1/estates/{estate_id}"), Some(&owner.token))
        .await
        .assert_problem(409, "estate_has_assets");
    // The owner (estate admin path: full) takes it out; then deletion works.
    assert_eq!(access(&app, &owner, &id).await.as_deref(), Some("full"));
    let out = app
        .patch(
            &format!("/api/v1/assets/{id}"),
            Some(&owner.token),
            json!({"site_id": null}),
        )
        .await;
    out.assert_status(200);
    assert!(out.body["estate_id"].is_null());
    assert_eq!(access(&app, &viewer, &id).await, None);
    app.delete(&format!("/api/v1/sites/{}", sites[1]), Some(&owner.token))
        .await
        .assert_status(204);
}

async fn leaving_an_estate_drops_asset_access(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let tech = app.register_verified("tech").await;
    let estate = app
        .post(
            "/api/v1/estates",
            Some(&owner.token),
            json!({"name": "Depot"}),
        )
        .await;
    let estate_id = estate.body["id"].as_str().expect("id").to_owned();
    let site = app
        .post(
            &format!("/api/v1/estates/{estate_id}/sites"),
            Some(&owner.token),
            json!({"name": "Yard"}),
        )
        .await;
    let site_id = site.body["id"].as_str().expect("id").to_owned();
    app.post(
        &format!("/api/v1/estates/{estate_id}/invitations"),
        Some(&owner.token),
        json!({"email": "tech@example.com", "role": "editor"}),
    )
    .await
    .assert_status(201);
    let made = app
        .post(
            "/api/v1/assets",
            Some(&owner.token),
            json!({"name": "Digger", "site_id": site_id}),
        )
        .await;
    let id = made.body["id"].as_str().expect("id").to_owned();
    collaborate(&app, &owner, &id, &tech).await;
    assert_eq!(access(&app, &tech, &id).await.as_deref(), Some("full"));
    app.delete(
        &format!("/api/v1/estates/{estate_id}/members/{}", tech.id),
        Some(&owner.token),
    )
    .await
    .assert_status(204);
    assert_eq!(
        access(&app, &tech, &id).await,
        None,
        "the collaborator row went with the membership"
    );
}

async fn asset_changes_write_audit_events(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    let id = vehicle(&app, &ada, "Van").await;
    collaborate(&app, &ada, &id, &bob).await;
    app.delete(
        &format!("/api/v1/assets/{id}/collaborators/{}", bob.id),
        Some(&ada.token),
    )
    .await
    .assert_status(204);
    app.post(
        "/api/v1/collaborators/add",
        Some(&ada.token),
        json!({"asset_ids": [id], "usernames": ["bob"]}),
    )
    .await
    .assert_status(200);
    household_add(&app, &ada, &bob, "viewer").await;
    app.patch(
        &format!("/api/v1/household/members/{}", bob.id),
        Some(&ada.token),
        json!({"role": "editor"}),
    )
    .await
    .assert_status(200);
    app.delete(
        &format!("/api/v1/household/members/{}", bob.id),
        Some(&ada.token),
    )
    .await
    .assert_status(204);
    let asset_events = app.with_db(|c| keyholder_store::audit::for_target(c, "asset", &id));
    let actions: Vec<&str> = asset_events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "asset.created",
            "collaborator.added",
            "collaborator.removed",
            "collaborator.added"
        ]
    );
    let household = app.with_db(|c| keyholder_store::audit::for_target(c, "household", &ada.id));
    let actions: Vec<&str> = household.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "household.member_added",
            "household.role_changed",
            "household.member_removed"
        ]
    );
    app.delete(&format!("/api/v1/assets/{id}"), Some(&ada.token))
        .await
        .assert_status(204);
    let events = app.with_db(|c| keyholder_store::audit::for_target(c, "asset", &id));
    assert_eq!(events.last().expect("event").action, "asset.deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_has_no_household_joins_none_and_sees_every_asset() {
    for backend in [
        keyholder_tests::Backend::Sqlite,
        keyholder_tests::Backend::Postgres,
    ] {
        if backend == keyholder_tests::Backend::Postgres && !keyholder_tests::postgres_available() {
            continue;
        }
        let app = TestApp::spawn_with(backend, |c| {
            c.root_email = Some("root@example.com".into());
            c.root_username = Some("root".into());
            c.root_password = Some("root password 123".into());
        })
        .await;
        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"login": "root", "password": "root password 123"}),
            )
            .await;
        let root = login.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        app.get("/api/v1/household", Some(&root))
            .await
            .assert_problem(404, "root_has_no_household");
        app.post(
            "/api/v1/household/members",
            Some(&root),
            json!({"username": "root", "role": "viewer"}),
        )
        .await
        .assert_problem(404, "root_has_no_household");
        let ada = app.register_verified("ada").await;
        app.post(
            "/api/v1/household/members",
            Some(&ada.token),
            json!({"username": "root", "role": "viewer"}),
        )
        .await
        .assert_problem(422, "root_cannot_be_member");
        let id = vehicle(&app, &ada, "Ada's van").await;
        let garage = app.get("/api/v1/assets", Some(&root)).await;
        assert_eq!(garage.body["total"], 1);
        assert_eq!(garage.body["items"][0]["my_access"], "full");
        assert_eq!(
            app.get(&format!("/api/v1/assets/{id}"), Some(&root))
                .await
                .body["my_access"],
            "full"
        );
    }
}
