//! Estate invitations and the token endpoints shared by every invitation
//! (asset invitations join them later): user search, invite, list, resend,
//! cancel; preview, accept, accept-signup, decline; the invitee's list.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use keyholder_domain::estate::{self, EstateActor, GrantRefusal};
use keyholder_domain::invitation::{
    self, InvitationEvent, ResendExpiry, ShareGrant, TransitionRefusal, merge_estate_role,
    merge_share,
};
use keyholder_domain::token::{SecretToken, TokenHash};
use keyholder_domain::values::{DisplayName, Email, Expiry, Message, Password, Username};
use keyholder_domain::{EstateRole, InvitationPermission, InvitationState};
use keyholder_store::DbConnection;
use keyholder_store::audit;
use keyholder_store::audit::Action;
use keyholder_store::estates;
use keyholder_store::invitations::{self, Invitation, NewInvitation, ResourceType};
use keyholder_store::locks;
use keyholder_store::outbox;
use keyholder_store::users::{self, NewUser, Taken, User};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{AuthUser, Caller, require_verified};
use crate::error::{
    ApiError, BadPaging, FieldErrors, MalformedJson, Problem, TooManyFromAddress, Unauthorized,
};
use crate::extract::{OptionalJson, ScopedJson, ValidJson, ValidQuery};
use crate::mail::invitation_templates::{self, Offer};
use crate::ops::accounts::session;
use crate::ops::estates::{EstateAccess, caller_estate};
use crate::ops::event;
use crate::ops::members::member_view;
use crate::passwords;
use crate::state::AppState;
use crate::views::accounts::AuthResponse;
use crate::views::common::{Cursor, CursorPage, CursorQuery, UserSummary, parse_field};
use crate::views::estates::MemberView;
use keyholder_domain::account::SharingAction;

// ---------------------------------------------------------------- views

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inviter {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
}

/// An invitation as its senders see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EstateInvitationView {
    pub id: Uuid,
    pub estate: ResourceRef,
    pub email: String,
    #[schema(schema_with = crate::views::common::estate_role_schema)]
    pub role: String,
    pub message: Option<String>,
    /// The first 80 characters of the message.
    pub message_preview: Option<String>,
    /// `pending`, `accepted`, `declined`, `expired` or `cancelled` (a pending
    /// invitation past its expiry reads as expired).
    #[schema(example = "pending")]
    pub status: String,
    pub invited_by: Inviter,
    pub invited_at: DateTime<Utc>,
    /// Null: never.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_sent_at: DateTime<Utc>,
    pub resend_count: i32,
    pub responded_at: Option<DateTime<Utc>>,
}

/// What an invitation offers, as its invitee sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOffer {
    pub id: Uuid,
    /// `estate` or `asset`.
    #[schema(example = "estate")]
    pub resource_type: &'static str,
    pub resource: ResourceRef,
    /// The invited email.
    pub email: String,
    /// The estate role or asset permission offered.
    #[schema(example = "editor")]
    pub role: String,
    pub message: Option<String>,
    pub invited_by: Inviter,
    pub invited_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(example = "pending")]
    pub status: String,
}

/// The answer to an estate invitation: granted at once to a registered
/// user (201), or a pending invitation emailed to anyone else (202).
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteOutcome {
    /// `granted` or `invited`.
    #[schema(example = "invited")]
    pub outcome: &'static str,
    pub member: Option<MemberView>,
    pub invitation: Option<EstateInvitationView>,
}

/// The result of accepting or declining.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResult {
    /// `accepted` or `declined`.
    #[schema(example = "accepted")]
    pub status: &'static str,
    #[schema(example = "estate")]
    pub resource_type: &'static str,
    pub resource: ResourceRef,
    /// The role or permission I now hold (accepted only).
    pub role: Option<String>,
}

/// The user a search found.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSearchResult {
    pub user: UserSummary,
}

pub(crate) fn preview(text: &Option<String>) -> Option<String> {
    text.as_ref().map(|m| {
        let mut p: String = m.chars().take(80).collect();
        if m.chars().count() > 80 {
            p.push('…');
        }
        p
    })
}

pub(crate) fn inviter(inv: &Invitation) -> Inviter {
    Inviter {
        id: inv.invited_by,
        username: inv.inviter_username.clone(),
        display_name: inv.inviter_display_name.clone(),
    }
}

pub(crate) fn status_of(inv: &Invitation, now: DateTime<Utc>) -> InvitationState {
    invitation::effective_state(inv.status, inv.expires_at, now)
}

fn estate_invitation_view(
    inv: &Invitation,
    estate_name: &str,
    now: DateTime<Utc>,
) -> EstateInvitationView {
    EstateInvitationView {
        id: inv.id,
        estate: ResourceRef {
            id: inv.resource_id,
            name: estate_name.to_owned(),
        },
        email: inv.email.clone(),
        role: inv.role.clone(),
        message: inv.message.clone(),
        message_preview: preview(&inv.message),
        status: status_of(inv, now).as_str().to_owned(),
        invited_by: inviter(inv),
        invited_at: inv.invited_at,
        expires_at: inv.expires_at,
        last_sent_at: inv.last_sent_at,
        resend_count: inv.resend_count,
        responded_at: inv.responded_at,
    }
}

