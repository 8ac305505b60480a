//! Sessions: short access tokens renewed with rotating refresh tokens, a
//! refresh token used twice ends its session, signing out, listing and
//! revoking sessions; an ended session's access token is refused on its
//! next request.

use chrono::Duration;
use keyholder_tests::{NOBODY, PASSWORD, Reply, Session, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    sign_in_opens_a_session_listed_with_its_client,
    refresh_rotates_and_a_reused_refresh_token_ends_the_session,
    access_tokens_last_fifteen_minutes_by_default_and_refresh_renews_them,
    an_unrefreshed_session_expires,
    signing_out_ends_only_this_session,
    revoked_sessions_are_refused_on_the_next_request,
    a_password_change_or_reset_ends_the_other_sessions,
    two_refreshes_with_one_token_leave_no_session_alive,
    a_sign_in_from_a_new_client_is_told_to_a_verified_inbox,
);

/// Signs `login` in with a `User-Agent`: the raw answer.
async fn sign_in_as(app: &TestApp, login: &str, agent: &str) -> Reply {
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("User-Agent", agent)
        .json(&json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .expect("answer");
    TestApp::reply(res).await
}

/// A second session of `who`, from a sign-in.
async fn another_session(app: &TestApp, who: &Session, agent: &str) -> Session {
    let reply = sign_in_as(app, &who.username, agent).await;
    reply.assert_status(200);
    session_from(who, &reply.body)
}

/// `who` with the tokens of an answer that signs in.
fn session_from(who: &Session, body: &Value) -> Session {
    Session {
        token: body["access_token"].as_str().expect("access").to_owned(),
        refresh_token: body["refresh_token"].as_str().expect("refresh").to_owned(),
        session_id: body["session_id"].as_str().expect("session").to_owned(),
        ..who.clone()
    }
}

/// The ids of `who`'s sessions as listed, and which one is current.
async fn listed(app: &TestApp, who: &Session) -> Vec<(String, bool)> {
    let reply = app.try_my_sessions(who, "").await;
    reply.assert_status(200);
    reply
        .items()
        .iter()
        .map(|s| (s["id"].as_str().expect("id").to_owned(), s["current"].as_bool().expect("c")))
        .collect()
}

async fn refresh(app: &TestApp, token: &str) -> Reply {
    app.try_refresh(json!({"refresh_token": token})).await
}

async fn sign_in_opens_a_session_listed_with_its_client(app: TestApp) {
    let ada = app.register("ada").await;
    let laptop = sign_in_as(&app, "ada", "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0").await;
    laptop.assert_status(200);
    assert_eq!(laptop.body["token_type"], "Bearer");
    assert_eq!(laptop.body["refresh_expires_in"], 31_536_000);
    let laptop = session_from(&ada, &laptop.body);
    assert_ne!(laptop.session_id, ada.session_id);
    let reply = app.try_my_sessions(&laptop, "").await;
    reply.assert_status(200);
    assert_eq!(reply.body["total"], 2);
    let newest = &reply.items()[0];
    assert_eq!(newest["id"], laptop.session_id.as_str());
    assert_eq!(newest["current"], true);
    assert_eq!(newest["user_agent"], "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0");
    assert_eq!(newest["address"], "127.0.0.1");
    assert_eq!(reply.items()[1]["id"], ada.session_id.as_str());
    assert_eq!(reply.items()[1]["current"], false);
    // Another user sees only their own.
    let bob = app.register("bob").await;
    assert_eq!(listed(&app, &bob).await, [(bob.session_id.clone(), true)]);
    app.try_my_sessions(&NOBODY, "").await.assert_problem(401, "missing_token");
}

async fn refresh_rotates_and_a_reused_refresh_token_ends_the_session(app: TestApp) {
    let ada = app.register("ada").await;
    let first = refresh(&app, &ada.refresh_token).await;
    first.assert_status(200);
    assert_eq!(first.body["session_id"], ada.session_id.as_str());
    assert_eq!(first.body["user"]["id"], ada.id.as_str());
    let renewed = session_from(&ada, &first.body);
    assert_ne!(renewed.refresh_token, ada.refresh_token);
    app.try_me(&renewed).await.assert_status(200);
    // The successor works once more, and so on.
    let second = refresh(&app, &renewed.refresh_token).await;
    second.assert_status(200);
    let latest = session_from(&ada, &second.body);
    // The first refresh token again: someone replayed it. The whole
    // session ends: its newest access and refresh tokens stop working.
    refresh(&app, &ada.refresh_token).await.assert_problem(401, "refresh_token_reused");
    app.try_me(&latest).await.assert_problem(401, "session_ended");
    refresh(&app, &latest.refresh_token).await.assert_problem(401, "refresh_token_invalid");
    refresh(&app, "not-a-token").await.assert_problem(401, "refresh_token_invalid");
    app.try_refresh(json!({})).await.assert_problem(422, "validation_failed");
    // The replay is in the account's trail; signing in again works.
    let again = another_session(&app, &ada, "curl/8").await;
    let trail = app.try_audit(&again, "?resource_type=user").await;
    let actions: Vec<&str> =
        trail.items().iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert_eq!(actions, ["user.refresh_token_reused", "user.registered"]);
    assert_eq!(trail.items()[0]["before"]["session_id"], ada.session_id.as_str());
}

async fn access_tokens_last_fifteen_minutes_by_default_and_refresh_renews_them(app: TestApp) {
    assert_eq!(keyholder_api::Config::defaults().token_ttl, 900);
    assert_eq!(keyholder_api::Config::defaults().refresh_ttl, 30 * 24 * 3600);
    let app = TestApp::spawn_with(app.backend, |c| {
        c.token_ttl = 900;
        c.refresh_ttl = 30 * 24 * 3600;
    })
    .await;
    let ada = app.register("ada").await;
    let login = sign_in_as(&app, "ada", "test").await;
    assert_eq!(login.body["expires_in"], 900);
    assert_eq!(login.body["refresh_expires_in"], 2_592_000);
    app.clock.advance(Duration::seconds(901));
    app.try_me(&ada).await.assert_problem(401, "token_expired");
    let renewed = refresh(&app, &ada.refresh_token).await;
    renewed.assert_status(200);
    let renewed = session_from(&ada, &renewed.body);
    app.try_me(&renewed).await.assert_status(200);
    // The session's last use moved to the refresh.
    let sessions = app.try_my_sessions(&renewed, "").await;
    let mine = sessions.items().iter().find(|s| s["current"] == true).expect("current").clone();
    assert_ne!(mine["last_used_at"], mine["created_at"]);
}

async fn an_unrefreshed_session_expires(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| c.refresh_ttl = 3600).await;
    let ada = app.register("ada").await;
    // An access token never outlives its session (a year's lifetime is
    // configured, the session ends in an hour).
    let login = sign_in_as(&app, "ada", "curl/8").await;
    assert_eq!(login.body["expires_in"], 3600);
    let bob = app.register("bob").await;
    app.clock.advance(Duration::seconds(1800));
    // Refreshing within the hour moves the end an hour on.
    let renewed = refresh(&app, &bob.refresh_token).await;
    renewed.assert_status(200);
    let bob = session_from(&bob, &renewed.body);
    app.clock.advance(Duration::seconds(1801));
    refresh(&app, &ada.refresh_token).await.assert_problem(401, "session_expired");
    refresh(&app, &ada.refresh_token).await.assert_problem(401, "refresh_token_invalid");
    refresh(&app, &bob.refresh_token).await.assert_status(200);
    // An expired session is not listed.
    let ada2 = another_session(&app, &ada, "curl/8").await;
    assert_eq!(listed(&app, &ada2).await, [(ada2.session_id.clone(), true)]);
}

