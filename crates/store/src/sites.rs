//! Sites of an estate and the per-site overrides of members' roles.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::{EstateRole, SiteOverride};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{Result, parse, parse_opt, role_at};
use crate::id::{DbId, db_ids};
use crate::paging::{Page, Window, after_instant, count_up_to};
use crate::schema::{estate_members, site_overrides, sites};
use crate::time::{DbTime, stamps, to_db, update_stamped};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sites)]
pub struct Site {
    #[diesel(deserialize_as = DbId)]
    pub id: Uuid,
    #[diesel(deserialize_as = DbId)]
    pub estate_id: Uuid,
    pub name: String,
    #[diesel(deserialize_as = DbTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub updated_at: DateTime<Utc>,
}

/// A site with the caller's estate role and override there.
pub type SiteWithAccess = (Site, Option<EstateRole>, Option<SiteOverride>);

#[derive(Insertable)]
#[diesel(table_name = site_overrides)]
struct NewOverride<'a> {
    site_id: DbId,
    user_id: DbId,
    estate_id: DbId,
    role: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

pub fn create_site(
    conn: &mut Conn,
    estate_id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Site> {
    let site = Site {
        id: Uuid::new_v4(),
        estate_id,
        name: name.to_owned(),
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(sites::table)
        .values((
            sites::id.eq(DbId(site.id)),
            sites::estate_id.eq(DbId(estate_id)),
            sites::name.eq(name),
            stamps!(sites, now),
        ))
        .execute(conn)?;
    crate::estates::bump_revision(conn, estate_id)?;
    Ok(site)
}

/// The site with the caller's estate role and override there, in one query.
pub fn site_for_user(
    conn: &mut Conn,
    site_id: Uuid,
    user_id: Uuid,
) -> Result<Option<SiteWithAccess>> {
    let uid = DbId(user_id);
    let row: Option<(Site, Option<String>, Option<String>)> = sites::table
        .left_join(estate_members::table.on(
            estate_members::estate_id.eq(sites::estate_id).and(estate_members::user_id.eq(uid)),
        ))
        .left_join(
            site_overrides::table
                .on(site_overrides::site_id.eq(sites::id).and(site_overrides::user_id.eq(uid))),
        )
        .filter(sites::id.eq(DbId(site_id)))
        .select((
            Site::as_select(),
            estate_members::role.nullable(),
            site_overrides::role.nullable(),
        ))
        .first(conn)
        .optional()?;
    row.map(|(s, role, o)| Ok((s, parse_opt(role)?, parse_opt(o)?))).transpose()
}

/// A page of the sites of an estate visible to a member (those they are
/// not kept off), with their override, newest first (then by id); the total
/// counted up to [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT).
pub fn sites_for_member(
    conn: &mut Conn,
    estate_id: Uuid,
    user_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<(Site, Option<SiteOverride>)>> {
    let uid = DbId(user_id);
    let visible = || {
        sites::table
            .left_join(
                site_overrides::table
                    .on(site_overrides::site_id.eq(sites::id).and(site_overrides::user_id.eq(uid))),
            )
            .filter(sites::estate_id.eq(DbId(estate_id)))
            .filter(
                site_overrides::role
                    .is_null()
                    .or(site_overrides::role.ne(SiteOverride::None.as_str())),
            )
            .into_boxed()
    };
    let rows: Vec<(Site, Option<String>)> =
        after_instant!(visible(), window.after.as_ref(), sites::created_at, sites::id, desc)
            .select((Site::as_select(), site_overrides::role.nullable()))
            .order((sites::created_at.desc(), sites::id.desc()))
            .limit(window.limit.saturating_add(1))
            .offset(window.offset)
            .load(conn)?;
    let counted = count_up_to!(conn, visible, sites::id);
    let items = rows.into_iter().map(|(s, o)| Ok((s, parse_opt(o)?))).collect::<Result<_>>()?;
    Ok(Page::cut(items, window.limit, counted))
}

/// Every site of an estate (for administrators), by name.
pub fn all_sites(conn: &mut Conn, estate_id: Uuid) -> Result<Vec<Site>> {
    Ok(sites::table
        .filter(sites::estate_id.eq(DbId(estate_id)))
        .select(Site::as_select())
        .order((sites::name.asc(), sites::id.asc()))
        .load(conn)?)
}

/// The estate a site belongs to, if the site exists.
pub fn estate_of(conn: &mut Conn, site_id: Uuid) -> Result<Option<Uuid>> {
    Ok(sites::table
        .find(DbId(site_id))
        .select(sites::estate_id)
        .first::<DbId>(conn)
        .optional()?
        .map(Uuid::from))
}

pub fn rename_site(conn: &mut Conn, id: Uuid, name: &str, now: DateTime<Utc>) -> Result<()> {
    update_stamped!(conn, sites, DbId(id), sites::name.eq(name), now)
}

pub fn delete_site(conn: &mut Conn, id: Uuid) -> Result<()> {
    diesel::delete(sites::table.find(DbId(id))).execute(conn)?;
    Ok(())
}

// ---- overrides ----

/// The user's override at a site, if any.
pub fn override_at(conn: &mut Conn, site_id: Uuid, user_id: Uuid) -> Result<Option<SiteOverride>> {
    role_at!(conn, site_overrides, (DbId(site_id), DbId(user_id)))
}

/// A member's overrides in an estate.
pub fn overrides_of(
    conn: &mut Conn,
    estate_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<(Uuid, SiteOverride)>> {
    site_overrides::table
        .filter(site_overrides::estate_id.eq(DbId(estate_id)))
        .filter(site_overrides::user_id.eq(DbId(user_id)))
        .select((site_overrides::site_id, site_overrides::role))
        .load::<(DbId, String)>(conn)?
        .into_iter()
        .map(|(s, r)| Ok((s.0, parse(&r)?)))
        .collect()
}

/// Overrides in an estate for some members: (site, user, override).
pub fn overrides_for_members(
    conn: &mut Conn,
    estate_id: Uuid,
    user_ids: &[Uuid],
) -> Result<Vec<(Uuid, Uuid, SiteOverride)>> {
    site_overrides::table
        .filter(site_overrides::estate_id.eq(DbId(estate_id)))
        .filter(site_overrides::user_id.eq_any(db_ids(user_ids)))
        .select((site_overrides::site_id, site_overrides::user_id, site_overrides::role))
        .load::<(DbId, DbId, String)>(conn)?
        .into_iter()
        .map(|(s, u, r)| Ok((s.0, u.0, parse(&r)?)))
        .collect()
}

/// Sets (or with `None` clears) one override.
pub fn set_override(
    conn: &mut Conn,
    estate_id: Uuid,
    site_id: Uuid,
    user_id: Uuid,
    value: Option<SiteOverride>,
    now: DateTime<Utc>,
) -> Result<()> {
    diesel::delete(site_overrides::table.find((DbId(site_id), DbId(user_id)))).execute(conn)?;
    if let Some(o) = value {
        diesel::insert_into(site_overrides::table)
            .values(NewOverride {
                site_id: DbId(site_id),
                user_id: DbId(user_id),
                estate_id: DbId(estate_id),
                role: o.as_str(),
                created_at: to_db(now),
                updated_at: to_db(now),
            })
            .execute(conn)?;
    }
    crate::estates::bump_revision(conn, estate_id)
}

/// Drops every override of a member in an estate.
pub fn delete_overrides(conn: &mut Conn, estate_id: Uuid, user_id: Uuid) -> Result<()> {
    diesel::delete(
        site_overrides::table
            .filter(site_overrides::estate_id.eq(DbId(estate_id)))
            .filter(site_overrides::user_id.eq(DbId(user_id))),
    )
    .execute(conn)?;
    crate::estates::bump_revision(conn, estate_id)
}
