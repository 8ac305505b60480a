//! Estate invitations and the token endpoints shared by every invitation:
//! user search, invite, list, resend, cancel; preview, accept,
//! accept-signup, decline; the invitee's list. The use cases are in
//! [`crate::ops::invitations`].

use actix_web::HttpRequest;
use actix_web::web::{Data, Path};
use chrono::{DateTime, Utc};
use keyholder_domain::invitation::ResendExpiry;
use keyholder_store::DbConnection;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::error::{
    ApiError, BadPaging, FieldErrors, InsufficientRole, InvalidBody, InvalidFields,
    InvitationExpired, InvitationNotFound, InvitationNotPending, MalformedJson, NoSuchEstate,
    Problem, ServerBusy, TooManyFromAddress, TooManyInvitations, Unauthorized,
};
use crate::extract::{OptionalJson, ScopedJson, ValidJson, ValidQuery, double_option};
use crate::idempotency::Answer as Stored;
use crate::ops::accounts::Profile;
use crate::ops::invitations::{Fields, Sending, estate, respond};
use crate::ops::sessions;
use crate::passwords;
use crate::routes::accounts::new_account_request;
use crate::routes::{IdPair, Reply, client_info, created, listed, mailed, ok};
use crate::state::AppState;
use crate::views::accounts::AuthResponse;
use crate::views::common::{CursorPage, CursorQuery, paged_query};
use crate::views::invitations::{
    EstateInvitationView, InvitationOffer, InvitationResult, InviteOutcome, StatsView,
    UserSearchResult,
};
use crate::views::wire::{EstateRole, InvitationSort, InvitationStatus};
use actix_web::http::StatusCode;

// ---------------------------------------------------------------- requests

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserSearchQuery {
    /// The whole email address (exact match, any case).
    #[validate(length(max = 254))]
    #[param(
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s.\x00-\x1f\x7f-\x9f]+(\.[^@\s.\x00-\x1f\x7f-\x9f]+)+$",
        example = "sam@example.com"
    )]
    pub email: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "sam@example.com", "role": "editor", "message": "Welcome to the Riverside team", "expires_at": "2027-03-15T09:30:00Z"}))]
pub struct InviteRequest {
    #[validate(length(max = 254))]
    #[schema(
        min_length = 3,
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s.\x00-\x1f\x7f-\x9f]+(\.[^@\s.\x00-\x1f\x7f-\x9f]+)+$"
    )]
    pub email: String,
    #[schema(value_type = EstateRole)]
    pub role: String,
    /// Plain text, at most 1,000 characters; line breaks and tabs are the
    /// only control characters allowed.
    #[validate(length(max = 4000))]
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub message: Option<String>,
    /// When the link stops working (in the future); absent or null: never.
    pub expires_at: Option<DateTime<Utc>>,
}

