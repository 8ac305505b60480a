//! Asset invitations (send, the management table, stats, details, resend,
//! cancel); the shares they leave are in [`super::shares`].

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use keyholder_domain::asset::AssetCapability;
use keyholder_domain::invitation::{self, InvitationEvent, ResendExpiry};
use keyholder_domain::token::SecretToken;
use keyholder_domain::values::{Email, Expiry, Message};
use keyholder_domain::{InvitationPermission, InvitationState};
use keyholder_store::DbConnection;
use keyholder_store::access;
use keyholder_store::assets::Asset;
use keyholder_store::audit;
use keyholder_store::audit::Action;
use keyholder_store::invitations::{
    self, Invitation, NewInvitation, ResourceType, Sort, TableFilter, TableKey,
};
use keyholder_store::locks;
use keyholder_store::outbox;
use keyholder_store::paging::Window;
use keyholder_store::users::User;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::invitations::{
    Inviter, check_daily_limit, conflict_now, double_option, inviter, preview, status_of,
    transition_refused,
};
use crate::auth::{AuthUser, Caller, require_verified};
use crate::error::{ApiError, FieldErrors, MalformedJson, Problem, Unauthorized};
use crate::extract::{OptionalJson, ScopedJson, ValidJson, ValidQuery};
use crate::mail::invitation_templates::{self, Offer};
use crate::ops::access::{asset_access, caller_asset, judge, require};
use crate::ops::assets::event;
use crate::state::AppState;
use crate::views::common::{Cursor, CursorPage, CursorQuery, parse_field, permission_schema};
use keyholder_domain::account::SharingAction;

// ---------------------------------------------------------------- views

#[derive(Debug, Serialize, ToSchema)]
pub struct AssetRef {
    pub id: Uuid,
    pub name: String,
    pub reference: Option<String>,
}

/// A row of the invitation table (and the details).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetInvitationView {
    pub id: Uuid,
    pub asset: AssetRef,
    pub email: String,
    pub message: Option<String>,
    /// The first 80 characters of the message.
    pub message_preview: Option<String>,
    #[schema(schema_with = permission_schema)]
    pub permission: String,
    /// `pending`, `accepted`, `declined`, `expired` or `cancelled`; a pending
    /// invitation past its expiry reads as expired.
    #[schema(example = "pending")]
    pub status: String,
    pub invited_by: Inviter,
    pub invited_at: DateTime<Utc>,
    /// When the link stops working; null: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the granted access ends; null: never.
    pub access_expires_at: Option<DateTime<Utc>>,
    pub last_sent_at: DateTime<Utc>,
    pub resend_count: i32,
    pub responded_at: Option<DateTime<Utc>>,
}

fn view(
    inv: &Invitation,
    name: &str,
    reference: Option<&str>,
    now: DateTime<Utc>,
) -> AssetInvitationView {
    AssetInvitationView {
        id: inv.id,
        asset: AssetRef {
            id: inv.resource_id,
            name: name.to_owned(),
            reference: reference.map(ToOwned::to_owned),
        },
        email: inv.email.clone(),
        message: inv.message.clone(),
        message_preview: preview(&inv.message),
        permission: inv.role.clone(),
        status: status_of(inv, now).as_str().to_owned(),
        invited_by: inviter(inv),
        invited_at: inv.invited_at,
        expires_at: inv.expires_at,
        access_expires_at: inv.access_expires_at,
        last_sent_at: inv.last_sent_at,
        resend_count: inv.resend_count,
        responded_at: inv.responded_at,
    }
}

/// The six stats cards.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    pub total: i64,
    pub pending: i64,
    pub accepted: i64,
    pub declined: i64,
    pub expired: i64,
    pub cancelled: i64,
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

fn parse_sort(raw: Option<&str>) -> Result<Sort, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Sort::InvitedAt { descending: true });
    };
    let (descending, key) = match raw.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, raw),
    };
    match key {
        "invited_at" => Ok(Sort::InvitedAt { descending }),
        "expires_at" => Ok(Sort::ExpiresAt { descending }),
        "email" => Ok(Sort::Email { descending }),
        _ => Err(ApiError::field(
            "sort",
            "must be invited_at, expires_at or email, optionally with a leading -",
        )),
    }
}