async fn signing_out_ends_only_this_session(app: TestApp) {
    let ada = app.register("ada").await;
    let phone = another_session(&app, &ada, "phone").await;
    app.try_log_out(&phone).await.assert_status(204);
    app.try_me(&phone).await.assert_problem(401, "session_ended");
    refresh(&app, &phone.refresh_token).await.assert_problem(401, "refresh_token_invalid");
    app.try_log_out(&phone).await.assert_problem(401, "session_ended");
    // The other session goes on.
    app.try_me(&ada).await.assert_status(200);
    assert_eq!(listed(&app, &ada).await, [(ada.session_id.clone(), true)]);
    app.try_log_out(&NOBODY).await.assert_problem(401, "missing_token");
}

async fn revoked_sessions_are_refused_on_the_next_request(app: TestApp) {
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let phone = another_session(&app, &ada, "phone").await;
    let tablet = another_session(&app, &ada, "tablet").await;
    let laptop = another_session(&app, &ada, "laptop").await;
    // Ending one session from another.
    app.try_me(&phone).await.assert_status(200);
    app.try_revoke_session(&ada, &phone.session_id).await.assert_status(204);
    app.try_me(&phone).await.assert_problem(401, "session_ended");
    app.try_revoke_session(&ada, &phone.session_id).await.assert_problem(404, "session_not_found");
    // Someone else's session is not found, and keeps working.
    app.try_revoke_session(&bob, &tablet.session_id).await.assert_problem(404, "session_not_found");
    app.try_me(&tablet).await.assert_status(200);
    app.try_revoke_session(&ada, "not-a-uuid").await.assert_problem(404, "not_found");
    // Every other session at once.
    let reply = app.try_revoke_other_sessions(&laptop).await;
    reply.assert_status(200);
    assert_eq!(reply.body["revoked"], 2);
    app.try_me(&tablet).await.assert_problem(401, "session_ended");
    app.try_me(&ada).await.assert_problem(401, "session_ended");
    app.try_me(&laptop).await.assert_status(200);
    app.try_me(&bob).await.assert_status(200);
    assert_eq!(listed(&app, &laptop).await, [(laptop.session_id.clone(), true)]);
    // Ending the current session by id signs it out.
    app.try_revoke_session(&laptop, &laptop.session_id).await.assert_status(204);
    app.try_me(&laptop).await.assert_problem(401, "session_ended");
    // Both kinds of revocation are in the account's trail.
    let again = another_session(&app, &ada, "curl/8").await;
    let trail = app.try_audit(&again, "?resource_type=user").await;
    let revoked = trail.items().iter().filter(|e| e["action"] == "user.session_revoked").count();
    assert_eq!(revoked, 3);
}

