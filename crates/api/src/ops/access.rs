//! How a caller's access to one asset is read and judged: the facts one
//! statement loads, the domain's effective level over them, and the 403
//! that names the level a capability needs. Every asset use case (records,
//! photos, collaborators, shares, invitations) and the explanation go
//! through here.

use crate::problems::ProblemCode;
use keyholder_domain::AssetLevel;
use keyholder_domain::asset::{
    self, AccessFacts, AssetCapability, HouseholdFact, ShareFact, SitePathFact,
};

use keyholder_store::access;
use keyholder_store::assets::{AccessRow, Asset};
use keyholder_store::users::User;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::views::common::{Cursor, CursorPage, CursorQuery};
use keyholder_store::paging::{Page, Window};

/// The households and active share read for one asset, as the domain's
/// facts.
pub(crate) fn row_facts(row: &AccessRow) -> (Vec<HouseholdFact>, Vec<ShareFact>) {
    let households = row.households.clone();
    let shares = row
        .share
        .iter()
        .map(|&(id, permission, until)| ShareFact::active(id, permission, until))
        .collect();
    (households, shares)
}

/// The facts about `user` and `asset` the domain resolves.
pub(crate) fn access_facts<'a>(
    user: &User,
    asset: &Asset,
    row: &AccessRow,
    (households, shares): (&'a [HouseholdFact], &'a [ShareFact]),
    now: Now,
) -> AccessFacts<'a> {
    AccessFacts {
        is_root: user.is_root,
        is_collaborator: row.is_collaborator,
        households,
        shares,
        site: match (asset.site_id, asset.estate_id) {
            (Some(site_id), Some(estate_id)) => Some(SitePathFact {
                site_id,
                estate_id,
                estate_role: row.estate_role,
                site_override: row.site_override,
            }),
            _ => None,
        },
        now,
    }
}

/// The domain's view of the facts read for one asset.
pub(crate) fn judge(user: &User, asset: &Asset, row: &AccessRow, now: Now) -> Option<AssetLevel> {
    let (households, shares) = row_facts(row);
    asset::effective_level(&access_facts(user, asset, row, (&households, &shares), now))
}

pub(crate) fn not_found_asset() -> ApiError {
    ApiError::not_found(ProblemCode::AssetNotFound, "No such asset.")
}

/// The asset and my level on it: 404 when I cannot reach it. One
/// statement reads the asset and every fact on it.
pub(crate) fn asset_access(
    c: &mut Conn,
    user: &User,
    id: Uuid,
    now: Now,
) -> Outcome<(Asset, AssetLevel)> {
    let (_, found) = access::admitted_asset(c, user.id, id)?.ok_or_else(not_found_asset)?;
    level_on(user, found, now)
}

/// The caller, the asset and the caller's level on it, from one statement:
/// 401 for a token that no longer holds, 404 when the asset is out of reach.
pub(crate) fn caller_asset(
    c: &mut Conn,
    caller: &Caller,
    id: Uuid,
    now: Now,
) -> Outcome<(User, Asset, AssetLevel)> {
    let (user, found) = caller.admit_read(access::asset(c, caller.bearer(), id)?)?;
    let (asset, level) = level_on(&user, found, now)?;
    Ok((user, asset, level))
}

fn level_on(
    user: &User,
    found: Option<(Asset, AccessRow)>,
    now: Now,
) -> Outcome<(Asset, AssetLevel)> {
    let (asset, row) = found.ok_or_else(not_found_asset)?;
    let level = judge(user, &asset, &row, now).ok_or_else(not_found_asset)?;
    Ok((asset, level))
}

/// 403 unless `level` allows `cap`; the code names the level needed.
pub(crate) fn require(level: AssetLevel, cap: AssetCapability) -> Outcome<()> {
    if asset::asset_can(Some(level), cap) {
        return Ok(());
    }
    let needed = cap.required_level();
    Err(ApiError::forbidden(
        match needed {
            // Every level allows view: view is never the one missing.
            AssetLevel::View | AssetLevel::Edit => ProblemCode::EditAccessRequired,
            AssetLevel::Manage => ProblemCode::ManageAccessRequired,
            AssetLevel::Full => ProblemCode::FullAccessRequired,
        },
        format!("This needs {} access to the asset; you have {}.", needed.as_str(), level.as_str()),
    ))
}

/// The caller and their level on an asset that allows `cap` (403 naming the
/// level needed otherwise).
pub(crate) fn caller_asset_for(
    c: &mut Conn,
    caller: &Caller,
    id: Uuid,
    cap: AssetCapability,
    now: Now,
) -> Outcome<(User, Asset, AssetLevel)> {
    let (user, asset, level) = caller_asset(c, caller, id, now)?;
    require(level, cap)?;
    Ok((user, asset, level))
}

/// How one of an asset's lists (collaborators, photos, records, shares)
/// pages: its cursor's key, the read of one page, and each row's cursor
/// and view.
pub(crate) struct AssetList<K, R, V> {
    pub key: fn(&Cursor) -> Outcome<K>,
    pub read: fn(&mut Conn, Uuid, &Window<K>) -> keyholder_store::error::Result<Page<R>>,
    pub cursor: fn(&R) -> Cursor,
    pub view: fn(R, Now) -> V,
}

/// One page of an asset's list: the caller's level must allow `cap` (404
/// or 403 first), then the page is read in the SQL and shaped.
pub(crate) fn asset_list_page<K, R, V: utoipa::ToSchema>(
    c: &mut Conn,
    (actor, asset_id, cap): (&Caller, Uuid, AssetCapability),
    list: AssetList<K, R, V>,
    q: &CursorQuery,
    now: Now,
) -> Outcome<CursorPage<V>> {
    caller_asset_for(c, actor, asset_id, cap, now)?;
    let page = (list.read)(c, asset_id, &q.window(list.key)?)?;
    let next = page.items.last().filter(|_| page.more).map(list.cursor);
    let items = page.items.into_iter().map(|r| (list.view)(r, now)).collect();
    Ok(CursorPage::new(items, page.counted, q, next))
}

/// Reads one row of an asset (a record, a photo) with the asset's row
/// locked first, as a conditional write does before comparing `If-Match`.
pub(crate) fn locked_asset_read<T>(
    c: &mut Conn,
    actor: &Caller,
    asset_id: Uuid,
    read: impl FnOnce(&mut Conn) -> Outcome<T>,
) -> Outcome<T> {
    super::assets::lock_for_update(c, actor, asset_id, None)?;
    read(c)
}