/// The name of the invitation's resource (estate now; assets later).
fn resource_name(c: &mut DbConnection, inv: &Invitation) -> Result<String, ApiError> {
    match inv.resource_type {
        ResourceType::Estate => Ok(estates::get(c, inv.resource_id)?
            .map(|e| e.name)
            .unwrap_or_default()),
        ResourceType::Asset => Ok(keyholder_store::assets::get(c, inv.resource_id)?
            .map(|a| a.name)
            .unwrap_or_default()),
    }
}

fn offer_view(
    c: &mut DbConnection,
    inv: &Invitation,
    now: DateTime<Utc>,
) -> Result<InvitationOffer, ApiError> {
    Ok(InvitationOffer {
        id: inv.id,
        resource_type: inv.resource_type.as_str(),
        resource: ResourceRef {
            id: inv.resource_id,
            name: resource_name(c, inv)?,
        },
        email: inv.email.clone(),
        role: inv.role.clone(),
        message: inv.message.clone(),
        invited_by: inviter(inv),
        invited_at: inv.invited_at,
        expires_at: inv.expires_at,
        status: status_of(inv, now).as_str().to_owned(),
    })
}

pub(crate) fn invalid_token() -> ApiError {
    ApiError::not_found(
        "invitation_not_found",
        "This invitation link is not valid: it may have been replaced by a newer one.",
    )
}

pub(crate) fn transition_refused(r: TransitionRefusal) -> ApiError {
    let mut e = ApiError::refused(r);
    if let Some(state) = r.current_state() {
        e = e.with_extra("invitation_status", json!(state.as_str()));
    }
    e
}

/// `expires_at` in a body: absent, `null`, or a time.
pub(crate) fn double_option<'de, D>(d: D) -> Result<Option<Option<DateTime<Utc>>>, D::Error>
where
    D: Deserializer<'de>,
{
    Option::<DateTime<Utc>>::deserialize(d).map(Some)
}

// ---------------------------------------------------------------- requests

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserSearchQuery {
    /// The whole email address (exact match, any case).
    #[validate(length(max = 254))]
    #[param(max_length = 254)]
    pub email: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"email": "sam@example.com", "role": "editor", "message": "Welcome to the Riverside team"}))]
pub struct InviteRequest {
    #[validate(length(max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    #[schema(schema_with = crate::views::common::estate_role_schema)]
    pub role: String,
    /// Plain text, at most 1,000 characters.
    #[validate(length(max = 4000))]
    #[schema(max_length = 1000)]
    pub message: Option<String>,
    /// When the link stops working (in the future); absent or null: never.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationListQuery {
    /// `pending`, `accepted`, `declined`, `expired` or `cancelled`.
    #[param(value_type = Option<String>)]
    pub status: Option<String>,
    #[validate(range(min = 1, max = 1_000_000))]
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// The `next_cursor` of the previous page: the page after it (`page` is
    /// then ignored).
    #[validate(length(min = 1, max = 512))]
    #[param(min_length = 1, max_length = 512)]
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct ResendRequest {
    /// Absent: keep the current expiry; null: never; a time: in the future.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct InvitationTokenRequest {
    /// The token from the link's `#token=` fragment.
    #[validate(length(max = 512))]
    #[schema(max_length = 512)]
    pub token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"token": "…", "username": "sam", "password": "correct horse battery"}))]
pub struct AcceptSignupRequest {
    #[validate(length(max = 512))]
    #[schema(max_length = 512)]
    pub token: String,
    #[validate(length(max = 32))]
    #[schema(min_length = 3, max_length = 32)]
    pub username: String,
    #[validate(length(max = 1024))]
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub display_name: Option<String>,
}

// ---------------------------------------------------------------- user search

