//! The audit trail: the events on resources the caller administers (root:
//! everything), newest first.

use keyholder_store::audit::{self, AuditFilter};
use keyholder_store::paging::Window;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Outcome;
use crate::views::audit::{AuditActor, AuditEventView, AuditTarget};
use crate::views::common::{Cursor, CursorPage, CursorQuery};

/// The kinds of resource the trail can be filtered by.
const RESOURCE_TYPES: [&str; 5] = ["user", "household", "estate", "site", "asset"];

pub struct Trail {
    pub filter: AuditFilter,
    pub paging: CursorQuery,
}

/// One page of the trail, filtered by resource, actor and time.
pub fn trail(c: &mut Conn, actor: &Caller, cmd: &Trail) -> Outcome<CursorPage<AuditEventView>> {
    let Trail { filter, paging } = cmd;
    let caller = actor.user(c)?;
    if let Some(t) = filter.resource_type.as_deref()
        && !RESOURCE_TYPES.contains(&t)
    {
        return Err(ApiError::field(
            "resource_type",
            "must be one of user, household, estate, site, asset",
        ));
    }
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
