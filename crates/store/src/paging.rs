//! Keyset paging for the lists: a page starts after the last row of the
//! page before (its sort key and its id), so a deep page costs what the
//! first does; totals are counted only up to [`COUNT_LIMIT`] rows. Also the
//! small SQL builder those lists share: numbered placeholders (`?n` on
//! SQLite, `$n` on PostgreSQL) and a bind list of any length.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use uuid::Uuid;

use crate::db::{Conn, DbConnection};
use crate::error::Result;
use crate::sql::RawRow;

/// Totals are counted up to this many rows (one more than the API shows,
/// so it can tell "exactly 1,000" from "more").
pub const COUNT_LIMIT: i64 = 1001;

/// `SELECT COUNT(*)` of the `rows` (a table and its alias) that match `on`
/// for each row of `outer`, stopping at `cap` (a placeholder). On PostgreSQL
/// through `LATERAL ... OFFSET 0`: a nested loop from `outer`, never a scan.
pub(crate) fn count_per_row(pg: bool, outer: &str, rows: &str, on: &str, cap: &str) -> String {
    let matched = if pg {
        format!("{outer} CROSS JOIN LATERAL (SELECT 1 AS one FROM {rows} WHERE {on} OFFSET 0) x")
    } else {
        format!("{outer} CROSS JOIN {rows} WHERE {on}")
    };
    format!("SELECT COUNT(*) FROM (SELECT 1 AS one FROM {matched} LIMIT {cap}) n")
}

/// Which rows of a list a page holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window<K> {
    /// Rows per page.
    pub limit: i64,
    /// Rows skipped first (page numbers); 0 when paging by keyset.
    pub offset: i64,
    /// The last row of the page before: its sort key and its id.
    pub after: Option<(K, Uuid)>,
}

impl<K> Window<K> {
    /// The first `limit` rows.
    pub fn first(limit: i64) -> Self {
        Self { limit, offset: 0, after: None }
    }

    /// Rows a query fetches: the page, the rows skipped and one more (to
    /// tell whether another page follows).
    pub(crate) fn fetch(&self) -> i64 {
        self.offset.saturating_add(self.limit).saturating_add(1)
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Whether rows follow the last item.
    pub more: bool,
    /// Rows of the whole list, counted up to [`COUNT_LIMIT`].
    pub counted: i64,
}

impl<T> Page<T> {
    /// Cuts `rows` (fetched with `limit + 1`) to the page.
    pub(crate) fn cut(mut rows: Vec<T>, limit: i64, counted: i64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        Self { items: rows, more, counted }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            more: self.more,
            counted: self.counted,
        }
    }
}

/// Keeps the rows of the boxed query `$q` after the keyset position
/// `$after` (an `Option<&(DateTime<Utc>, Uuid)>`) in the order of the
/// instant column `$at`, then the id column `$id`, both `desc` or both
/// `asc`. The first conjunct bounds the index range.
macro_rules! after_instant {
    ($q:expr, $after:expr, $at:expr, $id:expr, desc) => {{
        let mut q = $q;
        if let Some((at, id)) = $after {
            let at = $crate::time::to_db(*at);
            q = q.filter($at.le(at)).filter($at.lt(at).or($id.lt($crate::id::DbId(*id))));
        }
        q
    }};
    ($q:expr, $after:expr, $at:expr, $id:expr, asc) => {{
        let mut q = $q;
        if let Some((at, id)) = $after {
            let at = $crate::time::to_db(*at);
            q = q.filter($at.ge(at)).filter($at.gt(at).or($id.gt($crate::id::DbId(*id))));
        }
        q
    }};
}
pub(crate) use after_instant;

/// The rows of `$base` (a closure giving the boxed, filtered query),
/// selecting the id column `$id`, counted up to [`COUNT_LIMIT`].
macro_rules! count_up_to {
    ($conn:expr, $base:expr, $id:expr) => {{
        let ids: Vec<$crate::id::DbId> =
            $base().select($id).limit($crate::paging::COUNT_LIMIT).load($conn)?;
        i64::try_from(ids.len()).unwrap_or($crate::paging::COUNT_LIMIT)
    }};
}
pub(crate) use count_up_to;

/// The order of a list: ascending or descending on every key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Asc,
    Desc,
}

impl Direction {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Self::Asc => "ASC",
            Self::Desc => "DESC",
        }
    }

    /// The comparison that keeps the rows after a keyset position.
    pub(crate) fn after(self) -> &'static str {
        match self {
            Self::Asc => ">",
            Self::Desc => "<",
        }
    }
}

/// A value bound to a placeholder: the parameters of every raw statement.
pub(crate) use crate::access::Param as Bind;

/// SQL text with numbered placeholders and their values.
#[derive(Debug)]
pub(crate) struct Sql {
    pub pg: bool,
    binds: Vec<Bind>,
}

impl Sql {
    pub(crate) fn new(conn: &DbConnection) -> Self {
        Self { pg: matches!(conn, DbConnection::Postgresql(_)), binds: Vec::new() }
    }

    /// Binds `value` and returns its placeholder (usable more than once).
    pub(crate) fn param(&mut self, value: Bind) -> String {
        let cast = match &value {
            Bind::Text(_) => "TEXT",
            Bind::Time(_) => "TIMESTAMP",
            Bind::Int(_) => "BIGINT",
        };
        self.binds.push(value);
        let n = self.binds.len();
        if self.pg { format!("CAST(${n} AS {cast})") } else { format!("${n}") }
    }

