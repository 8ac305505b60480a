//! Asset invitations: sending, the email, the lifecycle, the token rules,
//! the management table and stats, and shares, on both databases.

use chrono::{Duration, Utc};
use keyholder_tests::{Invited, PASSWORD, TestApp, an_hour_ago, on_both_backends};
use serde_json::json;

async fn the_seed_page_end_to_end(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = app.create_vehicle(&owner, "Van 7", Some("KX21 ABC")).await.id;
    let expires = (Utc::now() + Duration::days(7)).to_rfc3339();
    let r = app.try_send_asset_invitation(&owner, json!({"asset_id": id, "email": "shop@example.com", "permission": "view", "message": "Brake job specs", "expires_at": expires})).await;
    r.assert_status(201);
    assert_eq!(r.body["asset"]["name"], "Van 7");
    assert_eq!(r.body["asset"]["reference"], "KX21 ABC");
    assert_eq!(r.body["permission"], "view");
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["message_preview"], "Brake job specs");
    let inv = r.id();
    let table = app.try_asset_invitations(&owner, "").await;
    assert_eq!(table.body["total"], 1);
    let stats = app.try_asset_invitation_stats(&owner, "").await;
    assert_eq!(
        stats.body,
        json!({"total": 1, "pending": 1, "accepted": 0, "declined": 0, "expired": 0, "cancelled": 0})
    );
    let first = app.wait_for_email("shop@example.com", "invited you").await.token();
    app.try_resend_asset_invitation(&owner, &inv, json!({})).await.assert_status(200);
    let token = app.wait_for_nth_email("shop@example.com", "invited you", 2).await.token();
    assert_ne!(first, token);
    let signed = app.try_sign_up(&token, "shop", PASSWORD).await;
    signed.assert_status(201);
    let shop = signed.str("access_token");
    let shop_id = signed.body["user"]["id"].as_str().expect("id").to_owned();
    assert_eq!(app.my_access(&shop, &id).await.as_deref(), Some("view"));
    let garage = app.try_garage(&shop, "").await;
    assert_eq!(garage.body["items"][0]["name"], "Van 7");
    let shares = app.try_asset_shares(&owner, &id).await;
    assert_eq!(shares.body["items"][0]["user"]["username"], "shop");
    assert_eq!(shares.body["items"][0]["permission"], "view");
    app.wait_for_email("owner@example.com", "accepted your invitation").await;
    app.try_revoke_share(&owner, &id, &shop_id).await.assert_status(204);
    assert_eq!(app.my_access(&shop, &id).await, None, "revocation applies on the next request");
    // An expired and a cancelled invitation refuse acceptance.
    let soon = (Utc::now() + Duration::minutes(5)).to_rfc3339();
    app.try_send_asset_invitation(&owner, json!({"asset_id": id, "email": "late@example.com", "permission": "edit", "expires_at": soon})).await.assert_status(201);
    let late = app.wait_for_email("late@example.com", "invited you").await.token();
    let Invited { id: cancelled_id, token: cancelled } =
        app.send_asset_invitation(&owner, &id, "gone@example.com", "view").await;
    app.try_cancel_asset_invitation(&owner, &cancelled_id, json!({})).await.assert_status(200);
    app.clock.advance(Duration::minutes(10));
    app.try_sign_up(&late, "late", PASSWORD).await.assert_problem(410, "invitation_expired");
    let r = app.try_sign_up(&cancelled, "gone", PASSWORD).await;
    r.assert_problem(409, "invitation_not_pending");
    assert_eq!(r.body["invitation_status"], "cancelled");
}

async fn the_email_names_everything_and_carries_the_link(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = app.create_vehicle(&owner, "Van 7", Some("KX21 ABC")).await.id;
    let expires = Utc::now() + Duration::days(3);
    let access = Utc::now() + Duration::days(30);
    app.try_send_asset_invitation(&owner, json!({"asset_id": id, "email": "Shop@Example.com", "permission": "manage", "message": "Line one\nLine two", "expires_at": expires.to_rfc3339(), "access_expires_at": access.to_rfc3339()}))
        .await
        .assert_status(201);
    let mail = app.wait_for_email("shop@example.com", "invited you").await;
    assert_eq!(mail.subject, "owner invited you to Van 7 (KX21 ABC) on Keyholder");
    for needle in [
        "owner invited you to Van 7 (KX21 ABC)",
        "as manage access",
        "> Line one",
        "> Line two",
        &format!("expires on {}", expires.format("%Y-%m-%d %H:%M")),
        &format!("the access ends on {}", access.format("%Y-%m-%d %H:%M")),
    ] {
        assert!(mail.body.contains(needle), "{needle:?} missing from {}", mail.body);
    }
    assert!(mail.link().starts_with("http://keyholder.test/invitations/accept#token="));
    let preview = app.try_preview(&mail.token()).await;
    assert_eq!(preview.body["resource_type"], "asset");
    assert_eq!(preview.body["resource"]["name"], "Van 7");
    assert_eq!(preview.body["role"], "manage");
}

