//! Exports of the invitation table, the audit trail and an asset's records:
//! the whole filtered list as a CSV or JSON attachment, with the lists'
//! filters and access rules, on both databases.

use std::collections::BTreeMap;

use chrono::Duration;
use keyholder_tests::{Reply, Session, StoreError, TestApp, on_both_backends};
use serde_json::{Value, json};

const INVITATION_COLUMNS: [&str; 17] = [
    "id",
    "asset_id",
    "asset_name",
    "asset_reference",
    "email",
    "permission",
    "status",
    "message",
    "invited_by_id",
    "invited_by_username",
    "invited_by_display_name",
    "invited_at",
    "expires_at",
    "access_expires_at",
    "last_sent_at",
    "resend_count",
    "responded_at",
];

const AUDIT_COLUMNS: [&str; 11] = [
    "id",
    "created_at",
    "action",
    "target_type",
    "target_id",
    "actor_id",
    "actor_username",
    "actor_display_name",
    "actor_deleted",
    "before",
    "after",
];

const RECORD_COLUMNS: [&str; 10] = [
    "id",
    "asset_id",
    "kind",
    "date",
    "title",
    "notes",
    "cost",
    "odometer",
    "created_at",
    "updated_at",
];

/// A CSV table as a spreadsheet reads it: the header, then each row by
/// column name.
struct Table {
    header: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
}

impl Table {
    /// One column of every row, in order.
    fn column(&self, name: &str) -> Vec<&str> {
        self.rows.iter().map(|r| r[name].as_str()).collect()
    }

    /// The row whose `column` is `value`.
    #[track_caller]
    fn row(&self, column: &str, value: &str) -> &BTreeMap<String, String> {
        self.rows.iter().find(|r| r[column] == value).unwrap_or_else(|| panic!("no {value} row"))
    }
}

/// The answer as a CSV attachment named `<name>-<today>.csv`: its table.
#[track_caller]
fn csv_table(app: &TestApp, r: &Reply, name: &str) -> Table {
    r.assert_status(200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let file = format!("{name}-{}.csv", app.clock.now().format("%Y-%m-%d"));
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"{file}\"").as_str())
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r.text.ends_with("\r\n"), "RFC 4180 line ends: {:?}", r.text);
    let mut reader = csv::ReaderBuilder::new().from_reader(r.text.as_bytes());
    let header: Vec<String> =
        reader.headers().expect("a header row").iter().map(str::to_owned).collect();
    let rows = reader
        .records()
        .map(|record| {
            let record = record.expect("a CSV row");
            assert_eq!(record.len(), header.len(), "a cell per column");
            header.iter().cloned().zip(record.iter().map(str::to_owned)).collect()
        })
        .collect();
    Table { header, rows }
}

/// The answer as a JSON attachment named `<name>-<today>.json`: its items,
/// after checking `count` and `exported_at`.
#[track_caller]
fn json_items(app: &TestApp, r: &Reply, name: &str) -> Vec<Value> {
    r.assert_status(200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let file = format!("{name}-{}.json", app.clock.now().format("%Y-%m-%d"));
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"{file}\"").as_str())
    );
    let items = r.items().clone();
    assert_eq!(r.body["count"], items.len(), "{}", r.text);
    assert!(r.body["exported_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{}", r.text);
    items
}

/// Every item of a list, followed page by page.
async fn whole_list(app: &TestApp, who: &Session, path: &str) -> Vec<Value> {
    app.walk(&who.token, path, 2).await.0
}

/// Sends an asset invitation (201): its id. The clock moves a second on
/// first, so the table's default sort (newest first) is the reverse order
/// of sending.
async fn invite(
    app: &TestApp,
    by: &Session,
    asset: &str,
    email: &str,
    permission: &str,
    message: Option<&str>,
) -> String {
    app.clock.advance(Duration::seconds(1));
    let body =
        json!({"asset_id": asset, "email": email, "permission": permission, "message": message});
    let r = app.try_send_asset_invitation(by, body).await;
    r.assert_status(201);
    r.id()
}

