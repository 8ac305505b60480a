//! Accounts: registration, sign-in, email verification and password reset,
//! and what proving an inbox does. Password hashes are computed by the
//! handler before the transaction (argon2 is slow and runs on the blocking
//! pool); these use cases take the finished hash.

use crate::problems::ProblemCode;
use chrono::Duration;
use keyholder_domain::token::{SecretToken, TokenHash};
use keyholder_domain::values::{self, DisplayName, Email, Password, Username};

use keyholder_store::audit::{self, Action, NewAuditEvent};
use keyholder_store::email_tokens::{self, EmailToken, Purpose};
use keyholder_store::grants;
use keyholder_store::outbox::{self, NewMail};
use keyholder_store::users::{self, NewUser, Taken, User};
use serde_json::json;

use crate::auth::Caller;
use crate::error::{ApiError, FieldErrors};
use crate::mail::{PASSWORD_RESET_TTL_HOURS, VERIFY_EMAIL_TTL_HOURS, templates};
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;

/// An event on the user's own account.
pub(crate) fn event(
    user: &User,
    action: Action,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> NewAuditEvent<'static> {
    super::event(user, action, "user", user.id, before, after)
}

/// A new account's own fields (its email aside), checked.
pub struct Profile {
    pub username: Username,
    pub display_name: Option<DisplayName>,
}

impl Profile {
    /// Checks the fields into `v`, so that one 422 names every bad field;
    /// the password comes back apart, to be hashed before the transaction.
    pub fn check(
        v: &mut FieldErrors,
        username: &str,
        password: &str,
        display_name: Option<&str>,
    ) -> Option<(Self, Password)> {
        let username = v.check("username", Username::parse(username));
        let password = v.check("password", Password::parse(password));
        let display_name = match display_name {
            Some(d) => v.check("display_name", DisplayName::parse(d)).map(Some),
            None => Some(None),
        };
        Some((Self { username: username?, display_name: display_name? }, password?))
    }
}

/// A registration's fields, checked.
pub struct Registration {
    email: Email,
    username: Username,
    display_name: Option<DisplayName>,
}

impl Registration {
    /// Checks every field at once (422 naming each bad one); the password
    /// comes back apart, to be hashed before the transaction.
    pub fn parse(
        email: &str,
        username: &str,
        password: &str,
        display_name: Option<&str>,
    ) -> Outcome<(Self, Password)> {
        let mut v = FieldErrors::new();
        let email = v.check("email", Email::parse(email));
        let profile = Profile::check(&mut v, username, password, display_name);
        let (Some(email), Some((profile, password))) = (email, profile) else {
            return Err(v.into_error());
        };
        let registration =
            Self { email, username: profile.username, display_name: profile.display_name };
        Ok((registration, password))
    }
}

/// Create an account with the password hash `hash`, and email it a
/// verification link.
pub fn register(
    c: &mut Conn,
    reg: &Registration,
    (hash, base): (&str, &str),
    now: Now,
) -> Outcome<User> {
    let username = reg.username.as_str();
    let new = NewUser {
        email: reg.email.as_str(),
        username,
        display_name: reg.display_name.as_ref().map_or(username, DisplayName::as_str),
        password_hash: hash,
        is_root: false,
        email_verified_at: None,
    };
    let user = match users::insert(c, &new, now)? {
        Ok(u) => u,
        Err(Taken::Email) => {
            return Err(ApiError::conflict(
                ProblemCode::EmailTaken,
                "An account with this email already exists; sign in or reset the password.",
            ));
        }
        Err(Taken::Username) => {
            return Err(ApiError::conflict(
                ProblemCode::UsernameTaken,
                format!("The username {username} is taken."),
            ));
        }
    };
    send_link(c, base, &user, &VERIFY_LINK, now)?;
    let after = json!({"email": user.email, "username": user.username});
    audit::record(c, &event(&user, Action::UserRegistered, None, Some(after)), now)?;
    Ok(user)
}

/// A kind of emailed link: what its token is for, how long it works, and
/// the email carrying it (made from the app's base address, the recipient,
/// their username and the token).
struct Link {
    purpose: Purpose,
    ttl_hours: i64,
    mail: fn(&str, &str, &str, &str) -> NewMail,
}

/// The link that verifies an email address.
const VERIFY_LINK: Link = Link {
    purpose: Purpose::VerifyEmail,
    ttl_hours: VERIFY_EMAIL_TTL_HOURS,
    mail: templates::verify_email,
};

/// The link that resets a password.
const RESET_LINK: Link = Link {
    purpose: Purpose::PasswordReset,
    ttl_hours: PASSWORD_RESET_TTL_HOURS,
    mail: templates::password_reset,
};

