//! Assets with their records and photos, collaborators, households and
//! shares. Access facts are read here and judged by the domain resolver; the
//! garage is one query per page that keeps only reachable assets.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use keyholder_domain::{EstateRole, HouseholdRole, InvitationPermission, SiteOverride};
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{
    asset_collaborators, asset_photos, asset_records, asset_shares, assets, estate_members,
    household_members, site_overrides, users,
};
use crate::time::{from_db, to_db};
use crate::users::parse_id;

fn parse<T: std::str::FromStr>(s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("unexpected value {s:?}")))
}

fn opt_id(s: Option<String>) -> Result<Option<Uuid>, StoreError> {
    s.as_deref().map(parse_id).transpose()
}

// ------------------------------------------------------------------ assets

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
    add_collaborator(conn, id, creator, now)?;
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

// ------------------------------------------------------------------ the garage

/// One garage row: the asset and the facts for the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct GarageRow {
    pub asset: Asset,
    pub access: AccessRow,
}

#[derive(QueryableByName)]
struct GarageSqlRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    reference: Option<String>,
    #[diesel(sql_type = Text)]
    attributes: String,
    #[diesel(sql_type = Nullable<Text>)]
    site_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    estate_id: Option<String>,
    #[diesel(sql_type = Timestamp)]
    created_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    updated_at: NaiveDateTime,
    #[diesel(sql_type = Bool)]
    is_collaborator: bool,
    #[diesel(sql_type = Bool)]
    hh_viewer: bool,
    #[diesel(sql_type = Bool)]
    hh_editor: bool,
    #[diesel(sql_type = Bool)]
    hh_manager: bool,
    #[diesel(sql_type = Nullable<Text>)]
    share_permission: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    share_expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    estate_role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    site_override: Option<String>,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The garage query. Parameters come once, through the `p` row. The
/// candidates are gathered from the caller's side of each path (collaborator
/// rows, households of collaborating heads, active shares, estates they
/// belong to unless kept off the site, everything for root), each through
/// an index keyed by the user, so the cost follows the caller's assets, not
/// the size of the table. The facts for the domain resolver come with each
/// row, and the total with a window function: one query per page.
const GARAGE_SQL: &str = "
WITH p AS (SELECT {uid} AS uid, {root} AS is_root, {now} AS now, {pattern} AS pattern, {site} AS site),
reachable AS (
    SELECT c.asset_id AS id FROM asset_collaborators c, p WHERE c.user_id = p.uid
    UNION
    SELECT c.asset_id FROM household_members h JOIN asset_collaborators c ON c.user_id = h.head_id, p
        WHERE h.member_id = p.uid
    UNION
    SELECT s.asset_id FROM asset_shares s, p
        WHERE s.user_id = p.uid AND (s.access_expires_at IS NULL OR s.access_expires_at > p.now)
    UNION
    SELECT a.id FROM estate_members m JOIN assets a ON a.estate_id = m.estate_id, p
        WHERE m.user_id = p.uid
        AND NOT EXISTS (SELECT 1 FROM site_overrides o WHERE o.site_id = a.site_id AND o.user_id = p.uid
                        AND o.role = 'none')
    UNION
    SELECT a.id FROM assets a, p WHERE p.is_root
)
SELECT a.id, a.name, a.reference, a.attributes, a.site_id, a.estate_id, a.created_at, a.updated_at,
  EXISTS (SELECT 1 FROM asset_collaborators c WHERE c.asset_id = a.id AND c.user_id = p.uid) AS is_collaborator,
  EXISTS (SELECT 1 FROM household_members h JOIN asset_collaborators c ON c.user_id = h.head_id
          WHERE h.member_id = p.uid AND c.asset_id = a.id AND h.role = 'viewer') AS hh_viewer,
  EXISTS (SELECT 1 FROM household_members h JOIN asset_collaborators c ON c.user_id = h.head_id
          WHERE h.member_id = p.uid AND c.asset_id = a.id AND h.role = 'editor') AS hh_editor,
  EXISTS (SELECT 1 FROM household_members h JOIN asset_collaborators c ON c.user_id = h.head_id
          WHERE h.member_id = p.uid AND c.asset_id = a.id AND h.role = 'manager') AS hh_manager,
  (SELECT s.permission FROM asset_shares s WHERE s.asset_id = a.id AND s.user_id = p.uid) AS share_permission,
  (SELECT s.access_expires_at FROM asset_shares s WHERE s.asset_id = a.id AND s.user_id = p.uid) AS share_expires_at,
  (SELECT m.role FROM estate_members m WHERE m.estate_id = a.estate_id AND m.user_id = p.uid) AS estate_role,
  (SELECT o.role FROM site_overrides o WHERE o.site_id = a.site_id AND o.user_id = p.uid) AS site_override,
  COUNT(*) OVER () AS total
