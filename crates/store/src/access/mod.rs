//! One statement per authorized request: the caller's account (so a token
//! from before a password change is refused), the resource the request
//! names, and every fact the domain resolver needs to judge the caller's
//! access to it, read together in a single round trip. Nothing here decides
//! anything; the api crate hands the facts to `keyholder_domain`.
//!
//! Each statement starts from the caller's row (`users` by primary key) and
//! reaches the resource and the facts by primary keys and the per-user
//! indexes, so its cost does not grow with the tables. No row is cached: a
//! role changed or removed a moment ago is what the next request reads.

mod cols;
mod invitation;

use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text, Timestamp};
use keyholder_domain::{EstateRole, SiteOverride};
use uuid::Uuid;

use crate::assets::{AccessRow, Asset};
use crate::db::Conn;
use crate::error::{Result, parse};
use crate::estates::Estate;
use crate::id::DbId;
use crate::sites::Site;
use crate::sql::{cached_statement, explain, load_cached};
use crate::time::from_db;
use crate::users::User;

// The raw-SQL helpers under the paths `paging` and `invitations` use.
pub(crate) use crate::sql::{Param, load};
pub(crate) use cols::{
    ASSET_COLUMNS, AssetCols, AssetFactCols, CALLER_COLUMNS, CallerCols, asset_fact_columns,
};
use invitation::asset_invitation_sql;
pub use invitation::{AssetInvitationFacts, asset_invitation};

/// Who a request's token names: the account and the session the token
/// belongs to. A read for a bearer finds nothing once the session has
/// ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bearer {
    pub user: Uuid,
    pub session: Uuid,
}

/// The condition that the bearer's session (`$n`) is still live.
fn live_session(n: u8) -> String {
    format!("EXISTS (SELECT 1 FROM sessions s WHERE s.id = ${n} AND s.user_id = u.id)")
}

/// The text of a one-statement read: the caller's row (`u`, by `$1`, while
/// its session `$3` is live) and `columns` more, read through `joins`.
fn caller_read(columns: &str, joins: &str) -> String {
    format!(
        "SELECT {CALLER_COLUMNS}, {columns} FROM users u {joins} WHERE u.id = $1 AND {}",
        live_session(3)
    )
}

/// The parameters of a one-statement read: the caller, the resource and
/// the caller's session.
fn ids(caller: Bearer, resource: Uuid) -> [Param; 3] {
    [DbId(caller.user).into(), DbId(resource).into(), DbId(caller.session).into()]
}

#[derive(QueryableByName)]
struct AssetAccessCols {
    #[diesel(embed)]
    caller: CallerCols,
    #[diesel(embed)]
    asset: AssetCols,
    #[diesel(embed)]
    facts: AssetFactCols,
}

/// What one statement read: the caller (none when the account is gone) and,
/// when it exists, the resource with the caller's facts on it.
pub type Read<T> = Option<(User, Option<T>)>;

cached_statement!(
    /// The key of [`asset_sql`].
    asset_sql,
    AssetRead,
    caller_read(
        &format!("{ASSET_COLUMNS}, {}", asset_fact_columns("u.id")),
        "LEFT JOIN assets a ON a.id = $2"
    )
);

cached_statement!(
    /// The key of [`admitted_asset_sql`].
    admitted_asset_sql,
    AdmittedAssetRead,
    format!(
        "SELECT {CALLER_COLUMNS}, {ASSET_COLUMNS}, {} FROM users u
         LEFT JOIN assets a ON a.id = $2 WHERE u.id = $1",
        asset_fact_columns("u.id")
    )
);

/// The caller, the asset and the caller's facts on it, in one statement.
pub fn asset(conn: &mut Conn, caller: Bearer, asset_id: Uuid) -> Result<Read<(Asset, AccessRow)>> {
    let row: Option<AssetAccessCols> =
        load_cached::<_, AssetRead>(conn, asset_sql(), &ids(caller, asset_id))?.into_iter().next();
    asset_read(row)
}

/// [`asset`] for an account this request has admitted already (its
/// session was checked by an earlier read of the same request).
pub fn admitted_asset(
    conn: &mut Conn,
    user: Uuid,
    asset_id: Uuid,
) -> Result<Read<(Asset, AccessRow)>> {
    let params: [Param; 2] = [DbId(user).into(), DbId(asset_id).into()];
    let row: Option<AssetAccessCols> =
        load_cached::<_, AdmittedAssetRead>(conn, admitted_asset_sql(), &params)?
            .into_iter()
            .next();
    asset_read(row)
}

fn asset_read(row: Option<AssetAccessCols>) -> Result<Read<(Asset, AccessRow)>> {
    row.map(|r| {
        let user = r.caller.user()?;
        Ok((user, r.asset.with_access(r.facts)?))
    })
    .transpose()
}

// ------------------------------------------------------------------ estates and sites

#[derive(QueryableByName)]
struct EstateAccessCols {
    #[diesel(embed)]
    caller: CallerCols,
    #[diesel(sql_type = Nullable<Text>)]
    e_id: Option<DbId>,
    #[diesel(sql_type = Nullable<Text>)]
    e_name: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    e_created_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    e_updated_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    e_role: Option<String>,
}

