//! Explain, who-has-access and the audit trail, on both databases: each
//! troubleshooting item of the seed pages as an explain answer, explain
//! against enforcement over generated worlds, and the audit of every kind
//! of access change.

use chrono::{Duration, Utc};
use keyholder_domain::{EstateRole, HouseholdRole, InvitationPermission, SiteOverride};
use keyholder_store::{collaborators, households, shares, sites};
use keyholder_tests::{PASSWORD, Session, TestApp, on_both_backends};
use serde_json::{Value, json};
use uuid::Uuid;

fn uid(s: &str) -> Uuid {
    Uuid::parse_str(s).expect("uuid")
}

async fn explain(
    app: &TestApp,
    token: &str,
    user: &Session,
    kind: &str,
    id: &str,
) -> keyholder_tests::Reply {
    app.get(
        &format!(
            "/api/v1/access/explain?user_id={}&resource_type={kind}&resource_id={id}",
            user.id
        ),
        Some(token),
    )
    .await
}

fn path<'a>(body: &'a Value, kind: &str) -> &'a Value {
    body["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .find(|p| p["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} path in {body}"))
}

async fn estate_with_site(app: &TestApp, owner: &Session) -> (String, String) {
    let e = app
        .post(
            "/api/v1/estates",
            Some(&owner.token),
            json!({"name": "Riverside"}),
        )
        .await;
    let estate = e.body["id"].as_str().expect("id").to_owned();
    let s = app
        .post(
            &format!("/api/v1/estates/{estate}/sites"),
            Some(&owner.token),
            json!({"name": "North"}),
        )
        .await;
    (estate, s.body["id"].as_str().expect("id").to_owned())
}

async fn grant(app: &TestApp, owner: &Session, estate: &str, email: &str, role: &str) {
    app.post(
        &format!("/api/v1/estates/{estate}/invitations"),
        Some(&owner.token),
        json!({"email": email, "role": role}),
    )
    .await
    .assert_status(201);
}

on_both_backends!(
    troubleshooting_user_cannot_see_a_site_explained,
    troubleshooting_can_see_but_cannot_edit_explained,
    troubleshooting_cannot_find_the_invite_button_explained,
    troubleshooting_household_paths_explained,
    troubleshooting_shares_and_invitations_explained,
    explain_is_open_to_the_user_and_administrators_only,
    who_has_access_lists_every_path,
    explain_agrees_with_enforcement_over_generated_worlds,
    audit_trail_filters_and_visibility,
    every_kind_of_access_change_is_audited,
);

async fn troubleshooting_user_cannot_see_a_site_explained(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let una = app.register_verified("una").await;
    let (estate, site) = estate_with_site(&app, &owner).await;
    // No estate access: nothing ties una to the site, so there is nothing
    // to explain about her (and nothing about her to learn): 404.
    explain(&app, &owner.token, &una, "site", &site)
        .await
        .assert_problem(404, "not_found");
    // Nor may she ask about a site she cannot see.
    explain(&app, &una.token, &una, "site", &site)
        .await
        .assert_problem(404, "not_found");
    // Kept off the site.
    grant(&app, &owner, &estate, "una@example.com", "editor").await;
    app.put(
        &format!("/api/v1/sites/{site}/members/{}", una.id),
        Some(&owner.token),
        json!({"role": "none"}),
    )
    .await
    .assert_status(200);
    let r = explain(&app, &owner.token, &una, "site", &site).await;
    assert!(r.body["effective"].is_null());
    let p = path(&r.body, "site_override");
    assert_eq!(p["level"], "none");
    assert_eq!(p["reason"], "kept_off_site");
    assert_eq!(r.body["capabilities"], json!([]));
}

async fn troubleshooting_can_see_but_cannot_edit_explained(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let vic = app.register_verified("vic").await;
    let (estate, site) = estate_with_site(&app, &owner).await;
    grant(&app, &owner, &estate, "vic@example.com", "viewer").await;
    app.put(
        &format!("/api/v1/sites/{site}/members/{}", vic.id),
        Some(&owner.token),
        json!({"role": "editor"}),
    )
    .await
    .assert_status(200);
    let r = explain(&app, &vic.token, &vic, "site", &site).await;
    assert_eq!(r.body["effective"], "viewer");
    assert_eq!(r.body["capabilities"], json!(["read_site"]));
    let p = path(&r.body, "site_override");
    assert_eq!(p["level"], "editor");
    assert_eq!(p["reason"], "capped_by_estate_role");
    // The same rule at an asset placed there.
    let a = app
        .post(
            "/api/v1/assets",
            Some(&owner.token),
            json!({"name": "Mower", "site_id": site}),
        )
        .await;
    let asset = a.body["id"].as_str().expect("id");
    let r = explain(&app, &vic.token, &vic, "asset", asset).await;
    assert_eq!(r.body["effective"], "view");
    let p = path(&r.body, "site");
    assert_eq!(p["reason"], "capped_by_estate_role");
    assert_eq!(p["counted"], true);
}

