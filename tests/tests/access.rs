//! Explain, who-has-access and the audit trail, on both databases: each
//! troubleshooting item of the seed pages as an explain answer, explain
//! against enforcement over generated worlds, and the audit of every kind
//! of access change.

use chrono::{Duration, Utc};
use keyholder_domain::{EstateRole, HouseholdRole, InvitationPermission, SiteOverride};
use keyholder_store::{collaborators, households, shares, sites};
use keyholder_tests::{PASSWORD, TestApp, on_both_backends, pairs};
use serde_json::{Value, json};
use uuid::Uuid;

fn uid(s: &str) -> Uuid {
    Uuid::parse_str(s).expect("uuid")
}

fn path<'a>(body: &'a Value, kind: &str) -> &'a Value {
    body["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .find(|p| p["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} path in {body}"))
}

async fn troubleshooting_user_cannot_see_a_site_explained(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let una = app.register_verified("una").await;
    let (estate, site) = app.estate_with_site(&owner, "Riverside", "North").await;
    // No estate access: nothing ties una to the site, so there is nothing
    // to explain about her (and nothing about her to learn): 404.
    app.explain(&owner, &una, "site", &site).await.assert_problem(404, "not_found");
    // Nor may she ask about a site she cannot see.
    app.explain(&una, &una, "site", &site).await.assert_problem(404, "not_found");
    // Kept off the site.
    app.grant_role(&owner, &estate, &una, "editor").await;
    app.try_set_site_override(&owner, &site, &una, "none").await.assert_status(200);
    let r = app.explain(&owner, &una, "site", &site).await;
    assert!(r.body["effective"].is_null());
    let p = path(&r.body, "site_override");
    assert_eq!(p["level"], "none");
    assert_eq!(p["reason"], "kept_off_site");
    assert_eq!(r.body["capabilities"], json!([]));
}

async fn troubleshooting_can_see_but_cannot_edit_explained(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let vic = app.register_verified("vic").await;
    let (estate, site) = app.estate_with_site(&owner, "Riverside", "North").await;
    app.grant_role(&owner, &estate, &vic, "viewer").await;
    app.try_set_site_override(&owner, &site, &vic, "editor").await.assert_status(200);
    let r = app.explain(&vic, &vic, "site", &site).await;
    assert_eq!(r.body["effective"], "viewer");
    assert_eq!(r.body["capabilities"], json!(["read_site"]));
    let p = path(&r.body, "site_override");
    assert_eq!(p["level"], "editor");
    assert_eq!(p["reason"], "capped_by_estate_role");
    // The same rule at an asset placed there.
    let a = app.try_add_asset_at(&owner, "Mower", &site).await;
    let asset = a.body["id"].as_str().expect("id");
    let r = app.explain(&vic, &vic, "asset", asset).await;
    assert_eq!(r.body["effective"], "view");
    let p = path(&r.body, "site");
    assert_eq!(p["reason"], "capped_by_estate_role");
    assert_eq!(p["counted"], true);
}

async fn troubleshooting_cannot_find_the_invite_button_explained(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let ed = app.register_verified("eddy").await;
    let (estate, _) = app.estate_with_site(&owner, "Riverside", "North").await;
    app.grant_role(&owner, &estate, &ed, "editor").await;
    let r = app.explain(&ed, &ed, "estate", &estate).await;
    assert_eq!(r.body["effective"], "editor");
    let caps: Vec<&str> = r.body["capabilities"]
        .as_array()
        .expect("caps")
        .iter()
        .map(|c| c.as_str().expect("cap"))
        .collect();
    assert_eq!(caps, ["read", "edit_content"]);
    assert!(!caps.contains(&"manage_members"), "inviting needs admin or higher");
    let r = app.explain(&owner, &owner, "estate", &estate).await;
    assert!(r.body["capabilities"].as_array().expect("caps").contains(&json!("manage_members")));
}

