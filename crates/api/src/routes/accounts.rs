//! Registration, sign-in, email verification and password reset: request
//! shapes, the documented handlers, and their routes. The use cases are in
//! [`crate::ops::accounts`]; password hashes are computed here, before the
//! transaction.

use actix_web::HttpRequest;
use actix_web::web::Data;
use keyholder_domain::values::{Email, Password};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{
    ApiError, BodyTooLarge, InvalidFields, MalformedJsonOrType, Problem, ServerBusy,
    TooManyFromAddress, Unauthorized,
};
use crate::extract::{CredentialsJson, ValidJson};
use crate::ops::sessions;
use crate::ops::{accounts, email_change};
use crate::passwords;
use crate::routes::{Reply, accepted, client_info, created, done, mailed, ok};
use crate::state::AppState;
use crate::views::accounts::{AuthResponse, StatusMessage};

/// Declares a request that creates an account (deriving `Debug`,
/// `Deserialize`, `Validate` and `ToSchema`): its own fields as written,
/// then the new account's `username`, `password` and `display_name`, each
/// with the doc comment written before its name and the same limits in
/// registration and invitation sign-up.
macro_rules! new_account_request {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $($(#[$field_attr:meta])* pub $field:ident: $ty:ty,)*
        }
        account {
            $(#[$username_doc:meta])* username,
            $(#[$password_doc:meta])* password,
            $(#[$display_name_doc:meta])* display_name,
        }
    ) => {
        #[derive(Debug, serde::Deserialize, validator::Validate, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$attr])*
        pub struct $name {
            $($(#[$field_attr])* pub $field: $ty,)*
            $(#[$username_doc])*
            #[validate(length(max = 32))]
            #[schema(min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
            pub username: String,
            $(#[$password_doc])*
            #[validate(length(max = 1024))]
            #[schema(min_length = 10, max_length = 1024, pattern = r"\S")]
            pub password: String,
            $(#[$display_name_doc])*
            #[validate(length(max = 100))]
            #[schema(min_length = 1, max_length = 100, pattern = r"^[^\S\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
            pub display_name: Option<String>,
        }
    };
}
pub(crate) use new_account_request;

new_account_request! {
    #[schema(example = json!({
        "email": "ada@example.com",
        "username": "ada",
        "password": "correct horse battery",
        "display_name": "Ada Lovelace"
    }))]
    pub struct RegisterRequest {
        #[validate(length(max = 254))]
        #[schema(min_length = 3, max_length = 254, pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s.\x00-\x1f\x7f-\x9f]+(\.[^@\s.\x00-\x1f\x7f-\x9f]+)+$")]
        pub email: String,
    }
    account {
        /// 3 to 32 letters, digits, `_`, `.` or `-`, starting with a letter or
        /// digit; unique regardless of case.
        username,
        /// 10 to 1,024 characters, not all whitespace.
        password,
        /// Defaults to the username; 1 to 100 characters, no control characters.
        display_name,
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"login": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// Email or username.
    #[validate(length(max = 254))]
    #[schema(max_length = 254, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub login: String,
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Vd9xQ2mT7bK4nR8cW1zF5hJ3pL6sY0aE"}))]
pub struct TokenRequest {
    /// The token from the emailed link's `#token=` fragment.
    #[validate(length(max = 512))]
    #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct PasswordResetRequest {
    #[validate(length(max = 254))]
    #[schema(max_length = 254, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub email: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Vd9xQ2mT7bK4nR8cW1zF5hJ3pL6sY0aE", "password": "staple battery horse"}))]
pub struct PasswordResetConfirm {
    /// The token from the emailed link's `#token=` fragment.
    #[validate(length(max = 512))]
    #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub token: String,
    /// The new password: 10 to 1,024 characters, not all whitespace.
    #[validate(length(max = 1024))]
    #[schema(min_length = 10, max_length = 1024, pattern = r"\S")]
    pub password: String,
}

// ---------------------------------------------------------------- handlers

/// The hash of a new password, or 422 on `field` when it is not a valid
/// one (checked before the hashing budget is spent).
pub(crate) async fn new_password_hash(
    state: &AppState,
    field: &str,
    password: &str,
) -> Result<String, ApiError> {
    let password = Password::parse(password).map_err(|e| ApiError::field(field, e.to_string()))?;
    passwords::hash_limited(state, password).await
}

/// A [`StatusMessage`] acknowledgement.
fn status(status: &'static str, detail: &str) -> StatusMessage {
    StatusMessage { status, detail: detail.into() }
}

/// Create an account
///
/// Creates the account, signs it in (201 with an access token) and emails a
/// verification link. The account can be used at once; only a verified email
/// counts as registered for invitations and user search. A taken email or
/// username answers 409 `email_taken` or `username_taken`.
#[utoipa::path(post, path = "/api/v1/auth/register", operation_id = "registerAccount", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, description = "Account created; signed in", body = AuthResponse), MalformedJsonOrType, (status = 409, description = "`email_taken` or `username_taken`", body = Problem, content_type = "application/problem+json"), BodyTooLarge, InvalidFields, TooManyFromAddress, ServerBusy))]
pub async fn register(
    req: HttpRequest,
    state: Data<AppState>,
    body: ValidJson<RegisterRequest>,
) -> Reply {
    let ValidJson(b) = body;
    let name = b.display_name.as_deref();
    let (registration, password) =
        accounts::Registration::parse(&b.email, &b.username, &b.password, name)?;
    let hash = passwords::hash_limited(&state, password).await?;
    let (now, base) = (state.clock.now(), state.config.app_base().to_owned());
    let (keys, client) = (state.tokens.clone(), client_info(&req, &state));
    let signed_in = state.write(move |c| {
        let user = accounts::register(c, &registration, (&hash, &base), now)?;
        sessions::open(c, &keys, &user, &client, now)
    });
    let signed_in = mailed(&state, signed_in.await)?;
    tracing::info!(user_id = %signed_in.user.id, "account registered");
    created(Ok(signed_in))
}

/// Sign in
///
/// Signs in with an email or username and the password, and returns an
/// access token. Wrong credentials answer 401 `invalid_credentials`, the same
/// whether or not the account exists.
#[utoipa::path(post, path = "/api/v1/auth/login", operation_id = "logIn", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = AuthResponse), MalformedJsonOrType,
        (status = 401, description = "`invalid_credentials`: the same answer whether or not the account exists", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`: the password is right, but an administrator disabled the account", body = Problem, content_type = "application/problem+json"), BodyTooLarge, InvalidFields, TooManyFromAddress, ServerBusy))]
pub async fn login(
    req: HttpRequest,
    state: Data<AppState>,
    body: CredentialsJson<LoginRequest>,
) -> Reply {
    let CredentialsJson(LoginRequest { login, password }) = body;
    accounts::refuse_impossible_login(&login)?;
    let user = state.read(move |c| accounts::by_login(c, &login)).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    // Checked with or without an account, so that both take as long.
    let valid = passwords::verify_limited(&state, password, stored).await?;
    match user {
        Some(user) if valid && user.disabled_at.is_some() => Err(accounts::account_disabled()),
        Some(user) if valid => {
            let (keys, client, now) =
                (state.tokens.clone(), client_info(&req, &state), state.clock.now());
            let signed_in = state.write(move |c| sessions::sign_in(c, &keys, &user, &client, now));
            ok(mailed(&state, signed_in.await))
        }
        _ => Err(accounts::invalid_credentials()),
    }
}

/// Verify an email address
///
/// Marks the email verified with the token from the emailed link. The token
/// works once (409 `token_used`); an unknown or replaced token answers 404
/// `token_invalid`, an expired one 410 `token_expired`.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", operation_id = "verifyEmail", tag = "accounts", request_body = TokenRequest,
    responses((status = 200, description = "The email is verified", body = StatusMessage), MalformedJsonOrType, (status = 404, description = "`token_invalid`: unknown or replaced token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`token_used`", body = Problem, content_type = "application/problem+json"), (status = 410, description = "`token_expired`", body = Problem, content_type = "application/problem+json"), BodyTooLarge, InvalidFields, TooManyFromAddress))]
pub async fn verify_email(state: Data<AppState>, body: ValidJson<TokenRequest>) -> Reply {
    let (token, now) = (body.0.token, state.clock.now());
    let verified = state.write(move |c| accounts::verify_email(c, &token, now)).await;
    ok(verified.map(|()| status("verified", "Your email address is verified.")))
}

/// Resend the email verification link
///
/// Sends a new verification link to the signed-in user; earlier links stop
/// working. An already verified email answers 409 `already_verified`; asking
/// again too soon answers 429 `email_recently_sent`.
#[utoipa::path(post, path = "/api/v1/auth/verify-email/resend", operation_id = "resendVerificationEmail", tag = "accounts", security(("bearer" = [])),
    responses((status = 202, description = "A new link is on its way; earlier links stop working", body = StatusMessage), Unauthorized, (status = 409, description = "`already_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address, or `email_recently_sent`", body = Problem, content_type = "application/problem+json")))]
pub async fn resend_verification(ctx: Ctx) -> Reply {
    let base = ctx.state().config.app_base().to_owned();
    let sent = ctx.write(move |c, actor, now| accounts::resend_verification(c, actor, &base, now));
    accepted(
        mailed(ctx.state(), sent.await)
            .map(|_| status("sent", "A new verification link is on its way.")),
    )
}

/// Request a password reset link
///
/// Emails a reset link when an account has this email. Always answers 202,
/// whether or not the account exists. No email goes out within the cooldown
/// after the last link, or past the daily cap per address.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", operation_id = "requestPasswordReset", tag = "accounts", request_body = PasswordResetRequest,
    responses((status = 202, description = "If the account exists, a reset link is on its way", body = StatusMessage), MalformedJsonOrType, BodyTooLarge, InvalidFields, TooManyFromAddress))]
pub async fn password_reset(state: Data<AppState>, body: ValidJson<PasswordResetRequest>) -> Reply {
    if let Ok(email) = Email::parse(&body.email) {
        let (now, base) = (state.clock.now(), state.config.app_base().to_owned());
        if state.write(move |c| accounts::password_reset(c, &email, &base, now)).await? {
            state.mail_queued();
        }
    }
    accepted(Ok(status("accepted", "If an account has this email, a reset link is on its way.")))
}

/// Reset a password with a token
///
/// Sets a new password with the token from the reset link. The token works
/// once; every session that began before is signed out, and a "password
/// changed" email is sent. The email counts as verified (the link proved the
/// inbox); a link sent to an address the account no longer uses answers 404
/// `token_invalid`.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", operation_id = "confirmPasswordReset", tag = "accounts", request_body = PasswordResetConfirm,
    responses((status = 204, description = "The password is changed"), MalformedJsonOrType, (status = 404, description = "`token_invalid`: unknown or replaced token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`token_used`", body = Problem, content_type = "application/problem+json"), (status = 410, description = "`token_expired`", body = Problem, content_type = "application/problem+json"), BodyTooLarge,
        (status = 422, description = "Invalid password", body = Problem, content_type = "application/problem+json"), TooManyFromAddress, ServerBusy))]
pub async fn password_reset_confirm(
    state: Data<AppState>,
    body: ValidJson<PasswordResetConfirm>,
) -> Reply {
    let (PasswordResetConfirm { token, password }, now) = (body.0, state.clock.now());
    // 404 for an unknown token comes before 422 for a weak password.
    let lookup = token.clone();
    state.read(move |c| accounts::reset_token_known(c, &lookup)).await?;
    let hash = new_password_hash(&state, "password", &password).await?;
    let reset = state.write(move |c| accounts::reset_password(c, &token, &hash, now)).await;
    done(mailed(&state, reset))
}

/// Confirm a new email address
///
/// Moves the account to the address the link was sent to, with the token from
/// that link: the new address counts as verified (pending invitations to it
/// show up under my invitations), the old address gets a notice, and older
/// verification links stop working. The token works once (409 `token_used`);
/// an unknown or replaced token answers 404 `token_invalid`, an expired one 410
/// `token_expired`, an address another account took meanwhile 409
/// `email_taken`. No sign-in needed: the link proves the new inbox.
#[utoipa::path(post, path = "/api/v1/auth/email-change/confirm", operation_id = "confirmEmailChange", tag = "accounts", request_body = TokenRequest,
    responses((status = 200, description = "The account uses the new address now", body = StatusMessage), MalformedJsonOrType, (status = 404, description = "`token_invalid`: unknown or replaced token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`token_used` or `email_taken`", body = Problem, content_type = "application/problem+json"), (status = 410, description = "`token_expired`", body = Problem, content_type = "application/problem+json"), BodyTooLarge, InvalidFields, TooManyFromAddress))]
pub async fn confirm_email_change(state: Data<AppState>, body: ValidJson<TokenRequest>) -> Reply {
    let (token, now) = (body.0.token, state.clock.now());
    let moved = state.write(move |c| email_change::confirm(c, &token, now)).await;
    ok(mailed(&state, moved)
        .map(|u| status("verified", &format!("Your account now uses {}.", u.email))))
}

endpoints![
    register: limited,
    login: limited,
    verify_email: limited,
    resend_verification: limited,
    password_reset: limited,
    password_reset_confirm: limited,
    confirm_email_change: limited,
    ; tags:
    ("accounts", "Registration, sign-in, email verification, passwords"),
];
