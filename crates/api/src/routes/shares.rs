//! Shares (the grants accepted asset invitations leave): request shapes, the
//! documented handlers, and their routes. The use cases are in
//! [`crate::ops::shares`].

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{
    ApiError, AssetNotFound, FullAccessRequired, MalformedJson, Problem, Unauthorized,
};
use crate::extract::ScopedJson;
use crate::extract::double_option;
use crate::ops::shares::{self, ShareKey};
use crate::views::invitations::permission_schema;
use crate::views::shares::ShareView;

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct ShareChange {
    #[schema(schema_with = permission_schema)]
    pub permission: Option<String>,
    /// Null: never; absent: unchanged.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub access_expires_at: Option<Option<DateTime<Utc>>>,
}

/// Shares of an asset (full access needed).
#[utoipa::path(
    get, path = "/api/v1/assets/{asset_id}/shares", tag = "asset invitations", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Shares, oldest first", body = Vec<ShareView>),
        Unauthorized,
        FullAccessRequired,
        AssetNotFound,
    )
)]
pub async fn list_shares(ctx: Ctx, path: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let items = ctx.run(move |c, actor, now| shares::list(c, actor, id, now)).await?;
    Ok(HttpResponse::Ok().json(items))
}

/// Change a share's permission or access expiry (full access needed).
#[utoipa::path(
    patch, path = "/api/v1/assets/{asset_id}/shares/{user_id}", tag = "asset invitations", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = ShareChange,
    responses(
        (status = 200, description = "Changed", body = ShareView),
        MalformedJson,
        Unauthorized,
        FullAccessRequired,
        (status = 404, description = "`asset_not_found` or `share_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid permission, or an access expiry not in the future", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_share(
    ctx: Ctx,
    path: web::Path<(Uuid, Uuid)>,
    body: ScopedJson<ShareChange>,
) -> Result<HttpResponse, ApiError> {
    let (asset_id, holder) = path.into_inner();
    let cmd = shares::Change {
        share: ShareKey { asset_id, holder },
        edit: body.after_authorization().map(|b| shares::Edit {
            permission: b.permission,
            access_expires_at: b.access_expires_at,
        }),
    };
    let view = ctx.write(move |c, actor, now| shares::change(c, actor, cmd, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Revoke a share (full access needed); it ends on the next request.
#[utoipa::path(
    delete, path = "/api/v1/assets/{asset_id}/shares/{user_id}", tag = "asset invitations", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Revoked"),
        Unauthorized,
        FullAccessRequired,
        (status = 404, description = "`asset_not_found` or `share_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_share(
    ctx: Ctx,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (asset_id, holder) = path.into_inner();
    let share = ShareKey { asset_id, holder };
    ctx.write(move |c, actor, now| shares::revoke(c, actor, share, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Drop a share I hold.
#[utoipa::path(
    delete, path = "/api/v1/me/shares/{asset_id}", tag = "asset invitations", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Dropped"),
        Unauthorized,
        (status = 404, description = "`share_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn drop_share(ctx: Ctx, path: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    ctx.write(move |c, actor, now| shares::drop_held(c, actor, id, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}

endpoints![list_shares, change_share, revoke_share, drop_share,];
