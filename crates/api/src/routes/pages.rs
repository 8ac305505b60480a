//! The pages that emailed links open (`KEYHOLDER_APP_URL` defaults to the
//! server itself): verify an email, reset a password, answer an invitation.
//! Plain HTML, CSS and JavaScript embedded in the binary, under a strict
//! Content-Security-Policy; the token stays in the URL fragment and in page
//! memory, and only ever travels in request bodies.

use crate::problems::ProblemCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};

use std::sync::LazyLock;

/// Each page: its title, its own content, and the script that drives it.
static VERIFY_EMAIL: LazyLock<String> = LazyLock::new(|| {
    page("Verify your email", include_str!("../pages/verify-email.html"), "verify-email")
});
static CONFIRM_EMAIL: LazyLock<String> = LazyLock::new(|| {
    page(
        "Confirm your new email address",
        include_str!("../pages/confirm-email.html"),
        "confirm-email",
    )
});
static RESET_PASSWORD: LazyLock<String> = LazyLock::new(|| {
    page("Choose a new password", include_str!("../pages/reset-password.html"), "reset-password")
});
static ACCEPT_INVITATION: LazyLock<String> = LazyLock::new(|| {
    page("Your invitation", include_str!("../pages/accept-invitation.html"), "accept-invitation")
});

/// A page in the layout the three share (`pages/layout.html`).
fn page(title: &str, main: &str, script: &str) -> String {
    include_str!("../pages/layout.html")
        .replace("{title}", title)
        .replace("{script}", script)
        .replace("{main}", main)
}

/// The static files the pages load, by name.
const ASSETS: [(&str, &str, &str); 7] = [
    ("favicon.svg", "image/svg+xml", include_str!("../pages/favicon.svg")),
    ("keyholder.css", "text/css; charset=utf-8", include_str!("../pages/keyholder.css")),
    ("common.js", "text/javascript; charset=utf-8", include_str!("../pages/common.js")),
    ("verify-email.js", "text/javascript; charset=utf-8", include_str!("../pages/verify-email.js")),
    (
        "confirm-email.js",
        "text/javascript; charset=utf-8",
        include_str!("../pages/confirm-email.js"),
    ),
    (
        "reset-password.js",
        "text/javascript; charset=utf-8",
        include_str!("../pages/reset-password.js"),
    ),
    (
        "accept-invitation.js",
        "text/javascript; charset=utf-8",
        include_str!("../pages/accept-invitation.js"),
    ),
];

/// The Content-Security-Policy of the pages: only this origin's scripts,
/// styles and API; no inline code, no frames, no other hosts.
pub const PAGES_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

fn html(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(body)
}

/// Email verification page
///
/// The HTML page a verification link opens (`/verify-email#token=…`). Its
/// script reads the token from the URL fragment and posts it to
/// `/api/v1/auth/verify-email`. Not JSON.
#[utoipa::path(get, path = "/verify-email", operation_id = "verifyEmailPage", tag = "pages",
    responses((status = 200, description = "HTML page: verifies the email with the token from the URL fragment", body = String, content_type = "text/html")))]
pub async fn verify_email() -> HttpResponse {
    html(&VERIFY_EMAIL)
}

/// Email change confirmation page
///
/// The HTML page the link sent to a new address opens
/// (`/confirm-email#token=…`). Its script reads the token from the URL
/// fragment and posts it to `/api/v1/auth/email-change/confirm`. Not JSON.
#[utoipa::path(get, path = "/confirm-email", operation_id = "confirmEmailChangePage", tag = "pages",
    responses((status = 200, description = "HTML page: confirms the new email address with the token from the URL fragment", body = String, content_type = "text/html")))]
pub async fn confirm_email() -> HttpResponse {
    html(&CONFIRM_EMAIL)
}

/// Password reset page
///
/// The HTML page a password reset link opens (`/reset-password#token=…`). It
/// asks for the new password twice and posts it with the token to
/// `/api/v1/auth/password-reset/confirm`. Not JSON.
#[utoipa::path(get, path = "/reset-password", operation_id = "resetPasswordPage", tag = "pages",
    responses((status = 200, description = "HTML page: asks for the new password twice and sets it", body = String, content_type = "text/html")))]
pub async fn reset_password() -> HttpResponse {
    html(&RESET_PASSWORD)
}

/// Invitation page
///
/// The HTML page an invitation link opens (`/invitations/accept#token=…`). It
/// shows the offer and lets the invitee sign in and accept, sign up and
/// accept, or decline. Not JSON.
#[utoipa::path(get, path = "/invitations/accept", operation_id = "acceptInvitationPage", tag = "pages",
    responses((status = 200, description = "HTML page: shows the offer; sign in and accept, sign up and accept, or decline", body = String, content_type = "text/html")))]
pub async fn accept_invitation() -> HttpResponse {
    html(&ACCEPT_INVITATION)
}

/// The pages' CSS and JavaScript.
pub async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(n, _, _)| *n == name.as_str()) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, *content_type))
            .insert_header((CACHE_CONTROL, "public, max-age=300"))
            .body(*body),
        None => crate::error::ApiError::not_found(ProblemCode::NotFound, "No such file.")
            .error_response_owned(),
    }
}

endpoints![verify_email, confirm_email, reset_password, accept_invitation,
    ; tags:
    ("pages", "HTML pages that emailed links open (not JSON)"),
];
