//! The audit trail: every change of access writes an event inside the
//! transaction of the change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::audit_events;
use crate::time::{from_db, to_db};
use crate::users::parse_id;

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub actor_id: Option<Uuid>,
    /// Dotted verb, e.g. `user.registered`, `user.password_changed`.
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// Writes `event` with the caller's connection, so it commits or rolls back
/// with the change it describes.
pub fn record(
    conn: &mut DbConnection,
    event: &NewAuditEvent<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(id.to_string()),
            audit_events::actor_id.eq(event.actor_id.map(|a| a.to_string())),
            audit_events::action.eq(event.action),
            audit_events::target_type.eq(event.target_type),
            audit_events::target_id.eq(&event.target_id),
            audit_events::before.eq(event.before.as_ref().map(ToString::to_string)),
            audit_events::after.eq(event.after.as_ref().map(ToString::to_string)),
            audit_events::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(id)
}

type Row = (
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    chrono::NaiveDateTime,
);

fn parse_json(s: Option<String>) -> Result<Option<serde_json::Value>, StoreError> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// Events about one target, oldest first.
pub fn for_target(
    conn: &mut DbConnection,
    target_type: &str,
    target_id: &str,
) -> Result<Vec<AuditEvent>, StoreError> {
    let rows: Vec<Row> = audit_events::table
        .filter(audit_events::target_type.eq(target_type))
        .filter(audit_events::target_id.eq(target_id))
        .order((audit_events::created_at.asc(), audit_events::id.asc()))
        .select((
            audit_events::id,
            audit_events::actor_id,
            audit_events::action,
            audit_events::target_type,
            audit_events::target_id,
            audit_events::before,
            audit_events::after,
            audit_events::created_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(id, actor, action, target_type, target_id, before, after, created_at)| {
                Ok(AuditEvent {
                    id: parse_id(&id)?,
                    actor_id: actor.as_deref().map(parse_id).transpose()?,
                    action,
                    target_type,
                    target_id,
                    before: parse_json(before)?,
                    after: parse_json(after)?,
                    created_at: from_db(created_at),
                })
            },
        )
        .collect()
}

/// Filters of the audit listing.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub actor_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// An event with its actor's names (when the actor still exists).
#[derive(Debug, Clone, PartialEq)]
pub struct ListedEvent {
    pub event: AuditEvent,
    pub actor_username: Option<String>,
    pub actor_display_name: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct ListedRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    actor_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    target_type: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    target_id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    before: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    after: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    created_at: chrono::NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    actor_username: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    actor_display_name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
}

/// Events about resources the viewer administers, newest first: estates
/// where they are admin or owner; sites where they are effective site admin;
/// assets where they have full access (collaborator, or estate admin or
/// owner); their own account and household. Root sees everything. The
/// visibility mirrors the domain's "administers" and runs in the query.
const AUDIT_SQL: &str = "
WITH p AS (SELECT {uid} AS uid, {root} AS is_root, {rtype} AS rtype, {rid} AS rid, {actor} AS actor,
                  {from} AS since, {to} AS until)
SELECT e.id, e.actor_id, e.action, e.target_type, e.target_id, e.before, e.after, e.created_at,
       u.username AS actor_username, u.display_name AS actor_display_name,
       COUNT(*) OVER () AS total
FROM audit_events e
LEFT JOIN users u ON u.id = e.actor_id
CROSS JOIN p
WHERE (p.rtype = '' OR e.target_type = p.rtype)
  AND (p.rid = '' OR e.target_id = p.rid)
  AND (p.actor = '' OR e.actor_id = p.actor)
  AND e.created_at >= p.since AND e.created_at <= p.until
  AND (
    p.is_root
    OR ((e.target_type = 'user' OR e.target_type = 'household') AND e.target_id = p.uid)
    OR (e.target_type = 'estate' AND EXISTS (
          SELECT 1 FROM estate_members m WHERE m.estate_id = e.target_id AND m.user_id = p.uid
          AND m.role IN ('admin', 'owner')))
    OR (e.target_type = 'site' AND EXISTS (
          SELECT 1 FROM sites s JOIN estate_members m ON m.estate_id = s.estate_id
          WHERE s.id = e.target_id AND m.user_id = p.uid
          AND (m.role IN ('admin', 'owner')
               OR (m.role = 'editor' AND EXISTS (
                     SELECT 1 FROM site_overrides o WHERE o.site_id = s.id AND o.user_id = p.uid
                     AND o.role = 'admin')))))
    OR (e.target_type = 'asset' AND EXISTS (
          SELECT 1 FROM assets a WHERE a.id = e.target_id
          AND (EXISTS (SELECT 1 FROM asset_collaborators c WHERE c.asset_id = a.id AND c.user_id = p.uid)
               OR EXISTS (SELECT 1 FROM estate_members m WHERE m.estate_id = a.estate_id
                          AND m.user_id = p.uid AND m.role IN ('admin', 'owner')))))
  )
ORDER BY e.created_at DESC, e.id DESC
LIMIT {limit} OFFSET {offset}";

/// A page of the audit trail the viewer may read, with the total.
pub fn list(
    conn: &mut DbConnection,
    viewer: Uuid,
    is_root: bool,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ListedEvent>, i64), StoreError> {
    use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let types = [
        "TEXT",
        "BOOLEAN",
        "TEXT",
        "TEXT",
        "TEXT",
        "TIMESTAMP",
        "TIMESTAMP",
        "BIGINT",
        "BIGINT",
    ];
    let ph: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(n, t)| {
            if pg {
                format!("CAST(${} AS {t})", n + 1)
            } else {
                "?".to_owned()
            }
        })
        .collect();
    let sql = AUDIT_SQL
        .replace("{uid}", &ph[0])
        .replace("{root}", &ph[1])
        .replace("{rtype}", &ph[2])
        .replace("{rid}", &ph[3])
        .replace("{actor}", &ph[4])
        .replace("{from}", &ph[5])
        .replace("{to}", &ph[6])
        .replace("{limit}", &ph[7])
        .replace("{offset}", &ph[8]);
    let far_past = chrono::NaiveDateTime::default();
    let far_future = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .unwrap_or_default();
    let query = diesel::sql_query(sql)
        .bind::<Text, _>(viewer.to_string())
        .bind::<Bool, _>(is_root)
        .bind::<Text, _>(filter.resource_type.clone().unwrap_or_default())
        .bind::<Text, _>(filter.resource_id.clone().unwrap_or_default())
        .bind::<Text, _>(filter.actor_id.map(|a| a.to_string()).unwrap_or_default())
        .bind::<Timestamp, _>(filter.from.map_or(far_past, to_db))
        .bind::<Timestamp, _>(filter.to.map_or(far_future, to_db))
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset);
    let rows: Vec<ListedRow> = match conn {
        DbConnection::Postgresql(c) => query.load(c)?,
        DbConnection::Sqlite(c) => query.load(c)?,
    };
    let total = rows.first().map_or(0, |r| r.total);
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(ListedEvent {
                event: AuditEvent {
                    id: parse_id(&r.id)?,
                    actor_id: r.actor_id.as_deref().map(parse_id).transpose()?,
                    action: r.action,
                    target_type: r.target_type,
                    target_id: r.target_id,
                    before: parse_json(r.before)?,
                    after: parse_json(r.after)?,
                    created_at: from_db(r.created_at),
                },
                actor_username: r.actor_username,
                actor_display_name: r.actor_display_name,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let total = if total == 0 && offset > 0 {
        list(conn, viewer, is_root, filter, 1, 0)?.1
    } else {
        total
    };
    Ok((items, total))
}

/// Whether the trail records that `user_id`'s share on `asset_id` was
/// revoked or dropped (for explaining a path that no longer counts).
pub fn share_was_revoked(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    let befores: Vec<Option<String>> = audit_events::table
        .filter(audit_events::target_type.eq("asset"))
        .filter(audit_events::target_id.eq(asset_id.to_string()))
        .filter(audit_events::action.eq_any(["share.revoked", "share.dropped"]))
        .select(audit_events::before)
        .load(conn)?;
    let user = user_id.to_string();
    Ok(befores.into_iter().flatten().any(|b| {
        serde_json::from_str::<serde_json::Value>(&b).is_ok_and(|v| v["user_id"] == user.as_str())
    }))
}
