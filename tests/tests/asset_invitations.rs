//! Asset invitations: sending, the email, the lifecycle, the token rules,
//! the management table and stats, and shares, on both databases.

use chrono::{Duration, Utc};
use keyholder_tests::{PASSWORD, Session, TestApp, on_both_backends};
use serde_json::{Value, json};

async fn vehicle(app: &TestApp, owner: &Session, name: &str, reference: Option<&str>) -> String {
    let r = app
        .post(
            "/api/v1/assets",
            Some(&owner.token),
            json!({"name": name, "reference": reference}),
        )
        .await;
    r.assert_status(201);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn send(app: &TestApp, token: &str, body: Value) -> keyholder_tests::Reply {
    app.post("/api/v1/asset-invitations", Some(token), body)
        .await
}

async fn invite(
    app: &TestApp,
    owner: &Session,
    asset: &str,
    email: &str,
    permission: &str,
) -> (String, String) {
    let n = app.emails_to(email, "invited you").len() + 1;
    let r = send(
        app,
        &owner.token,
        json!({"asset_id": asset, "email": email, "permission": permission}),
    )
    .await;
    r.assert_status(201);
    let mail = app.wait_for_nth_email(email, "invited you", n).await;
    (r.body["id"].as_str().expect("id").to_owned(), mail.token())
}

async fn level(app: &TestApp, user: &str, asset: &str) -> Option<String> {
    let r = app
        .get(&format!("/api/v1/assets/{asset}"), Some(user))
        .await;
    match r.status {
        200 => Some(r.body["my_access"].as_str().expect("level").to_owned()),
        404 => None,
        s => panic!("unexpected {s}: {}", r.text),
    }
}

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

async fn the_seed_page_end_to_end(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = vehicle(&app, &owner, "Van 7", Some("KX21 ABC")).await;
    let expires = (Utc::now() + Duration::days(7)).to_rfc3339();
    let r = send(&app, &owner.token, json!({"asset_id": id, "email": "shop@example.com", "permission": "view", "message": "Brake job specs", "expires_at": expires})).await;
    r.assert_status(201);
    assert_eq!(r.body["asset"]["name"], "Van 7");
    assert_eq!(r.body["asset"]["reference"], "KX21 ABC");
    assert_eq!(r.body["permission"], "view");
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["message_preview"], "Brake job specs");
    let inv = r.body["id"].as_str().expect("id").to_owned();
    let table = app
        .get("/api/v1/asset-invitations", Some(&owner.token))
        .await;
    assert_eq!(table.body["total"], 1);
    let stats = app
        .get("/api/v1/asset-invitations/stats", Some(&owner.token))
        .await;
    assert_eq!(
        stats.body,
        json!({"total": 1, "pending": 1, "accepted": 0, "declined": 0, "expired": 0, "cancelled": 0})
    );
    let first = app
        .wait_for_email("shop@example.com", "invited you")
        .await
        .token();
    app.post(
        &format!("/api/v1/asset-invitations/{inv}/resend"),
        Some(&owner.token),
        json!({}),
    )
    .await
    .assert_status(200);
    let token = app
        .wait_for_nth_email("shop@example.com", "invited you", 2)
        .await
        .token();
    assert_ne!(first, token);
    let signed = app
        .post(
            "/api/v1/invitations/accept-signup",
            None,
            json!({"token": token, "username": "shop", "password": PASSWORD}),
        )
        .await;
    signed.assert_status(201);
    let shop = signed.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let shop_id = signed.body["user"]["id"].as_str().expect("id").to_owned();
    assert_eq!(level(&app, &shop, &id).await.as_deref(), Some("view"));
    let garage = app.get("/api/v1/assets", Some(&shop)).await;
    assert_eq!(garage.body["items"][0]["name"], "Van 7");
    let shares = app
        .get(&format!("/api/v1/assets/{id}/shares"), Some(&owner.token))
        .await;
    assert_eq!(shares.body[0]["user"]["username"], "shop");
    assert_eq!(shares.body[0]["permission"], "view");
    app.wait_for_email("owner@example.com", "accepted your invitation")
        .await;
    app.delete(
        &format!("/api/v1/assets/{id}/shares/{shop_id}"),
        Some(&owner.token),
    )
    .await
    .assert_status(204);
    assert_eq!(
        level(&app, &shop, &id).await,
        None,
        "revocation applies on the next request"
    );
    // An expired and a cancelled invitation refuse acceptance.
    let soon = (Utc::now() + Duration::minutes(5)).to_rfc3339();
    send(&app, &owner.token, json!({"asset_id": id, "email": "late@example.com", "permission": "edit", "expires_at": soon})).await.assert_status(201);
    let late = app
        .wait_for_email("late@example.com", "invited you")
        .await
        .token();
    let (cancelled_id, cancelled) = invite(&app, &owner, &id, "gone@example.com", "view").await;
    app.post(
        &format!("/api/v1/asset-invitations/{cancelled_id}/cancel"),
        Some(&owner.token),
        json!({}),
    )
    .await
    .assert_status(200);
    app.clock.advance(Duration::minutes(10));
    app.post(
        "/api/v1/invitations/accept-signup",
        None,
        json!({"token": late, "username": "late", "password": PASSWORD}),
    )
    .await
    .assert_problem(410, "invitation_expired");
    let r = app
        .post(
            "/api/v1/invitations/accept-signup",
            None,
            json!({"token": cancelled, "username": "gone", "password": PASSWORD}),
        )
        .await;
    r.assert_problem(409, "invitation_not_pending");
    assert_eq!(r.body["invitation_status"], "cancelled");
}

