//! The invitation management tables: search, filters, sorts and keyset
//! pages over the invitations of every asset a user has full access to
//! (root: all), or of one estate, read through the sorted covering indexes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text};
use keyholder_domain::InvitationState;
use uuid::Uuid;

use super::stats::resource_counts;
use super::{Invitation, InvitationRow, from_row};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::id::DbId;
use crate::paging::{Bind, COUNT_LIMIT, Direction, Page, ReachPage, Sql, Window, count_per_row};
use crate::predicates::{self, NEVER};

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
    /// Only the rows of this bulk invitation.
    pub batch_id: Option<Uuid>,
}

/// A row of the management table: the invitation and its asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetInvitation {
    pub invitation: Invitation,
    pub asset_name: String,
    pub asset_reference: Option<String>,
}

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(embed)]
    invitation: InvitationRow,
    #[diesel(sql_type = Text)]
    inviter_username: String,
    #[diesel(sql_type = Text)]
    inviter_display_name: String,
    #[diesel(sql_type = Text)]
    asset_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    asset_reference: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    batch_id: Option<DbId>,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

impl TableRow {
    fn into_row(self) -> Result<AssetInvitation> {
        let inviter = (self.inviter_username, self.inviter_display_name);
        Ok(AssetInvitation {
            invitation: from_row((self.invitation, inviter, self.batch_id))?,
            asset_name: self.asset_name,
            asset_reference: self.asset_reference,
        })
    }
}

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
        if descending { Direction::Desc } else { Direction::Asc }
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
    ) -> Result<(Self, Option<String>)> {
        let mut filters = String::new();
        match filter.status {
            None => {}
            Some(InvitationState::Pending) => {
                let now = sql.param(now.into());
                filters.push_str(&format!(" AND {}", predicates::reads_pending("x", &now)));
            }
            Some(InvitationState::Expired) => {
                let now = sql.param(now.into());
                filters.push_str(&format!(" AND {}", predicates::reads_expired("x", &now)));
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
        if let Some(b) = filter.batch_id {
            let b = sql.id(b);
            filters.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM invitation_batch_rows br
                   WHERE br.invitation_id = x.id AND br.batch_id = {b})"
            ));
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
                let id = sql.id(*id);
                format!(" AND ({}, x.id) {} ({k}, {id})", sort.key("x"), sort.direction().after())
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
    "i.id, i.resource_type, i.resource_id, i.email, i.role, i.message, i.status, i.invited_by,
       i.invited_at, i.expires_at, i.access_expires_at, i.last_sent_at, i.resend_count,
       i.responded_at, u.username AS inviter_username, u.display_name AS inviter_display_name,
       a.name AS asset_name, a.reference AS asset_reference,
       (SELECT br.batch_id FROM invitation_batch_rows br WHERE br.invitation_id = i.id) AS batch_id";

/// The assets `{uid}` has full access to (collaborator, or admin or owner of
/// the asset's estate), from their memberships through indexes. Mirrors the
/// domain's `administers_asset` for non-root users.
///
/// Each asset once, without sorting the reach: the estates' assets skip
/// those the user collaborates on.
pub(crate) fn managed_assets_sql(uid: &str) -> String {
    let administers = predicates::administers("m.role");
    format!(
        "SELECT c.asset_id AS id FROM asset_collaborators c WHERE c.user_id = {uid}
         UNION ALL
         SELECT a.id FROM estate_members m JOIN assets a ON a.estate_id = m.estate_id
         WHERE m.user_id = {uid} AND {administers}
           AND NOT EXISTS (
             SELECT 1 FROM asset_collaborators c WHERE c.asset_id = a.id AND c.user_id = {uid})"
    )
}

/// `managed` and `reach` (managed assets with `hit`: whether the asset's
/// name or reference matches `q`), optionally cut to one asset.
pub(super) fn reach_ctes(
    sql: &mut Sql,
    user_id: Uuid,
    asset: Option<Uuid>,
    pattern: Option<&str>,
) -> String {
    let uid = sql.id(user_id);
    let only = asset.map_or(String::new(), |a| format!(" WHERE m.id = {}", sql.id(a)));
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
    conn: &mut Conn,
    user_id: Uuid,
    is_root: bool,
    filter: &TableFilter,
    sort: Sort,
    now: DateTime<Utc>,
    window: &Window<TableKey>,
) -> Result<Page<AssetInvitation>> {
    let mut sql = Sql::new(conn);
    let (cond, pattern) = TableConditions::new(&mut sql, filter, sort, now, window.after.as_ref())?;
    let dir = sort.direction().sql();
    let key = sort.key("x");
    let [fetch, rows, offset] = sql.window(window);
    let order = format!("ORDER BY {key} {dir}, x.id {dir}");
    let (ctes, total) =
        table_scope(&mut sql, (user_id, is_root), filter, &cond, pattern.as_deref(), now);
    let page = if is_root {
        root_page(&mut sql, filter, &cond, pattern.as_deref(), &key, &order, &fetch)
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
            key: &|a| sort.key(a),
            on: &on,
            reach: ("reach", "r"),
            carried: &["id", "hit"],
            rows: ("invitations", "x"),
            outer: "i",
            dir,
            fetch: &fetch,
        }
        .sql()
    };
    let with = if ctes.is_empty() { "WITH".to_owned() } else { format!("{ctes},") };
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
        None => table_total(conn, (user_id, is_root), filter, sort, now)?,
    };
    let rows = rows.into_iter().map(TableRow::into_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::cut(rows, window.limit, counted))
}

