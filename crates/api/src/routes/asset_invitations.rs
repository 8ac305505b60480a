//! Asset invitations (send, the management table, stats, details, resend,
//! cancel) and the shares accepted invitations leave. The invitation use
//! cases are in [`crate::ops::invitations`].

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use keyholder_domain::InvitationPermission;
use keyholder_domain::asset::AssetCapability;
use keyholder_domain::invitation::ResendExpiry;
use keyholder_domain::values::Expiry;
use keyholder_store::audit;
use keyholder_store::audit::Action;
use keyholder_store::locks;
use keyholder_store::shares;
use keyholder_store::users;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::assets::{caller_asset, event, require};
use super::invitations::double_option;
use crate::auth::{AuthUser, Caller};
use crate::ctx::Ctx;
use crate::error::{ApiError, MalformedJson, Problem, Unauthorized};
use crate::extract::{OptionalJson, ScopedJson, ValidJson, ValidQuery};
use crate::ops::invitations::{Fields, Sending, asset};
use crate::state::AppState;
use crate::views::common::person;
use crate::views::common::{CursorPage, CursorQuery, UserSummary, parse_field};
use crate::views::invitations::{AssetInvitationView, StatsView, permission_schema};

// ---------------------------------------------------------------- views

/// A share: an accepted invitation's grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareView {
    pub asset_id: Uuid,
    pub user: UserSummary,
    #[schema(schema_with = permission_schema)]
    pub permission: InvitationPermission,
    /// Null: never.
    pub access_expires_at: Option<DateTime<Utc>>,
    /// Whether it still gives access (false once its access expiry passed).
    pub active: bool,
    pub granted_at: DateTime<Utc>,
    pub invitation_id: Option<Uuid>,
}

fn share_view(s: &shares::Share, now: DateTime<Utc>) -> ShareView {
    ShareView {
        asset_id: s.asset_id,
        user: person(&s.user, true),
        permission: s.permission,
        access_expires_at: s.access_expires_at,
        active: !keyholder_domain::values::is_past(s.access_expires_at, now),
        granted_at: s.granted_at,
        invitation_id: s.invitation_id,
    }
}

