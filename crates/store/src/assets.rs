//! Assets: their rows, where they are placed, and the facts that can reach
//! one for a user (judged by the domain resolver). The garage, records,
//! photos, collaborators, households and shares have modules of their own.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::{EstateRole, HouseholdFact, InvitationPermission, SiteOverride};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{Result, StoreError, parse};
use crate::id::{DbId, db_ids};
use crate::schema::{
    asset_collaborators, asset_history_readers, asset_shares, assets, estate_members,
    household_members, users,
};
use crate::time::{from_db, to_db, update_stamped};

pub(crate) use crate::garage::like_pattern;

/// The rows of `$table` (an asset's records or photos) that belong to the
/// asset, or its one row with id `$id` (another asset's row is not there).
macro_rules! of_asset {
    ($table:ident, $asset_id:expr) => {
        $table::table.filter($table::asset_id.eq(DbId($asset_id)))
    };
    ($table:ident, $asset_id:expr, $id:expr) => {
        $crate::assets::of_asset!($table, $asset_id).filter($table::id.eq(DbId($id)))
    };
}
pub(crate) use of_asset;

#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub id: Uuid,
    pub name: String,
    pub reference: Option<String>,
    pub attributes: serde_json::Value,
    pub site_id: Option<Uuid>,
    pub estate_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An asset's stored columns.
#[derive(Queryable, Selectable)]
#[diesel(table_name = assets)]
pub(crate) struct AssetRow {
    pub(crate) id: DbId,
    pub(crate) name: String,
    pub(crate) reference: Option<String>,
    pub(crate) attributes: String,
    pub(crate) site_id: Option<DbId>,
    pub(crate) estate_id: Option<DbId>,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
}

impl TryFrom<AssetRow> for Asset {
    type Error = StoreError;
    fn try_from(r: AssetRow) -> Result<Self> {
        Ok(Self {
            id: r.id.0,
            name: r.name,
            reference: r.reference,
            attributes: serde_json::from_str(&r.attributes)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            site_id: r.site_id.map(Uuid::from),
            estate_id: r.estate_id.map(Uuid::from),
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        })
    }
}

/// The columns a user writes: name, reference and attributes, with the
/// search text derived from them.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = assets, treat_none_as_null = true)]
struct Described<'a> {
    name: &'a str,
    reference: Option<&'a str>,
    search_text: String,
    attributes: String,
}

impl<'a> Described<'a> {
    fn new(name: &'a str, reference: Option<&'a str>, attributes: &serde_json::Value) -> Self {
        Self {
            name,
            reference,
            search_text: format!("{} {}", name, reference.unwrap_or_default()).to_lowercase(),
            attributes: attributes.to_string(),
        }
    }
}

/// Where an asset is placed: a site and its estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub site_id: Uuid,
    pub estate_id: Uuid,
}

/// The placement columns (both null: placed nowhere).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = assets, treat_none_as_null = true)]
struct Placed {
    site_id: Option<DbId>,
    estate_id: Option<DbId>,
}

impl From<Option<Placement>> for Placed {
    fn from(p: Option<Placement>) -> Self {
        Self { site_id: p.map(|p| DbId(p.site_id)), estate_id: p.map(|p| DbId(p.estate_id)) }
    }
}

#[derive(Insertable)]
#[diesel(table_name = assets)]
struct NewAsset<'a> {
    id: DbId,
    #[diesel(embed)]
    described: Described<'a>,
    #[diesel(embed)]
    placed: Placed,
    created_by: DbId,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Creates an asset; its creator becomes its collaborator.
pub fn create(
    conn: &mut Conn,
    name: &str,
    reference: Option<&str>,
    attributes: &serde_json::Value,
    placement: Option<Placement>,
    creator: Uuid,
    now: DateTime<Utc>,
) -> Result<Asset> {
    let id = Uuid::new_v4();
    diesel::insert_into(assets::table)
        .values(NewAsset {
            id: DbId(id),
            described: Described::new(name, reference, attributes),
            placed: placement.into(),
            created_by: DbId(creator),
            created_at: to_db(now),
            updated_at: to_db(now),
        })
        .execute(conn)?;
    crate::collaborators::add_collaborator(conn, id, creator, now)?;
    get(conn, id)?.ok_or(StoreError::NotFound)
}