/// The table's total when the page holds no row to carry it, for the
/// viewer (their id, whether they are root).
fn table_total(
    conn: &mut Conn,
    viewer: (Uuid, bool),
    filter: &TableFilter,
    sort: Sort,
    now: DateTime<Utc>,
) -> Result<i64> {
    let mut sql = Sql::new(conn);
    let (cond, pattern) = TableConditions::new(&mut sql, filter, sort, now, None)?;
    let (ctes, total) = table_scope(&mut sql, viewer, filter, &cond, pattern.as_deref(), now);
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
    let asset =
        filter.asset_id.map_or(String::new(), |a| format!(" AND x.resource_id = {}", sql.id(a)));
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
    let ctes =
        if is_root { String::new() } else { reach_ctes(sql, user_id, filter.asset_id, pattern) };
    // The counts hold no permission, email or batch.
    let by_counts = filter.status.is_some()
        && filter.permission.is_none()
        && filter.batch_id.is_none()
        && pattern.is_none();
    let total = if by_counts {
        let counts = resource_counts(sql, is_root, filter.asset_id, now);
        match filter.status {
            Some(s @ InvitationState::Pending) => {
                format!("SELECT {} - {} FROM {}", counts.status(s), counts.lapsed, counts.from)
            }
            Some(s @ InvitationState::Expired) => {
                format!("SELECT {} + {} FROM {}", counts.status(s), counts.lapsed, counts.from)
            }
            Some(other) => format!("SELECT {} FROM {}", counts.status(other), counts.from),
            None => format!("SELECT {} FROM {}", counts.total(), counts.from),
        }
    } else {
        let cap = sql.param(Bind::Int(COUNT_LIMIT));
        if is_root {
            let asset = filter
                .asset_id
                .map_or(String::new(), |a| format!(" AND x.resource_id = {}", sql.id(a)));
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
            count_per_row(sql.pg, "reach r", "invitations x", &on, &cap)
        }
    };
    (ctes, total)
}

#[derive(QueryableByName)]
struct EstateRow {
    #[diesel(embed)]
    invitation: InvitationRow,
    #[diesel(sql_type = Text)]
    inviter_username: String,
    #[diesel(sql_type = Text)]
    inviter_display_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    batch_id: Option<DbId>,
}

const ESTATE_COLUMNS: &str =
    "i.id, i.resource_type, i.resource_id, i.email, i.role, i.message, i.status, i.invited_by,
       i.invited_at, i.expires_at, i.access_expires_at, i.last_sent_at, i.resend_count,
       i.responded_at, u.username AS inviter_username, u.display_name AS inviter_display_name,
       (SELECT br.batch_id FROM invitation_batch_rows br WHERE br.invitation_id = i.id) AS batch_id";

