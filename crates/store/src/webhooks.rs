//! Webhook endpoints and their deliveries: an outbox of signed HTTP calls.
//!
//! A delivery is queued by [`enqueue`] in the transaction of the change it
//! reports (from [`crate::audit::record`]), for every enabled endpoint whose
//! scope holds the change, judged by the rows as the change left them:
//! - an estate's endpoint, while its owner still administers the estate
//!   (or is root), gets the changes on the estate, its sites and the assets
//!   placed in it;
//! - a user's own endpoint gets the changes on the assets they are a
//!   collaborator of, on their household, and on their own access.
//!
//! Workers claim due deliveries with `FOR UPDATE SKIP LOCKED` (PostgreSQL)
//! under a lease, deliver, and record the answer.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{Conn, DbConnection};
use crate::error::Result;
use crate::id::DbId;
use crate::paging::{Page, Window, after_instant, count_up_to};
use crate::schema::{webhook_deliveries, webhook_endpoints};
use crate::time::{DbTime, to_db};

/// A nullable id as loaded.
pub struct MaybeId(Option<Uuid>);

impl<DB: diesel::backend::Backend>
    Queryable<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB> for MaybeId
where
    Option<DbId>:
        diesel::deserialize::FromSql<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB>,
{
    type Row = Option<DbId>;
    fn build(row: Self::Row) -> diesel::deserialize::Result<Self> {
        Ok(Self(row.map(|id| id.0)))
    }
}

impl From<MaybeId> for Option<Uuid> {
    fn from(id: MaybeId) -> Self {
        id.0
    }
}

/// A nullable time as loaded.
pub struct MaybeTime(Option<DateTime<Utc>>);

impl<DB: diesel::backend::Backend>
    Queryable<diesel::sql_types::Nullable<diesel::sql_types::Timestamp>, DB> for MaybeTime
where
    Option<chrono::NaiveDateTime>:
        diesel::deserialize::FromSql<diesel::sql_types::Nullable<diesel::sql_types::Timestamp>, DB>,
{
    type Row = Option<chrono::NaiveDateTime>;
    fn build(row: Self::Row) -> diesel::deserialize::Result<Self> {
        Ok(Self(row.map(crate::time::from_db)))
    }
}

impl From<MaybeTime> for Option<DateTime<Utc>> {
    fn from(t: MaybeTime) -> Self {
        t.0
    }
}

/// The most attempts of one delivery.
pub const MAX_ATTEMPTS: i32 = 8;

/// An endpoint as its managers see it (the secret apart).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    #[diesel(deserialize_as = DbId)]
    pub id: Uuid,
    #[diesel(deserialize_as = DbId)]
    pub owner_id: Uuid,
    #[diesel(deserialize_as = MaybeId)]
    pub estate_id: Option<Uuid>,
    pub url: String,
    pub description: String,
    /// Comma separated actions; empty: all.
    pub events: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failures: i32,
    #[diesel(deserialize_as = DbTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    /// The actions delivered (empty: every feed action).
    pub fn actions(&self) -> Vec<&str> {
        self.events.split(',').filter(|a| !a.is_empty()).collect()
    }
}

/// A new endpoint.
#[derive(Debug, Clone)]
pub struct NewEndpoint<'a> {
    pub owner_id: Uuid,
    pub estate_id: Option<Uuid>,
    pub url: &'a str,
    pub description: &'a str,
    pub events: &'a [String],
    pub secret: &'a str,
}

pub fn create(conn: &mut Conn, new: &NewEndpoint<'_>, now: DateTime<Utc>) -> Result<Endpoint> {
    let id = Uuid::new_v4();
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(DbId(id)),
            webhook_endpoints::owner_id.eq(DbId(new.owner_id)),
            webhook_endpoints::estate_id.eq(new.estate_id.map(DbId)),
            webhook_endpoints::url.eq(new.url),
            webhook_endpoints::description.eq(new.description),
            webhook_endpoints::events.eq(new.events.join(",")),
            webhook_endpoints::secret.eq(new.secret),
            webhook_endpoints::enabled.eq(true),
            webhook_endpoints::failures.eq(0),
            webhook_endpoints::created_at.eq(to_db(now)),
            webhook_endpoints::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    get(conn, id)?.ok_or(crate::error::StoreError::NotFound)
}

