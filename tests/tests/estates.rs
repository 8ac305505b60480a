//! Estates, sites and Users & Permissions: the capability and grant tables of
//! the spec and the seed page's troubleshooting cases, on both databases.
//! Members join as a frontend would: invited by the owner (verified
//! accounts get the role at once).

use Change::{Clear, Override, Remove, Role, Sites, Transfer};
use keyholder_domain::EstateRole;
use keyholder_tests::{NOBODY, Reply, Session, TestApp, on_both_backends};
use serde_json::{Value, json};

struct World {
    estate: String,
    site_a: String,
    site_b: String,
    owner: Session,
    admin: Session,
    editor: Session,
    viewer: Session,
    outsider: Session,
}

async fn world(app: &TestApp) -> World {
    let owner = app.register_verified("owner").await;
    let admin = app.register_verified("admin").await;
    let editor = app.register_verified("editor").await;
    let viewer = app.register_verified("viewer").await;
    let outsider = app.register_verified("outsider").await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    let site_a = app.create_site(&owner, &estate, "North Yard").await.id;
    let site_b = app.create_site(&owner, &estate, "South Yard").await.id;
    app.grant_role(&owner, &estate, &admin, EstateRole::Admin.as_str()).await;
    app.grant_role(&owner, &estate, &editor, EstateRole::Editor.as_str()).await;
    app.grant_role(&owner, &estate, &viewer, EstateRole::Viewer.as_str()).await;
    World { estate, site_a, site_b, owner, admin, editor, viewer, outsider }
}

