//! Deleting my account: refused while I own an estate or am an asset's only
//! collaborator; otherwise every access I hold ends at once, the pending
//! invitations I sent are cancelled, the trail keeps my events with the
//! actor shown as a deleted account, and my address can register again.

use keyholder_tests::{PASSWORD, TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(
    deleting_my_account_ends_everything_and_keeps_the_trail,
    an_estate_owner_or_an_assets_last_collaborator_is_refused_naming_what_blocks,
    a_root_account_is_not_deleted,
    a_deletion_and_the_other_collaborators_leaving_at_once_keep_a_collaborator,
    two_deletions_at_once_delete_once,
);

async fn two_deletions_at_once_delete_once(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let (a, b) = tokio::join!(
        app.try_delete_me(&ada, with_password(PASSWORD)),
        app.try_delete_me(&ada, with_password(PASSWORD)),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [204, 401], "{a:?} {b:?}");
    app.wait_for_email("ada@example.com", "Your Keyholder account was deleted").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.emails_to("ada@example.com", "account was deleted").len(), 1);
}

fn with_password(password: &str) -> serde_json::Value {
    json!({"password": password})
}

async fn deleting_my_account_ends_everything_and_keeps_the_trail(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    let carl = app.register_verified("carl").await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.try_invite(&owner, &estate, &ada.email, "editor").await.assert_status(201);
    let van = app.create_asset(&bob, json!({"name": "Van"})).await.id;
    app.try_collaborate(&bob, &van, "ada").await.assert_status(201);
    app.household_add(&ada, &carl, "viewer").await;
    let sent = app
        .try_invite_to_asset(&ada, &van, json!({"email": "x@example.com", "permission": "view"}))
        .await;
    sent.assert_status(201);
    let phone = app.login("ada", PASSWORD).await;
    phone.assert_status(200);
    let phone = phone.body["access_token"].as_str().expect("token").to_owned();

    app.try_delete_me(&ada, with_password("not it")).await.assert_problem(403, "wrong_password");
    app.try_delete_me(&ada, json!({})).await.assert_problem(422, "validation_failed");
    app.try_delete_me(&ada, with_password(PASSWORD)).await.assert_status(204);

    // Every session is over and the account cannot sign in.
    app.try_me(&ada).await.assert_problem(401, "session_ended");
    app.try_me(&phone).await.assert_problem(401, "session_ended");
    app.login("ada", PASSWORD).await.assert_problem(401, "invalid_credentials");
    app.login("ada@example.com", PASSWORD).await.assert_problem(401, "invalid_credentials");
    // What others see: no member, no collaborator, no household member.
    let members = app.try_members(&owner, &estate, "").await;
    let ids: Vec<&str> =
        members.items().iter().map(|m| m["user"]["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [owner.id.as_str()]);
    let collaborators = app.try_collaborators(&bob, &van).await;
    assert_eq!(collaborators.body["total"], 1);
    assert_eq!(app.try_households(&carl).await.body["total"], 0);
    app.try_get_asset(&carl, &van).await.assert_problem(404, "asset_not_found");
    // The invitation ada sent is cancelled.
    let table = app.try_asset_invitations_of(&bob, &van).await;
    assert_eq!(table.items()[0]["email"], "x@example.com");
    assert_eq!(table.items()[0]["status"], "cancelled");
    // The trail keeps the events, with the actor shown as deleted.
    let trail = app.try_audit(&bob, &format!("?resource_type=asset&resource_id={van}")).await;
    let removed = trail
        .items()
        .iter()
        .find(|e| e["action"] == "collaborator.removed")
        .expect("the ended collaboration is recorded")
        .clone();
    assert_eq!(removed["before"]["reason"], "account_deleted");
    assert_eq!(removed["actor"]["id"], ada.id.as_str());
    assert_eq!(removed["actor"]["deleted"], true);
    assert!(removed["actor"]["username"].is_null());
    let added = trail.items().iter().find(|e| e["action"] == "collaborator.added").expect("added");
    assert_eq!(added["actor"]["username"], "bob");
    assert_eq!(added["actor"]["deleted"], false);
    // The account is found by no username or email any more: nothing can
    // be granted to it.
    let boat = app.create_asset(&bob, json!({"name": "Boat"})).await.id;
    app.try_collaborate(&bob, &boat, &format!("deleted-{}", ada.id))
        .await
        .assert_problem(404, "user_not_found");
    app.try_collaborate(&bob, &boat, "ada").await.assert_problem(404, "user_not_found");
    // A confirmation goes to the address, which can register again.
    app.wait_for_email("ada@example.com", "Your Keyholder account was deleted").await;
    let again = app.register("ada").await;
    assert_ne!(again.id, ada.id);
}

async fn an_estate_owner_or_an_assets_last_collaborator_is_refused_naming_what_blocks(
    app: TestApp,
) {
    let ada = app.register_verified("ada").await;
    let bob = app.register_verified("bob").await;
    let estate = app.create_estate(&ada, "Riverside").await.id;
    let car = app.create_asset(&ada, json!({"name": "Car"})).await.id;
    let refused = app.try_delete_me(&ada, with_password(PASSWORD)).await;
    refused.assert_problem(409, "account_deletion_blocked");
    assert_eq!(refused.body["estate_ids"], json!([estate]));
    assert_eq!(refused.body["asset_ids"], json!([car]));
    // Nothing changed.
    app.try_me(&ada).await.assert_status(200);
    app.try_get_estate(&ada, &estate).await.assert_status(200);
    // Once the estate is handed over and the car has another collaborator,
    // the account goes.
    app.try_invite(&ada, &estate, &bob.email, "admin").await.assert_status(201);
    app.try_transfer_to(&ada, &estate, &bob.id).await.assert_status(200);
    let still = app.try_delete_me(&ada, with_password(PASSWORD)).await;
    still.assert_problem(409, "account_deletion_blocked");
    assert_eq!(still.body["estate_ids"], json!([]));
    app.try_collaborate(&ada, &car, "bob").await.assert_status(201);
    app.try_delete_me(&ada, with_password(PASSWORD)).await.assert_status(204);
    app.try_get_asset(&bob, &car).await.assert_status(200);
    app.try_get_estate(&bob, &estate).await.assert_status(200);
}

async fn a_root_account_is_not_deleted(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let root = app.root_token().await;
    let refused = app.try_delete_me(&root, with_password(keyholder_tests::ROOT_PASSWORD)).await;
    refused.assert_problem(409, "account_deletion_blocked");
    app.try_me(&root).await.assert_status(200);
}

async fn a_deletion_and_the_other_collaborators_leaving_at_once_keep_a_collaborator(app: TestApp) {
    for round in 0..4 {
        let ada = app.register_verified(&format!("ada{round}")).await;
        let bob = app.register_verified(&format!("bob{round}")).await;
        let boat = app.create_asset(&bob, json!({"name": "Boat"})).await.id;
        app.try_collaborate(&bob, &boat, &ada.username).await.assert_status(201);
        // Ada deletes her account while Bob takes himself off the boat:
        // one of them must be refused, or the boat has nobody.
        let (deleted, left) = tokio::join!(
            app.try_delete_me(&ada, with_password(PASSWORD)),
            app.try_remove_collaborator(&bob, &boat, &bob.id),
        );
        let mut statuses = [deleted.status, left.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [204, 409], "{deleted:?} {left:?}");
        if deleted.status == 409 {
            deleted.assert_problem(409, "account_deletion_blocked");
            assert_eq!(app.try_collaborators(&ada, &boat).await.body["total"], 1);
        } else {
            left.assert_problem(409, "last_collaborator");
            assert_eq!(app.try_collaborators(&bob, &boat).await.body["total"], 1);
        }
    }
}
