//! Assets and the garage: request shapes, the documented handlers, and
//! their routes. The use cases are in [`crate::ops::assets`]; records,
//! photos and collaborators have route modules of their own.

use actix_web::web::Path;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{
    AssetNotFound, FullAccessRequired, InvalidFields, MalformedJson, Problem, Unauthorized,
};
use crate::extract::{ScopedJson, ValidJson, ValidQuery, double_option};
use crate::ops::assets;
use crate::routes::{Reply, created, done, ok};
use crate::views::assets::AssetView;
use crate::views::common::{CursorPage, CursorQuery, paged_query};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"name": "Van 7", "reference": "KX21 ABC", "attributes": {"make": "Ford"}}))]
pub struct CreateAsset {
    #[validate(length(max = 1000))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub reference: Option<String>,
    /// Place it at a site (needs editor or above there).
    pub site_id: Option<Uuid>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct UpdateAsset {
    #[validate(length(max = 1000))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub reference: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Move to another site; `null` takes it out of any estate.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub site_id: Option<Option<Uuid>>,
}

paged_query! {
    pub struct GarageQuery {
        /// Case-insensitive search in name and reference.
        #[validate(length(max = 200))]
        #[param(max_length = 200)]
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

/// The asset change in an update body, kept to be checked after authorization.
fn change(UpdateAsset { name, reference, attributes, site_id }: UpdateAsset) -> assets::Change {
    assets::Change { name, reference, attributes, site_id }
}

// ---------------------------------------------------------------- handlers

/// Create an asset; I become its collaborator.
#[utoipa::path(post, path = "/api/v1/assets", operation_id = "createAsset", tag = "assets", security(("bearer" = [])), request_body = CreateAsset,
    responses((status = 201, description = "Created", body = AssetView), MalformedJson, Unauthorized, (status = 403, description = "`site_editor_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`site_not_found`", body = Problem, content_type = "application/problem+json"), InvalidFields))]
pub async fn create_asset(ctx: Ctx, body: ValidJson<CreateAsset>) -> Reply {
    let ValidJson(CreateAsset { name, reference, site_id, attributes }) = body;
    let cmd = assets::Create { name, reference, site_id, attributes };
    created(ctx.write(move |c, actor, now| assets::create(c, actor, cmd, now)).await)
}

/// The garage: every asset I can reach by any path, newest first, each with
/// my access level; searchable and filterable by site.
#[utoipa::path(get, path = "/api/v1/assets", operation_id = "listGarage", tag = "assets", security(("bearer" = [])), params(GarageQuery),
    responses((status = 200, description = "My assets, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more)", body = CursorPage<AssetView>), Unauthorized,
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json")))]
pub async fn garage(ctx: Ctx, q: ValidQuery<GarageQuery>) -> Reply {
    let GarageQuery { q, site_id, page, per_page, cursor } = q.0;
    let cmd = assets::Garage { q, site_id, paging: CursorQuery { page, per_page, cursor } };
    ok(ctx.read(move |c, actor, now| assets::garage(c, actor, cmd, now)).await)
}

/// Read an asset with my access level.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}", operation_id = "getAsset", tag = "assets", security(("bearer" = [])), params(("asset_id" = Uuid, Path)),
    responses((status = 200, description = "The asset", body = AssetView), Unauthorized, AssetNotFound))]
pub async fn get_asset(ctx: Ctx, id: Path<Uuid>) -> Reply {
    ok(ctx.read_one(move |c, actor, now| assets::get(c, actor, *id, now)).await)
}

/// Update an asset (edit) or move it between sites (full, plus editor at the
/// target site; leaving an estate also needs estate admin there).
#[utoipa::path(patch, path = "/api/v1/assets/{asset_id}", operation_id = "updateAsset", tag = "assets", security(("bearer" = [])), params(("asset_id" = Uuid, Path)), request_body = UpdateAsset,
    responses((status = 200, description = "Updated", body = AssetView), MalformedJson, Unauthorized,
        (status = 403, description = "`edit_access_required`, `full_access_required`, `site_editor_required` or `estate_admin_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `site_not_found`", body = Problem, content_type = "application/problem+json"), InvalidFields))]
pub async fn update_asset(ctx: Ctx, id: Path<Uuid>, body: ScopedJson<UpdateAsset>) -> Reply {
    let cmd =
        assets::Update { id: id.into_inner(), change: body.after_authorization().map(change) };
    ok(ctx.write(move |c, actor, now| assets::update(c, actor, cmd, now)).await)
}

/// Delete an asset with its records, photos, shares and invitations (full).
#[utoipa::path(delete, path = "/api/v1/assets/{asset_id}", operation_id = "deleteAsset", tag = "assets", security(("bearer" = [])), params(("asset_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), Unauthorized, FullAccessRequired, AssetNotFound))]
pub async fn delete_asset(ctx: Ctx, id: Path<Uuid>) -> Reply {
    done(ctx.write(move |c, actor, now| assets::delete(c, actor, *id, now)).await)
}

endpoints![garage, create_asset, get_asset, update_asset, delete_asset,
    ; tags:
    ("assets", "Assets and the garage"),
];
