//! Assets and the garage: request shapes, the documented handlers, and
//! their routes. The use cases are in [`crate::ops::assets`]; records,
//! photos and collaborators have route modules of their own.

use actix_web::web::Path;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::conditional::{ok_tagged, tagged};
use crate::ctx::Ctx;
use crate::error::{
    ApiError, AssetNotFound, FieldErrors, FullAccessRequired, InvalidFields, MalformedJson,
    Problem, Unauthorized,
};
use crate::extract::{ScopedJson, ValidJson, ValidQuery, double_option};
use crate::idempotency::Answer;
use crate::ops::assets;
use crate::routes::{Reply, done, listed};
use crate::views::assets::{AssetView, Attributes, AttributesPatch};
use crate::views::common::{CursorPage, CursorQuery, paged_query};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ford Transit", "reference": "KX21 ABC", "site_id": "9b2e4c7d-1f3a-4e6b-8a5c-2d7f0e9b4a61", "attributes": {"make": "Ford", "model": "Transit", "year": 2021}}))]
pub struct CreateAsset {
    /// 1 to 200 characters, not only spaces, no control characters;
    /// surrounding spaces are trimmed.
    #[validate(length(max = 200))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// A plate or serial number: at most 200 characters, no control
    /// characters; blank is none.
    #[validate(length(max = 200))]
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub reference: Option<String>,
    /// Place it at a site (needs editor or above there).
    pub site_id: Option<Uuid>,
    /// Names with their values (`null` is not a value).
    #[schema(value_type = Option<Attributes>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A partial update of an asset: a member left out keeps its value.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ford Transit Custom", "attributes": {"model": "Transit Custom", "colour": null}}))]
pub struct UpdateAsset {
    /// 1 to 200 characters, not only spaces, no control characters (`null`
    /// is 422: an asset always has a name).
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 200))]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$")]
    pub name: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub reference: Option<Option<String>>,
    /// Merged into the asset's attributes (JSON Merge Patch): a name with a
    /// value sets it, a name with `null` removes it, names left out are kept.
    /// `null` for the whole member is 422.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = AttributesPatch)]
    pub attributes: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    /// Move to another site; `null` takes it out of any estate.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub site_id: Option<Option<Uuid>>,
}

paged_query! {
    pub struct GarageQuery {
        /// Case-insensitive search in name and reference (no control
        /// characters).
        #[validate(length(max = 200))]
        #[param(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$", example = "transit")]
        pub q: Option<String>,
        /// Only assets at this site.
        pub site_id: Option<Uuid>,
    }
    paging {
        page,
        per_page,
        /// The `next_cursor` of the previous page: the page after it, as cheap
        /// at any depth (`page` is ignored when this is given).
        cursor,
    }
}

/// The asset change in an update body, kept to be checked after
/// authorization (422 for `null` where the asset always has a value).
fn change(body: UpdateAsset) -> Result<assets::Change, ApiError> {
    let UpdateAsset { name, reference, attributes, site_id } = body;
    let mut v = FieldErrors::new();
    for (field, null) in [("name", name == Some(None)), ("attributes", attributes == Some(None))] {
        if null {
            v.add(field, "must not be null");
        }
    }
    v.finish()?;
    Ok(assets::Change {
        name: name.flatten(),
        reference,
        attributes: attributes.flatten(),
        site_id,
    })
}

// ---------------------------------------------------------------- handlers

/// Create an asset
///
/// Creates an asset and makes me its collaborator, with full access. With
/// `site_id` it is placed at that site, which needs an effective site role of
/// editor or above there (403 `site_editor_required`; 404 `site_not_found` when
/// the site is out of my reach). Writes an audit event.
#[utoipa::path(post, path = "/api/v1/assets", operation_id = "createAsset", tag = "assets", security(("bearer" = [])), request_body = CreateAsset,
    responses((status = 201, description = "Created", body = AssetView), MalformedJson, Unauthorized, (status = 403, description = "`site_editor_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`site_not_found`", body = Problem, content_type = "application/problem+json"), InvalidFields))]
pub async fn create_asset(ctx: Ctx, body: ValidJson<CreateAsset>) -> Reply {
    let ValidJson(CreateAsset { name, reference, site_id, attributes }) = body;
    let cmd = assets::Create { name, reference, site_id, attributes };
    ctx.once(move |c, actor, now| assets::create(c, actor, cmd, now).and_then(Answer::created))
        .await
}

