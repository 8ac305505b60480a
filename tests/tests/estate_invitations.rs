//! User search and estate invitations: granted at once for registered users,
//! emailed sign-up links for everyone else, and the whole lifecycle of the
//! token, on both databases.

use chrono::{Duration, Utc};
use keyholder_tests::{Invited, NOBODY, PASSWORD, TestApp, an_hour_ago, ids, on_both_backends};
use serde_json::json;

async fn user_search_matches_one_verified_non_member_by_exact_email(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let sam = app.register_verified("sam").await;
    let bob = app.register("bob").await;
    let found = app.try_user_search(&owner, &id, "?email=SAM%40Example.com").await;
    found.assert_status(200);
    assert_eq!(found.body["user"]["id"], sam.id.as_str());
    assert_eq!(found.body["user"]["email"], "sam@example.com");
    let missing = app.try_user_search(&owner, &id, "?email=sam%40example").await;
    missing.assert_problem(404, "user_not_found");
    for query in ["?email=sam", "?email=bob%40example.com"] {
        app.try_user_search(&owner, &id, query).await.assert_problem(404, "user_not_found");
    }
    // Once a member, the same 404 as for nobody.
    app.try_invite(&owner, &id, "sam@example.com", "editor").await.assert_status(201);
    let member = app.try_user_search(&owner, &id, "?email=sam%40example.com").await;
    member.assert_problem(404, "user_not_found");
    assert_eq!(member.body, missing.body);
    // Only those who may grant estate roles search.
    let refused = [
        (&sam, "?email=owner%40example.com", 403, "insufficient_role"),
        (&bob, "?email=sam%40example.com", 404, "estate_not_found"),
        (&owner, "", 422, "validation_failed"),
    ];
    for (by, query, status, code) in refused {
        app.try_user_search(by, &id, query).await.assert_problem(status, code);
    }
}

async fn inviting_a_verified_user_grants_at_once_without_email(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let sam = app.register_verified("sam").await;
    let r = app.try_invite(&owner, &id, "Sam@Example.com", "editor").await;
    r.assert_status(201);
    assert_eq!(r.body["outcome"], "granted");
    assert_eq!(r.body["member"]["role"], "editor");
    assert_eq!(r.body["member"]["user"]["id"], sam.id.as_str());
    let mine = app.try_estates(&sam, "").await;
    assert_eq!(mine.body["items"][0]["id"], id.as_str());
    assert_eq!(mine.body["items"][0]["my_role"], "editor");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.emails_to("sam@example.com", "invited you").is_empty());
    app.try_invite(&owner, &id, "sam@example.com", "viewer")
        .await
        .assert_problem(409, "already_member");
}

