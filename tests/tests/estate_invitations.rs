//! User search and estate invitations: granted at once for registered users,
//! emailed sign-up links for everyone else, and the whole lifecycle of the
//! token, on both databases.

use chrono::{Duration, Utc};
use keyholder_tests::{PASSWORD, Session, TestApp, on_both_backends};
use serde_json::{Value, json};

async fn estate(app: &TestApp, owner: &Session) -> String {
    let r = app
        .post(
            "/api/v1/estates",
            Some(&owner.token),
            json!({"name": "Riverside"}),
        )
        .await;
    r.assert_status(201);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn invite(app: &TestApp, token: &str, estate: &str, body: Value) -> keyholder_tests::Reply {
    app.post(
        &format!("/api/v1/estates/{estate}/invitations"),
        Some(token),
        body,
    )
    .await
}

async fn invite_outsider(
    app: &TestApp,
    owner: &Session,
    estate: &str,
    email: &str,
    role: &str,
) -> (String, String) {
    let r = invite(
        app,
        &owner.token,
        estate,
        json!({"email": email, "role": role, "message": "Welcome aboard"}),
    )
    .await;
    r.assert_status(202);
    assert_eq!(r.body["outcome"], "invited");
    let id = r.body["invitation"]["id"].as_str().expect("id").to_owned();
    let n = app.emails_to(email, "invited you").len().max(1);
    let mail = app.wait_for_nth_email(email, "invited you", n).await;
    (id, mail.token())
}

on_both_backends!(
    user_search_matches_one_verified_non_member_by_exact_email,
    inviting_a_verified_user_grants_at_once_without_email,
    an_outsider_signs_up_through_the_emailed_link_and_lands_in_the_estate,
    a_registered_but_unverified_user_accepts_with_the_token,
    accept_signup_for_an_existing_email_is_409,
    accepting_with_another_account_is_403_and_stays_pending,
    declining_by_token_tells_the_inviter,
    expired_invitations_read_as_expired_at_once_and_answer_410,
    resend_replaces_the_token_and_can_change_the_expiry,
    cancel_only_while_pending,
    invitation_grant_rules_and_input_checks,
    verified_invitees_act_from_their_invitation_list,
    concurrent_accept_decline_and_cancel_have_one_winner,
    the_seed_page_end_to_end_over_http,
    registering_normally_after_the_invitation_then_accepting_joins,
    troubleshooting_user_not_found_when_searching,
    troubleshooting_user_cannot_see_a_site,
    troubleshooting_user_can_see_but_cannot_edit,
    troubleshooting_cannot_find_the_invite_button,
    deleting_an_estate_kills_its_invitation_links,
);

async fn user_search_matches_one_verified_non_member_by_exact_email(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let sam = app.register_verified("sam").await;
    let bob = app.register("bob").await;
    let id = estate(&app, &owner).await;
    let search = |email: &str| format!("/api/v1/estates/{id}/user-search?email={email}");
    let found = app
        .get(&search("SAM%40Example.com"), Some(&owner.token))
        .await;
    found.assert_status(200);
    assert_eq!(found.body["user"]["id"], sam.id.as_str());
    assert_eq!(found.body["user"]["email"], "sam@example.com");
    let missing = app.get(&search("sam%40example"), Some(&owner.token)).await;
    missing.assert_problem(404, "user_not_found");
    app.get(&search("sam"), Some(&owner.token))
        .await
        .assert_problem(404, "user_not_found");
    app.get(&search("bob%40example.com"), Some(&owner.token))
        .await
        .assert_problem(404, "user_not_found");
    // Once a member, the same 404 as for nobody.
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "sam@example.com", "role": "editor"}),
    )
    .await
    .assert_status(201);
    let member = app
        .get(&search("sam%40example.com"), Some(&owner.token))
        .await;
    member.assert_problem(404, "user_not_found");
    assert_eq!(member.body, missing.body);
    // Only those who may grant estate roles search.
    app.get(&search("owner%40example.com"), Some(&sam.token))
        .await
        .assert_problem(403, "insufficient_role");
    app.get(&search("sam%40example.com"), Some(&bob.token))
        .await
        .assert_problem(404, "estate_not_found");
    app.get(
        &format!("/api/v1/estates/{id}/user-search"),
        Some(&owner.token),
    )
    .await
    .assert_problem(422, "validation_failed");
}

async fn inviting_a_verified_user_grants_at_once_without_email(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let sam = app.register_verified("sam").await;
    let id = estate(&app, &owner).await;
    let r = invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "Sam@Example.com", "role": "editor"}),
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.body["outcome"], "granted");
    assert_eq!(r.body["member"]["role"], "editor");
    assert_eq!(r.body["member"]["user"]["id"], sam.id.as_str());
    let mine = app.get("/api/v1/estates", Some(&sam.token)).await;
    assert_eq!(mine.body["items"][0]["id"], id.as_str());
    assert_eq!(mine.body["items"][0]["my_role"], "editor");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.emails_to("sam@example.com", "invited you").is_empty());
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "sam@example.com", "role": "viewer"}),
    )
    .await
    .assert_problem(409, "already_member");
}

