//! One-time tokens sent by email (verification, password reset). Only the
//! hash of a token is stored; lookups go through the hash.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::id::DbId;
use crate::schema::email_tokens;
use crate::time::{from_db, to_db};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    PasswordReset,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EmailToken {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The address the token was sent to.
    pub email: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// The user's unused tokens of one purpose.
#[diesel::dsl::auto_type]
fn unused(user_id: Uuid, purpose: Purpose) -> _ {
    let user: DbId = DbId(user_id);
    let purpose: &'static str = purpose.as_str();
    email_tokens::table
        .filter(email_tokens::user_id.eq(user))
        .filter(email_tokens::purpose.eq(purpose))
        .filter(email_tokens::used_at.is_null())
}

/// Stores a new token hash for `user_id`, replacing any unused token of the
/// same purpose (only the newest link works).
pub fn replace(
    conn: &mut Conn,
    user_id: Uuid,
    purpose: Purpose,
    token_hash: &str,
    email: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    revoke_all(conn, user_id, purpose)?;
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::id.eq(DbId(Uuid::new_v4())),
            email_tokens::user_id.eq(DbId(user_id)),
            email_tokens::purpose.eq(purpose.as_str()),
            email_tokens::token_hash.eq(token_hash),
            email_tokens::email.eq(email),
            email_tokens::expires_at.eq(to_db(expires_at)),
            email_tokens::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = email_tokens)]
struct TokenRow {
    id: DbId,
    user_id: DbId,
    email: String,
    expires_at: chrono::NaiveDateTime,
    used_at: Option<chrono::NaiveDateTime>,
}

/// Finds a token by its hash and purpose.
pub fn find(conn: &mut Conn, purpose: Purpose, token_hash: &str) -> Result<Option<EmailToken>> {
    let row: Option<TokenRow> = email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|r| EmailToken {
        id: r.id.0,
        user_id: r.user_id.0,
        email: r.email,
        expires_at: from_db(r.expires_at),
        used_at: r.used_at.map(from_db),
    }))
}

/// Marks a token used. Returns false when it was already used (a concurrent
/// request won), so each token works once.
pub fn consume(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let n =
        diesel::update(email_tokens::table.find(DbId(id)).filter(email_tokens::used_at.is_null()))
            .set(email_tokens::used_at.eq(Some(to_db(now))))
            .execute(conn)?;
    Ok(n == 1)
}

/// Invalidates every unused token of a purpose for a user (after a password
/// change, outstanding reset links die).
pub fn revoke_all(conn: &mut Conn, user_id: Uuid, purpose: Purpose) -> Result<()> {
    diesel::delete(unused(user_id, purpose)).execute(conn)?;
    Ok(())
}

/// When the newest unused link of this purpose was sent to the user, if any.
pub fn last_sent(
    conn: &mut Conn,
    user_id: Uuid,
    purpose: Purpose,
) -> Result<Option<DateTime<Utc>>> {
    let at: Option<chrono::NaiveDateTime> =
        unused(user_id, purpose).select(diesel::dsl::max(email_tokens::created_at)).first(conn)?;
    Ok(at.map(from_db))
}
