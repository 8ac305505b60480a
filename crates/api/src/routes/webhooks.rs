//! Webhooks: request shapes, the documented handlers, and their routes.
//! The use cases are in [`crate::ops::webhooks`]; delivery and signing in
//! [`crate::webhooks`].

use actix_web::web::Path;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{
    BadPaging, InsufficientRole, InvalidBody, MalformedJson, NoSuchEstate, Problem, Unauthorized,
    WebhookNotFound,
};
use crate::extract::{ValidJson, ValidQuery};
use crate::idempotency::Answer;
use crate::ops::webhooks::{self, Change, Registration};
use crate::routes::{Reply, accepted, done, listed, ok};
use crate::views::common::{CursorPage, CursorQuery};
use crate::views::webhooks::{
    DeliveryDetail, DeliveryView, WebhookCreated, WebhookSecret, WebhookView,
};
use crate::views::wire::WebhookEvent;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.com/keyholder", "description": "Fleet system", "events": ["member.added", "member.removed"]}))]
pub struct NewWebhook {
    /// Where deliveries are posted: an `https://` (or `http://`) URL, at
    /// most 2,048 characters, not a private or local address unless the
    /// server allows them.
    #[validate(length(min = 1, max = 2048))]
    pub url: String,
    /// A note for the managers (at most 200 characters).
    #[validate(length(max = 200))]
    pub description: Option<String>,
    /// The event types to deliver; absent or empty: every one.
    #[schema(value_type = Option<Vec<WebhookEvent>>)]
    #[validate(length(max = 64))]
    pub events: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct WebhookChange {
    /// A new URL (absent: unchanged).
    #[validate(length(min = 1, max = 2048))]
    pub url: Option<String>,
    /// A new note (absent: unchanged).
    #[validate(length(max = 200))]
    pub description: Option<String>,
    /// The event types to deliver (empty: every one; absent: unchanged).
    #[schema(value_type = Option<Vec<WebhookEvent>>)]
    #[validate(length(max = 64))]
    pub events: Option<Vec<String>>,
    /// `false` stops deliveries (they wait); `true` resumes them and clears
    /// the failure count.
    pub enabled: Option<bool>,
}

fn registration(body: NewWebhook) -> Registration {
    Registration { url: body.url, description: body.description, events: body.events }
}

/// Register an estate webhook
///
/// Registers an endpoint that receives the estate's access changes: members,
/// site overrides, sites, the assets placed in it, their collaborators,
/// shares and invitations. Needs the estate's admin or owner role (403
/// `insufficient_role`); 404 for a non-member. The answer holds the signing
/// secret, shown this once. Deliveries stop while the registering user no
/// longer administers the estate.
#[utoipa::path(post, path = "/api/v1/estates/{estate_id}/webhooks", operation_id = "createEstateWebhook", tag = "webhooks", security(("bearer" = [])), params(("estate_id" = Uuid, Path)), request_body = NewWebhook,
    responses((status = 201, description = "Registered, with its secret", body = WebhookCreated), MalformedJson, Unauthorized, NoSuchEstate, InsufficientRole, InvalidBody))]
pub async fn create_estate_webhook(ctx: Ctx, id: Path<Uuid>, body: ValidJson<NewWebhook>) -> Reply {
    let (estate, reg) = (*id, registration(body.0));
    let allow = ctx.state().config.webhook_allow_private;
    ctx.once(move |c, actor, now| {
        webhooks::create_for_estate(c, actor, estate, reg, allow, now).and_then(Answer::created)
    })
    .await
}

/// List an estate's webhooks
///
/// The estate's endpoints, newest first. Needs the admin or owner role.
#[utoipa::path(get, path = "/api/v1/estates/{estate_id}/webhooks", operation_id = "listEstateWebhooks", tag = "webhooks", security(("bearer" = [])), params(("estate_id" = Uuid, Path), CursorQuery),
    responses((status = 200, description = "Endpoints, newest first", body = CursorPage<WebhookView>), Unauthorized, NoSuchEstate, InsufficientRole, BadPaging))]
