//! Estates, their sites, Users & Permissions (estate roles and site
//! overrides): request shapes, the documented handlers, and their routes.
//! The use cases are in [`crate::ops::estates`], [`crate::ops::sites`] and
//! [`crate::ops::members`].

use actix_web::web::Path;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::conditional::{matrix_page, ok_tagged, tagged, with_matrix_tag};
use crate::ctx::Ctx;
use crate::error::{
    ApiError, BadPaging, InsufficientRole, InvalidName, MalformedJson, NoSuchEstate, Problem,
    Unauthorized,
};
use crate::extract::{ScopedJson, ValidJson, ValidQuery, double_option};
use crate::idempotency::Answer;
use crate::ops::{Deferred, Rename, estates, members, sites};
use crate::routes::{IdPair, Reply, done, listed, ok};
use crate::views::common::{CursorPage, CursorQuery, paged_query};
use crate::views::estates::{
    EstateRole, EstateView, MemberView, SiteMemberView, SiteOverride, SiteView,
};

// ---------------------------------------------------------------- requests

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Hartwell Estate"}))]
pub struct NameRequest {
    /// 1 to 200 characters, not only spaces, no control characters (line
    /// breaks and tabs included); surrounding spaces are trimmed.
    #[validate(length(max = 200))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
}

/// A partial update of an estate or a site: without `name` it stays as it
/// is.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Hartwell Estate"}))]
pub struct RenameRequest {
    /// 1 to 200 characters, not only spaces, no control characters (line
    /// breaks and tabs included); surrounding spaces are trimmed. `null` is
    /// 422: it always has a name.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 200))]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$")]
    pub name: Option<Option<String>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_id": "c4a7e2f9-5b1d-4c8e-a3f6-7d9b0e2c5a18"}))]
pub struct TransferRequest {
    /// The member who becomes owner; the current owner becomes admin.
    pub user_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"site_id": "9b2e4c7d-1f3a-4e6b-8a5c-2d7f0e9b4a61", "role": "viewer"}))]
pub struct SiteRoleEntry {
    pub site_id: Uuid,
    #[schema(value_type = SiteOverride)]
    pub role: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "editor", "sites": [{"site_id": "9b2e4c7d-1f3a-4e6b-8a5c-2d7f0e9b4a61", "role": "admin"}, {"site_id": "1e8d3b6a-7c2f-4a9e-b5d1-0f4c8a2e6b37", "role": "none"}]}))]
pub struct SetMemberRequest {
    #[schema(value_type = EstateRole)]
    pub role: String,
    /// When present, replaces all of this member's site overrides.
    pub sites: Option<Vec<SiteRoleEntry>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "none"}))]
pub struct SetOverrideRequest {
    #[schema(value_type = SiteOverride)]
    pub role: String,
}

// ---------------------------------------------------------------- handlers

/// The name in the body, kept to be checked after authorization.
fn name(body: ScopedJson<NameRequest>) -> Deferred<String> {
    body.after_authorization().map(|b| b.name)
}

/// The new name in a rename body (none: unchanged), kept to be checked after
/// authorization (422 for `null`).
fn new_name(body: ScopedJson<RenameRequest>) -> Deferred<Option<String>> {
    body.after_authorization().and_then(|b| match b.name {
        Some(None) => Err(ApiError::field("name", "must not be null")),
        name => Ok(name.flatten()),
    })
}

/// Create an estate
///
/// Creates an estate and makes the caller its owner. Returns the estate with
/// `my_role` set to `owner`. The caller's email must be verified (403
/// `email_not_verified`). Writes an audit event.
#[utoipa::path(post, path = "/api/v1/estates", operation_id = "createEstate", tag = "estates", security(("bearer" = [])), request_body = NameRequest,
    responses((status = 201, description = "Created", body = EstateView), MalformedJson, Unauthorized, (status = 403, description = "`email_not_verified`: verify your email first", body = Problem, content_type = "application/problem+json"), InvalidName))]
pub async fn create_estate(ctx: Ctx, body: ValidJson<NameRequest>) -> Reply {
    let name = body.0.name;
    ctx.once(move |c, actor, now| estates::create(c, actor, &name, now).and_then(Answer::created))
        .await
}

/// List my estates
///
/// Returns the estates the caller belongs to, each with `my_role`, newest
/// first, paged by `cursor` (or `page`) and `per_page`. A root user sees
/// every estate.
#[utoipa::path(get, path = "/api/v1/estates", operation_id = "listEstates", tag = "estates", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, description = "My estates, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<EstateView>), Unauthorized, BadPaging))]
pub async fn list_estates(ctx: Ctx, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.read(move |c, actor, _| estates::list(c, actor, &q.0)).await)
}