async fn a_password_change_or_reset_ends_the_other_sessions(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let phone = another_session(&app, &ada, "phone").await;
    let reply = app
        .try_change_password(
            &ada,
            json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
        )
        .await;
    reply.assert_status(200);
    let changed = session_from(&ada, &reply.body);
    assert_ne!(changed.session_id, ada.session_id);
    app.try_me(&changed).await.assert_status(200);
    app.try_me(&phone).await.assert_problem(401, "session_ended");
    app.try_me(&ada).await.assert_status(401);
    refresh(&app, &phone.refresh_token).await.assert_problem(401, "refresh_token_invalid");
    refresh(&app, &ada.refresh_token).await.assert_problem(401, "refresh_token_invalid");
    assert_eq!(listed(&app, &changed).await, [(changed.session_id.clone(), true)]);
    // A reset by emailed link ends every session.
    app.try_request_password_reset(json!({"email": ada.email})).await.assert_status(202);
    let mail = app.wait_for_email(&ada.email, "Reset your Keyholder password").await;
    app.try_confirm_password_reset(
        json!({"token": mail.token(), "password": "yet another secret"}),
    )
    .await
    .assert_status(204);
    app.try_me(&changed).await.assert_status(401);
    refresh(&app, &changed.refresh_token).await.assert_problem(401, "refresh_token_invalid");
}

async fn two_refreshes_with_one_token_leave_no_session_alive(app: TestApp) {
    let ada = app.register("ada").await;
    for _ in 0..3 {
        let session = another_session(&app, &ada, "racer").await;
        let (a, b) = tokio::join!(
            refresh(&app, &session.refresh_token),
            refresh(&app, &session.refresh_token)
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 401], "one rotates, the other is a reuse: {a:?} {b:?}");
        let (won, lost) = if a.status == 200 { (a, b) } else { (b, a) };
        lost.assert_problem(401, "refresh_token_reused");
        // The reuse ended the session the winner renewed.
        let winner = session_from(&ada, &won.body);
        app.try_me(&winner).await.assert_problem(401, "session_ended");
        refresh(&app, &winner.refresh_token).await.assert_problem(401, "refresh_token_invalid");
    }
    app.try_me(&ada).await.assert_status(200);
}

async fn a_sign_in_from_a_new_client_is_told_to_a_verified_inbox(app: TestApp) {
    let ada = app.register_verified("ada").await;
    // The client she registered from is known: nothing to tell.
    app.login("ada", PASSWORD).await.assert_status(200);
    sign_in_as(&app, "ada", "Firefox/133.0").await.assert_status(200);
    let mail = app.wait_for_email(&ada.email, "New sign-in to your Keyholder account").await;
    assert!(
        mail.body.contains("Firefox/133.0") && mail.body.contains("127.0.0.1"),
        "{}",
        mail.body
    );
    // The same client again is not new; another one is.
    sign_in_as(&app, "ada", "Firefox/133.0").await.assert_status(200);
    sign_in_as(&app, "ada", "Safari/18.1").await.assert_status(200);
    let second = app.wait_for_nth_email(&ada.email, "New sign-in", 2).await;
    assert!(second.body.contains("Safari/18.1"), "{}", second.body);
    assert_eq!(app.emails_to(&ada.email, "New sign-in").len(), 2);
    // An unverified inbox is not written to.
    let bob = app.register("bob").await;
    sign_in_as(&app, "bob", "Firefox/133.0").await.assert_status(200);
    sign_in_as(&app, "ada", "Edge/131").await.assert_status(200);
    app.wait_for_nth_email(&ada.email, "New sign-in", 3).await;
    assert!(app.emails_to(&bob.email, "New sign-in").is_empty());
}
