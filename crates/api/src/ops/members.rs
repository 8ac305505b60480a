//! Users & Permissions: estate members with their roles and site
//! overrides, as seen from the estate and from one site.

use crate::problems::ProblemCode;
use keyholder_store::audit::Action;
use std::collections::HashMap;

use keyholder_domain::account::SharingAction;
use keyholder_domain::collaborators;
use keyholder_domain::estate::{self, EstateActor, EstateMember, GrantRefusal};
use keyholder_domain::{EstateRole, SiteOverride, SiteRole};

use keyholder_store::audit;
use keyholder_store::estates::{self, Member, MemberKey};
use keyholder_store::paging::Window;
use keyholder_store::sites::{self, Site};
use serde_json::json;
use uuid::Uuid;

use super::estates::{EstateAccess, caller_estate_locked, estate_access};
use super::sites::{caller_site, caller_site_locked};
use super::{Deferred, event};
use crate::auth::{Caller, require_verified};
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::views::common::{Cursor, CursorPage, CursorQuery, parse_field};
use crate::views::estates::{MemberSite, MemberView, SiteMemberView, summary};

/// The caller's effective role at each site of the estate.
fn actor_site_roles(
    c: &mut Conn,
    estate_id: Uuid,
    actor: &EstateActor,
) -> Outcome<HashMap<Uuid, SiteRole>> {
    let overrides: HashMap<Uuid, SiteOverride> =
        sites::overrides_of(c, estate_id, actor.user_id)?.into_iter().collect();
    let mut roles = HashMap::new();
    for site in sites::all_sites(c, estate_id)? {
        let o = overrides.get(&site.id).copied();
        if let Some(r) = estate::effective_site_role_of(actor.role, o) {
            roles.insert(site.id, r);
        }
    }
    Ok(roles)
}

/// The estate's sites a member list shows the caller: all of them to an
/// administrator, else only those the caller may see.
fn visible_sites(c: &mut Conn, access: &EstateAccess, show_all: bool) -> Outcome<Vec<Site>> {
    let id = access.estate.id;
    let mut sites = sites::all_sites(c, id)?;
    if !show_all {
        let mine = actor_site_roles(c, id, &access.actor)?;
        sites.retain(|s| mine.contains_key(&s.id));
    }
    Ok(sites)
}

/// A member's row: their access at each of `sites`.
fn member_row(
    m: &Member,
    show_email: bool,
    sites: &[Site],
    override_at: impl Fn(Uuid) -> Option<SiteOverride>,
) -> MemberView {
    let sites = sites
        .iter()
        .map(|s| {
            let o = override_at(s.id);
            MemberSite {
                site_id: s.id,
                site_name: s.name.clone(),
                override_: o.map(Into::into),
                effective_role: estate::effective_site_role(m.role, o).map(Into::into),
            }
        })
        .collect();
    MemberView { user: summary(m, show_email), role: m.role.into(), sites }
}

/// Users & Permissions: members, oldest first, with their estate role and,
/// per site, the override and the effective role.
pub fn list(
    c: &mut Conn,
    actor: &Caller,
    estate_id: Uuid,
    (search, role): (Option<String>, Option<String>),
    q: &CursorQuery,
) -> Outcome<CursorPage<MemberView>> {
    let access = estate_access(c, actor, estate_id)?;
    let show_email = access.shows_emails();
    let role = role.as_deref().map(|r| parse_field::<EstateRole>("role", r)).transpose()?;
    if search.as_deref().is_some_and(|s| s.chars().any(char::is_control)) {
        return Err(ApiError::field("q", "must not contain control characters"));
    }
    // Only those who see emails may search by them.
    let filter = estates::MemberFilter { q: search, role, emails: show_email };
    let page = estates::members(c, estate_id, &filter, &member_window(q)?)?;
    let next = page.items.last().filter(|_| page.more).map(member_cursor);
    let sites = visible_sites(c, &access, show_email)?;
    let ids: Vec<Uuid> = page.items.iter().map(|m| m.user_id).collect();
    let overrides: HashMap<(Uuid, Uuid), SiteOverride> =
        sites::overrides_for_members(c, estate_id, &ids)?
            .into_iter()
            .map(|(s, u, o)| ((s, u), o))
            .collect();
    let items = page
        .items
        .iter()
        .map(|m| member_row(m, show_email, &sites, |s| overrides.get(&(s, m.user_id)).copied()))
        .collect();
    Ok(CursorPage::new(items, page.counted, q, next))
}

