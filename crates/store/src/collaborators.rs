//! An asset's collaborators, and the people listed with assets.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::id::{DbId, db_ids};
use crate::paging::{Page, Window, after_instant, count_up_to};
use crate::schema::{asset_collaborators, users};
use crate::time::{from_db, to_db};

/// A user as listed with an asset.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct Person {
    #[diesel(deserialize_as = DbId)]
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: String,
}

#[derive(Insertable)]
#[diesel(table_name = asset_collaborators)]
struct NewCollaborator {
    asset_id: DbId,
    user_id: DbId,
    added_at: NaiveDateTime,
}

pub fn add_collaborator(
    conn: &mut Conn,
    asset_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let exists = asset_collaborators::table
        .find((DbId(asset_id), DbId(user_id)))
        .select(asset_collaborators::user_id)
        .first::<DbId>(conn)
        .optional()?
        .is_some();
    if exists {
        return Ok(false);
    }
    diesel::insert_into(asset_collaborators::table)
        .values(NewCollaborator {
            asset_id: DbId(asset_id),
            user_id: DbId(user_id),
            added_at: to_db(now),
        })
        .execute(conn)?;
    Ok(true)
}

pub fn remove_collaborator(conn: &mut Conn, asset_id: Uuid, user_id: Uuid) -> Result<bool> {
    Ok(diesel::delete(asset_collaborators::table.find((DbId(asset_id), DbId(user_id))))
        .execute(conn)?
        == 1)
}

/// Collaborators of one asset, oldest first.
pub fn collaborators(conn: &mut Conn, asset_id: Uuid) -> Result<Vec<(Person, DateTime<Utc>)>> {
    let rows: Vec<(Person, NaiveDateTime)> = asset_collaborators::table
        .inner_join(users::table)
        .filter(asset_collaborators::asset_id.eq(DbId(asset_id)))
        .select((Person::as_select(), asset_collaborators::added_at))
        .order((asset_collaborators::added_at.asc(), users::username_canonical.asc()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(p, at)| (p, from_db(at))).collect())
}

/// A page of the collaborators of an asset, oldest first (then by user id);
/// the total counted up to [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT).
pub fn collaborators_page(
    conn: &mut Conn,
    asset_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<(Person, DateTime<Utc>)>> {
    let base = || {
        asset_collaborators::table
            .inner_join(users::table)
            .filter(asset_collaborators::asset_id.eq(DbId(asset_id)))
            .into_boxed()
    };
    let rows: Vec<(Person, NaiveDateTime)> = after_instant!(
        base(),
        window.after.as_ref(),
        asset_collaborators::added_at,
        asset_collaborators::user_id,
        asc
    )
    .select((Person::as_select(), asset_collaborators::added_at))
    .order((asset_collaborators::added_at.asc(), asset_collaborators::user_id.asc()))
    .limit(window.limit.saturating_add(1))
    .offset(window.offset)
    .load(conn)?;
    let rows = rows.into_iter().map(|(p, at)| (p, from_db(at))).collect();
    let counted = count_up_to!(conn, base, asset_collaborators::user_id);
    Ok(Page::cut(rows, window.limit, counted))
}

/// (asset, user) collaborator pairs over a selection of assets.
pub fn collaborator_pairs(conn: &mut Conn, asset_ids: &[Uuid]) -> Result<Vec<(Uuid, Uuid)>> {
    Ok(asset_collaborators::table
        .filter(asset_collaborators::asset_id.eq_any(db_ids(asset_ids)))
        .select((asset_collaborators::asset_id, asset_collaborators::user_id))
        .order((asset_collaborators::added_at.asc(), asset_collaborators::user_id.asc()))
        .load::<(DbId, DbId)>(conn)?
        .into_iter()
        .map(|(a, u)| (a.0, u.0))
        .collect())
}

/// The assets of an estate where the user is a collaborator.
pub fn collaborations_in_estate(
    conn: &mut Conn,
    estate_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<Uuid>> {
    let in_estate = crate::schema::assets::table
        .filter(crate::schema::assets::estate_id.eq(DbId(estate_id)))
        .select(crate::schema::assets::id);
    Ok(asset_collaborators::table
        .filter(asset_collaborators::user_id.eq(DbId(user_id)))
        .filter(asset_collaborators::asset_id.eq_any(in_estate))
        .select(asset_collaborators::asset_id)
        .order(asset_collaborators::asset_id)
        .load::<DbId>(conn)?
        .into_iter()
        .map(Uuid::from)
        .collect())
}

/// Users by id (for listings).
pub fn people(conn: &mut Conn, ids: &[Uuid]) -> Result<Vec<Person>> {
    Ok(users::table.filter(users::id.eq_any(db_ids(ids))).select(Person::as_select()).load(conn)?)
}
