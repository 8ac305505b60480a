//! Collaborators of one asset (list, add by username, remove) and of
//! several at once (the common/partial split, bulk add, bulk remove). The
//! domain decides every refusal; the bulk dialogs are all or nothing.

use crate::problems::ProblemCode;
use std::collections::HashMap;

use keyholder_domain::account::SharingAction;
use keyholder_domain::asset::AssetCapability;
use keyholder_domain::collaborators::{self, CollaboratorRefusal};

use keyholder_store::assets::{self, Asset};
use keyholder_store::audit::{self, Action};
use keyholder_store::collaborators::{self as collaborator_rows, Person};
use keyholder_store::locks;
use keyholder_store::users::{self, User};
use serde_json::json;
use uuid::Uuid;

use super::Deferred;
use super::access::{AssetList, asset_list_page, caller_asset_for, judge};
use super::assets::event;
use crate::auth::{Caller, require_verified};
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::ratelimit::Budget;
use crate::views::assets::{CollaboratorSplitView, CollaboratorView, PartialCollaborator};
use crate::views::common::{Cursor, CursorPage, CursorQuery, person, summary};

pub(crate) fn collaborator_refused(r: &CollaboratorRefusal) -> ApiError {
    let ids = r.asset_ids();
    let mut e = ApiError::refused(r);
    if !ids.is_empty() {
        e = e.with_extra("asset_ids", json!(ids));
    }
    e
}

/// The user with exactly this username (trimmed): 404 naming it otherwise.
fn no_user_named(username: &str) -> ApiError {
    ApiError::not_found(ProblemCode::UserNotFound, format!("No user is named {username}."))
        .with_extra("username", json!(username))
}

fn user_named(c: &mut Conn, username: &str) -> Outcome<User> {
    let username = username.trim();
    users::find_by_username(c, username)?.ok_or_else(|| no_user_named(username))
}

/// The accounts about to be granted something, locked (in id order, after
/// the assets, as everywhere) and read again: an account deleted meanwhile
/// is not found, and one being deleted waits for this grant, then ends it.
fn locked_grantees(c: &mut Conn, found: Vec<User>) -> Outcome<Vec<User>> {
    let ids: Vec<Uuid> = found.iter().map(|u| u.id).collect();
    locks::users(c, &ids)?;
    found
        .into_iter()
        .map(|u| match users::find(c, u.id)? {
            Some(now) if now.deleted_at.is_none() => Ok(now),
            _ => Err(no_user_named(&u.username)),
        })
        .collect()
}

fn collaborator_ids(c: &mut Conn, asset_id: Uuid) -> Outcome<Vec<Uuid>> {
    Ok(collaborator_rows::collaborators(c, asset_id)?.iter().map(|(p, _)| p.id).collect())
}

/// Ends `user_id`'s collaboration on `asset_id`: pending invitations of the
/// asset to them are cancelled too, and the audit event says what went.
fn remove_one(
    c: &mut Conn,
    actor: &User,
    (asset_id, user_id): (Uuid, Uuid),
    bulk: bool,
    now: Now,
) -> Outcome<()> {
    collaborator_rows::remove_collaborator(c, asset_id, user_id)?;
    let email = users::get(c, user_id)?.email;
    keyholder_store::invitations::cancel_to_email_on_assets(c, &[asset_id], &email)?;
    let before =
        if bulk { json!({"user_id": user_id, "bulk": true}) } else { json!({"user_id": user_id}) };
    let ev = event(actor, Action::CollaboratorRemoved, asset_id, Some(before), None);
    audit::record(c, &ev, now)?;
    Ok(())
}

/// A page of the collaborators of an asset (any access level may read it).
pub fn list(
    c: &mut Conn,
    actor: &Caller,
    asset_id: Uuid,
    q: &CursorQuery,
    now: Now,
) -> Outcome<CursorPage<CollaboratorView>> {
    let list = AssetList {
        key: Cursor::instant,
        read: collaborator_rows::collaborators_page,
        cursor: |(p, at)| Cursor::at(*at, p.id),
        view: |(p, at), _| CollaboratorView { user: person(&p, false), added_at: at },
    };
    asset_list_page(c, (actor, asset_id, AssetCapability::Read), list, q, now)
}

pub struct Add {
    pub asset_id: Uuid,
    pub username: Deferred<String>,
    pub budget: Budget,
}

