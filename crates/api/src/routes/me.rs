//! The signed-in user: request shapes, the documented handlers, and their
//! routes. The use cases are in [`crate::ops::me`]; the password check and
//! hash run here, before the transaction.

use crate::problems::ProblemCode;
use actix_web::HttpRequest;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::conditional::{ok_tagged, tagged};
use crate::ctx::Ctx;
use crate::error::{ApiError, BadPaging, BodyTooLarge, MalformedJsonOrType, Problem, Unauthorized};
use crate::extract::{ValidJson, ValidQuery, double_option};
use crate::ops::sessions;
use crate::ops::{account_deletion, email_change, export, me, notify};
use crate::passwords;
use crate::routes::accounts::new_password_hash;
use crate::routes::{Reply, accepted, client_info, done, listed, mailed, ok};
use crate::views::access::MyGrantView;
use crate::views::accounts::{AuthResponse, MeView, NotificationSettingsView, StatusMessage};
use crate::views::common::{CursorPage, CursorQuery};
use crate::views::export::MyDataExport;
use keyholder_domain::values::Email;
use keyholder_store::users::User;

/// Get the current user
///
/// Returns the signed-in user's account, including `email_verified` and
/// `is_root`.
#[utoipa::path(get, path = "/api/v1/me", operation_id = "getMe", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "The signed-in user", body = MeView), (status = 401, description = "Missing, malformed, forged or expired token", body = Problem, content_type = "application/problem+json")))]
pub async fn me(ctx: Ctx) -> Reply {
    tagged(&ctx, ctx.read_one(|c, actor, _| me::me(c, actor)).await)
}

/// A profile edit: only the fields sent change.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Ada King"}))]
pub struct ProfilePatch {
    /// 3 to 32 letters, digits, `_`, `.` or `-`, starting with a letter or
    /// digit; unique regardless of case (`null` is 422).
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 32))]
    #[schema(value_type = String, min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    pub username: Option<Option<String>>,
    /// 1 to 100 characters, no control characters (`null` is 422).
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 100))]
    #[schema(value_type = String, min_length = 1, max_length = 100, pattern = r"^[^\S\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    pub display_name: Option<Option<String>>,
}

/// Edit my profile
///
/// Changes my `username` and `display_name`, as a partial update: a field left
/// out stays as it is; both are checked as at registration (422 naming each bad
/// field, `null` included), and a username another account holds, in any case,
/// is 409 `username_taken`. Honours `If-Match` with the `ETag` of `getMe` (412
/// when stale). Writes an audit event naming what changed. My email changes
/// through its own confirmation, not here.
#[utoipa::path(patch, path = "/api/v1/me", operation_id = "updateMe", tag = "accounts", security(("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, description = "Saved: my account", body = MeView), MalformedJsonOrType, Unauthorized, BodyTooLarge,
        (status = 409, description = "`username_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn update_me(ctx: Ctx, body: ValidJson<ProfilePatch>) -> Reply {
    let ValidJson(ProfilePatch { username, display_name }) = body;
    let change = me::ProfileChange { username, display_name };
    let current = |c: &mut _, actor: &_, _| me::me_locked(c, actor);
    ok_tagged(
        ctx.write_if_match(current, move |c, actor, now| me::update_profile(c, actor, change, now))
            .await,
    )
}

/// List everything that gives me access
///
/// One row per grant I hold, newest first, so I can see where each access
/// comes from and when it ends: my estate roles (`estate_role`), my overrides
/// at sites (`site_override`, with the site's estate), the assets I
/// collaborate on (`collaborator`, full access), the households I belong to
/// (`household`: my role there reaches every asset the head collaborates on;
/// `head` names them), and my shares (`share`, with `until` when the access
/// ends; `active` is false once it has). Access through an estate role or a
/// site reaches the assets placed there. Paged by `cursor` (the previous
/// page's `next_cursor`) or `page` (from 1), and `per_page` (1 to 100,
/// default 25).
#[utoipa::path(get, path = "/api/v1/me/access", operation_id = "listMyAccess", tag = "accounts", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, description = "My grants, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<MyGrantView>), Unauthorized, BadPaging))]
pub async fn my_access(ctx: Ctx, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.run(move |c, actor, now| me::access(c, actor, &q.0, now)).await)
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