// ---------------------------------------------------------------- sending

struct Send {
    email: String,
    permission: String,
    message: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    access_expires_at: Option<DateTime<Utc>>,
}

async fn send(
    http: &HttpRequest,
    state: &web::Data<AppState>,
    caller: Caller,
    asset_id: Uuid,
    req: Result<Send, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let st = state.get_ref().clone();
    let ip = st.user_limit.client_ip(http);
    let row = state
        .db(move |db| {
            db.write(|c| {
                locks::assets_with_estates(c, &[asset_id], &[])?;
                let (user, asset, level) = caller_asset(c, &caller, asset_id, now)?;
                require(level, AssetCapability::ManageInvitations)?;
                require_verified(&user, SharingAction::AssetInvitation)?;
                // Field errors only once the caller may invite here.
                let req = req?;
                let mut v = FieldErrors::new();
                let email = v.check("email", Email::parse(&req.email));
                let permission = match req.permission.parse::<InvitationPermission>() {
                    Ok(p) => Some(p),
                    Err(e) => {
                        v.add("permission", e.to_string());
                        None
                    }
                };
                let message = v.check("message", Message::parse_optional(req.message.as_deref()));
                let expires = v.check("expires_at", Expiry::parse_optional(req.expires_at, now));
                let access = v.check("access_expires_at", Expiry::parse_optional(req.access_expires_at, now));
                let (Some(email), Some(permission), Some(message), Some(expires), Some(access)) =
                    (email, permission, message, expires, access)
                else {
                    return Err(v.into_error());
                };
                let me = Email::parse(&user.email).map_err(|_| ApiError::internal())?;
                invitation::check_invitee(&me, &email).map_err(ApiError::refused)?;
                st.user_limit.check(user.id, ip)?;
                check_daily_limit(&st, c, &user, now)?;
                let token = SecretToken::generate();
                let created = invitations::insert(
                    c,
                    &NewInvitation {
                        resource_type: ResourceType::Asset,
                        resource_id: asset.id,
                        email: email.as_str(),
                        role: permission.as_str(),
                        message: message.as_ref().map(Message::as_str),
                        token_hash: token.hash().as_str(),
                        invited_by: user.id,
                        expires_at: expires.as_ref().map(Expiry::at),
                        access_expires_at: access.as_ref().map(Expiry::at),
                    },
                    now,
                )?;
                let Ok(inv) = created else {
                    return Err(ApiError::conflict(
                        "invitation_pending",
                        "A pending invitation to this email for this asset already exists; resend or cancel it.",
                    ));
                };
                email_invitation(&st, c, &inv, &asset, &token, now)?;
                audit::record(c, &event(&user, Action::InvitationCreated, asset.id, None, Some(json!({"invitation_id": inv.id, "email": inv.email, "permission": inv.role, "expires_at": inv.expires_at, "access_expires_at": inv.access_expires_at}))), now)?;
                Ok::<_, ApiError>(view(&inv, &asset.name, asset.reference.as_deref(), now))
            })
        })
        .await?;
    state.mail_queued();
    Ok(HttpResponse::Created().json(row))
}

fn asset_label(asset: &Asset) -> String {
    match &asset.reference {
        Some(r) => format!("{} ({r})", asset.name),
        None => asset.name.clone(),
    }
}

