//! Asset invitations: what differs from the shared lifecycle. Whoever has
//! full access to the asset manages its invitations; the management table
//! lists those of every asset the caller has full access to.

use crate::problems::ProblemCode;
use keyholder_domain::asset::{self, AssetCapability};
use keyholder_domain::invitation::ResendExpiry;
use keyholder_domain::{InvitationPermission, InvitationState};

use keyholder_store::access;
use keyholder_store::invitations::{
    self, AssetInvitation, Invitation, ResourceType, Sort, TableFilter, TableKey,
};
use keyholder_store::locks;
use keyholder_store::paging::Window;
use uuid::Uuid;

use super::{Fields, Managed, Resource, Sending, issue};
use crate::auth::{Caller, require_verified};
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Deferred;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::ops::access::{asset_access, caller_asset, judge, require};
use crate::ops::exports::{Limits, every_row};
use crate::views::common::{Cursor, CursorPage, CursorQuery, parse_field};
use crate::views::invitations::{AssetInvitationView, AssetRef, StatsView};

/// Invite someone by email to one asset.
pub struct Send {
    pub asset_id: Uuid,
    pub fields: Deferred<Fields>,
    pub sending: Sending,
}

pub fn send(c: &mut Conn, caller: &Caller, cmd: Send, now: Now) -> Outcome<AssetInvitationView> {
    locks::assets_with_estates(c, &[cmd.asset_id], &[])?;
    let (user, asset, level) = caller_asset(c, caller, cmd.asset_id, now)?;
    require(level, AssetCapability::ManageInvitations)?;
    require_verified(&user, keyholder_domain::account::SharingAction::AssetInvitation)?;
    // Field errors only once the caller may invite here.
    let draft = cmd.fields?.check(ResourceType::Asset, now)?;
    cmd.sending.admit(&user, &draft.email)?;
    let resource = Resource::asset(&asset);
    let inv = issue(c, &user, &resource, &draft, &cmd.sending, now)?;
    Ok(AssetInvitationView::new(&inv, AssetRef::of(&resource), now))
}

/// The management table's filters and sort, as the request gave them: the
/// same for a page of the table and for its export.
#[derive(Debug, Default)]
pub struct Filters {
    pub q: Option<String>,
    pub status: Option<String>,
    pub permission: Option<String>,
    pub asset_id: Option<Uuid>,
    /// Only the rows of this bulk invitation.
    pub batch_id: Option<Uuid>,
    pub sort: Option<String>,
}

impl Filters {
    /// The store's filter and sort (422 naming a bad `status`,
    /// `permission` or `sort`); `only` cuts the table to one asset.
    fn parse(self, only: Option<Uuid>) -> Outcome<(TableFilter, Sort)> {
        let sort = parse_sort(self.sort.as_deref())?;
        let status = self
            .status
            .as_deref()
            .map(|s| parse_field::<InvitationState>("status", s))
            .transpose()?;
        let permission = self
            .permission
            .as_deref()
            .map(|p| parse_field::<InvitationPermission>("permission", p))
            .transpose()?;
        let filter = TableFilter {
            q: self.q,
            status,
            permission: permission.map(|p| p.as_str().to_owned()),
            asset_id: only.or(self.asset_id),
            batch_id: self.batch_id,
        };
        Ok((filter, sort))
    }
}

/// The management table: filters, sort and page as the request gave them.
pub struct Table {
    pub filters: Filters,
    pub paging: CursorQuery,
    /// The table of one asset (full access needed), or of every asset.
    pub only: Option<Uuid>,
}

pub fn table(
    c: &mut Conn,
    caller: &Caller,
    q: Table,
    now: Now,
) -> Outcome<CursorPage<AssetInvitationView>> {
    let user = caller.user(c)?;
    if let Some(asset) = q.only {
        let (_, level) = asset_access(c, &user, asset, now)?;
        require(level, AssetCapability::ManageInvitations)?;
    }
    let (filter, sort) = q.filters.parse(q.only)?;
    let after = q
        .paging
        .after()?
        .map(|cursor| Ok::<_, ApiError>((table_key(sort, &cursor)?, cursor.id)))
        .transpose()?;
    let window = Window { limit: q.paging.per_page(), offset: q.paging.offset(), after };
    let page = invitations::asset_table(c, user.id, user.is_root, &filter, sort, now, &window)?;
    let next = page.items.last().filter(|_| page.more).map(|r| table_cursor(sort, &r.invitation));
    let items = page.items.iter().map(|r| table_row(r, now)).collect();
    Ok(CursorPage::new(items, page.counted, &q.paging, next))
}

/// The whole management table under `filters`, in its sort: every
/// invitation of the assets the caller has full access to (root: all), read
/// page by page as [`table`] reads one, up to `limits.rows` rows (422
/// `export_too_large` beyond).
pub fn export(
    c: &mut Conn,
    caller: &Caller,
    filters: Filters,
    limits: Limits,
    now: Now,
) -> Outcome<Vec<AssetInvitationView>> {
    let user = caller.user(c)?;
    let (filter, sort) = filters.parse(None)?;
    let rows = every_row(
        limits,
        |window| {
            Ok(invitations::asset_table(c, user.id, user.is_root, &filter, sort, now, window)?)
        },
        |r| (sort.key_of(&r.invitation), r.invitation.id),
    )?;
    Ok(rows.iter().map(|r| table_row(r, now)).collect())
}