async fn an_outsider_signs_up_through_the_emailed_link_and_lands_in_the_estate(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = estate(&app, &owner).await;
    let r = invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "new@example.com", "role": "viewer", "message": "See you <b>soon</b>"}),
    )
    .await;
    r.assert_status(202);
    let inv = &r.body["invitation"];
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["estate"]["name"], "Riverside");
    assert_eq!(inv["invited_by"]["username"], "owner");
    assert!(inv["expires_at"].is_null());
    let mail = app.wait_for_email("new@example.com", "invited you").await;
    assert!(mail.subject.contains("Riverside"), "{}", mail.subject);
    assert!(
        mail.link()
            .starts_with("http://keyholder.test/invitations/accept#token=")
    );
    assert!(
        mail.body.contains("as viewer") && mail.body.contains("> See you <b>soon</b>"),
        "{}",
        mail.body
    );
    let token = mail.token();
    let preview = app
        .post("/api/v1/invitations/preview", None, json!({"token": token}))
        .await;
    preview.assert_status(200);
    assert_eq!(preview.body["resource_type"], "estate");
    assert_eq!(preview.body["resource"]["name"], "Riverside");
    assert_eq!(preview.body["role"], "viewer");
    assert_eq!(preview.body["status"], "pending");
    assert_eq!(preview.body["invited_by"]["display_name"], "owner");
    let signed = app
        .post(
            "/api/v1/invitations/accept-signup",
            None,
            json!({"token": token, "username": "newbie", "password": PASSWORD}),
        )
        .await;
    signed.assert_status(201);
    assert_eq!(signed.body["user"]["email"], "new@example.com");
    assert_eq!(signed.body["user"]["email_verified"], true);
    let new_token = signed.body["access_token"].as_str().expect("token");
    let mine = app.get("/api/v1/estates", Some(new_token)).await;
    assert_eq!(mine.body["items"][0]["id"], id.as_str());
    assert_eq!(mine.body["items"][0]["my_role"], "viewer");
    let list = app
        .get(
            &format!("/api/v1/estates/{id}/invitations?status=accepted"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(list.body["total"], 1);
    assert!(list.body["items"][0]["responded_at"].is_string());
    app.wait_for_email("owner@example.com", "accepted your invitation")
        .await;
    let again = app
        .post(
            "/api/v1/invitations/accept-signup",
            None,
            json!({"token": token, "username": "other", "password": PASSWORD}),
        )
        .await;
    again.assert_problem(409, "invitation_not_pending");
    assert_eq!(again.body["invitation_status"], "accepted");
    app.post(
        "/api/v1/invitations/preview",
        None,
        json!({"token": "nope"}),
    )
    .await
    .assert_problem(404, "invitation_not_found");
}

async fn a_registered_but_unverified_user_accepts_with_the_token(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let bob = app.register("bob").await;
    let id = estate(&app, &owner).await;
    // Unverified accounts do not count as registered: an email goes out.
    let (_, token) = invite_outsider(&app, &owner, &id, "bob@example.com", "editor").await;
    let r = app
        .post(
            "/api/v1/invitations/accept",
            Some(&bob.token),
            json!({"token": token}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "accepted");
    assert_eq!(r.body["role"], "editor");
    assert_eq!(r.body["resource"]["name"], "Riverside");
    let me = app.get("/api/v1/me", Some(&bob.token)).await;
    assert_eq!(
        me.body["email_verified"], true,
        "the token proved the inbox"
    );
    let e = app
        .get(&format!("/api/v1/estates/{id}"), Some(&bob.token))
        .await;
    assert_eq!(e.body["my_role"], "editor");
    app.post("/api/v1/invitations/accept", None, json!({"token": token}))
        .await
        .assert_problem(401, "missing_token");
}

async fn accept_signup_for_an_existing_email_is_409(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = estate(&app, &owner).await;
    let (_, token) = invite_outsider(&app, &owner, &id, "bob@example.com", "viewer").await;
    // Bob registers and verifies the address after the invitation was sent.
    app.register_verified("bob").await;
    app.post(
        "/api/v1/invitations/accept-signup",
        None,
        json!({"token": token, "username": "bob2", "password": PASSWORD}),
    )
    .await
    .assert_problem(409, "email_registered");
    let weak = app
        .post(
            "/api/v1/invitations/accept-signup",
            None,
            json!({"token": token, "username": "x", "password": "short"}),
        )
        .await;
    weak.assert_problem(422, "validation_failed");
    assert!(
        weak.body["errors"]["username"].is_string() && weak.body["errors"]["password"].is_string()
    );
    app.post(
        "/api/v1/invitations/accept-signup",
        None,
        json!({"token": "unknown", "username": "x", "password": "short"}),
    )
    .await
    .assert_problem(404, "invitation_not_found");
}

async fn accepting_with_another_account_is_403_and_stays_pending(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let mallory = app.register_verified("mallory").await;
    let id = estate(&app, &owner).await;
    let (_, token) = invite_outsider(&app, &owner, &id, "carol@example.com", "editor").await;
    app.post(
        "/api/v1/invitations/accept",
        Some(&mallory.token),
        json!({"token": token}),
    )
    .await
    .assert_problem(403, "invitation_email_mismatch");
    app.get(&format!("/api/v1/estates/{id}"), Some(&mallory.token))
        .await
        .assert_problem(404, "estate_not_found");
    let preview = app
        .post("/api/v1/invitations/preview", None, json!({"token": token}))
        .await;
    assert_eq!(preview.body["status"], "pending");
}

async fn declining_by_token_tells_the_inviter(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = estate(&app, &owner).await;
    let (_, token) = invite_outsider(&app, &owner, &id, "dan@example.com", "viewer").await;
    let r = app
        .post("/api/v1/invitations/decline", None, json!({"token": token}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "declined");
    app.wait_for_email("owner@example.com", "declined your invitation")
        .await;
    let again = app
        .post(
            "/api/v1/invitations/accept-signup",
            None,
            json!({"token": token, "username": "dan", "password": PASSWORD}),
        )
        .await;
    again.assert_problem(409, "invitation_not_pending");
    assert_eq!(again.body["invitation_status"], "declined");
    let list = app
        .get(
            &format!("/api/v1/estates/{id}/invitations?status=declined"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(list.body["total"], 1);
}

async fn expired_invitations_read_as_expired_at_once_and_answer_410(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = estate(&app, &owner).await;
    let at = (Utc::now() + Duration::minutes(10)).to_rfc3339();
    let r = invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "late@example.com", "role": "viewer", "expires_at": at}),
    )
    .await;
    r.assert_status(202);
    let inv_id = r.body["invitation"]["id"].as_str().expect("id").to_owned();
    let token = app
        .wait_for_email("late@example.com", "invited you")
        .await
        .token();
    app.clock.advance(Duration::minutes(20));
    let preview = app
        .post("/api/v1/invitations/preview", None, json!({"token": token}))
        .await;
    assert_eq!(preview.body["status"], "expired");
    app.post("/api/v1/invitations/decline", None, json!({"token": token}))
        .await
        .assert_problem(410, "invitation_expired");
    app.post(
        "/api/v1/invitations/accept-signup",
        None,
        json!({"token": token, "username": "late", "password": PASSWORD}),
    )
    .await
    .assert_problem(410, "invitation_expired");
    let resend = app
        .post(
            &format!("/api/v1/estates/{id}/invitations/{inv_id}/resend"),
            Some(&owner.token),
            json!({}),
        )
        .await;
    resend.assert_problem(409, "invitation_not_pending");
    assert_eq!(resend.body["invitation_status"], "expired");
    let expired = app
        .get(
            &format!("/api/v1/estates/{id}/invitations?status=expired"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(expired.body["total"], 1);
    let pending = app
        .get(
            &format!("/api/v1/estates/{id}/invitations?status=pending"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(pending.body["total"], 0);
    // The sweeper writes the state, with an audit event.
    let sweep = || {
        keyholder_tests::keyholder_api::ops::invitations::respond::sweep_expired(
            &app.app_state.db,
            app.clock.now(),
        )
    };
    assert_eq!(sweep().expect("sweep"), 1);
    assert_eq!(sweep().expect("sweep"), 0, "written once");
    let events = app.with_db(|c| keyholder_store::audit::for_target(c, "estate", &id));
    let expired = events
        .iter()
        .find(|e| e.action == "invitation.expired")
        .expect("an expiry event");
    assert!(expired.actor_id.is_none());
    assert_eq!(
        expired.after.as_ref().expect("after")["invitation_id"],
        inv_id.as_str()
    );
    // A new invitation to the same email is allowed.
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "late@example.com", "role": "viewer"}),
    )
    .await
    .assert_status(202);
    app.post(
        &format!("/api/v1/estates/{id}/invitations"),
        Some(&owner.token),
        json!({"email": "x@example.com", "role": "viewer", "expires_at": (Utc::now() - Duration::hours(1)).to_rfc3339()}),
    )
    .await
    .assert_problem(422, "validation_failed");
}

async fn resend_replaces_the_token_and_can_change_the_expiry(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = estate(&app, &owner).await;
    let (inv, old) = invite_outsider(&app, &owner, &id, "eve@example.com", "editor").await;
    let path = format!("/api/v1/estates/{id}/invitations/{inv}/resend");
    let at = (Utc::now() + Duration::days(3)).to_rfc3339();
    let r = app
        .post(&path, Some(&owner.token), json!({"expires_at": at}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["resend_count"], 1);
    assert!(r.body["expires_at"].is_string());
    let new = app
        .wait_for_nth_email("eve@example.com", "invited you", 2)
        .await
        .token();
    assert_ne!(old, new);
    app.post("/api/v1/invitations/preview", None, json!({"token": old}))
        .await
        .assert_problem(404, "invitation_not_found");
    app.post("/api/v1/invitations/preview", None, json!({"token": new}))
        .await
        .assert_status(200);
    // No body keeps the expiry; null clears it; the past is refused.
    let kept = app
        .request(reqwest::Method::POST, &path, Some(&owner.token), None)
        .await;
    kept.assert_status(200);
    assert_eq!(kept.body["expires_at"], r.body["expires_at"]);
    let never = app
        .post(&path, Some(&owner.token), json!({"expires_at": null}))
        .await;
    assert!(never.body["expires_at"].is_null());
    app.post(
        &path,
        Some(&owner.token),
        json!({"expires_at": (Utc::now() - Duration::hours(1)).to_rfc3339()}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(&path, Some(&owner.token), json!({"expires_at": "tomorrow"}))
        .await
        .assert_problem(422, "validation_failed");
}

async fn cancel_only_while_pending(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = estate(&app, &owner).await;
    let (inv, token) = invite_outsider(&app, &owner, &id, "fay@example.com", "viewer").await;
    let path = format!("/api/v1/estates/{id}/invitations/{inv}/cancel");
    let r = app.post(&path, Some(&owner.token), json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "cancelled");
    let again = app.post(&path, Some(&owner.token), json!({})).await;
    again.assert_problem(409, "invitation_not_pending");
    assert_eq!(again.body["invitation_status"], "cancelled");
    app.post("/api/v1/invitations/decline", None, json!({"token": token}))
        .await
        .assert_problem(409, "invitation_not_pending");
    let other = estate(&app, &owner).await;
    app.post(
        &format!("/api/v1/estates/{other}/invitations/{inv}/cancel"),
        Some(&owner.token),
        json!({}),
    )
    .await
    .assert_problem(404, "invitation_not_found");
}

async fn invitation_grant_rules_and_input_checks(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let admin = app.register_verified("admin").await;
    let editor = app.register_verified("editor").await;
    let id = estate(&app, &owner).await;
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "admin@example.com", "role": "admin"}),
    )
    .await
    .assert_status(201);
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "editor@example.com", "role": "editor"}),
    )
    .await
    .assert_status(201);
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "x@example.com", "role": "owner"}),
    )
    .await
    .assert_problem(403, "owner_transfer_required");
    invite(
        &app,
        &admin.token,
        &id,
        json!({"email": "x@example.com", "role": "admin"}),
    )
    .await
    .assert_problem(403, "cannot_grant_role");
    invite(
        &app,
        &admin.token,
        &id,
        json!({"email": "x@example.com", "role": "editor"}),
    )
    .await
    .assert_status(202);
    invite(
        &app,
        &admin.token,
        &id,
        json!({"email": "X@example.com", "role": "viewer"}),
    )
    .await
    .assert_problem(409, "invitation_pending");
    invite(
        &app,
        &editor.token,
        &id,
        json!({"email": "y@example.com", "role": "viewer"}),
    )
    .await
    .assert_problem(403, "insufficient_role");
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "owner@example.com", "role": "viewer"}),
    )
    .await
    .assert_problem(422, "self_invitation");
    let bad = invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "nope", "role": "chief", "message": "m".repeat(1001)}),
    )
    .await;
    bad.assert_problem(422, "validation_failed");
    for field in ["email", "role", "message"] {
        assert!(
            bad.body["errors"][field].is_string(),
            "{field}: {}",
            bad.text
        );
    }
    app.get(
        &format!("/api/v1/estates/{id}/invitations"),
        Some(&editor.token),
    )
    .await
    .assert_problem(403, "insufficient_role");
    app.get(
        &format!("/api/v1/estates/{id}/invitations?status=maybe"),
        Some(&owner.token),
    )
    .await
    .assert_problem(422, "validation_failed");
    // An admin cannot cancel an invitation they could not have sent.
    let r = invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "boss@example.com", "role": "admin"}),
    )
    .await;
    let inv = r.body["invitation"]["id"].as_str().expect("id");
    app.post(
        &format!("/api/v1/estates/{id}/invitations/{inv}/cancel"),
        Some(&admin.token),
        json!({}),
    )
    .await
    .assert_problem(403, "cannot_grant_role");
}