async fn an_outsider_signs_up_through_the_emailed_link_and_lands_in_the_estate(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let r = app
        .try_invite_to_estate(
            &owner,
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
    assert!(mail.link().starts_with("http://keyholder.test/invitations/accept#token="));
    assert!(
        mail.body.contains("as viewer") && mail.body.contains("> See you <b>soon</b>"),
        "{}",
        mail.body
    );
    let token = mail.token();
    let preview = app.try_preview(&token).await;
    preview.assert_status(200);
    assert_eq!(preview.body["resource_type"], "estate");
    assert_eq!(preview.body["resource"]["name"], "Riverside");
    assert_eq!(preview.body["role"], "viewer");
    assert_eq!(preview.body["status"], "pending");
    assert_eq!(preview.body["invited_by"]["display_name"], "owner");
    let signed = app.try_sign_up(&token, "newbie", PASSWORD).await;
    signed.assert_status(201);
    assert_eq!(signed.body["user"]["email"], "new@example.com");
    assert_eq!(signed.body["user"]["email_verified"], true);
    let new_token = signed.body["access_token"].as_str().expect("token");
    let mine = app.try_estates(new_token, "").await;
    assert_eq!(mine.body["items"][0]["id"], id.as_str());
    assert_eq!(mine.body["items"][0]["my_role"], "viewer");
    let list = app.try_estate_invitations(&owner, &id, "?status=accepted").await;
    assert_eq!(list.body["total"], 1);
    assert!(list.body["items"][0]["responded_at"].is_string());
    app.wait_for_email("owner@example.com", "accepted your invitation").await;
    let again = app.try_sign_up(&token, "other", PASSWORD).await;
    again.assert_problem(409, "invitation_not_pending");
    assert_eq!(again.body["invitation_status"], "accepted");
    app.try_preview("nope").await.assert_problem(404, "invitation_not_found");
}

async fn a_registered_but_unverified_user_accepts_with_the_token(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let bob = app.register("bob").await;
    // Unverified accounts do not count as registered: an email goes out.
    let token = app.invite_to_estate(&owner, &id, "bob@example.com", "editor").await.token;
    let r = app.accept_invitation(&bob, &token).await;
    assert_eq!(r.body["status"], "accepted");
    assert_eq!(r.body["role"], "editor");
    assert_eq!(r.body["resource"]["name"], "Riverside");
    let me = app.try_me(&bob).await;
    assert_eq!(me.body["email_verified"], true, "the token proved the inbox");
    let e = app.try_get_estate(&bob, &id).await;
    assert_eq!(e.body["my_role"], "editor");
    app.try_accept(&NOBODY, &token).await.assert_problem(401, "missing_token");
}

async fn accept_signup_for_an_existing_email_is_409(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let token = app.invite_to_estate(&owner, &id, "bob@example.com", "viewer").await.token;
    // Bob registers and verifies the address after the invitation was sent.
    app.register_verified("bob").await;
    app.try_sign_up(&token, "bob2", PASSWORD).await.assert_problem(409, "email_registered");
    let weak = app.try_sign_up(&token, "x", "short").await;
    weak.assert_problem(422, "validation_failed");
    assert!(
        weak.body["errors"]["username"].is_string() && weak.body["errors"]["password"].is_string()
    );
    app.try_sign_up("unknown", "x", "short").await.assert_problem(404, "invitation_not_found");
}

async fn accepting_with_another_account_is_403_and_stays_pending(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let mallory = app.register_verified("mallory").await;
    let token = app.invite_to_estate(&owner, &id, "carol@example.com", "editor").await.token;
    app.try_accept(&mallory, &token).await.assert_problem(403, "invitation_email_mismatch");
    app.try_get_estate(&mallory, &id).await.assert_problem(404, "estate_not_found");
    let preview = app.try_preview(&token).await;
    assert_eq!(preview.body["status"], "pending");
}

async fn declining_by_token_tells_the_inviter(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let token = app.invite_to_estate(&owner, &id, "dan@example.com", "viewer").await.token;
    let r = app.try_decline(&token).await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "declined");
    app.wait_for_email("owner@example.com", "declined your invitation").await;
    let again = app.try_sign_up(&token, "dan", PASSWORD).await;
    again.assert_problem(409, "invitation_not_pending");
    assert_eq!(again.body["invitation_status"], "declined");
    let list = app.try_estate_invitations(&owner, &id, "?status=declined").await;
    assert_eq!(list.body["total"], 1);
}

async fn expired_invitations_read_as_expired_at_once_and_answer_410(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let at = (Utc::now() + Duration::minutes(10)).to_rfc3339();
    let r = app.try_invite_until(&owner, &id, "late@example.com", "viewer", &at).await;
    r.assert_status(202);
    let inv_id = r.body["invitation"]["id"].as_str().expect("id").to_owned();
    let token = app.wait_for_email("late@example.com", "invited you").await.token();
    app.clock.advance(Duration::minutes(20));
    let preview = app.try_preview(&token).await;
    assert_eq!(preview.body["status"], "expired");
    app.try_decline(&token).await.assert_problem(410, "invitation_expired");
    app.try_sign_up(&token, "late", PASSWORD).await.assert_problem(410, "invitation_expired");
    let resend = app.try_resend_estate_invitation(&owner, &id, &inv_id, json!({})).await;
    resend.assert_problem(409, "invitation_not_pending");
    assert_eq!(resend.body["invitation_status"], "expired");
    let expired = app.try_estate_invitations(&owner, &id, "?status=expired").await;
    assert_eq!(expired.body["total"], 1);
    let pending = app.try_estate_invitations(&owner, &id, "?status=pending").await;
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
    let expired =
        events.iter().find(|e| e.action == "invitation.expired").expect("an expiry event");
    assert!(expired.actor_id.is_none());
    assert_eq!(expired.after.as_ref().expect("after")["invitation_id"], inv_id.as_str());
    // A new invitation to the same email is allowed.
    app.try_invite(&owner, &id, "late@example.com", "viewer").await.assert_status(202);
    let past = app.try_invite_until(&owner, &id, "x@example.com", "viewer", &an_hour_ago()).await;
    past.assert_problem(422, "validation_failed");
}

