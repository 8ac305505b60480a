//! The changes feed (`GET /changes`): each user sees the access changes on
//! what they administer and on their own access, in commit order, and a
//! cursor resumes exactly after the last change read, also while writers
//! commit concurrently.

use std::collections::HashSet;
use std::sync::Arc;

use keyholder_tests::{PASSWORD, Reply, Session, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    each_user_sees_the_changes_on_what_they_administer_and_to_their_own_access,
    a_cursor_resumes_right_after_the_last_change_read,
    the_head_then_the_feed_misses_nothing,
    bad_cursors_and_limits_are_refused,
    concurrent_writers_never_make_a_follower_skip_or_repeat_a_change,
);

async fn feed(app: &TestApp, token: &str, cursor: Option<&str>, limit: usize) -> Reply {
    let path = match cursor {
        Some(c) => format!("/api/v1/changes?cursor={c}&limit={limit}"),
        None => format!("/api/v1/changes?limit={limit}"),
    };
    let reply = app.get(&path, Some(token)).await;
    reply.assert_status(200);
    reply
}

/// The `(action, target id)` of each change on a page.
fn seen(page: &Reply) -> Vec<(String, String)> {
    page.items()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().expect("text").to_owned(),
                c["target"]["id"].as_str().expect("text").to_owned(),
            )
        })
        .collect()
}

