//! "Why can this person (not) do this?": the explain endpoint, who has access
//! to an asset, and the audit trail. Explain runs the same domain resolution
//! as the access checks, so the two cannot disagree.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use keyholder_domain::asset::{
    self, AccessFacts, AssetCapability, HouseholdFact, PathEvaluation, ShareFact, ShareStatus,
    SitePathFact,
};
use keyholder_domain::estate::{self, EstateCapability, SiteCapability};
use keyholder_domain::{AssetLevel, EstateRole, SiteRole};
use keyholder_store::DbConnection;
use keyholder_store::assets::{self, Asset};
use keyholder_store::audit::{self, AuditFilter};
use keyholder_store::estates;
use keyholder_store::invitations::{self, ResourceType};
use keyholder_store::users::{self, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::assets::{asset_access, require};
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::extract::ValidQuery;
use crate::state::AppState;
use crate::views::common::{Cursor, CursorPage, CursorQuery, UserSummary};
use keyholder_store::paging::Window;

// ---------------------------------------------------------------- views

/// One way a user may reach a resource, counted or not.
#[derive(Debug, Serialize, ToSchema)]
pub struct PathView {
    /// `root`, `collaborator`, `household`, `share`, `site`, `estate_admin`
    /// (assets); `root`, `membership`, `invitation` (estates); `root`,
    /// `estate_role`, `site_override`, `invitation` (sites).
    #[schema(example = "household")]
    pub kind: &'static str,
    /// The level or role this path gives (null when it gives nothing).
    pub level: Option<&'static str>,
    /// The household head, share or invitation, site or estate it runs through.
    pub via: Option<Uuid>,
    pub counted: bool,
    /// Why it does not count (or is capped): `head_not_collaborator`,
    /// `share_expired`, `share_revoked`, `no_estate_membership`,
    /// `capped_by_estate_role`, `kept_off_site`, `invitation_pending`.
    pub reason: Option<&'static str>,
    /// For shares: when the access ends.
    pub until: Option<DateTime<Utc>>,
}

/// The answer of explain.
#[derive(Debug, Serialize, ToSchema)]
pub struct Explanation {
    pub user: UserSummary,
    #[schema(example = "asset")]
    pub resource_type: &'static str,
    pub resource_id: Uuid,
    /// The effective level (assets) or role (estates, sites); null: none.
    pub effective: Option<&'static str>,
    /// What the effective level or role allows.
    pub capabilities: Vec<&'static str>,
    pub paths: Vec<PathView>,
}

/// A user who can reach an asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    pub user: UserSummary,
    #[schema(example = "edit")]
    pub level: &'static str,
    pub paths: Vec<PathView>,
}

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

// ---------------------------------------------------------------- asset explanation

fn path_view(p: &PathEvaluation) -> PathView {
    PathView {
        kind: p.kind.as_str(),
        level: p.level.map(AssetLevel::as_str),
        via: p.via,
        counted: p.counted,
        reason: p.reason.map(|r| r.code()),
        until: p.until,
    }
}

/// Every fact about `user` and `asset`, including what no longer counts
/// (expired or revoked shares, pending invitations), resolved by the domain.
fn explain_asset(
    c: &mut DbConnection,
    user: &User,
    a: &Asset,
    now: DateTime<Utc>,
) -> Result<asset::Resolution, ApiError> {
    let row = assets::access_row(c, a, user.id)?;
    let households: Vec<HouseholdFact> = row
        .households
        .iter()
        .map(|&(head_id, role, head_is_collaborator)| HouseholdFact {
            head_id,
            role,
            head_is_collaborator,
        })
        .collect();
    let mut shares: Vec<ShareFact> = row
        .share
        .iter()
        .map(|&(id, permission, until)| ShareFact::active(id, permission, until))
        .collect();
    if row.share.is_none() && keyholder_store::audit::share_was_revoked(c, a.id, user.id)? {
        // The revoked share's permission no longer matters: it gives nothing.
        let p = keyholder_domain::InvitationPermission::View;
        shares.push(ShareFact {
            status: ShareStatus::Revoked,
            ..ShareFact::active(a.id, p, None)
        });
    }
    for inv in invitations::pending_for_email(c, &user.email, now)? {
        if inv.resource_type == ResourceType::Asset
            && inv.resource_id == a.id
            && let Ok(permission) = inv.role.parse()
        {
            shares.push(ShareFact {
                status: ShareStatus::InvitationPending,
                ..ShareFact::active(inv.id, permission, inv.access_expires_at)
            });
        }
    }
    let facts = AccessFacts {
        is_root: user.is_root,
        is_collaborator: row.is_collaborator,
        households: &households,
        shares: &shares,
        site: match (a.site_id, a.estate_id) {
            (Some(site_id), Some(estate_id)) => Some(SitePathFact {
                site_id,
                estate_id,
                estate_role: row.estate_role,
                site_override: row.site_override,
            }),
            _ => None,
        },
        now,
    };
    Ok(asset::explain(&facts))
}