paged_query! {
    pub struct InvitationListQuery {
        /// Case-insensitive text in the invitee's email. Up to 200
        /// characters, no control characters.
        #[validate(length(max = 200))]
        #[param(max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", example = "example.com")]
        pub q: Option<String>,
        /// Only the invitations with this status.
        #[param(value_type = Option<InvitationStatus>)]
        pub status: Option<String>,
        /// Only the invitations offering this estate role.
        #[param(value_type = Option<EstateRole>)]
        pub role: Option<String>,
        /// `invited_at` (default: newest first), `expires_at` or `email`; a
        /// leading `-` sorts descending.
        #[param(value_type = Option<InvitationSort>)]
        pub sort: Option<String>,
    }
    paging {
        page,
        per_page,
        /// The `next_cursor` of the previous page: the page after it, in the
        /// same sort (`page` is then ignored).
        cursor,
    }
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expires_at": "2027-04-01T09:30:00Z"}))]
pub struct ResendRequest {
    /// Absent: keep the current expiry; null: never; a time: in the future.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "kq3N0xVbY7tR2mLc8pWfH1sJd4eZaG6u"}))]
pub struct InvitationTokenRequest {
    /// The token from the link's `#token=` fragment.
    #[validate(length(max = 512))]
    #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub token: String,
}

new_account_request! {
    #[schema(example = json!({"token": "kq3N0xVbY7tR2mLc8pWfH1sJd4eZaG6u", "username": "sam", "password": "correct horse battery", "display_name": "Sam Okafor"}))]
    pub struct AcceptSignupRequest {
        /// The token from the link's `#token=` fragment.
        #[validate(length(max = 512))]
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
        pub token: String,
    }
    account {
        username,
        password,
        display_name,
    }
}

// ---------------------------------------------------------------- handlers

/// The invitation of the estate that the path names.
fn target(key: IdPair) -> estate::Target {
    let (estate_id, invitation_id) = key.into_inner();
    estate::Target { estate_id, invitation_id }
}

/// Find a registered user by email to add to an estate
///
/// Exact, case-insensitive match of the whole email on verified accounts
/// only; members of the estate are hidden. The same 404 `user_not_found`
/// answers "no such user" and "already a member". Open to estate owners,
/// admins and root (403 `insufficient_role`); rate limited (429).
#[utoipa::path(get, path = "/api/v1/estates/{estate_id}/user-search", operation_id = "searchUsersToInvite", tag = "members", security(("bearer" = [])), params(("estate_id" = Uuid, Path), UserSearchQuery),
    responses((status = 200, description = "The one match", body = UserSearchResult), Unauthorized,
        (status = 403, description = "`insufficient_role`: only owners and admins grant estate roles", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found` (or already a member), or no such estate", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing email", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Too many searches", body = Problem, content_type = "application/problem+json")))]
pub async fn user_search(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<UserSearchQuery>) -> Reply {
    let sending = Sending::new(ctx.state(), ctx.user_budget());
    let cmd = estate::UserSearch { estate_id: id.into_inner(), email: q.0.email, sending };
    ok(ctx.run(move |c, caller, _| estate::user_search(c, caller, cmd)).await)
}

/// Invite someone to an estate by email
///
/// A verified account gets the role at once: 201 with `outcome` `granted` and
/// the `member`, and no email. Any other email gets a pending invitation and
/// an email with a sign-up link: 202 with `outcome` `invited` and the
/// `invitation`. Owners may offer any role but owner; admins only editor and
/// viewer (403 `cannot_grant_role`). Needs a verified email; sending is rate
/// limited per user and per day (429).
#[utoipa::path(post, path = "/api/v1/estates/{estate_id}/invitations", operation_id = "inviteToEstate", tag = "invitations", security(("bearer" = [])), params(("estate_id" = Uuid, Path)), request_body = InviteRequest,
    responses((status = 201, description = "Granted at once to a registered user", body = InviteOutcome), (status = 202, description = "Invited by email", body = InviteOutcome), MalformedJson, Unauthorized,
        (status = 403, description = "`insufficient_role`, `cannot_grant_role` or `owner_transfer_required`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"), NoSuchEstate,
        (status = 409, description = "`already_member` or `invitation_pending`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `self_invitation`", body = Problem, content_type = "application/problem+json"), TooManyInvitations))]
pub async fn invite(ctx: Ctx, id: Path<Uuid>, body: ScopedJson<InviteRequest>) -> Reply {
    let fields = body
        .after_authorization()
        .map(|r| Fields::new(r.email, r.role, r.message, r.expires_at, None));
    let estate_id = id.into_inner();
    let cmd =
        estate::Invite { estate_id, fields, sending: Sending::new(ctx.state(), ctx.user_budget()) };
    let answer = ctx.once(move |c, caller, now| {
        let outcome = estate::invite(c, caller, cmd, now)?;
        match &outcome.member {
            Some(m) => {
                let location = format!("/api/v1/estates/{estate_id}/members/{}", m.user.id);
                Stored::created_at(location, outcome)
            }
            None => Stored::of(StatusCode::ACCEPTED, None, &outcome),
        }
    });
    answer.await.inspect(|_| ctx.state().mail_queued())
}

/// List an estate's invitations
///
/// Returns the estate's invitations, newest first by default. Filter by `q`
/// (text in the email, any case), `status` and `role`; `sort` is `invited_at`,
/// `expires_at` or `email`, with a leading `-` for descending. Paged by `page`
/// and `per_page` or by `cursor`; `total` counts what the filters keep, up to
/// 1,000. An invitation past its expiry shows as `expired`. Open to estate
/// owners, admins and root (403 `insufficient_role`).
#[utoipa::path(get, path = "/api/v1/estates/{estate_id}/invitations", operation_id = "listEstateInvitations", tag = "invitations", security(("bearer" = [])), params(("estate_id" = Uuid, Path), InvitationListQuery),
    responses((status = 200, description = "Invitations, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<EstateInvitationView>), Unauthorized, InsufficientRole, NoSuchEstate,
        (status = 422, description = "Unknown status, role or sort, a cursor of another sort, or bad paging", body = Problem, content_type = "application/problem+json")))]
pub async fn list_invitations(
    ctx: Ctx,
    id: Path<Uuid>,
    q: ValidQuery<InvitationListQuery>,
) -> Reply {
    let InvitationListQuery { q, status, role, sort, page, per_page, cursor } = q.0;
    let query = estate::List {
        estate_id: id.into_inner(),
        q,
        status,
        role,
        sort,
        paging: CursorQuery { page, per_page, cursor },
    };
    listed(&ctx, ctx.run(move |c, caller, now| estate::list(c, caller, query, now)).await)
}

/// Stats cards of an estate's invitations
///
/// Exact counts of the estate's invitations by status (a pending invitation past
/// its expiry counts as expired), for the cards above its table. Open to estate
/// owners, admins and root (403 `insufficient_role`).
#[utoipa::path(get, path = "/api/v1/estates/{estate_id}/invitations/stats", operation_id = "getEstateInvitationStats", tag = "invitations", security(("bearer" = [])), params(("estate_id" = Uuid, Path)),
    responses((status = 200, description = "The counts", body = StatsView), Unauthorized, InsufficientRole, NoSuchEstate))]
pub async fn invitation_stats(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let id = id.into_inner();
    ok(ctx.read_one(move |c, caller, now| estate::stats(c, caller, id, now)).await)
}

/// Get an estate invitation
///
/// One invitation of the estate: its email, role, status (a pending invitation
/// past its expiry shows as `expired`), inviter, message and dates. Open to
/// estate owners, admins and root (403 `insufficient_role`); an invitation of
/// another estate answers 404 `invitation_not_found`.
#[utoipa::path(get, path = "/api/v1/estates/{estate_id}/invitations/{invitation_id}", operation_id = "getEstateInvitation", tag = "invitations", security(("bearer" = [])), params(("estate_id" = Uuid, Path), ("invitation_id" = Uuid, Path)),
    responses((status = 200, description = "The invitation", body = EstateInvitationView), Unauthorized, InsufficientRole,
        (status = 404, description = "No such estate, or `invitation_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn get_invitation(ctx: Ctx, key: IdPair) -> Reply {
    let target = target(key);
    ok(ctx.run(move |c, caller, now| estate::details(c, caller, &target, now)).await)
}

/// Resend an estate invitation
///
/// Issues a new token (the old link stops working) and sends a new email; an
/// optional `expires_at` sets a new expiry (absent keeps it, `null` means
/// never). Only a pending invitation that has not expired can be resent (409
/// `invitation_not_pending`). Needs a role that may grant the invited role,
/// and a verified email. Rate limited (429).
#[utoipa::path(post, path = "/api/v1/estates/{estate_id}/invitations/{invitation_id}/resend", operation_id = "resendEstateInvitation", tag = "invitations", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path), ("invitation_id" = Uuid, Path)), request_body(content = ResendRequest, description = "Optional: without a body the expiry stays as it is"),
    responses((status = 200, description = "Resent", body = EstateInvitationView), MalformedJson, Unauthorized,
        (status = 403, description = "`insufficient_role` or `cannot_grant_role`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate or invitation", body = Problem, content_type = "application/problem+json"), InvitationNotPending,
        (status = 422, description = "`expires_at` not in the future", body = Problem, content_type = "application/problem+json"), TooManyInvitations))]
pub async fn resend_invitation(ctx: Ctx, key: IdPair, body: OptionalJson<ResendRequest>) -> Reply {
    let expiry = ResendExpiry::from_field(body.0.expires_at);
    let cmd = (target(key), expiry, Sending::new(ctx.state(), ctx.user_budget()));
    let resent = ctx.write(move |c, caller, now| estate::resend(c, caller, cmd, now)).await;
    ok(mailed(ctx.state(), resent))
}

/// Cancel an estate invitation
///
/// Moves a pending invitation to `cancelled`, so its link stops working, and
/// returns it. Needs a role that may grant the invited role (403). A final
/// invitation answers 409 `invitation_not_pending` with its
/// `invitation_status`. Writes an audit event.
#[utoipa::path(post, path = "/api/v1/estates/{estate_id}/invitations/{invitation_id}/cancel", operation_id = "cancelEstateInvitation", tag = "invitations", security(("bearer" = [])), params(("estate_id" = Uuid, Path), ("invitation_id" = Uuid, Path)),
    responses((status = 200, description = "Cancelled", body = EstateInvitationView), Unauthorized, (status = 403, description = "`insufficient_role` or `cannot_grant_role`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate or invitation", body = Problem, content_type = "application/problem+json"), InvitationNotPending))]
