//! Invitations by email (estate and asset alike). Tokens are stored only as
//! hashes; a pending invitation past its expiry reads as expired at once (the
//! status filter derives it), and the sweeper writes it later.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::InvitationState;
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{audit_events, invitations, users};
use crate::time::{from_db, to_db};
use crate::users::parse_id;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};

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

pub(crate) type Row = (
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

pub(crate) fn from_row(r: Row) -> Result<Invitation, StoreError> {
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

/// The audit actions written with each invitation email a user sends, in
/// the transaction that queues it: a new invitation and a resend (estate and
/// asset alike).
pub const EMAIL_ACTIONS: [&str; 2] = ["invitation.created", "invitation.resent"];

/// How many invitation emails a user sent (new or resent) since `since`:
/// one per [`EMAIL_ACTIONS`] audit event, so every resend counts (an
/// invitation row only keeps its last sending).
///
/// Call it in the write transaction that sends the next email. On
/// PostgreSQL it first locks the user's row, so a second send by the same
/// user waits for the first to commit and then counts it; SQLite runs one
/// writer at a time.
pub fn sent_since(
    conn: &mut DbConnection,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        users::table
            .filter(users::id.eq(user_id.to_string()))
            .select(users::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(audit_events::table
        .filter(audit_events::actor_id.eq(user_id.to_string()))
        .filter(audit_events::action.eq_any(EMAIL_ACTIONS))
        .filter(audit_events::created_at.ge(to_db(since)))
        .count()
        .get_result(conn)?)
}

// ------------------------------------------------------------------ the asset invitation table

/// How the management table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    InvitedAt {
        descending: bool,
    },
    /// "Never" sorts after every date.
    ExpiresAt {
        descending: bool,
    },
    Email {
        descending: bool,
    },
}

/// Filters of the management table.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    /// Case-insensitive, in the email or the asset's name or reference.
    pub q: Option<String>,
    pub status: Option<InvitationState>,
    pub permission: Option<String>,
    pub asset_id: Option<Uuid>,
}

/// A row of the management table: the invitation and its asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetInvitation {
    pub invitation: Invitation,
    pub asset_name: String,
    pub asset_reference: Option<String>,
}

/// The six counters of the stats cards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub total: i64,
    pub pending: i64,
    pub accepted: i64,
    pub declined: i64,
    pub expired: i64,
    pub cancelled: i64,
}

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    resource_id: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<Text>)]
    message: Option<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    invited_by: String,
    #[diesel(sql_type = Timestamp)]
    invited_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    access_expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Timestamp)]
    last_sent_at: NaiveDateTime,
    #[diesel(sql_type = Integer)]
    resend_count: i32,
    #[diesel(sql_type = Nullable<Timestamp>)]
    responded_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Text)]
    inviter_username: String,
    #[diesel(sql_type = Text)]
    inviter_display_name: String,
    #[diesel(sql_type = Text)]
    asset_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    asset_reference: Option<String>,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The asset invitations a user may manage: on assets where they have full
/// access (collaborator, estate admin or owner of the asset's estate), or
/// all for root. Mirrors the domain's `administers_asset` in SQL, so the
/// filter runs in the query.
const VISIBLE: &str = "i.resource_type = 'asset'
  AND (p.is_root
       OR EXISTS (SELECT 1 FROM asset_collaborators c WHERE c.asset_id = a.id AND c.user_id = p.uid)
       OR EXISTS (SELECT 1 FROM estate_members m WHERE m.estate_id = a.estate_id AND m.user_id = p.uid
                  AND m.role IN ('admin', 'owner')))
  AND (p.asset = '' OR a.id = p.asset)";

const TABLE_SQL: &str = "
WITH p AS (SELECT {uid} AS uid, {root} AS is_root, {now} AS now, {asset} AS asset,
                  {pattern} AS pattern, {status} AS status, {permission} AS permission)
SELECT i.id, i.resource_id, i.email, i.role, i.message, i.status, i.invited_by, i.invited_at,
       i.expires_at, i.access_expires_at, i.last_sent_at, i.resend_count, i.responded_at,
       u.username AS inviter_username, u.display_name AS inviter_display_name,
       a.name AS asset_name, a.reference AS asset_reference,
       COUNT(*) OVER () AS total
FROM invitations i
JOIN assets a ON a.id = i.resource_id
JOIN users u ON u.id = i.invited_by
CROSS JOIN p
WHERE {visible}
  AND (i.email LIKE p.pattern ESCAPE '\\' OR a.search_text LIKE p.pattern ESCAPE '\\')
  AND (p.permission = '' OR i.role = p.permission)
  AND (p.status = ''
       OR (p.status = 'pending' AND i.status = 'pending' AND (i.expires_at IS NULL OR i.expires_at > p.now))
       OR (p.status = 'expired' AND (i.status = 'expired' OR (i.status = 'pending' AND i.expires_at <= p.now)))
       OR (p.status NOT IN ('pending', 'expired') AND i.status = p.status))