/// The `email` of each item.
fn emails(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["email"].as_str().expect("email")).collect()
}

async fn the_invitation_table_exports_as_csv_with_its_filters_sort_and_formulas_neutralised(
    app: TestApp,
) {
    let owner = app.register_verified("owner").await;
    let van = app.create_vehicle(&owner, "Van 7", Some("KX21 ABC")).await.id;
    let crane = app.create_vehicle(&owner, "@Crane", None).await.id;
    invite(&app, &owner, &van, "amy@example.com", "view", None).await;
    let note = "Line one, \"quoted\"\nLine two — ünïcode";
    let ben = invite(&app, &owner, &van, "ben@example.com", "edit", Some(note)).await;
    let formula = "=HYPERLINK(\"http://evil.example\",\"click\")";
    invite(&app, &owner, &crane, "cat@example.com", "view", Some(formula)).await;
    app.try_cancel_asset_invitation(&owner, &ben, json!({})).await.assert_status(200);

    let r = app.try_export_asset_invitations(&owner, "").await;
    let table = csv_table(&app, &r, "asset-invitations");
    assert_eq!(table.header, INVITATION_COLUMNS);
    assert_eq!(table.column("email"), ["cat@example.com", "ben@example.com", "amy@example.com"]);
    let row = table.row("email", "ben@example.com");
    assert_eq!(row["id"], ben);
    assert_eq!(row["asset_id"], van);
    assert_eq!(row["asset_name"], "Van 7");
    assert_eq!(row["asset_reference"], "KX21 ABC");
    assert_eq!(row["permission"], "edit");
    assert_eq!(row["status"], "cancelled");
    assert_eq!(row["message"], note, "quotes, commas and line breaks survive");
    assert_eq!(row["invited_by_id"], owner.id);
    assert_eq!(row["invited_by_username"], "owner");
    assert_eq!(row["expires_at"], "", "never expires: an empty cell");
    assert_eq!(row["resend_count"], "0");
    // A cell a spreadsheet would run shows as text.
    let row = table.row("email", "cat@example.com");
    assert_eq!(row["message"], format!("'{formula}"));
    assert_eq!(row["asset_name"], "'@Crane");
    assert_eq!(row["asset_reference"], "");
    assert!(r.text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""));
    // Times as the list writes them (RFC 3339, UTC).
    let listed = app.try_asset_invitations(&owner, "").await;
    for item in listed.items() {
        let row = table.row("id", item["id"].as_str().expect("id"));
        assert_eq!(row["invited_at"], item["invited_at"].as_str().expect("time"));
        assert_eq!(row["last_sent_at"], item["last_sent_at"].as_str().expect("time"));
        assert!(row["invited_at"].ends_with('Z'));
    }

    // The table's filters and sort narrow and order the export alike.
    for query in [
        "?status=pending&permission=view".to_owned(),
        "?q=crane".to_owned(),
        "?q=KX21".to_owned(),
        format!("?asset_id={van}&sort=email"),
        format!("?asset_id={van}&sort=-email&format=csv"),
        "?status=cancelled".to_owned(),
        "?q=van&sort=expires_at".to_owned(),
    ] {
        let r = app.try_export_asset_invitations(&owner, &query).await;
        let exported = csv_table(&app, &r, "asset-invitations");
        let listed = whole_list(&app, &owner, &format!("/api/v1/asset-invitations{query}")).await;
        assert_eq!(exported.column("email"), emails(&listed), "{query}");
        assert!(exported.rows.len() < 3, "{query} narrows the table");
    }
    let pending = app.try_export_asset_invitations(&owner, "?status=pending&permission=view").await;
    let pending = csv_table(&app, &pending, "asset-invitations");
    assert_eq!(pending.column("email"), ["cat@example.com", "amy@example.com"]);

    // Bad values are refused as the table refuses them.
    for (query, field) in
        [("?format=xml", "format"), ("?status=lost", "status"), ("?sort=colour", "sort")]
    {
        let r = app.try_export_asset_invitations(&owner, query).await;
        r.assert_problem(422, "validation_failed");
        assert!(r.body["errors"][field].is_string(), "{query}: {}", r.text);
    }
}

