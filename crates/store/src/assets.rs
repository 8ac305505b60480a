//! Assets: their rows, where they are placed, and the facts that can reach
//! one for a user (judged by the domain resolver). The garage, records,
//! photos, collaborators, households and shares have modules of their own.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::{EstateRole, HouseholdRole, InvitationPermission, SiteOverride};
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::{StoreError, parse};
use crate::schema::{
    asset_collaborators, asset_shares, assets, estate_members, household_members, site_overrides,
    users,
};
use crate::time::{from_db, to_db};
use crate::users::parse_id;

pub(crate) use crate::garage::like_pattern;

fn opt_id(s: Option<String>) -> Result<Option<Uuid>, StoreError> {
    s.as_deref().map(parse_id).transpose()
}

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

type AssetRow = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
);

const ASSET_COLUMNS: (
    assets::id,
    assets::name,
    assets::reference,
    assets::attributes,
    assets::site_id,
    assets::estate_id,
    assets::created_at,
    assets::updated_at,
) = (
    assets::id,
    assets::name,
    assets::reference,
    assets::attributes,
    assets::site_id,
    assets::estate_id,
    assets::created_at,
    assets::updated_at,
);

/// An asset from its stored columns.
#[allow(clippy::too_many_arguments)]
pub(crate) fn asset_from_parts(
    id: String,
    name: String,
    reference: Option<String>,
    attributes: String,
    site_id: Option<String>,
    estate_id: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
) -> Result<Asset, StoreError> {
    asset((
        id, name, reference, attributes, site_id, estate_id, created_at, updated_at,
    ))
}

fn asset(r: AssetRow) -> Result<Asset, StoreError> {
    Ok(Asset {
        id: parse_id(&r.0)?,
        name: r.1,
        reference: r.2,
        attributes: serde_json::from_str(&r.3).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        site_id: opt_id(r.4)?,
        estate_id: opt_id(r.5)?,
        created_at: from_db(r.6),
        updated_at: from_db(r.7),
    })
}

fn search_text(name: &str, reference: Option<&str>) -> String {
    format!("{} {}", name, reference.unwrap_or_default()).to_lowercase()
}

/// Where an asset is placed: a site and its estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub site_id: Uuid,
    pub estate_id: Uuid,
}

