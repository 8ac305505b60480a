//! Invitations by email (estate and asset alike). Tokens are stored only as
//! hashes; a pending invitation past its expiry reads as expired at once (the
//! status filter derives it), and the sweeper writes it later. The asset
//! invitation management table is in [`table`], its stats cards in
//! [`stats`].

mod stats;
mod table;

pub use stats::{Stats, asset_stats, batch_stats, estate_stats};
pub(crate) use table::managed_assets_sql;
pub use table::{
    AssetInvitation, Sort, TableFilter, TableKey, asset_table, estate_table, estate_table_plans,
};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::InvitationState;
use uuid::Uuid;

use crate::db::{Conn, DbConnection};
use crate::error::{Result, StoreError};
use crate::id::{DbId, db_ids};
use crate::paging::{COUNT_LIMIT, Page, Window};
use crate::schema::{audit_events, invitation_batch_rows, invitations, users};
use crate::time::{from_db, to_db};

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

    fn parse(s: &str) -> Result<Self> {
        match s {
            "estate" => Ok(Self::Estate),
            "asset" => Ok(Self::Asset),
            other => Err(StoreError::Corrupt(format!("unknown resource type {other:?}"))),
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
    /// The bulk invitation this row belongs to, if it was sent as one.
    pub batch_id: Option<Uuid>,
}

/// An invitation's row, without its token hash.
#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = invitations)]
pub(crate) struct InvitationRow {
    pub(crate) id: DbId,
    pub(crate) resource_type: String,
    pub(crate) resource_id: DbId,
    pub(crate) email: String,
    pub(crate) role: String,
    pub(crate) message: Option<String>,
    pub(crate) status: String,
    pub(crate) invited_by: DbId,
    pub(crate) invited_at: NaiveDateTime,
    pub(crate) expires_at: Option<NaiveDateTime>,
    pub(crate) access_expires_at: Option<NaiveDateTime>,
    pub(crate) last_sent_at: NaiveDateTime,
    pub(crate) resend_count: i32,
    pub(crate) responded_at: Option<NaiveDateTime>,
}

/// An invitation row with its sender's username and display name, and its
/// batch (if it was sent in one).
pub(crate) type Row = (InvitationRow, (String, String), Option<DbId>);

/// The columns of a [`Row`], over [`with_inviter!`].
macro_rules! columns {
    () => {
        (
            InvitationRow::as_select(),
            (users::username, users::display_name),
            invitation_batch_rows::batch_id.nullable(),
        )
    };
}

pub(crate) fn from_row((r, (username, display_name), batch_id): Row) -> Result<Invitation> {
    Ok(Invitation {
        id: r.id.0,
        resource_type: ResourceType::parse(&r.resource_type)?,
        resource_id: r.resource_id.0,
        email: r.email,
        role: r.role,
        message: r.message,
        status: r
            .status
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("unknown status {:?}", r.status)))?,
        invited_by: r.invited_by.0,
        inviter_username: username,
        inviter_display_name: display_name,
        invited_at: from_db(r.invited_at),
        expires_at: r.expires_at.map(from_db),
        access_expires_at: r.access_expires_at.map(from_db),
        last_sent_at: from_db(r.last_sent_at),
        resend_count: r.resend_count,
        responded_at: r.responded_at.map(from_db),
        batch_id: batch_id.map(|b| b.0),
    })
}

/// Invitations that read as pending at `$now` (a database time): stored
/// pending and not past their expiry, as the domain's `effective_state`
/// says. The diesel form of [`crate::predicates::reads_pending`].
macro_rules! reads_pending {
    ($now:expr) => {
        invitations::status
            .eq(InvitationState::Pending.as_str())
            .and(invitations::expires_at.is_null().or(invitations::expires_at.gt($now)))
    };
}

/// Invitations stored pending but past their expiry at `$now`: they read
/// as expired. The diesel form of [`crate::predicates::lapsed`].
macro_rules! lapsed {
    ($now:expr) => {
        invitations::status
            .eq(InvitationState::Pending.as_str())
            .and(invitations::expires_at.le($now))
    };
}

macro_rules! with_inviter {
    () => {
        invitations::table
            .inner_join(users::table.on(users::id.eq(invitations::invited_by)))
            .left_join(
                invitation_batch_rows::table
                    .on(invitation_batch_rows::invitation_id.eq(invitations::id)),
            )
    };
}