async fn the_json_export_holds_the_lists_items_and_every_page_of_them(app: TestApp) {
    // Two rows a page: the export walks the keyset pages of every sort.
    let app = TestApp::spawn_with(app.backend, |c| c.export_page_rows = 2).await;
    let owner = app.register_verified("owner").await;
    let van = app.create_vehicle(&owner, "Van 7", None).await.id;
    for (i, name) in ["eve", "ada", "dan", "bob", "cal"].iter().enumerate() {
        let id = invite(&app, &owner, &van, &format!("{name}@example.com"), "view", None).await;
        if i % 2 == 0 {
            // Some expire, some never: the expiry sort puts "never" last.
            let at = (app.clock.now() + Duration::days(10 - i as i64)).to_rfc3339();
            app.try_resend_asset_invitation(&owner, &id, json!({"expires_at": at}))
                .await
                .assert_status(200);
        }
    }
    for sort in [
        "",
        "?sort=invited_at",
        "?sort=email",
        "?sort=-email",
        "?sort=expires_at",
        "?sort=-expires_at",
    ] {
        let sep = if sort.is_empty() { '?' } else { '&' };
        let r = app.try_export_asset_invitations(&owner, &format!("{sort}{sep}format=json")).await;
        let exported = json_items(&app, &r, "asset-invitations");
        let listed = whole_list(&app, &owner, &format!("/api/v1/asset-invitations{sort}")).await;
        assert_eq!(exported.len(), 5, "{sort}");
        assert_eq!(exported, listed, "{sort}: the list's items, in its order");
        let csv = app.try_export_asset_invitations(&owner, sort).await;
        assert_eq!(csv_table(&app, &csv, "asset-invitations").column("email"), emails(&listed));
    }
}

async fn the_invitation_export_shows_what_the_table_shows_each_caller(app: TestApp) {
    let app = TestApp::spawn_with_root(app.backend).await;
    let root = app.root_token().await;
    let [owner, other, viewer, partner] =
        app.register_verified_each(["owner", "other", "viewer", "partner"]).await;
    let van = app.create_vehicle(&owner, "Van 7", None).await.id;
    let theirs = app.create_vehicle(&other, "Other's", None).await.id;
    invite(&app, &owner, &van, "amy@example.com", "view", None).await;
    invite(&app, &other, &theirs, "zed@example.com", "view", None).await;
    // A viewer of the van (a share) and a second collaborator (full access).
    app.clock.advance(Duration::seconds(1));
    let token = app.send_asset_invitation(&owner, &van, &viewer.email, "view").await.token;
    app.accept_invitation(&viewer, &token).await.assert_status(200);
    app.add_collaborator(&owner, &van, "partner").await;

    let export_emails =
        |t: Table| t.column("email").into_iter().map(str::to_owned).collect::<Vec<_>>();
    for (who, query, expected) in [
        (&owner, String::new(), vec!["viewer@example.com", "amy@example.com"]),
        (&partner, String::new(), vec!["viewer@example.com", "amy@example.com"]),
        (&other, String::new(), vec!["zed@example.com"]),
        (&viewer, String::new(), vec![]),
        // Another's asset named in the filter: nothing, as in the table.
        (&other, format!("?asset_id={van}"), vec![]),
        (&viewer, format!("?asset_id={van}"), vec![]),
    ] {
        let r = app.try_export_asset_invitations(who, &query).await;
        let exported = export_emails(csv_table(&app, &r, "asset-invitations"));
        assert_eq!(exported, expected, "{} {query}", who.username);
        let listed = app.try_asset_invitations(who, &query).await;
        listed.assert_status(200);
        assert_eq!(exported, emails(listed.items()), "{} {query}: as the table", who.username);
    }
    // Root exports every invitation.
    let r = app.try_export_asset_invitations(&root, "?format=json").await;
    let all = json_items(&app, &r, "asset-invitations");
    assert_eq!(emails(&all), ["viewer@example.com", "zed@example.com", "amy@example.com"]);
    // No token: 401 as everywhere.
    app.try_export_asset_invitations(&keyholder_tests::NOBODY, "")
        .await
        .assert_problem(401, "missing_token");
}