cached_statement!(
    /// The key of [`estate_sql`].
    estate_sql,
    EstateRead,
    caller_read(
        "e.id AS e_id, e.name AS e_name, e.created_at AS e_created_at,
         e.updated_at AS e_updated_at, m.role AS e_role",
        "LEFT JOIN estates e ON e.id = $2
         LEFT JOIN estate_members m ON m.estate_id = e.id AND m.user_id = u.id"
    )
);

/// The caller, the estate and the caller's role in it, in one statement.
pub fn estate(
    conn: &mut Conn,
    caller: Bearer,
    estate_id: Uuid,
) -> Result<Read<(Estate, Option<EstateRole>)>> {
    let row: Option<EstateAccessCols> =
        load_cached::<_, EstateRead>(conn, estate_sql(), &ids(caller, estate_id))?
            .into_iter()
            .next();
    row.map(|r| {
        let user = r.caller.user()?;
        let found = match (r.e_id, r.e_name, r.e_created_at, r.e_updated_at) {
            (Some(id), Some(name), Some(created_at), Some(updated_at)) => Some((
                Estate {
                    id: id.0,
                    name,
                    created_at: from_db(created_at),
                    updated_at: from_db(updated_at),
                },
                r.e_role.as_deref().map(parse::<EstateRole>).transpose()?,
            )),
            _ => None,
        };
        Ok((user, found))
    })
    .transpose()
}

#[derive(QueryableByName)]
struct SiteAccessCols {
    #[diesel(embed)]
    caller: CallerCols,
    #[diesel(sql_type = Nullable<Text>)]
    s_id: Option<DbId>,
    #[diesel(sql_type = Nullable<Text>)]
    s_estate_id: Option<DbId>,
    #[diesel(sql_type = Nullable<Text>)]
    s_name: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    s_created_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    s_updated_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    s_estate_role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    s_override: Option<String>,
}

/// A site with the caller's estate role and override there.
pub type SiteFacts = crate::sites::SiteWithAccess;

cached_statement!(
    /// The key of [`site_sql`].
    site_sql,
    SiteRead,
    caller_read(
        "s.id AS s_id, s.estate_id AS s_estate_id, s.name AS s_name,
         s.created_at AS s_created_at, s.updated_at AS s_updated_at,
         m.role AS s_estate_role, o.role AS s_override",
        "LEFT JOIN sites s ON s.id = $2
         LEFT JOIN estate_members m ON m.estate_id = s.estate_id AND m.user_id = u.id
         LEFT JOIN site_overrides o ON o.site_id = s.id AND o.user_id = u.id"
    )
);

/// The caller, the site, the caller's role in its estate and override at
/// the site, in one statement.
pub fn site(conn: &mut Conn, caller: Bearer, site_id: Uuid) -> Result<Read<SiteFacts>> {
    let row: Option<SiteAccessCols> =
        load_cached::<_, SiteRead>(conn, site_sql(), &ids(caller, site_id))?.into_iter().next();
    row.map(|r| {
        let user = r.caller.user()?;
        let found = match (r.s_id, r.s_estate_id, r.s_name, r.s_created_at, r.s_updated_at) {
            (Some(id), Some(estate_id), Some(name), Some(created_at), Some(updated_at)) => Some((
                Site {
                    id: id.0,
                    estate_id: estate_id.0,
                    name,
                    created_at: from_db(created_at),
                    updated_at: from_db(updated_at),
                },
                r.s_estate_role.as_deref().map(parse::<EstateRole>).transpose()?,
                r.s_override.as_deref().map(parse::<SiteOverride>).transpose()?,
            )),
            _ => None,
        };
        Ok((user, found))
    })
    .transpose()
}

cached_statement!(
    /// The key of [`caller_sql`].
    caller_sql,
    CallerRead,
    format!("SELECT {CALLER_COLUMNS} FROM users u WHERE u.id = $1 AND {}", live_session(2))
);

fn caller_params(caller: Bearer) -> [Param; 2] {
    [DbId(caller.user).into(), DbId(caller.session).into()]
}

/// The caller alone (for routes that read nothing else first), while the
/// session is live.
pub fn caller(conn: &mut Conn, caller: Bearer) -> Result<Option<User>> {
    let row: Option<CallerCols> =
        load_cached::<_, CallerRead>(conn, caller_sql(), &caller_params(caller))?
            .into_iter()
            .next();
    row.map(CallerCols::user).transpose()
}

/// The plans of the one-statement access reads, by name, for the caller
/// and the resources given: what a plan test checks for full scans.
pub fn plans(
    conn: &mut Conn,
    caller: Bearer,
    asset: Uuid,
    estate: Uuid,
    site: Uuid,
    invitation: Uuid,
) -> Result<Vec<(&'static str, Vec<String>)>> {
    Ok(vec![
        ("asset", explain(conn, &asset_sql().text, &ids(caller, asset))?),
        ("caller", explain(conn, &caller_sql().text, &caller_params(caller))?),
        ("estate", explain(conn, &estate_sql().text, &ids(caller, estate))?),
        ("site", explain(conn, &site_sql().text, &ids(caller, site))?),
        (
            "asset_invitation",
            explain(conn, &asset_invitation_sql().text, &ids(caller, invitation))?,
        ),
    ])
}
