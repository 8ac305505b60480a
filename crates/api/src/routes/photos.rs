//! Photo metadata of an asset: request shapes, the documented handlers, and
//! their routes. The use cases are in [`crate::ops::photos`].

use actix_web::web::Path;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::conditional::tagged;
use crate::ctx::Ctx;
use crate::error::{AssetNotFound, BadPaging, InvalidFields, MalformedJson, Problem, Unauthorized};
use crate::extract::{ScopedJson, ValidQuery};
use crate::idempotency::Answer;
use crate::ops::photos;
use crate::routes::{Reply, done, listed};
use crate::views::assets::PhotoView;
use crate::views::common::{CursorPage, CursorQuery};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://photos.example.com/transit/front.jpg", "caption": "Front, after the brake job"}))]
pub struct PhotoRequest {
    #[validate(length(max = 2000))]
    #[schema(schema_with = crate::views::assets::photo_url_request_schema)]
    pub url: String,
    /// One line of at most 500 characters, no control characters; blank is
    /// none.
    #[validate(length(max = 500))]
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub caption: Option<String>,
}

/// List the photos of an asset
///
/// Photo metadata (`url`, `caption`), newest first. Any access level (view or
/// above) may read it; an asset out of my reach answers 404 `asset_not_found`.
/// Paged by `cursor` (the previous page's `next_cursor`) or `page` (from 1),
/// and `per_page` (1 to 100, default 25).
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/photos", operation_id = "listPhotos", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), CursorQuery),
    responses((status = 200, description = "Photos, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<PhotoView>), Unauthorized, AssetNotFound, BadPaging))]
pub async fn list_photos(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.run(move |c, actor, now| photos::list(c, actor, *id, &q.0, now)).await)
}

/// Add a photo to an asset
///
/// Stores photo metadata: an http or https `url` where the photo already lives,
/// and an optional `caption`; the API does not take the image itself. Needs edit
/// access or above (403 `edit_access_required`, checked before the body's
/// fields).
#[utoipa::path(post, path = "/api/v1/assets/{asset_id}/photos", operation_id = "addPhoto", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path)), request_body = PhotoRequest,
    responses((status = 201, description = "Added", body = PhotoView), MalformedJson, Unauthorized, (status = 403, description = "`edit_access_required`", body = Problem, content_type = "application/problem+json"), AssetNotFound, InvalidFields))]
pub async fn add_photo(ctx: Ctx, id: Path<Uuid>, body: ScopedJson<PhotoRequest>) -> Reply {
    let photo =
        body.after_authorization().map(|b| photos::Photo { url: b.url, caption: b.caption });
    let cmd = photos::Add { asset_id: id.into_inner(), fields: photo };
    ctx.once(move |c, actor, now| photos::add(c, actor, cmd, now).and_then(Answer::created)).await
}

/// Read a photo
///
/// One photo's metadata, with its `ETag` (304 on a matching `If-None-Match`).
/// Any access level (view or above) may read it; an asset out of my reach
/// answers 404 `asset_not_found`, a photo of another asset 404
/// `photo_not_found`.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/photos/{photo_id}", operation_id = "getPhoto", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("photo_id" = Uuid, Path)),
    responses((status = 200, description = "The photo", body = PhotoView), Unauthorized,
        (status = 404, description = "`asset_not_found` or `photo_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn get_photo(ctx: Ctx, ids: Path<(Uuid, Uuid)>) -> Reply {
    let ids = ids.into_inner();
    tagged(&ctx, ctx.read_one(move |c, actor, now| photos::get(c, actor, ids, now)).await)
}

/// Delete a photo
///
/// Deletes the photo's metadata. Needs manage access or above (403
/// `manage_access_required`); a photo of another asset answers 404
/// `photo_not_found`.
#[utoipa::path(delete, path = "/api/v1/assets/{asset_id}/photos/{photo_id}", operation_id = "deletePhoto", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("photo_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), Unauthorized, (status = 403, description = "`manage_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `photo_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_photo(ctx: Ctx, ids: Path<(Uuid, Uuid)>) -> Reply {
    let ids = ids.into_inner();
    let current = move |c: &mut _, actor: &_, now| photos::get_locked(c, actor, ids, now);
    done(ctx.write_if_match(current, move |c, actor, now| photos::delete(c, actor, ids, now)).await)
}

endpoints![list_photos, add_photo, get_photo, delete_photo,];
