//! Bulk asset invitations (`POST /asset-invitations/bulk`): several emails
//! times several assets in one all-or-nothing step, one email and one token
//! per recipient, the rows grouped in the management table by `batch_id`
//! and each still cancellable, and the limits counting recipients, on both
//! databases.

use keyholder_tests::{NOBODY, PASSWORD, Reply, Session, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    two_emails_by_three_assets_make_six_rows_two_emails_and_two_tokens,
    a_cancelled_row_is_not_granted_by_the_shared_token,
    declining_with_the_token_declines_every_row_and_tells_the_inviter_once,
    a_batch_is_all_or_nothing,
    the_request_is_checked_in_the_usual_order,
    resending_a_row_mails_the_recipient_all_their_pending_rows_with_a_new_link,
    the_daily_limit_counts_recipients_not_rows,
    the_per_minute_limit_counts_recipients,
);

// ---------------------------------------------------------------- helpers

/// Creates `n` vehicles named `Van 1`...; their ids.
async fn vans(app: &TestApp, owner: &Session, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 1..=n {
        ids.push(
            app.create_vehicle(owner, &format!("Van {i}"), Some(&format!("KX{i:02}"))).await.id,
        );
    }
    ids
}

/// Sends a bulk invitation offering `permission`.
async fn bulk(
    app: &TestApp,
    by: &Session,
    emails: &[&str],
    assets: &[String],
    permission: &str,
) -> Reply {
    let body = json!({"emails": emails, "asset_ids": assets, "permission": permission});
    app.try_send_bulk_invitation(by, body).await
}

/// The rows of a batch in the management table, as `by` sees them.
async fn batch_rows(app: &TestApp, by: &Session, batch: &str) -> Vec<Value> {
    let r = app.try_asset_invitations(by, format!("?batch_id={batch}&per_page=100")).await;
    r.assert_status(200);
    r.items().clone()
}

/// Sends a single invitation to a new sentinel address and waits for its
/// email: the mail worker delivers in order, so any email queued before it
/// has arrived by then.
async fn drain_mail(app: &TestApp, owner: &Session, asset: &str) {
    let n = app.emails().iter().filter(|m| m.to.starts_with("sentinel")).count();
    let to = format!("sentinel{n}@example.com");
    app.try_share_asset(owner, asset, &to, "view").await.assert_status(201);
    app.wait_for_email(&to, "invited you").await;
}

fn statuses(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["status"].as_str().expect("status")).collect()
}

// ---------------------------------------------------------------- scenarios

