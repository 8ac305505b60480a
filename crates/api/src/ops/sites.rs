//! Sites of an estate: list, create, read, rename, delete; and how a
//! caller's access to one site is loaded.

use crate::problems::ProblemCode;
use keyholder_domain::SiteRole;
use keyholder_domain::estate::{self, EstateActor, EstateCapability, SiteCapability};

use keyholder_store::access;
use keyholder_store::audit;
use keyholder_store::audit::Action;
use keyholder_store::locks;
use keyholder_store::sites::{self, Site};
use keyholder_store::users::User;
use serde_json::json;
use uuid::Uuid;

use super::estates::{
    EstateAccess, caller_estate_locked, estate_access, parse_name, require_no_assets,
};
use super::{Deferred, Rename, event};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::views::common::{Cursor, CursorPage, CursorQuery};
use crate::views::estates::SiteView;

/// A site as the caller may see it.
pub(crate) struct SiteAccess {
    pub(crate) site: Site,
    /// The caller's effective role here (none for root outside the estate).
    pub(crate) effective: Option<SiteRole>,
    pub(crate) actor: EstateActor,
}

impl SiteAccess {
    fn can(&self, cap: SiteCapability) -> bool {
        estate::SiteActor { is_root: self.actor.is_root, effective: self.effective }.can(cap)
    }

    /// The role shown for the caller (root sees every site as admin).
    fn shown_role(&self) -> SiteRole {
        self.effective.unwrap_or(SiteRole::Admin)
    }
}

pub(crate) fn not_found_site() -> ApiError {
    ApiError::not_found(ProblemCode::SiteNotFound, "No such site.")
}

/// The caller and the site as they may see it, from one statement: 404
/// when not a member, or kept off it.
pub(crate) fn caller_site(c: &mut Conn, caller: &Caller, id: Uuid) -> Outcome<(User, SiteAccess)> {
    let (user, found) = caller.admit_read(access::site(c, caller.bearer(), id)?)?;
    let (site, estate_role, over) = found.ok_or_else(not_found_site)?;
    let effective = estate::effective_site_role_of(estate_role, over);
    let at_site = estate::SiteActor { is_root: user.is_root, effective };
    if !at_site.sees() {
        return Err(not_found_site());
    }
    let actor = EstateActor { user_id: user.id, is_root: user.is_root, role: estate_role };
    let access = SiteAccess { site, effective, actor };
    Ok((user, access))
}

/// Locks the site's estate, then reads the caller and the site again under
/// the lock, so the checks see settled roles.
pub(crate) fn caller_site_locked(
    c: &mut Conn,
    caller: &Caller,
    id: Uuid,
) -> Outcome<(User, SiteAccess)> {
    let estate_id = caller_site(c, caller, id)?.1.site.estate_id;
    locks::estate(c, estate_id)?;
    caller_site(c, caller, id)
}

/// The sites of an estate the caller can see, newest first, with the
/// caller's effective role at each.
pub fn list(
    c: &mut Conn,
    actor: &Caller,
    estate_id: Uuid,
    q: &CursorQuery,
) -> Outcome<CursorPage<SiteView>> {
    let EstateAccess { role, actor: me, .. } = estate_access(c, actor, estate_id)?;
    let page = sites::sites_for_member(c, estate_id, me.user_id, &q.window(Cursor::instant)?)?;
    let next = page.items.last().filter(|_| page.more).map(|(s, _)| Cursor::at(s.created_at, s.id));
    let items = page
        .items
        .iter()
        .filter_map(|(s, o)| shown_role(role, *o).map(|r| SiteView::new(s, r)))
        .collect();
    Ok(CursorPage::new(items, page.counted, q, next))
}

/// The caller's role at a site with override `o`, given their estate role
/// (root, not a member: admin everywhere).
fn shown_role(
    role: Option<keyholder_domain::EstateRole>,
    o: Option<keyholder_domain::SiteOverride>,
) -> Option<SiteRole> {
    if role.is_none() { Some(SiteRole::Admin) } else { estate::effective_site_role_of(role, o) }
}

pub struct Create {
    pub estate_id: Uuid,
    pub name: Deferred<String>,
}

/// Create a site (estate admin or owner).
pub fn create(c: &mut Conn, actor: &Caller, cmd: Create, now: Now) -> Outcome<SiteView> {
    let (user, access) = caller_estate_locked(c, actor, cmd.estate_id)?;
    let id = access.estate.id;
    access.require(EstateCapability::Manage, "Creating a site")?;
    let name = parse_name(&cmd.name?)?;
    let site = sites::create_site(c, id, name.as_str(), now)?;
    let after = json!({"name": site.name, "estate_id": id});
    audit::record(c, &event(&user, Action::SiteCreated, "site", site.id, None, Some(after)), now)?;
    Ok(SiteView::new(&site, SiteRole::Admin))
}

/// One site with the caller's effective role.
pub fn get(c: &mut Conn, actor: &Caller, id: Uuid) -> Outcome<SiteView> {
    let (_, access) = caller_site(c, actor, id)?;
    Ok(SiteView::new(&access.site, access.shown_role()))
}

/// [`get`] with the site's estate locked first: the view a conditional
/// write (`If-Match`) compares.
pub fn get_locked(c: &mut Conn, actor: &Caller, id: Uuid) -> Outcome<SiteView> {
    let (_, access) = caller_site_locked(c, actor, id)?;
    Ok(SiteView::new(&access.site, access.shown_role()))
}

/// Rename a site (site admin).
pub fn rename(c: &mut Conn, actor: &Caller, cmd: Rename, now: Now) -> Outcome<SiteView> {
    let id = cmd.id;
    let (user, access) = caller_site(c, actor, id)?;
    if !access.can(SiteCapability::ManageMembers) {
        return Err(ApiError::forbidden(
            ProblemCode::InsufficientRole,
            "Renaming a site needs the site admin role.",
        ));
    }
    let Some(name) = cmd.name? else {
        return Ok(SiteView::new(&access.site, access.shown_role()));
    };
    let name = parse_name(&name)?;
    sites::rename_site(c, id, name.as_str(), now)?;
    let before = json!({"name": access.site.name});
    let after = json!({"name": name.as_str()});
    audit::record(
        c,
        &event(&user, Action::SiteRenamed, "site", id, Some(before), Some(after)),
        now,
    )?;
    // Read back as stored, so the answer is what the next read shows (and
    // carries the same ETag): PostgreSQL keeps microseconds.
    let (_, access) = caller_site(c, actor, id)?;
    Ok(SiteView::new(&access.site, access.shown_role()))
}

/// Delete a site (estate admin or owner; 409 while assets are placed at
/// it).
pub fn delete(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<()> {
    let (user, access) = caller_site_locked(c, actor, id)?;
    if !access.actor.can(EstateCapability::Manage) {
        return Err(ApiError::forbidden(
            ProblemCode::InsufficientRole,
            "Deleting a site needs the estate admin or owner role.",
        ));
    }
    let placed = keyholder_store::assets::count_at_site(c, id)?;
    require_no_assets(placed, ProblemCode::SiteHasAssets, "at this site")?;
    sites::delete_site(c, id)?;
    let before = json!({"name": access.site.name, "estate_id": access.site.estate_id});
    audit::record(c, &event(&user, Action::SiteDeleted, "site", id, Some(before), None), now)?;
    Ok(())
}