    /// Binds a window's placeholders, in this order: the rows a reach page
    /// fetches, the page's rows plus one, and the offset.
    pub(crate) fn window<K>(&mut self, window: &Window<K>) -> [String; 3] {
        let fetch = self.param(Bind::Int(window.fetch()));
        let rows = self.param(Bind::Int(window.limit.saturating_add(1)));
        [fetch, rows, self.param(Bind::Int(window.offset))]
    }

    pub(crate) fn text(&mut self, value: impl Into<String>) -> String {
        self.param(Bind::Text(value.into()))
    }

    /// Binds an id as the database stores it.
    pub(crate) fn id(&mut self, id: uuid::Uuid) -> String {
        self.text(id.hyphenated().to_string())
    }

    /// Runs `query` (written with this builder's placeholders) as a prepared
    /// statement kept per connection.
    pub(crate) fn load<R: RawRow>(self, conn: &mut Conn, query: &str) -> Result<Vec<R>> {
        crate::access::load(conn, query, &self.binds)
    }

    /// The plan the database chooses for `query` with these values.
    pub(crate) fn explain(self, conn: &mut Conn, query: &str) -> Result<Vec<String>> {
        crate::sql::explain(conn, query, &self.binds)
    }

    /// Runs a `SELECT COUNT(*) AS n ...` query.
    pub(crate) fn count(self, conn: &mut Conn, query: &str) -> Result<i64> {
        Ok(self.load::<Counted>(conn, query)?.first().map_or(0, |c| c.n))
    }
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The `heads`, `top` and `page` CTEs of a keyset page over a reach: for
/// each resource in reach (a CTE), the first row after the keyset position
/// through the rows' sorted index; the resources whose first rows come first
/// hold the whole page, which is then read from them alone. A page costs one
/// index probe per resource in reach plus the page, however deep, and never
/// reads rows outside the reach.
///
/// PostgreSQL probes with `LATERAL`. SQLite has none: correlated subqueries
/// do the same, each head carries key and id in one sortable text
/// (`char(1)` sorts before every character of a key), and `MATERIALIZED`
/// runs each subquery once per resource, not once per use of its result.
pub(crate) struct ReachPage<'a> {
    pub pg: bool,
    /// The sort key of a row under an alias.
    pub key: &'a dyn Fn(&str) -> String,
    /// The condition tying the rows to a reach alias (`r` in `heads`, `t`
    /// in `page`), with the filters and the keyset position.
    pub on: &'a dyn Fn(&str) -> String,
    /// The reach CTE and its alias, e.g. `("reach", "r")`.
    pub reach: (&'a str, &'a str),
    /// The reach's columns `top` keeps, e.g. `["id", "hit"]`.
    pub carried: &'a [&'a str],
    /// The rows' table and its alias in the probes, e.g.
    /// `("invitations", "x")`.
    pub rows: (&'a str, &'a str),
    /// Another alias of the rows' table, for SQLite's final read.
    pub outer: &'a str,
    /// `ASC` or `DESC`.
    pub dir: &'a str,
    /// The placeholder of the number of rows to fetch.
    pub fetch: &'a str,
}

impl ReachPage<'_> {
    pub(crate) fn sql(&self) -> String {
        let (reach, r) = self.reach;
        let (table, x) = self.rows;
        let (key, dir, fetch) = ((self.key)(x), self.dir, self.fetch);
        let order = format!("ORDER BY {key} {dir}, {x}.id {dir}");
        let heads_cols =
            self.carried.iter().map(|c| format!("{r}.{c}")).collect::<Vec<_>>().join(", ");
        let top_cols = self.carried.join(", ");
        let (on_r, on_t) = ((self.on)(r), (self.on)("t"));
        if self.pg {
            format!(
                "heads AS (
                   SELECT {heads_cols}, h.k, h.id AS hid FROM {reach} {r} CROSS JOIN LATERAL (
                     SELECT {key} AS k, {x}.id FROM {table} {x} WHERE {on_r} {order} LIMIT 1) h),
                 top AS (SELECT {top_cols} FROM heads ORDER BY k {dir}, hid {dir} LIMIT {fetch}),
                 page AS (
                   SELECT p.id, p.k FROM top t CROSS JOIN LATERAL (
                     SELECT {x}.id, {key} AS k FROM {table} {x} WHERE {on_t} {order} LIMIT {fetch}) p
                   ORDER BY p.k {dir}, p.id {dir} LIMIT {fetch})"
            )
        } else {
            let (o, okey) = (self.outer, (self.key)(self.outer));
            format!(
                "heads AS MATERIALIZED (
                   SELECT {heads_cols}, (
                     SELECT {key} || char(1) || {x}.id FROM {table} {x} WHERE {on_r} {order} LIMIT 1
                   ) AS hk FROM {reach} {r}),
                 top AS (SELECT {top_cols} FROM heads WHERE hk IS NOT NULL ORDER BY hk {dir} LIMIT {fetch}),
                 page AS MATERIALIZED (
                   SELECT {o}.id, {okey} AS k FROM top t CROSS JOIN {table} {o}
                   WHERE {o}.id IN (SELECT {x}.id FROM {table} {x} WHERE {on_t} {order} LIMIT {fetch})
                   ORDER BY 2 {dir}, 1 {dir} LIMIT {fetch})"
            )
        }
    }
}
