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

/// Locks the estates (in id order) for the rest of the transaction.
pub fn estates(conn: &mut DbConnection, ids: &[Uuid]) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        estates::table
            .filter(estates::id.eq_any(sorted(ids)))
            .order(estates::id)
            .select(estates::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// Locks one estate for the rest of the transaction.
pub fn estate(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    estates(conn, &[id])
}

/// Locks the assets (in id order) for the rest of the transaction.
pub fn assets(conn: &mut DbConnection, ids: &[Uuid]) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        assets::table
            .filter(assets::id.eq_any(sorted(ids)))
            .order(assets::id)
            .select(assets::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// Locks one asset for the rest of the transaction.
pub fn asset(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    assets(conn, &[id])
}

/// Locks the users' rows (in id order): for changes whose rule reads both
/// sides of a relation between users, such as household membership.
pub fn users(conn: &mut DbConnection, ids: &[Uuid]) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        users::table
            .filter(users::id.eq_any(sorted(ids)))
            .order(users::id)
            .select(users::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}