FROM reachable r JOIN assets a ON a.id = r.id CROSS JOIN p
WHERE a.search_text LIKE p.pattern ESCAPE '\\'
  AND (p.site = '' OR a.site_id = p.site)
ORDER BY a.created_at DESC, a.id DESC
LIMIT {limit} OFFSET {offset}";

/// A LIKE pattern matching `q` anywhere, lower-cased, with `\`, `%` and `_`
/// taken literally.
pub(crate) fn like_pattern(q: Option<&str>) -> String {
    let q = q.map(str::trim).unwrap_or_default().to_lowercase();
    let mut escaped = String::with_capacity(q.len() + 2);
    escaped.push('%');
    for ch in q.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped.push('%');
    escaped
}

/// A page of the assets `user_id` can reach by any path, newest first, with
/// the facts to judge the level of each, and the total.
#[allow(clippy::too_many_arguments)]
pub fn garage(
    conn: &mut DbConnection,
    user_id: Uuid,
    is_root: bool,
    q: Option<&str>,
    site: Option<Uuid>,
    now: DateTime<Utc>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<GarageRow>, i64), StoreError> {
    let fill =
        |uid: &str, root: &str, now: &str, pattern: &str, site: &str, limit: &str, offset: &str| {
            GARAGE_SQL
                .replace("{uid}", uid)
                .replace("{root}", root)
                .replace("{now}", now)
                .replace("{pattern}", pattern)
                .replace("{site}", site)
                .replace("{limit}", limit)
                .replace("{offset}", offset)
        };
    let rows: Vec<GarageSqlRow> = match conn {
        DbConnection::Postgresql(pg) => {
            let sql = fill(
                "CAST($1 AS TEXT)",
                "CAST($2 AS BOOLEAN)",
                "CAST($3 AS TIMESTAMP)",
                "CAST($4 AS TEXT)",
                "CAST($5 AS TEXT)",
                "$6",
                "$7",
            );
            diesel::sql_query(sql)
                .bind::<Text, _>(user_id.to_string())
                .bind::<Bool, _>(is_root)
                .bind::<Timestamp, _>(to_db(now))
                .bind::<Text, _>(like_pattern(q))
                .bind::<Text, _>(site.map(|s| s.to_string()).unwrap_or_default())
                .bind::<BigInt, _>(limit)
                .bind::<BigInt, _>(offset)
                .load(pg)?
        }
        DbConnection::Sqlite(lite) => {
            let sql = fill("?", "?", "?", "?", "?", "?", "?");
            diesel::sql_query(sql)
                .bind::<Text, _>(user_id.to_string())
                .bind::<Bool, _>(is_root)
                .bind::<Timestamp, _>(to_db(now))
                .bind::<Text, _>(like_pattern(q))
                .bind::<Text, _>(site.map(|s| s.to_string()).unwrap_or_default())
                .bind::<BigInt, _>(limit)
                .bind::<BigInt, _>(offset)
                .load(lite)?
        }
    };
    let total = rows.first().map_or(0, |r| r.total);
    let rows = rows
        .into_iter()
        .map(|r| {
            let asset = asset((
                r.id,
                r.name,
                r.reference,
                r.attributes,
                r.site_id,
                r.estate_id,
                r.created_at,
                r.updated_at,
            ))?;
            let households = [
                (r.hh_viewer, HouseholdRole::Viewer),
                (r.hh_editor, HouseholdRole::Editor),
                (r.hh_manager, HouseholdRole::Manager),
            ]
            .into_iter()
            .filter(|(present, _)| *present)
            .map(|(_, role)| (Uuid::nil(), role, true))
            .collect();
            let share = r
                .share_permission
                .as_deref()
                .map(|p| {
                    Ok::<_, StoreError>((asset.id, parse(p)?, r.share_expires_at.map(from_db)))
                })
                .transpose()?;
            let access = AccessRow {
                is_collaborator: r.is_collaborator,
                households,
                share,
                estate_role: r.estate_role.as_deref().map(parse).transpose()?,
                site_override: r.site_override.as_deref().map(parse).transpose()?,
            };
            Ok(GarageRow { asset, access })
        })
        .collect::<Result<_, StoreError>>()?;
    // A page past the end still knows the total.
    let total = if total == 0 && offset > 0 {
        garage(conn, user_id, is_root, q, site, now, 1, 0)?.1
    } else {
        total
    };
    Ok((rows, total))
}