fn asset_capabilities(level: Option<AssetLevel>) -> Vec<&'static str> {
    AssetCapability::ALL
        .iter()
        .filter(|c| asset::asset_can(level, **c))
        .map(|c| c.as_str())
        .collect()
}

fn summary(u: &User, show_email: bool) -> UserSummary {
    UserSummary {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        email: show_email.then(|| u.email.clone()),
    }
}

fn hidden() -> ApiError {
    ApiError::not_found(
        "not_found",
        "No such user or resource, or you may not see this explanation.",
    )
}

// ---------------------------------------------------------------- estate and site explanations

fn estate_paths(
    user: &User,
    role: Option<EstateRole>,
    estate_id: Uuid,
    invited: Option<(Uuid, String)>,
) -> Vec<PathView> {
    let mut paths = Vec::new();
    if user.is_root {
        paths.push(PathView {
            kind: "root",
            level: Some("owner"),
            via: None,
            counted: true,
            reason: None,
            until: None,
        });
    }
    paths.push(match role {
        Some(r) => PathView {
            kind: "membership",
            level: Some(r.as_str()),
            via: Some(estate_id),
            counted: true,
            reason: None,
            until: None,
        },
        None => PathView {
            kind: "membership",
            level: None,
            via: Some(estate_id),
            counted: false,
            reason: Some("no_estate_membership"),
            until: None,
        },
    });
    if let Some((id, offered)) = invited {
        let level = offered.parse::<EstateRole>().ok().map(EstateRole::as_str);
        paths.push(PathView {
            kind: "invitation",
            level,
            via: Some(id),
            counted: false,
            reason: Some("invitation_pending"),
            until: None,
        });
    }
    paths
}