/// Creates an asset; its creator becomes its collaborator.
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    reference: Option<&str>,
    attributes: &serde_json::Value,
    placement: Option<Placement>,
    creator: Uuid,
    now: DateTime<Utc>,
) -> Result<Asset, StoreError> {
    let id = Uuid::new_v4();
    diesel::insert_into(assets::table)
        .values((
            assets::id.eq(id.to_string()),
            assets::name.eq(name),
            assets::reference.eq(reference),
            assets::search_text.eq(search_text(name, reference)),
            assets::attributes.eq(attributes.to_string()),
            assets::site_id.eq(placement.map(|p| p.site_id.to_string())),
            assets::estate_id.eq(placement.map(|p| p.estate_id.to_string())),
            assets::created_by.eq(creator.to_string()),
            assets::created_at.eq(to_db(now)),
            assets::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    crate::collaborators::add_collaborator(conn, id, creator, now)?;
    get(conn, id)?.ok_or(StoreError::NotFound)
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Asset>, StoreError> {
    assets::table
        .find(id.to_string())
        .select(ASSET_COLUMNS)
        .first::<AssetRow>(conn)
        .optional()?
        .map(asset)
        .transpose()
}

/// Several assets by id (unknown ids are simply absent).
pub fn get_many(conn: &mut DbConnection, ids: &[Uuid]) -> Result<Vec<Asset>, StoreError> {
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    assets::table
        .filter(assets::id.eq_any(ids))
        .select(ASSET_COLUMNS)
        .load::<AssetRow>(conn)?
        .into_iter()
        .map(asset)
        .collect()
}

/// Writes name, reference and attributes.
pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    name: &str,
    reference: Option<&str>,
    attributes: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(assets::table.find(id.to_string()))
        .set((
            assets::name.eq(name),
            assets::reference.eq(reference),
            assets::search_text.eq(search_text(name, reference)),
            assets::attributes.eq(attributes.to_string()),
            assets::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Places the asset at a site, or at none.
pub fn place(
    conn: &mut DbConnection,
    id: Uuid,
    placement: Option<Placement>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(assets::table.find(id.to_string()))
        .set((
            assets::site_id.eq(placement.map(|p| p.site_id.to_string())),
            assets::estate_id.eq(placement.map(|p| p.estate_id.to_string())),
            assets::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes the asset with its records, photos, collaborators, shares and
/// invitations.
pub fn delete(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    crate::invitations::delete_for_resource(conn, crate::invitations::ResourceType::Asset, id)?;
    diesel::delete(assets::table.find(id.to_string())).execute(conn)?;
    Ok(())
}

/// How many assets are placed at a site.
pub fn count_at_site(conn: &mut DbConnection, site_id: Uuid) -> Result<i64, StoreError> {
    Ok(assets::table
        .filter(assets::site_id.eq(site_id.to_string()))
        .count()
        .get_result(conn)?)
}

/// How many assets are placed in an estate.
pub fn count_in_estate(conn: &mut DbConnection, estate_id: Uuid) -> Result<i64, StoreError> {
    Ok(assets::table
        .filter(assets::estate_id.eq(estate_id.to_string()))
        .count()
        .get_result(conn)?)
}

// ------------------------------------------------------------------ access facts

/// Every fact that can reach one asset for one user, as read from the
/// database; the domain resolver turns them into a level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRow {
    pub is_collaborator: bool,
    /// Households the user belongs to: (head, role, head is a collaborator).
    pub households: Vec<(Uuid, HouseholdRole, bool)>,
    /// The user's share, if any: permission and access expiry.
    pub share: Option<(Uuid, InvitationPermission, Option<DateTime<Utc>>)>,
    pub estate_role: Option<EstateRole>,
    pub site_override: Option<SiteOverride>,
}

/// Reads the facts for `user_id` on `asset`.
pub fn access_row(
    conn: &mut DbConnection,
    asset: &Asset,
    user_id: Uuid,
) -> Result<AccessRow, StoreError> {
    let uid = user_id.to_string();
    let aid = asset.id.to_string();
    let is_collaborator = asset_collaborators::table
        .find((aid.clone(), uid.clone()))
        .select(asset_collaborators::user_id)
        .first::<String>(conn)
        .optional()?
        .is_some();
    let households: Vec<(String, String, Option<String>)> = household_members::table
        .left_join(
            asset_collaborators::table.on(asset_collaborators::user_id
                .eq(household_members::head_id)
                .and(asset_collaborators::asset_id.eq(aid.clone()))),
        )
        .filter(household_members::member_id.eq(uid.clone()))
        .select((
            household_members::head_id,
            household_members::role,
            asset_collaborators::user_id.nullable(),
        ))
        .load(conn)?;
    let households = households
        .into_iter()
        .map(|(head, role, collab)| Ok((parse_id(&head)?, parse(&role)?, collab.is_some())))
        .collect::<Result<_, StoreError>>()?;
    let share = asset_shares::table
        .find((aid.clone(), uid.clone()))
        .select((asset_shares::permission, asset_shares::access_expires_at))
        .first::<(String, Option<NaiveDateTime>)>(conn)
        .optional()?
        .map(|(p, e)| Ok::<_, StoreError>((asset.id, parse(&p)?, e.map(from_db))))
        .transpose()?;
    let estate_role = match asset.estate_id {
        Some(estate) => estate_members::table
            .find((estate.to_string(), uid.clone()))
            .select(estate_members::role)
            .first::<String>(conn)
            .optional()?
            .as_deref()
            .map(parse)
            .transpose()?,
        None => None,
    };
    let site_override = match asset.site_id {
        Some(site) => site_overrides::table
            .find((site.to_string(), uid))
            .select(site_overrides::role)
            .first::<String>(conn)
            .optional()?
            .as_deref()
            .map(parse)
            .transpose()?,
        None => None,
    };
    Ok(AccessRow {
        is_collaborator,
        households,
        share,
        estate_role,
        site_override,
    })
}

/// Removes a user's collaborator rows and shares on every asset of an
/// estate (their membership ended: access does not outlive it).
pub fn drop_estate_access(
    conn: &mut DbConnection,
    estate_id: Uuid,
    user_id: Uuid,
) -> Result<(usize, usize), StoreError> {
    let in_estate = assets::table
        .filter(assets::estate_id.eq(estate_id.to_string()))
        .select(assets::id);
    let collaborators = diesel::delete(
        asset_collaborators::table
            .filter(asset_collaborators::user_id.eq(user_id.to_string()))
            .filter(asset_collaborators::asset_id.eq_any(in_estate)),
    )
    .execute(conn)?;
    let in_estate = assets::table
        .filter(assets::estate_id.eq(estate_id.to_string()))
        .select(assets::id);
    let shares = diesel::delete(
        asset_shares::table
            .filter(asset_shares::user_id.eq(user_id.to_string()))
            .filter(asset_shares::asset_id.eq_any(in_estate)),
    )
    .execute(conn)?;
    Ok((collaborators, shares))
}

/// Everyone who might reach an asset: collaborators, members of their
/// households, share holders, members of the asset's estate, root users.
pub fn access_candidates(conn: &mut DbConnection, asset: &Asset) -> Result<Vec<Uuid>, StoreError> {
    let aid = asset.id.to_string();
    let mut ids: Vec<String> = asset_collaborators::table
        .filter(asset_collaborators::asset_id.eq(aid.clone()))
        .select(asset_collaborators::user_id)
        .load(conn)?;
    let heads = ids.clone();
    let members: Vec<String> = household_members::table
        .filter(household_members::head_id.eq_any(heads))
        .select(household_members::member_id)
        .load(conn)?;
    ids.extend(members);
    let holders: Vec<String> = asset_shares::table
        .filter(asset_shares::asset_id.eq(aid))
        .select(asset_shares::user_id)
        .load(conn)?;
    ids.extend(holders);
    if let Some(estate) = asset.estate_id {
        let estate_people: Vec<String> = estate_members::table
            .filter(estate_members::estate_id.eq(estate.to_string()))
            .select(estate_members::user_id)
            .load(conn)?;
        ids.extend(estate_people);
    }
    let roots: Vec<String> = users::table
        .filter(users::is_root.eq(true))
        .select(users::id)
        .load(conn)?;
    ids.extend(roots);
    ids.sort();
    ids.dedup();
    ids.iter().map(|s| parse_id(s)).collect()
}
