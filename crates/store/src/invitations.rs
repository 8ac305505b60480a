//! Invitations by email (estate and asset alike). Tokens are stored only as
//! hashes; a pending invitation past its expiry reads as expired at once (the
//! status filter derives it), and the sweeper writes it later.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::InvitationState;
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{invitations, users};
use crate::time::{from_db, to_db};
use crate::users::parse_id;

/// What an invitation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    Estate,
    Asset,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Estate => "estate",
            Self::Asset => "asset",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "estate" => Ok(Self::Estate),
            "asset" => Ok(Self::Asset),
            other => Err(StoreError::Corrupt(format!(
                "unknown resource type {other:?}"
            ))),
        }
    }
}

/// An invitation as stored, with its sender's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: Uuid,
    pub resource_type: ResourceType,
    pub resource_id: Uuid,
    pub email: String,
    /// The estate role or asset permission offered.
    pub role: String,
    pub message: Option<String>,
    /// As stored: may be `pending` past its expiry (see `effective_state`).
    pub status: InvitationState,
    pub invited_by: Uuid,
    pub inviter_username: String,
    pub inviter_display_name: String,
    pub invited_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub last_sent_at: DateTime<Utc>,
    pub resend_count: i32,
    pub responded_at: Option<DateTime<Utc>>,
}

type Row = (
    (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
    ),
    (
        Option<NaiveDateTime>,
        NaiveDateTime,
        i32,
        Option<NaiveDateTime>,
    ),
    (String, String),
);

fn columns() -> _Columns {
    (
        (
            invitations::id,
            invitations::resource_type,
            invitations::resource_id,
            invitations::email,
            invitations::role,
            invitations::message,
            invitations::status,
            invitations::invited_by,
            invitations::invited_at,
            invitations::expires_at,
        ),
        (
            invitations::access_expires_at,
            invitations::last_sent_at,
            invitations::resend_count,
            invitations::responded_at,
        ),
        (users::username, users::display_name),
    )
}

type _Columns = (
    (
        invitations::id,
        invitations::resource_type,
        invitations::resource_id,
        invitations::email,
        invitations::role,
        invitations::message,
        invitations::status,
        invitations::invited_by,
        invitations::invited_at,
        invitations::expires_at,
    ),
    (
        invitations::access_expires_at,
        invitations::last_sent_at,
        invitations::resend_count,
        invitations::responded_at,
    ),
    (users::username, users::display_name),
);

fn from_row(r: Row) -> Result<Invitation, StoreError> {
    let (
        (
            id,
            resource_type,
            resource_id,
            email,
            role,
            message,
            status,
            invited_by,
            invited_at,
            expires_at,
        ),
        (access_expires_at, last_sent_at, resend_count, responded_at),
        (inviter_username, inviter_display_name),
    ) = r;
    Ok(Invitation {
        id: parse_id(&id)?,
        resource_type: ResourceType::parse(&resource_type)?,
        resource_id: parse_id(&resource_id)?,
        email,
        role,
        message,
        status: status
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("unknown status {status:?}")))?,
        invited_by: parse_id(&invited_by)?,
        inviter_username,
        inviter_display_name,
        invited_at: from_db(invited_at),
        expires_at: expires_at.map(from_db),
        access_expires_at: access_expires_at.map(from_db),
        last_sent_at: from_db(last_sent_at),
        resend_count,
        responded_at: responded_at.map(from_db),
    })
}

macro_rules! with_inviter {
    () => {
        invitations::table.inner_join(users::table.on(users::id.eq(invitations::invited_by)))
    };
}

/// The insert form.
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    pub resource_type: ResourceType,
    pub resource_id: Uuid,
    pub email: &'a str,
    pub role: &'a str,
    pub message: Option<&'a str>,
    pub token_hash: &'a str,
    pub invited_by: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
    pub access_expires_at: Option<DateTime<Utc>>,
}

/// A pending invitation for the same resource and email already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyPending;

