//! Sessions and their refresh tokens. A session begins at sign-in and ends
//! when it is signed out or revoked, when its refresh token is used twice,
//! or when its account's password changes. Only refresh token hashes are
//! stored; every access token names its session, and the one-statement
//! caller read refuses a token whose session is gone.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::id::DbId;
use crate::paging::{Page, Window, after_instant, count_up_to};
use crate::schema::{refresh_tokens, sessions};
use crate::time::{DbTime, to_db};

/// A session as listed to its user.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    #[diesel(deserialize_as = DbId)]
    pub id: Uuid,
    #[diesel(deserialize_as = DbId)]
    pub user_id: Uuid,
    pub user_agent: Option<String>,
    pub address: Option<String>,
    #[diesel(deserialize_as = DbTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub last_used_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub expires_at: DateTime<Utc>,
}

/// Where a sign-in came from, as the client told it.
#[derive(Debug, Clone, Default)]
pub struct Client<'a> {
    pub user_agent: Option<&'a str>,
    pub address: Option<&'a str>,
}

/// Starts a session for `user_id` whose first refresh token has the hash
/// `refresh_hash`, refreshable until `expires_at`. The user's sessions
/// past their expiry are removed first.
pub fn start(
    conn: &mut Conn,
    user_id: Uuid,
    client: &Client<'_>,
    refresh_hash: &str,
    (now, expires_at): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Session> {
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(DbId(user_id)))
            .filter(sessions::expires_at.le(to_db(now))),
    )
    .execute(conn)?;
    let id = Uuid::new_v4();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(DbId(id)),
            sessions::user_id.eq(DbId(user_id)),
            sessions::user_agent.eq(client.user_agent),
            sessions::address.eq(client.address),
            sessions::created_at.eq(to_db(now)),
            sessions::last_used_at.eq(to_db(now)),
            sessions::expires_at.eq(to_db(expires_at)),
        ))
        .execute(conn)?;
    add_refresh_token(conn, id, refresh_hash, now)?;
    Ok(Session {
        id,
        user_id,
        user_agent: client.user_agent.map(str::to_owned),
        address: client.address.map(str::to_owned),
        created_at: now,
        last_used_at: now,
        expires_at,
    })
}

fn add_refresh_token(conn: &mut Conn, session: Uuid, hash: &str, now: DateTime<Utc>) -> Result<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(hash),
            refresh_tokens::session_id.eq(DbId(session)),
            refresh_tokens::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was the session's newest: it is rotated, the new hash is
    /// the session's token now, and the session's expiry moved.
    Rotated(Session),
    /// No session has this token (never issued, or its session ended).
    Unknown,
    /// The session can no longer be refreshed; it is removed.
    Expired(Session),
    /// The token had been rotated already: someone replayed it. The
    /// session, and every token of it, is removed.
    Reused(Session),
}

/// Presents the refresh token with hash `hash`: rotates it for `new_hash`
/// when it is the session's newest and the session has not expired. The
/// session's row is locked before the token's state is read, so two
/// refreshes with one token run one after the other and the second one
/// counts as a reuse.
pub fn rotate(
    conn: &mut Conn,
    hash: &str,
    new_hash: &str,
    (now, expires_at): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Rotation> {
    let owner: Option<DbId> = refresh_tokens::table
        .find(hash)
        .select(refresh_tokens::session_id)
        .first(conn)
        .optional()?;
    let Some(session_id) = owner else { return Ok(Rotation::Unknown) };
    crate::locks::sessions(conn, &[session_id.0])?;
    let Some(session) = find(conn, session_id.0)? else { return Ok(Rotation::Unknown) };
    let rotated: Option<Option<chrono::NaiveDateTime>> = refresh_tokens::table
        .find(hash)
        .select(refresh_tokens::rotated_at)
        .first(conn)
        .optional()?;
    match rotated {
        None => return Ok(Rotation::Unknown),
        Some(Some(_)) => {
            end(conn, session.id)?;
            return Ok(Rotation::Reused(session));
        }
        Some(None) => {}
    }
    if session.expires_at <= now {
        end(conn, session.id)?;
        return Ok(Rotation::Expired(session));
    }
    diesel::update(refresh_tokens::table.find(hash))
        .set(refresh_tokens::rotated_at.eq(Some(to_db(now))))
        .execute(conn)?;
    add_refresh_token(conn, session.id, new_hash, now)?;
    diesel::update(sessions::table.find(DbId(session.id)))
        .set((sessions::last_used_at.eq(to_db(now)), sessions::expires_at.eq(to_db(expires_at))))
        .execute(conn)?;
    Ok(Rotation::Rotated(Session { last_used_at: now, expires_at, ..session }))
}

/// One session by id.
pub fn find(conn: &mut Conn, id: Uuid) -> Result<Option<Session>> {
    Ok(sessions::table.find(DbId(id)).select(Session::as_select()).first(conn).optional()?)
}

/// Ends one session (its refresh tokens go with it). Whether it existed.
pub fn end(conn: &mut Conn, id: Uuid) -> Result<bool> {
    Ok(diesel::delete(sessions::table.find(DbId(id))).execute(conn)? == 1)
}

/// Ends one of the user's sessions (another user's session id is not
/// found). The session as it was, if it existed.
pub fn end_own(conn: &mut Conn, user_id: Uuid, id: Uuid) -> Result<Option<Session>> {
    let found = sessions::table
        .filter(sessions::id.eq(DbId(id)))
        .filter(sessions::user_id.eq(DbId(user_id)))
        .select(Session::as_select())
        .first(conn)
        .optional()?;
    if let Some(s) = &found {
        end(conn, s.id)?;
    }
    Ok(found)
}

/// Ends every session of the user except `keep`. How many ended.
pub fn end_all_but(conn: &mut Conn, user_id: Uuid, keep: Option<Uuid>) -> Result<usize> {
    let mine = sessions::table.filter(sessions::user_id.eq(DbId(user_id)));
    Ok(match keep {
        Some(keep) => diesel::delete(mine.filter(sessions::id.ne(DbId(keep)))).execute(conn)?,
        None => diesel::delete(mine).execute(conn)?,
    })
}

/// A page of the user's sessions that can still be refreshed, newest first
/// (then by id); the total counted up to
/// [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT).
pub fn list(
    conn: &mut Conn,
    user_id: Uuid,
    window: &Window<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Page<Session>> {
    let base = || {
        sessions::table
            .filter(sessions::user_id.eq(DbId(user_id)))
            .filter(sessions::expires_at.gt(to_db(now)))
            .into_boxed()
    };
    let rows: Vec<Session> =
        after_instant!(base(), window.after.as_ref(), sessions::created_at, sessions::id, desc)
            .select(Session::as_select())
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .limit(window.limit.saturating_add(1))
            .offset(window.offset)
            .load(conn)?;
    let counted = count_up_to!(conn, base, sessions::id);
    Ok(Page::cut(rows, window.limit, counted))
}

/// Whether one of the user's live sessions began from this client (the
/// same `User-Agent` and address): a sign-in from any other is new.
pub fn knows_client(
    conn: &mut Conn,
    user_id: Uuid,
    client: &Client<'_>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let seen: Vec<(Option<String>, Option<String>)> = sessions::table
        .filter(sessions::user_id.eq(DbId(user_id)))
        .filter(sessions::expires_at.gt(to_db(now)))
        .select((sessions::user_agent, sessions::address))
        .distinct()
        .limit(1000)
        .load(conn)?;
    Ok(seen.iter().any(|(agent, address)| {
        agent.as_deref() == client.user_agent && address.as_deref() == client.address
    }))
}