fn email_invitation(
    state: &AppState,
    c: &mut DbConnection,
    inv: &Invitation,
    asset: &Asset,
    token: &SecretToken,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let label = asset_label(asset);
    let role = format!("{} access", inv.role);
    let mail = invitation_templates::invitation(&Offer {
        app_base: state.config.app_base(),
        to: &inv.email,
        inviter: &inv.inviter_display_name,
        resource: &label,
        role: &role,
        message: inv.message.as_deref(),
        expires_at: inv.expires_at,
        access_expires_at: inv.access_expires_at,
        token: token.as_str(),
    });
    outbox::enqueue(c, &mail, now)?;
    Ok(())
}

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
    http: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidJson<SendRequest>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(r) = body;
    let req = Send {
        email: r.email,
        permission: r.permission,
        message: r.message,
        expires_at: r.expires_at,
        access_expires_at: r.access_expires_at,
    };
    send(&http, &state, caller, r.asset_id, Ok(req)).await
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
    http: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ScopedJson<SendForAssetRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.after_authorization().map(|r| Send {
        email: r.email,
        permission: r.permission,
        message: r.message,
        expires_at: r.expires_at,
        access_expires_at: r.access_expires_at,
    });
    send(&http, &state, caller, path.into_inner(), req).await
}

// ---------------------------------------------------------------- the table