// After the macros above, which it uses.
pub mod batch;

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
    conn: &mut Conn,
    new: &NewInvitation<'_>,
    now: DateTime<Utc>,
) -> Result<Result<Invitation, AlreadyPending>> {
    let same = invitations::table
        .filter(invitations::resource_type.eq(new.resource_type.as_str()))
        .filter(invitations::resource_id.eq(DbId(new.resource_id)))
        .filter(invitations::email.eq(new.email))
        .filter(invitations::status.eq(InvitationState::Pending.as_str()));
    diesel::update(same.filter(lapsed!(to_db(now))))
        .set(invitations::status.eq(InvitationState::Expired.as_str()))
        .execute(conn)?;
    if same.select(invitations::id).first::<DbId>(conn).optional()?.is_some() {
        return Ok(Err(AlreadyPending));
    }
    let id = Uuid::new_v4();
    let inserted = diesel::insert_into(invitations::table)
        .values((
            invitations::id.eq(DbId(id)),
            invitations::resource_type.eq(new.resource_type.as_str()),
            invitations::resource_id.eq(DbId(new.resource_id)),
            invitations::email.eq(new.email),
            invitations::role.eq(new.role),
            invitations::message.eq(new.message),
            invitations::status.eq(InvitationState::Pending.as_str()),
            invitations::token_hash.eq(new.token_hash),
            invitations::invited_by.eq(DbId(new.invited_by)),
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

/// The invitation (with its inviter) that `$filter` picks out, if any.
macro_rules! find_one {
    ($conn:expr, $filter:expr) => {
        with_inviter!()
            .filter($filter)
            .select(columns!())
            .first::<Row>($conn)
            .optional()?
            .map(from_row)
            .transpose()
    };
}

pub fn get(conn: &mut Conn, id: Uuid) -> Result<Option<Invitation>> {
    find_one!(conn, invitations::id.eq(DbId(id)))
}

/// One invitation of one resource (so an id from elsewhere is not found).
pub fn get_for_resource(
    conn: &mut Conn,
    resource_type: ResourceType,
    resource_id: Uuid,
    id: Uuid,
) -> Result<Option<Invitation>> {
    let of_resource = invitations::resource_type
        .eq(resource_type.as_str())
        .and(invitations::resource_id.eq(DbId(resource_id)));
    find_one!(conn, invitations::id.eq(DbId(id)).and(of_resource))
}

/// By the hash of its current token.
pub fn find_by_token_hash(conn: &mut Conn, token_hash: &str) -> Result<Option<Invitation>> {
    find_one!(conn, invitations::token_hash.eq(token_hash))
}

/// The invitation with this id while it is stored pending.
#[diesel::dsl::auto_type]
fn pending_one(id: DbId) -> _ {
    let pending: &'static str = InvitationState::Pending.as_str();
    invitations::table.filter(invitations::id.eq(id)).filter(invitations::status.eq(pending))
}

/// Moves a pending invitation to `to`. Returns false when it was no longer
/// pending (a concurrent request won), so exactly one transition happens.
pub fn transition(
    conn: &mut Conn,
    id: Uuid,
    to: InvitationState,
    responded_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let responded = matches!(to, InvitationState::Accepted | InvitationState::Declined);
    let n = diesel::update(pending_one(DbId(id)))
        .set((
            invitations::status.eq(to.as_str()),
            invitations::responded_at.eq(responded.then(|| to_db(now))),
            invitations::responded_by.eq(responded_by.map(DbId)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Replaces the token (the old link dies) and the expiry of a pending
/// invitation. Returns false when it was no longer pending.
pub fn resend(
    conn: &mut Conn,
    id: Uuid,
    token_hash: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = diesel::update(pending_one(DbId(id)))
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
            q = q
                .filter(invitations::invited_at.le(at))
                .filter(invitations::invited_at.lt(at).or(invitations::id.lt(DbId(*id))));
        }
        q
    }};
}

/// The page of `base` (a closure giving the boxed, filtered query) in
/// `window`, newest first, with the total counted up to [`COUNT_LIMIT`].
macro_rules! newest_page {
    ($conn:expr, $base:expr, $window:expr) => {{
        let rows: Vec<Row> = newest_after!($base(), $window.after.as_ref())
            .select(columns!())
            .order((invitations::invited_at.desc(), invitations::id.desc()))
            .limit($window.limit.saturating_add(1))
            .offset($window.offset)
            .load($conn)?;
        let counted = $base().select(invitations::id).limit(COUNT_LIMIT).load::<DbId>($conn)?.len();
        let rows = rows.into_iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(rows, $window.limit, i64::try_from(counted).unwrap_or(COUNT_LIMIT)))
    }};
}

/// A page of the invitations of one resource, newest first (then by id),
/// optionally by effective status (a pending invitation past its expiry
/// counts as expired), from the resource's index; the total counted up to
/// [`COUNT_LIMIT`].
pub fn list_for_resource(
    conn: &mut Conn,
    resource_type: ResourceType,
    resource_id: Uuid,
    status: Option<InvitationState>,
    now: DateTime<Utc>,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<Invitation>> {
    let now = to_db(now);
    let base = || {
        let q = with_inviter!()
            .filter(invitations::resource_type.eq(resource_type.as_str()))
            .filter(invitations::resource_id.eq(DbId(resource_id)))
            .into_boxed();
        match status {
            None => q,
            Some(InvitationState::Pending) => q.filter(reads_pending!(now)),
            Some(InvitationState::Expired) => {
                q.filter(invitations::status.eq(InvitationState::Expired.as_str()).or(lapsed!(now)))
            }
            Some(other) => q.filter(invitations::status.eq(other.as_str())),
        }
    };
    newest_page!(conn, base, window)
}

/// A page of the pending, unexpired invitations addressed to an email,
/// newest first (then by id), from the email index; the total counted up
/// to [`COUNT_LIMIT`].
pub fn pending_for_email_page(
    conn: &mut Conn,
    email: &str,
    now: DateTime<Utc>,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<Invitation>> {
    let now = to_db(now);
    let base = || {
        with_inviter!()
            .filter(invitations::email.eq(email))
            .filter(reads_pending!(now))
            .into_boxed()
    };
    newest_page!(conn, base, window)
}

/// Pending, unexpired invitations addressed to an email, newest first.
pub fn pending_for_email(
    conn: &mut Conn,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>> {
    with_inviter!()
        .filter(invitations::email.eq(email))
        .filter(reads_pending!(to_db(now)))
        .select(columns!())
        .order((invitations::invited_at.desc(), invitations::id.desc()))
        .limit(500)
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Writes `expired` on pending invitations past their expiry and returns
/// them (the sweeper records each in the audit trail).
pub fn expire_due(conn: &mut Conn, now: DateTime<Utc>, limit: i64) -> Result<Vec<Invitation>> {
    let due: Vec<Invitation> = with_inviter!()
        .filter(lapsed!(to_db(now)))
        .select(columns!())
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

/// The invitations of a resource that read as pending at `now`: id and
/// invited email, oldest first.
pub fn pending_of_resource(
    conn: &mut Conn,
    resource_type: ResourceType,
    resource_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, String)>> {
    let now = to_db(now);
    let rows: Vec<(DbId, String)> = invitations::table
        .filter(invitations::resource_type.eq(resource_type.as_str()))
        .filter(invitations::resource_id.eq(DbId(resource_id)))
        .filter(reads_pending!(now))
        .select((invitations::id, invitations::email))
        .order((invitations::invited_at, invitations::id))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, email)| (id.into(), email)).collect())
}

/// Deletes every invitation of a resource (when the resource is deleted).
pub fn delete_for_resource(
    conn: &mut Conn,
    resource_type: ResourceType,
    resource_id: Uuid,
) -> Result<usize> {
    Ok(diesel::delete(
        invitations::table
            .filter(invitations::resource_type.eq(resource_type.as_str()))
            .filter(invitations::resource_id.eq(DbId(resource_id))),
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
/// invitation row only keeps its last sending). A bulk invitation writes
/// one such event per row but one email per recipient, each recorded with
/// the rows it covered ([`batch::record_mailing`]): its events are counted
/// as its emails instead.
///
/// Call it in the write transaction that sends the next email. On
/// PostgreSQL it first locks the user's row, so a second send by the same
/// user waits for the first to commit and then counts it; SQLite runs one
/// writer at a time.
pub fn sent_since(conn: &mut Conn, user_id: Uuid, since: DateTime<Utc>) -> Result<i64> {
    if let DbConnection::Postgresql(pg) = conn {
        users::table
            .filter(users::id.eq(DbId(user_id)))
            .select(users::id)
            .for_update()
            .load::<DbId>(pg)?;
    }
    let events: i64 = audit_events::table
        .filter(audit_events::actor_id.eq(DbId(user_id)))
        .filter(audit_events::action.eq_any(EMAIL_ACTIONS))
        .filter(audit_events::created_at.ge(to_db(since)))
        .count()
        .get_result(conn)?;
    let (batch_emails, batch_rows) = batch::mailings_since(conn, user_id, since)?;
    Ok(events - batch_rows + batch_emails)
}

/// Cancels the pending invitations that would undo a removal from an estate:
/// those to the removed member's email and those the removed member sent,
/// on the estate itself and on every asset placed in it. Returns how many.
pub fn cancel_after_removal(
    conn: &mut Conn,
    estate_id: Uuid,
    member_id: Uuid,
    member_email: &str,
) -> Result<usize> {
    use crate::schema::assets;
    let estate = DbId(estate_id);
    let assets_in_estate = assets::table.filter(assets::estate_id.eq(estate)).select(assets::id);
    let on_estate = invitations::resource_type
        .eq(ResourceType::Estate.as_str())
        .and(invitations::resource_id.eq(estate));
    let on_its_assets = invitations::resource_type
        .eq(ResourceType::Asset.as_str())
        .and(invitations::resource_id.eq_any(assets_in_estate));
    let involving =
        invitations::email.eq(member_email).or(invitations::invited_by.eq(DbId(member_id)));
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
    conn: &mut Conn,
    asset_ids: &[Uuid],
    email: &str,
) -> Result<usize> {
    Ok(diesel::update(
        invitations::table
            .filter(invitations::status.eq(InvitationState::Pending.as_str()))
            .filter(invitations::resource_type.eq(ResourceType::Asset.as_str()))
            .filter(invitations::resource_id.eq_any(db_ids(asset_ids)))
            .filter(invitations::email.eq(email)),
    )
    .set(invitations::status.eq(InvitationState::Cancelled.as_str()))
    .execute(conn)?)
}
