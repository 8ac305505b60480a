//! Accounts: registration, login, /me, email verification, password reset
//! and change, on SQLite and PostgreSQL.

use chrono::Duration;
use keyholder_tests::{NOBODY, PASSWORD, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    an_unverified_address_is_not_mailed_about_password_changes,
    register_signs_in_and_me_shows_the_account,
    emails_and_usernames_are_unique_regardless_of_case,
    registration_validates_every_field_at_once,
    login_works_by_email_or_username,
    login_failure_reads_the_same_for_unknown_and_wrong_password,
    verification_link_verifies_once,
    verification_link_expires_after_48_hours,
    resend_replaces_the_verification_link,
    password_reset_always_answers_202_and_mails_only_existing_accounts,
    password_reset_sets_a_new_password_once,
    password_reset_link_expires_after_one_hour,
    password_reset_rejects_a_weak_password_and_keeps_the_token,
    change_password_needs_the_current_one_and_ends_old_sessions,
    registration_and_password_changes_write_audit_events,
    editing_my_profile_changes_only_the_fields_sent,
);

/// `PATCH /me`: the fields sent change (checked as at registration), the
/// others stay; a username is unique regardless of case; the new username
/// signs in, the old one no longer does; a stale `If-Match` changes
/// nothing; the trail names what changed.
async fn editing_my_profile_changes_only_the_fields_sent(app: TestApp) {
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let saved = app.try_update_me(&ada, json!({"display_name": "Ada King"})).await;
    saved.assert_status(200);
    assert_eq!(
        (saved.body["username"].as_str(), saved.body["display_name"].as_str()),
        (Some("ada"), Some("Ada King"))
    );
    let stale = app.try_me(&ada).await.header("etag").expect("an ETag").to_owned();
    let renamed = app.try_update_me(&ada, json!({"username": "Ada.K"})).await;
    renamed.assert_status(200);
    assert_eq!(renamed.body["display_name"], "Ada King", "left out, kept");
    let me = app.try_me(&ada).await;
    assert_eq!(
        (me.body["username"].as_str(), me.body["email"].as_str()),
        (Some("Ada.K"), Some("ada@example.com"))
    );
    app.login("ada.k", PASSWORD).await.assert_status(200);
    app.login("ada", PASSWORD).await.assert_problem(401, "invalid_credentials");
    // Taken in another case; refused fields; unknown fields: 4xx, nothing changed.
    app.try_update_me(&bob, json!({"username": "ADA.k"}))
        .await
        .assert_problem(409, "username_taken");
    let bad = app.try_update_me(&ada, json!({"username": null, "display_name": " "})).await;
    bad.assert_problem(422, "validation_failed");
    assert!(
        bad.body["errors"]["username"].is_string()
            && bad.body["errors"]["display_name"].is_string(),
        "{}",
        bad.text
    );
    app.try_update_me(&ada, json!({"username": "a b"}))
        .await
        .assert_problem(422, "validation_failed");
    let unknown = app.try_update_me(&ada, json!({"email": "new@example.com"})).await;
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert!(unknown.text.contains("email"), "names the field: {}", unknown.text);
    let reply = app
        .client
        .patch(app.url("/api/v1/me"))
        .bearer_auth(&ada.token)
        .header("If-Match", stale)
        .json(&json!({"display_name": "Someone Else"}))
        .send()
        .await
        .expect("the server answers");
    TestApp::reply(reply).await.assert_problem(412, "precondition_failed");
    let me = app.try_me(&ada).await;
    assert_eq!(
        (me.body["username"].as_str(), me.body["display_name"].as_str()),
        (Some("Ada.K"), Some("Ada King"))
    );
    assert_eq!(app.try_me(&bob).await.body["username"], "bob");
    // The trail names each change.
    let trail = app.try_audit(&ada, "?resource_type=user").await;
    let changes: Vec<(&Value, &Value)> = trail
        .items()
        .iter()
        .filter(|e| e["action"] == "user.profile_changed")
        .map(|e| (&e["before"], &e["after"]))
        .collect();
    assert_eq!(changes.len(), 2, "{}", trail.text);
    assert_eq!(changes[0], (&json!({"username": "ada"}), &json!({"username": "Ada.K"})));
    assert_eq!(changes[1], (&json!({"display_name": "ada"}), &json!({"display_name": "Ada King"})));
}

