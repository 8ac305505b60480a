//! The garage: a page of the assets a user can reach by any path, one query
//! per page that keeps only reachable assets, with the facts to judge each.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::assets::{AccessRow, Asset};
use crate::db::{Conn, DbConnection};
use crate::error::Result;
use crate::id::DbId;
use crate::schema::estate_members;
use crate::sql::{Param, Params, count, explain, load};
use crate::time::to_db;

/// One garage row: the asset and the facts for the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct GarageRow {
    pub asset: Asset,
    pub access: AccessRow,
}

/// Where a garage page starts: after this row (keyset), or after skipping
/// this many rows (page numbers; the deeper, the dearer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GarageStart {
    After { created_at: DateTime<Utc>, id: Uuid },
    Skip(i64),
}

/// What the garage is asked for.
#[derive(Debug, Clone)]
pub struct GarageQuery<'a> {
    pub user_id: Uuid,
    pub q: Option<&'a str>,
    pub site: Option<Uuid>,
    pub now: DateTime<Utc>,
    pub limit: i64,
    pub start: GarageStart,
    /// Count the reachable assets up to this many.
    pub count_up_to: i64,
}

/// A garage page: up to `limit` rows, whether more follow, and the count
/// of reachable assets up to `count_up_to + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct GaragePage {
    pub rows: Vec<GarageRow>,
    pub more: bool,
    pub counted: i64,
}

#[derive(QueryableByName)]
struct GarageSqlRow {
    #[diesel(embed)]
    asset: crate::access::AssetCols,
    #[diesel(embed)]
    facts: crate::access::AssetFactCols,
}

/// A LIKE pattern matching `q` anywhere, lower-cased, with `\`, `%` and `_`
/// taken literally.
pub(crate) fn like_pattern(q: Option<&str>) -> String {
    let q = q.map(str::trim).unwrap_or_default().to_lowercase();
    let mut escaped = String::with_capacity(q.len() + 2);
    escaped.push('%');
    for ch in q.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped.push('%');
    escaped
}

/// Builds the garage's statements. Parameters are numbered as they are
/// pushed; `$1` is always the caller.
struct GarageSql {
    params: Params,
    /// PostgreSQL: each path joins its assets by a fenced LATERAL probe.
    pg: bool,
}

impl GarageSql {
    fn new(user_id: Uuid, pg: bool) -> Self {
        let mut params = Params::default();
        params.push(DbId(user_id));
        Self { params, pg }
    }