/// The caller's account once `password` is confirmed to be its password:
/// 403 `wrong_password` otherwise. Every attempt counts against the
/// per-account and per-address limit (429), so a stolen access token does
/// not become a fast oracle for the password.
async fn password_confirmed(
    req: &HttpRequest,
    ctx: &Ctx,
    password: String,
) -> Result<User, ApiError> {
    let user = ctx.read_one(|c, actor, _| actor.user(c)).await?;
    let state = ctx.state();
    let limit = &state.password_limit;
    limit.check(user.id, limit.client_ip(req))?;
    let stored = user.password_hash.clone();
    if !passwords::verify_limited(state, password, Some(stored)).await? {
        return Err(ApiError::forbidden(
            ProblemCode::WrongPassword,
            "The current password is not correct.",
        ));
    }
    Ok(user)
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
    let user = password_confirmed(&req, &ctx, current_password).await?;
    let state = ctx.state();
    let hash = new_password_hash(state, "new_password", &new_password).await?;
    let (keys, client) = (state.tokens.clone(), client_info(&req, state));
    let signed_in = ctx.write(move |c, _, now| {
        let user = me::change_password(c, &user, &hash, now)?;
        sessions::end_all(c, &user)?;
        sessions::open(c, &keys, &user, &client, now)
    });
    ok(mailed(state, signed_in.await))
}

/// A request to move my account to another email address.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"new_email": "ada@newmail.example", "password": "correct horse battery"}))]
pub struct EmailChangeRequest {
    /// The address to move to.
    #[validate(length(max = 254))]
    #[schema(
        min_length = 3,
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s.\x00-\x1f\x7f-\x9f]+(\.[^@\s.\x00-\x1f\x7f-\x9f]+)+$"
    )]
    pub new_email: String,
    /// My current password.
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub password: String,
}

/// Change my email address
///
/// Checks my password, then emails a confirmation link to the new address
/// (it works once, for 48 hours) and a notice without a link to my current
/// one. Nothing changes until the link is used (`confirmEmailChange`); a newer
/// request replaces the link of an older one. A wrong password answers 403
/// `wrong_password` (attempts are rate limited, 429 `rate_limited`); an address
/// another account uses, 409 `email_taken`; my own address, 422; asking again
/// within two minutes, or a sixth time in a day, 429 `email_recently_sent`.
#[utoipa::path(post, path = "/api/v1/me/email", operation_id = "requestEmailChange", tag = "accounts", security(("bearer" = [])), request_body = EmailChangeRequest,
    responses((status = 202, description = "The confirmation link is on its way to the new address", body = StatusMessage), MalformedJsonOrType, Unauthorized,
        (status = 403, description = "`wrong_password`", body = Problem, content_type = "application/problem+json"), BodyTooLarge,
        (status = 409, description = "`email_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or my own address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` (password attempts) or `email_recently_sent` (see `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`server_busy`: too many passwords being checked at once (see `Retry-After`)", body = Problem, content_type = "application/problem+json")))]
pub async fn request_email_change(
    req: HttpRequest,
    ctx: Ctx,
    body: ValidJson<EmailChangeRequest>,
) -> Reply {
    let ValidJson(EmailChangeRequest { new_email, password }) = body;
    let new_email =
        Email::parse(&new_email).map_err(|e| ApiError::field("new_email", e.to_string()))?;
    let user = password_confirmed(&req, &ctx, password).await?;
    let base = ctx.state().config.app_base().to_owned();
    let asked = ctx.write(move |c, _, now| email_change::request(c, &user, &new_email, &base, now));
    mailed(ctx.state(), asked.await)?;
    accepted(Ok(StatusMessage {
        status: "sent",
        detail: "A confirmation link is on its way to the new address.".into(),
    }))
}

/// My password, to confirm a deletion.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "correct horse battery"}))]
pub struct DeleteAccountRequest {
    /// My current password.
    #[validate(length(max = 1024))]
    #[schema(max_length = 1024)]
    pub password: String,
}