/// Get an estate
///
/// Returns the estate with the caller's `my_role`. Open to any member of the
/// estate and to root; anyone else gets 404 `estate_not_found`.
#[utoipa::path(get, path = "/api/v1/estates/{estate_id}", operation_id = "getEstate", tag = "estates", security(("bearer" = [])), params(("estate_id" = Uuid, Path)),
    responses((status = 200, description = "The estate", body = EstateView), Unauthorized, (status = 404, description = "No such estate, or not a member", body = Problem, content_type = "application/problem+json")))]
pub async fn get_estate(ctx: Ctx, id: Path<Uuid>) -> Reply {
    tagged(&ctx, ctx.read_one(move |c, actor, _| estates::get(c, actor, id.into_inner())).await)
}

/// Rename an estate
///
/// Changes the estate's name and returns the estate; a body without `name`
/// changes nothing (a partial update). Needs the estate role admin or owner
/// (403 `insufficient_role`); non-members get 404. Writes an audit event.
#[utoipa::path(patch, path = "/api/v1/estates/{estate_id}", operation_id = "renameEstate", tag = "estates", security(("bearer" = [])), params(("estate_id" = Uuid, Path)), request_body = RenameRequest,
    responses((status = 200, description = "Renamed", body = EstateView), MalformedJson, Unauthorized, InsufficientRole, NoSuchEstate, InvalidName))]
pub async fn rename_estate(ctx: Ctx, id: Path<Uuid>, body: ScopedJson<RenameRequest>) -> Reply {
    let (id, cmd) = (*id, Rename { id: *id, name: new_name(body) });
    let current = move |c: &mut _, actor: &_, _| estates::get_locked(c, actor, id);
    ok_tagged(ctx.write_if_match(current, move |c, a, now| estates::rename(c, a, cmd, now)).await)
}

/// Delete an estate
///
/// Deletes the estate with its sites, memberships and invitations. Only the
/// owner (or root) may delete it (403 `insufficient_role`). While assets are
/// placed in the estate it answers 409 `estate_has_assets`: move or delete
/// them first. Writes an audit event.
#[utoipa::path(delete, path = "/api/v1/estates/{estate_id}", operation_id = "deleteEstate", tag = "estates", security(("bearer" = [])), params(("estate_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), Unauthorized, (status = 403, description = "`insufficient_role`: only the owner deletes", body = Problem, content_type = "application/problem+json"), NoSuchEstate,
        (status = 409, description = "`estate_has_assets`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_estate(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let id = id.into_inner();
    let current = move |c: &mut _, actor: &_, _| estates::get_locked(c, actor, id);
    done(ctx.write_if_match(current, move |c, a, now| estates::delete(c, a, id, now)).await)
}

/// Transfer estate ownership
///
/// Makes another member the owner; the current owner becomes admin, and the
/// new owner's site overrides are deleted. Only the owner (or root) may do
/// it, with a verified email. A `user_id` that is not a member answers 422
/// `not_a_member`; naming yourself answers 403 `self_role_change`. Writes an
/// audit event.
#[utoipa::path(post, path = "/api/v1/estates/{estate_id}/transfer-ownership", operation_id = "transferEstateOwnership", tag = "estates", security(("bearer" = [])), params(("estate_id" = Uuid, Path)), request_body = TransferRequest,
    responses((status = 200, description = "Transferred; my new role is admin", body = EstateView), MalformedJson, Unauthorized,
        (status = 403, description = "`insufficient_role` or `self_role_change`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"), NoSuchEstate,
        (status = 422, description = "Invalid body, or `not_a_member`: the user is not a member", body = Problem, content_type = "application/problem+json")))]
pub async fn transfer_ownership(
    ctx: Ctx,
    id: Path<Uuid>,
    body: ScopedJson<TransferRequest>,
) -> Reply {
    let cmd = estates::Transfer {
        estate_id: id.into_inner(),
        new_owner: body.after_authorization().map(|b| b.user_id),
    };
    ok(ctx.write(move |c, actor, now| estates::transfer(c, actor, cmd, now)).await)
}

