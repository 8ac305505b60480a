//! Test harness: starts Keyholder on port 0 against a fresh database (a
//! SQLite file in a temp folder, or a new PostgreSQL database) and speaks
//! HTTP to it like a frontend. Emails land as `.eml` files in a temp folder.

use std::path::PathBuf;
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};
use keyholder_api::{Application, Clock, Config};
use reqwest::Method;
use serde_json::{Value, json};

pub use keyholder_api;
pub use keyholder_store;
pub use keyholder_store::StoreError;

/// The JWT secret every test server uses, so tests can forge tokens.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
/// A password that satisfies the policy.
pub const PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each named `async fn(TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::TestApp::spawn($crate::Backend::Sqlite).await;
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if !$crate::postgres_available() {
                        return;
                    }
                    let app = $crate::TestApp::spawn($crate::Backend::Postgres).await;
                    super::$name(app).await;
                }
            )*
        }
    };
}

/// Whether PostgreSQL tests run: `KEYHOLDER_TEST_POSTGRES_URL` set. Under
/// `CI=true` a missing URL is a failure, never a skip.
pub fn postgres_available() -> bool {
    if std::env::var("KEYHOLDER_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but KEYHOLDER_TEST_POSTGRES_URL is not set: PostgreSQL suites must run"
    );
    eprintln!("skipping the PostgreSQL variant: KEYHOLDER_TEST_POSTGRES_URL is not set");
    false
}

/// A fresh database for one test, dropped afterwards.
pub struct TestDb {
    pub url: String,
    pg_admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("keyholder.db").display());
                Self {
                    url,
                    pg_admin: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = std::env::var("KEYHOLDER_TEST_POSTGRES_URL")
                    .expect("KEYHOLDER_TEST_POSTGRES_URL");
                let name = format!("kh_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!("PostgreSQL at KEYHOLDER_TEST_POSTGRES_URL does not answer: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let url = replace_db_name(&admin, &name);
                Self {
                    url,
                    pg_admin: Some((admin, name)),
                    _dir: None,
                }
            }
        }
    }

    /// Drops the PostgreSQL database now (simulates a lost database).
    pub fn drop_now(&mut self) {
        if let Some((admin, name)) = self.pg_admin.take()
            && let Ok(mut conn) = diesel::PgConnection::establish(&admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.drop_now();
    }
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A running server with its own database and mail folder.
pub struct TestApp {
    pub address: String,
    pub backend: Backend,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub mail_dir: PathBuf,
    pub app_state: keyholder_api::state::AppState,
    handle: actix_web::dev::ServerHandle,
    _mail: tempfile::TempDir,
    pub db: TestDb,
}

/// An HTTP answer, with the body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Self {
        self.assert_status(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "problem content type; body: {}",
            self.text
        );
        assert_eq!(self.body["code"], code, "problem code; body: {}", self.text);
        assert_eq!(self.body["status"], status, "problem status member");
        assert!(self.body["type"].is_string() && self.body["title"].is_string());
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        self
    }
}

/// A registered user and their session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub email: String,
    pub username: String,
    pub token: String,
}

/// An email found in the mail folder.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Email {
    /// The token in the `#token=` fragment of the first link.
    pub fn token(&self) -> String {
        let start = self
            .body
            .find("#token=")
            .expect("a #token= link in the email")
            + 7;
        self.body[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    /// The first link that contains `#token=`.
    pub fn link(&self) -> String {
        let end = self.body.find("#token=").expect("link");
        let start = self.body[..end]
            .rfind(char::is_whitespace)
            .map_or(0, |i| i + 1);
        format!("{}#token={}", &self.body[start..end], self.token())
    }
}

impl TestApp {
    /// Default test configuration.
    pub fn config(db_url: &str, mail_dir: &std::path::Path) -> Config {
        let mut config = Config::defaults();
        config.database_url = Some(db_url.to_owned());
        config.bind = "127.0.0.1:0".parse().expect("address");
        config.jwt_secret = Some(TEST_JWT_SECRET.to_owned());
        config.mail_dir = Some(mail_dir.to_path_buf());
        config.smtp_url = None;
        config.auth_rate_limit = 0;
        config.action_rate_limit = 0;
        config.password_rate_limit = 0;
        // Many servers share the test machine's cores: wait for a hasher
        // rather than answer 503 (tests of the cap set it lower).
        config.hash_wait_ms = 30_000;
        config.mail_poll_ms = 50;
        config.db_timeout = 2;
        config.root_email = None;
        config.root_username = None;
        config.root_password = None;
        config.cors_origins = Vec::new();
        config.app_url = "http://keyholder.test".to_owned();
        config
    }

    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts a server after `tweak` adjusts the configuration.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new(backend);
        let mail = tempfile::tempdir().expect("temp dir");
        let mut config = Self::config(&db.url, mail.path());
        tweak(&mut config);
        let clock = Clock::system();
        let app = Application::build(config, clock.clone())
            .await
            .expect("the server starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let app_state = app.state().clone();
        tokio::spawn(app.run());
        Self {
            address,
            backend,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            clock,
            mail_dir: mail.path().to_path_buf(),
            app_state,
            handle,
            _mail: mail,
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::reply(req.send().await.expect("the server answers")).await
    }

    pub async fn reply(res: reqwest::Response) -> Reply {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    /// Registers `name` (email `<name>@example.com`) and returns the session.
    pub async fn register(&self, name: &str) -> Session {
        let reply = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}),
            )
            .await;
        reply.assert_status(201);
        Session {
            id: reply.body["user"]["id"].as_str().expect("id").to_owned(),
            email: reply.body["user"]["email"]
                .as_str()
                .expect("email")
                .to_owned(),
            username: name.to_owned(),
            token: reply.body["access_token"]
                .as_str()
                .expect("token")
                .to_owned(),
        }
    }

    /// Registers and verifies the email through the emailed link.
    pub async fn register_verified(&self, name: &str) -> Session {
        let session = self.register(name).await;
        let mail = self
            .wait_for_email(&session.email, "Confirm your email")
            .await;
        self.post(
            "/api/v1/auth/verify-email",
            None,
            json!({"token": mail.token()}),
        )
        .await
        .assert_status(200);
        session
    }

    /// Every email delivered so far.
    pub fn emails(&self) -> Vec<Email> {
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, p)| parse_eml(&std::fs::read(p).ok()?))
            .collect()
    }

    /// Emails to `to` whose subject contains `subject`.
    pub fn emails_to(&self, to: &str, subject: &str) -> Vec<Email> {
        self.emails()
            .into_iter()
            .filter(|m| m.to.eq_ignore_ascii_case(to) && m.subject.contains(subject))
            .collect()
    }

    /// Waits (up to 15 s) for the `n`-th email to `to` with that subject.
    pub async fn wait_for_nth_email(&self, to: &str, subject: &str, n: usize) -> Email {
        for _ in 0..300 {
            let found = self.emails_to(to, subject);
            if found.len() >= n {
                return found[n - 1].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no email #{n} to {to} with subject containing {subject:?}; got {:?}",
            self.emails()
        );
    }

    pub async fn wait_for_email(&self, to: &str, subject: &str) -> Email {
        self.wait_for_nth_email(to, subject, 1).await
    }

    /// Runs a query on the app's database (for checks a client cannot make,
    /// such as audit rows before the audit API exists).
    pub fn with_db<T>(
        &self,
        f: impl FnOnce(&mut keyholder_store::DbConnection) -> Result<T, keyholder_store::StoreError>,
    ) -> T {
        self.app_state.db.read(f).expect("database query")
    }
}

