//! Invitations by email (estate and asset alike). Tokens are stored only as
//! hashes; a pending invitation past its expiry reads as expired at once (the
//! status filter derives it), and the sweeper writes it later.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::InvitationState;
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::paging::{Bind, COUNT_LIMIT, Direction, Page, ReachPage, Sql, Window};
use crate::schema::{audit_events, invitations, users};
use crate::time::{from_db, to_db};
use crate::users::parse_id;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

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

/// The keyset bound of the newest-first invitation lists: rows before the
/// last one shown, by `(invited_at, id)` descending. The `invited_at <= t`
/// conjunct bounds the index range.
macro_rules! newest_after {
    ($q:expr, $after:expr) => {{
        let mut q = $q;
        if let Some((at, id)) = $after {
            let at = to_db(*at);
            q = q.filter(invitations::invited_at.le(at)).filter(
                invitations::invited_at
                    .lt(at)
                    .or(invitations::id.lt(id.to_string())),
            );
        }
        q
    }};
}

/// The page of `base` (a closure giving the boxed, filtered query) in
/// `window`, newest first, with the total counted up to [`COUNT_LIMIT`].
macro_rules! newest_page {
    ($conn:expr, $base:expr, $window:expr) => {{
        let rows: Vec<Row> = newest_after!($base(), $window.after.as_ref())
            .select(columns())
            .order((invitations::invited_at.desc(), invitations::id.desc()))
            .limit($window.limit.saturating_add(1))
            .offset($window.offset)
            .load($conn)?;
        let counted = $base()
            .select(invitations::id)
            .limit(COUNT_LIMIT)
            .load::<String>($conn)?
            .len();
        let rows = rows
            .into_iter()
            .map(from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(
            rows,
            $window.limit,
            i64::try_from(counted).unwrap_or(COUNT_LIMIT),
        ))
    }};
}

