//! Sessions: opening one at sign-in, refreshing its access token with a
//! rotating refresh token, and ending one, the others or all of them.
//! Every access token names its session; the one-statement caller read
//! refuses it once the session is gone, so an ended session's token fails
//! on its next request.

use chrono::Duration;
use keyholder_domain::token::{SecretToken, TokenHash};
use keyholder_store::audit::{self, Action};
use keyholder_store::outbox;
use keyholder_store::sessions::{self, Client, Rotation, Session};
use keyholder_store::users::{self, User};
use serde_json::json;
use uuid::Uuid;

use super::accounts::event;
use crate::auth::{Caller, TokenKeys};
use crate::error::ApiError;
use crate::mail::templates;
use crate::ops::{Conn, Now, Outcome};
use crate::problems::ProblemCode;
use crate::views::accounts::{AuthResponse, MeView, RevokedSessions, SessionView};
use crate::views::common::{Cursor, CursorPage, CursorQuery};

/// Where a sign-in comes from: the client's `User-Agent` (control
/// characters dropped, at most 256 characters) and address.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub address: Option<String>,
}

impl ClientInfo {
    pub fn new(user_agent: Option<&str>, address: Option<String>) -> Self {
        let user_agent = user_agent
            .map(|ua| ua.chars().filter(|c| !c.is_control()).take(256).collect::<String>())
            .map(|ua| ua.trim().to_owned())
            .filter(|ua| !ua.is_empty());
        Self { user_agent, address }
    }
}

/// Seconds as a duration (saturating).
fn seconds(s: u64) -> Duration {
    Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1_000_000))
}

/// The answer that signs `user` in to `session`, with its refresh token.
fn signed_in(
    keys: &TokenKeys,
    user: &User,
    session: &Session,
    refresh: &SecretToken,
    now: Now,
) -> Outcome<AuthResponse> {
    let (access_token, expires_in) = keys.issue(user, (session.id, session.expires_at), now)?;
    Ok(AuthResponse {
        user: MeView::from(user),
        access_token,
        token_type: "Bearer",
        expires_in,
        refresh_token: refresh.as_str().to_owned(),
        refresh_expires_in: keys.refresh_ttl_seconds,
        session_id: session.id,
    })
}

/// Opens a session for `user` (sign-in, registration, sign-up by
/// invitation, a password change): its first refresh token is stored
/// hashed, and the answer carries the tokens.
pub fn open(
    c: &mut Conn,
    keys: &TokenKeys,
    user: &User,
    client: &ClientInfo,
    now: Now,
) -> Outcome<AuthResponse> {
    let refresh = SecretToken::generate();
    let expires_at = now + seconds(keys.refresh_ttl_seconds);
    let from =
        Client { user_agent: client.user_agent.as_deref(), address: client.address.as_deref() };
    let session = sessions::start(c, user.id, &from, refresh.hash().as_str(), (now, expires_at))?;
    signed_in(keys, user, &session, &refresh, now)
}

/// Signs `user` in with their password: a session, and, when the client
/// (its `User-Agent` and address) matches none of the account's live
/// sessions, a "new sign-in" security email to a verified inbox (it cannot
/// be turned off).
pub fn sign_in(
    c: &mut Conn,
    keys: &TokenKeys,
    checked: &User,
    client: &ClientInfo,
    now: Now,
) -> Outcome<AuthResponse> {
    // The password was checked before this transaction: under the
    // account's lock, the account must still be the one checked (no
    // password change, disable or deletion since), or a session could
    // begin after the change that should have ended them all.
    keyholder_store::locks::users(c, &[checked.id])?;
    let user = &users::get(c, checked.id)?;
    if user.deleted_at.is_some()
        || user.password_hash != checked.password_hash
        || user.credentials_changed_at != checked.credentials_changed_at
    {
        return Err(super::accounts::invalid_credentials());
    }
    if user.disabled_at.is_some() {
        return Err(super::accounts::account_disabled());
    }
    let from =
        Client { user_agent: client.user_agent.as_deref(), address: client.address.as_deref() };
    let known = sessions::knows_client(c, user.id, &from, now)?;
    let answer = open(c, keys, user, client, now)?;
    if !known && user.email_verified() {
        let mail = templates::new_sign_in(
            &user.email,
            &user.username,
            from.user_agent.unwrap_or("an unknown client"),
            from.address.unwrap_or("an unknown address"),
            now,
        );
        outbox::enqueue(c, &mail, now)?;
    }
    Ok(answer)
}

fn refresh_refused(code: ProblemCode, detail: &'static str) -> ApiError {
    ApiError::unauthorized(code, detail)
}

