//! Assets with their records and photos, collaborators, households and
//! shares. Access facts are read here and judged by the domain resolver; the
//! garage is one query per page that keeps only reachable assets.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
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

/// Where a garage page starts: after this row (keyset), or after skipping
/// this many rows (page numbers; the deeper, the dearer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GarageStart {
    After { created_at: DateTime<Utc>, id: Uuid },
    Skip(i64),
}

/// What the garage is asked for.
#[derive(Debug, Clone)]
pub struct GarageQuery<'a> {
    pub user_id: Uuid,
    pub q: Option<&'a str>,
    pub site: Option<Uuid>,
    pub now: DateTime<Utc>,
    pub limit: i64,
    pub start: GarageStart,
    /// Count the reachable assets up to this many.
    pub count_up_to: i64,
}

/// A garage page: up to `limit` rows, whether more follow, and the count
/// of reachable assets up to `count_up_to + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct GaragePage {
    pub rows: Vec<GarageRow>,
    pub more: bool,
    pub counted: i64,
}

#[derive(QueryableByName)]
struct GarageSqlRow {
    #[diesel(embed)]
    asset: crate::access::AssetCols,
    #[diesel(embed)]
    facts: crate::access::AssetFactCols,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

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

/// Builds the garage's statements. Parameters are numbered as they are
/// pushed; `$1` is always the caller.
struct GarageSql {
    params: Vec<crate::access::Param>,
    /// PostgreSQL: each path joins its assets by a fenced LATERAL probe.
    pg: bool,
}

impl GarageSql {
    fn new(user_id: Uuid, pg: bool) -> Self {
        Self {
            params: vec![crate::access::Param::Text(user_id.to_string())],
            pg,
        }
    }

    /// `assets a` reached from `{from}.asset_id` with the filters `f`: on
    /// PostgreSQL a LATERAL probe fenced by `OFFSET 0`, so that even the
    /// generic plan of the prepared statement (made without knowing the
    /// caller, from the tables' averages) probes the caller's rows by key
    /// instead of hashing all of `assets`; SQLite's planner probes anyway.
    fn assets_of(&self, from: &str, f: &str) -> (String, String) {
        if self.pg {
            (
                format!(
                    " CROSS JOIN LATERAL (SELECT a.id, a.created_at FROM assets a
                       WHERE a.id = {from}.asset_id{f} OFFSET 0) a"
                ),
                String::new(),
            )
        } else {
            (
                format!(" JOIN assets a ON a.id = {from}.asset_id"),
                f.to_owned(),
            )
        }
    }

