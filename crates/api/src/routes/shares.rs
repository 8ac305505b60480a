//! Shares (the grants accepted asset invitations leave): request shapes, the
//! documented handlers, and their routes. The use cases are in
//! [`crate::ops::shares`].

use actix_web::web::Path;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{
    ApiError, AssetNotFound, BadPaging, FullAccessRequired, MalformedJson, Problem, Unauthorized,
};
use crate::extract::{ScopedJson, ValidQuery, double_option};
use crate::ops::shares::{self, ShareKey};
use crate::routes::{Reply, done, listed, ok};
use crate::views::common::{CursorPage, CursorQuery};
use crate::views::shares::{AssetPermission, ShareView};

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"permission": "manage", "access_expires_at": "2026-12-31T23:59:59Z"}))]
pub struct ShareChange {
    /// Absent: unchanged (`null` is 422: a share always has a permission).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = AssetPermission)]
    pub permission: Option<Option<String>>,
    /// A time in the future (years up to 9999); null: never; absent:
    /// unchanged.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub access_expires_at: Option<Option<DateTime<Utc>>>,
}

/// The share a `/assets/{asset_id}/shares/{user_id}` path names.
fn share(key: Path<(Uuid, Uuid)>) -> ShareKey {
    let (asset_id, holder) = key.into_inner();
    ShareKey { asset_id, holder }
}

/// List the shares of an asset
///
/// The grants accepted invitations left on the asset, oldest first, with each
/// holder (with email), permission and access expiry; a share past its access
/// expiry is listed with `active: false`. Paged by `cursor` (or `page`) and
/// `per_page`. Needs full access (403 `full_access_required`); an asset
/// out of my reach answers 404 `asset_not_found`.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/shares", operation_id = "listShares", tag = "asset invitations", security(("bearer" = [])), params(("asset_id" = Uuid, Path), CursorQuery),
    responses((status = 200, description = "Shares, oldest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<ShareView>), Unauthorized, FullAccessRequired, AssetNotFound, BadPaging))]
pub async fn list_shares(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.run(move |c, actor, now| shares::list(c, actor, *id, &q.0, now)).await)
}

/// Change a share
///
/// Sets the share's `permission` (`view`, `edit` or `manage`) or
/// `access_expires_at` (absent: unchanged; `null`: never; a time: in the future).
/// Needs full access (403 `full_access_required`); 404 `share_not_found` when the
/// user holds no share on the asset. Takes effect on the next request and writes
/// an audit event.
#[utoipa::path(patch, path = "/api/v1/assets/{asset_id}/shares/{user_id}", operation_id = "changeShare", tag = "asset invitations", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = ShareChange,
    responses((status = 200, description = "Changed", body = ShareView), MalformedJson, Unauthorized, FullAccessRequired,
        (status = 404, description = "`asset_not_found` or `share_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid permission, or an access expiry not in the future", body = Problem, content_type = "application/problem+json")))]
pub async fn change_share(
    ctx: Ctx,
    key: Path<(Uuid, Uuid)>,
    body: ScopedJson<ShareChange>,
) -> Reply {
    let edit =
        body.after_authorization().and_then(|ShareChange { permission, access_expires_at }| {
            match permission {
                Some(None) => Err(ApiError::field("permission", "must not be null")),
                permission => {
                    Ok(shares::Edit { permission: permission.flatten(), access_expires_at })
                }
            }
        });
    let cmd = shares::Change { share: share(key), edit };
    ok(ctx.write(move |c, actor, now| shares::change(c, actor, cmd, now)).await)
}

/// Revoke a share
///
/// Deletes the user's share; it ends on their next request, and the asset's
/// pending invitations to their email are cancelled. Needs full access (403
/// `full_access_required`); 404 `share_not_found` when the user holds no share on
/// the asset. Writes an audit event.
#[utoipa::path(delete, path = "/api/v1/assets/{asset_id}/shares/{user_id}", operation_id = "revokeShare", tag = "asset invitations", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204, description = "Revoked"), Unauthorized, FullAccessRequired, (status = 404, description = "`asset_not_found` or `share_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_share(ctx: Ctx, key: Path<(Uuid, Uuid)>) -> Reply {
    let share = share(key);
    done(ctx.write(move |c, actor, now| shares::revoke(c, actor, share, now)).await)
}

/// Drop a share I hold
///
/// Gives up my own share on the asset; access I have by other paths stays.
/// Writes an audit event; 404 `share_not_found` when I hold no share on this
/// asset.
#[utoipa::path(delete, path = "/api/v1/me/shares/{asset_id}", operation_id = "dropMyShare", tag = "asset invitations", security(("bearer" = [])), params(("asset_id" = Uuid, Path)),
    responses((status = 204, description = "Dropped"), Unauthorized, (status = 404, description = "`share_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn drop_share(ctx: Ctx, id: Path<Uuid>) -> Reply {
    done(ctx.write(move |c, actor, now| shares::drop_held(c, actor, *id, now)).await)
}

endpoints![list_shares, change_share, revoke_share, drop_share,];
