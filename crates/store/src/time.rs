//! Times are stored as UTC timestamps without a zone on both backends.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::sql_types::Timestamp;

pub fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A stored timestamp as loaded, for `#[diesel(deserialize_as = DbTime)]` on
/// a `DateTime<Utc>` field.
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub struct DbTime(pub NaiveDateTime);

impl<DB: Backend> FromSql<Timestamp, DB> for DbTime
where
    NaiveDateTime: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        NaiveDateTime::from_sql(value).map(Self)
    }
}

impl From<DbTime> for DateTime<Utc> {
    fn from(t: DbTime) -> Self {
        from_db(t.0)
    }
}