    fn push(&mut self, p: crate::access::Param) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }

    /// The filters every branch applies to `a`: search, site, and (for a
    /// page after a cursor) the keyset.
    fn filters(&mut self, query: &GarageQuery<'_>, keyset: bool) -> String {
        use crate::access::Param;
        let mut out = String::new();
        if query.q.is_some_and(|q| !q.trim().is_empty()) {
            let p = self.push(Param::Text(like_pattern(query.q)));
            out.push_str(&format!(" AND a.search_text LIKE {p} ESCAPE '\\'"));
        }
        if let Some(site) = query.site {
            let p = self.push(Param::Text(site.to_string()));
            out.push_str(&format!(" AND a.site_id = {p}"));
        }
        if keyset && let GarageStart::After { created_at, id } = query.start {
            let t = self.push(Param::Time(to_db(created_at)));
            let i = self.push(Param::Text(id.to_string()));
            // A row-value comparison bounds the index range on both
            // databases, so a deep page seeks to its place instead of
            // reading every row before it.
            out.push_str(&format!(" AND (a.created_at, a.id) < ({t}, {i})"));
        }
        out
    }

    /// One branch per path to an asset, each reading only the caller's own
    /// rows through an index and stopping after `take` rows in page order:
    /// collaborations, households of collaborating heads, active shares,
    /// and each estate the caller belongs to (minus sites they are kept
    /// off). Root is not a branch: see [`garage_root`].
    fn branches(
        &mut self,
        query: &GarageQuery<'_>,
        estates: &[String],
        take: i64,
        keyset: bool,
    ) -> String {
        use crate::access::Param;
        let order = "ORDER BY a.created_at DESC, a.id DESC";
        let mut branches = Vec::new();
        let f = self.filters(query, keyset);
        let lim = self.push(Param::Int(take));
        let (join, where_f) = self.assets_of("c", &f);
        branches.push(format!(
            "SELECT a.id, a.created_at FROM asset_collaborators c{join}
             WHERE c.user_id = $1{where_f} {order} LIMIT {lim}"
        ));
        let heads = if self.pg {
            " CROSS JOIN LATERAL (SELECT c.asset_id FROM asset_collaborators c
               WHERE c.user_id = h.head_id OFFSET 0) c"
        } else {
            " JOIN asset_collaborators c ON c.user_id = h.head_id"
        };
        branches.push(format!(
            "SELECT a.id, a.created_at FROM household_members h{heads}{join}
             WHERE h.member_id = $1{where_f} {order} LIMIT {lim}"
        ));
        let now = self.push(Param::Time(to_db(query.now)));
        let (join, where_f) = self.assets_of("s", &f);
        branches.push(format!(
            "SELECT a.id, a.created_at FROM asset_shares s{join}
             WHERE s.user_id = $1 AND (s.access_expires_at IS NULL OR s.access_expires_at > {now}){where_f}
             {order} LIMIT {lim}"
        ));
        for estate in estates {
            let e = self.push(Param::Text(estate.clone()));
            branches.push(format!(
                "SELECT a.id, a.created_at FROM assets a
                 WHERE a.estate_id = {e}{f}
                 AND NOT EXISTS (SELECT 1 FROM site_overrides o
                                 WHERE o.site_id = a.site_id AND o.user_id = $1 AND o.role = 'none')
                 {order} LIMIT {lim}"
            ));
        }
        branches
            .into_iter()
            .map(|b| format!("SELECT id, created_at FROM ({b}) AS branch"))
            .collect::<Vec<_>>()
            .join("\n UNION \n")
    }
}

/// The estates the user belongs to.
fn estates_of(conn: &mut DbConnection, user_id: Uuid) -> Result<Vec<String>, StoreError> {
    Ok(estate_members::table
        .filter(estate_members::user_id.eq(user_id.to_string()))
        .select(estate_members::estate_id)
        .order(estate_members::estate_id)
        .load(conn)?)
}

fn garage_rows(rows: Vec<GarageSqlRow>) -> Result<Vec<GarageRow>, StoreError> {
    rows.into_iter()
        .filter_map(|r| match r.asset.asset() {
            Ok(Some(asset)) => Some(
                r.facts
                    .access(asset.id)
                    .map(|access| GarageRow { asset, access }),
            ),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        })
        .collect()
}

fn page_of(mut rows: Vec<GarageRow>, limit: i64, counted: i64) -> GaragePage {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    GaragePage {
        rows,
        more,
        counted,
    }
}

/// A page of the assets `user_id` can reach by any path, newest first, with
/// the facts to judge the level of each. The cost follows what the caller
/// can reach: each path reads at most one page (plus what is skipped) of
/// the caller's own rows through an index, so neither the size of the
/// tables nor the depth of a keyset page changes it. The count reads at
/// most `count_up_to + 1` rows per path.
pub fn garage(conn: &mut DbConnection, query: &GarageQuery<'_>) -> Result<GaragePage, StoreError> {
    let estates = estates_of(conn, query.user_id)?;
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let [(page_sql, page_params), (count_sql, count_params)] = garage_sql(query, &estates, pg);
    let rows: Vec<GarageSqlRow> = crate::access::load(conn, &page_sql, &page_params)?;
    let counted = count(conn, &count_sql, &count_params)?;
    Ok(page_of(garage_rows(rows)?, query.limit, counted))
}

type Statement = (String, Vec<crate::access::Param>);

fn count(
    conn: &mut DbConnection,
    sql: &str,
    params: &[crate::access::Param],
) -> Result<i64, StoreError> {
    Ok(crate::access::load::<CountRow>(conn, sql, params)?
        .first()
        .map_or(0, |r| r.n))
}