/// List the garage
///
/// Every asset I can reach by any path (collaborator, household, share, site or
/// estate role; root: every asset), newest first, each with my level in
/// `my_access`. `q` searches name and reference (case-insensitive) and `site_id`
/// keeps one site's assets. Paged by `page` and `per_page`, or by `cursor` (the
/// previous page's `next_cursor`), which stays cheap at any depth.
#[utoipa::path(get, path = "/api/v1/assets", operation_id = "listGarage", tag = "assets", security(("bearer" = [])), params(GarageQuery),
    responses((status = 200, description = "My assets, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more)", body = CursorPage<AssetView>), Unauthorized,
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json")))]
pub async fn garage(ctx: Ctx, q: ValidQuery<GarageQuery>) -> Reply {
    let GarageQuery { q, site_id, page, per_page, cursor } = q.0;
    let cmd = assets::Garage { q, site_id, paging: CursorQuery { page, per_page, cursor } };
    listed(&ctx, ctx.read(move |c, actor, now| assets::garage(c, actor, cmd, now)).await)
}

/// Read an asset
///
/// The asset with my access level in `my_access`; any level (view or above) may
/// read it. An asset out of my reach answers 404 `asset_not_found`.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}", operation_id = "getAsset", tag = "assets", security(("bearer" = [])), params(("asset_id" = Uuid, Path)),
    responses((status = 200, description = "The asset", body = AssetView), Unauthorized, AssetNotFound))]
pub async fn get_asset(ctx: Ctx, id: Path<Uuid>) -> Reply {
    tagged(&ctx, ctx.read_one(move |c, actor, now| assets::get(c, actor, *id, now)).await)
}

/// Update an asset or move it to another site
///
/// Changes `name`, `reference` or `attributes` with edit access, as a partial
/// update: members left out stay as they are, `null` clears `reference` (and
/// is 422 for `name` and `attributes`). `attributes` is merged into the
/// asset's as JSON Merge Patch (RFC 7396): a name with a value sets it, a
/// name with `null` removes it, names left out are kept; the merged
/// attributes are then checked as a whole (at most 50). A `site_id` moves the asset: this needs full access and an
/// effective role of editor or above at the target site, and taking it out of its
/// estate (`null`, or another estate's site) also needs estate admin or owner in
/// the estate it leaves. A move writes an audit event; refusals name the rule
/// (403 `edit_access_required`, `full_access_required`, `site_editor_required` or
/// `estate_admin_required`; 404 `site_not_found`).
#[utoipa::path(patch, path = "/api/v1/assets/{asset_id}", operation_id = "updateAsset", tag = "assets", security(("bearer" = [])), params(("asset_id" = Uuid, Path)), request_body = UpdateAsset,
    responses((status = 200, description = "Updated", body = AssetView), MalformedJson, Unauthorized,
        (status = 403, description = "`edit_access_required`, `full_access_required`, `site_editor_required` or `estate_admin_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `site_not_found`", body = Problem, content_type = "application/problem+json"), InvalidFields))]
pub async fn update_asset(ctx: Ctx, id: Path<Uuid>, body: ScopedJson<UpdateAsset>) -> Reply {
    let cmd =
        assets::Update { id: id.into_inner(), change: body.after_authorization().and_then(change) };
    let (id, target) = (cmd.id, cmd.target_site());
    let current = move |c: &mut _, actor: &_, now| {
        assets::lock_for_update(c, actor, id, target)?;
        assets::get(c, actor, id, now)
    };
    ok_tagged(ctx.write_if_match(current, move |c, a, now| assets::update(c, a, cmd, now)).await)
}

/// Delete an asset
///
/// Deletes the asset with its records, photos, shares and invitations. Needs full
/// access (403 `full_access_required`); an asset out of my reach answers 404
/// `asset_not_found`. Writes an audit event.
#[utoipa::path(delete, path = "/api/v1/assets/{asset_id}", operation_id = "deleteAsset", tag = "assets", security(("bearer" = [])), params(("asset_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), Unauthorized, FullAccessRequired, AssetNotFound))]
pub async fn delete_asset(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let id = id.into_inner();
    let current = move |c: &mut _, actor: &_, now| {
        assets::lock_for_update(c, actor, id, None)?;
        assets::get(c, actor, id, now)
    };
    done(ctx.write_if_match(current, move |c, a, now| assets::delete(c, a, id, now)).await)
}

endpoints![garage, create_asset, get_asset, update_asset, delete_asset,
    ; tags:
    ("assets", "Assets and the garage"),
];
