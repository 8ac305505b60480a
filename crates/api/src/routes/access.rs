//! "Why can this person (not) do this?": the explain endpoint, who has access
//! to an asset, and the audit trail. Explain runs the same domain resolution
//! as the access checks, so the two cannot disagree.

use actix_web::web::Path;
use chrono::{DateTime, Utc};
use keyholder_store::audit::AuditFilter;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{AssetNotFound, BadPaging, FullAccessRequired, Problem, Unauthorized};
use crate::extract::ValidQuery;
use crate::ops::audit;
use crate::ops::explain::{self, Explain};
use crate::ops::exports::Limits;
use crate::routes::{Reply, exported, listed, ok};
use crate::views::access::{AccessEntry, Explanation};
use crate::views::audit::AuditEventView;
use crate::views::common::{CursorPage, CursorQuery, paged_query};
use crate::views::exports::{ExportDocument, ExportQuery};
use crate::views::wire::{AuditResourceType, ExplainedResourceType};

// ---------------------------------------------------------------- queries

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainQuery {
    pub user_id: Uuid,
    #[param(value_type = ExplainedResourceType)]
    pub resource_type: String,
    pub resource_id: Uuid,
}

/// The filters of the audit trail: the same for its pages and its export.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only the events about this kind of resource.
    #[validate(length(max = 20))]
    #[param(value_type = Option<AuditResourceType>)]
    pub resource_type: Option<String>,
    /// Only the events about the resource with this id.
    #[validate(length(max = 64))]
    #[param(
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$",
        example = "3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90"
    )]
    pub resource_id: Option<String>,
    pub actor_id: Option<Uuid>,
    /// Events at or after this time (years 1 to 9999).
    #[validate(custom(function = "crate::extract::storable_moment"))]
    pub from: Option<DateTime<Utc>>,
    /// Events at or before this time (years 1 to 9999).
    #[validate(custom(function = "crate::extract::storable_moment"))]
    pub to: Option<DateTime<Utc>>,
}

impl From<AuditQuery> for AuditFilter {
    fn from(q: AuditQuery) -> Self {
        let AuditQuery { resource_type, resource_id, actor_id, from, to } = q;
        Self { resource_type, resource_id, actor_id, from, to }
    }
}

paged_query! {
    /// The paging of the audit trail.
    pub struct AuditPaging {}
    paging {
        page,
        per_page,
        /// The `next_cursor` of the previous page: the page after it (`page` is
        /// then ignored).
        cursor,
    }
}

// ---------------------------------------------------------------- handlers

/// Explain a user's access to a resource
///
/// Answers why a user can (or cannot) reach an estate, site or asset: the
/// `effective` level, the `capabilities`, and every path considered, counted
/// or not, with the reason. Open to the user themselves and to those who
/// administer the resource; 404 for others. An unknown `resource_type`
/// answers 422.
#[utoipa::path(get, path = "/api/v1/access/explain", operation_id = "explainAccess", tag = "access", security(("bearer" = [])), params(ExplainQuery),
    responses((status = 200, description = "The explanation", body = Explanation), Unauthorized, (status = 404, description = "No such user or resource, or not mine to see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json")))]
pub async fn explain(ctx: Ctx, q: ValidQuery<ExplainQuery>) -> Reply {
    let ExplainQuery { user_id, resource_type, resource_id } = q.0;
    let cmd = Explain { user_id, resource_type, resource_id };
    ok(ctx.read(move |c, actor, now| explain::explain(c, actor, cmd, now)).await)
}

/// List who has access to an asset
///
/// Returns everyone who can reach the asset, highest level first (then by
/// username), each with their `level` and the `paths` that give it, paged by
/// `cursor` (or `page`) and `per_page`. Needs full access to the asset
/// (403 `full_access_required`); those who cannot see it get 404
/// `asset_not_found`.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/access", operation_id = "listAssetAccess", tag = "access", security(("bearer" = [])), params(("asset_id" = Uuid, Path), CursorQuery),
    responses((status = 200, description = "Who has access, highest level first (then by username); `next_cursor` gives the next page", body = CursorPage<AccessEntry>), Unauthorized, FullAccessRequired, AssetNotFound, BadPaging))]
pub async fn who_has_access(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<CursorQuery>) -> Reply {
    listed(
        &ctx,
        ctx.read(move |c, actor, now| explain::who_has_access(c, actor, *id, &q.0, now)).await,
    )
}

/// List audit events
///
/// Returns the audit trail of the resources the caller administers (root:
/// everything), newest first, paged by cursor. Filter by `resource_type`,
/// `resource_id`, `actor_id`, and a time range with `from` and `to`.
#[utoipa::path(get, path = "/api/v1/audit", operation_id = "listAuditEvents", tag = "access", security(("bearer" = [])), params(AuditQuery, AuditPaging),
    responses((status = 200, description = "Events, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<AuditEventView>), Unauthorized,
        (status = 422, description = "Bad filter or paging", body = Problem, content_type = "application/problem+json")))]
pub async fn audit_trail(
    ctx: Ctx,
    q: ValidQuery<AuditQuery>,
    paging: ValidQuery<AuditPaging>,
) -> Reply {
    let AuditPaging { page, per_page, cursor } = paging.0;
    let cmd = audit::Trail { filter: q.0.into(), paging: CursorQuery { page, per_page, cursor } };
    listed(&ctx, ctx.read(move |c, actor, _| audit::trail(c, actor, &cmd)).await)
}

/// Export audit events
///
/// The whole audit trail `listAuditEvents` shows me with the same filters
/// (`resource_type`, `resource_id`, `actor_id`, `from`, `to`), newest first,
/// not paged: the events of the resources I administer (root: everything).
/// `format=csv` (the default) answers a CSV table (`text/csv`, UTF-8, a header
/// row, the actor and target flattened to `actor_*` and `target_*` columns,
/// `before` and `after` as JSON text, times in RFC 3339 UTC, a cell starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return prefixed with `'`);
/// `format=json` answers the events as the list shows them, with their
/// `count`. Read in one snapshot; more than 50,000 events answers 422
/// `export_too_large`: narrow the filters (a shorter time range).
#[utoipa::path(get, path = "/api/v1/audit/export", operation_id = "exportAuditEvents", tag = "access", security(("bearer" = [])), params(AuditQuery, ExportQuery),
    responses((status = 200, description = "The filtered trail, as an attachment (`Content-Disposition`: `audit-YYYY-MM-DD.csv` or `.json`)",
        content((String = "text/csv"), (ExportDocument<AuditEventView> = "application/json")),
        headers(("Content-Disposition" = String, description = "`attachment; filename=\"audit-2026-03-01.csv\"` (`.json` for JSON)"))), Unauthorized,
        (status = 422, description = "Bad filter or format, or `export_too_large`", body = Problem, content_type = "application/problem+json")))]
pub async fn export_audit(
    ctx: Ctx,
    q: ValidQuery<AuditQuery>,
    format: ValidQuery<ExportQuery>,
) -> Reply {
    let format = format.0.format()?;
    let (filter, limits) = (AuditFilter::from(q.0), Limits::of(&ctx.state().config));
    let events = ctx.snapshot(move |c, actor, _| audit::export(c, actor, &filter, limits));
    exported(&ctx, format, "audit", events.await)
}

endpoints![explain, who_has_access, audit_trail, export_audit,
    ; tags:
    ("access", "Explain access, who has access, and the audit trail"),
];
