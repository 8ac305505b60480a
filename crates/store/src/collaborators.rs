//! An asset's collaborators, and the people listed with assets.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{asset_collaborators, users};
use crate::time::{from_db, to_db};
use crate::users::parse_id;

/// A user as listed with an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: String,
}

pub fn add_collaborator(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let exists = asset_collaborators::table
        .find((asset_id.to_string(), user_id.to_string()))
        .select(asset_collaborators::user_id)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if exists {
        return Ok(false);
    }
    diesel::insert_into(asset_collaborators::table)
        .values((
            asset_collaborators::asset_id.eq(asset_id.to_string()),
            asset_collaborators::user_id.eq(user_id.to_string()),
            asset_collaborators::added_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn remove_collaborator(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(
        diesel::delete(
            asset_collaborators::table.find((asset_id.to_string(), user_id.to_string())),
        )
        .execute(conn)?
            == 1,
    )
}

/// Collaborators of one asset, oldest first.
pub fn collaborators(
    conn: &mut DbConnection,
    asset_id: Uuid,
) -> Result<Vec<(Person, DateTime<Utc>)>, StoreError> {
    let rows: Vec<(String, String, String, String, NaiveDateTime)> = asset_collaborators::table
        .inner_join(users::table)
        .filter(asset_collaborators::asset_id.eq(asset_id.to_string()))
        .select((
            users::id,
            users::username,
            users::display_name,
            users::email,
            asset_collaborators::added_at,
        ))
        .order((
            asset_collaborators::added_at.asc(),
            users::username_canonical.asc(),
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, username, display_name, email, at)| {
            Ok((
                Person {
                    id: parse_id(&id)?,
                    username,
                    display_name,
                    email,
                },
                from_db(at),
            ))
        })
        .collect()
}

/// (asset, user) collaborator pairs over a selection of assets.
pub fn collaborator_pairs(
    conn: &mut DbConnection,
    asset_ids: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    let ids: Vec<String> = asset_ids.iter().map(Uuid::to_string).collect();
    asset_collaborators::table
        .filter(asset_collaborators::asset_id.eq_any(ids))
        .select((asset_collaborators::asset_id, asset_collaborators::user_id))
        .order((
            asset_collaborators::added_at.asc(),
            asset_collaborators::user_id.asc(),
        ))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(a, u)| Ok((parse_id(&a)?, parse_id(&u)?)))
        .collect()
}

/// Users by id (for listings).
pub fn people(conn: &mut DbConnection, ids: &[Uuid]) -> Result<Vec<Person>, StoreError> {
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    users::table
        .filter(users::id.eq_any(ids))
        .select((
            users::id,
            users::username,
            users::display_name,
            users::email,
        ))
        .load::<(String, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, username, display_name, email)| {
            Ok(Person {
                id: parse_id(&id)?,
                username,
                display_name,
                email,
            })
        })
        .collect()
}
