//! The administrators' console (root only): accounts, found and paged, one
//! account's holdings, disabling and enabling, and sending an account a
//! password reset or verification link. The use cases are in
//! [`crate::ops::admin`].

use actix_web::web::Path;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{BadPaging, Problem, Unauthorized};
use crate::extract::ValidQuery;
use crate::ops::admin;
use crate::routes::{Reply, accepted, listed, mailed, ok};
use crate::views::accounts::StatusMessage;
use crate::views::admin::{AdminUserDetail, AdminUserView};
use crate::views::common::{CursorPage, CursorQuery, paged_query};
use keyholder_store::users::AccountFilter;

paged_query! {
    /// The accounts list's search, status filter and paging.
    pub struct AdminUserQuery {
        /// Text found anywhere in the username or the email, in any case. Up
        /// to 100 characters, no control characters.
        #[validate(length(max = 100))]
        #[param(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
        pub q: Option<String>,
        /// Only the accounts in this state.
        #[param(value_type = Option<crate::views::wire::AccountStatusFilter>)]
        pub status: Option<String>,
    }
    paging {
        /// Page number, from 1 (ignored when `cursor` is given).
        page,
        /// Items per page, 1 to 100 (default 25).
        per_page,
        /// The `next_cursor` of the previous page: the page after it.
        cursor,
    }
}

/// List accounts
///
/// Every account, newest first, paged: `q` finds text in usernames and emails,
/// `status` keeps `active`, `disabled`, `deleted`, `unverified` or `root`
/// accounts; `total` counts what they keep. Root only (403 `root_required`).
#[utoipa::path(get, path = "/api/v1/admin/users", operation_id = "listUsers", tag = "admin", security(("bearer" = [])), params(AdminUserQuery),
    responses((status = 200, description = "Accounts, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<AdminUserView>), Unauthorized,
        (status = 403, description = "`root_required`", body = Problem, content_type = "application/problem+json"), BadPaging))]
pub async fn list_users(ctx: Ctx, q: ValidQuery<AdminUserQuery>) -> Reply {
    let AdminUserQuery { q: search, status, page, per_page, cursor } = q.0;
    let paging = CursorQuery { page, per_page, cursor };
    let list = move |c: &mut _, actor: &_, _| {
        let status = status.as_deref().map(admin::status).transpose()?;
        let search = search.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let filter = AccountFilter { q: search, status };
        admin::list(c, actor, &filter, &paging)
    };
    listed(&ctx, ctx.run(list).await)
}

/// Get one account
///
/// The account, everything that gives it access (estate roles, site overrides,
/// collaborations, households, shares; up to 500, newest first) and how many of
/// its sessions are live. Root only; 404 `user_not_found`.
#[utoipa::path(get, path = "/api/v1/admin/users/{user_id}", operation_id = "getUser", tag = "admin", security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses((status = 200, description = "The account and what it holds", body = AdminUserDetail), Unauthorized,
        (status = 403, description = "`root_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn get_user(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let id = id.into_inner();
    ok(ctx.read(move |c, actor, now| admin::detail(c, actor, id, now)).await)
}

/// Disable an account
///
/// The account can no longer sign in, and every session of it ends at once:
/// its access tokens are refused from their next request. Writes an audit
/// event. Root cannot disable its own account (409 `cannot_disable_self`) or
/// the last enabled root (409 `last_root`). Disabling a disabled account
/// changes nothing. Root only; 404 `user_not_found` (deleted accounts too).
#[utoipa::path(post, path = "/api/v1/admin/users/{user_id}/disable", operation_id = "disableUser", tag = "admin", security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses((status = 200, description = "Disabled", body = AdminUserView), Unauthorized,
        (status = 403, description = "`root_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`cannot_disable_self` or `last_root`", body = Problem, content_type = "application/problem+json")))]
pub async fn disable_user(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let id = id.into_inner();
    ok(ctx.write(move |c, actor, now| admin::disable(c, actor, id, now)).await)
}

/// Enable an account
///
/// A disabled account can sign in again (its old sessions stay ended). Writes
/// an audit event; enabling an enabled account changes nothing. Root only; 404
/// `user_not_found`.
#[utoipa::path(post, path = "/api/v1/admin/users/{user_id}/enable", operation_id = "enableUser", tag = "admin", security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses((status = 200, description = "Enabled", body = AdminUserView), Unauthorized,
        (status = 403, description = "`root_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn enable_user(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let id = id.into_inner();
    ok(ctx.write(move |c, actor, now| admin::enable(c, actor, id, now)).await)
}

/// Send an account a password reset link
///
/// Emails the account a password reset link (it works once, for an hour).
/// Writes an audit event. Within two minutes of the last link, or past five a
/// day, 429 `email_recently_sent`. Root only; 404 `user_not_found`.
#[utoipa::path(post, path = "/api/v1/admin/users/{user_id}/password-reset", operation_id = "sendUserPasswordReset", tag = "admin", security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses((status = 202, description = "The link is on its way", body = StatusMessage), Unauthorized,
        (status = 403, description = "`root_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`email_recently_sent` (see `Retry-After`)", body = Problem, content_type = "application/problem+json")))]
pub async fn send_password_reset(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let target = (id.into_inner(), admin::Link::PasswordReset);
    send(ctx, target, "A password reset link is on its way.").await
}

/// Resend an account's verification link
///
/// Emails the account a new verification link; earlier ones stop working.
/// Writes an audit event. A verified account answers 409 `already_verified`;
/// within two minutes of the last link, or past five a day, 429
/// `email_recently_sent`. Root only; 404 `user_not_found`.
#[utoipa::path(post, path = "/api/v1/admin/users/{user_id}/verification", operation_id = "sendUserVerification", tag = "admin", security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses((status = 202, description = "The link is on its way", body = StatusMessage), Unauthorized,
        (status = 403, description = "`root_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`email_recently_sent` (see `Retry-After`)", body = Problem, content_type = "application/problem+json")))]
pub async fn send_verification(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let target = (id.into_inner(), admin::Link::Verification);
    send(ctx, target, "A new verification link is on its way.").await
}

/// Sends an account a link as root: 202.
async fn send(ctx: Ctx, target: (Uuid, admin::Link), detail: &'static str) -> Reply {
    let base = ctx.state().config.app_base().to_owned();
    let sent = ctx.write(move |c, actor, now| admin::send_link(c, actor, target, &base, now));
    let sent = mailed(ctx.state(), sent.await);
    accepted(sent.map(|()| StatusMessage { status: "sent", detail: detail.into() }))
}

endpoints![
    list_users,
    get_user,
    disable_user,
    enable_user,
    send_password_reset,
    send_verification,
    ; tags:
    ("admin", "The administrators' console (root only): accounts"),
];
