//! Email address changes waiting for the new address to confirm them. Only
//! the hash of a confirmation token is stored; a newer request replaces an
//! older one, and nothing about the account changes until a link works.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::id::DbId;
use crate::schema::email_changes;
use crate::time::{from_db, to_db};

/// A requested change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChange {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The address the account moves to (normalised).
    pub new_email: String,
    /// The account's address when the change was asked for.
    pub old_email: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = email_changes)]
struct Row {
    id: DbId,
    user_id: DbId,
    new_email: String,
    old_email: String,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl From<Row> for EmailChange {
    fn from(r: Row) -> Self {
        Self {
            id: r.id.0,
            user_id: r.user_id.0,
            new_email: r.new_email,
            old_email: r.old_email,
            expires_at: from_db(r.expires_at),
            used_at: r.used_at.map(from_db),
            created_at: from_db(r.created_at),
        }
    }
}

/// What a new request stores.
#[derive(Debug, Clone)]
pub struct NewEmailChange<'a> {
    pub user_id: Uuid,
    pub new_email: &'a str,
    pub old_email: &'a str,
    pub token_hash: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// Stores a request, replacing the account's unused ones (only the newest
/// link works).
pub fn replace(conn: &mut Conn, change: &NewEmailChange<'_>, now: DateTime<Utc>) -> Result<Uuid> {
    cancel_pending(conn, change.user_id)?;
    let id = Uuid::new_v4();
    diesel::insert_into(email_changes::table)
        .values((
            email_changes::id.eq(DbId(id)),
            email_changes::user_id.eq(DbId(change.user_id)),
            email_changes::new_email.eq(change.new_email),
            email_changes::old_email.eq(change.old_email),
            email_changes::token_hash.eq(change.token_hash),
            email_changes::expires_at.eq(to_db(change.expires_at)),
            email_changes::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Drops the account's unused requests. How many there were.
pub fn cancel_pending(conn: &mut Conn, user_id: Uuid) -> Result<usize> {
    Ok(diesel::delete(
        email_changes::table
            .filter(email_changes::user_id.eq(DbId(user_id)))
            .filter(email_changes::used_at.is_null()),
    )
    .execute(conn)?)
}

/// The request whose token has this hash, if any.
pub fn find(conn: &mut Conn, token_hash: &str) -> Result<Option<EmailChange>> {
    Ok(email_changes::table
        .filter(email_changes::token_hash.eq(token_hash))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(EmailChange::from))
}

/// The account's unused request, if any.
pub fn pending_of(conn: &mut Conn, user_id: Uuid) -> Result<Option<EmailChange>> {
    Ok(email_changes::table
        .filter(email_changes::user_id.eq(DbId(user_id)))
        .filter(email_changes::used_at.is_null())
        .select(Row::as_select())
        .order(email_changes::created_at.desc())
        .first(conn)
        .optional()?
        .map(EmailChange::from))
}

/// Marks a request used, once: whether this call did.
pub fn consume(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    Ok(diesel::update(
        email_changes::table
            .filter(email_changes::id.eq(DbId(id)))
            .filter(email_changes::used_at.is_null()),
    )
    .set(email_changes::used_at.eq(Some(to_db(now))))
    .execute(conn)?
        == 1)
}

/// When the account last asked for a change, if ever.
pub fn last_requested(conn: &mut Conn, user_id: Uuid) -> Result<Option<DateTime<Utc>>> {
    let at: Option<chrono::NaiveDateTime> = email_changes::table
        .filter(email_changes::user_id.eq(DbId(user_id)))
        .select(diesel::dsl::max(email_changes::created_at))
        .first(conn)?;
    Ok(at.map(from_db))
}