/// A page of the invitations of one resource, newest first (then by id),
/// optionally by effective status (a pending invitation past its expiry
/// counts as expired), from the resource's index; the total counted up to
/// [`COUNT_LIMIT`].
pub fn list_for_resource(
    conn: &mut DbConnection,
    resource_type: ResourceType,
    resource_id: Uuid,
    status: Option<InvitationState>,
    now: DateTime<Utc>,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<Invitation>, StoreError> {
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
    newest_page!(conn, base, window)
}

/// A page of the pending, unexpired invitations addressed to an email,
/// newest first (then by id), from the email index; the total counted up
/// to [`COUNT_LIMIT`].
pub fn pending_for_email_page(
    conn: &mut DbConnection,
    email: &str,
    now: DateTime<Utc>,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<Invitation>, StoreError> {
    let now = to_db(now);
    let base = || {
        with_inviter!()
            .filter(invitations::email.eq(email))
            .filter(invitations::status.eq(InvitationState::Pending.as_str()))
            .filter(
                invitations::expires_at
                    .is_null()
                    .or(invitations::expires_at.gt(now)),
            )
            .into_boxed()
    };
    newest_page!(conn, base, window)
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
pub const EMAIL_ACTIONS: [&str; 2] = [
    crate::audit::Action::InvitationCreated.as_str(),
    crate::audit::Action::InvitationResent.as_str(),
];

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

impl TableRow {
    fn into_row(self) -> Result<AssetInvitation, StoreError> {
        Ok(AssetInvitation {
            invitation: Invitation {
                id: parse_id(&self.id)?,
                resource_type: ResourceType::Asset,
                resource_id: parse_id(&self.resource_id)?,
                email: self.email,
                role: self.role,
                message: self.message,
                status: self.status.parse().map_err(|_| {
                    StoreError::Corrupt(format!("unknown status {:?}", self.status))
                })?,
                invited_by: parse_id(&self.invited_by)?,
                inviter_username: self.inviter_username,
                inviter_display_name: self.inviter_display_name,
                invited_at: from_db(self.invited_at),
                expires_at: self.expires_at.map(from_db),
                access_expires_at: self.access_expires_at.map(from_db),
                last_sent_at: from_db(self.last_sent_at),
                resend_count: self.resend_count,
                responded_at: self.responded_at.map(from_db),
            },
            asset_name: self.asset_name,
            asset_reference: self.asset_reference,
        })
    }
}

/// "Never" as a sort key: after every expiry a client can set. The same
/// text is in the expiry index (`migrations/*/..._list_indexes`), so the
/// index serves the sort; keep them identical.
const NEVER: &str = "'9999-12-31 23:59:59'";

fn never() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .unwrap_or_default()
}

/// The sort column's value of a row: where a page of the table starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableKey {
    /// An invitation time, or an expiry.
    At(DateTime<Utc>),
    /// An email.
    Text(String),
    /// An expiry of never.
    Never,
}

impl Sort {
    fn direction(self) -> Direction {
        let descending = match self {
            Self::InvitedAt { descending }
            | Self::ExpiresAt { descending }
            | Self::Email { descending } => descending,
        };
        if descending {
            Direction::Desc
        } else {
            Direction::Asc
        }
    }

    /// The sort key of the invitation aliased `a`.
    fn key(self, a: &str) -> String {
        match self {
            Self::InvitedAt { .. } => format!("{a}.invited_at"),
            Self::ExpiresAt { .. } => format!("COALESCE({a}.expires_at, {NEVER})"),
            Self::Email { .. } => format!("{a}.email"),
        }
    }

    /// A row's key under this sort (for the cursor of the next page).
    pub fn key_of(self, inv: &Invitation) -> TableKey {
        match self {
            Self::InvitedAt { .. } => TableKey::At(inv.invited_at),
            Self::ExpiresAt { .. } => inv.expires_at.map_or(TableKey::Never, TableKey::At),
            Self::Email { .. } => TableKey::Text(inv.email.clone()),
        }
    }

    /// Whether `key` can be a key of this sort.
    pub fn accepts(self, key: &TableKey) -> bool {
        matches!(
            (self, key),
            (Self::InvitedAt { .. }, TableKey::At(_))
                | (Self::ExpiresAt { .. }, TableKey::At(_) | TableKey::Never)
                | (Self::Email { .. }, TableKey::Text(_))
        )
    }
}

/// The conditions of the table on the invitation aliased `x` (beyond its
/// asset): filters, and the keyset position when `after` is given.
struct TableConditions {
    /// Filters, with `{hit}` standing for "the asset's name matches `q`".
    filters: String,
    /// The keyset bound, or empty.
    after: String,
}

impl TableConditions {
    fn new(
        sql: &mut Sql,
        filter: &TableFilter,
        sort: Sort,
        now: DateTime<Utc>,
        after: Option<&(TableKey, Uuid)>,
    ) -> Result<(Self, Option<String>), StoreError> {
        let mut filters = String::new();
        match filter.status {
            None => {}
            Some(InvitationState::Pending) => {
                let now = sql.param(now.into());
                // The COALESCE form (not `IS NULL OR`) lets the sorted
                // covering indexes serve it as a range.
                filters.push_str(&format!(
                    " AND x.status = 'pending' AND COALESCE(x.expires_at, {NEVER}) > {now}"
                ));
            }
            Some(InvitationState::Expired) => {
                let now = sql.param(now.into());
                filters.push_str(&format!(
                    " AND (x.status = 'expired' OR (x.status = 'pending' AND COALESCE(x.expires_at, {NEVER}) <= {now}))"
                ));
            }
            Some(other) => {
                let s = sql.text(other.as_str());
                filters.push_str(&format!(" AND x.status = {s}"));
            }
        }
        if let Some(p) = &filter.permission {
            let p = sql.text(p.clone());
            filters.push_str(&format!(" AND x.role = {p}"));
        }
        let pattern = filter
            .q
            .as_deref()
            .filter(|q| !q.trim().is_empty())
            .map(|q| sql.text(crate::assets::like_pattern(Some(q))));
        if let Some(p) = &pattern {
            filters.push_str(&format!(" AND ({{hit}} OR x.email LIKE {p} ESCAPE '\\')"));
        }
        let after = match after {
            None => String::new(),
            Some((key, id)) => {
                if !sort.accepts(key) {
                    return Err(StoreError::Corrupt("a cursor of another sort".into()));
                }
                let k = sql.param(match key {
                    TableKey::At(t) => (*t).into(),
                    TableKey::Text(s) => Bind::Text(s.clone()),
                    TableKey::Never => Bind::Time(never()),
                });
                let id = sql.text(id.to_string());
                format!(
                    " AND ({}, x.id) {} ({k}, {id})",
                    sort.key("x"),
                    sort.direction().after()
                )
            }
        };
        Ok((Self { filters, after }, pattern))
    }

    /// The filters with `hit` for the asset-name match.
    fn filters(&self, hit: &str) -> String {
        self.filters.replace("{hit}", hit)
    }
}

const TABLE_COLUMNS: &str =
    "i.id, i.resource_id, i.email, i.role, i.message, i.status, i.invited_by,
       i.invited_at, i.expires_at, i.access_expires_at, i.last_sent_at, i.resend_count,
       i.responded_at, u.username AS inviter_username, u.display_name AS inviter_display_name,
       a.name AS asset_name, a.reference AS asset_reference";

/// The assets `{uid}` has full access to (collaborator, or admin or owner of
/// the asset's estate), from their memberships through indexes. Mirrors the
/// domain's `administers_asset` for non-root users.
///
/// Each asset once, without sorting the reach: the estates' assets skip
/// those the user collaborates on.
pub(crate) fn managed_assets_sql(uid: &str) -> String {
    format!(
        "SELECT c.asset_id AS id FROM asset_collaborators c WHERE c.user_id = {uid}
         UNION ALL
         SELECT a.id FROM estate_members m JOIN assets a ON a.estate_id = m.estate_id
         WHERE m.user_id = {uid} AND m.role IN ('admin', 'owner')
           AND NOT EXISTS (
             SELECT 1 FROM asset_collaborators c WHERE c.asset_id = a.id AND c.user_id = {uid})"
    )
}

/// `managed` and `reach` (managed assets with `hit`: whether the asset's
/// name or reference matches `q`), optionally cut to one asset.
fn reach_ctes(sql: &mut Sql, user_id: Uuid, asset: Option<Uuid>, pattern: Option<&str>) -> String {
    let uid = sql.text(user_id.to_string());
    let only = asset.map_or(String::new(), |a| {
        format!(" WHERE m.id = {}", sql.text(a.to_string()))
    });
    let managed = managed_assets_sql(&uid);
    let reach = match pattern {
        // One probe per asset (a join could hash the whole table).
        Some(p) => format!(
            "SELECT m.id, (SELECT a.search_text LIKE {p} ESCAPE '\\' FROM assets a WHERE a.id = m.id) AS hit
             FROM managed m{only}"
        ),
        None => format!("SELECT m.id, FALSE AS hit FROM managed m{only}"),
    };
    format!("WITH managed AS ({managed}), reach AS ({reach})")
}

/// One page of the management table, with the total counted up to
/// [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT) (or exactly, when only the
/// status filters: from `invitation_counts`).
///
/// A user's page starts from the assets they have full access to: for each,
/// the first row after the keyset position through the sorted covering
/// index of its invitations; the assets whose first rows come first hold
/// the whole page, which is then read from them alone. So a page costs one
/// index probe per managed asset plus the page, however deep, and never
/// reads other users' invitations. Root reads the table in sort order.
#[allow(clippy::too_many_arguments)]
pub fn asset_table(
    conn: &mut DbConnection,
    user_id: Uuid,
    is_root: bool,
    filter: &TableFilter,
    sort: Sort,
    now: DateTime<Utc>,
    window: &Window<TableKey>,
) -> Result<Page<AssetInvitation>, StoreError> {
    let mut sql = Sql::new(conn);
    let (cond, pattern) = TableConditions::new(&mut sql, filter, sort, now, window.after.as_ref())?;
    let dir = sort.direction().sql();
    let key = sort.key("x");
    let fetch = sql.param(Bind::Int(window.fetch()));
    let rows = sql.param(Bind::Int(window.limit.saturating_add(1)));
    let offset = sql.param(Bind::Int(window.offset));
    let order = format!("ORDER BY {key} {dir}, x.id {dir}");
    let (ctes, total) = table_scope(
        &mut sql,
        (user_id, is_root),
        filter,
        &cond,
        pattern.as_deref(),
        now,
    );
    let page = if is_root {
        root_page(
            &mut sql,
            filter,
            &cond,
            pattern.as_deref(),
            &key,
            &order,
            &fetch,
        )
    } else {
        let on = |r: &str| {
            format!(
                "x.resource_type = 'asset' AND x.resource_id = {r}.id{}{}",
                cond.filters(&format!("{r}.hit")),
                cond.after
            )
        };
        ReachPage {
            pg: sql.pg,
            reach: ("reach", "r"),
            carried: &["id", "hit"],
            rows: ("invitations", "x"),
            outer: "i",
            key: &|a| sort.key(a),
            on: &on,
            dir,
            fetch: &fetch,
        }
        .sql()
    };
    let with = if ctes.is_empty() {
        "WITH".to_owned()
    } else {
        format!("{ctes},")
    };
    let query = format!(
        "{with} {page}
         SELECT {TABLE_COLUMNS}, ({total}) AS total
         FROM page p
         JOIN invitations i ON i.id = p.id
         JOIN assets a ON a.id = i.resource_id
         JOIN users u ON u.id = i.invited_by
         ORDER BY p.k {dir}, p.id {dir}
         LIMIT {rows} OFFSET {offset}"
    );
    let rows: Vec<TableRow> = sql.load(conn, &query)?;
    let counted = match rows.first() {
        Some(r) => r.total,
        // Past the end (or nothing at all): the total on its own.
        None => table_total(conn, user_id, is_root, filter, sort, now)?,
    };
    let rows = rows
        .into_iter()
        .map(TableRow::into_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::cut(rows, window.limit, counted))
}

/// The table's total when the page holds no row to carry it.
fn table_total(
    conn: &mut DbConnection,
    user_id: Uuid,
    is_root: bool,
    filter: &TableFilter,
    sort: Sort,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut sql = Sql::new(conn);
    let (cond, pattern) = TableConditions::new(&mut sql, filter, sort, now, None)?;
    let (ctes, total) = table_scope(
        &mut sql,
        (user_id, is_root),
        filter,
        &cond,
        pattern.as_deref(),
        now,
    );
    sql.count(conn, &format!("{ctes} SELECT ({total}) AS n"))
}

/// Root's page: the table in sort order.
fn root_page(
    sql: &mut Sql,
    filter: &TableFilter,
    cond: &TableConditions,
    pattern: Option<&str>,
    key: &str,
    order: &str,
    fetch: &str,
) -> String {
    let asset = filter.asset_id.map_or(String::new(), |a| {
        format!(" AND x.resource_id = {}", sql.text(a.to_string()))
    });
    let (join, hit) = root_search(pattern);
    format!(
        "page AS (
           SELECT x.id, {key} AS k FROM invitations x{join}
           WHERE x.resource_type = 'asset'{asset}{filters}{after}
           {order} LIMIT {fetch})",
        filters = cond.filters(&hit),
        after = cond.after,
    )
}

