//! "Why can this person (not) reach this?": explain for assets, estates and
//! sites, and who has access to an asset. Each runs the domain's resolution
//! for the resource (the same walk enforcement folds over), so the answer
//! and the checks cannot disagree.

use crate::problems::ProblemCode;
use keyholder_domain::asset::{self, AssetCapability, ShareFact, ShareStatus};
use keyholder_domain::disclosure::{self, Asker};
use keyholder_domain::estate::{self, EstateCapability, SiteCapability};
use keyholder_domain::estate_paths::{self, EstateFacts, RoleResolution, SiteFacts, ViaIds};
use keyholder_domain::{AssetLevel, EstateRole, SiteRole};

use keyholder_store::assets::{self, Asset};
use keyholder_store::estates;
use keyholder_store::invitations::{self, ResourceType};
use keyholder_store::sites;
use keyholder_store::users::{self, User};
use uuid::Uuid;

use super::access::{access_facts, caller_asset_for, judge, row_facts};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::views::access::{AccessEntry, Explanation, PathView};
use crate::views::common::{Cursor, CursorPage, CursorQuery, parse_field, summary};

/// What to explain: a user's access to one resource.
pub struct Explain {
    pub user_id: Uuid,
    /// `estate`, `site` or `asset` (422 otherwise).
    pub resource_type: String,
    pub resource_id: Uuid,
}

fn hidden() -> ApiError {
    ApiError::not_found(
        ProblemCode::NotFound,
        "No such user or resource, or you may not see this explanation.",
    )
}

/// Explain one user's access to one resource. Open to the user themselves
/// (about a resource they can see) and to those who administer the
/// resource (about someone tied to it); 404 for everyone else.
pub fn explain(c: &mut Conn, actor: &Caller, cmd: Explain, now: Now) -> Outcome<Explanation> {
    let Explain { user_id, resource_type, resource_id: id } = cmd;
    let caller = actor.user(c)?;
    let about = match resource_type.as_str() {
        "asset" => about_asset,
        "estate" => about_estate,
        "site" => about_site,
        _ => {
            let detail = "must be one of estate, site, asset";
            return Err(ApiError::field("resource_type", detail));
        }
    };
    let user = users::find(c, user_id)?.ok_or_else(hidden)?;
    about(c, Question { caller: &caller, user: &user, id, now })
}

/// One explanation asked for: by `caller`, about `user` and the resource
/// `id`, at `now`.
#[derive(Clone, Copy)]
struct Question<'a> {
    caller: &'a User,
    user: &'a User,
    id: Uuid,
    now: Now,
}

/// The names of the capabilities in `all` that `can` allows.
fn allowed<C: Copy>(
    all: &[C],
    can: impl Fn(C) -> bool,
    name: fn(C) -> &'static str,
) -> Vec<&'static str> {
    all.iter().copied().filter(|cap| can(*cap)).map(name).collect()
}

fn about_asset(c: &mut Conn, q: Question) -> Outcome<Explanation> {
    let Question { caller, user, id, now } = q;
    let asker = asker(caller, user);
    let a = assets::get(c, id)?.ok_or_else(hidden)?;
    let row = assets::access_row(c, &a, caller.id)?;
    let caller_level = judge(caller, &a, &row, now);
    // Myself: only about an asset I can see. Someone else: only if I
    // administer it, and only their paths to it.
    let sees = caller_level.is_some();
    if !sees || !asker.may_explain(sees, asset::administers_asset(caller_level)) {
        return Err(hidden());
    }
    let mut r = explain_asset(c, user, &a, now)?;
    if !asker.sees_every_path() {
        r.paths.retain(asset::PathEvaluation::relates_to_asset);
        if r.paths.is_empty() {
            return Err(hidden());
        }
    }
    let capabilities = allowed(
        &AssetCapability::ALL,
        |cap| asset::asset_can(r.effective, cap),
        AssetCapability::as_str,
    );
    Ok(Explanation {
        user: summary(user, asker.sees_email()),
        resource_type: "asset",
        resource_id: a.id,
        effective: r.effective.map(AssetLevel::as_str),
        capabilities,
        paths: r.paths.iter().map(PathView::of_asset).collect(),
    })
}

/// The user's pending invitation to the estate: its id and the role it
/// offers.
fn pending_estate_invitation(
    c: &mut Conn,
    user: &User,
    estate_id: Uuid,
    now: Now,
) -> Outcome<Option<(Uuid, Option<EstateRole>)>> {
    Ok(invitations::pending_for_email(c, &user.email, now)?
        .into_iter()
        .find(|i| i.resource_type == ResourceType::Estate && i.resource_id == estate_id)
        .map(|i| (i.id, i.role.parse().ok())))
}

