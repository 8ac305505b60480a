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
/// backend, split once into the SQL between placeholders and the parameter
/// that goes after each piece. Every `$n` is bound where it appears (a
/// parameter used twice is bound twice), which suits both `?` (SQLite) and
/// `$n` (PostgreSQL).
pub(crate) struct Statement {
    text: String,
    /// Byte ranges of `text` between placeholders, each with the index of
    /// the parameter that follows it (none after the last piece).
    pieces: Vec<(std::ops::Range<usize>, Option<usize>)>,
}

impl Statement {
    pub(crate) fn new(text: String) -> Self {
        let mut pieces = Vec::new();
        let bytes = text.as_bytes();
        let (mut start, mut i) = (0, 0);
        while i < bytes.len() {
            if bytes[i] == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                let mut end = i + 1;
                while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                // `$0` (or a number too big) names no parameter: binding
                // it fails (usize::MAX is never an index).
                let n: usize = text[i + 1..end].parse().unwrap_or(0);
                pieces.push((start..i, Some(n.checked_sub(1).unwrap_or(usize::MAX))));
                start = end;
                i = end;
            } else {
                i += 1;
            }
        }
        pieces.push((start..text.len(), None));
        Self { text, pieces }
    }
}

/// What a statement is cached under in each connection's statement cache.
/// `Dynamic` statements are keyed by their text (built and hashed on every
/// call); a statement whose text never changes gets a type of its own
/// (see [`cached_statement!`]) and is found by that type alone.
pub(crate) trait StatementKey: 'static {
    const FIXED: bool;
}

/// The key of a statement built per call.
pub(crate) struct Dynamic;

impl StatementKey for Dynamic {
    const FIXED: bool = false;
}

/// Declares `fn $name() -> &'static Statement` for a statement whose text
/// never changes, built once, with a key type `$key` of its own so that each
/// connection finds its prepared statement without rebuilding the text.
macro_rules! cached_statement {
    ($(#[$doc:meta])* $name:ident, $key:ident, $text:expr) => {
        $(#[$doc])*
        pub(crate) struct $key;

        impl $crate::access::StatementKey for $key {
            const FIXED: bool = true;
        }

        fn $name() -> &'static $crate::access::Statement {
            static STATEMENT: std::sync::OnceLock<$crate::access::Statement> =
                std::sync::OnceLock::new();
            STATEMENT.get_or_init(|| $crate::access::Statement::new($text))
        }
    };
}

/// A statement with its parameters, as diesel runs it: prepared once per
/// connection and reused, so a request pays neither SQLite's compile nor
/// PostgreSQL's parse. Unlike `diesel::sql_query`, it may be cached.
struct Raw<'a, K> {
    statement: &'a Statement,
    params: &'a [Param],
    key: std::marker::PhantomData<K>,
}

impl<K: StatementKey> diesel::query_builder::QueryId for Raw<'_, K> {
    type QueryId = K;
    const HAS_STATIC_QUERY_ID: bool = K::FIXED;
}

impl<K> diesel::query_builder::Query for Raw<'_, K> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn, K> diesel::RunQueryDsl<Conn> for Raw<'_, K> {}

