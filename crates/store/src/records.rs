//! An asset's records (services, repairs, notes).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::asset_records;
use crate::time::{from_db, to_db};
use crate::users::parse_id;

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub kind: String,
    pub date: NaiveDate,
    pub title: String,
    pub notes: Option<String>,
    pub cost: Option<f64>,
    pub odometer: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The writable fields of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFields {
    pub kind: String,
    pub date: NaiveDate,
    pub title: String,
    pub notes: Option<String>,
    pub cost: Option<f64>,
    pub odometer: Option<i64>,
}

type RecordRow = (
    String,
    String,
    String,
    NaiveDate,
    String,
    Option<String>,
    Option<f64>,
    Option<i64>,
    NaiveDateTime,
    NaiveDateTime,
);

fn record(r: RecordRow) -> Result<Record, StoreError> {
    Ok(Record {
        id: parse_id(&r.0)?,
        asset_id: parse_id(&r.1)?,
        kind: r.2,
        date: r.3,
        title: r.4,
        notes: r.5,
        cost: r.6,
        odometer: r.7,
        created_at: from_db(r.8),
        updated_at: from_db(r.9),
    })
}

const RECORD_COLUMNS: (
    asset_records::id,
    asset_records::asset_id,
    asset_records::kind,
    asset_records::record_date,
    asset_records::title,
    asset_records::notes,
    asset_records::cost,
    asset_records::odometer,
    asset_records::created_at,
    asset_records::updated_at,
) = (
    asset_records::id,
    asset_records::asset_id,
    asset_records::kind,
    asset_records::record_date,
    asset_records::title,
    asset_records::notes,
    asset_records::cost,
    asset_records::odometer,
    asset_records::created_at,
    asset_records::updated_at,
);

pub fn add_record(
    conn: &mut DbConnection,
    asset_id: Uuid,
    f: &RecordFields,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Record, StoreError> {
    let id = Uuid::new_v4();
    diesel::insert_into(asset_records::table)
        .values((
            asset_records::id.eq(id.to_string()),
            asset_records::asset_id.eq(asset_id.to_string()),
            asset_records::kind.eq(&f.kind),
            asset_records::record_date.eq(f.date),
            asset_records::title.eq(&f.title),
            asset_records::notes.eq(f.notes.as_deref()),
            asset_records::cost.eq(f.cost),
            asset_records::odometer.eq(f.odometer),
            asset_records::created_by.eq(by.to_string()),
            asset_records::created_at.eq(to_db(now)),
            asset_records::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    get_record(conn, asset_id, id)?.ok_or(StoreError::NotFound)
}

/// A record of this asset (a record id from another asset is not found).
pub fn get_record(
    conn: &mut DbConnection,
    asset_id: Uuid,
    id: Uuid,
) -> Result<Option<Record>, StoreError> {
    asset_records::table
        .filter(asset_records::id.eq(id.to_string()))
        .filter(asset_records::asset_id.eq(asset_id.to_string()))
        .select(RECORD_COLUMNS)
        .first::<RecordRow>(conn)
        .optional()?
        .map(record)
        .transpose()
}

/// Records of an asset, newest date first.
pub fn records(
    conn: &mut DbConnection,
    asset_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Record>, i64), StoreError> {
    let rows = asset_records::table
        .filter(asset_records::asset_id.eq(asset_id.to_string()))
        .select(RECORD_COLUMNS)
        .order((
            asset_records::record_date.desc(),
            asset_records::created_at.desc(),
            asset_records::id.desc(),
        ))
        .limit(limit)
        .offset(offset)
        .load::<RecordRow>(conn)?
        .into_iter()
        .map(record)
        .collect::<Result<_, _>>()?;
    let total = asset_records::table
        .filter(asset_records::asset_id.eq(asset_id.to_string()))
        .count()
        .get_result(conn)?;
    Ok((rows, total))
}

pub fn update_record(
    conn: &mut DbConnection,
    asset_id: Uuid,
    id: Uuid,
    f: &RecordFields,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(
        asset_records::table
            .filter(asset_records::id.eq(id.to_string()))
            .filter(asset_records::asset_id.eq(asset_id.to_string())),
    )
    .set((
        asset_records::kind.eq(&f.kind),
        asset_records::record_date.eq(f.date),
        asset_records::title.eq(&f.title),
        asset_records::notes.eq(f.notes.as_deref()),
        asset_records::cost.eq(f.cost),
        asset_records::odometer.eq(f.odometer),
        asset_records::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn delete_record(
    conn: &mut DbConnection,
    asset_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        asset_records::table
            .filter(asset_records::id.eq(id.to_string()))
            .filter(asset_records::asset_id.eq(asset_id.to_string())),
    )
    .execute(conn)?
        == 1)
}
