//! Estates: create, list, read, rename, delete, transfer ownership; and how
//! a caller's access to one estate is loaded and checked.

use crate::problems::ProblemCode;
use keyholder_domain::EstateRole;
use keyholder_domain::account::SharingAction;
use keyholder_domain::estate::{self, EstateActor, EstateCapability, GrantRefusal};
use keyholder_domain::values::Name;

use keyholder_store::access;
use keyholder_store::audit;
use keyholder_store::audit::Action;
use keyholder_store::estates::{self, Estate};
use keyholder_store::locks;
use keyholder_store::sites;
use keyholder_store::users::User;
use serde_json::json;
use uuid::Uuid;

use super::{Deferred, Rename, event};
use crate::auth::{Caller, require_verified};
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::views::common::{Cursor, CursorPage, CursorQuery};
use crate::views::estates::EstateView;

/// An estate as the caller may see it.
pub(crate) struct EstateAccess {
    pub(crate) estate: Estate,
    pub(crate) role: Option<EstateRole>,
    pub(crate) actor: EstateActor,
}

impl EstateAccess {
    /// Whether the caller sees members' emails here (they administer it).
    pub(crate) fn shows_emails(&self) -> bool {
        estate::administers_estate(self.actor.is_root, self.role)
    }

    fn can(&self, cap: EstateCapability) -> bool {
        self.actor.can(cap)
    }

    /// 403 `insufficient_role` unless the caller has `cap` here.
    pub(crate) fn require(&self, cap: EstateCapability, what: &str) -> Outcome<()> {
        if self.can(cap) {
            return Ok(());
        }
        let needed = match cap {
            EstateCapability::Read => "any estate role",
            EstateCapability::EditContent => "the editor role or above",
            EstateCapability::Delete | EstateCapability::TransferOwnership => "the owner role",
            _ => "the admin or owner role",
        };
        Err(ApiError::forbidden(
            ProblemCode::InsufficientRole,
            format!("{what} needs {needed} in this estate."),
        ))
    }
}

pub(crate) fn not_found_estate() -> ApiError {
    ApiError::not_found(ProblemCode::EstateNotFound, "No such estate.")
}

pub(crate) fn parse_name(name: &str) -> Outcome<Name> {
    Name::parse(name).map_err(|e| ApiError::field("name", e.to_string()))
}

/// The caller and the estate as they may see it, from one statement: 404
/// unless a member (or root).
pub(crate) fn caller_estate(
    c: &mut Conn,
    caller: &Caller,
    id: Uuid,
) -> Outcome<(User, EstateAccess)> {
    let (user, found) = caller.admit_read(access::estate(c, caller.bearer(), id)?)?;
    let (estate, role) = found.ok_or_else(not_found_estate)?;
    let actor = EstateActor { user_id: user.id, is_root: user.is_root, role };
    if !actor.sees() {
        return Err(not_found_estate());
    }
    Ok((user, EstateAccess { estate, role, actor }))
}

/// The estate as the caller may see it (404 unless a member, or root).
pub(crate) fn estate_access(c: &mut Conn, caller: &Caller, id: Uuid) -> Outcome<EstateAccess> {
    Ok(caller_estate(c, caller, id)?.1)
}

/// Locks the estate, then reads the caller and the estate under the lock,
/// so the checks see settled roles.
pub(crate) fn caller_estate_locked(
    c: &mut Conn,
    caller: &Caller,
    id: Uuid,
) -> Outcome<(User, EstateAccess)> {
    locks::estate(c, id)?;
    caller_estate(c, caller, id)
}

/// 409 `code` while `placed` assets are placed in `place` ("in this
/// estate", "at this site").
pub(crate) fn require_no_assets(placed: i64, code: ProblemCode, place: &str) -> Outcome<()> {
    if placed > 0 {
        return Err(ApiError::conflict(
            code,
            format!("{placed} assets are placed {place}; move or delete them first."),
        ));
    }
    Ok(())
}

/// Create an estate; the caller becomes its owner.
pub fn create(c: &mut Conn, actor: &Caller, name: &str, now: Now) -> Outcome<EstateView> {
    let user = actor.user(c)?;
    require_verified(&user, SharingAction::CreateEstate)?;
    let name = parse_name(name)?;
    let e = estates::create(c, name.as_str(), user.id, now)?;
    let after = json!({"name": e.name, "owner_id": user.id});
    let ev = event(&user, Action::EstateCreated, "estate", e.id, None, Some(after));
    audit::record(c, &ev, now)?;
    Ok(EstateView::new(&e, Some(EstateRole::Owner)))
}

