//! Findings of the security review: rate limits behind proxies, password
//! guessing and argon2 exhaustion, CORS refusals, the SQLite file mode,
//! `/metrics` exposure and HSTS.

use std::time::{Duration, Instant};

use keyholder_tests::{Backend, NOBODY, PASSWORD, Reply, TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(
    rotating_the_left_most_forwarded_entry_does_not_escape_the_login_limit,
    forwarded_elements_are_keyed_by_the_right_most_address,
    trusted_proxy_networks_are_skipped_and_other_peers_are_not_believed,
    a_sixth_password_guess_within_a_minute_is_429,
    the_password_limit_also_counts_per_address,
    logins_beyond_the_hash_cap_answer_503_server_busy_quickly,
    refused_cors_preflight_is_problem_json,
    metrics_require_the_configured_token,
    metrics_bind_moves_metrics_to_their_own_listener,
    hsts_is_sent_when_the_public_url_is_https,
    hsts_follows_the_scheme_a_trusted_proxy_reports,
);

async fn login_via(app: &TestApp, headers: &[(&str, &str)], login: &str) -> Reply {
    let mut req = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"login": login, "password": "not the password"}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    TestApp::reply(req.send().await.expect("the server answers")).await
}

/// Failed logins through the proxy header `name`, one a value, each
/// expecting its answer: 401 `invalid_credentials` or 429 `rate_limited`.
async fn expect_logins(app: &TestApp, name: &str, tries: &[(&str, u16)]) {
    for &(value, status) in tries {
        let code = if status == 429 { "rate_limited" } else { "invalid_credentials" };
        login_via(app, &[(name, value)], "x").await.assert_problem(status, code);
    }
}

fn retry_after(reply: &Reply) -> u64 {
    reply.header("retry-after").expect("Retry-After").parse().expect("seconds")
}

async fn rotating_the_left_most_forwarded_entry_does_not_escape_the_login_limit(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| {
        c.auth_rate_limit = 3;
        c.trust_proxy = true;
    })
    .await;
    // An appending proxy: the client controls everything left of the last entry.
    let tries = [
        ("198.51.100.0, 203.0.113.7", 401),
        ("198.51.100.1, 203.0.113.7", 401),
        ("198.51.100.2, 203.0.113.7", 401),
    ];
    expect_logins(&app, "X-Forwarded-For", &tries).await;
    let reply = login_via(&app, &[("X-Forwarded-For", "198.51.100.99, 203.0.113.7")], "x").await;
    reply.assert_problem(429, "rate_limited");
    assert!((1..=60).contains(&retry_after(&reply)));
    // A client-written `Forwarded` is not read (the proxy writes X-Forwarded-For).
    let both = [("Forwarded", "for=198.51.100.100"), ("X-Forwarded-For", "203.0.113.7")];
    login_via(&app, &both, "x").await.assert_problem(429, "rate_limited");
    // Another right-most address has its own budget.
    expect_logins(&app, "X-Forwarded-For", &[("198.51.100.99, 203.0.113.8", 401)]).await;
}

