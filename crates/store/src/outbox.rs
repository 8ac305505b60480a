//! The mail outbox: every email is a row written in the transaction of the
//! change that causes it, delivered afterwards by a worker with retries.
//!
//! Workers claim due rows by setting a lease (`locked_until`); on PostgreSQL
//! the claim uses `FOR UPDATE SKIP LOCKED`, so several workers (one per API
//! replica) never claim the same row. A row whose lease ran out (a worker died
//! mid-delivery) becomes due again. Delivered rows keep their envelope but
//! lose their body, so links with one-time tokens do not linger in the table.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{Conn, DbConnection};
use crate::error::Result;
use crate::id::DbId;
use crate::schema::mail_outbox;
use crate::time::{from_db, to_db};

/// An email to queue.
#[derive(Clone)]
pub struct NewMail {
    /// What caused it (`verify_email`, `password_reset`, ...), for operators.
    pub kind: &'static str,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
}

// The body may carry a one-time token: never print it.
debug_showing!(NewMail: kind);

/// A claimed email, ready to deliver.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct OutboxMail {
    #[diesel(deserialize_as = DbId)]
    pub id: Uuid,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub attempts: i32,
}

debug_showing!(OutboxMail: id, kind, attempts);

/// Queues an email inside the caller's transaction.
pub fn enqueue(conn: &mut Conn, mail: &NewMail, now: DateTime<Utc>) -> Result<Uuid> {
    let id = Uuid::new_v4();
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::id.eq(DbId(id)),
            mail_outbox::kind.eq(mail.kind),
            mail_outbox::recipient.eq(&mail.recipient),
            mail_outbox::subject.eq(&mail.subject),
            mail_outbox::body_text.eq(&mail.body_text),
            mail_outbox::status.eq("pending"),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_attempt_at.eq(to_db(now)),
            mail_outbox::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Claims up to `limit` due rows until `lease_until`. Call inside a write
/// transaction and commit before delivering.
pub fn claim_due(
    conn: &mut Conn,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OutboxMail>> {
    let now_db = to_db(now);
    let due = mail_outbox::table
        .filter(mail_outbox::status.eq("pending"))
        .filter(mail_outbox::next_attempt_at.le(now_db))
        .filter(mail_outbox::locked_until.is_null().or(mail_outbox::locked_until.lt(now_db)))
        .order((mail_outbox::next_attempt_at.asc(), mail_outbox::created_at.asc()))
        .select(mail_outbox::id)
        .limit(limit);
    let ids: Vec<DbId> = match conn {
        DbConnection::Postgresql(pg) => due.for_update().skip_locked().load(pg)?,
        DbConnection::Sqlite(lite) => due.load(lite)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(&ids)))
        .set(mail_outbox::locked_until.eq(Some(to_db(lease_until))))
        .execute(conn)?;
    Ok(mail_outbox::table
        .filter(mail_outbox::id.eq_any(&ids))
        .order((mail_outbox::next_attempt_at.asc(), mail_outbox::created_at.asc()))
        .select(OutboxMail::as_select())
        .load(conn)?)
}

/// Records a delivery: the row is final and its body is dropped.
pub fn mark_sent(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    diesel::update(mail_outbox::table.find(DbId(id)))
        .set((
            mail_outbox::status.eq("sent"),
            mail_outbox::sent_at.eq(Some(to_db(now))),
            mail_outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
            mail_outbox::body_text.eq(""),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// The wait before the next attempt after `attempts` failures: 5 s doubling
/// up to one hour. Failed mail is never dropped.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(0, 10) as u32;
    Duration::seconds((5_i64 << exp).min(3600))
}

/// Records a failed attempt and schedules the next one.
pub fn mark_failed(
    conn: &mut Conn,
    id: Uuid,
    error: &str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    let attempts: i32 =
        mail_outbox::table.find(DbId(id)).select(mail_outbox::attempts).first(conn)?;
    let attempts = attempts.saturating_add(1);
    let next = now + backoff(attempts - 1);
    let error: String = error.chars().take(1000).collect();
    diesel::update(mail_outbox::table.find(DbId(id)))
        .set((
            mail_outbox::attempts.eq(attempts),
            mail_outbox::next_attempt_at.eq(to_db(next)),
            mail_outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
            mail_outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(next)
}

/// Counts of the outbox by state, for metrics and operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
}

pub fn counts(conn: &mut Conn) -> Result<OutboxCounts> {
    let pending =
        mail_outbox::table.filter(mail_outbox::status.eq("pending")).count().get_result(conn)?;
    let sent =
        mail_outbox::table.filter(mail_outbox::status.eq("sent")).count().get_result(conn)?;
    Ok(OutboxCounts { pending, sent })
}

/// When the oldest pending row was queued (for a stuck-mail gauge).
pub fn oldest_pending(conn: &mut Conn) -> Result<Option<DateTime<Utc>>> {
    let t: Option<chrono::NaiveDateTime> = mail_outbox::table
        .filter(mail_outbox::status.eq("pending"))
        .select(diesel::dsl::min(mail_outbox::created_at))
        .first(conn)?;
    Ok(t.map(from_db))
}

/// How many emails of these kinds were queued for `recipient` since `since`
/// (sent or not): the per-address budget of account links.
pub fn queued_for_since(
    conn: &mut Conn,
    recipient: &str,
    kinds: &[&str],
    since: DateTime<Utc>,
) -> Result<i64> {
    Ok(mail_outbox::table
        .filter(mail_outbox::recipient.eq(recipient))
        .filter(mail_outbox::kind.eq_any(kinds))
        .filter(mail_outbox::created_at.ge(to_db(since)))
        .count()
        .get_result(conn)?)
}