// ---------------------------------------------------------------- requests

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"asset_id": "6f1c2d4e-0000-4000-8000-000000000001", "email": "shop@example.com", "permission": "view", "message": "Specs for the brake job"}))]
pub struct SendRequest {
    pub asset_id: Uuid,
    #[validate(length(max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    #[schema(schema_with = permission_schema)]
    pub permission: String,
    /// Plain text, at most 1,000 characters.
    #[validate(length(max = 4000))]
    #[schema(max_length = 1000)]
    pub message: Option<String>,
    /// When the link stops working (in the future); absent or null: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Time-limited access: when the granted access ends (in the future).
    pub access_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct SendForAssetRequest {
    #[validate(length(max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    #[schema(schema_with = permission_schema)]
    pub permission: String,
    #[validate(length(max = 4000))]
    #[schema(max_length = 1000)]
    pub message: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub access_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TableQuery {
    /// Case-insensitive search in the email and the asset's name or reference.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `pending`, `accepted`, `declined`, `expired` or `cancelled`.
    #[param(value_type = Option<String>)]
    pub status: Option<String>,
    /// `view`, `edit` or `manage`.
    #[param(value_type = Option<String>)]
    pub permission: Option<String>,
    pub asset_id: Option<Uuid>,
    /// `invited_at` (default: newest first), `expires_at` or `email`; a
    /// leading `-` sorts descending.
    #[param(value_type = Option<String>)]
    pub sort: Option<String>,
    #[validate(range(min = 1, max = 1_000_000))]
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// The `next_cursor` of the previous page: the page after it, in the
    /// same sort (`page` is then ignored).
    #[validate(length(min = 1, max = 512))]
    #[param(min_length = 1, max_length = 512)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    pub asset_id: Option<Uuid>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct ResendBody {
    /// Absent: keep the current expiry; null: never; a time: in the future.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct ShareChange {
    #[schema(schema_with = permission_schema)]
    pub permission: Option<String>,
    /// Null: never; absent: unchanged.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub access_expires_at: Option<Option<DateTime<Utc>>>,
}

// ---------------------------------------------------------------- invitations

/// Invite someone by email to one asset (full access needed).
#[utoipa::path(
    post, path = "/api/v1/asset-invitations", tag = "asset invitations", security(("bearer" = [])),
    request_body = SendRequest,
    responses(
        (status = 201, description = "Sent", body = AssetInvitationView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`full_access_required`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_pending`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `self_invitation`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many invitations", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn send_invitation(
    ctx: Ctx,
    body: ValidJson<SendRequest>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(r) = body;
    let cmd = asset::Send {
        asset_id: r.asset_id,
        fields: Ok(Fields::new(
            r.email,
            r.permission,
            r.message,
            r.expires_at,
            r.access_expires_at,
        )),
        sending: Sending::new(ctx.state(), ctx.user_budget()),
    };
    send(ctx, cmd).await
}

/// Invite someone by email to this asset (full access needed).
#[utoipa::path(
    post, path = "/api/v1/assets/{asset_id}/invitations", tag = "asset invitations", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)), request_body = SendForAssetRequest,
    responses(
        (status = 201, description = "Sent", body = AssetInvitationView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`full_access_required`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_pending`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `self_invitation`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many invitations", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn send_for_asset(
    ctx: Ctx,
    path: web::Path<Uuid>,
    body: ScopedJson<SendForAssetRequest>,
) -> Result<HttpResponse, ApiError> {
    let cmd = asset::Send {
        asset_id: path.into_inner(),
        fields: body.after_authorization().map(|r| {
            Fields::new(
                r.email,
                r.permission,
                r.message,
                r.expires_at,
                r.access_expires_at,
            )
        }),
        sending: Sending::new(ctx.state(), ctx.user_budget()),
    };
    send(ctx, cmd).await
}

async fn send(ctx: Ctx, cmd: asset::Send) -> Result<HttpResponse, ApiError> {
    let view = ctx
        .write(move |c, caller, now| asset::send(c, caller, cmd, now))
        .await?;
    ctx.state().mail_queued();
    Ok(HttpResponse::Created().json(view))
}

/// The invitations of every asset where I have full access (root: all),
/// with search, filters, sort and pages.
#[utoipa::path(
    get, path = "/api/v1/asset-invitations", tag = "asset invitations", security(("bearer" = [])),
    params(TableQuery),
    responses(
        (status = 200, description = "Invitations; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<AssetInvitationView>),
        Unauthorized,
        (status = 422, description = "Bad filter, sort or paging", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    ctx: Ctx,
    ValidQuery(q): ValidQuery<TableQuery>,
) -> Result<HttpResponse, ApiError> {
    table(ctx, q, None).await
}

/// The same table for one asset (full access needed).
#[utoipa::path(
    get, path = "/api/v1/assets/{asset_id}/invitations", tag = "asset invitations", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), TableQuery),
    responses(
        (status = 200, description = "Invitations of the asset, paged as the table", body = CursorPage<AssetInvitationView>),
        Unauthorized,
        (status = 403, description = "`full_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter, sort or paging", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_for_asset(
    ctx: Ctx,
    path: web::Path<Uuid>,
    ValidQuery(q): ValidQuery<TableQuery>,
) -> Result<HttpResponse, ApiError> {
    table(ctx, q, Some(path.into_inner())).await
}

async fn table(ctx: Ctx, q: TableQuery, only: Option<Uuid>) -> Result<HttpResponse, ApiError> {
    let query = asset::Table {
        q: q.q,
        status: q.status,
        permission: q.permission,
        asset_id: q.asset_id,
        sort: q.sort,
        paging: CursorQuery {
            page: q.page,
            per_page: q.per_page,
            cursor: q.cursor,
        },
        only,
    };
    let page = ctx
        .read(move |c, caller, now| asset::table(c, caller, query, now))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The six stats cards, with the table's visibility, in one query.
#[utoipa::path(
    get, path = "/api/v1/asset-invitations/stats", tag = "asset invitations", security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, description = "Counts by status", body = StatsView),
        Unauthorized,
        (status = 422, description = "Bad asset id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stats(
    ctx: Ctx,
    ValidQuery(q): ValidQuery<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let cards = ctx
        .run(move |c, caller, now| asset::stats(c, caller, q.asset_id, now))
        .await?;
    Ok(HttpResponse::Ok().json(cards))
}

/// Details of one invitation.
#[utoipa::path(
    get, path = "/api/v1/asset-invitations/{invitation_id}", tag = "asset invitations", security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The invitation", body = AssetInvitationView),
        Unauthorized,
        (status = 404, description = "`invitation_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn details(ctx: Ctx, path: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = ctx
        .read_one(move |c, caller, now| asset::details(c, caller, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Resend a pending invitation: new token (the old link dies), new email,
/// optionally a new expiry.
#[utoipa::path(
    post, path = "/api/v1/asset-invitations/{invitation_id}/resend", tag = "asset invitations", security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path)), request_body(content = ResendBody, description = "Optional"),
    responses(
        (status = 200, description = "Resent", body = AssetInvitationView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`email_not_verified`: verify your email first", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`invitation_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`, with `invitation_status`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`expires_at` not in the future", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many invitations", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resend(
    ctx: Ctx,
    path: web::Path<Uuid>,
    body: OptionalJson<ResendBody>,
) -> Result<HttpResponse, ApiError> {
    let requested = ResendExpiry::from_field(body.0.expires_at);
    let cmd = (
        path.into_inner(),
        requested,
        Sending::new(ctx.state(), ctx.user_budget()),
    );
    let row = ctx
        .write(move |c, caller, now| asset::resend(c, caller, cmd, now))
        .await?;
    ctx.state().mail_queued();
    Ok(HttpResponse::Ok().json(row))
}

/// Cancel a pending invitation.
#[utoipa::path(
    post, path = "/api/v1/asset-invitations/{invitation_id}/cancel", tag = "asset invitations", security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Cancelled", body = AssetInvitationView),
        Unauthorized,
        (status = 404, description = "`invitation_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`, with `invitation_status`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel(ctx: Ctx, path: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = ctx
        .write(move |c, caller, now| asset::cancel(c, caller, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(row))
}

// ---------------------------------------------------------------- shares

/// Shares of an asset (full access needed).
#[utoipa::path(
    get, path = "/api/v1/assets/{asset_id}/shares", tag = "asset invitations", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Shares, oldest first", body = Vec<ShareView>),
        Unauthorized,
        (status = 403, description = "`full_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_shares(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let items = state
        .db(move |db| {
            db.run(|c| {
                let (_, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::ManageShares)?;
                Ok::<_, ApiError>(
                    shares::shares(c, id)?
                        .iter()
                        .map(|s| share_view(s, now))
                        .collect::<Vec<_>>(),
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(items))
}

fn share_not_found() -> ApiError {
    ApiError::not_found("share_not_found", "This user holds no share on this asset.")
}

/// Change a share's permission or access expiry (full access needed).
#[utoipa::path(
    patch, path = "/api/v1/assets/{asset_id}/shares/{user_id}", tag = "asset invitations", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = ShareChange,
    responses(
        (status = 200, description = "Changed", body = ShareView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`full_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `share_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid permission, or an access expiry not in the future", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_share(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: ScopedJson<ShareChange>,
) -> Result<HttpResponse, ApiError> {
    let (id, holder) = path.into_inner();
    let req = body;
    let now = state.clock.now();
    let row = state
        .db(move |db| {
            db.write(|c| {
                locks::assets_with_estates(c, &[id], &[])?;
                let (user, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::ManageShares)?;
                let current = shares::get_share(c, id, holder)?.ok_or_else(share_not_found)?;
                let req = req.after_authorization()?;
                let permission = match req.permission.as_deref() {
                    Some(p) => parse_field::<InvitationPermission>("permission", p)?,
                    None => current.permission,
                };
                let until = match req.access_expires_at {
                    None => current.access_expires_at,
                    Some(None) => None,
                    Some(Some(at)) => Some(Expiry::parse(at, now).map_err(|e| ApiError::field("access_expires_at", e.to_string()))?.at()),
                };
                shares::update_share(c, id, holder, permission, until)?;
                audit::record(
                    c,
                    &event(&user, Action::ShareUpdated, id, Some(json!({"user_id": holder, "permission": current.permission, "access_expires_at": current.access_expires_at})), Some(json!({"user_id": holder, "permission": permission, "access_expires_at": until}))),
                    now,
                )?;
                let s = shares::get_share(c, id, holder)?.ok_or_else(share_not_found)?;
                Ok::<_, ApiError>(share_view(&s, now))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Revoke a share (full access needed); it ends on the next request.
#[utoipa::path(
    delete, path = "/api/v1/assets/{asset_id}/shares/{user_id}", tag = "asset invitations", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Revoked"),
        Unauthorized,
        (status = 403, description = "`full_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `share_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_share(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, holder) = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                locks::assets_with_estates(c, &[id], &[])?;
                let (user, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::ManageShares)?;
                let current = shares::get_share(c, id, holder)?.ok_or_else(share_not_found)?;
                shares::delete_share(c, id, holder)?;
                let email = users::get(c, holder)?.email;
                keyholder_store::invitations::cancel_to_email_on_assets(c, &[id], &email)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        Action::ShareRevoked,
                        id,
                        Some(json!({"user_id": holder, "permission": current.permission})),
                        None,
                    ),
                    now,
                )?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
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
pub async fn drop_share(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                let current = shares::get_share(c, id, user.id)?.ok_or_else(share_not_found)?;
                shares::delete_share(c, id, user.id)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        Action::ShareDropped,
                        id,
                        Some(json!({"user_id": user.id, "permission": current.permission})),
                        None,
                    ),
                    now,
                )?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

endpoints![
    list,
    send_invitation,
    stats,
    details,
    resend,
    cancel,
    list_for_asset,
    send_for_asset,
    list_shares,
    change_share,
    revoke_share,
    drop_share,
];