/// Trades a refresh token for a new access token and its successor. A
/// rotated token presented again ends its session (someone replayed it);
/// the ending commits even though the answer is 401, so the outer result
/// is the answer and the inner one what to send.
pub fn refresh(
    c: &mut Conn,
    keys: &TokenKeys,
    token: &str,
    now: Now,
) -> Outcome<Result<AuthResponse, ApiError>> {
    let next = SecretToken::generate();
    let expires_at = now + seconds(keys.refresh_ttl_seconds);
    let presented = TokenHash::of(token.trim());
    let rotation =
        sessions::rotate(c, presented.as_str(), next.hash().as_str(), (now, expires_at))?;
    Ok(match rotation {
        Rotation::Rotated(session) => {
            let user = users::get(c, session.user_id)?;
            // A session from before the last credentials change, or of a
            // deleted account, does not go on (neither should exist).
            if user.deleted_at.is_some() || session.created_at < user.credentials_changed_at {
                sessions::end(c, session.id)?;
                return Ok(Err(refresh_refused(
                    ProblemCode::RefreshTokenInvalid,
                    "This refresh token is not valid; sign in again.",
                )));
            }
            if user.disabled_at.is_some() {
                sessions::end(c, session.id)?;
                return Ok(Err(super::accounts::account_disabled()));
            }
            Ok(signed_in(keys, &user, &session, &next, now)?)
        }
        Rotation::Unknown => Err(refresh_refused(
            ProblemCode::RefreshTokenInvalid,
            "This refresh token is not valid; sign in again.",
        )),
        Rotation::Expired(_) => Err(refresh_refused(
            ProblemCode::SessionExpired,
            "This session has expired; sign in again.",
        )),
        Rotation::Reused(session) => {
            let user = users::get(c, session.user_id)?;
            tracing::warn!(user_id = %user.id, session_id = %session.id, "a rotated refresh token was presented again; the session is ended");
            let before = json!({"session_id": session.id});
            audit::record(
                c,
                &event(&user, Action::UserRefreshTokenReused, Some(before), None),
                now,
            )?;
            Err(refresh_refused(
                ProblemCode::RefreshTokenReused,
                "This refresh token was already used, so the session is ended to be safe; sign in again.",
            ))
        }
    })
}

/// Ends the caller's own session (signing out).
pub fn log_out(c: &mut Conn, actor: &Caller, _now: Now) -> Outcome<()> {
    actor.user(c)?;
    sessions::end(c, actor.session)?;
    Ok(())
}

/// The caller's sessions that can still be refreshed, newest first.
pub fn list(
    c: &mut Conn,
    actor: &Caller,
    q: &CursorQuery,
    now: Now,
) -> Outcome<CursorPage<SessionView>> {
    let user = actor.user(c)?;
    let page = sessions::list(c, user.id, &q.window(Cursor::instant)?, now)?;
    let next = page.items.last().filter(|_| page.more).map(|s| Cursor::at(s.created_at, s.id));
    let items = page.items.into_iter().map(|s| SessionView::new(s, actor.session)).collect();
    Ok(CursorPage::new(items, page.counted, q, next))
}

/// Ends one of the caller's sessions (404 `session_not_found` for one that
/// is not theirs or is over). Its access token fails on its next request.
pub fn revoke(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<()> {
    let user = actor.user(c)?;
    let Some(ended) = sessions::end_own(c, user.id, id)? else {
        return Err(ApiError::not_found(
            ProblemCode::SessionNotFound,
            "You have no session with this id.",
        ));
    };
    let before =
        json!({"session_id": ended.id, "user_agent": ended.user_agent, "address": ended.address});
    audit::record(c, &event(&user, Action::UserSessionRevoked, Some(before), None), now)?;
    Ok(())
}

/// Ends every session of the caller but the one asking.
pub fn revoke_others(c: &mut Conn, actor: &Caller, now: Now) -> Outcome<RevokedSessions> {
    let user = actor.user(c)?;
    let revoked = sessions::end_all_but(c, user.id, Some(actor.session))?;
    if revoked > 0 {
        let before = json!({"sessions": revoked, "kept": actor.session});
        audit::record(c, &event(&user, Action::UserSessionRevoked, Some(before), None), now)?;
    }
    Ok(RevokedSessions { revoked })
}

/// Ends every session of `user` (a password change or reset, a disabled
/// or deleted account).
pub fn end_all(c: &mut Conn, user: &User) -> Outcome<usize> {
    Ok(sessions::end_all_but(c, user.id, None)?)
}
