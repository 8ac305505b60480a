//! The mail pipeline: outbox rows delivered over real SMTP with retries, and
//! concurrent workers that never claim the same row.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use keyholder_store::outbox::{self, NewMail};
use keyholder_store::{DatabaseUrl, Db, PoolOptions};
use keyholder_tests::{Backend, TestApp, TestDb, on_both_backends};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A minimal SMTP server that accepts every message and keeps it.
#[derive(Clone, Default)]
struct SmtpSink {
    messages: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl SmtpSink {
    async fn start(self, listener: TcpListener) {
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = self.clone();
                tokio::spawn(async move {
                    let _ = sink.session(stream).await;
                });
            }
        });
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink.test ESMTP\r\n").await?;
        let mut line = String::new();
        // The next line into `line`, or `false` once the client hung up.
        let mut next = async |line: &mut String| {
            line.clear();
            Ok::<_, std::io::Error>(lines.read_line(line).await? > 0)
        };
        loop {
            if !next(&mut line).await? {
                return Ok(());
            }
            let verb = line.trim_end().to_ascii_uppercase();
            if verb.starts_with("EHLO") || verb.starts_with("HELO") {
                write.write_all(b"250-sink.test\r\n250 8BITMIME\r\n").await?;
            } else if verb.starts_with("DATA") {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = Vec::new();
                loop {
                    if !next(&mut line).await? {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let l = line.strip_prefix('.').unwrap_or(&line);
                    data.extend_from_slice(l.as_bytes());
                }
                self.messages.lock().expect("lock").push(data);
                write.write_all(b"250 queued\r\n").await?;
            } else if verb.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                write.write_all(b"250 ok\r\n").await?;
            }
        }
    }

    fn count(&self) -> usize {
        self.messages.lock().expect("lock").len()
    }
}

on_both_backends!(smtp_delivery_retries_until_the_server_is_up);