/// Find a registered user by their whole email, to grant them a role.
///
/// Exact, case-insensitive match on verified accounts only; members of the
/// estate are hidden. The same 404 answers "no such user" and "already a
/// member". Open to those who may grant estate roles; rate limited.
#[utoipa::path(
    get, path = "/api/v1/estates/{estate_id}/user-search", tag = "members", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path), UserSearchQuery),
    responses(
        (status = 200, description = "The one match", body = UserSearchResult),
        Unauthorized,
        (status = 403, description = "`insufficient_role`: only owners and admins grant estate roles", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found` (or already a member), or no such estate", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing email", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many searches", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn user_search(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    ValidQuery(q): ValidQuery<UserSearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let limit = state.user_limit.clone();
    let ip = limit.client_ip(&req);
    let found = state
        .db(move |db| {
            db.run(|c| {
                let (user, access) = caller_estate(c, &caller, id)?;
                if !estate::may_invite_members(&access.actor) {
                    return Err(ApiError::refused(GrantRefusal::InsufficientRole));
                }
                limit.check(user.id, ip)?;
                let not_found = || {
                    ApiError::not_found(
                        "user_not_found",
                        "No registered user without access has exactly this email.",
                    )
                };
                let email = Email::parse(&q.email).map_err(|_| not_found())?;
                let Some(found) = users::find_by_email(c, email.as_str())? else {
                    return Err(not_found());
                };
                if !found.email_verified()
                    || found.is_root
                    || estates::member_role(c, id, found.id)?.is_some()
                {
                    return Err(not_found());
                }
                Ok(found)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserSearchResult {
        user: UserSummary {
            id: found.id,
            username: found.username.clone(),
            display_name: found.display_name.clone(),
            email: Some(found.email.clone()),
        },
    }))
}

// ---------------------------------------------------------------- invite

pub(crate) fn check_daily_limit(
    state: &AppState,
    c: &mut DbConnection,
    user: &User,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let limit = i64::from(state.config.invite_daily_limit);
    if limit > 0 && invitations::sent_since(c, user.id, now - Duration::hours(24))? >= limit {
        let mut e = ApiError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "daily_invitation_limit",
            format!(
                "You have sent {limit} invitation emails in the last 24 hours; try again later."
            ),
        );
        e.retry_after = Some(3600);
        return Err(e);
    }
    Ok(())
}

fn send_invitation_email(
    state: &AppState,
    c: &mut DbConnection,
    inv: &Invitation,
    estate_name: &str,
    token: &SecretToken,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let resource = format!("the estate {estate_name}");
    let mail = invitation_templates::invitation(&Offer {
        app_base: state.config.app_base(),
        to: &inv.email,
        inviter: &inv.inviter_display_name,
        resource: &resource,
        role: &inv.role,
        message: inv.message.as_deref(),
        expires_at: inv.expires_at,
        access_expires_at: None,
        token: token.as_str(),
    });
    outbox::enqueue(c, &mail, now)?;
    Ok(())
}

/// Invite someone to the estate by email.
///
/// A verified account gets the role at once (201, no email). Any other email
/// gets a pending invitation and an email with a sign-up link (202).
#[utoipa::path(
    post, path = "/api/v1/estates/{estate_id}/invitations", tag = "invitations", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path)), request_body = InviteRequest,
    responses(
        (status = 201, description = "Granted at once to a registered user", body = InviteOutcome),
        (status = 202, description = "Invited by email", body = InviteOutcome),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`insufficient_role`, `cannot_grant_role` or `owner_transfer_required`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_member` or `invitation_pending`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `self_invitation`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many invitations", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn invite(
    http: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ScopedJson<InviteRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let req = body;
    let st = state.get_ref().clone();
    let ip = st.user_limit.client_ip(&http);
    let (outcome, queued) = state
        .db(move |db| {
            db.write(|c| {
                locks::estate(c, id)?;
                let (user, access) = caller_estate(c, &caller, id)?;
                if !estate::may_invite_members(&access.actor) {
                    return Err(ApiError::refused(GrantRefusal::InsufficientRole));
                }
                require_verified(&user, SharingAction::EstateGrant)?;
                let req = req.after_authorization()?;
                let mut v = FieldErrors::new();
                let email = v.check("email", Email::parse(&req.email));
                let role = match req.role.parse::<EstateRole>() {
                    Ok(r) => Some(r),
                    Err(e) => {
                        v.add("role", e.to_string());
                        None
                    }
                };
                let message = v.check("message", Message::parse_optional(req.message.as_deref()));
                let expires = v.check("expires_at", Expiry::parse_optional(req.expires_at, now));
                let (Some(email), Some(role), Some(message), Some(expires)) =
                    (email, role, message, expires)
                else {
                    return Err(v.into_error());
                };
                estate::check_grant_new_member(&access.actor, role).map_err(ApiError::refused)?;
                let me = Email::parse(&user.email).map_err(|_| ApiError::internal())?;
                invitation::check_invitee(&me, &email).map_err(ApiError::refused)?;
                st.user_limit.check(user.id, ip)?;
                if let Some(existing) =
                    users::find_by_email(c, email.as_str())?.filter(User::email_verified)
                {
                    if estates::member_role(c, id, existing.id)?.is_some() {
                        return Err(ApiError::conflict(
                            "already_member",
                            "This user is already a member of the estate.",
                        ));
                    }
                    estates::add_member(c, id, existing.id, role, now)?;
                    audit::record(
                        c,
                        &event(
                            &user,
                            Action::MemberAdded,
                            "estate",
                            id,
                            None,
                            Some(json!({"user_id": existing.id, "role": role})),
                        ),
                        now,
                    )?;
                    let member = member_view(c, &access, existing.id)?;
                    return Ok((
                        InviteOutcome {
                            outcome: "granted",
                            member: Some(member),
                            invitation: None,
                        },
                        false,
                    ));
                }
                check_daily_limit(&st, c, &user, now)?;
                let token = SecretToken::generate();
                let created = invitations::insert(
                    c,
                    &NewInvitation {
                        resource_type: ResourceType::Estate,
                        resource_id: id,
                        email: email.as_str(),
                        role: role.as_str(),
                        message: message.as_ref().map(Message::as_str),
                        token_hash: token.hash().as_str(),
                        invited_by: user.id,
                        expires_at: expires.as_ref().map(Expiry::at),
                        access_expires_at: None,
                    },
                    now,
                )?;
                let Ok(inv) = created else {
                    return Err(ApiError::conflict(
                        "invitation_pending",
                        "A pending invitation to this email already exists; resend or cancel it.",
                    ));
                };
                send_invitation_email(&st, c, &inv, &access.estate.name, &token, now)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        Action::InvitationCreated,
                        "estate",
                        id,
                        None,
                        Some(
                            json!({"invitation_id": inv.id, "email": inv.email, "role": inv.role}),
                        ),
                    ),
                    now,
                )?;
                let view = estate_invitation_view(&inv, &access.estate.name, now);
                Ok((
                    InviteOutcome {
                        outcome: "invited",
                        member: None,
                        invitation: Some(view),
                    },
                    true,
                ))
            })
        })
        .await?;
    if queued {
        state.mail_queued();
        Ok(HttpResponse::Accepted().json(outcome))
    } else {
        Ok(HttpResponse::Created().json(outcome))
    }
}

