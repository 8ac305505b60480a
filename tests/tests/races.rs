//! Check-then-write races, on both databases: two conflicting requests sent
//! at the same moment, round after round, must leave the invariants a user
//! relies on intact. SQLite runs one writer at a time; on PostgreSQL the
//! server locks the parent row (asset, estate, both users in id order)
//! before it checks, so the second request reads the first one's result.
//!
//! Every answer must be one the API documents for that call (never a 5xx),
//! and after each round the invariant is checked through the API, as a user
//! would see it:
//! - an asset keeps at least one collaborator;
//! - an estate has exactly one owner;
//! - two users never belong to each other's households;
//! - an admin never removes a member who has just become admin;
//! - identical bulk adds both succeed (an existing pair is a no-op);
//! - of two bulk invitations that share an email and an asset, one is sent
//!   whole and the other is refused with nothing written.

use std::sync::Arc;

use keyholder_tests::{Reply, Session, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

/// Rounds per race: fresh assets/estates (and household pairs) each round.
const ROUNDS: usize = 8;

on_both_backends!(
    crossing_collaborator_removals_keep_a_collaborator,
    crossing_bulk_removals_keep_a_collaborator,
    identical_bulk_adds_both_succeed,
    transfer_racing_the_new_owners_leave_keeps_one_owner,
    promotion_racing_removal_never_removes_an_admin,
    crossing_household_adds_never_make_mutual_members,
    overlapping_bulk_invitations_send_one_and_write_nothing_of_the_other,
);

// ---------------------------------------------------------------- racing

/// One of two racing requests: who sends it, the method, the path and the
/// JSON body.
type Call<'a> = (&'a Session, Method, String, Option<Value>);

/// Sends both requests at the same moment, each from its own task (the
/// runtime has two workers), released together by a barrier.
async fn race(app: &TestApp, first: Call<'_>, second: Call<'_>) -> (Reply, Reply) {
    let gate = Arc::new(tokio::sync::Barrier::new(2));
    let go = |(by, method, path, body): Call<'_>| {
        let mut req = app.client.request(method, app.url(&path)).bearer_auth(&by.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let gate = Arc::clone(&gate);
        tokio::spawn(async move {
            gate.wait().await;
            TestApp::reply(req.send().await.expect("the server answers")).await
        })
    };
    let (a, b) = tokio::join!(go(first), go(second));
    (a.expect("the first request's task"), b.expect("the second request's task"))
}

/// Asserts a documented answer: `success`, or a problem+json with one of
/// the listed (status, code) pairs; never a 5xx.
#[track_caller]
fn documented(r: &Reply, what: &str, success: u16, problems: &[(u16, &str)]) {
    assert!(r.status < 500, "{what}: server error {}: {}", r.status, r.text);
    if r.status == success {
        return;
    }
    let code = r.body["code"].as_str().unwrap_or_default();
    assert!(
        problems.iter().any(|(s, c)| *s == r.status && *c == code),
        "{what}: undocumented answer {} (code {code:?}), expected {success} or one of {problems:?}; body: {}",
        r.status,
        r.text
    );
    r.assert_problem(r.status, code);
}