/// Root's search joins the asset of each invitation.
fn root_search(pattern: Option<&str>) -> (&'static str, String) {
    match pattern {
        Some(p) => (
            " JOIN assets a ON a.id = x.resource_id",
            format!("a.search_text LIKE {p} ESCAPE '\\'"),
        ),
        None => ("", "FALSE".to_owned()),
    }
}

/// The table's scope: the CTEs a user's queries start from (`managed`,
/// `reach`; none for root) and the total as a scalar subquery over them.
///
/// The total is exact from `invitation_counts` when the status is the only
/// filter (the counts hold no permission or email); otherwise the rows are
/// counted up to [`COUNT_LIMIT`].
#[allow(clippy::too_many_arguments)]
fn table_scope(
    sql: &mut Sql,
    (user_id, is_root): (Uuid, bool),
    filter: &TableFilter,
    cond: &TableConditions,
    pattern: Option<&str>,
    now: DateTime<Utc>,
) -> (String, String) {
    let ctes = if is_root {
        String::new()
    } else {
        reach_ctes(sql, user_id, filter.asset_id, pattern)
    };
    let by_counts = filter.status.is_some() && filter.permission.is_none() && pattern.is_none();
    let total = if by_counts {
        let counts = resource_counts(sql, is_root, filter.asset_id, now);
        match filter.status {
            Some(InvitationState::Pending) => format!(
                "SELECT {} - {} FROM {}",
                counts.status("pending"),
                counts.lapsed,
                counts.from
            ),
            Some(InvitationState::Expired) => format!(
                "SELECT {} + {} FROM {}",
                counts.status("expired"),
                counts.lapsed,
                counts.from
            ),
            Some(other) => format!(
                "SELECT {} FROM {}",
                counts.status(other.as_str()),
                counts.from
            ),
            None => format!("SELECT {} FROM {}", counts.total(), counts.from),
        }
    } else {
        let cap = sql.param(Bind::Int(COUNT_LIMIT));
        if is_root {
            let asset = filter.asset_id.map_or(String::new(), |a| {
                format!(" AND x.resource_id = {}", sql.text(a.to_string()))
            });
            let (join, hit) = root_search(pattern);
            format!(
                "SELECT COUNT(*) FROM (
                   SELECT 1 AS one FROM invitations x{join}
                   WHERE x.resource_type = 'asset'{asset}{filters} LIMIT {cap}) t",
                filters = cond.filters(&hit)
            )
        } else {
            let on = format!(
                "x.resource_type = 'asset' AND x.resource_id = r.id{}",
                cond.filters("r.hit")
            );
            if sql.pg {
                // OFFSET 0: a nested loop from the reach, never a scan.
                format!(
                    "SELECT COUNT(*) FROM (
                       SELECT 1 AS one FROM reach r CROSS JOIN LATERAL (
                         SELECT 1 AS one FROM invitations x WHERE {on} OFFSET 0) x
                       LIMIT {cap}) t"
                )
            } else {
                format!(
                    "SELECT COUNT(*) FROM (
                       SELECT 1 AS one FROM reach r CROSS JOIN invitations x WHERE {on} LIMIT {cap}) t"
                )
            }
        }
    };
    (ctes, total)
}