async fn troubleshooting_household_paths_explained(app: TestApp) {
    let test = app.register_verified("test").await;
    let test3 = app.register_verified("test3").await;
    let test4 = app.register_verified("test4").await;
    let car = app.create_asset(&test4, json!({"name": "test4's car"})).await.id;
    app.try_add_to_household(&test4, "test", "manager").await.assert_status(201);
    app.try_add_to_household(&test, "test3", "editor").await.assert_status(201);
    // test3 does not inherit from test4: test heads test3's household but is
    // not a collaborator of the car. Nothing ties test3 to the car, so test4
    // learns nothing about test3 (not even their household): 404; and test3
    // cannot ask about a car they cannot see.
    app.explain(&test4, &test3, "asset", &car).await.assert_problem(404, "not_found");
    app.explain(&test3, &test3, "asset", &car).await.assert_problem(404, "not_found");
    let r = app.explain(&test4, &test, "asset", &car).await;
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
    app.explain(&test, &test3, "asset", &car).await.assert_problem(404, "not_found");
}

async fn troubleshooting_shares_and_invitations_explained(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let wes = app.register_verified("wes").await;
    let a = app.try_create_asset(&owner, json!({"name": "Van"})).await;
    let asset = a.id();
    app.try_share_asset(&owner, &asset, "wes@example.com", "edit").await.assert_status(201);
    let r = app.explain(&owner, &wes, "asset", &asset).await;
    assert!(r.body["effective"].is_null());
    assert_eq!(path(&r.body, "share")["reason"], "invitation_pending");
    let token = app.wait_for_email("wes@example.com", "invited you").await.token();
    app.try_accept(&wes, &token).await.assert_status(200);
    let r = app.explain(&owner, &wes, "asset", &asset).await;
    assert_eq!(r.body["effective"], "edit");
    let until = (Utc::now() + Duration::minutes(10)).to_rfc3339();
    app.try_update_share(&owner, &asset, &wes.id, json!({"access_expires_at": until}))
        .await
        .assert_status(200);
    app.clock.advance(Duration::minutes(11));
    let r = app.explain(&owner, &wes, "asset", &asset).await;
    assert!(r.body["effective"].is_null());
    let p = path(&r.body, "share");
    assert_eq!(p["reason"], "share_expired");
    assert!(p["until"].is_string());
    app.try_revoke_share(&owner, &asset, &wes.id).await.assert_status(204);
    let r = app.explain(&owner, &wes, "asset", &asset).await;
    assert_eq!(path(&r.body, "share")["reason"], "share_revoked");
}

