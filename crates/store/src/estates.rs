//! Estates and their memberships. Every read that decides access is one
//! query keyed by the caller, so nothing is filtered in memory.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::{EstateRole, SiteOverride};
use uuid::Uuid;

use crate::collaborators::Person;
use crate::db::Conn;
use crate::error::{Result, StoreError, parse, parse_opt, role_at};
use crate::id::DbId;
use crate::paging::{COUNT_LIMIT, Page, Window, after_instant, count_up_to};
use crate::schema::{estate_members, estates, site_overrides, users};
use crate::time::{DbTime, from_db, stamps, to_db, update_stamped};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = estates)]
pub struct Estate {
    #[diesel(deserialize_as = DbId)]
    pub id: Uuid,
    pub name: String,
    #[diesel(deserialize_as = DbTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub updated_at: DateTime<Utc>,
}

/// A member of an estate as listed on Users & Permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: EstateRole,
    pub since: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = estate_members)]
struct MemberRow {
    #[diesel(embed)]
    person: Person,
    role: String,
    created_at: NaiveDateTime,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self> {
        Ok(Self {
            user_id: r.person.id,
            username: r.person.username,
            display_name: r.person.display_name,
            email: r.person.email,
            role: parse(&r.role)?,
            since: from_db(r.created_at),
        })
    }
}

/// One page of items and the total across pages.
pub type Paged<T> = (Vec<T>, i64);

/// An estate with the user's role in it.
fn with_role((e, role): (Estate, Option<String>)) -> Result<(Estate, Option<EstateRole>)> {
    Ok((e, parse_opt(role)?))
}

#[derive(Insertable)]
#[diesel(table_name = estate_members)]
struct NewMember<'a> {
    estate_id: DbId,
    user_id: DbId,
    role: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Creates an estate with `owner_id` as its owner.
pub fn create(conn: &mut Conn, name: &str, owner_id: Uuid, now: DateTime<Utc>) -> Result<Estate> {
    let id = Uuid::new_v4();
    diesel::insert_into(estates::table)
        .values((estates::id.eq(DbId(id)), estates::name.eq(name), stamps!(estates, now)))
        .execute(conn)?;
    add_member(conn, id, owner_id, EstateRole::Owner, now)?;
    get(conn, id)?.ok_or(StoreError::NotFound)
}

pub fn get(conn: &mut Conn, id: Uuid) -> Result<Option<Estate>> {
    Ok(estates::table.find(DbId(id)).select(Estate::as_select()).first(conn).optional()?)
}

/// Estates, each joined to the user's membership when there is one.
#[diesel::dsl::auto_type]
fn with_membership(user: DbId) -> _ {
    estates::table.left_join(
        estate_members::table
            .on(estate_members::estate_id.eq(estates::id).and(estate_members::user_id.eq(user))),
    )
}

/// The estate and the user's role in it (`None`: not a member).
pub fn get_for_user(
    conn: &mut Conn,
    id: Uuid,
    user_id: Uuid,
) -> Result<Option<(Estate, Option<EstateRole>)>> {
    let row: Option<(Estate, Option<String>)> = with_membership(DbId(user_id))
        .filter(estates::id.eq(DbId(id)))
        .select((Estate::as_select(), estate_members::role.nullable()))
        .first(conn)
        .optional()?;
    row.map(with_role).transpose()
}

