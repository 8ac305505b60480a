//! The security review's findings, each as what an attacker tries and what
//! they get, on both databases: the account pre-hijack, email disclosure,
//! access that outlived a membership, sessions that outlived a password
//! change, and refusals that a no-op or a bad body used to skip.

use keyholder_domain::HouseholdRole;
use keyholder_tests::{PASSWORD, Session, TestApp, on_both_backends};
use serde_json::{Value, json};
use uuid::Uuid;

/// A verified `owner` with the estate Riverside and its site North, where
/// the verified user `name` holds the estate `role`: the owner, that
/// member, the estate and the site.
async fn estate_with_member(
    app: &TestApp,
    name: &str,
    role: &str,
) -> (Session, Session, String, String) {
    let owner = app.register_verified("owner").await;
    let member = app.register_verified(name).await;
    let (estate, site) = app.estate_with_site(&owner, "Riverside", "North").await;
    app.grant_role(&owner, &estate, &member, role).await;
    (owner, member, estate, site)
}

async fn an_unverified_account_cannot_share_or_set_up_anything(app: TestApp) {
    // Mallory registers the victim's address and never verifies it.
    let squat = app.register("victim").await;
    app.register_verified("mallory").await;
    // Keeping a garage of one's own is fine.
    let car = app.create_asset(&squat, json!({"name": "Car"})).await.id;
    // Anything that would let someone else in is refused.
    app.try_add_to_household(&squat, "mallory", "manager")
        .await
        .assert_problem(403, "email_not_verified");
    app.try_collaborate(&squat, &car, "mallory").await.assert_problem(403, "email_not_verified");
    app.try_bulk_add_collaborators(&squat, json!({"asset_ids": [car], "usernames": ["mallory"]}))
        .await
        .assert_problem(403, "email_not_verified");
    app.try_share_asset(&squat, &car, "mallory@example.com", "view")
        .await
        .assert_problem(403, "email_not_verified");
    app.try_add_estate(&squat, "HQ").await.assert_problem(403, "email_not_verified");
    // Nothing was set up.
    let household = app.try_household(&squat).await;
    assert_eq!(household.body["members"], json!([]), "{}", household.text);
    let collaborators = app.try_collaborators(&squat, &car).await;
    assert_eq!(collaborators.body["items"].as_array().map(Vec::len), Some(1));
    assert!(app.emails_to("mallory@example.com", "invited").is_empty());
}

async fn the_first_reset_of_a_squatted_address_revokes_what_the_squatter_granted(app: TestApp) {
    let squat = app.register("victim").await;
    let mallory = app.register_verified("mallory").await;
    let friend = app.register_verified("friend").await;
    // A household the squatter set up before accounts had to be verified
    // (written as an older release would have).
    let (head, member) =
        (Uuid::parse_str(&squat.id).expect("id"), Uuid::parse_str(&mallory.id).expect("id"));
    app.with_db(|c| {
        keyholder_store::households::add_household_member(
            c,
            head,
            member,
            HouseholdRole::Manager,
            chrono::Utc::now(),
        )
    });
    // The victim's friend shares a car with "the victim".
    let car = app.create_asset(&friend, json!({"name": "Shared car"})).await.id;
    app.try_collaborate(&friend, &car, "victim").await.assert_status(201);
    // Through the squatter's household Mallory manages it.
    app.try_get_asset(&mallory, &car).await.assert_status(200);
    // The real owner of the address resets the password.
    app.try_forgot_password("victim@example.com").await.assert_status(202);
    let mail = app.wait_for_email("victim@example.com", "Reset your Keyholder password").await;
    app.try_reset_password(&mail.token(), "the real owner's password").await.assert_status(204);
    // The squatter's session is over, and Mallory inherits nothing.
    app.try_me(&squat).await.assert_problem(401, "session_ended");
    app.try_get_asset(&mallory, &car).await.assert_problem(404, "asset_not_found");
    let owner = app.login("victim", "the real owner's password").await;
    owner.assert_status(200);
    let token = owner.body["access_token"].as_str().expect("token");
    let household = app.try_household(token).await;
    assert_eq!(household.body["members"], json!([]), "{}", household.text);
    let me = app.try_me(token).await;
    assert_eq!(me.body["email_verified"], true);
    // The owner still has what was shared with them, and the revocation is
    // in the audit trail.
    app.try_get_asset(token, &car).await.assert_status(200);
    let audit =
        app.try_audit(token, &format!("?resource_type=user&resource_id={}", squat.id)).await;
    let actions: Vec<&str> = audit.items().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"user.unverified_grants_revoked"), "{actions:?}");
}