async fn verified_invitees_act_from_their_invitation_list(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let gus = app.register("gus").await;
    let id = estate(&app, &owner).await;
    let (inv, _) = invite_outsider(&app, &owner, &id, "gus@example.com", "editor").await;
    app.get("/api/v1/me/invitations", Some(&gus.token))
        .await
        .assert_problem(403, "email_not_verified");
    let mail = app
        .wait_for_email("gus@example.com", "Confirm your email")
        .await;
    app.post(
        "/api/v1/auth/verify-email",
        None,
        json!({"token": mail.token()}),
    )
    .await
    .assert_status(200);
    let list = app.get("/api/v1/me/invitations", Some(&gus.token)).await;
    list.assert_status(200);
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["id"], inv.as_str());
    assert_eq!(list.body["items"][0]["resource"]["name"], "Riverside");
    let stranger = app.register_verified("stranger").await;
    app.post(
        &format!("/api/v1/me/invitations/{inv}/accept"),
        Some(&stranger.token),
        json!({}),
    )
    .await
    .assert_problem(404, "invitation_not_found");
    let r = app
        .post(
            &format!("/api/v1/me/invitations/{inv}/accept"),
            Some(&gus.token),
            json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["role"], "editor");
    assert_eq!(
        app.get("/api/v1/me/invitations", Some(&gus.token))
            .await
            .body["total"],
        0
    );
    // Now verified, Gus counts as registered: the next estate grants at once.
    let other = app
        .post(
            "/api/v1/estates",
            Some(&owner.token),
            json!({"name": "Second"}),
        )
        .await;
    let other_id = other.body["id"].as_str().expect("id");
    let granted = invite(
        &app,
        &owner.token,
        other_id,
        json!({"email": "gus@example.com", "role": "viewer"}),
    )
    .await;
    granted.assert_status(201);
    assert_eq!(granted.body["outcome"], "granted");
}