/// The estate's invitations, newest first, optionally by status.
#[utoipa::path(
    get, path = "/api/v1/estates/{estate_id}/invitations", tag = "invitations", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path), InvitationListQuery),
    responses(
        (status = 200, description = "Invitations, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<EstateInvitationView>),
        Unauthorized,
        (status = 403, description = "`insufficient_role`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status or bad paging", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_invitations(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    ValidQuery(q): ValidQuery<InvitationListQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let paging = CursorQuery {
        page: q.page,
        per_page: q.per_page,
        cursor: q.cursor.clone(),
    };
    let list = state
        .db(move |db| {
            db.run(|c| {
                let (_, access) = caller_estate(c, &caller, id)?;
                if !estate::may_invite_members(&access.actor) {
                    return Err(ApiError::refused(GrantRefusal::InsufficientRole));
                }
                let status = q
                    .status
                    .as_deref()
                    .map(|s| parse_field::<InvitationState>("status", s))
                    .transpose()?;
                let window = newest_first_window(&paging)?;
                let page = invitations::list_for_resource(
                    c,
                    ResourceType::Estate,
                    id,
                    status,
                    now,
                    &window,
                )?;
                let next = page
                    .items
                    .last()
                    .filter(|_| page.more)
                    .map(|i| Cursor::at(i.invited_at, i.id));
                let items = page
                    .items
                    .iter()
                    .map(|i| estate_invitation_view(i, &access.estate.name, now))
                    .collect::<Vec<_>>();
                Ok::<_, ApiError>(CursorPage::new(items, page.counted, &paging, next))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The window of a newest-first invitation list (422 `cursor` for a cursor
/// that is not one of them).
pub(crate) fn newest_first_window(
    q: &CursorQuery,
) -> Result<keyholder_store::paging::Window<chrono::DateTime<chrono::Utc>>, ApiError> {
    let after = q
        .after()?
        .map(|cursor| Ok::<_, ApiError>((cursor.instant()?, cursor.id)))
        .transpose()?;
    Ok(keyholder_store::paging::Window {
        limit: q.per_page(),
        offset: q.offset(),
        after,
    })
}

/// Loads an invitation of this estate that the caller may manage.
fn managed_invitation(
    c: &mut DbConnection,
    caller: &Caller,
    estate_id: Uuid,
    invitation_id: Uuid,
) -> Result<(User, EstateAccess, Invitation), ApiError> {
    let (user, access) = caller_estate(c, caller, estate_id)?;
    if !estate::may_invite_members(&access.actor) {
        return Err(ApiError::refused(GrantRefusal::InsufficientRole));
    }
    let inv = invitations::get_for_resource(c, ResourceType::Estate, estate_id, invitation_id)?
        .ok_or_else(|| {
            ApiError::not_found("invitation_not_found", "No such invitation in this estate.")
        })?;
    let role: EstateRole = inv.role.parse().map_err(|_| ApiError::internal())?;
    estate::check_grant_new_member(&access.actor, role).map_err(ApiError::refused)?;
    Ok((user, access, inv))
}

/// Resend a pending invitation: a new token (the old link stops working) and
/// a new email; optionally a new expiry.
#[utoipa::path(
    post, path = "/api/v1/estates/{estate_id}/invitations/{invitation_id}/resend", tag = "invitations", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path), ("invitation_id" = Uuid, Path)), request_body(content = ResendRequest, description = "Optional"),
    responses(
        (status = 200, description = "Resent", body = EstateInvitationView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`insufficient_role` or `cannot_grant_role`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate or invitation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`, with `invitation_status`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`expires_at` not in the future", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many invitations", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resend_invitation(
    http: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: OptionalJson<ResendRequest>,
) -> Result<HttpResponse, ApiError> {
    let (estate_id, invitation_id) = path.into_inner();
    let now = state.clock.now();
    let requested = ResendExpiry::from_field(body.0.expires_at);
    let st = state.get_ref().clone();
    let ip = st.user_limit.client_ip(&http);
    let view = state
        .db(move |db| {
            db.write(|c| {
                let (user, access, inv) = managed_invitation(c, &caller, estate_id, invitation_id)?;
                require_verified(&user, SharingAction::EstateGrant)?;
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
                send_invitation_email(&st, c, &inv, &access.estate.name, &token, now)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        Action::InvitationResent,
                        "estate",
                        estate_id,
                        None,
                        Some(json!({"invitation_id": inv.id, "expires_at": inv.expires_at})),
                    ),
                    now,
                )?;
                Ok::<_, ApiError>(estate_invitation_view(&inv, &access.estate.name, now))
            })
        })
        .await?;
    state.mail_queued();
    Ok(HttpResponse::Ok().json(view))
}

/// The 409 for an invitation another request moved first.
pub(crate) fn conflict_now(
    c: &mut DbConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<ApiError, ApiError> {
    let current = invitations::get(c, id)?
        .map(|i| status_of(&i, now))
        .unwrap_or(InvitationState::Cancelled);
    Ok(transition_refused(TransitionRefusal::Final(current)))
}

/// Cancel a pending invitation.
#[utoipa::path(
    post, path = "/api/v1/estates/{estate_id}/invitations/{invitation_id}/cancel", tag = "invitations", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path), ("invitation_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Cancelled", body = EstateInvitationView),
        Unauthorized,
        (status = 403, description = "`insufficient_role` or `cannot_grant_role`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate or invitation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`, with `invitation_status`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (estate_id, invitation_id) = path.into_inner();
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.write(|c| {
                let (user, access, inv) = managed_invitation(c, &caller, estate_id, invitation_id)?;
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
                        "estate",
                        estate_id,
                        Some(json!({"invitation_id": inv.id, "status": "pending"})),
                        Some(json!({"invitation_id": inv.id, "status": "cancelled"})),
                    ),
                    now,
                )?;
                let inv = invitations::get(c, inv.id)?.ok_or_else(ApiError::internal)?;
                Ok::<_, ApiError>(estate_invitation_view(&inv, &access.estate.name, now))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

// ---------------------------------------------------------------- invitee side

pub(crate) fn by_token(c: &mut DbConnection, token: &str) -> Result<Invitation, ApiError> {
    invitations::find_by_token_hash(c, TokenHash::of(token.trim()).as_str())?
        .ok_or_else(invalid_token)
}

/// Locks the estate of an invitation, or the asset's estate and the asset.
fn lock_parents(c: &mut DbConnection, inv: &Invitation) -> Result<(), ApiError> {
    match inv.resource_type {
        ResourceType::Estate => locks::estate(c, inv.resource_id)?,
        ResourceType::Asset => locks::assets_with_estates(c, &[inv.resource_id], &[])?,
    }
    Ok(())
}

/// Acceptance re-checks the sender: an invitation grants only what its
/// inviter may still grant now (an admin removed or demoted since, or a
/// collaborator who lost full access, no longer grants through it).
fn check_inviter_still_may_grant(
    c: &mut DbConnection,
    inv: &Invitation,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let lost = || {
        ApiError::conflict(
            "inviter_cannot_grant",
            "Whoever sent this invitation may no longer grant this access; ask for a new invitation.",
        )
    };
    // An inviter who never proved their inbox grants nothing (invitations
    // such an account sent before sharing required a verified email).
    let Some(inviter) = users::find(c, inv.invited_by)?.filter(User::email_verified) else {
        return Err(lost());
    };
    let may = match inv.resource_type {
        ResourceType::Estate => {
            let offered: EstateRole = inv.role.parse().map_err(|_| ApiError::internal())?;
            let actor = EstateActor {
                user_id: inviter.id,
                is_root: inviter.is_root,
                role: estates::member_role(c, inv.resource_id, inviter.id)?,
            };
            estate::check_grant_new_member(&actor, offered).is_ok()
        }
        ResourceType::Asset => match keyholder_store::assets::get(c, inv.resource_id)? {
            Some(asset) => {
                let row = keyholder_store::assets::access_row(c, &asset, inviter.id)?;
                super::assets::judge(&inviter, &asset, &row, now).is_some_and(|level| {
                    keyholder_domain::asset_can(
                        Some(level),
                        keyholder_domain::AssetCapability::ManageInvitations,
                    )
                })
            }
            None => false,
        },
    };
    if may { Ok(()) } else { Err(lost()) }
}

/// Accepts for `user` inside the caller's transaction: the grant, the state
/// change, the verified email, the audit event and the inviter's email.
pub(crate) fn accept_for(
    c: &mut DbConnection,
    inv: &Invitation,
    user: &User,
    now: DateTime<Utc>,
) -> Result<InvitationResult, ApiError> {
    // Lock what the grant hangs on (the estate, or the asset's estate and
    // then the asset), then read the invitation again: a removal or a
    // cancellation that committed meanwhile is seen.
    lock_parents(c, inv)?;
    let inv = &invitations::get(c, inv.id)?.ok_or_else(invalid_token)?;
    invitation::transition(inv.status, inv.expires_at, InvitationEvent::Accept, now)
        .map_err(transition_refused)?;
    check_inviter_still_may_grant(c, inv, now)?;
    let invited = Email::parse(&inv.email).map_err(|_| ApiError::internal())?;
    let mine = Email::parse(&user.email).map_err(|_| ApiError::internal())?;
    invitation::check_accepting_user(&invited, &mine).map_err(ApiError::refused)?;
    if !invitations::transition(c, inv.id, InvitationState::Accepted, Some(user.id), now)? {
        return Err(conflict_now(c, inv.id, now)?);
    }
    let name = resource_name(c, inv)?;
    let role = match inv.resource_type {
        ResourceType::Estate => {
            let offered: EstateRole = inv.role.parse().map_err(|_| ApiError::internal())?;
            let existing = estates::member_role(c, inv.resource_id, user.id)?;
            let role = merge_estate_role(existing, offered);
            match existing {
                None => estates::add_member(c, inv.resource_id, user.id, role, now)?,
                Some(r) if r != role => estates::set_role(c, inv.resource_id, user.id, role, now)?,
                Some(_) => {}
            }
            if estate::promotion_drops_overrides(role) {
                estates::delete_overrides(c, inv.resource_id, user.id)?;
            }
            role.as_str().to_owned()
        }
        ResourceType::Asset => {
            let offered: InvitationPermission =
                inv.role.parse().map_err(|_| ApiError::internal())?;
            let new = ShareGrant {
                permission: offered,
                access_expires_at: inv.access_expires_at,
            };
            let merged = match keyholder_store::assets::get_share(c, inv.resource_id, user.id)? {
                Some(existing) => merge_share(
                    ShareGrant {
                        permission: existing.permission,
                        access_expires_at: existing.access_expires_at,
                    },
                    new,
                ),
                None => new,
            };
            keyholder_store::assets::put_share(
                c,
                inv.resource_id,
                user.id,
                merged.permission,
                merged.access_expires_at,
                Some(inv.id),
                now,
            )?;
            merged.permission.as_str().to_owned()
        }
    };
    super::accounts::prove_inbox(c, user, now)?;
    audit::record(
        c,
        &event(
            user,
            Action::InvitationAccepted,
            inv.resource_type.as_str(),
            inv.resource_id,
            Some(json!({"invitation_id": inv.id, "status": "pending"})),
            Some(
                json!({"invitation_id": inv.id, "status": "accepted", "user_id": user.id, "role": role}),
            ),
        ),
        now,
    )?;
    notify_inviter(c, inv, &user.display_name, &name, true, now)?;
    Ok(InvitationResult {
        status: "accepted",
        resource_type: inv.resource_type.as_str(),
        resource: ResourceRef {
            id: inv.resource_id,
            name,
        },
        role: Some(role),
    })
}

fn notify_inviter(
    c: &mut DbConnection,
    inv: &Invitation,
    invitee: &str,
    resource: &str,
    accepted: bool,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if let Some(sender) = users::find(c, inv.invited_by)? {
        let what = match inv.resource_type {
            ResourceType::Estate => format!("the estate {resource}"),
            ResourceType::Asset => resource.to_owned(),
        };
        outbox::enqueue(
            c,
            &invitation_templates::responded(&sender.email, invitee, &what, accepted),
            now,
        )?;
    }
    Ok(())
}

pub(crate) fn decline_for(
    c: &mut DbConnection,
    inv: &Invitation,
    actor: Option<&User>,
    now: DateTime<Utc>,
) -> Result<InvitationResult, ApiError> {
    invitation::transition(inv.status, inv.expires_at, InvitationEvent::Decline, now)
        .map_err(transition_refused)?;
    if !invitations::transition(
        c,
        inv.id,
        InvitationState::Declined,
        actor.map(|u| u.id),
        now,
    )? {
        return Err(conflict_now(c, inv.id, now)?);
    }
    let name = resource_name(c, inv)?;
    audit::record(
        c,
        &audit::NewAuditEvent {
            actor_id: actor.map(|u| u.id),
            action: Action::InvitationDeclined,
            target_type: inv.resource_type.as_str(),
            target_id: inv.resource_id.to_string(),
            before: Some(json!({"invitation_id": inv.id, "status": "pending"})),
            after: Some(json!({"invitation_id": inv.id, "status": "declined"})),
        },
        now,
    )?;
    notify_inviter(c, inv, &inv.email, &name, false, now)?;
    Ok(InvitationResult {
        status: "declined",
        resource_type: inv.resource_type.as_str(),
        resource: ResourceRef {
            id: inv.resource_id,
            name,
        },
        role: None,
    })
}

/// What an invitation offers (no sign-in needed; the token is the key).
#[utoipa::path(
    post, path = "/api/v1/invitations/preview", tag = "invitations",
    request_body = InvitationTokenRequest,
    responses(
        (status = 200, description = "The offer, with its current status", body = InvitationOffer),
        MalformedJson,
        (status = 404, description = "`invitation_not_found`: unknown or replaced token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        TooManyFromAddress,
    )
)]
pub async fn preview_invitation(
    state: web::Data<AppState>,
    body: ValidJson<InvitationTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(InvitationTokenRequest { token }) = body;
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.read(|c| {
                let inv = by_token(c, &token)?;
                offer_view(c, &inv, now)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Accept, signed in with the invited email.
#[utoipa::path(
    post, path = "/api/v1/invitations/accept", tag = "invitations", security(("bearer" = [])),
    request_body = InvitationTokenRequest,
    responses(
        (status = 200, description = "Accepted: the access is granted", body = InvitationResult),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`invitation_email_mismatch`: signed in with another email; the invitation stays pending", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`invitation_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`, with `invitation_status`, or `inviter_cannot_grant`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        TooManyFromAddress,
    )
)]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidJson<InvitationTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(InvitationTokenRequest { token }) = body;
    let now = state.clock.now();
    let result = state
        .db(move |db| {
            db.write(|c| {
                let user = caller.user(c)?;
                let inv = by_token(c, &token)?;
                accept_for(c, &inv, &user, now)
            })
        })
        .await?;
    state.mail_queued();
    Ok(HttpResponse::Ok().json(result))
}

/// Create the account for the invited email and accept, in one step.
///
/// The account is verified (the token proves the inbox). 409
/// `email_registered` when the email already has an account: sign in, then
/// accept.
#[utoipa::path(
    post, path = "/api/v1/invitations/accept-signup", tag = "invitations",
    request_body = AcceptSignupRequest,
    responses(
        (status = 201, description = "Account created, invitation accepted, signed in", body = AuthResponse),
        MalformedJson,
        (status = 404, description = "`invitation_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_registered`, `username_taken` or `invitation_not_pending`, or `inviter_cannot_grant`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        TooManyFromAddress,
        (status = 503, description = "`server_busy`: too many passwords being checked at once; retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn accept_signup(
    state: web::Data<AppState>,
    body: ValidJson<AcceptSignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(req) = body;
    let now = state.clock.now();
    // 404 for an unknown token before 422 for the fields.
    let lookup = req.token.clone();
    state
        .db(move |db| db.read(|c| by_token(c, &lookup).map(|_| ())))
        .await?;
    let mut v = FieldErrors::new();
    let username = v.check("username", Username::parse(&req.username));
    let password = v.check("password", Password::parse(&req.password));
    let display = match req.display_name.as_deref() {
        Some(d) => v.check("display_name", DisplayName::parse(d)).map(Some),
        None => Some(None),
    };
    let (Some(username), Some(password), Some(display)) = (username, password, display) else {
        return Err(v.into_error());
    };
    let hash = passwords::hash_limited(&state, password).await?;
    let token = req.token;
    let user = state
        .db(move |db| {
            db.write(|c| {
                let inv = by_token(c, &token)?;
                invitation::transition(inv.status, inv.expires_at, InvitationEvent::Accept, now)
                    .map_err(transition_refused)?;
                let display = display.as_ref().map_or(username.as_str(), DisplayName::as_str);
                if let Some(existing) = users::find_by_email(c, &inv.email)? {
                    if existing.email_verified() {
                        return Err(ApiError::conflict(
                            "email_registered",
                            "An account with this email exists: sign in, then accept the invitation.",
                        ));
                    }
                    // An account nobody ever verified holds this address: the
                    // token proves the inbox, so its holder takes the account
                    // over (new name and password, earlier sessions ended)
                    // and nothing granted before carries over.
                    let user = users::claim_unverified(c, existing.id, username.as_str(), display, &hash, now)?
                        .ok_or_else(|| ApiError::conflict("username_taken", format!("The username {} is taken.", username.as_str())))?;
                    super::accounts::revoke_unverified_grants(c, &existing, now)?;
                    audit::record(c, &event(&user, Action::UserClaimed, "user", user.id, Some(json!({"username": existing.username})), Some(json!({"username": user.username, "via_invitation": inv.id}))), now)?;
                    accept_for(c, &inv, &user, now)?;
                    return Ok(user);
                }
                let new = NewUser {
                    email: &inv.email,
                    username: username.as_str(),
                    display_name: display,
                    password_hash: &hash,
                    is_root: false,
                    email_verified_at: Some(now),
                };
                let user = match users::insert(c, &new, now)? {
                    Ok(u) => u,
                    Err(Taken::Email) => {
                        return Err(ApiError::conflict("email_registered", "An account with this email exists: sign in, then accept."));
                    }
                    Err(Taken::Username) => {
                        return Err(ApiError::conflict("username_taken", format!("The username {} is taken.", username.as_str())));
                    }
                };
                audit::record(c, &event(&user, Action::UserRegistered, "user", user.id, None, Some(json!({"email": user.email, "username": user.username, "via_invitation": inv.id}))), now)?;
                accept_for(c, &inv, &user, now)?;
                Ok::<_, ApiError>(user)
            })
        })
        .await?;
    state.mail_queued();
    Ok(HttpResponse::Created().json(session(&state, &user)?))
}

/// Decline (no sign-in needed; the token is the key).
#[utoipa::path(
    post, path = "/api/v1/invitations/decline", tag = "invitations",
    request_body = InvitationTokenRequest,
    responses(
        (status = 200, description = "Declined", body = InvitationResult),
        MalformedJson,
        (status = 404, description = "`invitation_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`, with `invitation_status`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        TooManyFromAddress,
    )
)]
pub async fn decline_invitation(
    state: web::Data<AppState>,
    body: ValidJson<InvitationTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(InvitationTokenRequest { token }) = body;
    let now = state.clock.now();
    let result = state
        .db(move |db| {
            db.write(|c| {
                let inv = by_token(c, &token)?;
                decline_for(c, &inv, None, now)
            })
        })
        .await?;
    state.mail_queued();
    Ok(HttpResponse::Ok().json(result))
}

fn require_verified_invitee(user: &User) -> Result<(), ApiError> {
    if user.email_verified() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "email_not_verified",
            "Verify your email address first: invitations are shown only to verified addresses.",
        ))
    }
}

/// Pending invitations addressed to my verified email.
#[utoipa::path(
    get, path = "/api/v1/me/invitations", tag = "invitations", security(("bearer" = [])),
    params(CursorQuery),
    responses(
        (status = 200, description = "Pending invitations, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<InvitationOffer>),
        Unauthorized,
        (status = 403, description = "`email_not_verified`", body = Problem, content_type = "application/problem+json"),
        BadPaging,
    )
)]
pub async fn my_invitations(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    ValidQuery(q): ValidQuery<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    require_verified_invitee(&user)?;
    let now = state.clock.now();
    let list = state
        .db(move |db| {
            db.read(|c| {
                let window = newest_first_window(&q)?;
                let page = invitations::pending_for_email_page(c, &user.email, now, &window)?;
                let next = page
                    .items
                    .last()
                    .filter(|_| page.more)
                    .map(|i| Cursor::at(i.invited_at, i.id));
                let items = page
                    .items
                    .iter()
                    .map(|inv| offer_view(c, inv, now))
                    .collect::<Result<Vec<_>, ApiError>>()?;
                Ok::<_, ApiError>(CursorPage::new(items, page.counted, &q, next))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// An invitation addressed to me (404 for any other).
fn my_invitation(c: &mut DbConnection, user: &User, id: Uuid) -> Result<Invitation, ApiError> {
    invitations::get(c, id)?
        .filter(|inv| inv.email == user.email)
        .ok_or_else(|| {
            ApiError::not_found("invitation_not_found", "No such invitation for your email.")
        })
}

/// Accept an invitation to my verified email, without the token.
#[utoipa::path(
    post, path = "/api/v1/me/invitations/{invitation_id}/accept", tag = "invitations", security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Accepted", body = InvitationResult),
        Unauthorized,
        (status = 403, description = "`email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation for my email", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`, or `inviter_cannot_grant`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn accept_mine(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let result = state
        .db(move |db| {
            db.write(|c| {
                let user = caller.user(c)?;
                require_verified_invitee(&user)?;
                let inv = my_invitation(c, &user, id)?;
                accept_for(c, &inv, &user, now)
            })
        })
        .await?;
    state.mail_queued();
    Ok(HttpResponse::Ok().json(result))
}

/// Decline an invitation to my verified email, without the token.
#[utoipa::path(
    post, path = "/api/v1/me/invitations/{invitation_id}/decline", tag = "invitations", security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Declined", body = InvitationResult),
        Unauthorized,
        (status = 403, description = "`email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation for my email", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decline_mine(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let result = state
        .db(move |db| {
            db.write(|c| {
                let user = caller.user(c)?;
                require_verified_invitee(&user)?;
                let inv = my_invitation(c, &user, id)?;
                decline_for(c, &inv, Some(&user), now)
            })
        })
        .await?;
    state.mail_queued();
    Ok(HttpResponse::Ok().json(result))
}

/// Writes `expired` on invitations past their expiry, with an audit event
/// each; run by the background sweeper.
pub fn sweep_expired(db: &keyholder_store::Db, now: DateTime<Utc>) -> Result<usize, ApiError> {
    db.write(|c| {
        let expired = invitations::expire_due(c, now, 500)?;
        for inv in &expired {
            audit::record(
                c,
                &audit::NewAuditEvent {
                    actor_id: None,
                    action: Action::InvitationExpired,
                    target_type: inv.resource_type.as_str(),
                    target_id: inv.resource_id.to_string(),
                    before: Some(json!({"invitation_id": inv.id, "status": "pending"})),
                    after: Some(json!({"invitation_id": inv.id, "status": "expired"})),
                },
                now,
            )?;
        }
        Ok(expired.len())
    })
}

endpoints![
    user_search,
    list_invitations,
    invite,
    resend_invitation,
    cancel_invitation,
    preview_invitation: limited,
    accept_invitation: limited,
    accept_signup: limited,
    decline_invitation: limited,
    my_invitations,
    accept_mine,
    decline_mine,
];