pub fn get(conn: &mut Conn, id: Uuid) -> Result<Option<Endpoint>> {
    Ok(webhook_endpoints::table
        .find(DbId(id))
        .select(Endpoint::as_select())
        .first(conn)
        .optional()?)
}

/// Locks the endpoint's row (PostgreSQL) for a change that reads it first.
pub fn lock(conn: &mut Conn, id: Uuid) -> Result<Option<Endpoint>> {
    if let DbConnection::Postgresql(pg) = conn {
        webhook_endpoints::table
            .find(DbId(id))
            .select(webhook_endpoints::id)
            .for_update()
            .load::<DbId>(pg)?;
    }
    get(conn, id)
}

/// Whose endpoints a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// An estate's endpoints.
    Estate(Uuid),
    /// A user's own endpoints (not their estates').
    Own(Uuid),
}

/// A page of endpoints, newest first.
pub fn list(
    conn: &mut Conn,
    scope: Scope,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<Endpoint>> {
    let base = || {
        let q = webhook_endpoints::table.into_boxed();
        match scope {
            Scope::Estate(e) => q.filter(webhook_endpoints::estate_id.eq(DbId(e))),
            Scope::Own(u) => q
                .filter(webhook_endpoints::owner_id.eq(DbId(u)))
                .filter(webhook_endpoints::estate_id.is_null()),
        }
    };
    let rows: Vec<Endpoint> = after_instant!(
        base(),
        window.after.as_ref(),
        webhook_endpoints::created_at,
        webhook_endpoints::id,
        desc
    )
    .select(Endpoint::as_select())
    .order((webhook_endpoints::created_at.desc(), webhook_endpoints::id.desc()))
    .limit(window.limit.saturating_add(1))
    .offset(window.offset)
    .load(conn)?;
    let counted = count_up_to!(conn, base, webhook_endpoints::id);
    Ok(Page::cut(rows, window.limit, counted))
}

/// A change to an endpoint: each field absent stays.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    /// Enabling clears the failures and the reason it was disabled.
    pub enabled: Option<bool>,
}

pub fn update(
    conn: &mut Conn,
    id: Uuid,
    change: &EndpointChange,
    now: DateTime<Utc>,
) -> Result<()> {
    let key = DbId(id);
    let at = webhook_endpoints::updated_at.eq(to_db(now));
    if let Some(url) = &change.url {
        diesel::update(webhook_endpoints::table.find(key))
            .set((webhook_endpoints::url.eq(url), at))
            .execute(conn)?;
    }
    if let Some(description) = &change.description {
        diesel::update(webhook_endpoints::table.find(key))
            .set((webhook_endpoints::description.eq(description), at))
            .execute(conn)?;
    }
    if let Some(events) = &change.events {
        diesel::update(webhook_endpoints::table.find(key))
            .set((webhook_endpoints::events.eq(events.join(",")), at))
            .execute(conn)?;
    }
    match change.enabled {
        Some(true) => {
            diesel::update(webhook_endpoints::table.find(key))
                .set((
                    webhook_endpoints::enabled.eq(true),
                    webhook_endpoints::failures.eq(0),
                    webhook_endpoints::disabled_reason.eq(None::<String>),
                    at,
                ))
                .execute(conn)?;
        }
        Some(false) => {
            diesel::update(webhook_endpoints::table.find(key))
                .set((
                    webhook_endpoints::enabled.eq(false),
                    webhook_endpoints::disabled_reason.eq(Some("disabled by a manager")),
                    at,
                ))
                .execute(conn)?;
        }
        None => {}
    }
    Ok(())
}

pub fn set_secret(conn: &mut Conn, id: Uuid, secret: &str, now: DateTime<Utc>) -> Result<()> {
    diesel::update(webhook_endpoints::table.find(DbId(id)))
        .set((webhook_endpoints::secret.eq(secret), webhook_endpoints::updated_at.eq(to_db(now))))
        .execute(conn)?;
    Ok(())
}

/// Deletes the endpoint and its deliveries.
pub fn delete(conn: &mut Conn, id: Uuid) -> Result<bool> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(DbId(id))))
        .execute(conn)?;
    Ok(diesel::delete(webhook_endpoints::table.find(DbId(id))).execute(conn)? > 0)
}

// ------------------------------------------------------------------ queueing

