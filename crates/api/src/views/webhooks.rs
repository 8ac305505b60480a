//! What the API answers about webhook endpoints and their deliveries.

use chrono::{DateTime, Utc};
use keyholder_store::webhooks::{Delivery, Endpoint};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::wire::{WebhookDeliveryStatus, WebhookEvent, WebhookScope};

/// A webhook endpoint (its secret is shown only when created or rotated).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "6f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
    "scope": "estate",
    "estate_id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90",
    "owner_id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11",
    "url": "https://hooks.example.com/keyholder",
    "description": "Access changes to the fleet system",
    "events": ["member.added", "member.removed"],
    "enabled": true,
    "disabled_reason": null,
    "failures": 0,
    "created_at": "2026-03-01T09:30:00Z",
    "updated_at": "2026-03-01T09:30:00Z"
}))]
pub struct WebhookView {
    pub id: Uuid,
    /// `estate`: the estate's changes; `user`: the owner's assets,
    /// household and own access.
    #[schema(value_type = WebhookScope)]
    pub scope: &'static str,
    /// The estate, for an estate's endpoint.
    pub estate_id: Option<Uuid>,
    /// Who registered it (an estate's endpoint stops receiving while they
    /// no longer administer the estate).
    pub owner_id: Uuid,
    pub url: String,
    pub description: String,
    /// The event types delivered; empty: every one.
    #[schema(value_type = Vec<WebhookEvent>)]
    pub events: Vec<String>,
    /// False once disabled (by a manager, or after repeated failures).
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last delivered one.
    pub failures: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookView {
    pub fn of(e: &Endpoint) -> Self {
        Self {
            id: e.id,
            scope: if e.estate_id.is_some() { "estate" } else { "user" },
            estate_id: e.estate_id,
            owner_id: e.owner_id,
            url: e.url.clone(),
            description: e.description.clone(),
            events: e.actions().into_iter().map(str::to_owned).collect(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            failures: e.failures,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// A new endpoint and its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreated {
    pub webhook: WebhookView,
    /// Verify each delivery's `Keyholder-Signature` with it; it is not
    /// shown again (rotate it to get a new one).
    #[schema(example = "whsec_Jq9mS0v1c2bGx2Zl4r8yq0l0E0d7S3QkH2w5m1n8p4o")]
    pub secret: String,
}

crate::views::common::located! {
    WebhookCreated => |v| format!("/api/v1/webhooks/{}", v.webhook.id);
}

/// A new signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecret {
    #[schema(example = "whsec_Jq9mS0v1c2bGx2Zl4r8yq0l0E0d7S3QkH2w5m1n8p4o")]
    pub secret: String,
}

/// One delivery of one event to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01930f6e-8c2a-7b3d-9e4f-5a6b7c8d9e0f",
    "webhook_id": "6f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
    "event_id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
    "event": "member.added",
    "status": "pending",
    "attempts": 1,
    "next_attempt_at": "2026-03-01T09:31:00Z",
    "last_attempt_at": "2026-03-01T09:30:30Z",
    "last_status": 503,
    "last_error": "answered 503 Service Unavailable",
    "delivered_at": null,
    "redelivery_of": null,
    "created_at": "2026-03-01T09:30:00Z"
}))]
pub struct DeliveryView {
    /// Sent as `Keyholder-Delivery`, the same on every attempt.
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The audit event delivered (as in `GET /audit` and `GET /changes`).
    pub event_id: Uuid,
    /// Its type (`ping` for a test delivery).
    #[schema(example = "member.added")]
    pub event: String,
    #[schema(value_type = WebhookDeliveryStatus)]
    pub status: String,
    pub attempts: i32,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The delivery this one sends again.
    pub redelivery_of: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl DeliveryView {
    pub fn of(d: &Delivery) -> Self {
        Self {
            id: d.id,
            webhook_id: d.endpoint_id,
            event_id: d.event_id,
            event: d.action.clone(),
            status: d.status.clone(),
            attempts: d.attempts,
            next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
            last_attempt_at: d.last_attempt_at,
            last_status: d.last_status,
            last_error: d.last_error.clone(),
            delivered_at: d.delivered_at,
            redelivery_of: d.redelivery_of,
            created_at: d.created_at,
        }
    }
}

/// A delivery with the body it sends.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "delivery": {
        "id": "01930f6e-8c2a-7b3d-9e4f-5a6b7c8d9e0f",
        "webhook_id": "6f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
        "event_id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
        "event": "member.added",
        "status": "delivered",
        "attempts": 1,
        "next_attempt_at": null,
        "last_attempt_at": "2026-03-01T09:30:01Z",
        "last_status": 200,
        "last_error": null,
        "delivered_at": "2026-03-01T09:30:01Z",
        "redelivery_of": null,
        "created_at": "2026-03-01T09:30:00Z"
    },
    "payload": {
        "id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
        "type": "member.added",
        "occurred_at": "2026-03-01T09:30:00Z",
        "actor_id": "8d3c1f9e-2f7a-4a5e-9d1e-3b6a2f0c4d11",
        "target": {"type": "estate", "id": "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90"},
        "subject_id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
        "before": null,
        "after": {"user_id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "role": "viewer"}
    }
}))]
pub struct DeliveryDetail {
    pub delivery: DeliveryView,
    /// The JSON body posted.
    #[schema(value_type = WebhookPayload)]
    pub payload: serde_json::Value,
}

/// The JSON body of a delivery (documentation of its shape).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPayload {
    /// The audit event's id (for a ping, an id of its own).
    pub id: Uuid,
    /// The event type (`ping` for a test delivery).
    #[serde(rename = "type")]
    #[schema(example = "member.added")]
    pub type_: String,
    pub occurred_at: DateTime<Utc>,
    /// Who acted; null for the system (an expiry).
    pub actor_id: Option<Uuid>,
    pub target: WebhookTarget,
    /// The user whose access changed, when the change names one.
    pub subject_id: Option<Uuid>,
    #[schema(value_type = Option<crate::views::audit::AuditChange>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<crate::views::audit::AuditChange>)]
    pub after: Option<serde_json::Value>,
}

/// What a delivered event is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookTarget {
    /// `estate`, `site`, `asset`, `household` or `user` (as in the audit
    /// trail); `webhook` for a ping.
    #[serde(rename = "type")]
    #[schema(example = "estate")]
    pub type_: String,
    pub id: String,
}
