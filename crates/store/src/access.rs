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

use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use keyholder_domain::{EstateRole, HouseholdRole, SiteOverride};
use uuid::Uuid;

use crate::assets::{AccessRow, Asset};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::estates::{Estate, Site};
use crate::invitations::Invitation;
use crate::time::from_db;
use crate::users::{User, parse_id};

fn parse<T: std::str::FromStr>(s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("unexpected value {s:?}")))
}

/// A parameter of a raw statement.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Time(NaiveDateTime),
    Int(i64),
}

impl From<chrono::DateTime<chrono::Utc>> for Param {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        Self::Time(crate::time::to_db(t))
    }
}

/// A raw statement written once with `$1, $2...` placeholders, for either
/// backend. Unlike `diesel::sql_query` it may be cached: each connection
/// prepares it once (keyed by its text) and reuses the prepared statement,
/// so a request pays neither SQLite's compile nor PostgreSQL's parse.
/// Every `$n` is bound where it appears (a parameter used twice is bound
/// twice), which suits both `?` (SQLite) and `$n` (PostgreSQL).
struct Raw<'a> {
    /// SQL text between placeholders, each followed by the parameter that
    /// goes there (none after the last piece).
    pieces: Vec<(&'a str, Option<&'a Param>)>,
}

impl<'a> Raw<'a> {
    fn new(sql: &'a str, params: &'a [Param]) -> Result<Self, StoreError> {
        let mut pieces = Vec::new();
        let bytes = sql.as_bytes();
        let (mut start, mut i) = (0, 0);
        while i < bytes.len() {
            if bytes[i] == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                let mut end = i + 1;
                while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                let n: usize = sql[i + 1..end].parse().unwrap_or(0);
                let param = n
                    .checked_sub(1)
                    .and_then(|k| params.get(k))
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("statement parameter ${n} is missing"))
                    })?;
                pieces.push((&sql[start..i], Some(param)));
                start = end;
                i = end;
            } else {
                i += 1;
            }
        }
        pieces.push((&sql[start..], None));
        Ok(Self { pieces })
    }
}

impl diesel::query_builder::QueryId for Raw<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Raw<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> diesel::RunQueryDsl<Conn> for Raw<'_> {}

macro_rules! raw_fragment {
    ($backend:ty) => {
        impl diesel::query_builder::QueryFragment<$backend> for Raw<'_> {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, $backend>,
            ) -> diesel::QueryResult<()> {
                for (sql, param) in &self.pieces {
                    out.push_sql(sql);
                    match param {
                        Some(Param::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                        Some(Param::Time(v)) => out.push_bind_param::<Timestamp, _>(v)?,
                        Some(Param::Int(v)) => {
                            out.push_bind_param::<diesel::sql_types::BigInt, _>(v)?
                        }
                        None => {}
                    }
                }
                Ok(())
            }
        }
    };
}

raw_fragment!(Pg);
raw_fragment!(Sqlite);

/// Runs a raw statement written with `$1, $2...` placeholders on either
/// backend, binding the parameters where they appear; the prepared
/// statement is cached per connection. The one place raw SQL meets both
/// backends' placeholder styles.
pub(crate) fn load<T>(
    conn: &mut DbConnection,
    sql: &str,
    params: &[Param],
) -> Result<Vec<T>, StoreError>
where
    T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    run(conn, Raw::new(sql, params)?)
}

fn run<T>(conn: &mut DbConnection, raw: Raw<'_>) -> Result<Vec<T>, StoreError>
where
    T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    use diesel::RunQueryDsl;
    match conn {
        DbConnection::Postgresql(pg) => Ok(raw.load(pg)?),
        DbConnection::Sqlite(lite) => Ok(raw.load(lite)?),
    }
}

/// [`load`] with text parameters only.
pub(crate) fn load_by_text<T>(
    conn: &mut DbConnection,
    sql: &str,
    params: &[String],
) -> Result<Vec<T>, StoreError>
where
    T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    let params: Vec<Param> = params.iter().cloned().map(Param::Text).collect();
    load(conn, sql, &params)
}

// ------------------------------------------------------------------ caller

