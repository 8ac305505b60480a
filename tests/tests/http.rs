//! Error classes and operations: problem+json for every failure, 503 when the
//! database is gone, health, metrics, rate limits, CORS, headers.

use std::time::Duration;

use keyholder_tests::{Backend, NOBODY, PASSWORD, TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(
    malformed_json_is_400_problem,
    wrong_content_type_is_400_problem,
    oversized_body_is_413_problem,
    unknown_route_is_404_problem,
    wrong_method_is_405_problem_with_allow,
    wrong_field_types_and_missing_fields_are_422_naming_the_field,
    health_endpoints_answer,
    every_response_has_security_headers_and_a_request_id,
    metrics_count_requests_by_route_and_status,
    pool_exhaustion_answers_503_not_a_hang,
    auth_endpoints_are_rate_limited_per_address,
);

async fn malformed_json_is_400_problem(app: TestApp) {
    for body in ["{", "{\"login\": }", "[1,2", "nul", "{} trailing"] {
        let res = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("answer");
        TestApp::reply(res).await.assert_problem(400, "malformed_json");
    }
}

async fn wrong_content_type_is_400_problem(app: TestApp) {
    for ct in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let mut req = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .body(json!({"login": "a", "password": "b"}).to_string());
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let reply = TestApp::reply(req.send().await.expect("answer")).await;
        reply.assert_problem(400, "unsupported_content_type");
    }
    // A JSON media type with parameters is fine.
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json; charset=utf-8")
        .body(json!({"login": "nobody", "password": "whatever12"}).to_string())
        .send()
        .await
        .expect("answer");
    TestApp::reply(res).await.assert_problem(401, "invalid_credentials");
}

async fn oversized_body_is_413_problem(app: TestApp) {
    let huge = "x".repeat(100 * 1024);
    let reply = app.login(&huge, "whatever12").await;
    reply.assert_problem(413, "payload_too_large");
}

async fn unknown_route_is_404_problem(app: TestApp) {
    app.get("/api/v1/nothing-here", None).await.assert_problem(404, "not_found");
    app.get("/no/such/page", None).await.assert_problem(404, "not_found");
}

async fn wrong_method_is_405_problem_with_allow(app: TestApp) {
    let reply = app.get("/api/v1/auth/login", None).await;
    reply.assert_problem(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("POST"));
    app.request(reqwest::Method::PUT, "/api/v1/me", None, None)
        .await
        .assert_problem(405, "method_not_allowed");
}

async fn wrong_field_types_and_missing_fields_are_422_naming_the_field(app: TestApp) {
    let reply = app.try_login_with(json!({"login": 5, "password": "x"})).await;
    reply.assert_problem(422, "validation_failed");
    assert!(reply.body["errors"]["login"].is_string(), "{}", reply.text);
    let reply = app.try_login_with(json!({"login": "ada"})).await;
    reply.assert_problem(422, "validation_failed");
    assert!(reply.text.contains("password"), "{}", reply.text);
    let reply = app.try_login_with(json!([1, 2])).await;
    reply.assert_problem(422, "validation_failed");
}

async fn health_endpoints_answer(app: TestApp) {
    let live = app.get("/health/live", None).await;
    live.assert_status(200);
    assert_eq!(live.body["status"], "ok");
    let ready = app.get("/health/ready", None).await;
    ready.assert_status(200);
    assert_eq!(ready.body["status"], "ok");
}