/// A row of the table as the API shows it.
fn table_row(r: &AssetInvitation, now: Now) -> AssetInvitationView {
    let asset = AssetRef {
        id: r.invitation.resource_id,
        name: r.asset_name.clone(),
        reference: r.asset_reference.clone(),
    };
    AssetInvitationView::new(&r.invitation, asset, now)
}

pub(super) fn parse_sort(raw: Option<&str>) -> Outcome<Sort> {
    // Absent: newest first. Present, it must be one of the six values the
    // contract lists (an empty `sort=` is not one of them).
    let Some(raw) = raw else {
        return Ok(Sort::InvitedAt { descending: true });
    };
    let (descending, key) = match raw.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, raw),
    };
    match key {
        "invited_at" => Ok(Sort::InvitedAt { descending }),
        "expires_at" => Ok(Sort::ExpiresAt { descending }),
        "email" => Ok(Sort::Email { descending }),
        _ => Err(ApiError::field(
            "sort",
            "must be invited_at, expires_at or email, optionally with a leading -",
        )),
    }
}

/// The cursor after `inv` in the table sorted by `sort`.
pub(super) fn table_cursor(sort: Sort, inv: &Invitation) -> Cursor {
    match sort.key_of(inv) {
        TableKey::At(t) => Cursor::at(t, inv.id),
        TableKey::Text(s) => Cursor::new(Some(s), inv.id),
        TableKey::Never => Cursor::new(None, inv.id),
    }
}

/// The table position of a cursor under `sort` (422 `cursor` when it is not
/// one of this sort's).
pub(super) fn table_key(sort: Sort, cursor: &Cursor) -> Outcome<TableKey> {
    let key = match (sort, &cursor.key) {
        (Sort::ExpiresAt { .. }, None) => TableKey::Never,
        (Sort::Email { .. }, _) => TableKey::Text(cursor.text()?.to_owned()),
        _ => TableKey::At(cursor.instant()?),
    };
    Ok(key)
}

/// The six stats cards, with the table's visibility, in one query.
pub fn stats(
    c: &mut Conn,
    caller: &Caller,
    (asset_id, batch_id): (Option<Uuid>, Option<Uuid>),
    now: Now,
) -> Outcome<StatsView> {
    let user = caller.user(c)?;
    // One asset's cards: as its own table, 404 out of reach, 403 without
    // full access.
    if let Some(asset) = asset_id {
        let (_, level) = asset_access(c, &user, asset, now)?;
        require(level, AssetCapability::ManageInvitations)?;
    }
    let stats = match batch_id {
        Some(batch) => invitations::batch_stats(c, (user.id, user.is_root), batch, asset_id, now)?,
        None => invitations::asset_stats(c, user.id, user.is_root, asset_id, now)?,
    };
    Ok(StatsView::from(stats))
}

/// The caller and an invitation of an asset they have full access to (404
/// for any other), read with the asset and the caller's facts on it in one
/// statement.
fn managed(c: &mut Conn, caller: &Caller, id: Uuid, now: Now) -> Outcome<Managed> {
    let not_found = || ApiError::not_found(ProblemCode::InvitationNotFound, "No such invitation.");
    let (user, found) = caller.admit_read(access::asset_invitation(c, caller.bearer(), id)?)?;
    let (inv, on) = found.ok_or_else(not_found)?;
    let (asset, row) = on.ok_or_else(not_found)?;
    let level = judge(&user, &asset, &row, now).ok_or_else(not_found)?;
    if !asset::asset_can(Some(level), AssetCapability::ManageInvitations) {
        return Err(not_found());
    }
    Ok(Managed { user, inv, resource: Resource::asset(&asset) })
}

fn view(m: &Managed, now: Now) -> AssetInvitationView {
    AssetInvitationView::new(&m.inv, AssetRef::of(&m.resource), now)
}

/// Details of one invitation.
pub fn details(c: &mut Conn, caller: &Caller, id: Uuid, now: Now) -> Outcome<AssetInvitationView> {
    Ok(view(&managed(c, caller, id, now)?, now))
}

/// [`details`] with the invitation's row locked first, as a conditional
/// resend or cancel reads it before comparing `If-Match`.
pub fn details_locked(
    c: &mut Conn,
    caller: &Caller,
    id: Uuid,
    now: Now,
) -> Outcome<AssetInvitationView> {
    keyholder_store::locks::invitation(c, id)?;
    details(c, caller, id, now)
}

pub fn resend(
    c: &mut Conn,
    caller: &Caller,
    (id, requested, sending): (Uuid, ResendExpiry, Sending),
    now: Now,
) -> Outcome<AssetInvitationView> {
    let mut m = managed(c, caller, id, now)?;
    match m.inv.batch_id {
        Some(batch) => super::bulk::resend(c, &mut m, (batch, requested), &sending, now)?,
        None => super::resend(c, &mut m, requested, &sending, now)?,
    }
    Ok(view(&m, now))
}

pub fn cancel(c: &mut Conn, caller: &Caller, id: Uuid, now: Now) -> Outcome<AssetInvitationView> {
    let mut m = managed(c, caller, id, now)?;
    super::cancel(c, &mut m, now)?;
    Ok(view(&m, now))
}