/// The caller's columns, selected from `users u`.
pub(crate) const CALLER_COLUMNS: &str = "u.id AS u_id, u.email AS u_email, \
    u.username AS u_username, u.display_name AS u_display_name, \
    u.password_hash AS u_password_hash, u.is_root AS u_is_root, \
    u.email_verified_at AS u_email_verified_at, \
    u.credentials_changed_at AS u_credentials_changed_at, \
    u.created_at AS u_created_at, u.updated_at AS u_updated_at";

#[derive(QueryableByName)]
pub(crate) struct CallerCols {
    #[diesel(sql_type = Text)]
    u_id: String,
    #[diesel(sql_type = Text)]
    u_email: String,
    #[diesel(sql_type = Text)]
    u_username: String,
    #[diesel(sql_type = Text)]
    u_display_name: String,
    #[diesel(sql_type = Text)]
    u_password_hash: String,
    #[diesel(sql_type = Bool)]
    u_is_root: bool,
    #[diesel(sql_type = Nullable<Timestamp>)]
    u_email_verified_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Timestamp)]
    u_credentials_changed_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    u_created_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    u_updated_at: NaiveDateTime,
}

impl CallerCols {
    pub(crate) fn user(self) -> Result<User, StoreError> {
        Ok(User {
            id: parse_id(&self.u_id)?,
            email: self.u_email,
            username: self.u_username,
            display_name: self.u_display_name,
            password_hash: self.u_password_hash,
            is_root: self.u_is_root,
            email_verified_at: self.u_email_verified_at.map(from_db),
            credentials_changed_at: from_db(self.u_credentials_changed_at),
            created_at: from_db(self.u_created_at),
            updated_at: from_db(self.u_updated_at),
        })
    }
}

// ------------------------------------------------------------------ asset facts

/// The facts for the user `{uid}` on the asset `a`, as select-list columns:
/// collaborator, household roles through collaborating heads, the share and
/// its expiry, the estate role and the site override. Every lookup is by a
/// primary key or the member index.
pub(crate) fn asset_fact_columns(uid: &str) -> String {
    "EXISTS (SELECT 1 FROM asset_collaborators c WHERE c.asset_id = a.id AND c.user_id = {uid}) AS is_collaborator,
  EXISTS (SELECT 1 FROM household_members h JOIN asset_collaborators c ON c.asset_id = a.id AND c.user_id = h.head_id
          WHERE h.member_id = {uid} AND h.role = 'viewer') AS hh_viewer,
  EXISTS (SELECT 1 FROM household_members h JOIN asset_collaborators c ON c.asset_id = a.id AND c.user_id = h.head_id
          WHERE h.member_id = {uid} AND h.role = 'editor') AS hh_editor,
  EXISTS (SELECT 1 FROM household_members h JOIN asset_collaborators c ON c.asset_id = a.id AND c.user_id = h.head_id
          WHERE h.member_id = {uid} AND h.role = 'manager') AS hh_manager,
  (SELECT s.permission FROM asset_shares s WHERE s.asset_id = a.id AND s.user_id = {uid}) AS share_permission,
  (SELECT s.access_expires_at FROM asset_shares s WHERE s.asset_id = a.id AND s.user_id = {uid}) AS share_expires_at,
  (SELECT m.role FROM estate_members m WHERE m.estate_id = a.estate_id AND m.user_id = {uid}) AS estate_role,
  (SELECT o.role FROM site_overrides o WHERE o.site_id = a.site_id AND o.user_id = {uid}) AS site_override"
        .replace("{uid}", uid)
}

/// The columns of [`asset_fact_columns`].
#[derive(QueryableByName)]
pub(crate) struct AssetFactCols {
    #[diesel(sql_type = Bool)]
    is_collaborator: bool,
    #[diesel(sql_type = Bool)]
    hh_viewer: bool,
    #[diesel(sql_type = Bool)]
    hh_editor: bool,
    #[diesel(sql_type = Bool)]
    hh_manager: bool,
    #[diesel(sql_type = Nullable<Text>)]
    share_permission: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    share_expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    estate_role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    site_override: Option<String>,
}

