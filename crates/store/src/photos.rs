//! An asset's photos.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::asset_photos;
use crate::time::{from_db, to_db};
use crate::users::parse_id;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub url: String,
    pub caption: Option<String>,
    pub created_at: DateTime<Utc>,
}

type PhotoRow = (String, String, String, Option<String>, NaiveDateTime);

fn photo(r: PhotoRow) -> Result<Photo, StoreError> {
    Ok(Photo {
        id: parse_id(&r.0)?,
        asset_id: parse_id(&r.1)?,
        url: r.2,
        caption: r.3,
        created_at: from_db(r.4),
    })
}

pub fn add_photo(
    conn: &mut DbConnection,
    asset_id: Uuid,
    url: &str,
    caption: Option<&str>,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Photo, StoreError> {
    let id = Uuid::new_v4();
    diesel::insert_into(asset_photos::table)
        .values((
            asset_photos::id.eq(id.to_string()),
            asset_photos::asset_id.eq(asset_id.to_string()),
            asset_photos::url.eq(url),
            asset_photos::caption.eq(caption),
            asset_photos::created_by.eq(by.to_string()),
            asset_photos::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(Photo {
        id,
        asset_id,
        url: url.to_owned(),
        caption: caption.map(ToOwned::to_owned),
        created_at: now,
    })
}

pub fn photos(
    conn: &mut DbConnection,
    asset_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Photo>, i64), StoreError> {
    let rows = asset_photos::table
        .filter(asset_photos::asset_id.eq(asset_id.to_string()))
        .select((
            asset_photos::id,
            asset_photos::asset_id,
            asset_photos::url,
            asset_photos::caption,
            asset_photos::created_at,
        ))
        .order((asset_photos::created_at.desc(), asset_photos::id.desc()))
        .limit(limit)
        .offset(offset)
        .load::<PhotoRow>(conn)?
        .into_iter()
        .map(photo)
        .collect::<Result<_, _>>()?;
    let total = asset_photos::table
        .filter(asset_photos::asset_id.eq(asset_id.to_string()))
        .count()
        .get_result(conn)?;
    Ok((rows, total))
}

/// Deletes a photo of this asset (another asset's photo id is not found).
pub fn delete_photo(conn: &mut DbConnection, asset_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        asset_photos::table
            .filter(asset_photos::id.eq(id.to_string()))
            .filter(asset_photos::asset_id.eq(asset_id.to_string())),
    )
    .execute(conn)?
        == 1)
}
