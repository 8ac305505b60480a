//! The contract of safe retries and concurrent edits: `Idempotency-Key` on
//! the creating `POST`s (with `Idempotent-Replayed` and the 409/422
//! idempotency problems), `If-None-Match` with `ETag` and 304 on the reads
//! of one resource and of the members matrix, and `If-Match` with 412 on
//! the writes that honour it. See [`crate::idempotency`] and
//! [`crate::conditional`].

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Required};

use super::{operations, problem_response};

/// The creating `POST`s that take an `Idempotency-Key`.
const IDEMPOTENT: &[&str] = &[
    "createEstate",
    "createSite",
    "createAsset",
    "addRecord",
    "addPhoto",
    "addCollaborator",
    "addHouseholdMember",
    "sendAssetInvitation",
    "sendAssetInvitationsInBulk",
    "sendInvitationForAsset",
    "inviteToEstate",
];

/// The reads answered with an `ETag` (and 304 on `If-None-Match`).
const TAGGED: &[&str] = &[
    "getEstate",
    "getSite",
    "getAsset",
    "getMe",
    "getMyHousehold",
    "getAssetInvitation",
    "getRecord",
    "getPhoto",
    "getFile",
    "listEstateMembers",
];

/// The writes that honour `If-Match`, and whether the tag is the members
/// matrix's (else the resource's own).
const CONDITIONAL: &[(&str, bool)] = &[
    ("renameEstate", false),
    ("deleteEstate", false),
    ("renameSite", false),
    ("deleteSite", false),
    ("updateAsset", false),
    ("deleteAsset", false),
    ("setEstateMember", true),
    ("removeEstateMember", true),
    ("setSiteOverride", true),
    ("clearSiteOverride", true),
    ("changeHouseholdMemberRole", false),
    ("removeHouseholdMember", false),
    ("updateMe", false),
    ("updateRecord", false),
    ("deleteRecord", false),
    ("deletePhoto", false),
    ("deleteFile", false),
    ("resendAssetInvitation", false),
    ("cancelAssetInvitation", false),
];

/// Documents the headers, parameters and answers above.
pub(super) fn document(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        for op in operations(item) {
            let id = op.operation_id.clone().unwrap_or_default();
            if IDEMPOTENT.contains(&id.as_str()) {
                idempotent(op);
            }
            if TAGGED.contains(&id.as_str()) {
                tagged(op, id == "listEstateMembers");
            }
            if let Some((_, matrix)) = CONDITIONAL.iter().find(|(o, _)| *o == id) {
                conditional(op, *matrix);
            }
        }
    }
}

fn string_header(name: &str, about: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(about))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

fn add_header(op: &mut Operation, status: &str, name: &str, about: &str) {
    if let Some(RefOr::T(r)) = op.responses.responses.get_mut(status) {
        let header = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(about))
            .build();
        r.headers.insert(name.to_owned(), header);
    }
}

/// Adds a problem answer, or names its code in the answer already there.
fn add_problem(op: &mut Operation, status: u16, code: &str, detail: &str) {
    let key = status.to_string();
    match op.responses.responses.get_mut(&key) {
        Some(RefOr::T(r)) => r.description.push_str(&format!("; or `{code}`: {detail}")),
        // A shared answer is left as it is.
        Some(RefOr::Ref(_)) => {}
        None => {
            let answer = problem_response(status, code, detail);
            op.responses.responses.insert(key, answer.into());
        }
    }
}

fn idempotent(op: &mut Operation) {
    let key = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "1 to 255 visible ASCII characters naming this attempt. A retry with the same key \
             and the same request (path and body bytes) within 24 hours gets the first answer \
             again, with `Idempotent-Replayed: true`, and creates nothing. Only successful \
             answers are kept: after a 4xx the key may be used again.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[!-~]+$")),
        ))
        .example(Some(serde_json::json!("3f0c9a2e-create-estate")))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(key);
    for status in ["201", "202"] {
        let about = "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`";
        add_header(op, status, "Idempotent-Replayed", about);
    }
    add_problem(
        op,
        409,
        "idempotency_key_in_progress",
        "a request with this Idempotency-Key is still running; retry after `Retry-After`",
    );
    add_problem(
        op,
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was used for another request in the last 24 hours",
    );
}

fn tagged(op: &mut Operation, matrix: bool) {
    let about = "An `ETag` from an earlier read: 304 without a body while it is current.";
    op.parameters.get_or_insert_with(Vec::new).push(string_header("If-None-Match", about));
    let etag = if matrix {
        "Strong tag of this page of the matrix, `\"r<revision>-<hash>\"`; send it as `If-Match` on a member or override change"
    } else {
        "Strong tag of this representation; send it as `If-Match` on a change"
    };
    add_header(op, "200", "ETag", etag);
    let not_modified =
        ResponseBuilder::new().description("Not modified: the tag sent is current").build();
    op.responses.responses.insert("304".to_owned(), not_modified.into());
    add_header(op, "304", "ETag", etag);
}

fn conditional(op: &mut Operation, matrix: bool) {
    let about = if matrix {
        "The members matrix's `ETag` (from `listEstateMembers` or an earlier change): 412 when \
         a membership or override of the estate changed since; `*` or no header applies as usual."
    } else {
        "The resource's `ETag`: 412 when it changed since; `*` or no header applies as usual."
    };
    op.parameters.get_or_insert_with(Vec::new).push(string_header("If-Match", about));
    let etag = if matrix {
        "The members matrix's new tag, `\"r<revision>\"`, good as the next `If-Match`"
    } else {
        "The new tag of the resource"
    };
    for status in ["200", "204"] {
        if matrix || status == "200" {
            add_header(op, status, "ETag", etag);
        }
    }
    add_problem(
        op,
        412,
        "precondition_failed",
        "the If-Match tag is stale: read again and retry; nothing was changed",
    );
}
