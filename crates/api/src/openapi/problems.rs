//! Which problem `code`s each operation sends, by status, and the modifier
//! that writes them into the contract: every 4xx (and 5xx) response of an
//! operation lists its codes in its description and carries one named
//! example per code (the catalogue's real document, `crate::problems`).
//!
//! The codes every operation of a kind can send are added by rule
//! ([`automatic`]): the token codes on bearer operations, the body codes on
//! operations with a body, `validation_failed` on a query, `not_found` for a
//! path id that is not one, `conflict` (a unique key a concurrent request
//! took first) on POST, PUT and PATCH, 500 and 503. The table
//! below holds the rest, per `operationId`. The integration tests check every
//! problem they receive against the committed contract (`tests/src/contract.rs`).

use std::collections::BTreeMap;

use utoipa::Modify;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};

use crate::error::PROBLEM_JSON;
use crate::problems::ProblemCode::{self, *};

/// Status → codes.
type Codes = BTreeMap<u16, Vec<ProblemCode>>;

/// One status of an operation in the table, with the codes it sends.
type StatusCodes = (u16, &'static [ProblemCode]);

pub(super) struct PerOperation;

impl Modify for PerOperation {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, code) in
            [("InternalError", InternalError), ("ServiceUnavailable", ServiceUnavailable)]
        {
            let status = code.status().as_u16();
            components.responses.insert(name.to_owned(), answer(status, &[code], None).into());
        }
        if let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") {
            for (name, schema) in extra_members() {
                problem.properties.insert(name.to_owned(), schema.into());
            }
        }
        let table: BTreeMap<&str, _> = OPERATIONS.iter().copied().collect();
        for (path, item) in openapi.paths.paths.iter_mut() {
            // (operation, whether it is a write: POST, PUT or PATCH)
            let slots = [
                (&mut item.get, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.delete, false),
                (&mut item.options, false),
                (&mut item.head, false),
                (&mut item.patch, true),
                (&mut item.trace, false),
            ];
            for (op, write) in slots {
                let Some(op) = op.as_mut() else { continue };
                let mut codes = automatic(path, op, write);
                let id = op.operation_id.as_deref().unwrap_or_default();
                for (status, listed) in table.get(id).copied().unwrap_or_default() {
                    let entry = codes.entry(*status).or_default();
                    entry.extend(listed.iter().filter(|c| !entry.contains(c)).collect::<Vec<_>>());
                }
                document(op, &codes);
            }
        }
        if let Some(info) = openapi.info.description.as_mut() {
            info.push_str("\n\n## Problem codes\n\nEvery `code` the server sends (each operation lists the ones it sends, by status, with an example of each):\n\n");
            info.push_str(&ProblemCode::table());
        }
    }
}

/// The members some problems carry besides the standard ones (the
/// catalogue's examples show them).
fn extra_members() -> [(&'static str, Schema); 4] {
    let status = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(keyholder_domain::InvitationState::ALL.map(|s| s.as_str())))
        .description(Some(
            "On `invitation_not_pending` and `invitation_expired`: the invitation's current status.",
        ));
    let ids = ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))))
        .description(Some(
            "On `assets_not_found`, `full_access_required` and `last_collaborator` over a selection of assets, on `inviter_cannot_grant` for a bulk invitation's token, and on `account_deletion_blocked`: the assets concerned.",
        ));
    let estates = ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .description(Some("On `account_deletion_blocked`: the estates the account owns."));
    let uuid = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
    };
    let pair = ObjectBuilder::new()
        .property("email", ObjectBuilder::new().schema_type(Type::String))
        .property("asset_id", uuid())
        .required("email")
        .required("asset_id");
    let pairs = ArrayBuilder::new().items(pair).description(Some(
        "On `invitation_pending` from a bulk invitation: each email and asset that already have a pending invitation.",
    ));
    [
        ("invitation_status", status.build().into()),
        ("asset_ids", ids.build().into()),
        ("estate_ids", estates.build().into()),
        ("pairs", pairs.build().into()),
    ]
}