async fn concurrent_accept_decline_and_cancel_have_one_winner(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let hal = app.register("hal").await;
    let id = estate(&app, &owner).await;
    let (inv, token) = invite_outsider(&app, &owner, &id, "hal@example.com", "editor").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let client = app.client.clone();
        let base = app.address.clone();
        let (token, owner_token, hal_token, id, inv) = (
            token.clone(),
            owner.token.clone(),
            hal.token.clone(),
            id.clone(),
            inv.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let req = match i % 3 {
                0 => client
                    .post(format!("{base}/api/v1/invitations/accept"))
                    .bearer_auth(hal_token)
                    .json(&json!({"token": token})),
                1 => client
                    .post(format!("{base}/api/v1/invitations/decline"))
                    .json(&json!({"token": token})),
                _ => client
                    .post(format!(
                        "{base}/api/v1/estates/{id}/invitations/{inv}/cancel"
                    ))
                    .bearer_auth(owner_token)
                    .json(&json!({})),
            };
            req.send().await.expect("answer").status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("join"));
    }
    let wins = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(wins, 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    let members = app
        .get(&format!("/api/v1/estates/{id}/members"), Some(&owner.token))
        .await;
    let hal_rows = members.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|m| m["user"]["id"] == hal.id.as_str())
        .count();
    let preview = app
        .post("/api/v1/invitations/preview", None, json!({"token": token}))
        .await;
    let status = preview.body["status"].as_str().expect("status");
    assert_eq!(hal_rows, usize::from(status == "accepted"), "{status}");
}

