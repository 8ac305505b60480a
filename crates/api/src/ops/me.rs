//! The signed-in user: their account, their profile, and changing their
//! password.

use keyholder_store::audit::{self, Action};
use keyholder_store::email_tokens::{self, Purpose};
use keyholder_store::outbox;
use keyholder_store::users::{self, User};

use keyholder_domain::values::{DisplayName, Username};
use serde_json::json;

use super::accounts::event;
use crate::auth::Caller;
use crate::error::{ApiError, FieldErrors};
use crate::mail::templates;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::problems::ProblemCode;
use crate::views::access::{GrantEstate, GrantResource, MyGrantView};
use crate::views::accounts::MeView;
use crate::views::common::{Cursor, CursorPage, CursorQuery, UserSummary};
use keyholder_store::my_access;

/// The caller's account.
pub fn me(c: &mut Conn, actor: &Caller) -> Outcome<MeView> {
    Ok(MeView::from(&actor.user(c)?))
}

/// What a profile edit changes: `None` keeps a field; `Some(None)` (a
/// `null`) is refused, as both are required.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub username: Option<Option<String>>,
    pub display_name: Option<Option<String>>,
}

/// [`me`] with the caller's row locked first, as a conditional profile
/// edit reads it before comparing `If-Match`.
pub fn me_locked(c: &mut Conn, actor: &Caller) -> Outcome<MeView> {
    keyholder_store::locks::users(c, &[actor.id])?;
    me(c, actor)
}

/// Edit my username and display name: the fields sent change (checked as
/// at registration, 422 naming each bad one; another account's username,
/// in any case, is 409 `username_taken`), the others stay. An audit event
/// names what changed.
pub fn update_profile(
    c: &mut Conn,
    actor: &Caller,
    change: ProfileChange,
    now: Now,
) -> Outcome<MeView> {
    let user = actor.user(c)?;
    let mut v = FieldErrors::new();
    let mut field = |name: &str, sent: Option<Option<String>>| match sent {
        None => None,
        Some(None) => {
            v.add(name, "must not be null");
            None
        }
        Some(Some(value)) => Some(value),
    };
    let username = field("username", change.username);
    let display_name = field("display_name", change.display_name);
    let username = username.and_then(|u| v.check("username", Username::parse(&u)));
    let display_name = display_name.and_then(|d| v.check("display_name", DisplayName::parse(&d)));
    v.finish()?;
    let new_username = username.as_ref().map_or(user.username.as_str(), Username::as_str);
    let new_display = display_name.as_ref().map_or(user.display_name.as_str(), DisplayName::as_str);
    if new_username == user.username && new_display == user.display_name {
        return Ok(MeView::from(&user));
    }
    let updated = match users::set_profile(c, user.id, new_username, new_display, now)? {
        Ok(u) => u,
        Err(_) => {
            return Err(ApiError::conflict(
                ProblemCode::UsernameTaken,
                format!("The username {new_username} is taken."),
            ));
        }
    };
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    if updated.username != user.username {
        before.insert("username".into(), json!(user.username));
        after.insert("username".into(), json!(updated.username));
    }
    if updated.display_name != user.display_name {
        before.insert("display_name".into(), json!(user.display_name));
        after.insert("display_name".into(), json!(updated.display_name));
    }
    let ev = event(&updated, Action::UserProfileChanged, Some(before.into()), Some(after.into()));
    audit::record(c, &ev, now)?;
    Ok(MeView::from(&updated))
}

/// Everything that gives me access, one grant a row, newest first.
pub fn access(
    c: &mut Conn,
    actor: &Caller,
    q: &CursorQuery,
    now: Now,
) -> Outcome<CursorPage<MyGrantView>> {
    let user = actor.user(c)?;
    let page = my_access::grants(c, user.id, &q.window(|cursor: &Cursor| cursor.instant_and())?)?;
    let next = page
        .items
        .last()
        .filter(|_| page.more)
        .map(|g| Cursor::at_and(g.since, g.kind.as_str(), g.resource_id));
    let items = page.items.into_iter().map(|g| grant_view(g, now)).collect();
    Ok(CursorPage::new(items, page.counted, q, next))
}

pub(crate) fn grant_view(g: my_access::Grant, now: Now) -> MyGrantView {
    use my_access::GrantKind as K;
    let type_ = match g.kind {
        K::EstateRole => "estate",
        K::SiteOverride => "site",
        K::Collaborator | K::Share => "asset",
        K::Household => "household",
    };
    let head = (g.kind == K::Household).then(|| UserSummary {
        id: g.resource_id,
        username: g.username.clone().unwrap_or_default(),
        display_name: g.resource_name.clone(),
        email: None,
    });
    MyGrantView {
        kind: g.kind.as_str(),
        resource: GrantResource { type_, id: g.resource_id, name: g.resource_name },
        estate: g.estate.map(|(id, name)| GrantEstate { id, name }),
        head,
        role: g.role,
        since: g.since,
        until: g.until,
        active: g.until.is_none_or(|t| t > now),
    }
}

/// Set `user`'s password hash to `hash` (checked against the current
/// password and computed before the transaction): every earlier session and
/// reset link ends, and a proven inbox hears about it. The account as
/// changed.
pub fn change_password(c: &mut Conn, user: &User, hash: &str, now: Now) -> Outcome<User> {
    users::set_password_hash(c, user.id, hash, now)?;
    email_tokens::revoke_all(c, user.id, Purpose::PasswordReset)?;
    audit::record(c, &event(user, Action::UserPasswordChanged, None, None), now)?;
    // Only a proven inbox hears about it: otherwise whoever registered the
    // address could mail it at will.
    if user.email_verified() {
        outbox::enqueue(c, &templates::password_changed(&user.email, &user.username), now)?;
    }
    Ok(users::get(c, user.id)?)
}