async fn troubleshooting_cannot_find_the_invite_button_explained(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ed = app.register_verified("eddy").await;
    let (estate, _) = estate_with_site(&app, &owner).await;
    grant(&app, &owner, &estate, "eddy@example.com", "editor").await;
    let r = explain(&app, &ed.token, &ed, "estate", &estate).await;
    assert_eq!(r.body["effective"], "editor");
    let caps: Vec<&str> = r.body["capabilities"]
        .as_array()
        .expect("caps")
        .iter()
        .map(|c| c.as_str().expect("cap"))
        .collect();
    assert_eq!(caps, ["read", "edit_content"]);
    assert!(
        !caps.contains(&"manage_members"),
        "inviting needs admin or higher"
    );
    let r = explain(&app, &owner.token, &owner, "estate", &estate).await;
    assert!(
        r.body["capabilities"]
            .as_array()
            .expect("caps")
            .contains(&json!("manage_members"))
    );
}

async fn troubleshooting_household_paths_explained(app: TestApp) {
    let test = app.register_verified("test").await;
    let test3 = app.register_verified("test3").await;
    let test4 = app.register_verified("test4").await;
    let v = app
        .post(
            "/api/v1/assets",
            Some(&test4.token),
            json!({"name": "test4's car"}),
        )
        .await;
    let car = v.body["id"].as_str().expect("id").to_owned();
    app.post(
        "/api/v1/household/members",
        Some(&test4.token),
        json!({"username": "test", "role": "manager"}),
    )
    .await
    .assert_status(201);
    app.post(
        "/api/v1/household/members",
        Some(&test.token),
        json!({"username": "test3", "role": "editor"}),
    )
    .await
    .assert_status(201);
    // test3 does not inherit from test4: test heads test3's household but is
    // not a collaborator of the car. Nothing ties test3 to the car, so test4
    // learns nothing about test3 (not even their household): 404; and test3
    // cannot ask about a car they cannot see.
    explain(&app, &test4.token, &test3, "asset", &car)
        .await
        .assert_problem(404, "not_found");
    explain(&app, &test3.token, &test3, "asset", &car)
        .await
        .assert_problem(404, "not_found");
    let r = explain(&app, &test4.token, &test, "asset", &car).await;
    assert_eq!(r.body["effective"], "manage");
    assert_eq!(path(&r.body, "household")["counted"], true);
    // test's own household (test3 in it) has nothing to do with the car and
    // is not shown; test's own explanation shows only what reaches the car.
    assert!(
        r.body["paths"]
            .as_array()
            .expect("paths")
            .iter()
            .all(|p| p["reason"] != "head_not_collaborator"),
        "{}",
        r.text
    );
    // test heads test3's household but only manages the car: managing is not
    // administering, so test cannot ask about test3 on it either.
    explain(&app, &test.token, &test3, "asset", &car)
        .await
        .assert_problem(404, "not_found");
}

async fn troubleshooting_shares_and_invitations_explained(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let wes = app.register_verified("wes").await;
    let a = app
        .post("/api/v1/assets", Some(&owner.token), json!({"name": "Van"}))
        .await;
    let asset = a.body["id"].as_str().expect("id").to_owned();
    app.post(
        "/api/v1/asset-invitations",
        Some(&owner.token),
        json!({"asset_id": asset, "email": "wes@example.com", "permission": "edit"}),
    )
    .await
    .assert_status(201);
    let r = explain(&app, &owner.token, &wes, "asset", &asset).await;
    assert!(r.body["effective"].is_null());
    assert_eq!(path(&r.body, "share")["reason"], "invitation_pending");
    let token = app
        .wait_for_email("wes@example.com", "invited you")
        .await
        .token();
    app.post(
        "/api/v1/invitations/accept",
        Some(&wes.token),
        json!({"token": token}),
    )
    .await
    .assert_status(200);
    let r = explain(&app, &owner.token, &wes, "asset", &asset).await;
    assert_eq!(r.body["effective"], "edit");
    let until = (Utc::now() + Duration::minutes(10)).to_rfc3339();
    app.patch(
        &format!("/api/v1/assets/{asset}/shares/{}", wes.id),
        Some(&owner.token),
        json!({"access_expires_at": until}),
    )
    .await
    .assert_status(200);
    app.clock.advance(Duration::minutes(11));
    let r = explain(&app, &owner.token, &wes, "asset", &asset).await;
    assert!(r.body["effective"].is_null());
    let p = path(&r.body, "share");
    assert_eq!(p["reason"], "share_expired");
    assert!(p["until"].is_string());
    app.delete(
        &format!("/api/v1/assets/{asset}/shares/{}", wes.id),
        Some(&owner.token),
    )
    .await
    .assert_status(204);
    let r = explain(&app, &owner.token, &wes, "asset", &asset).await;
    assert_eq!(path(&r.body, "share")["reason"], "share_revoked");
}