async fn resend_replaces_the_token_and_can_change_the_expiry(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let Invited { id: inv, token: old } =
        app.invite_to_estate(&owner, &id, "eve@example.com", "editor").await;
    let path = format!("/api/v1/estates/{id}/invitations/{inv}/resend");
    let at = (Utc::now() + Duration::days(3)).to_rfc3339();
    let r = app.try_resend_estate_invitation(&owner, &id, &inv, json!({"expires_at": at})).await;
    r.assert_status(200);
    assert_eq!(r.body["resend_count"], 1);
    assert!(r.body["expires_at"].is_string());
    let new = app.wait_for_nth_email("eve@example.com", "invited you", 2).await.token();
    assert_ne!(old, new);
    app.try_preview(&old).await.assert_problem(404, "invitation_not_found");
    app.try_preview(&new).await.assert_status(200);
    // No body keeps the expiry; null clears it; the past is refused.
    let kept = app.request(reqwest::Method::POST, &path, Some(&owner.token), None).await;
    kept.assert_status(200);
    assert_eq!(kept.body["expires_at"], r.body["expires_at"]);
    let never =
        app.try_resend_estate_invitation(&owner, &id, &inv, json!({"expires_at": null})).await;
    assert!(never.body["expires_at"].is_null());
    for at in [an_hour_ago(), "tomorrow".to_owned()] {
        app.try_resend_estate_invitation(&owner, &id, &inv, json!({"expires_at": at}))
            .await
            .assert_problem(422, "validation_failed");
    }
}

async fn cancel_only_while_pending(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let Invited { id: inv, token } =
        app.invite_to_estate(&owner, &id, "fay@example.com", "viewer").await;
    let r = app.try_cancel_invite(&owner, &id, &inv).await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "cancelled");
    let again = app.try_cancel_invite(&owner, &id, &inv).await;
    again.assert_problem(409, "invitation_not_pending");
    assert_eq!(again.body["invitation_status"], "cancelled");
    app.try_decline(&token).await.assert_problem(409, "invitation_not_pending");
    let other = app.create_estate(&owner, "Riverside").await.id;
    app.try_cancel_invite(&owner, &other, &inv).await.assert_problem(404, "invitation_not_found");
}

async fn invitation_grant_rules_and_input_checks(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let admin = app.register_verified("admin").await;
    let editor = app.register_verified("editor").await;
    app.try_invite(&owner, &id, "admin@example.com", "admin").await.assert_status(201);
    app.try_invite(&owner, &id, "editor@example.com", "editor").await.assert_status(201);
    // Each invitation in turn, and its answer.
    let answers = [
        (&owner, "x@example.com", "owner", 403, "owner_transfer_required"),
        (&admin, "x@example.com", "admin", 403, "cannot_grant_role"),
        (&admin, "x@example.com", "editor", 202, ""),
        (&admin, "X@example.com", "viewer", 409, "invitation_pending"),
        (&editor, "y@example.com", "viewer", 403, "insufficient_role"),
        (&owner, "owner@example.com", "viewer", 422, "self_invitation"),
    ];
    for (by, email, role, status, code) in answers {
        app.try_invite(by, &id, email, role).await.assert_answer(status, code);
    }
    let bad = app
        .try_invite_to_estate(
            &owner,
            &id,
            json!({"email": "nope", "role": "chief", "message": "m".repeat(1001)}),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    for field in ["email", "role", "message"] {
        assert!(bad.body["errors"][field].is_string(), "{field}: {}", bad.text);
    }
    app.try_estate_invitations(&editor, &id, "").await.assert_problem(403, "insufficient_role");
    app.try_estate_invitations(&owner, &id, "?status=maybe")
        .await
        .assert_problem(422, "validation_failed");
    // An admin cannot cancel an invitation they could not have sent.
    let r = app.try_invite(&owner, &id, "boss@example.com", "admin").await;
    let inv = r.body["invitation"]["id"].as_str().expect("id");
    app.try_cancel_invite(&admin, &id, &inv).await.assert_problem(403, "cannot_grant_role");
}

async fn verified_invitees_act_from_their_invitation_list(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let gus = app.register("gus").await;
    let inv = app.invite_to_estate(&owner, &id, "gus@example.com", "editor").await.id;
    app.try_my_invitations(&gus).await.assert_problem(403, "email_not_verified");
    let mail = app.wait_for_email("gus@example.com", "Confirm your email").await;
    app.try_verify(&mail.token()).await.assert_status(200);
    let list = app.try_my_invitations(&gus).await;
    list.assert_status(200);
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["id"], inv.as_str());
    assert_eq!(list.body["items"][0]["resource"]["name"], "Riverside");
    let stranger = app.register_verified("stranger").await;
    app.try_accept_my_invitation(&stranger, &inv).await.assert_problem(404, "invitation_not_found");
    let r = app.try_accept_my_invitation(&gus, &inv).await;
    r.assert_status(200);
    assert_eq!(r.body["role"], "editor");
    assert_eq!(app.try_my_invitations(&gus).await.body["total"], 0);
    // Now verified, Gus counts as registered: the next estate grants at once.
    let other = app.try_add_estate(&owner, "Second").await;
    let other_id = other.body["id"].as_str().expect("id");
    let granted = app.try_invite(&owner, other_id, "gus@example.com", "viewer").await;
    granted.assert_status(201);
    assert_eq!(granted.body["outcome"], "granted");
}