/// A change one user asks for on the Users & Permissions page.
enum Change<'a> {
    /// Set a member's estate role.
    Role(&'a Session, &'a str),
    /// Set a member's override at a site (`none` keeps them off it).
    Override(&'a str, &'a Session, &'a str),
    /// Clear a member's override at a site.
    Clear(&'a str, &'a Session),
    /// Remove a member from the estate.
    Remove(&'a Session),
    /// Hand the estate to a member.
    Transfer(&'a Session),
    /// Save a member's estate role with a list of site overrides (see
    /// [`sites`]), which replaces all of theirs.
    Sites(&'a Session, &'a str, Value),
}

/// A `sites` list of overrides: `(site, role)` each.
fn sites(overrides: &[(&str, &str)]) -> Value {
    overrides.iter().map(|(site, role)| json!({"site_id": site, "role": role})).collect()
}

impl World {
    /// Asks for `change` in this estate as `by`: the reply as given.
    async fn attempt(&self, app: &TestApp, by: &Session, change: &Change<'_>) -> Reply {
        match change {
            Role(member, role) => app.try_set_role(by, &self.estate, member, role).await,
            Override(site, member, role) => app.try_set_site_override(by, site, member, role).await,
            Clear(site, member) => app.try_clear_site_role(by, site, member).await,
            Remove(member) => app.try_remove_member(by, &self.estate, member).await,
            Transfer(member) => app.try_transfer_to(by, &self.estate, &member.id).await,
            Sites(member, role, list) => {
                let body = json!({"role": role, "sites": list});
                app.try_set_estate_role(by, &self.estate, member, body).await
            }
        }
    }

    /// Asks for each change in turn, as its author, asserting each answer
    /// (status, and the problem code of a refusal).
    async fn check(&self, app: &TestApp, changes: &[(&Session, Change<'_>, u16, &str)]) {
        for (by, change, status, code) in changes {
            self.attempt(app, by, change).await.assert_answer(*status, code);
        }
    }
}

async fn estate_lifecycle_create_list_read_rename_delete(app: TestApp) {
    let ada = app.register_verified("ada").await;
    let other = app.register_verified("other").await;
    app.try_add_estate(&ada, "  ").await.assert_problem(422, "validation_failed");
    app.try_add_estate(&NOBODY, "x").await.assert_problem(401, "missing_token");
    let first = app.create_estate(&ada, "First").await.id;
    let second = app.create_estate(&ada, "Second").await.id;
    let list = app.try_estates(&ada, "").await;
    list.assert_status(200);
    assert_eq!(list.body["total"], 2);
    assert_eq!(list.body["page"], 1);
    assert_eq!(list.body["per_page"], 25);
    assert_eq!(list.body["items"][0]["id"], second.as_str(), "newest first");
    assert_eq!(list.body["items"][1]["my_role"], "owner");
    let paged = app.try_estates(&ada, "?per_page=1&page=2").await;
    assert_eq!(paged.body["items"][0]["id"], first.as_str());
    app.try_estates(&ada, "?per_page=101").await.assert_problem(422, "validation_failed");
    app.try_estates(&ada, "?page=0").await.assert_problem(422, "validation_failed");
    assert_eq!(app.try_estates(&other, "").await.body["total"], 0);
    app.try_get_estate(&other, &first).await.assert_problem(404, "estate_not_found");
    app.try_get_estate(&ada, "not-a-uuid").await.assert_problem(404, "not_found");
    let renamed = app.try_rename_estate(&ada, &first, json!({"name": "Renamed"})).await;
    renamed.assert_status(200);
    assert_eq!(renamed.body["name"], "Renamed");
    app.try_delete_estate(&other, &first).await.assert_problem(404, "estate_not_found");
    app.try_delete_estate(&ada, &first).await.assert_status(204);
    app.try_get_estate(&ada, &first).await.assert_problem(404, "estate_not_found");
    assert_eq!(app.try_estates(&ada, "").await.body["total"], 1);
}

async fn any_member_reads_the_estate_its_sites_and_members(app: TestApp) {
    let w = world(&app).await;
    for user in [&w.owner, &w.admin, &w.editor, &w.viewer] {
        let e = app.try_get_estate(&user, &w.estate).await;
        e.assert_status(200);
        let sites = app.try_sites(&user, &w.estate).await;
        sites.assert_status(200);
        assert_eq!(sites.body["total"], 2, "estate roles cascade to every site");
        app.try_get_site(&user, &w.site_a).await.assert_status(200);
        let members = app.try_members(&user, &w.estate, "").await;
        members.assert_status(200);
        assert_eq!(members.body["total"], 4);
    }
    let sites = app.try_sites(&w.editor, &w.estate).await;
    assert_eq!(sites.body["items"][0]["effective_role"], "editor");
    let sites = app.try_sites(&w.admin, &w.estate).await;
    assert_eq!(sites.body["items"][0]["effective_role"], "admin");
    // A future site is covered too.
    let site_c = app.create_site(&w.admin, &w.estate, "East Yard").await.id;
    let c = app.try_get_site(&w.viewer, &site_c).await;
    assert_eq!(c.body["effective_role"], "viewer");
    // Outsiders see nothing.
    app.try_get_site(&w.outsider, &w.site_a).await.assert_problem(404, "site_not_found");
    app.try_members(&w.outsider, &w.estate, "").await.assert_problem(404, "estate_not_found");
}

async fn editors_and_viewers_cannot_manage_the_estate(app: TestApp) {
    let w = world(&app).await;
    for user in [&w.editor, &w.viewer] {
        app.try_rename_estate(&user, &w.estate, json!({"name": "x"}))
            .await
            .assert_problem(403, "insufficient_role");
        app.try_add_site(&user, &w.estate, "x").await.assert_problem(403, "insufficient_role");
        app.try_delete_site(&user, &w.site_a).await.assert_problem(403, "insufficient_role");
        app.try_delete_estate(&user, &w.estate).await.assert_problem(403, "insufficient_role");
        app.try_rename_site(&user, &w.site_a, json!({"name": "x"}))
            .await
            .assert_problem(403, "insufficient_role");
    }
}

async fn editors_and_viewers_grant_nothing(app: TestApp) {
    let w = world(&app).await;
    let refused = [
        (&w.editor, Role(&w.viewer, "editor"), 403, "insufficient_role"),
        (&w.viewer, Role(&w.editor, "viewer"), 403, "insufficient_role"),
        (&w.editor, Override(&w.site_a, &w.viewer, "none"), 403, "insufficient_role"),
        (&w.editor, Remove(&w.viewer), 403, "insufficient_role"),
    ];
    w.check(&app, &refused).await;
}

async fn estate_admin_manages_sites_but_only_the_owner_deletes_or_transfers(app: TestApp) {
    let w = world(&app).await;
    app.try_rename_estate(&w.admin, &w.estate, json!({"name": "Renamed"})).await.assert_status(200);
    let renamed = app.try_rename_site(&w.admin, &w.site_a, json!({"name": "Yard 1"})).await;
    renamed.assert_status(200);
    assert_eq!(renamed.body["name"], "Yard 1");
    app.try_delete_site(&w.admin, &w.site_b).await.assert_status(204);
    app.try_get_site(&w.owner, &w.site_b).await.assert_problem(404, "site_not_found");
    app.try_delete_estate(&w.admin, &w.estate).await.assert_problem(403, "insufficient_role");
    w.check(&app, &[(&w.admin, Transfer(&w.editor), 403, "insufficient_role")]).await;
}

async fn owner_grants_any_role_but_owner(app: TestApp) {
    let w = world(&app).await;
    for role in ["admin", "editor", "viewer", "admin"] {
        let r = app.try_set_role(&w.owner, &w.estate, &w.viewer, role).await;
        r.assert_status(200);
        assert_eq!(r.body["role"], role);
    }
    let r = app.try_set_role(&w.owner, &w.estate, &w.editor, "boss").await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["errors"]["role"].is_string());
    let refused = [
        (&w.owner, Role(&w.editor, "owner"), 403, "owner_transfer_required"),
        (&w.owner, Role(&w.outsider, "viewer"), 404, "not_a_member"),
    ];
    w.check(&app, &refused).await;
}

async fn estate_admin_grants_editor_and_viewer_only_to_editors_and_viewers(app: TestApp) {
    let w = world(&app).await;
    let second_admin = app.register_verified("admin2").await;
    app.grant_role(&w.owner, &w.estate, &second_admin, EstateRole::Admin.as_str()).await;
    let changes = [
        (&w.admin, Role(&w.viewer, "editor"), 200, ""),
        (&w.admin, Role(&w.viewer, "viewer"), 200, ""),
        (&w.admin, Role(&w.viewer, "admin"), 403, "cannot_grant_role"),
        (&w.admin, Role(&second_admin, "viewer"), 403, "cannot_change_member"),
        (&w.admin, Remove(&second_admin), 403, "cannot_change_member"),
        (&w.admin, Remove(&w.owner), 403, "owner_transfer_required"),
    ];
    w.check(&app, &changes).await;
    // Overrides: none, viewer, editor at any site; not admin.
    for role in ["none", "viewer", "editor"] {
        app.try_set_site_override(&w.admin, &w.site_a, &w.editor, role).await.assert_status(200);
    }
    let changes = [
        (&w.admin, Override(&w.site_a, &w.editor, "admin"), 403, "cannot_grant_role"),
        // An admin override set by the owner cannot be replaced by an admin.
        (&w.owner, Override(&w.site_b, &w.editor, "admin"), 200, ""),
        (&w.admin, Override(&w.site_b, &w.editor, "viewer"), 403, "cannot_replace_override"),
        (&w.admin, Clear(&w.site_b, &w.editor), 403, "cannot_replace_override"),
    ];
    w.check(&app, &changes).await;
}

async fn nobody_changes_their_own_role(app: TestApp) {
    let w = world(&app).await;
    let refused = [
        (&w.admin, Override(&w.site_a, &w.admin, "viewer"), 403, "self_role_change"),
        (&w.owner, Role(&w.owner, "viewer"), 403, "self_role_change"),
        (&w.admin, Role(&w.admin, "viewer"), 403, "self_role_change"),
    ];
    w.check(&app, &refused).await;
}

async fn site_admin_grants_overrides_at_their_site_only(app: TestApp) {
    let w = world(&app).await;
    // The editor supervises site A.
    app.try_set_site_override(&w.owner, &w.site_a, &w.editor, "admin").await.assert_status(200);
    let a = app.try_get_site(&w.editor, &w.site_a).await;
    assert_eq!(a.body["effective_role"], "admin");
    for role in ["viewer", "none", "editor"] {
        app.try_set_site_override(&w.editor, &w.site_a, &w.viewer, role).await.assert_status(200);
    }
    let scope = sites(&[(&w.site_a, "viewer"), (&w.site_b, "none")]);
    let refused = [
        (&w.editor, Override(&w.site_a, &w.viewer, "admin"), 403, "cannot_grant_role"),
        (&w.editor, Override(&w.site_a, &w.admin, "viewer"), 403, "cannot_change_member"),
        // Not at site B, and not at estate level.
        (&w.editor, Override(&w.site_b, &w.viewer, "none"), 403, "insufficient_role"),
        (&w.editor, Role(&w.viewer, "editor"), 403, "insufficient_role"),
        // Through a sites list, touching site B is out of scope.
        (&w.editor, Sites(&w.viewer, "viewer", scope), 403, "site_admin_scope"),
    ];
    w.check(&app, &refused).await;
}

async fn no_override_for_estate_owners_and_admins(app: TestApp) {
    let w = world(&app).await;
    let viewer_at_a = sites(&[(&w.site_a, "viewer")]);
    let refused = [
        (&w.owner, Override(&w.site_a, &w.admin, "viewer"), 422, "no_override_for_admins"),
        (&w.owner, Sites(&w.admin, "admin", viewer_at_a), 422, "no_override_for_admins"),
    ];
    w.check(&app, &refused).await;
    // Promoting a member to admin drops their overrides.
    app.try_set_site_override(&w.owner, &w.site_a, &w.editor, "none").await.assert_status(200);
    let promoted = app.try_set_role(&w.owner, &w.estate, &w.editor, "admin").await;
    promoted.assert_status(200);
    assert!(
        promoted.body["sites"]
            .as_array()
            .expect("sites")
            .iter()
            .all(|s| s["override"].is_null() && s["effective_role"] == "admin")
    );
}

async fn estate_viewer_with_site_editor_can_only_view(app: TestApp) {
    let w = world(&app).await;
    let set = app.try_set_site_override(&w.owner, &w.site_a, &w.viewer, "editor").await;
    set.assert_status(200);
    assert_eq!(set.body["override"], "editor");
    assert_eq!(set.body["effective_role"], "viewer", "most restrictive role wins");
    let a = app.try_get_site(&w.viewer, &w.site_a).await;
    assert_eq!(a.body["effective_role"], "viewer");
    // The fix: raise the estate role to editor; the stored override applies.
    app.try_set_role(&w.owner, &w.estate, &w.viewer, "editor").await.assert_status(200);
    let a = app.try_get_site(&w.viewer, &w.site_a).await;
    assert_eq!(a.body["effective_role"], "editor");
}

async fn none_override_keeps_a_member_off_a_site_until_cleared(app: TestApp) {
    let w = world(&app).await;
    app.try_set_site_override(&w.owner, &w.site_a, &w.editor, "none").await.assert_status(200);
    app.try_get_site(&w.editor, &w.site_a).await.assert_problem(404, "site_not_found");
    let sites = app.try_sites(&w.editor, &w.estate).await;
    assert_eq!(sites.body["total"], 1);
    assert_eq!(sites.body["items"][0]["id"], w.site_b.as_str());
    let cleared = app.try_clear_site_role(&w.owner, &w.site_a, &w.editor.id).await;
    cleared.assert_status(200);
    assert!(cleared.body["override"].is_null());
    assert_eq!(cleared.body["effective_role"], "editor");
    app.try_get_site(&w.editor, &w.site_a).await.assert_status(200);
}

async fn a_sites_list_replaces_overrides_all_or_nothing(app: TestApp) {
    let w = world(&app).await;
    let both = sites(&[(&w.site_a, "admin"), (&w.site_b, "viewer")]);
    let saved = w.attempt(&app, &w.owner, &Sites(&w.editor, "editor", both)).await;
    saved.assert_status(200);
    let roles: Vec<(&str, &str)> = saved.body["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| {
            (s["override"].as_str().unwrap_or("-"), s["effective_role"].as_str().unwrap_or("-"))
        })
        .collect();
    assert_eq!(roles, [("admin", "admin"), ("viewer", "viewer")]);
    // The admin may not replace the admin override: nothing at all changes,
    // not the role and not the viewer override.
    let none_at_b = Sites(&w.editor, "viewer", sites(&[(&w.site_b, "none")]));
    w.attempt(&app, &w.admin, &none_at_b).await.assert_problem(403, "cannot_replace_override");
    let members = app.try_members(&w.owner, &w.estate, "").await;
    let editor = members.row_of(&w.editor);
    assert_eq!(editor["role"], "editor");
    assert_eq!(editor["sites"][1]["override"], "viewer");
    // Without `sites`, overrides stay; an empty list clears them.
    app.try_set_role(&w.owner, &w.estate, &w.editor, "viewer").await.assert_status(200);
    let kept = app.try_set_role(&w.owner, &w.estate, &w.editor, "editor").await;
    assert_eq!(kept.body["sites"][0]["override"], "admin");
    let cleared = w.attempt(&app, &w.owner, &Sites(&w.editor, "editor", sites(&[]))).await;
    assert!(
        cleared.body["sites"].as_array().expect("sites").iter().all(|s| s["override"].is_null())
    );
    // A site of another estate, or twice the same site.
    let other = app.create_estate(&w.owner, "Other").await.id;
    let foreign = app.create_site(&w.owner, &other, "Elsewhere").await.id;
    let twice = sites(&[(&w.site_a, "viewer"), (&w.site_a, "none")]);
    let refused = [
        (
            &w.owner,
            Sites(&w.editor, "editor", sites(&[(&foreign, "viewer")])),
            404,
            "site_not_found",
        ),
        (&w.owner, Sites(&w.editor, "editor", twice), 422, "duplicate_site"),
    ];
    w.check(&app, &refused).await;
}

async fn demoted_admin_is_refused_on_the_next_request(app: TestApp) {
    let w = world(&app).await;
    app.create_site(&w.admin, &w.estate, "Before").await;
    app.try_set_role(&w.owner, &w.estate, &w.admin, "editor").await.assert_status(200);
    // Same token, no re-login.
    app.try_add_site(&w.admin, &w.estate, "After").await.assert_problem(403, "insufficient_role");
    let e = app.try_get_estate(&w.admin, &w.estate).await;
    assert_eq!(e.body["my_role"], "editor");
}

async fn removing_a_member_removes_their_overrides_and_access(app: TestApp) {
    let w = world(&app).await;
    app.try_set_site_override(&w.owner, &w.site_a, &w.editor, "admin").await.assert_status(200);
    app.try_remove_member(&w.admin, &w.estate, &w.editor.id).await.assert_status(204);
    app.try_get_estate(&w.editor, &w.estate).await.assert_problem(404, "estate_not_found");
    app.try_get_site(&w.editor, &w.site_a).await.assert_problem(404, "site_not_found");
    let left: i64 = app.with_db(|c| {
        use diesel::prelude::*;
        keyholder_store::schema::site_overrides::table.count().get_result(c).map_err(Into::into)
    });
    assert_eq!(left, 0);
    // Re-joining starts from the defaults.
    app.grant_role(&w.owner, &w.estate, &w.editor, EstateRole::Editor.as_str()).await;
    let a = app.try_get_site(&w.editor, &w.site_a).await;
    assert_eq!(a.body["effective_role"], "editor");
}

/// An asset always keeps a collaborator: a member who is the only
/// collaborator of an asset of the estate is neither removed nor may leave
/// (409 `last_collaborator` naming the assets, nothing changed) until
/// someone else collaborates there; then their row goes with the membership.
async fn ending_a_membership_keeps_every_asset_a_collaborator(app: TestApp) {
    let w = world(&app).await;
    let van = app.create_asset_at(&w.editor, "Van", &w.site_a).await.id;
    let truck = app.create_asset_at(&w.editor, "Truck", &w.site_b).await.id;
    let shared = app.create_asset_at(&w.editor, "Trailer", &w.site_a).await.id;
    app.add_collaborator(&w.editor, &shared, &w.viewer.username).await;
    for (by, what) in [(&w.owner, "removed"), (&w.editor, "leaving")] {
        let r = app.try_remove_member(by, &w.estate, &w.editor.id).await;
        r.assert_problem(409, "last_collaborator");
        let mut named: Vec<String> = serde_json::from_value(r.body["asset_ids"].clone())
            .unwrap_or_else(|_| panic!("{what}: asset_ids named: {}", r.text));
        named.sort();
        let mut expected = vec![van.clone(), truck.clone()];
        expected.sort();
        assert_eq!(named, expected, "{what}");
        // Nothing changed: still a member, still every asset's collaborator.
        app.try_get_estate(&w.editor, &w.estate).await.assert_status(200);
        for asset in [&van, &truck, &shared] {
            app.try_get_asset(&w.editor, asset).await.assert_status(200);
        }
    }
    // Handed over: the owner collaborates on both; now the removal holds.
    app.try_bulk_add_collaborators(
        &w.owner,
        json!({"asset_ids": [van, truck], "usernames": [w.owner.username]}),
    )
    .await
    .assert_status(200);
    app.try_remove_member(&w.owner, &w.estate, &w.editor.id).await.assert_status(204);
    for asset in [&van, &truck, &shared] {
        app.try_get_asset(&w.editor, asset).await.assert_problem(404, "asset_not_found");
        let people = app.try_collaborators(&w.owner, asset).await;
        people.assert_status(200);
        assert!(
            people.items().iter().all(|p| p["user"]["id"] != w.editor.id.as_str()),
            "{asset}: the removed member's row went: {}",
            people.text
        );
        assert!(!people.items().is_empty(), "{asset} keeps a collaborator");
    }
}

/// Removing a member and, at the same moment, the other collaborator of an
/// asset the member collaborates on: one of the two is refused, and the
/// asset keeps a collaborator (on PostgreSQL the two lock the estate first).
async fn a_removal_racing_a_collaborator_removal_keeps_a_collaborator(app: TestApp) {
    let w = world(&app).await;
    for round in 0..4 {
        let member = app.register_verified(&format!("member{round}")).await;
        app.grant_role(&w.owner, &w.estate, &member, EstateRole::Editor.as_str()).await;
        let asset = app.create_asset_at(&member, &format!("Van {round}"), &w.site_a).await.id;
        app.add_collaborator(&member, &asset, &w.admin.username).await;
        let (removal, dropped) = tokio::join!(
            app.try_remove_member(&w.owner, &w.estate, &member.id),
            app.try_remove_collaborator(&member, &asset, &w.admin.id),
        );
        match (removal.status, dropped.status) {
            (204, _) => dropped.assert_problem(404, "asset_not_found"),
            (_, 204) => removal.assert_problem(409, "last_collaborator"),
            other => panic!("round {round}: {other:?}: {} / {}", removal.text, dropped.text),
        };
        let people = app.try_collaborators(&w.owner, &asset).await;
        people.assert_status(200);
        assert_eq!(
            people.items().len(),
            1,
            "round {round}: one collaborator left: {}",
            people.text
        );
    }
}

async fn leaving_and_the_owner_must_transfer_first(app: TestApp) {
    let w = world(&app).await;
    app.try_remove_member(&w.viewer, &w.estate, &w.viewer.id).await.assert_status(204);
    app.try_get_estate(&w.viewer, &w.estate).await.assert_problem(404, "estate_not_found");
    w.check(&app, &[(&w.owner, Remove(&w.owner), 403, "owner_transfer_required")]).await;
}

async fn transfer_ownership_makes_the_old_owner_admin(app: TestApp) {
    let w = world(&app).await;
    app.try_set_site_override(&w.owner, &w.site_a, &w.editor, "none").await.assert_status(200);
    let refused = [
        (&w.owner, Transfer(&w.outsider), 422, "not_a_member"),
        (&w.owner, Transfer(&w.owner), 403, "self_role_change"),
    ];
    w.check(&app, &refused).await;
    let r = app.try_transfer_to(&w.owner, &w.estate, &w.editor.id).await;
    r.assert_status(200);
    assert_eq!(r.body["my_role"], "admin");
    let e = app.try_get_estate(&w.editor, &w.estate).await;
    assert_eq!(e.body["my_role"], "owner");
    // The new owner's override went; they administer every site.
    let a = app.try_get_site(&w.editor, &w.site_a).await;
    assert_eq!(a.body["effective_role"], "admin");
    // The old owner can no longer delete.
    app.try_delete_estate(&w.owner, &w.estate).await.assert_problem(403, "insufficient_role");
}

async fn members_list_shows_effective_roles_and_emails_only_to_administrators(app: TestApp) {
    let w = world(&app).await;
    app.try_set_site_override(&w.owner, &w.site_a, &w.viewer, "editor").await.assert_status(200);
    let as_admin = app.try_members(&w.admin, &w.estate, "").await;
    let viewer = as_admin.row_of(&w.viewer);
    assert_eq!(viewer["role"], "viewer");
    assert_eq!(viewer["user"]["email"], "viewer@example.com");
    let a = viewer["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["site_id"] == w.site_a.as_str())
        .expect("site a");
    assert_eq!(a["site_name"], "North Yard");
    assert_eq!(a["override"], "editor");
    assert_eq!(a["effective_role"], "viewer");
    let as_viewer = app.try_members(&w.viewer, &w.estate, "").await;
    assert!(as_viewer.items().iter().all(|m| m["user"]["email"].is_null()));
    let site = app.try_site_members(&w.owner, &w.site_a).await;
    site.assert_status(200);
    let v = site.row_of(&w.viewer);
    assert_eq!(v["estate_role"], "viewer");
    assert_eq!(v["override"], "editor");
    assert_eq!(v["effective_role"], "viewer");
}

/// `q` finds members by username or display name in any case, and by email
/// only for those who see emails; `role` keeps one estate role; `total`
/// counts what they keep; bad values are 422.
async fn members_list_searches_names_and_filters_by_role(app: TestApp) {
    let w = world(&app).await;
    let usernames = |r: &keyholder_tests::Reply| -> Vec<String> {
        r.items().iter().filter_map(|m| m["user"]["username"].as_str().map(str::to_owned)).collect()
    };
    let path = format!("/api/v1/estates/{}/members", w.estate);
    let found = app.get(&format!("{path}?q=EDIT"), Some(&w.owner.token)).await;
    found.assert_status(200);
    assert_eq!((usernames(&found), &found.body["total"]), (vec!["editor".to_owned()], &json!(1)));
    let viewers = app.get(&format!("{path}?role=viewer"), Some(&w.owner.token)).await;
    assert_eq!(
        (usernames(&viewers), &viewers.body["total"]),
        (vec!["viewer".to_owned()], &json!(1))
    );
    let none = app.get(&format!("{path}?q=edit&role=viewer"), Some(&w.owner.token)).await;
    assert_eq!(none.body["total"], 0, "{}", none.text);
    // Emails: searched for the owner, who sees them; not for a viewer.
    let by_email = app.get(&format!("{path}?q=admin%40example.com"), Some(&w.owner.token)).await;
    assert_eq!(usernames(&by_email), ["admin"], "{}", by_email.text);
    let hidden = app.get(&format!("{path}?q=admin%40example.com"), Some(&w.viewer.token)).await;
    assert_eq!(hidden.body["total"], 0, "a viewer cannot find members by email: {}", hidden.text);
    // LIKE wildcards are plain text.
    let literal = app.get(&format!("{path}?q=%25"), Some(&w.owner.token)).await;
    assert_eq!(literal.body["total"], 0, "{}", literal.text);
    for bad in ["role=boss", "q=a%01b"] {
        app.get(&format!("{path}?{bad}"), Some(&w.owner.token))
            .await
            .assert_problem(422, "validation_failed");
    }
}

async fn access_changes_write_audit_events(app: TestApp) {
    let w = world(&app).await;
    app.try_set_role(&w.owner, &w.estate, &w.viewer, "editor").await.assert_status(200);
    app.try_set_site_override(&w.owner, &w.site_a, &w.viewer, "none").await.assert_status(200);
    app.try_clear_site_role(&w.owner, &w.site_a, &w.viewer.id).await.assert_status(200);
    app.try_remove_member(&w.owner, &w.estate, &w.viewer.id).await.assert_status(204);
    app.try_transfer_to(&w.owner, &w.estate, &w.admin.id).await.assert_status(200);
    let estate_events = app.with_db(|c| keyholder_store::audit::for_target(c, "estate", &w.estate));
    let actions: Vec<&str> = estate_events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "estate.created",
            "member.added",
            "member.added",
            "member.added",
            "member.updated",
            "member.removed",
            "estate.ownership_transferred"
        ]
    );
    let updated = &estate_events[4];
    assert_eq!(updated.before.as_ref().expect("before")["role"], "viewer");
    assert_eq!(updated.after.as_ref().expect("after")["role"], "editor");
    let site_events = app.with_db(|c| keyholder_store::audit::for_target(c, "site", &w.site_a));
    let actions: Vec<&str> = site_events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["site.created", "site_override.set", "site_override.cleared"]);
}