/// Add a collaborator by exact username (full; the caller's email
/// verified). Each lookup spends from the per-user budget.
pub fn add(c: &mut Conn, actor: &Caller, cmd: Add, now: Now) -> Outcome<CollaboratorView> {
    let Add { asset_id: id, username, budget } = cmd;
    locks::assets_with_estates(c, &[id], &[])?;
    let (user, asset, _) =
        caller_asset_for(c, actor, id, AssetCapability::ManageCollaborators, now)?;
    require_verified(&user, SharingAction::Collaborator)?;
    let username = username?;
    budget.spend(user.id)?;
    let found = user_named(c, &username)?;
    let found = locked_grantees(c, vec![found])?.remove(0);
    collaborators::check_add_collaborator(&collaborator_ids(c, id)?, found.id)
        .map_err(|r| collaborator_refused(&r))?;
    collaborator_rows::add_collaborator(c, id, found.id, now)?;
    let after = json!({"user_id": found.id});
    audit::record(c, &event(&user, Action::CollaboratorAdded, id, None, Some(after)), now)?;
    let what = format!("the asset {} as a collaborator (full access)", asset.name);
    super::notify::granted(c, found.id, &what, &user, now)?;
    Ok(CollaboratorView { user: summary(&found, false), added_at: now })
}

/// Remove a collaborator (full); the last one stays (409).
pub fn remove(
    c: &mut Conn,
    actor: &Caller,
    (asset_id, target): (Uuid, Uuid),
    now: Now,
) -> Outcome<()> {
    locks::assets_with_estates(c, &[asset_id], &[])?;
    let (user, _, _) =
        caller_asset_for(c, actor, asset_id, AssetCapability::ManageCollaborators, now)?;
    collaborators::check_remove_collaborator(asset_id, &collaborator_ids(c, asset_id)?, target)
        .map_err(|r| collaborator_refused(&r))?;
    remove_one(c, &user, (asset_id, target), false, now)
}

/// The bulk add dialog: users to make collaborators of every selected asset.
pub struct BulkAdd {
    pub asset_ids: Vec<Uuid>,
    pub usernames: Vec<String>,
    pub budget: Budget,
}

/// The bulk remove dialog: users to remove from every selected asset.
pub struct BulkRemove {
    pub asset_ids: Vec<Uuid>,
    pub user_ids: Vec<Uuid>,
}

/// Checks full access on every selected asset: 404 naming the ones I cannot
/// see, 403 naming the ones I see without full access.
fn bulk_access(c: &mut Conn, user: &User, ids: &[Uuid], now: Now) -> Outcome<Vec<Uuid>> {
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    let found: HashMap<Uuid, Asset> =
        assets::get_many(c, &unique)?.into_iter().map(|a| (a.id, a)).collect();
    let mut levels = Vec::with_capacity(unique.len());
    for id in &unique {
        let level = match found.get(id) {
            Some(a) => {
                let row = assets::access_row(c, a, user.id)?;
                judge(user, a, &row, now)
            }
            None => None,
        };
        levels.push((*id, level));
    }
    collaborators::check_bulk_access(&levels).map_err(|r| collaborator_refused(&r))?;
    Ok(unique)
}

/// The caller and the selection (each asset once), locked for a change,
/// once the caller has full access on every asset in it.
fn locked_selection(
    c: &mut Conn,
    actor: &Caller,
    ids: &[Uuid],
    now: Now,
) -> Outcome<(User, Vec<Uuid>)> {
    let user = actor.user(c)?;
    locks::assets_with_estates(c, ids, &[])?;
    let selection = bulk_access(c, &user, ids, now)?;
    Ok((user, selection))
}

/// The common/partial split of a selection, with the users' details.
fn split_view(c: &mut Conn, selection: &[Uuid]) -> Outcome<CollaboratorSplitView> {
    let pairs = collaborator_rows::collaborator_pairs(c, selection)?;
    let split = collaborators::split_common_partial(selection, &pairs);
    let mut ids: Vec<Uuid> = split.common.clone();
    ids.extend(split.partial.iter().map(|(u, _)| *u));
    let people: HashMap<Uuid, Person> =
        collaborator_rows::people(c, &ids)?.into_iter().map(|p| (p.id, p)).collect();
    let summary = |id: &Uuid| people.get(id).map(|p| person(p, false));
    Ok(CollaboratorSplitView {
        common: split.common.iter().filter_map(summary).collect(),
        partial: split
            .partial
            .iter()
            .filter_map(|(u, assets)| {
                summary(u).map(|user| PartialCollaborator { user, asset_ids: assets.clone() })
            })
            .collect(),
    })
}