async fn explain_is_open_to_the_user_and_administrators_only(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let xia = app.register_verified("xia").await;
    let yan = app.register_verified("yan").await;
    let a = app
        .post("/api/v1/assets", Some(&owner.token), json!({"name": "Van"}))
        .await;
    let asset = a.body["id"].as_str().expect("id").to_owned();
    // Xia cannot see the van: explain does not confirm it exists, to her or
    // (since nothing ties her to it) about her.
    explain(&app, &xia.token, &xia, "asset", &asset)
        .await
        .assert_problem(404, "not_found");
    let stranger = explain(&app, &owner.token, &xia, "asset", &asset).await;
    stranger.assert_problem(404, "not_found");
    assert!(!stranger.text.contains("xia@example.com"));
    app.post(
        &format!("/api/v1/assets/{asset}/collaborators"),
        Some(&owner.token),
        json!({"username": "xia"}),
    )
    .await
    .assert_status(201);
    explain(&app, &xia.token, &xia, "asset", &asset)
        .await
        .assert_status(200);
    let r = explain(&app, &owner.token, &xia, "asset", &asset).await;
    r.assert_status(200);
    // Added by username: the owner sees no email.
    assert!(r.body["user"]["email"].is_null(), "{}", r.text);
    explain(&app, &yan.token, &xia, "asset", &asset)
        .await
        .assert_problem(404, "not_found");
    app.post(
        "/api/v1/household/members",
        Some(&owner.token),
        json!({"username": "yan", "role": "manager"}),
    )
    .await
    .assert_status(201);
    // Manage is not administering.
    explain(&app, &yan.token, &xia, "asset", &asset)
        .await
        .assert_problem(404, "not_found");
    app.get(
        &format!(
            "/api/v1/access/explain?user_id={}&resource_type=planet&resource_id={asset}",
            xia.id
        ),
        Some(&owner.token),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.get(
        &format!(
            "/api/v1/access/explain?user_id={}&resource_type=asset&resource_id={asset}",
            Uuid::new_v4()
        ),
        Some(&owner.token),
    )
    .await
    .assert_problem(404, "not_found");
}

async fn who_has_access_lists_every_path(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let co = app.register_verified("coowner").await;
    let kid = app.register_verified("kiddo").await;
    let guest = app.register_verified("guest").await;
    let staff = app.register_verified("staff").await;
    let (estate, site) = estate_with_site(&app, &owner).await;
    grant(&app, &owner, &estate, "staff@example.com", "viewer").await;
    let a = app
        .post(
            "/api/v1/assets",
            Some(&owner.token),
            json!({"name": "Truck", "site_id": site}),
        )
        .await;
    let asset = a.body["id"].as_str().expect("id").to_owned();
    app.post(
        &format!("/api/v1/assets/{asset}/collaborators"),
        Some(&owner.token),
        json!({"username": "coowner"}),
    )
    .await
    .assert_status(201);
    app.post(
        "/api/v1/household/members",
        Some(&co.token),
        json!({"username": "kiddo", "role": "editor"}),
    )
    .await
    .assert_status(201);
    app.post(
        "/api/v1/asset-invitations",
        Some(&owner.token),
        json!({"asset_id": asset, "email": "guest@example.com", "permission": "manage"}),
    )
    .await
    .assert_status(201);
    let token = app
        .wait_for_email("guest@example.com", "invited you")
        .await
        .token();
    app.post(
        "/api/v1/invitations/accept",
        Some(&guest.token),
        json!({"token": token}),
    )
    .await
    .assert_status(200);
    let r = app
        .get(
            &format!("/api/v1/assets/{asset}/access"),
            Some(&owner.token),
        )
        .await;
    r.assert_status(200);
    let got: Vec<(String, String)> = r
        .body
        .as_array()
        .expect("list")
        .iter()
        .map(|e| {
            (
                e["user"]["username"].as_str().expect("u").to_owned(),
                e["level"].as_str().expect("l").to_owned(),
            )
        })
        .collect();
    let want = [
        ("coowner", "full"),
        ("owner", "full"),
        ("guest", "manage"),
        ("kiddo", "edit"),
        ("staff", "view"),
    ];
    assert_eq!(
        got.iter()
            .map(|(u, l)| (u.as_str(), l.as_str()))
            .collect::<Vec<_>>(),
        want
    );
    let owner_entry = r
        .body
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["user"]["username"] == "owner")
        .expect("owner");
    let kinds: Vec<&str> = owner_entry["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .filter(|p| p["counted"] == true)
        .map(|p| p["kind"].as_str().expect("k"))
        .collect();
    assert!(
        kinds.contains(&"collaborator") && kinds.contains(&"estate_admin"),
        "{kinds:?}"
    );
    app.get(&format!("/api/v1/assets/{asset}/access"), Some(&kid.token))
        .await
        .assert_problem(403, "full_access_required");
    app.get(
        &format!("/api/v1/assets/{asset}/access"),
        Some(&app.register("nobody").await.token),
    )
    .await
    .assert_problem(404, "asset_not_found");
    let _ = staff;
}

/// A small deterministic random source for generated worlds.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

async fn explain_agrees_with_enforcement_over_generated_worlds(app: TestApp) {
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(app.register_verified(&format!("user{i}")).await);
    }
    let founder = &users[0];
    let (estate, site_a) = estate_with_site(&app, founder).await;
    let s = app
        .post(
            &format!("/api/v1/estates/{estate}/sites"),
            Some(&founder.token),
            json!({"name": "South"}),
        )
        .await;
    let site_b = s.body["id"].as_str().expect("id").to_owned();
    let sites = [site_a, site_b];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let now = Utc::now();
    for world in 0..6 {
        // Fresh facts for this world, written straight to the store.
        let mut asset_ids = Vec::new();
        for n in 0..4 {
            let placed = rng.chance(60);
            let body = if placed {
                json!({"name": format!("w{world}a{n}"), "site_id": sites[rng.below(2) as usize]})
            } else {
                json!({"name": format!("w{world}a{n}")})
            };
            let r = app.post("/api/v1/assets", Some(&founder.token), body).await;
            r.assert_status(201);
            asset_ids.push(uid(r.body["id"].as_str().expect("id")));
        }
        app.app_state
            .db
            .write(|c| {
                use keyholder_store::estates;
                let e = uid(&estate);
                for u in users.iter().skip(1) {
                    let u = uid(&u.id);
                    estates::remove_member(c, e, u)?;
                    if rng.chance(60) {
                        let role = [EstateRole::Viewer, EstateRole::Editor, EstateRole::Admin]
                            [rng.below(3) as usize];
                        estates::add_member(c, e, u, role, now)?;
                        for site in &sites {
                            if role != EstateRole::Admin && rng.chance(40) {
                                let o = SiteOverride::ALL[rng.below(4) as usize];
                                sites::set_override(c, e, uid(site), u, Some(o), now)?;
                            }
                        }
                    }
                    for other in users.iter() {
                        let head = uid(&other.id);
                        households::remove_household_member(c, head, u)?;
                        if head != u
                            && rng.chance(20)
                            && households::household_role(c, u, head)?.is_none()
                        {
                            let role = HouseholdRole::ALL[rng.below(3) as usize];
                            households::add_household_member(c, head, u, role, now)?;
                        }
                    }
                    for a in &asset_ids {
                        if rng.chance(25) {
                            collaborators::add_collaborator(c, *a, u, now)?;
                        }
                        if rng.chance(25) {
                            let p = InvitationPermission::ALL[rng.below(3) as usize];
                            let until = if rng.chance(50) {
                                Some(now + Duration::hours(rng.below(48) as i64 - 24))
                            } else {
                                None
                            };
                            shares::put_share(c, *a, u, p, until, None, now)?;
                        }
                    }
                }
                Ok::<_, keyholder_store::StoreError>(())
            })
            .expect("world");
        for user in &users {
            let garage = app
                .get("/api/v1/assets?per_page=100", Some(&user.token))
                .await;
            let listed: Vec<(String, String)> = garage.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|a| {
                    (
                        a["id"].as_str().expect("id").to_owned(),
                        a["my_access"].as_str().expect("l").to_owned(),
                    )
                })
                .collect();
            for a in &asset_ids {
                let a = a.to_string();
                let enforced = app
                    .get(&format!("/api/v1/assets/{a}"), Some(&user.token))
                    .await;
                let explained = explain(&app, &user.token, user, "asset", &a).await;
                // An asset I cannot see is not explained to me either.
                assert_eq!(
                    explained.status, enforced.status,
                    "world {world}, {} on {a}: {}",
                    user.username, explained.text
                );
                let enforced_level = (enforced.status == 200)
                    .then(|| enforced.body["my_access"].as_str().expect("l").to_owned());
                let explained_level = explained.body["effective"].as_str().map(ToOwned::to_owned);
                assert_eq!(
                    enforced_level, explained_level,
                    "world {world}, {} on {a}: {}",
                    user.username, explained.text
                );
                let in_garage = listed
                    .iter()
                    .find(|(id, _)| *id == a)
                    .map(|(_, l)| l.clone());
                assert_eq!(
                    in_garage, enforced_level,
                    "garage disagrees: world {world}, {} on {a}",
                    user.username
                );
                // Writes are refused exactly when explain says edit is missing.
                if enforced.status == 200 {
                    let can_edit = explained.body["capabilities"]
                        .as_array()
                        .expect("caps")
                        .contains(&json!("update_details"));
                    let w = app
                        .patch(
                            &format!("/api/v1/assets/{a}"),
                            Some(&user.token),
                            json!({"attributes": {"w": world}}),
                        )
                        .await;
                    assert_eq!(
                        w.status == 200,
                        can_edit,
                        "world {world}, {}: {}",
                        user.username,
                        w.text
                    );
                }
            }
        }
    }
}