async fn concurrent_accept_decline_and_cancel_have_one_winner(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let hal = app.register("hal").await;
    let Invited { id: inv, token } =
        app.invite_to_estate(&owner, &id, "hal@example.com", "editor").await;
    let cancel = format!("/api/v1/estates/{id}/invitations/{inv}/cancel");
    app.race_accept_decline_cancel(&token, &hal, &owner, &cancel, 0).await;
    let members = app.try_members(&owner, &id, "").await;
    let hal_rows = members.items().iter().filter(|m| m["user"]["id"] == hal.id.as_str()).count();
    let preview = app.try_preview(&token).await;
    let status = preview.body["status"].as_str().expect("status");
    assert_eq!(hal_rows, usize::from(status == "accepted"), "{status}");
}

async fn the_seed_page_end_to_end_over_http(app: TestApp) {
    let owner = app.register_verified("olivia").await;
    let colleague = app.register_verified("colin").await;
    let id = app.create_estate(&owner, "Riverside").await.id;
    let mut sites = Vec::new();
    for name in ["North", "South", "East"] {
        let r = app.try_add_site(&owner, &id, name).await;
        sites.push(r.id());
    }
    // Invite User: search, then invite the registered colleague as editor.
    let found = app.try_user_search(&owner, &id, "?email=colin%40example.com").await;
    found.assert_status(200);
    app.try_invite(&owner, &id, "colin@example.com", "editor").await.assert_status(201);
    // And an outsider by email.
    app.try_invite(&owner, &id, "oscar@example.com", "viewer").await.assert_status(202);
    // Site-specific access: admin at North, viewer at South, default at East.
    let saved = app.try_set_estate_role(&owner, &id, &colleague.id, json!({"role": "editor", "sites": [{"site_id": sites[0], "role": "admin"}, {"site_id": sites[1], "role": "viewer"}]}))
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
    let token = app.wait_for_email("oscar@example.com", "invited you").await.token();
    let signed = app.try_sign_up(&token, "oscar", PASSWORD).await;
    signed.assert_status(201);
    let oscar = signed.str("access_token");
    let estates = app.try_estates(&oscar, "").await;
    assert_eq!(estates.body["items"][0]["my_role"], "viewer");
    let oscar_id = signed.body["user"]["id"].as_str().expect("id").to_owned();
    // Every forbidden grant is refused with a reason.
    let colin_site_admin =
        app.try_set_site_role(&colleague, &sites[0], &oscar_id, json!({"role": "admin"})).await;
    colin_site_admin.assert_problem(403, "cannot_grant_role");
    assert!(
        colin_site_admin.body["detail"]
            .as_str()
            .expect("detail")
            .contains("only the owner grants admin")
    );
    app.try_set_site_override(&colleague, &sites[0], &oscar_id, "editor").await.assert_status(200);
    for refused in [
        app.try_set_site_override(&colleague, &sites[1], &oscar_id, "editor").await,
        app.try_set_role(&colleague, &id, &oscar_id, "editor").await,
    ] {
        refused.assert_problem(403, "insufficient_role");
    }
    app.try_set_role(&colleague, &id, &colleague, "admin")
        .await
        .assert_problem(403, "self_role_change");
    // Oscar is an estate viewer: the editor override at North still only views.
    let north = app.try_get_site(&oscar, &sites[0]).await;
    assert_eq!(north.body["effective_role"], "viewer");
}

