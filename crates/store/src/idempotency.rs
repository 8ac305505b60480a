//! Stored answers to creating requests sent with an `Idempotency-Key`: per
//! caller and key, the request they answered (method and path, a hash of
//! the body) and the answer (status, `Location`, body), kept 24 hours.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{Conn, DbConnection};
use crate::error::Result;
use crate::id::DbId;
use crate::schema::idempotency_keys;
use crate::time::{DbTime, to_db};

/// How long an answer is replayed.
pub const KEPT_FOR: Duration = Duration::hours(24);

/// One stored answer and the request it answered.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct Stored {
    /// `METHOD /path` of the request.
    pub request: String,
    /// Hex SHA-256 of the request body.
    pub body_hash: String,
    pub status: i32,
    pub location: Option<String>,
    pub body: String,
    #[diesel(deserialize_as = DbTime)]
    pub created_at: DateTime<Utc>,
}

/// On PostgreSQL, takes the transaction-scoped advisory lock for `slot`
/// without waiting: `false` when another transaction holds it (a request
/// with the same key still running). SQLite runs one writer at a time, so
/// the lock is always free there.
pub fn try_claim(conn: &mut Conn, slot: i64) -> Result<bool> {
    #[derive(QueryableByName)]
    struct Claimed {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        claimed: bool,
    }
    let DbConnection::Postgresql(pg) = conn else { return Ok(true) };
    let row: Claimed = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS claimed")
        .bind::<diesel::sql_types::BigInt, _>(slot)
        .get_result(pg)?;
    Ok(row.claimed)
}

/// The caller's answer under `key` made after `now - KEPT_FOR`, if any.
pub fn find(conn: &mut Conn, user: Uuid, key: &str, now: DateTime<Utc>) -> Result<Option<Stored>> {
    Ok(idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(DbId(user)))
        .filter(idempotency_keys::idem_key.eq(key))
        .filter(idempotency_keys::created_at.gt(to_db(now - KEPT_FOR)))
        .select(Stored::as_select())
        .first(conn)
        .optional()?)
}

/// Stores the answer under the caller's key, dropping every answer older
/// than [`KEPT_FOR`] first (this key's expired one included).
pub fn store(conn: &mut Conn, user: Uuid, key: &str, answer: &Stored) -> Result<()> {
    let cutoff = to_db(answer.created_at - KEPT_FOR);
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.le(cutoff)))
        .execute(conn)?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(DbId(user)),
            idempotency_keys::idem_key.eq(key),
            idempotency_keys::request.eq(&answer.request),
            idempotency_keys::body_hash.eq(&answer.body_hash),
            idempotency_keys::status.eq(answer.status),
            idempotency_keys::location.eq(answer.location.as_deref()),
            idempotency_keys::body.eq(&answer.body),
            idempotency_keys::created_at.eq(to_db(answer.created_at)),
        ))
        .execute(conn)?;
    Ok(())
}
