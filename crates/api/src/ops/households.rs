//! Households: every non-root user heads one; members inherit the assets on
//! which their head is a collaborator, at their role's level.

use crate::problems::ProblemCode;
use keyholder_domain::HouseholdRole;
use keyholder_domain::account::SharingAction;
use keyholder_domain::household::{self, AddMemberFacts, HouseholdUser};

use keyholder_store::audit;
use keyholder_store::audit::Action;
use keyholder_store::locks;
use keyholder_store::users::{self, User};
use keyholder_store::{collaborators, households};
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Caller, require_verified};
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::ratelimit::Budget;
use crate::views::common::{Cursor, CursorPage, CursorQuery, UserSummary, parse_field, person};
use crate::views::households::{HouseholdMemberView, HouseholdView, MembershipView};

/// Records `user`'s event on the household headed by `head`, with what it
/// was before and after.
fn record(
    c: &mut Conn,
    user: &User,
    action: Action,
    head: Uuid,
    (before, after): (Option<serde_json::Value>, Option<serde_json::Value>),
    now: Now,
) -> Outcome<()> {
    audit::record(c, &super::event(user, action, "household", head, before, after), now)?;
    Ok(())
}

/// The caller as the head of their household (root heads none).
fn head(c: &mut Conn, actor: &Caller) -> Outcome<User> {
    let user = actor.user(c)?;
    household::check_heads_household(HouseholdUser { id: user.id, is_root: user.is_root })
        .map_err(ApiError::refused)?;
    Ok(user)
}

fn household_view(c: &mut Conn, user: &User) -> Outcome<HouseholdView> {
    let members = households::household(c, user.id)?
        .iter()
        .map(|e| HouseholdMemberView {
            user: person(&e.person, false),
            role: e.role.into(),
            added_at: e.added_at,
        })
        .collect();
    let head = UserSummary {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        email: Some(user.email.clone()),
    };
    Ok(HouseholdView { head, members })
}

/// The caller's household and its members.
pub fn mine(c: &mut Conn, actor: &Caller) -> Outcome<HouseholdView> {
    let user = head(c, actor)?;
    household_view(c, &user)
}

/// The caller's household as a change to `member`'s membership of it finds
/// it: both users' rows locked first (in id order, as every household change
/// locks them), so a conditional change compares with what it then changes.
pub fn mine_locked(c: &mut Conn, actor: &Caller, member: Uuid) -> Outcome<HouseholdView> {
    keyholder_store::locks::users(c, &[actor.id, member])?;
    mine(c, actor)
}

pub struct AddMember {
    pub username: String,
    pub role: String,
    pub budget: Budget,
}

/// Add a member to the caller's household by exact username, with a role.
pub fn add_member(
    c: &mut Conn,
    actor: &Caller,
    cmd: AddMember,
    now: Now,
) -> Outcome<HouseholdMemberView> {
    let user = head(c, actor)?;
    require_verified(&user, SharingAction::HouseholdMember)?;
    cmd.budget.spend(user.id)?;
    let username = cmd.username.trim();
    let found = users::find_by_username(c, username)?.ok_or_else(|| {
        ApiError::not_found(ProblemCode::UserNotFound, format!("No user is named {username}."))
            .with_extra("username", json!(username))
    })?;
    let role: HouseholdRole = parse_field("role", &cmd.role)?;
    // Both households are read below (mutual membership is refused): lock
    // both users, in id order, before reading.
    locks::users(c, &[user.id, found.id])?;
    // Read again under the lock: an account deleted meanwhile is not added.
    let found = users::find(c, found.id)?.filter(|u| u.deleted_at.is_none()).ok_or_else(|| {
        ApiError::not_found(ProblemCode::UserNotFound, format!("No user is named {username}."))
            .with_extra("username", json!(username))
    })?;
    let facts = AddMemberFacts {
        already_member: households::household_role(c, user.id, found.id)?.is_some(),
        head_is_member_of_candidate: households::household_role(c, found.id, user.id)?.is_some(),
    };
    let h = HouseholdUser { id: user.id, is_root: user.is_root };
    let candidate = HouseholdUser { id: found.id, is_root: found.is_root };
    household::validate_add_member(h, candidate, facts).map_err(ApiError::refused)?;
    households::add_household_member(c, user.id, found.id, role, now)?;
    let after = json!({"user_id": found.id, "role": role});
    record(c, &user, Action::HouseholdMemberAdded, user.id, (None, Some(after)), now)?;
    let what = format!(
        "{}'s household, as {} of the assets they collaborate on",
        user.display_name,
        role.as_str()
    );
    super::notify::granted(c, found.id, &what, &user, now)?;
    let p = collaborators::Person {
        id: found.id,
        username: found.username,
        display_name: found.display_name,
        email: found.email,
    };
    Ok(HouseholdMemberView { user: person(&p, false), role: role.into(), added_at: now })
}