async fn registering_normally_after_the_invitation_then_accepting_joins(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let token = app.invite_to_estate(&owner, &id, "kim@example.com", "editor").await.token;
    let kim = app.register("kim").await;
    app.try_accept(&kim, &token).await.assert_status(200);
    let e = app.try_get_estate(&kim, &id).await;
    assert_eq!(e.body["my_role"], "editor");
}

async fn troubleshooting_user_not_found_when_searching(app: TestApp) {
    let owner = app.register_verified("owner").await;
    app.register_verified("pat").await;
    let id = app.create_estate(&owner, "Riverside").await.id;
    let not_found = [
        // Check the email spelling: search is exact match.
        "?email=pat%40example.co",
        "?email=pa%40example.com",
        // The user may not be registered: they need an account first.
        "?email=nobody%40example.com",
    ];
    for query in not_found {
        app.try_user_search(&owner, &id, query).await.assert_problem(404, "user_not_found");
    }
    // The user may already have access.
    let pat = "?email=pat%40example.com";
    app.try_user_search(&owner, &id, pat).await.assert_status(200);
    app.try_invite(&owner, &id, "pat@example.com", "viewer").await.assert_status(201);
    app.try_user_search(&owner, &id, pat).await.assert_problem(404, "user_not_found");
}

async fn troubleshooting_user_cannot_see_a_site(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let quinn = app.register_verified("quinn").await;
    let (id, site) = app.estate_with_site(&owner, "Riverside", "Depot").await;
    // Do they have estate access? Without it, no site.
    app.try_get_site(&quinn, &site).await.assert_problem(404, "site_not_found");
    app.try_invite(&owner, &id, "quinn@example.com", "viewer").await.assert_status(201);
    let seen = app.try_get_site(&quinn, &site).await;
    seen.assert_status(200);
    // What's their role? Viewers can only view.
    assert_eq!(seen.body["effective_role"], "viewer");
    // Do they have site access? The site's user list shows it.
    app.try_set_site_override(&owner, &site, &quinn, "none").await.assert_status(200);
    let list = app.try_site_members(&owner, &site).await;
    let row = list.row_of(&quinn);
    assert_eq!(row["override"], "none");
    assert!(row["effective_role"].is_null());
    app.try_get_site(&quinn, &site).await.assert_problem(404, "site_not_found");
}

async fn troubleshooting_user_can_see_but_cannot_edit(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let rae = app.register_verified("rae").await;
    let (id, site) = app.estate_with_site(&owner, "Riverside", "Depot").await;
    app.try_invite(&owner, &id, "rae@example.com", "viewer").await.assert_status(201);
    app.try_set_site_override(&owner, &site, &rae, "editor").await.assert_status(200);
    // Even with Site Editor, an Estate Viewer can only view.
    let s = app.try_get_site(&rae, &site).await;
    assert_eq!(s.body["effective_role"], "viewer");
    // Fix: change their estate role to Editor.
    app.try_set_role(&owner, &id, &rae, "editor").await.assert_status(200);
    let s = app.try_get_site(&rae, &site).await;
    assert_eq!(s.body["effective_role"], "editor");
}

async fn troubleshooting_cannot_find_the_invite_button(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let sid = app.register_verified("sid").await;
    for role in ["viewer", "editor"] {
        app.try_invite(&owner, &id, "sid@example.com", role).await;
        app.try_set_role(&owner, &id, &sid, role).await.assert_status(200);
        // Admin role or higher is needed to invite.
        app.try_invite(&sid, &id, "t@example.com", "viewer")
            .await
            .assert_problem(403, "insufficient_role");
        app.try_user_search(&sid, &id, "?email=owner%40example.com")
            .await
            .assert_problem(403, "insufficient_role");
    }
    app.try_set_role(&owner, &id, &sid, "admin").await.assert_status(200);
    app.try_invite(&sid, &id, "t@example.com", "viewer").await.assert_status(202);
}