async fn forwarded_elements_are_keyed_by_the_right_most_address(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| {
        c.auth_rate_limit = 2;
        c.trust_proxy = true;
        c.proxy_header = keyholder_tests::keyholder_api::proxy::ProxyHeader::Forwarded;
    })
    .await;
    let tries = [
        (r#"for=198.51.100.0, for="[2001:db8:cafe::17]:4711";proto=https"#, 401),
        (r#"for=198.51.100.1, for="[2001:db8:cafe::17]:4711";proto=https"#, 401),
        (r#"for=198.51.100.9, for="[2001:db8:cafe::17]:1""#, 429),
        (r#"for="[2001:db8:cafe::18]""#, 401),
    ];
    expect_logins(&app, "Forwarded", &tries).await;
}

async fn trusted_proxy_networks_are_skipped_and_other_peers_are_not_believed(app: TestApp) {
    // The proxies are 127.0.0.0/8 (the test client's address is one).
    let app_proxied = TestApp::spawn_with(app.backend, |c| {
        c.auth_rate_limit = 2;
        c.trusted_proxies = vec!["127.0.0.0/8".parse().expect("network")];
    })
    .await;
    let tries = [
        ("198.51.100.0, 203.0.113.7, 127.0.0.9", 401),
        ("198.51.100.1, 203.0.113.7, 127.0.0.9", 401),
        ("1.1.1.1, 203.0.113.7, 127.0.0.9", 429),
        ("203.0.113.8, 127.0.0.9", 401),
    ];
    expect_logins(&app_proxied, "X-Forwarded-For", &tries).await;

    // Trusting only other proxies: the header of this peer is ignored.
    let app_direct = TestApp::spawn_with(app.backend, |c| {
        c.auth_rate_limit = 2;
        c.trusted_proxies = vec!["10.0.0.0/8".parse().expect("network")];
    })
    .await;
    let tries = [("203.0.113.0", 401), ("203.0.113.1", 401), ("203.0.113.50", 429)];
    expect_logins(&app_direct, "X-Forwarded-For", &tries).await;
}

async fn change_password(app: &TestApp, token: &str, current: &str) -> Reply {
    app.try_new_password(token, current, "a brand new password").await
}

async fn a_sixth_password_guess_within_a_minute_is_429(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| c.password_rate_limit = 5).await;
    let ada = app.register("ada").await;
    for i in 0..5 {
        change_password(&app, &ada.token, &format!("guess number {i}"))
            .await
            .assert_problem(403, "wrong_password");
    }
    let started = Instant::now();
    let reply = change_password(&app, &ada.token, "guess number 6").await;
    reply.assert_problem(429, "rate_limited");
    assert!((1..=60).contains(&retry_after(&reply)));
    // Refused before any hashing: fast.
    assert!(started.elapsed() < Duration::from_secs(2));
    // The right password waits for the window too.
    change_password(&app, &ada.token, PASSWORD).await.assert_problem(429, "rate_limited");
    // Nothing changed: the old password still signs in.
    app.login("ada", PASSWORD).await.assert_status(200);
    // Without a token nothing is counted or revealed.
    app.try_new_password(&NOBODY, "x", "a brand new password")
        .await
        .assert_problem(401, "missing_token");
}

async fn the_password_limit_also_counts_per_address(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| c.password_rate_limit = 2).await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    for _ in 0..2 {
        change_password(&app, &ada.token, "wrong password here")
            .await
            .assert_problem(403, "wrong_password");
    }
    // Another stolen token, the same address.
    change_password(&app, &bob.token, "wrong password here")
        .await
        .assert_problem(429, "rate_limited");
}

async fn logins_beyond_the_hash_cap_answer_503_server_busy_quickly(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| {
        c.max_concurrent_hashes = 1;
        c.hash_wait_ms = 1;
    })
    .await;
    app.register("ada").await;
    let started = Instant::now();
    let attempts = (0..16).map(|i| {
        let req = app.client.post(app.url("/api/v1/auth/login")).json(&json!({
            "login": "ada",
            "password": if i % 2 == 0 { PASSWORD } else { "not the password" },
        }));
        async move { TestApp::reply(req.send().await.expect("the server answers")).await }
    });
    let replies = futures_util::future::join_all(attempts).await;
    let elapsed = started.elapsed();
    let busy: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
    for reply in &replies {
        assert!(
            [200, 401, 503].contains(&reply.status),
            "unexpected {}: {}",
            reply.status,
            reply.text
        );
    }
    assert!(
        !busy.is_empty(),
        "no 503 among {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(busy.len() < replies.len(), "every attempt was refused");
    for reply in busy {
        reply.assert_problem(503, "server_busy");
        assert_eq!(retry_after(reply), 1);
    }
    // Refusals do not queue behind the hashing.
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    // Still responsive, and a lone login works.
    app.get("/health/live", None).await.assert_status(200);
    app.login("ada", PASSWORD).await.assert_status(200);
}

async fn refused_cors_preflight_is_problem_json(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| {
        c.cors_origins = vec!["https://app.example".to_owned()];
    })
    .await;
    let preflight = |origin: &'static str, method: &'static str| {
        let req = app
            .client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/me"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method);
        async move { TestApp::reply(req.send().await.expect("the server answers")).await }
    };
    let refused = preflight("https://evil.example", "GET").await;
    refused.assert_problem(403, "cors_refused");
    assert!(refused.header("access-control-allow-origin").is_none());
    // The security headers are still there.
    assert_eq!(refused.header("x-content-type-options"), Some("nosniff"));
    preflight("https://app.example", "TRACE").await.assert_problem(403, "cors_refused");
    let allowed = preflight("https://app.example", "GET").await;
    allowed.assert_status(200);
    assert_eq!(allowed.header("access-control-allow-origin"), Some("https://app.example"));
}

