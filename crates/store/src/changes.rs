//! The changes feed: the access changes a user may see, in the order they
//! were committed, from a position the reader hands back to resume.
//!
//! An event's position is `(txid, seq)`: on PostgreSQL the id of the
//! transaction that wrote it, then its number in the events' sequence; on
//! SQLite (one writer commits at a time) txid is 0 and seq alone is the
//! commit order. PostgreSQL hands out sequence numbers and transaction ids
//! before commit, so a transaction still running could later commit an
//! event behind a position a reader has passed; the feed therefore reads
//! only events whose txid is below the oldest transaction still running
//! (the snapshot's xmin), where no event can appear any more. Transactions
//! that conflict lock the same rows first, which gives them their ids in
//! the order they commit: the changes to one resource come in order.
//!
//! A read walks at most `scan` events after the position (an index range),
//! keeps those the reader may see, and hands back the position it reached,
//! so a reader far behind catches up in bounded steps.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use uuid::Uuid;

use crate::audit::{EventRow, ListedEvent};
use crate::db::Conn;
use crate::error::Result;
use crate::paging::{Bind, Sql};

/// Where a reader of the feed stands: after the event at this position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub txid: i64,
    pub seq: i64,
}

impl Position {
    /// Before every event.
    pub const START: Self = Self { txid: 0, seq: 0 };
}

/// An event of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub event: ListedEvent,
    /// The user whose access the event changes, if it names one.
    pub subject_id: Option<Uuid>,
    pub position: Position,
}

/// A step along the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    pub items: Vec<Change>,
    /// Where the next read starts: after the last item, or after the last
    /// event walked when none of those further on was the reader's.
    pub next: Position,
    /// Whether events after `next` are already there to read.
    pub more: bool,
}