async fn audit_trail_filters_and_visibility(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let zed = app.register_verified("zedd").await;
    let (estate, _) = estate_with_site(&app, &owner).await;
    grant(&app, &owner, &estate, "zedd@example.com", "viewer").await;
    app.clock.advance(Duration::minutes(5));
    let before = app.clock.now() - Duration::minutes(1);
    app.put(
        &format!("/api/v1/estates/{estate}/members/{}", zed.id),
        Some(&owner.token),
        json!({"role": "editor"}),
    )
    .await
    .assert_status(200);
    let all = app
        .get(
            &format!("/api/v1/audit?resource_type=estate&resource_id={estate}"),
            Some(&owner.token),
        )
        .await;
    all.assert_status(200);
    let actions: Vec<&str> = all.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("a"))
        .collect();
    assert_eq!(
        actions,
        ["member.updated", "member.added", "estate.created"],
        "newest first"
    );
    let first = &all.body["items"][0];
    assert_eq!(first["actor"]["username"], "owner");
    assert_eq!(first["target"]["type"], "estate");
    assert_eq!(first["before"]["role"], "viewer");
    assert_eq!(first["after"]["role"], "editor");
    let since = app
        .get(
            &format!(
                "/api/v1/audit?resource_type=estate&from={}",
                before.to_rfc3339().replace('+', "%2B")
            ),
            Some(&owner.token),
        )
        .await;
    assert_eq!(since.body["total"], 1);
    let by_actor = app
        .get(
            &format!("/api/v1/audit?actor_id={}", zed.id),
            Some(&owner.token),
        )
        .await;
    assert!(
        by_actor.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["actor"]["id"] == zed.id.as_str())
    );
    // An editor does not administer the estate: none of its events.
    let as_editor = app
        .get(
            &format!("/api/v1/audit?resource_type=estate&resource_id={estate}"),
            Some(&zed.token),
        )
        .await;
    assert_eq!(as_editor.body["total"], 0);
    // Everyone sees their own account's events.
    let mine = app
        .get("/api/v1/audit?resource_type=user", Some(&zed.token))
        .await;
    let actions: Vec<&str> = mine.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("a"))
        .collect();
    assert_eq!(actions, ["user.email_verified", "user.registered"]);
    app.get("/api/v1/audit?resource_type=galaxy", Some(&owner.token))
        .await
        .assert_problem(422, "validation_failed");
    app.get("/api/v1/audit?per_page=500", Some(&owner.token))
        .await
        .assert_problem(422, "validation_failed");
}

