//! An asset's photos.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::assets::of_asset;
use crate::db::Conn;
use crate::error::Result;
use crate::id::DbId;
use crate::paging::{Page, Window, after_instant, count_up_to};
use crate::schema::asset_photos;
use crate::time::{DbTime, to_db};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = asset_photos)]
pub struct Photo {
    #[diesel(deserialize_as = DbId)]
    pub id: Uuid,
    #[diesel(deserialize_as = DbId)]
    pub asset_id: Uuid,
    pub url: String,
    pub caption: Option<String>,
    #[diesel(deserialize_as = DbTime)]
    pub created_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = asset_photos)]
struct NewPhoto<'a> {
    id: DbId,
    asset_id: DbId,
    url: &'a str,
    caption: Option<&'a str>,
    created_by: DbId,
    created_at: NaiveDateTime,
}

pub fn add_photo(
    conn: &mut Conn,
    asset_id: Uuid,
    url: &str,
    caption: Option<&str>,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Photo> {
    let id = Uuid::new_v4();
    diesel::insert_into(asset_photos::table)
        .values(NewPhoto {
            id: DbId(id),
            asset_id: DbId(asset_id),
            url,
            caption,
            created_by: DbId(by),
            created_at: to_db(now),
        })
        .execute(conn)?;
    Ok(Photo {
        id,
        asset_id,
        url: url.to_owned(),
        caption: caption.map(ToOwned::to_owned),
        created_at: now,
    })
}

/// A page of the photos of an asset, newest first (then by id); the total
/// counted up to [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT).
pub fn photos(
    conn: &mut Conn,
    asset_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<Photo>> {
    let base = || of_asset!(asset_photos, asset_id).into_boxed();
    let rows: Vec<Photo> = after_instant!(
        base(),
        window.after.as_ref(),
        asset_photos::created_at,
        asset_photos::id,
        desc
    )
    .select(Photo::as_select())
    .order((asset_photos::created_at.desc(), asset_photos::id.desc()))
    .limit(window.limit.saturating_add(1))
    .offset(window.offset)
    .load(conn)?;
    let counted = count_up_to!(conn, base, asset_photos::id);
    Ok(Page::cut(rows, window.limit, counted))
}

/// The photos of an asset, all counted.
pub fn count_photos(conn: &mut Conn, asset_id: Uuid) -> Result<i64> {
    Ok(of_asset!(asset_photos, asset_id).count().get_result(conn)?)
}

/// A photo of this asset (a photo id from another asset is not found).
pub fn get_photo(conn: &mut Conn, asset_id: Uuid, id: Uuid) -> Result<Option<Photo>> {
    Ok(of_asset!(asset_photos, asset_id, id).select(Photo::as_select()).first(conn).optional()?)
}

/// Deletes a photo of this asset (another asset's photo id is not found).
pub fn delete_photo(conn: &mut Conn, asset_id: Uuid, id: Uuid) -> Result<bool> {
    Ok(diesel::delete(of_asset!(asset_photos, asset_id, id)).execute(conn)? == 1)
}