async fn lifecycle_accept_signed_in_and_from_my_list(app: TestApp) {
    let (owner, id) = app.owner_with_vehicle("Van").await;
    let ann = app.register("ann").await;
    let bo = app.register_verified("boo").await;
    let token = app.send_asset_invitation(&owner, &id, "ann@example.com", "edit").await.token;
    let r = app.accept_invitation(&ann, &token).await;
    assert_eq!(r.body["resource_type"], "asset");
    assert_eq!(r.body["role"], "edit");
    assert_eq!(app.my_access(&ann, &id).await.as_deref(), Some("edit"));
    let inv = app.send_asset_invitation(&owner, &id, "boo@example.com", "view").await.id;
    let mine = app.try_my_invitations(&bo).await;
    assert_eq!(mine.body["items"][0]["id"], inv.as_str());
    assert_eq!(mine.body["items"][0]["resource_type"], "asset");
    app.try_accept_my_invitation(&bo, &inv).await.assert_status(200);
    assert_eq!(app.my_access(&bo, &id).await.as_deref(), Some("view"));
    let detail = app.try_get_asset_invitation(&owner, &inv).await;
    assert_eq!(detail.body["status"], "accepted");
    assert!(detail.body["responded_at"].is_string());
}

async fn lifecycle_decline_and_final_states_answer_409(app: TestApp) {
    let (owner, id) = app.owner_with_vehicle("Van").await;
    let cy = app.register_verified("cyd").await;
    let Invited { id: inv, token } =
        app.send_asset_invitation(&owner, &id, "dee@example.com", "view").await;
    app.try_decline(&token).await.assert_status(200);
    app.wait_for_email("owner@example.com", "declined your invitation").await;
    for (path, body) in [
        (format!("/api/v1/asset-invitations/{inv}/cancel"), json!({})),
        (format!("/api/v1/asset-invitations/{inv}/resend"), json!({})),
    ] {
        let r = app.post(&path, Some(&owner.token), body).await;
        r.assert_problem(409, "invitation_not_pending");
        assert_eq!(r.body["invitation_status"], "declined");
    }
    let inv2 = app.send_asset_invitation(&owner, &id, "cyd@example.com", "view").await.id;
    app.try_decline_my_invitation(&cy, &inv2).await.assert_status(200);
    let r = app.try_accept_my_invitation(&cy, &inv2).await;
    r.assert_problem(409, "invitation_not_pending");
    assert_eq!(app.my_access(&cy, &id).await, None);
}

async fn expiry_reads_at_once_and_answers_410(app: TestApp) {
    let (owner, id) = app.owner_with_vehicle("Van").await;
    let soon = (Utc::now() + Duration::minutes(5)).to_rfc3339();
    let r = app.try_send_asset_invitation(&owner, json!({"asset_id": id, "email": "eve@example.com", "permission": "view", "expires_at": soon})).await;
    let inv = r.id();
    let token = app.wait_for_email("eve@example.com", "invited you").await.token();
    app.clock.advance(Duration::minutes(6));
    let detail = app.try_get_asset_invitation(&owner, &inv).await;
    assert_eq!(detail.body["status"], "expired");
    app.try_decline(&token).await.assert_problem(410, "invitation_expired");
    let r = app.try_resend_asset_invitation(&owner, &inv, json!({})).await;
    r.assert_problem(409, "invitation_not_pending");
    assert_eq!(r.body["invitation_status"], "expired");
    let stats = app.try_asset_invitation_stats(&owner, "").await;
    assert_eq!(stats.body["expired"], 1);
    assert_eq!(stats.body["pending"], 0);
    // The sweeper writes it too.
    let swept = keyholder_tests::keyholder_api::ops::invitations::respond::sweep_expired(
        &app.app_state.db,
        app.clock.now(),
    )
    .expect("sweep");
    assert_eq!(swept, 1);
    let events = app.with_db(|c| keyholder_store::audit::for_target(c, "asset", &id));
    assert!(events.iter().any(|e| e.action == "invitation.expired"));
}

