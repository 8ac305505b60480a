//! Row locks that make a check-then-write hold under concurrent writers.
//!
//! A write transaction that checks an invariant over several rows (an asset
//! keeps a collaborator, an estate keeps its owner, two households do not hold
//! each other) first locks the parent row the invariant belongs to, so a
//! second writer on the same parent waits and then reads the first one's
//! result. Locks are always taken parents first and, within one kind, in id
//! order, so two transactions cannot wait on each other in a cycle.
//!
//! On PostgreSQL this is `SELECT ... ORDER BY id FOR UPDATE`. SQLite runs one
//! writer at a time (the process-wide writer lock in [`crate::Db::write`] and
//! SQLite's own database lock), so there is nothing more to lock there.

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{Conn, DbConnection};
use crate::error::{Result, StoreError};
use crate::id::{DbId, db_ids};
use crate::schema::{assets, estates, invitations, sessions, users};

fn sorted(ids: &[Uuid]) -> Vec<DbId> {
    let mut ids = db_ids(ids);
    ids.sort();
    ids.dedup();
    ids
}

/// `FOR UPDATE` on the rows of `$table` with these ids, in id order.
macro_rules! lock_rows {
    ($conn:expr, $table:ident, $ids:expr) => {
        if let DbConnection::Postgresql(pg) = $conn {
            $table::table
                .filter($table::id.eq_any(sorted($ids)))
                .order($table::id)
                .select($table::id)
                .for_update()
                .load::<DbId>(pg)?;
        }
    };
}

/// Locks the estates (in id order) for the rest of the transaction.
pub fn estates(conn: &mut Conn, ids: &[Uuid]) -> Result<()> {
    lock_rows!(conn, estates, ids);
    Ok(())
}

/// Locks one estate for the rest of the transaction.
pub fn estate(conn: &mut Conn, id: Uuid) -> Result<()> {
    estates(conn, &[id])
}

/// Locks the assets (in id order) for the rest of the transaction.
pub fn assets(conn: &mut Conn, ids: &[Uuid]) -> Result<()> {
    lock_rows!(conn, assets, ids);
    Ok(())
}

/// Locks one asset for the rest of the transaction.
pub fn asset(conn: &mut Conn, id: Uuid) -> Result<()> {
    assets(conn, &[id])
}

/// Locks one invitation for the rest of the transaction (a resend or a
/// cancel that compares the invitation's `ETag` first).
pub fn invitation(conn: &mut Conn, id: Uuid) -> Result<()> {
    lock_rows!(conn, invitations, &[id]);
    Ok(())
}

/// Locks sessions (in id order) for the rest of the transaction: a
/// refresh reads its token's state only after this.
pub fn sessions(conn: &mut Conn, ids: &[Uuid]) -> Result<()> {
    lock_rows!(conn, sessions, ids);
    Ok(())
}

/// Locks the users' rows (in id order): for changes whose rule reads both
/// sides of a relation between users, such as household membership.
pub fn users(conn: &mut Conn, ids: &[Uuid]) -> Result<()> {
    lock_rows!(conn, users, ids);
    Ok(())
}

/// Locks assets together with the estates they are placed in, estates first
/// (and `also_estates`, such as the estate an asset moves into): what an
/// asset write checks depends on roles in its estate, so an estate change
/// (a removal, a role change) and an asset change on it run one after the
/// other. An asset that moves between the read of its estate and its lock
/// is read again (three tries, then 503).
pub fn assets_with_estates(conn: &mut Conn, ids: &[Uuid], also_estates: &[Uuid]) -> Result<()> {
    if !matches!(conn, DbConnection::Postgresql(_)) {
        return Ok(());
    }
    let placed = |conn: &mut Conn| -> Result<Vec<Uuid>> {
        let rows: Vec<Option<DbId>> = assets::table
            .filter(assets::id.eq_any(sorted(ids)))
            .select(assets::estate_id)
            .load(conn)?;
        Ok(rows.into_iter().flatten().map(Uuid::from).collect())
    };
    let mut locked: Vec<Uuid> = Vec::new();
    for _ in 0..3 {
        let mut wanted = placed(conn)?;
        wanted.extend_from_slice(also_estates);
        wanted.retain(|e| !locked.contains(e));
        estates(conn, &wanted)?;
        locked.extend(wanted);
        assets(conn, ids)?;
        if placed(conn)?.iter().all(|e| locked.contains(e)) {
            return Ok(());
        }
    }
    Err(StoreError::Unavailable("an asset kept moving between estates; try again".into()))
}
