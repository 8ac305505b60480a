//! Client input the databases cannot hold: control characters (PostgreSQL
//! text cannot store NUL) in every string that reaches SQL, and dates outside
//! the years 1 to 9999 (SQLite compares timestamps as text). Each is a 4xx
//! problem naming the field, never a 500, on both databases. And the daily
//! invitation limit counts every email sent, resends included.

use keyholder_tests::{PASSWORD, Reply, TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(
    login_with_control_characters_is_401_without_a_lookup,
    usernames_with_control_characters_are_422,
    query_strings_with_control_characters_are_422,
    audit_filters_refuse_control_characters_and_out_of_range_years,
    record_dates_are_years_1_to_9999,
    json_strings_refuse_control_characters_but_free_text_keeps_line_breaks,
    expiry_in_year_9999_is_pending_and_usable_and_year_10000_is_422,
    unknown_body_fields_are_422_naming_them_and_change_nothing,
    bodies_that_are_not_objects_are_422_and_change_nothing,
);

/// Control characters a client might send, as JSON strings.
const CONTROLS: [&str; 6] = ["\u{0}", "\u{1}", "\u{1f}", "\u{7f}", "\u{85}", "\u{9f}"];

/// The same, percent-encoded for a query string, plus tab and line feed.
const ENCODED_CONTROLS: [&str; 8] = ["%00", "%01", "%1F", "%7F", "%C2%85", "%C2%9F", "%09", "%0A"];

/// A 422 `validation_failed` whose `errors` name `field`.
#[track_caller]
fn assert_field(r: &Reply, field: &str) {
    r.assert_problem(422, "validation_failed");
    assert!(r.body["errors"][field].is_string(), "errors should name {field}; body: {}", r.text);
}

async fn login_with_control_characters_is_401_without_a_lookup(app: TestApp) {
    app.register("owner").await;
    for c in CONTROLS {
        for login in [format!("owner{c}"), format!("owner@example.com{c}"), c.to_owned()] {
            app.login(&login, PASSWORD).await.assert_problem(401, "invalid_credentials");
        }
        // A password is only ever hashed: any character is a wrong password.
        app.login("owner", &format!("{PASSWORD}{c}"))
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.login("owner", PASSWORD).await.assert_status(200);
}

async fn usernames_with_control_characters_are_422(app: TestApp) {
    let owner = app.register_verified("owner").await;
    app.register_verified("bob").await;
    let asset = app.create_asset(&owner, json!({"name": "Van 7"})).await.id;
    for c in CONTROLS {
        let name = format!("bob{c}");
        let r = app.try_collaborate(&owner, &asset, &name).await;
        assert_field(&r, "username");
        let r = app.try_add_to_household(&owner, &name, "editor").await;
        assert_field(&r, "username");
        let r = app
            .try_bulk_add_collaborators(
                &owner,
                json!({"asset_ids": [asset], "usernames": ["bob", name]}),
            )
            .await;
        assert_field(&r, "usernames[1]");
    }
    // Nothing was added on the way.
    let r = app.try_collaborators(&owner, &asset).await;
    r.assert_status(200);
    assert_eq!(r.body["items"].as_array().map(Vec::len), Some(1), "{}", r.text);
    app.try_collaborate(&owner, &asset, "bob").await.assert_status(201);
}

async fn query_strings_with_control_characters_are_422(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let asset = app.create_asset(&owner, json!({"name": "Van 7"})).await.id;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    for c in ENCODED_CONTROLS {
        for (path, field) in [
            (format!("/api/v1/assets?q=van{c}"), "q"),
            (format!("/api/v1/asset-invitations?q=x{c}y"), "q"),
            (format!("/api/v1/assets/{asset}/invitations?q={c}"), "q"),
            (format!("/api/v1/asset-invitations?status=pending{c}"), "status"),
            (format!("/api/v1/asset-invitations?sort=email{c}"), "sort"),
            (format!("/api/v1/estates/{estate}/user-search?email=bob{c}@example.com"), "email"),
            (format!("/api/v1/estates/{estate}/invitations?status={c}"), "status"),
            (format!("/api/v1/collaborators?asset_ids={asset}{c}"), "asset_ids"),
        ] {
            let r = app.get(&path, Some(&owner.token)).await;
            assert!(r.status < 500, "{path}: {}", r.text);
            assert_field(&r, field);
        }
    }
    // A sort that is empty or padded is none of the six the contract lists.
    for path in [
        "/api/v1/asset-invitations?sort=".to_owned(),
        "/api/v1/asset-invitations?sort=%20email".to_owned(),
        format!("/api/v1/estates/{estate}/invitations?sort="),
        format!("/api/v1/assets/{asset}/invitations?sort="),
    ] {
        let r = app.get(&path, Some(&owner.token)).await;
        assert_field(&r, "sort");
    }
    // Ordinary searches still work.
    let r = app.try_garage(&owner, "?q=van%207").await;
    r.assert_status(200);
    assert_eq!(r.body["total"], 1);
}

async fn audit_filters_refuse_control_characters_and_out_of_range_years(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let asset = app.create_asset(&owner, json!({"name": "Van 7"})).await.id;
    for c in ENCODED_CONTROLS {
        let r =
            app.try_audit(&owner, &format!("?resource_type=asset&resource_id={asset}{c}")).await;
        assert_field(&r, "resource_id");
        let r = app.try_audit(&owner, &format!("?resource_type=asset{c}")).await;
        assert_field(&r, "resource_type");
    }
    for (field, at) in [
        ("from", "-10000-01-01T00:00:00Z"),
        ("to", "-10000-01-01T00:00:00Z"),
        ("from", "%2B10000-01-01T00:00:00Z"),
        ("to", "%2B10000-01-01T00:00:00Z"),
        ("from", "0000-12-31T23:59:59Z"),
        ("to", "-0001-01-01T00:00:00Z"),
        // 9999-12-31 23:00 at -05:00 is in the year 10000 in UTC.
        ("to", "9999-12-31T23:00:00-05:00"),
    ] {
        let r = app.try_audit(&owner, &format!("?{field}={at}")).await;
        assert!(r.status < 500, "{field}={at}: {}", r.text);
        assert_field(&r, field);
    }
    let r = app
        .get(
            &format!(
                "/api/v1/audit?resource_type=asset&resource_id={asset}\
                 &from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z"
            ),
            Some(&owner.token),
        )
        .await;
    r.assert_status(200);
    assert!(r.body["total"].as_i64().is_some_and(|n| n >= 1), "{}", r.text);
}

async fn record_dates_are_years_1_to_9999(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let asset = app.create_asset(&owner, json!({"name": "Van 7"})).await.id;
    let path = format!("/api/v1/assets/{asset}/records");
    let record = |date: &str| json!({"kind": "service", "date": date, "title": "Oil change"});
    for date in [
        "-262143-01-01",
        "+262142-12-31",
        "+10000-01-01",
        "10000-01-01",
        "0000-12-31",
        "-0001-06-01",
    ] {
        let r = app.post(&path, Some(&owner.token), record(date)).await;
        assert!(r.status < 500, "{date}: {}", r.text);
        assert_field(&r, "date");
    }
    let first = app.post(&path, Some(&owner.token), record("0001-01-01")).await;
    first.assert_status(201);
    let last = app.post(&path, Some(&owner.token), record("9999-12-31")).await;
    last.assert_status(201);
    let id = last.body["id"].as_str().expect("id");
    let r = app.patch(&format!("{path}/{id}"), Some(&owner.token), record("+10000-01-01")).await;
    assert_field(&r, "date");
    let list = app.get(&path, Some(&owner.token)).await;
    list.assert_status(200);
    assert_eq!(list.body["items"][0]["date"], "9999-12-31");
    assert_eq!(list.body["items"][1]["date"], "0001-01-01");
}

async fn json_strings_refuse_control_characters_but_free_text_keeps_line_breaks(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let asset = app.create_asset(&owner, json!({"name": "Van 7"})).await.id;
    for c in CONTROLS {
        let r = app
            .try_create_asset(
                &owner,
                json!({"name": "Van", "attributes": {"make": format!("Fo{c}rd")}}),
            )
            .await;
        assert_field(&r, "attributes.make");
        let r = app
            .try_create_asset(
                &owner,
                json!({"name": "Van", "attributes": {format!("ma{c}ke"): "Ford"}}),
            )
            .await;
        assert_field(&r, "attributes");
        let r = app.try_add_record(&owner, &asset, json!({"kind": "service", "date": "2026-01-02", "title": "Oil", "notes": format!("a{c}b")}))
            .await;
        assert_field(&r, "notes");
        let r = app.try_invite_to_asset(&owner, &asset, json!({"email": "shop@example.com", "permission": "view", "message": format!("hi{c}")}))
            .await;
        assert_field(&r, "message");
        let r = app.try_forgot_password(&format!("owner@example.com{c}")).await;
        assert_field(&r, "email");
    }
    // Single-line text refuses line breaks and tabs too.
    for c in ["\n", "\t", "\r"] {
        let r = app
            .try_create_asset(&owner, json!({"name": "Van", "reference": format!("KX21{c}ABC")}))
            .await;
        assert_field(&r, "reference");
        let r = app
            .try_add_photo(
                &owner,
                &asset,
                json!({"url": "https://example.com/a.jpg", "caption": format!("front{c}left")}),
            )
            .await;
        assert_field(&r, "caption");
    }
    // Multi-line free text keeps line breaks and tabs.
    let r = app.try_add_record(&owner, &asset, json!({"kind": "service", "date": "2026-01-02", "title": "Oil", "notes": "line one\r\nline\ttwo"}))
        .await;
    r.assert_status(201);
    assert_eq!(r.body["notes"], "line one\r\nline\ttwo");
    let r = app
        .try_create_asset(&owner, json!({"name": "Van", "attributes": {"notes": "one\ntwo"}}))
        .await;
    r.assert_status(201);
    let r = app.try_invite_to_asset(&owner, &asset, json!({"email": "shop@example.com", "permission": "view", "message": "Hello,\n\tthe van."}))
        .await;
    r.assert_status(201);
    // A password may hold a tab; it is only ever hashed.
    let password = format!("{PASSWORD}\t!");
    app.try_register_as("tab@example.com", "tab", &password).await.assert_status(201);
    app.login("tab", &password).await.assert_status(200);
}

async fn expiry_in_year_9999_is_pending_and_usable_and_year_10000_is_422(app: TestApp) {
    const LAST: &str = "9999-12-31T23:59:59Z";
    let owner = app.register_verified("owner").await;
    let ann = app.register_verified("ann").await;
    let asset = app.create_asset(&owner, json!({"name": "Van 7"})).await.id;
    let estate = app.create_estate(&owner, "Riverside").await.id;

    // Year 10000 (however it is written) is refused, naming the field.
    for bad in ["+10000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "9999-12-31T23:00:00-05:00"] {
        let r = app.try_send_asset_invitation(&owner, json!({"asset_id": asset, "email": "x@example.com", "permission": "view", "expires_at": bad}))
            .await;
        assert!(r.status < 500, "{bad}: {}", r.text);
        assert_field(&r, "expires_at");
        let r = app.try_share_until(&owner, &asset, "x@example.com", "view", bad).await;
        assert_field(&r, "access_expires_at");
        let r = app.try_invite_until(&owner, &estate, "x@example.com", "viewer", bad).await;
        assert_field(&r, "expires_at");
    }

    // Estate invitation expiring at the end of 9999: pending, and the link works.
    let r = app.try_invite_until(&owner, &estate, "new@example.com", "viewer", LAST).await;
    r.assert_status(202);
    assert_eq!(r.body["invitation"]["status"], "pending", "{}", r.text);
    let inv = r.body["invitation"]["id"].as_str().expect("id").to_owned();
    let list = app.try_estate_invitations(&owner, &estate, "?status=pending").await;
    assert_eq!(list.body["total"], 1, "{}", list.text);
    let token = app.wait_for_email("new@example.com", "invited you").await.token();
    let preview = app.try_preview(&token).await;
    preview.assert_status(200);
    assert_eq!(preview.body["status"], "pending");
    for bad in ["+10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z"] {
        let r = app
            .try_resend_estate_invitation(&owner, &estate, &inv, json!({"expires_at": bad}))
            .await;
        assert_field(&r, "expires_at");
    }
    let r =
        app.try_resend_estate_invitation(&owner, &estate, &inv, json!({"expires_at": LAST})).await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "pending");

    // Asset invitation and share until the end of 9999: pending, then usable.
    let r = app.try_send_asset_invitation(&owner, json!({"asset_id": asset, "email": "ann@example.com", "permission": "edit", "expires_at": LAST, "access_expires_at": LAST}))
        .await;
    r.assert_status(201);
    assert_eq!(r.body["status"], "pending", "{}", r.text);
    let inv = r.id();
    let detail = app.try_get_asset_invitation(&owner, &inv).await;
    assert_eq!(detail.body["status"], "pending", "{}", detail.text);
    let r = app
        .try_resend_asset_invitation(&owner, &inv, json!({"expires_at": "+10000-01-01T00:00:00Z"}))
        .await;
    assert_field(&r, "expires_at");
    app.try_accept_my_invitation(&ann, &inv).await.assert_status(200);
    let seen = app.try_get_asset(&ann, &asset).await;
    seen.assert_status(200);
    assert_eq!(seen.body["my_access"], "edit");
    let share = format!("/api/v1/assets/{asset}/shares/{}", ann.id);
    let r = app
        .patch(&share, Some(&owner.token), json!({"access_expires_at": "+10000-01-01T00:00:00Z"}))
        .await;
    assert_field(&r, "access_expires_at");
    app.patch(&share, Some(&owner.token), json!({"access_expires_at": LAST}))
        .await
        .assert_status(200);
    let seen = app.try_get_asset(&ann, &asset).await;
    seen.assert_status(200);
    assert_eq!(seen.body["my_access"], "edit");
}

// ---------------------------------------------------------------- the daily invitation limit

mod daily_limit {
    use super::*;
    use keyholder_tests::{Backend, Session};

    async fn spawn(backend: Backend) -> Option<TestApp> {
        if backend == Backend::Postgres && !keyholder_tests::postgres_available() {
            return None;
        }
        Some(TestApp::spawn_with(backend, |c| c.invite_daily_limit = 3).await)
    }

    /// No more than `n` invitation emails to `to` arrive.
    async fn assert_no_more_emails(app: &TestApp, to: &str, n: usize) {
        app.wait_for_nth_email(to, "invited you", n).await;
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        assert_eq!(app.emails_to(to, "invited you").len(), n);
    }

    /// After one invitation, two resends at `resend` pass and three more are
    /// refused: the allowance of 3 is spent.
    async fn resend_until_refused(app: &TestApp, owner: &Session, resend: &str) {
        for _ in 0..2 {
            app.post(resend, Some(&owner.token), json!({})).await.assert_status(200);
        }
        for _ in 0..3 {
            let r = app.post(resend, Some(&owner.token), json!({})).await;
            r.assert_problem(429, "daily_invitation_limit");
        }
    }

    /// The invitation to other@example.com sent next was refused too: three
    /// emails reached `to` and none reached the other address.
    async fn assert_other_refused(app: &TestApp, other: Reply, to: &str) {
        other.assert_problem(429, "daily_invitation_limit");
        assert_no_more_emails(app, to, 3).await;
        assert!(app.emails_to("other@example.com", "invited you").is_empty());
    }

    async fn resends_count_for_asset_invitations(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let asset = app.create_asset(&owner, json!({"name": "Van 7"})).await.id;
        let r = app.try_share_asset(&owner, &asset, "shop@example.com", "view").await;
        r.assert_status(201);
        let inv = r.id();
        resend_until_refused(&app, &owner, &format!("/api/v1/asset-invitations/{inv}/resend"))
            .await;
        // A new invitation counts against the same limit.
        let other = app.try_share_asset(&owner, &asset, "other@example.com", "view").await;
        assert_other_refused(&app, other, "shop@example.com").await;
        // Another user has their own allowance.
        let other = app.register_verified("other").await;
        let mine = app.create_asset(&other, json!({"name": "Van 7"})).await.id;
        app.try_share_asset(&other, &mine, "shop@example.com", "view").await.assert_status(201);
    }

    async fn resends_count_for_estate_invitations(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let estate = app.create_estate(&owner, "Riverside").await.id;
        let r = app.try_invite(&owner, &estate, "new@example.com", "viewer").await;
        r.assert_status(202);
        let inv = r.body["invitation"]["id"].as_str().expect("id").to_owned();
        let resend = format!("/api/v1/estates/{estate}/invitations/{inv}/resend");
        resend_until_refused(&app, &owner, &resend).await;
        let other = app.try_invite(&owner, &estate, "other@example.com", "viewer").await;
        assert_other_refused(&app, other, "new@example.com").await;
    }

    async fn estate_and_asset_invitations_share_one_allowance(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let estate = app.create_estate(&owner, "Riverside").await.id;
        let asset = app.create_asset(&owner, json!({"name": "Van 7"})).await.id;
        let r = app.try_invite(&owner, &estate, "new@example.com", "viewer").await;
        r.assert_status(202);
        let inv = r.body["invitation"]["id"].as_str().expect("id").to_owned();
        app.try_resend_estate_invitation(&owner, &estate, &inv, json!({})).await.assert_status(200);
        app.try_share_asset(&owner, &asset, "shop@example.com", "view").await.assert_status(201);
        let r = app.try_share_asset(&owner, &asset, "two@example.com", "view").await;
        r.assert_problem(429, "daily_invitation_limit");
        assert!(r.header("retry-after").is_some());
        let inv = app.try_asset_invitations(&owner, "").await.body["items"][0]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        app.try_resend_asset_invitation(&owner, &inv, json!({}))
            .await
            .assert_problem(429, "daily_invitation_limit");
    }

    async fn concurrent_sends_stay_within_the_limit(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let asset = app.create_asset(&owner, json!({"name": "Van 7"})).await.id;
        let estate = app.create_estate(&owner, "Riverside").await.id;
        let sends = (0..8).map(|i| {
            let (app, token, asset, estate) = (&app, &owner.token, &asset, &estate);
            async move {
                let email = format!("guest{i}@example.com");
                if i % 2 == 0 {
                    app.try_share_asset(token, asset, &email, "view").await
                } else {
                    app.try_invite(token, estate, &email, "viewer").await
                }
            }
        });
        let replies = futures_util::future::join_all(sends).await;
        let sent = replies.iter().filter(|r| r.status == 201 || r.status == 202).count();
        for r in &replies {
            if r.status >= 400 {
                r.assert_problem(429, "daily_invitation_limit");
            }
        }
        assert_eq!(sent, 3, "{replies:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let emails = app.emails().into_iter().filter(|m| m.subject.contains("invited you")).count();
        assert_eq!(emails, 3);
    }

    macro_rules! with_limit {
        ($($name:ident),* $(,)?) => {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        if let Some(app) = super::spawn(keyholder_tests::Backend::Sqlite).await {
                            super::$name(app).await;
                        }
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        if let Some(app) = super::spawn(keyholder_tests::Backend::Postgres).await {
                            super::$name(app).await;
                        }
                    }
                )*
            }
        };
    }

    with_limit!(
        resends_count_for_asset_invitations,
        resends_count_for_estate_invitations,
        estate_and_asset_invitations_share_one_allowance,
        concurrent_sends_stay_within_the_limit,
    );
}