async fn wrong_email_accept_is_403_and_stays_pending(app: TestApp) {
    let (owner, id) = app.owner_with_vehicle("Van").await;
    let mallory = app.register_verified("mallory").await;
    let Invited { id: inv, token } =
        app.send_asset_invitation(&owner, &id, "fay@example.com", "view").await;
    app.try_accept(&mallory, &token).await.assert_problem(403, "invitation_email_mismatch");
    assert_eq!(app.try_get_asset_invitation(&owner, &inv).await.body["status"], "pending");
    assert_eq!(app.my_access(&mallory, &id).await, None);
    app.try_accept_my_invitation(&mallory, &inv).await.assert_problem(404, "invitation_not_found");
}

async fn sending_rules_and_errors(app: TestApp) {
    let (owner, id) = app.owner_with_vehicle("Van").await;
    let member = app.register("member").await;
    app.try_add_to_household(&owner, "member", "manager").await.assert_status(201);
    app.try_share_asset(&member, &id, "x@example.com", "view")
        .await
        .assert_problem(403, "full_access_required");
    app.try_share_asset(&owner, &uuid::Uuid::new_v4().to_string(), "x@example.com", "view")
        .await
        .assert_problem(404, "asset_not_found");
    app.try_share_asset(&owner, &id, "owner@example.com", "view")
        .await
        .assert_problem(422, "self_invitation");
    let bad = app
        .try_send_asset_invitation(
            &owner,
            json!({"asset_id": id, "email": "x", "permission": "full", "message": "m".repeat(1001),
        "expires_at": an_hour_ago(), "access_expires_at": an_hour_ago()}),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    for field in ["email", "permission", "message", "expires_at", "access_expires_at"] {
        assert!(bad.body["errors"][field].is_string(), "{field}: {}", bad.text);
    }
    app.try_send_asset_invitation(&owner, json!({"asset_id": id, "email": "x@example.com", "permission": "view", "message": "m".repeat(1000)})).await.assert_status(201);
    app.try_share_asset(&owner, &id, "X@example.com", "edit")
        .await
        .assert_problem(409, "invitation_pending");
    // The asset's own route does the same.
    let r = app
        .try_invite_to_asset(&owner, &id, json!({"email": "y@example.com", "permission": "edit"}))
        .await;
    r.assert_status(201);
    assert_eq!(r.body["asset"]["id"], id.as_str());
    app.try_invite_to_asset(&member, &id, json!({"email": "z@example.com", "permission": "edit"}))
        .await
        .assert_problem(403, "full_access_required");
}

async fn token_rules_single_use_hashed_rotated(app: TestApp) {
    let (owner, id) = app.owner_with_vehicle("Van").await;
    let gus = app.register("gus").await;
    let Invited { id: inv, token: old } =
        app.send_asset_invitation(&owner, &id, "gus@example.com", "view").await;
    // Stored only as a hash.
    let stored: Vec<String> = app.with_db(|c| {
        use diesel::prelude::*;
        use keyholder_store::schema::invitations::dsl::*;
        invitations.select(token_hash).load(c).map_err(Into::into)
    });
    assert_eq!(stored, vec![keyholder_domain::token::TokenHash::of(&old).as_str().to_owned()]);
    assert!(!stored[0].contains(&old));
    // Rotated on resend.
    app.try_resend_asset_invitation(&owner, &inv, json!({})).await.assert_status(200);
    let new = app.wait_for_nth_email("gus@example.com", "invited you", 2).await.token();
    app.try_accept(&gus, &old).await.assert_problem(404, "invitation_not_found");
    // Single use.
    app.try_accept(&gus, &new).await.assert_status(200);
    app.try_accept(&gus, &new).await.assert_problem(409, "invitation_not_pending");
    // Delivered emails keep no token in the outbox.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let bodies: Vec<String> = app.with_db(|c| {
        use diesel::prelude::*;
        use keyholder_store::schema::mail_outbox::dsl::*;
        mail_outbox.filter(status.eq("sent")).select(body_text).load(c).map_err(Into::into)
    });
    assert!(bodies.iter().all(|b| !b.contains(&new) && !b.contains(&old)));
}