/// Sums over `invitation_counts` of the resources in scope (the `reach` CTE
/// for a user; every asset, or one, for root) and the count of pending
/// invitations past their expiry there.
struct ResourceCounts {
    /// `FROM ...` of the counts rows (aliased `k`).
    from: String,
    /// A scalar subquery: pending invitations past their expiry.
    lapsed: String,
}

impl ResourceCounts {
    fn total(&self) -> String {
        "CAST(COALESCE(SUM(k.n), 0) AS BIGINT)".to_owned()
    }

    fn status(&self, status: &str) -> String {
        format!(
            "CAST(COALESCE(SUM(CASE WHEN k.status = '{status}' THEN k.n ELSE 0 END), 0) AS BIGINT)"
        )
    }
}

fn resource_counts(
    sql: &mut Sql,
    is_root: bool,
    asset_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> ResourceCounts {
    let now = sql.param(now.into());
    let lapsed = format!(
        "SELECT COUNT(*) FROM invitations i
         WHERE i.status = 'pending' AND i.expires_at <= {now} AND i.resource_type = 'asset'"
    );
    if is_root {
        let (k_only, i_only) = match asset_id {
            None => (String::new(), String::new()),
            Some(a) => {
                let a = sql.text(a.to_string());
                (
                    format!(" AND k.resource_id = {a}"),
                    format!(" AND i.resource_id = {a}"),
                )
            }
        };
        return ResourceCounts {
            from: format!("invitation_counts k WHERE k.resource_type = 'asset'{k_only}"),
            lapsed: format!("({lapsed}{i_only})"),
        };
    }
    let from = if sql.pg {
        // OFFSET 0: one probe per managed asset, never a scan.
        "reach r CROSS JOIN LATERAL (
           SELECT k.status, k.n FROM invitation_counts k
           WHERE k.resource_type = 'asset' AND k.resource_id = r.id OFFSET 0) k"
    } else {
        "reach r CROSS JOIN invitation_counts k
         WHERE k.resource_type = 'asset' AND k.resource_id = r.id"
    };
    // From the expiry index (PostgreSQL: OFFSET 0 keeps it the driving
    // side): the sweeper keeps the pending ones past their expiry few.
    let lapsed = format!(
        "(SELECT COUNT(*) FROM ({lapsed} {fence}) l
          WHERE EXISTS (SELECT 1 FROM reach r WHERE r.id = l.resource_id))",
        lapsed = lapsed.replacen("SELECT COUNT(*)", "SELECT i.resource_id", 1),
        fence = if sql.pg { "OFFSET 0" } else { "" },
    );
    ResourceCounts {
        from: from.to_owned(),
        lapsed,
    }
}

