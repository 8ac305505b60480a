//! Collaborators of one asset and of several (the bulk dialogs): request
//! shapes, the documented handlers, and their routes. The use cases are in
//! [`crate::ops::collaborators`].

use actix_web::web::Path;
use serde::Deserialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{
    AssetNotFound, BadPaging, FullAccessRequired, InvalidBody, MalformedJson, Problem, Unauthorized,
};
use crate::extract::{ScopedJson, ValidJson, ValidQuery};
use crate::idempotency::Answer;
use crate::ops::collaborators;
use crate::routes::{Reply, done, listed, ok};
use crate::views::assets::{CollaboratorSplitView, CollaboratorView};
use crate::views::common::{CursorPage, CursorQuery};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "sam.patel"}))]
pub struct AddCollaborator {
    /// Exactly the user's username (3 to 32 letters, digits, `_`, `.` or
    /// `-`, starting with a letter or digit).
    #[validate(length(max = 64))]
    #[schema(min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    pub username: String,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SelectionQuery {
    /// Comma-separated asset ids (1 to 50).
    #[validate(length(max = 1900))]
    #[param(
        min_length = 36,
        max_length = 1900,
        pattern = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(,[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}){0,49}$",
        example = "7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47,0f4a8c2e-6b1d-4e9a-a7c3-5d2e8b0f6a14"
    )]
    pub asset_ids: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"asset_ids": ["7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47", "0f4a8c2e-6b1d-4e9a-a7c3-5d2e8b0f6a14"], "usernames": ["sam.patel", "jo_hughes"]}))]
pub struct BulkAdd {
    /// 1 to 50 assets.
    #[validate(length(min = 1, max = 50))]
    #[schema(min_items = 1, max_items = 50)]
    pub asset_ids: Vec<Uuid>,
    /// 1 to 100 usernames, each exactly a user's.
    #[validate(length(min = 1, max = 100))]
    #[schema(schema_with = usernames_schema)]
    pub usernames: Vec<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"asset_ids": ["7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47", "0f4a8c2e-6b1d-4e9a-a7c3-5d2e8b0f6a14"], "user_ids": ["e1b6d4a9-3c7f-4a2e-9d58-6f0b2c8e7a13"]}))]
pub struct BulkRemove {
    /// 1 to 50 assets.
    #[validate(length(min = 1, max = 50))]
    #[schema(min_items = 1, max_items = 50)]
    pub asset_ids: Vec<Uuid>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_items = 1, max_items = 100)]
    pub user_ids: Vec<Uuid>,
}

/// 1 to 100 usernames (3 to 32 letters, digits, `_`, `.` or `-`, starting
/// with a letter or digit).
fn usernames_schema() -> RefOr<Schema> {
    let username = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(3))
        .max_length(Some(32))
        .pattern(Some(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"));
    ArrayBuilder::new()
        .items(username)
        .min_items(Some(1))
        .max_items(Some(100))
        .description(Some("1 to 100 usernames, each exactly a user's."))
        .into()
}

/// List the collaborators of an asset
///
/// The asset's collaborators, oldest first, with when each was added, one page
/// at a time (the list envelope and its `Link` header). Any access level (view or
/// above) may read the list; whether I may add and remove them is my access on the
/// asset: `my_access` `full`. An asset out of my reach answers 404
/// `asset_not_found`.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/collaborators", operation_id = "listCollaborators", tag = "collaborators", security(("bearer" = [])), params(("asset_id" = Uuid, Path), CursorQuery),
    responses((status = 200, description = "Collaborators, oldest first", body = CursorPage<CollaboratorView>), Unauthorized, AssetNotFound, BadPaging))]
pub async fn list_collaborators(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.run(move |c, actor, now| collaborators::list(c, actor, *id, &q.0, now)).await)
}

