//! What the API answers about the audit trail.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use uuid::Uuid;

use crate::views::wire::{AuditAction, AuditTargetType};

/// Who acted (their names as they are now; null when the account was
/// deleted, and then `deleted` is true).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "username": "ada", "display_name": "Ada Lovelace", "deleted": false}))]
pub struct AuditActor {
    pub id: Uuid,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// The account was deleted since: the event stays, its names do not.
    pub deleted: bool,
}

/// What an event is about.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "estate", "id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90"}))]
pub struct AuditTarget {
    #[serde(rename = "type")]
    #[schema(value_type = AuditTargetType)]
    pub type_: String,
    /// The target's id (a UUID; `seed` for the seed marker).
    pub id: String,
}

/// What changed: the fields an event names (`before` or `after`), each a
/// JSON scalar (an id, a name, a role, a count, a flag, a time, null), a
/// list of ids (the collaborators a deleted asset had) or, for a member's
/// site overrides, an object of site id to override. A schema only: the
/// changes are built as JSON.
pub struct AuditChange;

impl utoipa::PartialSchema for AuditChange {
    fn schema() -> RefOr<Schema> {
        let text = || Object::with_type(Type::String);
        let values = |schema: Schema| Some(AdditionalProperties::RefOr(RefOr::T(schema)));
        let overrides = ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(values(Schema::Object(text())))
            .description(Some("Site id to override"));
        let ids =
            utoipa::openapi::schema::ArrayBuilder::new().items(text()).description(Some("Ids"));
        let value = OneOfBuilder::new()
            .item(text())
            .item(Object::with_type(Type::Number))
            .item(Object::with_type(Type::Boolean))
            .item(Object::with_type(Type::Null))
            .item(ids)
            .item(overrides);
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(values(Schema::OneOf(value.build())))
            .description(Some(
                "The fields an event names: each a JSON scalar, a list of ids or, for \
                 site overrides, an object of site id to override",
            ))
            .into()
    }
}

impl ToSchema for AuditChange {
    fn name() -> std::borrow::Cow<'static, str> {
        "AuditChange".into()
    }
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
    "actor": {"id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "username": "ada", "display_name": "Ada Lovelace", "deleted": false},
    "action": "member.updated",
    "target": {"type": "estate", "id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90"},
    "before": {"user_id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "role": "viewer", "sites": {}},
    "after": {"user_id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "role": "editor", "sites": {"5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d": "none"}},
    "created_at": "2026-03-01T09:30:00Z"
}))]
pub struct AuditEventView {
    pub id: Uuid,
    /// Null for the system (the expiry sweeper, the root bootstrap).
    pub actor: Option<AuditActor>,
    #[schema(value_type = AuditAction)]
    pub action: String,
    pub target: AuditTarget,
    /// The fields as they were; null when the event created something.
    #[schema(value_type = Option<AuditChange>)]
    pub before: Option<serde_json::Value>,
    /// The fields as they are now; null when the event removed something.
    #[schema(value_type = Option<AuditChange>)]
    pub after: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// One change of the feed: an audit event that changes access (or the
/// resources it is granted on), with where to read on from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "cursor": "ZjEuNzMwMDExMi40Mg",
    "id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
    "action": "member.added",
    "actor": {"id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "username": "ada", "display_name": "Ada Lovelace", "deleted": false},
    "target": {"type": "estate", "id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90"},
    "subject_id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
    "before": null,
    "after": {"user_id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "role": "viewer"},
    "created_at": "2026-03-01T09:30:00Z"
}))]
pub struct ChangeView {
    /// Pass as `?cursor=` to read on from just after this change.
    pub cursor: String,
    /// The audit event's id (the same as in `GET /audit`).
    pub id: Uuid,
    #[schema(value_type = AuditAction)]
    pub action: String,
    /// Null for the system (the expiry sweeper).
    pub actor: Option<AuditActor>,
    pub target: AuditTarget,
    /// The user whose access changed (a member, collaborator, share holder
    /// or household member), when the change names one.
    pub subject_id: Option<Uuid>,
    /// The fields as they were; null when the change created something.
    #[schema(value_type = Option<AuditChange>)]
    pub before: Option<serde_json::Value>,
    /// The fields as they are now; null when the change removed something.
    #[schema(value_type = Option<AuditChange>)]
    pub after: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// A step along the changes feed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "items": [{
        "cursor": "ZjEuNzMwMDExMi40Mg",
        "id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
        "action": "member.added",
        "actor": {"id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11", "username": "ada", "display_name": "Ada Lovelace", "deleted": false},
        "target": {"type": "estate", "id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90"},
        "subject_id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
        "before": null,
        "after": {"user_id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "role": "viewer"},
        "created_at": "2026-03-01T09:30:00Z"
    }],
    "next_cursor": "ZjEuNzMwMDExMi40Mg",
    "has_more": false
}))]
pub struct ChangesView {
    /// The changes after the cursor, oldest first (at most `limit`).
    pub items: Vec<ChangeView>,
    /// Where to read on from: pass as `?cursor=` next time (always given,
    /// also when `items` is empty; keep it to resume after a restart).
    pub next_cursor: String,
    /// Whether more changes are already there: read on at once; when
    /// false, wait before polling again.
    pub has_more: bool,
}

/// The feed's present end.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"cursor": "ZjEuNzMwMDExMi40Mg"}))]
pub struct FeedHead {
    /// Pass as `?cursor=` to get the changes made from now on.
    pub cursor: String,
}
