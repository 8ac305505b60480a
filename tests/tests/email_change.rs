//! Changing my email address: the password, a link to the new address, a
//! notice to the old one, nothing changed until the link works, and the
//! new address's pending invitations showing once it is confirmed.

use chrono::Duration;
use keyholder_tests::{PASSWORD, Session, TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(
    changing_my_email_needs_the_password_and_the_new_inbox,
    a_pending_invitation_to_the_new_address_shows_once_it_is_confirmed,
    a_replaced_or_expired_link_changes_nothing,
    a_reset_link_to_the_old_address_stops_working,
    an_address_taken_meanwhile_is_409_and_changes_nothing,
);

const CONFIRM: &str = "Confirm your new email address";
const REQUESTED: &str = "A change of your Keyholder email address was requested";
const CHANGED: &str = "Your Keyholder email address was changed";

async fn ask(app: &TestApp, who: &Session, new_email: &str) -> keyholder_tests::Reply {
    app.try_request_email_change(who, json!({"new_email": new_email, "password": PASSWORD})).await
}

async fn changing_my_email_needs_the_password_and_the_new_inbox(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let bob = app.register("bob").await;
    let wrong = json!({"new_email": "ada@new.example", "password": "not the password"});
    app.try_request_email_change(&ada, wrong).await.assert_problem(403, "wrong_password");
    ask(&app, &ada, "ADA@example.com ").await.assert_problem(422, "validation_failed");
    ask(&app, &ada, &bob.email).await.assert_problem(409, "email_taken");
    let bad = ask(&app, &ada, "not an address").await;
    bad.assert_problem(422, "validation_failed");
    assert!(bad.body["errors"]["new_email"].is_string());
    ask(&app, &ada, "Ada@New.example").await.assert_status(202);
    // The link goes to the new address; the old one gets a notice without one.
    let link = app.wait_for_email("ada@new.example", CONFIRM).await;
    assert!(link.link().starts_with("http://keyholder.test/confirm-email#token="), "{}", link.body);
    let notice = app.wait_for_email(&ada.email, REQUESTED).await;
    assert!(!notice.body.contains("#token="), "{}", notice.body);
    assert!(notice.body.contains("a***@new.example"), "{}", notice.body);
    // Until the link is used nothing changes.
    assert_eq!(app.try_me(&ada).await.body["email"], "ada@example.com");
    app.login("ada@new.example", PASSWORD).await.assert_problem(401, "invalid_credentials");
    // Asking again at once is refused.
    ask(&app, &ada, "ada@other.example").await.assert_problem(429, "email_recently_sent");
    // The link moves the account; the new address counts as verified.
    let done = app.try_confirm_email_change(json!({"token": link.token()})).await;
    done.assert_status(200);
    let me = app.try_me(&ada).await;
    assert_eq!(me.body["email"], "ada@new.example");
    assert_eq!(me.body["email_verified"], true);
    app.login("ada@new.example", PASSWORD).await.assert_status(200);
    app.login("ada@example.com", PASSWORD).await.assert_problem(401, "invalid_credentials");
    let told = app.wait_for_email("ada@example.com", CHANGED).await;
    assert!(!told.body.contains("#token="));
    // The link works once; a made-up one is unknown.
    app.try_confirm_email_change(json!({"token": link.token()}))
        .await
        .assert_problem(409, "token_used");
    app.try_confirm_email_change(json!({"token": "made-up"}))
        .await
        .assert_problem(404, "token_invalid");
    // Both steps are in my trail.
    let trail = app.try_audit(&ada, "?resource_type=user").await;
    let actions: Vec<&str> =
        trail.items().iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert_eq!(actions[..2], ["user.email_changed", "user.email_change_requested"]);
    assert_eq!(trail.items()[0]["before"]["email"], "ada@example.com");
    assert_eq!(trail.items()[0]["after"]["email"], "ada@new.example");
}

async fn a_pending_invitation_to_the_new_address_shows_once_it_is_confirmed(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.try_invite(&owner, &estate, "ada.work@example.com", "viewer").await.assert_status(202);
    let ada = app.register_verified("ada").await;
    assert_eq!(app.try_my_invitations(&ada).await.body["total"], 0);
    ask(&app, &ada, "ada.work@example.com").await.assert_status(202);
    let link = app.wait_for_email("ada.work@example.com", CONFIRM).await;
    // Not before the new address is confirmed.
    assert_eq!(app.try_my_invitations(&ada).await.body["total"], 0);
    app.try_confirm_email_change(json!({"token": link.token()})).await.assert_status(200);
    let mine = app.try_my_invitations(&ada).await;
    mine.assert_status(200);
    assert_eq!(mine.body["total"], 1);
    let invitation = mine.items()[0]["id"].as_str().expect("id").to_owned();
    app.try_accept_my_invitation(&ada, &invitation).await.assert_status(200);
    app.try_get_estate(&ada, &estate).await.assert_status(200);
}

async fn a_replaced_or_expired_link_changes_nothing(app: TestApp) {
    let ada = app.register_verified("ada").await;
    ask(&app, &ada, "first@example.com").await.assert_status(202);
    let first = app.wait_for_email("first@example.com", CONFIRM).await;
    app.clock.advance(Duration::seconds(121));
    ask(&app, &ada, "second@example.com").await.assert_status(202);
    let second = app.wait_for_email("second@example.com", CONFIRM).await;
    // Only the newest link works.
    app.try_confirm_email_change(json!({"token": first.token()}))
        .await
        .assert_problem(404, "token_invalid");
    app.clock.advance(Duration::hours(48));
    app.try_confirm_email_change(json!({"token": second.token()}))
        .await
        .assert_problem(410, "token_expired");
    assert_eq!(app.try_me(&ada).await.body["email"], "ada@example.com");
}

async fn an_address_taken_meanwhile_is_409_and_changes_nothing(app: TestApp) {
    let ada = app.register_verified("ada").await;
    ask(&app, &ada, "wanted@example.com").await.assert_status(202);
    let link = app.wait_for_email("wanted@example.com", CONFIRM).await;
    let _zoe = app
        .try_register(
            json!({"email": "wanted@example.com", "username": "zoe", "password": PASSWORD}),
        )
        .await;
    app.try_confirm_email_change(json!({"token": link.token()}))
        .await
        .assert_problem(409, "email_taken");
    assert_eq!(app.try_me(&ada).await.body["email"], "ada@example.com");
    assert_eq!(app.try_me(&ada).await.body["email_verified"], true);
}

async fn a_reset_link_to_the_old_address_stops_working(app: TestApp) {
    let ada = app.register_verified("ada").await;
    app.try_request_password_reset(json!({"email": ada.email})).await.assert_status(202);
    let reset = app.wait_for_email(&ada.email, "Reset your Keyholder password").await;
    ask(&app, &ada, "ada@new.example").await.assert_status(202);
    let link = app.wait_for_email("ada@new.example", CONFIRM).await;
    app.try_confirm_email_change(json!({"token": link.token()})).await.assert_status(200);
    // Whoever still reads the old inbox cannot take the account back.
    app.try_confirm_password_reset(json!({"token": reset.token(), "password": "taken back now"}))
        .await
        .assert_problem(404, "token_invalid");
    app.login("ada@new.example", PASSWORD).await.assert_status(200);
}