async fn the_email_names_everything_and_carries_the_link(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = vehicle(&app, &owner, "Van 7", Some("KX21 ABC")).await;
    let expires = Utc::now() + Duration::days(3);
    let access = Utc::now() + Duration::days(30);
    send(&app, &owner.token, json!({"asset_id": id, "email": "Shop@Example.com", "permission": "manage", "message": "Line one\nLine two", "expires_at": expires.to_rfc3339(), "access_expires_at": access.to_rfc3339()}))
        .await
        .assert_status(201);
    let mail = app.wait_for_email("shop@example.com", "invited you").await;
    assert_eq!(
        mail.subject,
        "owner invited you to Van 7 (KX21 ABC) on Keyholder"
    );
    for needle in [
        "owner invited you to Van 7 (KX21 ABC)",
        "as manage access",
        "> Line one",
        "> Line two",
        &format!("expires on {}", expires.format("%Y-%m-%d %H:%M")),
        &format!("the access ends on {}", access.format("%Y-%m-%d %H:%M")),
    ] {
        assert!(
            mail.body.contains(needle),
            "{needle:?} missing from {}",
            mail.body
        );
    }
    assert!(
        mail.link()
            .starts_with("http://keyholder.test/invitations/accept#token=")
    );
    let preview = app
        .post(
            "/api/v1/invitations/preview",
            None,
            json!({"token": mail.token()}),
        )
        .await;
    assert_eq!(preview.body["resource_type"], "asset");
    assert_eq!(preview.body["resource"]["name"], "Van 7");
    assert_eq!(preview.body["role"], "manage");
}

