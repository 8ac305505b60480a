//! What the API answers about the audit trail.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    pub id: Uuid,
    pub username: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTarget {
    #[serde(rename = "type")]
    #[schema(example = "asset")]
    pub type_: String,
    pub id: String,
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: Uuid,
    /// Null for the system (the expiry sweeper, the root bootstrap).
    pub actor: Option<AuditActor>,
    #[schema(example = "member.updated")]
    pub action: String,
    pub target: AuditTarget,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}
