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

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{assets, estates, users};

fn sorted(ids: &[Uuid]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
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
                .load::<String>(pg)?;
        }
    };
}

/// Locks the estates (in id order) for the rest of the transaction.
pub fn estates(conn: &mut DbConnection, ids: &[Uuid]) -> Result<(), StoreError> {
    lock_rows!(conn, estates, ids);
    Ok(())
}

/// Locks one estate for the rest of the transaction.
pub fn estate(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    estates(conn, &[id])
}

/// Locks the assets (in id order) for the rest of the transaction.
pub fn assets(conn: &mut DbConnection, ids: &[Uuid]) -> Result<(), StoreError> {
    lock_rows!(conn, assets, ids);
    Ok(())
}

/// Locks one asset for the rest of the transaction.
pub fn asset(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    assets(conn, &[id])
}

/// Locks the users' rows (in id order): for changes whose rule reads both
/// sides of a relation between users, such as household membership.
pub fn users(conn: &mut DbConnection, ids: &[Uuid]) -> Result<(), StoreError> {
    lock_rows!(conn, users, ids);
    Ok(())
}