/// What a change queues deliveries for: the event as recorded.
#[derive(Debug, Clone)]
pub struct Occurred<'a> {
    pub event_id: Uuid,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub subject_id: Option<Uuid>,
    /// The estate the target is in, when the event itself names it (a
    /// deleted site's or a moved asset's).
    pub named_estates: Vec<Uuid>,
    /// The collaborators the event names (a deleted asset's).
    pub named_collaborators: Vec<Uuid>,
    pub payload: serde_json::Value,
    pub at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Matched {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    events: String,
}

/// Queues a delivery of `event` to every endpoint whose scope holds it.
pub fn enqueue(conn: &mut Conn, event: &Occurred<'_>) -> Result<usize> {
    let mut sql = crate::paging::Sql::new(conn);
    let (t, id) = (sql.text(event.target_type), sql.text(event.target_id));
    // The estates the target is in, now or as the event names them.
    let mut estates = vec![format!(
        "SELECT {id} AS e WHERE {t} = 'estate'
         UNION ALL SELECT s.estate_id FROM sites s WHERE {t} = 'site' AND s.id = {id}
         UNION ALL SELECT a.estate_id FROM assets a
           WHERE {t} = 'asset' AND a.id = {id} AND a.estate_id IS NOT NULL"
    )];
    for e in &event.named_estates {
        let p = sql.id(*e);
        estates.push(format!("SELECT {p}"));
    }
    // The users whose own endpoints hold it.
    let mut users = vec![format!(
        "SELECT c.user_id AS u FROM asset_collaborators c WHERE {t} = 'asset' AND c.asset_id = {id}
         UNION ALL SELECT {id} WHERE {t} = 'household'"
    )];
    for u in event.subject_id.iter().chain(&event.named_collaborators) {
        let p = sql.id(*u);
        users.push(format!("SELECT {p}"));
    }
    let administers = crate::predicates::administers("m.role");
    let query = format!(
        "WITH es AS ({estates}), us AS ({users})
         SELECT w.id, w.events FROM webhook_endpoints w
         JOIN users o ON o.id = w.owner_id AND o.deleted_at IS NULL AND o.disabled_at IS NULL
         WHERE w.enabled AND w.estate_id IN (SELECT e FROM es)
           AND (EXISTS (SELECT 1 FROM estate_members m
                        WHERE m.estate_id = w.estate_id AND m.user_id = w.owner_id AND {administers})
                OR o.is_root)
         UNION
         SELECT w.id, w.events FROM webhook_endpoints w
         JOIN users o ON o.id = w.owner_id AND o.deleted_at IS NULL AND o.disabled_at IS NULL
         WHERE w.enabled AND w.estate_id IS NULL AND w.owner_id IN (SELECT u FROM us)",
        estates = estates.join(" UNION ALL "),
        users = users.join(" UNION ALL "),
    );
    let matched: Vec<Matched> = sql.load(conn, &query)?;
    let wanted: Vec<&Matched> = matched
        .iter()
        .filter(|m| m.events.is_empty() || m.events.split(',').any(|a| a == event.action))
        .collect();
    let body = event.payload.to_string();
    for m in &wanted {
        let endpoint: Uuid =
            m.id.parse().map_err(|_| crate::error::StoreError::Corrupt(m.id.clone()))?;
        insert(conn, endpoint, event.event_id, event.action, &body, None, event.at)?;
    }
    Ok(wanted.len())
}