async fn lifecycle_accept_signed_in_and_from_my_list(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ann = app.register("ann").await;
    let bo = app.register_verified("boo").await;
    let id = vehicle(&app, &owner, "Van", None).await;
    let (_, token) = invite(&app, &owner, &id, "ann@example.com", "edit").await;
    let r = app
        .post(
            "/api/v1/invitations/accept",
            Some(&ann.token),
            json!({"token": token}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["resource_type"], "asset");
    assert_eq!(r.body["role"], "edit");
    assert_eq!(level(&app, &ann.token, &id).await.as_deref(), Some("edit"));
    let (inv, _) = invite(&app, &owner, &id, "boo@example.com", "view").await;
    let mine = app.get("/api/v1/me/invitations", Some(&bo.token)).await;
    assert_eq!(mine.body["items"][0]["id"], inv.as_str());
    assert_eq!(mine.body["items"][0]["resource_type"], "asset");
    app.post(
        &format!("/api/v1/me/invitations/{inv}/accept"),
        Some(&bo.token),
        json!({}),
    )
    .await
    .assert_status(200);
    assert_eq!(level(&app, &bo.token, &id).await.as_deref(), Some("view"));
    let detail = app
        .get(
            &format!("/api/v1/asset-invitations/{inv}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(detail.body["status"], "accepted");
    assert!(detail.body["responded_at"].is_string());
}

async fn lifecycle_decline_and_final_states_answer_409(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let cy = app.register_verified("cyd").await;
    let id = vehicle(&app, &owner, "Van", None).await;
    let (inv, token) = invite(&app, &owner, &id, "dee@example.com", "view").await;
    app.post("/api/v1/invitations/decline", None, json!({"token": token}))
        .await
        .assert_status(200);
    app.wait_for_email("owner@example.com", "declined your invitation")
        .await;
    for (path, body) in [
        (format!("/api/v1/asset-invitations/{inv}/cancel"), json!({})),
        (format!("/api/v1/asset-invitations/{inv}/resend"), json!({})),
    ] {
        let r = app.post(&path, Some(&owner.token), body).await;
        r.assert_problem(409, "invitation_not_pending");
        assert_eq!(r.body["invitation_status"], "declined");
    }
    let (inv2, _) = invite(&app, &owner, &id, "cyd@example.com", "view").await;
    app.post(
        &format!("/api/v1/me/invitations/{inv2}/decline"),
        Some(&cy.token),
        json!({}),
    )
    .await
    .assert_status(200);
    let r = app
        .post(
            &format!("/api/v1/me/invitations/{inv2}/accept"),
            Some(&cy.token),
            json!({}),
        )
        .await;
    r.assert_problem(409, "invitation_not_pending");
    assert_eq!(level(&app, &cy.token, &id).await, None);
}

async fn expiry_reads_at_once_and_answers_410(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let id = vehicle(&app, &owner, "Van", None).await;
    let soon = (Utc::now() + Duration::minutes(5)).to_rfc3339();
    let r = send(&app, &owner.token, json!({"asset_id": id, "email": "eve@example.com", "permission": "view", "expires_at": soon})).await;
    let inv = r.body["id"].as_str().expect("id").to_owned();
    let token = app
        .wait_for_email("eve@example.com", "invited you")
        .await
        .token();
    app.clock.advance(Duration::minutes(6));
    let detail = app
        .get(
            &format!("/api/v1/asset-invitations/{inv}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(detail.body["status"], "expired");
    app.post("/api/v1/invitations/decline", None, json!({"token": token}))
        .await
        .assert_problem(410, "invitation_expired");
    let r = app
        .post(
            &format!("/api/v1/asset-invitations/{inv}/resend"),
            Some(&owner.token),
            json!({}),
        )
        .await;
    r.assert_problem(409, "invitation_not_pending");
    assert_eq!(r.body["invitation_status"], "expired");
    let stats = app
        .get("/api/v1/asset-invitations/stats", Some(&owner.token))
        .await;
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
    let owner = app.register_verified("owner").await;
    let mallory = app.register_verified("mallory").await;
    let id = vehicle(&app, &owner, "Van", None).await;
    let (inv, token) = invite(&app, &owner, &id, "fay@example.com", "view").await;
    app.post(
        "/api/v1/invitations/accept",
        Some(&mallory.token),
        json!({"token": token}),
    )
    .await
    .assert_problem(403, "invitation_email_mismatch");
    assert_eq!(
        app.get(
            &format!("/api/v1/asset-invitations/{inv}"),
            Some(&owner.token)
        )
        .await
        .body["status"],
        "pending"
    );
    assert_eq!(level(&app, &mallory.token, &id).await, None);
    app.post(
        &format!("/api/v1/me/invitations/{inv}/accept"),
        Some(&mallory.token),
        json!({}),
    )
    .await
    .assert_problem(404, "invitation_not_found");
}

async fn sending_rules_and_errors(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let member = app.register("member").await;
    let id = vehicle(&app, &owner, "Van", None).await;
    app.post(
        "/api/v1/household/members",
        Some(&owner.token),
        json!({"username": "member", "role": "manager"}),
    )
    .await
    .assert_status(201);
    send(
        &app,
        &member.token,
        json!({"asset_id": id, "email": "x@example.com", "permission": "view"}),
    )
    .await
    .assert_problem(403, "full_access_required");
    send(
        &app,
        &owner.token,
        json!({"asset_id": uuid::Uuid::new_v4(), "email": "x@example.com", "permission": "view"}),
    )
    .await
    .assert_problem(404, "asset_not_found");
    send(
        &app,
        &owner.token,
        json!({"asset_id": id, "email": "owner@example.com", "permission": "view"}),
    )
    .await
    .assert_problem(422, "self_invitation");
    let bad = send(&app, &owner.token, json!({"asset_id": id, "email": "x", "permission": "full", "message": "m".repeat(1001),
        "expires_at": (Utc::now() - Duration::hours(1)).to_rfc3339(), "access_expires_at": (Utc::now() - Duration::hours(1)).to_rfc3339()})).await;
    bad.assert_problem(422, "validation_failed");
    for field in [
        "email",
        "permission",
        "message",
        "expires_at",
        "access_expires_at",
    ] {
        assert!(
            bad.body["errors"][field].is_string(),
            "{field}: {}",
            bad.text
        );
    }
    send(&app, &owner.token, json!({"asset_id": id, "email": "x@example.com", "permission": "view", "message": "m".repeat(1000)})).await.assert_status(201);
    send(
        &app,
        &owner.token,
        json!({"asset_id": id, "email": "X@example.com", "permission": "edit"}),
    )
    .await
    .assert_problem(409, "invitation_pending");
    // The asset's own route does the same.
    let r = app
        .post(
            &format!("/api/v1/assets/{id}/invitations"),
            Some(&owner.token),
            json!({"email": "y@example.com", "permission": "edit"}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["asset"]["id"], id.as_str());
    app.post(
        &format!("/api/v1/assets/{id}/invitations"),
        Some(&member.token),
        json!({"email": "z@example.com", "permission": "edit"}),
    )
    .await
    .assert_problem(403, "full_access_required");
}

async fn token_rules_single_use_hashed_rotated(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let gus = app.register("gus").await;
    let id = vehicle(&app, &owner, "Van", None).await;
    let (inv, old) = invite(&app, &owner, &id, "gus@example.com", "view").await;
    // Stored only as a hash.
    let stored: Vec<String> = app.with_db(|c| {
        use diesel::prelude::*;
        use keyholder_store::schema::invitations::dsl::*;
        invitations.select(token_hash).load(c).map_err(Into::into)
    });
    assert_eq!(
        stored,
        vec![
            keyholder_domain::token::TokenHash::of(&old)
                .as_str()
                .to_owned()
        ]
    );
    assert!(!stored[0].contains(&old));
    // Rotated on resend.
    app.post(
        &format!("/api/v1/asset-invitations/{inv}/resend"),
        Some(&owner.token),
        json!({}),
    )
    .await
    .assert_status(200);
    let new = app
        .wait_for_nth_email("gus@example.com", "invited you", 2)
        .await
        .token();
    app.post(
        "/api/v1/invitations/accept",
        Some(&gus.token),
        json!({"token": old}),
    )
    .await
    .assert_problem(404, "invitation_not_found");
    // Single use.
    app.post(
        "/api/v1/invitations/accept",
        Some(&gus.token),
        json!({"token": new}),
    )
    .await
    .assert_status(200);
    app.post(
        "/api/v1/invitations/accept",
        Some(&gus.token),
        json!({"token": new}),
    )
    .await
    .assert_problem(409, "invitation_not_pending");
    // Delivered emails keep no token in the outbox.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let bodies: Vec<String> = app.with_db(|c| {
        use diesel::prelude::*;
        use keyholder_store::schema::mail_outbox::dsl::*;
        mail_outbox
            .filter(status.eq("sent"))
            .select(body_text)
            .load(c)
            .map_err(Into::into)
    });
    assert!(
        bodies
            .iter()
            .all(|b| !b.contains(&new) && !b.contains(&old))
    );
}

async fn table_search_filters_sort_pages_and_visibility(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let other = app.register_verified("other").await;
    let van = vehicle(&app, &owner, "Van 7", Some("KX21")).await;
    let truck = vehicle(&app, &owner, "Big Truck", None).await;
    let theirs = vehicle(&app, &other, "Other's", None).await;
    for (asset, email, perm, minutes) in [
        (&van, "alpha@example.com", "view", Some(40)),
        (&van, "bravo@example.com", "edit", None),
        (&truck, "charlie@example.com", "manage", Some(10)),
    ] {
        let mut body = json!({"asset_id": asset, "email": email, "permission": perm});
        if let Some(m) = minutes {
            body["expires_at"] = json!((Utc::now() + Duration::minutes(m)).to_rfc3339());
        }
        send(&app, &owner.token, body).await.assert_status(201);
        app.clock.advance(Duration::seconds(1));
    }
    send(
        &app,
        &other.token,
        json!({"asset_id": theirs, "email": "zulu@example.com", "permission": "view"}),
    )
    .await
    .assert_status(201);
    let emails = |r: &keyholder_tests::Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["email"].as_str().expect("email").to_owned())
            .collect()
    };
    let all = app
        .get("/api/v1/asset-invitations", Some(&owner.token))
        .await;
    assert_eq!(
        emails(&all),
        [
            "charlie@example.com",
            "bravo@example.com",
            "alpha@example.com"
        ],
        "newest first; only my assets"
    );
    let q = app
        .get("/api/v1/asset-invitations?q=TRUCK", Some(&owner.token))
        .await;
    assert_eq!(emails(&q), ["charlie@example.com"]);
    let q = app
        .get("/api/v1/asset-invitations?q=Bravo", Some(&owner.token))
        .await;
    assert_eq!(emails(&q), ["bravo@example.com"]);
    let q = app
        .get("/api/v1/asset-invitations?q=kx21", Some(&owner.token))
        .await;
    assert_eq!(q.body["total"], 2);
    let p = app
        .get(
            "/api/v1/asset-invitations?permission=edit",
            Some(&owner.token),
        )
        .await;
    assert_eq!(emails(&p), ["bravo@example.com"]);
    let a = app
        .get(
            &format!("/api/v1/asset-invitations?asset_id={truck}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(emails(&a), ["charlie@example.com"]);
    let s = app
        .get(
            "/api/v1/asset-invitations?sort=expires_at",
            Some(&owner.token),
        )
        .await;
    assert_eq!(
        emails(&s),
        [
            "charlie@example.com",
            "alpha@example.com",
            "bravo@example.com"
        ],
        "never expires last"
    );
    let s = app
        .get(
            "/api/v1/asset-invitations?sort=-expires_at",
            Some(&owner.token),
        )
        .await;
    assert_eq!(
        emails(&s),
        [
            "bravo@example.com",
            "alpha@example.com",
            "charlie@example.com"
        ]
    );
    let s = app
        .get("/api/v1/asset-invitations?sort=email", Some(&owner.token))
        .await;
    assert_eq!(
        emails(&s),
        [
            "alpha@example.com",
            "bravo@example.com",
            "charlie@example.com"
        ]
    );
    let s = app
        .get(
            "/api/v1/asset-invitations?sort=invited_at",
            Some(&owner.token),
        )
        .await;
    assert_eq!(
        emails(&s),
        [
            "alpha@example.com",
            "bravo@example.com",
            "charlie@example.com"
        ]
    );
    let page = app
        .get(
            "/api/v1/asset-invitations?per_page=2&page=2",
            Some(&owner.token),
        )
        .await;
    assert_eq!(emails(&page), ["alpha@example.com"]);
    assert_eq!(page.body["total"], 3);
    app.clock.advance(Duration::minutes(20));
    let expired = app
        .get(
            "/api/v1/asset-invitations?status=expired",
            Some(&owner.token),
        )
        .await;
    assert_eq!(emails(&expired), ["charlie@example.com"]);
    let pending = app
        .get(
            "/api/v1/asset-invitations?status=pending",
            Some(&owner.token),
        )
        .await;
    assert_eq!(emails(&pending), ["bravo@example.com", "alpha@example.com"]);
    for bad in ["status=open", "permission=full", "sort=name", "per_page=0"] {
        app.get(
            &format!("/api/v1/asset-invitations?{bad}"),
            Some(&owner.token),
        )
        .await
        .assert_problem(422, "validation_failed");
    }
    // The per-asset table, and details, need full access.
    let t = app
        .get(
            &format!("/api/v1/assets/{van}/invitations"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(t.body["total"], 2);
    app.get(
        &format!("/api/v1/assets/{van}/invitations"),
        Some(&other.token),
    )
    .await
    .assert_problem(404, "asset_not_found");
    let theirs_row = app
        .get("/api/v1/asset-invitations", Some(&other.token))
        .await;
    let their_inv = theirs_row.body["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.get(
        &format!("/api/v1/asset-invitations/{their_inv}"),
        Some(&owner.token),
    )
    .await
    .assert_problem(404, "invitation_not_found");
}

async fn stats_cards_follow_the_table(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let other = app.register_verified("other").await;
    let van = vehicle(&app, &owner, "Van", None).await;
    let truck = vehicle(&app, &owner, "Truck", None).await;
    let (a, _) = invite(&app, &owner, &van, "a@example.com", "view").await;
    let (_, b) = invite(&app, &owner, &van, "b@example.com", "view").await;
    let (_, c) = invite(&app, &owner, &truck, "c@example.com", "view").await;
    invite(&app, &owner, &truck, "d@example.com", "view").await;
    app.post(
        &format!("/api/v1/asset-invitations/{a}/cancel"),
        Some(&owner.token),
        json!({}),
    )
    .await
    .assert_status(200);
    app.post("/api/v1/invitations/decline", None, json!({"token": b}))
        .await
        .assert_status(200);
    app.post(
        "/api/v1/invitations/accept-signup",
        None,
        json!({"token": c, "username": "ccc", "password": PASSWORD}),
    )
    .await
    .assert_status(201);
    let stats = app
        .get("/api/v1/asset-invitations/stats", Some(&owner.token))
        .await;
    assert_eq!(
        stats.body,
        json!({"total": 4, "pending": 1, "accepted": 1, "declined": 1, "expired": 0, "cancelled": 1})
    );
    let van_stats = app
        .get(
            &format!("/api/v1/asset-invitations/stats?asset_id={van}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(
        van_stats.body,
        json!({"total": 2, "pending": 0, "accepted": 0, "declined": 1, "expired": 0, "cancelled": 1})
    );
    let none = app
        .get("/api/v1/asset-invitations/stats", Some(&other.token))
        .await;
    assert_eq!(none.body["total"], 0, "same visibility as the table");
}

async fn shares_merge_change_expire_revoke_and_drop(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let hal = app.register_verified("hal").await;
    let id = vehicle(&app, &owner, "Van", None).await;
    let soon = Utc::now() + Duration::minutes(20);
    let later = Utc::now() + Duration::days(10);
    send(&app, &owner.token, json!({"asset_id": id, "email": "hal@example.com", "permission": "edit", "access_expires_at": soon.to_rfc3339()})).await.assert_status(201);
    let t1 = app
        .wait_for_email("hal@example.com", "invited you")
        .await
        .token();
    app.post(
        "/api/v1/invitations/accept",
        Some(&hal.token),
        json!({"token": t1}),
    )
    .await
    .assert_status(200);
    // A second, lower invitation with a later access expiry: the higher level
    // and the later expiry win.
    send(&app, &owner.token, json!({"asset_id": id, "email": "hal@example.com", "permission": "view", "access_expires_at": later.to_rfc3339()})).await.assert_status(201);
    let t2 = app
        .wait_for_nth_email("hal@example.com", "invited you", 2)
        .await
        .token();
    app.post(
        "/api/v1/invitations/accept",
        Some(&hal.token),
        json!({"token": t2}),
    )
    .await
    .assert_status(200);
    let shares = app
        .get(&format!("/api/v1/assets/{id}/shares"), Some(&owner.token))
        .await;
    assert_eq!(shares.body.as_array().expect("list").len(), 1);
    assert_eq!(shares.body[0]["permission"], "edit");
    let until = chrono::DateTime::parse_from_rfc3339(
        shares.body[0]["access_expires_at"].as_str().expect("until"),
    )
    .expect("time");
    assert!((until.with_timezone(&Utc) - later).num_seconds().abs() < 2);
    // Change it.
    let path = format!("/api/v1/assets/{id}/shares/{}", hal.id);
    let changed = app
        .patch(
            &path,
            Some(&owner.token),
            json!({"permission": "manage", "access_expires_at": soon.to_rfc3339()}),
        )
        .await;
    changed.assert_status(200);
    assert_eq!(changed.body["permission"], "manage");
    assert_eq!(
        level(&app, &hal.token, &id).await.as_deref(),
        Some("manage")
    );
    app.patch(&path, Some(&owner.token), json!({"permission": "full"}))
        .await
        .assert_problem(422, "validation_failed");
    app.patch(
        &path,
        Some(&owner.token),
        json!({"access_expires_at": (Utc::now() - Duration::hours(1)).to_rfc3339()}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.patch(&path, Some(&hal.token), json!({"permission": "manage"}))
        .await
        .assert_problem(403, "full_access_required");
    // Access ends the moment the expiry passes: checks and the garage.
    app.clock
        .advance(Duration::minutes(20) + Duration::seconds(1));
    assert_eq!(level(&app, &hal.token, &id).await, None);
    assert_eq!(
        app.get("/api/v1/assets", Some(&hal.token)).await.body["total"],
        0
    );
    let listed = app
        .get(&format!("/api/v1/assets/{id}/shares"), Some(&owner.token))
        .await;
    assert_eq!(listed.body[0]["active"], false);
    // Never again: null expiry.
    let renewed = app
        .patch(
            &path,
            Some(&owner.token),
            json!({"access_expires_at": null}),
        )
        .await;
    assert!(renewed.body["access_expires_at"].is_null());
    assert_eq!(
        level(&app, &hal.token, &id).await.as_deref(),
        Some("manage")
    );
    // The holder drops it.
    app.delete(&format!("/api/v1/me/shares/{id}"), Some(&hal.token))
        .await
        .assert_status(204);
    assert_eq!(level(&app, &hal.token, &id).await, None);
    app.delete(&format!("/api/v1/me/shares/{id}"), Some(&hal.token))
        .await
        .assert_problem(404, "share_not_found");
    app.delete(&path, Some(&owner.token))
        .await
        .assert_problem(404, "share_not_found");
}

async fn concurrent_accept_decline_cancel_leave_one_share(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ivy = app.register("ivy").await;
    let id = vehicle(&app, &owner, "Van", None).await;
    for round in 0..3 {
        let (inv, token) = invite(&app, &owner, &id, "ivy@example.com", "view").await;
        let mut tasks = Vec::new();
        for i in 0..12 {
            let client = app.client.clone();
            let base = app.address.clone();
            let (token, owner_token, ivy_token, inv) = (
                token.clone(),
                owner.token.clone(),
                ivy.token.clone(),
                inv.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let req = match (i + round) % 3 {
                    0 => client
                        .post(format!("{base}/api/v1/invitations/accept"))
                        .bearer_auth(ivy_token)
                        .json(&json!({"token": token})),
                    1 => client
                        .post(format!("{base}/api/v1/invitations/decline"))
                        .json(&json!({"token": token})),
                    _ => client
                        .post(format!("{base}/api/v1/asset-invitations/{inv}/cancel"))
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
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 409),
            "{statuses:?}"
        );
        let status = app
            .get(
                &format!("/api/v1/asset-invitations/{inv}"),
                Some(&owner.token),
            )
            .await
            .body["status"]
            .clone();
        let shares = app
            .get(&format!("/api/v1/assets/{id}/shares"), Some(&owner.token))
            .await;
        let held = shares.body.as_array().expect("list").len();
        if status == "accepted" {
            assert_eq!(held, 1);
        }
        if held == 1 {
            app.delete(&format!("/api/v1/me/shares/{id}"), Some(&ivy.token))
                .await
                .assert_status(204);
        }
    }
}

async fn transitions_and_share_changes_are_audited(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let jo = app.register("jojo").await;
    let id = vehicle(&app, &owner, "Van", None).await;
    let (inv, _) = invite(&app, &owner, &id, "jojo@example.com", "view").await;
    app.post(
        &format!("/api/v1/asset-invitations/{inv}/resend"),
        Some(&owner.token),
        json!({}),
    )
    .await
    .assert_status(200);
    let token = app
        .wait_for_nth_email("jojo@example.com", "invited you", 2)
        .await
        .token();
    app.post(
        "/api/v1/invitations/accept",
        Some(&jo.token),
        json!({"token": token}),
    )
    .await
    .assert_status(200);
    let path = format!("/api/v1/assets/{id}/shares/{}", jo.id);
    app.patch(&path, Some(&owner.token), json!({"permission": "edit"}))
        .await
        .assert_status(200);
    app.delete(&path, Some(&owner.token))
        .await
        .assert_status(204);
    let (inv2, _) = invite(&app, &owner, &id, "x@example.com", "view").await;
    app.post(
        &format!("/api/v1/asset-invitations/{inv2}/cancel"),
        Some(&owner.token),
        json!({}),
    )
    .await
    .assert_status(200);
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
    assert_eq!(
        accepted.actor_id.map(|a| a.to_string()),
        Some(jo.id.clone())
    );
    assert_eq!(accepted.after.as_ref().expect("after")["role"], "view");
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
        the_table_walks_by_cursor_in_every_sort,
        table_cursors_the_server_did_not_give_are_refused,
        table_totals_stop_at_one_thousand_and_stats_stay_exact,
        root_walks_every_invitation_by_cursor,
    );

    fn id(s: &str) -> Uuid {
        Uuid::parse_str(s).expect("uuid")
    }

    /// `(asset, email, invited_at, expires_at)`.
    type Row<'a> = (&'a str, &'a str, DateTime<Utc>, Option<DateTime<Utc>>);

    /// Invitations written straight to the database, so times can tie, all
    /// pending.
    fn seed(app: &TestApp, by: &Session, rows: &[Row<'_>]) {
        let by = id(&by.id);
        app.app_state
            .db
            .write(|c| {
                for (asset, email, at, expires) in rows {
                    let token = Uuid::new_v4().to_string();
                    invitations::insert(
                        c,
                        &NewInvitation {
                            resource_type: ResourceType::Asset,
                            resource_id: id(asset),
                            email,
                            role: "view",
                            message: None,
                            token_hash: &token,
                            invited_by: by,
                            expires_at: *expires,
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

    fn time(v: &Value) -> Option<DateTime<Utc>> {
        v.as_str()
            .map(|s| DateTime::parse_from_rfc3339(s).expect("rfc 3339").to_utc())
    }

    /// The order `sort` promises: the column (expiry "never" after every
    /// date), then the id, both in the sort's direction.
    fn in_sort_order(items: &[Value], sort: &str) -> Vec<String> {
        let mut sorted = items.to_vec();
        let (descending, column) = match sort.strip_prefix('-') {
            Some(c) => (true, c),
            None if sort.is_empty() => (true, "invited_at"),
            None => (false, sort),
        };
        sorted.sort_by(|a, b| {
            let by_column = match column {
                "invited_at" => time(&a["invited_at"]).cmp(&time(&b["invited_at"])),
                "expires_at" => {
                    let key = |v: &Value| (v["expires_at"].is_null(), time(&v["expires_at"]));
                    key(a).cmp(&key(b))
                }
                "email" => a["email"].as_str().cmp(&b["email"].as_str()),
                other => panic!("no sort {other}"),
            };
            let order = by_column.then_with(|| a["id"].as_str().cmp(&b["id"].as_str()));
            if descending { order.reverse() } else { order }
        });
        ids(&sorted)
    }

    async fn vehicle(app: &TestApp, owner: &Session, name: &str) -> String {
        app.create_asset(owner, serde_json::json!({"name": name}))
            .await
    }

    async fn the_table_walks_by_cursor_in_every_sort(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let other = app.register_verified("other").await;
        let van = vehicle(&app, &owner, "Van").await;
        let truck = vehicle(&app, &owner, "Truck").await;
        let theirs = vehicle(&app, &other, "Theirs").await;
        let t0 = Utc::now() - Duration::hours(1);
        let s = Duration::seconds;
        let soon = Some(Utc::now() + Duration::days(3));
        let later = Some(Utc::now() + Duration::days(9));
        // Ties everywhere: invited_at, expiry (set and never), and an email
        // on both assets.
        seed(
            &app,
            &owner,
            &[
                (&van, "alpha@example.com", t0, soon),
                (&van, "bravo@example.com", t0, None),
                (&van, "delta@example.com", t0 + s(1), later),
                (&truck, "alpha@example.com", t0 + s(1), soon),
                (&truck, "charlie@example.com", t0 + s(2), None),
                (&truck, "echo@example.com", t0 + s(2), None),
                (&van, "foxtrot@example.com", t0 + s(3), soon),
            ],
        );
        seed(&app, &other, &[(&theirs, "zulu@example.com", t0, None)]);
        for sort in [
            "",
            "invited_at",
            "-invited_at",
            "expires_at",
            "-expires_at",
            "email",
            "-email",
        ] {
            let path = if sort.is_empty() {
                "/api/v1/asset-invitations".to_owned()
            } else {
                format!("/api/v1/asset-invitations?sort={sort}")
            };
            let sep = if sort.is_empty() { '?' } else { '&' };
            let full = app
                .get(&format!("{path}{sep}per_page=100"), Some(&owner.token))
                .await;
            full.assert_status(200);
            let all = full.body["items"].as_array().expect("items").clone();
            assert_eq!(all.len(), 7, "only my assets' invitations ({sort})");
            assert_eq!(full.body["total"], 7);
            assert_eq!(full.body["total_exact"], true);
            assert!(full.body["next_cursor"].is_null());
            assert_eq!(ids(&all), in_sort_order(&all, sort), "sort {sort:?}");
            let (walked, pages) = app.walk(&owner.token, &path, 2).await;
            assert_eq!(ids(&walked), ids(&all), "the walk is one big page ({sort})");
            assert_eq!(pages, 4, "{sort}");
            let unique: HashSet<String> = ids(&walked).into_iter().collect();
            assert_eq!(unique.len(), 7, "no duplicates ({sort})");
        }
        // The per-asset table, filters and page numbers page the same way.
        for (path, n) in [
            (
                format!("/api/v1/assets/{van}/invitations?sort=-expires_at"),
                4,
            ),
            (format!("/api/v1/assets/{truck}/invitations?sort=email"), 3),
            (
                "/api/v1/asset-invitations?status=pending&sort=expires_at".to_owned(),
                7,
            ),
            (
                "/api/v1/asset-invitations?q=ALPHA&sort=-email".to_owned(),
                2,
            ),
            (
                "/api/v1/asset-invitations?q=truck&sort=invited_at".to_owned(),
                3,
            ),
        ] {
            let full = app
                .get(&format!("{path}&per_page=100"), Some(&owner.token))
                .await;
            full.assert_status(200);
            let all = full.body["items"].as_array().expect("items").clone();
            assert_eq!(all.len(), n, "{path}");
            assert_eq!(full.body["total"], n, "{path}");
            let (walked, _) = app.walk(&owner.token, &path, 2).await;
            assert_eq!(ids(&walked), ids(&all), "{path}");
        }
        let full = app
            .get(
                "/api/v1/asset-invitations?sort=email&per_page=100",
                Some(&owner.token),
            )
            .await;
        let all = ids(full.body["items"].as_array().expect("items"));
        let second = app
            .get(
                "/api/v1/asset-invitations?sort=email&per_page=2&page=2",
                Some(&owner.token),
            )
            .await;
        second.assert_status(200);
        assert_eq!(
            ids(second.body["items"].as_array().expect("items")),
            all[2..4]
        );
        assert_eq!(second.body["page"], 2);
        assert_eq!(second.body["total"], 7);
        // Its cursor goes on from there.
        let next = second.body["next_cursor"].as_str().expect("more");
        let third = app
            .get(
                &format!("/api/v1/asset-invitations?sort=email&per_page=2&cursor={next}"),
                Some(&owner.token),
            )
            .await;
        assert_eq!(
            ids(third.body["items"].as_array().expect("items")),
            all[4..6]
        );
    }

    async fn table_cursors_the_server_did_not_give_are_refused(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let van = vehicle(&app, &owner, "Van").await;
        let t0 = Utc::now() - Duration::hours(1);
        seed(
            &app,
            &owner,
            &[
                (&van, "alpha@example.com", t0, None),
                (&van, "bravo@example.com", t0, None),
                (&van, "charlie@example.com", t0, None),
            ],
        );
        for bad in ["not-a-cursor", "e30", "eyJrIjoieCIsImkiOiJ5In0", "%20"] {
            let r = app
                .get(
                    &format!("/api/v1/asset-invitations?cursor={bad}"),
                    Some(&owner.token),
                )
                .await;
            r.assert_problem(422, "validation_failed");
            assert!(!r.body["errors"]["cursor"].is_null(), "{}", r.text);
        }
        // An email sort's cursor is no position in the invitation times.
        let by_email = app
            .get(
                "/api/v1/asset-invitations?sort=email&per_page=1",
                Some(&owner.token),
            )
            .await;
        let cursor = by_email.body["next_cursor"].as_str().expect("more");
        let r = app
            .get(
                &format!("/api/v1/asset-invitations?sort=invited_at&cursor={cursor}"),
                Some(&owner.token),
            )
            .await;
        r.assert_problem(422, "validation_failed");
        assert!(!r.body["errors"]["cursor"].is_null(), "{}", r.text);
        // The asset comes first: a stranger's garbage cursor is still 404.
        let stranger = app.register_verified("stranger").await;
        app.get(
            &format!("/api/v1/assets/{van}/invitations?cursor=garbage"),
            Some(&stranger.token),
        )
        .await
        .assert_status(404);
    }

    async fn table_totals_stop_at_one_thousand_and_stats_stay_exact(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let van = vehicle(&app, &owner, "Van").await;
        let truck = vehicle(&app, &owner, "Truck").await;
        let t0 = Utc::now() - Duration::hours(2);
        let emails: Vec<String> = (0..1002).map(|n| format!("p{n:04}@example.com")).collect();
        let rows: Vec<Row<'_>> = emails
            .iter()
            .enumerate()
            .map(|(n, e)| {
                let asset = if n % 2 == 0 {
                    van.as_str()
                } else {
                    truck.as_str()
                };
                (
                    asset,
                    e.as_str(),
                    t0 + Duration::seconds(i64::try_from(n % 7).unwrap_or(0)),
                    None,
                )
            })
            .collect();
        seed(&app, &owner, &rows);
        // One more, pending but past its expiry (not yet swept): expired.
        seed(
            &app,
            &owner,
            &[(
                &van,
                "late@example.com",
                t0 - Duration::days(3),
                Some(t0 - Duration::days(1)),
            )],
        );
        for path in [
            "/api/v1/asset-invitations",
            "/api/v1/asset-invitations?status=pending",
            "/api/v1/asset-invitations?q=example",
            "/api/v1/asset-invitations?permission=view&sort=email",
        ] {
            let r = app.get(path, Some(&owner.token)).await;
            r.assert_status(200);
            assert_eq!(r.body["total"], 1000, "{path}");
            assert_eq!(r.body["total_exact"], false, "{path}");
            assert_eq!(r.body["items"].as_array().expect("items").len(), 25);
        }
        let expired = app
            .get(
                "/api/v1/asset-invitations?status=expired",
                Some(&owner.token),
            )
            .await;
        assert_eq!(expired.body["total"], 1);
        assert_eq!(expired.body["total_exact"], true);
        assert_eq!(expired.body["items"][0]["email"], "late@example.com");
        let van_only = app
            .get(
                &format!("/api/v1/asset-invitations?asset_id={van}&status=pending"),
                Some(&owner.token),
            )
            .await;
        assert_eq!(van_only.body["total"], 501);
        assert_eq!(van_only.body["total_exact"], true);
        let stats = app
            .get("/api/v1/asset-invitations/stats", Some(&owner.token))
            .await;
        stats.assert_status(200);
        assert_eq!(stats.body["total"], 1003);
        assert_eq!(stats.body["pending"], 1002);
        assert_eq!(stats.body["expired"], 1);
        let (walked, pages) = app
            .walk(
                &owner.token,
                "/api/v1/asset-invitations?sort=-expires_at",
                100,
            )
            .await;
        assert_eq!(pages, 11);
        let unique: HashSet<String> = ids(&walked).into_iter().collect();
        assert_eq!(unique.len(), 1003);
        assert_eq!(ids(&walked), in_sort_order(&walked, "-expires_at"));
        // Cancelling and accepting move the exact counts.
        let first = walked[0]["id"].as_str().expect("id").to_owned();
        app.post(
            &format!("/api/v1/asset-invitations/{first}/cancel"),
            Some(&owner.token),
            serde_json::json!({}),
        )
        .await
        .assert_status(200);
        let stats = app
            .get(
                &format!("/api/v1/asset-invitations/stats?asset_id={van}"),
                Some(&owner.token),
            )
            .await;
        let cancelled_on_van = walked[0]["asset"]["id"] == van.as_str();
        assert_eq!(stats.body["total"], 502);
        assert_eq!(stats.body["cancelled"], i64::from(cancelled_on_van));
        assert_eq!(stats.body["pending"], 501 - i64::from(cancelled_on_van));
        assert_eq!(stats.body["expired"], 1);
    }

    async fn root_walks_every_invitation_by_cursor(app: TestApp) {
        let app = TestApp::spawn_with(app.backend, |c| {
            c.root_email = Some("root@example.com".into());
            c.root_username = Some("root".into());
            c.root_password = Some("root password 123".into());
        })
        .await;
        let root = app.login("root", "root password 123").await;
        let root = root.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        let owner = app.register_verified("owner").await;
        let other = app.register_verified("other").await;
        let van = vehicle(&app, &owner, "Van").await;
        let theirs = vehicle(&app, &other, "Theirs").await;
        let t0 = Utc::now() - Duration::hours(1);
        let soon = Some(Utc::now() + Duration::days(3));
        seed(
            &app,
            &owner,
            &[
                (&van, "alpha@example.com", t0, soon),
                (&van, "bravo@example.com", t0, None),
                (&van, "charlie@example.com", t0, soon),
            ],
        );
        seed(
            &app,
            &other,
            &[
                (&theirs, "alpha@example.com", t0, None),
                (
                    &theirs,
                    "delta@example.com",
                    t0 + Duration::seconds(1),
                    soon,
                ),
            ],
        );
        for sort in [
            "-invited_at",
            "expires_at",
            "-expires_at",
            "email",
            "-email",
        ] {
            let path = format!("/api/v1/asset-invitations?sort={sort}");
            let full = app.get(&format!("{path}&per_page=100"), Some(&root)).await;
            full.assert_status(200);
            let all = full.body["items"].as_array().expect("items").clone();
            assert_eq!(all.len(), 5, "root sees every invitation");
            assert_eq!(full.body["total"], 5);
            assert_eq!(ids(&all), in_sort_order(&all, sort), "{sort}");
            let (walked, pages) = app.walk(&root, &path, 2).await;
            assert_eq!(ids(&walked), ids(&all), "{sort}");
            assert_eq!(pages, 3);
        }
        let q = app
            .get("/api/v1/asset-invitations?q=theirs&sort=email", Some(&root))
            .await;
        assert_eq!(q.body["total"], 2);
        let stats = app
            .get("/api/v1/asset-invitations/stats", Some(&root))
            .await;
        assert_eq!(stats.body["total"], 5);
        assert_eq!(stats.body["pending"], 5);
        let pending = app
            .get(
                &format!("/api/v1/asset-invitations?status=pending&asset_id={theirs}"),
                Some(&root),
            )
            .await;
        assert_eq!(pending.body["total"], 2);
        assert_eq!(pending.body["total_exact"], true);
    }
}