async fn table_search_filters_sort_pages_and_visibility(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let other = app.register_verified("other").await;
    let van = app.create_vehicle(&owner, "Van 7", Some("KX21")).await.id;
    let truck = app.create_vehicle(&owner, "Big Truck", None).await.id;
    let theirs = app.create_vehicle(&other, "Other's", None).await.id;
    for (asset, email, perm, minutes) in [
        (&van, "alpha@example.com", "view", Some(40)),
        (&van, "bravo@example.com", "edit", None),
        (&truck, "charlie@example.com", "manage", Some(10)),
    ] {
        let mut body = json!({"asset_id": asset, "email": email, "permission": perm});
        if let Some(m) = minutes {
            body["expires_at"] = json!((Utc::now() + Duration::minutes(m)).to_rfc3339());
        }
        app.try_send_asset_invitation(&owner, body).await.assert_status(201);
        app.clock.advance(Duration::seconds(1));
    }
    app.try_share_asset(&other, &theirs, "zulu@example.com", "view").await.assert_status(201);
    let emails = |r: &keyholder_tests::Reply| -> Vec<String> {
        r.items().iter().map(|i| i["email"].as_str().expect("email").to_owned()).collect()
    };
    // Each query of the table and the emails it lists, in order.
    let of_truck = format!("?asset_id={truck}");
    let listed: [(&str, &[&str]); 9] = [
        // Newest first; only my assets.
        ("", &["charlie@example.com", "bravo@example.com", "alpha@example.com"]),
        ("?q=TRUCK", &["charlie@example.com"]),
        ("?q=Bravo", &["bravo@example.com"]),
        ("?permission=edit", &["bravo@example.com"]),
        (&of_truck, &["charlie@example.com"]),
        // Never expires last.
        ("?sort=expires_at", &["charlie@example.com", "alpha@example.com", "bravo@example.com"]),
        ("?sort=-expires_at", &["bravo@example.com", "alpha@example.com", "charlie@example.com"]),
        ("?sort=email", &["alpha@example.com", "bravo@example.com", "charlie@example.com"]),
        ("?sort=invited_at", &["alpha@example.com", "bravo@example.com", "charlie@example.com"]),
    ];
    for (query, want) in listed {
        assert_eq!(emails(&app.try_asset_invitations(&owner, query).await), want, "{query:?}");
    }
    let q = app.try_asset_invitations(&owner, "?q=kx21").await;
    assert_eq!(q.body["total"], 2);
    let page = app.try_asset_invitations(&owner, "?per_page=2&page=2").await;
    assert_eq!(emails(&page), ["alpha@example.com"]);
    assert_eq!(page.body["total"], 3);
    app.clock.advance(Duration::minutes(20));
    let expired = app.try_asset_invitations(&owner, "?status=expired").await;
    assert_eq!(emails(&expired), ["charlie@example.com"]);
    let pending = app.try_asset_invitations(&owner, "?status=pending").await;
    assert_eq!(emails(&pending), ["bravo@example.com", "alpha@example.com"]);
    for bad in ["status=open", "permission=full", "sort=name", "per_page=0"] {
        app.try_asset_invitations(&owner, &format!("?{bad}"))
            .await
            .assert_problem(422, "validation_failed");
    }
    // The per-asset table, and details, need full access.
    let t = app.try_asset_invitations_of(&owner, &van).await;
    assert_eq!(t.body["total"], 2);
    app.try_asset_invitations_of(&other, &van).await.assert_problem(404, "asset_not_found");
    let theirs_row = app.try_asset_invitations(&other, "").await;
    let their_inv = theirs_row.body["items"][0]["id"].as_str().expect("id").to_owned();
    app.try_get_asset_invitation(&owner, &their_inv)
        .await
        .assert_problem(404, "invitation_not_found");
}