async fn signing_up_through_an_invitation_takes_back_a_squatted_address(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let estate_id = app.create_estate(&owner, "Riverside").await.id;
    // Mallory squats vic@example.com under the username "squatter".
    let squat = app.try_register_as("vic@example.com", "squatter", PASSWORD).await;
    squat.assert_status(201);
    let squat_token = squat.str("access_token");
    // An unverified account is not "registered": the owner's invitation
    // goes out by email.
    let r = app.try_invite(&owner, &estate_id, "vic@example.com", "viewer").await;
    r.assert_status(202);
    let mail = app.wait_for_email("vic@example.com", "invited you").await;
    // Vic signs up through the link: the token proves the inbox, so the
    // squatted account becomes Vic's.
    let signed = app.try_sign_up(&mail.token(), "victoria", "victoria's own password").await;
    signed.assert_status(201);
    assert_eq!(signed.body["user"]["username"], "victoria");
    assert_eq!(signed.body["user"]["email"], "vic@example.com");
    assert_eq!(signed.body["user"]["email_verified"], true);
    assert_eq!(signed.body["user"]["id"], squat.body["user"]["id"]);
    // Mallory is out: session, username and password all gone.
    app.try_me(&squat_token).await.assert_problem(401, "session_ended");
    // Nor can the squatter's refresh token mint a new access token.
    app.try_refresh(json!({"refresh_token": squat.str("refresh_token")}))
        .await
        .assert_problem(401, "refresh_token_invalid");
    app.login("squatter", PASSWORD).await.assert_problem(401, "invalid_credentials");
    app.login("vic@example.com", PASSWORD).await.assert_problem(401, "invalid_credentials");
    let vic = app.login("victoria", "victoria's own password").await;
    vic.assert_status(200);
    let estates = app.try_estates(vic.body["access_token"].as_str().expect("token"), "").await;
    assert_eq!(estates.body["items"][0]["id"], estate_id.as_str());
    assert_eq!(estates.body["items"][0]["my_role"], "viewer");
}

async fn reset_links_are_not_mailed_again_within_the_cooldown(app: TestApp) {
    let ada = app.register_verified("ada").await;
    for _ in 0..3 {
        app.try_forgot_password(&ada.email).await.assert_status(202);
    }
    app.wait_for_email(&ada.email, "Reset your Keyholder password").await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(app.emails_to(&ada.email, "Reset your Keyholder password").len(), 1);
    // After the cooldown a new link goes out.
    app.clock.advance(chrono::Duration::seconds(121));
    app.try_forgot_password(&ada.email).await.assert_status(202);
    app.wait_for_nth_email(&ada.email, "Reset your Keyholder password", 2).await;
    // Spaced out or not, an address gets at most five links a day.
    for _ in 0..6 {
        app.clock.advance(chrono::Duration::seconds(121));
        app.try_forgot_password(&ada.email).await.assert_status(202);
    }
    app.wait_for_nth_email(&ada.email, "Reset your Keyholder password", 5).await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(app.emails_to(&ada.email, "Reset your Keyholder password").len(), 5);
}

async fn removing_a_collaborator_cancels_their_pending_invitation(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let bob = app.register_verified("bob").await;
    let van = app.create_asset(&owner, json!({"name": "Van"})).await.id;
    app.try_share_asset(&owner, &van, &bob.email, "manage").await.assert_status(201);
    let mail = app.wait_for_email(&bob.email, "invited you").await;
    app.add_collaborator(&owner, &van, "bob").await;
    app.try_remove_collaborator(&owner, &van, &bob.id).await.assert_status(204);
    // The old invitation does not bring Bob back.
    app.try_accept(&bob, &mail.token()).await.assert_problem(409, "invitation_not_pending");
    app.try_get_asset(&bob, &van).await.assert_problem(404, "asset_not_found");
}

