//! The changes feed: request shapes, the documented handlers, and their
//! routes. The use cases are in [`crate::ops::changes`].

use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{Problem, Unauthorized};
use crate::extract::ValidQuery;
use crate::ops::changes;
use crate::routes::{Reply, ok};
use crate::views::audit::{ChangesView, FeedHead};

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The `next_cursor` (or an item's `cursor`, or the head's) of an
    /// earlier read: the changes after it. Absent: from the first change.
    #[validate(length(max = 64))]
    #[param(max_length = 64, pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
    /// The most changes to answer, 1 to 500 (default 100).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500, default = 100)]
    pub limit: Option<i64>,
}

/// Read the changes feed
///
/// The access changes the caller may see, oldest first, from a cursor:
/// grants and removals (estate members, site overrides, collaborators,
/// shares, household members), invitations sent, resent, accepted,
/// declined, expired and cancelled, and estates, sites and assets created,
/// renamed, moved or deleted. The caller sees the changes on resources they
/// administer (as in `GET /audit`; root: all) and those that change their
/// own access (`subject_id`). Keep `next_cursor` and pass it back to resume;
/// `has_more` says whether to read on at once. A change appears once its
/// transaction and every one begun before it have ended, so a cursor never
/// skips a change committed later. To keep a local copy, take `GET
/// /changes/head` first, read the lists, then follow the feed from that
/// cursor.
#[utoipa::path(get, path = "/api/v1/changes", operation_id = "listChanges", tag = "changes", security(("bearer" = [])), params(FeedQuery),
    responses((status = 200, description = "The changes after the cursor, oldest first, and where to read on", body = ChangesView), Unauthorized,
        (status = 422, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn list_changes(ctx: Ctx, q: ValidQuery<FeedQuery>) -> Reply {
    let FeedQuery { cursor, limit } = q.0;
    let limit = limit.unwrap_or(100);
    ok(ctx.read(move |c, actor, _| changes::feed(c, actor, cursor.as_deref(), limit)).await)
}

/// Get the feed's present end
///
/// A cursor after every change made so far: read the lists you keep a copy
/// of, then follow `GET /changes?cursor=` from it to miss nothing.
#[utoipa::path(get, path = "/api/v1/changes/head", operation_id = "getChangesHead", tag = "changes", security(("bearer" = [])),
    responses((status = 200, description = "The cursor of the present end", body = FeedHead), Unauthorized))]
pub async fn changes_head(ctx: Ctx) -> Reply {
    ok(ctx.read(move |c, actor, _| changes::head(c, actor)).await)
}

endpoints![changes_head, list_changes,
    ; tags:
    ("changes", "The changes feed: access changes in commit order, resumable by cursor"),
];