async fn the_seed_page_end_to_end_over_http(app: TestApp) {
    let owner = app.register_verified("olivia").await;
    let colleague = app.register_verified("colin").await;
    let id = estate(&app, &owner).await;
    let mut sites = Vec::new();
    for name in ["North", "South", "East"] {
        let r = app
            .post(
                &format!("/api/v1/estates/{id}/sites"),
                Some(&owner.token),
                json!({"name": name}),
            )
            .await;
        sites.push(r.body["id"].as_str().expect("id").to_owned());
    }
    // Invite User: search, then invite the registered colleague as editor.
    let found = app
        .get(
            &format!("/api/v1/estates/{id}/user-search?email=colin%40example.com"),
            Some(&owner.token),
        )
        .await;
    found.assert_status(200);
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "colin@example.com", "role": "editor"}),
    )
    .await
    .assert_status(201);
    // And an outsider by email.
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "oscar@example.com", "role": "viewer"}),
    )
    .await
    .assert_status(202);
    // Site-specific access: admin at North, viewer at South, default at East.
    let saved = app
        .put(
            &format!("/api/v1/estates/{id}/members/{}", colleague.id),
            Some(&owner.token),
            json!({"role": "editor", "sites": [{"site_id": sites[0], "role": "admin"}, {"site_id": sites[1], "role": "viewer"}]}),
        )
        .await;
    saved.assert_status(200);
    let effective = |site: &str| {
        let site = site.to_owned();
        let body = saved.body.clone();
        move || {
            body["sites"]
                .as_array()
                .expect("sites")
                .iter()
                .find(|s| s["site_id"] == site.as_str())
                .expect("site")["effective_role"]
                .clone()
        }
    };
    assert_eq!(effective(&sites[0])(), "admin");
    assert_eq!(effective(&sites[1])(), "viewer");
    assert_eq!(effective(&sites[2])(), "editor");
    // The outsider signs up through the emailed link and lands in the estate.
    let token = app
        .wait_for_email("oscar@example.com", "invited you")
        .await
        .token();
    let signed = app
        .post(
            "/api/v1/invitations/accept-signup",
            None,
            json!({"token": token, "username": "oscar", "password": PASSWORD}),
        )
        .await;
    signed.assert_status(201);
    let oscar = signed.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let estates = app.get("/api/v1/estates", Some(&oscar)).await;
    assert_eq!(estates.body["items"][0]["my_role"], "viewer");
    let oscar_id = signed.body["user"]["id"].as_str().expect("id").to_owned();
    // Every forbidden grant is refused with a reason.
    let colin_site_admin = app
        .put(
            &format!("/api/v1/sites/{}/members/{oscar_id}", sites[0]),
            Some(&colleague.token),
            json!({"role": "admin"}),
        )
        .await;
    colin_site_admin.assert_problem(403, "cannot_grant_role");
    assert!(
        colin_site_admin.body["detail"]
            .as_str()
            .expect("detail")
            .contains("only the owner grants admin")
    );
    app.put(
        &format!("/api/v1/sites/{}/members/{oscar_id}", sites[0]),
        Some(&colleague.token),
        json!({"role": "editor"}),
    )
    .await
    .assert_status(200);
    app.put(
        &format!("/api/v1/sites/{}/members/{oscar_id}", sites[1]),
        Some(&colleague.token),
        json!({"role": "editor"}),
    )
    .await
    .assert_problem(403, "insufficient_role");
    app.put(
        &format!("/api/v1/estates/{id}/members/{oscar_id}"),
        Some(&colleague.token),
        json!({"role": "editor"}),
    )
    .await
    .assert_problem(403, "insufficient_role");
    app.put(
        &format!("/api/v1/estates/{id}/members/{}", colleague.id),
        Some(&colleague.token),
        json!({"role": "admin"}),
    )
    .await
    .assert_problem(403, "self_role_change");
    // Oscar is an estate viewer: the editor override at North still only views.
    let north = app
        .get(&format!("/api/v1/sites/{}", sites[0]), Some(&oscar))
        .await;
    assert_eq!(north.body["effective_role"], "viewer");
}

