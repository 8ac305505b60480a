//! Sites of an estate and the per-site overrides of members' roles.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::{EstateRole, SiteOverride};
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::{StoreError, parse};
use crate::estates::Paged;
use crate::schema::{estate_members, site_overrides, sites};
use crate::time::{from_db, to_db};
use crate::users::parse_id;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub id: Uuid,
    pub estate_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A site with the caller's estate role and override there.
pub type SiteWithAccess = (Site, Option<EstateRole>, Option<SiteOverride>);
type SiteRow = (String, String, String, NaiveDateTime, NaiveDateTime);

fn site(r: SiteRow) -> Result<Site, StoreError> {
    Ok(Site {
        id: parse_id(&r.0)?,
        estate_id: parse_id(&r.1)?,
        name: r.2,
        created_at: from_db(r.3),
        updated_at: from_db(r.4),
    })
}

const SITE_COLUMNS: (
    sites::id,
    sites::estate_id,
    sites::name,
    sites::created_at,
    sites::updated_at,
) = (
    sites::id,
    sites::estate_id,
    sites::name,
    sites::created_at,
    sites::updated_at,
);

pub fn create_site(
    conn: &mut DbConnection,
    estate_id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Site, StoreError> {
    let id = Uuid::new_v4();
    diesel::insert_into(sites::table)
        .values((
            sites::id.eq(id.to_string()),
            sites::estate_id.eq(estate_id.to_string()),
            sites::name.eq(name),
            sites::created_at.eq(to_db(now)),
            sites::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(Site {
        id,
        estate_id,
        name: name.to_owned(),
        created_at: now,
        updated_at: now,
    })
}

/// The site with the caller's estate role and override there, in one query.
pub fn site_for_user(
    conn: &mut DbConnection,
    site_id: Uuid,
    user_id: Uuid,
) -> Result<Option<SiteWithAccess>, StoreError> {
    let uid = user_id.to_string();
    let row: Option<(SiteRow, Option<String>, Option<String>)> = sites::table
        .left_join(
            estate_members::table.on(estate_members::estate_id
                .eq(sites::estate_id)
                .and(estate_members::user_id.eq(uid.clone()))),
        )
        .left_join(
            site_overrides::table.on(site_overrides::site_id
                .eq(sites::id)
                .and(site_overrides::user_id.eq(uid))),
        )
        .filter(sites::id.eq(site_id.to_string()))
        .select((
            SITE_COLUMNS,
            estate_members::role.nullable(),
            site_overrides::role.nullable(),
        ))
        .first(conn)
        .optional()?;
    row.map(|(s, role, o)| {
        Ok((
            site(s)?,
            role.as_deref().map(parse).transpose()?,
            o.as_deref().map(parse).transpose()?,
        ))
    })
    .transpose()
}

/// Sites of an estate visible to a member (those they are not kept off),
/// with their override, newest first.
pub fn sites_for_member(
    conn: &mut DbConnection,
    estate_id: Uuid,
    user_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Paged<(Site, Option<SiteOverride>)>, StoreError> {
    let uid = user_id.to_string();
    let visible = sites::table
        .left_join(
            site_overrides::table.on(site_overrides::site_id
                .eq(sites::id)
                .and(site_overrides::user_id.eq(uid))),
        )
        .filter(sites::estate_id.eq(estate_id.to_string()))
        .filter(
            site_overrides::role
                .is_null()
                .or(site_overrides::role.ne(SiteOverride::None.as_str())),
        );
    let rows: Vec<(SiteRow, Option<String>)> = visible
        .clone()
        .select((SITE_COLUMNS, site_overrides::role.nullable()))
        .order((sites::created_at.desc(), sites::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let total = visible.count().get_result(conn)?;
    let items = rows
        .into_iter()
        .map(|(s, o)| Ok((site(s)?, o.as_deref().map(parse).transpose()?)))
        .collect::<Result<_, StoreError>>()?;
    Ok((items, total))
}

/// Every site of an estate (for administrators), by name.
pub fn all_sites(conn: &mut DbConnection, estate_id: Uuid) -> Result<Vec<Site>, StoreError> {
    sites::table
        .filter(sites::estate_id.eq(estate_id.to_string()))
        .select(SITE_COLUMNS)
        .order((sites::name.asc(), sites::id.asc()))
        .load::<SiteRow>(conn)?
        .into_iter()
        .map(site)
        .collect()
}

pub fn rename_site(
    conn: &mut DbConnection,
    id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(sites::table.find(id.to_string()))
        .set((sites::name.eq(name), sites::updated_at.eq(to_db(now))))
        .execute(conn)?;
    Ok(())
}

pub fn delete_site(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    diesel::delete(sites::table.find(id.to_string())).execute(conn)?;
    Ok(())
}

// ---- overrides ----

/// A member's overrides in an estate.
pub fn overrides_of(
    conn: &mut DbConnection,
    estate_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<(Uuid, SiteOverride)>, StoreError> {
    site_overrides::table
        .filter(site_overrides::estate_id.eq(estate_id.to_string()))
        .filter(site_overrides::user_id.eq(user_id.to_string()))
        .select((site_overrides::site_id, site_overrides::role))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(s, r)| Ok((parse_id(&s)?, parse(&r)?)))
        .collect()
}

/// Overrides in an estate for some members: (site, user, override).
pub fn overrides_for_members(
    conn: &mut DbConnection,
    estate_id: Uuid,
    user_ids: &[Uuid],
) -> Result<Vec<(Uuid, Uuid, SiteOverride)>, StoreError> {
    let ids: Vec<String> = user_ids.iter().map(Uuid::to_string).collect();
    site_overrides::table
        .filter(site_overrides::estate_id.eq(estate_id.to_string()))
        .filter(site_overrides::user_id.eq_any(ids))
        .select((
            site_overrides::site_id,
            site_overrides::user_id,
            site_overrides::role,
        ))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(s, u, r)| Ok((parse_id(&s)?, parse_id(&u)?, parse(&r)?)))
        .collect()
}

/// Sets (or with `None` clears) one override.
pub fn set_override(
    conn: &mut DbConnection,
    estate_id: Uuid,
    site_id: Uuid,
    user_id: Uuid,
    value: Option<SiteOverride>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::delete(site_overrides::table.find((site_id.to_string(), user_id.to_string())))
        .execute(conn)?;
    if let Some(o) = value {
        diesel::insert_into(site_overrides::table)
            .values((
                site_overrides::site_id.eq(site_id.to_string()),
                site_overrides::user_id.eq(user_id.to_string()),
                site_overrides::estate_id.eq(estate_id.to_string()),
                site_overrides::role.eq(o.as_str()),
                site_overrides::created_at.eq(to_db(now)),
                site_overrides::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Drops every override of a member in an estate.
pub fn delete_overrides(
    conn: &mut DbConnection,
    estate_id: Uuid,
    user_id: Uuid,
) -> Result<(), StoreError> {
    diesel::delete(
        site_overrides::table
            .filter(site_overrides::estate_id.eq(estate_id.to_string()))
            .filter(site_overrides::user_id.eq(user_id.to_string())),
    )
    .execute(conn)?;
    Ok(())
}
