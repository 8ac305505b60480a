//! Estates, their sites, Users & Permissions (estate roles and site
//! overrides). Every decision is the domain's; every change writes an audit
//! event in its transaction.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use keyholder_domain::estate::{
    self, EstateActor, EstateCapability, EstateMember, GrantRefusal, SiteCapability,
};
use keyholder_domain::values::Name;
use keyholder_domain::{EstateRole, SiteOverride, SiteRole};
use keyholder_store::DbConnection;
use keyholder_store::access;
use keyholder_store::audit::{self, NewAuditEvent};
use keyholder_store::estates::{self, Estate, Member, Site};
use keyholder_store::locks;
use keyholder_store::users::User;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::common::{
    Cursor, CursorPage, CursorQuery, Page, PageQuery, UserSummary, parse_field, refusal,
};
use crate::auth::{AuthUser, Caller, require_verified};
use crate::error::{ApiError, Problem};
use crate::extract::{ScopedJson, ValidJson, ValidQuery};
use crate::state::AppState;
use keyholder_domain::account::SharingAction;
use keyholder_store::paging::Window;

// ---------------------------------------------------------------- views

#[derive(Debug, Serialize, ToSchema)]
pub struct EstateView {
    pub id: Uuid,
    pub name: String,
    /// My estate role; null for a root user who is not a member.
    #[schema(schema_with = super::common::nullable_estate_role_schema)]
    pub my_role: Option<EstateRole>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EstateView {
    fn new(e: &Estate, my_role: Option<EstateRole>) -> Self {
        Self {
            id: e.id,
            name: e.name.clone(),
            my_role,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteView {
    pub id: Uuid,
    pub estate_id: Uuid,
    pub name: String,
    /// My effective role at this site.
    #[schema(schema_with = super::common::site_role_schema)]
    pub effective_role: SiteRole,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SiteView {
    fn new(s: &Site, effective_role: SiteRole) -> Self {
        Self {
            id: s.id,
            estate_id: s.estate_id,
            name: s.name.clone(),
            effective_role,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A member's access at one site.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberSite {
    pub site_id: Uuid,
    pub site_name: String,
    /// The site override, or null for the estate default.
    #[serde(rename = "override")]
    #[schema(schema_with = super::common::nullable_site_override_schema)]
    pub override_: Option<SiteOverride>,
    /// The role that applies (null: kept off the site).
    #[schema(schema_with = super::common::nullable_site_role_schema)]
    pub effective_role: Option<SiteRole>,
}

/// A row of Users & Permissions.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user: UserSummary,
    #[schema(schema_with = super::common::estate_role_schema)]
    pub role: EstateRole,
    pub sites: Vec<MemberSite>,
}

/// A member as seen from one site.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteMemberView {
    pub user: UserSummary,
    #[schema(schema_with = super::common::estate_role_schema)]
    pub estate_role: EstateRole,
    #[serde(rename = "override")]
    #[schema(schema_with = super::common::nullable_site_override_schema)]
    pub override_: Option<SiteOverride>,
    #[schema(schema_with = super::common::nullable_site_role_schema)]
    pub effective_role: Option<SiteRole>,
}

pub(crate) fn summary(m: &Member, show_email: bool) -> UserSummary {
    UserSummary {
        id: m.user_id,
        username: m.username.clone(),
        display_name: m.display_name.clone(),
        email: show_email.then(|| m.email.clone()),
    }
}

// ---------------------------------------------------------------- requests

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"name": "Riverside Estate"}))]
pub struct NameRequest {
    /// 1 to 200 characters.
    #[validate(length(max = 1000))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct TransferRequest {
    /// The member who becomes owner; the current owner becomes admin.
    pub user_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SiteRoleEntry {
    pub site_id: Uuid,
    #[schema(schema_with = super::common::site_override_schema)]
    pub role: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"role": "editor", "sites": [{"site_id": "6f1c2d4e-0000-4000-8000-000000000001", "role": "admin"}]}))]
pub struct SetMemberRequest {
    #[schema(schema_with = super::common::estate_role_schema)]
    pub role: String,
    /// When present, replaces all of this member's site overrides.
    pub sites: Option<Vec<SiteRoleEntry>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"role": "none"}))]