/// List the sites of an estate
///
/// Returns the sites of the estate that the caller can see, newest first,
/// each with the caller's `effective_role` there, paged by `cursor` (or
/// `page`) and `per_page`. Open to any estate member; sites where the member is kept off
/// (override `none`) are left out. Non-members get 404.
#[utoipa::path(get, path = "/api/v1/estates/{estate_id}/sites", operation_id = "listSites", tag = "sites", security(("bearer" = [])), params(("estate_id" = Uuid, Path), CursorQuery),
    responses((status = 200, description = "Sites, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<SiteView>), Unauthorized, NoSuchEstate, BadPaging))]
pub async fn list_sites(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.run(move |c, actor, _| sites::list(c, actor, *id, &q.0)).await)
}

/// Create a site
///
/// Adds a site to the estate and returns it. Needs the estate role admin or
/// owner (403 `insufficient_role`); non-members get 404. Every member gets
/// their default role at the new site. Writes an audit event.
#[utoipa::path(post, path = "/api/v1/estates/{estate_id}/sites", operation_id = "createSite", tag = "sites", security(("bearer" = [])), params(("estate_id" = Uuid, Path)), request_body = NameRequest,
    responses((status = 201, description = "Created", body = SiteView), MalformedJson, Unauthorized, InsufficientRole, NoSuchEstate, InvalidName))]
pub async fn create_site(ctx: Ctx, id: Path<Uuid>, body: ScopedJson<NameRequest>) -> Reply {
    let cmd = sites::Create { estate_id: id.into_inner(), name: name(body) };
    ctx.once(move |c, actor, now| sites::create(c, actor, cmd, now).and_then(Answer::created)).await
}

/// Get a site
///
/// Returns the site with the caller's `effective_role` there. Open to estate
/// members whose effective role at the site is viewer or above; anyone else,
/// including a member kept off the site, gets 404 `site_not_found`.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}", operation_id = "getSite", tag = "sites", security(("bearer" = [])), params(("site_id" = Uuid, Path)),
    responses((status = 200, description = "The site", body = SiteView), Unauthorized, (status = 404, description = "No such site, or kept off it", body = Problem, content_type = "application/problem+json")))]
pub async fn get_site(ctx: Ctx, id: Path<Uuid>) -> Reply {
    tagged(&ctx, ctx.read_one(move |c, actor, _| sites::get(c, actor, id.into_inner())).await)
}

/// Rename a site
///
/// Changes the site's name and returns the site; a body without `name`
/// changes nothing (a partial update). Needs the effective site role admin
/// (403 `insufficient_role`); those who cannot see the site get 404. Writes an
/// audit event.
#[utoipa::path(patch, path = "/api/v1/sites/{site_id}", operation_id = "renameSite", tag = "sites", security(("bearer" = [])), params(("site_id" = Uuid, Path)), request_body = RenameRequest,
    responses((status = 200, description = "Renamed", body = SiteView), MalformedJson, Unauthorized, InsufficientRole, (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"), InvalidName))]
pub async fn rename_site(ctx: Ctx, id: Path<Uuid>, body: ScopedJson<RenameRequest>) -> Reply {
    let (id, cmd) = (*id, Rename { id: *id, name: new_name(body) });
    let current = move |c: &mut _, actor: &_, _| sites::get_locked(c, actor, id);
    ok_tagged(ctx.write_if_match(current, move |c, a, now| sites::rename(c, a, cmd, now)).await)
}

/// Delete a site
///
/// Deletes the site. Needs the estate role admin or owner (403
/// `insufficient_role`). While assets are placed at the site it answers 409
/// `site_has_assets`: move or delete them first. Writes an audit event.
#[utoipa::path(delete, path = "/api/v1/sites/{site_id}", operation_id = "deleteSite", tag = "sites", security(("bearer" = [])), params(("site_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), Unauthorized, InsufficientRole, (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`site_has_assets`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_site(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let id = id.into_inner();
    let current = move |c: &mut _, actor: &_, _| sites::get_locked(c, actor, id);
    done(ctx.write_if_match(current, move |c, a, now| sites::delete(c, a, id, now)).await)
}

paged_query! {
    /// The members list's search, role filter and paging.
    pub struct MemberListQuery {
        /// Text found anywhere in a member's username or display name, in any
        /// case (display names fold only ASCII letters on SQLite); also in
        /// their email for those who see emails (owners, admins, root). Up to
        /// 100 characters, no control characters.
        #[validate(length(max = 100))]
        #[param(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
        pub q: Option<String>,
        /// Only the members with this estate role.
        #[param(value_type = Option<EstateRole>)]
        pub role: Option<String>,
    }
    paging {
        /// Page number, from 1 (ignored when `cursor` is given).
        page,
        /// Items per page, 1 to 100 (default 25).
        per_page,
        /// The `next_cursor` of the previous page: the page after it.
        cursor,
    }
}

/// List estate members (Users & Permissions)
///
/// Returns each member with their estate role and, per site, the `override`
/// and the `effective_role`, oldest member first, paged by cursor. Open to any
/// estate member; only owners, admins and root see email addresses and every
/// site, others see only the sites they can see themselves. Non-members get
/// 404. `q` searches usernames and display names (and emails, for those who
/// see them); `role` keeps one estate role; `total` counts what they keep.
#[utoipa::path(get, path = "/api/v1/estates/{estate_id}/members", operation_id = "listEstateMembers", tag = "members", security(("bearer" = [])), params(("estate_id" = Uuid, Path), MemberListQuery),
    responses((status = 200, description = "Members, oldest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<MemberView>), Unauthorized, NoSuchEstate,
        (status = 422, description = "Bad search, role or paging", body = Problem, content_type = "application/problem+json")))]