fn has_email(v: &Value) -> bool {
    v.to_string().contains("@example.com")
}

async fn adding_people_by_username_reveals_no_email(app: TestApp) {
    let owner = app.register_verified("owner").await;
    app.register_verified("bob").await;
    app.register_verified("cat").await;
    let van = app.create_asset(&owner, json!({"name": "Van"})).await.id;
    let added = app.try_collaborate(&owner, &van, "bob").await;
    added.assert_status(201);
    assert_eq!(added.body["user"]["username"], "bob");
    assert!(!has_email(&added.body), "{}", added.text);
    let member = app.try_add_to_household(&owner, "cat", "viewer").await;
    member.assert_status(201);
    assert!(!has_email(&member.body), "{}", member.text);
    let bulk = app
        .try_bulk_add_collaborators(&owner, json!({"asset_ids": [van], "usernames": ["cat"]}))
        .await;
    bulk.assert_status(200);
    assert!(!has_email(&bulk.body), "{}", bulk.text);
    for path in [
        format!("/api/v1/assets/{van}/collaborators"),
        format!("/api/v1/collaborators?asset_ids={van}"),
        format!("/api/v1/assets/{van}/access"),
        "/api/v1/household".to_owned(),
    ] {
        let r = app.get(&path, Some(&owner.token)).await;
        r.assert_status(200);
        let others = r.text.replace("owner@example.com", "");
        assert!(!others.contains("@example.com"), "{path}: {}", r.text);
    }
}

async fn who_has_access_does_not_list_root_to_owners(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let owner = app.register_verified("owner").await;
    let van = app.create_asset(&owner, json!({"name": "Van"})).await.id;
    let listed = app.try_asset_access(&owner, &van).await;
    listed.assert_status(200);
    let names: Vec<&str> =
        listed.items().iter().filter_map(|e| e["user"]["username"].as_str()).collect();
    assert_eq!(names, ["owner"], "{}", listed.text);
    assert!(!listed.text.contains("root@example.com"));
    // Root itself sees the whole picture.
    let root = &app.root_token().await;
    let all = app.try_asset_access(root, &van).await;
    assert!(all.text.contains("\"root\""), "{}", all.text);
}

async fn bulk_add_spends_one_budget_token_per_username(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| c.action_rate_limit = 3).await;
    let owner = app.register_verified("owner").await;
    for name in ["usr1", "usr2", "usr3", "usr4"] {
        app.register_verified(name).await;
    }
    let van = app.create_asset(&owner, json!({"name": "Van"})).await.id;
    let r = app
        .try_bulk_add_collaborators(
            &owner,
            json!({"asset_ids": [van], "usernames": ["usr1", "usr2", "usr3", "usr4"]}),
        )
        .await;
    r.assert_problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    // All or nothing: nobody was added.
    let list = app.try_collaborators(&owner, &van).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));
}

async fn removal_cancels_the_invitations_that_would_undo_it(app: TestApp) {
    let (owner, adam, estate_id, north) = estate_with_member(&app, "adam", "admin").await;
    let eve = app.register_verified("eve").await;
    app.grant_role(&owner, &estate_id, &eve, "viewer").await;
    let forklift = app.create_asset(&owner, json!({"name": "Forklift", "site_id": north})).await.id;
    // Before the removal: an asset invitation to Eve (manage), and an
    // estate invitation Adam sends to an outsider.
    app.try_share_asset(&owner, &forklift, "eve@example.com", "manage").await.assert_status(201);
    let to_eve = app.wait_for_email("eve@example.com", "invited you").await;
    app.try_invite(&adam, &estate_id, "olly@example.com", "editor").await.assert_status(202);
    let to_olly = app.wait_for_email("olly@example.com", "invited you").await;
    // The owner removes both.
    for who in [&eve, &adam] {
        app.try_remove_member(&owner, &estate_id, &who.id).await.assert_status(204);
    }
    // Eve's invitation no longer brings her back.
    app.try_accept(&eve, &to_eve.token()).await.assert_problem(409, "invitation_not_pending");
    app.try_get_asset(&eve, &forklift).await.assert_problem(404, "asset_not_found");
    // Adam's invitation no longer grants anything.
    app.try_sign_up(&to_olly.token(), "olly", PASSWORD)
        .await
        .assert_problem(409, "invitation_not_pending");
    let members = app.try_members(&owner, &estate_id, "").await;
    assert_eq!(members.body["total"], 1, "{}", members.text);
}