// ------------------------------------------------------------------ collaborators

/// A user as listed with an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: String,
}

pub fn add_collaborator(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let exists = asset_collaborators::table
        .find((asset_id.to_string(), user_id.to_string()))
        .select(asset_collaborators::user_id)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if exists {
        return Ok(false);
    }
    diesel::insert_into(asset_collaborators::table)
        .values((
            asset_collaborators::asset_id.eq(asset_id.to_string()),
            asset_collaborators::user_id.eq(user_id.to_string()),
            asset_collaborators::added_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn remove_collaborator(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(
        diesel::delete(
            asset_collaborators::table.find((asset_id.to_string(), user_id.to_string())),
        )
        .execute(conn)?
            == 1,
    )
}

/// Collaborators of one asset, oldest first.
pub fn collaborators(
    conn: &mut DbConnection,
    asset_id: Uuid,
) -> Result<Vec<(Person, DateTime<Utc>)>, StoreError> {
    let rows: Vec<(String, String, String, String, NaiveDateTime)> = asset_collaborators::table
        .inner_join(users::table)
        .filter(asset_collaborators::asset_id.eq(asset_id.to_string()))
        .select((
            users::id,
            users::username,
            users::display_name,
            users::email,
            asset_collaborators::added_at,
        ))
        .order((
            asset_collaborators::added_at.asc(),
            users::username_canonical.asc(),
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, username, display_name, email, at)| {
            Ok((
                Person {
                    id: parse_id(&id)?,
                    username,
                    display_name,
                    email,
                },
                from_db(at),
            ))
        })
        .collect()
}

/// (asset, user) collaborator pairs over a selection of assets.
pub fn collaborator_pairs(
    conn: &mut DbConnection,
    asset_ids: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    let ids: Vec<String> = asset_ids.iter().map(Uuid::to_string).collect();
    asset_collaborators::table
        .filter(asset_collaborators::asset_id.eq_any(ids))
        .select((asset_collaborators::asset_id, asset_collaborators::user_id))
        .order((
            asset_collaborators::added_at.asc(),
            asset_collaborators::user_id.asc(),
        ))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(a, u)| Ok((parse_id(&a)?, parse_id(&u)?)))
        .collect()
}

/// Users by id (for listings).
pub fn people(conn: &mut DbConnection, ids: &[Uuid]) -> Result<Vec<Person>, StoreError> {
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    users::table
        .filter(users::id.eq_any(ids))
        .select((
            users::id,
            users::username,
            users::display_name,
            users::email,
        ))
        .load::<(String, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, username, display_name, email)| {
            Ok(Person {
                id: parse_id(&id)?,
                username,
                display_name,
                email,
            })
        })
        .collect()
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

// ------------------------------------------------------------------ records

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub kind: String,
    pub date: NaiveDate,
    pub title: String,
    pub notes: Option<String>,
    pub cost: Option<f64>,
    pub odometer: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The writable fields of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFields {
    pub kind: String,
    pub date: NaiveDate,
    pub title: String,
    pub notes: Option<String>,
    pub cost: Option<f64>,
    pub odometer: Option<i64>,
}

type RecordRow = (
    String,
    String,
    String,
    NaiveDate,
    String,
    Option<String>,
    Option<f64>,
    Option<i64>,
    NaiveDateTime,
    NaiveDateTime,
);

fn record(r: RecordRow) -> Result<Record, StoreError> {
    Ok(Record {
        id: parse_id(&r.0)?,
        asset_id: parse_id(&r.1)?,
        kind: r.2,
        date: r.3,
        title: r.4,
        notes: r.5,
        cost: r.6,
        odometer: r.7,
        created_at: from_db(r.8),
        updated_at: from_db(r.9),
    })
}

const RECORD_COLUMNS: (
    asset_records::id,
    asset_records::asset_id,
    asset_records::kind,
    asset_records::record_date,
    asset_records::title,
    asset_records::notes,
    asset_records::cost,
    asset_records::odometer,
    asset_records::created_at,
    asset_records::updated_at,
) = (
    asset_records::id,
    asset_records::asset_id,
    asset_records::kind,
    asset_records::record_date,
    asset_records::title,
    asset_records::notes,
    asset_records::cost,
    asset_records::odometer,
    asset_records::created_at,
    asset_records::updated_at,
);

pub fn add_record(
    conn: &mut DbConnection,
    asset_id: Uuid,
    f: &RecordFields,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Record, StoreError> {
    let id = Uuid::new_v4();
    diesel::insert_into(asset_records::table)
        .values((
            asset_records::id.eq(id.to_string()),
            asset_records::asset_id.eq(asset_id.to_string()),
            asset_records::kind.eq(&f.kind),
            asset_records::record_date.eq(f.date),
            asset_records::title.eq(&f.title),
            asset_records::notes.eq(f.notes.as_deref()),
            asset_records::cost.eq(f.cost),
            asset_records::odometer.eq(f.odometer),
            asset_records::created_by.eq(by.to_string()),
            asset_records::created_at.eq(to_db(now)),
            asset_records::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    get_record(conn, asset_id, id)?.ok_or(StoreError::NotFound)
}

/// A record of this asset (a record id from another asset is not found).
pub fn get_record(
    conn: &mut DbConnection,
    asset_id: Uuid,
    id: Uuid,
) -> Result<Option<Record>, StoreError> {
    asset_records::table
        .filter(asset_records::id.eq(id.to_string()))
        .filter(asset_records::asset_id.eq(asset_id.to_string()))
        .select(RECORD_COLUMNS)
        .first::<RecordRow>(conn)
        .optional()?
        .map(record)
        .transpose()
}

/// Records of an asset, newest date first.
pub fn records(
    conn: &mut DbConnection,
    asset_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Record>, i64), StoreError> {
    let rows = asset_records::table
        .filter(asset_records::asset_id.eq(asset_id.to_string()))
        .select(RECORD_COLUMNS)
        .order((
            asset_records::record_date.desc(),
            asset_records::created_at.desc(),
            asset_records::id.desc(),
        ))
        .limit(limit)
        .offset(offset)
        .load::<RecordRow>(conn)?
        .into_iter()
        .map(record)
        .collect::<Result<_, _>>()?;
    let total = asset_records::table
        .filter(asset_records::asset_id.eq(asset_id.to_string()))
        .count()
        .get_result(conn)?;
    Ok((rows, total))
}

pub fn update_record(
    conn: &mut DbConnection,
    asset_id: Uuid,
    id: Uuid,
    f: &RecordFields,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(
        asset_records::table
            .filter(asset_records::id.eq(id.to_string()))
            .filter(asset_records::asset_id.eq(asset_id.to_string())),
    )
    .set((
        asset_records::kind.eq(&f.kind),
        asset_records::record_date.eq(f.date),
        asset_records::title.eq(&f.title),
        asset_records::notes.eq(f.notes.as_deref()),
        asset_records::cost.eq(f.cost),
        asset_records::odometer.eq(f.odometer),
        asset_records::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn delete_record(
    conn: &mut DbConnection,
    asset_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        asset_records::table
            .filter(asset_records::id.eq(id.to_string()))
            .filter(asset_records::asset_id.eq(asset_id.to_string())),
    )
    .execute(conn)?
        == 1)
}

// ------------------------------------------------------------------ photos

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub url: String,
    pub caption: Option<String>,
    pub created_at: DateTime<Utc>,
}

type PhotoRow = (String, String, String, Option<String>, NaiveDateTime);

fn photo(r: PhotoRow) -> Result<Photo, StoreError> {
    Ok(Photo {
        id: parse_id(&r.0)?,
        asset_id: parse_id(&r.1)?,
        url: r.2,
        caption: r.3,
        created_at: from_db(r.4),
    })
}

pub fn add_photo(
    conn: &mut DbConnection,
    asset_id: Uuid,
    url: &str,
    caption: Option<&str>,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Photo, StoreError> {
    let id = Uuid::new_v4();
    diesel::insert_into(asset_photos::table)
        .values((
            asset_photos::id.eq(id.to_string()),
            asset_photos::asset_id.eq(asset_id.to_string()),
            asset_photos::url.eq(url),
            asset_photos::caption.eq(caption),
            asset_photos::created_by.eq(by.to_string()),
            asset_photos::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(Photo {
        id,
        asset_id,
        url: url.to_owned(),
        caption: caption.map(ToOwned::to_owned),
        created_at: now,
    })
}

pub fn photos(
    conn: &mut DbConnection,
    asset_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Photo>, i64), StoreError> {
    let rows = asset_photos::table
        .filter(asset_photos::asset_id.eq(asset_id.to_string()))
        .select((
            asset_photos::id,
            asset_photos::asset_id,
            asset_photos::url,
            asset_photos::caption,
            asset_photos::created_at,
        ))
        .order((asset_photos::created_at.desc(), asset_photos::id.desc()))
        .limit(limit)
        .offset(offset)
        .load::<PhotoRow>(conn)?
        .into_iter()
        .map(photo)
        .collect::<Result<_, _>>()?;
    let total = asset_photos::table
        .filter(asset_photos::asset_id.eq(asset_id.to_string()))
        .count()
        .get_result(conn)?;
    Ok((rows, total))
}

/// Deletes a photo of this asset (another asset's photo id is not found).
pub fn delete_photo(conn: &mut DbConnection, asset_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        asset_photos::table
            .filter(asset_photos::id.eq(id.to_string()))
            .filter(asset_photos::asset_id.eq(asset_id.to_string())),
    )
    .execute(conn)?
        == 1)
}

// ------------------------------------------------------------------ households

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

// ------------------------------------------------------------------ shares

/// A share: what an accepted asset invitation leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub asset_id: Uuid,
    pub user: Person,
    pub permission: InvitationPermission,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub granted_at: DateTime<Utc>,
    pub invitation_id: Option<Uuid>,
}

type ShareRow = (
    String,
    String,
    Option<NaiveDateTime>,
    NaiveDateTime,
    Option<String>,
    (String, String, String, String),
);

fn share(r: ShareRow) -> Result<Share, StoreError> {
    let (asset_id, permission, until, granted, invitation, (id, username, display_name, email)) = r;
    Ok(Share {
        asset_id: parse_id(&asset_id)?,
        user: Person {
            id: parse_id(&id)?,
            username,
            display_name,
            email,
        },
        permission: parse(&permission)?,
        access_expires_at: until.map(from_db),
        granted_at: from_db(granted),
        invitation_id: opt_id(invitation)?,
    })
}

macro_rules! share_select {
    () => {
        (
            asset_shares::asset_id,
            asset_shares::permission,
            asset_shares::access_expires_at,
            asset_shares::granted_at,
            asset_shares::invitation_id,
            (
                users::id,
                users::username,
                users::display_name,
                users::email,
            ),
        )
    };
}

/// The user's share on an asset, if any (expired or not).
pub fn get_share(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Share>, StoreError> {
    asset_shares::table
        .inner_join(users::table.on(users::id.eq(asset_shares::user_id)))
        .filter(asset_shares::asset_id.eq(asset_id.to_string()))
        .filter(asset_shares::user_id.eq(user_id.to_string()))
        .select(share_select!())
        .first::<ShareRow>(conn)
        .optional()?
        .map(share)
        .transpose()
}

/// Shares of an asset, oldest first.
pub fn shares(conn: &mut DbConnection, asset_id: Uuid) -> Result<Vec<Share>, StoreError> {
    asset_shares::table
        .inner_join(users::table.on(users::id.eq(asset_shares::user_id)))
        .filter(asset_shares::asset_id.eq(asset_id.to_string()))
        .select(share_select!())
        .order((asset_shares::granted_at.asc(), asset_shares::user_id.asc()))
        .load::<ShareRow>(conn)?
        .into_iter()
        .map(share)
        .collect()
}

/// Writes a share (replacing the user's existing one on the asset).
pub fn put_share(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
    permission: InvitationPermission,
    access_expires_at: Option<DateTime<Utc>>,
    invitation_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::delete(asset_shares::table.find((asset_id.to_string(), user_id.to_string())))
        .execute(conn)?;
    diesel::insert_into(asset_shares::table)
        .values((
            asset_shares::asset_id.eq(asset_id.to_string()),
            asset_shares::user_id.eq(user_id.to_string()),
            asset_shares::permission.eq(permission.as_str()),
            asset_shares::access_expires_at.eq(access_expires_at.map(to_db)),
            asset_shares::granted_at.eq(to_db(now)),
            asset_shares::invitation_id.eq(invitation_id.map(|i| i.to_string())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Changes a share's permission and access expiry; false when there is none.
pub fn update_share(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
    permission: InvitationPermission,
    access_expires_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    Ok(
        diesel::update(asset_shares::table.find((asset_id.to_string(), user_id.to_string())))
            .set((
                asset_shares::permission.eq(permission.as_str()),
                asset_shares::access_expires_at.eq(access_expires_at.map(to_db)),
            ))
            .execute(conn)?
            == 1,
    )
}

/// Revokes a share; false when there is none.
pub fn delete_share(
    conn: &mut DbConnection,
    asset_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(
        diesel::delete(asset_shares::table.find((asset_id.to_string(), user_id.to_string())))
            .execute(conn)?
            == 1,
    )
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