    /// `assets a` reached from `{from}.asset_id` with the filters `f`: on
    /// PostgreSQL a LATERAL probe fenced by `OFFSET 0`, so that even the
    /// generic plan of the prepared statement (made without knowing the
    /// caller, from the tables' averages) probes the caller's rows by key
    /// instead of hashing all of `assets`; SQLite's planner probes anyway.
    fn assets_of(&self, from: &str, f: &str) -> (String, String) {
        if self.pg {
            (
                format!(
                    " CROSS JOIN LATERAL (SELECT a.id, a.created_at FROM assets a
                       WHERE a.id = {from}.asset_id{f} OFFSET 0) a"
                ),
                String::new(),
            )
        } else {
            (format!(" JOIN assets a ON a.id = {from}.asset_id"), f.to_owned())
        }
    }

    fn push(&mut self, value: impl Into<Param>) -> String {
        self.params.push(value)
    }

    /// The filters every branch applies to `a`: search, site, and (for a
    /// page after a cursor) the keyset.
    fn filters(&mut self, query: &GarageQuery<'_>, keyset: bool) -> String {
        let mut out = String::new();
        if query.q.is_some_and(|q| !q.trim().is_empty()) {
            let p = self.push(Param::Text(like_pattern(query.q)));
            out.push_str(&format!(" AND a.search_text LIKE {p} ESCAPE '\\'"));
        }
        if let Some(site) = query.site {
            let p = self.push(DbId(site));
            out.push_str(&format!(" AND a.site_id = {p}"));
        }
        if keyset && let GarageStart::After { created_at, id } = query.start {
            let t = self.push(Param::Time(to_db(created_at)));
            let i = self.push(DbId(id));
            // A row-value comparison bounds the index range on both
            // databases, so a deep page seeks to its place instead of
            // reading every row before it.
            out.push_str(&format!(" AND (a.created_at, a.id) < ({t}, {i})"));
        }
        out
    }

    /// One branch per path to an asset, each reading only the caller's own
    /// rows through an index and stopping after `take` rows in page order:
    /// collaborations, households of collaborating heads, active shares,
    /// and each estate the caller belongs to (minus sites they are kept
    /// off). Root is not a branch: see [`garage_root`].
    fn branches(
        &mut self,
        query: &GarageQuery<'_>,
        estates: &[DbId],
        take: i64,
        keyset: bool,
    ) -> String {
        let order = "ORDER BY a.created_at DESC, a.id DESC";
        let mut branches = Vec::new();
        let f = self.filters(query, keyset);
        let lim = self.push(Param::Int(take));
        let (join, where_f) = self.assets_of("c", &f);
        branches.push(format!(
            "SELECT a.id, a.created_at FROM asset_collaborators c{join}
             WHERE c.user_id = $1{where_f} {order} LIMIT {lim}"
        ));
        let heads = if self.pg {
            " CROSS JOIN LATERAL (SELECT c.asset_id FROM asset_collaborators c
               WHERE c.user_id = h.head_id OFFSET 0) c"
        } else {
            " JOIN asset_collaborators c ON c.user_id = h.head_id"
        };
        branches.push(format!(
            "SELECT a.id, a.created_at FROM household_members h{heads}{join}
             WHERE h.member_id = $1{where_f} {order} LIMIT {lim}"
        ));
        let now = self.push(Param::Time(to_db(query.now)));
        let (join, where_f) = self.assets_of("s", &f);
        branches.push(format!(
            "SELECT a.id, a.created_at FROM asset_shares s{join}
             WHERE s.user_id = $1 AND (s.access_expires_at IS NULL OR s.access_expires_at > {now}){where_f}
             {order} LIMIT {lim}"
        ));
        let kept_off = crate::predicates::kept_off("o.role");
        for estate in estates {
            let e = self.push(*estate);
            branches.push(format!(
                "SELECT a.id, a.created_at FROM assets a
                 WHERE a.estate_id = {e}{f}
                 AND NOT EXISTS (SELECT 1 FROM site_overrides o
                                 WHERE o.site_id = a.site_id AND o.user_id = $1 AND {kept_off})
                 {order} LIMIT {lim}"
            ));
        }
        branches
            .into_iter()
            .map(|b| format!("SELECT id, created_at FROM ({b}) AS branch"))
            .collect::<Vec<_>>()
            .join("\n UNION \n")
    }
}

/// The estates the user belongs to.
fn estates_of(conn: &mut Conn, user_id: Uuid) -> Result<Vec<DbId>> {
    Ok(estate_members::table
        .filter(estate_members::user_id.eq(DbId(user_id)))
        .select(estate_members::estate_id)
        .order(estate_members::estate_id)
        .load(conn)?)
}

fn garage_rows(rows: Vec<GarageSqlRow>) -> Result<Vec<GarageRow>> {
    rows.into_iter()
        .filter_map(|r| r.asset.with_access(r.facts).transpose())
        .map(|found| found.map(|(asset, access)| GarageRow { asset, access }))
        .collect()
}

fn page_of(mut rows: Vec<GarageRow>, limit: i64, counted: i64) -> GaragePage {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    GaragePage { rows, more, counted }
}

/// A page of the assets `user_id` can reach by any path, newest first, with
/// the facts to judge the level of each. The cost follows what the caller
/// can reach: each path reads at most one page (plus what is skipped) of
/// the caller's own rows through an index, so neither the size of the
/// tables nor the depth of a keyset page changes it. The count reads at
/// most `count_up_to + 1` rows per path.
pub fn garage(conn: &mut Conn, query: &GarageQuery<'_>) -> Result<GaragePage> {
    let estates = estates_of(conn, query.user_id)?;
    let pg = matches!(conn, DbConnection::Postgresql(_));
    run(conn, garage_sql(query, &estates, pg), query.limit)
}

/// A statement's text and its parameters.
struct Statement {
    sql: String,
    params: Params,
}