async fn table(
    state: &web::Data<AppState>,
    user: User,
    q: TableQuery,
    asset_only: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let paging = CursorQuery {
        page: q.page,
        per_page: q.per_page,
        cursor: q.cursor.clone(),
    };
    let page = state
        .db(move |db| {
            db.read(|c| {
                if let Some(asset) = asset_only {
                    let (_, level) = asset_access(c, &user, asset, now)?;
                    require(level, AssetCapability::ManageInvitations)?;
                }
                let sort = parse_sort(q.sort.as_deref())?;
                let status = q
                    .status
                    .as_deref()
                    .map(|s| parse_field::<InvitationState>("status", s))
                    .transpose()?;
                let permission = q
                    .permission
                    .as_deref()
                    .map(|p| parse_field::<InvitationPermission>("permission", p))
                    .transpose()?;
                let after = paging
                    .after()?
                    .map(|cursor| Ok::<_, ApiError>((table_key(sort, &cursor)?, cursor.id)))
                    .transpose()?;
                let filter = TableFilter {
                    q: q.q.clone(),
                    status,
                    permission: permission.map(|p| p.as_str().to_owned()),
                    asset_id: asset_only.or(q.asset_id),
                };
                let window = Window {
                    limit: paging.per_page(),
                    offset: paging.offset(),
                    after,
                };
                let page = invitations::asset_table(
                    c,
                    user.id,
                    user.is_root,
                    &filter,
                    sort,
                    now,
                    &window,
                )?;
                let next = page
                    .items
                    .last()
                    .filter(|_| page.more)
                    .map(|r| table_cursor(sort, &r.invitation));
                let items = page
                    .items
                    .iter()
                    .map(|r| {
                        view(
                            &r.invitation,
                            &r.asset_name,
                            r.asset_reference.as_deref(),
                            now,
                        )
                    })
                    .collect::<Vec<_>>();
                Ok::<_, ApiError>(CursorPage::new(items, page.counted, &paging, next))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The cursor after `inv` in the table sorted by `sort`.
fn table_cursor(sort: Sort, inv: &Invitation) -> Cursor {
    match sort.key_of(inv) {
        TableKey::At(t) => Cursor::at(t, inv.id),
        TableKey::Text(s) => Cursor::new(Some(s), inv.id),
        TableKey::Never => Cursor::new(None, inv.id),
    }
}

/// The table position of a cursor under `sort` (422 `cursor` when it is not
/// one of this sort's).
fn table_key(sort: Sort, cursor: &Cursor) -> Result<TableKey, ApiError> {
    let key = match (sort, &cursor.key) {
        (Sort::ExpiresAt { .. }, None) => TableKey::Never,
        (Sort::Email { .. }, _) => TableKey::Text(cursor.text()?.to_owned()),
        _ => TableKey::At(cursor.instant()?),
    };
    Ok(key)
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
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    ValidQuery(q): ValidQuery<TableQuery>,
) -> Result<HttpResponse, ApiError> {
    table(&state, user, q, None).await
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
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    path: web::Path<Uuid>,
    ValidQuery(q): ValidQuery<TableQuery>,
) -> Result<HttpResponse, ApiError> {
    table(&state, user, q, Some(path.into_inner())).await
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
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    ValidQuery(q): ValidQuery<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let s = state
        .db(move |db| {
            db.read(|c| invitations::asset_stats(c, user.id, user.is_root, q.asset_id, now))
        })
        .await?;
    Ok(HttpResponse::Ok().json(StatsView {
        total: s.total,
        pending: s.pending,
        accepted: s.accepted,
        declined: s.declined,
        expired: s.expired,
        cancelled: s.cancelled,
    }))
}

/// The caller and an invitation of an asset they have full access to (404
/// for any other), read with the asset and the caller's facts on it in one
/// statement.
fn managed(
    c: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(User, Invitation, Asset), ApiError> {
    let not_found = || ApiError::not_found("invitation_not_found", "No such invitation.");
    let (user, found) = caller.admit_read(access::asset_invitation(c, caller.id, id)?)?;
    let (inv, on) = found.ok_or_else(not_found)?;
    let (asset, row) = on.ok_or_else(not_found)?;
    let level = judge(&user, &asset, &row, now).ok_or_else(not_found)?;
    if !keyholder_domain::asset::asset_can(Some(level), AssetCapability::ManageInvitations) {
        return Err(not_found());
    }
    Ok((user, inv, asset))
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
pub async fn details(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let row = state
        .read_one(move |c| {
            let (_, inv, asset) = managed(c, &caller, id, now)?;
            Ok::<_, ApiError>(view(&inv, &asset.name, asset.reference.as_deref(), now))
        })
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
    http: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: OptionalJson<ResendBody>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let requested = ResendExpiry::from_field(body.0.expires_at);
    let st = state.get_ref().clone();
    let ip = st.user_limit.client_ip(&http);
    let row = state
        .db(move |db| {
            db.write(|c| {
                let (user, inv, asset) = managed(c, &caller, id, now)?;
                require_verified(&user, SharingAction::AssetInvitation)?;
                invitation::transition(inv.status, inv.expires_at, InvitationEvent::Resend, now)
                    .map_err(transition_refused)?;
                let expires_at = invitation::resend_expiry(inv.expires_at, requested, now)
                    .map_err(|e| ApiError::field("expires_at", e.to_string()))?;
                st.user_limit.check(user.id, ip)?;
                check_daily_limit(&st, c, &user, now)?;
                let token = SecretToken::generate();
                if !invitations::resend(c, inv.id, token.hash().as_str(), expires_at, now)? {
                    return Err(conflict_now(c, inv.id, now)?);
                }
                let inv = invitations::get(c, inv.id)?.ok_or_else(ApiError::internal)?;
                email_invitation(&st, c, &inv, &asset, &token, now)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        Action::InvitationResent,
                        asset.id,
                        None,
                        Some(json!({"invitation_id": inv.id, "expires_at": inv.expires_at})),
                    ),
                    now,
                )?;
                Ok::<_, ApiError>(view(&inv, &asset.name, asset.reference.as_deref(), now))
            })
        })
        .await?;
    state.mail_queued();
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
pub async fn cancel(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let row = state
        .db(move |db| {
            db.write(|c| {
                let (user, inv, asset) = managed(c, &caller, id, now)?;
                invitation::transition(inv.status, inv.expires_at, InvitationEvent::Cancel, now)
                    .map_err(transition_refused)?;
                if !invitations::transition(c, inv.id, InvitationState::Cancelled, None, now)? {
                    return Err(conflict_now(c, inv.id, now)?);
                }
                audit::record(
                    c,
                    &event(
                        &user,
                        Action::InvitationCancelled,
                        asset.id,
                        Some(json!({"invitation_id": inv.id, "status": "pending"})),
                        Some(json!({"invitation_id": inv.id, "status": "cancelled"})),
                    ),
                    now,
                )?;
                let inv = invitations::get(c, inv.id)?.ok_or_else(ApiError::internal)?;
                Ok::<_, ApiError>(view(&inv, &asset.name, asset.reference.as_deref(), now))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(row))
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
];