pub async fn list_estate_webhooks(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.read(move |c, actor, _| webhooks::list_for_estate(c, actor, *id, &q.0)).await)
}

/// Register a webhook of my own
///
/// Registers an endpoint that receives the changes on the assets I am a
/// collaborator of, on my household, and on my own access (grants and
/// removals that name me). The answer holds the signing secret, shown this
/// once.
#[utoipa::path(post, path = "/api/v1/me/webhooks", operation_id = "createMyWebhook", tag = "webhooks", security(("bearer" = [])), request_body = NewWebhook,
    responses((status = 201, description = "Registered, with its secret", body = WebhookCreated), MalformedJson, Unauthorized, InvalidBody))]
pub async fn create_my_webhook(ctx: Ctx, body: ValidJson<NewWebhook>) -> Reply {
    let reg = registration(body.0);
    let allow = ctx.state().config.webhook_allow_private;
    ctx.once(move |c, actor, now| {
        webhooks::create_own(c, actor, reg, allow, now).and_then(Answer::created)
    })
    .await
}

/// List my webhooks
///
/// My own endpoints (not my estates'), newest first.
#[utoipa::path(get, path = "/api/v1/me/webhooks", operation_id = "listMyWebhooks", tag = "webhooks", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, description = "Endpoints, newest first", body = CursorPage<WebhookView>), Unauthorized, BadPaging))]
pub async fn list_my_webhooks(ctx: Ctx, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.read(move |c, actor, _| webhooks::list_own(c, actor, &q.0)).await)
}

/// Get a webhook
///
/// One endpoint (without its secret). Open to its managers: the estate's
/// admins and owner, or the user who owns it.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}", operation_id = "getWebhook", tag = "webhooks", security(("bearer" = [])), params(("webhook_id" = Uuid, Path)),
    responses((status = 200, description = "The endpoint", body = WebhookView), Unauthorized, WebhookNotFound, InsufficientRole))]
pub async fn get_webhook(ctx: Ctx, id: Path<Uuid>) -> Reply {
    ok(ctx.read(move |c, actor, _| webhooks::get(c, actor, *id)).await)
}

/// Change a webhook
///
/// Sets the URL, note or event types, or turns deliveries off and on:
/// enabling clears the failure count, and the deliveries that waited go
/// out. Writes an audit event.
#[utoipa::path(patch, path = "/api/v1/webhooks/{webhook_id}", operation_id = "updateWebhook", tag = "webhooks", security(("bearer" = [])), params(("webhook_id" = Uuid, Path)), request_body = WebhookChange,
    responses((status = 200, description = "The endpoint as changed", body = WebhookView), MalformedJson, Unauthorized, WebhookNotFound, InsufficientRole, InvalidBody))]
pub async fn update_webhook(ctx: Ctx, id: Path<Uuid>, body: ValidJson<WebhookChange>) -> Reply {
    let WebhookChange { url, description, events, enabled } = body.0;
    let change = Change { url, description, events, enabled };
    let allow = ctx.state().config.webhook_allow_private;
    ok(ctx.write(move |c, actor, now| webhooks::update(c, actor, *id, change, allow, now)).await)
}

/// Delete a webhook
///
/// Removes the endpoint and its delivery log. Writes an audit event.
#[utoipa::path(delete, path = "/api/v1/webhooks/{webhook_id}", operation_id = "deleteWebhook", tag = "webhooks", security(("bearer" = [])), params(("webhook_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), Unauthorized, WebhookNotFound, InsufficientRole))]
pub async fn delete_webhook(ctx: Ctx, id: Path<Uuid>) -> Reply {
    done(ctx.write(move |c, actor, now| webhooks::delete(c, actor, *id, now)).await)
}