/// The page and the count statements of [`garage`].
fn garage_sql(query: &GarageQuery<'_>, estates: &[String], pg: bool) -> [Statement; 2] {
    let skip = match query.start {
        GarageStart::Skip(n) => n,
        GarageStart::After { .. } => 0,
    };
    let mut sql = GarageSql::new(query.user_id, pg);
    let take = skip.saturating_add(query.limit).saturating_add(1);
    let union = sql.branches(query, estates, take, true);
    let lim = sql.push(crate::access::Param::Int(query.limit + 1));
    let off = sql.push(crate::access::Param::Int(skip));
    let page_sql = format!(
        "WITH picked AS ({union}),
         page AS (SELECT id, created_at FROM picked
                  ORDER BY created_at DESC, id DESC LIMIT {lim} OFFSET {off})
         SELECT {}, {}
         FROM page p JOIN assets a ON a.id = p.id
         ORDER BY a.created_at DESC, a.id DESC",
        crate::access::ASSET_COLUMNS,
        crate::access::asset_fact_columns("$1"),
    );
    let mut count = GarageSql::new(query.user_id, pg);
    let union = count.branches(query, estates, query.count_up_to + 1, false);
    let cap = count.push(crate::access::Param::Int(query.count_up_to + 1));
    let count_sql = format!(
        "SELECT COUNT(*) AS n FROM (SELECT id FROM ({union}) AS reach LIMIT {cap}) AS capped"
    );
    [(page_sql, sql.params), (count_sql, count.params)]
}

/// Root's garage: every asset, newest first, straight from the
/// `(created_at, id)` index; a separate query so no other caller pays for it.
pub fn garage_root(
    conn: &mut DbConnection,
    query: &GarageQuery<'_>,
) -> Result<GaragePage, StoreError> {
    let [(page_sql, page_params), (count_sql, count_params)] = garage_root_sql(query);
    let rows: Vec<GarageSqlRow> = crate::access::load(conn, &page_sql, &page_params)?;
    let counted = count(conn, &count_sql, &count_params)?;
    Ok(page_of(garage_rows(rows)?, query.limit, counted))
}

fn garage_root_sql(query: &GarageQuery<'_>) -> [Statement; 2] {
    let skip = match query.start {
        GarageStart::Skip(n) => n,
        GarageStart::After { .. } => 0,
    };
    let mut sql = GarageSql::new(query.user_id, false);
    let f = sql.filters(query, true);
    let lim = sql.push(crate::access::Param::Int(query.limit + 1));
    let off = sql.push(crate::access::Param::Int(skip));
    let page_sql = format!(
        "SELECT {}, {} FROM assets a WHERE 1 = 1{f}
         ORDER BY a.created_at DESC, a.id DESC LIMIT {lim} OFFSET {off}",
        crate::access::ASSET_COLUMNS,
        crate::access::asset_fact_columns("$1"),
    );
    let mut count = GarageSql::new(query.user_id, false);
    let f = count.filters(query, false);
    let cap = count.push(crate::access::Param::Int(query.count_up_to + 1));
    // `$1` must appear for PostgreSQL to type it; it filters nothing.
    let count_sql = format!(
        "SELECT COUNT(*) AS n FROM (SELECT a.id FROM assets a WHERE $1 = $1{f} LIMIT {cap}) AS capped"
    );
    [(page_sql, sql.params), (count_sql, count.params)]
}

/// The plans of the garage's page and count statements for `query` (root's
/// when `root`), as the database would run them now.
pub fn garage_plans(
    conn: &mut DbConnection,
    query: &GarageQuery<'_>,
    root: bool,
) -> Result<Vec<(&'static str, Vec<String>)>, StoreError> {
    let [(page, page_params), (count, count_params)] = if root {
        garage_root_sql(query)
    } else {
        let estates = estates_of(conn, query.user_id)?;
        let pg = matches!(conn, DbConnection::Postgresql(_));
        garage_sql(query, &estates, pg)
    };
    Ok(vec![
        (
            "garage page",
            crate::access::explain(conn, &page, &page_params)?,
        ),
        (
            "garage count",
            crate::access::explain(conn, &count, &count_params)?,
        ),
    ])
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