// Every test above runs on SQLite and on PostgreSQL.
on_both_backends!(
    estate_lifecycle_create_list_read_rename_delete,
    any_member_reads_the_estate_its_sites_and_members,
    editors_and_viewers_cannot_manage_the_estate,
    estate_admin_manages_sites_but_only_the_owner_deletes_or_transfers,
    owner_grants_any_role_but_owner,
    estate_admin_grants_editor_and_viewer_only_to_editors_and_viewers,
    nobody_changes_their_own_role,
    editors_and_viewers_grant_nothing,
    site_admin_grants_overrides_at_their_site_only,
    no_override_for_estate_owners_and_admins,
    estate_viewer_with_site_editor_can_only_view,
    none_override_keeps_a_member_off_a_site_until_cleared,
    a_sites_list_replaces_overrides_all_or_nothing,
    demoted_admin_is_refused_on_the_next_request,
    removing_a_member_removes_their_overrides_and_access,
    ending_a_membership_keeps_every_asset_a_collaborator,
    a_removal_racing_a_collaborator_removal_keeps_a_collaborator,
    leaving_and_the_owner_must_transfer_first,
    transfer_ownership_makes_the_old_owner_admin,
    members_list_shows_effective_roles_and_emails_only_to_administrators,
    members_list_searches_names_and_filters_by_role,
    access_changes_write_audit_events,
);