ORDER BY {order}, i.id
LIMIT {limit} OFFSET {offset}";

const STATS_SQL: &str = "
WITH p AS (SELECT {uid} AS uid, {root} AS is_root, {now} AS now, {asset} AS asset)
SELECT COUNT(*) AS total,
  COALESCE(SUM(CASE WHEN i.status = 'pending' AND (i.expires_at IS NULL OR i.expires_at > p.now) THEN 1 ELSE 0 END), 0) AS pending,
  COALESCE(SUM(CASE WHEN i.status = 'accepted' THEN 1 ELSE 0 END), 0) AS accepted,
  COALESCE(SUM(CASE WHEN i.status = 'declined' THEN 1 ELSE 0 END), 0) AS declined,
  COALESCE(SUM(CASE WHEN i.status = 'expired' OR (i.status = 'pending' AND i.expires_at <= p.now) THEN 1 ELSE 0 END), 0) AS expired,
  COALESCE(SUM(CASE WHEN i.status = 'cancelled' THEN 1 ELSE 0 END), 0) AS cancelled
FROM invitations i
JOIN assets a ON a.id = i.resource_id
CROSS JOIN p
WHERE {visible}";

#[derive(QueryableByName)]
struct StatsRow {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = BigInt)]
    accepted: i64,
    #[diesel(sql_type = BigInt)]
    declined: i64,
    #[diesel(sql_type = BigInt)]
    expired: i64,
    #[diesel(sql_type = BigInt)]
    cancelled: i64,
}

/// Placeholders for each backend: `?` for SQLite, `$n` (typed) for PostgreSQL.
fn placeholders(pg: bool, types: &[&str]) -> Vec<String> {
    types
        .iter()
        .enumerate()
        .map(|(n, t)| {
            if pg {
                format!("CAST(${} AS {t})", n + 1)
            } else {
                "?".to_owned()
            }
        })
        .collect()
}