async fn deleting_an_estate_kills_its_invitation_links(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let token = app.invite_to_estate(&owner, &id, "ivy@example.com", "viewer").await.token;
    app.try_delete_estate(&owner, &id).await.assert_status(204);
    app.try_preview(&token).await.assert_problem(404, "invitation_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_rate_limited_per_user_and_per_day() {
    let app = TestApp::spawn_with(keyholder_tests::Backend::Sqlite, |c| {
        c.action_rate_limit = 3;
        c.invite_daily_limit = 2;
    })
    .await;
    let (owner, id) = app.owner_with_estate("Riverside").await;
    app.try_invite(&owner, &id, "a1@example.com", "viewer").await.assert_status(202);
    app.try_invite(&owner, &id, "a2@example.com", "viewer").await.assert_status(202);
    let daily = app.try_invite(&owner, &id, "a3@example.com", "viewer").await;
    daily.assert_problem(429, "daily_invitation_limit");
    let limited = app.try_invite(&owner, &id, "a4@example.com", "viewer").await;
    limited.assert_problem(429, "rate_limited");
    assert!(limited.header("retry-after").is_some());
}

// Every test above runs on SQLite and on PostgreSQL.
on_both_backends!(
    the_estate_invitation_table_searches_filters_sorts_and_counts,
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

// ---------------------------------------------------------------- keyset paging

mod paging {

    use chrono::{Duration, Utc};
    use keyholder_store::invitations::ResourceType;
    use keyholder_tests::{TestApp, on_both_backends};

    on_both_backends!(
        estate_invitations_walk_by_cursor_newest_first,
        my_invitations_walk_by_cursor_newest_first,
    );

    async fn estate_invitations_walk_by_cursor_newest_first(app: TestApp) {
        let (owner, estate) = app.owner_with_estate("Riverside").await;
        let other = app.create_estate(&owner, "Elsewhere").await.id;
        let t0 = Utc::now() - Duration::hours(1);
        let s = Duration::seconds;
        let e = ResourceType::Estate;
        app.seed_invitations(
            &owner,
            &[
                (e, &estate, "alpha@example.com", t0, None),
                (e, &estate, "bravo@example.com", t0, None),
                (e, &estate, "charlie@example.com", t0 + s(1), None),
                (e, &estate, "delta@example.com", t0, None),
                (e, &estate, "echo@example.com", t0 + s(1), None),
                (e, &estate, "foxtrot@example.com", t0 + s(2), None),
                (e, &other, "golf@example.com", t0, None),
            ],
        );
        let path = format!("/api/v1/estates/{estate}/invitations");
        app.check_walk_and_cursors(&owner.token, &path, 6).await;
        // Cancel two: the status filter walks the same way.
        let all = app.get(&format!("{path}?per_page=100"), Some(&owner.token)).await;
        for inv in &all.items()[1..3] {
            let inv = inv["id"].as_str().expect("id");
            app.try_cancel_invite(&owner, &estate, &inv).await.assert_status(200);
        }
        app.check_walk_and_cursors(&owner.token, &format!("{path}?status=pending"), 4).await;
        app.check_walk_and_cursors(&owner.token, &format!("{path}?status=cancelled"), 2).await;
        // An outsider: 404 before any cursor check.
        let outsider = app.register_verified("outsider").await;
        app.get(&format!("{path}?cursor=garbage"), Some(&outsider.token)).await.assert_status(404);
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
                app.create_estate(&owner, &format!("Estate {n}")).await.id,
            ));
            resources.push((
                ResourceType::Asset,
                app.create_asset(&owner, serde_json::json!({"name": format!("Van {n}")})).await.id,
            ));
        }
        let times = [t0, t0, t0 + s(1), t0, t0 + s(2), t0 + s(1)];
        for ((kind, resource), at) in resources.iter().zip(times) {
            rows.push((*kind, resource.as_str(), gus.email.as_str(), at, None));
        }
        // Another address's invitation is not mine.
        rows.push((ResourceType::Estate, resources[0].1.as_str(), "zed@example.com", t0, None));
        app.seed_invitations(&owner, &rows);
        app.check_walk_and_cursors(&gus.token, "/api/v1/me/invitations", 6).await;
    }
}

