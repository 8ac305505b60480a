//! An asset's uploaded files (documents and photos): their rows, and the
//! queue of objects to delete from the object store.
//!
//! The bytes are not here: the API writes them to the object store under
//! `storage_key` and keeps the row that lists them and that the access
//! check reads. Deleting a row (by any path, including its asset's cascade)
//! queues its object in `file_deletions` through a trigger; the sweeper
//! claims due keys (`FOR UPDATE SKIP LOCKED` on PostgreSQL), deletes the
//! objects and drops the keys.

use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound as _, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::assets::of_asset;
use crate::db::{Conn, DbConnection};
use crate::error::Result;
use crate::id::DbId;
use crate::paging::{Page, Window, after_instant, count_up_to};
use crate::schema::{asset_files, file_deletions};
use crate::time::{DbTime, to_db};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = asset_files)]
pub struct StoredFile {
    #[diesel(deserialize_as = DbId)]
    pub id: Uuid,
    #[diesel(deserialize_as = DbId)]
    pub asset_id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub caption: Option<String>,
    #[diesel(deserialize_as = DbTime)]
    pub created_at: DateTime<Utc>,
}

/// A file to list on an asset, its object already written.
#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub caption: Option<&'a str>,
    pub created_by: Uuid,
}

#[derive(Insertable)]
#[diesel(table_name = asset_files)]
struct FileRow<'a> {
    id: DbId,
    asset_id: DbId,
    name: &'a str,
    content_type: &'a str,
    size_bytes: i64,
    sha256: &'a str,
    storage_key: &'a str,
    caption: Option<&'a str>,
    created_by: DbId,
    created_at: NaiveDateTime,
}