pub struct SetOverrideRequest {
    #[schema(schema_with = super::common::site_override_schema)]
    pub role: String,
}

// ---------------------------------------------------------------- access

pub(crate) struct EstateAccess {
    pub(crate) estate: Estate,
    pub(crate) role: Option<EstateRole>,
    pub(crate) actor: EstateActor,
}

impl EstateAccess {
    fn can(&self, cap: EstateCapability) -> bool {
        self.actor.is_root || estate::estate_can(self.role, cap)
    }

    fn require(&self, cap: EstateCapability, what: &str) -> Result<(), ApiError> {
        if self.can(cap) {
            return Ok(());
        }
        let needed = match cap {
            EstateCapability::Read => "any estate role",
            EstateCapability::EditContent => "the editor role or above",
            EstateCapability::Delete | EstateCapability::TransferOwnership => "the owner role",
            _ => "the admin or owner role",
        };
        Err(ApiError::forbidden(
            "insufficient_role",
            format!("{what} needs {needed} in this estate."),
        ))
    }
}

pub(crate) fn not_found_estate() -> ApiError {
    ApiError::not_found("estate_not_found", "No such estate.")
}

fn not_found_site() -> ApiError {
    ApiError::not_found("site_not_found", "No such site.")
}

pub(crate) fn grant_refused(r: GrantRefusal) -> ApiError {
    refusal(r.kind(), r.code(), r.detail())
}

/// The caller and the estate as they may see it, from one statement.
pub(crate) fn caller_estate(
    c: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<(User, EstateAccess), ApiError> {
    let (user, found) = caller.admit_read(access::estate(c, caller.id, id)?)?;
    let access = estate_seen_by(&user, found)?;
    Ok((user, access))
}

fn estate_seen_by(
    user: &User,
    found: Option<(Estate, Option<EstateRole>)>,
) -> Result<EstateAccess, ApiError> {
    let (estate, role) = found.ok_or_else(not_found_estate)?;
    if role.is_none() && !user.is_root {
        return Err(not_found_estate());
    }
    let actor = EstateActor {
        user_id: user.id,
        is_root: user.is_root,
        role,
    };
    Ok(EstateAccess {
        estate,
        role,
        actor,
    })
}

struct SiteAccess {
    site: Site,
    estate_role: Option<EstateRole>,
    effective: Option<SiteRole>,
    actor: EstateActor,
}

impl SiteAccess {
    fn can(&self, cap: SiteCapability) -> bool {
        self.actor.is_root || estate::site_can(self.effective, cap)
    }
}

/// The caller and the site as they may see it, from one statement: 404
/// when not a member, or kept off it.
fn caller_site(
    c: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<(User, SiteAccess), ApiError> {
    let (user, found) = caller.admit_read(access::site(c, caller.id, id)?)?;
    let (site, estate_role, over) = found.ok_or_else(not_found_site)?;
    let effective = estate::effective_site_role_of(estate_role, over);
    if effective.is_none() && !user.is_root {
        return Err(not_found_site());
    }
    let actor = EstateActor {
        user_id: user.id,
        is_root: user.is_root,
        role: estate_role,
    };
    Ok((
        user,
        SiteAccess {
            site,
            estate_role,
            effective,
            actor,
        },
    ))
}

pub(crate) fn event(
    actor: &User,
    action: &'static str,
    target_type: &'static str,
    target_id: impl ToString,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> NewAuditEvent<'static> {
    NewAuditEvent {
        actor_id: Some(actor.id),
        action,
        target_type,
        target_id: target_id.to_string(),
        before,
        after,
    }
}

fn parse_name(name: &str) -> Result<Name, ApiError> {
    Name::parse(name).map_err(|e| ApiError::field("name", e.to_string()))
}

// ---------------------------------------------------------------- estates

/// Create an estate; I become its owner.
#[utoipa::path(
    post, path = "/api/v1/estates", tag = "estates", security(("bearer" = [])),
    request_body = NameRequest,
    responses(
        (status = 201, description = "Created", body = EstateView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`email_not_verified`: verify your email first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_estate(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    body: ValidJson<NameRequest>,
) -> Result<HttpResponse, ApiError> {
    require_verified(&user, SharingAction::CreateEstate)?;
    let name = parse_name(&body.name)?;
    let now = state.clock.now();
    let estate = state
        .db(move |db| {
            db.write(|c| {
                let e = estates::create(c, name.as_str(), user.id, now)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        "estate.created",
                        "estate",
                        e.id,
                        None,
                        Some(json!({"name": e.name, "owner_id": user.id})),
                    ),
                    now,
                )?;
                Ok::<_, ApiError>(e)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(EstateView::new(&estate, Some(EstateRole::Owner))))
}

/// Estates I belong to, newest first, each with my role.
#[utoipa::path(
    get, path = "/api/v1/estates", tag = "estates", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "My estates", body = Page<EstateView>),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad paging", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_estates(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, offset) = (q.per_page(), q.offset());
    let (rows, total) = state
        .db(move |db| db.read(|c| estates::list_for_user(c, user.id, user.is_root, limit, offset)))
        .await?;
    let items = rows.iter().map(|(e, r)| EstateView::new(e, *r)).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, total, &q)))
}

