//! Telling people about access changes: granted without an invitation,
//! taken back or lowered, and three days before a share ends or an
//! invitation expires unanswered (once each). Each kind can be turned off;
//! only a verified inbox hears about access.

use chrono::{Duration, Utc};
use keyholder_api::ops::notify::send_reminders;
use keyholder_tests::{TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(
    access_given_without_an_invitation_is_emailed_unless_turned_off,
    a_revoked_share_or_a_lowered_role_is_emailed,
    reminders_go_out_three_days_before_an_end_and_once,
    a_bulk_addition_is_one_email_per_person,
    a_fleet_shared_in_one_step_is_reminded_in_one_email,
);

async fn a_bulk_addition_is_one_email_per_person(app: TestApp) {
    let bob = app.register_verified("bob").await;
    let ada = app.register_verified("ada").await;
    let van = app.create_asset(&bob, json!({"name": "Van"})).await.id;
    let boat = app.create_asset(&bob, json!({"name": "Boat"})).await.id;
    let body = json!({"asset_ids": [van, boat], "usernames": ["ada"]});
    app.try_bulk_add_collaborators(&bob, body).await.assert_status(200);
    let mail = app.wait_for_email(&ada.email, "gave you access").await;
    assert!(mail.body.contains("the assets Van, Boat as a collaborator"), "{}", mail.body);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.emails_to(&ada.email, "gave you access").len(), 1);
}

const ALL_ON: &str = r#"{"access_granted":true,"access_reduced":true,"access_expiring":true,"invitation_expiring":true,"security":true}"#;

async fn access_given_without_an_invitation_is_emailed_unless_turned_off(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    let defaults = app.try_my_notification_settings(&ada).await;
    defaults.assert_status(200);
    assert_eq!(defaults.body, serde_json::from_str::<serde_json::Value>(ALL_ON).expect("json"));
    // An estate role given at once.
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.try_invite(&owner, &estate, &ada.email, "editor").await.assert_status(201);
    let mail = app.wait_for_email(&ada.email, "gave you access").await;
    assert!(mail.body.contains("the estate Riverside as editor"), "{}", mail.body);
    // A collaboration.
    let van = app.create_asset(&bob, json!({"name": "Van"})).await.id;
    app.try_collaborate(&bob, &van, "ada").await.assert_status(201);
    let mail = app.wait_for_nth_email(&ada.email, "gave you access", 2).await;
    assert!(mail.body.contains("the asset Van as a collaborator"), "{}", mail.body);
    // Turned off: a place in a household is not emailed.
    let off = json!({"access_granted": false, "access_reduced": true, "access_expiring": true, "invitation_expiring": true});
    let saved = app.try_set_my_notification_settings(&ada, off).await;
    saved.assert_status(200);
    assert_eq!(saved.body["access_granted"], false);
    assert_eq!(saved.body["security"], true);
    app.household_add(&bob, &ada, "viewer").await;
    // Back on: the next grant is emailed, and it is the third, not the fourth.
    let on: serde_json::Value = serde_json::from_str(ALL_ON).expect("json");
    let mut on = on.as_object().expect("object").clone();
    on.remove("security");
    app.try_set_my_notification_settings(&ada, on.into()).await.assert_status(200);
    let boat = app.create_asset(&bob, json!({"name": "Boat"})).await.id;
    app.try_collaborate(&bob, &boat, "ada").await.assert_status(201);
    app.wait_for_nth_email(&ada.email, "gave you access", 3).await;
    let all = app.emails_to(&ada.email, "gave you access");
    assert_eq!(all.len(), 3, "no email for the household");
    assert!(all.iter().all(|m| !m.body.contains("household")));
    // Both changes are in my trail; the body needs all four kinds.
    let trail = app.try_audit(&ada, "?resource_type=user").await;
    let changes =
        trail.items().iter().filter(|e| e["action"] == "user.notifications_changed").count();
    assert_eq!(changes, 2);
    app.try_set_my_notification_settings(&ada, json!({"access_granted": false}))
        .await
        .assert_problem(422, "validation_failed");
    // An unverified inbox hears nothing about access.
    let carl = app.register("carl").await;
    app.try_collaborate(&bob, &van, "carl").await.assert_status(201);
    app.try_collaborate(&bob, &boat, "ada").await.assert_problem(409, "already_collaborator");
    assert!(app.emails_to(&carl.email, "gave you access").is_empty());
}

