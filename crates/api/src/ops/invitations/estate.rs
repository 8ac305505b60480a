//! Estate invitations: what differs from the shared lifecycle. Owners and
//! admins manage them; a registered, verified invitee is granted the role at
//! once instead of being emailed.

use crate::problems::ProblemCode;
use keyholder_domain::EstateRole;
use keyholder_domain::InvitationState;
use keyholder_domain::estate::{self, GrantRefusal};
use keyholder_domain::invitation::ResendExpiry;
use keyholder_domain::values::Email;

use keyholder_store::audit::{self, Action};
use keyholder_store::estates;
use keyholder_store::invitations::{self, ResourceType, TableFilter};
use keyholder_store::locks;
use keyholder_store::paging::Window;
use keyholder_store::users::{self, User};
use serde_json::json;
use uuid::Uuid;

use super::{Fields, Managed, Resource, Sending, issue};
use crate::auth::{Caller, require_verified};
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Deferred;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::ops::estates::{EstateAccess, caller_estate};
use crate::ops::members::member_view;
use crate::views::common::{CursorPage, CursorQuery, UserSummary, parse_field};
use crate::views::invitations::{EstateInvitationView, InviteOutcome, StatsView, UserSearchResult};

/// The caller and the estate, 403 `insufficient_role` unless they may
/// invite members there.
fn inviting(c: &mut Conn, caller: &Caller, estate_id: Uuid) -> Outcome<(User, EstateAccess)> {
    let (user, access) = caller_estate(c, caller, estate_id)?;
    if !estate::may_invite_members(&access.actor) {
        return Err(ApiError::refused(GrantRefusal::InsufficientRole));
    }
    Ok((user, access))
}

/// Find a registered user by their whole email, to grant them a role.
pub struct UserSearch {
    pub estate_id: Uuid,
    pub email: String,
    pub sending: Sending,
}

pub fn user_search(c: &mut Conn, caller: &Caller, cmd: UserSearch) -> Outcome<UserSearchResult> {
    let (user, _) = inviting(c, caller, cmd.estate_id)?;
    cmd.sending.budget.spend(user.id)?;
    let not_found = || {
        ApiError::not_found(
            ProblemCode::UserNotFound,
            "No registered user without access has exactly this email.",
        )
    };
    let email = Email::parse(&cmd.email).map_err(|_| not_found())?;
    let found = users::find_by_email(c, email.as_str())?
        .filter(|u| u.email_verified() && !u.is_root)
        .ok_or_else(not_found)?;
    if estates::member_role(c, cmd.estate_id, found.id)?.is_some() {
        return Err(not_found());
    }
    Ok(UserSearchResult {
        user: UserSummary {
            id: found.id,
            username: found.username,
            display_name: found.display_name,
            email: Some(found.email),
        },
    })
}

/// Invite someone to the estate by email.
pub struct Invite {
    pub estate_id: Uuid,
    pub fields: Deferred<Fields>,
    pub sending: Sending,
}

pub fn invite(c: &mut Conn, caller: &Caller, cmd: Invite, now: Now) -> Outcome<InviteOutcome> {
    locks::estate(c, cmd.estate_id)?;
    let (user, access) = inviting(c, caller, cmd.estate_id)?;
    require_verified(&user, keyholder_domain::account::SharingAction::EstateGrant)?;
    let draft = cmd.fields?.check(ResourceType::Estate, now)?;
    let super::Offer::Role(role) = draft.offer else {
        return Err(ApiError::internal());
    };
    estate::check_grant_new_member(&access.actor, role).map_err(ApiError::refused)?;
    cmd.sending.admit(&user, &draft.email)?;
    if let Some(existing) =
        users::find_by_email(c, draft.email.as_str())?.filter(User::email_verified)
    {
        return grant_at_once(c, &user, &access, &existing, role, now);
    }
    let resource = Resource::estate(&access.estate);
    let inv = issue(c, &user, &resource, &draft, &cmd.sending, now)?;
    Ok(InviteOutcome {
        outcome: "invited",
        member: None,
        invitation: Some(EstateInvitationView::new(&inv, &resource, now)),
    })
}

/// A verified account gets the role without an email.
fn grant_at_once(
    c: &mut Conn,
    user: &User,
    access: &EstateAccess,
    existing: &User,
    role: EstateRole,
    now: Now,
) -> Outcome<InviteOutcome> {
    let id = access.estate.id;
    if estates::member_role(c, id, existing.id)?.is_some() {
        return Err(ApiError::conflict(
            ProblemCode::AlreadyMember,
            "This user is already a member of the estate.",
        ));
    }
    estates::add_member(c, id, existing.id, role, now)?;
    let after = json!({"user_id": existing.id, "role": role});
    let resource = Resource::estate(&access.estate);
    audit::record(c, &resource.event(user, Action::MemberAdded, None, Some(after)), now)?;
    let what = format!("the estate {} as {}", access.estate.name, role.as_str());
    crate::ops::notify::granted(c, existing.id, &what, user, now)?;
    Ok(InviteOutcome {
        outcome: "granted",
        member: Some(member_view(c, access, existing.id)?),
        invitation: None,
    })
}