/// Read an estate.
#[utoipa::path(
    get, path = "/api/v1/estates/{estate_id}", tag = "estates", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The estate", body = EstateView),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate, or not a member", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_estate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (_, access) = state
        .read_one(move |c| caller_estate(c, &caller, id))
        .await?;
    Ok(HttpResponse::Ok().json(EstateView::new(&access.estate, access.role)))
}

/// Rename an estate (admin or owner).
#[utoipa::path(
    patch, path = "/api/v1/estates/{estate_id}", tag = "estates", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path)), request_body = NameRequest,
    responses(
        (status = 200, description = "Renamed", body = EstateView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_role`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rename_estate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ScopedJson<NameRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.write(|c| {
                let (user, access) = caller_estate(c, &caller, id)?;
                access.require(EstateCapability::Manage, "Renaming an estate")?;
                let NameRequest { name } = body.after_authorization()?;
                let name = parse_name(&name)?;
                estates::rename(c, id, name.as_str(), now)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        "estate.renamed",
                        "estate",
                        id,
                        Some(json!({"name": access.estate.name})),
                        Some(json!({"name": name.as_str()})),
                    ),
                    now,
                )?;
                let estate = estates::get(c, id)?.ok_or_else(not_found_estate)?;
                Ok::<_, ApiError>(EstateView::new(&estate, access.role))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Delete an estate with its sites, memberships and invitations (owner only).
#[utoipa::path(
    delete, path = "/api/v1/estates/{estate_id}", tag = "estates", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_role`: only the owner deletes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`estate_has_assets`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_estate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                locks::estate(c, id)?;
                let (user, access) = caller_estate(c, &caller, id)?;
                access.require(EstateCapability::Delete, "Deleting an estate")?;
                let placed = keyholder_store::assets::count_in_estate(c, id)?;
                if placed > 0 {
                    return Err(ApiError::conflict(
                        "estate_has_assets",
                        format!(
                            "{placed} assets are placed in this estate; move or delete them first."
                        ),
                    ));
                }
                estates::delete(c, id)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        "estate.deleted",
                        "estate",
                        id,
                        Some(json!({"name": access.estate.name})),
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

/// Transfer ownership to another member (owner only); I become admin.
#[utoipa::path(
    post, path = "/api/v1/estates/{estate_id}/transfer-ownership", tag = "estates", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path)), request_body = TransferRequest,
    responses(
        (status = 200, description = "Transferred; my new role is admin", body = EstateView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_role` or `self_role_change`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body, or `not_a_member`: the user is not a member", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn transfer_ownership(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ScopedJson<TransferRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = body.after_authorization();
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.write(|c| {
                locks::estate(c, id)?;
                let (user, access) = caller_estate(c, &caller, id)?;
                access.require(
                    EstateCapability::TransferOwnership,
                    "Transferring ownership",
                )?;
                require_verified(&user, SharingAction::EstateGrant)?;
                let new_owner = body?.user_id;
                let target_role = estates::member_role(c, id, new_owner)?;
                estate::check_transfer_ownership(&access.actor, new_owner, target_role).map_err(
                    |r| match r {
                        // The body names someone outside the estate: invalid input.
                        GrantRefusal::NotAMember => {
                            ApiError::field("user_id", "is not a member of this estate")
                                .with_code("not_a_member")
                        }
                        other => grant_refused(other),
                    },
                )?;
                let old_owner = estates::owner_of(c, id)?;
                if let Some(old) = old_owner {
                    estates::set_role(c, id, old, estate::FORMER_OWNER_ROLE, now)?;
                }
                estates::delete_overrides(c, id, new_owner)?;
                estates::set_role(c, id, new_owner, EstateRole::Owner, now)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        "estate.ownership_transferred",
                        "estate",
                        id,
                        Some(json!({"owner_id": old_owner})),
                        Some(json!({"owner_id": new_owner})),
                    ),
                    now,
                )?;
                let (estate, role) =
                    estates::get_for_user(c, id, user.id)?.ok_or_else(not_found_estate)?;
                Ok::<_, ApiError>(EstateView::new(&estate, role))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

// ---------------------------------------------------------------- sites

/// Sites of an estate that I can see, newest first, with my effective role.
#[utoipa::path(
    get, path = "/api/v1/estates/{estate_id}/sites", tag = "sites", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path), PageQuery),
    responses(
        (status = 200, description = "Sites", body = Page<SiteView>),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad paging", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_sites(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (limit, offset) = (q.per_page(), q.offset());
    let (items, total) = state
        .db(move |db| {
            db.run(|c| {
                let (user, access) = caller_estate(c, &caller, id)?;
                let (rows, total) = estates::sites_for_member(c, id, user.id, limit, offset)?;
                let items = rows
                    .iter()
                    .filter_map(|(s, o)| {
                        let effective = if access.role.is_none() {
                            Some(SiteRole::Admin) // root
                        } else {
                            estate::effective_site_role_of(access.role, *o)
                        };
                        effective.map(|r| SiteView::new(s, r))
                    })
                    .collect::<Vec<_>>();
                Ok::<_, ApiError>((items, total))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(items, total, &q)))
}

/// Create a site (estate admin or owner).
#[utoipa::path(
    post, path = "/api/v1/estates/{estate_id}/sites", tag = "sites", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path)), request_body = NameRequest,
    responses(
        (status = 201, description = "Created", body = SiteView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_role`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_site(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ScopedJson<NameRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.write(|c| {
                locks::estate(c, id)?;
                let (user, access) = caller_estate(c, &caller, id)?;
                access.require(EstateCapability::Manage, "Creating a site")?;
                let NameRequest { name } = body.after_authorization()?;
                let name = parse_name(&name)?;
                let site = estates::create_site(c, id, name.as_str(), now)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        "site.created",
                        "site",
                        site.id,
                        None,
                        Some(json!({"name": site.name, "estate_id": id})),
                    ),
                    now,
                )?;
                Ok::<_, ApiError>(SiteView::new(&site, SiteRole::Admin))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Read a site.
#[utoipa::path(
    get, path = "/api/v1/sites/{site_id}", tag = "sites", security(("bearer" = [])),
    params(("site_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The site", body = SiteView),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site, or kept off it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_site(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (_, access) = state.read_one(move |c| caller_site(c, &caller, id)).await?;
    let role = access.effective.unwrap_or(SiteRole::Admin);
    Ok(HttpResponse::Ok().json(SiteView::new(&access.site, role)))
}

/// Rename a site (site admin).
#[utoipa::path(
    patch, path = "/api/v1/sites/{site_id}", tag = "sites", security(("bearer" = [])),
    params(("site_id" = Uuid, Path)), request_body = NameRequest,
    responses(
        (status = 200, description = "Renamed", body = SiteView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_role`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rename_site(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ScopedJson<NameRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.write(|c| {
                let (user, access) = caller_site(c, &caller, id)?;
                if !access.can(SiteCapability::ManageMembers) {
                    return Err(ApiError::forbidden(
                        "insufficient_role",
                        "Renaming a site needs the site admin role.",
                    ));
                }
                let NameRequest { name } = body.after_authorization()?;
                let name = parse_name(&name)?;
                estates::rename_site(c, id, name.as_str(), now)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        "site.renamed",
                        "site",
                        id,
                        Some(json!({"name": access.site.name})),
                        Some(json!({"name": name.as_str()})),
                    ),
                    now,
                )?;
                let mut site = access.site.clone();
                site.name = name.as_str().to_owned();
                site.updated_at = now;
                Ok(SiteView::new(
                    &site,
                    access.effective.unwrap_or(SiteRole::Admin),
                ))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Delete a site (estate admin or owner).
#[utoipa::path(
    delete, path = "/api/v1/sites/{site_id}", tag = "sites", security(("bearer" = [])),
    params(("site_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_role`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`site_has_assets`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_site(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                let estate_id = caller_site(c, &caller, id)?.1.site.estate_id;
                locks::estate(c, estate_id)?;
                let (user, access) = caller_site(c, &caller, id)?;
                if !(user.is_root
                    || estate::estate_can(access.estate_role, EstateCapability::Manage))
                {
                    return Err(ApiError::forbidden(
                        "insufficient_role",
                        "Deleting a site needs the estate admin or owner role.",
                    ));
                }
                let placed = keyholder_store::assets::count_at_site(c, id)?;
                if placed > 0 {
                    return Err(ApiError::conflict(
                        "site_has_assets",
                        format!(
                            "{placed} assets are placed at this site; move or delete them first."
                        ),
                    ));
                }
                estates::delete_site(c, id)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        "site.deleted",
                        "site",
                        id,
                        Some(json!({"name": access.site.name, "estate_id": access.site.estate_id})),
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

// ---------------------------------------------------------------- members

/// The caller's effective role at each site of the estate.
fn actor_site_roles(
    c: &mut DbConnection,
    estate_id: Uuid,
    actor: &EstateActor,
) -> Result<HashMap<Uuid, SiteRole>, ApiError> {
    let overrides: HashMap<Uuid, SiteOverride> =
        estates::overrides_of(c, estate_id, actor.user_id)?
            .into_iter()
            .collect();
    let mut roles = HashMap::new();
    for site in estates::all_sites(c, estate_id)? {
        if let Some(r) =
            estate::effective_site_role_of(actor.role, overrides.get(&site.id).copied())
        {
            roles.insert(site.id, r);
        }
    }
    Ok(roles)
}

/// Users & Permissions: members with their estate role and, per site, the
/// override and the effective role.
#[utoipa::path(
    get, path = "/api/v1/estates/{estate_id}/members", tag = "members", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path), CursorQuery),
    responses(
        (status = 200, description = "Members, oldest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<MemberView>),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad paging", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    ValidQuery(q): ValidQuery<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let list = state
        .db(move |db| {
            db.run(|c| {
                let (user, access) = caller_estate(c, &caller, id)?;
                let show_email = estate::administers_estate(user.is_root, access.role);
                let page = estates::members(c, id, &member_window(&q)?)?;
                let next = page.items.last().filter(|_| page.more).map(member_cursor);
                let (members, counted) = (page.items, page.counted);
                let mut sites = estates::all_sites(c, id)?;
                if !show_email {
                    // A member sees only the sites they may see themselves.
                    let mine = actor_site_roles(c, id, &access.actor)?;
                    sites.retain(|s| mine.contains_key(&s.id));
                }
                let ids: Vec<Uuid> = members.iter().map(|m| m.user_id).collect();
                let overrides: HashMap<(Uuid, Uuid), SiteOverride> =
                    estates::overrides_for_members(c, id, &ids)?
                        .into_iter()
                        .map(|(s, u, o)| ((s, u), o))
                        .collect();
                let items = members
                    .iter()
                    .map(|m| MemberView {
                        user: summary(m, show_email),
                        role: m.role,
                        sites: sites
                            .iter()
                            .map(|s| {
                                let o = overrides.get(&(s.id, m.user_id)).copied();
                                MemberSite {
                                    site_id: s.id,
                                    site_name: s.name.clone(),
                                    override_: o,
                                    effective_role: estate::effective_site_role(m.role, o),
                                }
                            })
                            .collect(),
                    })
                    .collect::<Vec<_>>();
                Ok::<_, ApiError>(CursorPage::new(items, counted, &q, next))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The cursor after a member in the member lists: the joining instant and
/// the canonical username (the order), and the user's id.
fn member_cursor(m: &estates::Member) -> Cursor {
    let at = Cursor::at(m.since, m.user_id).key.unwrap_or_default();
    Cursor::new(
        Some(format!("{at}/{}", m.username.to_lowercase())),
        m.user_id,
    )
}

/// The window of a member list page (422 `cursor` for a cursor that is
/// not a member list's).
fn member_window(q: &CursorQuery) -> Result<Window<estates::MemberKey>, ApiError> {
    let after = match q.after()? {
        None => None,
        Some(cursor) => {
            let (at, name) = cursor
                .text()?
                .split_once('/')
                .ok_or_else(|| ApiError::field("cursor", "not a cursor this list gave out"))?;
            let at = Cursor::new(Some(at.to_owned()), cursor.id).instant()?;
            Some(((at, name.to_owned()), cursor.id))
        }
    };
    Ok(Window {
        limit: q.per_page(),
        offset: q.offset(),
        after,
    })
}

/// Set a member's estate role and, with `sites`, replace their site
/// overrides, in one all-or-nothing save.
#[utoipa::path(
    put, path = "/api/v1/estates/{estate_id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = SetMemberRequest,
    responses(
        (status = 200, description = "Saved", body = MemberView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A grant rule refuses: `self_role_change`, `owner_transfer_required`, `cannot_grant_role`, `cannot_change_member`, `cannot_replace_override`, `site_admin_scope`, `insufficient_role`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate, member (`not_a_member`) or site", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role, `no_override_for_admins` or `duplicate_site`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: ScopedJson<SetMemberRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, target_id) = path.into_inner();
    let now = state.clock.now();
    let req = body;
    let view = state
        .db(move |db| {
            db.write(|c| {
                locks::estate(c, id)?;
                let (user, access) = caller_estate(c, &caller, id)?;
                let current = estates::member_role(c, id, target_id)?
                    .ok_or_else(|| grant_refused(GrantRefusal::NotAMember))?;
                let target = EstateMember { user_id: target_id, role: current };
                // Authority first: an unchanged save or a bad body from
                // someone who may not edit this member is a 403.
                let actor_roles = actor_site_roles(c, id, &access.actor)?;
                estate::check_edit_member(&access.actor, actor_roles.values().any(|r| *r == SiteRole::Admin), &target)
                    .map_err(grant_refused)?;
                require_verified(&user, SharingAction::EstateGrant)?;
                let req = req.after_authorization()?;
                let new_role: EstateRole = parse_field("role", &req.role)?;
                let requested = req
                    .sites
                    .as_ref()
                    .map(|entries| {
                        entries
                            .iter()
                            .enumerate()
                            .map(|(i, e)| Ok((e.site_id, parse_field::<SiteOverride>(&format!("sites[{i}].role"), &e.role)?)))
                            .collect::<Result<Vec<_>, ApiError>>()
                    })
                    .transpose()?;
                if new_role != current {
                    estate::check_set_estate_role(&access.actor, &target, new_role).map_err(grant_refused)?;
                }
                let before_overrides = estates::overrides_of(c, id, target_id)?;
                if let Some(requested) = &requested {
                    let sites: Vec<Uuid> = estates::all_sites(c, id)?.iter().map(|s| s.id).collect();
                    if let Some((missing, _)) = requested.iter().find(|(s, _)| !sites.contains(s)) {
                        return Err(ApiError::not_found("site_not_found", format!("The site {missing} is not in this estate.")));
                    }
                    let after = EstateMember { user_id: target_id, role: new_role };
                    estate::check_replace_overrides(&access.actor, |s| actor_roles.get(&s).copied(), &after, &before_overrides, requested)
                        .map_err(grant_refused)?;
                }
                if new_role != current {
                    estates::set_role(c, id, target_id, new_role, now)?;
                }
                if estate::promotion_drops_overrides(new_role) {
                    estates::delete_overrides(c, id, target_id)?;
                } else if let Some(requested) = &requested {
                    estates::delete_overrides(c, id, target_id)?;
                    for (site, o) in requested {
                        estates::set_override(c, id, *site, target_id, Some(*o), now)?;
                    }
                }
                let after_overrides = estates::overrides_of(c, id, target_id)?;
                let fmt = |v: &[(Uuid, SiteOverride)]| -> serde_json::Value {
                    v.iter().map(|(s, o)| (s.to_string(), json!(o.as_str()))).collect::<serde_json::Map<_, _>>().into()
                };
                if new_role != current || before_overrides != after_overrides {
                    audit::record(
                        c,
                        &event(
                            &user,
                            "member.updated",
                            "estate",
                            id,
                            Some(json!({"user_id": target_id, "role": current, "sites": fmt(&before_overrides)})),
                            Some(json!({"user_id": target_id, "role": new_role, "sites": fmt(&after_overrides)})),
                        ),
                        now,
                    )?;
                }
                member_view(c, &access, id, target_id)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub(crate) fn member_view(
    c: &mut DbConnection,
    access: &EstateAccess,
    estate_id: Uuid,
    user_id: Uuid,
) -> Result<MemberView, ApiError> {
    let show_email = estate::administers_estate(access.actor.is_root, access.role);
    let m = estates::member(c, estate_id, user_id)?
        .ok_or_else(|| grant_refused(GrantRefusal::NotAMember))?;
    let overrides: HashMap<Uuid, SiteOverride> = estates::overrides_of(c, estate_id, user_id)?
        .into_iter()
        .collect();
    let mine = if show_email {
        None
    } else {
        Some(actor_site_roles(c, estate_id, &access.actor)?)
    };
    let sites = estates::all_sites(c, estate_id)?
        .iter()
        .filter(|s| mine.as_ref().is_none_or(|m| m.contains_key(&s.id)))
        .map(|s| {
            let o = overrides.get(&s.id).copied();
            MemberSite {
                site_id: s.id,
                site_name: s.name.clone(),
                override_: o,
                effective_role: estate::effective_site_role(m.role, o),
            }
        })
        .collect();
    Ok(MemberView {
        user: summary(&m, show_email),
        role: m.role,
        sites,
    })
}

/// Remove a member (their site overrides go too); removing myself is leaving.
#[utoipa::path(
    delete, path = "/api/v1/estates/{estate_id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("estate_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`owner_transfer_required`, `cannot_change_member` or `insufficient_role`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate or member", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, target_id) = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                locks::estate(c, id)?;
                let (user, access) = caller_estate(c, &caller, id)?;
                let role = estates::member_role(c, id, target_id)?
                    .ok_or_else(|| grant_refused(GrantRefusal::NotAMember))?;
                let target = EstateMember { user_id: target_id, role };
                let action = if target_id == user.id {
                    estate::check_leave(&target).map_err(grant_refused)?;
                    "member.left"
                } else {
                    estate::check_remove_member(&access.actor, &target).map_err(grant_refused)?;
                    "member.removed"
                };
                let overrides = estates::overrides_of(c, id, target_id)?;
                estates::remove_member(c, id, target_id)?;
                // Access does not outlive membership.
                let (collaborations, shares) = keyholder_store::assets::drop_estate_access(c, id, target_id)?;
                // Nor may a pending invitation give it back, or one the
                // removed member sent still grant after they are gone.
                let email = keyholder_store::users::get(c, target_id)?.email;
                let invitations = keyholder_store::invitations::cancel_after_removal(c, id, target_id, &email)?;
                audit::record(
                    c,
                    &event(&user, action, "estate", id, Some(json!({"user_id": target_id, "role": role, "site_overrides": overrides.len(), "asset_collaborations": collaborations, "asset_shares": shares, "invitations_cancelled": invitations})), None),
                    now,
                )?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Members of the estate as seen from one site: estate role, override and
/// effective role here.
#[utoipa::path(
    get, path = "/api/v1/sites/{site_id}/members", tag = "members", security(("bearer" = [])),
    params(("site_id" = Uuid, Path), CursorQuery),
    responses(
        (status = 200, description = "Members at the site, oldest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<SiteMemberView>),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad paging", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_site_members(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    ValidQuery(q): ValidQuery<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let list = state
        .db(move |db| {
            db.run(|c| {
                let (user, access) = caller_site(c, &caller, id)?;
                let show_email = estate::administers_site(user.is_root, access.effective);
                let window = member_window(&q)?;
                let page = estates::site_members(c, access.site.estate_id, id, &window)?;
                let next = page
                    .items
                    .last()
                    .filter(|_| page.more)
                    .map(|(m, _)| member_cursor(m));
                let items = page
                    .items
                    .iter()
                    .map(|(m, o)| SiteMemberView {
                        user: summary(m, show_email),
                        estate_role: m.role,
                        override_: *o,
                        effective_role: estate::effective_site_role(m.role, *o),
                    })
                    .collect::<Vec<_>>();
                Ok::<_, ApiError>(CursorPage::new(items, page.counted, &q, next))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

async fn change_override(
    state: web::Data<AppState>,
    caller: Caller,
    site_id: Uuid,
    target_id: Uuid,
    value: Option<Result<String, ApiError>>,
) -> Result<SiteMemberView, ApiError> {
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                let estate_id = caller_site(c, &caller, site_id)?.1.site.estate_id;
                locks::estate(c, estate_id)?;
                // Read again under the lock: the checks see settled roles.
                let (user, access) = caller_site(c, &caller, site_id)?;
                let role = estates::member_role(c, estate_id, target_id)?
                    .ok_or_else(|| grant_refused(GrantRefusal::NotAMember))?;
                let current = estates::overrides_of(c, estate_id, target_id)?
                    .into_iter()
                    .find(|(s, _)| *s == site_id)
                    .map(|(_, o)| o);
                let target = EstateMember {
                    user_id: target_id,
                    role,
                };
                let new = match value
                    .map(|v| v.and_then(|v| parse_field::<SiteOverride>("role", &v)))
                    .transpose()
                {
                    Ok(new) => new,
                    Err(invalid) => {
                        // 403 before 422: only someone who may change this
                        // override hears that the value is invalid.
                        estate::check_set_override(
                            &access.actor,
                            access.effective,
                            &target,
                            current,
                            None,
                        )
                        .map_err(grant_refused)?;
                        return Err(invalid);
                    }
                };
                estate::check_set_override(&access.actor, access.effective, &target, current, None)
                    .map_err(grant_refused)?;
                require_verified(&user, SharingAction::EstateGrant)?;
                estate::check_set_override(&access.actor, access.effective, &target, current, new)
                    .map_err(grant_refused)?;
                estates::set_override(c, estate_id, site_id, target_id, new, now)?;
                if current != new {
                    audit::record(
                        c,
                        &event(
                            &user,
                            if new.is_some() {
                                "site_override.set"
                            } else {
                                "site_override.cleared"
                            },
                            "site",
                            site_id,
                            Some(json!({"user_id": target_id, "override": current})),
                            Some(json!({"user_id": target_id, "override": new})),
                        ),
                        now,
                    )?;
                }
                let m = estates::member(c, estate_id, target_id)?
                    .ok_or_else(|| grant_refused(GrantRefusal::NotAMember))?;
                Ok::<_, ApiError>(SiteMemberView {
                    user: summary(&m, true),
                    estate_role: m.role,
                    override_: new,
                    effective_role: estate::effective_site_role(m.role, new),
                })
            })
        })
        .await
}

/// Set a member's override at this site (`none` keeps them off it).
#[utoipa::path(
    put, path = "/api/v1/sites/{site_id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("site_id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = SetOverrideRequest,
    responses(
        (status = 200, description = "Saved", body = SiteMemberView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A grant rule refuses, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site or member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role or `no_override_for_admins`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set_site_override(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: ScopedJson<SetOverrideRequest>,
) -> Result<HttpResponse, ApiError> {
    let (site_id, target) = path.into_inner();
    let role = body
        .after_authorization()
        .map(|SetOverrideRequest { role }| role);
    let view = change_override(state, caller, site_id, target, Some(role)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Clear a member's override at this site: back to the estate default.
#[utoipa::path(
    delete, path = "/api/v1/sites/{site_id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("site_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Cleared", body = SiteMemberView),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A grant rule refuses, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site or member", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn clear_site_override(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (site_id, target) = path.into_inner();
    let view = change_override(state, caller, site_id, target, None).await?;
    Ok(HttpResponse::Ok().json(view))
}
