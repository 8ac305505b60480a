//! Assets, their records and photos, and collaborators (single and bulk).
//! Every record and photo is loaded through its asset; every decision is the
//! domain resolver's.

use keyholder_store::audit::Action;
use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use keyholder_domain::asset::{
    self, AccessFacts, AssetCapability, HouseholdFact, PlacementFacts, ShareFact, SitePathFact,
};
use keyholder_domain::collaborators::{self, CollaboratorRefusal};
use keyholder_domain::estate;
use keyholder_domain::values::Name;
use keyholder_domain::{AssetLevel, SiteRole};
use keyholder_store::DbConnection;
use keyholder_store::access;
use keyholder_store::assets::{self, AccessRow, Asset, Placement};
use keyholder_store::audit::{self, NewAuditEvent};
use keyholder_store::collaborators::Person;
use keyholder_store::estates;
use keyholder_store::locks;
use keyholder_store::records::{Record, RecordFields};
use keyholder_store::users::{self, User};
use keyholder_store::{garage, photos, records, sites};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{AuthUser, Caller, require_verified};
use crate::error::{ApiError, BadPaging, FieldErrors, MalformedJson, Problem, Unauthorized};
use crate::extract::{ScopedJson, ValidJson, ValidQuery};
use crate::state::AppState;
use crate::views::common::{
    Cursor, CursorPage, CursorQuery, Page, PageQuery, TOTAL_CAP, UserSummary, person,
};
use keyholder_domain::account::SharingAction;

// ---------------------------------------------------------------- access

/// The households and active share read for one asset, as the domain's
/// facts.
pub(crate) fn row_facts(row: &AccessRow) -> (Vec<HouseholdFact>, Vec<ShareFact>) {
    let households = row.households.clone();
    let shares = row
        .share
        .iter()
        .map(|&(id, permission, until)| ShareFact::active(id, permission, until))
        .collect();
    (households, shares)
}

/// The facts about `user` and `asset` the domain resolves.
pub(crate) fn access_facts<'a>(
    user: &User,
    asset: &Asset,
    row: &AccessRow,
    (households, shares): (&'a [HouseholdFact], &'a [ShareFact]),
    now: DateTime<Utc>,
) -> AccessFacts<'a> {
    AccessFacts {
        is_root: user.is_root,
        is_collaborator: row.is_collaborator,
        households,
        shares,
        site: match (asset.site_id, asset.estate_id) {
            (Some(site_id), Some(estate_id)) => Some(SitePathFact {
                site_id,
                estate_id,
                estate_role: row.estate_role,
                site_override: row.site_override,
            }),
            _ => None,
        },
        now,
    }
}

/// The domain's view of the facts read for one asset.
pub(crate) fn judge(
    user: &User,
    asset: &Asset,
    row: &AccessRow,
    now: DateTime<Utc>,
) -> Option<AssetLevel> {
    let (households, shares) = row_facts(row);
    asset::effective_level(&access_facts(user, asset, row, (&households, &shares), now))
}

fn not_found_asset() -> ApiError {
    ApiError::not_found("asset_not_found", "No such asset.")
}

