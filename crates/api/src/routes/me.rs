//! The signed-in user: request shapes, the documented handlers, and their
//! routes. The use cases are in [`crate::ops::me`]; the password check and
//! hash run here, before the transaction.

use crate::problems::ProblemCode;
use actix_web::HttpRequest;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::conditional::tagged;
use crate::ctx::Ctx;
use crate::error::{ApiError, BodyTooLarge, MalformedJsonOrType, Problem, Unauthorized};
use crate::extract::ValidJson;
use crate::ops::accounts::session;
use crate::ops::me;
use crate::passwords;
use crate::routes::accounts::new_password_hash;
use crate::routes::{Reply, mailed, ok};
use crate::views::accounts::{AuthResponse, MeView};

/// Get the current user
///
/// Returns the signed-in user's account, including `email_verified` and
/// `is_root`.
#[utoipa::path(get, path = "/api/v1/me", operation_id = "getMe", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "The signed-in user", body = MeView), (status = 401, description = "Missing, malformed, forged or expired token", body = Problem, content_type = "application/problem+json")))]
pub async fn me(ctx: Ctx) -> Reply {
    tagged(&ctx, ctx.read_one(|c, actor, _| me::me(c, actor)).await)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "staple battery horse"}))]
pub struct ChangePassword {
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub current_password: String,
    /// 10 to 1,024 characters, not all whitespace.
    #[validate(length(max = 1024))]
    #[schema(min_length = 10, max_length = 1024, pattern = r"\S")]
    pub new_password: String,
}

/// Change my password
///
/// Checks the current password and sets the new one. Every other session is
/// signed out; the answer carries a fresh token. A wrong current password
/// answers 403 `wrong_password`; attempts are rate limited (429). A verified
/// email gets a "password changed" email.
#[utoipa::path(put, path = "/api/v1/me/password", operation_id = "changePassword", tag = "accounts", security(("bearer" = [])), request_body = ChangePassword,
    responses((status = 200, description = "Changed; a new access token", body = AuthResponse), MalformedJsonOrType, Unauthorized,
        (status = 403, description = "`wrong_password`: the current password is not correct", body = Problem, content_type = "application/problem+json"), BodyTooLarge,
        (status = 422, description = "Invalid new password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many attempts for this account or from this address (see `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`server_busy`: too many passwords being checked at once (see `Retry-After`)", body = Problem, content_type = "application/problem+json")))]
pub async fn change_password(req: HttpRequest, ctx: Ctx, body: ValidJson<ChangePassword>) -> Reply {
    let ValidJson(ChangePassword { current_password, new_password }) = body;
    let user = ctx.read_one(|c, actor, _| actor.user(c)).await?;
    let state = ctx.state();
    // Every attempt counts: a stolen token must not become a fast oracle
    // for the password.
    let limit = &state.password_limit;
    limit.check(user.id, limit.client_ip(&req))?;
    let stored = user.password_hash.clone();
    if !passwords::verify_limited(state, current_password, Some(stored)).await? {
        return Err(ApiError::forbidden(
            ProblemCode::WrongPassword,
            "The current password is not correct.",
        ));
    }
    let hash = new_password_hash(state, "new_password", &new_password).await?;
    let user = ctx.write(move |c, _, now| me::change_password(c, &user, &hash, now)).await;
    ok(session(state, &mailed(state, user)?))
}

endpoints![me, change_password,];