/// One page of an estate's invitations: filtered (status, role, `q` in the
/// email), sorted and paged by keyset through the estate's sorted covering
/// indexes, with the total counted up to
/// [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT).
pub fn estate_table(
    conn: &mut Conn,
    estate_id: Uuid,
    filter: &TableFilter,
    sort: Sort,
    now: DateTime<Utc>,
    window: &Window<TableKey>,
) -> Result<Page<Invitation>> {
    let total = estate_total(conn, estate_id, filter, sort, now)?;
    let mut sql = Sql::new(conn);
    let query = estate_page_sql(&mut sql, estate_id, filter, sort, now, window)?;
    let rows: Vec<EstateRow> = sql.load(conn, &query)?;
    let items = rows
        .into_iter()
        .map(|r| from_row((r.invitation, (r.inviter_username, r.inviter_display_name), r.batch_id)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::cut(items, window.limit, total))
}

/// The statement of one page of an estate's invitations.
fn estate_page_sql(
    sql: &mut Sql,
    estate_id: Uuid,
    filter: &TableFilter,
    sort: Sort,
    now: DateTime<Utc>,
    window: &Window<TableKey>,
) -> Result<String> {
    let (cond, _) = TableConditions::new(sql, filter, sort, now, window.after.as_ref())?;
    let dir = sort.direction().sql();
    let key = sort.key("x");
    let [fetch, rows, offset] = sql.window(window);
    let estate = sql.id(estate_id);
    Ok(format!(
        "WITH page AS (
           SELECT x.id, {key} AS k FROM invitations x
           WHERE x.resource_type = 'estate' AND x.resource_id = {estate}{filters}{after}
           ORDER BY {key} {dir}, x.id {dir} LIMIT {fetch})
         SELECT {ESTATE_COLUMNS}
         FROM page p
         JOIN invitations i ON i.id = p.id
         JOIN users u ON u.id = i.invited_by
         ORDER BY p.k {dir}, p.id {dir}
         LIMIT {rows} OFFSET {offset}",
        filters = cond.filters("FALSE"),
        after = cond.after,
    ))
}

/// The plans of an estate's invitation pages in each sort, first and by
/// cursor: what the plan test checks for full scans.
pub fn estate_table_plans(
    conn: &mut Conn,
    estate_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    for (name, sort, key) in [
        ("newest first", Sort::InvitedAt { descending: true }, TableKey::At(now)),
        ("by email", Sort::Email { descending: false }, TableKey::Text("m".to_owned())),
        ("by expiry", Sort::ExpiresAt { descending: false }, TableKey::At(now)),
    ] {
        for after in [None, Some((key, Uuid::nil()))] {
            let label = format!(
                "estate invitations {name}{}",
                if after.is_some() { ", a cursor page" } else { "" }
            );
            let window = Window { limit: 25, offset: 0, after };
            let mut sql = Sql::new(conn);
            let query =
                estate_page_sql(&mut sql, estate_id, &TableFilter::default(), sort, now, &window)?;
            out.push((label, sql.explain(conn, &query)?));
        }
    }
    Ok(out)
}

/// How many of the estate's invitations the filter keeps, up to
/// [`COUNT_LIMIT`].
fn estate_total(
    conn: &mut Conn,
    estate_id: Uuid,
    filter: &TableFilter,
    sort: Sort,
    now: DateTime<Utc>,
) -> Result<i64> {
    let mut sql = Sql::new(conn);
    let (cond, _) = TableConditions::new(&mut sql, filter, sort, now, None)?;
    let estate = sql.id(estate_id);
    let cap = sql.param(Bind::Int(COUNT_LIMIT));
    sql.count(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM (
               SELECT 1 AS one FROM invitations x
               WHERE x.resource_type = 'estate' AND x.resource_id = {estate}{filters}
               LIMIT {cap}) t",
            filters = cond.filters("FALSE")
        ),
    )
}
