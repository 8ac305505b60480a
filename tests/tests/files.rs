//! Documents and photos as files: uploaded as multipart, typed by their
//! bytes, downloaded through the asset's access check, deleted with their
//! objects (also when their asset goes). Each scenario runs on SQLite and
//! PostgreSQL with files on the local disk, and the storage scenarios again
//! against a real S3-compatible server (moto, started here; under `CI=true`
//! it must be installed).

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use keyholder_api::Config;
use keyholder_api::files::FileStore;
use keyholder_tests::{Backend, Reply, Session, TestApp};
use serde_json::json;
use sha2::{Digest, Sha256};

/// A tiny valid PNG (1×1, transparent).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
const HTML: &[u8] =
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";

/// Where a scenario's server keeps files.
#[derive(Clone, Copy, Debug)]
enum Store {
    Local,
    S3,
}

macro_rules! scenarios {
    ($store:ident: $($name:ident),* $(,)?) => {
        paste::paste! {
            mod [<$store:lower _sqlite>] {$(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = super::spawn(keyholder_tests::Backend::Sqlite, super::Store::$store, |_| {}).await {
                        super::$name(app).await;
                    }
                }
            )*}
            mod [<$store:lower _postgres>] {$(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if !keyholder_tests::postgres_available() {
                        return;
                    }
                    if let Some(app) = super::spawn(keyholder_tests::Backend::Postgres, super::Store::$store, |_| {}).await {
                        super::$name(app).await;
                    }
                }
            )*}
        }
    };
}

scenarios!(Local:
    an_upload_is_typed_by_its_bytes_and_downloaded_by_whoever_sees_the_asset,
    files_need_edit_to_upload_and_manage_to_delete,
    refused_uploads_say_why_and_store_nothing,
    deleting_an_asset_deletes_its_files,
    abandoned_uploads_are_swept,
    a_commit_after_the_grace_period_lists_nothing,
    the_export_of_my_data_lists_my_files,
);

scenarios!(S3:
    an_upload_is_typed_by_its_bytes_and_downloaded_by_whoever_sees_the_asset,
    files_need_edit_to_upload_and_manage_to_delete,
    deleting_an_asset_deletes_its_files,
);

macro_rules! with_config {
    ($($name:ident => $tweak:expr),* $(,)?) => {
        mod limits_sqlite {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(app) = super::spawn(keyholder_tests::Backend::Sqlite, super::Store::Local, $tweak).await {
                    super::$name(app).await;
                }
            }
        )*}
        mod limits_postgres {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if !keyholder_tests::postgres_available() {
                    return;
                }
                if let Some(app) = super::spawn(keyholder_tests::Backend::Postgres, super::Store::Local, $tweak).await {
                    super::$name(app).await;
                }
            }
        )*}
    };
}

with_config!(
    files_over_the_size_limit_are_413 => |c: &mut keyholder_api::Config| c.file_max_bytes = 1024,
    an_asset_holds_at_most_the_cap_even_when_uploads_race => |c: &mut keyholder_api::Config| c.files_per_asset = 3,
);

/// A server keeping files as `store` says; `None` when the S3 server
/// cannot be started outside CI (the scenario is skipped, and says so).
async fn spawn(
    backend: Backend,
    store: Store,
    tweak: impl FnOnce(&mut Config) + Send + 'static,
) -> Option<TestApp> {
    let s3 = match store {
        Store::Local => None,
        Store::S3 => Some(moto()?),
    };
    Some(
        TestApp::spawn_with(backend, move |c| {
            if let Some(port) = s3 {
                c.s3_bucket = Some(new_bucket(port));
                c.s3_endpoint = Some(format!("http://127.0.0.1:{port}"));
                c.s3_access_key_id = Some("testing".to_owned().into());
                c.s3_secret_access_key = Some("testing".to_owned().into());
            }
            tweak(c);
        })
        .await,
    )
}