/// The cursor after a member in the member lists: the joining instant and
/// the canonical username (the order), and the user's id.
fn member_cursor(m: &Member) -> Cursor {
    let at = Cursor::at(m.since, m.user_id).key.unwrap_or_default();
    Cursor::new(Some(format!("{at}/{}", m.username.to_lowercase())), m.user_id)
}

/// The window of a member list page (422 `cursor` for a cursor that is
/// not a member list's).
fn member_window(q: &CursorQuery) -> Outcome<Window<MemberKey>> {
    let after = match q.after()? {
        None => None,
        Some(cursor) => {
            let (at, name) = cursor
                .text()?
                .split_once('/')
                .ok_or_else(|| ApiError::field("cursor", "not a cursor this list gave out"))?;
            let at = Cursor::new(Some(at.to_owned()), cursor.id).instant()?;
            Some(((at, name.to_owned()), cursor.id))
        }
    };
    Ok(Window { limit: q.per_page(), offset: q.offset(), after })
}

/// One member's row as the caller sees it.
pub(crate) fn member_view(
    c: &mut Conn,
    access: &EstateAccess,
    user_id: Uuid,
) -> Outcome<MemberView> {
    let estate_id = access.estate.id;
    let show_email = access.shows_emails();
    let m = estates::member(c, estate_id, user_id)?
        .ok_or_else(|| ApiError::refused(GrantRefusal::NotAMember))?;
    let overrides: HashMap<Uuid, SiteOverride> =
        sites::overrides_of(c, estate_id, user_id)?.into_iter().collect();
    let sites = visible_sites(c, access, show_email)?;
    Ok(member_row(&m, show_email, &sites, |s| overrides.get(&s).copied()))
}

/// A role and site overrides to save for a member, as sent.
pub struct MemberChange {
    pub role: String,
    /// `(site_id, override)` pairs; `None` keeps the overrides as they are.
    pub sites: Option<Vec<(Uuid, String)>>,
}

pub struct SetMember {
    pub estate_id: Uuid,
    pub user_id: Uuid,
    pub change: Deferred<MemberChange>,
}

/// The parsed change: the new role and, when sent, the overrides.
type ParsedChange = (EstateRole, Option<Vec<(Uuid, SiteOverride)>>);

