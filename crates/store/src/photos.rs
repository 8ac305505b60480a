//! An asset's photos.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::assets::{of_asset, page_of_asset};
use crate::db::Conn;
use crate::error::Result;
use crate::estates::Paged;
use crate::id::DbId;
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

/// Photos of an asset, newest first.
pub fn photos(conn: &mut Conn, asset_id: Uuid, limit: i64, offset: i64) -> Result<Paged<Photo>> {
    let order = (asset_photos::created_at.desc(), asset_photos::id.desc());
    page_of_asset!(conn, asset_photos, asset_id, Photo, order, limit, offset)
}

/// Deletes a photo of this asset (another asset's photo id is not found).
pub fn delete_photo(conn: &mut Conn, asset_id: Uuid, id: Uuid) -> Result<bool> {
    Ok(diesel::delete(of_asset!(asset_photos, asset_id, id)).execute(conn)? == 1)
}
