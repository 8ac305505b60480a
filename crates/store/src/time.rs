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

/// A new row's `created_at` and `updated_at` columns of `$table`, both set to
/// `$now`, to go in the tuple of an insert's values.
macro_rules! stamps {
    ($table:ident, $now:expr) => {
        (
            $table::created_at.eq($crate::time::to_db($now)),
            $table::updated_at.eq($crate::time::to_db($now)),
        )
    };
}
pub(crate) use stamps;

/// Writes `$changes` to the row of `$table` whose primary key is `$key`,
/// stamping its `updated_at` with `$now`.
macro_rules! update_stamped {
    ($conn:expr, $table:ident, $key:expr, $changes:expr, $now:expr) => {{
        diesel::update($table::table.find($key))
            .set(($changes, $table::updated_at.eq($crate::time::to_db($now))))
            .execute($conn)?;
        Ok(())
    }};
}
pub(crate) use update_stamped;

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