async fn every_kind_of_access_change_is_audited(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| {
        c.root_email = Some("root@example.com".into());
        c.root_username = Some("root".into());
        c.root_password = Some("root password 123".into());
    })
    .await;
    let root = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": "root", "password": "root password 123"}),
        )
        .await;
    let root = root.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let owner = app.register_verified("owner").await;
    let amy = app.register_verified("amy").await;
    let ben = app.register_verified("ben").await;
    app.clock.advance(Duration::seconds(2));
    app.put(
        "/api/v1/me/password",
        Some(&ben.token),
        json!({"current_password": PASSWORD, "new_password": "another password 1"}),
    )
    .await
    .assert_status(200);
    let (estate, site) = estate_with_site(&app, &owner).await;
    grant(&app, &owner, &estate, "amy@example.com", "editor").await;
    grant(&app, &owner, &estate, "ben@example.com", "viewer").await;
    app.put(
        &format!("/api/v1/estates/{estate}/members/{}", amy.id),
        Some(&owner.token),
        json!({"role": "admin"}),
    )
    .await
    .assert_status(200);
    app.put(
        &format!("/api/v1/sites/{site}/members/{}", ben.id),
        Some(&owner.token),
        json!({"role": "none"}),
    )
    .await
    .assert_status(200);
    app.delete(
        &format!("/api/v1/sites/{site}/members/{}", ben.id),
        Some(&owner.token),
    )
    .await
    .assert_status(200);
    let inv = app
        .post(
            &format!("/api/v1/estates/{estate}/invitations"),
            Some(&owner.token),
            json!({"email": "new@example.com", "role": "viewer"}),
        )
        .await;
    let inv = inv.body["invitation"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.post(
        &format!("/api/v1/estates/{estate}/invitations/{inv}/resend"),
        Some(&owner.token),
        json!({}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/api/v1/estates/{estate}/invitations/{inv}/cancel"),
        Some(&owner.token),
        json!({}),
    )
    .await
    .assert_status(200);
    let a = app
        .post(
            "/api/v1/assets",
            Some(&owner.token),
            json!({"name": "Van", "site_id": site}),
        )
        .await;
    let asset = a.body["id"].as_str().expect("id").to_owned();
    app.patch(
        &format!("/api/v1/assets/{asset}"),
        Some(&owner.token),
        json!({"site_id": null}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/api/v1/assets/{asset}/collaborators"),
        Some(&owner.token),
        json!({"username": "amy"}),
    )
    .await
    .assert_status(201);
    app.delete(
        &format!("/api/v1/assets/{asset}/collaborators/{}", amy.id),
        Some(&owner.token),
    )
    .await
    .assert_status(204);
    app.post(
        "/api/v1/household/members",
        Some(&owner.token),
        json!({"username": "ben", "role": "viewer"}),
    )
    .await
    .assert_status(201);
    app.patch(
        &format!("/api/v1/household/members/{}", ben.id),
        Some(&owner.token),
        json!({"role": "editor"}),
    )
    .await
    .assert_status(200);
    app.delete(
        &format!("/api/v1/households/{}/membership", owner.id),
        Some(&ben.token),
    )
    .await
    .assert_status(401);
    let ben_token = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": "ben", "password": "another password 1"}),
        )
        .await
        .body["access_token"]
        .as_str()
        .expect("t")
        .to_owned();
    app.delete(
        &format!("/api/v1/households/{}/membership", owner.id),
        Some(&ben_token),
    )
    .await
    .assert_status(204);
    app.post(
        "/api/v1/household/members",
        Some(&owner.token),
        json!({"username": "amy", "role": "viewer"}),
    )
    .await
    .assert_status(201);
    app.delete(
        &format!("/api/v1/household/members/{}", amy.id),
        Some(&owner.token),
    )
    .await
    .assert_status(204);
    for (email, permission) in [("s1@example.com", "view"), ("s2@example.com", "edit")] {
        app.post(
            "/api/v1/asset-invitations",
            Some(&owner.token),
            json!({"asset_id": asset, "email": email, "permission": permission}),
        )
        .await
        .assert_status(201);
    }
    let t1 = app
        .wait_for_email("s1@example.com", "invited you")
        .await
        .token();
    let t2 = app
        .wait_for_email("s2@example.com", "invited you")
        .await
        .token();
    let s1 = app
        .post(
            "/api/v1/invitations/accept-signup",
            None,
            json!({"token": t1, "username": "sss1", "password": PASSWORD}),
        )
        .await;
    let s1_id = s1.body["user"]["id"].as_str().expect("id").to_owned();
    let s1_token = s1.body["access_token"].as_str().expect("t").to_owned();
    app.post("/api/v1/invitations/decline", None, json!({"token": t2}))
        .await
        .assert_status(200);
    app.patch(
        &format!("/api/v1/assets/{asset}/shares/{s1_id}"),
        Some(&owner.token),
        json!({"permission": "manage"}),
    )
    .await
    .assert_status(200);
    app.delete(&format!("/api/v1/me/shares/{asset}"), Some(&s1_token))
        .await
        .assert_status(204);
    let soon = (Utc::now() + Duration::minutes(1)).to_rfc3339();
    app.post("/api/v1/asset-invitations", Some(&owner.token), json!({"asset_id": asset, "email": "late@example.com", "permission": "view", "expires_at": soon})).await.assert_status(201);
    app.clock.advance(Duration::minutes(2));
    keyholder_tests::keyholder_api::ops::invitations::respond::sweep_expired(
        &app.app_state.db,
        app.clock.now(),
    )
    .expect("sweep");
    let owner_token = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": "owner", "password": PASSWORD}),
        )
        .await
        .body["access_token"]
        .as_str()
        .expect("t")
        .to_owned();
    let s2 = app.register_verified("sss2").await;
    app.post(
        &format!("/api/v1/estates/{estate}/invitations"),
        Some(&owner_token),
        json!({"email": "sss2@example.com", "role": "viewer"}),
    )
    .await
    .assert_status(201);
    app.delete(
        &format!("/api/v1/estates/{estate}/members/{}", s2.id),
        Some(&s2.token),
    )
    .await
    .assert_status(204);
    app.delete(
        &format!("/api/v1/estates/{estate}/members/{}", ben.id),
        Some(&owner_token),
    )
    .await
    .assert_status(204);
    app.post(
        &format!("/api/v1/estates/{estate}/transfer-ownership"),
        Some(&owner_token),
        json!({"user_id": amy.id}),
    )
    .await
    .assert_status(200);
    app.delete(&format!("/api/v1/assets/{asset}"), Some(&owner_token))
        .await
        .assert_status(204);
    // Root reads the whole trail.
    let mut actions = std::collections::BTreeSet::new();
    for page in 1..20 {
        let r = app
            .get(
                &format!("/api/v1/audit?per_page=100&page={page}"),
                Some(&root),
            )
            .await;
        r.assert_status(200);
        let items = r.body["items"].as_array().expect("items");
        if items.is_empty() {
            break;
        }
        actions.extend(
            items
                .iter()
                .map(|e| e["action"].as_str().expect("a").to_owned()),
        );
    }
    for expected in [
        "user.root_created",
        "user.registered",
        "user.email_verified",
        "user.password_changed",
        "estate.created",
        "site.created",
        "member.added",
        "member.updated",
        "member.removed",
        "member.left",
        "estate.ownership_transferred",
        "site_override.set",
        "site_override.cleared",
        "invitation.created",
        "invitation.resent",
        "invitation.cancelled",
        "invitation.accepted",
        "invitation.declined",
        "invitation.expired",
        "asset.created",
        "asset.moved",
        "asset.deleted",
        "collaborator.added",
        "collaborator.removed",
        "household.member_added",
        "household.role_changed",
        "household.member_left",
        "household.member_removed",
        "share.updated",
        "share.dropped",
    ] {
        assert!(
            actions.contains(expected),
            "{expected} missing from {actions:?}"
        );
    }
}