async fn two_emails_by_three_assets_make_six_rows_two_emails_and_two_tokens(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ann = app.register_verified("ann").await;
    let ids = vans(&app, &owner, 3).await;
    let body = json!({
        "emails": ["ann@example.com", "Bob@Example.com"],
        "asset_ids": ids,
        "permission": "edit",
        "message": "The fleet for the season",
    });
    let r = app.try_send_bulk_invitation(&owner, body).await;
    r.assert_status(201);
    let batch = r.str("batch_id");
    assert_eq!(r.body["recipients"], 2);
    let rows = r.body["invitations"].as_array().expect("invitations");
    assert_eq!(rows.len(), 6, "one row per email and asset: {}", r.text);
    for row in rows {
        assert_eq!(row["batch_id"], batch.as_str());
        assert_eq!(row["status"], "pending");
        assert_eq!(row["permission"], "edit");
    }
    assert_eq!(rows[3]["email"], "bob@example.com", "emails as parsed, in the order given");
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/asset-invitations?batch_id={batch}").as_str())
    );
    // Each row reads the same everywhere, with its batch.
    let one = app.try_get_asset_invitation(&owner, rows[0]["id"].as_str().expect("a string")).await;
    assert_eq!(one.body["batch_id"], batch.as_str());
    let of_asset = app.try_asset_invitations_of(&owner, &ids[0]).await;
    assert_eq!(of_asset.items().len(), 2);
    assert!(of_asset.items().iter().all(|i| i["batch_id"] == batch.as_str()));
    // One email per recipient, listing every asset.
    let mail = app.wait_for_email("ann@example.com", "invited you").await;
    assert_eq!(mail.subject, "owner invited you to 3 assets on Keyholder");
    for needle in
        ["- Van 1 (KX01)", "- Van 2 (KX02)", "- Van 3 (KX03)", "as edit access", "> The fleet"]
    {
        assert!(mail.body.contains(needle), "{needle:?} missing from {}", mail.body);
    }
    let bob_mail = app.wait_for_email("bob@example.com", "invited you").await;
    drain_mail(&app, &owner, &ids[0]).await;
    assert_eq!(app.emails_to("ann@example.com", "invited you").len(), 1);
    assert_eq!(app.emails_to("bob@example.com", "invited you").len(), 1);
    assert_ne!(mail.token(), bob_mail.token(), "one token per recipient");
    // The preview shows every asset offered.
    let preview = app.try_preview(&mail.token()).await;
    preview.assert_status(200);
    assert_eq!(preview.body["batch_id"], batch.as_str());
    assert_eq!(preview.body["status"], "pending");
    assert_eq!(preview.body["email"], "ann@example.com");
    let offered = preview.body["assets"].as_array().expect("assets");
    let names: Vec<&str> =
        offered.iter().map(|a| a["asset"]["name"].as_str().expect("a string")).collect();
    assert_eq!(names, ["Van 1", "Van 2", "Van 3"]);
    // Ann's one token accepts all three.
    let accepted = app.accept_invitation(&ann, &mail.token()).await;
    assert_eq!(accepted.body["status"], "accepted");
    assert_eq!(accepted.body["batch_id"], batch.as_str());
    assert_eq!(accepted.body["assets"].as_array().expect("assets").len(), 3);
    for id in &ids {
        assert_eq!(app.my_access(&ann, id).await.as_deref(), Some("edit"));
    }
    let garage = app.try_garage(&ann, "").await;
    assert_eq!(garage.items().len(), 3);
    // The inviter hears once, naming every asset.
    let told = app.wait_for_email("owner@example.com", "accepted your invitation").await;
    assert!(told.subject.contains("Van 1 (KX01), Van 2 (KX02), Van 3 (KX03)"), "{}", told.subject);
    // The token is spent: a second accept is 409.
    let again = app.try_accept(&ann, &mail.token()).await;
    again.assert_problem(409, "invitation_not_pending");
    // Bob signs up through his link and gets all three too.
    let signed = app.try_sign_up(&bob_mail.token(), "bob", PASSWORD).await;
    signed.assert_status(201);
    let bob = signed.str("access_token");
    for id in &ids {
        assert_eq!(app.my_access(&bob, id).await.as_deref(), Some("edit"));
    }
    drain_mail(&app, &owner, &ids[0]).await;
    assert_eq!(app.emails_to("owner@example.com", "accepted your invitation").len(), 2);
    // The table groups the batch; its stats count it.
    let table = batch_rows(&app, &owner, &batch).await;
    assert_eq!(table.len(), 6);
    assert!(statuses(&table).iter().all(|s| *s == "accepted"));
    let all = app.try_asset_invitations(&owner, "").await;
    assert_eq!(all.body["total"], 8, "the two sentinel invitations are not in the batch");
    let stats = app.try_asset_invitation_stats(&owner, format!("?batch_id={batch}")).await;
    assert_eq!(
        stats.body,
        json!({"total": 6, "pending": 0, "accepted": 6, "declined": 0, "expired": 0, "cancelled": 0})
    );
    // One invitation.created per row, each naming the batch, on each asset's trail.
    let trail = app.try_audit(&owner, format!("?resource_type=asset&resource_id={}", ids[1])).await;
    trail.assert_status(200);
    let created: Vec<&Value> =
        trail.items().iter().filter(|e| e["action"] == "invitation.created").collect();
    assert_eq!(created.len(), 2, "{}", trail.text);
    assert!(created.iter().all(|e| e["after"]["batch_id"] == batch.as_str()));
    let accepted_events =
        trail.items().iter().filter(|e| e["action"] == "invitation.accepted").count();
    assert_eq!(accepted_events, 2);
}

