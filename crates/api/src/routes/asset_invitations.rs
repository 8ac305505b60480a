//! Asset invitations (send, the management table, stats, details, resend,
//! cancel); the shares they leave are in [`super::shares`]. The invitation
//! use cases are in [`crate::ops::invitations`].

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use keyholder_domain::invitation::ResendExpiry;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{
    ApiError, AssetNotFound, FullAccessRequired, InvitationNotFound, InvitationNotPending,
    MalformedJson, Problem, TooManyInvitations, Unauthorized,
};
use crate::extract::double_option;
use crate::extract::{OptionalJson, ScopedJson, ValidJson, ValidQuery};
use crate::ops::invitations::{Fields, Sending, asset};
use crate::views::common::{CursorPage, CursorQuery};
use crate::views::invitations::{AssetInvitationView, StatsView, permission_schema};

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
        AssetNotFound,
        (status = 409, description = "`invitation_pending`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `self_invitation`", body = Problem, content_type = "application/problem+json"),
        TooManyInvitations,
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
        AssetNotFound,
        (status = 409, description = "`invitation_pending`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `self_invitation`", body = Problem, content_type = "application/problem+json"),
        TooManyInvitations,
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
            Fields::new(r.email, r.permission, r.message, r.expires_at, r.access_expires_at)
        }),
        sending: Sending::new(ctx.state(), ctx.user_budget()),
    };
    send(ctx, cmd).await
}

async fn send(ctx: Ctx, cmd: asset::Send) -> Result<HttpResponse, ApiError> {
    let view = ctx.write(move |c, caller, now| asset::send(c, caller, cmd, now)).await?;
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
        FullAccessRequired,
        AssetNotFound,
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
        paging: CursorQuery { page: q.page, per_page: q.per_page, cursor: q.cursor },
        only,
    };
    let page = ctx.read(move |c, caller, now| asset::table(c, caller, query, now)).await?;
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
    let cards = ctx.run(move |c, caller, now| asset::stats(c, caller, q.asset_id, now)).await?;
    Ok(HttpResponse::Ok().json(cards))
}

/// Details of one invitation.
#[utoipa::path(
    get, path = "/api/v1/asset-invitations/{invitation_id}", tag = "asset invitations", security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The invitation", body = AssetInvitationView),
        Unauthorized,
        InvitationNotFound,
    )
)]
pub async fn details(ctx: Ctx, path: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = ctx.read_one(move |c, caller, now| asset::details(c, caller, id, now)).await?;
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
        InvitationNotFound,
        InvitationNotPending,
        (status = 422, description = "`expires_at` not in the future", body = Problem, content_type = "application/problem+json"),
        TooManyInvitations,
    )
)]
pub async fn resend(
    ctx: Ctx,
    path: web::Path<Uuid>,
    body: OptionalJson<ResendBody>,
) -> Result<HttpResponse, ApiError> {
    let requested = ResendExpiry::from_field(body.0.expires_at);
    let cmd = (path.into_inner(), requested, Sending::new(ctx.state(), ctx.user_budget()));
    let row = ctx.write(move |c, caller, now| asset::resend(c, caller, cmd, now)).await?;
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
        InvitationNotFound,
        InvitationNotPending,
    )
)]
pub async fn cancel(ctx: Ctx, path: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = ctx.write(move |c, caller, now| asset::cancel(c, caller, id, now)).await?;
    Ok(HttpResponse::Ok().json(row))
}

endpoints![list, send_invitation, stats, details, resend, cancel, list_for_asset, send_for_asset,];