pub async fn cancel_invitation(ctx: Ctx, key: IdPair) -> Reply {
    let target = target(key);
    ok(ctx.write(move |c, caller, now| estate::cancel(c, caller, target, now)).await)
}

/// Preview an invitation by its token
///
/// Returns what an asset or estate invitation offers: the resource, the
/// inviter, the role or permission, the message, the expiry and the current
/// status. No sign-in needed; the token is the key. An unknown or replaced
/// token answers 404 `invitation_not_found`.
#[utoipa::path(post, path = "/api/v1/invitations/preview", operation_id = "previewInvitation", tag = "invitations", request_body = InvitationTokenRequest,
    responses((status = 200, description = "The offer, with its current status", body = InvitationOffer), MalformedJson,
        (status = 404, description = "`invitation_not_found`: unknown or replaced token", body = Problem, content_type = "application/problem+json"), InvalidBody, TooManyFromAddress))]
pub async fn preview_invitation(
    state: Data<AppState>,
    body: ValidJson<InvitationTokenRequest>,
) -> Reply {
    let (token, now) = (body.0.token, state.clock.now());
    ok(state.read(move |c| respond::preview(c, &token, now)).await)
}

/// Accept an invitation by its token
///
/// For a user signed in with the invited email: creates the grant (estate
/// membership or asset share; an existing one keeps the higher level) and
/// marks the invitation `accepted`. The caller's email counts as verified and
/// the inviter gets an email. Another email answers 403
/// `invitation_email_mismatch`; an expired invitation 410
/// `invitation_expired`; an inviter who may no longer grant it 409
/// `inviter_cannot_grant`.
#[utoipa::path(post, path = "/api/v1/invitations/accept", operation_id = "acceptInvitation", tag = "invitations", security(("bearer" = [])), request_body = InvitationTokenRequest,
    responses((status = 200, description = "Accepted: the access is granted", body = InvitationResult), MalformedJson, Unauthorized,
        (status = 403, description = "`invitation_email_mismatch`: signed in with another email; the invitation stays pending", body = Problem, content_type = "application/problem+json"), InvitationNotFound,
        (status = 409, description = "`invitation_not_pending`, with `invitation_status`, or `inviter_cannot_grant`", body = Problem, content_type = "application/problem+json"), InvitationExpired, InvalidBody, TooManyFromAddress))]