async fn acceptance_rechecks_that_the_inviter_may_still_grant(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let adam = app.register_verified("adam").await;
    let estate_id = app.create_estate(&owner, "Riverside").await.id;
    app.grant_role(&owner, &estate_id, &adam, "admin").await;
    app.try_invite(&adam, &estate_id, "olly@example.com", "editor").await.assert_status(202);
    let to_olly = app.wait_for_email("olly@example.com", "invited you").await;
    // Adam is demoted to viewer: he could not send this invitation now.
    app.try_set_role(&owner, &estate_id, &adam, "viewer").await.assert_status(200);
    app.try_sign_up(&to_olly.token(), "olly", PASSWORD)
        .await
        .assert_problem(409, "inviter_cannot_grant");
    // Nothing happened: no account, no member.
    app.login("olly", PASSWORD).await.assert_problem(401, "invalid_credentials");
    // The same for an asset invitation whose sender lost full access.
    let bob = app.register_verified("bob").await;
    let van = app.create_asset(&owner, json!({"name": "Van"})).await.id;
    app.try_collaborate(&owner, &van, "bob").await.assert_status(201);
    app.try_share_asset(&bob, &van, "pia@example.com", "edit").await.assert_status(201);
    let to_pia = app.wait_for_email("pia@example.com", "invited you").await;
    app.try_remove_collaborator(&owner, &van, &bob.id).await.assert_status(204);
    app.try_sign_up(&to_pia.token(), "pia", PASSWORD)
        .await
        .assert_problem(409, "inviter_cannot_grant");
}

async fn sessions_from_the_same_second_end_with_a_password_change(app: TestApp) {
    let ada = app.register("ada").await;
    let passwords = [PASSWORD, "a brand new password"];
    let mut password = PASSWORD;
    let mut same_second = 0;
    // Sign in and change the password right away, until both fall within
    // one wall-clock second a few times (a token's `iat` has whole seconds).
    for round in 0..12 {
        let (current, new) = (passwords[round % 2], passwords[(round + 1) % 2]);
        let started = chrono::Utc::now().timestamp();
        let other = app.login("ada", current).await;
        other.assert_status(200);
        let other = other.body["access_token"].as_str().expect("token");
        let changed = app.try_new_password(other, current, new).await;
        changed.assert_status(200);
        password = new;
        let fresh = changed.body["access_token"].as_str().expect("token");
        // Whatever the timing, the session that asked keeps working with the
        // new token and the old ones end.
        app.try_me(fresh).await.assert_status(200);
        app.try_me(other).await.assert_problem(401, "session_ended");
        if chrono::Utc::now().timestamp() == started {
            same_second += 1;
            if same_second == 3 {
                break;
            }
        }
    }
    assert!(same_second > 0, "no round fit in one second");
    app.try_me(&ada).await.assert_problem(401, "session_ended");
    // A session opened right after the change works.
    let after = app.login("ada", password).await;
    after.assert_status(200);
    let after = after.body["access_token"].as_str().expect("token");
    app.try_me(after).await.assert_status(200);
}

async fn a_member_kept_off_a_site_does_not_see_it_listed(app: TestApp) {
    let (owner, eve, estate_id, north) = estate_with_member(&app, "eve", "editor").await;
    let secret = app.create_site(&owner, &estate_id, "Secret lab").await.id;
    app.try_set_site_override(&owner, &secret, &eve, "none").await.assert_status(200);
    let members = app.try_members(&eve, &estate_id, "").await;
    members.assert_status(200);
    assert!(!members.text.contains("Secret lab"), "{}", members.text);
    assert!(!members.text.contains(&secret), "{}", members.text);
    assert!(members.text.contains(&north));
    // The owner still sees every site.
    let all = app.try_members(&owner, &estate_id, "").await;
    assert!(all.text.contains("Secret lab"));
}

