//! PATCH is a partial update: a member left out keeps its value, `null`
//! clears an optional one (and is 422 for one the resource always has), and
//! asset attributes merge as JSON Merge Patch (RFC 7396), checked as a
//! whole. On both databases.

use keyholder_tests::{Reply, TestApp, on_both_backends};
use serde_json::{Map, Value, json};

/// A 422 `validation_failed` whose `errors` name `field`.
#[track_caller]
fn assert_field(r: &Reply, field: &str) {
    r.assert_problem(422, "validation_failed");
    assert!(r.body["errors"][field].is_string(), "errors should name {field}; body: {}", r.text);
}

async fn editing_an_asset_merges_attributes(app: TestApp) {
    let ada = app.register_verified("ada").await;
    // null is not a value: on creation it is refused, naming the attribute.
    let body = json!({"name": "Ford Transit", "attributes": {"make": "Ford", "spare": null}});
    assert_field(&app.try_create_asset(&ada, body).await, "attributes.spare");
    let created = app
        .try_create_asset(
            &ada,
            json!({"name": "Ford Transit", "reference": "KX21 ABC",
                "attributes": {"make": "Ford", "year": 2021}}),
        )
        .await;
    created.assert_status(201);
    assert_eq!(
        created.body["attributes"],
        json!({"make": "Ford", "year": 2021}),
        "{}",
        created.text
    );
    let id = created.id();
    // A name with a value is added; the others stay.
    let r = app.try_update_asset(&ada, &id, json!({"attributes": {"model": "Transit"}})).await;
    r.assert_status(200);
    assert_eq!(r.body["attributes"], json!({"make": "Ford", "year": 2021, "model": "Transit"}));
    assert_eq!(r.body["name"], "Ford Transit");
    assert_eq!(r.body["reference"], "KX21 ABC");
    // A name with null is removed, and only that one.
    let r = app.try_update_asset(&ada, &id, json!({"attributes": {"make": null}})).await;
    r.assert_status(200);
    assert_eq!(r.body["attributes"], json!({"year": 2021, "model": "Transit"}));
    // Other members leave the attributes alone.
    let r = app.try_update_asset(&ada, &id, json!({"name": "Van 8", "reference": null})).await;
    r.assert_status(200);
    assert_eq!(r.body["attributes"], json!({"year": 2021, "model": "Transit"}));
    assert!(r.body["reference"].is_null(), "{}", r.text);
    let got = app.try_get_asset(&ada, &id).await;
    assert_eq!(got.body["name"], "Van 8");
    assert_eq!(got.body["attributes"], json!({"year": 2021, "model": "Transit"}));
}

async fn asset_patches_refuse_null_for_what_an_asset_always_has(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let id =
        app.create_asset(&ada, json!({"name": "Van 7", "attributes": {"make": "Ford"}})).await.id;
    for (bad, field) in [
        (json!({"name": null}), "name"),
        (json!({"attributes": null}), "attributes"),
        (json!({"attributes": {"tyres": {"front": "A"}}}), "attributes.tyres"),
        (json!({"attributes": {"axles": [2, 3]}}), "attributes.axles"),
        (json!({"attributes": {"notes": "x".repeat(1001)}}), "attributes.notes"),
        (json!({"attributes": {"x".repeat(101): "long name"}}), "attributes"),
        (json!({"attributes": {"": "no name"}}), "attributes"),
    ] {
        let r = app.try_update_asset(&ada, &id, bad.clone()).await;
        assert_field(&r, field);
    }
    // Nothing changed.
    let got = app.try_get_asset(&ada, &id).await;
    assert_eq!(got.body["name"], "Van 7");
    assert_eq!(got.body["attributes"], json!({"make": "Ford"}));
}

async fn merged_attributes_are_checked_as_a_whole(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let full: Map<String, Value> = (1..=50).map(|i| (format!("a{i}"), json!(i))).collect();
    let id = app.create_asset(&ada, json!({"name": "Van 7", "attributes": full})).await.id;
    let mut too_many = full.clone();
    too_many.insert("a51".to_owned(), json!(51));
    assert_field(
        &app.try_create_asset(&ada, json!({"name": "Van", "attributes": too_many})).await,
        "attributes",
    );
    // One more than 50 after merging is refused, even though the patch is small...
    let r = app.try_update_asset(&ada, &id, json!({"attributes": {"a51": 51}})).await;
    assert_field(&r, "attributes");
    assert_eq!(app.try_get_asset(&ada, &id).await.body["attributes"], json!(full));
    // ...and accepted when the same patch also removes one.
    let r = app.try_update_asset(&ada, &id, json!({"attributes": {"a51": 51, "a1": null}})).await;
    r.assert_status(200);
    let attributes = r.body["attributes"].as_object().expect("attributes");
    assert_eq!(attributes.len(), 50);
    assert_eq!(attributes["a51"], 51);
    assert!(!attributes.contains_key("a1"));
}

async fn renaming_without_a_name_changes_nothing(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let estate = app.create_estate(&ada, "Hartwell Estate").await.id;
    let site = app.create_site(&ada, &estate, "North Yard").await.id;
    // No name: both stay as they are, and the answer shows them.
    let r = app.try_rename_estate(&ada, &estate, json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body["name"], "Hartwell Estate");
    let r = app.try_rename_site(&ada, &site, json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body["name"], "North Yard");
    // null is 422: an estate and a site always have a name.
    assert_field(&app.try_rename_estate(&ada, &estate, json!({"name": null})).await, "name");
    assert_field(&app.try_rename_site(&ada, &site, json!({"name": null})).await, "name");
    // A name is still changed when sent.
    let r = app.try_rename_site(&ada, &site, json!({"name": "Yard 1"})).await;
    r.assert_status(200);
    assert_eq!(r.body["name"], "Yard 1");
    // An empty body still needs the right to rename: a stranger hears 404.
    let bob = app.register_verified("bob").await;
    app.try_rename_estate(&bob, &estate, json!({})).await.assert_problem(404, "estate_not_found");
    assert_eq!(app.try_get_estate(&ada, &estate).await.body["name"], "Hartwell Estate");
}

async fn a_household_role_change_without_a_role_changes_nothing(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let sam = app.register_verified("sam").await;
    app.try_add_to_household(&ada, "sam", "editor").await.assert_status(201);
    let path = format!("/api/v1/household/members/{}", sam.id);
    let token = Some(ada.token.as_str());
    let r = app.patch(&path, token, json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body["members"][0]["role"], "editor", "{}", r.text);
    assert_field(&app.patch(&path, token, json!({"role": null})).await, "role");
    let r = app.patch(&path, token, json!({"role": "manager"})).await;
    r.assert_status(200);
    assert_eq!(r.body["members"][0]["role"], "manager", "{}", r.text);
}

on_both_backends!(
    a_household_role_change_without_a_role_changes_nothing,
    renaming_without_a_name_changes_nothing,
    editing_an_asset_merges_attributes,
    asset_patches_refuse_null_for_what_an_asset_always_has,
    merged_attributes_are_checked_as_a_whole,
);