pub async fn list_members(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<MemberListQuery>) -> Reply {
    let MemberListQuery { q: search, role, page, per_page, cursor } = q.0;
    let paging = CursorQuery { page, per_page, cursor };
    // The revision is read first: a change committed in between makes the
    // tag older than the page (a needless 412), never newer.
    let page = move |c: &mut _, actor: &_, _| {
        let revision = keyholder_store::estates::revision(c, *id)?;
        members::list(c, actor, *id, (search, role), &paging).map(|p| (p, revision))
    };
    matrix_page(&ctx, ctx.run(page).await)
}

/// Set a member's estate role and site overrides
///
/// Saves the member's estate role and, when `sites` is sent, replaces all of
/// their site overrides, all or nothing; without `sites` the overrides stay.
/// Owners may change any member but the owner; admins, and members who are
/// site admin somewhere, may change editors and viewers, each only within the
/// grant rules (403 with the rule's `code`). Promoting to admin deletes the
/// member's overrides. Writes an audit event when something changed.
#[utoipa::path(put, path = "/api/v1/estates/{estate_id}/members/{user_id}", operation_id = "setEstateMember", tag = "members", security(("bearer" = [])), params(("estate_id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = SetMemberRequest,
    responses((status = 200, description = "Saved", body = MemberView), MalformedJson, Unauthorized,
        (status = 403, description = "A grant rule refuses: `self_role_change`, `owner_transfer_required`, `cannot_grant_role`, `cannot_change_member`, `cannot_replace_override`, `site_admin_scope`, `insufficient_role`, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate, member (`not_a_member`) or site", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role, `no_override_for_admins` or `duplicate_site`", body = Problem, content_type = "application/problem+json")))]
pub async fn set_member(ctx: Ctx, key: IdPair, body: ScopedJson<SetMemberRequest>) -> Reply {
    let ((estate_id, user_id), change) = (key.into_inner(), body.after_authorization().map(change));
    let cmd = members::SetMember { estate_id, user_id, change };
    let (view, tag) = ctx
        .write_matrix(move |_| Ok(Some(estate_id)), move |c, a, now| members::set(c, a, cmd, now))
        .await?;
    with_matrix_tag(ok(Ok(view)), tag)
}

/// The member change a [`SetMemberRequest`] asks for.
fn change(b: SetMemberRequest) -> members::MemberChange {
    let sites = b.sites.map(|v| v.into_iter().map(|e| (e.site_id, e.role)).collect());
    members::MemberChange { role: b.role, sites }
}

/// Remove a member from an estate
///
/// Removes the member with their site overrides, their collaborator rows and
/// shares on the estate's assets, and the pending invitations to or from them
/// on the estate and its assets.
/// Removing yourself is leaving; the owner must transfer ownership first (403
/// `owner_transfer_required`). Owners remove any other member, admins only
/// editors and viewers. An asset always keeps a collaborator: where the
/// member is the only collaborator of an asset of the estate, the removal
/// answers 409 `last_collaborator` with those `asset_ids` and changes nothing
/// (add another collaborator there, or move the asset out, first). Writes an
/// audit event.
#[utoipa::path(delete, path = "/api/v1/estates/{estate_id}/members/{user_id}", operation_id = "removeEstateMember", tag = "members", security(("bearer" = [])), params(("estate_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), Unauthorized, (status = 403, description = "`owner_transfer_required`, `cannot_change_member` or `insufficient_role`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such estate or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_collaborator`: the member is the only collaborator of the named assets", body = Problem, content_type = "application/problem+json")))]
pub async fn remove_member(ctx: Ctx, key: IdPair) -> Reply {
    let (estate_id, user_id) = key.into_inner();
    let cmd = members::RemoveMember { estate_id, user_id };
    let (_, tag) = ctx
        .write_matrix(
            move |_| Ok(Some(estate_id)),
            move |c, a, now| members::remove(c, a, cmd, now),
        )
        .await?;
    with_matrix_tag(done(Ok(())), tag)
}

/// List the members at a site
///
/// Returns the estate's members as seen from this site: estate role,
/// `override` and `effective_role` here, oldest member first, paged by cursor.
/// Open to anyone who can see the site (else 404); only site admins and root
/// see email addresses.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/members", operation_id = "listSiteMembers", tag = "members", security(("bearer" = [])), params(("site_id" = Uuid, Path), CursorQuery),
    responses((status = 200, description = "Members at the site, oldest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<SiteMemberView>), Unauthorized,
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"), BadPaging))]
pub async fn list_site_members(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.run(move |c, actor, _| members::list_at_site(c, actor, *id, &q.0)).await)
}

/// Set a member's site override
///
/// Sets the member's override at this site: `none` keeps them off it,
/// `viewer`, `editor` or `admin` set their role there (still capped by their
/// estate role). Needs the effective site role admin and a verified email;
/// the grant rules decide which overrides the caller may set (403 with the
/// rule's `code`). Estate owners and admins cannot get overrides (422
/// `no_override_for_admins`). Writes an audit event when it changes.
#[utoipa::path(put, path = "/api/v1/sites/{site_id}/members/{user_id}", operation_id = "setSiteOverride", tag = "members", security(("bearer" = [])), params(("site_id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = SetOverrideRequest,
    responses((status = 200, description = "Saved", body = SiteMemberView), MalformedJson, Unauthorized, (status = 403, description = "A grant rule refuses, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site or member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role or `no_override_for_admins`", body = Problem, content_type = "application/problem+json")))]
pub async fn set_site_override(
    ctx: Ctx,
    key: IdPair,
    body: ScopedJson<SetOverrideRequest>,
) -> Reply {
    let role = Some(body.after_authorization().map(|b| b.role));
    set_override(ctx, key, role).await
}

/// Clear a member's site override
///
/// Removes the member's override at this site, so their estate default
/// applies again. The same grant rules as setting an override apply, and a
/// verified email is needed (403 with the rule's `code`, or
/// `email_not_verified`). Returns the member as seen from the site. Writes an
/// audit event when there was an override.
#[utoipa::path(delete, path = "/api/v1/sites/{site_id}/members/{user_id}", operation_id = "clearSiteOverride", tag = "members", security(("bearer" = [])), params(("site_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 200, description = "Cleared", body = SiteMemberView), Unauthorized, (status = 403, description = "A grant rule refuses, or `email_not_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site or member", body = Problem, content_type = "application/problem+json")))]
pub async fn clear_site_override(ctx: Ctx, key: IdPair) -> Reply {
    set_override(ctx, key, None).await
}

/// Sets (`Some`) or clears (`None`) the override of the member at the site
/// in `key`.
async fn set_override(ctx: Ctx, key: IdPair, role: Option<Deferred<String>>) -> Reply {
    let (site_id, user_id) = key.into_inner();
    let cmd = members::SetOverride { site_id, user_id, role };
    let estate = move |c: &mut _| Ok(keyholder_store::sites::estate_of(c, site_id)?);
    let op = move |c: &mut _, actor: &_, now| members::set_override(c, actor, cmd, now);
    let (view, tag) = ctx.write_matrix(estate, op).await?;
    with_matrix_tag(ok(Ok(view)), tag)
}

endpoints![
    list_estates,
    create_estate,
    get_estate,
    rename_estate,
    delete_estate,
    transfer_ownership,
    list_sites,
    create_site,
    list_members,
    set_member,
    remove_member,
    get_site,
    rename_site,
    delete_site,
    list_site_members,
    set_site_override,
    clear_site_override,
    ; tags:
    ("estates", "Estates: create, rename, delete, transfer ownership"),
    ("sites", "Sites of an estate"),
    ("members", "Users & Permissions: estate roles and site overrides"),
];
