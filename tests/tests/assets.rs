//! Assets, records, photos, collaborators (single and bulk), households and
//! the garage, on both databases: the seed page's examples by name,
//! LubeLogger's permission matrix, and IDOR attempts on every sub-resource.

use chrono::{Duration, Utc};
use keyholder_tests::{Reply, Session, TestApp, on_both_backends, pairs};
use serde_json::{Value, json};

fn record_body() -> Value {
    json!({"kind": "service", "date": "2026-11-01", "title": "Annual service", "cost": 189.5, "odometer": 48210})
}

/// The usernames in a collaborator split's `common` list, in order.
fn common(split: &Reply) -> Vec<&str> {
    let list = split.body["common"].as_array().expect("common");
    list.iter().map(|u| u["username"].as_str().expect("username")).collect()
}

/// What each actor can do, judged from real requests: [delete the vehicle
/// and manage collaborators, bulk-manage collaborators, add and edit records,
/// delete records, edit vehicle details, read].
async fn matrix_row(app: &TestApp, owner: &Session, actor: &Session, asset: &str) -> [bool; 6] {
    // A record to delete, made by the owner each time.
    let rec = app.try_add_record(&owner, &asset, record_body()).await;
    let rec_id = rec.id();
    let read = app.try_records(&actor, &asset).await.status == 200;
    let add = app.try_add_record(&actor, &asset, record_body()).await.status == 201;
    let edit_details = app
        .try_update_asset(&actor, &asset, json!({"attributes": {"colour": "blue"}}))
        .await
        .status
        == 200;
    let delete_record = app.try_delete_record(&actor, &asset, &rec_id).await.status == 204;
    let bulk =
        app.try_collaborator_split(&actor, &format!("?asset_ids={asset}")).await.status == 200;
    // Full access gets past the permission check to the 409 for an existing
    // collaborator; anyone else stops at 403. Nothing changes either way.
    let full = app.try_collaborate(&actor, &asset, &owner.username).await.status == 409;
    [full, bulk, add, delete_record, edit_details, read]
}

