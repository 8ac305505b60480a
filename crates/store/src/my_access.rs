//! Everything that gives one user access, one row per grant they hold: an
//! estate role, a site override, a collaboration, a household membership
//! (through its head's collaborations), a share. Read from the user's own
//! rows through their indexes, newest first, paged in the SQL.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::sql_types::{Nullable, Text, Timestamp};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::paging::{Bind, COUNT_LIMIT, Page, Sql, Window};
use crate::time::from_db;

/// What a grant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    /// A role in an estate.
    EstateRole,
    /// An override of the estate role at one site.
    SiteOverride,
    /// A collaborator of an asset (full access).
    Collaborator,
    /// A member of someone's household: their role on every asset the head
    /// collaborates on.
    Household,
    /// A share of an asset (an accepted asset invitation).
    Share,
}

impl GrantKind {
    pub const ALL: [Self; 5] =
        [Self::EstateRole, Self::SiteOverride, Self::Collaborator, Self::Household, Self::Share];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EstateRole => "estate_role",
            Self::SiteOverride => "site_override",
            Self::Collaborator => "collaborator",
            Self::Household => "household",
            Self::Share => "share",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| StoreError::Corrupt(format!("grant kind {s}")))
    }
}

/// One grant the user holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub kind: GrantKind,
    /// The estate, site or asset; for a household, its head.
    pub resource_id: Uuid,
    /// Its name (the head's display name for a household).
    pub resource_name: String,
    /// The estate role, the override, `full`, the household role or the
    /// share's permission, as stored.
    pub role: String,
    /// A site's estate: id and name.
    pub estate: Option<(Uuid, String)>,
    /// A household head's username.
    pub username: Option<String>,
    /// When a share's access ends.
    pub until: Option<DateTime<Utc>>,
    /// When the grant was made.
    pub since: DateTime<Utc>,
}

/// Where a page starts: the last grant's instant and kind (then its
/// resource id, the window's id).
pub type GrantKey = (DateTime<Utc>, String);

#[derive(diesel::QueryableByName)]
struct GrantRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    resource_id: String,
    #[diesel(sql_type = Text)]
    resource_name: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<Text>)]
    estate_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    estate_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    username: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    until: Option<NaiveDateTime>,
    #[diesel(sql_type = Timestamp)]
    since: NaiveDateTime,
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt(format!("id {s}")))
}

impl GrantRow {
    fn into_grant(self) -> Result<Grant> {
        let estate = match (self.estate_id, self.estate_name) {
            (Some(id), Some(name)) => Some((uuid(&id)?, name)),
            _ => None,
        };
        Ok(Grant {
            kind: GrantKind::parse(&self.kind)?,
            resource_id: uuid(&self.resource_id)?,
            resource_name: self.resource_name,
            role: self.role,
            estate,
            username: self.username,
            until: self.until.map(from_db),
            since: from_db(self.since),
        })
    }
}