fn pending_estate_invitation(
    c: &mut DbConnection,
    user: &User,
    estate_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, String)>, ApiError> {
    Ok(invitations::pending_for_email(c, &user.email, now)?
        .into_iter()
        .find(|i| i.resource_type == ResourceType::Estate && i.resource_id == estate_id)
        .map(|i| (i.id, i.role)))
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
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    ValidQuery(q): ValidQuery<ExplainQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let kind = match q.resource_type.as_str() {
        "estate" | "site" | "asset" => q.resource_type.clone(),
        _ => {
            return Err(ApiError::field(
                "resource_type",
                "must be one of estate, site, asset",
            ));
        }
    };
    let answer = state
        .db(move |db| {
            db.read(|c| {
                let user = users::find(c, q.user_id)?.ok_or_else(hidden)?;
                let myself = caller.id == user.id;
                match kind.as_str() {
                    "asset" => {
                        let a = assets::get(c, q.resource_id)?.ok_or_else(hidden)?;
                        let row = assets::access_row(c, &a, caller.id)?;
                        let caller_level = super::assets::judge(&caller, &a, &row, now);
                        // Myself: only about an asset I can see. Someone else:
                        // only if I administer it, and only their paths to it.
                        if caller_level.is_none()
                            || (!myself && !asset::administers_asset(caller_level))
                        {
                            return Err(hidden());
                        }
                        let mut r = explain_asset(c, &user, &a, now)?;
                        if !myself && !caller.is_root {
                            r.paths.retain(PathEvaluation::relates_to_asset);
                            if r.paths.is_empty() {
                                return Err(hidden());
                            }
                        }
                        Ok(Explanation {
                            user: summary(&user, myself || caller.is_root),
                            resource_type: "asset",
                            resource_id: a.id,
                            effective: r.effective.map(AssetLevel::as_str),
                            capabilities: asset_capabilities(r.effective),
                            paths: r.paths.iter().map(path_view).collect(),
                        })
                    }
                    "estate" => {
                        let (e, caller_role) = estates::get_for_user(c, q.resource_id, caller.id)?
                            .ok_or_else(hidden)?;
                        // Myself: only an estate I can see. Someone else: only
                        // if I administer it.
                        let allowed = if myself {
                            caller.is_root || caller_role.is_some()
                        } else {
                            estate::administers_estate(caller.is_root, caller_role)
                        };
                        if !allowed {
                            return Err(hidden());
                        }
                        let role = estates::member_role(c, e.id, user.id)?;
                        let invited = pending_estate_invitation(c, &user, e.id, now)?;
                        // Someone else: only a member or an invitee of it.
                        if !myself && !caller.is_root && role.is_none() && invited.is_none() {
                            return Err(hidden());
                        }
                        let effective = if user.is_root {
                            Some(EstateRole::Owner)
                        } else {
                            role
                        };
                        Ok(Explanation {
                            user: summary(&user, true),
                            resource_type: "estate",
                            resource_id: e.id,
                            effective: effective.map(EstateRole::as_str),
                            capabilities: EstateCapability::ALL
                                .iter()
                                .filter(|cap| user.is_root || estate::estate_can(role, **cap))
                                .map(|cap| cap.as_str())
                                .collect(),
                            paths: estate_paths(&user, role, e.id, invited),
                        })
                    }
                    _ => {
                        let (site, caller_role, caller_override) =
                            estates::site_for_user(c, q.resource_id, caller.id)?
                                .ok_or_else(hidden)?;
                        let caller_effective =
                            estate::effective_site_role_of(caller_role, caller_override);
                        let allowed = if myself {
                            caller.is_root || caller_effective.is_some()
                        } else {
                            estate::administers_site(caller.is_root, caller_effective)
                        };
                        if !allowed {
                            return Err(hidden());
                        }
                        let (_, role, over) =
                            estates::site_for_user(c, site.id, user.id)?.ok_or_else(hidden)?;
                        if !myself
                            && !caller.is_root
                            && role.is_none()
                            && pending_estate_invitation(c, &user, site.estate_id, now)?.is_none()
                        {
                            return Err(hidden());
                        }
                        let effective = if user.is_root {
                            Some(SiteRole::Admin)
                        } else {
                            estate::effective_site_role_of(role, over)
                        };
                        let mut paths = Vec::new();
                        if user.is_root {
                            paths.push(PathView {
                                kind: "root",
                                level: Some("admin"),
                                via: None,
                                counted: true,
                                reason: None,
                                until: None,
                            });
                        }
                        match role {
                            None => paths.push(PathView {
                                kind: "estate_role",
                                level: None,
                                via: Some(site.estate_id),
                                counted: false,
                                reason: Some("no_estate_membership"),
                                until: None,
                            }),
                            Some(r) => {
                                let default = estate::default_site_role(r);
                                paths.push(PathView {
                                    kind: "estate_role",
                                    level: Some(default.as_str()),
                                    via: Some(site.estate_id),
                                    counted: over.is_none() || r.administers(),
                                    reason: None,
                                    until: None,
                                });
                                if let Some(o) = over.filter(|_| !r.administers()) {
                                    let reason = if o == keyholder_domain::SiteOverride::None {
                                        Some("kept_off_site")
                                    } else if estate::override_is_capped(r, Some(o)) {
                                        Some("capped_by_estate_role")
                                    } else {
                                        None
                                    };
                                    paths.push(PathView {
                                        kind: "site_override",
                                        level: Some(o.as_str()),
                                        via: Some(site.id),
                                        counted: o != keyholder_domain::SiteOverride::None,
                                        reason,
                                        until: None,
                                    });
                                }
                            }
                        }
                        if let Some((id, offered)) =
                            pending_estate_invitation(c, &user, site.estate_id, now)?
                        {
                            let level = offered.parse::<EstateRole>().ok().map(EstateRole::as_str);
                            paths.push(PathView {
                                kind: "invitation",
                                level,
                                via: Some(id),
                                counted: false,
                                reason: Some("invitation_pending"),
                                until: None,
                            });
                        }
                        Ok(Explanation {
                            user: summary(&user, true),
                            resource_type: "site",
                            resource_id: site.id,
                            effective: effective.map(SiteRole::as_str),
                            capabilities: SiteCapability::ALL
                                .iter()
                                .filter(|cap| estate::site_can(effective, **cap))
                                .map(|cap| cap.as_str())
                                .collect(),
                            paths,
                        })
                    }
                }
            })
        })
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
pub async fn who_has_access(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let entries = state
        .db(move |db| {
            db.read(|c| {
                let (a, level) = asset_access(c, &caller, id, now)?;
                require(level, AssetCapability::ManageCollaborators)?;
                let mut entries = Vec::new();
                for user_id in assets::access_candidates(c, &a)? {
                    let Some(user) = users::find(c, user_id)? else {
                        continue;
                    };
                    // Root reaches everything; only root sees root listed.
                    if user.is_root && !caller.is_root {
                        continue;
                    }
                    let r = explain_asset(c, &user, &a, now)?;
                    if let Some(level) = r.effective {
                        entries.push((
                            level,
                            AccessEntry {
                                user: summary(&user, caller.is_root),
                                level: level.as_str(),
                                paths: r
                                    .paths
                                    .iter()
                                    .filter(|p| caller.is_root || p.relates_to_asset())
                                    .map(path_view)
                                    .collect(),
                            },
                        ));
                    }
                }
                entries.sort_by(|(la, a), (lb, b)| {
                    lb.cmp(la).then_with(|| {
                        a.user
                            .username
                            .to_lowercase()
                            .cmp(&b.user.username.to_lowercase())
                    })
                });
                Ok::<_, ApiError>(entries.into_iter().map(|(_, e)| e).collect::<Vec<_>>())
            })
        })
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
