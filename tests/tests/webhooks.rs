//! Webhooks, against a local receiver: estate admins and users register
//! endpoints; access changes arrive signed (HMAC-SHA256 over the time and
//! the body); failures are retried with backoff, logged per endpoint,
//! redelivered on demand, and repeated failures disable the endpoint and
//! email its owner. Only those who may manage an endpoint see it.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use keyholder_tests::{Backend, Session, TestApp};
use serde_json::{Value, json};
use sha2::Sha256;

/// One test per backend, on a server that lets webhooks call this host and
/// disables an endpoint after three failed attempts in a row.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(super::spawn(keyholder_tests::Backend::Sqlite).await).await;
            }
        )*}
        mod postgres {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if !keyholder_tests::postgres_available() {
                    return;
                }
                super::$name(super::spawn(keyholder_tests::Backend::Postgres).await).await;
            }
        )*}
    };
}

on_both!(
    an_estate_admin_gets_the_estates_access_changes_signed,
    only_the_estates_managers_see_or_change_its_endpoints,
    a_demoted_admin_s_endpoint_stops_receiving,
    my_own_endpoint_gets_my_assets_and_my_own_access,
    failures_are_retried_then_disable_the_endpoint_and_email_its_owner,
    redelivery_sends_the_same_event_again_and_rotation_changes_the_key,
    bad_endpoints_are_refused,
    expired_shares_are_reported,
);

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.webhook_allow_private = true;
        c.webhook_disable_after = 3;
    })
    .await
}

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    event: String,
    delivery: String,
    signature: String,
    body: String,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

/// A local HTTP receiver that records each request and answers `status`.
#[derive(Clone)]
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    status: Arc<AtomicU16>,
}

