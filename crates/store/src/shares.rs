//! Shares: what an accepted asset invitation leaves.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::InvitationPermission;
use uuid::Uuid;

use crate::collaborators::Person;
use crate::db::Conn;
use crate::error::{Result, StoreError, parse};
use crate::id::DbId;
use crate::paging::{Page, Window, after_instant, count_up_to};
use crate::schema::{asset_shares, users};
use crate::time::{DbTime, from_db, to_db};

/// A share: what an accepted asset invitation leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub asset_id: Uuid,
    pub user: Person,
    pub permission: InvitationPermission,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub granted_at: DateTime<Utc>,
    pub invitation_id: Option<Uuid>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = asset_shares)]
struct ShareRow {
    #[diesel(deserialize_as = DbId)]
    asset_id: Uuid,
    permission: String,
    access_expires_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = DbTime)]
    granted_at: DateTime<Utc>,
    invitation_id: Option<DbId>,
    #[diesel(embed)]
    user: Person,
}

impl TryFrom<ShareRow> for Share {
    type Error = StoreError;
    fn try_from(r: ShareRow) -> Result<Self> {
        Ok(Self {
            asset_id: r.asset_id,
            user: r.user,
            permission: parse(&r.permission)?,
            access_expires_at: r.access_expires_at.map(from_db),
            granted_at: r.granted_at,
            invitation_id: r.invitation_id.map(Uuid::from),
        })
    }
}

/// A share's permission and access expiry, as written.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = asset_shares, treat_none_as_null = true)]
struct Grant<'a> {
    permission: &'a str,
    access_expires_at: Option<NaiveDateTime>,
}

impl Grant<'_> {
    fn new(permission: InvitationPermission, until: Option<DateTime<Utc>>) -> Self {
        Self { permission: permission.as_str(), access_expires_at: until.map(to_db) }
    }
}

#[derive(Insertable)]
#[diesel(table_name = asset_shares)]
struct NewShare<'a> {
    asset_id: DbId,
    user_id: DbId,
    #[diesel(embed)]
    grant: Grant<'a>,
    granted_at: NaiveDateTime,
    invitation_id: Option<DbId>,
}

/// Shares joined with their holders.
macro_rules! with_holder {
    () => {
        asset_shares::table
            .inner_join(users::table.on(users::id.eq(asset_shares::user_id)))
            .select(ShareRow::as_select())
    };
}

/// The user's share on an asset, if any (expired or not).
pub fn get_share(conn: &mut Conn, asset_id: Uuid, user_id: Uuid) -> Result<Option<Share>> {
    with_holder!()
        .filter(asset_shares::asset_id.eq(DbId(asset_id)))
        .filter(asset_shares::user_id.eq(DbId(user_id)))
        .first::<ShareRow>(conn)
        .optional()?
        .map(Share::try_from)
        .transpose()
}

/// A page of the shares of an asset, oldest first (then by holder id);
/// the total counted up to [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT).
pub fn shares(
    conn: &mut Conn,
    asset_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<Share>> {
    let base = || {
        asset_shares::table
            .inner_join(users::table.on(users::id.eq(asset_shares::user_id)))
            .filter(asset_shares::asset_id.eq(DbId(asset_id)))
            .into_boxed()
    };
    let rows = after_instant!(
        base(),
        window.after.as_ref(),
        asset_shares::granted_at,
        asset_shares::user_id,
        asc
    )
    .select(ShareRow::as_select())
    .order((asset_shares::granted_at.asc(), asset_shares::user_id.asc()))
    .limit(window.limit.saturating_add(1))
    .offset(window.offset)
    .load::<ShareRow>(conn)?
    .into_iter()
    .map(Share::try_from)
    .collect::<Result<Vec<_>>>()?;
    let counted = count_up_to!(conn, base, asset_shares::user_id);
    Ok(Page::cut(rows, window.limit, counted))
}

/// Writes a share (replacing the user's existing one on the asset).
pub fn put_share(
    conn: &mut Conn,
    asset_id: Uuid,
    user_id: Uuid,
    permission: InvitationPermission,
    access_expires_at: Option<DateTime<Utc>>,
    invitation_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<()> {
    diesel::delete(asset_shares::table.find((DbId(asset_id), DbId(user_id)))).execute(conn)?;
    diesel::insert_into(asset_shares::table)
        .values(NewShare {
            asset_id: DbId(asset_id),
            user_id: DbId(user_id),
            grant: Grant::new(permission, access_expires_at),
            granted_at: to_db(now),
            invitation_id: invitation_id.map(DbId),
        })
        .execute(conn)?;
    Ok(())
}

/// Changes a share's permission and access expiry; false when there is none.
pub fn update_share(
    conn: &mut Conn,
    asset_id: Uuid,
    user_id: Uuid,
    permission: InvitationPermission,
    access_expires_at: Option<DateTime<Utc>>,
) -> Result<bool> {
    Ok(diesel::update(asset_shares::table.find((DbId(asset_id), DbId(user_id))))
        .set(Grant::new(permission, access_expires_at))
        .execute(conn)?
        == 1)
}

/// Revokes a share; false when there is none.
pub fn delete_share(conn: &mut Conn, asset_id: Uuid, user_id: Uuid) -> Result<bool> {
    Ok(diesel::delete(asset_shares::table.find((DbId(asset_id), DbId(user_id)))).execute(conn)?
        == 1)
}

/// A share whose access expiry has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub asset_id: Uuid,
    pub user_id: Uuid,
    pub permission: String,
    pub expired_at: DateTime<Utc>,
}

/// Up to `limit` shares whose expiry passed by `now` and has not been
/// reported yet, each claimed for this caller (so it is reported once):
/// report them in the same transaction.
pub fn claim_expired(conn: &mut Conn, now: DateTime<Utc>, limit: i64) -> Result<Vec<Expired>> {
    use crate::schema::share_expiries;
    let rows: Vec<(DbId, DbId, String, Option<chrono::NaiveDateTime>)> = asset_shares::table
        .filter(asset_shares::access_expires_at.le(crate::time::to_db(now)))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            share_expiries::table
                .filter(share_expiries::asset_id.eq(asset_shares::asset_id))
                .filter(share_expiries::user_id.eq(asset_shares::user_id))
                .filter(share_expiries::expired_at.nullable().eq(asset_shares::access_expires_at)),
        )))
        .order(asset_shares::access_expires_at.asc())
        .select((
            asset_shares::asset_id,
            asset_shares::user_id,
            asset_shares::permission,
            asset_shares::access_expires_at,
        ))
        .limit(limit)
        .load(conn)?;
    let mut claimed = Vec::new();
    for (asset, user, permission, at) in rows {
        let Some(at) = at else { continue };
        let row = (
            share_expiries::asset_id.eq(&asset),
            share_expiries::user_id.eq(&user),
            share_expiries::expired_at.eq(at),
        );
        let inserted = match conn {
            crate::db::DbConnection::Postgresql(pg) => diesel::insert_into(share_expiries::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(pg)?,
            crate::db::DbConnection::Sqlite(lite) => {
                diesel::insert_or_ignore_into(share_expiries::table).values(row).execute(lite)?
            }
        };
        if inserted == 1 {
            claimed.push(Expired {
                asset_id: asset.0,
                user_id: user.0,
                permission,
                expired_at: crate::time::from_db(at),
            });
        }
    }
    Ok(claimed)
}
