//! The running server: spawning it, raw HTTP requests, replies and the
//! mail folder.

use std::path::PathBuf;
use std::time::Duration;

use keyholder_api::{Application, Clock, Config};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{Backend, PASSWORD, ROOT_PASSWORD, TEST_JWT_SECRET, TestDb};

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
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts the status and reads the body as a client-side view.
    #[track_caller]
    pub fn expect<T: DeserializeOwned>(&self, status: u16) -> T {
        self.assert_status(status);
        self.json()
    }

    /// The body as a client-side view.
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("unexpected body ({e}): {}", self.text))
    }

    /// A string member of the body, which must be there.
    #[track_caller]
    pub fn str(&self, key: &str) -> String {
        match self.body[key].as_str() {
            Some(s) => s.to_owned(),
            None => panic!("no string {key:?} in {}", self.text),
        }
    }

    /// The `id` of what the request made.
    #[track_caller]
    pub fn id(&self) -> String {
        self.str("id")
    }

    /// The `items` of a list, which must be there.
    #[track_caller]
    pub fn items(&self) -> &Vec<Value> {
        self.body["items"].as_array().unwrap_or_else(|| panic!("no items in {}", self.text))
    }

    /// The item of a list whose `user.id` is this user's: a member's row.
    #[track_caller]
    pub fn row_of(&self, user: &Session) -> &Value {
        let row = self.items().iter().find(|m| m["user"]["id"] == user.id.as_str());
        row.unwrap_or_else(|| panic!("no row for {} in {}", user.username, self.text))
    }

    /// Asserts the status and, for a 4xx or 5xx, the problem code (ignored
    /// on success), so that one table can hold successes and refusals.
    #[track_caller]
    pub fn assert_answer(&self, status: u16, code: &str) -> &Self {
        if status >= 400 { self.assert_problem(status, code) } else { self.assert_status(status) }
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
    /// The session's refresh token, as the sign-up answered it.
    pub refresh_token: String,
    /// The session's id.
    pub session_id: String,
}

/// A user shows as their id, as paths name them.
impl std::fmt::Display for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)
    }
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
        let start = self.body.find("#token=").expect("a #token= link in the email") + 7;
        self.body[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    /// The first link that contains `#token=`.
    pub fn link(&self) -> String {
        let end = self.body.find("#token=").expect("link");
        let start = self.body[..end].rfind(char::is_whitespace).map_or(0, |i| i + 1);
        format!("{}#token={}", &self.body[start..end], self.token())
    }
}

impl TestApp {
    /// Default test configuration.
    pub fn config(db_url: &str, mail_dir: &std::path::Path) -> Config {
        let mut config = Config::defaults();
        config.database_url = Some(db_url.into());
        config.bind = "127.0.0.1:0".parse().expect("address");
        config.jwt_secret = Some(TEST_JWT_SECRET.into());
        config.mail_dir = Some(mail_dir.to_path_buf());
        // Uploaded files stay in the test's temp folder on both databases.
        config.files_dir = Some(mail_dir.join("stored-files"));
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
        // Tests move the clock by days and keep using one token; the tests
        // of expiry set these lower.
        config.token_ttl = 31_536_000;
        config.refresh_ttl = 31_536_000;
        config
    }

    /// Starts a server whose configuration names a root account
    /// (`root`, root@example.com, [`ROOT_PASSWORD`]).
    pub async fn spawn_with_root(backend: Backend) -> Self {
        Self::spawn_with(backend, |c| {
            c.root_email = Some("root@example.com".into());
            c.root_username = Some("root".into());
            c.root_password = Some(ROOT_PASSWORD.into());
        })
        .await
    }

    /// Signs root in (200 expected): its token.
    pub async fn root_token(&self) -> String {
        self.sign_in("root", ROOT_PASSWORD).await
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
        let app = Application::build(config, clock.clone()).await.expect("the server starts");
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
        let mut req = self.client.request(method.clone(), self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("the server answers");
        let url = res.url().clone();
        let reply = Self::read(res).await;
        crate::contract::check(Some(method.as_str()), &url, &reply);
        reply
    }

    /// Reads an answer to a request sent by hand; a problem answer is
    /// checked against the contract (for any method of its path).
    pub async fn reply(res: reqwest::Response) -> Reply {
        let url = res.url().clone();
        let reply = Self::read(res).await;
        crate::contract::check(None, &url, &reply);
        reply
    }

    /// Reads an answer from a listener the contract does not describe (the
    /// separate metrics listener, which serves `/metrics` alone): unchecked.
    pub async fn reply_elsewhere(res: reqwest::Response) -> Reply {
        Self::read(res).await
    }

    async fn read(res: reqwest::Response) -> Reply {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
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
            email: reply.body["user"]["email"].as_str().expect("email").to_owned(),
            username: name.to_owned(),
            token: reply.body["access_token"].as_str().expect("token").to_owned(),
            refresh_token: reply.body["refresh_token"].as_str().expect("refresh").to_owned(),
            session_id: reply.body["session_id"].as_str().expect("session").to_owned(),
        }
    }

    /// Registers and verifies the email through the emailed link.
    pub async fn register_verified(&self, name: &str) -> Session {
        let session = self.register(name).await;
        let mail = self.wait_for_email(&session.email, "Confirm your email").await;
        self.post("/api/v1/auth/verify-email", None, json!({"token": mail.token()}))
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
        files.into_iter().filter_map(|(_, p)| parse_eml(&std::fs::read(p).ok()?)).collect()
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

impl TestApp {
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
            assert!(got.len() <= per_page, "at most per_page items: {}", page.text);
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
