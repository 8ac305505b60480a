//! An asset's records (services, repairs, notes).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::assets::of_asset;
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::id::DbId;
use crate::paging::{Page, Window, count_up_to};
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

/// Where a page of records starts: the last record's date and creation
/// instant (the list's order).
pub type RecordKey = (NaiveDate, DateTime<Utc>);

/// A page of the records of an asset, newest date first (then newest
/// created, then by id); the total counted up to [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT).
pub fn records(
    conn: &mut Conn,
    asset_id: Uuid,
    window: &Window<RecordKey>,
) -> Result<Page<Record>> {
    let base = || of_asset!(asset_records, asset_id).into_boxed();
    let mut q = base();
    if let Some(((date, at), id)) = window.after.as_ref() {
        let at = to_db(*at);
        q = q.filter(asset_records::record_date.le(*date)).filter(
            asset_records::record_date
                .lt(*date)
                .or(asset_records::created_at.lt(at))
                .or(asset_records::created_at.eq(at).and(asset_records::id.lt(DbId(*id)))),
        );
    }
    let rows: Vec<Record> = q
        .select(Record::as_select())
        .order((
            asset_records::record_date.desc(),
            asset_records::created_at.desc(),
            asset_records::id.desc(),
        ))
        .limit(window.limit.saturating_add(1))
        .offset(window.offset)
        .load(conn)?;
    let counted = count_up_to!(conn, base, asset_records::id);
    Ok(Page::cut(rows, window.limit, counted))
}

/// The records of an asset, all counted.
pub fn count_records(conn: &mut Conn, asset_id: Uuid) -> Result<i64> {
    Ok(of_asset!(asset_records, asset_id).count().get_result(conn)?)
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