/// The union of the user's grants (`u` is the user's placeholder), with
/// the columns of [`GrantRow`].
fn union(u: &str) -> String {
    let none = "CAST(NULL AS TEXT)";
    // Names come from scalar subqueries on primary keys: one index probe a
    // row, whatever plan (custom or generic) the database picks.
    let name = |table: &str, alias: &str, column: &str, id: &str| {
        format!("(SELECT {alias}.{column} FROM {table} {alias} WHERE {alias}.id = {id})")
    };
    format!(
        "SELECT 'estate_role' AS kind, m.estate_id AS resource_id,
                {estate} AS resource_name, m.role AS role, {none} AS estate_id,
                {none} AS estate_name, {none} AS username,
                CAST(NULL AS TIMESTAMP) AS until, m.created_at AS since
           FROM estate_members m WHERE m.user_id = {u}
         UNION ALL
         SELECT 'site_override', o.site_id, {site}, o.role, o.estate_id, {site_estate}, {none},
                NULL, o.created_at
           FROM site_overrides o WHERE o.user_id = {u}
         UNION ALL
         SELECT 'collaborator', c.asset_id, {collaborated}, 'full', {none}, {none}, {none},
                NULL, c.added_at
           FROM asset_collaborators c WHERE c.user_id = {u}
         UNION ALL
         SELECT 'household', h.head_id, {head_name}, h.role, {none}, {none}, {head_username},
                NULL, h.added_at
           FROM household_members h WHERE h.member_id = {u}
         UNION ALL
         SELECT 'share', s.asset_id, {shared}, s.permission, {none}, {none}, {none},
                s.access_expires_at, s.granted_at
           FROM asset_shares s WHERE s.user_id = {u}",
        estate = name("estates", "e", "name", "m.estate_id"),
        site = name("sites", "st", "name", "o.site_id"),
        site_estate = name("estates", "e", "name", "o.estate_id"),
        collaborated = name("assets", "a", "name", "c.asset_id"),
        head_name = name("users", "hu", "display_name", "h.head_id"),
        head_username = name("users", "hu", "username", "h.head_id"),
        shared = name("assets", "a", "name", "s.asset_id"),
    )
}

/// The statement of a page of `user_id`'s grants (see [`grants`]).
fn page_sql(sql: &mut Sql, user_id: Uuid, window: &Window<GrantKey>) -> String {
    let u = sql.id(user_id);
    let after = match &window.after {
        None => String::new(),
        Some(((at, kind), id)) => {
            let (at, kind, id) = (sql.param((*at).into()), sql.text(kind.clone()), sql.id(*id));
            format!(
                " WHERE g.since < {at} OR (g.since = {at} AND (g.kind < {kind}
                   OR (g.kind = {kind} AND g.resource_id < {id})))"
            )
        }
    };
    // The page's rows plus one, and the offset (every value bound is named
    // in the text, as PostgreSQL's PREPARE of the plan checks needs).
    let rows = sql.param(Bind::Int(window.limit.saturating_add(1)));
    let offset = sql.param(Bind::Int(window.offset));
    format!(
        "SELECT * FROM ({union}) g{after}
         ORDER BY g.since DESC, g.kind DESC, g.resource_id DESC LIMIT {rows} OFFSET {offset}",
        union = union(&u)
    )
}

/// The statement counting `user_id`'s grants up to [`COUNT_LIMIT`].
fn count_sql(sql: &mut Sql, user_id: Uuid) -> String {
    let u = sql.id(user_id);
    let cap = sql.param(Bind::Int(COUNT_LIMIT));
    format!("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM ({}) g LIMIT {cap}) n", union(&u))
}

/// A page of the grants `user_id` holds, newest first (then by kind and
/// resource id, descending); the total counted up to [`COUNT_LIMIT`].
pub fn grants(conn: &mut Conn, user_id: Uuid, window: &Window<GrantKey>) -> Result<Page<Grant>> {
    let mut sql = Sql::new(conn);
    let query = page_sql(&mut sql, user_id, window);
    let items = sql
        .load::<GrantRow>(conn, &query)?
        .into_iter()
        .map(GrantRow::into_grant)
        .collect::<Result<Vec<_>>>()?;
    let mut sql = Sql::new(conn);
    let query = count_sql(&mut sql, user_id);
    let counted = sql.count(conn, &query)?;
    Ok(Page::cut(items, window.limit, counted))
}

/// The plans of the page and count statements, for the query-plan checks.
pub fn plans(
    conn: &mut Conn,
    user_id: Uuid,
    window: &Window<GrantKey>,
) -> Result<Vec<(&'static str, Vec<String>)>> {
    let mut sql = Sql::new(conn);
    let page = page_sql(&mut sql, user_id, window);
    let page = sql.explain(conn, &page)?;
    let mut sql = Sql::new(conn);
    let count = count_sql(&mut sql, user_id);
    Ok(vec![("my access page", page), ("my access count", sql.explain(conn, &count)?)])
}
