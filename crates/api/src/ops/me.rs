//! The signed-in user: their account, and changing their password.

use keyholder_store::audit::{self, Action};
use keyholder_store::email_tokens::{self, Purpose};
use keyholder_store::outbox;
use keyholder_store::users::{self, User};

use super::accounts::event;
use crate::auth::Caller;
use crate::mail::templates;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::views::accounts::MeView;

/// The caller's account.
pub fn me(c: &mut Conn, actor: &Caller) -> Outcome<MeView> {
    Ok(MeView::from(&actor.user(c)?))
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
