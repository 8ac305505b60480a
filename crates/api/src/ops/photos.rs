//! Photo metadata of an asset: list (view), add (edit), delete (manage).
//! A photo is always loaded through its asset.

use crate::problems::ProblemCode;
use keyholder_domain::asset::AssetCapability;

use keyholder_store::photos;
use uuid::Uuid;

use super::access::{AssetList, asset_list_page, caller_asset_for, locked_asset_read};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::views::assets::PhotoView;
use crate::views::common::{Cursor, CursorPage, CursorQuery};

/// The photos of an asset, newest first (view).
pub fn list(
    c: &mut Conn,
    actor: &Caller,
    asset_id: Uuid,
    q: &CursorQuery,
    now: Now,
) -> Outcome<CursorPage<PhotoView>> {
    let list = AssetList {
        key: Cursor::instant,
        read: photos::photos,
        cursor: |p| Cursor::at(p.created_at, p.id),
        view: |p, _| PhotoView::from(p),
    };
    asset_list_page(c, (actor, asset_id, AssetCapability::Read), list, q, now)
}

/// A photo as sent: where it is stored, and a caption.
pub struct Photo {
    pub url: String,
    pub caption: Option<String>,
}

pub type Add = super::AddToAsset<Photo>;

/// Add photo metadata (edit): an http or https URL and an optional caption.
pub fn add(c: &mut Conn, actor: &Caller, cmd: Add, now: Now) -> Outcome<PhotoView> {
    let (user, _, _) = caller_asset_for(c, actor, cmd.asset_id, AssetCapability::AddPhotos, now)?;
    let photo = cmd.fields?;
    let url = photo.url.trim();
    let valid = (url.starts_with("https://") || url.starts_with("http://"))
        && url.chars().count() > 8
        && !url.chars().any(|ch| ch.is_whitespace() || ch.is_control());
    if !valid {
        return Err(ApiError::field("url", "must be an http or https URL"));
    }
    let caption = photo.caption.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if caption.is_some_and(|c| c.chars().any(char::is_control)) {
        return Err(ApiError::field("caption", "must not contain control characters"));
    }
    let p = photos::add_photo(c, cmd.asset_id, url, caption, user.id, now)?;
    Ok(PhotoView::from(p))
}

fn photo_not_found() -> ApiError {
    ApiError::not_found(ProblemCode::PhotoNotFound, "No such photo on this asset.")
}

/// One photo (view); a photo of another asset is not found.
pub fn get(
    c: &mut Conn,
    actor: &Caller,
    (asset_id, photo_id): (Uuid, Uuid),
    now: Now,
) -> Outcome<PhotoView> {
    caller_asset_for(c, actor, asset_id, AssetCapability::Read, now)?;
    let p = photos::get_photo(c, asset_id, photo_id)?.ok_or_else(photo_not_found)?;
    Ok(PhotoView::from(p))
}

/// [`get`] with the asset's row locked first, as a conditional delete reads
/// it before comparing `If-Match`.
pub fn get_locked(c: &mut Conn, actor: &Caller, ids: (Uuid, Uuid), now: Now) -> Outcome<PhotoView> {
    locked_asset_read(c, actor, ids.0, |c| get(c, actor, ids, now))
}

/// Delete a photo (manage).
pub fn delete(
    c: &mut Conn,
    actor: &Caller,
    (asset_id, photo_id): (Uuid, Uuid),
    now: Now,
) -> Outcome<()> {
    caller_asset_for(c, actor, asset_id, AssetCapability::DeleteRecordsAndPhotos, now)?;
    if !photos::delete_photo(c, asset_id, photo_id)? {
        return Err(photo_not_found());
    }
    Ok(())
}