pub fn get(conn: &mut Conn, id: Uuid) -> Result<Option<Asset>> {
    assets::table
        .find(DbId(id))
        .select(AssetRow::as_select())
        .first(conn)
        .optional()?
        .map(Asset::try_from)
        .transpose()
}

/// Several assets by id (unknown ids are simply absent).
pub fn get_many(conn: &mut Conn, ids: &[Uuid]) -> Result<Vec<Asset>> {
    assets::table
        .filter(assets::id.eq_any(db_ids(ids)))
        .select(AssetRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Asset::try_from)
        .collect()
}

/// Writes name, reference and attributes.
pub fn update(
    conn: &mut Conn,
    id: Uuid,
    name: &str,
    reference: Option<&str>,
    attributes: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    update_stamped!(conn, assets, DbId(id), Described::new(name, reference, attributes), now)
}

/// Places the asset at a site, or at none.
pub fn place(
    conn: &mut Conn,
    id: Uuid,
    placement: Option<Placement>,
    now: DateTime<Utc>,
) -> Result<()> {
    update_stamped!(conn, assets, DbId(id), Placed::from(placement), now)
}

/// Deletes the asset with its records, photos, collaborators, shares and
/// invitations.
pub fn delete(conn: &mut Conn, id: Uuid, deleted_by: Uuid, now: DateTime<Utc>) -> Result<Dropped> {
    let aid = DbId(id);
    let collaborators: Vec<DbId> = asset_collaborators::table
        .filter(asset_collaborators::asset_id.eq(aid))
        .select(asset_collaborators::user_id)
        .order(asset_collaborators::user_id)
        .load(conn)?;
    let shares: Vec<(DbId, String)> = asset_shares::table
        .filter(asset_shares::asset_id.eq(aid))
        .select((asset_shares::user_id, asset_shares::permission))
        .order(asset_shares::user_id)
        .load(conn)?;
    let pending = crate::invitations::pending_of_resource(
        conn,
        crate::invitations::ResourceType::Asset,
        id,
        now,
    )?;
    // The collaborators and the deleter keep reading the asset's history.
    let mut readers: Vec<DbId> = collaborators.clone();
    readers.push(DbId(deleted_by));
    readers.sort();
    readers.dedup();
    let rows: Vec<_> = readers
        .into_iter()
        .map(|user| {
            (
                asset_history_readers::user_id.eq(user),
                asset_history_readers::asset_id.eq(aid),
                asset_history_readers::deleted_at.eq(to_db(now)),
            )
        })
        .collect();
    // One statement for every reader.
    match conn {
        crate::db::DbConnection::Postgresql(pg) => {
            diesel::insert_into(asset_history_readers::table).values(&rows).execute(pg)?
        }
        crate::db::DbConnection::Sqlite(lite) => {
            diesel::insert_into(asset_history_readers::table).values(&rows).execute(lite)?
        }
    };
    crate::invitations::delete_for_resource(conn, crate::invitations::ResourceType::Asset, id)?;
    diesel::delete(assets::table.find(aid)).execute(conn)?;
    Ok(Dropped {
        collaborators: collaborators.into_iter().map(Uuid::from).collect(),
        shares: shares.into_iter().map(|(u, p)| (u.into(), p)).collect(),
        pending_invitations: pending,
    })
}

/// What deleting an asset took with it, for the audit trail.
#[derive(Debug, Default)]
pub struct Dropped {
    /// The collaborators' user ids.
    pub collaborators: Vec<Uuid>,
    /// The shares: holder and permission.
    pub shares: Vec<(Uuid, String)>,
    /// The invitations that were pending (and not past their expiry): id
    /// and invited email.
    pub pending_invitations: Vec<(Uuid, String)>,
}

/// How many assets are placed at a site.
pub fn count_at_site(conn: &mut Conn, site_id: Uuid) -> Result<i64> {
    Ok(assets::table.filter(assets::site_id.eq(DbId(site_id))).count().get_result(conn)?)
}

/// How many assets are placed in an estate.
pub fn count_in_estate(conn: &mut Conn, estate_id: Uuid) -> Result<i64> {
    Ok(assets::table.filter(assets::estate_id.eq(DbId(estate_id))).count().get_result(conn)?)
}

// ------------------------------------------------------------------ access facts

