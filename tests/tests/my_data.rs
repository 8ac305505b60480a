//! Exporting my data: one document of everything stored about me, and
//! nothing about anyone else's doings or my password.

use keyholder_tests::{PASSWORD, TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(
    the_export_holds_everything_stored_about_me_and_nothing_else,
    invitations_in_the_export_name_their_bulk_invitation,
);

async fn the_export_holds_everything_stored_about_me_and_nothing_else(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    let carl = app.register_verified("carl").await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.try_invite(&owner, &estate, &ada.email, "editor").await.assert_status(201);
    let van = app.create_asset(&bob, json!({"name": "Van"})).await.id;
    app.try_collaborate(&bob, &van, "ada").await.assert_status(201);
    let record = json!({"kind": "service", "date": "2026-11-01", "title": "Annual service"});
    app.try_add_record(&ada, &van, record).await.assert_status(201);
    let photo = json!({"url": "https://photos.example/van.jpg"});
    app.try_add_photo(&ada, &van, photo).await.assert_status(201);
    app.household_add(&ada, &carl, "viewer").await;
    let invite = json!({"email": "x@example.com", "permission": "view"});
    app.try_invite_to_asset(&ada, &van, invite).await.assert_status(201);
    app.try_invite_to_asset(&bob, &van, json!({"email": "y@example.com", "permission": "view"}))
        .await
        .assert_status(201);
    let change = json!({"new_email": "ada@new.example", "password": PASSWORD});
    app.try_request_email_change(&ada, change).await.assert_status(202);

    let reply = app.try_export_my_data(&ada).await;
    reply.assert_status(200);
    let disposition = reply.header("content-disposition").expect("an attachment");
    assert!(disposition.starts_with("attachment; filename=\"keyholder-export-"), "{disposition}");
    let doc = &reply.body;
    assert_eq!(doc["format"], "keyholder-export/1");
    assert_eq!(doc["account"]["id"], ada.id.as_str());
    assert_eq!(doc["account"]["email"], "ada@example.com");
    assert_eq!(doc["account"]["pending_email_change"]["new_email"], "ada@new.example");
    assert_eq!(doc["sessions"].as_array().expect("sessions").len(), 1);
    assert_eq!(doc["sessions"][0]["current"], true);
    let kinds: Vec<&str> = doc["access"]
        .as_array()
        .expect("access")
        .iter()
        .map(|g| g["kind"].as_str().expect("kind"))
        .collect();
    assert!(kinds.contains(&"estate_role") && kinds.contains(&"collaborator"), "{kinds:?}");
    assert_eq!(doc["household_members"][0]["username"], "carl");
    let sent: Vec<&str> = doc["invitations_sent"]
        .as_array()
        .expect("sent")
        .iter()
        .map(|i| i["email"].as_str().expect("email"))
        .collect();
    assert_eq!(sent, ["x@example.com"], "bob's invitation is not ada's");
    assert_eq!(doc["records_written"].as_array().expect("records").len(), 1);
    assert_eq!(doc["records_written"][0]["asset_id"], van.as_str());
    assert_eq!(doc["photos_added"].as_array().expect("photos").len(), 1);
    let actions: Vec<&str> = doc["audit_events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    for expected in [
        "user.registered",
        "user.email_verified",
        "invitation.created",
        "user.email_change_requested",
    ] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    assert_eq!(doc["truncated"], json!([]));
    // No secret is in it.
    let text = doc.to_string();
    assert!(!text.contains("argon2") && !text.contains("password_hash"), "{text}");
    // Bob's export is his own.
    let bobs = app.try_export_my_data(&bob).await;
    assert_eq!(bobs.body["account"]["id"], bob.id.as_str());
    assert_eq!(bobs.body["records_written"], json!([]));
    assert_eq!(bobs.body["household_members"], json!([]));
    app.try_export_my_data(&keyholder_tests::NOBODY).await.assert_problem(401, "missing_token");
}

async fn invitations_in_the_export_name_their_bulk_invitation(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let van = app.create_asset(&ada, json!({"name": "Van"})).await.id;
    let boat = app.create_asset(&ada, json!({"name": "Boat"})).await.id;
    let one = json!({"email": "x@example.com", "permission": "view"});
    app.try_invite_to_asset(&ada, &van, one).await.assert_status(201);
    let bulk = json!({"emails": ["y@example.com"], "asset_ids": [van, boat], "permission": "view"});
    let sent = app.try_send_bulk_invitation(&ada, bulk).await;
    sent.assert_status(201);
    let batch = sent.str("batch_id");
    let doc = app.try_export_my_data(&ada).await;
    doc.assert_status(200);
    let rows = doc.body["invitations_sent"].as_array().expect("sent");
    let batch_of = |email: &str| -> Vec<serde_json::Value> {
        rows.iter().filter(|r| r["email"] == email).map(|r| r["batch_id"].clone()).collect()
    };
    assert_eq!(batch_of("x@example.com"), [serde_json::Value::Null]);
    assert_eq!(batch_of("y@example.com"), [json!(batch), json!(batch)]);
}