async fn a_cancelled_row_is_not_granted_by_the_shared_token(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let cal = app.register_verified("cal").await;
    let ids = vans(&app, &owner, 3).await;
    let r = bulk(&app, &owner, &["cal@example.com"], &ids, "view").await;
    r.assert_status(201);
    let batch = r.str("batch_id");
    let rows = r.body["invitations"].as_array().expect("rows").clone();
    let token = app.wait_for_email("cal@example.com", "invited you").await.token();
    // Cal also sees them row by row.
    let mine = app.try_my_invitations(&cal).await;
    assert_eq!(mine.items().len(), 3);
    assert!(mine.items().iter().all(|i| i["batch_id"] == batch.as_str()));
    // The middle row is cancelled on its own.
    let middle = rows[1]["id"].as_str().expect("a string");
    app.try_cancel_asset_invitation(&owner, middle, json!({})).await.assert_status(200);
    let preview = app.try_preview(&token).await;
    let offered: Vec<&str> = preview.body["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .map(|a| a["status"].as_str().expect("a string"))
        .collect();
    assert_eq!(offered, ["pending", "cancelled", "pending"]);
    let accepted = app.accept_invitation(&cal, &token).await;
    assert_eq!(accepted.body["assets"].as_array().expect("assets").len(), 2);
    assert_eq!(app.my_access(&cal, &ids[0]).await.as_deref(), Some("view"));
    assert_eq!(app.my_access(&cal, &ids[1]).await, None, "the cancelled row grants nothing");
    assert_eq!(app.my_access(&cal, &ids[2]).await.as_deref(), Some("view"));
    let table = batch_rows(&app, &owner, &batch).await;
    let mut seen = statuses(&table);
    seen.sort_unstable();
    assert_eq!(seen, ["accepted", "accepted", "cancelled"]);
    // A row already cancelled cannot be cancelled again.
    let again = app.try_cancel_asset_invitation(&owner, middle, json!({})).await;
    again.assert_problem(409, "invitation_not_pending");
    // A batch whose rows are all cancelled: the token answers 409 (410 once
    // any expired).
    let r = bulk(&app, &owner, &["dee@example.com"], &ids[..1], "view").await;
    let row = r.body["invitations"][0]["id"].as_str().expect("a string").to_owned();
    let dee = app.wait_for_email("dee@example.com", "invited you").await.token();
    app.try_cancel_asset_invitation(&owner, &row, json!({})).await.assert_status(200);
    let r = app.try_decline(&dee).await;
    r.assert_problem(409, "invitation_not_pending");
    assert_eq!(r.body["invitation_status"], "cancelled");
}

async fn declining_with_the_token_declines_every_row_and_tells_the_inviter_once(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ids = vans(&app, &owner, 3).await;
    let r = bulk(&app, &owner, &["eve@example.com", "fay@example.com"], &ids, "manage").await;
    r.assert_status(201);
    let batch = r.str("batch_id");
    let token = app.wait_for_email("eve@example.com", "invited you").await.token();
    let declined = app.try_decline(&token).await;
    declined.assert_status(200);
    assert_eq!(declined.body["status"], "declined");
    assert_eq!(declined.body["assets"].as_array().expect("assets").len(), 3);
    let table = batch_rows(&app, &owner, &batch).await;
    for row in &table {
        let expected = if row["email"] == "eve@example.com" { "declined" } else { "pending" };
        assert_eq!(row["status"], expected, "{row}");
    }
    app.wait_for_email("owner@example.com", "declined your invitation").await;
    drain_mail(&app, &owner, &ids[0]).await;
    assert_eq!(app.emails_to("owner@example.com", "declined your invitation").len(), 1);
    app.try_decline(&token).await.assert_problem(409, "invitation_not_pending");
    // Fay's link still answers Fay's rows.
    let fay = app.wait_for_email("fay@example.com", "invited you").await.token();
    let preview = app.try_preview(&fay).await;
    assert_eq!(preview.body["status"], "pending");
    // Once the batch expires, the link answers 410.
    app.clock.advance(chrono::Duration::days(1));
    let r = app
        .try_send_bulk_invitation(
            &owner,
            json!({"emails": ["gus@example.com"], "asset_ids": [ids[0]], "permission": "view",
                   "expires_at": (app.clock.now() + chrono::Duration::hours(1)).to_rfc3339()}),
        )
        .await;
    r.assert_status(201);
    let gus = app.wait_for_email("gus@example.com", "invited you").await.token();
    app.clock.advance(chrono::Duration::hours(2));
    app.try_decline(&gus).await.assert_problem(410, "invitation_expired");
}

async fn a_batch_is_all_or_nothing(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let other = app.register_verified("other").await;
    let ids = vans(&app, &owner, 2).await;
    // An asset the owner reaches with manage only (a share), and one of
    // another user's they cannot see at all.
    let theirs = app.create_vehicle(&other, "Truck", None).await.id;
    let hidden = app.create_vehicle(&other, "Crane", None).await.id;
    let token =
        app.send_asset_invitation(&other, &theirs, "owner@example.com", "manage").await.token;
    app.accept_invitation(&owner, &token).await;
    let with_shared = [ids[0].clone(), theirs.clone(), ids[1].clone()];
    let r = bulk(&app, &owner, &["hal@example.com", "ida@example.com"], &with_shared, "view").await;
    r.assert_problem(403, "full_access_required");
    assert_eq!(r.body["asset_ids"], json!([theirs]));
    let with_hidden = [ids[0].clone(), hidden.clone()];
    let r = bulk(&app, &owner, &["hal@example.com"], &with_hidden, "view").await;
    r.assert_problem(404, "assets_not_found");
    assert_eq!(r.body["asset_ids"], json!([hidden]));
    // A pair already pending refuses the whole batch, naming the pair.
    app.try_share_asset(&owner, &ids[1], "Ida@example.com", "view").await.assert_status(201);
    let r = bulk(&app, &owner, &["hal@example.com", "ida@example.com"], &ids, "view").await;
    r.assert_problem(409, "invitation_pending");
    assert_eq!(r.body["pairs"], json!([{"email": "ida@example.com", "asset_id": ids[1]}]));
    assert!(r.body["detail"].as_str().expect("a string").contains("ida@example.com"));
    // Nothing was written and no email went out for any refused batch.
    drain_mail(&app, &owner, &ids[0]).await;
    assert!(app.emails_to("hal@example.com", "invited you").is_empty());
    assert_eq!(app.emails_to("ida@example.com", "invited you").len(), 1, "the single one");
    let table = app.try_asset_invitations(&owner, "").await;
    assert_eq!(table.body["total"], 2, "the single invitation and the sentinel: {}", table.text);
    assert!(table.items().iter().all(|i| i["batch_id"].is_null()));
    let trail = app.try_audit(&owner, format!("?resource_type=asset&resource_id={}", ids[0])).await;
    let created = trail.items().iter().filter(|e| e["action"] == "invitation.created").count();
    assert_eq!(created, 1, "only the sentinel's: {}", trail.text);
    // Without the conflicting pair it goes through.
    bulk(&app, &owner, &["hal@example.com"], &ids, "view").await.assert_status(201);
}

async fn the_request_is_checked_in_the_usual_order(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ids = vans(&app, &owner, 2).await;
    // 401 without a token.
    let body = json!({"emails": ["x@example.com"], "asset_ids": ids, "permission": "view"});
    app.try_send_bulk_invitation(&NOBODY, body.clone()).await.assert_problem(401, "missing_token");
    // An unverified sender shares nothing.
    let fresh = app.register("fresh").await;
    let mine = vans(&app, &fresh, 1).await;
    let r = bulk(&app, &fresh, &["x@example.com"], &mine, "view").await;
    r.assert_problem(403, "email_not_verified");
    // Repeats, in any case, and bad values are named field by field.
    let r = app
        .try_send_bulk_invitation(
            &owner,
            json!({"emails": ["a@example.com", "A@Example.com", "nope"], "asset_ids": [ids[0], ids[1], ids[0]],
                   "permission": "full"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    for field in ["emails[2]", "asset_ids[2]", "permission"] {
        assert!(r.body["errors"][field].is_string(), "{field}: {}", r.text);
    }
    let r = app
        .try_send_bulk_invitation(
            &owner,
            json!({"emails": ["a@example.com", "A@Example.com"], "asset_ids": ids, "permission": "view"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert!(
        r.body["errors"]["emails[1]"].as_str().expect("a string").contains("repeats"),
        "{}",
        r.text
    );
    // At most 50 of each: 51 is 422.
    let many: Vec<String> = (0..51).map(|i| format!("p{i}@example.com")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = bulk(&app, &owner, &many, &ids, "view").await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["errors"]["emails"].is_string(), "{}", r.text);
    let r = bulk(&app, &owner, &many[..50], &ids[..1], "view").await;
    r.assert_status(201);
    assert_eq!(r.body["recipients"], 50);
    let r = app
        .try_send_bulk_invitation(
            &owner,
            json!({"emails": ["q@example.com"], "asset_ids": vec![ids[0].clone(); 51], "permission": "view"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["errors"]["asset_ids"].is_string(), "{}", r.text);
    let r = app
        .try_send_bulk_invitation(
            &owner,
            json!({"emails": ["q@example.com"], "asset_ids": [], "permission": "view"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    // Inviting yourself is refused, as for one invitation.
    let r = bulk(&app, &owner, &["q@example.com", "OWNER@example.com"], &ids, "view").await;
    r.assert_problem(422, "self_invitation");
    // An unknown member is refused.
    let r = app
        .try_send_bulk_invitation(
            &owner,
            json!({"emails": ["q@example.com"], "asset_ids": ids, "permission": "view", "extra": 1}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
}

async fn resending_a_row_mails_the_recipient_all_their_pending_rows_with_a_new_link(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let joe = app.register_verified("joe").await;
    let ids = vans(&app, &owner, 3).await;
    let r = bulk(&app, &owner, &["joe@example.com", "kim@example.com"], &ids, "view").await;
    let batch = r.str("batch_id");
    let rows = r.body["invitations"].as_array().expect("rows").clone();
    let old = app.wait_for_email("joe@example.com", "invited you").await.token();
    // One of Joe's rows is cancelled; resending another sends Joe one email
    // naming the two still pending, with a new link.
    app.try_cancel_asset_invitation(&owner, rows[2]["id"].as_str().expect("a string"), json!({}))
        .await
        .assert_status(200);
    let resent = app
        .try_resend_asset_invitation(&owner, rows[0]["id"].as_str().expect("a string"), json!({}))
        .await;
    resent.assert_status(200);
    assert_eq!(resent.body["resend_count"], 1);
    let mail = app.wait_for_nth_email("joe@example.com", "invited you", 2).await;
    assert!(mail.subject.contains("2 assets"), "{}", mail.subject);
    assert!(mail.body.contains("Van 2") && !mail.body.contains("Van 3"), "{}", mail.body);
    app.try_preview(&old).await.assert_problem(404, "invitation_not_found");
    let table = batch_rows(&app, &owner, &batch).await;
    let resent: Vec<(&str, &str)> = table
        .iter()
        .filter(|r| r["resend_count"] == 1)
        .map(|r| {
            (r["email"].as_str().expect("a string"), r["asset"]["name"].as_str().expect("a string"))
        })
        .collect();
    let mut resent = resent;
    resent.sort_unstable();
    assert_eq!(resent, [("joe@example.com", "Van 1"), ("joe@example.com", "Van 2")]);
    // Kim got nothing new.
    drain_mail(&app, &owner, &ids[0]).await;
    assert_eq!(app.emails_to("kim@example.com", "invited you").len(), 1);
    // The new link accepts Joe's two pending rows.
    let accepted = app.accept_invitation(&joe, &mail.token()).await;
    assert_eq!(accepted.body["assets"].as_array().expect("assets").len(), 2);
    assert_eq!(app.my_access(&joe, &ids[2]).await, None);
}

async fn the_daily_limit_counts_recipients_not_rows(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| c.invite_daily_limit = 5).await;
    let owner = app.register_verified("owner").await;
    let ids = vans(&app, &owner, 20).await;
    // 3 emails x 20 assets: 60 rows, 3 emails sent.
    let r = bulk(&app, &owner, &["a@example.com", "b@example.com", "c@example.com"], &ids, "view")
        .await;
    r.assert_status(201);
    assert_eq!(r.body["invitations"].as_array().expect("rows").len(), 60);
    // 3 more do not fit in the 2 left: refused whole, nothing written.
    let r =
        bulk(&app, &owner, &["d@example.com", "e@example.com", "f@example.com"], &ids[..1], "view")
            .await;
    r.assert_problem(429, "daily_invitation_limit");
    assert!(r.header("retry-after").is_some());
    let table = app.try_asset_invitations(&owner, "").await;
    assert_eq!(table.body["total"], 60, "{}", table.text);
    // 2 do.
    bulk(&app, &owner, &["d@example.com", "e@example.com"], &ids[..2], "view")
        .await
        .assert_status(201);
    let r = app.try_share_asset(&owner, &ids[0], "z@example.com", "view").await;
    r.assert_problem(429, "daily_invitation_limit");
}

async fn the_per_minute_limit_counts_recipients(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| c.action_rate_limit = 5).await;
    let owner = app.register_verified("owner").await;
    let ids = vans(&app, &owner, 3).await;
    bulk(&app, &owner, &["a@example.com", "b@example.com", "c@example.com"], &ids, "view")
        .await
        .assert_status(201);
    // 3 more do not fit in the 2 left this minute: refused whole.
    let r = bulk(&app, &owner, &["d@example.com", "e@example.com", "f@example.com"], &ids, "view")
        .await;
    r.assert_problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    // More than a minute ever allows is a 422: send fewer.
    let six = [
        "g@example.com",
        "h@example.com",
        "i@example.com",
        "j@example.com",
        "k@example.com",
        "l@example.com",
    ];
    let r = bulk(&app, &owner, &six, &ids, "view").await;
    r.assert_problem(422, "validation_failed");
    assert!(
        r.body["errors"]["emails"].as_str().expect("a string").contains("per minute"),
        "{}",
        r.text
    );
    // 2 fit.
    bulk(&app, &owner, &["d@example.com", "e@example.com"], &ids, "view").await.assert_status(201);
    let table = app.try_asset_invitations(&owner, "?per_page=1").await;
    assert_eq!(table.body["total"], 15, "{}", table.text);
}