async fn smtp_delivery_retries_until_the_server_is_up(app: TestApp) {
    // A port with nothing listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let app = TestApp::spawn_with(app.backend, |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        c.mail_dir = None;
    })
    .await;
    let ada = app.register("ada").await;
    // The first attempt fails: the SMTP server is down.
    let mut failed = false;
    for _ in 0..200 {
        let attempts: Vec<(i32, String, Option<String>)> = app.with_db(|c| {
            use diesel::prelude::*;
            use keyholder_store::schema::mail_outbox::dsl::*;
            mail_outbox.select((attempts, status, last_error)).load(c).map_err(Into::into)
        });
        if attempts.iter().any(|(n, s, e)| *n >= 1 && s == "pending" && e.is_some()) {
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failed, "the first delivery attempt should have failed and been kept");
    let metrics = app.get("/metrics", None).await;
    assert!(metrics.text.contains("keyholder_mail_failed_attempts_total 1"), "{}", metrics.text);

    // The server comes up; the retry (5 s backoff) delivers.
    let sink = SmtpSink::default();
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind SMTP port");
    sink.clone().start(listener).await;
    for _ in 0..400 {
        if sink.count() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sink.count(), 1, "the retried email should arrive");
    let raw = sink.messages.lock().expect("lock")[0].clone();
    let msg = mail_parser::MessageParser::default().parse(&raw).expect("a parseable message");
    assert_eq!(msg.to().and_then(|t| t.first()).and_then(|a| a.address()), Some("ada@example.com"));
    assert_eq!(
        msg.from().and_then(|t| t.first()).and_then(|a| a.address()),
        Some("no-reply@localhost")
    );
    assert_eq!(msg.subject(), Some("Confirm your email address for Keyholder"));
    // Its Message-ID names the outbox row, the same on every attempt.
    let row_id: String = app.with_db(|c| {
        use diesel::prelude::*;
        use keyholder_store::schema::mail_outbox::dsl::*;
        mail_outbox
            .select(id)
            .first::<keyholder_store::id::DbId>(c)
            .map(|i| i.0.to_string())
            .map_err(Into::into)
    });
    assert_eq!(msg.message_id(), Some(format!("{row_id}@localhost").as_str()));
    let body = msg.body_text(0).expect("text body").into_owned();
    let start = body.find("http://keyholder.test/verify-email#token=").expect("the link") + 41;
    let token: String = body[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    // The delivered link works.
    app.try_verify(&token).await.assert_status(200);
    assert_eq!(app.try_me(&ada).await.body["email_verified"], true);

    // Delivered once, marked sent, body dropped; never sent again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.count(), 1);
    let rows: Vec<(String, String)> = app.with_db(|c| {
        use diesel::prelude::*;
        use keyholder_store::schema::mail_outbox::dsl::*;
        mail_outbox.select((status, body_text)).load(c).map_err(Into::into)
    });
    assert_eq!(rows, vec![("sent".to_owned(), String::new())]);
}

fn claim_concurrently(backend: Backend) {
    let test_db = TestDb::new(backend);
    let url = DatabaseUrl::parse(&test_db.url).expect("url");
    let db = Db::connect(&url, &PoolOptions::default()).expect("connect");
    db.migrate().expect("migrate");
    let now = Utc::now();
    db.write(|c| {
        for i in 0..60 {
            let mail = NewMail {
                kind: "test",
                recipient: format!("user{i}@example.com"),
                subject: "hello".into(),
                body_text: "hi".into(),
            };
            outbox::enqueue(c, &mail, now)?;
        }
        Ok::<_, keyholder_store::StoreError>(())
    })
    .expect("enqueue");
    let claimed = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for _ in 0..4 {
            let db = db.clone();
            let claimed = claimed.clone();
            s.spawn(move || {
                loop {
                    let t = Utc::now();
                    let batch = db
                        .write(|c| outbox::claim_due(c, t, t + chrono::Duration::minutes(5), 3))
                        .expect("claim");
                    if batch.is_empty() {
                        break;
                    }
                    claimed.lock().expect("lock").extend(batch.into_iter().map(|m| m.id));
                }
            });
        }
    });
    let claimed = claimed.lock().expect("lock").clone();
    let unique: HashSet<_> = claimed.iter().collect();
    assert_eq!(claimed.len(), 60, "every row claimed exactly once");
    assert_eq!(unique.len(), 60);
    // A claimed row is not due again until its lease runs out.
    let t = Utc::now();
    let again = db.write(|c| outbox::claim_due(c, t, t, 100)).expect("claim");
    assert!(again.is_empty());
    let later = t + chrono::Duration::minutes(6);
    let expired = db.write(|c| outbox::claim_due(c, later, later, 100)).expect("claim");
    assert_eq!(expired.len(), 60, "a dead worker's rows come back after the lease");
}

#[test]
fn concurrent_workers_never_claim_the_same_row_sqlite() {
    claim_concurrently(Backend::Sqlite);
}

#[test]
fn concurrent_workers_never_claim_the_same_row_postgres() {
    if keyholder_tests::postgres_available() {
        claim_concurrently(Backend::Postgres);
    }
}

#[test]
fn failed_deliveries_back_off_and_are_kept() {
    assert_eq!(outbox::backoff(0), chrono::Duration::seconds(5));
    assert_eq!(outbox::backoff(1), chrono::Duration::seconds(10));
    assert_eq!(outbox::backoff(30), chrono::Duration::seconds(3600));
}

#[test]
fn the_log_transport_never_prints_tokens() {
    let text = "open http://x/verify-email#token=abcDEF_123-xyz now\nand token=zzz";
    let redacted = keyholder_api::mail::redact_tokens(text);
    assert!(!redacted.contains("abcDEF"));
    assert!(!redacted.contains("zzz"));
    assert!(redacted.contains("#token=[redacted] now"));
}