fn parse_change(change: MemberChange) -> Outcome<ParsedChange> {
    let role: EstateRole = parse_field("role", &change.role)?;
    let sites = change
        .sites
        .map(|entries| {
            entries
                .iter()
                .enumerate()
                .map(|(i, (site, o))| Ok((*site, parse_field(&format!("sites[{i}].role"), o)?)))
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .transpose()?;
    Ok((role, sites))
}

/// Set a member's estate role and, with sites, replace their site
/// overrides, in one all-or-nothing save. Authority comes first: an
/// unchanged save or a bad body from someone who may not edit this member
/// is a 403.
pub fn set(c: &mut Conn, actor: &Caller, cmd: SetMember, now: Now) -> Outcome<MemberView> {
    let SetMember { estate_id: id, user_id: target_id, change } = cmd;
    let (user, access) = caller_estate_locked(c, actor, id)?;
    let current = estates::member_role(c, id, target_id)?
        .ok_or_else(|| ApiError::refused(GrantRefusal::NotAMember))?;
    let target = EstateMember { user_id: target_id, role: current };
    let actor_roles = actor_site_roles(c, id, &access.actor)?;
    let site_admin_somewhere = actor_roles.values().any(|r| *r == SiteRole::Admin);
    estate::check_edit_member(&access.actor, site_admin_somewhere, &target)
        .map_err(ApiError::refused)?;
    require_verified(&user, SharingAction::EstateGrant)?;
    let (new_role, requested) = parse_change(change?)?;
    if new_role != current {
        estate::check_set_estate_role(&access.actor, &target, new_role)
            .map_err(ApiError::refused)?;
    }
    let before = sites::overrides_of(c, id, target_id)?;
    if let Some(requested) = &requested {
        let sites: Vec<Uuid> = sites::all_sites(c, id)?.iter().map(|s| s.id).collect();
        if let Some((missing, _)) = requested.iter().find(|(s, _)| !sites.contains(s)) {
            return Err(ApiError::not_found(
                ProblemCode::SiteNotFound,
                format!("The site {missing} is not in this estate."),
            ));
        }
        let after = EstateMember { user_id: target_id, role: new_role };
        let actor_role_at = |s| actor_roles.get(&s).copied();
        estate::check_replace_overrides(&access.actor, actor_role_at, &after, &before, requested)
            .map_err(ApiError::refused)?;
    }
    save_member(c, id, target_id, (current, new_role), requested.as_deref(), now)?;
    let after = sites::overrides_of(c, id, target_id)?;
    if new_role != current || before != after {
        let fmt = |v: &[(Uuid, SiteOverride)]| -> serde_json::Value {
            v.iter()
                .map(|(s, o)| (s.to_string(), json!(o.as_str())))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let was = json!({"user_id": target_id, "role": current, "sites": fmt(&before)});
        let is = json!({"user_id": target_id, "role": new_role, "sites": fmt(&after)});
        let ev = event(&user, Action::MemberUpdated, "estate", id, Some(was), Some(is));
        audit::record(c, &ev, now)?;
        if new_role < current {
            let what = format!(
                "your role in the estate {} is now {} (it was {})",
                access.estate.name,
                new_role.as_str(),
                current.as_str()
            );
            super::notify::reduced(c, target_id, &what, &user, now)?;
        }
    }
    member_view(c, &access, target_id)
}

/// Writes a checked member change: the role, then the overrides (a
/// promotion to admin drops them all).
fn save_member(
    c: &mut Conn,
    estate_id: Uuid,
    user_id: Uuid,
    (current, new_role): (EstateRole, EstateRole),
    requested: Option<&[(Uuid, SiteOverride)]>,
    now: Now,
) -> Outcome<()> {
    if new_role != current {
        estates::set_role(c, estate_id, user_id, new_role, now)?;
    }
    if estate::promotion_drops_overrides(new_role) {
        sites::delete_overrides(c, estate_id, user_id)?;
    } else if let Some(requested) = requested {
        sites::delete_overrides(c, estate_id, user_id)?;
        for (site, o) in requested {
            sites::set_override(c, estate_id, *site, user_id, Some(*o), now)?;
        }
    }
    Ok(())
}

pub struct RemoveMember {
    pub estate_id: Uuid,
    pub user_id: Uuid,
}

/// Remove a member (their site overrides, collaborations, shares and
/// pending invitations go too); removing oneself is leaving.
pub fn remove(c: &mut Conn, actor: &Caller, cmd: RemoveMember, now: Now) -> Outcome<()> {
    let (id, target_id) = (cmd.estate_id, cmd.user_id);
    let (user, access) = caller_estate_locked(c, actor, id)?;
    let role = estates::member_role(c, id, target_id)?
        .ok_or_else(|| ApiError::refused(GrantRefusal::NotAMember))?;
    let target = EstateMember { user_id: target_id, role };
    let action = if target_id == user.id {
        estate::check_leave(&target).map_err(ApiError::refused)?;
        Action::MemberLeft
    } else {
        estate::check_remove_member(&access.actor, &target).map_err(ApiError::refused)?;
        Action::MemberRemoved
    };
    // An asset keeps a collaborator: where the member is the only one, the
    // removal is refused naming those assets (their rows locked, after the
    // estate, so a concurrent collaborator removal waits and sees this).
    let theirs = keyholder_store::collaborators::collaborations_in_estate(c, id, target_id)?;
    keyholder_store::locks::assets(c, &theirs)?;
    let pairs = keyholder_store::collaborators::collaborator_pairs(c, &theirs)?;
    collaborators::check_membership_end(&pairs, target_id)
        .map_err(|r| super::collaborators::collaborator_refused(&r))?;
    let overrides = sites::overrides_of(c, id, target_id)?;
    estates::remove_member(c, id, target_id)?;
    // Access does not outlive membership.
    let (collaborations, shares) = keyholder_store::assets::drop_estate_access(c, id, target_id)?;
    // Nor may a pending invitation give it back, or one the removed member
    // sent still grant after they are gone.
    let email = keyholder_store::users::get(c, target_id)?.email;
    let invitations = keyholder_store::invitations::cancel_after_removal(c, id, target_id, &email)?;
    let before = json!({
        "user_id": target_id,
        "role": role,
        "site_overrides": overrides.len(),
        "asset_collaborations": collaborations,
        "asset_shares": shares,
        "invitations_cancelled": invitations,
    });
    audit::record(c, &event(&user, action, "estate", id, Some(before), None), now)?;
    Ok(())
}

/// Members of the estate as seen from one site, oldest first: estate role,
/// override and effective role here.
pub fn list_at_site(
    c: &mut Conn,
    actor: &Caller,
    site_id: Uuid,
    q: &CursorQuery,
) -> Outcome<CursorPage<SiteMemberView>> {
    let (user, access) = caller_site(c, actor, site_id)?;
    let show_email = estate::administers_site(user.is_root, access.effective);
    let page = estates::site_members(c, access.site.estate_id, site_id, &member_window(q)?)?;
    let next = page.items.last().filter(|_| page.more).map(|(m, _)| member_cursor(m));
    let items = page.items.iter().map(|(m, o)| site_member_view(m, show_email, *o)).collect();
    Ok(CursorPage::new(items, page.counted, q, next))
}

fn site_member_view(m: &Member, show_email: bool, o: Option<SiteOverride>) -> SiteMemberView {
    SiteMemberView {
        user: summary(m, show_email),
        estate_role: m.role.into(),
        override_: o.map(Into::into),
        effective_role: estate::effective_site_role(m.role, o).map(Into::into),
    }
}

pub struct SetOverride {
    pub site_id: Uuid,
    pub user_id: Uuid,
    /// The override to set, or `None` to clear it (back to the estate
    /// default).
    pub role: Option<Deferred<String>>,
}

/// Set or clear a member's override at one site.
pub fn set_override(
    c: &mut Conn,
    actor: &Caller,
    cmd: SetOverride,
    now: Now,
) -> Outcome<SiteMemberView> {
    let (site_id, target_id) = (cmd.site_id, cmd.user_id);
    let (user, access) = caller_site_locked(c, actor, site_id)?;
    let estate_id = access.site.estate_id;
    let role = estates::member_role(c, estate_id, target_id)?
        .ok_or_else(|| ApiError::refused(GrantRefusal::NotAMember))?;
    let current = sites::overrides_of(c, estate_id, target_id)?
        .into_iter()
        .find(|(s, _)| *s == site_id)
        .map(|(_, o)| o);
    let target = EstateMember { user_id: target_id, role };
    let may_change = |new| {
        estate::check_set_override(&access.actor, access.effective, &target, current, new)
            .map_err(ApiError::refused)
    };
    // 403 before 422: only someone who may change this override hears that
    // the value is invalid.
    may_change(None)?;
    let new =
        cmd.role.map(|v| v.and_then(|v| parse_field::<SiteOverride>("role", &v))).transpose()?;
    require_verified(&user, SharingAction::EstateGrant)?;
    may_change(new)?;
    sites::set_override(c, estate_id, site_id, target_id, new, now)?;
    if current != new {
        let action =
            if new.is_some() { Action::SiteOverrideSet } else { Action::SiteOverrideCleared };
        let before = json!({"user_id": target_id, "override": current});
        let after = json!({"user_id": target_id, "override": new});
        audit::record(c, &event(&user, action, "site", site_id, Some(before), Some(after)), now)?;
    }
    let m = estates::member(c, estate_id, target_id)?
        .ok_or_else(|| ApiError::refused(GrantRefusal::NotAMember))?;
    Ok(site_member_view(&m, true, new))
}