impl AssetFactCols {
    /// The facts as the resolver reads them. Household paths are counted
    /// through a collaborating head only, so each present role stands for
    /// one such head (the resolver needs the role, not who the head is).
    pub(crate) fn access(self, asset_id: Uuid) -> Result<AccessRow, StoreError> {
        let households = [
            (self.hh_viewer, HouseholdRole::Viewer),
            (self.hh_editor, HouseholdRole::Editor),
            (self.hh_manager, HouseholdRole::Manager),
        ]
        .into_iter()
        .filter(|(present, _)| *present)
        .map(|(_, role)| (Uuid::nil(), role, true))
        .collect();
        let share = self
            .share_permission
            .as_deref()
            .map(|p| Ok::<_, StoreError>((asset_id, parse(p)?, self.share_expires_at.map(from_db))))
            .transpose()?;
        Ok(AccessRow {
            is_collaborator: self.is_collaborator,
            households,
            share,
            estate_role: self
                .estate_role
                .as_deref()
                .map(parse::<EstateRole>)
                .transpose()?,
            site_override: self
                .site_override
                .as_deref()
                .map(parse::<SiteOverride>)
                .transpose()?,
        })
    }
}

/// The asset's columns from `assets a`, null when there is no such asset.
pub(crate) const ASSET_COLUMNS: &str = "a.id AS a_id, a.name AS a_name, a.reference AS a_reference, \
    a.attributes AS a_attributes, a.site_id AS a_site_id, a.estate_id AS a_estate_id, \
    a.created_at AS a_created_at, a.updated_at AS a_updated_at";

#[derive(QueryableByName)]
pub(crate) struct AssetCols {
    #[diesel(sql_type = Nullable<Text>)]
    a_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    a_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    a_reference: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    a_attributes: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    a_site_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    a_estate_id: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    a_created_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    a_updated_at: Option<NaiveDateTime>,
}