/// The estate's invitations, newest first, optionally by status.
pub struct List {
    pub estate_id: Uuid,
    /// Text in the invitee's email, in any case.
    pub q: Option<String>,
    pub status: Option<String>,
    pub role: Option<String>,
    /// `invited_at` (default: newest first), `expires_at` or `email`; a
    /// leading `-` sorts descending.
    pub sort: Option<String>,
    pub paging: CursorQuery,
}

pub fn list(
    c: &mut Conn,
    caller: &Caller,
    q: List,
    now: Now,
) -> Outcome<CursorPage<EstateInvitationView>> {
    let (_, access) = inviting(c, caller, q.estate_id)?;
    let sort = super::asset::parse_sort(q.sort.as_deref())?;
    let status =
        q.status.as_deref().map(|s| parse_field::<InvitationState>("status", s)).transpose()?;
    let role = q.role.as_deref().map(|r| parse_field::<EstateRole>("role", r)).transpose()?;
    let after = q
        .paging
        .after()?
        .map(|cursor| Ok::<_, ApiError>((super::asset::table_key(sort, &cursor)?, cursor.id)))
        .transpose()?;
    let filter = TableFilter {
        q: q.q.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        status,
        permission: role.map(|r| r.as_str().to_owned()),
        asset_id: None,
        batch_id: None,
    };
    let window = Window { limit: q.paging.per_page(), offset: q.paging.offset(), after };
    let page = invitations::estate_table(c, q.estate_id, &filter, sort, now, &window)?;
    let next = page.items.last().filter(|_| page.more).map(|i| super::asset::table_cursor(sort, i));
    let resource = Resource::estate(&access.estate);
    let items = page.items.iter().map(|i| EstateInvitationView::new(i, &resource, now)).collect();
    Ok(CursorPage::new(items, page.counted, &q.paging, next))
}

/// One invitation of the estate, managed by a caller who may grant its role.
pub struct Target {
    pub estate_id: Uuid,
    pub invitation_id: Uuid,
}

fn managed(c: &mut Conn, caller: &Caller, t: &Target) -> Outcome<Managed> {
    let (user, access) = inviting(c, caller, t.estate_id)?;
    let inv = invitations::get_for_resource(c, ResourceType::Estate, t.estate_id, t.invitation_id)?
        .ok_or_else(no_such_invitation)?;
    let role: EstateRole = inv.role.parse().map_err(|_| ApiError::internal())?;
    estate::check_grant_new_member(&access.actor, role).map_err(ApiError::refused)?;
    Ok(Managed { user, inv, resource: Resource::estate(&access.estate) })
}

fn no_such_invitation() -> ApiError {
    ApiError::not_found(ProblemCode::InvitationNotFound, "No such invitation in this estate.")
}

/// One invitation of the estate (owners, admins, root; 404 for another
/// estate's).
pub fn details(
    c: &mut Conn,
    caller: &Caller,
    t: &Target,
    now: Now,
) -> Outcome<EstateInvitationView> {
    let (_, access) = inviting(c, caller, t.estate_id)?;
    let inv = invitations::get_for_resource(c, ResourceType::Estate, t.estate_id, t.invitation_id)?
        .ok_or_else(no_such_invitation)?;
    Ok(EstateInvitationView::new(&inv, &Resource::estate(&access.estate), now))
}

/// The six stats cards of the estate's invitations (owners, admins, root).
pub fn stats(c: &mut Conn, caller: &Caller, estate_id: Uuid, now: Now) -> Outcome<StatsView> {
    inviting(c, caller, estate_id)?;
    Ok(StatsView::from(invitations::estate_stats(c, estate_id, now)?))
}

fn view(m: &Managed, now: Now) -> EstateInvitationView {
    EstateInvitationView::new(&m.inv, &m.resource, now)
}

pub fn resend(
    c: &mut Conn,
    caller: &Caller,
    (t, requested, sending): (Target, ResendExpiry, Sending),
    now: Now,
) -> Outcome<EstateInvitationView> {
    let mut m = managed(c, caller, &t)?;
    super::resend(c, &mut m, requested, &sending, now)?;
    Ok(view(&m, now))
}

pub fn cancel(c: &mut Conn, caller: &Caller, t: Target, now: Now) -> Outcome<EstateInvitationView> {
    let mut m = managed(c, caller, &t)?;
    super::cancel(c, &mut m, now)?;
    Ok(view(&m, now))
}
