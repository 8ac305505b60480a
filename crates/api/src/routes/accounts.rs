//! Registration, login, email verification and password reset.

use actix_web::{HttpResponse, web};
use chrono::Duration;
use keyholder_domain::token::{SecretToken, TokenHash};
use keyholder_domain::values::{self, DisplayName, Email, Password, Username};
use keyholder_store::audit::Action;
use keyholder_store::audit::{self, NewAuditEvent};
use keyholder_store::email_tokens::{self, EmailToken, Purpose};
use keyholder_store::grants;
use keyholder_store::outbox;
use keyholder_store::users::{self, NewUser, Taken, User};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::AuthUser;
use crate::error::{
    ApiError, BodyTooLarge, FieldErrors, MalformedJsonOrType, Problem, TooManyFromAddress,
    Unauthorized,
};
use crate::extract::{CredentialsJson, ValidJson};
use crate::mail::{PASSWORD_RESET_TTL_HOURS, VERIFY_EMAIL_TTL_HOURS, templates};
use crate::passwords;
use crate::state::AppState;
use crate::views::accounts::{AuthResponse, MeView, StatusMessage};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({
    "email": "ada@example.com",
    "username": "ada",
    "password": "correct horse battery",
    "display_name": "Ada Lovelace"
}))]
pub struct RegisterRequest {
    #[validate(length(max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// 3 to 32 letters, digits, `_`, `.` or `-`; unique regardless of case.
    #[validate(length(max = 32))]
    #[schema(min_length = 3, max_length = 32)]
    pub username: String,
    /// At least 10 characters.
    #[validate(length(max = 1024))]
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    /// Defaults to the username.
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"login": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// Email or username.
    #[validate(length(max = 254))]
    #[schema(max_length = 254)]
    pub login: String,
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct TokenRequest {
    /// The token from the emailed link's `#token=` fragment.
    #[validate(length(max = 512))]
    #[schema(max_length = 512)]
    pub token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct PasswordResetRequest {
    #[validate(length(max = 254))]
    #[schema(max_length = 254)]
    pub email: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PasswordResetConfirm {
    #[validate(length(max = 512))]
    #[schema(max_length = 512)]
    pub token: String,
    /// The new password: at least 10 characters.
    #[validate(length(max = 1024))]
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
}

pub(crate) fn session(state: &AppState, user: &User) -> Result<AuthResponse, ApiError> {
    Ok(AuthResponse {
        user: MeView::from(user),
        access_token: state.tokens.issue(user, state.clock.now())?,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_seconds,
    })
}

/// Create an account.
///
/// Emails a verification link. The account can be used at once; only a
/// verified email counts as registered for invitations and user search.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; signed in", body = AuthResponse),
        MalformedJsonOrType,
        (status = 409, description = "`email_taken` or `username_taken`", body = Problem, content_type = "application/problem+json"),
        BodyTooLarge,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        TooManyFromAddress,
        (status = 503, description = "`server_busy`: too many passwords being checked at once; retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register(
    state: web::Data<AppState>,
    body: ValidJson<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut v = FieldErrors::new();
    let email = v.check("email", Email::parse(&body.email));
    let username = v.check("username", Username::parse(&body.username));
    let password = v.check("password", Password::parse(&body.password));
    let display = match body.display_name.as_deref() {
        Some(d) => v.check("display_name", DisplayName::parse(d)).map(Some),
        None => Some(None),
    };
    let (Some(email), Some(username), Some(password), Some(display)) =
        (email, username, password, display)
    else {
        return Err(v.into_error());
    };
    let hash = passwords::hash_limited(&state, password).await?;
    let now = state.clock.now();
    let base = state.config.app_base().to_owned();
    let user = state
        .db(move |db| {
            db.write(|c| {
                let display = display.as_ref().map_or(username.as_str(), DisplayName::as_str);
                let new = NewUser {
                    email: email.as_str(),
                    username: username.as_str(),
                    display_name: display,
                    password_hash: &hash,
                    is_root: false,
                    email_verified_at: None,
                };
                let user = match users::insert(c, &new, now)? {
                    Ok(u) => u,
                    Err(Taken::Email) => {
                        return Err(ApiError::conflict(
                            "email_taken",
                            "An account with this email already exists; sign in or reset the password.",
                        ));
                    }
                    Err(Taken::Username) => {
                        return Err(ApiError::conflict(
                            "username_taken",
                            format!("The username {} is taken.", username.as_str()),
                        ));
                    }
                };
                send_verification(c, &base, &user, now)?;
                audit::record(
                    c,
                    &NewAuditEvent {
                        actor_id: Some(user.id),
                        action: Action::UserRegistered,
                        target_type: "user",
                        target_id: user.id.to_string(),
                        before: None,
                        after: Some(json!({"email": user.email, "username": user.username})),
                    },
                    now,
                )?;
                Ok(user)
            })
        })
        .await?;
    state.mail_queued();
    tracing::info!(user_id = %user.id, "account registered");
    Ok(HttpResponse::Created().json(session(&state, &user)?))
}

/// Queues a verification email with a fresh token (older links stop working).
fn send_verification(
    c: &mut keyholder_store::DbConnection,
    base: &str,
    user: &User,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let token = SecretToken::generate();
    email_tokens::replace(
        c,
        user.id,
        Purpose::VerifyEmail,
        token.hash().as_str(),
        &user.email,
        now + Duration::hours(VERIFY_EMAIL_TTL_HOURS),
        now,
    )?;
    outbox::enqueue(
        c,
        &templates::verify_email(base, &user.email, &user.username, token.as_str()),
        now,
    )?;
    Ok(())
}

/// The inbox is proven (verification link, reset link, or an emailed
/// invitation token): marks the email verified. When that is the account's
/// first verification, every grant it made to others ends as well: the
/// address's real owner must not inherit what a squatter of the address set
/// up. Decided by the conditional update itself, so two proofs at once
/// cannot both (or neither) count as the first.
pub(crate) fn prove_inbox(
    c: &mut keyholder_store::DbConnection,
    user: &User,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let first = users::mark_email_verified(c, user.id, now)?;
    if keyholder_domain::account::first_proof_revokes_earlier_grants(!first) {
        revoke_unverified_grants(c, user, now)?;
    }
    Ok(())
}

/// Ends every grant a never-verified account made to others, with an audit
/// event when there was any.
pub(crate) fn revoke_unverified_grants(
    c: &mut keyholder_store::DbConnection,
    user: &User,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let revoked = grants::revoke_all_granted_by(c, user.id, now)?;
    if revoked.total() > 0 {
        tracing::warn!(user_id = %user.id, revoked = revoked.total(), "first proof of an inbox revoked grants made before it");
        audit::record(
            c,
            &NewAuditEvent {
                actor_id: Some(user.id),
                action: Action::UserUnverifiedGrantsRevoked,
                target_type: "user",
                target_id: user.id.to_string(),
                before: Some(json!({
                    "household_members": revoked.household_members,
                    "pending_invitations": revoked.invitations,
                    "shares": revoked.shares,
                    "collaborators": revoked.collaborators,
                    "estate_members": revoked.estate_members,
                })),
                after: None,
            },
            now,
        )?;
    }
    Ok(())
}

/// How long one account waits between two emailed links of a purpose.
pub const LINK_COOLDOWN_SECONDS: i64 = 120;

/// How many links of one purpose an address receives in 24 hours.
pub const LINKS_PER_DAY: i64 = 5;

/// Seconds left before another link of this purpose may be sent to the
/// user, if any: a cooldown between two links and a daily cap per address.
/// Locks the user's row first, so concurrent requests count each other.
fn link_cooldown(
    c: &mut keyholder_store::DbConnection,
    user: &User,
    purpose: Purpose,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<u64>, ApiError> {
    keyholder_store::locks::users(c, &[user.id])?;
    let kind = match purpose {
        Purpose::VerifyEmail => "verify_email",
        Purpose::PasswordReset => "password_reset",
    };
    let today = outbox::queued_for_since(c, &user.email, &[kind], now - Duration::hours(24))?;
    if today >= LINKS_PER_DAY {
        return Ok(Some(3600));
    }
    Ok(
        email_tokens::last_sent(c, user.id, purpose)?.and_then(|at| {
            let left = LINK_COOLDOWN_SECONDS - (now - at).num_seconds();
            u64::try_from(left).ok().filter(|s| *s > 0)
        }),
    )
}

/// Sign in with email or username.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = AuthResponse),
        MalformedJsonOrType,
        (status = 401, description = "`invalid_credentials`: the same answer whether or not the account exists", body = Problem, content_type = "application/problem+json"),
        BodyTooLarge,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        TooManyFromAddress,
        (status = 503, description = "`server_busy`: too many passwords being checked at once; retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    body: CredentialsJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let CredentialsJson(LoginRequest { login, password }) = body;
    // No email or username holds a control character (and PostgreSQL text
    // cannot hold NUL): the same 401, without a lookup.
    if login.chars().any(|c| values::is_refused_control(c, false)) {
        return Err(invalid_credentials());
    }
    let user = state
        .db(move |db| db.read(|c| users::find_by_login(c, &login)))
        .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = passwords::verify_limited(&state, password, stored).await?;
    match user {
        Some(user) if ok => Ok(HttpResponse::Ok().json(session(&state, &user)?)),
        _ => Err(invalid_credentials()),
    }
}

/// The one answer to any failed sign-in.
fn invalid_credentials() -> ApiError {
    ApiError::unauthorized(
        "invalid_credentials",
        "The login or the password is not correct.",
    )
}

/// Looks up a one-time email token and answers why it cannot be used.
fn usable_token(
    c: &mut keyholder_store::DbConnection,
    purpose: Purpose,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<EmailToken, ApiError> {
    let found = email_tokens::find(c, purpose, TokenHash::of(token.trim()).as_str())?;
    let Some(found) = found else {
        return Err(ApiError::not_found(
            "token_invalid",
            "This link is not valid: it may have been replaced by a newer one.",
        ));
    };
    if found.used_at.is_some() {
        return Err(ApiError::conflict(
            "token_used",
            "This link has already been used.",
        ));
    }
    if found.expires_at <= now {
        return Err(ApiError::gone(
            "token_expired",
            "This link has expired; ask for a new one.",
        ));
    }
    Ok(found)
}

/// Verify an email address with the token from the emailed link.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email", tag = "accounts",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "The email is verified", body = StatusMessage),
        MalformedJsonOrType,
        (status = 404, description = "`token_invalid`: unknown or replaced token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`token_used`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`token_expired`", body = Problem, content_type = "application/problem+json"),
        BodyTooLarge,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        TooManyFromAddress,
    )
)]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: ValidJson<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(TokenRequest { token }) = body;
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                let found = usable_token(c, Purpose::VerifyEmail, &token, now)?;
                let user = users::get(c, found.user_id)?;
                if user.email != found.email {
                    return Err(ApiError::not_found(
                        "token_invalid",
                        "This link was sent to an address the account no longer uses.",
                    ));
                }
                if !email_tokens::consume(c, found.id, now)? {
                    return Err(ApiError::conflict(
                        "token_used",
                        "This link has already been used.",
                    ));
                }
                prove_inbox(c, &user, now)?;
                audit::record(
                    c,
                    &NewAuditEvent {
                        actor_id: Some(user.id),
                        action: Action::UserEmailVerified,
                        target_type: "user",
                        target_id: user.id.to_string(),
                        before: Some(json!({"email_verified": user.email_verified()})),
                        after: Some(json!({"email_verified": true})),
                    },
                    now,
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(StatusMessage {
        status: "verified",
        detail: "Your email address is verified.".into(),
    }))
}

/// Send a new verification link to the signed-in user.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email/resend", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new link is on its way; earlier links stop working", body = StatusMessage),
        Unauthorized,
        (status = 409, description = "`already_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address, or `email_recently_sent`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resend_verification(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
) -> Result<HttpResponse, ApiError> {
    if user.email_verified() {
        return Err(ApiError::conflict(
            "already_verified",
            "Your email address is already verified.",
        ));
    }
    let now = state.clock.now();
    let base = state.config.app_base().to_owned();
    state
        .db(move |db| {
            db.write(|c| {
                // One link per cooldown: whoever holds the session (perhaps
                // someone who registered another person's address) cannot
                // flood that inbox.
                if let Some(wait) = link_cooldown(c, &user, Purpose::VerifyEmail, now)? {
                    let mut err = ApiError::new(
                        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                        "email_recently_sent",
                        format!("A link was sent moments ago; you can ask for another in {wait} seconds."),
                    );
                    err.retry_after = Some(wait);
                    return Err(err);
                }
                send_verification(c, &base, &user, now)
            })
        })
        .await?;
    state.mail_queued();
    Ok(HttpResponse::Accepted().json(StatusMessage {
        status: "sent",
        detail: "A new verification link is on its way.".into(),
    }))
}

/// Ask for a password reset link.
///
/// Always answers 202, whether or not an account has this email.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset", tag = "accounts",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the account exists, a reset link is on its way", body = StatusMessage),
        MalformedJsonOrType,
        BodyTooLarge,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        TooManyFromAddress,
    )
)]
pub async fn password_reset(
    state: web::Data<AppState>,
    body: ValidJson<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let accepted = HttpResponse::Accepted().json(StatusMessage {
        status: "accepted",
        detail: "If an account has this email, a reset link is on its way.".into(),
    });
    let Ok(email) = Email::parse(&body.email) else {
        return Ok(accepted);
    };
    let now = state.clock.now();
    let base = state.config.app_base().to_owned();
    let queued = state
        .db(move |db| {
            db.write(|c| {
                let Some(user) = users::find_by_email(c, email.as_str())? else {
                    return Ok(false);
                };
                // Same answer, but no second email within the cooldown.
                if link_cooldown(c, &user, Purpose::PasswordReset, now)?.is_some() {
                    return Ok(false);
                }
                let token = SecretToken::generate();
                email_tokens::replace(
                    c,
                    user.id,
                    Purpose::PasswordReset,
                    token.hash().as_str(),
                    &user.email,
                    now + Duration::hours(PASSWORD_RESET_TTL_HOURS),
                    now,
                )?;
                outbox::enqueue(
                    c,
                    &templates::password_reset(&base, &user.email, &user.username, token.as_str()),
                    now,
                )?;
                Ok::<_, ApiError>(true)
            })
        })
        .await?;
    if queued {
        state.mail_queued();
    }
    Ok(accepted)
}