async fn unchanged_saves_and_bad_bodies_still_need_authority(app: TestApp) {
    let (owner, val, estate_id, north) = estate_with_member(&app, "val", "viewer").await;
    let eve = app.register_verified("eve").await;
    app.grant_role(&owner, &estate_id, &eve, "editor").await;
    let answers = [
        // A viewer saving Eve's role unchanged is refused like a change.
        (app.try_set_role(&val, &estate_id, &eve, "editor").await, 403, "insufficient_role"),
        // A bad body from someone without authority is a 403, not a 422.
        (app.try_set_role(&val, &estate_id, &eve, "emperor").await, 403, "insufficient_role"),
        (app.try_set_site_override(&val, &north, &eve, "emperor").await, 403, "insufficient_role"),
        // The owner gets the 422.
        (app.try_set_role(&owner, &estate_id, &eve, "emperor").await, 422, "validation_failed"),
    ];
    for (reply, status, code) in answers {
        reply.assert_problem(status, code);
    }
    // A view-only PATCH {} of an asset is refused.
    let van = app.create_asset(&owner, json!({"name": "Van"})).await.id;
    app.try_add_to_household(&owner, "val", "viewer").await.assert_status(201);
    app.try_get_asset(&val, &van).await.assert_status(200);
    app.try_update_asset(&val, &van, json!({})).await.assert_problem(403, "edit_access_required");
    app.try_update_asset(&owner, &van, json!({})).await.assert_status(200);
    // A body of the wrong shape: 404 to a stranger, 403 to someone without
    // the right, 422 only to someone who may act.
    let stranger = app.register_verified("stranger").await;
    let bad_name = json!({"name": 5});
    app.try_update_asset(&stranger, &van, bad_name.clone())
        .await
        .assert_problem(404, "asset_not_found");
    app.try_update_asset(&val, &van, bad_name.clone())
        .await
        .assert_problem(403, "edit_access_required");
    app.try_update_asset(&owner, &van, bad_name.clone())
        .await
        .assert_problem(422, "validation_failed");
    app.try_add_record(&val, &van, json!({"kind": "service", "date": "soon"}))
        .await
        .assert_problem(403, "edit_access_required");
    app.try_add_collaborator(&val, &van, json!({"username": 7}))
        .await
        .assert_problem(403, "full_access_required");
    app.try_set_estate_role(&val, &estate_id, &eve, json!({"role": 5}))
        .await
        .assert_problem(403, "insufficient_role");
    let estate_path = format!("/api/v1/estates/{estate_id}");
    app.patch(&estate_path, Some(&val.token), bad_name.clone())
        .await
        .assert_problem(403, "insufficient_role");
    app.patch(&estate_path, Some(&owner.token), bad_name)
        .await
        .assert_problem(422, "validation_failed");
    app.try_transfer_to(&val, &estate_id, "someone").await.assert_problem(403, "insufficient_role");
    app.try_invite_to_estate(
        &val,
        &estate_id,
        json!({"email": ["not", "a", "string"], "role": "viewer"}),
    )
    .await
    .assert_problem(403, "insufficient_role");
}

// Every test above runs on SQLite and on PostgreSQL.
on_both_backends!(
    an_unverified_account_cannot_share_or_set_up_anything,
    the_first_reset_of_a_squatted_address_revokes_what_the_squatter_granted,
    signing_up_through_an_invitation_takes_back_a_squatted_address,
    reset_links_are_not_mailed_again_within_the_cooldown,
    removing_a_collaborator_cancels_their_pending_invitation,
    adding_people_by_username_reveals_no_email,
    who_has_access_does_not_list_root_to_owners,
    bulk_add_spends_one_budget_token_per_username,
    removal_cancels_the_invitations_that_would_undo_it,
    acceptance_rechecks_that_the_inviter_may_still_grant,
    sessions_from_the_same_second_end_with_a_password_change,
    a_member_kept_off_a_site_does_not_see_it_listed,
    unchanged_saves_and_bad_bodies_still_need_authority,
);