pub async fn accept_invitation(ctx: Ctx, body: ValidJson<InvitationTokenRequest>) -> Reply {
    let token = body.0.token;
    let accepted = ctx.write(move |c, caller, now| respond::accept(c, caller, &token, now)).await;
    ok(mailed(ctx.state(), accepted))
}

/// Sign up and accept an invitation
///
/// Creates the account for the invited email and accepts, in one step. The
/// account is verified (the token proves the inbox) and the answer signs it
/// in, like registration. An unverified account that holds the email is
/// claimed: it gets the new username and password. 409 `email_registered`
/// when the email already has a verified account: sign in, then accept; an
/// expired invitation answers 410 `invitation_expired`.
#[utoipa::path(post, path = "/api/v1/invitations/accept-signup", operation_id = "acceptInvitationWithSignUp", tag = "invitations", request_body = AcceptSignupRequest,
    responses((status = 201, description = "Account created, invitation accepted, signed in", body = AuthResponse), MalformedJson, InvitationNotFound,
        (status = 403, description = "`account_disabled`: the address belongs to an unverified account an administrator disabled", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_registered`, `username_taken` or `invitation_not_pending`, or `inviter_cannot_grant`", body = Problem, content_type = "application/problem+json"), InvitationExpired, InvalidFields, TooManyFromAddress, ServerBusy))]
pub async fn accept_signup(
    http: HttpRequest,
    state: Data<AppState>,
    body: ValidJson<AcceptSignupRequest>,
) -> Reply {
    let (req, now) = (body.0, state.clock.now());
    // 404 for an unknown token before 422 for the fields.
    let lookup = req.token.clone();
    state.read(move |c| respond::by_token(c, &lookup).map(|_| ())).await?;
    let mut v = FieldErrors::new();
    let name = req.display_name.as_deref();
    let Some((profile, password)) = Profile::check(&mut v, &req.username, &req.password, name)
    else {
        return Err(v.into_error());
    };
    let password_hash = passwords::hash_limited(&state, password).await?;
    let cmd = respond::Signup { token: req.token, profile, password_hash };
    let (keys, client) = (state.tokens.clone(), client_info(&http, &state));
    let signed_in = state.write(move |c| {
        let user = respond::accept_signup(c, &cmd, now)?;
        sessions::open(c, &keys, &user, &client, now)
    });
    created(mailed(&state, signed_in.await))
}

/// Decline an invitation by its token
///
/// Marks a pending asset or estate invitation `declined` and emails the
/// inviter. No sign-in needed; the token is the key. An expired invitation
/// answers 410 `invitation_expired`, a final one 409
/// `invitation_not_pending`.
#[utoipa::path(post, path = "/api/v1/invitations/decline", operation_id = "declineInvitation", tag = "invitations", request_body = InvitationTokenRequest,
    responses((status = 200, description = "Declined", body = InvitationResult), MalformedJson, InvitationNotFound, InvitationNotPending, InvitationExpired, InvalidBody, TooManyFromAddress))]
pub async fn decline_invitation(
    state: Data<AppState>,
    body: ValidJson<InvitationTokenRequest>,
) -> Reply {
    let (token, now) = (body.0.token, state.clock.now());
    ok(mailed(&state, state.write(move |c| respond::decline(c, &token, now)).await))
}

/// List my pending invitations
///
/// Returns the pending asset and estate invitations addressed to the
/// caller's email, newest first, paged by cursor. Only a verified email sees
/// them (403 `email_not_verified`).
#[utoipa::path(get, path = "/api/v1/me/invitations", operation_id = "listMyInvitations", tag = "invitations", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, description = "Pending invitations, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<InvitationOffer>), Unauthorized,
        (status = 403, description = "`email_not_verified`", body = Problem, content_type = "application/problem+json"), BadPaging))]
pub async fn my_invitations(ctx: Ctx, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.read(move |c, caller, now| respond::mine(c, caller, &q.0, now)).await)
}

/// Accept one of my invitations
///
/// The verified invitee accepts an invitation addressed to their email,
/// without the token: the grant is created (an existing one keeps the higher
/// level) and the inviter gets an email. Needs a verified email (403
/// `email_not_verified`). An invitation to another email answers 404; an
/// expired one 410 `invitation_expired`; an inviter who may no longer grant it
/// 409 `inviter_cannot_grant`.
#[utoipa::path(post, path = "/api/v1/me/invitations/{invitation_id}/accept", operation_id = "acceptMyInvitation", tag = "invitations", security(("bearer" = [])), params(("invitation_id" = Uuid, Path)),
    responses((status = 200, description = "Accepted", body = InvitationResult), Unauthorized, (status = 403, description = "`email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation for my email", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`, or `inviter_cannot_grant`", body = Problem, content_type = "application/problem+json"), InvitationExpired))]