/// One page of the management table, with the total.
#[allow(clippy::too_many_arguments)]
pub fn asset_table(
    conn: &mut DbConnection,
    user_id: Uuid,
    is_root: bool,
    filter: &TableFilter,
    sort: Sort,
    now: DateTime<Utc>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AssetInvitation>, i64), StoreError> {
    let order = match sort {
        Sort::InvitedAt { descending } => {
            format!("i.invited_at {}", if descending { "DESC" } else { "ASC" })
        }
        Sort::ExpiresAt { descending: false } => {
            "CASE WHEN i.expires_at IS NULL THEN 1 ELSE 0 END, i.expires_at ASC".to_owned()
        }
        Sort::ExpiresAt { descending: true } => {
            "CASE WHEN i.expires_at IS NULL THEN 0 ELSE 1 END, i.expires_at DESC".to_owned()
        }
        Sort::Email { descending } => {
            format!("i.email {}", if descending { "DESC" } else { "ASC" })
        }
    };
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let ph = placeholders(
        pg,
        &[
            "TEXT",
            "BOOLEAN",
            "TIMESTAMP",
            "TEXT",
            "TEXT",
            "TEXT",
            "TEXT",
            "BIGINT",
            "BIGINT",
        ],
    );
    let sql = TABLE_SQL
        .replace("{visible}", VISIBLE)
        .replace("{uid}", &ph[0])
        .replace("{root}", &ph[1])
        .replace("{now}", &ph[2])
        .replace("{asset}", &ph[3])
        .replace("{pattern}", &ph[4])
        .replace("{status}", &ph[5])
        .replace("{permission}", &ph[6])
        .replace("{order}", &order)
        .replace("{limit}", if pg { "$8" } else { "?" })
        .replace("{offset}", if pg { "$9" } else { "?" });
    let query = diesel::sql_query(sql)
        .bind::<Text, _>(user_id.to_string())
        .bind::<Bool, _>(is_root)
        .bind::<Timestamp, _>(to_db(now))
        .bind::<Text, _>(filter.asset_id.map(|a| a.to_string()).unwrap_or_default())
        .bind::<Text, _>(crate::assets::like_pattern(filter.q.as_deref()))
        .bind::<Text, _>(
            filter
                .status
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
        )
        .bind::<Text, _>(filter.permission.clone().unwrap_or_default())
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset);
    let rows: Vec<TableRow> = match conn {
        DbConnection::Postgresql(c) => query.load(c)?,
        DbConnection::Sqlite(c) => query.load(c)?,
    };
    let total = rows.first().map_or(0, |r| r.total);
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(AssetInvitation {
                invitation: Invitation {
                    id: parse_id(&r.id)?,
                    resource_type: ResourceType::Asset,
                    resource_id: parse_id(&r.resource_id)?,
                    email: r.email,
                    role: r.role,
                    message: r.message,
                    status: r.status.parse().map_err(|_| {
                        StoreError::Corrupt(format!("unknown status {:?}", r.status))
                    })?,
                    invited_by: parse_id(&r.invited_by)?,
                    inviter_username: r.inviter_username,
                    inviter_display_name: r.inviter_display_name,
                    invited_at: from_db(r.invited_at),
                    expires_at: r.expires_at.map(from_db),
                    access_expires_at: r.access_expires_at.map(from_db),
                    last_sent_at: from_db(r.last_sent_at),
                    resend_count: r.resend_count,
                    responded_at: r.responded_at.map(from_db),
                },
                asset_name: r.asset_name,
                asset_reference: r.asset_reference,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let total = if total == 0 && offset > 0 {
        asset_table(conn, user_id, is_root, filter, sort, now, 1, 0)?.1
    } else {
        total
    };
    Ok((items, total))
}

/// The six stats cards, in one query, with the table's visibility.
pub fn asset_stats(
    conn: &mut DbConnection,
    user_id: Uuid,
    is_root: bool,
    asset_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Stats, StoreError> {
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let ph = placeholders(pg, &["TEXT", "BOOLEAN", "TIMESTAMP", "TEXT"]);
    let sql = STATS_SQL
        .replace("{visible}", VISIBLE)
        .replace("{uid}", &ph[0])
        .replace("{root}", &ph[1])
        .replace("{now}", &ph[2])
        .replace("{asset}", &ph[3]);
    let query = diesel::sql_query(sql)
        .bind::<Text, _>(user_id.to_string())
        .bind::<Bool, _>(is_root)
        .bind::<Timestamp, _>(to_db(now))
        .bind::<Text, _>(asset_id.map(|a| a.to_string()).unwrap_or_default());
    let row: StatsRow = match conn {
        DbConnection::Postgresql(c) => query.get_result(c)?,
        DbConnection::Sqlite(c) => query.get_result(c)?,
    };
    Ok(Stats {
        total: row.total,
        pending: row.pending,
        accepted: row.accepted,
        declined: row.declined,
        expired: row.expired,
        cancelled: row.cancelled,
    })
}

/// Cancels the pending invitations that would undo a removal from an estate:
/// those to the removed member's email and those the removed member sent,
/// on the estate itself and on every asset placed in it. Returns how many.
pub fn cancel_after_removal(
    conn: &mut DbConnection,
    estate_id: Uuid,
    member_id: Uuid,
    member_email: &str,
) -> Result<usize, StoreError> {
    use crate::schema::assets;
    let estate = estate_id.to_string();
    let assets_in_estate = assets::table
        .filter(assets::estate_id.eq(estate.clone()))
        .select(assets::id);
    let on_estate = invitations::resource_type
        .eq(ResourceType::Estate.as_str())
        .and(invitations::resource_id.eq(&estate));
    let on_its_assets = invitations::resource_type
        .eq(ResourceType::Asset.as_str())
        .and(invitations::resource_id.eq_any(assets_in_estate));
    let involving = invitations::email
        .eq(member_email)
        .or(invitations::invited_by.eq(member_id.to_string()));
    Ok(diesel::update(
        invitations::table
            .filter(invitations::status.eq(InvitationState::Pending.as_str()))
            .filter(on_estate.or(on_its_assets))
            .filter(involving),
    )
    .set(invitations::status.eq(InvitationState::Cancelled.as_str()))
    .execute(conn)?)
}

/// Cancels pending invitations to `email` on these assets (their collaborator
/// row or share was just removed: an old invitation must not give it back).
pub fn cancel_to_email_on_assets(
    conn: &mut DbConnection,
    asset_ids: &[Uuid],
    email: &str,
) -> Result<usize, StoreError> {
    let ids: Vec<String> = asset_ids.iter().map(Uuid::to_string).collect();
    Ok(diesel::update(
        invitations::table
            .filter(invitations::status.eq(InvitationState::Pending.as_str()))
            .filter(invitations::resource_type.eq(ResourceType::Asset.as_str()))
            .filter(invitations::resource_id.eq_any(ids))
            .filter(invitations::email.eq(email)),
    )
    .set(invitations::status.eq(InvitationState::Cancelled.as_str()))
    .execute(conn)?)
}
