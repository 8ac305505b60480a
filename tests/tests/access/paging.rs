//! Keyset paging of the audit trail, on both databases.

use chrono::{DateTime, Duration, Utc};
use keyholder_store::audit::{self, NewAuditEvent};
use keyholder_tests::{FOREIGN_CURSOR, Session, TestApp, on_both_backends};
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

async fn the_audit_trail_walks_by_cursor_newest_first(app: TestApp) {
    let owner = app.register_verified("owner").await;
    let amy = app.register_verified("amy").await;
    let asset = app.create_asset(&owner, serde_json::json!({"name": "Van"})).await.id;
    let estate = app.create_estate(&owner, "Riverside").await.id;
    let theirs = app.create_asset(&amy, serde_json::json!({"name": "Theirs"})).await.id;
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
    let mine = app.check_walk(&owner.token, "/api/v1/audit", "created_at", &[2]).await;
    // Registration, verification, the asset, the estate and its
    // creations, and the seven events above that are about my resources.
    assert!(mine >= 7 + 4, "{mine}");
    let full = app.try_audit(&owner, "?per_page=100").await;
    let items = full.items();
    assert!(
        items
            .iter()
            .all(|e| e["target"]["id"] != theirs.as_str() && e["target"]["id"] != amy.id.as_str()),
        "only my resources"
    );
    assert_eq!(
        app.check_walk(
            &owner.token,
            &format!("/api/v1/audit?resource_type=asset&resource_id={asset}"),
            "created_at",
            &[2]
        )
        .await,
        4,
        "asset.created and three"
    );
    assert_eq!(
        app.check_walk(
            &owner.token,
            &format!("/api/v1/audit?actor_id={}", amy.id),
            "created_at",
            &[2]
        )
        .await,
        2
    );
    let from = (t0 - s(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (t0 + s(1)).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    assert_eq!(
        app.check_walk(
            &owner.token,
            &format!("/api/v1/audit?from={from}&to={}", to.replace('+', "%2B")),
            "created_at",
            &[2]
        )
        .await,
        6
    );
    let bad = ["garbage", "e30", FOREIGN_CURSOR];
    app.assert_cursors_refused(&owner.token, "/api/v1/audit", &bad).await;
}
