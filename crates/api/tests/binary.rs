//! The `keyholder` binary: subcommands, configuration refusals, the JWT secret
//! file, the root bootstrap, and graceful shutdown on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keyholder");
const PASSWORD: &str = "correct horse battery";

fn command(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd);
    for var in [
        "KEYHOLDER_DATABASE_URL",
        "DATABASE_URL",
        "KEYHOLDER_JWT_SECRET",
        "KEYHOLDER_SMTP_URL",
        "KEYHOLDER_MAIL_DIR",
        "KEYHOLDER_ROOT_EMAIL",
        "KEYHOLDER_ROOT_USERNAME",
        "KEYHOLDER_ROOT_PASSWORD",
        "KEYHOLDER_BIND",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "info").env("KEYHOLDER_AUTH_RATE_LIMIT", "0");
    cmd
}

/// Runs the binary in `cwd` with these arguments and extra variables, to its end.
fn run(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(cwd).args(args).envs(env.iter().copied()).output().expect("run")
}

/// Asserts that the binary refused to go on, saying `why` on stderr.
#[track_caller]
fn assert_refused(out: &Output, why: &str) {
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(why), "{stderr}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One HTTP/1.1 exchange over a fresh connection.
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let body = body.unwrap_or("");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    read_response(stream)
}

fn read_response(mut stream: TcpStream) -> (u16, String) {
    // Read until the server closes. A reset after the whole answer arrived
    // (the server closing with bytes of ours unread) still leaves the answer.
    let mut bytes = Vec::new();
    let mut chunk = [0_u8; 8192];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !bytes.is_empty() => {
                break;
            }
            Err(e) => panic!("read: {e:?}"),
        }
    }
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let status = raw.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status line");
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn wait_ready(port: u16, child: &mut Child) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited early with {status}");
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok()
            && http(port, "GET", "/health/ready", None, None).0 == 200
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not become ready");
}

fn serve(cwd: &Path, port: u16, extra: &[(&str, &str)]) -> Child {
    let mut child = spawn(cwd, port, extra, "server.log");
    wait_ready(port, &mut child);
    child
}

/// Starts the server without waiting for it, logging into `cwd/log`.
fn spawn(cwd: &Path, port: u16, extra: &[(&str, &str)], log: &str) -> Child {
    let mut cmd = command(cwd);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(cwd.join(log))
        .expect("log file");
    cmd.env("KEYHOLDER_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::from(log.try_clone().expect("log file")))
        .stderr(Stdio::from(log));
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start keyholder")
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(start.elapsed() < Duration::from_secs(40), "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON body expected, got {body}"))
}

/// A server in `cwd` that logs at debug level, where ada has registered:
/// the server, its port and ada's token.
fn serve_debug_with_ada(cwd: &Path) -> (Child, u16, String) {
    let port = free_port();
    let server = serve(cwd, port, &[("RUST_LOG", "debug")]);
    (server, port, register(port, "ada"))
}

fn register(port: u16, name: &str) -> String {
    let body =
        format!(r#"{{"email":"{name}@example.com","username":"{name}","password":"{PASSWORD}"}}"#);
    let (status, reply) = http(port, "POST", "/api/v1/auth/register", None, Some(&body));
    assert_eq!(status, 201, "{reply}");
    json(&reply)["access_token"].as_str().expect("token").to_owned()
}

#[test]
fn openapi_subcommand_prints_the_committed_document() {
    let dir = tempfile::tempdir().expect("dir");
    let out = command(dir.path()).arg("openapi").output().expect("run");
    assert!(out.status.success());
    let committed = include_str!("../../../openapi/openapi.json");
    assert!(
        String::from_utf8_lossy(&out.stdout) == committed,
        "run `keyholder openapi > openapi/openapi.json`"
    );
    // It needs no database.
    assert!(!dir.path().join("data").exists());
}

#[test]
fn migrate_creates_the_default_sqlite_database_and_its_folder() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(dir.path(), &["migrate"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("data/keyholder.db").exists());
    // Running it again is a no-op.
    assert!(run(dir.path(), &["migrate"], &[]).status.success());
}

#[test]
fn database_url_falls_back_to_database_url_variable() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(dir.path(), &["migrate"], &[("DATABASE_URL", "sqlite://other/db.sqlite")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("other/db.sqlite").exists());
    assert!(!dir.path().join("data").exists());
}

#[test]
fn unsupported_database_url_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("dir");
    let out =
        run(dir.path(), &["migrate"], &[("KEYHOLDER_DATABASE_URL", "mysql://root@localhost/x")]);
    assert_refused(&out, "unsupported database URL scheme");
}