/// Lists the file and takes its key off the deletion queue, where the
/// upload registered it (due `registered_due`) before writing the object
/// (see [`register_upload`]). `None`, with nothing written, when that
/// registration is gone or was claimed by a sweeper (the upload outlasted
/// its grace period, and its object may be deleted already).
pub fn add_file(
    conn: &mut Conn,
    file: &NewFile<'_>,
    registered_due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<StoredFile>> {
    let taken = diesel::delete(
        file_deletions::table
            .filter(file_deletions::storage_key.eq(file.storage_key))
            .filter(file_deletions::due_at.eq(to_db(registered_due))),
    )
    .execute(conn)?;
    if taken != 1 {
        return Ok(None);
    }
    // PostgreSQL keeps microseconds: the answer shows the time as stored.
    let now = now.trunc_subsecs(6);
    diesel::insert_into(asset_files::table)
        .values(FileRow {
            id: DbId(file.id),
            asset_id: DbId(file.asset_id),
            name: file.name,
            content_type: file.content_type,
            size_bytes: file.size_bytes,
            sha256: file.sha256,
            storage_key: file.storage_key,
            caption: file.caption,
            created_by: DbId(file.created_by),
            created_at: to_db(now),
        })
        .execute(conn)?;
    Ok(Some(StoredFile {
        id: file.id,
        asset_id: file.asset_id,
        name: file.name.to_owned(),
        content_type: file.content_type.to_owned(),
        size_bytes: file.size_bytes,
        sha256: file.sha256.to_owned(),
        storage_key: file.storage_key.to_owned(),
        caption: file.caption.map(ToOwned::to_owned),
        created_at: now,
    }))
}

/// Before an upload writes its object: the key goes on the deletion queue,
/// due `grace` later, so that an object whose file row never commits (the
/// request failed or the process died in between) is deleted then. Returns
/// the due time as stored, which the commit names (see [`add_file`]).
pub fn register_upload(
    conn: &mut Conn,
    storage_key: &str,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<DateTime<Utc>> {
    // In microseconds, as PostgreSQL keeps it, so the commit finds it equal.
    let due = (now + grace).trunc_subsecs(6);
    diesel::insert_into(file_deletions::table)
        .values((
            file_deletions::storage_key.eq(storage_key),
            file_deletions::due_at.eq(to_db(due)),
            file_deletions::attempts.eq(0),
        ))
        .execute(conn)?;
    Ok(due)
}

/// A page of an asset's files, newest first (then by id); the total
/// counted up to [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT).
pub fn files(
    conn: &mut Conn,
    asset_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<StoredFile>> {
    let base = || of_asset!(asset_files, asset_id).into_boxed();
    let rows: Vec<StoredFile> = after_instant!(
        base(),
        window.after.as_ref(),
        asset_files::created_at,
        asset_files::id,
        desc
    )
    .select(StoredFile::as_select())
    .order((asset_files::created_at.desc(), asset_files::id.desc()))
    .limit(window.limit.saturating_add(1))
    .offset(window.offset)
    .load(conn)?;
    let counted = count_up_to!(conn, base, asset_files::id);
    Ok(Page::cut(rows, window.limit, counted))
}

/// The files of an asset, all counted.
pub fn count_files(conn: &mut Conn, asset_id: Uuid) -> Result<i64> {
    Ok(of_asset!(asset_files, asset_id).count().get_result(conn)?)
}

/// A file of this asset (a file id from another asset is not found).
pub fn get_file(conn: &mut Conn, asset_id: Uuid, id: Uuid) -> Result<Option<StoredFile>> {
    Ok(of_asset!(asset_files, asset_id, id)
        .select(StoredFile::as_select())
        .first(conn)
        .optional()?)
}

/// Deletes a file of this asset (another asset's file id is not found);
/// its object is queued for deletion by the table's trigger.
pub fn delete_file(conn: &mut Conn, asset_id: Uuid, id: Uuid) -> Result<bool> {
    Ok(diesel::delete(of_asset!(asset_files, asset_id, id)).execute(conn)? == 1)
}

/// An object to delete, claimed by one sweeper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub storage_key: String,
    pub attempts: i32,
}

/// Claims up to `limit` due deletions: their `due_at` moves to
/// `lease_until`, so another sweeper (another replica) skips them until
/// then; on PostgreSQL the rows are read `FOR UPDATE SKIP LOCKED`.
pub fn claim_deletions(
    conn: &mut Conn,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Deletion>> {
    let due = file_deletions::table
        .filter(file_deletions::due_at.le(to_db(now)))
        .order((file_deletions::due_at.asc(), file_deletions::storage_key.asc()))
        .select((file_deletions::storage_key, file_deletions::attempts))
        .limit(limit);
    let rows: Vec<(String, i32)> = match conn {
        DbConnection::Postgresql(pg) => due.for_update().skip_locked().load(pg)?,
        DbConnection::Sqlite(lite) => due.load(lite)?,
    };
    let keys: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    if !keys.is_empty() {
        diesel::update(file_deletions::table.filter(file_deletions::storage_key.eq_any(&keys)))
            .set(file_deletions::due_at.eq(to_db(lease_until)))
            .execute(conn)?;
    }
    Ok(rows.into_iter().map(|(storage_key, attempts)| Deletion { storage_key, attempts }).collect())
}

/// The object is gone: its key leaves the queue.
pub fn deletion_done(conn: &mut Conn, storage_key: &str) -> Result<()> {
    diesel::delete(file_deletions::table.find(storage_key)).execute(conn)?;
    Ok(())
}

/// The store refused: tried again at `retry_at`.
pub fn deletion_failed(
    conn: &mut Conn,
    storage_key: &str,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<()> {
    diesel::update(file_deletions::table.find(storage_key))
        .set((
            file_deletions::attempts.eq(file_deletions::attempts + 1),
            file_deletions::due_at.eq(to_db(retry_at)),
            file_deletions::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The keys waiting on the deletion queue (for operators and tests).
pub fn pending_deletions(conn: &mut Conn) -> Result<Vec<String>> {
    Ok(file_deletions::table
        .select(file_deletions::storage_key)
        .order(file_deletions::storage_key)
        .load(conn)?)
}
