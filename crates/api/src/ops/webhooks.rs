//! Webhook endpoints: who registers and manages them, their delivery log
//! and redelivery. An estate's endpoints are managed by those who may
//! manage the estate (admin and owner; root); a user's own endpoints by
//! that user alone. Others get 404 `webhook_not_found`, as for any
//! resource out of reach. The deliveries themselves go out through
//! [`crate::webhooks`].

use chrono::{DateTime, Utc};
use keyholder_domain::estate::EstateCapability;
use keyholder_store::audit::{self, Action, NewAuditEvent};
use keyholder_store::users::User;
use keyholder_store::webhooks::{self, Endpoint, EndpointChange, NewEndpoint, Scope};
use serde_json::json;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::estates::caller_estate;
use crate::ops::{Conn, Now, Outcome, event};
use crate::problems::ProblemCode;
use crate::views::common::{Cursor, CursorPage, CursorQuery};
use crate::views::webhooks::{
    DeliveryDetail, DeliveryView, WebhookCreated, WebhookSecret, WebhookView,
};

/// The most event types one endpoint names.
const MAX_EVENTS: usize = 64;

/// An endpoint to register.
pub struct Registration {
    pub url: String,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
}

fn not_found() -> ApiError {
    ApiError::not_found(ProblemCode::WebhookNotFound, "No such webhook.")
}

fn delivery_not_found() -> ApiError {
    ApiError::not_found(ProblemCode::DeliveryNotFound, "No such delivery of this webhook.")
}

fn check_url(url: &str, allow_private: bool) -> Outcome<()> {
    crate::webhooks::check_url(url, allow_private).map_err(|why| ApiError::field("url", why))
}

fn check_description(text: Option<String>) -> Outcome<String> {
    let text = text.unwrap_or_default();
    if text.chars().count() > 200 || text.chars().any(char::is_control) {
        return Err(ApiError::field(
            "description",
            "must be at most 200 characters, without control characters",
        ));
    }
    Ok(text)
}