/// One side of a race as checked afterwards: its answer, what it was, its
/// success status and the refusals the API documents for it.
type Side<'a> = (&'a Reply, &'a str, u16, &'a [(u16, &'a str)]);

/// Asserts that both answers are documented and that exactly one of the
/// two succeeded: whether it was the first.
#[track_caller]
fn exactly_one_wins(round: &str, first: Side<'_>, second: Side<'_>) -> bool {
    for (reply, what, success, refusals) in [first, second] {
        documented(reply, &format!("{round}: {what}"), success, refusals);
    }
    let (a, b) = (first.0.status == first.2, second.0.status == second.2);
    assert!(
        a != b,
        "{round}: exactly one of {:?} and {:?} must succeed ({} {}, {} {})",
        first.1,
        second.1,
        first.0.status,
        first.0.text,
        second.0.status,
        second.0.text
    );
    a
}

// ---------------------------------------------------------------- helpers

/// The collaborators' usernames as `user` sees them; `None` when the asset
/// is no longer visible to them.
async fn collaborators_seen(app: &TestApp, user: &Session, asset: &str) -> Option<Vec<String>> {
    let r = app.try_collaborators(&user, &asset).await;
    match r.status {
        200 => Some(
            r.items()
                .iter()
                .map(|i| i["user"]["username"].as_str().expect("username").to_owned())
                .collect(),
        ),
        404 => None,
        other => panic!("collaborators of {asset} as {}: {other} {}", user.username, r.text),
    }
}

/// Asserts that `asset` still has a collaborator: at least one of `users`
/// still sees it, and whoever sees it sees a non-empty list with themselves.
async fn assert_keeps_a_collaborator(app: &TestApp, users: &[&Session], asset: &str, what: &str) {
    let mut seen_by = Vec::new();
    for user in users {
        if let Some(list) = collaborators_seen(app, user, asset).await {
            assert!(
                list.contains(&user.username),
                "{what}: {} sees the asset but is not among its collaborators {list:?}",
                user.username
            );
            seen_by.push(user.username.clone());
        }
    }
    assert!(!seen_by.is_empty(), "{what}: the asset {asset} was left with no collaborator");
}

async fn sorted_common(app: &TestApp, by: &Session, assets: &[&str]) -> Vec<String> {
    let r = app.try_collaborator_split(&by, &format!("?asset_ids={}", assets.join(","))).await;
    r.assert_status(200);
    assert_eq!(r.body["partial"], json!([]), "no partial collaborators: {}", r.text);
    common_of(&r.body)
}

fn common_of(split: &Value) -> Vec<String> {
    let mut names: Vec<String> = split["common"]
        .as_array()
        .expect("common")
        .iter()
        .map(|u| u["username"].as_str().expect("username").to_owned())
        .collect();
    names.sort();
    names
}

/// (user id, role) of every member, as `viewer` sees them.
async fn members(app: &TestApp, viewer: &Session, estate: &str) -> Vec<(String, String)> {
    let r = app.try_members(&viewer, &estate, "?per_page=100").await;
    r.assert_status(200);
    r.items()
        .iter()
        .map(|m| {
            (
                m["user"]["id"].as_str().expect("id").to_owned(),
                m["role"].as_str().expect("role").to_owned(),
            )
        })
        .collect()
}

fn role_of<'a>(members: &'a [(String, String)], user: &Session) -> Option<&'a str> {
    members.iter().find(|(id, _)| *id == user.id).map(|(_, role)| role.as_str())
}

/// The one owner's id; panics unless there is exactly one.
#[track_caller]
fn the_owner(members: &[(String, String)], what: &str) -> String {
    let owners: Vec<&String> =
        members.iter().filter(|(_, role)| role == "owner").map(|(id, _)| id).collect();
    assert_eq!(
        owners.len(),
        1,
        "{what}: the estate must have exactly one owner; members: {members:?}"
    );
    owners[0].clone()
}