// ---------------------------------------------------------------- keyset paging

mod paging {
    use std::collections::HashSet;

    use chrono::{DateTime, Duration, Utc};
    use keyholder_domain::EstateRole;
    use keyholder_store::estates;
    use keyholder_tests::{Session, TestApp, on_both_backends};
    use serde_json::Value;
    use uuid::Uuid;

    on_both_backends!(
        member_lists_walk_by_cursor_in_their_order,
        member_list_cursors_the_server_did_not_give_are_refused,
    );

    fn id(s: &str) -> Uuid {
        Uuid::parse_str(s).expect("uuid")
    }

    fn usernames(items: &[Value]) -> Vec<String> {
        items.iter().map(|m| m["user"]["username"].as_str().expect("username").to_owned()).collect()
    }

    /// An estate with a site, and members written straight to the database
    /// so that joining instants tie: `(user, joined)`.
    async fn estate_with_members(
        app: &TestApp,
        owner: &Session,
        members: &[(&Session, DateTime<Utc>)],
    ) -> (String, String) {
        let estate = app.create_estate(owner, "Riverside").await.id;
        let site = app.create_site(owner, &estate, "North").await.id;
        app.app_state
            .db
            .write(|c| {
                for (user, joined) in members {
                    estates::add_member(c, id(&estate), id(&user.id), EstateRole::Viewer, *joined)?;
                }
                Ok::<_, keyholder_store::StoreError>(())
            })
            .expect("members");
        (estate, site)
    }