#[derive(diesel::QueryableByName)]
struct PositionRow {
    #[diesel(sql_type = BigInt)]
    txid: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

#[derive(diesel::QueryableByName)]
struct ChangeRow {
    #[diesel(embed)]
    event: EventRow,
    #[diesel(sql_type = Nullable<Text>)]
    actor_username: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    actor_display_name: Option<String>,
    #[diesel(sql_type = Bool)]
    actor_deleted: bool,
    #[diesel(sql_type = Nullable<Text>)]
    subject_id: Option<String>,
    #[diesel(sql_type = BigInt)]
    txid: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

/// The settled end of the feed: on PostgreSQL the oldest transaction id
/// still running (every event below it is committed or gone for good).
fn horizon(conn: &mut Conn, pg: bool) -> Result<i64> {
    if !pg {
        return Ok(i64::MAX);
    }
    let sql = Sql::new(conn);
    sql.count(conn, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS n")
}

/// `e`'s position after `at`, and below the horizon `h` (placeholders).
fn after(pg: bool, at: (&str, &str), h: &str) -> String {
    let (t, s) = at;
    if pg {
        format!("(e.txid, e.seq) > ({t}, {s}) AND e.txid < {h}")
    } else {
        format!("e.seq > {s}")
    }
}

/// The feed's order as its index holds it, so a read walks the index and
/// stops at its limit rather than sorting what it walked: `(txid, seq)` on
/// PostgreSQL, `seq` alone on SQLite (where txid is always 0).
fn feed_order(pg: bool, descending: bool) -> &'static str {
    match (pg, descending) {
        (true, false) => "e.txid, e.seq",
        (true, true) => "e.txid DESC, e.seq DESC",
        (false, false) => "e.seq",
        (false, true) => "e.seq DESC",
    }
}

/// The position the walk from `from` reaches: the `scan`th event after it
/// (and `true`), or the last event there is (and `false`).
pub fn walk_end(conn: &mut Conn, from: Position, scan: i64) -> Result<(Position, bool)> {
    let pg = Sql::new(conn).pg;
    let h = horizon(conn, pg)?;
    let read = |conn: &mut Conn, order: &str, skip: i64| -> Result<Option<Position>> {
        let mut sql = Sql::new(conn);
        let (t, s) = (sql.param(Bind::Int(from.txid)), sql.param(Bind::Int(from.seq)));
        let h = sql.param(Bind::Int(h));
        let skip = sql.param(Bind::Int(skip));
        let query = format!(
            "SELECT e.txid, e.seq FROM audit_events e WHERE {}
             ORDER BY {order} LIMIT 1 OFFSET {skip}",
            after(pg, (&t, &s), &h)
        );
        let rows: Vec<PositionRow> = sql.load(conn, &query)?;
        Ok(rows.first().map(|r| Position { txid: r.txid, seq: r.seq }))
    };
    if let Some(end) = read(conn, feed_order(pg, false), scan - 1)? {
        return Ok((end, true));
    }
    Ok((read(conn, feed_order(pg, true), 0)?.unwrap_or(from), false))
}

/// Up to `limit` changes after `from` that `viewer` may see, walking at most
/// `scan` events: the feed events about resources they administer (as the
/// audit trail reads them) or about their own access; root sees every one.
pub fn read(
    conn: &mut Conn,
    viewer: Uuid,
    is_root: bool,
    from: Position,
    limit: i64,
    scan: i64,
) -> Result<Changes> {
    let (end, capped) = walk_end(conn, from, scan.max(1))?;
    if end == from {
        return Ok(Changes { items: Vec::new(), next: from, more: false });
    }
    let (sql, query) = feed_query(conn, viewer, is_root, (from, end), limit);
    let mut found: Vec<ChangeRow> = sql.load(conn, &query)?;
    let cut = usize::try_from(limit).unwrap_or(usize::MAX);
    let full = found.len() > cut;
    found.truncate(cut);
    let items = found.into_iter().map(ChangeRow::into_change).collect::<Result<Vec<_>>>()?;
    let (next, more) = match items.last() {
        Some(last) if full => (last.position, true),
        _ => (end, capped),
    };
    Ok(Changes { items, next, more })
}

/// The statement of a read: the feed events in `(from, end]` the viewer may
/// see, at most `limit + 1`.
fn feed_query(
    conn: &Conn,
    viewer: Uuid,
    is_root: bool,
    (from, end): (Position, Position),
    limit: i64,
) -> (Sql, String) {
    let mut sql = Sql::new(conn);
    let pg = sql.pg;
    let (t, s) = (sql.param(Bind::Int(from.txid)), sql.param(Bind::Int(from.seq)));
    let (et, es) = (sql.param(Bind::Int(end.txid)), sql.param(Bind::Int(end.seq)));
    let range = if pg {
        format!("(e.txid, e.seq) > ({t}, {s}) AND (e.txid, e.seq) <= ({et}, {es})")
    } else {
        format!("e.seq > {s} AND e.seq <= {es}")
    };
    let actions = crate::audit::Action::feed_actions()
        .into_iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let (with, whose) = if is_root {
        (String::new(), String::new())
    } else {
        let uid = sql.id(viewer);
        (
            format!("WITH {} ", crate::audit::targets_sql(&uid, pg)),
            // An uncorrelated IN: the targets are listed once per read
            // (SQLite's list subquery, PostgreSQL's hashed subplan), not
            // once per event as a correlated EXISTS was (an estate admin's
            // thousands of assets, again for each of thousands of events).
            format!(
                " AND (e.subject_id = {uid}
                       OR (e.target_type, e.target_id) IN (SELECT x.t, x.id FROM targets x))"
            ),
        )
    };
    let rows = sql.param(Bind::Int(limit.saturating_add(1)));
    let order = feed_order(pg, false);
    let query = format!(
        "{with}SELECT e.id, e.actor_id, e.action, e.target_type, e.target_id, e.before, e.after,
                e.created_at,
                CASE WHEN u.deleted_at IS NULL THEN u.username END AS actor_username,
                CASE WHEN u.deleted_at IS NULL THEN u.display_name END AS actor_display_name,
                (u.deleted_at IS NOT NULL) AS actor_deleted,
                e.subject_id, e.txid, e.seq
         FROM audit_events e
         LEFT JOIN users u ON u.id = e.actor_id
         WHERE {range} AND e.action IN ({actions}){whose}
         ORDER BY {order}
         LIMIT {rows}"
    );
    (sql, query)
}

/// The plan of a read of `viewer`'s feed from `from` to `end` (for the
/// query-plan tests).
pub fn explain_read(
    conn: &mut Conn,
    viewer: Uuid,
    from: Position,
    end: Position,
) -> Result<Vec<String>> {
    let (sql, query) = feed_query(conn, viewer, false, (from, end), 100);
    sql.explain(conn, &query)
}

impl ChangeRow {
    fn into_change(self) -> Result<Change> {
        Ok(Change {
            event: ListedEvent {
                event: self.event.into_event()?,
                actor_username: self.actor_username,
                actor_display_name: self.actor_display_name,
                actor_deleted: self.actor_deleted,
            },
            subject_id: self.subject_id.and_then(|s| s.parse().ok()),
            position: Position { txid: self.txid, seq: self.seq },
        })
    }
}

/// The feed's present end: the position after every event settled now, so
/// that reading from it yields exactly the changes made from here on.
pub fn head(conn: &mut Conn) -> Result<Position> {
    let mut sql = Sql::new(conn);
    let pg = sql.pg;
    let h = horizon(conn, pg)?;
    let h = sql.param(Bind::Int(h));
    let below = if pg { format!("e.txid < {h}") } else { "TRUE".to_owned() };
    let query = format!(
        "SELECT e.txid, e.seq FROM audit_events e WHERE {below}
         ORDER BY {order} LIMIT 1",
        order = feed_order(pg, true)
    );
    let rows: Vec<PositionRow> = sql.load(conn, &query)?;
    Ok(rows.first().map_or(Position::START, |r| Position { txid: r.txid, seq: r.seq }))
}