async fn registering_normally_after_the_invitation_then_accepting_joins(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = estate(&app, &owner).await;
    let (_, token) = invite_outsider(&app, &owner, &id, "kim@example.com", "editor").await;
    let kim = app.register("kim").await;
    app.post(
        "/api/v1/invitations/accept",
        Some(&kim.token),
        json!({"token": token}),
    )
    .await
    .assert_status(200);
    let e = app
        .get(&format!("/api/v1/estates/{id}"), Some(&kim.token))
        .await;
    assert_eq!(e.body["my_role"], "editor");
}

async fn troubleshooting_user_not_found_when_searching(app: TestApp) {
    let owner = app.register_verified("owner").await;
    app.register_verified("pat").await;
    let id = estate(&app, &owner).await;
    let search = |q: &str| format!("/api/v1/estates/{id}/user-search?email={q}");
    // Check the email spelling: search is exact match.
    app.get(&search("pat%40example.co"), Some(&owner.token))
        .await
        .assert_problem(404, "user_not_found");
    app.get(&search("pa%40example.com"), Some(&owner.token))
        .await
        .assert_problem(404, "user_not_found");
    // The user may not be registered: they need an account first.
    app.get(&search("nobody%40example.com"), Some(&owner.token))
        .await
        .assert_problem(404, "user_not_found");
    // The user may already have access.
    app.get(&search("pat%40example.com"), Some(&owner.token))
        .await
        .assert_status(200);
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "pat@example.com", "role": "viewer"}),
    )
    .await
    .assert_status(201);
    app.get(&search("pat%40example.com"), Some(&owner.token))
        .await
        .assert_problem(404, "user_not_found");
}

async fn troubleshooting_user_cannot_see_a_site(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let quinn = app.register_verified("quinn").await;
    let id = estate(&app, &owner).await;
    let site = app
        .post(
            &format!("/api/v1/estates/{id}/sites"),
            Some(&owner.token),
            json!({"name": "Depot"}),
        )
        .await;
    let site = site.body["id"].as_str().expect("id").to_owned();
    // Do they have estate access? Without it, no site.
    app.get(&format!("/api/v1/sites/{site}"), Some(&quinn.token))
        .await
        .assert_problem(404, "site_not_found");
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "quinn@example.com", "role": "viewer"}),
    )
    .await
    .assert_status(201);
    let seen = app
        .get(&format!("/api/v1/sites/{site}"), Some(&quinn.token))
        .await;
    seen.assert_status(200);
    // What's their role? Viewers can only view.
    assert_eq!(seen.body["effective_role"], "viewer");
    // Do they have site access? The site's user list shows it.
    app.put(
        &format!("/api/v1/sites/{site}/members/{}", quinn.id),
        Some(&owner.token),
        json!({"role": "none"}),
    )
    .await
    .assert_status(200);
    let list = app
        .get(&format!("/api/v1/sites/{site}/members"), Some(&owner.token))
        .await;
    let row = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["user"]["id"] == quinn.id.as_str())
        .cloned()
        .expect("row");
    assert_eq!(row["override"], "none");
    assert!(row["effective_role"].is_null());
    app.get(&format!("/api/v1/sites/{site}"), Some(&quinn.token))
        .await
        .assert_problem(404, "site_not_found");
}