/// Inserts a pending invitation. A pending one past its expiry is written
/// as expired first, so it does not block the new one.
pub fn insert(
    conn: &mut DbConnection,
    new: &NewInvitation<'_>,
    now: DateTime<Utc>,
) -> Result<Result<Invitation, AlreadyPending>, StoreError> {
    let same = invitations::table
        .filter(invitations::resource_type.eq(new.resource_type.as_str()))
        .filter(invitations::resource_id.eq(new.resource_id.to_string()))
        .filter(invitations::email.eq(new.email))
        .filter(invitations::status.eq(InvitationState::Pending.as_str()));
    diesel::update(same.clone().filter(invitations::expires_at.le(to_db(now))))
        .set(invitations::status.eq(InvitationState::Expired.as_str()))
        .execute(conn)?;
    if same
        .select(invitations::id)
        .first::<String>(conn)
        .optional()?
        .is_some()
    {
        return Ok(Err(AlreadyPending));
    }
    let id = Uuid::new_v4();
    let inserted = diesel::insert_into(invitations::table)
        .values((
            invitations::id.eq(id.to_string()),
            invitations::resource_type.eq(new.resource_type.as_str()),
            invitations::resource_id.eq(new.resource_id.to_string()),
            invitations::email.eq(new.email),
            invitations::role.eq(new.role),
            invitations::message.eq(new.message),
            invitations::status.eq(InvitationState::Pending.as_str()),
            invitations::token_hash.eq(new.token_hash),
            invitations::invited_by.eq(new.invited_by.to_string()),
            invitations::invited_at.eq(to_db(now)),
            invitations::expires_at.eq(new.expires_at.map(to_db)),
            invitations::access_expires_at.eq(new.access_expires_at.map(to_db)),
            invitations::last_sent_at.eq(to_db(now)),
            invitations::resend_count.eq(0),
        ))
        .execute(conn)
        .map_err(StoreError::from);
    match inserted {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return Ok(Err(AlreadyPending)),
        Err(e) => return Err(e),
    }
    get(conn, id)?.ok_or(StoreError::NotFound).map(Ok)
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Invitation>, StoreError> {
    with_inviter!()
        .filter(invitations::id.eq(id.to_string()))
        .select(columns())
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// One invitation of one resource (so an id from elsewhere is not found).
pub fn get_for_resource(
    conn: &mut DbConnection,
    resource_type: ResourceType,
    resource_id: Uuid,
    id: Uuid,
) -> Result<Option<Invitation>, StoreError> {
    with_inviter!()
        .filter(invitations::id.eq(id.to_string()))
        .filter(invitations::resource_type.eq(resource_type.as_str()))
        .filter(invitations::resource_id.eq(resource_id.to_string()))
        .select(columns())
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// By the hash of its current token.
pub fn find_by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<Invitation>, StoreError> {
    with_inviter!()
        .filter(invitations::token_hash.eq(token_hash))
        .select(columns())
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// Moves a pending invitation to `to`. Returns false when it was no longer
/// pending (a concurrent request won), so exactly one transition happens.
pub fn transition(
    conn: &mut DbConnection,
    id: Uuid,
    to: InvitationState,
    responded_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let responded = matches!(to, InvitationState::Accepted | InvitationState::Declined);
    let n = diesel::update(
        invitations::table
            .filter(invitations::id.eq(id.to_string()))
            .filter(invitations::status.eq(InvitationState::Pending.as_str())),
    )
    .set((
        invitations::status.eq(to.as_str()),
        invitations::responded_at.eq(responded.then(|| to_db(now))),
        invitations::responded_by.eq(responded_by.map(|u| u.to_string())),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Replaces the token (the old link dies) and the expiry of a pending
/// invitation. Returns false when it was no longer pending.
pub fn resend(
    conn: &mut DbConnection,
    id: Uuid,
    token_hash: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        invitations::table
            .filter(invitations::id.eq(id.to_string()))
            .filter(invitations::status.eq(InvitationState::Pending.as_str())),
    )
    .set((
        invitations::token_hash.eq(token_hash),
        invitations::expires_at.eq(expires_at.map(to_db)),
        invitations::last_sent_at.eq(to_db(now)),
        invitations::resend_count.eq(invitations::resend_count + 1),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The invitations of one resource, newest first, optionally by effective
/// status (a pending invitation past its expiry counts as expired).
pub fn list_for_resource(
    conn: &mut DbConnection,
    resource_type: ResourceType,
    resource_id: Uuid,
    status: Option<InvitationState>,
    now: DateTime<Utc>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Invitation>, i64), StoreError> {
    let now = to_db(now);
    let pending = InvitationState::Pending.as_str();
    let base = || {
        let q = with_inviter!()
            .filter(invitations::resource_type.eq(resource_type.as_str()))
            .filter(invitations::resource_id.eq(resource_id.to_string()))
            .into_boxed();
        match status {
            None => q,
            Some(InvitationState::Pending) => q.filter(invitations::status.eq(pending)).filter(
                invitations::expires_at
                    .is_null()
                    .or(invitations::expires_at.gt(now)),
            ),
            Some(InvitationState::Expired) => q.filter(
                invitations::status
                    .eq(InvitationState::Expired.as_str())
                    .or(invitations::status
                        .eq(pending)
                        .and(invitations::expires_at.le(now))),
            ),
            Some(other) => q.filter(invitations::status.eq(other.as_str())),
        }
    };
    let rows: Vec<Row> = base()
        .select(columns())
        .order((invitations::invited_at.desc(), invitations::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let total = base().count().get_result(conn)?;
    Ok((
        rows.into_iter().map(from_row).collect::<Result<_, _>>()?,
        total,
    ))
}

/// Pending, unexpired invitations addressed to an email, newest first.
pub fn pending_for_email(
    conn: &mut DbConnection,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>, StoreError> {
    with_inviter!()
        .filter(invitations::email.eq(email))
        .filter(invitations::status.eq(InvitationState::Pending.as_str()))
        .filter(
            invitations::expires_at
                .is_null()
                .or(invitations::expires_at.gt(to_db(now))),
        )
        .select(columns())
        .order((invitations::invited_at.desc(), invitations::id.desc()))
        .limit(500)
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Writes `expired` on pending invitations past their expiry and returns
/// them (the sweeper records each in the audit trail).
pub fn expire_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Invitation>, StoreError> {
    let due: Vec<Invitation> = with_inviter!()
        .filter(invitations::status.eq(InvitationState::Pending.as_str()))
        .filter(invitations::expires_at.le(to_db(now)))
        .select(columns())
        .order(invitations::expires_at.asc())
        .limit(limit)
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect::<Result<_, _>>()?;
    let mut expired = Vec::with_capacity(due.len());
    for inv in due {
        if transition(conn, inv.id, InvitationState::Expired, None, now)? {
            expired.push(inv);
        }
    }
    Ok(expired)
}

/// Deletes every invitation of a resource (when the resource is deleted).
pub fn delete_for_resource(
    conn: &mut DbConnection,
    resource_type: ResourceType,
    resource_id: Uuid,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        invitations::table
            .filter(invitations::resource_type.eq(resource_type.as_str()))
            .filter(invitations::resource_id.eq(resource_id.to_string())),
    )
    .execute(conn)?)
}

/// How many invitation emails a user sent (new or resent) since `since`.
pub fn sent_since(
    conn: &mut DbConnection,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(invitations::table
        .filter(invitations::invited_by.eq(user_id.to_string()))
        .filter(invitations::last_sent_at.ge(to_db(since)))
        .count()
        .get_result(conn)?)
}