async fn register_signs_in_and_me_shows_the_account(app: TestApp) {
    let reply = app.try_register(json!({"email": "  Ada@Example.COM ", "username": "Ada", "password": PASSWORD, "display_name": "Ada Lovelace"}))
        .await;
    reply.assert_status(201);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 31_536_000);
    assert_eq!(reply.body["user"]["email"], "ada@example.com");
    let token = reply.body["access_token"].as_str().expect("token");
    let me = app.try_me(token).await;
    me.assert_status(200);
    assert_eq!(me.body["email"], "ada@example.com");
    assert_eq!(me.body["username"], "Ada");
    assert_eq!(me.body["display_name"], "Ada Lovelace");
    assert_eq!(me.body["email_verified"], false);
    assert_eq!(me.body["is_root"], false);
    assert_eq!(me.body["id"], reply.body["user"]["id"]);
    assert!(me.body["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    // Without a display name, the username is shown.
    let bob = app.register("bob").await;
    let me = app.try_me(&bob).await;
    assert_eq!(me.body["display_name"], "bob");
}

async fn emails_and_usernames_are_unique_regardless_of_case(app: TestApp) {
    app.register("ada").await;
    app.try_register_as("ADA@example.com", "other", PASSWORD)
        .await
        .assert_problem(409, "email_taken");
    app.try_register_as("other@example.com", "ADA", PASSWORD)
        .await
        .assert_problem(409, "username_taken");
    // The failed attempts queued no email and created no account.
    let ok = app.login("other@example.com", PASSWORD).await;
    ok.assert_problem(401, "invalid_credentials");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.emails_to("other@example.com", "").is_empty());
}

async fn registration_validates_every_field_at_once(app: TestApp) {
    let reply = app.try_register(json!({"email": "not-an-email", "username": "a b", "password": "short", "display_name": " "}))
        .await;
    reply.assert_problem(422, "validation_failed");
    let errors = reply.body["errors"].as_object().expect("errors");
    for field in ["email", "username", "password", "display_name"] {
        assert!(errors.contains_key(field), "{field} missing from {errors:?}");
    }
    assert!(errors["password"].as_str().expect("message").contains("10"));
    // A 9-character password is refused, 10 is accepted.
    app.try_register_as("p@example.com", "pp9", "123456789")
        .await
        .assert_problem(422, "validation_failed");
    app.try_register_as("p@example.com", "pp9", "1234567890").await.assert_status(201);
}

async fn login_works_by_email_or_username(app: TestApp) {
    let ada = app.register("ada").await;
    for login in ["ada@example.com", "ADA@Example.com", "ada", "Ada"] {
        let reply = app.login(login, PASSWORD).await;
        reply.assert_status(200);
        assert_eq!(reply.body["user"]["id"], ada.id.as_str());
        let token = reply.body["access_token"].as_str().expect("token");
        app.try_me(token).await.assert_status(200);
    }
}

async fn login_failure_reads_the_same_for_unknown_and_wrong_password(app: TestApp) {
    app.register("ada").await;
    let wrong = app.login("ada", "wrong password!").await;
    let unknown = app.login("nobody", "wrong password!").await;
    wrong.assert_problem(401, "invalid_credentials");
    unknown.assert_problem(401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
}

async fn verification_link_verifies_once(app: TestApp) {
    let ada = app.register("ada").await;
    let mail = app.wait_for_email(&ada.email, "Confirm your email").await;
    assert!(mail.link().starts_with("http://keyholder.test/verify-email#token="), "{}", mail.body);
    assert_eq!(mail.token().len(), 43);
    app.try_verify(&mail.token()).await.assert_status(200);
    let me = app.try_me(&ada).await;
    assert_eq!(me.body["email_verified"], true);
    app.try_verify(&mail.token()).await.assert_problem(409, "token_used");
    app.try_verify("made-up-token").await.assert_problem(404, "token_invalid");
    // Already verified: no new link.
    app.try_resend_verification(&ada).await.assert_problem(409, "already_verified");
}

async fn verification_link_expires_after_48_hours(app: TestApp) {
    let ada = app.register("ada").await;
    let mail = app.wait_for_email(&ada.email, "Confirm your email").await;
    app.clock.advance(Duration::hours(48) + Duration::seconds(1));
    app.try_verify(&mail.token()).await.assert_problem(410, "token_expired");
}

async fn resend_replaces_the_verification_link(app: TestApp) {
    let ada = app.register("ada").await;
    let first = app.wait_for_email(&ada.email, "Confirm your email").await;
    // Right after a link was sent, another waits for the cooldown.
    let early = app.try_resend_verification(&ada).await;
    early.assert_problem(429, "email_recently_sent");
    assert!(early.header("retry-after").is_some());
    app.clock.advance(Duration::seconds(121));
    app.try_resend_verification(&ada).await.assert_status(202);
    let second = app.wait_for_nth_email(&ada.email, "Confirm your email", 2).await;
    assert_ne!(first.token(), second.token());
    app.try_verify(&first.token()).await.assert_problem(404, "token_invalid");
    app.try_verify(&second.token()).await.assert_status(200);
    // Resend needs a signed-in user.
    app.try_resend_verification(&NOBODY).await.assert_problem(401, "missing_token");
}

async fn password_reset_always_answers_202_and_mails_only_existing_accounts(app: TestApp) {
    let ada = app.register("ada").await;
    for email in ["ada@example.com", "nobody@example.com", "not-an-email"] {
        let reply = app.try_forgot_password(email).await;
        reply.assert_status(202);
        assert_eq!(reply.body["status"], "accepted");
    }
    let mail = app.wait_for_email(&ada.email, "Reset your Keyholder password").await;
    assert!(mail.link().starts_with("http://keyholder.test/reset-password#token="));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.emails_to("nobody@example.com", "").is_empty());
}

