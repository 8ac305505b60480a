//! The signed-in user.

use actix_web::{HttpRequest, HttpResponse, web};
use keyholder_domain::values::Password;
use keyholder_store::audit::Action;
use keyholder_store::audit::{self, NewAuditEvent};
use keyholder_store::email_tokens::{self, Purpose};
use keyholder_store::outbox;
use keyholder_store::users;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::accounts::session;
use crate::auth::AuthUser;
use crate::error::{ApiError, BodyTooLarge, MalformedJsonOrType, Problem, Unauthorized};
use crate::extract::ValidJson;
use crate::mail::templates;
use crate::passwords;
use crate::state::AppState;
use crate::views::accounts::{AuthResponse, MeView};

/// The current user.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = MeView),
        (status = 401, description = "Missing, malformed, forged or expired token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn me(AuthUser(user): AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(MeView::from(&user))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ChangePassword {
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub current_password: String,
    /// At least 10 characters.
    #[validate(length(max = 1024))]
    #[schema(min_length = 10, max_length = 1024)]
    pub new_password: String,
}

/// Change my password (with the current one).
///
/// Every other session is signed out; the answer carries a fresh token.
#[utoipa::path(
    put, path = "/api/v1/me/password", tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 200, description = "Changed; a new access token", body = AuthResponse),
        MalformedJsonOrType,
        Unauthorized,
        (status = 403, description = "`wrong_password`: the current password is not correct", body = Problem, content_type = "application/problem+json"),
        BodyTooLarge,
        (status = 422, description = "Invalid new password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many attempts for this account or from this address (see `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`server_busy`: too many passwords being checked at once (see `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    body: ValidJson<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(ChangePassword {
        current_password,
        new_password,
    }) = body;
    // Every attempt counts: a stolen token must not become a fast oracle
    // for the password.
    let limit = &state.password_limit;
    limit.check(user.id, limit.client_ip(&req))?;
    let stored = user.password_hash.clone();
    let ok = passwords::verify_limited(&state, current_password, Some(stored)).await?;
    if !ok {
        return Err(ApiError::forbidden(
            "wrong_password",
            "The current password is not correct.",
        ));
    }
    let new = Password::parse(&new_password)
        .map_err(|e| ApiError::field("new_password", e.to_string()))?;
    let hash = passwords::hash_limited(&state, new).await?;
    let now = state.clock.now();
    let user = state
        .db(move |db| {
            db.write(|c| {
                users::set_password_hash(c, user.id, &hash, now)?;
                email_tokens::revoke_all(c, user.id, Purpose::PasswordReset)?;
                audit::record(
                    c,
                    &NewAuditEvent {
                        actor_id: Some(user.id),
                        action: Action::UserPasswordChanged,
                        target_type: "user",
                        target_id: user.id.to_string(),
                        before: None,
                        after: None,
                    },
                    now,
                )?;
                // Only a proven inbox hears about it: otherwise whoever
                // registered the address could mail it at will.
                if user.email_verified() {
                    outbox::enqueue(
                        c,
                        &templates::password_changed(&user.email, &user.username),
                        now,
                    )?;
                }
                Ok::<_, ApiError>(users::get(c, user.id)?)
            })
        })
        .await?;
    state.mail_queued();
    Ok(HttpResponse::Ok().json(session(&state, &user)?))
}

endpoints![me, change_password,];