fn insert(
    conn: &mut Conn,
    endpoint: Uuid,
    event_id: Uuid,
    action: &str,
    payload: &str,
    redelivery_of: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    // Time-ordered (and monotonic within the process), so the deliveries
    // one transaction queues go out in the order they were queued.
    let id = Uuid::now_v7();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(DbId(id)),
            webhook_deliveries::endpoint_id.eq(DbId(endpoint)),
            webhook_deliveries::event_id.eq(DbId(event_id)),
            webhook_deliveries::action.eq(action),
            webhook_deliveries::payload.eq(payload),
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(to_db(now)),
            webhook_deliveries::redelivery_of.eq(redelivery_of.map(DbId)),
            webhook_deliveries::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Queues a `ping` to one endpoint (whether or not it is enabled: a
/// manager checking a disabled endpoint before enabling it).
pub fn enqueue_ping(
    conn: &mut Conn,
    endpoint: Uuid,
    payload: &serde_json::Value,
    event_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    insert(conn, endpoint, event_id, "ping", &payload.to_string(), None, now)
}

/// Queues the delivery `id` of `endpoint` again: a new delivery with the
/// same event and body. `None` when there is no such delivery.
pub fn redeliver(
    conn: &mut Conn,
    endpoint: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Delivery>> {
    let Some(old) = delivery(conn, endpoint, id)? else { return Ok(None) };
    let (event_id, action, payload): (DbId, String, String) = webhook_deliveries::table
        .find(DbId(id))
        .select((
            webhook_deliveries::event_id,
            webhook_deliveries::action,
            webhook_deliveries::payload,
        ))
        .first(conn)?;
    let new = insert(conn, endpoint, event_id.0, &action, &payload, Some(old.id), now)?;
    delivery(conn, endpoint, new)
}

// ------------------------------------------------------------------ the log

/// A delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    #[diesel(deserialize_as = DbId)]
    pub id: Uuid,
    #[diesel(deserialize_as = DbId)]
    pub endpoint_id: Uuid,
    #[diesel(deserialize_as = DbId)]
    pub event_id: Uuid,
    pub action: String,
    pub status: String,
    pub attempts: i32,
    #[diesel(deserialize_as = DbTime)]
    pub next_attempt_at: DateTime<Utc>,
    #[diesel(deserialize_as = MaybeTime)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    #[diesel(deserialize_as = MaybeTime)]
    pub delivered_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = MaybeId)]
    pub redelivery_of: Option<Uuid>,
    #[diesel(deserialize_as = DbTime)]
    pub created_at: DateTime<Utc>,
}

/// One delivery of an endpoint.
pub fn delivery(conn: &mut Conn, endpoint: Uuid, id: Uuid) -> Result<Option<Delivery>> {
    Ok(webhook_deliveries::table
        .find(DbId(id))
        .filter(webhook_deliveries::endpoint_id.eq(DbId(endpoint)))
        .select(Delivery::as_select())
        .first(conn)
        .optional()?)
}

/// The body a delivery sends.
pub fn payload(conn: &mut Conn, id: Uuid) -> Result<Option<String>> {
    Ok(webhook_deliveries::table
        .find(DbId(id))
        .select(webhook_deliveries::payload)
        .first(conn)
        .optional()?)
}

/// A page of an endpoint's deliveries, newest first.
pub fn deliveries(
    conn: &mut Conn,
    endpoint: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<Delivery>> {
    let base = || {
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(DbId(endpoint)))
            .into_boxed()
    };
    let rows: Vec<Delivery> = after_instant!(
        base(),
        window.after.as_ref(),
        webhook_deliveries::created_at,
        webhook_deliveries::id,
        desc
    )
    .select(Delivery::as_select())
    .order((webhook_deliveries::created_at.desc(), webhook_deliveries::id.desc()))
    .limit(window.limit.saturating_add(1))
    .offset(window.offset)
    .load(conn)?;
    let counted = count_up_to!(conn, base, webhook_deliveries::id);
    Ok(Page::cut(rows, window.limit, counted))
}

// ------------------------------------------------------------------ workers

/// A claimed delivery: what to send, where, signed with what.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub action: String,
    pub payload: String,
    pub attempts: i32,
    pub url: String,
    pub secret: String,
}

/// Claims up to `limit` due deliveries of enabled endpoints (pings also of
/// disabled ones) until `lease_until`. Call inside a write transaction and
/// commit before delivering.
pub fn claim_due(
    conn: &mut Conn,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Due>> {
    let now_db = to_db(now);
    let enabled = webhook_endpoints::table
        .filter(webhook_endpoints::enabled.eq(true))
        .select(webhook_endpoints::id);
    let due = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now_db))
        .filter(
            webhook_deliveries::locked_until
                .is_null()
                .or(webhook_deliveries::locked_until.lt(now_db)),
        )
        .filter(
            webhook_deliveries::endpoint_id
                .eq_any(enabled)
                .or(webhook_deliveries::action.eq("ping")),
        )
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::created_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .select(webhook_deliveries::id)
        .limit(limit);
    let ids: Vec<DbId> = match conn {
        DbConnection::Postgresql(pg) => due.for_update().skip_locked().load(pg)?,
        DbConnection::Sqlite(lite) => due.load(lite)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
        .set(webhook_deliveries::locked_until.eq(Some(to_db(lease_until))))
        .execute(conn)?;
    type Row = (DbId, DbId, String, String, i32, String, String);
    let rows: Vec<Row> = webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_deliveries::id.eq_any(&ids))
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::created_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .select((
            webhook_deliveries::id,
            webhook_deliveries::endpoint_id,
            webhook_deliveries::action,
            webhook_deliveries::payload,
            webhook_deliveries::attempts,
            webhook_endpoints::url,
            webhook_endpoints::secret,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, endpoint, action, payload, attempts, url, secret)| Due {
            id: id.0,
            endpoint_id: endpoint.0,
            action,
            payload,
            attempts,
            url,
            secret,
        })
        .collect())
}