/// Rotate a webhook's secret
///
/// A new signing secret, shown this once; the old one stops signing at
/// once. Writes an audit event.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/rotate-secret", operation_id = "rotateWebhookSecret", tag = "webhooks", security(("bearer" = [])), params(("webhook_id" = Uuid, Path)),
    responses((status = 200, description = "The new secret", body = WebhookSecret), Unauthorized, WebhookNotFound, InsufficientRole))]
pub async fn rotate_webhook_secret(ctx: Ctx, id: Path<Uuid>) -> Reply {
    ok(ctx.write(move |c, actor, now| webhooks::rotate_secret(c, actor, *id, now)).await)
}

/// Ping a webhook
///
/// Queues a `ping` event to the endpoint (also when it is disabled, to try
/// the receiver before enabling it again); see it in the delivery log.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/ping", operation_id = "pingWebhook", tag = "webhooks", security(("bearer" = [])), params(("webhook_id" = Uuid, Path)),
    responses((status = 202, description = "Queued", body = DeliveryView), Unauthorized, WebhookNotFound, InsufficientRole))]
pub async fn ping_webhook(ctx: Ctx, id: Path<Uuid>) -> Reply {
    accepted(ctx.write(move |c, actor, now| webhooks::ping(c, actor, *id, now)).await)
}

/// List a webhook's deliveries
///
/// The delivery log, newest first: each event delivered (or being tried)
/// with its attempts, the receiver's last status and error.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries", operation_id = "listWebhookDeliveries", tag = "webhooks", security(("bearer" = [])), params(("webhook_id" = Uuid, Path), CursorQuery),
    responses((status = 200, description = "Deliveries, newest first", body = CursorPage<DeliveryView>), Unauthorized, WebhookNotFound, InsufficientRole, BadPaging))]
pub async fn list_webhook_deliveries(
    ctx: Ctx,
    id: Path<Uuid>,
    q: ValidQuery<CursorQuery>,
) -> Reply {
    listed(&ctx, ctx.read(move |c, actor, _| webhooks::deliveries(c, actor, *id, &q.0)).await)
}

/// Get a webhook delivery
///
/// One delivery with the JSON body it posts.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", operation_id = "getWebhookDelivery", tag = "webhooks", security(("bearer" = [])), params(("webhook_id" = Uuid, Path), ("delivery_id" = Uuid, Path)),
    responses((status = 200, description = "The delivery and its body", body = DeliveryDetail), Unauthorized, WebhookNotFound, InsufficientRole,
        (status = 404, description = "`webhook_not_found` or `delivery_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn get_webhook_delivery(ctx: Ctx, ids: Path<(Uuid, Uuid)>) -> Reply {
    let (id, delivery) = ids.into_inner();
    ok(ctx.read(move |c, actor, _| webhooks::delivery(c, actor, id, delivery)).await)
}

/// Redeliver a webhook delivery
///
/// Queues the same event with the same body again, as a new delivery (a
/// new `Keyholder-Delivery` id; `redelivery_of` names the first).
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", operation_id = "redeliverWebhookDelivery", tag = "webhooks", security(("bearer" = [])), params(("webhook_id" = Uuid, Path), ("delivery_id" = Uuid, Path)),
    responses((status = 202, description = "Queued", body = DeliveryView), Unauthorized, InsufficientRole,
        (status = 404, description = "`webhook_not_found` or `delivery_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn redeliver_webhook_delivery(ctx: Ctx, ids: Path<(Uuid, Uuid)>) -> Reply {
    let (id, delivery) = ids.into_inner();
    accepted(ctx.write(move |c, actor, now| webhooks::redeliver(c, actor, id, delivery, now)).await)
}

endpoints![
    create_estate_webhook, list_estate_webhooks, create_my_webhook, list_my_webhooks,
    get_webhook, update_webhook, delete_webhook, rotate_webhook_secret, ping_webhook,
    list_webhook_deliveries, get_webhook_delivery, redeliver_webhook_delivery,
    ; tags:
    ("webhooks", "Signed HTTP callbacks for access changes: endpoints, delivery log, redelivery"),
];
