//! Households: every non-root user heads one; members inherit the assets on
//! which their head is a collaborator, at their role's level.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use keyholder_domain::HouseholdRole;
use keyholder_domain::household::{self, AddMemberFacts, HouseholdRefusal, HouseholdUser};
use keyholder_store::assets::{self, Person};
use keyholder_store::audit::{self, NewAuditEvent};
use keyholder_store::locks;
use keyholder_store::users::{self, User};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::assets::person;
use crate::auth::{AuthUser, require_verified};
use crate::error::{ApiError, Problem};
use crate::extract::ValidJson;
use crate::state::AppState;
use crate::views::common::{UserSummary, parse_field, refusal};
use keyholder_domain::account::SharingAction;

fn role_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["viewer", "editor", "manager"]))
        .into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdMemberView {
    pub user: UserSummary,
    #[schema(schema_with = role_schema)]
    pub role: HouseholdRole,
    pub added_at: DateTime<Utc>,
}

/// My household.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdView {
    pub head: UserSummary,
    pub members: Vec<HouseholdMemberView>,
}

/// A household I belong to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    pub head: UserSummary,
    #[schema(schema_with = role_schema)]
    pub role: HouseholdRole,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"username": "test3", "role": "editor"}))]
pub struct AddMemberRequest {
    #[validate(length(max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    #[schema(schema_with = role_schema)]
    pub role: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ChangeRoleRequest {
    #[schema(schema_with = role_schema)]
    pub role: String,
}

fn refused(r: HouseholdRefusal) -> ApiError {
    refusal(r.kind(), r.code(), r.detail())
}

fn me_summary(user: &User) -> UserSummary {
    UserSummary {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        email: Some(user.email.clone()),
    }
}

fn event(
    user: &User,
    action: &'static str,
    head: Uuid,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> NewAuditEvent<'static> {
    NewAuditEvent {
        actor_id: Some(user.id),
        action,
        target_type: "household",
        target_id: head.to_string(),
        before,
        after,
    }
}

fn members_view(
    c: &mut keyholder_store::DbConnection,
    user: &User,
) -> Result<HouseholdView, ApiError> {
    let members = assets::household(c, user.id)?
        .iter()
        .map(|(p, role, at)| HouseholdMemberView {
            user: person(p, false),
            role: *role,
            added_at: *at,
        })
        .collect();
    Ok(HouseholdView {
        head: me_summary(user),
        members,
    })
}

/// My household and its members.
#[utoipa::path(
    get, path = "/api/v1/household", tag = "households", security(("bearer" = [])),
    responses(
        (status = 200, description = "My household", body = HouseholdView),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`root_has_no_household`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_household(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
) -> Result<HttpResponse, ApiError> {
    if user.is_root {
        return Err(refused(HouseholdRefusal::RootHasNoHousehold));
    }
    let view = state
        .db(move |db| db.read(|c| members_view(c, &user)))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Add a member to my household by exact username, with a role.
#[utoipa::path(
    post, path = "/api/v1/household/members", tag = "households", security(("bearer" = [])),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added", body = HouseholdMemberView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`email_not_verified`: verify your email first", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found` naming the username, or `root_has_no_household`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_member` or `mutual_membership`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role, `own_household` or `root_cannot_be_member`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many additions", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_member(
    http: HttpRequest,
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    body: ValidJson<AddMemberRequest>,
) -> Result<HttpResponse, ApiError> {
    if user.is_root {
        return Err(refused(HouseholdRefusal::RootHasNoHousehold));
    }
    require_verified(&user, SharingAction::HouseholdMember)?;
    let ValidJson(req) = body;
    let now = state.clock.now();
    let limit = state.user_limit.clone();
    let ip = limit.client_ip(&http);
    let view = state
        .db(move |db| {
            db.write(|c| {
                limit.check(user.id, ip)?;
                let found = users::find_by_username(c, req.username.trim())?.ok_or_else(|| {
                    ApiError::not_found(
                        "user_not_found",
                        format!("No user is named {}.", req.username.trim()),
                    )
                    .with_extra("username", json!(req.username.trim()))
                })?;
                let role: HouseholdRole = parse_field("role", &req.role)?;
                // Both households are read below (mutual membership is
                // refused): lock both users, in id order, before reading.
                locks::users(c, &[user.id, found.id])?;
                let facts = AddMemberFacts {
                    already_member: assets::household_role(c, user.id, found.id)?.is_some(),
                    head_is_member_of_candidate: assets::household_role(c, found.id, user.id)?
                        .is_some(),
                };
                household::validate_add_member(
                    HouseholdUser {
                        id: user.id,
                        is_root: user.is_root,
                    },
                    HouseholdUser {
                        id: found.id,
                        is_root: found.is_root,
                    },
                    facts,
                )
                .map_err(refused)?;
                assets::add_household_member(c, user.id, found.id, role, now)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        "household.member_added",
                        user.id,
                        None,
                        Some(json!({"user_id": found.id, "role": role})),
                    ),
                    now,
                )?;
                let p = Person {
                    id: found.id,
                    username: found.username,
                    display_name: found.display_name,
                    email: found.email,
                };
                Ok::<_, ApiError>(HouseholdMemberView {
                    user: person(&p, false),
                    role,
                    added_at: now,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Change a member's role in my household.
#[utoipa::path(
    patch, path = "/api/v1/household/members/{user_id}", tag = "households", security(("bearer" = [])),
    params(("user_id" = Uuid, Path)), request_body = ChangeRoleRequest,
    responses(
        (status = 200, description = "Changed", body = HouseholdView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_household_member`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_role(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    path: web::Path<Uuid>,
    body: ValidJson<ChangeRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let member = path.into_inner();
    let ValidJson(req) = body;
    let now = state.clock.now();
    let view = state
        .db(move |db| {
            db.write(|c| {
                let current = assets::household_role(c, user.id, member)?;
                household::check_change_role(user.id, user.id, current.is_some())
                    .map_err(refused)?;
                let role: HouseholdRole = parse_field("role", &req.role)?;
                assets::set_household_role(c, user.id, member, role)?;
                if current != Some(role) {
                    audit::record(
                        c,
                        &event(
                            &user,
                            "household.role_changed",
                            user.id,
                            Some(json!({"user_id": member, "role": current})),
                            Some(json!({"user_id": member, "role": role})),
                        ),
                        now,
                    )?;
                }
                members_view(c, &user)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Remove a member from my household.
#[utoipa::path(
    delete, path = "/api/v1/household/members/{user_id}", tag = "households", security(("bearer" = [])),
    params(("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_household_member`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_member(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let member = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                let current = assets::household_role(c, user.id, member)?;
                household::check_manage_member(user.id, user.id, member, current.is_some())
                    .map_err(refused)?;
                assets::remove_household_member(c, user.id, member)?;
                audit::record(
                    c,
                    &event(
                        &user,
                        "household.member_removed",
                        user.id,
                        Some(json!({"user_id": member, "role": current})),
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

/// Households I belong to, with my role in each.
#[utoipa::path(
    get, path = "/api/v1/households", tag = "households", security(("bearer" = [])),
    responses(
        (status = 200, description = "My memberships", body = Vec<MembershipView>),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_memberships(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
) -> Result<HttpResponse, ApiError> {
    let items = state
        .db(move |db| {
            db.read(|c| {
                Ok::<_, ApiError>(
                    assets::households_of(c, user.id)?
                        .iter()
                        .map(|(p, role, at)| MembershipView {
                            head: person(p, false),
                            role: *role,
                            added_at: *at,
                        })
                        .collect::<Vec<_>>(),
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(items))
}

/// Leave a household.
#[utoipa::path(
    delete, path = "/api/v1/households/{head_id}/membership", tag = "households", security(("bearer" = [])),
    params(("head_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Left"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_household_member`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn leave(
    state: web::Data<AppState>,
    AuthUser(user): AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let head = path.into_inner();
    let now = state.clock.now();
    state
        .db(move |db| {
            db.write(|c| {
                let current = assets::household_role(c, head, user.id)?;
                household::check_manage_member(user.id, head, user.id, current.is_some())
                    .map_err(refused)?;
                assets::remove_household_member(c, head, user.id)?;
                audit::record(
                    c,
                    &NewAuditEvent {
                        actor_id: Some(user.id),
                        action: "household.member_left",
                        target_type: "household",
                        target_id: head.to_string(),
                        before: Some(json!({"user_id": user.id, "role": current})),
                        after: None,
                    },
                    now,
                )?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