async fn the_audit_export_holds_only_the_events_the_caller_may_read(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| {
        c.root_email = Some("root@example.com".into());
        c.root_username = Some("root".into());
        c.root_password = Some(keyholder_tests::ROOT_PASSWORD.into());
        c.export_page_rows = 3;
    })
    .await;
    let root = app.root_token().await;
    let [owner, other, zed] = app.register_verified_each(["owner", "other", "zed"]).await;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    let theirs = app.create_estate(&other, "Hilltop").await.id;
    app.grant_role(&owner, &estate, &zed, "viewer").await;
    app.clock.advance(Duration::seconds(1));
    app.try_set_role(&owner, &estate, &zed, "editor").await.assert_status(200);
    let van = app.create_vehicle(&owner, "=Van", None).await.id;
    app.try_update_asset(&owner, &van, json!({"name": "-Van 2"})).await.assert_status(200);

    let r = app.try_export_audit(&owner, "").await;
    let table = csv_table(&app, &r, "audit");
    assert_eq!(table.header, AUDIT_COLUMNS);
    let listed = whole_list(&app, &owner, "/api/v1/audit").await;
    let ids: Vec<&str> = listed.iter().map(|e| e["id"].as_str().expect("id")).collect();
    assert_eq!(table.column("id"), ids, "the trail's events, newest first");
    assert!(!table.column("target_id").contains(&theirs.as_str()), "not another's estate");
    assert!(table.column("target_id").contains(&estate.as_str()));
    let updated = table.row("action", "member.updated");
    assert_eq!(updated["actor_username"], "owner");
    assert_eq!(updated["actor_id"], owner.id);
    assert_eq!(updated["actor_deleted"], "false");
    assert_eq!(updated["target_type"], "estate");
    let before: Value = serde_json::from_str(&updated["before"]).expect("before as JSON");
    assert_eq!(before["role"], "viewer");
    let after: Value = serde_json::from_str(&updated["after"]).expect("after as JSON");
    assert_eq!(after["role"], "editor");
    let item = listed.iter().find(|e| e["action"] == "member.updated").expect("listed");
    assert_eq!(updated["created_at"], item["created_at"].as_str().expect("time"));

    // Filters narrow the export as the list.
    let query = format!("?resource_type=estate&resource_id={estate}");
    let r = app.try_export_audit(&owner, &format!("{query}&format=json")).await;
    let exported = json_items(&app, &r, "audit");
    assert_eq!(exported, whole_list(&app, &owner, &format!("/api/v1/audit{query}")).await);
    let actions: Vec<&str> = exported.iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert_eq!(actions, ["member.updated", "member.added", "estate.created"]);
    let r = app.try_export_audit(&owner, &format!("?actor_id={}", zed.id)).await;
    let by_zed = csv_table(&app, &r, "audit");
    assert!(by_zed.column("actor_id").iter().all(|a| *a == zed.id), "only zed's events");
    // An editor does not administer the estate: none of its events.
    let r = app.try_export_audit(&zed, &query).await;
    assert!(csv_table(&app, &r, "audit").rows.is_empty());
    // Root reads the whole trail, the other owner's estate included.
    let r = app.try_export_audit(&root, "?format=json").await;
    let everything = json_items(&app, &r, "audit");
    assert!(everything.iter().any(|e| e["target"]["id"] == theirs.as_str()));
    assert!(everything.len() > listed.len());
    app.try_export_audit(&owner, "?resource_type=galaxy")
        .await
        .assert_problem(422, "validation_failed");
    app.try_export_audit(&owner, "?format=pdf").await.assert_problem(422, "validation_failed");
}