async fn stats_cards_follow_the_table(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let other = app.register_verified("other").await;
    let van = app.create_vehicle(&owner, "Van", None).await.id;
    let truck = app.create_vehicle(&owner, "Truck", None).await.id;
    let a = app.send_asset_invitation(&owner, &van, "a@example.com", "view").await.id;
    let b = app.send_asset_invitation(&owner, &van, "b@example.com", "view").await.token;
    let c = app.send_asset_invitation(&owner, &truck, "c@example.com", "view").await.token;
    app.send_asset_invitation(&owner, &truck, "d@example.com", "view").await;
    app.try_cancel_asset_invitation(&owner, &a, json!({})).await.assert_status(200);
    app.try_decline(&b).await.assert_status(200);
    app.try_sign_up(&c, "ccc", PASSWORD).await.assert_status(201);
    let stats = app.try_asset_invitation_stats(&owner, "").await;
    assert_eq!(
        stats.body,
        json!({"total": 4, "pending": 1, "accepted": 1, "declined": 1, "expired": 0, "cancelled": 1})
    );
    let van_stats = app.try_asset_invitation_stats(&owner, &format!("?asset_id={van}")).await;
    assert_eq!(
        van_stats.body,
        json!({"total": 2, "pending": 0, "accepted": 0, "declined": 1, "expired": 0, "cancelled": 1})
    );
    let none = app.try_asset_invitation_stats(&other, "").await;
    assert_eq!(none.body["total"], 0, "same visibility as the table");
    // One asset's cards answer as its table: 404 out of reach, 403 with a
    // view share.
    app.try_asset_invitation_stats(&other, &format!("?asset_id={van}"))
        .await
        .assert_problem(404, "asset_not_found");
    let share = app.send_asset_invitation(&owner, &truck, &other.email, "view").await;
    app.try_accept(&other, &share.token).await.assert_status(200);
    app.try_asset_invitation_stats(&other, &format!("?asset_id={truck}"))
        .await
        .assert_problem(403, "full_access_required");
    app.try_asset_invitations_of(&other, &truck).await.assert_problem(403, "full_access_required");
}

async fn shares_merge_change_expire_revoke_and_drop(app: TestApp) {
    let (owner, id) = app.owner_with_vehicle("Van").await;
    let hal = app.register_verified("hal").await;
    let soon = Utc::now() + Duration::minutes(20);
    let later = Utc::now() + Duration::days(10);
    app.try_send_asset_invitation(&owner, json!({"asset_id": id, "email": "hal@example.com", "permission": "edit", "access_expires_at": soon.to_rfc3339()})).await.assert_status(201);
    let t1 = app.wait_for_email("hal@example.com", "invited you").await.token();
    app.try_accept(&hal, &t1).await.assert_status(200);
    // A second, lower invitation with a later access expiry: the higher level
    // and the later expiry win.
    app.try_send_asset_invitation(&owner, json!({"asset_id": id, "email": "hal@example.com", "permission": "view", "access_expires_at": later.to_rfc3339()})).await.assert_status(201);
    let t2 = app.wait_for_nth_email("hal@example.com", "invited you", 2).await.token();
    app.try_accept(&hal, &t2).await.assert_status(200);
    let shares = app.try_asset_shares(&owner, &id).await;
    assert_eq!(shares.items().len(), 1);
    assert_eq!(shares.body["items"][0]["permission"], "edit");
    let until = chrono::DateTime::parse_from_rfc3339(
        shares.body["items"][0]["access_expires_at"].as_str().expect("until"),
    )
    .expect("time");
    assert!((until.with_timezone(&Utc) - later).num_seconds().abs() < 2);
    // Change it.
    let changed = app
        .try_update_share(
            &owner,
            &id,
            &hal,
            json!({"permission": "manage", "access_expires_at": soon.to_rfc3339()}),
        )
        .await;
    changed.assert_status(200);
    assert_eq!(changed.body["permission"], "manage");
    assert_eq!(app.my_access(&hal, &id).await.as_deref(), Some("manage"));
    app.try_update_share(&owner, &id, &hal, json!({"permission": "full"}))
        .await
        .assert_problem(422, "validation_failed");
    // A share always has a permission: null is refused, not read as "unchanged".
    let null = app.try_update_share(&owner, &id, &hal, json!({"permission": null})).await;
    null.assert_problem(422, "validation_failed");
    assert!(null.body["errors"]["permission"].is_string(), "{}", null.text);
    let past = json!({"access_expires_at": an_hour_ago()});
    app.try_update_share(&owner, &id, &hal, past).await.assert_problem(422, "validation_failed");
    app.try_update_share(&hal, &id, &hal, json!({"permission": "manage"}))
        .await
        .assert_problem(403, "full_access_required");
    // Access ends the moment the expiry passes: checks and the garage.
    app.clock.advance(Duration::minutes(20) + Duration::seconds(1));
    assert_eq!(app.my_access(&hal, &id).await, None);
    assert_eq!(app.try_garage(&hal, "").await.body["total"], 0);
    let listed = app.try_asset_shares(&owner, &id).await;
    assert_eq!(listed.body["items"][0]["active"], false);
    // Never again: null expiry.
    let renewed = app.try_update_share(&owner, &id, &hal, json!({"access_expires_at": null})).await;
    assert!(renewed.body["access_expires_at"].is_null());
    assert_eq!(app.my_access(&hal, &id).await.as_deref(), Some("manage"));
    // The holder drops it.
    app.try_leave_share(&hal, &id).await.assert_status(204);
    assert_eq!(app.my_access(&hal, &id).await, None);
    app.try_leave_share(&hal, &id).await.assert_problem(404, "share_not_found");
    app.try_revoke_share(&owner, &id, &hal).await.assert_problem(404, "share_not_found");
}

