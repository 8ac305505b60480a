//! Households: a head and the members who reach the head's assets.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::HouseholdRole;
use uuid::Uuid;

use crate::collaborators::Person;
use crate::db::Conn;
use crate::error::{Result, StoreError, parse, role_at};
use crate::id::DbId;
use crate::schema::{household_members, users};
use crate::time::{from_db, to_db};

/// A household row seen from one side: the other person, the role, since
/// when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdEntry {
    pub person: Person,
    pub role: HouseholdRole,
    pub added_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = household_members)]
struct EntryRow {
    #[diesel(embed)]
    person: Person,
    role: String,
    added_at: NaiveDateTime,
}

impl TryFrom<EntryRow> for HouseholdEntry {
    type Error = StoreError;
    fn try_from(r: EntryRow) -> Result<Self> {
        Ok(Self { person: r.person, role: parse(&r.role)?, added_at: from_db(r.added_at) })
    }
}

#[derive(Insertable)]
#[diesel(table_name = household_members)]
struct NewMember<'a> {
    head_id: DbId,
    member_id: DbId,
    role: &'a str,
    added_at: NaiveDateTime,
}

/// The household join seen from one side (`$person` is the other person).
macro_rules! household_query {
    ($conn:expr, $person:expr, $filter:expr) => {
        household_members::table
            .inner_join(users::table.on(users::id.eq($person)))
            .filter($filter)
            .select(EntryRow::as_select())
            .order((household_members::added_at.asc(), users::username_canonical.asc()))
            .load::<EntryRow>($conn)?
            .into_iter()
            .map(HouseholdEntry::try_from)
            .collect()
    };
}

/// Members of `head`'s household: (member, role, added at), oldest first.
pub fn household(conn: &mut Conn, head: Uuid) -> Result<Vec<HouseholdEntry>> {
    household_query!(conn, household_members::member_id, household_members::head_id.eq(DbId(head)))
}

/// The households `member` belongs to: (head, my role, since), oldest first.
pub fn households_of(conn: &mut Conn, member: Uuid) -> Result<Vec<HouseholdEntry>> {
    household_query!(
        conn,
        household_members::head_id,
        household_members::member_id.eq(DbId(member))
    )
}

/// The role of `member` in `head`'s household, if any.
pub fn household_role(conn: &mut Conn, head: Uuid, member: Uuid) -> Result<Option<HouseholdRole>> {
    role_at!(conn, household_members, (DbId(head), DbId(member)))
}

pub fn add_household_member(
    conn: &mut Conn,
    head: Uuid,
    member: Uuid,
    role: HouseholdRole,
    now: DateTime<Utc>,
) -> Result<()> {
    diesel::insert_into(household_members::table)
        .values(NewMember {
            head_id: DbId(head),
            member_id: DbId(member),
            role: role.as_str(),
            added_at: to_db(now),
        })
        .execute(conn)?;
    Ok(())
}

pub fn set_household_role(
    conn: &mut Conn,
    head: Uuid,
    member: Uuid,
    role: HouseholdRole,
) -> Result<bool> {
    Ok(diesel::update(household_members::table.find((DbId(head), DbId(member))))
        .set(household_members::role.eq(role.as_str()))
        .execute(conn)?
        == 1)
}

pub fn remove_household_member(conn: &mut Conn, head: Uuid, member: Uuid) -> Result<bool> {
    Ok(diesel::delete(household_members::table.find((DbId(head), DbId(member)))).execute(conn)?
        == 1)
}
