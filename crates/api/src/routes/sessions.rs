//! Sessions: refreshing the access token, signing out, and seeing and
//! ending my sessions. The use cases are in [`crate::ops::sessions`].

use actix_web::web::{Data, Path};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{
    BadPaging, BodyTooLarge, InvalidFields, MalformedJsonOrType, Problem, TooManyFromAddress,
    Unauthorized,
};
use crate::extract::{ValidJson, ValidQuery};
use crate::ops::sessions;
use crate::routes::{Reply, done, listed, ok};
use crate::state::AppState;
use crate::views::accounts::{AuthResponse, RevokedSessions, SessionView};
use crate::views::common::{CursorPage, CursorQuery};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "Qm9yZWFsaXMgc2FpbGVkIG5vcnRoIGF0IGRhd24"}))]
pub struct RefreshRequest {
    /// The `refresh_token` of the last sign-in or refresh.
    #[validate(length(max = 512))]
    #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub refresh_token: String,
}

/// Refresh the access token
///
/// Trades the session's refresh token for a new access token and the next
/// refresh token; the one sent stops working. Presenting a refresh token that
/// was already traded ends its whole session (401 `refresh_token_reused`): a
/// copy is in someone else's hands. An unknown token answers 401
/// `refresh_token_invalid`, a session left unrefreshed past its lifetime 401
/// `session_expired`.
#[utoipa::path(post, path = "/api/v1/auth/refresh", operation_id = "refreshSession", tag = "sessions", request_body = RefreshRequest,
    responses((status = 200, description = "New tokens for the same session", body = AuthResponse), MalformedJsonOrType,
        (status = 401, description = "`refresh_token_invalid`, `refresh_token_reused` (the session is ended) or `session_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`", body = Problem, content_type = "application/problem+json"),
        BodyTooLarge, InvalidFields, TooManyFromAddress))]
pub async fn refresh(state: Data<AppState>, body: ValidJson<RefreshRequest>) -> Reply {
    let (token, now, keys) = (body.0.refresh_token, state.clock.now(), state.tokens.clone());
    ok(state.write(move |c| sessions::refresh(c, &keys, &token, now)).await?)
}

/// Sign out
///
/// Ends the session of the token sent: its access token is refused from the
/// next request on, and its refresh token no longer works.
#[utoipa::path(post, path = "/api/v1/auth/logout", operation_id = "logOut", tag = "sessions", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), Unauthorized))]
pub async fn log_out(ctx: Ctx) -> Reply {
    done(ctx.write(sessions::log_out).await)
}

/// List my sessions
///
/// Every sign-in of mine that can still be refreshed, newest first: when it
/// began, when it was last refreshed, when it ends unless refreshed, the
/// client's `User-Agent` and address, and which one is asking (`current`).
#[utoipa::path(get, path = "/api/v1/me/sessions", operation_id = "listMySessions", tag = "sessions", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, description = "My sessions, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<SessionView>), Unauthorized, BadPaging))]
pub async fn list_sessions(ctx: Ctx, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.read(move |c, actor, now| sessions::list(c, actor, &q.0, now)).await)
}

/// End every other session
///
/// Signs out every session of mine except the one asking; their access tokens
/// are refused from their next request on. Writes an audit event.
#[utoipa::path(post, path = "/api/v1/me/sessions/revoke-others", operation_id = "revokeOtherSessions", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, description = "How many sessions ended", body = RevokedSessions), Unauthorized))]
pub async fn revoke_others(ctx: Ctx) -> Reply {
    ok(ctx.write(sessions::revoke_others).await)
}

/// End one of my sessions
///
/// Signs out that session (the current one included): its access token is
/// refused from its next request on. Writes an audit event. 404
/// `session_not_found` for an id that is not one of my sessions.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{session_id}", operation_id = "revokeSession", tag = "sessions", security(("bearer" = [])), params(("session_id" = Uuid, Path)),
    responses((status = 204, description = "Ended"), Unauthorized, (status = 404, description = "`session_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_session(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let id = id.into_inner();
    done(ctx.write(move |c, actor, now| sessions::revoke(c, actor, id, now)).await)
}

endpoints![
    refresh: limited,
    log_out,
    list_sessions,
    revoke_others,
    revoke_session,
    ; tags:
    ("sessions", "Refresh tokens, signing out, and my sessions"),
];