/// The codes an operation sends by its kind.
fn automatic(path: &str, op: &Operation, write: bool) -> Codes {
    let mut codes = Codes::new();
    let mut add = |status: u16, list: &[ProblemCode]| codes.entry(status).or_default().extend(list);
    let bearer = serde_json::to_value(&op.security)
        .is_ok_and(|s| s.as_array().is_some_and(|a| a.iter().any(|r| r.get("bearer").is_some())));
    if bearer {
        add(401, &[MissingToken, InvalidToken, TokenExpired, TokenRevoked, SessionEnded]);
    }
    let params = op.parameters.iter().flatten();
    let (mut query, mut path_ids) = (false, false);
    for p in params {
        query |= matches!(p.parameter_in, ParameterIn::Query);
        path_ids |= matches!(p.parameter_in, ParameterIn::Path);
    }
    let multipart = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.keys().any(|k| k.starts_with("multipart/")));
    if multipart {
        // An upload: its own codes for the body (the table's 413 and 415).
        add(400, &[MalformedMultipart]);
    } else if op.request_body.is_some() {
        add(400, &[MalformedJson, UnsupportedContentType, UnreadableBody]);
        add(413, &[PayloadTooLarge]);
    }
    if op.request_body.is_some() || query {
        add(422, &[ValidationFailed]);
    }
    if path_ids {
        add(404, &[NotFound]);
    }
    let header = |name: &str| {
        op.parameters.iter().flatten().any(|p| {
            matches!(p.parameter_in, ParameterIn::Header) && p.name.eq_ignore_ascii_case(name)
        })
    };
    if header("If-Match") {
        add(412, &[PreconditionFailed]);
    }
    if header("Idempotency-Key") {
        add(409, &[IdempotencyKeyInProgress]);
        add(422, &[IdempotencyKeyReused]);
    }
    if write && path.starts_with("/api/") {
        add(409, &[Conflict]);
    }
    if path.starts_with("/api/") {
        add(500, &[InternalError]);
        add(503, &[ServiceUnavailable]);
    }
    codes
}

/// Writes each status's codes into the operation's responses.
fn document(op: &mut Operation, codes: &Codes) {
    for (status, list) in codes {
        let key = status.to_string();
        let shared = match *status {
            500 => Some("InternalError"),
            503 => Some("ServiceUnavailable"),
            _ => None,
        };
        if let Some(name) =
            shared.filter(|_| list.len() == 1 && list[0].status().as_u16() == *status)
        {
            op.responses.responses.insert(key, RefOr::Ref(Ref::from_response_name(name)));
            continue;
        }
        let old = match op.responses.responses.remove(&key) {
            Some(RefOr::T(r)) => Some(r),
            _ => None,
        };
        op.responses.responses.insert(key, answer(*status, list, old).into());
    }
}

/// A problem+json response listing `codes`, with an example of each; the
/// headers of the response it replaces are kept.
fn answer(status: u16, codes: &[ProblemCode], old: Option<Response>) -> Response {
    let title = actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let mut description = format!("{title}:");
    let mut content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem")));
    for code in codes {
        description.push_str(&format!("\n- `{code}`: {}", code.meaning()));
        let example = ExampleBuilder::new()
            .summary(code.meaning())
            .value(Some(code.document(status)))
            .build();
        content = content.examples_from_iter([(code.as_str(), example)]);
    }
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content.build())
        .build();
    if let Some(old) = old {
        response.headers = old.headers;
    }
    response
}