/// The wait before the next attempt after `attempts` failed ones: 30 s,
/// then five times longer each time, at most six hours.
pub fn backoff(attempts: i32) -> Duration {
    let mut secs: i64 = 30;
    for _ in 1..attempts.clamp(1, 10) {
        secs = (secs * 5).min(6 * 3600);
    }
    Duration::seconds(secs)
}

/// Records a delivered attempt: the endpoint's failures start over.
pub fn mark_delivered(conn: &mut Conn, due: &Due, status: i32, now: DateTime<Utc>) -> Result<()> {
    diesel::update(webhook_deliveries::table.find(DbId(due.id)))
        .set((
            webhook_deliveries::status.eq("delivered"),
            webhook_deliveries::attempts.eq(due.attempts.saturating_add(1)),
            webhook_deliveries::last_attempt_at.eq(Some(to_db(now))),
            webhook_deliveries::last_status.eq(Some(status)),
            webhook_deliveries::last_error.eq(None::<String>),
            webhook_deliveries::delivered_at.eq(Some(to_db(now))),
            webhook_deliveries::locked_until.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
    diesel::update(webhook_endpoints::table.find(DbId(due.endpoint_id)))
        .set(webhook_endpoints::failures.eq(0))
        .execute(conn)?;
    Ok(())
}

/// What a failed attempt did to its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// It stays enabled.
    Kept,
    /// This failure reached the limit: the endpoint is now disabled.
    Disabled(Endpoint),
}

/// Records a failed attempt (the answer's status, if any, and why): the
/// delivery is tried again after [`backoff`] until [`MAX_ATTEMPTS`]; the
/// endpoint's failures grow, and at `disable_after` it is disabled.
pub fn mark_failed(
    conn: &mut Conn,
    due: &Due,
    status: Option<i32>,
    error: &str,
    disable_after: i32,
    now: DateTime<Utc>,
) -> Result<AfterFailure> {
    let attempts = due.attempts.saturating_add(1);
    let last = attempts >= MAX_ATTEMPTS;
    diesel::update(webhook_deliveries::table.find(DbId(due.id)))
        .set((
            webhook_deliveries::status.eq(if last { "failed" } else { "pending" }),
            webhook_deliveries::attempts.eq(attempts),
            webhook_deliveries::next_attempt_at.eq(to_db(now + backoff(attempts))),
            webhook_deliveries::last_attempt_at.eq(Some(to_db(now))),
            webhook_deliveries::last_status.eq(status),
            webhook_deliveries::last_error.eq(Some(error.chars().take(500).collect::<String>())),
            webhook_deliveries::locked_until.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
    let Some(endpoint) = lock(conn, due.endpoint_id)? else { return Ok(AfterFailure::Kept) };
    let failures = endpoint.failures.saturating_add(1);
    let disable = endpoint.enabled && failures >= disable_after.max(1);
    let key = DbId(endpoint.id);
    if disable {
        diesel::update(webhook_endpoints::table.find(key))
            .set((
                webhook_endpoints::failures.eq(failures),
                webhook_endpoints::enabled.eq(false),
                webhook_endpoints::disabled_reason
                    .eq(Some(format!("{failures} failed attempts in a row"))),
                webhook_endpoints::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?;
    } else {
        diesel::update(webhook_endpoints::table.find(key))
            .set(webhook_endpoints::failures.eq(failures))
            .execute(conn)?;
    }
    if disable {
        let now_disabled = get(conn, endpoint.id)?.ok_or(crate::error::StoreError::NotFound)?;
        return Ok(AfterFailure::Disabled(now_disabled));
    }
    Ok(AfterFailure::Kept)
}

/// Pending deliveries (for the metrics gauge).
pub fn pending(conn: &mut Conn) -> Result<i64> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .count()
        .get_result(conn)?)
}