pub struct ChangeRole {
    pub member: Uuid,
    /// `None`: the role stays as it is.
    pub role: Option<String>,
}

/// Change a member's role in the caller's household.
pub fn change_role(
    c: &mut Conn,
    actor: &Caller,
    cmd: ChangeRole,
    now: Now,
) -> Outcome<HouseholdView> {
    let ChangeRole { member, role } = cmd;
    let user = actor.user(c)?;
    let current = households::household_role(c, user.id, member)?;
    household::check_change_role(user.id, user.id, current.is_some()).map_err(ApiError::refused)?;
    let Some(role) = role else {
        return household_view(c, &user);
    };
    let role: HouseholdRole = parse_field("role", &role)?;
    households::set_household_role(c, user.id, member, role)?;
    if current != Some(role) {
        let before = json!({"user_id": member, "role": current});
        let after = json!({"user_id": member, "role": role});
        let changed = (Some(before), Some(after));
        record(c, &user, Action::HouseholdRoleChanged, user.id, changed, now)?;
        if current.is_some_and(|was| role < was) {
            let what =
                format!("your role in {}'s household is now {}", user.display_name, role.as_str());
            super::notify::reduced(c, member, &what, &user, now)?;
        }
    }
    household_view(c, &user)
}

/// Remove a member from the caller's household.
pub fn remove_member(c: &mut Conn, actor: &Caller, member: Uuid, now: Now) -> Outcome<()> {
    end_membership(c, actor, |user| (user.id, member), Action::HouseholdMemberRemoved, now)
}

/// Ends a membership, when the caller (the head, or the member leaving)
/// may: `pair` names the household's head and the member, given the caller.
fn end_membership(
    c: &mut Conn,
    actor: &Caller,
    pair: impl FnOnce(&User) -> (Uuid, Uuid),
    action: Action,
    now: Now,
) -> Outcome<()> {
    let user = actor.user(c)?;
    let (head, member) = pair(&user);
    let current = households::household_role(c, head, member)?;
    household::check_manage_member(user.id, head, member, current.is_some())
        .map_err(ApiError::refused)?;
    households::remove_household_member(c, head, member)?;
    let before = json!({"user_id": member, "role": current});
    record(c, &user, action, head, (Some(before), None), now)
}

/// The households the caller belongs to, with their role in each.
pub fn memberships(
    c: &mut Conn,
    actor: &Caller,
    q: &CursorQuery,
) -> Outcome<CursorPage<MembershipView>> {
    let user = actor.user(c)?;
    let page = households::households_of(c, user.id, &q.window(Cursor::instant_and)?)?;
    let next = page
        .items
        .last()
        .filter(|_| page.more)
        .map(|e| Cursor::at_and(e.added_at, &e.person.username.to_lowercase(), e.person.id));
    let items = page
        .items
        .iter()
        .map(|e| MembershipView {
            head: person(&e.person, false),
            role: e.role.into(),
            added_at: e.added_at,
        })
        .collect();
    Ok(CursorPage::new(items, page.counted, q, next))
}

/// Leave the household headed by `head`.
pub fn leave(c: &mut Conn, actor: &Caller, head: Uuid, now: Now) -> Outcome<()> {
    end_membership(c, actor, |user| (head, user.id), Action::HouseholdMemberLeft, now)
}