/// The moto S3 server shared by this test binary: started once, stopped
/// when the binary exits (it reads its stdin until it closes).
struct Moto {
    port: u16,
    _child: Child,
    _stdin: ChildStdin,
}

fn moto() -> Option<u16> {
    static MOTO: OnceLock<Option<Mutex<Moto>>> = OnceLock::new();
    let started = MOTO.get_or_init(|| start_moto().map(Mutex::new));
    match started {
        Some(m) => Some(m.lock().unwrap_or_else(std::sync::PoisonError::into_inner).port),
        None => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but moto (pip install 'moto[server]') cannot be started: the S3 scenarios must run"
            );
            eprintln!(
                "skipping an S3 scenario: moto is not installed (pip install 'moto[server]')"
            );
            None
        }
    }
}

const MOTO_SCRIPT: &str = "
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address='127.0.0.1', port=int(sys.argv[1]), verbose=False)
server.start()
print('ready', flush=True)
sys.stdin.read()
server.stop()
";

fn start_moto() -> Option<Moto> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let mut child = Command::new("python3")
        .args(["-c", MOTO_SCRIPT, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take()?).read_line(&mut line).ok()?;
    if line.trim() != "ready" {
        let _ = child.kill();
        return None;
    }
    let mut stdin = child.stdin.take()?;
    let _ = stdin.flush();
    Some(Moto { port, _child: child, _stdin: stdin })
}

/// A new bucket on moto (S3's `CreateBucket`: a PUT of the bucket's path).
fn new_bucket(port: u16) -> String {
    let name = format!("keyholder-{}", uuid::Uuid::new_v4().simple());
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, urllib.request as u; r = u.urlopen(u.Request(sys.argv[1], method='PUT')); print(r.status)",
            &format!("http://127.0.0.1:{port}/{name}"),
        ])
        .output()
        .expect("python3 runs");
    assert!(
        status.status.success(),
        "bucket not created: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    name
}

async fn upload(
    app: &TestApp,
    by: &Session,
    asset: &str,
    (name, declared, bytes): (&str, &str, &[u8]),
    caption: Option<&str>,
) -> Reply {
    let part = reqwest::multipart::Part::bytes(bytes.to_vec())
        .file_name(name.to_owned())
        .mime_str(declared)
        .expect("a mime type");
    let mut form = reqwest::multipart::Form::new().part("file", part);
    if let Some(c) = caption {
        form = form.text("caption", c.to_owned());
    }
    let res = app
        .client
        .post(app.url(&format!("/api/v1/assets/{asset}/files")))
        .bearer_auth(&by.token)
        .multipart(form)
        .send()
        .await
        .expect("the server answers");
    TestApp::reply(res).await
}