async fn troubleshooting_user_can_see_but_cannot_edit(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let rae = app.register_verified("rae").await;
    let id = estate(&app, &owner).await;
    let site = app
        .post(
            &format!("/api/v1/estates/{id}/sites"),
            Some(&owner.token),
            json!({"name": "Depot"}),
        )
        .await;
    let site = site.body["id"].as_str().expect("id").to_owned();
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "rae@example.com", "role": "viewer"}),
    )
    .await
    .assert_status(201);
    app.put(
        &format!("/api/v1/sites/{site}/members/{}", rae.id),
        Some(&owner.token),
        json!({"role": "editor"}),
    )
    .await
    .assert_status(200);
    // Even with Site Editor, an Estate Viewer can only view.
    let s = app
        .get(&format!("/api/v1/sites/{site}"), Some(&rae.token))
        .await;
    assert_eq!(s.body["effective_role"], "viewer");
    // Fix: change their estate role to Editor.
    app.put(
        &format!("/api/v1/estates/{id}/members/{}", rae.id),
        Some(&owner.token),
        json!({"role": "editor"}),
    )
    .await
    .assert_status(200);
    let s = app
        .get(&format!("/api/v1/sites/{site}"), Some(&rae.token))
        .await;
    assert_eq!(s.body["effective_role"], "editor");
}

async fn troubleshooting_cannot_find_the_invite_button(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let sid = app.register_verified("sid").await;
    let id = estate(&app, &owner).await;
    for role in ["viewer", "editor"] {
        invite(
            &app,
            &owner.token,
            &id,
            json!({"email": "sid@example.com", "role": role}),
        )
        .await;
        app.put(
            &format!("/api/v1/estates/{id}/members/{}", sid.id),
            Some(&owner.token),
            json!({"role": role}),
        )
        .await
        .assert_status(200);
        // Admin role or higher is needed to invite.
        invite(
            &app,
            &sid.token,
            &id,
            json!({"email": "t@example.com", "role": "viewer"}),
        )
        .await
        .assert_problem(403, "insufficient_role");
        app.get(
            &format!("/api/v1/estates/{id}/user-search?email=owner%40example.com"),
            Some(&sid.token),
        )
        .await
        .assert_problem(403, "insufficient_role");
    }
    app.put(
        &format!("/api/v1/estates/{id}/members/{}", sid.id),
        Some(&owner.token),
        json!({"role": "admin"}),
    )
    .await
    .assert_status(200);
    invite(
        &app,
        &sid.token,
        &id,
        json!({"email": "t@example.com", "role": "viewer"}),
    )
    .await
    .assert_status(202);
}

async fn deleting_an_estate_kills_its_invitation_links(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = estate(&app, &owner).await;
    let (_, token) = invite_outsider(&app, &owner, &id, "ivy@example.com", "viewer").await;
    app.delete(&format!("/api/v1/estates/{id}"), Some(&owner.token))
        .await
        .assert_status(204);
    app.post("/api/v1/invitations/preview", None, json!({"token": token}))
        .await
        .assert_problem(404, "invitation_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_rate_limited_per_user_and_per_day() {
    let app = TestApp::spawn_with(keyholder_tests::Backend::Sqlite, |c| {
        c.action_rate_limit = 3;
        c.invite_daily_limit = 2;
    })
    .await;
    let owner = app.register_verified("owner").await;
    let id = estate(&app, &owner).await;
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "a1@example.com", "role": "viewer"}),
    )
    .await
    .assert_status(202);
    invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "a2@example.com", "role": "viewer"}),
    )
    .await
    .assert_status(202);
    let daily = invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "a3@example.com", "role": "viewer"}),
    )
    .await;
    daily.assert_problem(429, "daily_invitation_limit");
    let limited = invite(
        &app,
        &owner.token,
        &id,
        json!({"email": "a4@example.com", "role": "viewer"}),
    )
    .await;
    limited.assert_problem(429, "rate_limited");
    assert!(limited.header("retry-after").is_some());
}

// ---------------------------------------------------------------- keyset paging

mod paging {
    use std::collections::HashSet;

    use chrono::{DateTime, Duration, Utc};
    use keyholder_store::invitations::{self, NewInvitation, ResourceType};
    use keyholder_tests::{Session, TestApp, on_both_backends};
    use serde_json::Value;
    use uuid::Uuid;

    on_both_backends!(
        estate_invitations_walk_by_cursor_newest_first,
        my_invitations_walk_by_cursor_newest_first,
    );

    fn id(s: &str) -> Uuid {
        Uuid::parse_str(s).expect("uuid")
    }

    /// Pending invitations written straight to the database, so that their
    /// times tie: `(resource type, resource, email, invited_at)`.
    fn seed(app: &TestApp, by: &Session, rows: &[(ResourceType, &str, &str, DateTime<Utc>)]) {
        let by = id(&by.id);
        app.app_state
            .db
            .write(|c| {
                for (kind, resource, email, at) in rows {
                    let token = Uuid::new_v4().to_string();
                    let role = match kind {
                        ResourceType::Estate => "viewer",
                        ResourceType::Asset => "view",
                    };
                    invitations::insert(
                        c,
                        &NewInvitation {
                            resource_type: *kind,
                            resource_id: id(resource),
                            email,
                            role,
                            message: None,
                            token_hash: &token,
                            invited_by: by,
                            expires_at: None,
                            access_expires_at: None,
                        },
                        *at,
                    )?
                    .expect("not already pending");
                }
                Ok::<_, keyholder_store::StoreError>(())
            })
            .expect("seeded invitations");
    }