pub async fn accept_mine(ctx: Ctx, id: Path<Uuid>) -> Reply {
    answer_mine(ctx, id, respond::accept_mine).await
}

/// Decline one of my invitations
///
/// The verified invitee declines an invitation addressed to their email,
/// without the token, and the inviter gets an email. An invitation to another
/// email answers 404; an expired one 410 `invitation_expired`; a final one 409
/// `invitation_not_pending`.
#[utoipa::path(post, path = "/api/v1/me/invitations/{invitation_id}/decline", operation_id = "declineMyInvitation", tag = "invitations", security(("bearer" = [])), params(("invitation_id" = Uuid, Path)),
    responses((status = 200, description = "Declined", body = InvitationResult), Unauthorized, (status = 403, description = "`email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation for my email", body = Problem, content_type = "application/problem+json"), (status = 409, description = "`invitation_not_pending`", body = Problem, content_type = "application/problem+json"), InvitationExpired))]
pub async fn decline_mine(ctx: Ctx, id: Path<Uuid>) -> Reply {
    answer_mine(ctx, id, respond::decline_mine).await
}

/// Accepts or declines (`answer`) an invitation to my verified email.
async fn answer_mine(ctx: Ctx, id: Path<Uuid>, answer: Answer) -> Reply {
    let id = id.into_inner();
    let answered = ctx.write(move |c, caller, now| answer(c, caller, id, now)).await;
    ok(mailed(ctx.state(), answered))
}

/// [`respond::accept_mine`] or [`respond::decline_mine`].
type Answer =
    fn(&mut DbConnection, &Caller, Uuid, DateTime<Utc>) -> Result<InvitationResult, ApiError>;

endpoints![
    user_search,
    list_invitations,
    invitation_stats,
    get_invitation,
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
    ; tags:
    ("invitations", "Invitations by email and their tokens"),
];