    async fn member_lists_walk_by_cursor_in_their_order(app: TestApp) {
        let owner = app.register_verified("owner").await;
        // Upper case sorts before lower case byte-wise, not in the list:
        // ties on the joining instant go by the lower-cased username.
        let mut people = Vec::new();
        for name in ["Zed", "amy", "Bea", "cat", "Dan", "eve"] {
            people.push(app.register(name).await);
        }
        let t0 = Utc::now() - Duration::hours(1);
        let s = Duration::seconds;
        let joined = [t0, t0, t0 + s(1), t0, t0 + s(1), t0 + s(2)];
        let rows: Vec<(&Session, DateTime<Utc>)> = people.iter().zip(joined).collect();
        let (estate, site) = estate_with_members(&app, &owner, &rows).await;
        // Oldest first, then by username; the owner joined last (now).
        let expected = ["amy", "cat", "Zed", "Bea", "Dan", "eve", "owner"];
        for path in
            [format!("/api/v1/estates/{estate}/members"), format!("/api/v1/sites/{site}/members")]
        {
            let full = app.get(&format!("{path}?per_page=100"), Some(&owner.token)).await;
            full.assert_status(200);
            let all = full.items().clone();
            assert_eq!(usernames(&all), expected, "{path}");
            assert_eq!(full.body["total"], 7);
            assert_eq!(full.body["total_exact"], true);
            assert!(full.body["next_cursor"].is_null());
            for per_page in [1, 2, 3] {
                let (walked, pages) = app.walk(&owner.token, &path, per_page).await;
                assert_eq!(usernames(&walked), expected, "{path} per_page={per_page}");
                assert_eq!(pages, 7_usize.div_ceil(per_page), "{path} per_page={per_page}");
                let unique: HashSet<String> = usernames(&walked).into_iter().collect();
                assert_eq!(unique.len(), 7);
            }
            // Page numbers still work, and their cursor goes on from there.
            let second = app.get(&format!("{path}?per_page=2&page=2"), Some(&owner.token)).await;
            assert_eq!(usernames(second.items()), ["Zed", "Bea"]);
            let next = second.body["next_cursor"].as_str().expect("more");
            let third =
                app.get(&format!("{path}?per_page=2&cursor={next}"), Some(&owner.token)).await;
            assert_eq!(usernames(third.items()), ["Dan", "eve"]);
        }
        // A member removed mid-walk does not stop it.
        let path = format!("/api/v1/estates/{estate}/members");
        let first = app.get(&format!("{path}?per_page=3"), Some(&owner.token)).await;
        let next = first.str("next_cursor");
        app.try_remove_member(&owner, &estate, &people[0].id).await.assert_status(204);
        let rest = app.get(&format!("{path}?per_page=10&cursor={next}"), Some(&owner.token)).await;
        assert_eq!(usernames(rest.items()), ["Bea", "Dan", "eve", "owner"]);
        assert_eq!(rest.body["total"], 6);
    }

    async fn member_list_cursors_the_server_did_not_give_are_refused(app: TestApp) {
        let owner = app.register_verified("owner").await;
        let amy = app.register("amy").await;
        let (estate, site) =
            estate_with_members(&app, &owner, &[(&amy, Utc::now() - Duration::hours(1))]).await;
        // A table cursor (an email key) or an instant alone is no member key.
        let foreign = "eyJrIjoiYUBleGFtcGxlLmNvbSIsImkiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAifQ";
        for path in
            [format!("/api/v1/estates/{estate}/members"), format!("/api/v1/sites/{site}/members")]
        {
            for bad in ["garbage", "e30", foreign] {
                let r = app.get(&format!("{path}?cursor={bad}"), Some(&owner.token)).await;
                r.assert_problem(422, "validation_failed");
                assert!(!r.body["errors"]["cursor"].is_null(), "{}", r.text);
            }
        }
        // An outsider learns nothing: 404 before any cursor check.
        let outsider = app.register_verified("outsider").await;
        app.try_members(&outsider, &estate, "?cursor=garbage").await.assert_status(404);
    }
}