    fn ids(items: &[Value]) -> Vec<String> {
        items
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_owned())
            .collect()
    }

    /// Newest first, then by id descending.
    fn newest_first(items: &[Value]) -> Vec<String> {
        let mut sorted = items.to_vec();
        let at = |v: &Value| {
            DateTime::parse_from_rfc3339(v["invited_at"].as_str().expect("invited_at"))
                .expect("rfc 3339")
                .to_utc()
        };
        sorted.sort_by(|a, b| {
            at(b)
                .cmp(&at(a))
                .then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
        });
        ids(&sorted)
    }

    async fn check_walk(app: &TestApp, token: &str, path: &str, n: usize) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let full = app
            .get(&format!("{path}{sep}per_page=100"), Some(token))
            .await;
        full.assert_status(200);
        let all = full.body["items"].as_array().expect("items").clone();
        assert_eq!(all.len(), n, "{path}");
        assert_eq!(full.body["total"], n, "{path}");
        assert_eq!(full.body["total_exact"], true);
        assert!(full.body["next_cursor"].is_null());
        assert_eq!(ids(&all), newest_first(&all), "{path}");
        for per_page in [2, 3] {
            let (walked, pages) = app.walk(token, path, per_page).await;
            assert_eq!(ids(&walked), ids(&all), "{path} per_page={per_page}");
            assert_eq!(pages, n.div_ceil(per_page), "{path} per_page={per_page}");
            let unique: HashSet<String> = ids(&walked).into_iter().collect();
            assert_eq!(unique.len(), n);
        }
        for bad in [
            "garbage",
            "e30",
            "eyJrIjoiYUBleGFtcGxlLmNvbSIsImkiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAifQ",
        ] {
            let r = app
                .get(&format!("{path}{sep}cursor={bad}"), Some(token))
                .await;
            r.assert_problem(422, "validation_failed");
            assert!(!r.body["errors"]["cursor"].is_null(), "{}", r.text);
        }
    }

    async fn estate_invitations_walk_by_cursor_newest_first(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let estate = app.create_estate(&owner, "Riverside").await;
        let other = app.create_estate(&owner, "Elsewhere").await;
        let t0 = Utc::now() - Duration::hours(1);
        let s = Duration::seconds;
        let e = ResourceType::Estate;
        seed(
            &app,
            &owner,
            &[
                (e, &estate, "alpha@example.com", t0),
                (e, &estate, "bravo@example.com", t0),
                (e, &estate, "charlie@example.com", t0 + s(1)),
                (e, &estate, "delta@example.com", t0),
                (e, &estate, "echo@example.com", t0 + s(1)),
                (e, &estate, "foxtrot@example.com", t0 + s(2)),
                (e, &other, "golf@example.com", t0),
            ],
        );
        let path = format!("/api/v1/estates/{estate}/invitations");
        check_walk(&app, &owner.token, &path, 6).await;
        // Cancel two: the status filter walks the same way.
        let all = app
            .get(&format!("{path}?per_page=100"), Some(&owner.token))
            .await;
        for inv in &all.body["items"].as_array().expect("items")[1..3] {
            let inv = inv["id"].as_str().expect("id");
            app.post(
                &format!("/api/v1/estates/{estate}/invitations/{inv}/cancel"),
                Some(&owner.token),
                serde_json::json!({}),
            )
            .await
            .assert_status(200);
        }
        check_walk(&app, &owner.token, &format!("{path}?status=pending"), 4).await;
        check_walk(&app, &owner.token, &format!("{path}?status=cancelled"), 2).await;
        // An outsider: 404 before any cursor check.
        let outsider = app.register_verified("outsider").await;
        app.get(&format!("{path}?cursor=garbage"), Some(&outsider.token))
            .await
            .assert_status(404);
    }

    async fn my_invitations_walk_by_cursor_newest_first(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let gus = app.register_verified("gus").await;
        let t0 = Utc::now() - Duration::hours(1);
        let s = Duration::seconds;
        let mut rows = Vec::new();
        let mut resources = Vec::new();
        for n in 0..3 {
            resources.push((
                ResourceType::Estate,
                app.create_estate(&owner, &format!("Estate {n}")).await,
            ));
            resources.push((
                ResourceType::Asset,
                app.create_asset(&owner, serde_json::json!({"name": format!("Van {n}")}))
                    .await,
            ));
        }
        let times = [t0, t0, t0 + s(1), t0, t0 + s(2), t0 + s(1)];
        for ((kind, resource), at) in resources.iter().zip(times) {
            rows.push((*kind, resource.as_str(), gus.email.as_str(), at));
        }
        // Another address's invitation is not mine.
        rows.push((
            ResourceType::Estate,
            resources[0].1.as_str(),
            "zed@example.com",
            t0,
        ));
        seed(&app, &owner, &rows);
        check_walk(&app, &gus.token, "/api/v1/me/invitations", 6).await;
    }
}