/// The codes each operation sends besides the [`automatic`] ones.
#[rustfmt::skip]
const OPERATIONS: &[(&str, &[StatusCodes])] = &[
    ("explainAccess", &[  // GET /api/v1/access/explain
        (404, &[NotFound]),
    ]),
    ("listAssetInvitations", &[  // GET /api/v1/asset-invitations
    ]),
    ("sendAssetInvitation", &[  // POST /api/v1/asset-invitations
        (403, &[FullAccessRequired, EmailNotVerified]),
        (404, &[AssetNotFound]),
        (409, &[InvitationPending]),
        (422, &[SelfInvitation]),
        (429, &[RateLimited, DailyInvitationLimit]),
    ]),
    ("sendAssetInvitationsInBulk", &[  // POST /api/v1/asset-invitations/bulk
        (403, &[FullAccessRequired, EmailNotVerified]),
        (404, &[AssetsNotFound]),
        (409, &[InvitationPending]),
        (422, &[SelfInvitation]),
        (429, &[RateLimited, DailyInvitationLimit]),
    ]),
    ("exportAssetInvitations", &[  // GET /api/v1/asset-invitations/export
        (422, &[ExportTooLarge]),
    ]),
    ("getAssetInvitationStats", &[  // GET /api/v1/asset-invitations/stats
        (403, &[FullAccessRequired]),
        (404, &[AssetNotFound]),
    ]),
    ("getAssetInvitation", &[  // GET /api/v1/asset-invitations/{invitation_id}
        (404, &[InvitationNotFound]),
    ]),
    ("cancelAssetInvitation", &[  // POST /api/v1/asset-invitations/{invitation_id}/cancel
        (404, &[InvitationNotFound]),
        (409, &[InvitationNotPending]),
    ]),
    ("resendAssetInvitation", &[  // POST /api/v1/asset-invitations/{invitation_id}/resend
        (403, &[EmailNotVerified, FullAccessRequired]),
        (404, &[InvitationNotFound]),
        (409, &[InvitationNotPending]),
        (429, &[RateLimited, DailyInvitationLimit]),
    ]),
    ("listGarage", &[  // GET /api/v1/assets
    ]),
    ("createAsset", &[  // POST /api/v1/assets
        (403, &[SiteEditorRequired]),
        (404, &[SiteNotFound]),
    ]),
    ("getAsset", &[  // GET /api/v1/assets/{asset_id}
        (404, &[AssetNotFound]),
    ]),
    ("deleteAsset", &[  // DELETE /api/v1/assets/{asset_id}
        (403, &[FullAccessRequired]),
        (404, &[AssetNotFound]),
    ]),
    ("updateAsset", &[  // PATCH /api/v1/assets/{asset_id}
        (403, &[EditAccessRequired, FullAccessRequired, SiteEditorRequired, EstateAdminRequired]),
        (404, &[AssetNotFound, SiteNotFound]),
    ]),
    ("listAssetAccess", &[  // GET /api/v1/assets/{asset_id}/access
        (403, &[FullAccessRequired]),
        (404, &[AssetNotFound]),
    ]),
    ("listCollaborators", &[  // GET /api/v1/assets/{asset_id}/collaborators
        (404, &[AssetNotFound]),
    ]),
    ("addCollaborator", &[  // POST /api/v1/assets/{asset_id}/collaborators
        (403, &[FullAccessRequired, EmailNotVerified]),
        (404, &[AssetNotFound, UserNotFound]),
        (409, &[AlreadyCollaborator]),
        (429, &[RateLimited]),
    ]),
    ("removeCollaborator", &[  // DELETE /api/v1/assets/{asset_id}/collaborators/{user_id}
        (403, &[FullAccessRequired]),
        (404, &[AssetNotFound, NotACollaborator]),
        (409, &[LastCollaborator]),
    ]),
    ("listInvitationsForAsset", &[  // GET /api/v1/assets/{asset_id}/invitations
        (403, &[FullAccessRequired]),
        (404, &[AssetNotFound]),
    ]),
    ("sendInvitationForAsset", &[  // POST /api/v1/assets/{asset_id}/invitations
        (403, &[FullAccessRequired, EmailNotVerified]),
        (404, &[AssetNotFound]),
        (409, &[InvitationPending]),
        (422, &[SelfInvitation]),
        (429, &[RateLimited, DailyInvitationLimit]),
    ]),
    ("listPhotos", &[  // GET /api/v1/assets/{asset_id}/photos
        (404, &[AssetNotFound]),
    ]),
    ("addPhoto", &[  // POST /api/v1/assets/{asset_id}/photos
        (403, &[EditAccessRequired]),
        (404, &[AssetNotFound]),
    ]),
    ("getPhoto", &[  // GET /api/v1/assets/{asset_id}/photos/{photo_id}
        (404, &[AssetNotFound, PhotoNotFound]),
    ]),
    ("deletePhoto", &[  // DELETE /api/v1/assets/{asset_id}/photos/{photo_id}
        (403, &[ManageAccessRequired]),
        (404, &[AssetNotFound, PhotoNotFound]),
    ]),
    ("listFiles", &[  // GET /api/v1/assets/{asset_id}/files
        (404, &[AssetNotFound]),
    ]),
    ("uploadFile", &[  // POST /api/v1/assets/{asset_id}/files
        (403, &[EditAccessRequired]),
        (404, &[AssetNotFound]),
        (408, &[UploadTimeout]),
        (409, &[FileLimitReached]),
        (413, &[FileTooLarge]),
        (415, &[UnsupportedFileType]),
    ]),
    ("getFile", &[  // GET /api/v1/assets/{asset_id}/files/{file_id}
        (404, &[AssetNotFound, FileNotFound]),
    ]),
    ("downloadFile", &[  // GET /api/v1/assets/{asset_id}/files/{file_id}/content
        (404, &[AssetNotFound, FileNotFound]),
    ]),
    ("deleteFile", &[  // DELETE /api/v1/assets/{asset_id}/files/{file_id}
        (403, &[ManageAccessRequired]),
        (404, &[AssetNotFound, FileNotFound]),
    ]),
    ("listRecords", &[  // GET /api/v1/assets/{asset_id}/records
        (404, &[AssetNotFound]),
    ]),
    ("exportRecords", &[  // GET /api/v1/assets/{asset_id}/records/export
        (404, &[AssetNotFound]),
        (422, &[ExportTooLarge]),
    ]),
    ("addRecord", &[  // POST /api/v1/assets/{asset_id}/records
        (403, &[EditAccessRequired]),
        (404, &[AssetNotFound]),
    ]),
    ("getRecord", &[  // GET /api/v1/assets/{asset_id}/records/{record_id}
        (404, &[AssetNotFound, RecordNotFound]),
    ]),
    ("deleteRecord", &[  // DELETE /api/v1/assets/{asset_id}/records/{record_id}
        (403, &[ManageAccessRequired]),
        (404, &[AssetNotFound, RecordNotFound]),
    ]),
    ("updateRecord", &[  // PATCH /api/v1/assets/{asset_id}/records/{record_id}
        (403, &[EditAccessRequired]),
        (404, &[AssetNotFound, RecordNotFound]),
    ]),
    ("listShares", &[  // GET /api/v1/assets/{asset_id}/shares
        (403, &[FullAccessRequired]),
        (404, &[AssetNotFound]),
    ]),
    ("revokeShare", &[  // DELETE /api/v1/assets/{asset_id}/shares/{user_id}
        (403, &[FullAccessRequired]),
        (404, &[AssetNotFound, ShareNotFound]),
    ]),
    ("changeShare", &[  // PATCH /api/v1/assets/{asset_id}/shares/{user_id}
        (403, &[FullAccessRequired]),
        (404, &[AssetNotFound, ShareNotFound]),
    ]),
    ("listUsers", &[  // GET /api/v1/admin/users
        (403, &[RootRequired]),
    ]),
    ("getUser", &[  // GET /api/v1/admin/users/{user_id}
        (403, &[RootRequired]),
        (404, &[UserNotFound]),
    ]),
    ("disableUser", &[  // POST /api/v1/admin/users/{user_id}/disable
        (403, &[RootRequired]),
        (404, &[UserNotFound]),
        (409, &[CannotDisableSelf, LastRoot]),
    ]),
    ("enableUser", &[  // POST /api/v1/admin/users/{user_id}/enable
        (403, &[RootRequired]),
        (404, &[UserNotFound]),
    ]),
    ("sendUserPasswordReset", &[  // POST /api/v1/admin/users/{user_id}/password-reset
        (403, &[RootRequired]),
        (404, &[UserNotFound]),
        (429, &[EmailRecentlySent]),
    ]),
    ("sendUserVerification", &[  // POST /api/v1/admin/users/{user_id}/verification
        (403, &[RootRequired]),
        (404, &[UserNotFound]),
        (409, &[AlreadyVerified]),
        (429, &[EmailRecentlySent]),
    ]),
    ("listAuditEvents", &[  // GET /api/v1/audit
    ]),
    ("exportAuditEvents", &[  // GET /api/v1/audit/export
        (422, &[ExportTooLarge]),
    ]),
    ("logIn", &[  // POST /api/v1/auth/login
        (401, &[InvalidCredentials]),
        (403, &[AccountDisabled]),
        (429, &[RateLimited]),
        (503, &[ServerBusy, ServiceUnavailable]),
    ]),
    ("refreshSession", &[  // POST /api/v1/auth/refresh
        (401, &[RefreshTokenInvalid, RefreshTokenReused, SessionExpired]),
        (403, &[AccountDisabled]),
        (429, &[RateLimited]),
    ]),
    ("logOut", &[  // POST /api/v1/auth/logout
    ]),
    ("confirmEmailChange", &[  // POST /api/v1/auth/email-change/confirm
        (404, &[TokenInvalid]),
        (409, &[TokenUsed, EmailTaken]),
        (410, &[TokenExpired]),
        (429, &[RateLimited]),
    ]),
    ("requestPasswordReset", &[  // POST /api/v1/auth/password-reset
        (429, &[RateLimited]),
    ]),
    ("confirmPasswordReset", &[  // POST /api/v1/auth/password-reset/confirm
        (410, &[TokenExpired]),
        (404, &[TokenInvalid]),
        (409, &[TokenUsed]),
        (429, &[RateLimited]),
        (503, &[ServerBusy, ServiceUnavailable]),
    ]),
    ("registerAccount", &[  // POST /api/v1/auth/register
        (409, &[EmailTaken, UsernameTaken]),
        (429, &[RateLimited]),
        (503, &[ServerBusy, ServiceUnavailable]),
    ]),
    ("verifyEmail", &[  // POST /api/v1/auth/verify-email
        (410, &[TokenExpired]),
        (404, &[TokenInvalid]),
        (409, &[TokenUsed]),
        (429, &[RateLimited]),
    ]),
    ("resendVerificationEmail", &[  // POST /api/v1/auth/verify-email/resend
        (409, &[AlreadyVerified]),
        (429, &[EmailRecentlySent, RateLimited]),
    ]),
    ("getCollaboratorSplit", &[  // GET /api/v1/collaborators
        (403, &[FullAccessRequired]),
        (404, &[AssetsNotFound]),
    ]),
    ("addCollaboratorsInBulk", &[  // POST /api/v1/collaborators/add
        (403, &[FullAccessRequired, EmailNotVerified]),
        (404, &[AssetsNotFound, UserNotFound]),
        (429, &[RateLimited]),
    ]),
    ("removeCollaboratorsInBulk", &[  // POST /api/v1/collaborators/remove
        (403, &[FullAccessRequired]),
        (404, &[AssetsNotFound]),
        (409, &[LastCollaborator]),
    ]),
    ("listEstates", &[  // GET /api/v1/estates
    ]),
    ("createEstate", &[  // POST /api/v1/estates
        (403, &[EmailNotVerified]),
    ]),
    ("getEstate", &[  // GET /api/v1/estates/{estate_id}
        (404, &[EstateNotFound]),
    ]),
    ("deleteEstate", &[  // DELETE /api/v1/estates/{estate_id}
        (403, &[InsufficientRole]),
        (404, &[EstateNotFound]),
        (409, &[EstateHasAssets]),
    ]),
    ("renameEstate", &[  // PATCH /api/v1/estates/{estate_id}
        (403, &[InsufficientRole]),
        (404, &[EstateNotFound]),
    ]),
    ("listEstateInvitations", &[  // GET /api/v1/estates/{estate_id}/invitations
        (403, &[InsufficientRole]),
        (404, &[EstateNotFound]),
    ]),
    ("getEstateInvitationStats", &[  // GET /api/v1/estates/{estate_id}/invitations/stats
        (403, &[InsufficientRole]),
        (404, &[EstateNotFound]),
    ]),
    ("getEstateInvitation", &[  // GET /api/v1/estates/{estate_id}/invitations/{invitation_id}
        (403, &[InsufficientRole]),
        (404, &[EstateNotFound, InvitationNotFound]),
    ]),
    ("inviteToEstate", &[  // POST /api/v1/estates/{estate_id}/invitations
        (403, &[InsufficientRole, CannotGrantRole, OwnerTransferRequired, EmailNotVerified]),
        (404, &[EstateNotFound]),
        (409, &[AlreadyMember, InvitationPending]),
        (422, &[SelfInvitation]),
        (429, &[RateLimited, DailyInvitationLimit]),
    ]),
    ("cancelEstateInvitation", &[  // POST /api/v1/estates/{estate_id}/invitations/{invitation_id}/cancel
        (403, &[InsufficientRole, CannotGrantRole]),
        (404, &[EstateNotFound, InvitationNotFound]),
        (409, &[InvitationNotPending]),
    ]),
    ("resendEstateInvitation", &[  // POST /api/v1/estates/{estate_id}/invitations/{invitation_id}/resend
        (403, &[InsufficientRole, CannotGrantRole, EmailNotVerified]),
        (404, &[EstateNotFound, InvitationNotFound]),
        (409, &[InvitationNotPending]),
        (429, &[RateLimited, DailyInvitationLimit]),
    ]),
    ("listEstateMembers", &[  // GET /api/v1/estates/{estate_id}/members
        (404, &[EstateNotFound]),
    ]),
    ("setEstateMember", &[  // PUT /api/v1/estates/{estate_id}/members/{user_id}
        (403, &[SelfRoleChange, OwnerTransferRequired, CannotGrantRole, CannotChangeMember, CannotReplaceOverride, SiteAdminScope, InsufficientRole, EmailNotVerified]),
        (404, &[NotAMember, EstateNotFound, SiteNotFound]),
        (422, &[NoOverrideForAdmins, DuplicateSite]),
    ]),
    ("removeEstateMember", &[  // DELETE /api/v1/estates/{estate_id}/members/{user_id}
        (403, &[OwnerTransferRequired, CannotChangeMember, InsufficientRole]),
        (404, &[EstateNotFound, NotAMember]),
        (409, &[LastCollaborator]),
    ]),
    ("listSites", &[  // GET /api/v1/estates/{estate_id}/sites
        (404, &[EstateNotFound]),
    ]),
    ("createSite", &[  // POST /api/v1/estates/{estate_id}/sites
        (403, &[InsufficientRole]),
        (404, &[EstateNotFound]),
    ]),
    ("transferEstateOwnership", &[  // POST /api/v1/estates/{estate_id}/transfer-ownership
        (403, &[InsufficientRole, SelfRoleChange, EmailNotVerified]),
        (404, &[EstateNotFound]),
        (422, &[NotAMember]),
    ]),
    ("searchUsersToInvite", &[  // GET /api/v1/estates/{estate_id}/user-search
        (403, &[InsufficientRole]),
        (404, &[UserNotFound, EstateNotFound]),
        (429, &[RateLimited]),
    ]),
    ("getMyHousehold", &[  // GET /api/v1/household
        (404, &[RootHasNoHousehold]),
    ]),
    ("addHouseholdMember", &[  // POST /api/v1/household/members
        (403, &[EmailNotVerified]),
        (404, &[UserNotFound, RootHasNoHousehold]),
        (409, &[AlreadyMember, MutualMembership]),
        (422, &[OwnHousehold, RootCannotBeMember]),
        (429, &[RateLimited]),
    ]),
    ("removeHouseholdMember", &[  // DELETE /api/v1/household/members/{user_id}
        (404, &[NotHouseholdMember]),
    ]),
    ("changeHouseholdMemberRole", &[  // PATCH /api/v1/household/members/{user_id}
        (404, &[NotHouseholdMember]),
    ]),
    ("listMyHouseholdMemberships", &[  // GET /api/v1/households
    ]),
    ("leaveHousehold", &[  // DELETE /api/v1/households/{head_id}/membership
        (404, &[NotHouseholdMember]),
    ]),
    ("acceptInvitation", &[  // POST /api/v1/invitations/accept
        (403, &[InvitationEmailMismatch]),
        (404, &[InvitationNotFound]),
        (409, &[InvitationNotPending, InviterCannotGrant]),
        (410, &[InvitationExpired]),
        (429, &[RateLimited]),
    ]),
    ("acceptInvitationWithSignUp", &[  // POST /api/v1/invitations/accept-signup
        (403, &[AccountDisabled]),
        (404, &[InvitationNotFound]),
        (409, &[EmailRegistered, UsernameTaken, InvitationNotPending, InviterCannotGrant]),
        (410, &[InvitationExpired]),
        (429, &[RateLimited]),
        (503, &[ServerBusy, ServiceUnavailable]),
    ]),
    ("declineInvitation", &[  // POST /api/v1/invitations/decline
        (404, &[InvitationNotFound]),
        (409, &[InvitationNotPending]),
        (410, &[InvitationExpired]),
        (429, &[RateLimited]),
    ]),
    ("previewInvitation", &[  // POST /api/v1/invitations/preview
        (404, &[InvitationNotFound]),
        (429, &[RateLimited]),
    ]),
    ("getMe", &[  // GET /api/v1/me
    ]),
    ("listMyAccess", &[  // GET /api/v1/me/access
    ]),
    ("listMyInvitations", &[  // GET /api/v1/me/invitations
        (403, &[EmailNotVerified]),
    ]),
    ("acceptMyInvitation", &[  // POST /api/v1/me/invitations/{invitation_id}/accept
        (403, &[EmailNotVerified]),
        (404, &[InvitationNotFound]),
        (409, &[InvitationNotPending, InviterCannotGrant]),
        (410, &[InvitationExpired]),
    ]),
    ("declineMyInvitation", &[  // POST /api/v1/me/invitations/{invitation_id}/decline
        (403, &[EmailNotVerified]),
        (404, &[InvitationNotFound]),
        (409, &[InvitationNotPending]),
        (410, &[InvitationExpired]),
    ]),
    ("listMySessions", &[  // GET /api/v1/me/sessions
    ]),
    ("revokeOtherSessions", &[  // POST /api/v1/me/sessions/revoke-others
    ]),
    ("revokeSession", &[  // DELETE /api/v1/me/sessions/{session_id}
        (404, &[SessionNotFound]),
    ]),
    ("requestEmailChange", &[  // POST /api/v1/me/email
        (403, &[WrongPassword]),
        (409, &[EmailTaken]),
        (429, &[RateLimited, EmailRecentlySent]),
        (503, &[ServerBusy, ServiceUnavailable]),
    ]),
    ("deleteMe", &[  // DELETE /api/v1/me
        (403, &[WrongPassword]),
        (409, &[AccountDeletionBlocked]),
        (429, &[RateLimited]),
        (503, &[ServerBusy, ServiceUnavailable]),
    ]),
    ("exportMyData", &[  // GET /api/v1/me/export
    ]),
    ("getMyNotificationSettings", &[  // GET /api/v1/me/notifications
    ]),
    ("updateMyNotificationSettings", &[  // PUT /api/v1/me/notifications
    ]),
    ("updateMe", &[  // PATCH /api/v1/me
        (409, &[UsernameTaken]),
    ]),
    ("changePassword", &[  // PUT /api/v1/me/password
        (403, &[WrongPassword]),
        (429, &[RateLimited]),
        (503, &[ServerBusy, ServiceUnavailable]),
    ]),
    ("dropMyShare", &[  // DELETE /api/v1/me/shares/{asset_id}
        (404, &[ShareNotFound]),
    ]),
    ("getSite", &[  // GET /api/v1/sites/{site_id}
        (404, &[SiteNotFound]),
    ]),
    ("deleteSite", &[  // DELETE /api/v1/sites/{site_id}
        (403, &[InsufficientRole]),
        (404, &[SiteNotFound]),
        (409, &[SiteHasAssets]),
    ]),
    ("renameSite", &[  // PATCH /api/v1/sites/{site_id}
        (403, &[InsufficientRole]),
        (404, &[SiteNotFound]),
    ]),
    ("listSiteMembers", &[  // GET /api/v1/sites/{site_id}/members
        (404, &[SiteNotFound]),
    ]),
    ("setSiteOverride", &[  // PUT /api/v1/sites/{site_id}/members/{user_id}
        (403, &[EmailNotVerified, SelfRoleChange, InsufficientRole, CannotChangeMember, CannotGrantRole, CannotReplaceOverride]),
        (404, &[SiteNotFound, NotAMember]),
        (422, &[NoOverrideForAdmins]),
    ]),
    ("clearSiteOverride", &[  // DELETE /api/v1/sites/{site_id}/members/{user_id}
        (403, &[EmailNotVerified, SelfRoleChange, InsufficientRole, CannotChangeMember, CannotReplaceOverride]),
        (404, &[SiteNotFound, NotAMember]),
    ]),
    ("checkLiveness", &[  // GET /health/live
    ]),
    ("checkReadiness", &[  // GET /health/ready
        (503, &[ServiceUnavailable]),
    ]),
    ("acceptInvitationPage", &[  // GET /invitations/accept
    ]),
    ("getMetrics", &[  // GET /metrics
        (401, &[MissingToken, InvalidToken]),
        (404, &[NotFound]),
    ]),
    ("resetPasswordPage", &[  // GET /reset-password
    ]),
    ("verifyEmailPage", &[  // GET /verify-email
    ]),
    ("listChanges", &[  // GET /api/v1/changes
    ]),
    ("getChangesHead", &[  // GET /api/v1/changes/head
    ]),
    ("createEstateWebhook", &[  // POST /api/v1/estates/{estate_id}/webhooks
        (403, &[InsufficientRole]),
        (404, &[EstateNotFound]),
    ]),
    ("listEstateWebhooks", &[  // GET /api/v1/estates/{estate_id}/webhooks
        (403, &[InsufficientRole]),
        (404, &[EstateNotFound]),
    ]),
    ("createMyWebhook", &[  // POST /api/v1/me/webhooks
    ]),
    ("listMyWebhooks", &[  // GET /api/v1/me/webhooks
    ]),
    ("getWebhook", &[  // GET /api/v1/webhooks/{webhook_id}
        (403, &[InsufficientRole]),
        (404, &[WebhookNotFound]),
    ]),
    ("updateWebhook", &[  // PATCH /api/v1/webhooks/{webhook_id}
        (403, &[InsufficientRole]),
        (404, &[WebhookNotFound]),
    ]),
    ("deleteWebhook", &[  // DELETE /api/v1/webhooks/{webhook_id}
        (403, &[InsufficientRole]),
        (404, &[WebhookNotFound]),
    ]),
    ("rotateWebhookSecret", &[  // POST /api/v1/webhooks/{webhook_id}/rotate-secret
        (403, &[InsufficientRole]),
        (404, &[WebhookNotFound]),
    ]),
    ("pingWebhook", &[  // POST /api/v1/webhooks/{webhook_id}/ping
        (403, &[InsufficientRole]),
        (404, &[WebhookNotFound]),
    ]),
    ("listWebhookDeliveries", &[  // GET /api/v1/webhooks/{webhook_id}/deliveries
        (403, &[InsufficientRole]),
        (404, &[WebhookNotFound]),
    ]),
    ("getWebhookDelivery", &[  // GET /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}
        (403, &[InsufficientRole]),
        (404, &[WebhookNotFound, DeliveryNotFound]),
    ]),
    ("redeliverWebhookDelivery", &[  // POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver
        (403, &[InsufficientRole]),
        (404, &[WebhookNotFound, DeliveryNotFound]),
    ]),
];