async fn every_response_has_security_headers_and_a_request_id(app: TestApp) {
    let mut ids = Vec::new();
    for reply in [app.get("/health/live", None).await, app.try_me(&NOBODY).await] {
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        assert!(
            reply
                .header("content-security-policy")
                .is_some_and(|c| c.contains("default-src 'none'"))
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        ids.push(reply.header("x-request-id").expect("request id").to_owned());
    }
    assert_ne!(ids[0], ids[1]);
}

async fn metrics_count_requests_by_route_and_status(app: TestApp) {
    app.try_me(&NOBODY).await.assert_status(401);
    app.try_me(&NOBODY).await.assert_status(401);
    app.get("/health/live", None).await.assert_status(200);
    let reply = app.get("/metrics", None).await;
    reply.assert_status(200);
    assert!(reply.header("content-type").is_some_and(|c| c.starts_with("text/plain")));
    let line = reply
        .text
        .lines()
        .find(|l| {
            l.starts_with("keyholder_http_requests_total{")
                && l.contains("endpoint=\"/api/v1/me\"")
                && l.contains("status=\"401\"")
        })
        .unwrap_or_else(|| panic!("no request counter for /api/v1/me 401 in\n{}", reply.text));
    assert!(line.ends_with(" 2"), "{line}");
    assert!(reply.text.contains("keyholder_http_requests_duration_seconds_bucket{"));
    assert!(reply.text.contains("keyholder_mail_pending"));
}

async fn pool_exhaustion_answers_503_not_a_hang(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| {
        c.db_pool_size = Some(1);
        c.db_timeout = 1;
    })
    .await;
    let ada = app.register("ada").await;
    let db = app.app_state.db.clone();
    let held = tokio::task::spawn_blocking(move || db.conn().expect("the only connection"))
        .await
        .expect("join");
    // A list needs a pooled connection on both databases (on SQLite a
    // one-statement read by primary keys runs on the worker's own
    // connection, so `/me` would still answer there).
    let reply = app.try_estates(&ada, "").await;
    reply.assert_problem(503, "service_unavailable");
    assert!(reply.header("retry-after").is_some());
    app.get("/health/ready", None).await.assert_problem(503, "service_unavailable");
    drop(held);
    app.try_estates(&ada, "").await.assert_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_postgres_database_answers_503() {
    if !keyholder_tests::postgres_available() {
        return;
    }
    let mut app = TestApp::spawn_with(Backend::Postgres, |c| c.db_timeout = 1).await;
    let ada = app.register("ada").await;
    app.db.drop_now();
    let reply = app.try_me(&ada).await;
    reply.assert_problem(503, "service_unavailable");
    app.get("/health/ready", None).await.assert_problem(503, "service_unavailable");
    app.get("/health/live", None).await.assert_status(200);
}

async fn auth_endpoints_are_rate_limited_per_address(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| c.auth_rate_limit = 3).await;
    for _ in 0..3 {
        app.login("x", PASSWORD).await.assert_status(401);
    }
    // The limit is shared by every auth endpoint.
    let reply = app.try_forgot_password("a@example.com").await;
    reply.assert_problem(429, "rate_limited");
    let retry: u64 = reply.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Other endpoints are not limited.
    app.try_me(&NOBODY).await.assert_status(401);
    app.get("/health/live", None).await.assert_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.cors_origins = vec!["https://app.example".to_owned()];
    })
    .await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/login"))
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type, authorization")
        .send()
        .await
        .expect("answer");
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()),
        Some("https://app.example")
    );
    // A browser may send the retry and concurrency headers.
    let conditional = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/estates"))
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "idempotency-key, if-match, if-none-match")
        .send()
        .await
        .expect("answer");
    assert!(conditional.status().is_success(), "{}", conditional.status());
    let allowed_headers = conditional.headers().get("access-control-allow-headers").cloned();
    let allowed_headers =
        allowed_headers.and_then(|v| v.to_str().map(str::to_lowercase).ok()).unwrap_or_default();
    for name in ["idempotency-key", "if-match", "if-none-match"] {
        assert!(allowed_headers.contains(name), "{name} is not allowed: {allowed_headers:?}");
    }
    // A page at `origin` reads `/health/live` on `app`: the origin allowed.
    let allowed = async |app: &TestApp, origin: &str| {
        let res = app.client.get(app.url("/health/live")).header("Origin", origin).send().await;
        res.expect("answer").headers().get("access-control-allow-origin").cloned()
    };
    assert!(allowed(&app, "https://evil.example").await.is_none());
    // The allowed page may read the headers a client needs: where a created
    // resource is, the other pages of a list, when to retry, the request id,
    // the entity tag, whether an answer was replayed and an export's file name.
    let res = app
        .client
        .get(app.url("/health/live"))
        .header("Origin", "https://app.example")
        .send()
        .await;
    let exposed = res.expect("answer").headers().get("access-control-expose-headers").cloned();
    let exposed = exposed.and_then(|v| v.to_str().map(str::to_lowercase).ok()).unwrap_or_default();
    for name in [
        "location",
        "link",
        "retry-after",
        "x-request-id",
        "etag",
        "idempotent-replayed",
        "content-disposition",
    ] {
        assert!(exposed.contains(name), "{name} is not exposed: {exposed:?}");
    }

    // Without configuration, no cross-origin access at all.
    let closed = TestApp::spawn(Backend::Sqlite).await;
    assert!(allowed(&closed, "https://app.example").await.is_none());
    tokio::time::sleep(Duration::from_millis(10)).await;
}