/// Add a collaborator to an asset
///
/// Makes the user with exactly this `username` a collaborator, with full access to
/// the asset; writes an audit event. Needs full access and a verified email (403
/// `full_access_required`, `email_not_verified`). An unknown username answers 404
/// `user_not_found` naming it, an existing collaborator 409
/// `already_collaborator`; each lookup counts against the rate limit (429).
#[utoipa::path(post, path = "/api/v1/assets/{asset_id}/collaborators", operation_id = "addCollaborator", tag = "collaborators", security(("bearer" = [])), params(("asset_id" = Uuid, Path)), request_body = AddCollaborator,
    responses((status = 201, description = "Added", body = CollaboratorView), MalformedJson, Unauthorized, (status = 403, description = "`full_access_required`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`, or `user_not_found` naming the username", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_collaborator`", body = Problem, content_type = "application/problem+json"), InvalidBody, (status = 429, description = "Too many additions", body = Problem, content_type = "application/problem+json")))]
pub async fn add_collaborator(
    ctx: Ctx,
    id: Path<Uuid>,
    body: ScopedJson<AddCollaborator>,
) -> Reply {
    let username = body.after_authorization().map(|b| b.username);
    let asset_id = id.into_inner();
    let cmd = collaborators::Add { asset_id, username, budget: ctx.user_budget() };
    ctx.once(move |c, actor, now| {
        let added = collaborators::add(c, actor, cmd, now)?;
        let location = format!("/api/v1/assets/{asset_id}/collaborators/{}", added.user.id);
        Answer::created_at(location, added)
    })
    .await
}

/// Remove a collaborator from an asset
///
/// Removes the user's collaborator access and cancels the asset's pending
/// invitations to their email; writes an audit event. Needs full access (403
/// `full_access_required`). A user who is not a collaborator answers 404
/// `not_a_collaborator`; the last collaborator stays (409 `last_collaborator`).
#[utoipa::path(delete, path = "/api/v1/assets/{asset_id}/collaborators/{user_id}", operation_id = "removeCollaborator", tag = "collaborators", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), Unauthorized, FullAccessRequired, (status = 404, description = "`asset_not_found` or `not_a_collaborator`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_collaborator`", body = Problem, content_type = "application/problem+json")))]
pub async fn remove_collaborator(ctx: Ctx, pair: Path<(Uuid, Uuid)>) -> Reply {
    let pair = pair.into_inner();
    done(ctx.write(move |c, actor, now| collaborators::remove(c, actor, pair, now)).await)
}

/// Split the collaborators of several assets
///
/// For the assets in `asset_ids` (comma-separated, 1 to 50), the users who
/// collaborate on all of them (`common`) and those on only some (`partial`, with
/// those assets' ids). Needs full access to every asset: those out of my reach
/// answer 404 `assets_not_found`, those I see without full access 403
/// `full_access_required`, each listed in `asset_ids`.
#[utoipa::path(get, path = "/api/v1/collaborators", operation_id = "getCollaboratorSplit", tag = "collaborators", security(("bearer" = [])), params(SelectionQuery),
    responses((status = 200, description = "Common and partial collaborators", body = CollaboratorSplitView), Unauthorized,
        (status = 403, description = "`full_access_required`, with `asset_ids`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`assets_not_found`, with `asset_ids`", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Bad selection", body = Problem, content_type = "application/problem+json")))]
pub async fn collaborator_split(ctx: Ctx, q: ValidQuery<SelectionQuery>) -> Reply {
    let asset_ids = q.0.asset_ids;
    ok(ctx.read(move |c, actor, now| collaborators::split(c, actor, &asset_ids, now)).await)
}

/// Add collaborators to several assets
///
/// Makes every user in `usernames` a collaborator of every asset in `asset_ids`
/// (also "move to common"); existing pairs stay as they are. All or nothing:
/// needs full access to every asset (404 `assets_not_found`, 403
/// `full_access_required`, naming them) and a verified email, and an unknown
/// username answers 404 `user_not_found` naming it. Returns the new split;
/// each lookup counts against the rate limit (429).
#[utoipa::path(post, path = "/api/v1/collaborators/add", operation_id = "addCollaboratorsInBulk", tag = "collaborators", security(("bearer" = [])), request_body = BulkAdd,
    responses((status = 200, description = "Done: the new split", body = CollaboratorSplitView), MalformedJson, Unauthorized,
        (status = 403, description = "`full_access_required`, with `asset_ids`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`assets_not_found` with `asset_ids`, or `user_not_found` naming the username", body = Problem, content_type = "application/problem+json"), InvalidBody,
        (status = 429, description = "Too many additions", body = Problem, content_type = "application/problem+json")))]
pub async fn bulk_add(ctx: Ctx, body: ValidJson<BulkAdd>) -> Reply {
    let ValidJson(BulkAdd { asset_ids, usernames }) = body;
    let cmd = collaborators::BulkAdd { asset_ids, usernames, budget: ctx.user_budget() };
    ok(ctx.write(move |c, actor, now| collaborators::bulk_add(c, actor, cmd, now)).await)
}

/// Remove collaborators from several assets
///
/// Removes every user in `user_ids` from every asset in `asset_ids` where they
/// collaborate, and cancels those assets' pending invitations to their emails.
/// All or nothing: needs full access to every asset (404 `assets_not_found`, 403
/// `full_access_required`, naming them), and 409 `last_collaborator` names any
/// asset that would be left with none. Returns the new split.
#[utoipa::path(post, path = "/api/v1/collaborators/remove", operation_id = "removeCollaboratorsInBulk", tag = "collaborators", security(("bearer" = [])), request_body = BulkRemove,
    responses((status = 200, description = "Done: the new split", body = CollaboratorSplitView), MalformedJson, Unauthorized,
        (status = 403, description = "`full_access_required`, with `asset_ids`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`assets_not_found`, with `asset_ids`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_collaborator`, with `asset_ids`", body = Problem, content_type = "application/problem+json"), InvalidBody))]
pub async fn bulk_remove(ctx: Ctx, body: ValidJson<BulkRemove>) -> Reply {
    let ValidJson(BulkRemove { asset_ids, user_ids }) = body;
    let cmd = collaborators::BulkRemove { asset_ids, user_ids };
    ok(ctx.write(move |c, actor, now| collaborators::bulk_remove(c, actor, cmd, now)).await)
}

endpoints![
    list_collaborators,
    add_collaborator,
    remove_collaborator,
    collaborator_split,
    bulk_add,
    bulk_remove,
    ; tags:
    ("collaborators", "Collaborators of one asset or several"),
];
