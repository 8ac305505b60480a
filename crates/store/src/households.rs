//! Households: a head and the members who reach the head's assets.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::HouseholdRole;
use uuid::Uuid;

use crate::collaborators::Person;
use crate::db::DbConnection;
use crate::error::{StoreError, parse};
use crate::schema::{household_members, users};
use crate::time::{from_db, to_db};
use crate::users::parse_id;

/// A household row seen from one side: the other person, the role, when.
pub type HouseholdEntry = (Person, HouseholdRole, DateTime<Utc>);

fn household_entries(
    rows: Vec<(String, String, String, String, String, NaiveDateTime)>,
) -> Result<Vec<HouseholdEntry>, StoreError> {
    rows.into_iter()
        .map(|(id, username, display_name, email, role, at)| {
            Ok((
                Person {
                    id: parse_id(&id)?,
                    username,
                    display_name,
                    email,
                },
                parse(&role)?,
                from_db(at),
            ))
        })
        .collect()
}

/// The household join seen from one side (`$person` is the other person).
macro_rules! household_query {
    ($conn:expr, $person:expr, $filter:expr) => {
        household_members::table
            .inner_join(users::table.on(users::id.eq($person)))
            .filter($filter)
            .select((
                users::id,
                users::username,
                users::display_name,
                users::email,
                household_members::role,
                household_members::added_at,
            ))
            .order((
                household_members::added_at.asc(),
                users::username_canonical.asc(),
            ))
            .load($conn)
    };
}

/// Members of `head`'s household: (member, role, added at), oldest first.
pub fn household(conn: &mut DbConnection, head: Uuid) -> Result<Vec<HouseholdEntry>, StoreError> {
    let rows = household_query!(
        conn,
        household_members::member_id,
        household_members::head_id.eq(head.to_string())
    )?;
    household_entries(rows)
}

/// The households `member` belongs to: (head, my role, since), oldest first.
pub fn households_of(
    conn: &mut DbConnection,
    member: Uuid,
) -> Result<Vec<HouseholdEntry>, StoreError> {
    let rows = household_query!(
        conn,
        household_members::head_id,
        household_members::member_id.eq(member.to_string())
    )?;
    household_entries(rows)
}

/// The role of `member` in `head`'s household, if any.
pub fn household_role(
    conn: &mut DbConnection,
    head: Uuid,
    member: Uuid,
) -> Result<Option<HouseholdRole>, StoreError> {
    household_members::table
        .find((head.to_string(), member.to_string()))
        .select(household_members::role)
        .first::<String>(conn)
        .optional()?
        .as_deref()
        .map(parse)
        .transpose()
}

pub fn add_household_member(
    conn: &mut DbConnection,
    head: Uuid,
    member: Uuid,
    role: HouseholdRole,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(household_members::table)
        .values((
            household_members::head_id.eq(head.to_string()),
            household_members::member_id.eq(member.to_string()),
            household_members::role.eq(role.as_str()),
            household_members::added_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_household_role(
    conn: &mut DbConnection,
    head: Uuid,
    member: Uuid,
    role: HouseholdRole,
) -> Result<bool, StoreError> {
    Ok(
        diesel::update(household_members::table.find((head.to_string(), member.to_string())))
            .set(household_members::role.eq(role.as_str()))
            .execute(conn)?
            == 1,
    )
}

pub fn remove_household_member(
    conn: &mut DbConnection,
    head: Uuid,
    member: Uuid,
) -> Result<bool, StoreError> {
    Ok(
        diesel::delete(household_members::table.find((head.to_string(), member.to_string())))
            .execute(conn)?
            == 1,
    )
}