async fn concurrent_accept_decline_cancel_leave_one_share(app: TestApp) {
    let (owner, id) = app.owner_with_vehicle("Van").await;
    let ivy = app.register("ivy").await;
    for round in 0..3 {
        let Invited { id: inv, token } =
            app.send_asset_invitation(&owner, &id, "ivy@example.com", "view").await;
        let cancel = format!("/api/v1/asset-invitations/{inv}/cancel");
        app.race_accept_decline_cancel(&token, &ivy, &owner, &cancel, round).await;
        let status = app.try_get_asset_invitation(&owner, &inv).await.body["status"].clone();
        let shares = app.try_asset_shares(&owner, &id).await;
        let held = shares.items().len();
        if status == "accepted" {
            assert_eq!(held, 1);
        }
        if held == 1 {
            app.try_leave_share(&ivy, &id).await.assert_status(204);
        }
    }
}

async fn transitions_and_share_changes_are_audited(app: TestApp) {
    let (owner, id) = app.owner_with_vehicle("Van").await;
    let jo = app.register("jojo").await;
    let inv = app.send_asset_invitation(&owner, &id, "jojo@example.com", "view").await.id;
    app.try_resend_asset_invitation(&owner, &inv, json!({})).await.assert_status(200);
    let token = app.wait_for_nth_email("jojo@example.com", "invited you", 2).await.token();
    app.try_accept(&jo, &token).await.assert_status(200);
    app.try_update_share(&owner, &id, &jo, json!({"permission": "edit"})).await.assert_status(200);
    app.try_revoke_share(&owner, &id, &jo).await.assert_status(204);
    let inv2 = app.send_asset_invitation(&owner, &id, "x@example.com", "view").await.id;
    app.try_cancel_asset_invitation(&owner, &inv2, json!({})).await.assert_status(200);
    let events = app.with_db(|c| keyholder_store::audit::for_target(c, "asset", &id));
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "asset.created",
            "invitation.created",
            "invitation.resent",
            "invitation.accepted",
            "share.updated",
            "share.revoked",
            "invitation.created",
            "invitation.cancelled"
        ]
    );
    let accepted = &events[3];
    assert_eq!(accepted.actor_id.map(|a| a.to_string()), Some(jo.id.clone()));
    assert_eq!(accepted.after.as_ref().expect("after")["role"], "view");
}

// Every test above runs on SQLite and on PostgreSQL.
on_both_backends!(
    the_seed_page_end_to_end,
    the_email_names_everything_and_carries_the_link,
    lifecycle_accept_signed_in_and_from_my_list,
    lifecycle_decline_and_final_states_answer_409,
    expiry_reads_at_once_and_answers_410,
    wrong_email_accept_is_403_and_stays_pending,
    sending_rules_and_errors,
    token_rules_single_use_hashed_rotated,
    table_search_filters_sort_pages_and_visibility,
    stats_cards_follow_the_table,
    shares_merge_change_expire_revoke_and_drop,
    concurrent_accept_decline_cancel_leave_one_share,
    transitions_and_share_changes_are_audited,
);

// ---------------------------------------------------------------- keyset paging

#[path = "asset_invitations/paging.rs"]
mod paging;