async fn the_estate_invitation_table_searches_filters_sorts_and_counts(app: TestApp) {
    let (owner, id) = app.owner_with_estate("Riverside").await;
    let mut sent = Vec::new();
    for (email, role) in [
        ("carol@shop.example", "viewer"),
        ("ann@home.example", "editor"),
        ("bea@shop.example", "admin"),
        ("dan@home.example", "viewer"),
    ] {
        let r = app.try_invite(&owner, &id, email, role).await;
        r.assert_status(202);
        sent.push(r.body["invitation"]["id"].as_str().expect("id").to_owned());
    }
    let list = |q: &'static str| {
        let (app, owner, id) = (&app, &owner, &id);
        async move {
            let r = app.try_estate_invitations(owner, id, q).await;
            r.assert_status(200);
            r
        }
    };
    let emails = |r: &keyholder_tests::Reply| -> Vec<String> {
        r.items().iter().map(|i| i["email"].as_str().expect("email").to_owned()).collect()
    };
    // Newest first by default; search in the email, in any case.
    assert_eq!(ids(list("").await.items()), sent.iter().rev().cloned().collect::<Vec<_>>());
    let shop = list("?q=SHOP").await;
    assert_eq!(emails(&shop), ["bea@shop.example", "carol@shop.example"]);
    assert_eq!(shop.body["total"], 2);
    assert_eq!(emails(&list("?q=%25").await), Vec::<String>::new());
    // Role and status filters.
    assert_eq!(emails(&list("?role=viewer").await), ["dan@home.example", "carol@shop.example"]);
    app.try_cancel_invite(&owner, &id, &sent[1]).await.assert_status(200);
    assert_eq!(emails(&list("?status=cancelled").await), ["ann@home.example"]);
    assert_eq!(list("?status=pending&role=viewer").await.body["total"], 2);
    // Sorts, paged by cursor in the same sort.
    let by_email = list("?sort=email&per_page=3").await;
    assert_eq!(emails(&by_email), ["ann@home.example", "bea@shop.example", "carol@shop.example"]);
    let cursor = by_email.body["next_cursor"].as_str().expect("cursor").to_owned();
    let rest = app
        .try_estate_invitations(&owner, &id, &format!("?sort=email&per_page=3&cursor={cursor}"))
        .await;
    assert_eq!(emails(&rest), ["dan@home.example"]);
    let desc = list("?sort=-email").await;
    assert_eq!(emails(&desc)[0], "dan@home.example");
    app.try_estate_invitations(&owner, &id, &format!("?sort=invited_at&cursor={cursor}"))
        .await
        .assert_problem(422, "validation_failed");
    for bad in ["?sort=name", "?role=king", "?status=lost"] {
        app.try_estate_invitations(&owner, &id, bad).await.assert_problem(422, "validation_failed");
    }
    // The stats cards.
    let stats = app.try_estate_invitation_stats(&owner, &id).await;
    stats.assert_status(200);
    assert_eq!(
        stats.body,
        json!({"total": 4, "pending": 3, "accepted": 0, "declined": 0, "expired": 0, "cancelled": 1})
    );
    // One invitation's details; another estate's is not found.
    let one = app.try_get_estate_invitation(&owner, &id, &sent[0]).await;
    one.assert_status(200);
    assert_eq!(one.body["email"], "carol@shop.example");
    assert_eq!(one.body["role"], "viewer");
    let other_owner = app.register_verified("other").await;
    let other = app.create_estate(&other_owner, "Hilltop").await.id;
    app.try_get_estate_invitation(&other_owner, &other, &sent[0])
        .await
        .assert_problem(404, "invitation_not_found");
    // Members below admin see none of it.
    let viewer = app.register_verified("vic").await;
    app.try_invite(&owner, &id, &viewer.email, "viewer").await.assert_status(201);
    app.try_estate_invitation_stats(&viewer, &id).await.assert_problem(403, "insufficient_role");
    app.try_get_estate_invitation(&viewer, &id, &sent[0])
        .await
        .assert_problem(403, "insufficient_role");
}
