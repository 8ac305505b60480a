//! Households: request shapes, the documented handlers, and their routes.
//! The use cases are in [`crate::ops::households`].

use actix_web::web::Path;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::conditional::{ok_tagged, tagged};
use crate::ctx::Ctx;
use crate::error::{ApiError, BadPaging, MalformedJson, Problem, Unauthorized};
use crate::extract::{ValidJson, ValidQuery, double_option};
use crate::idempotency::Answer;
use crate::ops::households;
use crate::routes::{Reply, done, listed};
use crate::views::common::{CursorPage, CursorQuery};
use crate::views::households::{HouseholdMemberView, HouseholdRole, HouseholdView, MembershipView};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "sam.patel", "role": "editor"}))]
pub struct AddMemberRequest {
    /// Exactly the user's username (3 to 32 letters, digits, `_`, `.` or
    /// `-`, starting with a letter or digit).
    #[validate(length(max = 64))]
    #[schema(min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    pub username: String,
    #[schema(value_type = HouseholdRole)]
    pub role: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "manager"}))]
pub struct ChangeRoleRequest {
    /// Absent: unchanged (`null` is 422: a member always has a role).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = HouseholdRole)]
    pub role: Option<Option<String>>,
}

/// The role a change asks for (none: unchanged; 422 for `null`).
fn new_role(body: ChangeRoleRequest) -> Result<Option<String>, ApiError> {
    match body.role {
        Some(None) => Err(ApiError::field("role", "must not be null")),
        role => Ok(role.flatten()),
    }
}

// ---------------------------------------------------------------- handlers

/// Read my household
///
/// The household I head: me as `head` and its members, oldest first, each with
/// their role (`viewer`, `editor` or `manager`). Members inherit the assets on
/// which I am a collaborator, at their role's level. A root user has no household
/// (404 `root_has_no_household`).
#[utoipa::path(get, path = "/api/v1/household", operation_id = "getMyHousehold", tag = "households", security(("bearer" = [])),
    responses((status = 200, description = "My household", body = HouseholdView), Unauthorized, (status = 404, description = "`root_has_no_household`", body = Problem, content_type = "application/problem+json")))]
pub async fn my_household(ctx: Ctx) -> Reply {
    tagged(&ctx, ctx.read(|c, actor, _| households::mine(c, actor)).await)
}

/// Add a member to my household
///
/// Adds the user with exactly this `username`, as `viewer`, `editor` or
/// `manager`: they then reach every asset I collaborate on at view, edit or manage
/// level. Needs a verified email (403 `email_not_verified`); an unknown username
/// answers 404 `user_not_found` naming it. Refused: myself (422 `own_household`),
/// a root user (422 `root_cannot_be_member`), a member already (409
/// `already_member`) or someone whose household I am in (409
/// `mutual_membership`); rate limited (429).
#[utoipa::path(post, path = "/api/v1/household/members", operation_id = "addHouseholdMember", tag = "households", security(("bearer" = [])), request_body = AddMemberRequest,
    responses((status = 201, description = "Added", body = HouseholdMemberView), MalformedJson, Unauthorized, (status = 403, description = "`email_not_verified`: verify your email first", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found` naming the username, or `root_has_no_household`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_member` or `mutual_membership`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role, `own_household` or `root_cannot_be_member`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many additions", body = Problem, content_type = "application/problem+json")))]
pub async fn add_member(ctx: Ctx, body: ValidJson<AddMemberRequest>) -> Reply {
    let ValidJson(AddMemberRequest { username, role }) = body;
    let cmd = households::AddMember { username, role, budget: ctx.user_budget() };
    let op = move |c: &mut _, actor: &_, now| households::add_member(c, actor, cmd, now);
    ctx.once(move |c, actor, now| op(c, actor, now).and_then(Answer::created)).await
}

/// Change a household member's role
///
/// Sets the member's `role` (`viewer`, `editor` or `manager`) and returns the
/// whole household; a change writes an audit event. A partial update: a body
/// without `role` changes nothing, `null` is 422. It acts on the household I
/// head: a user who is not a member of it answers 404 `not_household_member`.
#[utoipa::path(patch, path = "/api/v1/household/members/{user_id}", operation_id = "changeHouseholdMemberRole", tag = "households", security(("bearer" = [])), params(("user_id" = Uuid, Path)), request_body = ChangeRoleRequest,
    responses((status = 200, description = "Changed", body = HouseholdView), MalformedJson, Unauthorized, (status = 404, description = "`not_household_member`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role", body = Problem, content_type = "application/problem+json")))]
pub async fn change_role(ctx: Ctx, id: Path<Uuid>, body: ValidJson<ChangeRoleRequest>) -> Reply {
    let cmd = households::ChangeRole { member: *id, role: new_role(body.0)? };
    let current = move |c: &mut _, actor: &_, _| households::mine_locked(c, actor, *id);
    ok_tagged(
        ctx.write_if_match(current, move |c, a, now| households::change_role(c, a, cmd, now)).await,
    )
}

/// Remove a member from my household
///
/// Ends the membership: the user no longer inherits my assets. Writes an audit
/// event; a user who is not a member of my household answers 404
/// `not_household_member`.
#[utoipa::path(delete, path = "/api/v1/household/members/{user_id}", operation_id = "removeHouseholdMember", tag = "households", security(("bearer" = [])), params(("user_id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), Unauthorized, (status = 404, description = "`not_household_member`", body = Problem, content_type = "application/problem+json")))]
pub async fn remove_member(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let member = id.into_inner();
    let current = move |c: &mut _, actor: &_, _| households::mine_locked(c, actor, member);
    done(
        ctx.write_if_match(current, move |c, a, now| households::remove_member(c, a, member, now))
            .await,
    )
}

/// List the households I belong to
///
/// Each household I am a member of: its `head`, my `role` there and when I was
/// added, oldest first, paged by `cursor` (or `page`) and `per_page`.
#[utoipa::path(get, path = "/api/v1/households", operation_id = "listMyHouseholdMemberships", tag = "households", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, description = "My memberships, oldest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<MembershipView>), Unauthorized, BadPaging))]
pub async fn my_memberships(ctx: Ctx, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.read(move |c, actor, _| households::memberships(c, actor, &q.0)).await)
}

/// Leave a household
///
/// Ends my membership in the household headed by `head_id`, so I no longer
/// inherit its head's assets; writes an audit event. 404 `not_household_member`
/// when I am not a member of it.
#[utoipa::path(delete, path = "/api/v1/households/{head_id}/membership", operation_id = "leaveHousehold", tag = "households", security(("bearer" = [])), params(("head_id" = Uuid, Path)),
    responses((status = 204, description = "Left"), Unauthorized, (status = 404, description = "`not_household_member`", body = Problem, content_type = "application/problem+json")))]
pub async fn leave(ctx: Ctx, id: Path<Uuid>) -> Reply {
    let head = id.into_inner();
    done(ctx.write(move |c, actor, now| households::leave(c, actor, head, now)).await)
}

endpoints![my_household, add_member, change_role, remove_member, my_memberships, leave,
    ; tags:
    ("households", "Households and their members"),
];
