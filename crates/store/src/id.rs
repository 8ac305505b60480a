//! Ids: UUIDs stored as their lower-case hyphenated text on both databases.
//! [`DbId`] binds and loads as `Text`, so queries take and return ids
//! without converting them by hand; public functions keep taking and
//! returning [`Uuid`].

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use uuid::Uuid;

use crate::db::MultiBackend;

/// A UUID as the database stores it (`TEXT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct DbId(pub Uuid);

impl From<Uuid> for DbId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl From<DbId> for Uuid {
    fn from(id: DbId) -> Self {
        id.0
    }
}

/// Ids as the database takes them, for `eq_any`.
pub(crate) fn db_ids(ids: &[Uuid]) -> Vec<DbId> {
    ids.iter().copied().map(DbId).collect()
}

fn parse(text: &str) -> deserialize::Result<DbId> {
    Uuid::parse_str(text).map(DbId).map_err(|e| format!("bad id {text:?}: {e}").into())
}

impl ToSql<Text, Sqlite> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.to_string());
        Ok(IsNull::No)
    }
}

impl ToSql<Text, Pg> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        use std::io::Write;
        let mut buf = Uuid::encode_buffer();
        out.write_all(self.0.hyphenated().encode_lower(&mut buf).as_bytes())?;
        Ok(IsNull::No)
    }
}

impl ToSql<Text, MultiBackend> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

impl FromSql<Text, Sqlite> for DbId {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        parse(&<String as FromSql<Text, Sqlite>>::from_sql(value)?)
    }
}

impl FromSql<Text, Pg> for DbId {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        parse(std::str::from_utf8(value.as_bytes())?)
    }
}

impl FromSql<Text, MultiBackend> for DbId {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Text>()
    }
}

/// An id bound in raw SQL: the same text [`DbId`] writes. (`Param` has no
/// variant of its own for ids: the statement builders bind it as text.)
impl From<DbId> for crate::sql::Param {
    fn from(id: DbId) -> Self {
        Self::Text(id.0.to_string())
    }
}