/// A page of the estates the user belongs to (every estate for root),
/// newest first (then by id), each with the user's role; the total counted
/// up to [`COUNT_LIMIT`].
pub fn list_for_user(
    conn: &mut Conn,
    user_id: Uuid,
    all: bool,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<(Estate, Option<EstateRole>)>> {
    let uid = DbId(user_id);
    let base = || {
        let q = with_membership(uid).into_boxed();
        if all { q } else { q.filter(estate_members::user_id.eq(uid)) }
    };
    let rows: Vec<(Estate, Option<String>)> =
        after_instant!(base(), window.after.as_ref(), estates::created_at, estates::id, desc)
            .select((Estate::as_select(), estate_members::role.nullable()))
            .order((estates::created_at.desc(), estates::id.desc()))
            .limit(window.limit.saturating_add(1))
            .offset(window.offset)
            .load(conn)?;
    let counted = count_up_to!(conn, base, estates::id);
    let items = rows.into_iter().map(with_role).collect::<Result<_>>()?;
    Ok(Page::cut(items, window.limit, counted))
}

pub fn rename(conn: &mut Conn, id: Uuid, name: &str, now: DateTime<Utc>) -> Result<()> {
    update_stamped!(conn, estates, DbId(id), estates::name.eq(name), now)
}

/// Deletes the estate; its sites, memberships, overrides and invitations go
/// with it.
pub fn delete(conn: &mut Conn, id: Uuid) -> Result<()> {
    crate::invitations::delete_for_resource(conn, crate::invitations::ResourceType::Estate, id)?;
    diesel::delete(estates::table.find(DbId(id))).execute(conn)?;
    Ok(())
}

/// The members matrix's revision: bumped by every membership and site
/// override change (and by adding or deleting a site). `None` for an estate
/// that does not exist.
pub fn revision(conn: &mut Conn, id: Uuid) -> Result<Option<i64>> {
    Ok(estates::table.find(DbId(id)).select(estates::revision).first(conn).optional()?)
}

/// Bumps the members matrix's revision, in the caller's transaction.
pub fn bump_revision(conn: &mut Conn, id: Uuid) -> Result<()> {
    diesel::update(estates::table.find(DbId(id)))
        .set(estates::revision.eq(estates::revision + 1))
        .execute(conn)?;
    Ok(())
}

pub fn add_member(
    conn: &mut Conn,
    estate_id: Uuid,
    user_id: Uuid,
    role: EstateRole,
    now: DateTime<Utc>,
) -> Result<()> {
    diesel::insert_into(estate_members::table)
        .values(NewMember {
            estate_id: DbId(estate_id),
            user_id: DbId(user_id),
            role: role.as_str(),
            created_at: to_db(now),
            updated_at: to_db(now),
        })
        .execute(conn)?;
    bump_revision(conn, estate_id)
}

pub fn member_role(conn: &mut Conn, estate_id: Uuid, user_id: Uuid) -> Result<Option<EstateRole>> {
    role_at!(conn, estate_members, (DbId(estate_id), DbId(user_id)))
}

/// One member with their user details.
pub fn member(conn: &mut Conn, estate_id: Uuid, user_id: Uuid) -> Result<Option<Member>> {
    let row: Option<MemberRow> = estate_members::table
        .inner_join(users::table)
        .filter(estate_members::estate_id.eq(DbId(estate_id)))
        .filter(estate_members::user_id.eq(DbId(user_id)))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()?;
    row.map(Member::try_from).transpose()
}

/// The estate's one owner.
pub fn owner_of(conn: &mut Conn, estate_id: Uuid) -> Result<Option<Uuid>> {
    Ok(estate_members::table
        .filter(estate_members::estate_id.eq(DbId(estate_id)))
        .filter(estate_members::role.eq(EstateRole::Owner.as_str()))
        .select(estate_members::user_id)
        .first::<DbId>(conn)
        .optional()?
        .map(Uuid::from))
}

pub fn set_role(
    conn: &mut Conn,
    estate_id: Uuid,
    user_id: Uuid,
    role: EstateRole,
    now: DateTime<Utc>,
) -> Result<()> {
    let key = (DbId(estate_id), DbId(user_id));
    let changed: Result<()> =
        update_stamped!(conn, estate_members, key, estate_members::role.eq(role.as_str()), now);
    changed.and_then(|()| bump_revision(conn, estate_id))
}

/// Removes a member; their overrides in the estate go too.
pub fn remove_member(conn: &mut Conn, estate_id: Uuid, user_id: Uuid) -> Result<()> {
    crate::sites::delete_overrides(conn, estate_id, user_id)?;
    diesel::delete(estate_members::table.find((DbId(estate_id), DbId(user_id)))).execute(conn)?;
    bump_revision(conn, estate_id)
}

/// Where a page of members starts: the last member's joining instant and
/// canonical (lower-case) username, the list's order.
pub type MemberKey = (DateTime<Utc>, String);

/// The keyset bound of the member lists (oldest first, then username).
/// The `created_at >= t` conjunct bounds the index range.
macro_rules! members_after {
    ($q:expr, $after:expr) => {{
        let mut q = $q;
        if let Some(((at, name), _)) = $after {
            let at = to_db(*at);
            q = q.filter(estate_members::created_at.ge(at)).filter(
                estate_members::created_at.gt(at).or(users::username_canonical.gt(name.clone())),
            );
        }
        q
    }};
}

/// Which members a list shows: a search and a role.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// Matched anywhere in the username or display name, in any case (and
    /// in the email when `emails`); `%`, `_` and `\` are taken literally.
    pub q: Option<String>,
    /// Only members with this estate role.
    pub role: Option<EstateRole>,
    /// Whether the caller sees emails, and so may search by them.
    pub emails: bool,
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// `$q` (a boxed query over members joined with users) narrowed by a
/// [`MemberFilter`].
macro_rules! filtered {
    ($q:expr, $filter:expr) => {{
        let mut q = $q;
        let filter: &MemberFilter = $filter;
        if let Some(role) = filter.role {
            q = q.filter(estate_members::role.eq(role.as_str()));
        }
        if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let pattern = crate::garage::like_pattern(Some(text));
            let name = users::username_canonical.like(pattern.clone()).escape('\\').or(lower(
                users::display_name,
            )
            .like(pattern.clone())
            .escape('\\'));
            q = if filter.emails {
                q.filter(name.or(users::email.like(pattern).escape('\\')))
            } else {
                q.filter(name)
            };
        }
        q
    }};
}