// ---------------------------------------------------------------- keyset paging

mod paging {
    use std::collections::HashSet;

    use chrono::{DateTime, Duration, Utc};
    use keyholder_store::audit::{self, NewAuditEvent};
    use keyholder_tests::{Session, TestApp, on_both_backends};
    use serde_json::Value;
    use uuid::Uuid;

    on_both_backends!(the_audit_trail_walks_by_cursor_newest_first);

    /// Events written straight to the trail, so that their times tie:
    /// `(actor, target type, target id, at)`.
    fn record(app: &TestApp, rows: &[(&Session, &str, &str, DateTime<Utc>)]) {
        app.app_state
            .db
            .write(|c| {
                for (actor, kind, target, at) in rows {
                    audit::record(
                        c,
                        &NewAuditEvent {
                            actor_id: Some(Uuid::parse_str(&actor.id).expect("uuid")),
                            action: audit::Action::EstateRenamed,
                            target_type: kind,
                            target_id: (*target).to_owned(),
                            before: None,
                            after: None,
                        },
                        *at,
                    )?;
                }
                Ok::<_, keyholder_store::StoreError>(())
            })
            .expect("events");
    }

    fn ids(items: &[Value]) -> Vec<String> {
        items
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_owned())
            .collect()
    }

    fn newest_first(items: &[Value]) -> Vec<String> {
        let mut sorted = items.to_vec();
        let at = |v: &Value| {
            DateTime::parse_from_rfc3339(v["created_at"].as_str().expect("created_at"))
                .expect("rfc 3339")
                .to_utc()
        };
        sorted.sort_by(|a, b| {
            at(b)
                .cmp(&at(a))
                .then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
        });
        ids(&sorted)
    }

    async fn check_walk(app: &TestApp, token: &str, path: &str) -> usize {
        let sep = if path.contains('?') { '&' } else { '?' };
        let full = app
            .get(&format!("{path}{sep}per_page=100"), Some(token))
            .await;
        full.assert_status(200);
        let all = full.body["items"].as_array().expect("items").clone();
        let n = all.len();
        assert_eq!(full.body["total"], n, "{path}");
        assert_eq!(full.body["total_exact"], true);
        assert!(full.body["next_cursor"].is_null());
        assert_eq!(ids(&all), newest_first(&all), "{path}");
        let (walked, pages) = app.walk(token, path, 2).await;
        assert_eq!(ids(&walked), ids(&all), "{path}");
        assert_eq!(pages, n.div_ceil(2).max(1), "{path}");
        let unique: HashSet<String> = ids(&walked).into_iter().collect();
        assert_eq!(unique.len(), n);
        n
    }

    async fn the_audit_trail_walks_by_cursor_newest_first(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let amy = app.register_verified("amy").await;
        let asset = app
            .create_asset(&owner, serde_json::json!({"name": "Van"}))
            .await;
        let estate = app.create_estate(&owner, "Riverside").await;
        let theirs = app
            .create_asset(&amy, serde_json::json!({"name": "Theirs"}))
            .await;
        let t0 = Utc::now() - Duration::hours(1);
        let s = Duration::seconds;
        record(
            &app,
            &[
                (&owner, "asset", &asset, t0),
                (&amy, "asset", &asset, t0),
                (&owner, "estate", &estate, t0),
                (&owner, "asset", &asset, t0 + s(1)),
                (&amy, "estate", &estate, t0 + s(1)),
                (&owner, "user", &owner.id, t0),
                (&owner, "household", &owner.id, t0 + s(2)),
                (&amy, "asset", &theirs, t0),
                (&amy, "user", &amy.id, t0),
            ],
        );
        let mine = check_walk(&app, &owner.token, "/api/v1/audit").await;
        // Registration, verification, the asset, the estate and its
        // creations, and the seven events above that are about my resources.
        assert!(mine >= 7 + 4, "{mine}");
        let full = app
            .get("/api/v1/audit?per_page=100", Some(&owner.token))
            .await;
        let items = full.body["items"].as_array().expect("items");
        assert!(
            items
                .iter()
                .all(|e| e["target"]["id"] != theirs.as_str()
                    && e["target"]["id"] != amy.id.as_str()),
            "only my resources"
        );
        assert_eq!(
            check_walk(
                &app,
                &owner.token,
                &format!("/api/v1/audit?resource_type=asset&resource_id={asset}")
            )
            .await,
            4,
            "asset.created and three"
        );
        assert_eq!(
            check_walk(
                &app,
                &owner.token,
                &format!("/api/v1/audit?actor_id={}", amy.id)
            )
            .await,
            2
        );
        let from = (t0 - s(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let to = (t0 + s(1)).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        assert_eq!(
            check_walk(
                &app,
                &owner.token,
                &format!("/api/v1/audit?from={from}&to={}", to.replace('+', "%2B"))
            )
            .await,
            6
        );
        for bad in [
            "garbage",
            "e30",
            "eyJrIjoiYUBleGFtcGxlLmNvbSIsImkiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAifQ",
        ] {
            let r = app
                .get(&format!("/api/v1/audit?cursor={bad}"), Some(&owner.token))
                .await;
            r.assert_problem(422, "validation_failed");
            assert!(!r.body["errors"]["cursor"].is_null(), "{}", r.text);
        }
    }
}
