//! Changing my email address: asked for with the password, confirmed by a
//! link sent to the new address (48 hours), while the old address gets a
//! notice without a link. Until the link works nothing about the account
//! changes; once it does, the new address counts as verified, so pending
//! invitations to it show up in my invitations.

use chrono::Duration;
use keyholder_domain::token::{SecretToken, TokenHash};
use keyholder_domain::values::Email;
use keyholder_store::audit::{self, Action};
use keyholder_store::email_changes::{self, NewEmailChange};
use keyholder_store::email_tokens::{self, Purpose};
use keyholder_store::outbox;
use keyholder_store::users::{self, User};
use serde_json::json;

use super::accounts::{LINK_COOLDOWN_SECONDS, LINKS_PER_DAY, event, prove_inbox, recently_sent};
use crate::error::ApiError;
use crate::mail::{EMAIL_CHANGE_TTL_HOURS, templates};
use crate::ops::{Conn, Now, Outcome};
use crate::problems::ProblemCode;

fn email_taken() -> ApiError {
    ApiError::conflict(ProblemCode::EmailTaken, "Another account uses this email address.")
}

/// Ask to move `user` (whose password the handler checked) to `new_email`:
/// the new address gets a confirmation link, the old one a notice. The
/// same address is 422, one another account uses 409 `email_taken`; a
/// second request within the cooldown, or past the daily cap, is 429.
pub fn request(c: &mut Conn, user: &User, new_email: &Email, base: &str, now: Now) -> Outcome<()> {
    keyholder_store::locks::users(c, &[user.id])?;
    let new_email = new_email.as_str();
    if new_email == user.email {
        return Err(ApiError::field("new_email", "is already your email address"));
    }
    if users::find_by_email(c, new_email)?.is_some() {
        return Err(email_taken());
    }
    if let Some(at) = email_changes::last_requested(c, user.id)? {
        let left = LINK_COOLDOWN_SECONDS - (now - at).num_seconds();
        if let Some(wait) = u64::try_from(left).ok().filter(|s| *s > 0) {
            return Err(recently_sent(wait));
        }
    }
    let kinds = ["email_change_notice"];
    if outbox::queued_for_since(c, &user.email, &kinds, now - Duration::hours(24))? >= LINKS_PER_DAY
    {
        return Err(recently_sent(3600));
    }
    let token = SecretToken::generate();
    let hash = token.hash();
    let change = NewEmailChange {
        user_id: user.id,
        new_email,
        old_email: &user.email,
        token_hash: hash.as_str(),
        expires_at: now + Duration::hours(EMAIL_CHANGE_TTL_HOURS),
    };
    email_changes::replace(c, &change, now)?;
    let confirm = templates::confirm_new_email(base, new_email, &user.username, token.as_str());
    outbox::enqueue(c, &confirm, now)?;
    let notice = templates::email_change_requested(&user.email, &user.username, new_email);
    outbox::enqueue(c, &notice, now)?;
    let after = json!({"new_email": new_email});
    audit::record(c, &event(user, Action::UserEmailChangeRequested, None, Some(after)), now)?;
    Ok(())
}

fn link_invalid() -> ApiError {
    ApiError::not_found(
        ProblemCode::TokenInvalid,
        "This link is not valid: it may have been replaced by a newer one.",
    )
}

/// Confirm a change with the token from the link sent to the new address:
/// the account moves to it (verified), the old address is told, and earlier
/// verification links stop working. Unknown or replaced: 404
/// `token_invalid`; used: 409 `token_used`; expired: 410 `token_expired`;
/// the address taken meanwhile: 409 `email_taken`.
pub fn confirm(c: &mut Conn, token: &str, now: Now) -> Outcome<User> {
    let found = email_changes::find(c, TokenHash::of(token.trim()).as_str())?;
    let found = found.ok_or_else(link_invalid)?;
    keyholder_store::locks::users(c, &[found.user_id])?;
    if found.used_at.is_some() {
        return Err(ApiError::conflict(ProblemCode::TokenUsed, "This link has already been used."));
    }
    if found.expires_at <= now {
        return Err(ApiError::gone(
            ProblemCode::TokenExpired,
            "This link has expired; ask for the change again.",
        ));
    }
    let user = users::get(c, found.user_id)?;
    if user.email != found.old_email {
        return Err(link_invalid());
    }
    if !email_changes::consume(c, found.id, now)? {
        return Err(ApiError::conflict(ProblemCode::TokenUsed, "This link has already been used."));
    }
    let moved = users::set_email(c, user.id, &found.new_email, now)?.map_err(|_| email_taken())?;
    prove_inbox(c, &moved, now)?;
    // Links sent to the old address stop working: it no longer speaks for
    // the account.
    email_tokens::revoke_all(c, user.id, Purpose::VerifyEmail)?;
    email_tokens::revoke_all(c, user.id, Purpose::PasswordReset)?;
    let moved = users::get(c, user.id)?;
    let before = json!({"email": user.email});
    let after = json!({"email": moved.email});
    audit::record(c, &event(&moved, Action::UserEmailChanged, Some(before), Some(after)), now)?;
    outbox::enqueue(c, &templates::email_changed(&user.email, &user.username, &moved.email), now)?;
    Ok(moved)
}