/// Set a new password with the token from the reset link.
///
/// The token works once. Every session that began before is signed out, and
/// the email counts as verified (the link proved the inbox).
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset/confirm", tag = "accounts",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "The password is changed"),
        MalformedJsonOrType,
        (status = 404, description = "`token_invalid`: unknown or replaced token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`token_used`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`token_expired`", body = Problem, content_type = "application/problem+json"),
        BodyTooLarge,
        (status = 422, description = "Invalid password", body = Problem, content_type = "application/problem+json"),
        TooManyFromAddress,
        (status = 503, description = "`server_busy`: too many passwords being checked at once; retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    body: ValidJson<PasswordResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(PasswordResetConfirm { token, password }) = body;
    let now = state.clock.now();
    // 404 for an unknown token comes before 422 for a weak password.
    let lookup = token.clone();
    state
        .db(move |db| {
            db.read(|c| {
                let hash = TokenHash::of(lookup.trim());
                match email_tokens::find(c, Purpose::PasswordReset, hash.as_str())? {
                    Some(_) => Ok(()),
                    None => Err(ApiError::not_found(
                        "token_invalid",
                        "This link is not valid: it may have been replaced by a newer one.",
                    )),
                }
            })
        })
        .await?;
    let password =
        Password::parse(&password).map_err(|e| ApiError::field("password", e.to_string()))?;
    let hash = passwords::hash_limited(&state, password).await?;
    state
        .db(move |db| {
            db.write(|c| {
                let found = usable_token(c, Purpose::PasswordReset, &token, now)?;
                if !email_tokens::consume(c, found.id, now)? {
                    return Err(ApiError::conflict(
                        "token_used",
                        "This link has already been used.",
                    ));
                }
                let user = users::get(c, found.user_id)?;
                users::set_password_hash(c, user.id, &hash, now)?;
                email_tokens::revoke_all(c, user.id, Purpose::PasswordReset)?;
                if user.email == found.email {
                    prove_inbox(c, &user, now)?;
                }
                audit::record(
                    c,
                    &NewAuditEvent {
                        actor_id: Some(user.id),
                        action: Action::UserPasswordReset,
                        target_type: "user",
                        target_id: user.id.to_string(),
                        before: None,
                        after: None,
                    },
                    now,
                )?;
                outbox::enqueue(
                    c,
                    &templates::password_changed(&user.email, &user.username),
                    now,
                )?;
                Ok(())
            })
        })
        .await?;
    state.mail_queued();
    Ok(HttpResponse::NoContent().finish())
}

endpoints![
    register: limited,
    login: limited,
    verify_email: limited,
    resend_verification: limited,
    password_reset: limited,
    password_reset_confirm: limited,
];