async fn explain_is_open_to_the_user_and_administrators_only(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let xia = app.register_verified("xia").await;
    let yan = app.register_verified("yan").await;
    let asset = app.create_asset(&owner, json!({"name": "Van"})).await.id;
    // Xia cannot see the van: explain does not confirm it exists, to her or
    // (since nothing ties her to it) about her.
    app.explain(&xia, &xia, "asset", &asset).await.assert_problem(404, "not_found");
    let stranger = app.explain(&owner, &xia, "asset", &asset).await;
    stranger.assert_problem(404, "not_found");
    assert!(!stranger.text.contains("xia@example.com"));
    app.try_collaborate(&owner, &asset, "xia").await.assert_status(201);
    app.explain(&xia, &xia, "asset", &asset).await.assert_status(200);
    let r = app.explain(&owner, &xia, "asset", &asset).await;
    r.assert_status(200);
    // Added by username: the owner sees no email.
    assert!(r.body["user"]["email"].is_null(), "{}", r.text);
    app.explain(&yan, &xia, "asset", &asset).await.assert_problem(404, "not_found");
    app.try_add_to_household(&owner, "yan", "manager").await.assert_status(201);
    // Manage is not administering.
    app.explain(&yan, &xia, "asset", &asset).await.assert_problem(404, "not_found");
    app.try_explain(
        &owner,
        &format!("?user_id={}&resource_type=planet&resource_id={asset}", xia.id),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.try_explain(
        &owner,
        &format!("?user_id={}&resource_type=asset&resource_id={asset}", Uuid::new_v4()),
    )
    .await
    .assert_problem(404, "not_found");
}

async fn who_has_access_lists_every_path(app: TestApp) {
    let [owner, co, kid, guest, staff] =
        app.register_verified_each(["owner", "coowner", "kiddo", "guest", "staff"]).await;
    let (estate, site) = app.estate_with_site(&owner, "Riverside", "North").await;
    app.grant_role(&owner, &estate, &staff, "viewer").await;
    let a = app.try_add_asset_at(&owner, "Truck", &site).await;
    let asset = a.id();
    app.try_collaborate(&owner, &asset, "coowner").await.assert_status(201);
    app.try_add_to_household(&co, "kiddo", "editor").await.assert_status(201);
    app.try_share_asset(&owner, &asset, "guest@example.com", "manage").await.assert_status(201);
    let token = app.wait_for_email("guest@example.com", "invited you").await.token();
    app.try_accept(&guest, &token).await.assert_status(200);
    let r = app.try_asset_access(&owner, &asset).await;
    r.assert_status(200);
    let got = pairs(r.items(), "/user/username", "/level");
    let want = [
        ("coowner", "full"),
        ("owner", "full"),
        ("guest", "manage"),
        ("kiddo", "edit"),
        ("staff", "view"),
    ];
    assert_eq!(got.iter().map(|(u, l)| (u.as_str(), l.as_str())).collect::<Vec<_>>(), want);
    let owner_entry = r.items().iter().find(|e| e["user"]["username"] == "owner").expect("owner");
    let kinds: Vec<&str> = owner_entry["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .filter(|p| p["counted"] == true)
        .map(|p| p["kind"].as_str().expect("k"))
        .collect();
    assert!(kinds.contains(&"collaborator") && kinds.contains(&"estate_admin"), "{kinds:?}");
    app.try_asset_access(&kid, &asset).await.assert_problem(403, "full_access_required");
    app.try_asset_access(&app.register("nobody").await.token, &asset)
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
    let (estate, site_a) = app.estate_with_site(founder, "Riverside", "North").await;
    let s = app.try_add_site(&founder, &estate, "South").await;
    let site_b = s.id();
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
            let r = app.try_create_asset(&founder, body).await;
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
            let garage = app.try_garage(&user, "?per_page=100").await;
            let listed = pairs(garage.items(), "/id", "/my_access");
            for a in &asset_ids {
                let a = a.to_string();
                let enforced = app.try_get_asset(&user, &a).await;
                let explained = app.explain(user, user, "asset", &a).await;
                // An asset I cannot see is not explained to me either.
                assert_eq!(
                    explained.status, enforced.status,
                    "world {world}, {} on {a}: {}",
                    user.username, explained.text
                );
                let enforced_level = (enforced.status == 200).then(|| enforced.str("my_access"));
                let explained_level = explained.body["effective"].as_str().map(ToOwned::to_owned);
                assert_eq!(
                    enforced_level, explained_level,
                    "world {world}, {} on {a}: {}",
                    user.username, explained.text
                );
                let in_garage = listed.iter().find(|(id, _)| *id == a).map(|(_, l)| l.clone());
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
                    let w =
                        app.try_update_asset(&user, &a, json!({"attributes": {"w": world}})).await;
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
    let (estate, _) = app.estate_with_site(&owner, "Riverside", "North").await;
    app.grant_role(&owner, &estate, &zed, "viewer").await;
    app.clock.advance(Duration::minutes(5));
    let before = app.clock.now() - Duration::minutes(1);
    app.try_set_role(&owner, &estate, &zed, "editor").await.assert_status(200);
    let all = app.try_audit(&owner, &format!("?resource_type=estate&resource_id={estate}")).await;
    all.assert_status(200);
    let actions: Vec<&str> = all.items().iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert_eq!(actions, ["member.updated", "member.added", "estate.created"], "newest first");
    let first = &all.body["items"][0];
    assert_eq!(first["actor"]["username"], "owner");
    assert_eq!(first["target"]["type"], "estate");
    assert_eq!(first["before"]["role"], "viewer");
    assert_eq!(first["after"]["role"], "editor");
    let since = app
        .try_audit(
            &owner,
            &format!("?resource_type=estate&from={}", before.to_rfc3339().replace('+', "%2B")),
        )
        .await;
    assert_eq!(since.body["total"], 1);
    let by_actor = app.try_audit(&owner, &format!("?actor_id={}", zed.id)).await;
    assert!(by_actor.items().iter().all(|e| e["actor"]["id"] == zed.id.as_str()));
    // An editor does not administer the estate: none of its events.
    let as_editor =
        app.try_audit(&zed, &format!("?resource_type=estate&resource_id={estate}")).await;
    assert_eq!(as_editor.body["total"], 0);
    // Everyone sees their own account's events.
    let mine = app.try_audit(&zed, "?resource_type=user").await;
    let actions: Vec<&str> =
        mine.items().iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert_eq!(actions, ["user.email_verified", "user.registered"]);
    app.try_audit(&owner, "?resource_type=galaxy").await.assert_problem(422, "validation_failed");
    app.try_audit(&owner, "?per_page=500").await.assert_problem(422, "validation_failed");
}

async fn every_kind_of_access_change_is_audited(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let root = app.root_token().await;
    let owner = app.register_verified("owner").await;
    let amy = app.register_verified("amy").await;
    let ben = app.register_verified("ben").await;
    app.clock.advance(Duration::seconds(2));
    app.try_new_password(&ben, PASSWORD, "another password 1").await.assert_status(200);
    let (estate, site) = app.estate_with_site(&owner, "Riverside", "North").await;
    app.grant_role(&owner, &estate, &amy, "editor").await;
    app.grant_role(&owner, &estate, &ben, "viewer").await;
    app.try_set_role(&owner, &estate, &amy, "admin").await.assert_status(200);
    app.try_set_site_override(&owner, &site, &ben, "none").await.assert_status(200);
    app.try_clear_site_role(&owner, &site, &ben.id).await.assert_status(200);
    let inv = app.try_invite(&owner, &estate, "new@example.com", "viewer").await;
    let inv = inv.body["invitation"]["id"].as_str().expect("id").to_owned();
    app.try_resend_estate_invitation(&owner, &estate, &inv, json!({})).await.assert_status(200);
    app.try_cancel_estate_invitation(&owner, &estate, &inv, json!({})).await.assert_status(200);
    let a = app.try_add_asset_at(&owner, "Van", &site).await;
    let asset = a.id();
    app.try_update_asset(&owner, &asset, json!({"site_id": null})).await.assert_status(200);
    app.try_collaborate(&owner, &asset, "amy").await.assert_status(201);
    app.try_remove_collaborator(&owner, &asset, &amy.id).await.assert_status(204);
    app.try_add_to_household(&owner, "ben", "viewer").await.assert_status(201);
    app.try_set_household_role(&owner, &ben.id, json!({"role": "editor"})).await.assert_status(200);
    app.try_leave_household(&ben, &owner.id).await.assert_status(401);
    let ben_token = app.login("ben", "another password 1").await.str("access_token");
    app.try_leave_household(&ben_token, &owner.id).await.assert_status(204);
    app.try_add_to_household(&owner, "amy", "viewer").await.assert_status(201);
    app.try_remove_household_member(&owner, &amy.id).await.assert_status(204);
    for (email, permission) in [("s1@example.com", "view"), ("s2@example.com", "edit")] {
        app.try_share_asset(&owner, &asset, email, permission).await.assert_status(201);
    }
    let t1 = app.wait_for_email("s1@example.com", "invited you").await.token();
    let t2 = app.wait_for_email("s2@example.com", "invited you").await.token();
    let s1 = app.try_sign_up(&t1, "sss1", PASSWORD).await;
    let s1_id = s1.body["user"]["id"].as_str().expect("id").to_owned();
    let s1_token = s1.str("access_token");
    app.try_decline(&t2).await.assert_status(200);
    app.try_update_share(&owner, &asset, &s1_id, json!({"permission": "manage"}))
        .await
        .assert_status(200);
    app.try_leave_share(&s1_token, &asset).await.assert_status(204);
    let soon = (Utc::now() + Duration::minutes(1)).to_rfc3339();
    app.try_send_asset_invitation(&owner, json!({"asset_id": asset, "email": "late@example.com", "permission": "view", "expires_at": soon})).await.assert_status(201);
    app.clock.advance(Duration::minutes(2));
    keyholder_tests::keyholder_api::ops::invitations::respond::sweep_expired(
        &app.app_state.db,
        app.clock.now(),
    )
    .expect("sweep");
    let owner_token = app.login("owner", PASSWORD).await.str("access_token");
    let s2 = app.register_verified("sss2").await;
    app.try_invite(&owner_token, &estate, "sss2@example.com", "viewer").await.assert_status(201);
    app.try_remove_member(&s2, &estate, &s2.id).await.assert_status(204);
    app.try_remove_member(&owner_token, &estate, &ben.id).await.assert_status(204);
    app.try_transfer_to(&owner_token, &estate, &amy.id).await.assert_status(200);
    app.try_delete_asset(&owner_token, &asset).await.assert_status(204);
    // Root reads the whole trail.
    let mut actions = std::collections::BTreeSet::new();
    for page in 1..20 {
        let r = app.try_audit(&root, &format!("?per_page=100&page={page}")).await;
        r.assert_status(200);
        let items = r.items();
        if items.is_empty() {
            break;
        }
        actions.extend(items.iter().map(|e| e["action"].as_str().expect("a").to_owned()));
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
        assert!(actions.contains(expected), "{expected} missing from {actions:?}");
    }
}

// Every test above runs on SQLite and on PostgreSQL.
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
    my_access_lists_every_grant_and_where_it_comes_from,
);

/// `GET /me/access`: one row per grant I hold (estate role, site override,
/// collaboration, household membership, share), newest first, each naming
/// what it is on and where it comes from; mine only; a removal shows on the
/// next read.
async fn my_access_lists_every_grant_and_where_it_comes_from(app: TestApp) {
    let [ada, bob, cyd, dee] = app.register_verified_each(["ada", "bob", "cyd", "dee"]).await;
    let (estate, site) = app.estate_with_site(&ada, "Riverside", "North").await;
    app.grant_role(&ada, &estate, &bob, "editor").await;
    app.set_site_role(&ada, &site, &bob, "viewer").await;
    let van = app.create_vehicle(&ada, "Van", None).await.id;
    app.add_collaborator(&ada, &van, &bob.username).await;
    app.household_add(&cyd, &bob, "editor").await;
    let truck = app.create_vehicle(&dee, "Truck", None).await.id;
    let shared = app.send_asset_invitation(&dee, &truck, &bob.email, "view").await;
    app.try_accept(&bob, &shared.token).await.assert_status(200);

    let mine = app.get("/api/v1/me/access", Some(&bob.token)).await;
    mine.assert_status(200);
    assert_eq!(mine.body["total"], 5, "{}", mine.text);
    let row = |kind: &str| -> Value {
        mine.items()
            .iter()
            .find(|g| g["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("{kind}: {}", mine.text))
    };
    assert_eq!(mine.items()[0]["kind"], "share", "newest first");
    let e = row("estate_role");
    assert_eq!(
        (&e["resource"], &e["role"]),
        (&json!({"type": "estate", "id": estate, "name": "Riverside"}), &json!("editor"))
    );
    let s = row("site_override");
    assert_eq!(
        (&s["resource"]["type"], &s["resource"]["id"], &s["role"]),
        (&json!("site"), &json!(site), &json!("viewer"))
    );
    assert_eq!(s["estate"], json!({"id": estate, "name": "Riverside"}));
    let c = row("collaborator");
    assert_eq!(
        (&c["resource"], &c["role"]),
        (&json!({"type": "asset", "id": van, "name": "Van"}), &json!("full"))
    );
    let h = row("household");
    assert_eq!(
        (&h["resource"]["type"], &h["resource"]["id"], &h["role"]),
        (&json!("household"), &json!(cyd.id), &json!("editor"))
    );
    assert_eq!(h["head"]["username"], "cyd");
    let sh = row("share");
    assert_eq!(
        (&sh["resource"]["id"], &sh["role"], &sh["active"]),
        (&json!(truck), &json!("view"), &json!(true))
    );
    assert!(sh["until"].is_null() && sh["since"].is_string());
    // Mine only: ada's list holds her own grants, none of bob's.
    let hers = app.get("/api/v1/me/access", Some(&ada.token)).await;
    let kinds: Vec<&str> = hers.items().iter().filter_map(|g| g["kind"].as_str()).collect();
    assert_eq!(kinds, ["collaborator", "estate_role"], "{}", hers.text);
    // A removal holds on the next read.
    app.try_remove_collaborator(&ada, &van, &bob.id).await.assert_status(204);
    let after = app.get("/api/v1/me/access", Some(&bob.token)).await;
    assert_eq!(after.body["total"], 4);
    assert!(after.items().iter().all(|g| g["kind"] != "collaborator"), "{}", after.text);
}

// ---------------------------------------------------------------- keyset paging

#[path = "access/paging.rs"]
mod paging;