async fn password_reset_sets_a_new_password_once(app: TestApp) {
    let ada = app.register("ada").await;
    app.try_forgot_password("ada@example.com").await;
    let mail = app.wait_for_email(&ada.email, "Reset your Keyholder password").await;
    // Sessions that began before the reset end with it.
    app.clock.advance(Duration::seconds(2));
    app.try_reset_password(&mail.token(), "a brand new password").await.assert_status(204);
    app.try_me(&ada).await.assert_problem(401, "session_ended");
    app.login("ada", PASSWORD).await.assert_problem(401, "invalid_credentials");
    let login = app.login("ada", "a brand new password").await;
    login.assert_status(200);
    // The link proved the inbox.
    assert_eq!(login.body["user"]["email_verified"], true);
    app.try_reset_password(&mail.token(), "yet another password")
        .await
        .assert_problem(409, "token_used");
    app.wait_for_email(&ada.email, "password was changed").await;
}

async fn password_reset_link_expires_after_one_hour(app: TestApp) {
    let ada = app.register("ada").await;
    app.try_forgot_password("ada@example.com").await;
    let mail = app.wait_for_email(&ada.email, "Reset your Keyholder password").await;
    app.clock.advance(Duration::minutes(61));
    app.try_reset_password(&mail.token(), "a brand new password")
        .await
        .assert_problem(410, "token_expired");
    app.try_reset_password("unknown", "a brand new password")
        .await
        .assert_problem(404, "token_invalid");
}

async fn password_reset_rejects_a_weak_password_and_keeps_the_token(app: TestApp) {
    let ada = app.register("ada").await;
    app.try_forgot_password("ada@example.com").await;
    let mail = app.wait_for_email(&ada.email, "Reset your Keyholder password").await;
    let reply = app.try_reset_password(&mail.token(), "short").await;
    reply.assert_problem(422, "validation_failed");
    assert!(reply.body["errors"]["password"].is_string());
    app.try_reset_password(&mail.token(), "long enough now").await.assert_status(204);
}

async fn change_password_needs_the_current_one_and_ends_old_sessions(app: TestApp) {
    // Verified: only a proven inbox is told of a password change.
    let ada = app.register_verified("ada").await;
    app.try_new_password(&ada, "not my password", "a brand new password")
        .await
        .assert_problem(403, "wrong_password");
    let weak = app.try_new_password(&ada, PASSWORD, "short").await;
    weak.assert_problem(422, "validation_failed");
    assert!(weak.body["errors"]["new_password"].is_string());
    app.try_new_password(&NOBODY, PASSWORD, "a brand new password")
        .await
        .assert_problem(401, "missing_token");
    app.clock.advance(Duration::seconds(2));
    let changed = app.try_new_password(&ada, PASSWORD, "a brand new password").await;
    changed.assert_status(200);
    let fresh = changed.body["access_token"].as_str().expect("token");
    app.try_me(fresh).await.assert_status(200);
    app.try_me(&ada).await.assert_problem(401, "session_ended");
    app.login("ada", "a brand new password").await.assert_status(200);
    app.wait_for_email(&ada.email, "password was changed").await;
}

async fn registration_and_password_changes_write_audit_events(app: TestApp) {
    let ada = app.register("ada").await;
    app.clock.advance(Duration::seconds(2));
    app.try_new_password(&ada, PASSWORD, "a brand new password").await.assert_status(200);
    let events = app.with_db(|c| keyholder_store::audit::for_target(c, "user", &ada.id));
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.registered", "user.password_changed"]);
    assert_eq!(events[0].actor_id.map(|a| a.to_string()), Some(ada.id.clone()));
    assert_eq!(events[0].after.as_ref().expect("after")["username"], "ada");
    // A failed registration writes nothing.
    app.try_register_as("ada@example.com", "x2x", PASSWORD).await.assert_status(409);
    let count = app.with_db(|c| {
        use diesel::prelude::*;
        keyholder_store::schema::audit_events::table
            .filter(keyholder_store::schema::audit_events::action.eq("user.registered"))
            .count()
            .get_result::<i64>(c)
            .map_err(Into::into)
    });
    assert_eq!(count, 1);
}

async fn an_unverified_address_is_not_mailed_about_password_changes(app: TestApp) {
    // Whoever registered the address knows the password and could flip it
    // back and forth: the inbox hears nothing until it is proven.
    let squat = app.register("squat").await;
    app.wait_for_email(&squat.email, "Confirm your email").await;
    let mut password = PASSWORD.to_owned();
    let mut token = squat.token.clone();
    for i in 0..3 {
        let next = format!("another password {i}");
        let changed = app.try_new_password(&token, &password, &next).await;
        changed.assert_status(200);
        token = changed.str("access_token");
        password = next;
    }
    app.login("squat", &password).await.assert_status(200);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(app.emails_to(&squat.email, "password was changed").is_empty());
    assert_eq!(app.emails().len(), 1, "only the verification link");
}
