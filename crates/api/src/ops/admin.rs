//! The administrators' console (root only): find accounts, see what one
//! holds, disable and enable it, send it a password reset or verification
//! link. Every action is in the audit trail.

use keyholder_domain::account::check_may_disable;
use keyholder_store::audit::{self, Action};
use keyholder_store::paging::Window;
use keyholder_store::users::{self, AccountFilter, AccountStatus, User};
use keyholder_store::{locks, my_access, sessions};
use serde_json::json;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::{Conn, Now, Outcome};
use crate::problems::ProblemCode;
use crate::views::admin::{AdminUserDetail, AdminUserView};
use crate::views::common::{Cursor, CursorPage, CursorQuery};

/// How many of a user's grants the detail shows.
const GRANTS_SHOWN: i64 = 500;

/// The caller, who must be root (403 `root_required` otherwise).
fn root(c: &mut Conn, actor: &Caller) -> Outcome<User> {
    let user = actor.user(c)?;
    if !user.is_root {
        return Err(ApiError::forbidden(
            ProblemCode::RootRequired,
            "Only a root account may do this.",
        ));
    }
    Ok(user)
}

fn not_found() -> ApiError {
    ApiError::not_found(ProblemCode::UserNotFound, "No such account.")
}

/// An account by id (404 `user_not_found`).
fn account(c: &mut Conn, id: Uuid) -> Outcome<User> {
    users::find(c, id)?.ok_or_else(not_found)
}

/// A status filter as sent (422 otherwise).
pub fn status(s: &str) -> Outcome<AccountStatus> {
    Ok(match s {
        "active" => AccountStatus::Active,
        "disabled" => AccountStatus::Disabled,
        "deleted" => AccountStatus::Deleted,
        "unverified" => AccountStatus::Unverified,
        "root" => AccountStatus::Root,
        _ => {
            return Err(ApiError::field(
                "status",
                "must be one of active, disabled, deleted, unverified, root",
            ));
        }
    })
}

/// One page of accounts, newest first.
pub fn list(
    c: &mut Conn,
    actor: &Caller,
    filter: &AccountFilter,
    q: &CursorQuery,
) -> Outcome<CursorPage<AdminUserView>> {
    root(c, actor)?;
    let page = users::list(c, filter, &q.window(Cursor::instant)?)?;
    let next = page.items.last().filter(|_| page.more).map(|u| Cursor::at(u.created_at, u.id));
    let items = page.items.iter().map(AdminUserView::from).collect();
    Ok(CursorPage::new(items, page.counted, q, next))
}

/// One account with everything that gives it access and its live sessions.
pub fn detail(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<AdminUserDetail> {
    root(c, actor)?;
    let user = account(c, id)?;
    let grants = my_access::grants(c, user.id, &Window::first(GRANTS_SHOWN))?;
    let live = sessions::list(c, user.id, &Window::first(1), now)?.counted;
    Ok(AdminUserDetail {
        user: AdminUserView::from(&user),
        access: grants.items.into_iter().map(|g| super::me::grant_view(g, now)).collect(),
        access_complete: !grants.more,
        sessions: live,
    })
}

/// Disable an account: it cannot sign in, and every session of it ends at
/// once. Not root's own, not the last enabled root (409); a deleted
/// account is 404.
pub fn disable(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<AdminUserView> {
    root(c, actor)?;
    // The root accounts' rows and the target's, in one id order, before
    // anything is judged: two roots disabling each other run one after the
    // other, and the second sees the first's change (its own session gone,
    // or one enabled root left).
    let mut rows = users::root_ids(c)?;
    rows.push(id);
    rows.sort_unstable();
    rows.dedup();
    locks::users(c, &rows)?;
    let admin = root(c, actor)?;
    let target = account(c, id)?;
    if target.deleted_at.is_some() {
        return Err(not_found());
    }
    if target.disabled_at.is_some() {
        return Ok(AdminUserView::from(&target));
    }
    let enabled = usize::try_from(users::enabled_roots(c)?).unwrap_or(usize::MAX);
    check_may_disable(admin.id, target.id, target.is_root, enabled).map_err(ApiError::refused)?;
    let updated = users::set_disabled(c, target.id, Some(now), now)?;
    let ended = sessions::end_all_but(c, target.id, None)?;
    let after = json!({"disabled": true, "sessions_ended": ended});
    audit::record(
        c,
        &super::event(&admin, Action::UserDisabled, "user", target.id, None, Some(after)),
        now,
    )?;
    Ok(AdminUserView::from(&updated))
}

/// Enable a disabled account again (it signs in anew).
pub fn enable(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<AdminUserView> {
    let admin = root(c, actor)?;
    locks::users(c, &[id])?;
    let target = account(c, id)?;
    if target.deleted_at.is_some() {
        return Err(not_found());
    }
    if target.disabled_at.is_none() {
        return Ok(AdminUserView::from(&target));
    }
    let updated = users::set_disabled(c, target.id, None, now)?;
    let before = json!({"disabled": true});
    let after = json!({"disabled": false});
    audit::record(
        c,
        &super::event(&admin, Action::UserEnabled, "user", target.id, Some(before), Some(after)),
        now,
    )?;
    Ok(AdminUserView::from(&updated))
}

/// Which emailed link root sends an account.
#[derive(Debug, Clone, Copy)]
pub enum Link {
    /// A password reset link (429 within the cooldown).
    PasswordReset,
    /// A new verification link (409 once verified, 429 within the
    /// cooldown).
    Verification,
}

/// Send the account a `link`; audited.
pub fn send_link(
    c: &mut Conn,
    actor: &Caller,
    (id, link): (Uuid, Link),
    base: &str,
    now: Now,
) -> Outcome<()> {
    let admin = root(c, actor)?;
    let target = account(c, id)?;
    if target.deleted_at.is_some() {
        return Err(not_found());
    }
    let action = match link {
        Link::PasswordReset => {
            super::accounts::send_reset_link(c, &target, base, now)?;
            Action::UserPasswordResetSent
        }
        Link::Verification => {
            super::accounts::send_verification_link(c, &target, base, now)?;
            Action::UserVerificationResent
        }
    };
    let after = json!({"to": target.email});
    audit::record(c, &super::event(&admin, action, "user", target.id, None, Some(after)), now)?;
    Ok(())
}
