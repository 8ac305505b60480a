//! Asset invitations (send, the management table, stats, details, resend,
//! cancel); the shares they leave are in [`super::shares`]. The invitation
//! use cases are in [`crate::ops::invitations`].

use actix_web::web::Path;
use chrono::{DateTime, Utc};
use keyholder_domain::invitation::ResendExpiry;
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::conditional::{ok_tagged, tagged};
use crate::ctx::Ctx;
use crate::error::{
    AssetNotFound, FullAccessRequired, InvitationNotFound, InvitationNotPending, MalformedJson,
    Problem, TooManyInvitations, Unauthorized,
};
use crate::extract::{OptionalJson, ScopedJson, ValidJson, ValidQuery, double_option};
use crate::idempotency::Answer;
use crate::ops::Deferred;
use crate::ops::exports::Limits;
use crate::ops::invitations::bulk::{self, BulkFields};
use crate::ops::invitations::{Fields, Sending, asset};
use crate::routes::{Reply, exported, listed, ok};
use crate::views::common::{CursorPage, CursorQuery, paged_query};
use crate::views::exports::{ExportDocument, ExportQuery};
use crate::views::invitations::{AssetInvitationView, BulkInvitationView, StatsView};
use crate::views::wire::{AssetPermission, InvitationSort, InvitationStatus};

// ---------------------------------------------------------------- requests