/// Queues a `link` email to `user` with a fresh token (older links of its
/// purpose stop working).
fn send_link(c: &mut Conn, base: &str, user: &User, link: &Link, now: Now) -> Outcome<()> {
    let token = SecretToken::generate();
    let hash = token.hash();
    let expires_at = now + Duration::hours(link.ttl_hours);
    email_tokens::replace(c, user.id, link.purpose, hash.as_str(), &user.email, expires_at, now)?;
    outbox::enqueue(c, &(link.mail)(base, &user.email, &user.username, token.as_str()), now)?;
    Ok(())
}

/// The inbox is proven (verification link, reset link, or an emailed
/// invitation token): marks the email verified. When that is the account's
/// first verification, every grant it made to others ends as well: the
/// address's real owner must not inherit what a squatter of the address set
/// up. Decided by the conditional update itself, so two proofs at once
/// cannot both (or neither) count as the first.
pub(crate) fn prove_inbox(c: &mut Conn, user: &User, now: Now) -> Outcome<()> {
    // The conditional update says whether this proof is the first.
    let was_ever_verified = !users::mark_email_verified(c, user.id, now)?;
    if keyholder_domain::account::first_proof_revokes_earlier_grants(was_ever_verified) {
        revoke_unverified_grants(c, user, now)?;
    }
    Ok(())
}