/// The user's pending invitation to the estate; 404 when someone else asks
/// about a user who is neither a member nor an invitee of it.
fn tied_to_estate(
    c: &mut Conn,
    caller: &User,
    user: &User,
    role: Option<EstateRole>,
    estate_id: Uuid,
    now: Now,
) -> Outcome<Option<(Uuid, Option<EstateRole>)>> {
    let invited = pending_estate_invitation(c, user, estate_id, now)?;
    if !asker(caller, user).may_ask_about(role.is_some() || invited.is_some()) {
        return Err(hidden());
    }
    Ok(invited)
}

/// The answer about an estate or a site (`resource`), from the domain's
/// resolution `r`: its effective role `shown` by name, the capabilities
/// that role allows, and the ids its paths run through.
fn role_explanation<R>(
    user: &User,
    resource: (&'static str, Uuid),
    r: &RoleResolution<R>,
    shown: Option<&'static str>,
    capabilities: Vec<&'static str>,
    ids: &ViaIds,
) -> Explanation {
    Explanation {
        user: summary(user, true),
        resource_type: resource.0,
        resource_id: resource.1,
        effective: shown,
        capabilities,
        paths: r.paths.iter().map(|p| PathView::of_role(p, ids)).collect(),
    }
}

fn about_estate(c: &mut Conn, q: Question) -> Outcome<Explanation> {
    let Question { caller, user, id, now } = q;
    let (e, caller_role) = estates::get_for_user(c, id, caller.id)?.ok_or_else(hidden)?;
    // Myself: only an estate I can see. Someone else: only if I administer it.
    let sees = caller_role.is_some();
    let administers = estate::administers_estate(false, caller_role);
    if !asker(caller, user).may_explain(sees, administers) {
        return Err(hidden());
    }
    let role = estates::member_role(c, e.id, user.id)?;
    let invited = tied_to_estate(c, caller, user, role, e.id, now)?;
    let facts = EstateFacts {
        is_root: user.is_root,
        role,
        invitation: invited.map(|(_, offered)| offered),
    };
    let r = estate_paths::explain_estate(&facts);
    let ids = ViaIds { estate: e.id, site: None, invitation: invited.map(|(i, _)| i) };
    let can = |cap| estate::estate_can(r.effective, cap);
    let capabilities = allowed(&EstateCapability::ALL, can, EstateCapability::as_str);
    let shown = r.effective.map(EstateRole::as_str);
    Ok(role_explanation(user, ("estate", e.id), &r, shown, capabilities, &ids))
}

fn about_site(c: &mut Conn, q: Question) -> Outcome<Explanation> {
    let Question { caller, user, id, now } = q;
    let (site, caller_role, caller_override) =
        sites::site_for_user(c, id, caller.id)?.ok_or_else(hidden)?;
    let caller_effective = estate::effective_site_role_of(caller_role, caller_override);
    let sees = caller_effective.is_some();
    let administers = estate::administers_site(false, caller_effective);
    if !asker(caller, user).may_explain(sees, administers) {
        return Err(hidden());
    }
    let (_, role, site_override) = sites::site_for_user(c, site.id, user.id)?.ok_or_else(hidden)?;
    let invited = tied_to_estate(c, caller, user, role, site.estate_id, now)?;
    let facts = SiteFacts {
        is_root: user.is_root,
        role,
        site_override,
        invitation: invited.map(|(_, offered)| offered),
    };
    let r = estate_paths::explain_site(&facts);
    let ids =
        ViaIds { estate: site.estate_id, site: Some(site.id), invitation: invited.map(|(i, _)| i) };
    let can = |cap| estate::site_can(r.effective, cap);
    let capabilities = allowed(&SiteCapability::ALL, can, SiteCapability::as_str);
    let shown = r.effective.map(SiteRole::as_str);
    Ok(role_explanation(user, ("site", site.id), &r, shown, capabilities, &ids))
}

/// Everyone who can reach the asset (full access needed to ask), highest
/// level first (then by username), each with the paths that give it, one
/// page at a time. The level is the domain's judgement of each candidate,
/// so the candidates are judged before the page is cut.
pub fn who_has_access(
    c: &mut Conn,
    actor: &Caller,
    id: Uuid,
    q: &CursorQuery,
    now: Now,
) -> Outcome<CursorPage<AccessEntry>> {
    let after = q.window(|cursor| {
        let (level, name) = cursor.text()?.split_once('/').unwrap_or(("", ""));
        Ok((parse_field::<AssetLevel>("cursor", level)?, name.to_owned()))
    })?;
    let entries = access_entries(c, actor, id, now)?;
    let position = |(level, e): &(AssetLevel, AccessEntry)| {
        (std::cmp::Reverse(*level), e.user.username.to_lowercase(), e.user.id)
    };
    let start = match &after.after {
        Some(((level, name), id)) => {
            let at = (std::cmp::Reverse(*level), name.clone(), *id);
            entries.iter().take_while(|e| position(e) <= at).count()
        }
        None => usize::try_from(after.offset).unwrap_or(usize::MAX),
    };
    let counted = i64::try_from(entries.len()).unwrap_or(i64::MAX);
    let limit = usize::try_from(after.limit).unwrap_or(usize::MAX);
    let mut shown: Vec<_> = entries.into_iter().skip(start).take(limit.saturating_add(1)).collect();
    let more = shown.len() > limit;
    shown.truncate(limit);
    let next = shown.last().filter(|_| more).map(|(level, e)| {
        let key = format!("{}/{}", level.as_str(), e.user.username.to_lowercase());
        Cursor::new(Some(key), e.user.id)
    });
    let items = shown.into_iter().map(|(_, e)| e).collect();
    Ok(CursorPage::new(items, counted, q, next))
}

/// Everyone who can reach the asset, judged, highest level first (then by
/// username).
fn access_entries(
    c: &mut Conn,
    actor: &Caller,
    id: Uuid,
    now: Now,
) -> Outcome<Vec<(AssetLevel, AccessEntry)>> {
    let (caller, a, _) = caller_asset_for(c, actor, id, AssetCapability::ManageCollaborators, now)?;
    let viewer = Asker { myself: false, is_root: caller.is_root };
    let mut entries = Vec::new();
    for user_id in assets::access_candidates(c, &a)? {
        let Some(user) = users::find(c, user_id)? else {
            continue;
        };
        // Root reaches everything; only root sees root listed.
        if !disclosure::lists_user(caller.is_root, user.is_root) {
            continue;
        }
        let r = explain_asset(c, &user, &a, now)?;
        if let Some(level) = r.effective {
            let paths = r
                .paths
                .iter()
                .filter(|p| viewer.sees_every_path() || p.relates_to_asset())
                .map(PathView::of_asset)
                .collect();
            let user = summary(&user, viewer.sees_email());
            entries.push((level, AccessEntry { user, level: level.as_str(), paths }));
        }
    }
    entries.sort_by(|(la, a), (lb, b)| {
        lb.cmp(la)
            .then_with(|| a.user.username.to_lowercase().cmp(&b.user.username.to_lowercase()))
            .then_with(|| a.user.id.cmp(&b.user.id))
    });
    Ok(entries)
}

/// Every fact about `user` and `asset`, including what no longer counts
/// (expired or revoked shares, pending invitations), resolved by the domain.
pub(crate) fn explain_asset(
    c: &mut Conn,
    user: &User,
    a: &Asset,
    now: Now,
) -> Outcome<asset::Resolution> {
    let row = assets::access_row(c, a, user.id)?;
    let (households, mut shares) = row_facts(&row);
    if row.share.is_none() && keyholder_store::audit::share_was_revoked(c, a.id, user.id)? {
        // The revoked share's permission no longer matters: it gives nothing.
        let p = keyholder_domain::InvitationPermission::View;
        shares.push(ShareFact { status: ShareStatus::Revoked, ..ShareFact::active(a.id, p, None) });
    }
    for inv in invitations::pending_for_email(c, &user.email, now)? {
        if inv.resource_type == ResourceType::Asset
            && inv.resource_id == a.id
            && let Ok(permission) = inv.role.parse()
        {
            shares.push(ShareFact {
                status: ShareStatus::InvitationPending,
                ..ShareFact::active(inv.id, permission, inv.access_expires_at)
            });
        }
    }
    let facts = access_facts(user, a, &row, (&households, &shares), now);
    Ok(asset::explain(&facts))
}

/// The asker of an explanation, as the domain's disclosure rules see them.
fn asker(caller: &User, user: &User) -> Asker {
    Asker { myself: caller.id == user.id, is_root: caller.is_root }
}