/// Declares a request that sends an asset invitation (deriving `Debug`,
/// `Deserialize`, `Validate` and `ToSchema`): its own fields as written,
/// then the invitation's `email`, `permission`, `message`, `expires_at` and
/// `access_expires_at`, each with the doc comment written before its name
/// and the same limits wherever an invitation is sent.
macro_rules! invitation_request {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $($(#[$field_attr:meta])* pub $field:ident: $ty:ty,)*
        }
        invitation {
            email,
            permission,
            $(#[$message_doc:meta])* message,
            $(#[$expires_doc:meta])* expires_at,
            $(#[$access_doc:meta])* access_expires_at,
        }
    ) => {
        #[derive(Debug, Deserialize, Validate, ToSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$attr])*
        pub struct $name {
            $($(#[$field_attr])* pub $field: $ty,)*
            #[validate(length(max = 254))]
            #[schema(min_length = 3, max_length = 254, pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s.\x00-\x1f\x7f-\x9f]+(\.[^@\s.\x00-\x1f\x7f-\x9f]+)+$")]
            pub email: String,
            #[schema(value_type = AssetPermission)]
            pub permission: String,
            $(#[$message_doc])*
            #[validate(length(max = 4000))]
            #[schema(max_length = 1000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
            pub message: Option<String>,
            $(#[$expires_doc])*
            pub expires_at: Option<DateTime<Utc>>,
            $(#[$access_doc])*
            pub access_expires_at: Option<DateTime<Utc>>,
        }
    };
}

invitation_request! {
    #[schema(example = json!({"asset_id": "c41d8e2f-6a7b-4c9d-8e1f-0a2b3c4d5e6f", "email": "shop@example.com", "permission": "view", "message": "Specs for the brake job", "expires_at": "2027-03-15T09:30:00Z", "access_expires_at": "2027-06-30T17:00:00Z"}))]
    pub struct SendRequest {
        pub asset_id: Uuid,
    }
    invitation {
        email,
        permission,
        /// Plain text, at most 1,000 characters; line breaks and tabs are the
        /// only control characters allowed.
        message,
        /// When the link stops working (in the future); absent or null: never.
        expires_at,
        /// Time-limited access: when the granted access ends (in the future).
        access_expires_at,
    }
}

invitation_request! {
    #[schema(example = json!({"email": "shop@example.com", "permission": "edit", "message": "Specs for the brake job", "access_expires_at": "2027-06-30T17:00:00Z"}))]
    pub struct SendForAssetRequest {}
    invitation { email, permission, message, expires_at, access_expires_at, }
}

/// The filters and sort of the invitation table: the same for its pages
/// and its export.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TableQuery {
    /// Case-insensitive search in the email and the asset's name or reference.
    #[validate(length(max = 200))]
    #[param(max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", example = "transit")]
    pub q: Option<String>,
    /// Only the invitations with this status.
    #[param(value_type = Option<InvitationStatus>)]
    pub status: Option<String>,
    /// Only the invitations offering this permission.
    #[param(value_type = Option<AssetPermission>)]
    pub permission: Option<String>,
    pub asset_id: Option<Uuid>,
    /// Only the rows of this bulk invitation (its `batch_id`).
    pub batch_id: Option<Uuid>,
    /// `invited_at` (default: newest first), `expires_at` or `email`; a
    /// leading `-` sorts descending.
    #[param(value_type = Option<InvitationSort>)]
    pub sort: Option<String>,
}

impl From<TableQuery> for asset::Filters {
    fn from(q: TableQuery) -> Self {
        let TableQuery { q, status, permission, asset_id, batch_id, sort } = q;
        Self { q, status, permission, asset_id, batch_id, sort }
    }
}

paged_query! {
    /// The paging of the invitation table.
    pub struct TablePaging {}
    paging {
        page,
        per_page,
        /// The `next_cursor` of the previous page: the page after it, in the
        /// same sort (`page` is then ignored).
        cursor,
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    pub asset_id: Option<Uuid>,
    /// Only the rows of this bulk invitation (its `batch_id`).
    pub batch_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"emails": ["fleet@partner.example", "ops@partner.example"], "asset_ids": ["c41d8e2f-6a7b-4c9d-8e1f-0a2b3c4d5e6f", "0f4a8c2e-6b1d-4e9a-a7c3-5d2e8b0f6a14"], "permission": "view", "message": "Our vans for the season", "expires_at": "2027-03-15T09:30:00Z", "access_expires_at": "2027-06-30T17:00:00Z"}))]
pub struct BulkSendRequest {
    #[schema(schema_with = emails_schema)]
    pub emails: Vec<String>,
    /// 1 to 50 assets, each once; the caller needs full access to every one.
    #[schema(min_items = 1, max_items = 50)]
    pub asset_ids: Vec<Uuid>,
    #[schema(value_type = AssetPermission)]
    pub permission: String,
    /// Plain text, at most 1,000 characters; line breaks and tabs are the
    /// only control characters allowed.
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub message: Option<String>,
    /// When the links stop working (in the future); absent or null: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Time-limited access: when the granted access ends (in the future).
    pub access_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expires_at": "2027-04-01T09:30:00Z"}))]
pub struct ResendBody {
    /// Absent: keep the current expiry; null: never; a time: in the future.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// 1 to 50 email addresses, as a single invitation takes one.
fn emails_schema() -> RefOr<Schema> {
    let email = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(3))
        .max_length(Some(254))
        .pattern(Some(r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s.\x00-\x1f\x7f-\x9f]+(\.[^@\s.\x00-\x1f\x7f-\x9f]+)+$"));
    ArrayBuilder::new()
        .items(email)
        .min_items(Some(1))
        .max_items(Some(50))
        .description(Some(
            "1 to 50 emails, none twice (compared case-insensitively); each gets one email listing every asset.",
        ))
        .into()
}

/// The invitation fields of a body for one asset, kept to be checked after
/// authorization.
fn fields(r: SendForAssetRequest) -> Fields {
    Fields::new(r.email, r.permission, r.message, r.expires_at, r.access_expires_at)
}

// ---------------------------------------------------------------- invitations

/// Invite someone by email to an asset
///
/// Creates a pending invitation to the asset `asset_id`, offering `permission`
/// (`view`, `edit` or `manage`), and emails the invitee a link;
/// `access_expires_at` makes the granted access time-limited, `expires_at` ends
/// the link. Needs full access to the asset and a verified email (403
/// `full_access_required`, `email_not_verified`). One pending invitation per asset
/// and email (409 `invitation_pending`); inviting yourself answers 422
/// `self_invitation`. Rate limited per user and per day (429); writes an audit
/// event.
#[utoipa::path(post, path = "/api/v1/asset-invitations", operation_id = "sendAssetInvitation", tag = "asset invitations", security(("bearer" = [])), request_body = SendRequest,
    responses((status = 201, description = "Sent", body = AssetInvitationView), MalformedJson, Unauthorized, (status = 403, description = "`full_access_required`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"), AssetNotFound,
        (status = 409, description = "`invitation_pending`", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid fields, or `self_invitation`", body = Problem, content_type = "application/problem+json"), TooManyInvitations))]
pub async fn send_invitation(ctx: Ctx, body: ValidJson<SendRequest>) -> Reply {
    let ValidJson(r) = body;
    let fields = Fields::new(r.email, r.permission, r.message, r.expires_at, r.access_expires_at);
    send(ctx, r.asset_id, Ok(fields)).await
}

/// Invite someone by email to this asset
///
/// The same as `sendAssetInvitation`, for the asset in the path: creates a pending
/// invitation offering `permission` and emails the invitee a link. Needs full
/// access to the asset and a verified email (403 `full_access_required`,
/// `email_not_verified`). One pending invitation per asset and email (409
/// `invitation_pending`); inviting yourself answers 422 `self_invitation`; rate
/// limited per user and per day (429).
#[utoipa::path(post, path = "/api/v1/assets/{asset_id}/invitations", operation_id = "sendInvitationForAsset", tag = "asset invitations", security(("bearer" = [])), params(("asset_id" = Uuid, Path)), request_body = SendForAssetRequest,
    responses((status = 201, description = "Sent", body = AssetInvitationView), MalformedJson, Unauthorized, (status = 403, description = "`full_access_required`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"), AssetNotFound,
        (status = 409, description = "`invitation_pending`", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid fields, or `self_invitation`", body = Problem, content_type = "application/problem+json"), TooManyInvitations))]
pub async fn send_for_asset(
    ctx: Ctx,
    id: Path<Uuid>,
    body: ScopedJson<SendForAssetRequest>,
) -> Reply {
    send(ctx, id.into_inner(), body.after_authorization().map(fields)).await
}

/// Sends an invitation to the asset and lets the mailer know: 201.
async fn send(ctx: Ctx, asset_id: Uuid, fields: Deferred<Fields>) -> Reply {
    let cmd =
        asset::Send { asset_id, fields, sending: Sending::new(ctx.state(), ctx.user_budget()) };
    let sent =
        ctx.once(move |c, caller, now| asset::send(c, caller, cmd, now).and_then(Answer::created));
    sent.await.inspect(|_| ctx.state().mail_queued())
}

/// Invite several emails to several assets at once
///
/// Creates one pending invitation for every email in `emails` on every asset
/// in `asset_ids` (up to 50 of each), all offering `permission` with the same
/// `message`, `expires_at` and `access_expires_at`, in one step: all of them
/// or none. Each recipient gets one email listing every asset, with one link
/// whose token accepts or declines all of their invitations still pending.
/// The rows share a `batch_id`: `listAssetInvitations?batch_id=` shows them,
/// and each can be resent (the recipient's whole email, with a new link) or
/// cancelled on its own. Needs full access to every asset (404
/// `assets_not_found`, 403 `full_access_required`, naming them) and a verified
/// email; 422 for a repeated email or asset, or the sender's own email
/// (`self_invitation`); 409 `invitation_pending` naming in `pairs` each email
/// and asset that already have a pending invitation. The per-minute and daily
/// limits count one per recipient (429, nothing sent). Writes an
/// `invitation.created` audit event per row.
#[utoipa::path(post, path = "/api/v1/asset-invitations/bulk", operation_id = "sendAssetInvitationsInBulk", tag = "asset invitations", security(("bearer" = [])), request_body = BulkSendRequest,
    responses((status = 201, description = "Sent: the batch and every invitation it created", body = BulkInvitationView), MalformedJson, Unauthorized,
        (status = 403, description = "`full_access_required`, with `asset_ids`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`assets_not_found`, with `asset_ids`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_pending`, with `pairs`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (a repeated email or asset, more than 50), or `self_invitation`", body = Problem, content_type = "application/problem+json"), TooManyInvitations))]
pub async fn send_bulk(ctx: Ctx, body: ScopedJson<BulkSendRequest>) -> Reply {
    let fields = body.after_authorization().map(|r| BulkFields {
        emails: r.emails,
        asset_ids: r.asset_ids,
        permission: r.permission,
        message: r.message,
        expires_at: r.expires_at,
        access_expires_at: r.access_expires_at,
    });
    let cmd = bulk::SendBulk { fields, sending: Sending::new(ctx.state(), ctx.user_budget()) };
    let sent =
        ctx.once(move |c, caller, now| bulk::send(c, caller, cmd, now).and_then(Answer::created));
    sent.await.inspect(|_| ctx.state().mail_queued())
}

/// List the invitations of the assets I manage
///
/// The invitations of every asset where I have full access (root: all), newest
/// first by default. Filter by `q` (email, asset name or reference,
/// case-insensitive), `status`, `permission` and `asset_id`; `sort` is
/// `invited_at`, `expires_at` or `email`, with a leading `-` for descending. Paged
/// by `page` and `per_page` or by `cursor` (the previous page's `next_cursor`);
/// `total` counts up to 1,000. A pending invitation past its expiry reads, and
/// filters, as `expired`. `batch_id` keeps the rows of one bulk invitation.
#[utoipa::path(get, path = "/api/v1/asset-invitations", operation_id = "listAssetInvitations", tag = "asset invitations", security(("bearer" = [])), params(TableQuery, TablePaging),
    responses((status = 200, description = "Invitations; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<AssetInvitationView>), Unauthorized,
        (status = 422, description = "Bad filter, sort or paging", body = Problem, content_type = "application/problem+json")))]
pub async fn list(ctx: Ctx, q: ValidQuery<TableQuery>, paging: ValidQuery<TablePaging>) -> Reply {
    table(ctx, q.0, paging.0, None).await
}

/// List the invitations of one asset
///
/// The same table as `listAssetInvitations`, with the same filters, sort and
/// paging, for the asset in the path. Needs full access to the asset (403
/// `full_access_required`); an asset out of my reach answers 404
/// `asset_not_found`.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/invitations", operation_id = "listInvitationsForAsset", tag = "asset invitations", security(("bearer" = [])), params(("asset_id" = Uuid, Path), TableQuery, TablePaging),
    responses((status = 200, description = "Invitations of the asset, paged as the table", body = CursorPage<AssetInvitationView>), Unauthorized, FullAccessRequired, AssetNotFound,
        (status = 422, description = "Bad filter, sort or paging", body = Problem, content_type = "application/problem+json")))]
pub async fn list_for_asset(
    ctx: Ctx,
    id: Path<Uuid>,
    q: ValidQuery<TableQuery>,
    paging: ValidQuery<TablePaging>,
) -> Reply {
    table(ctx, q.0, paging.0, Some(id.into_inner())).await
}

/// The invitation table, of one asset (`only`) or of every asset I manage.
async fn table(ctx: Ctx, q: TableQuery, paging: TablePaging, only: Option<Uuid>) -> Reply {
    let TablePaging { page, per_page, cursor } = paging;
    let paging = CursorQuery { page, per_page, cursor };
    let query = asset::Table { filters: q.into(), paging, only };
    listed(&ctx, ctx.read(move |c, caller, now| asset::table(c, caller, query, now)).await)
}

/// Export the invitations of the assets I manage
///
/// The whole invitation table as one attachment: every invitation
/// `listAssetInvitations` shows me with the same filters (`q`, `status`,
/// `permission`, `asset_id`) and `sort`, not paged: invitations of every asset
/// where I have full access (root: all). `format=csv` (the default) answers a
/// CSV table (`text/csv`, UTF-8, a header row, the asset and the inviter
/// flattened to `asset_*` and `invited_by_*` columns, times in RFC 3339 UTC, a
/// cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return prefixed
/// with `'`); `format=json` answers the table's items as the list shows them,
/// with their `count`. Read in one snapshot; more than 50,000 invitations
/// answers 422 `export_too_large`: narrow the filters.
#[utoipa::path(get, path = "/api/v1/asset-invitations/export", operation_id = "exportAssetInvitations", tag = "asset invitations", security(("bearer" = [])), params(TableQuery, ExportQuery),
    responses((status = 200, description = "The filtered table, as an attachment (`Content-Disposition`: `asset-invitations-YYYY-MM-DD.csv` or `.json`)",
        content((String = "text/csv"), (ExportDocument<AssetInvitationView> = "application/json")),
        headers(("Content-Disposition" = String, description = "`attachment; filename=\"asset-invitations-2026-03-01.csv\"` (`.json` for JSON)"))), Unauthorized,
        (status = 422, description = "Bad filter, sort or format, or `export_too_large`", body = Problem, content_type = "application/problem+json")))]
pub async fn export(ctx: Ctx, q: ValidQuery<TableQuery>, format: ValidQuery<ExportQuery>) -> Reply {
    let format = format.0.format()?;
    let (filters, limits) = (q.0.into(), Limits::of(&ctx.state().config));
    let items = ctx.snapshot(move |c, caller, now| asset::export(c, caller, filters, limits, now));
    exported(&ctx, format, "asset-invitations", items.await)
}

/// Count asset invitations by status
///
/// The six stats cards (`total`, `pending`, `accepted`, `declined`, `expired`,
/// `cancelled`) over the invitations the table shows me: those of every asset
/// where I have full access (root: all). `asset_id` counts one asset, as its own
/// table does: an asset out of my reach answers 404 `asset_not_found`, one I see
/// without full access 403 `full_access_required`. `batch_id` counts the rows of
/// one bulk invitation (those of assets where I have full access). A pending
/// invitation past its expiry counts as `expired`.
#[utoipa::path(get, path = "/api/v1/asset-invitations/stats", operation_id = "getAssetInvitationStats", tag = "asset invitations", security(("bearer" = [])), params(StatsQuery),
    responses((status = 200, description = "Counts by status", body = StatsView), Unauthorized, FullAccessRequired, AssetNotFound, (status = 422, description = "Bad asset id", body = Problem, content_type = "application/problem+json")))]
pub async fn stats(ctx: Ctx, q: ValidQuery<StatsQuery>) -> Reply {
    let scope = (q.0.asset_id, q.0.batch_id);
    ok(ctx.run(move |c, caller, now| asset::stats(c, caller, scope, now)).await)
}

/// Read an asset invitation
///
/// One invitation with its asset, inviter, status and dates. Only for
/// invitations of assets where I have full access (root: all); any other answers
/// 404 `invitation_not_found`.
#[utoipa::path(get, path = "/api/v1/asset-invitations/{invitation_id}", operation_id = "getAssetInvitation", tag = "asset invitations", security(("bearer" = [])), params(("invitation_id" = Uuid, Path)),
    responses((status = 200, description = "The invitation", body = AssetInvitationView), Unauthorized, InvitationNotFound))]