#[test]
fn postgres_without_a_jwt_secret_refuses_to_start() {
    let Ok(url) = std::env::var("KEYHOLDER_TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "PostgreSQL is required under CI");
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let bind = format!("127.0.0.1:{}", free_port());
    let out = run(dir.path(), &[], &[("KEYHOLDER_DATABASE_URL", &url), ("KEYHOLDER_BIND", &bind)]);
    assert_refused(&out, "KEYHOLDER_JWT_SECRET is not set");
}

#[test]
fn sqlite_secret_is_generated_once_with_mode_0600_and_tokens_survive_restarts() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut server = serve(dir.path(), port, &[]);
    let token = register(port, "ada");
    assert!(terminate(&mut server).success());
    let secret = dir.path().join("data/jwt-secret");
    let mode = std::fs::metadata(&secret).expect("secret file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let first = std::fs::read_to_string(&secret).expect("read");
    let mut server = serve(dir.path(), port, &[]);
    let (status, body) = http(port, "GET", "/api/v1/me", Some(&token), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(std::fs::read_to_string(&secret).expect("read"), first);
    assert!(terminate(&mut server).success());
}

#[test]
fn root_is_bootstrapped_and_an_ordinary_account_cannot_be_taken_over() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let root = [
        ("KEYHOLDER_ROOT_EMAIL", "root@example.com"),
        ("KEYHOLDER_ROOT_USERNAME", "root"),
        ("KEYHOLDER_ROOT_PASSWORD", "root password 123"),
    ];
    let mut server = serve(dir.path(), port, &root);
    let (status, body) = http(
        port,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(r#"{"login":"root","password":"root password 123"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let user = &json(&body)["user"];
    assert_eq!(user["is_root"], true);
    assert_eq!(user["email_verified"], true);
    register(port, "ada");
    assert!(terminate(&mut server).success());
    // Restarting with the same root is fine.
    let mut server = serve(dir.path(), port, &root);
    assert!(terminate(&mut server).success());
    // Naming an ordinary account as root refuses to start.
    let bind = format!("127.0.0.1:{port}");
    let ordinary = [
        ("KEYHOLDER_BIND", bind.as_str()),
        ("KEYHOLDER_ROOT_EMAIL", "someone@example.com"),
        ("KEYHOLDER_ROOT_USERNAME", "ADA"),
        ("KEYHOLDER_ROOT_PASSWORD", "root password 123"),
    ];
    assert_refused(&run(dir.path(), &[], &ordinary), "ordinary account");
}

#[test]
fn sigterm_finishes_in_flight_requests_then_exits() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut server = serve(dir.path(), port, &[]);
    // A request whose body is still arriving when SIGTERM lands.
    let body =
        format!(r#"{{"email":"late@example.com","username":"late","password":"{PASSWORD}"}}"#);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let head = format!(
        "POST /api/v1/auth/register HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(&body.as_bytes()[..10]).expect("send part");
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused while the old one is served.
    assert!(server.try_wait().expect("wait").is_none(), "exited with a request in flight");
    stream.write_all(&body.as_bytes()[10..]).expect("send rest");
    let (status, reply) = read_response(stream);
    assert_eq!(status, 201, "{reply}");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = server.try_wait().expect("wait") {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(40));
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let log = std::fs::read_to_string(dir.path().join("server.log")).expect("log");
    assert!(log.contains("mail worker stopped"), "{log}");
}

#[test]
fn logs_never_contain_tokens_or_passwords() {
    let dir = tempfile::tempdir().expect("dir");
    // No SMTP and no mail folder: emails go to the log, redacted.
    let (mut server, port, token) = serve_debug_with_ada(dir.path());
    http(port, "POST", "/api/v1/auth/password-reset", None, Some(r#"{"email":"ada@example.com"}"#));
    http(port, "GET", "/api/v1/me", Some(&token), None);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(terminate(&mut server).success());
    let stderr = std::fs::read_to_string(dir.path().join("server.log")).expect("log");
    assert!(stderr.contains("verify-email#token=[redacted]"), "{stderr}");
    assert!(stderr.contains("reset-password#token=[redacted]"), "{stderr}");
    assert!(!stderr.contains(PASSWORD));
    assert!(!stderr.contains(&token));
    let secret = std::fs::read_to_string(dir.path().join("data/jwt-secret")).expect("secret");
    assert!(!stderr.contains(secret.trim()));
}

#[test]
fn logs_never_contain_searched_emails_or_query_values() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, port, token) = serve_debug_with_ada(dir.path());
    let search = "/api/v1/estates/00000000-0000-4000-8000-000000000000/user-search\
                  ?email=searched.person%40example.com";
    let (status, _) = http(port, "GET", search, Some(&token), None);
    assert_eq!(status, 404);
    let (status, _) = http(port, "GET", search, None, None);
    assert_eq!(status, 401);
    // Error details can quote the request; the log names the code only.
    let body = format!(
        r#"{{"email":"other.person@example.com","username":"ada","password":"{PASSWORD}"}}"#
    );
    let (status, _) = http(port, "POST", "/api/v1/auth/register", None, Some(&body));
    assert_eq!(status, 409);
    assert!(terminate(&mut server).success());
    let log = std::fs::read_to_string(dir.path().join("server.log")).expect("log");
    // Each request has its access line, by route template, never the query.
    assert!(log.contains("route=/api/v1/estates/{estate_id}/user-search status=404"), "{log}");
    assert!(!log.contains("searched.person"), "{log}");
    assert!(log.contains("username_taken"), "{log}");
    assert!(!log.contains("username ada is taken"), "{log}");
    assert!(!log.contains("other.person"), "{log}");
}

#[test]
fn metrics_listener_is_separate_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let metrics_port = free_port();
    let bind = format!("127.0.0.1:{metrics_port}");
    let mut server = serve(dir.path(), port, &[("KEYHOLDER_METRICS_BIND", &bind)]);
    let (status, body) = http(port, "GET", "/metrics", None, None);
    assert_eq!(status, 404, "{body}");
    let (status, body) = http(metrics_port, "GET", "/metrics", None, None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("keyholder_mail_pending"), "{body}");
    assert!(terminate(&mut server).success());
    assert!(
        TcpStream::connect(("127.0.0.1", metrics_port)).is_err(),
        "the metrics listener outlived the server"
    );
}

/// A throw-away PostgreSQL database, dropped at the end.
struct PgDatabase {
    admin: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// `None` when `KEYHOLDER_TEST_POSTGRES_URL` is unset (a failure under CI).
    fn create() -> Option<Self> {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let Ok(admin) = std::env::var("KEYHOLDER_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PostgreSQL is required under CI"
            );
            return None;
        };
        let name = format!("kh_replicas_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(&admin).expect("PostgreSQL answers");
        conn.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Some(Self { admin, name, url })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin) {
            let _ =
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// Starts four servers on one database at the same moment, with the same
/// root account configured, and asserts that every one becomes ready and
/// exactly one root exists; then stops them.
fn four_replicas_start_together(dir: &Path, database: Option<&str>, round: usize) {
    let root = [
        ("KEYHOLDER_ROOT_EMAIL", "root@example.com"),
        ("KEYHOLDER_ROOT_USERNAME", "root"),
        ("KEYHOLDER_ROOT_PASSWORD", "root password 123"),
        ("KEYHOLDER_JWT_SECRET", "replicas-test-only-jwt-secret-0123456789abcdef"),
    ];
    let mut env = root.to_vec();
    if let Some(url) = database {
        env.push(("KEYHOLDER_DATABASE_URL", url));
    }
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    /// Kills what is left running when an assertion fails.
    struct Replicas(Vec<Child>);
    impl Drop for Replicas {
        fn drop(&mut self) {
            for child in &mut self.0 {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    let mut servers = Replicas(
        ports
            .iter()
            .enumerate()
            .map(|(i, port)| spawn(dir, *port, &env, &format!("replica-{round}-{i}.log")))
            .collect(),
    );
    for (i, (server, port)) in servers.0.iter_mut().zip(&ports).enumerate() {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = server.try_wait() {
                let log = std::fs::read_to_string(dir.join(format!("replica-{round}-{i}.log")))
                    .unwrap_or_default();
                panic!("replica {i} of round {round} exited with {status}:\n{log}");
            }
            if TcpStream::connect(("127.0.0.1", *port)).is_ok()
                && http(*port, "GET", "/health/ready", None, None).0 == 200
            {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(90), "replica {i} never became ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let (status, body) = http(
        ports[3],
        "POST",
        "/api/v1/auth/login",
        None,
        Some(r#"{"login":"root","password":"root password 123"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let token = json(&body)["access_token"].as_str().expect("token").to_owned();
    let (status, body) =
        http(ports[0], "GET", "/api/v1/admin/users?status=root", Some(&token), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["items"].as_array().map(Vec::len), Some(1), "{body}");
    for server in &mut servers.0 {
        assert!(terminate(server).success());
    }
}

#[test]
fn four_replicas_started_together_on_sqlite_all_become_ready() {
    let dir = tempfile::tempdir().expect("dir");
    // A fresh database, then the migrated one.
    four_replicas_start_together(dir.path(), None, 1);
    four_replicas_start_together(dir.path(), None, 2);
}

#[test]
fn four_replicas_started_together_on_postgres_all_become_ready() {
    for _ in 0..2 {
        let Some(db) = PgDatabase::create() else { return };
        let dir = tempfile::tempdir().expect("dir");
        four_replicas_start_together(dir.path(), Some(&db.url), 1);
        four_replicas_start_together(dir.path(), Some(&db.url), 2);
    }
}

/// `KEYHOLDER_LOG_FORMAT=json`: every line one JSON object; each request
/// one access line (method, route template, status, duration, request id,
/// user, code) at INFO for a 2xx or 4xx; the caller's `x-request-id` is
/// kept and answered; no 4xx dump at WARN; the span once.
#[test]
fn json_logs_have_one_access_line_per_request() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut server = serve(dir.path(), port, &[("KEYHOLDER_LOG_FORMAT", "json")]);
    let token = register(port, "ada");
    let request = |path: &str, id: &str| {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Authorization: Bearer {token}\r\nx-request-id: {id}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).expect("send");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let mut raw = String::new();
        let _ = stream.read_to_string(&mut raw);
        let status = raw.get(9..12).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
        (status, raw)
    };
    let (status, reply) = request("/api/v1/me", "trace-me-1");
    assert_eq!(status, 200, "{reply}");
    assert!(reply.to_ascii_lowercase().contains("x-request-id: trace-me-1"), "{reply}");
    let (status, _) = request("/api/v1/admin/users?q=hidden.person%40example.com", "trace-me-2");
    assert_eq!(status, 403);
    // An id that could forge log lines is replaced by a new one.
    let (status, reply) = request("/api/v1/me", "two%20words");
    assert_eq!(status, 200, "{reply}");
    assert!(!reply.contains("two%20words"), "{reply}");
    assert!(terminate(&mut server).success());

    let log = std::fs::read_to_string(dir.path().join("server.log")).expect("log");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let access: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["message"] == "request").collect();
    // register, /me, /admin/users, /me (the readiness probes log at DEBUG).
    assert_eq!(access.len(), 4, "{log}");
    let me = access.iter().find(|l| l["request_id"] == "trace-me-1").expect("the /me line");
    assert_eq!(me["level"], "INFO");
    assert_eq!(me["method"], "GET");
    assert_eq!(me["route"], "/api/v1/me");
    assert_eq!(me["status"], 200);
    assert!(me["duration_ms"].as_f64().is_some(), "{me}");
    assert!(me["user_id"].as_str().is_some_and(|u| u.len() == 36), "{me}");
    let refused = access.iter().find(|l| l["request_id"] == "trace-me-2").expect("the 403 line");
    assert_eq!(refused["level"], "INFO");
    assert_eq!(refused["route"], "/api/v1/admin/users");
    assert_eq!(refused["status"], 403);
    assert_eq!(refused["code"], "root_required");
    assert!(!log.contains("hidden.person"), "{log}");
    // The one warning is the start-up notice that no mail server is set.
    let warnings: Vec<_> = lines.iter().filter(|l| l["level"] == "WARN").collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0]["message"].as_str().is_some_and(|m| m.starts_with("no SMTP URL")));
    assert!(lines.iter().all(|l| l.get("spans").is_none()), "{log}");
    assert!(lines.iter().all(|l| l["level"] != "ERROR"), "{log}");
}

/// Signs ada in, creates an asset named `name`; the asset's id.
fn create_asset(port: u16, token: &str, name: &str) -> String {
    let body = format!(r#"{{"name":"{name}"}}"#);
    let (status, reply) = http(port, "POST", "/api/v1/assets", Some(token), Some(&body));
    assert_eq!(status, 201, "{reply}");
    json(&reply)["id"].as_str().expect("id").to_owned()
}

/// Signs ada in on `port` and lists the names of her assets.
fn ada_asset_names(port: u16) -> Vec<String> {
    let login = format!(r#"{{"login":"ada","password":"{PASSWORD}"}}"#);
    let (status, body) = http(port, "POST", "/api/v1/auth/login", None, Some(&login));
    assert_eq!(status, 200, "{body}");
    let token = json(&body)["access_token"].as_str().expect("token").to_owned();
    let (status, body) = http(port, "GET", "/api/v1/assets", Some(&token), None);
    assert_eq!(status, 200, "{body}");
    let mut names: Vec<String> = json(&body)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_sqlite_backup_taken_while_serving_restores_to_a_working_server() {
    use std::os::unix::fs::PermissionsExt;
    let live = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut server = serve(live.path(), port, &[]);
    let token = register(port, "ada");
    create_asset(port, &token, "Tractor");
    create_asset(port, &token, "Trailer");
    // Taken while the server runs: it holds everything committed before.
    let backup = live.path().join("keyholder-backup.db");
    let out = run(live.path(), &["backup", backup.to_str().expect("path")], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mode = std::fs::metadata(&backup).expect("backup file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    create_asset(port, &token, "After the backup");
    // A second backup to the same file is refused, the first kept.
    let again = run(live.path(), &["backup", backup.to_str().expect("path")], &[]);
    assert_refused(&again, "exists already");
    assert!(terminate(&mut server).success());

    // Restore: the file in the database's place, in a new home.
    let restored = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(restored.path().join("data")).expect("data dir");
    std::fs::copy(&backup, restored.path().join("data/keyholder.db")).expect("copy");
    let port = free_port();
    let mut server = serve(restored.path(), port, &[]);
    assert_eq!(ada_asset_names(port), ["Tractor", "Trailer"]);
    assert!(terminate(&mut server).success());
}

#[test]
fn a_postgres_backup_restores_with_pg_restore_to_a_working_server() {
    let Some(source) = PgDatabase::create() else { return };
    let Some(target) = PgDatabase::create() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let secret = ("KEYHOLDER_JWT_SECRET", "backup-test-only-jwt-secret-0123456789abcdef");
    let port = free_port();
    let mut server =
        serve(dir.path(), port, &[("KEYHOLDER_DATABASE_URL", source.url.as_str()), secret]);
    let token = register(port, "ada");
    create_asset(port, &token, "Tractor");
    let backup = dir.path().join("keyholder.dump");
    let out = run(
        dir.path(),
        &["backup", backup.to_str().expect("path")],
        &[("KEYHOLDER_DATABASE_URL", source.url.as_str())],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    create_asset(port, &token, "After the backup");
    assert!(terminate(&mut server).success());

    let restore = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &target.url])
        .arg(&backup)
        .output()
        .expect("pg_restore runs");
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    let port = free_port();
    let mut server =
        serve(dir.path(), port, &[("KEYHOLDER_DATABASE_URL", target.url.as_str()), secret]);
    assert_eq!(ada_asset_names(port), ["Tractor"]);
    assert!(terminate(&mut server).success());
}

/// Requests already sent on open keep-alive connections when SIGTERM
/// lands are all answered (actix's own handling closed such connections
/// unanswered); during `KEYHOLDER_SHUTDOWN_DELAY` readiness answers 503,
/// other requests are served with `Connection: close`; then it exits 0.
#[test]
fn sigterm_answers_every_request_sent_before_it_and_readiness_turns_503() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut server = serve(dir.path(), port, &[("KEYHOLDER_SHUTDOWN_DELAY", "2")]);
    let token = register(port, "ada");
    // Eight keep-alive connections, each with one answered request, so the
    // server holds them open between requests.
    let get_me = format!(
        "GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    let read_one = |stream: &mut TcpStream| -> String {
        let mut seen = Vec::new();
        let mut chunk = [0_u8; 4096];
        loop {
            let n = stream.read(&mut chunk).expect("read");
            assert!(n > 0, "closed with no answer after {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned)
                    })
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if body.len() >= length {
                    return text;
                }
            }
        }
    };
    let mut streams: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
            s.write_all(get_me.as_bytes()).expect("send");
            assert!(read_one(&mut s).starts_with("HTTP/1.1 200"));
            s
        })
        .collect();
    // The next request on each, sent just before the signal.
    for s in &mut streams {
        s.write_all(get_me.as_bytes()).expect("send");
    }
    let pid = server.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    for s in &mut streams {
        let answer = read_one(s);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    // Still serving during the delay, but no longer ready...
    let start = Instant::now();
    while http(port, "GET", "/health/ready", None, None).0 != 503 {
        assert!(start.elapsed() < Duration::from_secs(1), "readiness still 200 after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, body) = http(port, "GET", "/api/v1/me", Some(&token), None);
    assert_eq!(status, 200, "{body}");
    // ...and an open connection's next answer closes it.
    streams[0].write_all(get_me.as_bytes()).expect("send");
    let answer = read_one(&mut streams[0]);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = server.try_wait().expect("wait") {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(40), "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert!(start.elapsed() >= Duration::from_secs(1), "left before its delay");
}
