//! Times are stored as UTC timestamps without a zone on both backends.

use chrono::{DateTime, NaiveDateTime, Utc};

pub fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}