pub async fn details(ctx: Ctx, id: Path<Uuid>) -> Reply {
    tagged(&ctx, ctx.read_one(move |c, caller, now| asset::details(c, caller, *id, now)).await)
}

/// Resend a pending asset invitation
///
/// Sends a new email with a new token (the old link stops working) and, when
/// `expires_at` is given, a new expiry: absent keeps the current one, `null`
/// means never, a time must be in the future (422). A row of a bulk
/// invitation resends the recipient's one email: every row of the batch still
/// pending for that email gets the new link and expiry (one email for the
/// limits), which needs full access to all of their assets (403
/// `full_access_required`). Needs full access to the
/// asset (404 `invitation_not_found` otherwise) and a verified email (403
/// `email_not_verified`). An invitation that is no longer pending, including one
/// past its expiry, answers 409 `invitation_not_pending` with
/// `invitation_status`; rate limited per user and per day (429).
#[utoipa::path(post, path = "/api/v1/asset-invitations/{invitation_id}/resend", operation_id = "resendAssetInvitation", tag = "asset invitations", security(("bearer" = [])), params(("invitation_id" = Uuid, Path)), request_body(content = ResendBody, description = "Optional: without a body the expiry stays as it is"),
    responses((status = 200, description = "Resent", body = AssetInvitationView), MalformedJson, Unauthorized, (status = 403, description = "`email_not_verified`: verify your email first, or `full_access_required`: a bulk invitation's link also opens assets I do not manage", body = Problem, content_type = "application/problem+json"), InvitationNotFound, InvitationNotPending,
        (status = 422, description = "`expires_at` not in the future", body = Problem, content_type = "application/problem+json"), TooManyInvitations))]