/// Every fact that can reach one asset for one user, as read from the
/// database; the domain resolver turns them into a level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRow {
    pub is_collaborator: bool,
    /// The households the user belongs to, with their role in each and
    /// whether the head is a collaborator.
    pub households: Vec<HouseholdFact>,
    /// The user's share, if any: permission and access expiry.
    pub share: Option<(Uuid, InvitationPermission, Option<DateTime<Utc>>)>,
    pub estate_role: Option<EstateRole>,
    pub site_override: Option<SiteOverride>,
}

/// Reads the facts for `user_id` on `asset`.
pub fn access_row(conn: &mut Conn, asset: &Asset, user_id: Uuid) -> Result<AccessRow> {
    let (uid, aid) = (DbId(user_id), DbId(asset.id));
    let is_collaborator = asset_collaborators::table
        .find((aid, uid))
        .select(asset_collaborators::user_id)
        .first::<DbId>(conn)
        .optional()?
        .is_some();
    let households: Vec<(DbId, String, Option<DbId>)> = household_members::table
        .left_join(
            asset_collaborators::table.on(asset_collaborators::user_id
                .eq(household_members::head_id)
                .and(asset_collaborators::asset_id.eq(aid))),
        )
        .filter(household_members::member_id.eq(uid))
        .select((
            household_members::head_id,
            household_members::role,
            asset_collaborators::user_id.nullable(),
        ))
        .load(conn)?;
    let households = households
        .into_iter()
        .map(|(head, role, collab)| {
            Ok(HouseholdFact {
                head_id: Some(head.0),
                role: parse(&role)?,
                head_is_collaborator: collab.is_some(),
            })
        })
        .collect::<Result<_>>()?;
    let share = asset_shares::table
        .find((aid, uid))
        .select((asset_shares::permission, asset_shares::access_expires_at))
        .first::<(String, Option<NaiveDateTime>)>(conn)
        .optional()?
        .map(|(p, e)| Ok::<_, StoreError>((asset.id, parse(&p)?, e.map(from_db))))
        .transpose()?;
    let estate_role = match asset.estate_id {
        Some(estate) => crate::estates::member_role(conn, estate, user_id)?,
        None => None,
    };
    let site_override = match asset.site_id {
        Some(site) => crate::sites::override_at(conn, site, user_id)?,
        None => None,
    };
    Ok(AccessRow { is_collaborator, households, share, estate_role, site_override })
}

/// Removes a user's collaborator rows and shares on every asset of an
/// estate (their membership ended: access does not outlive it).
pub fn drop_estate_access(
    conn: &mut Conn,
    estate_id: Uuid,
    user_id: Uuid,
) -> Result<(usize, usize)> {
    // Deletes the user's rows of `$table` on the estate's assets.
    macro_rules! drop_in_estate {
        ($table:ident) => {{
            let in_estate =
                assets::table.filter(assets::estate_id.eq(DbId(estate_id))).select(assets::id);
            let mine = $table::table.filter($table::user_id.eq(DbId(user_id)));
            diesel::delete(mine.filter($table::asset_id.eq_any(in_estate))).execute(conn)?
        }};
    }
    Ok((drop_in_estate!(asset_collaborators), drop_in_estate!(asset_shares)))
}

/// Everyone who might reach an asset: collaborators, members of their
/// households, share holders, members of the asset's estate, root users.
pub fn access_candidates(conn: &mut Conn, asset: &Asset) -> Result<Vec<Uuid>> {
    let aid = DbId(asset.id);
    let mut ids: Vec<DbId> = asset_collaborators::table
        .filter(asset_collaborators::asset_id.eq(aid))
        .select(asset_collaborators::user_id)
        .load(conn)?;
    let heads = ids.clone();
    let members: Vec<DbId> = household_members::table
        .filter(household_members::head_id.eq_any(heads))
        .select(household_members::member_id)
        .load(conn)?;
    ids.extend(members);
    let holders: Vec<DbId> = asset_shares::table
        .filter(asset_shares::asset_id.eq(aid))
        .select(asset_shares::user_id)
        .load(conn)?;
    ids.extend(holders);
    if let Some(estate) = asset.estate_id {
        let estate_people: Vec<DbId> = estate_members::table
            .filter(estate_members::estate_id.eq(DbId(estate)))
            .select(estate_members::user_id)
            .load(conn)?;
        ids.extend(estate_people);
    }
    let roots: Vec<DbId> =
        users::table.filter(users::is_root.eq(true)).select(users::id).load(conn)?;
    ids.extend(roots);
    ids.sort();
    ids.dedup();
    Ok(ids.into_iter().map(Uuid::from).collect())
}
