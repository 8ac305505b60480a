//! Households: a head and the members who reach the head's assets.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::HouseholdRole;
use uuid::Uuid;

use crate::collaborators::Person;
use crate::db::Conn;
use crate::error::{Result, StoreError, parse, role_at};
use crate::id::DbId;
use crate::paging::{Page, Window, count_up_to};
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

/// Where a page of households starts: the instant the member joined and
/// the head's canonical (lower-case) username, the list's order.
pub type HouseholdKey = (DateTime<Utc>, String);

/// A page of the households `member` belongs to: (head, my role, since),
/// oldest first (then by the head's username); the total counted up to
/// [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT).
pub fn households_of(
    conn: &mut Conn,
    member: Uuid,
    window: &Window<HouseholdKey>,
) -> Result<Page<HouseholdEntry>> {
    let base = || {
        household_members::table
            .inner_join(users::table.on(users::id.eq(household_members::head_id)))
            .filter(household_members::member_id.eq(DbId(member)))
            .into_boxed()
    };
    let mut q = base();
    if let Some(((at, name), _)) = window.after.as_ref() {
        let at = to_db(*at);
        q = q.filter(household_members::added_at.ge(at)).filter(
            household_members::added_at.gt(at).or(users::username_canonical.gt(name.clone())),
        );
    }
    let rows = q
        .select(EntryRow::as_select())
        .order((household_members::added_at.asc(), users::username_canonical.asc()))
        .limit(window.limit.saturating_add(1))
        .offset(window.offset)
        .load::<EntryRow>(conn)?
        .into_iter()
        .map(HouseholdEntry::try_from)
        .collect::<Result<Vec<_>>>()?;
    let counted = count_up_to!(conn, base, household_members::head_id);
    Ok(Page::cut(rows, window.limit, counted))
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