/// The ids of the members of `head`'s household.
async fn household_members(app: &TestApp, head: &Session) -> Vec<String> {
    let r = app.try_household(&head).await;
    r.assert_status(200);
    r.body["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["user"]["id"].as_str().expect("id").to_owned())
        .collect()
}

// ---------------------------------------------------------------- the races

/// Two collaborators with full access remove each other at once: one wins,
/// the other has lost access by the time its check runs. The asset always
/// keeps a collaborator.
async fn crossing_collaborator_removals_keep_a_collaborator(app: TestApp) {
    let [ada, bob] = app.register_verified_each(["ada", "bob"]).await;
    for round in 0..ROUNDS {
        let what = format!("round {round}");
        let id = app.create_asset(&ada, json!({"name": &format!("a{round}")})).await.id;
        app.add_collaborator(&ada, &id, &bob.username).await;
        let of = |user: &Session| format!("/api/v1/assets/{id}/collaborators/{}", user.id);
        let (by_ada, by_bob) = race(
            &app,
            (&ada, Method::DELETE, of(&bob), None),
            (&bob, Method::DELETE, of(&ada), None),
        )
        .await;
        let refusals = [
            (404, "asset_not_found"),
            (404, "not_a_collaborator"),
            (403, "full_access_required"),
            (409, "last_collaborator"),
        ];
        let ada_won = exactly_one_wins(
            &what,
            (&by_ada, "ada removes bob", 204, &refusals),
            (&by_bob, "bob removes ada", 204, &refusals),
        );
        assert_keeps_a_collaborator(&app, &[&ada, &bob], &id, &what).await;
        // The winner is the one collaborator left.
        let winner = if ada_won { &ada } else { &bob };
        assert_eq!(
            collaborators_seen(&app, winner, &id).await,
            Some(vec![winner.username.clone()]),
            "{what}: the winner is the only collaborator left"
        );
    }
}

/// The same with bulk removes over two assets, the selections in opposite
/// orders: every asset keeps a collaborator (and nothing deadlocks).
async fn crossing_bulk_removals_keep_a_collaborator(app: TestApp) {
    let [ada, bob] = app.register_verified_each(["ada", "bob"]).await;
    for round in 0..ROUNDS {
        let what = format!("round {round}");
        let x = app.create_asset(&ada, json!({"name": &format!("x{round}")})).await.id;
        let y = app.create_asset(&ada, json!({"name": &format!("y{round}")})).await.id;
        app.try_bulk_add_collaborators(
            &ada,
            json!({"asset_ids": [x, y], "usernames": [bob.username]}),
        )
        .await
        .assert_status(200);
        let path = "/api/v1/collaborators/remove".to_owned();
        let remove = |assets: [&str; 2], user: &Session| {
            Some(json!({"asset_ids": assets, "user_ids": [user.id]}))
        };
        let (by_ada, by_bob) = race(
            &app,
            (&ada, Method::POST, path.clone(), remove([&x, &y], &bob)),
            (&bob, Method::POST, path, remove([&y, &x], &ada)),
        )
        .await;
        let refusals =
            [(404, "assets_not_found"), (403, "full_access_required"), (409, "last_collaborator")];
        let ada_won = exactly_one_wins(
            &what,
            (&by_ada, "ada removes bob", 200, &refusals),
            (&by_bob, "bob removes ada", 200, &refusals),
        );
        for id in [&x, &y] {
            assert_keeps_a_collaborator(&app, &[&ada, &bob], id, &what).await;
        }
        let winner = if ada_won { &ada } else { &bob };
        assert_eq!(
            sorted_common(&app, winner, &[&x, &y]).await,
            [winner.username.as_str()],
            "{what}: the winner is the one collaborator left on both"
        );
    }
}

/// The same bulk add sent twice at once: both succeed (adding an existing
/// pair is a no-op), never a unique-constraint 409 or a 5xx, and the users
/// end up common collaborators of every selected asset.
async fn identical_bulk_adds_both_succeed(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let bob = app.register("bob").await;
    let cyd = app.register("cyd").await;
    let expected = ["ada", "bob", "cyd"].map(str::to_owned);
    for round in 0..ROUNDS {
        let what = format!("round {round}");
        let x = app.create_asset(&ada, json!({"name": &format!("x{round}")})).await.id;
        let y = app.create_asset(&ada, json!({"name": &format!("y{round}")})).await.id;
        let body = json!({"asset_ids": [x, y], "usernames": [bob.username, cyd.username]});
        let add = (&ada, Method::POST, "/api/v1/collaborators/add".to_owned(), Some(body));
        let (first, second) = race(&app, add.clone(), add).await;
        for (r, which) in [(&first, "first"), (&second, "second")] {
            documented(r, &format!("{what}: {which} bulk add"), 200, &[]);
            assert_eq!(common_of(&r.body), expected, "{what}: {which} bulk add's split");
            assert_eq!(r.body["partial"], json!([]), "{what}: {which}: {}", r.text);
        }
        assert_eq!(
            sorted_common(&app, &ada, &[&x, &y]).await,
            expected,
            "{what}: the split afterwards"
        );
        for id in [&x, &y] {
            let mut list = collaborators_seen(&app, &ada, id).await.expect("ada sees her asset");
            list.sort();
            assert_eq!(list, expected, "{what}: each pair is there once");
        }
    }
}

/// The owner transfers ownership to a member while that member leaves: either
/// the transfer wins (the leave is refused, the member now owns it) or the
/// leave wins (the transfer names a non-member). Never an estate without an
/// owner.
async fn transfer_racing_the_new_owners_leave_keeps_one_owner(app: TestApp) {
    let olga = app.register_verified("olga").await;
    let nina = app.register_verified("nina").await;
    for round in 0..ROUNDS {
        let what = format!("round {round}");
        let id = app.create_estate(&olga, &format!("e{round}")).await.id;
        let role = if round % 2 == 0 { "admin" } else { "editor" };
        app.grant_role(&olga, &id, &nina, role).await;
        let estate = format!("/api/v1/estates/{id}");
        let to_nina = Some(json!({"user_id": nina.id}));
        let transfer = (&olga, Method::POST, format!("{estate}/transfer-ownership"), to_nina);
        let leave = (&nina, Method::DELETE, format!("{estate}/members/{}", nina.id), None);
        let (transfer, leave) = race(&app, transfer, leave).await;
        let transferred = exactly_one_wins(
            &what,
            (&transfer, &format!("olga transfers to nina ({role})"), 200, &[(422, "not_a_member")]),
            (&leave, &format!("nina ({role}) leaves"), 204, &[(403, "owner_transfer_required")]),
        );
        // Olga stays a member either way (owner, or admin after the transfer).
        let after = members(&app, &olga, &id).await;
        let owner = the_owner(&after, &what);
        if transferred {
            assert_eq!(owner, nina.id, "{what}: nina owns it after the transfer");
            assert_eq!(role_of(&after, &olga), Some("admin"), "{what}: {after:?}");
        } else {
            assert_eq!(owner, olga.id, "{what}: olga still owns it");
            assert_eq!(role_of(&after, &nina), None, "{what}: nina left: {after:?}");
        }
    }
}

/// The owner promotes an editor to admin while an admin removes that editor.
/// Admins may only remove editors and viewers: either the promotion wins (the
/// removal is refused and the member stays, admin) or the removal wins (the
/// promotion finds no member). Never both.
async fn promotion_racing_removal_never_removes_an_admin(app: TestApp) {
    let olga = app.register_verified("olga").await;
    let adam = app.register_verified("adam").await;
    let eve = app.register_verified("eve").await;
    for round in 0..ROUNDS {
        let what = format!("round {round}");
        let id = app.create_estate(&olga, &format!("p{round}")).await.id;
        app.grant_role(&olga, &id, &adam, "admin").await;
        app.grant_role(&olga, &id, &eve, "editor").await;
        let member = format!("/api/v1/estates/{id}/members/{}", eve.id);
        let promote = (&olga, Method::PUT, member.clone(), Some(json!({"role": "admin"})));
        let (promote, remove) = race(&app, promote, (&adam, Method::DELETE, member, None)).await;
        // Never both: an admin must not remove a member who has just become admin.
        let promoted = exactly_one_wins(
            &what,
            (&promote, "olga promotes eve", 200, &[(404, "not_a_member")]),
            (&remove, "adam removes eve", 204, &[(403, "cannot_change_member")]),
        );
        let after = members(&app, &olga, &id).await;
        assert_eq!(the_owner(&after, &what), olga.id, "{what}: olga owns it");
        assert_eq!(role_of(&after, &adam), Some("admin"), "{what}: {after:?}");
        if promoted {
            assert_eq!(promote.body["role"], "admin", "{what}: {}", promote.text);
            assert_eq!(
                role_of(&after, &eve),
                Some("admin"),
                "{what}: eve is an admin still in the estate: {after:?}"
            );
        } else {
            assert_eq!(
                role_of(&after, &eve),
                None,
                "{what}: eve was removed while an editor: {after:?}"
            );
        }
    }
}

/// Two users add each other to their households at once: one succeeds, the
/// other is refused as mutual membership. Never members of each other.
async fn crossing_household_adds_never_make_mutual_members(app: TestApp) {
    for round in 0..ROUNDS {
        let what = format!("round {round}");
        let u = app.register_verified(&format!("hu{round}")).await;
        let v = app.register_verified(&format!("hv{round}")).await;
        let path = "/api/v1/household/members".to_owned();
        let add =
            |user: &Session, role: &str| Some(json!({"username": user.username, "role": role}));
        let (by_u, by_v) = race(
            &app,
            (&u, Method::POST, path.clone(), add(&v, "viewer")),
            (&v, Method::POST, path, add(&u, "editor")),
        )
        .await;
        let refusals = [(409, "mutual_membership"), (409, "already_member")];
        exactly_one_wins(
            &what,
            (&by_u, "u adds v", 201, &refusals),
            (&by_v, "v adds u", 201, &refusals),
        );
        let v_in_u = household_members(&app, &u).await.contains(&v.id);
        let u_in_v = household_members(&app, &v).await.contains(&u.id);
        assert!(
            !(v_in_u && u_in_v),
            "{what}: the two users are members of each other's households (u: {} {}, v: {} {})",
            by_u.status,
            by_u.text,
            by_v.status,
            by_v.text
        );
        assert_eq!(
            (v_in_u, u_in_v),
            (by_u.status == 201, by_v.status == 201),
            "{what}: the households match the answers (u: {}, v: {})",
            by_u.text,
            by_v.text
        );
        assert!(v_in_u || u_in_v, "{what}: one addition must succeed");
    }
}

/// Two bulk invitations by two full-access users that share one (email,
/// asset) pair, the assets named in opposite orders: the assets are locked
/// in id order, so one is sent whole (201) and the other sees its pending
/// pair (409 `invitation_pending`) and writes nothing: no row, no email.
async fn overlapping_bulk_invitations_send_one_and_write_nothing_of_the_other(app: TestApp) {
    let [ada, bob] = app.register_verified_each(["ada", "bob"]).await;
    for round in 0..ROUNDS {
        let what = format!("round {round}");
        let mut ids = Vec::new();
        for name in ["x", "y", "z"] {
            ids.push(app.create_asset(&ada, json!({"name": format!("{name}{round}")})).await.id);
        }
        app.try_bulk_add_collaborators(
            &ada,
            json!({"asset_ids": ids, "usernames": [bob.username]}),
        )
        .await
        .assert_status(200);
        let (p, q, r) = (
            format!("p{round}@example.com"),
            format!("q{round}@example.com"),
            format!("r{round}@example.com"),
        );
        let path = "/api/v1/asset-invitations/bulk".to_owned();
        let by_ada = json!({"emails": [p, q], "asset_ids": [ids[0], ids[1]], "permission": "view"});
        let by_bob = json!({"emails": [r, q], "asset_ids": [ids[2], ids[1]], "permission": "edit"});
        let (a, b) = race(
            &app,
            (&ada, Method::POST, path.clone(), Some(by_ada)),
            (&bob, Method::POST, path, Some(by_bob)),
        )
        .await;
        let refusals = [(409, "invitation_pending")];
        let ada_won = exactly_one_wins(
            &what,
            (&a, "ada's batch", 201, &refusals),
            (&b, "bob's batch", 201, &refusals),
        );
        let (winner, loser_only) = if ada_won { (&a, &r) } else { (&b, &p) };
        let batch = winner.body["batch_id"].as_str().expect("batch_id");
        let mut rows = Vec::new();
        for id in &ids {
            let listed = app.try_asset_invitations_of(&ada, id).await;
            listed.assert_status(200);
            rows.extend(listed.items().clone());
        }
        assert_eq!(rows.len(), 4, "{what}: only the winner's four rows: {rows:?}");
        assert!(rows.iter().all(|i| i["batch_id"] == batch), "{what}: {rows:?}");
        assert!(
            !rows.iter().any(|i| i["email"] == loser_only.as_str()),
            "{what}: nothing for the loser's own recipient"
        );
        let loser_mail = app.emails_to(loser_only, "invited you");
        assert!(loser_mail.is_empty(), "{what}: no email for {loser_only}");
    }
}