async fn an_assets_records_export_with_the_lists_access_rule(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| c.export_page_rows = 2).await;
    let [owner, viewer, outsider] =
        app.register_verified_each(["owner", "viewer", "outsider"]).await;
    let van = app.create_vehicle(&owner, "Van 7", None).await.id;
    let other = app.create_vehicle(&owner, "Other van", None).await.id;
    for (kind, date, title, notes, cost, odometer) in [
        (
            "service",
            "2026-11-01",
            "Annual service",
            Some("Oil, filters; \"pads\" at 60%\nnext: 2027"),
            Some(189.5),
            Some(48210),
        ),
        ("fuel", "2026-11-03", "=SUM(A1:A9)", Some("-3 litres"), Some(60.0), None),
        ("note", "2026-10-01", "+44 20 7946 0000", None, None, None),
        ("repair", "2026-11-01", "Brakes", None, Some(240.25), Some(48300)),
        ("inspection", "2026-11-03", "MOT", None, None, None),
    ] {
        app.clock.advance(Duration::seconds(1));
        let body = json!({"kind": kind, "date": date, "title": title, "notes": notes, "cost": cost, "odometer": odometer});
        app.try_add_record(&owner, &van, body).await.assert_status(201);
    }
    app.try_add_record(
        &owner,
        &other,
        json!({"kind": "note", "date": "2026-01-01", "title": "Elsewhere"}),
    )
    .await
    .assert_status(201);
    let token = app.send_asset_invitation(&owner, &van, &viewer.email, "view").await.token;
    app.accept_invitation(&viewer, &token).await.assert_status(200);

    let name = format!("asset-{van}-records");
    let r = app.try_export_records(&owner, &van, "").await;
    let table = csv_table(&app, &r, &name);
    assert_eq!(table.header, RECORD_COLUMNS);
    let listed = whole_list(&app, &owner, &format!("/api/v1/assets/{van}/records")).await;
    let ids: Vec<&str> = listed.iter().map(|e| e["id"].as_str().expect("id")).collect();
    assert_eq!(table.column("id"), ids, "every record of the asset, newest date first");
    assert_eq!(
        table.column("title"),
        ["MOT", "'=SUM(A1:A9)", "Brakes", "Annual service", "'+44 20 7946 0000"]
    );
    assert!(table.column("asset_id").iter().all(|a| *a == van));
    let service = table.row("title", "Annual service");
    assert_eq!(service["kind"], "service");
    assert_eq!(service["date"], "2026-11-01");
    assert_eq!(service["notes"], "Oil, filters; \"pads\" at 60%\nnext: 2027");
    assert_eq!(service["cost"], "189.5");
    assert_eq!(service["odometer"], "48210");
    let fuel = table.row("kind", "fuel");
    assert_eq!(fuel["notes"], "'-3 litres");
    assert_eq!(fuel["cost"], "60");
    assert_eq!(fuel["odometer"], "");
    let item = listed.iter().find(|r| r["kind"] == "fuel").expect("listed");
    assert_eq!(fuel["created_at"], item["created_at"].as_str().expect("time"));

    // A viewer exports what they may list; JSON holds the list's items.
    let r = app.try_export_records(&viewer, &van, "?format=json").await;
    assert_eq!(json_items(&app, &r, &name), listed);
    // Out of reach, or no such asset: 404 as the list.
    for (who, asset) in [(&outsider, van.clone()), (&owner, uuid::Uuid::new_v4().to_string())] {
        app.try_records(who, &asset).await.assert_problem(404, "asset_not_found");
        app.try_export_records(who, &asset, "").await.assert_problem(404, "asset_not_found");
        app.try_export_records(who, &asset, "?format=json")
            .await
            .assert_problem(404, "asset_not_found");
    }
    app.try_export_records(&owner, "not-a-uuid", "").await.assert_problem(404, "not_found");
    app.try_export_records(&owner, &van, "?format=xlsx")
        .await
        .assert_problem(422, "validation_failed");
}