/// Ends every grant a never-verified account made to others, with an audit
/// event when there was any.
pub(crate) fn revoke_unverified_grants(c: &mut Conn, user: &User, now: Now) -> Outcome<()> {
    let revoked = grants::revoke_all_granted_by(c, user.id, now)?;
    if revoked.total() > 0 {
        tracing::warn!(user_id = %user.id, revoked = revoked.total(), "first proof of an inbox revoked grants made before it");
        let before = json!({
            "household_members": revoked.household_members,
            "pending_invitations": revoked.invitations,
            "shares": revoked.shares,
            "collaborators": revoked.collaborators,
            "estate_members": revoked.estate_members,
        });
        audit::record(
            c,
            &event(user, Action::UserUnverifiedGrantsRevoked, Some(before), None),
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
fn link_cooldown(c: &mut Conn, user: &User, purpose: Purpose, now: Now) -> Outcome<Option<u64>> {
    keyholder_store::locks::users(c, &[user.id])?;
    let kind = match purpose {
        Purpose::VerifyEmail => "verify_email",
        Purpose::PasswordReset => "password_reset",
    };
    let today = outbox::queued_for_since(c, &user.email, &[kind], now - Duration::hours(24))?;
    if today >= LINKS_PER_DAY {
        return Ok(Some(3600));
    }
    Ok(email_tokens::last_sent(c, user.id, purpose)?.and_then(|at| {
        let left = LINK_COOLDOWN_SECONDS - (now - at).num_seconds();
        u64::try_from(left).ok().filter(|s| *s > 0)
    }))
}

/// 403 `account_disabled`: root disabled the account (said only to whoever
/// gave its password).
pub fn account_disabled() -> ApiError {
    ApiError::forbidden(
        ProblemCode::AccountDisabled,
        "This account is disabled; contact your administrator.",
    )
}

/// The one answer to any failed sign-in.
pub fn invalid_credentials() -> ApiError {
    ApiError::unauthorized(
        ProblemCode::InvalidCredentials,
        "The login or the password is not correct.",
    )
}

/// A login no account can have (a control character; PostgreSQL text
/// cannot hold NUL) is refused at once, before any lookup, with the same
/// 401 as any failed sign-in.
pub fn refuse_impossible_login(login: &str) -> Outcome<()> {
    if login.chars().any(|c| values::is_refused_control(c, false)) {
        return Err(invalid_credentials());
    }
    Ok(())
}

/// The account with this email or username, if any.
pub fn by_login(c: &mut Conn, login: &str) -> Outcome<Option<User>> {
    Ok(users::find_by_login(c, login)?)
}

fn token_invalid(detail: &'static str) -> ApiError {
    ApiError::not_found(ProblemCode::TokenInvalid, detail)
}

fn token_used() -> ApiError {
    ApiError::conflict(ProblemCode::TokenUsed, "This link has already been used.")
}

const UNKNOWN_TOKEN: &str = "This link is not valid: it may have been replaced by a newer one.";

/// Looks up a one-time email token and answers why it cannot be used.
fn usable_token(c: &mut Conn, purpose: Purpose, token: &str, now: Now) -> Outcome<EmailToken> {
    let found = email_tokens::find(c, purpose, TokenHash::of(token.trim()).as_str())?;
    let Some(found) = found else {
        return Err(token_invalid(UNKNOWN_TOKEN));
    };
    if found.used_at.is_some() {
        return Err(token_used());
    }
    if found.expires_at <= now {
        return Err(ApiError::gone(
            ProblemCode::TokenExpired,
            "This link has expired; ask for a new one.",
        ));
    }
    Ok(found)
}

/// Verify an email address with the token from the emailed link.
pub fn verify_email(c: &mut Conn, token: &str, now: Now) -> Outcome<()> {
    let found = usable_token(c, Purpose::VerifyEmail, token, now)?;
    let user = users::get(c, found.user_id)?;
    if user.email != found.email {
        return Err(token_invalid("This link was sent to an address the account no longer uses."));
    }
    if !email_tokens::consume(c, found.id, now)? {
        return Err(token_used());
    }
    prove_inbox(c, &user, now)?;
    let before = json!({"email_verified": user.email_verified()});
    let after = json!({"email_verified": true});
    audit::record(c, &event(&user, Action::UserEmailVerified, Some(before), Some(after)), now)?;
    Ok(())
}

/// Send a new verification link to the caller (409 once verified; 429
/// within the cooldown, so whoever holds the session, perhaps someone who
/// registered another person's address, cannot flood that inbox).
pub fn resend_verification(c: &mut Conn, actor: &Caller, base: &str, now: Now) -> Outcome<()> {
    let user = actor.user(c)?;
    send_verification_link(c, &user, base, now)
}

/// 429 `email_recently_sent`: another link may go out in `wait` seconds.
pub(crate) fn recently_sent(wait: u64) -> ApiError {
    let mut err = ApiError::new(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        ProblemCode::EmailRecentlySent,
        format!("A link was sent moments ago; you can ask for another in {wait} seconds."),
    );
    err.retry_after = Some(wait);
    err
}

/// Sends `user` a new verification link: 409 `already_verified` once
/// verified, 429 within the cooldown.
pub(crate) fn send_verification_link(
    c: &mut Conn,
    user: &User,
    base: &str,
    now: Now,
) -> Outcome<()> {
    if user.email_verified() {
        return Err(ApiError::conflict(
            ProblemCode::AlreadyVerified,
            "Your email address is already verified.",
        ));
    }
    if let Some(wait) = link_cooldown(c, user, Purpose::VerifyEmail, now)? {
        return Err(recently_sent(wait));
    }
    send_link(c, base, user, &VERIFY_LINK, now)
}

/// Sends `user` a password reset link, as root asks (429 within the
/// cooldown, which the public route keeps quiet about).
pub(crate) fn send_reset_link(c: &mut Conn, user: &User, base: &str, now: Now) -> Outcome<()> {
    if let Some(wait) = link_cooldown(c, user, Purpose::PasswordReset, now)? {
        return Err(recently_sent(wait));
    }
    send_link(c, base, user, &RESET_LINK, now)
}

/// Email a password reset link to the account with this email, if there is
/// one and no link went out within the cooldown. Whether one was queued.
pub fn password_reset(c: &mut Conn, email: &Email, base: &str, now: Now) -> Outcome<bool> {
    let Some(user) = users::find_by_email(c, email.as_str())? else {
        return Ok(false);
    };
    // Same answer, but no second email within the cooldown.
    if link_cooldown(c, &user, Purpose::PasswordReset, now)?.is_some() {
        return Ok(false);
    }
    send_link(c, base, &user, &RESET_LINK, now)?;
    Ok(true)
}

/// 404 `token_invalid` unless a reset link with this token was sent (asked
/// before the new password is checked or hashed).
pub fn reset_token_known(c: &mut Conn, token: &str) -> Outcome<()> {
    let hash = TokenHash::of(token.trim());
    match email_tokens::find(c, Purpose::PasswordReset, hash.as_str())? {
        Some(_) => Ok(()),
        None => Err(token_invalid(UNKNOWN_TOKEN)),
    }
}

/// Set the password hash `hash` with the token from a reset link: the token
/// works once, earlier sessions end, and the inbox counts as proven. A link
/// sent to an address the account no longer uses is refused (404
/// `token_invalid`).
pub fn reset_password(c: &mut Conn, token: &str, hash: &str, now: Now) -> Outcome<()> {
    let found = usable_token(c, Purpose::PasswordReset, token, now)?;
    if !email_tokens::consume(c, found.id, now)? {
        return Err(token_used());
    }
    let user = users::get(c, found.user_id)?;
    if user.email != found.email {
        return Err(token_invalid("This link was sent to an address the account no longer uses."));
    }
    users::set_password_hash(c, user.id, hash, now)?;
    email_tokens::revoke_all(c, user.id, Purpose::PasswordReset)?;
    super::sessions::end_all(c, &user)?;
    prove_inbox(c, &user, now)?;
    audit::record(c, &event(&user, Action::UserPasswordReset, None, None), now)?;
    outbox::enqueue(c, &templates::password_changed(&user.email, &user.username), now)?;
    Ok(())
}