async fn a_revoked_share_or_a_lowered_role_is_emailed(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ada = app.register_verified("ada").await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.try_invite(&owner, &estate, &ada.email, "editor").await.assert_status(201);
    app.try_set_role(&owner, &estate, &ada.id, "viewer").await.assert_status(200);
    let mail = app.wait_for_email(&ada.email, "Your access changed").await;
    assert!(
        mail.body.contains("your role in the estate Riverside is now viewer (it was editor)"),
        "{}",
        mail.body
    );
    // A share lowered, then revoked.
    let van = app.create_asset(&owner, json!({"name": "Van"})).await.id;
    let inv = app.send_asset_invitation(&owner, &van, &ada.email, "edit").await.id;
    app.try_accept_my_invitation(&ada, &inv).await.assert_status(200);
    let lowered = app.try_update_share(&owner, &van, &ada.id, json!({"permission": "view"})).await;
    lowered.assert_status(200);
    let mail = app.wait_for_nth_email(&ada.email, "Your access changed", 2).await;
    assert!(
        mail.body.contains("your share of Van now allows view (it allowed edit)"),
        "{}",
        mail.body
    );
    app.try_revoke_share(&owner, &van, &ada.id).await.assert_status(204);
    let mail = app.wait_for_nth_email(&ada.email, "Your access changed", 3).await;
    assert!(mail.body.contains("your shared access to Van was revoked"), "{}", mail.body);
    // Raising a role is not a reduction.
    app.try_set_role(&owner, &estate, &ada.id, "editor").await.assert_status(200);
    let boat = app.create_asset(&owner, json!({"name": "Boat"})).await.id;
    app.try_collaborate(&owner, &boat, "ada").await.assert_status(201);
    app.wait_for_nth_email(&ada.email, "gave you access", 2).await;
    assert_eq!(app.emails_to(&ada.email, "Your access changed").len(), 3);
}

async fn reminders_go_out_three_days_before_an_end_and_once(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ada = app.register_verified("ada").await;
    let van = app.create_asset(&owner, json!({"name": "Van"})).await.id;
    let soon = (Utc::now() + Duration::days(2)).to_rfc3339();
    let later = (Utc::now() + Duration::days(10)).to_rfc3339();
    let r = app.try_share_until(&owner, &van, &ada.email, "view", &soon).await;
    r.assert_status(201);
    let inv = r.body["id"].as_str().expect("id").to_owned();
    app.try_accept_my_invitation(&ada, &inv).await.assert_status(200);
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.try_invite_until(&owner, &estate, "zoe@example.com", "viewer", &soon)
        .await
        .assert_status(202);
    app.try_invite_until(&owner, &estate, "yan@example.com", "viewer", &later)
        .await
        .assert_status(202);
    let db = app.app_state.db.clone();
    let now = Utc::now();
    // The share ending in two days and the invitation expiring in two.
    assert_eq!(send_reminders(&db, now).expect("sweep"), 2);
    let mail = app.wait_for_email(&ada.email, "Your access to Van ends soon").await;
    assert!(mail.body.contains("ends on"), "{}", mail.body);
    let mail =
        app.wait_for_email(&owner.email, "Your invitation to zoe@example.com expires soon").await;
    assert!(mail.body.contains("the estate Riverside"), "{}", mail.body);
    // Once each.
    assert_eq!(send_reminders(&db, now + Duration::hours(1)).expect("sweep"), 0);
    // Eight days on, the later invitation is due; its sender turned these off,
    // so it is claimed but not sent.
    let off = json!({"access_granted": true, "access_reduced": true, "access_expiring": true, "invitation_expiring": false});
    app.try_set_my_notification_settings(&owner, off).await.assert_status(200);
    assert_eq!(send_reminders(&db, now + Duration::days(8)).expect("sweep"), 0);
    assert!(app.emails_to(&owner.email, "yan@example.com expires soon").is_empty());
    assert_eq!(app.emails_to(&ada.email, "ends soon").len(), 1);
}

async fn a_fleet_shared_in_one_step_is_reminded_in_one_email(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ann = app.register_verified("ann").await;
    let mut vans = Vec::new();
    for n in 1..=3 {
        vans.push(app.create_asset(&owner, json!({"name": format!("Van {n}")})).await.id);
    }
    let soon = (Utc::now() + Duration::days(2)).to_rfc3339();
    // Ann accepts three shares ending together; Bob and Cy leave theirs
    // unanswered until they are about to expire.
    let body = json!({"emails": ["ann@example.com", "bob@example.com", "cy@example.com"],
        "asset_ids": vans, "permission": "view", "expires_at": soon, "access_expires_at": soon});
    app.try_send_bulk_invitation(&owner, body).await.assert_status(201);
    let mail = app.wait_for_email("ann@example.com", "invited you").await;
    app.accept_invitation(&ann, &mail.token()).await.assert_status(200);

    let db = app.app_state.db.clone();
    let now = Utc::now();
    assert_eq!(send_reminders(&db, now).expect("sweep"), 2, "one email to ann, one to owner");
    let ends = app.wait_for_email(&ann.email, "ends soon").await;
    assert_eq!(ends.subject, "Your access to 3 assets ends soon");
    for van in ["- Van 1: ends on", "- Van 2: ends on", "- Van 3: ends on"] {
        assert!(ends.body.contains(van), "{van:?} missing from {}", ends.body);
    }
    let unanswered = app.wait_for_email(&owner.email, "expire soon").await;
    assert_eq!(unanswered.subject, "6 invitations you sent expire soon");
    for row in ["- bob@example.com for the asset Van 1", "- cy@example.com for the asset Van 3"] {
        assert!(unanswered.body.contains(row), "{row:?} missing from {}", unanswered.body);
    }
    assert!(!unanswered.body.contains("ann@example.com"), "ann answered");
    // Once: nothing more on the next sweep, and one email each in all.
    assert_eq!(send_reminders(&db, now + Duration::hours(1)).expect("sweep"), 0);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.emails_to(&ann.email, "ends soon").len(), 1);
    assert_eq!(app.emails_to(&owner.email, "expire").len(), 1);
}