/// Members of an estate that `filter` shows, counted up to [`COUNT_LIMIT`].
fn count_filtered(conn: &mut Conn, estate_id: Uuid, filter: &MemberFilter) -> Result<i64> {
    let base = || {
        filtered!(
            estate_members::table
                .inner_join(users::table)
                .filter(estate_members::estate_id.eq(DbId(estate_id)))
                .into_boxed(),
            filter
        )
    };
    Ok(count_up_to!(conn, base, estate_members::user_id))
}

/// Members of an estate counted up to [`COUNT_LIMIT`].
fn count_members(conn: &mut Conn, estate_id: Uuid) -> Result<i64> {
    let ids: Vec<DbId> = estate_members::table
        .filter(estate_members::estate_id.eq(DbId(estate_id)))
        .select(estate_members::user_id)
        .limit(COUNT_LIMIT)
        .load(conn)?;
    Ok(i64::try_from(ids.len()).unwrap_or(COUNT_LIMIT))
}

/// A page of an estate's members with their user details, oldest first
/// (then by username), from the estate's members index; the total counted
/// up to [`COUNT_LIMIT`].
pub fn members(
    conn: &mut Conn,
    estate_id: Uuid,
    filter: &MemberFilter,
    window: &Window<MemberKey>,
) -> Result<Page<Member>> {
    let q = filtered!(
        estate_members::table
            .inner_join(users::table)
            .filter(estate_members::estate_id.eq(DbId(estate_id)))
            .select(MemberRow::as_select())
            .into_boxed(),
        filter
    );
    let rows: Vec<MemberRow> = members_after!(q, window.after.as_ref())
        .order((estate_members::created_at.asc(), users::username_canonical.asc()))
        .limit(window.limit.saturating_add(1))
        .offset(window.offset)
        .load(conn)?;
    let items = rows.into_iter().map(Member::try_from).collect::<Result<Vec<_>>>()?;
    let counted = count_filtered(conn, estate_id, filter)?;
    Ok(Page::cut(items, window.limit, counted))
}

/// A page of the estate's members with their override at one site, for the
/// site's member list (the estate's order), the total counted up to
/// [`COUNT_LIMIT`].
pub fn site_members(
    conn: &mut Conn,
    estate_id: Uuid,
    site_id: Uuid,
    window: &Window<MemberKey>,
) -> Result<Page<(Member, Option<SiteOverride>)>> {
    let q = estate_members::table
        .inner_join(users::table)
        .left_join(
            site_overrides::table.on(site_overrides::user_id
                .eq(estate_members::user_id)
                .and(site_overrides::site_id.eq(DbId(site_id)))),
        )
        .filter(estate_members::estate_id.eq(DbId(estate_id)))
        .select((MemberRow::as_select(), site_overrides::role.nullable()))
        .into_boxed();
    let rows: Vec<(MemberRow, Option<String>)> = members_after!(q, window.after.as_ref())
        .order((estate_members::created_at.asc(), users::username_canonical.asc()))
        .limit(window.limit.saturating_add(1))
        .offset(window.offset)
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(m, o)| Ok((Member::try_from(m)?, parse_opt(o)?)))
        .collect::<Result<Vec<_>>>()?;
    let counted = count_members(conn, estate_id)?;
    Ok(Page::cut(items, window.limit, counted))
}
