//! The audit trail: the events on resources the caller administers (root:
//! everything), newest first.

use keyholder_store::audit::{self, AuditFilter};
use keyholder_store::paging::Window;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Outcome;
use crate::ops::exports::{Limits, every_row};
use crate::views::audit::{AuditActor, AuditEventView, AuditTarget};
use crate::views::common::{Cursor, CursorPage, CursorQuery};

/// The kinds of resource the trail can be filtered by.
const RESOURCE_TYPES: [&str; 5] = ["user", "household", "estate", "site", "asset"];

pub struct Trail {
    pub filter: AuditFilter,
    pub paging: CursorQuery,
}

/// 422 naming `resource_type` when it is not a kind of resource the trail
/// knows.
fn check(filter: &AuditFilter) -> Outcome<()> {
    match filter.resource_type.as_deref() {
        Some(t) if !RESOURCE_TYPES.contains(&t) => Err(ApiError::field(
            "resource_type",
            "must be one of user, household, estate, site, asset",
        )),
        _ => Ok(()),
    }
}

/// One page of the trail, filtered by resource, actor and time.
pub fn trail(c: &mut Conn, actor: &Caller, cmd: &Trail) -> Outcome<CursorPage<AuditEventView>> {
    let Trail { filter, paging } = cmd;
    let caller = actor.user(c)?;
    check(filter)?;
    let window = Window {
        limit: paging.per_page(),
        offset: paging.offset(),
        after: paging
            .after()?
            .map(|cursor| Ok::<_, ApiError>((cursor.instant()?, cursor.id)))
            .transpose()?,
    };
    let page = audit::list(c, caller.id, caller.is_root, filter, &window)?;
    let next =
        page.items.last().filter(|_| page.more).map(|e| Cursor::at(e.event.created_at, e.event.id));
    let items = page.items.into_iter().map(event_view).collect();
    Ok(CursorPage::new(items, page.counted, paging, next))
}

/// The whole trail under `filter`, newest first: the events of the
/// resources the caller administers (root: all), read page by page as
/// [`trail`] reads one, up to `limits.rows` events (422
/// `export_too_large` beyond).
pub fn export(
    c: &mut Conn,
    actor: &Caller,
    filter: &AuditFilter,
    limits: Limits,
) -> Outcome<Vec<AuditEventView>> {
    let caller = actor.user(c)?;
    check(filter)?;
    let events = every_row(
        limits,
        |window| Ok(audit::list(c, caller.id, caller.is_root, filter, window)?),
        |e| (e.event.created_at, e.event.id),
    )?;
    Ok(events.into_iter().map(event_view).collect())
}

pub(crate) fn event_view(e: audit::ListedEvent) -> AuditEventView {
    AuditEventView {
        id: e.event.id,
        actor: e.event.actor_id.map(|id| AuditActor {
            id,
            username: e.actor_username.clone(),
            display_name: e.actor_display_name.clone(),
            deleted: e.actor_deleted,
        }),
        action: e.event.action,
        target: AuditTarget { type_: e.event.target_type, id: e.event.target_id },
        before: e.event.before,
        after: e.event.after,
        created_at: e.event.created_at,
    }
}
