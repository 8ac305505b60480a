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