/// A download: status, headers and the raw bytes.
struct Download {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Download {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

async fn download(app: &TestApp, by: &Session, url: &str, etag: Option<&str>) -> Download {
    let mut req = app.client.get(app.url(url)).bearer_auth(&by.token);
    if let Some(tag) = etag {
        req = req.header("If-None-Match", tag);
    }
    let res = req.send().await.expect("the server answers");
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    let bytes = res.bytes().await.expect("a body").to_vec();
    Download { status, headers, bytes }
}

fn files_path(asset: &str) -> String {
    format!("/api/v1/assets/{asset}/files")
}

/// Whether the object of `file` on `asset` is in the store.
async fn stored(app: &TestApp, asset: &str, file: &str) -> bool {
    let key = FileStore::key(asset.parse().expect("uuid"), file.parse().expect("uuid"));
    app.app_state.files.exists(&key).await.expect("the store answers")
}

/// The keys waiting on the deletion queue.
fn queued(app: &TestApp) -> Vec<String> {
    app.with_db(keyholder_tests::keyholder_store::files::pending_deletions)
}

/// Waits (up to 20 s) until the deletion queue is empty.
async fn wait_until_unqueued(app: &TestApp) {
    for _ in 0..200 {
        if queued(app).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("keys still queued for deletion: {:?}", queued(app));
}

/// Waits (up to 20 s) until the object of `file` is gone from the store.
async fn wait_until_deleted(app: &TestApp, asset: &str, file: &str) {
    for _ in 0..200 {
        if !stored(app, asset, file).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the object of file {file} is still stored");
}

async fn an_upload_is_typed_by_its_bytes_and_downloaded_by_whoever_sees_the_asset(app: TestApp) {
    let (owner, van) = app.owner_with_vehicle("Van").await;
    let viewer = app.register_verified("viewer").await;
    let stranger = app.register_verified("stranger").await;
    app.household_add(&owner, &viewer, "viewer").await;

    // Named .txt and declared text/plain: the bytes say PNG, and PNG it is.
    let reply =
        upload(&app, &owner, &van, ("../front view.txt", "text/plain", PNG), Some(" Front ")).await;
    reply.assert_status(201);
    let file = reply.body.clone();
    let id = file["id"].as_str().expect("an id").to_owned();
    assert_eq!(reply.header("location"), Some(format!("/api/v1/assets/{van}/files/{id}").as_str()));
    assert_eq!(file["asset_id"], van.as_str());
    assert_eq!(file["name"], "front view.txt");
    assert_eq!(file["content_type"], "image/png");
    assert_eq!(file["size_bytes"], PNG.len());
    assert_eq!(file["sha256"], hex::encode(Sha256::digest(PNG)));
    assert_eq!(file["caption"], "Front");
    let content = format!("/api/v1/assets/{van}/files/{id}/content");
    assert_eq!(file["content_url"], content.as_str());
    assert!(stored(&app, &van, &id).await);

    let pdf = upload(&app, &owner, &van, ("policy.pdf", "application/pdf", PDF), None).await;
    pdf.assert_status(201);
    assert_eq!(pdf.body["content_type"], "application/pdf");
    assert_eq!(pdf.body["caption"], serde_json::Value::Null);

    // The viewer lists, reads and downloads; the list is newest first.
    let list = app.get(&files_path(&van), Some(&viewer.token)).await;
    list.assert_status(200);
    let names: Vec<&str> = list.items().iter().map(|f| f["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["policy.pdf", "front view.txt"]);
    let one = app.get(&format!("{}/{id}", files_path(&van)), Some(&viewer.token)).await;
    one.assert_status(200);
    assert_eq!(one.body, file);

    let got = download(&app, &viewer, &content, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, PNG);
    assert_eq!(got.header("content-type"), "image/png");
    assert_eq!(got.header("x-content-type-options"), "nosniff");
    assert!(got.header("content-security-policy").contains("sandbox"), "{:?}", got.headers);
    assert!(got.header("content-disposition").starts_with("inline; filename=\"front view.txt\""));
    assert_eq!(got.header("cache-control"), "private, no-cache");
    let etag = got.header("etag").to_owned();
    assert_eq!(etag, format!("\"{}\"", hex::encode(Sha256::digest(PNG))));
    let again = download(&app, &viewer, &content, Some(&etag)).await;
    assert_eq!(again.status, 304);
    assert!(again.bytes.is_empty());

    // A PDF is never shown inline.
    let pdf_url = pdf.body["content_url"].as_str().expect("url");
    let got = download(&app, &viewer, pdf_url, None).await;
    assert_eq!(got.bytes, PDF);
    assert!(got.header("content-disposition").starts_with("attachment; filename=\"policy.pdf\""));

    // Out of reach: 404 for the list, the details and the bytes.
    app.get(&files_path(&van), Some(&stranger.token)).await.assert_problem(404, "asset_not_found");
    let denied = download(&app, &stranger, &content, None).await;
    assert_eq!(denied.status, 404);
    assert!(denied.bytes.len() < 1000 && !denied.bytes.starts_with(b"\x89PNG"));
    // Access removed: the next download is refused.
    app.try_remove_household_member(&owner, &viewer.id).await.assert_status(204);
    assert_eq!(download(&app, &viewer, &content, None).await.status, 404);
    assert_eq!(download(&app, &viewer, &content, Some(&etag)).await.status, 404);

    // The upload is in the asset's trail.
    let trail = app
        .get(&format!("/api/v1/audit?resource_type=asset&resource_id={van}"), Some(&owner.token))
        .await;
    trail.assert_status(200);
    let uploaded: Vec<&serde_json::Value> =
        trail.items().iter().filter(|e| e["action"] == "file.uploaded").collect();
    assert_eq!(uploaded.len(), 2, "{:?}", trail.body);
}

async fn files_need_edit_to_upload_and_manage_to_delete(app: TestApp) {
    let (owner, van) = app.owner_with_vehicle("Van").await;
    let [viewer, editor, manager] =
        app.register_verified_each(["viewer", "editor", "manager"]).await;
    app.household_add(&owner, &viewer, "viewer").await;
    app.household_add(&owner, &editor, "editor").await;
    app.household_add(&owner, &manager, "manager").await;

    upload(&app, &viewer, &van, ("a.png", "image/png", PNG), None)
        .await
        .assert_problem(403, "edit_access_required");
    let reply = upload(&app, &editor, &van, ("a.png", "image/png", PNG), None).await;
    reply.assert_status(201);
    let id = reply.id();
    let path = format!("{}/{id}", files_path(&van));
    app.delete(&path, Some(&editor.token)).await.assert_problem(403, "manage_access_required");

    // A file is only reached through its own asset.
    let other = app.create_vehicle(&owner, "Trailer", None).await.id;
    let wrong = format!("{}/{id}", files_path(&other));
    app.get(&wrong, Some(&owner.token)).await.assert_problem(404, "file_not_found");
    app.delete(&wrong, Some(&owner.token)).await.assert_problem(404, "file_not_found");
    assert_eq!(download(&app, &owner, &format!("{wrong}/content"), None).await.status, 404);

    app.delete(&path, Some(&manager.token)).await.assert_status(204);
    app.get(&path, Some(&owner.token)).await.assert_problem(404, "file_not_found");
    assert_eq!(download(&app, &owner, &format!("{path}/content"), None).await.status, 404);
    let list = app.get(&files_path(&van), Some(&owner.token)).await;
    assert!(list.items().is_empty());
    app.delete(&path, Some(&manager.token)).await.assert_problem(404, "file_not_found");
    wait_until_deleted(&app, &van, &id).await;
    let trail = app
        .get(&format!("/api/v1/audit?resource_type=asset&resource_id={van}"), Some(&owner.token))
        .await;
    assert!(
        trail
            .items()
            .iter()
            .any(|e| e["action"] == "file.deleted" && e["before"]["file_id"] == id.as_str())
    );
}

async fn refused_uploads_say_why_and_store_nothing(app: TestApp) {
    let (owner, van) = app.owner_with_vehicle("Van").await;
    // Scriptable content is refused, whatever it is called or declared.
    for (name, declared, bytes) in [
        ("logo.svg", "image/svg+xml", SVG),
        ("photo.png", "image/png", HTML),
        ("notes.txt", "text/plain", b"just text" as &[u8]),
    ] {
        upload(&app, &owner, &van, (name, declared, bytes), None)
            .await
            .assert_problem(415, "unsupported_file_type");
    }
    upload(&app, &owner, &van, ("empty.png", "image/png", b""), None)
        .await
        .assert_problem(422, "validation_failed");
    let long = "x".repeat(501);
    let reply = upload(&app, &owner, &van, ("a.png", "image/png", PNG), Some(&long)).await;
    reply.assert_problem(422, "validation_failed");
    assert!(reply.body["errors"]["caption"].is_string());
    upload(&app, &owner, &van, ("a.png", "image/png", PNG), Some("two\nlines"))
        .await
        .assert_problem(422, "validation_failed");

    // No file part, a JSON body, a broken multipart body.
    let form = reqwest::multipart::Form::new().text("caption", "no file");
    let res = app
        .client
        .post(app.url(&files_path(&van)))
        .bearer_auth(&owner.token)
        .multipart(form)
        .send()
        .await
        .expect("answer");
    let reply = TestApp::reply(res).await;
    reply.assert_problem(422, "validation_failed");
    assert!(reply.body["errors"]["file"].is_string());
    app.post(&files_path(&van), Some(&owner.token), json!({"file": "aGVsbG8="}))
        .await
        .assert_problem(400, "malformed_multipart");
    let res = app
        .client
        .post(app.url(&files_path(&van)))
        .bearer_auth(&owner.token)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\u{89}PNG")
        .send()
        .await
        .expect("answer");
    TestApp::reply(res).await.assert_problem(400, "malformed_multipart");

    let list = app.get(&files_path(&van), Some(&owner.token)).await;
    assert!(list.items().is_empty(), "{:?}", list.body);
    let files_dir = app.mail_dir.join("stored-files");
    let objects = walk(&files_dir);
    assert!(objects.is_empty(), "objects left: {objects:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] })
        .collect()
}

async fn files_over_the_size_limit_are_413(app: TestApp) {
    let (owner, van) = app.owner_with_vehicle("Van").await;
    let mut big = PNG.to_vec();
    big.resize(1025, 0);
    let reply = upload(&app, &owner, &van, ("big.png", "image/png", &big), None).await;
    reply.assert_problem(413, "file_too_large");
    assert_eq!(reply.body["detail"], "The file is larger than 1024 bytes.");
    big.truncate(1024);
    upload(&app, &owner, &van, ("big.png", "image/png", &big), None).await.assert_status(201);
}

async fn an_asset_holds_at_most_the_cap_even_when_uploads_race(app: TestApp) {
    let (owner, van) = app.owner_with_vehicle("Van").await;
    upload(&app, &owner, &van, ("1.png", "image/png", PNG), None).await.assert_status(201);
    let tries = (0..6).map(|i| {
        let (app, owner, van) = (&app, &owner, &van);
        async move { upload(app, owner, van, (&format!("{i}.png"), "image/png", PNG), None).await }
    });
    let replies = futures_util::future::join_all(tries).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    for r in replies.iter().filter(|r| r.status != 201) {
        r.assert_problem(409, "file_limit_reached");
    }
    assert_eq!(created, 2, "three in all: one before, two of the racing six");
    let list = app.get(&files_path(&van), Some(&owner.token)).await;
    assert_eq!(list.body["total"], 3);
    // The objects of uploads refused at their commit are deleted at once;
    // their keys stay queued through the grace period (had the deletion
    // failed, or the server died, the sweeper would delete them then), and
    // go after it. (An upload refused before its body was read queued
    // nothing.)
    assert_eq!(walk(&app.mail_dir.join("stored-files")).len(), 3);
    assert!(queued(&app).len() <= 4, "{:?}", queued(&app));
    app.clock.advance(chrono::Duration::minutes(61));
    app.app_state.files.deletions_queued();
    wait_until_unqueued(&app).await;
    assert_eq!(walk(&app.mail_dir.join("stored-files")).len(), 3);
}

async fn deleting_an_asset_deletes_its_files(app: TestApp) {
    let (owner, van) = app.owner_with_vehicle("Van").await;
    let a = upload(&app, &owner, &van, ("a.png", "image/png", PNG), None).await.id();
    let b = upload(&app, &owner, &van, ("b.pdf", "application/pdf", PDF), None).await.id();
    let keep = app.create_vehicle(&owner, "Trailer", None).await.id;
    let c = upload(&app, &owner, &keep, ("c.png", "image/png", PNG), None).await.id();
    assert!(stored(&app, &van, &a).await && stored(&app, &van, &b).await);
    app.delete(&format!("/api/v1/assets/{van}"), Some(&owner.token)).await.assert_status(204);
    wait_until_deleted(&app, &van, &a).await;
    wait_until_deleted(&app, &van, &b).await;
    assert!(stored(&app, &keep, &c).await, "another asset's file stays");
    wait_until_unqueued(&app).await;
    let got = download(&app, &owner, &format!("{}/{c}/content", files_path(&keep)), None).await;
    assert_eq!(got.bytes, PNG);
}

async fn abandoned_uploads_are_swept(app: TestApp) {
    // An upload whose row never committed: its key was registered, its
    // object written, and then the request died.
    let key = "assets/00000000-0000-4000-8000-000000000001/00000000-0000-7000-8000-000000000002";
    let now = app.clock.now();
    app.app_state
        .db
        .write(|c| {
            keyholder_tests::keyholder_store::files::register_upload(
                c,
                key,
                now,
                chrono::Duration::minutes(60),
            )
        })
        .expect("registered");
    app.app_state.files.put(key, PNG.to_vec().into()).await.expect("written");
    app.app_state.files.deletions_queued();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(app.app_state.files.exists(key).await.expect("store"), "kept during the grace period");
    app.clock.advance(chrono::Duration::minutes(61));
    app.app_state.files.deletions_queued();
    for _ in 0..200 {
        if !app.app_state.files.exists(key).await.expect("store") {
            wait_until_unqueued(&app).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the abandoned object is still stored");
}

async fn the_export_of_my_data_lists_my_files(app: TestApp) {
    let (owner, van) = app.owner_with_vehicle("Van").await;
    let id = upload(&app, &owner, &van, ("a.png", "image/png", PNG), None).await.id();
    let doc = app.get("/api/v1/me/export", Some(&owner.token)).await;
    doc.assert_status(200);
    let files = doc.body["files_uploaded"].as_array().expect("files_uploaded");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["id"], id.as_str());
    assert_eq!(files[0]["asset_id"], van.as_str());
}

async fn a_commit_after_the_grace_period_lists_nothing(app: TestApp) {
    use keyholder_tests::keyholder_store::files::{self, NewFile};
    let (owner, van) = app.owner_with_vehicle("Van").await;
    let asset: uuid::Uuid = van.parse().expect("uuid");
    let owner_id: uuid::Uuid = owner.id.parse().expect("uuid");
    let now = app.clock.now();
    let file = |id: uuid::Uuid, key: &'static str| NewFile {
        id,
        asset_id: asset,
        name: "slow.png",
        content_type: "image/png",
        size_bytes: 1,
        sha256: "00",
        storage_key: key,
        caption: None,
        created_by: owner_id,
    };
    let db = &app.app_state.db;
    // An upload slower than its grace period: a sweeper claimed its key
    // (and may have deleted the object) before the commit came.
    let late = "assets/late";
    let due = db
        .write(|c| files::register_upload(c, late, now, chrono::Duration::minutes(60)))
        .expect("registered");
    let later = now + chrono::Duration::minutes(61);
    let claimed = db
        .write(|c| files::claim_deletions(c, later, later + chrono::Duration::minutes(5), 10))
        .expect("claimed");
    assert_eq!(claimed.len(), 1);
    let added = db.write(|c| files::add_file(c, &file(uuid::Uuid::now_v7(), late), due, later));
    assert_eq!(added.expect("no error"), None, "not listed: its object may be gone");
    // In time, the same commit lists it and takes its key off the queue.
    let prompt = "assets/prompt";
    let due = db
        .write(|c| files::register_upload(c, prompt, now, chrono::Duration::minutes(60)))
        .expect("registered");
    let added = db
        .write(|c| files::add_file(c, &file(uuid::Uuid::now_v7(), prompt), due, now))
        .expect("added");
    assert!(added.is_some());
    assert_eq!(queued(&app), [late], "only the late key stays queued");
    let list = app.get(&files_path(&van), Some(&owner.token)).await;
    let names: Vec<&str> = list.items().iter().map(|f| f["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["slow.png"]);
}