async fn metrics_require_the_configured_token(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| {
        c.metrics_token = Some("metrics-token-0123456789".into());
    })
    .await;
    app.get("/metrics", None).await.assert_problem(401, "missing_token");
    app.get("/metrics", Some("metrics-token-012345678X"))
        .await
        .assert_problem(401, "invalid_token");
    app.get("/metrics", Some("metrics-token-0123456789x"))
        .await
        .assert_problem(401, "invalid_token");
    let ok = app.get("/metrics", Some("metrics-token-0123456789")).await;
    ok.assert_status(200);
    assert!(ok.text.contains("keyholder_mail_pending"), "{}", ok.text);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn metrics_bind_moves_metrics_to_their_own_listener(app: TestApp) {
    let port = free_port();
    let app = TestApp::spawn_with(app.backend, |c| {
        c.metrics_bind = Some(format!("127.0.0.1:{port}").parse().expect("address"));
        c.metrics_token = Some("metrics-token-0123456789".into());
    })
    .await;
    // Not on the public listener, token or not.
    app.get("/metrics", Some("metrics-token-0123456789")).await.assert_problem(404, "not_found");
    let metrics_url = format!("http://127.0.0.1:{port}/metrics");
    let get = |url: String, token: Option<&'static str>| {
        let mut req = reqwest::Client::new().get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            TestApp::reply_elsewhere(req.send().await.expect("the metrics listener answers")).await
        }
    };
    let ok = get(metrics_url.clone(), Some("metrics-token-0123456789")).await;
    ok.assert_status(200);
    assert!(ok.text.contains("keyholder_mail_pending"), "{}", ok.text);
    // The token still applies there; nothing else is served.
    get(metrics_url.clone(), None).await.assert_problem(401, "missing_token");
    get(format!("http://127.0.0.1:{port}/health/live"), None)
        .await
        .assert_problem(404, "not_found");
    app.get("/health/live", None).await.assert_status(200);
    // It stops with the server.
    drop(app);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the metrics listener outlived the server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const HSTS: &str = "max-age=31536000; includeSubDomains";

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = app.client.get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    TestApp::reply(req.send().await.expect("the server answers")).await
}

async fn hsts_is_sent_when_the_public_url_is_https(app: TestApp) {
    // The default test server (http://keyholder.test) sends none.
    assert!(app.get("/health/live", None).await.header("strict-transport-security").is_none());
    let app = TestApp::spawn_with(app.backend, |c| {
        c.app_url = "https://keyholder.example".to_owned();
    })
    .await;
    for path in ["/health/live", "/api/v1/me", "/no/such/path"] {
        let reply = app.get(path, None).await;
        assert_eq!(reply.header("strict-transport-security"), Some(HSTS), "{path}");
    }
}

async fn hsts_follows_the_scheme_a_trusted_proxy_reports(app: TestApp) {
    let https = [("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https")];
    // Not behind a trusted proxy: the header is the client's word, ignored.
    let direct = get_with(&app, "/health/live", &https).await;
    assert!(direct.header("strict-transport-security").is_none());
    let app = TestApp::spawn_with(app.backend, |c| c.trust_proxy = true).await;
    let proxied = get_with(&app, "/health/live", &https).await;
    assert_eq!(proxied.header("strict-transport-security"), Some(HSTS));
    let plain = get_with(
        &app,
        "/health/live",
        &[("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "http")],
    )
    .await;
    assert!(plain.header("strict-transport-security").is_none());
}

/// The SQLite file (and its WAL companions) are readable by the owner only.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_database_file_is_created_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.register("ada").await;
    let path = app.db.url.strip_prefix("sqlite://").expect("a SQLite URL").to_owned();
    let mode = |p: &str| {
        std::fs::metadata(p).unwrap_or_else(|e| panic!("{p}: {e}")).permissions().mode() & 0o777
    };
    assert_eq!(mode(&path), 0o600, "{path}");
    for companion in ["-wal", "-shm"] {
        let p = format!("{path}{companion}");
        if std::path::Path::new(&p).exists() {
            assert_eq!(mode(&p), 0o600, "{p}");
        }
    }
}