async fn unknown_body_fields_are_422_naming_them_and_change_nothing(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let asset = app.create_asset(&owner, json!({"name": "Van 7", "reference": "V7"})).await.id;
    let path = format!("/api/v1/assets/{asset}");
    // A misspelt member is named, not silently ignored.
    let r = app.patch(&path, Some(&owner.token), json!({"refrence": "X"})).await;
    assert_field(&r, "refrence");
    assert!(r.body["errors"]["refrence"].as_str().unwrap_or_default().contains("unknown field"));
    let read = app.get(&path, Some(&owner.token)).await;
    read.assert_status(200);
    assert_eq!(read.body["reference"], "V7");
    // Beside valid members too, and on create: nothing is created.
    let r = app
        .post("/api/v1/estates", Some(&owner.token), json!({"name": "North", "colour": "red"}))
        .await;
    assert_field(&r, "colour");
    let estates = app.get("/api/v1/estates", Some(&owner.token)).await;
    estates.assert_status(200);
    assert_eq!(estates.body["total"], 0, "{}", estates.text);
}

async fn bodies_that_are_not_objects_are_422_and_change_nothing(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let estate = app.create_estate(&owner, "North").await.id;
    let path = format!("/api/v1/estates/{estate}");
    // An array of the fields in order is not the object (serde would read it so).
    for body in [json!(["South"]), json!("South"), json!(7), json!(null)] {
        let r = app.patch(&path, Some(&owner.token), body.clone()).await;
        assert_field(&r, "body");
        let r = app.post("/api/v1/estates", Some(&owner.token), body).await;
        assert_field(&r, "body");
    }
    let read = app.get(&path, Some(&owner.token)).await;
    read.assert_status(200);
    assert_eq!(read.body["name"], "North");
    let estates = app.get("/api/v1/estates", Some(&owner.token)).await;
    assert_eq!(estates.body["total"], 1, "{}", estates.text);
}