/// The asset and my level on it: 404 when I cannot reach it. One
/// statement reads the asset and every fact on it.
pub(crate) fn asset_access(
    c: &mut DbConnection,
    user: &User,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(Asset, AssetLevel), ApiError> {
    let (_, found) = access::asset(c, user.id, id)?.ok_or_else(not_found_asset)?;
    level_on(user, found, now)
}

/// The caller, the asset and the caller's level on it, from one statement:
/// 401 for a token that no longer holds, 404 when the asset is out of reach.
pub(crate) fn caller_asset(
    c: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(User, Asset, AssetLevel), ApiError> {
    let (user, found) = caller.admit_read(access::asset(c, caller.id, id)?)?;
    let (asset, level) = level_on(&user, found, now)?;
    Ok((user, asset, level))
}

fn level_on(
    user: &User,
    found: Option<(Asset, AccessRow)>,
    now: DateTime<Utc>,
) -> Result<(Asset, AssetLevel), ApiError> {
    let (asset, row) = found.ok_or_else(not_found_asset)?;
    let level = judge(user, &asset, &row, now).ok_or_else(not_found_asset)?;
    Ok((asset, level))
}

/// 403 unless `level` allows `cap`; the code names the level needed.
pub(crate) fn require(level: AssetLevel, cap: AssetCapability) -> Result<(), ApiError> {
    if asset::asset_can(Some(level), cap) {
        return Ok(());
    }
    let needed = cap.required_level();
    Err(ApiError::forbidden(
        match needed {
            AssetLevel::View => "view_access_required",
            AssetLevel::Edit => "edit_access_required",
            AssetLevel::Manage => "manage_access_required",
            AssetLevel::Full => "full_access_required",
        },
        format!(
            "This needs {} access to the asset; you have {}.",
            needed.as_str(),
            level.as_str()
        ),
    ))
}

/// The target site: 404 unless I can see it; its estate and my role there.
fn target_site(
    c: &mut DbConnection,
    user: &User,
    site_id: Uuid,
) -> Result<(Placement, Option<SiteRole>), ApiError> {
    let (site, estate_role, over) = sites::site_for_user(c, site_id, user.id)?
        .ok_or_else(|| ApiError::not_found("site_not_found", "No such site."))?;
    let role = estate::effective_site_role_of(estate_role, over);
    if role.is_none() && !user.is_root {
        return Err(ApiError::not_found("site_not_found", "No such site."));
    }
    Ok((
        Placement {
            site_id: site.id,
            estate_id: site.estate_id,
        },
        role,
    ))
}

pub(crate) fn event(
    user: &User,
    action: Action,
    target_id: Uuid,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> NewAuditEvent<'static> {
    NewAuditEvent {
        actor_id: Some(user.id),
        action,
        target_type: "asset",
        target_id: target_id.to_string(),
        before,
        after,
    }
}

// ---------------------------------------------------------------- views

#[derive(Debug, Serialize, ToSchema)]
pub struct AssetView {
    pub id: Uuid,
    pub name: String,
    pub reference: Option<String>,
    /// Free attributes (a JSON object).
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    pub site_id: Option<Uuid>,
    pub estate_id: Option<Uuid>,
    /// My access level: `view`, `edit`, `manage` or `full`.
    #[schema(example = "full")]
    pub my_access: &'static str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AssetView {
    fn new(a: &Asset, level: AssetLevel) -> Self {
        Self {
            id: a.id,
            name: a.name.clone(),
            reference: a.reference.clone(),
            attributes: a.attributes.clone(),
            site_id: a.site_id,
            estate_id: a.estate_id,
            my_access: level.as_str(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    pub id: Uuid,
    pub asset_id: Uuid,
    #[schema(example = "service")]
    pub kind: String,
    pub date: NaiveDate,
    pub title: String,
    pub notes: Option<String>,
    pub cost: Option<f64>,
    pub odometer: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Record> for RecordView {
    fn from(r: &Record) -> Self {
        Self {
            id: r.id,
            asset_id: r.asset_id,
            kind: r.kind.clone(),
            date: r.date,
            title: r.title.clone(),
            notes: r.notes.clone(),
            cost: r.cost,
            odometer: r.odometer,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoView {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub url: String,
    pub caption: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollaboratorView {
    pub user: UserSummary,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollaboratorList {
    pub items: Vec<CollaboratorView>,
    /// Whether I may add and remove collaborators (full access).
    pub can_manage: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartialCollaborator {
    pub user: UserSummary,
    /// The selected assets this user collaborates on.
    pub asset_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollaboratorSplitView {
    /// Collaborators of every selected asset.
    pub common: Vec<UserSummary>,
    /// Collaborators of some selected assets.
    pub partial: Vec<PartialCollaborator>,
}

// ---------------------------------------------------------------- requests

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"name": "Van 7", "reference": "KX21 ABC", "attributes": {"make": "Ford"}}))]
pub struct CreateAsset {
    #[validate(length(max = 1000))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub reference: Option<String>,
    /// Place it at a site (needs editor or above there).
    pub site_id: Option<Uuid>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct UpdateAsset {
    #[validate(length(max = 1000))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub reference: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Move to another site; `null` takes it out of any estate.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub site_id: Option<Option<Uuid>>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GarageQuery {
    /// Case-insensitive search in name and reference.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only assets at this site.
    pub site_id: Option<Uuid>,
    #[validate(range(min = 1, max = 1_000_000))]
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// The `next_cursor` of the previous page: the page after it, as cheap
    /// at any depth (`page` is ignored when this is given).
    #[validate(length(min = 1, max = 512))]
    #[param(min_length = 1, max_length = 512)]
    pub cursor: Option<String>,
}

const RECORD_KINDS: [&str; 6] = [
    "service",
    "repair",
    "inspection",
    "work_order",
    "fuel",
    "note",
];

fn record_kind_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(RECORD_KINDS))
        .into()
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"kind": "service", "date": "2026-11-01", "title": "Annual service", "cost": 189.5, "odometer": 48210}))]
pub struct RecordRequest {
    #[schema(schema_with = record_kind_schema)]
    pub kind: String,
    /// Years 1 to 9999.
    #[validate(custom(function = "crate::extract::storable_date"))]
    pub date: NaiveDate,
    #[validate(length(max = 1000))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    #[validate(range(min = 0.0, max = 1_000_000_000.0))]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub cost: Option<f64>,
    #[validate(range(min = 0, max = 100_000_000_000_i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000_i64)]
    pub odometer: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"url": "https://photos.example.com/van7.jpg", "caption": "Front"}))]
pub struct PhotoRequest {
    /// Where the photo is stored (http or https).
    #[validate(length(max = 2000))]
    #[schema(min_length = 8, max_length = 2000)]
    pub url: String,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub caption: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AddCollaborator {
    #[validate(length(max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SelectionQuery {
    /// Comma-separated asset ids (at most 50).
    #[validate(length(max = 1900))]
    #[param(max_length = 1900)]
    pub asset_ids: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct BulkAdd {
    /// 1 to 50 assets.
    #[validate(length(min = 1, max = 50))]
    #[schema(min_items = 1, max_items = 50)]
    pub asset_ids: Vec<Uuid>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_items = 1, max_items = 100)]
    pub usernames: Vec<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct BulkRemove {
    /// 1 to 50 assets.
    #[validate(length(min = 1, max = 50))]
    #[schema(min_items = 1, max_items = 50)]
    pub asset_ids: Vec<Uuid>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_items = 1, max_items = 100)]
    pub user_ids: Vec<Uuid>,
}

fn parse_name(name: &str) -> Result<Name, ApiError> {
    Name::parse(name).map_err(|e| ApiError::field("name", e.to_string()))
}

fn clean_reference(r: Option<&str>) -> Result<Option<String>, ApiError> {
    match r.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().any(char::is_control) => Err(ApiError::field(
            "reference",
            "must not contain control characters",
        )),
        Some(s) if s.chars().count() > 200 => Err(ApiError::field(
            "reference",
            "must be at most 200 characters",
        )),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

// ---------------------------------------------------------------- assets

/// Create an asset; I become its collaborator.
#[utoipa::path(
    post, path = "/api/v1/assets", tag = "assets", security(("bearer" = [])),
    request_body = CreateAsset,
    responses(
        (status = 201, description = "Created", body = AssetView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`site_editor_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`site_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_asset(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    body: ValidJson<CreateAsset>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(req) = body;
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.write(|c| {
                let placement = match req.site_id {
                    Some(site) => {
                        let (placement, role) = target_site(c, &user, site)?;
                        asset::check_placement(&PlacementFacts {
                            is_root: user.is_root,
                            asset_level: Some(AssetLevel::Full),
                            target_site_role: Some(role),
                            leaving_estate_role: None,
                        })
                        .map_err(ApiError::refused)?;
                        Some(placement)
                    }
                    None => None,
                };
                let name = parse_name(&req.name)?;
                let reference = clean_reference(req.reference.as_deref())?;
                let attributes = serde_json::Value::Object(req.attributes.unwrap_or_default());
                let a = assets::create(
                    c,
                    name.as_str(),
                    reference.as_deref(),
                    &attributes,
                    placement,
                    user.id,
                    now,
                )?;
                audit::record(
                    c,
                    &event(
                        &user,
                        Action::AssetCreated,
                        a.id,
                        None,
                        Some(
                            json!({"name": a.name, "site_id": a.site_id, "collaborator": user.id}),
                        ),
                    ),
                    now,
                )?;
                Ok::<_, ApiError>(AssetView::new(&a, AssetLevel::Full))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The garage: every asset I can reach by any path, newest first, each with
/// my access level; searchable and filterable by site.
#[utoipa::path(
    get, path = "/api/v1/assets", tag = "assets", security(("bearer" = [])),
    params(GarageQuery),
    responses(
        (status = 200, description = "My assets, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more)", body = CursorPage<AssetView>),
        Unauthorized,
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn garage(
    state: web::Data<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<GarageQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let paging = CursorQuery {
        page: q.page,
        per_page: q.per_page,
        cursor: q.cursor.clone(),
    };
    let start = match paging.after()? {
        Some(cursor) => garage::GarageStart::After {
            created_at: cursor.instant()?,
            id: cursor.id,
        },
        None => garage::GarageStart::Skip(paging.offset()),
    };
    let limit = paging.per_page();
    let (items, more, last, counted) = state
        .db(move |db| {
            db.read(|c| {
                let user = caller.user(c)?;
                let query = garage::GarageQuery {
                    user_id: user.id,
                    q: q.q.as_deref(),
                    site: q.site_id,
                    now,
                    limit,
                    start,
                    count_up_to: TOTAL_CAP,
                };
                let page = if user.is_root {
                    garage::garage_root(c, &query)?
                } else {
                    garage::garage(c, &query)?
                };
                let last = page
                    .rows
                    .last()
                    .map(|r| Cursor::at(r.asset.created_at, r.asset.id));
                let items = page
                    .rows
                    .iter()
                    .filter_map(|r| {
                        judge(&user, &r.asset, &r.access, now).map(|l| AssetView::new(&r.asset, l))
                    })
                    .collect::<Vec<_>>();
                Ok::<_, ApiError>((items, page.more, last, page.counted))
            })
        })
        .await?;
    let next = if more { last } else { None };
    Ok(HttpResponse::Ok().json(CursorPage::new(items, counted, &paging, next)))
}

/// Read an asset with my access level.
#[utoipa::path(
    get, path = "/api/v1/assets/{asset_id}", tag = "assets", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The asset", body = AssetView),
        Unauthorized,
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_asset(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let (_, a, level) = state
        .read_one(move |c| caller_asset(c, &caller, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(AssetView::new(&a, level)))
}

/// Update an asset (edit) or move it between sites (full, plus editor at the
/// target site; leaving an estate also needs estate admin there).
#[utoipa::path(
    patch, path = "/api/v1/assets/{asset_id}", tag = "assets", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)), request_body = UpdateAsset,
    responses(
        (status = 200, description = "Updated", body = AssetView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`edit_access_required`, `full_access_required`, `site_editor_required` or `estate_admin_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `site_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_asset(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ScopedJson<UpdateAsset>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let req = body.after_authorization();
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.write(|c| {
                // Lock the estate it leaves and the one it joins, then the asset.
                let target_estate = match req.as_ref().ok().and_then(|r| r.site_id.flatten()) {
                    Some(site) => sites::site_for_user(c, site, caller.id)?.map(|(s, _, _)| s.estate_id),
                    None => None,
                };
                locks::assets_with_estates(c, &[id], target_estate.as_slice())?;
                let (user, a, level) = caller_asset(c, &caller, id, now)?;
                // Without edit access nothing here is allowed: 403 before 422.
                let req = match req {
                    Ok(req) => req,
                    Err(invalid) => {
                        require(level, AssetCapability::UpdateDetails)?;
                        return Err(invalid);
                    }
                };
                let details = req.name.is_some() || req.reference.is_some() || req.attributes.is_some();
                // An empty PATCH changes nothing but still needs edit access.
                if details || req.site_id.is_none() {
                    require(level, AssetCapability::UpdateDetails)?;
                }
                if let Some(target) = req.site_id {
                    require(level, AssetCapability::MoveAsset)?;
                    let (placement, role) = match target {
                        Some(site) => {
                            let (p, r) = target_site(c, &user, site)?;
                            (Some(p), Some(r))
                        }
                        None => (None, None),
                    };
                    let leaving = match (a.estate_id, placement) {
                        (Some(old), Some(p)) if p.estate_id == old => None,
                        (Some(old), _) => Some(estates::member_role(c, old, user.id)?),
                        (None, _) => None,
                    };
                    asset::check_placement(&PlacementFacts {
                        is_root: user.is_root,
                        asset_level: Some(level),
                        target_site_role: placement.map(|_| role.flatten()),
                        leaving_estate_role: leaving,
                    })
                    .map_err(ApiError::refused)?;
                    if placement.map(|p| p.site_id) != a.site_id {
                        assets::place(c, id, placement, now)?;
                        audit::record(
                            c,
                            &event(&user, Action::AssetMoved, id, Some(json!({"site_id": a.site_id, "estate_id": a.estate_id})), Some(json!({"site_id": placement.map(|p| p.site_id), "estate_id": placement.map(|p| p.estate_id)}))),
                            now,
                        )?;
                    }
                }
                if details {
                    let name = match &req.name {
                        Some(n) => parse_name(n)?.as_str().to_owned(),
                        None => a.name.clone(),
                    };
                    let reference = match &req.reference {
                        Some(r) => clean_reference(r.as_deref())?,
                        None => a.reference.clone(),
                    };
                    let attributes = req.attributes.clone().map_or_else(|| a.attributes.clone(), serde_json::Value::Object);
                    assets::update(c, id, &name, reference.as_deref(), &attributes, now)?;
                }
                let a = assets::get(c, id)?.ok_or_else(not_found_asset)?;
                let level = judge(&user, &a, &assets::access_row(c, &a, user.id)?, now).unwrap_or(level);
                Ok::<_, ApiError>(AssetView::new(&a, level))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Delete an asset with its records, photos, shares and invitations (full).
#[utoipa::path(
    delete, path = "/api/v1/assets/{asset_id}", tag = "assets", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        Unauthorized,
        (status = 403, description = "`full_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_asset(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                locks::assets_with_estates(c, &[id], &[])?;
                let (user, a, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::DeleteAsset)?;
                let record_count = records::records(c, id, 1, 0)?.1;
                let photo_count = photos::photos(c, id, 1, 0)?.1;
                assets::delete(c, id)?;
                audit::record(
                    c,
                    &event(&user, Action::AssetDeleted, id, Some(json!({"name": a.name, "site_id": a.site_id, "records": record_count, "photos": photo_count})), None),
                    now,
                )?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- records

fn record_fields(req: &RecordRequest) -> Result<RecordFields, ApiError> {
    let mut v = FieldErrors::new();
    if !RECORD_KINDS.contains(&req.kind.as_str()) {
        v.add(
            "kind",
            format!("must be one of {}", RECORD_KINDS.join(", ")),
        );
    }
    let title = v.check("title", Name::parse(&req.title));
    if req.cost.is_some_and(|c| !c.is_finite() || c < 0.0) {
        v.add("cost", "must be a number of at least 0");
    }
    if req.notes.as_deref().is_some_and(|n| n.contains('\0')) {
        v.add("notes", "must not contain NUL characters");
    }
    let Some(title) = title else {
        return Err(v.into_error());
    };
    v.finish()?;
    Ok(RecordFields {
        kind: req.kind.clone(),
        date: req.date,
        title: title.as_str().to_owned(),
        notes: req.notes.clone().filter(|n| !n.trim().is_empty()),
        cost: req.cost.map(|c| (c * 100.0).round() / 100.0),
        odometer: req.odometer,
    })
}

/// Records of an asset, newest date first (view).
#[utoipa::path(
    get, path = "/api/v1/assets/{asset_id}/records", tag = "records", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), PageQuery),
    responses(
        (status = 200, description = "Records", body = Page<RecordView>),
        Unauthorized,
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
        BadPaging,
    )
)]
pub async fn list_records(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let (limit, offset) = (q.per_page(), q.offset());
    let (items, total) = state
        .db(move |db| {
            db.run(|c| {
                let (_, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::Read)?;
                let (rows, total) = records::records(c, id, limit, offset)?;
                Ok::<_, ApiError>((rows.iter().map(RecordView::from).collect::<Vec<_>>(), total))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(items, total, &q)))
}

/// Add a record (edit).
#[utoipa::path(
    post, path = "/api/v1/assets/{asset_id}/records", tag = "records", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)), request_body = RecordRequest,
    responses(
        (status = 201, description = "Added", body = RecordView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`edit_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ScopedJson<RecordRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let req = body;
    let view = state
        .db(move |db| {
            db.write(|c| {
                let (user, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::AddEditRecords)?;
                let req = req.after_authorization()?;
                let fields = record_fields(&req)?;
                let r = records::add_record(c, id, &fields, user.id, now)?;
                Ok::<_, ApiError>(RecordView::from(&r))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Edit a record (edit). A record of another asset is not found.
#[utoipa::path(
    patch, path = "/api/v1/assets/{asset_id}/records/{record_id}", tag = "records", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), ("record_id" = Uuid, Path)), request_body = RecordRequest,
    responses(
        (status = 200, description = "Saved", body = RecordView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`edit_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `record_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: ScopedJson<RecordRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, record_id) = path.into_inner();
    let now = state.clock.now();
    let req = body;
    let view = state
        .db(move |db| {
            db.write(|c| {
                let (_, _, level) = caller_asset(c, &caller, id, now)?;
                records::get_record(c, id, record_id)?.ok_or_else(record_not_found)?;
                require(level, AssetCapability::AddEditRecords)?;
                let req = req.after_authorization()?;
                let fields = record_fields(&req)?;
                records::update_record(c, id, record_id, &fields, now)?;
                let r = records::get_record(c, id, record_id)?.ok_or_else(record_not_found)?;
                Ok::<_, ApiError>(RecordView::from(&r))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn record_not_found() -> ApiError {
    ApiError::not_found("record_not_found", "No such record on this asset.")
}

fn photo_not_found() -> ApiError {
    ApiError::not_found("photo_not_found", "No such photo on this asset.")
}

/// Delete a record (manage).
#[utoipa::path(
    delete, path = "/api/v1/assets/{asset_id}/records/{record_id}", tag = "records", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), ("record_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        Unauthorized,
        (status = 403, description = "`manage_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `record_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, record_id) = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                let (_, _, level) = caller_asset(c, &caller, id, now)?;
                records::get_record(c, id, record_id)?.ok_or_else(record_not_found)?;
                require(level, AssetCapability::DeleteRecordsAndPhotos)?;
                records::delete_record(c, id, record_id)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- photos

/// Photos of an asset, newest first (view).
#[utoipa::path(
    get, path = "/api/v1/assets/{asset_id}/photos", tag = "records", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), PageQuery),
    responses(
        (status = 200, description = "Photos", body = Page<PhotoView>),
        Unauthorized,
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
        BadPaging,
    )
)]
pub async fn list_photos(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let (limit, offset) = (q.per_page(), q.offset());
    let (items, total) = state
        .db(move |db| {
            db.run(|c| {
                let (_, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::Read)?;
                let (rows, total) = photos::photos(c, id, limit, offset)?;
                let items = rows
                    .into_iter()
                    .map(|p| PhotoView {
                        id: p.id,
                        asset_id: p.asset_id,
                        url: p.url,
                        caption: p.caption,
                        created_at: p.created_at,
                    })
                    .collect::<Vec<_>>();
                Ok::<_, ApiError>((items, total))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(items, total, &q)))
}

/// Add photo metadata (edit).
#[utoipa::path(
    post, path = "/api/v1/assets/{asset_id}/photos", tag = "records", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)), request_body = PhotoRequest,
    responses(
        (status = 201, description = "Added", body = PhotoView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`edit_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_photo(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ScopedJson<PhotoRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let req = body;
    let view = state
        .db(move |db| {
            db.write(|c| {
                let (user, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::AddPhotos)?;
                let req = req.after_authorization()?;
                let url = req.url.trim();
                let valid = (url.starts_with("https://") || url.starts_with("http://"))
                    && url.len() > 8
                    && !url.chars().any(|ch| ch.is_whitespace() || ch.is_control());
                if !valid {
                    return Err(ApiError::field("url", "must be an http or https URL"));
                }
                let caption = req
                    .caption
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty());
                if caption.is_some_and(|c| c.chars().any(char::is_control)) {
                    return Err(ApiError::field(
                        "caption",
                        "must not contain control characters",
                    ));
                }
                let p = photos::add_photo(c, id, url, caption, user.id, now)?;
                Ok(PhotoView {
                    id: p.id,
                    asset_id: p.asset_id,
                    url: p.url,
                    caption: p.caption,
                    created_at: p.created_at,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Delete a photo (manage).
#[utoipa::path(
    delete, path = "/api/v1/assets/{asset_id}/photos/{photo_id}", tag = "records", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), ("photo_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        Unauthorized,
        (status = 403, description = "`manage_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `photo_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_photo(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, photo_id) = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                let (_, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::DeleteRecordsAndPhotos)?;
                if !photos::delete_photo(c, id, photo_id)? {
                    return Err(photo_not_found());
                }
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- collaborators

fn collaborator_refused(r: &CollaboratorRefusal) -> ApiError {
    let ids = r.asset_ids();
    let mut e = ApiError::refused(r);
    if !ids.is_empty() {
        e = e.with_extra("asset_ids", json!(ids));
    }
    e
}

/// Collaborators of an asset (view), and whether I may manage them.
#[utoipa::path(
    get, path = "/api/v1/assets/{asset_id}/collaborators", tag = "collaborators", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Collaborators, oldest first", body = CollaboratorList),
        Unauthorized,
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_collaborators(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let list = state
        .db(move |db| {
            db.run(|c| {
                let (_, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::Read)?;
                let can_manage =
                    asset::asset_can(Some(level), AssetCapability::ManageCollaborators);
                let items = keyholder_store::collaborators::collaborators(c, id)?
                    .iter()
                    .map(|(p, at)| CollaboratorView {
                        user: person(p, false),
                        added_at: *at,
                    })
                    .collect();
                Ok::<_, ApiError>(CollaboratorList { items, can_manage })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Add a collaborator by exact username (full).
#[utoipa::path(
    post, path = "/api/v1/assets/{asset_id}/collaborators", tag = "collaborators", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)), request_body = AddCollaborator,
    responses(
        (status = 201, description = "Added", body = CollaboratorView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`full_access_required`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`, or `user_not_found` naming the username", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_collaborator`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many additions", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_collaborator(
    http: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ScopedJson<AddCollaborator>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let req = body;
    let limit = state.user_limit.clone();
    let ip = limit.client_ip(&http);
    let view = state
        .db(move |db| {
            db.write(|c| {
                locks::assets_with_estates(c, &[id], &[])?;
                let (user, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::ManageCollaborators)?;
                require_verified(&user, SharingAction::Collaborator)?;
                let AddCollaborator { username } = req.after_authorization()?;
                limit.check(user.id, ip)?;
                let found = users::find_by_username(c, username.trim())?.ok_or_else(|| {
                    ApiError::not_found(
                        "user_not_found",
                        format!("No user is named {}.", username.trim()),
                    )
                    .with_extra("username", json!(username.trim()))
                })?;
                let current: Vec<Uuid> = keyholder_store::collaborators::collaborators(c, id)?
                    .iter()
                    .map(|(p, _)| p.id)
                    .collect();
                collaborators::check_add_collaborator(&current, found.id)
                    .map_err(|r| collaborator_refused(&r))?;
                keyholder_store::collaborators::add_collaborator(c, id, found.id, now)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        Action::CollaboratorAdded,
                        id,
                        None,
                        Some(json!({"user_id": found.id})),
                    ),
                    now,
                )?;
                let p = Person {
                    id: found.id,
                    username: found.username,
                    display_name: found.display_name,
                    email: found.email,
                };
                Ok::<_, ApiError>(CollaboratorView {
                    user: person(&p, false),
                    added_at: now,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Remove a collaborator (full); the last one stays (409).
#[utoipa::path(
    delete, path = "/api/v1/assets/{asset_id}/collaborators/{user_id}", tag = "collaborators", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        Unauthorized,
        (status = 403, description = "`full_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `not_a_collaborator`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_collaborator`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_collaborator(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, target) = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                locks::assets_with_estates(c, &[id], &[])?;
                let (user, _, level) = caller_asset(c, &caller, id, now)?;
                require(level, AssetCapability::ManageCollaborators)?;
                let current: Vec<Uuid> = keyholder_store::collaborators::collaborators(c, id)?
                    .iter()
                    .map(|(p, _)| p.id)
                    .collect();
                collaborators::check_remove_collaborator(id, &current, target)
                    .map_err(|r| collaborator_refused(&r))?;
                keyholder_store::collaborators::remove_collaborator(c, id, target)?;
                let email = users::get(c, target)?.email;
                keyholder_store::invitations::cancel_to_email_on_assets(c, &[id], &email)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        Action::CollaboratorRemoved,
                        id,
                        Some(json!({"user_id": target})),
                        None,
                    ),
                    now,
                )?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks full access on every selected asset: 404 naming the ones I cannot
/// see, 403 naming the ones I see without full access.
fn bulk_access(
    c: &mut DbConnection,
    user: &User,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, ApiError> {
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    let found: HashMap<Uuid, Asset> = assets::get_many(c, &unique)?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut levels = Vec::with_capacity(unique.len());
    for id in &unique {
        let level = match found.get(id) {
            Some(a) => {
                let row = assets::access_row(c, a, user.id)?;
                judge(user, a, &row, now)
            }
            None => None,
        };
        levels.push((*id, level));
    }
    collaborators::check_bulk_access(&levels).map_err(|r| collaborator_refused(&r))?;
    Ok(unique)
}

/// The common/partial split of a selection, with the users' details.
fn split_view(c: &mut DbConnection, selection: &[Uuid]) -> Result<CollaboratorSplitView, ApiError> {
    let pairs = keyholder_store::collaborators::collaborator_pairs(c, selection)?;
    let split = collaborators::split_common_partial(selection, &pairs);
    let mut ids: Vec<Uuid> = split.common.clone();
    ids.extend(split.partial.iter().map(|(u, _)| *u));
    let people: HashMap<Uuid, Person> = keyholder_store::collaborators::people(c, &ids)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let summary = |id: &Uuid| people.get(id).map(|p| person(p, false));
    Ok(CollaboratorSplitView {
        common: split.common.iter().filter_map(summary).collect(),
        partial: split
            .partial
            .iter()
            .filter_map(|(u, assets)| {
                summary(u).map(|user| PartialCollaborator {
                    user,
                    asset_ids: assets.clone(),
                })
            })
            .collect(),
    })
}

/// The most assets one collaborator dialog works on.
const MAX_SELECTION: usize = 50;

fn parse_selection(raw: &str) -> Result<Vec<Uuid>, ApiError> {
    let ids: Result<Vec<Uuid>, _> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Uuid::parse_str)
        .collect();
    match ids {
        Ok(ids) if !ids.is_empty() && ids.len() <= MAX_SELECTION => Ok(ids),
        Ok(ids) if ids.is_empty() => Err(ApiError::field("asset_ids", "select at least one asset")),
        Ok(_) => Err(ApiError::field("asset_ids", "select at most 50 assets")),
        Err(_) => Err(ApiError::field(
            "asset_ids",
            "must be comma-separated asset ids",
        )),
    }
}

/// Common and partial collaborators over several assets (full on each).
#[utoipa::path(
    get, path = "/api/v1/collaborators", tag = "collaborators", security(("bearer" = [])),
    params(SelectionQuery),
    responses(
        (status = 200, description = "Common and partial collaborators", body = CollaboratorSplitView),
        Unauthorized,
        (status = 403, description = "`full_access_required`, with `asset_ids`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`assets_not_found`, with `asset_ids`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad selection", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn collaborator_split(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    ValidQuery(q): ValidQuery<SelectionQuery>,
) -> Result<HttpResponse, ApiError> {
    let ids = parse_selection(&q.asset_ids)?;
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.read(|c| {
                let selection = bulk_access(c, &user, &ids, now)?;
                split_view(c, &selection)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Make users collaborators of every selected asset (also "move to common");
/// existing pairs stay as they are. All or nothing.
#[utoipa::path(
    post, path = "/api/v1/collaborators/add", tag = "collaborators", security(("bearer" = [])),
    request_body = BulkAdd,
    responses(
        (status = 200, description = "Done: the new split", body = CollaboratorSplitView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`full_access_required`, with `asset_ids`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`assets_not_found` with `asset_ids`, or `user_not_found` naming the username", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many additions", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn bulk_add(
    http: HttpRequest,
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    body: ValidJson<BulkAdd>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(req) = body;
    let now = state.clock.now();
    let limit = state.user_limit.clone();
    let ip = limit.client_ip(&http);
    let view = state
        .db(move |db| {
            db.write(|c| {
                locks::assets_with_estates(c, &req.asset_ids, &[])?;
                let selection = bulk_access(c, &user, &req.asset_ids, now)?;
                require_verified(&user, SharingAction::Collaborator)?;
                let mut adding = Vec::with_capacity(req.usernames.len());
                for name in &req.usernames {
                    // Every username looked up spends one from the budget.
                    limit.check(user.id, ip)?;
                    let found = users::find_by_username(c, name.trim())?.ok_or_else(|| {
                        ApiError::not_found(
                            "user_not_found",
                            format!("No user is named {}.", name.trim()),
                        )
                        .with_extra("username", json!(name.trim()))
                    })?;
                    adding.push(found.id);
                }
                let pairs = keyholder_store::collaborators::collaborator_pairs(c, &selection)?;
                for (asset_id, user_id) in
                    collaborators::bulk_add_pairs(&selection, &pairs, &adding)
                {
                    keyholder_store::collaborators::add_collaborator(c, asset_id, user_id, now)?;
                    audit::record(
                        c,
                        &event(
                            &user,
                            Action::CollaboratorAdded,
                            asset_id,
                            None,
                            Some(json!({"user_id": user_id, "bulk": true})),
                        ),
                        now,
                    )?;
                }
                split_view(c, &selection)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Remove users from every selected asset. All or nothing; 409
/// `last_collaborator` names any asset that would be left with none.
#[utoipa::path(
    post, path = "/api/v1/collaborators/remove", tag = "collaborators", security(("bearer" = [])),
    request_body = BulkRemove,
    responses(
        (status = 200, description = "Done: the new split", body = CollaboratorSplitView),
        MalformedJson,
        Unauthorized,
        (status = 403, description = "`full_access_required`, with `asset_ids`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`assets_not_found`, with `asset_ids`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_collaborator`, with `asset_ids`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn bulk_remove(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    body: ValidJson<BulkRemove>,
) -> Result<HttpResponse, ApiError> {
    let ValidJson(req) = body;
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.write(|c| {
                locks::assets_with_estates(c, &req.asset_ids, &[])?;
                let selection = bulk_access(c, &user, &req.asset_ids, now)?;
                let pairs = keyholder_store::collaborators::collaborator_pairs(c, &selection)?;
                collaborators::check_bulk_remove(&selection, &pairs, &req.user_ids)
                    .map_err(|r| collaborator_refused(&r))?;
                for (asset_id, user_id) in pairs.iter().filter(|(_, u)| req.user_ids.contains(u)) {
                    keyholder_store::collaborators::remove_collaborator(c, *asset_id, *user_id)?;
                    let email = users::get(c, *user_id)?.email;
                    keyholder_store::invitations::cancel_to_email_on_assets(
                        c,
                        &[*asset_id],
                        &email,
                    )?;
                    audit::record(
                        c,
                        &event(
                            &user,
                            Action::CollaboratorRemoved,
                            *asset_id,
                            Some(json!({"user_id": user_id, "bulk": true})),
                            None,
                        ),
                        now,
                    )?;
                }
                split_view(c, &selection)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

endpoints![
    garage,
    create_asset,
    get_asset,
    update_asset,
    delete_asset,
    list_records,
    add_record,
    update_record,
    delete_record,
    list_photos,
    add_photo,
    delete_photo,
    list_collaborators,
    add_collaborator,
    remove_collaborator,
    collaborator_split,
    bulk_add,
    bulk_remove,
];