async fn an_export_over_the_limit_is_refused_until_the_filters_narrow_it(app: TestApp) {
    let app = TestApp::spawn_with(app.backend, |c| c.export_max_rows = 2).await;
    let owner = app.register_verified("owner").await;
    let van = app.create_vehicle(&owner, "Van 7", None).await.id;
    invite(&app, &owner, &van, "amy@example.com", "view", None).await;
    invite(&app, &owner, &van, "ben@example.com", "edit", None).await;
    // Exactly at the limit: answered.
    let r = app.try_export_asset_invitations(&owner, "").await;
    assert_eq!(csv_table(&app, &r, "asset-invitations").rows.len(), 2);
    invite(&app, &owner, &van, "cat@example.com", "view", None).await;
    for format in ["", "?format=csv", "?format=json"] {
        let r = app.try_export_asset_invitations(&owner, format).await;
        r.assert_problem(422, "export_too_large");
        assert_eq!(
            r.body["detail"],
            "The export would hold more than 2 rows; narrow the filters and export again."
        );
    }
    let r = app.try_export_asset_invitations(&owner, "?permission=view").await;
    assert_eq!(
        csv_table(&app, &r, "asset-invitations").column("email"),
        ["cat@example.com", "amy@example.com"]
    );
    // The trail (registration, verification, the asset, three invitations)
    // and the records alike.
    app.try_export_audit(&owner, "").await.assert_problem(422, "export_too_large");
    let r = app.try_export_audit(&owner, "?resource_type=user").await;
    assert_eq!(csv_table(&app, &r, "audit").rows.len(), 2);
    for day in ["2026-01-01", "2026-01-02", "2026-01-03"] {
        app.try_add_record(&owner, &van, json!({"kind": "note", "date": day, "title": "Note"}))
            .await
            .assert_status(201);
    }
    app.try_export_records(&owner, &van, "?format=json")
        .await
        .assert_problem(422, "export_too_large");
}

/// An export reads its pages in one transaction that sees one snapshot on
/// both databases: a change committed between two of its reads is not seen.
async fn a_snapshot_transaction_does_not_see_changes_committed_during_it(app: TestApp) {
    use diesel::prelude::*;
    use keyholder_store::schema::users::dsl::{display_name, users};
    app.register_verified_each(["amy", "ben"]).await;
    let db = &app.app_state.db;
    let renamed = |c: &mut keyholder_store::DbConnection| {
        users.filter(display_name.eq("Renamed")).count().get_result::<i64>(c)
    };
    let (first, second) = db
        .snapshot(|c| {
            let first = renamed(c)?;
            db.write(|w| {
                Ok::<_, StoreError>(
                    diesel::update(users).set(display_name.eq("Renamed")).execute(w)?,
                )
            })?;
            let second = renamed(c)?;
            Ok::<_, StoreError>((first, second))
        })
        .expect("snapshot");
    assert_eq!((first, second), (0, 0), "the snapshot holds");
    assert_eq!(app.with_db(|c| Ok(renamed(c)?)), 2, "the change was committed");
}

on_both_backends!(
    the_invitation_table_exports_as_csv_with_its_filters_sort_and_formulas_neutralised,
    the_json_export_holds_the_lists_items_and_every_page_of_them,
    the_invitation_export_shows_what_the_table_shows_each_caller,
    the_audit_export_holds_only_the_events_the_caller_may_read,
    an_assets_records_export_with_the_lists_access_rule,
    an_export_over_the_limit_is_refused_until_the_filters_narrow_it,
    a_snapshot_transaction_does_not_see_changes_committed_during_it,
);