/// Follows the feed from `cursor` until at least `n` changes were read, then
/// to its present end: every change read and the cursor to resume from. (A
/// change is handed out once every transaction begun before it has ended;
/// on a PostgreSQL cluster shared with other work that can take a moment.)
async fn follow(
    app: &TestApp,
    token: &str,
    cursor: Option<String>,
    limit: usize,
    n: usize,
) -> (Vec<Value>, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut cursor = cursor;
    let mut all = Vec::new();
    loop {
        let page = feed(app, token, cursor.as_deref(), limit).await;
        all.extend(page.items().iter().cloned());
        cursor = Some(page.str("next_cursor"));
        if page.body["has_more"] == false {
            if all.len() >= n || std::time::Instant::now() > deadline {
                return (all, cursor.unwrap_or_default());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Reads from `cursor` again and again until a read holds at least `n`
/// changes: that read.
async fn read_until(app: &TestApp, token: &str, cursor: Option<&str>, n: usize) -> Reply {
    for _ in 0..400 {
        let page = feed(app, token, cursor, 100).await;
        if page.items().len() >= n {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the feed never held {n} changes after {cursor:?}");
}

async fn each_user_sees_the_changes_on_what_they_administer_and_to_their_own_access(app: TestApp) {
    let [owner, viewer, outsider] =
        app.register_verified_each(["owner", "viewer", "outsider"]).await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    let site = app.create_site(&owner, &estate, "North Yard").await.id;
    app.grant_role(&owner, &estate, &viewer, "viewer").await;
    let van = app.create_vehicle(&owner, "Van", None).await.id;
    app.add_collaborator(&owner, &van, &outsider.username).await;
    // An account change is not an access change.
    // (It ends the owner's earlier sessions: go on with the new token.)
    let changed = app
        .try_change_password(
            &owner,
            json!({"current_password": PASSWORD, "new_password": "another long passphrase 2"}),
        )
        .await;
    changed.assert_status(200);
    let mut owner = owner;
    owner.token = changed.str("access_token");

    let (mine, _) = follow(&app, &owner.token, None, 100, 5).await;
    let mine: Vec<(String, String)> = mine
        .iter()
        .map(|c| {
            (
                c["action"].as_str().expect("text").to_owned(),
                c["target"]["id"].as_str().expect("text").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        mine,
        [
            ("estate.created".to_owned(), estate.clone()),
            ("site.created".to_owned(), site.clone()),
            ("member.added".to_owned(), estate.clone()),
            ("asset.created".to_owned(), van.clone()),
            ("collaborator.added".to_owned(), van.clone()),
        ]
    );

    // The viewer administers nothing: they see that they were added, and
    // whose access it was.
    let (theirs, _) = follow(&app, &viewer.token, None, 100, 1).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0]["action"], "member.added");
    assert_eq!(theirs[0]["subject_id"], viewer.id.as_str());
    assert_eq!(theirs[0]["after"]["role"], "viewer");
    assert_eq!(theirs[0]["actor"]["username"], owner.username.as_str());

    // The new collaborator administers the van from then on: its whole
    // story is theirs to read, the estate's is not.
    let (outsiders, _) = follow(&app, &outsider.token, None, 100, 2).await;
    let actions: Vec<&str> =
        outsiders.iter().map(|c| c["action"].as_str().expect("text")).collect();
    assert_eq!(actions, ["asset.created", "collaborator.added"], "{outsiders:?}");

    // Removed from the estate, the viewer still reads the change that
    // removed them, and nothing of the estate's after it.
    app.try_remove_member(&owner, &estate, &viewer).await.assert_status(204);
    app.create_site(&owner, &estate, "South Yard").await;
    let (theirs, _) = follow(&app, &viewer.token, None, 100, 2).await;
    let actions: Vec<&str> = theirs.iter().map(|c| c["action"].as_str().expect("text")).collect();
    assert_eq!(actions, ["member.added", "member.removed"], "{theirs:?}");
    assert_eq!(theirs[1]["subject_id"], viewer.id.as_str());
}

async fn a_cursor_resumes_right_after_the_last_change_read(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    let first = read_until(&app, &owner.token, None, 1).await;
    assert_eq!(seen(&first), [("estate.created".to_owned(), estate.clone())]);
    assert_eq!(first.body["has_more"], false);
    let cursor = first.str("next_cursor");

    // Nothing new: the same cursor back, no items.
    let again = feed(&app, &owner.token, Some(&cursor), 100).await;
    assert!(again.items().is_empty(), "{}", again.text);
    assert_eq!(again.str("next_cursor"), cursor);

    let sites = [
        app.create_site(&owner, &estate, "A").await.id,
        app.create_site(&owner, &estate, "B").await.id,
        app.create_site(&owner, &estate, "C").await.id,
    ];
    // Once all three are there: one at a time, has_more until the last.
    read_until(&app, &owner.token, Some(&cursor), 3).await;
    let mut cursor = cursor;
    for (n, site) in sites.iter().enumerate() {
        let page = feed(&app, &owner.token, Some(&cursor), 1).await;
        assert_eq!(seen(&page), [("site.created".to_owned(), site.clone())]);
        assert_eq!(page.body["has_more"], n < 2, "{}", page.text);
        assert_eq!(page.items()[0]["cursor"], page.body["next_cursor"]);
        cursor = page.str("next_cursor");
    }
    assert!(feed(&app, &owner.token, Some(&cursor), 1).await.items().is_empty());

    // An item's cursor resumes after that item.
    let all = feed(&app, &owner.token, None, 100).await;
    let after_first = all.items()[1]["cursor"].as_str().expect("text").to_owned();
    let rest = feed(&app, &owner.token, Some(&after_first), 100).await;
    assert_eq!(seen(&rest), seen(&all)[2..]);
}

async fn the_head_then_the_feed_misses_nothing(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    app.create_site(&owner, &estate, "Old").await;
    // Once the old changes are handed out, the head is past them.
    read_until(&app, &owner.token, None, 2).await;
    let head = app.get("/api/v1/changes/head", Some(&owner.token)).await;
    head.assert_status(200);
    let cursor = head.str("cursor");
    let site = app.create_site(&owner, &estate, "New").await.id;
    let page = read_until(&app, &owner.token, Some(&cursor), 1).await;
    assert_eq!(seen(&page), [("site.created".to_owned(), site)]);
    app.get("/api/v1/changes/head", None).await.assert_status(401);
}

async fn bad_cursors_and_limits_are_refused(app: TestApp) {
    let owner = app.register_verified("owner").await;
    app.get("/api/v1/changes", None).await.assert_status(401);
    for path in [
        "/api/v1/changes?cursor=bm90LWEtY3Vyc29y",
        "/api/v1/changes?cursor=%00",
        "/api/v1/changes?limit=0",
        "/api/v1/changes?limit=501",
        "/api/v1/changes?limit=many",
        "/api/v1/changes?since=yesterday",
    ] {
        app.get(path, Some(&owner.token)).await.assert_problem(422, "validation_failed");
    }
    // A list's cursor is not the feed's.
    let lists = app.get("/api/v1/estates?per_page=1", Some(&owner.token)).await;
    lists.assert_status(200);
    app.get("/api/v1/changes?cursor=eyJrIjpudWxsLCJpIjoiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIn0", Some(&owner.token))
        .await
        .assert_problem(422, "validation_failed");
}

/// Writers create assets from several tasks at once while a follower reads
/// the feed as root with small steps: in the end the follower has read each
/// change exactly once, and every asset created.
async fn concurrent_writers_never_make_a_follower_skip_or_repeat_a_change(app: TestApp) {
    let app = Arc::new(app);
    let writers: Vec<Session> = {
        let mut all = Vec::new();
        for n in 0..6 {
            all.push(app.register_verified(&format!("writer{n}")).await);
        }
        all
    };
    let start: Vec<String> = {
        let mut cursors = Vec::new();
        for w in &writers {
            cursors.push(feed(&app, &w.token, None, 100).await.str("next_cursor"));
        }
        cursors
    };
    let per_writer: usize = 12;
    let mut tasks = Vec::new();
    for w in writers.iter().cloned() {
        let app = Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for n in 0..per_writer {
                let r = app
                    .post(
                        "/api/v1/assets",
                        Some(&w.token),
                        json!({"name": format!("{} {n}", w.username)}),
                    )
                    .await;
                r.assert_status(201);
                made.push(r.id());
            }
            made
        }));
    }
    // Follow every writer's feed while they write.
    let targets = |items: &[Value]| -> Vec<String> {
        items.iter().map(|c| c["target"]["id"].as_str().expect("text").to_owned()).collect()
    };
    let mut cursors = start;
    let mut read: Vec<Vec<String>> = vec![Vec::new(); writers.len()];
    while !tasks.iter().all(tokio::task::JoinHandle::is_finished) {
        for (i, w) in writers.iter().enumerate() {
            let page = feed(&app, &w.token, Some(&cursors[i]), 3).await;
            read[i].extend(targets(page.items()));
            cursors[i] = page.str("next_cursor");
        }
    }
    let mut made = Vec::new();
    for t in tasks {
        made.push(t.await.expect("writer"));
    }
    for (i, w) in writers.iter().enumerate() {
        let missing = per_writer.saturating_sub(read[i].len());
        let (rest, _) = follow(&app, &w.token, Some(cursors[i].clone()), 3, missing).await;
        read[i].extend(targets(&rest));
    }
    for (i, ids) in made.iter().enumerate() {
        let unique: HashSet<&String> = read[i].iter().collect();
        assert_eq!(unique.len(), read[i].len(), "writer {i} read a change twice: {:?}", read[i]);
        assert_eq!(read[i], *ids, "writer {i}: the feed holds each asset once, in the order made");
    }
}