/// The caller's estates, newest first, each with the caller's role.
pub fn list(c: &mut Conn, actor: &Caller, q: &CursorQuery) -> Outcome<CursorPage<EstateView>> {
    let user = actor.user(c)?;
    let page = estates::list_for_user(c, user.id, user.is_root, &q.window(Cursor::instant)?)?;
    let next = page.items.last().filter(|_| page.more).map(|(e, _)| Cursor::at(e.created_at, e.id));
    let items = page.items.iter().map(|(e, r)| EstateView::new(e, *r)).collect();
    Ok(CursorPage::new(items, page.counted, q, next))
}

/// One estate with the caller's role.
pub fn get(c: &mut Conn, actor: &Caller, id: Uuid) -> Outcome<EstateView> {
    let access = estate_access(c, actor, id)?;
    Ok(EstateView::new(&access.estate, access.role))
}

/// [`get`] with the estate locked first: the view a conditional write
/// (`If-Match`) compares.
pub fn get_locked(c: &mut Conn, actor: &Caller, id: Uuid) -> Outcome<EstateView> {
    let (_, access) = caller_estate_locked(c, actor, id)?;
    Ok(EstateView::new(&access.estate, access.role))
}

/// Rename an estate (admin or owner).
pub fn rename(c: &mut Conn, actor: &Caller, cmd: Rename, now: Now) -> Outcome<EstateView> {
    let id = cmd.id;
    let (user, access) = caller_estate(c, actor, id)?;
    access.require(EstateCapability::Manage, "Renaming an estate")?;
    let Some(name) = cmd.name? else {
        return Ok(EstateView::new(&access.estate, access.role));
    };
    let name = parse_name(&name)?;
    estates::rename(c, id, name.as_str(), now)?;
    let before = json!({"name": access.estate.name});
    let after = json!({"name": name.as_str()});
    let ev = event(&user, Action::EstateRenamed, "estate", id, Some(before), Some(after));
    audit::record(c, &ev, now)?;
    let estate = estates::get(c, id)?.ok_or_else(not_found_estate)?;
    Ok(EstateView::new(&estate, access.role))
}

/// Delete an estate with its sites, memberships and invitations (owner
/// only; 409 while assets are placed in it).
pub fn delete(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<()> {
    let (user, access) = caller_estate_locked(c, actor, id)?;
    access.require(EstateCapability::Delete, "Deleting an estate")?;
    let placed = keyholder_store::assets::count_in_estate(c, id)?;
    require_no_assets(placed, ProblemCode::EstateHasAssets, "in this estate")?;
    estates::delete(c, id)?;
    let before = json!({"name": access.estate.name});
    audit::record(c, &event(&user, Action::EstateDeleted, "estate", id, Some(before), None), now)?;
    Ok(())
}

pub struct Transfer {
    pub estate_id: Uuid,
    pub new_owner: Deferred<Uuid>,
}

/// Transfer ownership to another member (owner only); the caller becomes
/// admin.
pub fn transfer(c: &mut Conn, actor: &Caller, cmd: Transfer, now: Now) -> Outcome<EstateView> {
    let (user, access) = caller_estate_locked(c, actor, cmd.estate_id)?;
    let id = access.estate.id;
    access.require(EstateCapability::TransferOwnership, "Transferring ownership")?;
    require_verified(&user, SharingAction::EstateGrant)?;
    let new_owner = cmd.new_owner?;
    let target_role = estates::member_role(c, id, new_owner)?;
    estate::check_transfer_ownership(&access.actor, new_owner, target_role).map_err(
        |r| match r {
            // The body names someone outside the estate: invalid input.
            GrantRefusal::NotAMember => {
                ApiError::field("user_id", "is not a member of this estate")
                    .with_code(ProblemCode::NotAMember)
            }
            other => ApiError::refused(other),
        },
    )?;
    let old_owner = estates::owner_of(c, id)?;
    if let Some(old) = old_owner {
        estates::set_role(c, id, old, estate::FORMER_OWNER_ROLE, now)?;
    }
    sites::delete_overrides(c, id, new_owner)?;
    estates::set_role(c, id, new_owner, EstateRole::Owner, now)?;
    let before = json!({"owner_id": old_owner});
    let after = json!({"owner_id": new_owner});
    let ev =
        event(&user, Action::EstateOwnershipTransferred, "estate", id, Some(before), Some(after));
    audit::record(c, &ev, now)?;
    let (estate, role) = estates::get_for_user(c, id, user.id)?.ok_or_else(not_found_estate)?;
    Ok(EstateView::new(&estate, role))
}