/// Runs a garage's page and count statements.
fn run(conn: &mut Conn, [page, counting]: [Statement; 2], limit: i64) -> Result<GaragePage> {
    let rows: Vec<GarageSqlRow> = load(conn, &page.sql, &page.params)?;
    let counted = count(conn, &counting.sql, &counting.params)?;
    Ok(page_of(garage_rows(rows)?, limit, counted))
}

/// The rows a page skips before its first: the offset of an offset page.
fn skipped(query: &GarageQuery<'_>) -> i64 {
    match query.start {
        GarageStart::Skip(n) => n,
        GarageStart::After { .. } => 0,
    }
}

/// The `page` statement and the count of the ids `reach` selects (with the
/// parameters in `count`), capped at `count_up_to + 1`.
fn with_count(
    page: Statement,
    mut count: GarageSql,
    reach: &str,
    query: &GarageQuery<'_>,
) -> [Statement; 2] {
    let cap = count.push(Param::Int(query.count_up_to + 1));
    let sql = format!("SELECT COUNT(*) AS n FROM ({reach} LIMIT {cap}) AS capped");
    [page, Statement { sql, params: count.params }]
}

/// The page and the count statements of [`garage`].
fn garage_sql(query: &GarageQuery<'_>, estates: &[DbId], pg: bool) -> [Statement; 2] {
    let skip = skipped(query);
    let mut sql = GarageSql::new(query.user_id, pg);
    let take = skip.saturating_add(query.limit).saturating_add(1);
    let union = sql.branches(query, estates, take, true);
    let lim = sql.push(Param::Int(query.limit + 1));
    let off = sql.push(Param::Int(skip));
    let page_sql = format!(
        "WITH picked AS ({union}),
         page AS (SELECT id, created_at FROM picked
                  ORDER BY created_at DESC, id DESC LIMIT {lim} OFFSET {off})
         SELECT {}, {}
         FROM page p JOIN assets a ON a.id = p.id
         ORDER BY a.created_at DESC, a.id DESC",
        crate::access::ASSET_COLUMNS,
        crate::access::asset_fact_columns("$1"),
    );
    let mut count = GarageSql::new(query.user_id, pg);
    let union = count.branches(query, estates, query.count_up_to + 1, false);
    let reach = format!("SELECT id FROM ({union}) AS reach");
    with_count(Statement { sql: page_sql, params: sql.params }, count, &reach, query)
}

/// Root's garage: every asset, newest first, straight from the
/// `(created_at, id)` index; a separate query so no other caller pays for it.
pub fn garage_root(conn: &mut Conn, query: &GarageQuery<'_>) -> Result<GaragePage> {
    run(conn, garage_root_sql(query), query.limit)
}

fn garage_root_sql(query: &GarageQuery<'_>) -> [Statement; 2] {
    let skip = skipped(query);
    let mut sql = GarageSql::new(query.user_id, false);
    let f = sql.filters(query, true);
    let lim = sql.push(Param::Int(query.limit + 1));
    let off = sql.push(Param::Int(skip));
    let page_sql = format!(
        "SELECT {}, {} FROM assets a WHERE 1 = 1{f}
         ORDER BY a.created_at DESC, a.id DESC LIMIT {lim} OFFSET {off}",
        crate::access::ASSET_COLUMNS,
        crate::access::asset_fact_columns("$1"),
    );
    let mut count = GarageSql::new(query.user_id, false);
    let f = count.filters(query, false);
    // `$1` must appear for PostgreSQL to type it; it filters nothing.
    let reach = format!("SELECT a.id FROM assets a WHERE $1 = $1{f}");
    with_count(Statement { sql: page_sql, params: sql.params }, count, &reach, query)
}

/// The plans of the garage's page and count statements for `query` (root's
/// when `root`), as the database would run them now.
pub fn garage_plans(
    conn: &mut Conn,
    query: &GarageQuery<'_>,
    root: bool,
) -> Result<Vec<(&'static str, Vec<String>)>> {
    let [page, counting] = if root {
        garage_root_sql(query)
    } else {
        let estates = estates_of(conn, query.user_id)?;
        let pg = matches!(conn, DbConnection::Postgresql(_));
        garage_sql(query, &estates, pg)
    };
    Ok(vec![
        ("garage page", explain(conn, &page.sql, &page.params)?),
        ("garage count", explain(conn, &counting.sql, &counting.params)?),
    ])
}