async fn receive(req: HttpRequest, body: web::Bytes, rx: web::Data<Receiver>) -> HttpResponse {
    let header =
        |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    rx.hits.lock().expect("hits").push(Hit {
        event: header("keyholder-event"),
        delivery: header("keyholder-delivery"),
        signature: header("keyholder-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let status = rx.status.load(Ordering::SeqCst);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status")).finish()
}

impl Receiver {
    async fn start() -> Self {
        let mut rx = Self {
            url: String::new(),
            hits: Arc::new(Mutex::new(Vec::new())),
            status: Arc::new(AtomicU16::new(200)),
        };
        let data = web::Data::new(rx.clone());
        let server = HttpServer::new(move || {
            App::new().app_data(data.clone()).default_service(web::to(receive))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("bind");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        rx.url = format!("http://127.0.0.1:{port}/hooks/keyholder");
        rx
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("hits").clone()
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Waits (up to 20 s) until `n` requests arrived; then all of them.
    async fn wait_for(&self, n: usize) -> Vec<Hit> {
        for _ in 0..400 {
            if self.hits().len() >= n {
                return self.hits();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} deliveries, got {:?}", self.hits());
    }

    /// The events received so far.
    fn events(&self) -> Vec<String> {
        self.hits().iter().map(|h| h.event.clone()).collect()
    }
}

/// Checks `hit`'s signature under `secret` (as the README tells receivers).
fn signed_by(hit: &Hit, secret: &str) -> bool {
    let Some((t, v1)) = hit.signature.strip_prefix("t=").and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.{}", hit.body).as_bytes());
    let Ok(given) = hex::decode(v1) else { return false };
    mac.verify_slice(&given).is_ok()
}

async fn register(app: &TestApp, by: &Session, path: &str, body: Value) -> (String, String) {
    let r = app.post(path, Some(&by.token), body).await;
    r.assert_status(201);
    let id = r.body["webhook"]["id"].as_str().expect("id").to_owned();
    assert_eq!(r.header("location"), Some(format!("/api/v1/webhooks/{id}").as_str()));
    (id, r.str("secret"))
}

async fn deliveries(app: &TestApp, by: &Session, hook: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/webhooks/{hook}/deliveries"), Some(&by.token)).await;
    r.assert_status(200);
    r.items().clone()
}

/// Waits (up to 20 s) until the delivery log shows `pred`.
async fn wait_log(
    app: &TestApp,
    by: &Session,
    hook: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..400 {
        let log = deliveries(app, by, hook).await;
        if pred(&log) {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the delivery log never got there: {:?}", deliveries(app, by, hook).await);
}

async fn an_estate_admin_gets_the_estates_access_changes_signed(app: TestApp) {
    let rx = Receiver::start().await;
    let [owner, admin, member] = app.register_verified_each(["owner", "admin", "member"]).await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.grant_role(&owner, &estate, &admin, "admin").await;
    let (hook, secret) = register(
        &app,
        &admin,
        &format!("/api/v1/estates/{estate}/webhooks"),
        json!({"url": rx.url, "description": "fleet system"}),
    )
    .await;
    assert!(secret.starts_with("whsec_"), "{secret}");

    app.grant_role(&admin, &estate, &member, "viewer").await;
    let site = app.create_site(&owner, &estate, "North Yard").await.id;
    let hits = rx.wait_for(2).await;
    assert_eq!(rx.events(), ["member.added", "site.created"]);
    for hit in &hits {
        assert!(signed_by(hit, &secret), "bad signature: {hit:?}");
        assert!(!signed_by(hit, "whsec_another"), "{hit:?}");
    }
    let added = hits[0].json();
    assert_eq!(added["type"], "member.added");
    assert_eq!(added["target"], json!({"type": "estate", "id": estate}));
    assert_eq!(added["subject_id"], member.id.as_str());
    assert_eq!(added["actor_id"], admin.id.as_str());
    assert_eq!(added["after"]["role"], "viewer");
    assert_eq!(hits[1].json()["target"]["id"], site.as_str());

    // The log shows both delivered, at the first attempt, with the
    // receiver's status; the delivery id is the header's.
    let log = wait_log(&app, &admin, &hook, |l| l.iter().all(|d| d["status"] == "delivered")).await;
    assert_eq!(log.len(), 2);
    for d in &log {
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["last_status"], 200);
        assert!(d["next_attempt_at"].is_null());
        assert!(hits.iter().any(|h| h.delivery == d["id"].as_str().expect("text")), "{d}");
    }
    let one = app
        .get(
            &format!("/api/v1/webhooks/{hook}/deliveries/{}", log[1]["id"].as_str().expect("text")),
            Some(&admin.token),
        )
        .await;
    one.assert_status(200);
    assert_eq!(one.body["payload"], hits[0].json());

    // The same event is in the trail and the feed, by id.
    let feed = app.get("/api/v1/changes", Some(&admin.token)).await;
    assert!(feed.items().iter().any(|c| c["id"] == added["id"]), "{}", feed.text);

    // A ping arrives as `ping`, signed too.
    app.post(&format!("/api/v1/webhooks/{hook}/ping"), Some(&admin.token), json!({}))
        .await
        .assert_status(202);
    let hits = rx.wait_for(3).await;
    assert_eq!(hits[2].event, "ping");
    assert!(signed_by(&hits[2], &secret));

    // Registering is in the trail; deleting ends deliveries and the log.
    let trail = app
        .get(
            &format!("/api/v1/audit?resource_type=estate&resource_id={estate}"),
            Some(&owner.token),
        )
        .await;
    assert!(trail.items().iter().any(|e| e["action"] == "webhook.created"), "{}", trail.text);
    app.delete(&format!("/api/v1/webhooks/{hook}"), Some(&admin.token)).await.assert_status(204);
    app.get(&format!("/api/v1/webhooks/{hook}"), Some(&admin.token))
        .await
        .assert_problem(404, "webhook_not_found");
    app.create_site(&owner, &estate, "South Yard").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.hits().len(), 3);
}

async fn only_the_estates_managers_see_or_change_its_endpoints(app: TestApp) {
    let rx = Receiver::start().await;
    let [owner, viewer, outsider] =
        app.register_verified_each(["owner", "viewer", "outsider"]).await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.grant_role(&owner, &estate, &viewer, "viewer").await;
    let path = format!("/api/v1/estates/{estate}/webhooks");
    let body = json!({"url": rx.url});
    app.post(&path, Some(&viewer.token), body.clone())
        .await
        .assert_problem(403, "insufficient_role");
    app.post(&path, Some(&outsider.token), body.clone())
        .await
        .assert_problem(404, "estate_not_found");
    app.get(&path, Some(&viewer.token)).await.assert_problem(403, "insufficient_role");
    let (hook, _) = register(&app, &owner, &path, body).await;
    let listed = app.get(&path, Some(&owner.token)).await;
    listed.assert_status(200);
    assert_eq!(listed.items().len(), 1);
    assert_eq!(listed.items()[0]["scope"], "estate");
    assert!(listed.items()[0].get("secret").is_none(), "{}", listed.text);

    let one = format!("/api/v1/webhooks/{hook}");
    app.get(&one, Some(&viewer.token)).await.assert_problem(403, "insufficient_role");
    app.get(&one, Some(&outsider.token)).await.assert_problem(404, "webhook_not_found");
    app.patch(&one, Some(&outsider.token), json!({"enabled": false}))
        .await
        .assert_problem(404, "webhook_not_found");
    app.delete(&one, Some(&viewer.token)).await.assert_problem(403, "insufficient_role");
    app.get(&format!("{one}/deliveries"), Some(&outsider.token))
        .await
        .assert_problem(404, "webhook_not_found");
    // Their own lists do not hold it.
    let mine = app.get("/api/v1/me/webhooks", Some(&outsider.token)).await;
    assert!(mine.items().is_empty(), "{}", mine.text);
    // A user's own endpoint is theirs alone.
    let (own, _) = register(&app, &outsider, "/api/v1/me/webhooks", json!({"url": rx.url})).await;
    app.get(&format!("/api/v1/webhooks/{own}"), Some(&owner.token))
        .await
        .assert_problem(404, "webhook_not_found");
    app.get(&format!("/api/v1/webhooks/{own}"), Some(&outsider.token)).await.assert_status(200);
}

async fn a_demoted_admin_s_endpoint_stops_receiving(app: TestApp) {
    let rx = Receiver::start().await;
    let [owner, admin, member] = app.register_verified_each(["owner", "admin", "member"]).await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.grant_role(&owner, &estate, &admin, "admin").await;
    let (hook, _) = register(
        &app,
        &admin,
        &format!("/api/v1/estates/{estate}/webhooks"),
        json!({"url": rx.url}),
    )
    .await;
    app.create_site(&owner, &estate, "A").await;
    rx.wait_for(1).await;
    // Demoted: from the change that demotes them on, nothing is queued.
    app.try_set_role(&owner, &estate, &admin, "viewer").await.assert_status(200);
    app.grant_role(&owner, &estate, &member, "viewer").await;
    app.create_site(&owner, &estate, "B").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(rx.events(), ["site.created"]);
    // The owner still manages the endpoint and sees its log; the demoted
    // admin no longer does.
    let log = deliveries(&app, &owner, &hook).await;
    assert_eq!(log.len(), 1);
    app.get(&format!("/api/v1/webhooks/{hook}"), Some(&admin.token))
        .await
        .assert_problem(403, "insufficient_role");
    // Promoted again, they receive again.
    app.try_set_role(&owner, &estate, &admin, "admin").await.assert_status(200);
    app.create_site(&owner, &estate, "C").await;
    rx.wait_for(3).await;
    assert_eq!(rx.events(), ["site.created", "member.updated", "site.created"]);
}

async fn my_own_endpoint_gets_my_assets_and_my_own_access(app: TestApp) {
    let rx = Receiver::start().await;
    let [me, friend, owner] = app.register_verified_each(["myself", "friend", "owner"]).await;
    let (hook, secret) = register(&app, &me, "/api/v1/me/webhooks", json!({"url": rx.url})).await;
    let van = app.create_vehicle(&me, "Van", None).await.id;
    app.add_collaborator(&me, &van, &friend.username).await;
    // Someone else's estate adds me: my own access changed.
    let estate = app.create_estate(&owner, "Elsewhere").await.id;
    app.grant_role(&owner, &estate, &me, "viewer").await;
    // Not mine: another asset I have no part in.
    app.create_vehicle(&friend, "Bike", None).await;
    let hits = rx.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.events(), ["asset.created", "collaborator.added", "member.added"]);
    assert!(hits.iter().all(|h| signed_by(h, &secret)));
    assert_eq!(hits[2].json()["subject_id"], me.id.as_str());

    // Narrowed to one event type.
    let r = app
        .patch(
            &format!("/api/v1/webhooks/{hook}"),
            Some(&me.token),
            json!({"events": ["collaborator.removed"]}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["events"], json!(["collaborator.removed"]));
    app.create_vehicle(&me, "Trailer", None).await;
    app.try_remove_collaborator(&me, &van, &friend.id).await.assert_status(204);
    rx.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.events()[3..], ["collaborator.removed"]);
}

async fn failures_are_retried_then_disable_the_endpoint_and_email_its_owner(app: TestApp) {
    let rx = Receiver::start().await;
    rx.answer(500);
    let me = app.register_verified("myself").await;
    let (hook, _) = register(&app, &me, "/api/v1/me/webhooks", json!({"url": rx.url})).await;
    app.create_vehicle(&me, "Van", None).await;
    // First attempt fails; the next waits for the backoff.
    let log = wait_log(&app, &me, &hook, |l| l.first().is_some_and(|d| d["attempts"] == 1)).await;
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["last_status"], 500);
    assert!(log[0]["last_error"].as_str().expect("text").contains("500"), "{}", log[0]);
    assert!(log[0]["next_attempt_at"].is_string());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.hits().len(), 1, "retried before the backoff");
    // Each retry once the backoff has passed; the third failure in a row
    // disables the endpoint.
    for attempts in [2, 3] {
        app.clock.advance(chrono::Duration::hours(1));
        wait_log(&app, &me, &hook, |l| l[0]["attempts"] == attempts).await;
    }
    let endpoint = app.get(&format!("/api/v1/webhooks/{hook}"), Some(&me.token)).await;
    endpoint.assert_status(200);
    assert_eq!(endpoint.body["enabled"], false, "{}", endpoint.text);
    assert_eq!(endpoint.body["failures"], 3);
    assert!(endpoint.body["disabled_reason"].as_str().expect("text").contains('3'));
    let mail = app.wait_for_email(&me.email, "A Keyholder webhook was disabled").await;
    assert!(mail.body.contains("127.0.0.1"), "{}", mail.body);
    let trail = app
        .get(&format!("/api/v1/audit?resource_type=user&resource_id={}", me.id), Some(&me.token))
        .await;
    assert!(trail.items().iter().any(|e| e["action"] == "webhook.disabled"), "{}", trail.text);
    // Disabled: nothing more is sent, however long.
    app.clock.advance(chrono::Duration::hours(6));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.hits().len(), 3);

    // The receiver is mended; enabling sends what waited.
    rx.answer(204);
    let r = app
        .patch(&format!("/api/v1/webhooks/{hook}"), Some(&me.token), json!({"enabled": true}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["failures"], 0);
    app.clock.advance(chrono::Duration::hours(6));
    let log = wait_log(&app, &me, &hook, |l| l[0]["status"] == "delivered").await;
    assert_eq!(log[0]["attempts"], 4);
    assert_eq!(log[0]["last_status"], 204);
}

async fn redelivery_sends_the_same_event_again_and_rotation_changes_the_key(app: TestApp) {
    let rx = Receiver::start().await;
    let me = app.register_verified("myself").await;
    let (hook, secret) = register(&app, &me, "/api/v1/me/webhooks", json!({"url": rx.url})).await;
    app.create_vehicle(&me, "Van", None).await;
    let first = rx.wait_for(1).await.remove(0);
    let log = wait_log(&app, &me, &hook, |l| l[0]["status"] == "delivered").await;
    let delivery = log[0]["id"].as_str().expect("text").to_owned();

    let rotated = app
        .post(&format!("/api/v1/webhooks/{hook}/rotate-secret"), Some(&me.token), json!({}))
        .await;
    rotated.assert_status(200);
    let new_secret = rotated.str("secret");
    assert_ne!(new_secret, secret);

    let again = app
        .post(
            &format!("/api/v1/webhooks/{hook}/deliveries/{delivery}/redeliver"),
            Some(&me.token),
            json!({}),
        )
        .await;
    again.assert_status(202);
    assert_eq!(again.body["redelivery_of"], delivery.as_str());
    assert_eq!(again.body["event_id"], log[0]["event_id"]);
    let second = rx.wait_for(2).await.remove(1);
    assert_eq!(second.body, first.body, "the same event, the same body");
    assert_ne!(second.delivery, first.delivery);
    assert!(signed_by(&second, &new_secret));
    assert!(!signed_by(&second, &secret));

    let missing = format!(
        "/api/v1/webhooks/{hook}/deliveries/00000000-0000-4000-8000-000000000000/redeliver"
    );
    app.post(&missing, Some(&me.token), json!({})).await.assert_problem(404, "delivery_not_found");
}

async fn bad_endpoints_are_refused(app: TestApp) {
    let me = app.register_verified("myself").await;
    let path = "/api/v1/me/webhooks";
    for (body, field) in [
        (json!({"url": "ftp://example.com/hook"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (json!({"url": "https://user:pw@example.com/"}), "url"),
        (json!({"url": "https://example.com/", "events": ["user.password_changed"]}), "events"),
        (json!({"url": "https://example.com/", "events": ["nonsense"]}), "events"),
        (json!({"url": "https://example.com/", "description": "a\u{0007}b"}), "description"),
    ] {
        let r = app.post(path, Some(&me.token), body.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert!(r.body["errors"].get(field).is_some(), "{body}: {}", r.text);
    }
    app.post(path, None, json!({"url": "https://example.com/"})).await.assert_status(401);
    // This server allows private targets; a default one does not.
    let strict = TestApp::spawn(app.backend).await;
    let someone = strict.register_verified("someone").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "https://169.254.169.254/",
        "https://[::1]/",
    ] {
        let r = strict.post(path, Some(&someone.token), json!({"url": url})).await;
        r.assert_problem(422, "validation_failed");
        assert!(
            r.body["errors"]["url"].as_str().expect("text").contains("private"),
            "{url}: {}",
            r.text
        );
    }
    strict
        .post(path, Some(&someone.token), json!({"url": "https://hooks.example.com/k"}))
        .await
        .assert_status(201);
}

async fn expired_shares_are_reported(app: TestApp) {
    let rx = Receiver::start().await;
    let [owner, guest] = app.register_verified_each(["owner", "guest"]).await;
    let van = app.create_vehicle(&owner, "Van", None).await.id;
    let until = (app.clock.now() + chrono::Duration::days(2)).to_rfc3339();
    app.try_send_asset_invitation(
        &owner,
        json!({"asset_id": van, "email": guest.email, "permission": "view", "access_expires_at": until}),
    )
    .await
    .assert_status(201);
    let invitation = app.wait_for_email(&guest.email, "invited you").await.token();
    app.accept_invitation(&guest, &invitation).await.assert_status(200);
    let (hook, _) = register(
        &app,
        &owner,
        "/api/v1/me/webhooks",
        json!({"url": rx.url, "events": ["share.expired"]}),
    )
    .await;
    let sweep = |app: &TestApp| {
        keyholder_tests::keyholder_api::ops::shares::report_expired(
            &app.app_state.db,
            app.clock.now(),
        )
        .expect("sweep")
    };
    assert_eq!(sweep(&app), 0, "not expired yet");
    app.clock.advance(chrono::Duration::days(3));
    assert_eq!(sweep(&app), 1);
    assert_eq!(sweep(&app), 0, "reported once");
    let hit = rx.wait_for(1).await.remove(0);
    let body = hit.json();
    assert_eq!(body["type"], "share.expired");
    assert_eq!(body["target"]["id"], van.as_str());
    assert_eq!(body["subject_id"], guest.id.as_str());
    assert!(body["actor_id"].is_null());
    assert_eq!(deliveries(&app, &owner, &hook).await.len(), 1);
}
