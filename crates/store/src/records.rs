//! An asset's records (services, repairs, notes).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::assets::{of_asset, page_of_asset};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::estates::Paged;
use crate::id::DbId;
use crate::schema::asset_records;
use crate::time::{DbTime, to_db};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = asset_records)]
pub struct Record {
    #[diesel(deserialize_as = DbId)]
    pub id: Uuid,
    #[diesel(deserialize_as = DbId)]
    pub asset_id: Uuid,
    #[diesel(embed)]
    pub fields: RecordFields,
    #[diesel(deserialize_as = DbTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub updated_at: DateTime<Utc>,
}

/// The writable fields of a record.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = asset_records, treat_none_as_null = true)]
pub struct RecordFields {
    pub kind: String,
    #[diesel(column_name = record_date)]
    pub date: NaiveDate,
    pub title: String,
    pub notes: Option<String>,
    pub cost: Option<f64>,
    pub odometer: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = asset_records)]
struct NewRecord {
    id: DbId,
    asset_id: DbId,
    created_by: DbId,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

pub fn add_record(
    conn: &mut Conn,
    asset_id: Uuid,
    f: &RecordFields,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Record> {
    let id = Uuid::new_v4();
    diesel::insert_into(asset_records::table)
        .values((
            NewRecord {
                id: DbId(id),
                asset_id: DbId(asset_id),
                created_by: DbId(by),
                created_at: to_db(now),
                updated_at: to_db(now),
            },
            f,
        ))
        .execute(conn)?;
    get_record(conn, asset_id, id)?.ok_or(StoreError::NotFound)
}

/// A record of this asset (a record id from another asset is not found).
pub fn get_record(conn: &mut Conn, asset_id: Uuid, id: Uuid) -> Result<Option<Record>> {
    Ok(of_asset!(asset_records, asset_id, id).select(Record::as_select()).first(conn).optional()?)
}

/// Records of an asset, newest date first.
pub fn records(conn: &mut Conn, asset_id: Uuid, limit: i64, offset: i64) -> Result<Paged<Record>> {
    let order = (
        asset_records::record_date.desc(),
        asset_records::created_at.desc(),
        asset_records::id.desc(),
    );
    page_of_asset!(conn, asset_records, asset_id, Record, order, limit, offset)
}

pub fn update_record(
    conn: &mut Conn,
    asset_id: Uuid,
    id: Uuid,
    f: &RecordFields,
    now: DateTime<Utc>,
) -> Result<()> {
    diesel::update(of_asset!(asset_records, asset_id, id))
        .set((f, asset_records::updated_at.eq(to_db(now))))
        .execute(conn)?;
    Ok(())
}

pub fn delete_record(conn: &mut Conn, asset_id: Uuid, id: Uuid) -> Result<bool> {
    Ok(diesel::delete(of_asset!(asset_records, asset_id, id)).execute(conn)? == 1)
}
