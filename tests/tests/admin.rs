//! The administrators' console: root finds accounts and sees what one
//! holds, disables one (it cannot sign in; its tokens are refused at once)
//! and enables it again, and sends it links. Root cannot disable itself or
//! the last enabled root, and every action is audited.

use keyholder_tests::{PASSWORD, TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(
    root_finds_and_pages_accounts,
    root_sees_what_an_account_holds,
    a_disabled_account_cannot_sign_in_and_its_tokens_are_refused_at_once,
    root_sends_an_account_its_links,
    root_cannot_disable_itself_and_two_roots_disabling_each_other_leave_one,
    a_disabled_account_is_not_claimed_through_an_invitation,
);

async fn a_disabled_account_is_not_claimed_through_an_invitation(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let root = app.root_token().await;
    let (owner, estate) = app.owner_with_estate("Riverside").await;
    let carl = app.register("carl").await;
    app.try_disable_user(&root, &carl.id).await.assert_status(200);
    app.try_invite(&owner, &estate, &carl.email, "viewer").await.assert_status(202);
    let mail = app.wait_for_email(&carl.email, "invited you").await;
    app.try_sign_up(&mail.token(), "carlos", "a new password here")
        .await
        .assert_problem(403, "account_disabled");
    app.login("carlos", "a new password here").await.assert_problem(401, "invalid_credentials");
}

fn usernames(reply: &keyholder_tests::Reply) -> Vec<String> {
    reply.items().iter().map(|u| u["username"].as_str().expect("u").to_owned()).collect()
}

async fn root_finds_and_pages_accounts(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let root = app.root_token().await;
    let ada = app.register_verified("ada").await;
    app.register_verified("bob").await;
    app.register("carl").await;
    app.try_admin_users(&ada, "").await.assert_problem(403, "root_required");
    let all = app.try_admin_users(&root, "").await;
    all.assert_status(200);
    assert_eq!(all.body["total"], 4);
    assert_eq!(usernames(&all), ["carl", "bob", "ada", "root"]);
    assert_eq!(all.items()[0]["status"], "active");
    assert_eq!(all.items()[0]["email_verified"], false);
    assert_eq!(usernames(&app.try_admin_users(&root, "?q=AD").await), ["ada"]);
    assert_eq!(usernames(&app.try_admin_users(&root, "?q=bob%40example").await), ["bob"]);
    assert_eq!(usernames(&app.try_admin_users(&root, "?q=%25").await), Vec::<String>::new());
    assert_eq!(usernames(&app.try_admin_users(&root, "?status=unverified").await), ["carl"]);
    assert_eq!(usernames(&app.try_admin_users(&root, "?status=root").await), ["root"]);
    app.try_admin_users(&root, "?status=sleeping").await.assert_problem(422, "validation_failed");
    // Paged by cursor.
    let first = app.try_admin_users(&root, "?per_page=3").await;
    assert_eq!(usernames(&first), ["carl", "bob", "ada"]);
    let cursor = first.body["next_cursor"].as_str().expect("cursor");
    let second = app.try_admin_users(&root, &format!("?per_page=3&cursor={cursor}")).await;
    assert_eq!(usernames(&second), ["root"]);
    assert!(second.body["next_cursor"].is_null());
}

async fn root_sees_what_an_account_holds(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let root = app.root_token().await;
    let ada = app.register_verified("ada").await;
    let estate = app.create_estate(&ada, "Riverside").await.id;
    let van = app.create_asset(&ada, json!({"name": "Van"})).await.id;
    let detail = app.try_admin_user(&root, &ada.id).await;
    detail.assert_status(200);
    assert_eq!(detail.body["user"]["username"], "ada");
    assert_eq!(detail.body["sessions"], 1);
    assert_eq!(detail.body["access_complete"], true);
    let held: Vec<(String, String)> = detail.body["access"]
        .as_array()
        .expect("access")
        .iter()
        .map(|g| {
            (
                g["kind"].as_str().expect("k").to_owned(),
                g["resource"]["id"].as_str().expect("i").to_owned(),
            )
        })
        .collect();
    assert!(held.contains(&("estate_role".to_owned(), estate.clone())), "{held:?}");
    assert!(held.contains(&("collaborator".to_owned(), van.clone())), "{held:?}");
    app.try_admin_user(&root, uuid::Uuid::new_v4()).await.assert_problem(404, "user_not_found");
    app.try_admin_user(&ada, &ada.id).await.assert_problem(403, "root_required");
}

async fn a_disabled_account_cannot_sign_in_and_its_tokens_are_refused_at_once(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let root = app.root_token().await;
    let ada = app.register_verified("ada").await;
    app.try_me(&ada).await.assert_status(200);
    let disabled = app.try_disable_user(&root, &ada.id).await;
    disabled.assert_status(200);
    assert_eq!(disabled.body["status"], "disabled");
    // At once: the next request with her token is refused.
    app.try_me(&ada).await.assert_problem(401, "session_ended");
    app.try_refresh(json!({"refresh_token": ada.refresh_token}))
        .await
        .assert_problem(401, "refresh_token_invalid");
    app.login("ada", PASSWORD).await.assert_problem(403, "account_disabled");
    app.login("ada", "not the password").await.assert_problem(401, "invalid_credentials");
    // Disabling again changes nothing.
    app.try_disable_user(&root, &ada.id).await.assert_status(200);
    assert_eq!(usernames(&app.try_admin_users(&root, "?status=disabled").await), ["ada"]);
    let enabled = app.try_enable_user(&root, &ada.id).await;
    enabled.assert_status(200);
    assert_eq!(enabled.body["status"], "active");
    app.login("ada", PASSWORD).await.assert_status(200);
    // Only root may, and each action is in the account's trail.
    let bob = app.register_verified("bob").await;
    app.try_disable_user(&bob, &ada.id).await.assert_problem(403, "root_required");
    app.try_disable_user(&root, uuid::Uuid::new_v4()).await.assert_problem(404, "user_not_found");
    let trail = app.try_audit(&root, &format!("?resource_type=user&resource_id={}", ada.id)).await;
    let actions: Vec<&str> =
        trail.items().iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert_eq!(actions[..2], ["user.enabled", "user.disabled"]);
    assert_eq!(trail.items()[1]["actor"]["username"], "root");
}

async fn root_sends_an_account_its_links(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let root = app.root_token().await;
    let ada = app.register_verified("ada").await;
    let carl = app.register("carl").await;
    app.try_admin_password_reset(&root, &ada.id).await.assert_status(202);
    let mail = app.wait_for_email(&ada.email, "Reset your Keyholder password").await;
    app.try_admin_password_reset(&root, &ada.id).await.assert_problem(429, "email_recently_sent");
    app.try_reset_password(&mail.token(), "a new password here").await.assert_status(204);
    app.login("ada", "a new password here").await.assert_status(200);
    app.try_admin_verification(&root, &ada.id).await.assert_problem(409, "already_verified");
    app.clock.advance(chrono::Duration::seconds(121));
    app.try_admin_verification(&root, &carl.id).await.assert_status(202);
    app.wait_for_nth_email(&carl.email, "Confirm your email", 2).await;
    app.try_admin_verification(&carl, &carl.id).await.assert_problem(403, "root_required");
    let trail = app.try_audit(&root, &format!("?resource_type=user&resource_id={}", carl.id)).await;
    assert_eq!(trail.items()[0]["action"], "user.verification_resent");
}

async fn root_cannot_disable_itself_and_two_roots_disabling_each_other_leave_one(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let root = app.root_token().await;
    let root_id = app.try_me(&root).await.body["id"].as_str().expect("id").to_owned();
    app.try_disable_user(&root, &root_id).await.assert_problem(409, "cannot_disable_self");
    for round in 0..4 {
        // A second root account (made in the database: the API makes none).
        let other = app.register_verified(&format!("second{round}")).await;
        let id = other.id.clone();
        app.app_state
            .db
            .write(move |c| {
                use diesel::prelude::*;
                use keyholder_store::schema::users;
                diesel::update(users::table.find(id))
                    .set(users::is_root.eq(true))
                    .execute(c)
                    .map_err(keyholder_store::StoreError::from)
            })
            .expect("a second root");
        let root = app.root_token().await;
        let (a, b) = tokio::join!(
            app.try_disable_user(&root, &other.id),
            app.try_disable_user(&other, &root_id),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses[0], 200, "one of them wins: {a:?} {b:?}");
        assert!(matches!(statuses[1], 401 | 409), "the other is refused: {a:?} {b:?}");
        if b.status == 409 {
            b.assert_problem(409, "last_root");
        }
        if a.status == 409 {
            a.assert_problem(409, "last_root");
        }
        // One enabled root is left, and it can act.
        let roots = app.try_admin_users(&other, "?status=root").await;
        let still = if roots.status == 200 {
            roots
        } else {
            app.try_admin_users(&app.root_token().await, "?status=root").await
        };
        let enabled = still.items().iter().filter(|u| u["status"] == "active").count();
        assert_eq!(enabled, 1, "{:?}", still.body);
        // Put things back for the next round: enable whoever was disabled,
        // and the second root is an ordinary account again.
        let actor = if a.status == 200 { root.clone() } else { other.token.clone() };
        for u in still.items() {
            if u["status"] == "disabled" {
                app.try_enable_user(&actor, u["id"].as_str().expect("id")).await.assert_status(200);
            }
        }
        let id = other.id.clone();
        app.app_state
            .db
            .write(move |c| {
                use diesel::prelude::*;
                use keyholder_store::schema::users;
                diesel::update(users::table.find(id))
                    .set(users::is_root.eq(false))
                    .execute(c)
                    .map_err(keyholder_store::StoreError::from)
            })
            .expect("an ordinary account again");
    }
}