/// Delete my account
///
/// Checks my password, then ends everything in one go: my estate memberships and
/// site overrides, my collaborations, my household (as head and as member) and
/// the shares I hold; the pending invitations I sent are cancelled; every session
/// ends. Each ended access is in the audit trail, which keeps my earlier events
/// with the actor shown as a deleted account. A confirmation goes to my verified
/// address. Refused with 409 `account_deletion_blocked` while I own an estate
/// (`estate_ids`: transfer them first) or am the only collaborator of an asset
/// (`asset_ids`: add someone or delete it first), or for a root account. A wrong
/// password is 403 `wrong_password` (attempts are rate limited, 429).
#[utoipa::path(delete, path = "/api/v1/me", operation_id = "deleteMe", tag = "accounts", security(("bearer" = [])), request_body = DeleteAccountRequest,
    responses((status = 204, description = "Deleted; every session has ended"), MalformedJsonOrType, Unauthorized,
        (status = 403, description = "`wrong_password`", body = Problem, content_type = "application/problem+json"), BodyTooLarge,
        (status = 409, description = "`account_deletion_blocked`, naming the estates and assets in the way", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many password attempts (see `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`server_busy`: too many passwords being checked at once (see `Retry-After`)", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_me(req: HttpRequest, ctx: Ctx, body: ValidJson<DeleteAccountRequest>) -> Reply {
    let user = password_confirmed(&req, &ctx, body.0.password).await?;
    let deleted =
        ctx.write(move |c, actor, now| account_deletion::delete(c, actor, &user, now)).await;
    done(mailed(ctx.state(), deleted))
}

/// Export my data
///
/// One JSON document of everything Keyholder stores about me: my account (and a
/// pending change of address), my sessions, everything that gives me access,
/// the members of my household, the invitations I sent and those sent to my
/// address, the records and photos I added, and the audit events I acted in or
/// that concern my account. Each list holds at most 10,000 entries, newest
/// first (`truncated` names any that had more). Sent as an attachment.
#[utoipa::path(get, path = "/api/v1/me/export", operation_id = "exportMyData", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "Everything stored about me", body = MyDataExport), Unauthorized))]
pub async fn export_me(ctx: Ctx) -> Reply {
    let document = ctx.read(export::export).await?;
    let name = format!("attachment; filename=\"keyholder-export-{}.json\"", document.account.id);
    Ok(actix_web::HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_DISPOSITION, name))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(document))
}

/// Get my notification settings
///
/// Which optional emails I get about access changes; security emails always go
/// out (`security` is always true).
#[utoipa::path(get, path = "/api/v1/me/notifications", operation_id = "getMyNotificationSettings", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "My settings", body = NotificationSettingsView), Unauthorized))]
pub async fn notification_settings(ctx: Ctx) -> Reply {
    ok(ctx.read(|c, actor, _| notify::settings(c, actor)).await)
}

/// My choice of optional emails: each kind on or off.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"access_granted": true, "access_reduced": true, "access_expiring": true, "invitation_expiring": false}))]
pub struct NotificationSettingsRequest {
    /// Someone gives me access without an invitation.
    pub access_granted: bool,
    /// A share of mine is revoked, or a role or permission of mine lowered.
    pub access_reduced: bool,
    /// Three days before a share of mine ends.
    pub access_expiring: bool,
    /// Three days before an invitation I sent expires unanswered.
    pub invitation_expiring: bool,
}

/// Set my notification settings
///
/// Turns each kind of optional email on or off (all four are required).
/// Security emails cannot be turned off. Writes an audit event when something
/// changed.
#[utoipa::path(put, path = "/api/v1/me/notifications", operation_id = "updateMyNotificationSettings", tag = "accounts", security(("bearer" = [])), request_body = NotificationSettingsRequest,
    responses((status = 200, description = "Saved: my settings", body = NotificationSettingsView), MalformedJsonOrType, Unauthorized, BodyTooLarge,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn set_notification_settings(
    ctx: Ctx,
    body: ValidJson<NotificationSettingsRequest>,
) -> Reply {
    let b = body.0;
    let wanted = keyholder_store::notifications::Settings {
        access_granted: b.access_granted,
        access_reduced: b.access_reduced,
        access_expiring: b.access_expiring,
        invitation_expiring: b.invitation_expiring,
    };
    ok(ctx.write(move |c, actor, now| notify::set_settings(c, actor, wanted, now)).await)
}

endpoints![
    me,
    update_me,
    delete_me,
    my_access,
    export_me,
    notification_settings,
    set_notification_settings,
    change_password,
    request_email_change,
];