impl AssetCols {
    pub(crate) fn asset(self) -> Result<Option<Asset>, StoreError> {
        let (Some(id), Some(name), Some(attributes), Some(created_at), Some(updated_at)) = (
            self.a_id,
            self.a_name,
            self.a_attributes,
            self.a_created_at,
            self.a_updated_at,
        ) else {
            return Ok(None);
        };
        crate::assets::asset_from_parts(
            id,
            name,
            self.a_reference,
            attributes,
            self.a_site_id,
            self.a_estate_id,
            created_at,
            updated_at,
        )
        .map(Some)
    }
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

fn asset_sql() -> String {
    format!(
        "SELECT {CALLER_COLUMNS}, {ASSET_COLUMNS}, {}
         FROM users u LEFT JOIN assets a ON a.id = $2
         WHERE u.id = $1",
        asset_fact_columns("u.id")
    )
}

/// The caller, the asset and the caller's facts on it, in one statement.
pub fn asset(
    conn: &mut DbConnection,
    caller: Uuid,
    asset_id: Uuid,
) -> Result<Read<(Asset, AccessRow)>, StoreError> {
    let sql = asset_sql();
    let row: Option<AssetAccessCols> =
        load_by_text(conn, &sql, &[caller.to_string(), asset_id.to_string()])?
            .into_iter()
            .next();
    row.map(|r| {
        let user = r.caller.user()?;
        let found = match r.asset.asset()? {
            Some(asset) => {
                let access = r.facts.access(asset.id)?;
                Some((asset, access))
            }
            None => None,
        };
        Ok((user, found))
    })
    .transpose()
}

// ------------------------------------------------------------------ estates and sites

#[derive(QueryableByName)]
struct EstateAccessCols {
    #[diesel(embed)]
    caller: CallerCols,
    #[diesel(sql_type = Nullable<Text>)]
    e_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    e_name: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    e_created_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    e_updated_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    e_role: Option<String>,
}

fn estate_sql() -> String {
    format!(
        "SELECT {CALLER_COLUMNS}, e.id AS e_id, e.name AS e_name, e.created_at AS e_created_at,
                e.updated_at AS e_updated_at, m.role AS e_role
         FROM users u
         LEFT JOIN estates e ON e.id = $2
         LEFT JOIN estate_members m ON m.estate_id = e.id AND m.user_id = u.id
         WHERE u.id = $1"
    )
}

/// The caller, the estate and the caller's role in it, in one statement.
pub fn estate(
    conn: &mut DbConnection,
    caller: Uuid,
    estate_id: Uuid,
) -> Result<Read<(Estate, Option<EstateRole>)>, StoreError> {
    let sql = estate_sql();
    let row: Option<EstateAccessCols> =
        load_by_text(conn, &sql, &[caller.to_string(), estate_id.to_string()])?
            .into_iter()
            .next();
    row.map(|r| {
        let user = r.caller.user()?;
        let found = match (r.e_id, r.e_name, r.e_created_at, r.e_updated_at) {
            (Some(id), Some(name), Some(created_at), Some(updated_at)) => Some((
                Estate {
                    id: parse_id(&id)?,
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
    s_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    s_estate_id: Option<String>,
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
pub type SiteFacts = (Site, Option<EstateRole>, Option<SiteOverride>);

fn site_sql() -> String {
    format!(
        "SELECT {CALLER_COLUMNS}, s.id AS s_id, s.estate_id AS s_estate_id, s.name AS s_name,
                s.created_at AS s_created_at, s.updated_at AS s_updated_at,
                m.role AS s_estate_role, o.role AS s_override
         FROM users u
         LEFT JOIN sites s ON s.id = $2
         LEFT JOIN estate_members m ON m.estate_id = s.estate_id AND m.user_id = u.id
         LEFT JOIN site_overrides o ON o.site_id = s.id AND o.user_id = u.id
         WHERE u.id = $1"
    )
}

/// The caller, the site, the caller's role in its estate and override at
/// the site, in one statement.
pub fn site(
    conn: &mut DbConnection,
    caller: Uuid,
    site_id: Uuid,
) -> Result<Read<SiteFacts>, StoreError> {
    let sql = site_sql();
    let row: Option<SiteAccessCols> =
        load_by_text(conn, &sql, &[caller.to_string(), site_id.to_string()])?
            .into_iter()
            .next();
    row.map(|r| {
        let user = r.caller.user()?;
        let found = match (
            r.s_id,
            r.s_estate_id,
            r.s_name,
            r.s_created_at,
            r.s_updated_at,
        ) {
            (Some(id), Some(estate_id), Some(name), Some(created_at), Some(updated_at)) => Some((
                Site {
                    id: parse_id(&id)?,
                    estate_id: parse_id(&estate_id)?,
                    name,
                    created_at: from_db(created_at),
                    updated_at: from_db(updated_at),
                },
                r.s_estate_role
                    .as_deref()
                    .map(parse::<EstateRole>)
                    .transpose()?,
                r.s_override
                    .as_deref()
                    .map(parse::<SiteOverride>)
                    .transpose()?,
            )),
            _ => None,
        };
        Ok((user, found))
    })
    .transpose()
}

// ------------------------------------------------------------------ invitations

#[derive(QueryableByName)]
struct InvitationCols {
    #[diesel(sql_type = Nullable<Text>)]
    i_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_resource_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_resource_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_email: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_message: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_invited_by: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    i_invited_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    i_expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    i_access_expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    i_last_sent_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Integer>)]
    i_resend_count: Option<i32>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    i_responded_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    i_inviter_username: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_inviter_display_name: Option<String>,
}

const INVITATION_COLUMNS: &str = "i.id AS i_id, i.resource_type AS i_resource_type, \
    i.resource_id AS i_resource_id, i.email AS i_email, i.role AS i_role, i.message AS i_message, \
    i.status AS i_status, i.invited_by AS i_invited_by, i.invited_at AS i_invited_at, \
    i.expires_at AS i_expires_at, i.access_expires_at AS i_access_expires_at, \
    i.last_sent_at AS i_last_sent_at, i.resend_count AS i_resend_count, \
    i.responded_at AS i_responded_at, iu.username AS i_inviter_username, \
    iu.display_name AS i_inviter_display_name";

impl InvitationCols {
    fn invitation(self) -> Result<Option<Invitation>, StoreError> {
        let (
            Some(id),
            Some(resource_type),
            Some(resource_id),
            Some(email),
            Some(role),
            Some(status),
            Some(invited_by),
            Some(invited_at),
            Some(last_sent_at),
            Some(resend_count),
            Some(inviter_username),
            Some(inviter_display_name),
        ) = (
            self.i_id,
            self.i_resource_type,
            self.i_resource_id,
            self.i_email,
            self.i_role,
            self.i_status,
            self.i_invited_by,
            self.i_invited_at,
            self.i_last_sent_at,
            self.i_resend_count,
            self.i_inviter_username,
            self.i_inviter_display_name,
        )
        else {
            return Ok(None);
        };
        crate::invitations::from_row((
            (
                id,
                resource_type,
                resource_id,
                email,
                role,
                self.i_message,
                status,
                invited_by,
                invited_at,
                self.i_expires_at,
            ),
            (
                self.i_access_expires_at,
                last_sent_at,
                resend_count,
                self.i_responded_at,
            ),
            (inviter_username, inviter_display_name),
        ))
        .map(Some)
    }
}

#[derive(QueryableByName)]
struct AssetInvitationCols {
    #[diesel(embed)]
    caller: CallerCols,
    #[diesel(embed)]
    invitation: InvitationCols,
    #[diesel(embed)]
    asset: AssetCols,
    #[diesel(embed)]
    facts: AssetFactCols,
}

/// An asset invitation with the asset it offers and the caller's facts on it.
pub type AssetInvitationFacts = (Invitation, Option<(Asset, AccessRow)>);

fn asset_invitation_sql() -> String {
    format!(
        "SELECT {CALLER_COLUMNS}, {INVITATION_COLUMNS}, {ASSET_COLUMNS}, {}
         FROM users u
         LEFT JOIN invitations i ON i.id = $2 AND i.resource_type = 'asset'
         LEFT JOIN users iu ON iu.id = i.invited_by
         LEFT JOIN assets a ON a.id = i.resource_id
         WHERE u.id = $1",
        asset_fact_columns("u.id")
    )
}

/// The caller, an invitation to an asset, the asset and the caller's facts
/// on it, in one statement.
pub fn asset_invitation(
    conn: &mut DbConnection,
    caller: Uuid,
    invitation_id: Uuid,
) -> Result<Read<AssetInvitationFacts>, StoreError> {
    let sql = asset_invitation_sql();
    let row: Option<AssetInvitationCols> =
        load_by_text(conn, &sql, &[caller.to_string(), invitation_id.to_string()])?
            .into_iter()
            .next();
    row.map(|r| {
        let user = r.caller.user()?;
        let found = match r.invitation.invitation()? {
            Some(inv) => {
                let asset = match r.asset.asset()? {
                    Some(asset) => {
                        let access = r.facts.access(asset.id)?;
                        Some((asset, access))
                    }
                    None => None,
                };
                Some((inv, asset))
            }
            None => None,
        };
        Ok((user, found))
    })
    .transpose()
}

/// The caller alone (for routes that read nothing else first).
pub fn caller(conn: &mut DbConnection, caller: Uuid) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {CALLER_COLUMNS} FROM users u WHERE u.id = $1");
    let row: Option<CallerCols> = load_by_text(conn, &sql, &[caller.to_string()])?
        .into_iter()
        .next();
    row.map(CallerCols::user).transpose()
}

// ------------------------------------------------------------------ query plans

#[derive(QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlanRow {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    plan: String,
}

/// The plan the database chooses for a statement, one line per step
/// (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`).
pub(crate) fn explain(
    conn: &mut DbConnection,
    sql: &str,
    params: &[Param],
) -> Result<Vec<String>, StoreError> {
    let explained = format!(
        "EXPLAIN {}{sql}",
        if matches!(conn, DbConnection::Sqlite(_)) {
            "QUERY PLAN "
        } else {
            ""
        }
    );
    Ok(match conn {
        DbConnection::Postgresql(_) => load::<PgPlanRow>(conn, &explained, params)?
            .into_iter()
            .map(|r| r.plan)
            .collect(),
        DbConnection::Sqlite(_) => load::<SqlitePlanRow>(conn, &explained, params)?
            .into_iter()
            .map(|r| r.detail)
            .collect(),
    })
}

/// The plans of the one-statement access reads, by name, for the caller
/// and the resources given: what a plan test checks for full scans.
pub fn plans(
    conn: &mut DbConnection,
    caller: Uuid,
    asset: Uuid,
    estate: Uuid,
    site: Uuid,
    invitation: Uuid,
) -> Result<Vec<(&'static str, Vec<String>)>, StoreError> {
    let text = |a: Uuid, b: Uuid| vec![Param::Text(a.to_string()), Param::Text(b.to_string())];
    Ok(vec![
        ("asset", explain(conn, &asset_sql(), &text(caller, asset))?),
        (
            "estate",
            explain(conn, &estate_sql(), &text(caller, estate))?,
        ),
        ("site", explain(conn, &site_sql(), &text(caller, site))?),
        (
            "asset_invitation",
            explain(conn, &asset_invitation_sql(), &text(caller, invitation))?,
        ),
    ])
}