/// The six stats cards, exact, with the table's visibility: from
/// `invitation_counts` (kept by triggers), one probe per asset the user
/// manages; pending invitations past their expiry (expired, not yet written
/// so by the sweeper) from the expiry index. Root's from the whole counts
/// table.
pub fn asset_stats(
    conn: &mut DbConnection,
    user_id: Uuid,
    is_root: bool,
    asset_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Stats, StoreError> {
    let mut sql = Sql::new(conn);
    let ctes = if is_root {
        String::new()
    } else {
        reach_ctes(&mut sql, user_id, asset_id, None)
    };
    let counts = resource_counts(&mut sql, is_root, asset_id, now);
    let query = format!(
        "{ctes} SELECT {} AS total, {} AS pending, {} AS accepted, {} AS declined,
           {} AS expired, {} AS cancelled, {} AS lapsed
         FROM {}",
        counts.total(),
        counts.status("pending"),
        counts.status("accepted"),
        counts.status("declined"),
        counts.status("expired"),
        counts.status("cancelled"),
        counts.lapsed,
        counts.from,
    );
    let row = sql
        .load::<StatsRow>(conn, &query)?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)?;
    // A pending invitation past its expiry counts as expired.
    Ok(Stats {
        total: row.total,
        pending: row.pending - row.lapsed,
        accepted: row.accepted,
        declined: row.declined,
        expired: row.expired + row.lapsed,
        cancelled: row.cancelled,
    })
}

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
    #[diesel(sql_type = BigInt)]
    lapsed: i64,
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