async fn asset_lifecycle_and_sub_resources(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    app.try_create_asset(&ada, json!({"name": ""})).await.assert_problem(422, "validation_failed");
    let id = app.create_vehicle(&ada, "Van 7", Some("KX21 ABC")).await.id;
    let got = app.try_get_asset(&ada, &id).await;
    assert_eq!(got.body["name"], "Van 7");
    assert_eq!(got.body["reference"], "KX21 ABC");
    let patched = app
        .try_update_asset(
            &ada,
            &id,
            json!({"name": "Van 8", "reference": null, "attributes": {"make": "Ford"}}),
        )
        .await;
    patched.assert_status(200);
    assert_eq!(patched.body["name"], "Van 8");
    assert!(patched.body["reference"].is_null());
    assert_eq!(patched.body["attributes"]["make"], "Ford");
    let rec = app.try_add_record(&ada, &id, record_body()).await;
    rec.assert_status(201);
    assert_eq!(rec.body["kind"], "service");
    assert_eq!(rec.body["cost"], 189.5);
    let rec_id = rec.id();
    let bad = app
        .try_add_record(
            &ada,
            &id,
            json!({"kind": "party", "date": "2026-11-01", "title": " ", "cost": -1}),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    app.try_add_record(&ada, &id, json!({"kind": "fuel", "date": "not a date", "title": "x"}))
        .await
        .assert_problem(422, "validation_failed");
    let edited = app
        .try_update_record(
            &ada,
            &id,
            &rec_id,
            json!({"kind": "repair", "date": "2026-11-02", "title": "Brakes"}),
        )
        .await;
    edited.assert_status(200);
    assert_eq!(edited.body["title"], "Brakes");
    let photo = app
        .try_add_photo(
            &ada,
            &id,
            json!({"url": "https://photos.example.com/v.jpg", "caption": "Front"}),
        )
        .await;
    photo.assert_status(201);
    app.try_add_photo(&ada, &id, json!({"url": "javascript:alert(1)"}))
        .await
        .assert_problem(422, "validation_failed");
    let photos = app.try_photos(&ada, &id).await;
    assert_eq!(photos.body["total"], 1);
    // Strangers see nothing at all.
    for path in [
        format!("/api/v1/assets/{id}"),
        format!("/api/v1/assets/{id}/records"),
        format!("/api/v1/assets/{id}/photos"),
        format!("/api/v1/assets/{id}/collaborators"),
    ] {
        app.get(&path, Some(&bob.token)).await.assert_problem(404, "asset_not_found");
    }
    app.try_delete_asset(&bob, &id).await.assert_problem(404, "asset_not_found");
    app.try_delete_asset(&ada, &id).await.assert_status(204);
    app.try_get_asset(&ada, &id).await.assert_problem(404, "asset_not_found");
    let left: i64 = app.with_db(|c| {
        use diesel::prelude::*;
        keyholder_store::schema::asset_records::table.count().get_result(c).map_err(Into::into)
    });
    assert_eq!(left, 0, "records go with the asset");
}

async fn collaborator_vs_household_permission_matrix(app: TestApp) {
    let [head, co, viewer, editor, manager] =
        app.register_verified_each(["head", "coowner", "hviewer", "heditor", "hmanager"]).await;
    let id = app.create_vehicle(&head, "Truck", Some("KX21 ABC")).await.id;
    app.add_collaborator(&head, &id, &co.username).await;
    app.household_add(&head, &viewer, "viewer").await;
    app.household_add(&head, &editor, "editor").await;
    app.household_add(&head, &manager, "manager").await;
    // [delete vehicle + manage collaborators, bulk manage, add/edit records, delete records, edit details, read]
    assert_eq!(matrix_row(&app, &head, &co, &id).await, [true, true, true, true, true, true]);
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
    assert_eq!(app.my_access(&viewer, &id).await.as_deref(), Some("view"));
    assert_eq!(app.my_access(&editor, &id).await.as_deref(), Some("edit"));
    assert_eq!(app.my_access(&manager, &id).await.as_deref(), Some("manage"));
    // Household members never delete the vehicle or manage collaborators.
    for member in [&viewer, &editor, &manager] {
        app.try_delete_asset(&member, &id).await.assert_problem(403, "full_access_required");
        app.try_collaborate(&member, &id, "coowner")
            .await
            .assert_problem(403, "full_access_required");
    }
    app.try_add_record(&viewer, &id, record_body())
        .await
        .assert_problem(403, "edit_access_required");
    // The co-owner can delete it.
    app.try_delete_asset(&co, &id).await.assert_status(204);
}

async fn test3_in_households_of_test_and_test2_gets_the_higher_role(app: TestApp) {
    let [test, test2, test3] = app.register_verified_each(["test", "test2", "test3"]).await;
    let id = app.create_vehicle(&test, "Shared car", Some("KX21 ABC")).await.id;
    app.add_collaborator(&test, &id, &test2.username).await;
    app.household_add(&test, &test3, "viewer").await;
    app.household_add(&test2, &test3, "manager").await;
    assert_eq!(app.my_access(&test3, &id).await.as_deref(), Some("manage"));
    app.try_add_record(&test3, &id, record_body()).await.assert_status(201);
    let memberships = app.try_households(&test3).await;
    assert_eq!(memberships.items().len(), 2);
    assert_eq!(memberships.body["total"], 2);
}

async fn test3_does_not_inherit_from_test4(app: TestApp) {
    let [test, test3, test4] = app.register_verified_each(["test", "test3", "test4"]).await;
    let id = app.create_vehicle(&test4, "test4's car", Some("KX21 ABC")).await.id;
    app.household_add(&test4, &test, "manager").await;
    app.household_add(&test, &test3, "manager").await;
    assert_eq!(app.my_access(&test, &id).await.as_deref(), Some("manage"));
    assert_eq!(app.my_access(&test3, &id).await, None, "inheritance is one level only");
    let garage = app.try_garage(&test3, "").await;
    assert_eq!(garage.body["total"], 0);
}

async fn household_members_need_their_head_to_be_a_collaborator(app: TestApp) {
    let [head, other, member] = app.register_verified_each(["head", "other", "member"]).await;
    let id = app.create_vehicle(&other, "Not the head's", Some("KX21 ABC")).await.id;
    app.household_add(&head, &member, "manager").await;
    assert_eq!(app.my_access(&member, &id).await, None);
    app.add_collaborator(&other, &id, &head.username).await;
    assert_eq!(app.my_access(&member, &id).await.as_deref(), Some("manage"));
    app.try_remove_collaborator(&other, &id, &head.id).await.assert_status(204);
    assert_eq!(app.my_access(&member, &id).await, None, "takes effect on the next request");
}

async fn collaborators_single_vehicle(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    let id = app.create_vehicle(&ada, "Van", Some("KX21 ABC")).await.id;
    let missing = app.try_collaborate(&ada, &id, "ghost").await;
    missing.assert_problem(404, "user_not_found");
    assert!(missing.body["detail"].as_str().expect("detail").contains("ghost"));
    assert_eq!(missing.body["username"], "ghost");
    app.add_collaborator(&ada, &id, &bob.username).await;
    app.try_collaborate(&ada, &id, "BOB").await.assert_problem(409, "already_collaborator");
    let list = app.try_collaborators(&bob, &id).await;
    // Whether Bob may manage them is his access on the asset.
    assert_eq!(
        app.get(&format!("/api/v1/assets/{id}"), Some(&bob.token)).await.body["my_access"],
        "full"
    );
    let names: Vec<&str> =
        list.items().iter().map(|i| i["user"]["username"].as_str().expect("name")).collect();
    assert_eq!(names, ["ada", "bob"]);
    // Bob sees it in his garage at once.
    assert_eq!(app.try_garage(&bob, "").await.body["total"], 1);
    app.try_remove_collaborator(&bob, &id, &ada.id).await.assert_status(204);
    let last = app.try_remove_collaborator(&bob, &id, &bob.id).await;
    last.assert_problem(409, "last_collaborator");
    assert_eq!(last.body["asset_ids"], json!([id]));
    app.try_remove_collaborator(&bob, &id, &ada.id).await.assert_problem(404, "not_a_collaborator");
}

async fn bulk_dialog_same_collaborators_on_all(app: TestApp) {
    let test = app.register_verified("test").await;
    let test2 = app.register_verified("test2").await;
    let a = app.create_vehicle(&test, "A", Some("KX21 ABC")).await.id;
    let b = app.create_vehicle(&test, "B", Some("KX21 ABC")).await.id;
    app.add_collaborator(&test, &a, &test2.username).await;
    app.add_collaborator(&test, &b, &test2.username).await;
    let split = app.try_collaborator_split(&test, &format!("?asset_ids={a},{b}")).await;
    split.assert_status(200);
    assert_eq!(common(&split), ["test", "test2"]);
    assert_eq!(split.body["partial"], json!([]));
}

async fn bulk_dialog_test_on_both_test2_on_one(app: TestApp) {
    let [test, test2, test3] = app.register_verified_each(["test", "test2", "test3"]).await;
    let a = app.create_vehicle(&test, "A", Some("KX21 ABC")).await.id;
    let b = app.create_vehicle(&test, "B", Some("KX21 ABC")).await.id;
    app.add_collaborator(&test, &a, &test2.username).await;
    let split = app.try_collaborator_split(&test, &format!("?asset_ids={a},{b}")).await;
    assert_eq!(split.body["common"][0]["username"], "test");
    assert_eq!(split.body["partial"][0]["user"]["username"], "test2");
    assert_eq!(split.body["partial"][0]["asset_ids"], json!([a]));
    // "Move selected" to common: existing pairs are left alone.
    let moved = app
        .try_bulk_add_collaborators(&test, json!({"asset_ids": [a, b], "usernames": ["test2"]}))
        .await;
    moved.assert_status(200);
    assert_eq!(common(&moved).len(), 2);
    assert_eq!(moved.body["partial"], json!([]));
    // Adding in the dialog adds as common.
    let added = app
        .try_bulk_add_collaborators(&test, json!({"asset_ids": [a, b], "usernames": ["test3"]}))
        .await;
    assert_eq!(common(&added).len(), 3);
    // Remove selected, common or partial.
    let removed = app
        .try_bulk_remove_collaborators(
            &test,
            json!({"asset_ids": [a, b], "user_ids": [test2.id, test3.id]}),
        )
        .await;
    removed.assert_status(200);
    assert_eq!(common(&removed), ["test"]);
}

async fn bulk_calls_are_all_or_nothing_and_name_the_assets(app: TestApp) {
    let [test, test2, member] = app.register_verified_each(["test", "test2", "member"]).await;
    let a = app.create_vehicle(&test, "A", Some("KX21 ABC")).await.id;
    let b = app.create_vehicle(&test, "B", Some("KX21 ABC")).await.id;
    let hidden = app.create_vehicle(&test2, "Hidden", Some("KX21 ABC")).await.id;
    app.add_collaborator(&test, &a, &test2.username).await;
    // Removing test from both would leave B with nobody: nothing happens.
    let r = app
        .try_bulk_remove_collaborators(&test, json!({"asset_ids": [a, b], "user_ids": [test.id]}))
        .await;
    r.assert_problem(409, "last_collaborator");
    assert_eq!(r.body["asset_ids"], json!([b]));
    let split = app.try_collaborator_split(&test, &format!("?asset_ids={a},{b}")).await;
    assert_eq!(split.body["common"][0]["username"], "test", "test is still on both");
    // Invisible assets are 404, named; visible without full access are 403, named.
    let r = app
        .try_bulk_add_collaborators(
            &test,
            json!({"asset_ids": [a, hidden], "usernames": ["member"]}),
        )
        .await;
    r.assert_problem(404, "assets_not_found");
    assert_eq!(r.body["asset_ids"], json!([hidden]));
    app.household_add(&test, &member, "manager").await;
    let r = app.try_collaborator_split(&member, &format!("?asset_ids={a},{b}")).await;
    r.assert_problem(403, "full_access_required");
    assert_eq!(r.body["asset_ids"], json!([a, b]));
    // An unknown username: nothing is added anywhere.
    let r = app
        .try_bulk_add_collaborators(
            &test,
            json!({"asset_ids": [a, b], "usernames": ["member", "ghost"]}),
        )
        .await;
    r.assert_problem(404, "user_not_found");
    let split = app.try_collaborator_split(&test, &format!("?asset_ids={a},{b}")).await;
    assert!(!split.text.contains("\"member\""), "{}", split.text);
    app.try_collaborator_split(&test, "?asset_ids=nope")
        .await
        .assert_problem(422, "validation_failed");
    app.try_bulk_add_collaborators(&test, json!({"asset_ids": [], "usernames": ["member"]}))
        .await
        .assert_problem(422, "validation_failed");
}

async fn idor_attempts_on_every_sub_resource_answer_404(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let eve = app.register_verified("eve").await;
    let mine = app.create_vehicle(&eve, "Eve's", Some("KX21 ABC")).await.id;
    let theirs = app.create_vehicle(&ada, "Ada's", Some("KX21 ABC")).await.id;
    let rec = app.try_add_record(&ada, &theirs, record_body()).await;
    let rec_id = rec.id();
    let photo = app.try_add_photo(&ada, &theirs, json!({"url": "https://x.example/p.jpg"})).await;
    let photo_id = photo.id();
    // Ada's record and photo through Eve's own asset.
    app.try_update_record(&eve, &mine, &rec_id, record_body())
        .await
        .assert_problem(404, "record_not_found");
    app.try_delete_record(&eve, &mine, &rec_id).await.assert_problem(404, "record_not_found");
    app.try_delete_photo(&eve, &mine, &photo_id).await.assert_problem(404, "photo_not_found");
    app.try_remove_collaborator(&eve, &mine, &ada.id)
        .await
        .assert_problem(404, "not_a_collaborator");
    // Directly on Ada's asset: every operation answers as if it did not exist.
    let (e, t) = (&eve, theirs.as_str());
    let rename = json!({"name": "mine now"});
    let another_photo = json!({"url": "https://x.example/q.jpg"});
    let replies = [
        app.try_get_asset(e, t).await,
        app.try_update_asset(e, t, rename).await,
        app.try_delete_asset(e, t).await,
        app.try_records(e, t).await,
        app.try_add_record(e, t, record_body()).await,
        app.try_update_record(e, t, &rec_id, record_body()).await,
        app.try_delete_record(e, t, &rec_id).await,
        app.try_photos(e, t).await,
        app.try_add_photo(e, t, another_photo).await,
        app.try_delete_photo(e, t, &photo_id).await,
        app.try_collaborators(e, t).await,
        app.try_collaborate(e, t, "eve").await,
        app.try_remove_collaborator(e, t, &ada.id).await,
    ];
    for r in replies {
        r.assert_problem(404, "asset_not_found");
    }
    let r = app
        .try_bulk_add_collaborators(&eve, json!({"asset_ids": [theirs], "usernames": ["eve"]}))
        .await;
    r.assert_problem(404, "assets_not_found");
    // Nothing changed for Ada.
    assert_eq!(app.try_records(&ada, &theirs).await.body["total"], 1);
    assert_eq!(app.try_photos(&ada, &theirs).await.body["total"], 1);
    let list = app.try_collaborators(&ada, &theirs).await;
    assert_eq!(list.items().len(), 1);
}

async fn households_rules(app: TestApp) {
    let [ada, bob, cy] = app.register_verified_each(["ada", "bob", "cyd"]).await;
    let mine = app.try_household(&ada).await;
    mine.assert_status(200);
    assert_eq!(mine.body["head"]["username"], "ada");
    assert_eq!(mine.body["members"], json!([]));
    app.try_add_to_household(&ada, "ghost", "viewer").await.assert_problem(404, "user_not_found");
    app.try_add_to_household(&ada, "ada", "viewer").await.assert_problem(422, "own_household");
    app.try_add_to_household(&ada, "bob", "owner").await.assert_problem(422, "validation_failed");
    app.household_add(&ada, &bob, "viewer").await;
    app.try_add_to_household(&ada, "bob", "editor").await.assert_problem(409, "already_member");
    app.try_add_to_household(&bob, "ada", "viewer").await.assert_problem(409, "mutual_membership");
    let changed = app.try_set_household_role(&ada, &bob.id, json!({"role": "manager"})).await;
    changed.assert_status(200);
    assert_eq!(changed.body["members"][0]["role"], "manager");
    app.try_set_household_role(&ada, &cy.id, json!({"role": "manager"}))
        .await
        .assert_problem(404, "not_household_member");
    let bobs = app.try_households(&bob).await;
    assert_eq!(bobs.body["items"][0]["head"]["username"], "ada");
    assert_eq!(bobs.body["items"][0]["role"], "manager");
    app.try_leave_household(&bob, &ada.id).await.assert_status(204);
    assert_eq!(app.try_households(&bob).await.body["items"], json!([]));
    app.try_leave_household(&bob, &ada.id).await.assert_problem(404, "not_household_member");
    app.household_add(&ada, &cy, "editor").await;
    app.try_remove_household_member(&ada, &cy.id).await.assert_status(204);
    assert_eq!(app.try_household(&ada).await.body["members"], json!([]));
}

async fn garage_lists_every_path_in_one_page(app: TestApp) {
    let [me, other, head] = app.register_verified_each(["mia", "other", "head"]).await;
    // Collaborator.
    let own = app.create_vehicle(&me, "Own van", Some("KX21 ABC")).await.id;
    // Household of a collaborating head.
    let inherited = app.create_vehicle(&head, "Head's car", Some("KX21 ABC")).await.id;
    app.household_add(&head, &me, "editor").await;
    // Share (accepted invitation), one active and one expired.
    let shared = app.create_vehicle(&other, "Shared trailer", Some("KX21 ABC")).await.id;
    let expired = app.create_vehicle(&other, "Old trailer", Some("KX21 ABC")).await.id;
    let now = Utc::now();
    for (asset, until) in [(&shared, now + Duration::days(1)), (&expired, now - Duration::days(1))]
    {
        let (a, u) =
            (uuid::Uuid::parse_str(asset).expect("id"), uuid::Uuid::parse_str(&me.id).expect("id"));
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
    let estate = app.try_add_estate(&other, "Depot").await;
    let estate_id = estate.id();
    let site = app.try_add_site(&other, &estate_id, "Yard").await;
    let site_id = site.id();
    let at_site = app.try_add_asset_at(&other, "Forklift", &site_id).await;
    at_site.assert_status(201);
    let at_site = at_site.id();
    app.try_invite(&other, &estate_id, "mia@example.com", "editor").await.assert_status(201);
    // Not mine at all.
    app.create_vehicle(&other, "Private", Some("KX21 ABC")).await;
    let garage = app.try_garage(&me, "").await;
    garage.assert_status(200);
    let got = pairs(garage.items(), "/name", "/my_access");
    let expect = [
        ("Forklift", "edit"),
        ("Shared trailer", "view"),
        ("Head's car", "edit"),
        ("Own van", "full"),
    ];
    assert_eq!(got.iter().map(|(n, a)| (n.as_str(), a.as_str())).collect::<Vec<_>>(), expect);
    assert_eq!(garage.body["total"], 4);
    let _ = (own, inherited, expired, at_site);
    // Search, site filter and paging.
    let q = app.try_garage(&me, "?q=TRAIL").await;
    assert_eq!(q.body["total"], 1);
    let q = app.try_garage(&me, "?q=kx21").await;
    assert_eq!(q.body["total"], 3, "the reference is searched too");
    let q = app.try_garage(&me, "?q=%25").await;
    assert_eq!(q.body["total"], 0, "wildcards are literal");
    let q = app.try_garage(&me, &format!("?site_id={site_id}")).await;
    assert_eq!(q.body["items"][0]["name"], "Forklift");
    assert_eq!(q.body["total"], 1);
    let p = app.try_garage(&me, "?per_page=3&page=2").await;
    assert_eq!(p.items().len(), 1);
    assert_eq!(p.body["total"], 4);
    let beyond = app.try_garage(&me, "?per_page=3&page=5").await;
    assert_eq!(beyond.body["items"], json!([]));
    assert_eq!(beyond.body["total"], 4);
}

async fn placing_and_moving_assets_between_sites(app: TestApp) {
    let [owner, viewer, editor] = app.register_verified_each(["owner", "viewer", "editor"]).await;
    let estate = app.try_add_estate(&owner, "Depot").await;
    let estate_id = estate.id();
    let mut sites = Vec::new();
    for n in ["A", "B"] {
        let s = app.try_add_site(&owner, &estate_id, n).await;
        sites.push(s.id());
    }
    for (u, r) in [("viewer", "viewer"), ("editor", "editor")] {
        app.try_invite(&owner, &estate_id, &format!("{u}@example.com"), r).await.assert_status(201);
    }
    app.try_add_asset_at(&viewer, "x", &sites[0]).await.assert_problem(403, "site_editor_required");
    app.try_add_asset_at(&viewer, "x", &uuid::Uuid::new_v4().to_string())
        .await
        .assert_problem(404, "site_not_found");
    let made = app.try_add_asset_at(&editor, "Mower", &sites[0]).await;
    made.assert_status(201);
    let id = made.id();
    // The estate viewer reads it through the site.
    assert_eq!(app.my_access(&viewer, &id).await.as_deref(), Some("view"));
    let moved = app.try_update_asset(&editor, &id, json!({"site_id": sites[1]})).await;
    moved.assert_status(200);
    assert_eq!(moved.body["site_id"], sites[1].as_str());
    // Leaving the estate needs estate admin there.
    app.try_update_asset(&editor, &id, json!({"site_id": null}))
        .await
        .assert_problem(403, "estate_admin_required");
    app.try_update_asset(&viewer, &id, json!({"site_id": sites[0]}))
        .await
        .assert_problem(403, "full_access_required");
    // Sites and estates holding assets are not deleted.
    app.try_delete_site(&owner, &sites[1]).await.assert_problem(409, "site_has_assets");
    app.try_delete_estate(&owner, &estate_id).await.assert_problem(409, "estate_has_assets");
    // The owner (estate admin path: full) takes it out; then deletion works.
    assert_eq!(app.my_access(&owner, &id).await.as_deref(), Some("full"));
    let out = app.try_update_asset(&owner, &id, json!({"site_id": null})).await;
    out.assert_status(200);
    assert!(out.body["estate_id"].is_null());
    assert_eq!(app.my_access(&viewer, &id).await, None);
    app.try_delete_site(&owner, &sites[1]).await.assert_status(204);
}

async fn leaving_an_estate_drops_asset_access(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let tech = app.register_verified("tech").await;
    let estate = app.try_add_estate(&owner, "Depot").await;
    let estate_id = estate.id();
    let site = app.try_add_site(&owner, &estate_id, "Yard").await;
    let site_id = site.id();
    app.try_invite(&owner, &estate_id, "tech@example.com", "editor").await.assert_status(201);
    let made = app.try_add_asset_at(&owner, "Digger", &site_id).await;
    let id = made.id();
    app.add_collaborator(&owner, &id, &tech.username).await;
    assert_eq!(app.my_access(&tech, &id).await.as_deref(), Some("full"));
    app.try_remove_member(&owner, &estate_id, &tech.id).await.assert_status(204);
    assert_eq!(
        app.my_access(&tech, &id).await,
        None,
        "the collaborator row went with the membership"
    );
}

async fn asset_changes_write_audit_events(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    let id = app.create_vehicle(&ada, "Van", Some("KX21 ABC")).await.id;
    app.add_collaborator(&ada, &id, &bob.username).await;
    app.try_remove_collaborator(&ada, &id, &bob.id).await.assert_status(204);
    app.try_bulk_add_collaborators(&ada, json!({"asset_ids": [id], "usernames": ["bob"]}))
        .await
        .assert_status(200);
    app.household_add(&ada, &bob, "viewer").await;
    app.try_set_household_role(&ada, &bob.id, json!({"role": "editor"})).await.assert_status(200);
    app.try_remove_household_member(&ada, &bob.id).await.assert_status(204);
    let asset_events = app.with_db(|c| keyholder_store::audit::for_target(c, "asset", &id));
    let actions: Vec<&str> = asset_events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["asset.created", "collaborator.added", "collaborator.removed", "collaborator.added"]
    );
    let household = app.with_db(|c| keyholder_store::audit::for_target(c, "household", &ada.id));
    let actions: Vec<&str> = household.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["household.member_added", "household.role_changed", "household.member_removed"]
    );
    app.try_delete_asset(&ada, &id).await.assert_status(204);
    let events = app.with_db(|c| keyholder_store::audit::for_target(c, "asset", &id));
    let last = events.last().expect("event").created_at;
    let at_deletion: Vec<&str> =
        events.iter().filter(|e| e.created_at == last).map(|e| e.action.as_str()).collect();
    assert!(at_deletion.contains(&"asset.deleted"), "{at_deletion:?}");
}

