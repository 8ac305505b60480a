//! Sites of an estate and the per-site overrides of members' roles.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::{EstateRole, SiteOverride};
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::{StoreError, parse};
use crate::estates::Paged;
use crate::id::{DbId, db_ids};
use crate::schema::{estate_members, site_overrides, sites};
use crate::time::{from_db, to_db};

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
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sites)]
struct SiteRow {
    id: DbId,
    estate_id: DbId,
    name: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<SiteRow> for Site {
    fn from(r: SiteRow) -> Self {
        Self {
            id: r.id.0,
            estate_id: r.estate_id.0,
            name: r.name,
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        }
    }
}

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
    conn: &mut DbConnection,
    estate_id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Site, StoreError> {
    let row = SiteRow {
        id: DbId(Uuid::new_v4()),
        estate_id: DbId(estate_id),
        name: name.to_owned(),
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    diesel::insert_into(sites::table).values(&row).execute(conn)?;
    Ok(row.into())
}

/// The site with the caller's estate role and override there, in one query.
pub fn site_for_user(
    conn: &mut DbConnection,
    site_id: Uuid,
    user_id: Uuid,
) -> Result<Option<SiteWithAccess>, StoreError> {
    let uid = DbId(user_id);
    let row: Option<(SiteRow, Option<String>, Option<String>)> = sites::table
        .left_join(estate_members::table.on(
            estate_members::estate_id.eq(sites::estate_id).and(estate_members::user_id.eq(uid)),
        ))
        .left_join(
            site_overrides::table
                .on(site_overrides::site_id.eq(sites::id).and(site_overrides::user_id.eq(uid))),
        )
        .filter(sites::id.eq(DbId(site_id)))
        .select((
            SiteRow::as_select(),
            estate_members::role.nullable(),
            site_overrides::role.nullable(),
        ))
        .first(conn)
        .optional()?;
    row.map(|(s, role, o)| {
        Ok((
            s.into(),
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
    let uid = DbId(user_id);
    let visible = sites::table
        .left_join(
            site_overrides::table
                .on(site_overrides::site_id.eq(sites::id).and(site_overrides::user_id.eq(uid))),
        )
        .filter(sites::estate_id.eq(DbId(estate_id)))
        .filter(
            site_overrides::role.is_null().or(site_overrides::role.ne(SiteOverride::None.as_str())),
        );
    let rows: Vec<(SiteRow, Option<String>)> = visible
        .select((SiteRow::as_select(), site_overrides::role.nullable()))
        .order((sites::created_at.desc(), sites::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let total = visible.count().get_result(conn)?;
    let items = rows
        .into_iter()
        .map(|(s, o)| Ok((s.into(), o.as_deref().map(parse).transpose()?)))
        .collect::<Result<_, StoreError>>()?;
    Ok((items, total))
}

/// Every site of an estate (for administrators), by name.
pub fn all_sites(conn: &mut DbConnection, estate_id: Uuid) -> Result<Vec<Site>, StoreError> {
    Ok(sites::table
        .filter(sites::estate_id.eq(DbId(estate_id)))
        .select(SiteRow::as_select())
        .order((sites::name.asc(), sites::id.asc()))
        .load(conn)?
        .into_iter()
        .map(Site::from)
        .collect())
}

pub fn rename_site(
    conn: &mut DbConnection,
    id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(sites::table.find(DbId(id)))
        .set((sites::name.eq(name), sites::updated_at.eq(to_db(now))))
        .execute(conn)?;
    Ok(())
}

pub fn delete_site(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    diesel::delete(sites::table.find(DbId(id))).execute(conn)?;
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
    conn: &mut DbConnection,
    estate_id: Uuid,
    user_ids: &[Uuid],
) -> Result<Vec<(Uuid, Uuid, SiteOverride)>, StoreError> {
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
    conn: &mut DbConnection,
    estate_id: Uuid,
    site_id: Uuid,
    user_id: Uuid,
    value: Option<SiteOverride>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
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
            .filter(site_overrides::estate_id.eq(DbId(estate_id)))
            .filter(site_overrides::user_id.eq(DbId(user_id))),
    )
    .execute(conn)?;
    Ok(())
}