/// The event types named (each a feed action, once; empty: all).
fn check_events(events: Option<Vec<String>>) -> Outcome<Vec<String>> {
    let events = events.unwrap_or_default();
    if events.len() > MAX_EVENTS {
        return Err(ApiError::field("events", format!("must name at most {MAX_EVENTS} types")));
    }
    let known = Action::feed_actions();
    let mut out: Vec<String> = Vec::new();
    for e in events {
        if !known.contains(&e.as_str()) {
            return Err(ApiError::field(
                "events",
                format!("unknown event type; one of {}", known.join(", ")),
            ));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

/// The audit target of an endpoint's changes: its estate, or its owner.
fn target(e: &Endpoint) -> (&'static str, Uuid) {
    match e.estate_id {
        Some(estate) => ("estate", estate),
        None => ("user", e.owner_id),
    }
}

/// The endpoint's URL for the trail: scheme, host and port only (a path
/// or query may hold the receiver's own token).
fn origin(url: &str) -> String {
    reqwest::Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
}

fn record(c: &mut Conn, user: &User, action: Action, e: &Endpoint, now: Now) -> Outcome<()> {
    let (t, id) = target(e);
    let after = json!({"webhook_id": e.id, "origin": origin(&e.url), "enabled": e.enabled, "events": e.actions()});
    let before = (action == Action::WebhookDeleted).then(|| after.clone());
    let after = (action != Action::WebhookDeleted).then_some(after);
    audit::record(c, &event(user, action, t, id, before, after), now)?;
    Ok(())
}

fn register(
    c: &mut Conn,
    user: &User,
    estate: Option<Uuid>,
    reg: Registration,
    allow_private: bool,
    now: Now,
) -> Outcome<WebhookCreated> {
    check_url(&reg.url, allow_private)?;
    let description = check_description(reg.description)?;
    let events = check_events(reg.events)?;
    let secret = crate::webhooks::new_secret();
    let new = NewEndpoint {
        owner_id: user.id,
        estate_id: estate,
        url: &reg.url,
        description: &description,
        events: &events,
        secret: &secret,
    };
    let e = webhooks::create(c, &new, now)?;
    record(c, user, Action::WebhookCreated, &e, now)?;
    Ok(WebhookCreated { webhook: WebhookView::of(&e), secret })
}

/// Register an endpoint for an estate (admin or owner).
pub fn create_for_estate(
    c: &mut Conn,
    actor: &Caller,
    estate: Uuid,
    reg: Registration,
    allow_private: bool,
    now: Now,
) -> Outcome<WebhookCreated> {
    let (user, access) = caller_estate(c, actor, estate)?;
    access.require(EstateCapability::Manage, "Registering an estate's webhooks")?;
    register(c, &user, Some(estate), reg, allow_private, now)
}

/// Register an endpoint of the caller's own.
pub fn create_own(
    c: &mut Conn,
    actor: &Caller,
    reg: Registration,
    allow_private: bool,
    now: Now,
) -> Outcome<WebhookCreated> {
    let user = actor.user(c)?;
    register(c, &user, None, reg, allow_private, now)
}

fn page(c: &mut Conn, scope: Scope, q: &CursorQuery) -> Outcome<CursorPage<WebhookView>> {
    let found = webhooks::list(c, scope, &q.window(Cursor::instant)?)?;
    let next = found.items.last().filter(|_| found.more).map(|e| Cursor::at(e.created_at, e.id));
    let items = found.items.iter().map(WebhookView::of).collect();
    Ok(CursorPage::new(items, found.counted, q, next))
}

/// An estate's endpoints (admin or owner).
pub fn list_for_estate(
    c: &mut Conn,
    actor: &Caller,
    estate: Uuid,
    q: &CursorQuery,
) -> Outcome<CursorPage<WebhookView>> {
    let (_, access) = caller_estate(c, actor, estate)?;
    access.require(EstateCapability::Manage, "Listing an estate's webhooks")?;
    page(c, Scope::Estate(estate), q)
}

/// The caller's own endpoints.
pub fn list_own(c: &mut Conn, actor: &Caller, q: &CursorQuery) -> Outcome<CursorPage<WebhookView>> {
    let user = actor.user(c)?;
    page(c, Scope::Own(user.id), q)
}

/// The endpoint, when the caller may manage it (404 otherwise; 403
/// `insufficient_role` for an estate member below admin). With `lock`, its
/// row is locked first (PostgreSQL), for a change.
fn managed(c: &mut Conn, actor: &Caller, id: Uuid, lock: bool) -> Outcome<(User, Endpoint)> {
    let user = actor.user(c)?;
    let found = if lock { webhooks::lock(c, id)? } else { webhooks::get(c, id)? };
    let e = found.ok_or_else(not_found)?;
    match e.estate_id {
        Some(estate) => {
            let (_, access) = caller_estate(c, actor, estate).map_err(|_| not_found())?;
            access.require(EstateCapability::Manage, "Managing an estate's webhooks")?;
        }
        None if e.owner_id == user.id => {}
        None => return Err(not_found()),
    }
    Ok((user, e))
}

pub fn get(c: &mut Conn, actor: &Caller, id: Uuid) -> Outcome<WebhookView> {
    Ok(WebhookView::of(&managed(c, actor, id, false)?.1))
}

/// A change to an endpoint's fields.
pub struct Change {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

pub fn update(
    c: &mut Conn,
    actor: &Caller,
    id: Uuid,
    change: Change,
    allow_private: bool,
    now: Now,
) -> Outcome<WebhookView> {
    let (user, _) = managed(c, actor, id, true)?;
    if let Some(url) = &change.url {
        check_url(url, allow_private)?;
    }
    let description = change.description.map(|d| check_description(Some(d))).transpose()?;
    let events = change.events.map(|e| check_events(Some(e))).transpose()?;
    let change = EndpointChange { url: change.url, description, events, enabled: change.enabled };
    webhooks::update(c, id, &change, now)?;
    let e = webhooks::get(c, id)?.ok_or_else(not_found)?;
    record(c, &user, Action::WebhookUpdated, &e, now)?;
    Ok(WebhookView::of(&e))
}

pub fn delete(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<()> {
    let (user, e) = managed(c, actor, id, true)?;
    webhooks::delete(c, id)?;
    record(c, &user, Action::WebhookDeleted, &e, now)
}

/// A new secret; the old one stops signing at once.
pub fn rotate_secret(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<WebhookSecret> {
    let (user, e) = managed(c, actor, id, true)?;
    let secret = crate::webhooks::new_secret();
    webhooks::set_secret(c, id, &secret, now)?;
    record(c, &user, Action::WebhookSecretRotated, &e, now)?;
    Ok(WebhookSecret { secret })
}

/// Queues a `ping` event to the endpoint (also when it is disabled).
pub fn ping(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<DeliveryView> {
    let (user, e) = managed(c, actor, id, false)?;
    let event_id = Uuid::new_v4();
    let payload = json!({
        "id": event_id,
        "type": "ping",
        "occurred_at": now,
        "actor_id": user.id,
        "target": {"type": "webhook", "id": e.id},
        "subject_id": null,
        "before": null,
        "after": null,
    });
    let delivery = webhooks::enqueue_ping(c, e.id, &payload, event_id, now)?;
    let found = webhooks::delivery(c, e.id, delivery)?.ok_or_else(delivery_not_found)?;
    Ok(DeliveryView::of(&found))
}

/// The endpoint's deliveries, newest first.
pub fn deliveries(
    c: &mut Conn,
    actor: &Caller,
    id: Uuid,
    q: &CursorQuery,
) -> Outcome<CursorPage<DeliveryView>> {
    let (_, e) = managed(c, actor, id, false)?;
    let found = webhooks::deliveries(c, e.id, &q.window(Cursor::instant)?)?;
    let next = found.items.last().filter(|_| found.more).map(|d| Cursor::at(d.created_at, d.id));
    let items = found.items.iter().map(DeliveryView::of).collect();
    Ok(CursorPage::new(items, found.counted, q, next))
}

/// One delivery with the body it sends.
pub fn delivery(c: &mut Conn, actor: &Caller, id: Uuid, delivery: Uuid) -> Outcome<DeliveryDetail> {
    let (_, e) = managed(c, actor, id, false)?;
    let found = webhooks::delivery(c, e.id, delivery)?.ok_or_else(delivery_not_found)?;
    let body = webhooks::payload(c, found.id)?.unwrap_or_default();
    let payload = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
    Ok(DeliveryDetail { delivery: DeliveryView::of(&found), payload })
}

/// Queues a delivery again (the same event and body, a new delivery id).
pub fn redeliver(
    c: &mut Conn,
    actor: &Caller,
    id: Uuid,
    delivery: Uuid,
    now: Now,
) -> Outcome<DeliveryView> {
    let (_, e) = managed(c, actor, id, true)?;
    let again = webhooks::redeliver(c, e.id, delivery, now)?.ok_or_else(delivery_not_found)?;
    Ok(DeliveryView::of(&again))
}

/// After the worker disabled `endpoint`: the trail records it and its
/// owner is emailed, in the transaction that disabled it.
pub fn disabled(c: &mut Conn, endpoint: &Endpoint, now: DateTime<Utc>) -> Outcome<()> {
    let (t, id) = target(endpoint);
    let reason = endpoint.disabled_reason.clone().unwrap_or_default();
    let after =
        json!({"webhook_id": endpoint.id, "origin": origin(&endpoint.url), "reason": reason});
    let ev = NewAuditEvent {
        actor_id: None,
        action: Action::WebhookDisabled,
        target_type: t,
        target_id: id.to_string(),
        before: None,
        after: Some(after),
    };
    audit::record(c, &ev, now)?;
    let owner = keyholder_store::users::get(c, endpoint.owner_id)?;
    if owner.deleted_at.is_none() {
        let mail = crate::mail::templates::webhook_disabled(
            &owner.email,
            &owner.username,
            &origin(&endpoint.url),
            &reason,
        );
        keyholder_store::outbox::enqueue(c, &mail, now)?;
    }
    Ok(())
}
