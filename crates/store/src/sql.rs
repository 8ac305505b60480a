//! Raw SQL on both databases: a statement is written once with `$1, $2...`
//! placeholders and bound where each placeholder appears, prepared once per
//! connection and reused; and the plan the database chooses for one.

use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::sql_types::{Text, Timestamp};
use diesel::sqlite::Sqlite;

use crate::db::{Conn, DbConnection};
use crate::error::{Result, StoreError};

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

impl From<i64> for Param {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

/// The values of a raw statement being written: each value pushed is named
/// in the text by the `$n` [`Params::push`] returns (as often as the text
/// likes), and [`load`] binds them where they appear, for either backend.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(Vec<Param>);

impl Params {
    /// Adds a value and returns its placeholder.
    pub(crate) fn push(&mut self, value: impl Into<Param>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }
}

impl std::ops::Deref for Params {
    type Target = [Param];
    fn deref(&self) -> &[Param] {
        &self.0
    }
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Runs a `SELECT COUNT(*) AS n ...` statement.
pub(crate) fn count(conn: &mut Conn, sql: &str, params: &[Param]) -> Result<i64> {
    Ok(load::<Counted>(conn, sql, params)?.first().map_or(0, |c| c.n))
}

/// A raw statement written once with `$1, $2...` placeholders, for either
/// backend, split once into the SQL between placeholders and the parameter
/// that goes after each piece. Every `$n` is bound where it appears (a
/// parameter used twice is bound twice), which suits both `?` (SQLite) and
/// `$n` (PostgreSQL).
pub(crate) struct Statement {
    pub(crate) text: String,
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

        impl $crate::sql::StatementKey for $key {
            const FIXED: bool = true;
        }

        pub(crate) fn $name() -> &'static $crate::sql::Statement {
            static STATEMENT: std::sync::OnceLock<$crate::sql::Statement> =
                std::sync::OnceLock::new();
            STATEMENT.get_or_init(|| $crate::sql::Statement::new($text))
        }
    };
}

pub(crate) use cached_statement;

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

/// A row raw SQL loads, on either backend.
pub(crate) trait RawRow: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static {}

impl<T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static> RawRow for T {}

/// Runs a raw statement written with `$1, $2...` placeholders on either
/// backend, binding the parameters where they appear; the prepared
/// statement is cached per connection (keyed by its text). The one place
/// raw SQL meets both backends' placeholder styles.
pub(crate) fn load<T: RawRow>(conn: &mut Conn, sql: &str, params: &[Param]) -> Result<Vec<T>> {
    load_cached::<T, Dynamic>(conn, &Statement::new(sql.to_owned()), params)
}

/// [`load`] for a statement declared with [`cached_statement!`].
pub(crate) fn load_cached<T: RawRow, K: StatementKey>(
    conn: &mut Conn,
    statement: &Statement,
    params: &[Param],
) -> Result<Vec<T>> {
    use diesel::RunQueryDsl;
    let raw = Raw::<K> { statement, params, key: std::marker::PhantomData };
    match conn {
        DbConnection::Postgresql(pg) => Ok(raw.load(pg)?),
        DbConnection::Sqlite(lite) => Ok(raw.load(lite)?),
    }
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
pub(crate) fn explain(conn: &mut Conn, sql: &str, params: &[Param]) -> Result<Vec<String>> {
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
                    diesel::sql_query(call).load::<PgPlanRow>(pg).map_err(StoreError::from)
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