impl TestApp {
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::DELETE, path, token, None).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting; the database is dropped after (TestDb's Drop).
        drop(self.handle.stop(false));
    }
}

fn parse_eml(raw: &[u8]) -> Option<Email> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    let to = msg.to()?.first()?.address()?.to_owned();
    Some(Email {
        to,
        subject: msg.subject().unwrap_or_default().to_owned(),
        body: msg.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
    })
}

/// Signs arbitrary claims with the test secret (or another secret).
pub fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// Typed steps the scenarios share, so tests read like the seed's stories.
impl TestApp {
    /// Signs in; the reply as the server gave it.
    pub async fn login(&self, login: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/auth/login",
            None,
            serde_json::json!({"login": login, "password": password}),
        )
        .await
    }

    /// Creates an asset (201 expected) and returns its id.
    pub async fn create_asset(&self, owner: &Session, body: Value) -> String {
        let r = self.post("/api/v1/assets", Some(&owner.token), body).await;
        r.assert_status(201);
        r.body["id"].as_str().expect("asset id").to_owned()
    }

    /// Creates an estate (201 expected) and returns its id.
    pub async fn create_estate(&self, owner: &Session, name: &str) -> String {
        let r = self
            .post("/api/v1/estates", Some(&owner.token), json!({"name": name}))
            .await;
        r.assert_status(201);
        r.body["id"].as_str().expect("estate id").to_owned()
    }

    /// Creates a site in an estate (201 expected) and returns its id.
    pub async fn create_site(&self, owner: &Session, estate: &str, name: &str) -> String {
        let r = self
            .post(
                &format!("/api/v1/estates/{estate}/sites"),
                Some(&owner.token),
                json!({"name": name}),
            )
            .await;
        r.assert_status(201);
        r.body["id"].as_str().expect("site id").to_owned()
    }

    /// Grants a verified user an estate role at once (201, "granted").
    pub async fn grant_role(&self, by: &Session, estate: &str, user: &Session, role: &str) {
        let r = self
            .post(
                &format!("/api/v1/estates/{estate}/invitations"),
                Some(&by.token),
                json!({"email": user.email, "role": role}),
            )
            .await;
        r.assert_status(201);
        assert_eq!(r.body["outcome"], "granted", "{}", r.text);
    }

    /// Adds a collaborator by username (201 expected).
    pub async fn add_collaborator(&self, by: &Session, asset: &str, username: &str) {
        self.post(
            &format!("/api/v1/assets/{asset}/collaborators"),
            Some(&by.token),
            json!({"username": username}),
        )
        .await
        .assert_status(201);
    }

    /// Follows `next_cursor` through every page of the list at `path` with
    /// `per_page`: the items in order and how many pages it took. Every page
    /// but the last is full, and the walk must end.
    pub async fn walk(&self, token: &str, path: &str, per_page: usize) -> (Vec<Value>, usize) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}per_page={per_page}&cursor={c}"),
                None => format!("{path}{sep}per_page={per_page}"),
            };
            let page = self.get(&url, Some(token)).await;
            page.assert_status(200);
            pages += 1;
            let got = page.body["items"].as_array().expect("items").clone();
            assert!(
                got.len() <= per_page,
                "at most per_page items: {}",
                page.text
            );
            assert!(
                page.body["next_cursor"].is_null() || got.len() == per_page,
                "only the last page may be short: {}",
                page.text
            );
            items.extend(got);
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            assert!(pages < 200, "the walk must end");
        }
        (items, pages)
    }
}