pub async fn resend(ctx: Ctx, id: Path<Uuid>, body: OptionalJson<ResendBody>) -> Reply {
    let requested = ResendExpiry::from_field(body.0.expires_at);
    let cmd = (id.into_inner(), requested, Sending::new(ctx.state(), ctx.user_budget()));
    let id = cmd.0;
    let current = move |c: &mut _, caller: &_, now| asset::details_locked(c, caller, id, now);
    let resent =
        ctx.write_if_match(current, move |c, caller, now| asset::resend(c, caller, cmd, now)).await;
    ok_tagged(resent.inspect(|_| ctx.state().mail_queued()))
}

/// Cancel a pending asset invitation
///
/// Moves the invitation to `cancelled`, so its link stops working, and returns it;
/// writes an audit event. A row of a bulk invitation is cancelled alone: the
/// recipient's link still answers their other rows, not this one. Needs full access to the asset (404
/// `invitation_not_found` otherwise). An invitation that is no longer pending,
/// including one past its expiry, answers 409 `invitation_not_pending` with
/// `invitation_status`.
#[utoipa::path(post, path = "/api/v1/asset-invitations/{invitation_id}/cancel", operation_id = "cancelAssetInvitation", tag = "asset invitations", security(("bearer" = [])), params(("invitation_id" = Uuid, Path)),
    responses((status = 200, description = "Cancelled", body = AssetInvitationView), Unauthorized, InvitationNotFound, InvitationNotPending))]
pub async fn cancel(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let id = id.into_inner();
    let current = move |c: &mut _, caller: &_, now| asset::details_locked(c, caller, id, now);
    ok_tagged(
        ctx.write_if_match(current, move |c, caller, now| asset::cancel(c, caller, id, now)).await,
    )
}

endpoints![list, send_invitation, send_bulk, stats, export, details, resend, cancel, list_for_asset, send_for_asset,
    ; tags:
    ("asset invitations", "Invitations by email to one asset, the management table, and shares"),
];