/// The most assets one collaborator dialog works on.
const MAX_SELECTION: usize = 50;

fn parse_selection(raw: &str) -> Outcome<Vec<Uuid>> {
    let ids: Result<Vec<Uuid>, _> =
        raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Uuid::parse_str).collect();
    match ids {
        Ok(ids) if !ids.is_empty() && ids.len() <= MAX_SELECTION => Ok(ids),
        Ok(ids) if ids.is_empty() => Err(ApiError::field("asset_ids", "select at least one asset")),
        Ok(_) => Err(ApiError::field("asset_ids", "select at most 50 assets")),
        Err(_) => Err(ApiError::field("asset_ids", "must be comma-separated asset ids")),
    }
}

/// Common and partial collaborators over several assets (full on each);
/// `selection` is the comma-separated asset ids as sent.
pub fn split(
    c: &mut Conn,
    actor: &Caller,
    selection: &str,
    now: Now,
) -> Outcome<CollaboratorSplitView> {
    let user = actor.user(c)?;
    let ids = parse_selection(selection)?;
    let selection = bulk_access(c, &user, &ids, now)?;
    split_view(c, &selection)
}

/// Make users collaborators of every selected asset (also "move to
/// common"); existing pairs stay as they are. All or nothing.
pub fn bulk_add(
    c: &mut Conn,
    actor: &Caller,
    cmd: BulkAdd,
    now: Now,
) -> Outcome<CollaboratorSplitView> {
    let BulkAdd { asset_ids, usernames, budget } = cmd;
    let (user, selection) = locked_selection(c, actor, &asset_ids, now)?;
    require_verified(&user, SharingAction::Collaborator)?;
    let mut found = Vec::with_capacity(usernames.len());
    for name in &usernames {
        // Every username looked up spends one from the budget.
        budget.spend(user.id)?;
        found.push(user_named(c, name)?);
    }
    let adding: Vec<Uuid> = locked_grantees(c, found)?.iter().map(|u| u.id).collect();
    let pairs = collaborator_rows::collaborator_pairs(c, &selection)?;
    let names: HashMap<Uuid, String> =
        assets::get_many(c, &selection)?.into_iter().map(|a| (a.id, a.name)).collect();
    // Each person added hears once, naming every asset they got.
    let mut told: Vec<(Uuid, Vec<&str>)> = Vec::new();
    for (asset_id, user_id) in collaborators::bulk_add_pairs(&selection, &pairs, &adding) {
        collaborator_rows::add_collaborator(c, asset_id, user_id, now)?;
        let after = json!({"user_id": user_id, "bulk": true});
        audit::record(
            c,
            &event(&user, Action::CollaboratorAdded, asset_id, None, Some(after)),
            now,
        )?;
        let name = names.get(&asset_id).map_or("", String::as_str);
        match told.iter_mut().find(|(u, _)| *u == user_id) {
            Some((_, assets)) => assets.push(name),
            None => told.push((user_id, vec![name])),
        }
    }
    for (user_id, assets) in told {
        let what = match assets.as_slice() {
            [one] => format!("the asset {one} as a collaborator (full access)"),
            many => format!("the assets {} as a collaborator (full access)", many.join(", ")),
        };
        super::notify::granted(c, user_id, &what, &user, now)?;
    }
    split_view(c, &selection)
}

/// Remove users from every selected asset. All or nothing; 409
/// `last_collaborator` names any asset that would be left with none.
pub fn bulk_remove(
    c: &mut Conn,
    actor: &Caller,
    cmd: BulkRemove,
    now: Now,
) -> Outcome<CollaboratorSplitView> {
    let (user, selection) = locked_selection(c, actor, &cmd.asset_ids, now)?;
    let pairs = collaborator_rows::collaborator_pairs(c, &selection)?;
    collaborators::check_bulk_remove(&selection, &pairs, &cmd.user_ids)
        .map_err(|r| collaborator_refused(&r))?;
    for pair in pairs.iter().filter(|(_, u)| cmd.user_ids.contains(u)) {
        remove_one(c, &user, *pair, true, now)?;
    }
    split_view(c, &selection)
}