/// Deleting an asset ends every access to it, each in the trail (the
/// collaborators, the shares, the pending invitations) before the deletion
/// itself; its collaborators keep reading that history, who deleted it and
/// when; a share holder does not.
async fn deleting_an_asset_records_every_access_it_ends_and_keeps_its_history_readable(
    app: TestApp,
) {
    let [ada, bob, cy] = app.register_verified_each(["ada", "bob", "cyd"]).await;
    let van = app.create_vehicle(&ada, "Van", None).await.id;
    app.add_collaborator(&ada, &van, &bob.username).await;
    let share = app.send_asset_invitation(&ada, &van, &cy.email, "view").await;
    app.try_accept(&cy, &share.token).await.assert_status(200);
    let pending = app.send_asset_invitation(&ada, &van, "dee@example.com", "edit").await;
    app.try_delete_asset(&ada, &van).await.assert_status(204);
    let query = format!("?resource_type=asset&resource_id={van}&per_page=100");
    for reader in [&ada, &bob] {
        let trail = app.try_audit(reader, &query).await;
        trail.assert_status(200);
        let events = trail.items();
        // The deletion and what it ended share the transaction's instant,
        // the newest in the trail.
        let deleted = events
            .iter()
            .find(|e| e["action"] == "asset.deleted")
            .unwrap_or_else(|| panic!("{}: asset.deleted: {}", reader.username, trail.text));
        assert_eq!(events[0]["created_at"], deleted["created_at"], "the newest events");
        assert_eq!(deleted["actor"]["username"], "ada");
        let ended: Vec<(String, String)> = events
            .iter()
            .filter(|e| e["created_at"] == deleted["created_at"] && e["action"] != "asset.deleted")
            .map(|e| {
                let before = &e["before"];
                let who = before["user_id"].as_str().or(before["email"].as_str()).unwrap_or("");
                (e["action"].as_str().unwrap_or("").to_owned(), who.to_owned())
            })
            .collect();
        for expected in [
            ("collaborator.removed", ada.id.as_str()),
            ("collaborator.removed", bob.id.as_str()),
            ("share.revoked", cy.id.as_str()),
            ("invitation.cancelled", "dee@example.com"),
        ] {
            assert!(
                ended.iter().any(|(a, w)| (a.as_str(), w.as_str()) == expected),
                "{}: {expected:?} in {ended:?}",
                reader.username
            );
        }
        assert_eq!(ended.len(), 4, "{ended:?}");
    }
    // The share holder could see the asset but never administered it.
    let theirs = app.try_audit(&cy, &query).await;
    assert_eq!(theirs.body["total"], 0, "{}", theirs.text);
    // The cancelled invitation's link no longer opens anything.
    app.try_accept(&cy, &pending.token).await.assert_status(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_has_no_household_joins_none_and_sees_every_asset() {
    for backend in keyholder_tests::backends() {
        let app = TestApp::spawn_with_root(backend).await;
        let root = app.root_token().await;
        app.try_household(&root).await.assert_problem(404, "root_has_no_household");
        app.try_add_to_household(&root, "root", "viewer")
            .await
            .assert_problem(404, "root_has_no_household");
        let ada = app.register_verified("ada").await;
        app.try_add_to_household(&ada, "root", "viewer")
            .await
            .assert_problem(422, "root_cannot_be_member");
        let id = app.create_vehicle(&ada, "Ada's van", Some("KX21 ABC")).await.id;
        let garage = app.try_garage(&root, "").await;
        assert_eq!(garage.body["total"], 1);
        assert_eq!(garage.body["items"][0]["my_access"], "full");
        assert_eq!(app.try_get_asset(&root, &id).await.body["my_access"], "full");
    }
}

// Every test above runs on SQLite and on PostgreSQL.
async fn editing_a_record_changes_only_the_fields_sent(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let asset = app.create_asset(&ada, json!({"name": "Van 7"})).await.id;
    let body = json!({"kind": "service", "date": "2026-11-01", "title": "Annual service",
        "notes": "Oil and filters", "cost": 189.5, "odometer": 48210});
    let rec = app.try_add_record(&ada, &asset, body).await;
    rec.assert_status(201);
    let id = rec.id();
    // Only the title changes; every other field keeps its value.
    let r = app.try_update_record(&ada, &asset, &id, json!({"title": "Brakes"})).await;
    r.assert_status(200);
    let expected = [
        ("kind", json!("service")),
        ("date", json!("2026-11-01")),
        ("title", json!("Brakes")),
        ("notes", json!("Oil and filters")),
        ("cost", json!(189.5)),
        ("odometer", json!(48210)),
    ];
    for (field, value) in &expected {
        assert_eq!(&r.body[*field], value, "{field}: {}", r.text);
    }
    // null clears an optional field, and only that one.
    let r = app.try_update_record(&ada, &asset, &id, json!({"cost": null})).await;
    r.assert_status(200);
    assert!(r.body["cost"].is_null(), "{}", r.text);
    assert_eq!(r.body["notes"], "Oil and filters");
    assert_eq!(r.body["odometer"], 48210);
    // The merged record is checked as a whole: bad values are 422 and change nothing.
    for bad in [
        json!({"cost": -1}),
        json!({"title": " "}),
        json!({"kind": "party"}),
        json!({"title": null}),
    ] {
        let r = app.try_update_record(&ada, &asset, &id, bad.clone()).await;
        r.assert_problem(422, "validation_failed");
    }
    let list = app.try_records(&ada, &asset).await;
    assert_eq!(list.body["items"][0]["title"], "Brakes", "{}", list.text);
    assert!(list.body["items"][0]["cost"].is_null());
}

async fn created_resources_answer_with_their_location(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let token = Some(ada.token.as_str());
    // An estate, a site and an asset: each Location reads back what was created.
    let estate = app.post("/api/v1/estates", token, json!({"name": "North"})).await;
    estate.assert_status(201);
    let estate_id = estate.body["id"].as_str().expect("id").to_owned();
    let site = app
        .post(&format!("/api/v1/estates/{estate_id}/sites"), token, json!({"name": "Yard"}))
        .await;
    let asset = app.post("/api/v1/assets", token, json!({"name": "Van 7"})).await;
    for created in [&estate, &site, &asset] {
        created.assert_status(201);
        let location = created.header("location").expect("Location").to_owned();
        assert!(location.ends_with(created.body["id"].as_str().expect("id")), "{location}");
        let read = app.get(&location, token).await;
        read.assert_status(200);
        assert_eq!(read.body["id"], created.body["id"]);
    }
    // Sub-resources are placed under their asset.
    let asset_id = asset.body["id"].as_str().expect("id");
    let record = json!({"kind": "service", "date": "2026-11-01", "title": "Annual service"});
    let r = app.post(&format!("/api/v1/assets/{asset_id}/records"), token, record).await;
    r.assert_status(201);
    let expected =
        format!("/api/v1/assets/{asset_id}/records/{}", r.body["id"].as_str().expect("id"));
    assert_eq!(r.header("location"), Some(expected.as_str()));
    let bob = app.register_verified("bob").await;
    let added = app
        .post(
            &format!("/api/v1/assets/{asset_id}/collaborators"),
            token,
            json!({"username": "bob"}),
        )
        .await;
    added.assert_status(201);
    let expected = format!("/api/v1/assets/{asset_id}/collaborators/{}", bob.id);
    assert_eq!(added.header("location"), Some(expected.as_str()));
}

on_both_backends!(
    deleting_an_asset_records_every_access_it_ends_and_keeps_its_history_readable,
    asset_lifecycle_and_sub_resources,
    created_resources_answer_with_their_location,
    editing_a_record_changes_only_the_fields_sent,
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