macro_rules! raw_fragment {
    ($backend:ty) => {
        impl<K> diesel::query_builder::QueryFragment<$backend> for Raw<'_, K> {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, $backend>,
            ) -> diesel::QueryResult<()> {
                for (range, param) in &self.statement.pieces {
                    out.push_sql(&self.statement.text[range.clone()]);
                    let Some(index) = param else { continue };
                    match self.params.get(*index) {
                        Some(Param::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                        Some(Param::Time(v)) => out.push_bind_param::<Timestamp, _>(v)?,
                        Some(Param::Int(v)) => {
                            out.push_bind_param::<diesel::sql_types::BigInt, _>(v)?
                        }
                        None => {
                            return Err(diesel::result::Error::QueryBuilderError(
                                format!(
                                    "statement parameter ${} is missing",
                                    index.saturating_add(1)
                                )
                                .into(),
                            ));
                        }
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
/// statement is cached per connection (keyed by its text). The one place
/// raw SQL meets both backends' placeholder styles.
pub(crate) fn load<T>(
    conn: &mut DbConnection,
    sql: &str,
    params: &[Param],
) -> Result<Vec<T>, StoreError>
where
    T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    run::<T, Dynamic>(conn, &Statement::new(sql.to_owned()), params)
}

/// [`load`] for a statement declared with [`cached_statement!`].
pub(crate) fn load_cached<T, K: StatementKey>(
    conn: &mut DbConnection,
    statement: &Statement,
    params: &[Param],
) -> Result<Vec<T>, StoreError>
where
    T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    run::<T, K>(conn, statement, params)
}

fn run<T, K: StatementKey>(
    conn: &mut DbConnection,
    statement: &Statement,
    params: &[Param],
) -> Result<Vec<T>, StoreError>
where
    T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    use diesel::RunQueryDsl;
    let raw = Raw::<K> {
        statement,
        params,
        key: std::marker::PhantomData,
    };
    match conn {
        DbConnection::Postgresql(pg) => Ok(raw.load(pg)?),
        DbConnection::Sqlite(lite) => Ok(raw.load(lite)?),
    }
}

/// The parameters of a one-statement read: the caller and the resource.
fn ids(caller: Uuid, resource: Uuid) -> [Param; 2] {
    [
        Param::Text(caller.to_string()),
        Param::Text(resource.to_string()),
    ]
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

cached_statement!(
    /// The key of [`asset_sql`].
    asset_sql,
    AssetRead,
    format!(
        "SELECT {CALLER_COLUMNS}, {ASSET_COLUMNS}, {}
         FROM users u LEFT JOIN assets a ON a.id = $2
         WHERE u.id = $1",
        asset_fact_columns("u.id")
    )
);

/// The caller, the asset and the caller's facts on it, in one statement.
pub fn asset(
    conn: &mut DbConnection,
    caller: Uuid,
    asset_id: Uuid,
) -> Result<Read<(Asset, AccessRow)>, StoreError> {
    let row: Option<AssetAccessCols> =
        load_cached::<_, AssetRead>(conn, asset_sql(), &ids(caller, asset_id))?
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

cached_statement!(
    /// The key of [`estate_sql`].
    estate_sql,
    EstateRead,
    format!(
        "SELECT {CALLER_COLUMNS}, e.id AS e_id, e.name AS e_name, e.created_at AS e_created_at,
                e.updated_at AS e_updated_at, m.role AS e_role
         FROM users u
         LEFT JOIN estates e ON e.id = $2
         LEFT JOIN estate_members m ON m.estate_id = e.id AND m.user_id = u.id
         WHERE u.id = $1"
    )
);

/// The caller, the estate and the caller's role in it, in one statement.
pub fn estate(
    conn: &mut DbConnection,
    caller: Uuid,
    estate_id: Uuid,
) -> Result<Read<(Estate, Option<EstateRole>)>, StoreError> {
    let row: Option<EstateAccessCols> =
        load_cached::<_, EstateRead>(conn, estate_sql(), &ids(caller, estate_id))?
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

cached_statement!(
    /// The key of [`site_sql`].
    site_sql,
    SiteRead,
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
);

/// The caller, the site, the caller's role in its estate and override at
/// the site, in one statement.
pub fn site(
    conn: &mut DbConnection,
    caller: Uuid,
    site_id: Uuid,
) -> Result<Read<SiteFacts>, StoreError> {
    let row: Option<SiteAccessCols> =
        load_cached::<_, SiteRead>(conn, site_sql(), &ids(caller, site_id))?
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

cached_statement!(
    /// The key of [`asset_invitation_sql`].
    asset_invitation_sql,
    AssetInvitationRead,
    format!(
        "SELECT {CALLER_COLUMNS}, {INVITATION_COLUMNS}, {ASSET_COLUMNS}, {}
         FROM users u
         LEFT JOIN invitations i ON i.id = $2 AND i.resource_type = 'asset'
         LEFT JOIN users iu ON iu.id = i.invited_by
         LEFT JOIN assets a ON a.id = i.resource_id
         WHERE u.id = $1",
        asset_fact_columns("u.id")
    )
);

/// The caller, an invitation to an asset, the asset and the caller's facts
/// on it, in one statement.
pub fn asset_invitation(
    conn: &mut DbConnection,
    caller: Uuid,
    invitation_id: Uuid,
) -> Result<Read<AssetInvitationFacts>, StoreError> {
    let row: Option<AssetInvitationCols> = load_cached::<_, AssetInvitationRead>(
        conn,
        asset_invitation_sql(),
        &ids(caller, invitation_id),
    )?
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

cached_statement!(
    /// The key of [`caller_sql`].
    caller_sql,
    CallerRead,
    format!("SELECT {CALLER_COLUMNS} FROM users u WHERE u.id = $1")
);

/// The caller alone (for routes that read nothing else first).
pub fn caller(conn: &mut DbConnection, caller: Uuid) -> Result<Option<User>, StoreError> {
    let row: Option<CallerCols> =
        load_cached::<_, CallerRead>(conn, caller_sql(), &[Param::Text(caller.to_string())])?
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
/// (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`). On PostgreSQL the
/// statement is prepared and explained as executed (`EXPLAIN EXECUTE`), as
/// the server runs it: so a session with `plan_cache_mode` set to
/// `force_generic_plan` sees the generic plan, made without the parameters'
/// values, which PostgreSQL switches a cached statement to once it looks no
/// worse than the custom ones.
pub(crate) fn explain(
    conn: &mut DbConnection,
    sql: &str,
    params: &[Param],
) -> Result<Vec<String>, StoreError> {
    use diesel::connection::SimpleConnection;
    Ok(match conn {
        DbConnection::Postgresql(_) => {
            const NAME: &str = "keyholder_explained";
            conn.batch_execute(&format!("PREPARE {NAME} AS {sql}"))?;
            // EXECUTE inside EXPLAIN takes no bound parameters, so the
            // values go in as literals (quotes doubled; the server runs
            // with standard_conforming_strings, so backslashes are plain).
            let args = params
                .iter()
                .map(|p| match p {
                    Param::Text(v) => format!("'{}'", v.replace('\'', "''")),
                    Param::Time(t) => format!("'{}'", t.format("%Y-%m-%d %H:%M:%S%.6f")),
                    Param::Int(n) => n.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let call = if args.is_empty() {
                format!("EXPLAIN EXECUTE {NAME}")
            } else {
                format!("EXPLAIN EXECUTE {NAME}({args})")
            };
            let plan = match conn {
                DbConnection::Postgresql(pg) => {
                    use diesel::RunQueryDsl;
                    diesel::sql_query(call)
                        .load::<PgPlanRow>(pg)
                        .map_err(StoreError::from)
                }
                DbConnection::Sqlite(_) => Ok(Vec::new()),
            };
            conn.batch_execute(&format!("DEALLOCATE {NAME}"))?;
            plan?.into_iter().map(|r| r.plan).collect()
        }
        DbConnection::Sqlite(_) => {
            load::<SqlitePlanRow>(conn, &format!("EXPLAIN QUERY PLAN {sql}"), params)?
                .into_iter()
                .map(|r| r.detail)
                .collect()
        }
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
        (
            "asset",
            explain(conn, &asset_sql().text, &text(caller, asset))?,
        ),
        (
            "estate",
            explain(conn, &estate_sql().text, &text(caller, estate))?,
        ),
        (
            "site",
            explain(conn, &site_sql().text, &text(caller, site))?,
        ),
        (
            "asset_invitation",
            explain(
                conn,
                &asset_invitation_sql().text,
                &text(caller, invitation),
            )?,
        ),
    ])
}
