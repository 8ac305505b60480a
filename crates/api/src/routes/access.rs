//! "Why can this person (not) do this?": the explain endpoint, who has access
//! to an asset, and the audit trail. Explain runs the same domain resolution
//! as the access checks, so the two cannot disagree.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use keyholder_store::audit::{self, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::AuthUser;
use crate::ctx::Ctx;
use crate::error::{ApiError, Problem};
use crate::extract::ValidQuery;
use crate::ops::explain::{self, Explain};
use crate::state::AppState;
use crate::views::access::{AccessEntry, Explanation};
use crate::views::common::{Cursor, CursorPage, CursorQuery};
use keyholder_store::paging::Window;

// ---------------------------------------------------------------- views

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    pub id: Uuid,
    pub username: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTarget {
    #[serde(rename = "type")]
    #[schema(example = "asset")]
    pub type_: String,
    pub id: String,
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: Uuid,
    /// Null for the system (the expiry sweeper, the root bootstrap).
    pub actor: Option<AuditActor>,
    #[schema(example = "member.updated")]
    pub action: String,
    pub target: AuditTarget,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

// ---------------------------------------------------------------- queries

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainQuery {
    pub user_id: Uuid,
    /// `estate`, `site` or `asset`.
    #[param(value_type = String)]
    pub resource_type: String,
    pub resource_id: Uuid,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `user`, `household`, `estate`, `site` or `asset`.
    #[validate(length(max = 20))]
    #[param(max_length = 20)]
    pub resource_type: Option<String>,
    #[validate(length(max = 64))]
    #[param(max_length = 64)]
    pub resource_id: Option<String>,
    pub actor_id: Option<Uuid>,
    /// Events at or after this time (years 1 to 9999).
    #[validate(custom(function = "crate::extract::storable_moment"))]
    pub from: Option<DateTime<Utc>>,
    /// Events at or before this time (years 1 to 9999).
    #[validate(custom(function = "crate::extract::storable_moment"))]
    pub to: Option<DateTime<Utc>>,
    #[validate(range(min = 1, max = 1_000_000))]
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// The `next_cursor` of the previous page: the page after it (`page` is
    /// then ignored).
    #[validate(length(min = 1, max = 512))]
    #[param(min_length = 1, max_length = 512)]
    pub cursor: Option<String>,
}

// ---------------------------------------------------------------- handlers

/// Why can this user (not) reach this estate, site or asset?
///
/// Every path considered, counted or not, with the reason. Open to the user
/// themselves and to those who administer the resource (404 for others).
#[utoipa::path(
    get, path = "/api/v1/access/explain", tag = "access", security(("bearer" = [])),
    params(ExplainQuery),
    responses(
        (status = 200, description = "The explanation", body = Explanation),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user or resource, or not mine to see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn explain(
    ctx: Ctx,
    ValidQuery(q): ValidQuery<ExplainQuery>,
) -> Result<HttpResponse, ApiError> {
    let cmd = Explain {
        user_id: q.user_id,
        resource_type: q.resource_type,
        resource_id: q.resource_id,
    };
    let answer = ctx
        .read(move |c, actor, now| explain::explain(c, actor, cmd, now))
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Everyone who can reach the asset, with their level and paths (full
/// access needed).
#[utoipa::path(
    get, path = "/api/v1/assets/{asset_id}/access", tag = "access", security(("bearer" = [])),
    params(("asset_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Who has access, highest level first", body = Vec<AccessEntry>),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`full_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn who_has_access(ctx: Ctx, path: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let entries = ctx
        .read(move |c, actor, now| explain::who_has_access(c, actor, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(entries))
}

/// The audit trail of resources I administer (root: everything), newest
/// first, filtered by resource, actor and time.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "access", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Events, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<AuditEventView>),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter or paging", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn audit_trail(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    ValidQuery(q): ValidQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Some(t) = q.resource_type.as_deref()
        && !["user", "household", "estate", "site", "asset"].contains(&t)
    {
        return Err(ApiError::field(
            "resource_type",
            "must be one of user, household, estate, site, asset",
        ));
    }
    let paging = CursorQuery {
        page: q.page,
        per_page: q.per_page,
        cursor: q.cursor.clone(),
    };
    let window = Window {
        limit: paging.per_page(),
        offset: paging.offset(),
        after: paging
            .after()?
            .map(|cursor| Ok::<_, ApiError>((cursor.instant()?, cursor.id)))
            .transpose()?,
    };
    let filter = AuditFilter {
        resource_type: q.resource_type.clone(),
        resource_id: q.resource_id.clone(),
        actor_id: q.actor_id,
        from: q.from,
        to: q.to,
    };
    let page = state
        .db(move |db| db.read(|c| audit::list(c, caller.id, caller.is_root, &filter, &window)))
        .await?;
    let next = page
        .items
        .last()
        .filter(|_| page.more)
        .map(|e| Cursor::at(e.event.created_at, e.event.id));
    let items = page
        .items
        .into_iter()
        .map(|e| AuditEventView {
            id: e.event.id,
            actor: e.event.actor_id.map(|id| AuditActor {
                id,
                username: e.actor_username.clone(),
                display_name: e.actor_display_name.clone(),
            }),
            action: e.event.action,
            target: AuditTarget {
                type_: e.event.target_type,
                id: e.event.target_id,
            },
            before: e.event.before,
            after: e.event.after,
            created_at: e.event.created_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(CursorPage::new(items, page.counted, &paging, next)))
}

endpoints![explain, who_has_access, audit_trail,];
