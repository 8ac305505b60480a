//! OpenAPI `links`: which answer yields the ids another operation takes in
//! its path. A client (or Schemathesis' stateful phase) follows them from a
//! creating operation's `201` to the operations on what it created, and from
//! a few lists to the operations on their first item.
//!
//! One table, [`LINKS`]; each row names its source operation and answer,
//! the runtime expressions of the path parameters it supplies, and the
//! operations that take exactly those. `tests/tests/openapi.rs` checks that
//! every target exists and takes those parameters, that every expression
//! names a real field of the source, and that every operation with a path
//! parameter is reached.

use serde_json::{Value, json};
use utoipa::openapi::RefOr;

/// From the answer `status` of operation `from`, the `parameters`
/// (name, runtime expression or constant; a name is the target's path
/// parameter, or `query.<name>`) and the `body` lead to each operation of `to`.
struct Links {
    from: &'static str,
    status: &'static str,
    /// The fields of the target's request body that the answer fills.
    body: Option<fn() -> Value>,
    parameters: &'static [(&'static str, &'static str)],
    to: &'static [&'static str],
}

const ID: &str = "$response.body#/id";

/// The operations on one webhook endpoint.
const WEBHOOK_OPERATIONS: &[&str] = &[
    "getWebhook",
    "updateWebhook",
    "deleteWebhook",
    "rotateWebhookSecret",
    "pingWebhook",
    "listWebhookDeliveries",
];

const LINKS: &[Links] = &[
    Links {
        from: "createEstateWebhook",
        status: "201",
        body: None,
        parameters: &[("webhook_id", "$response.body#/webhook/id")],
        to: WEBHOOK_OPERATIONS,
    },
    Links {
        from: "createMyWebhook",
        status: "201",
        body: None,
        parameters: &[("webhook_id", "$response.body#/webhook/id")],
        to: WEBHOOK_OPERATIONS,
    },
    Links {
        from: "pingWebhook",
        status: "202",
        body: None,
        parameters: &[("webhook_id", "$response.body#/webhook_id"), ("delivery_id", ID)],
        to: &["getWebhookDelivery", "redeliverWebhookDelivery"],
    },
    Links {
        from: "createEstate",
        status: "201",
        body: None,
        parameters: &[("estate_id", ID)],
        to: &[
            "getEstate",
            "renameEstate",
            "deleteEstate",
            "listSites",
            "createSite",
            "listEstateMembers",
            "listEstateInvitations",
            "getEstateInvitationStats",
            "inviteToEstate",
            "searchUsersToInvite",
            "listEstateWebhooks",
            "createEstateWebhook",
        ],
    },
    Links {
        from: "createSite",
        status: "201",
        body: None,
        parameters: &[("site_id", ID)],
        to: &["getSite", "renameSite", "deleteSite", "listSiteMembers"],
    },
    // 201: a registered user was granted the role at once.
    Links {
        from: "inviteToEstate",
        status: "201",
        body: None,
        parameters: &[
            ("estate_id", "$request.path.estate_id"),
            ("user_id", "$response.body#/member/user/id"),
        ],
        to: &["setEstateMember", "removeEstateMember"],
    },
    Links {
        from: "inviteToEstate",
        status: "201",
        body: None,
        parameters: &[
            ("site_id", "$response.body#/member/sites/0/site_id"),
            ("user_id", "$response.body#/member/user/id"),
        ],
        to: &["setSiteOverride", "clearSiteOverride"],
    },
    Links {
        from: "inviteToEstate",
        status: "201",
        body: Some(|| json!({ "user_id": "$response.body#/member/user/id" })),
        parameters: &[("estate_id", "$request.path.estate_id")],
        to: &["transferEstateOwnership"],
    },
    Links {
        from: "setSiteOverride",
        status: "200",
        body: None,
        parameters: &[("site_id", "$request.path.site_id"), ("user_id", "$response.body#/user/id")],
        to: &["clearSiteOverride"],
    },
    Links {
        from: "setEstateMember",
        status: "200",
        body: None,
        parameters: &[
            ("site_id", "$response.body#/sites/0/site_id"),
            ("user_id", "$response.body#/user/id"),
        ],
        to: &["setSiteOverride", "clearSiteOverride"],
    },
    // 202: an invitation was emailed.
    Links {
        from: "inviteToEstate",
        status: "202",
        body: None,
        parameters: &[
            ("estate_id", "$request.path.estate_id"),
            ("invitation_id", "$response.body#/invitation/id"),
        ],
        to: &["getEstateInvitation", "cancelEstateInvitation", "resendEstateInvitation"],
    },
    Links {
        from: "createAsset",
        status: "201",
        body: None,
        parameters: &[("asset_id", ID)],
        to: &[
            "getAsset",
            "updateAsset",
            "deleteAsset",
            "listAssetAccess",
            "listCollaborators",
            "addCollaborator",
            "listShares",
            "listInvitationsForAsset",
            "sendInvitationForAsset",
            "listRecords",
            "exportRecords",
            "addRecord",
            "listPhotos",
            "addPhoto",
            "listFiles",
            "uploadFile",
        ],
    },
    Links {
        from: "addRecord",
        status: "201",
        body: None,
        parameters: &[("asset_id", "$response.body#/asset_id"), ("record_id", ID)],
        to: &["getRecord", "updateRecord", "deleteRecord"],
    },
    Links {
        from: "addPhoto",
        status: "201",
        body: None,
        parameters: &[("asset_id", "$response.body#/asset_id"), ("photo_id", ID)],
        to: &["getPhoto", "deletePhoto"],
    },
    Links {
        from: "uploadFile",
        status: "201",
        body: None,
        parameters: &[("asset_id", "$response.body#/asset_id"), ("file_id", ID)],
        to: &["getFile", "downloadFile", "deleteFile"],
    },
    Links {
        from: "addCollaborator",
        status: "201",
        body: None,
        parameters: &[
            ("asset_id", "$request.path.asset_id"),
            ("user_id", "$response.body#/user/id"),
        ],
        to: &["removeCollaborator"],
    },
    Links {
        from: "listShares",
        status: "200",
        body: None,
        parameters: &[
            ("asset_id", "$request.path.asset_id"),
            ("user_id", "$response.body#/items/0/user/id"),
        ],
        to: &["changeShare", "revokeShare"],
    },
    Links {
        from: "sendAssetInvitation",
        status: "201",
        body: None,
        parameters: &[("invitation_id", ID)],
        to: &["getAssetInvitation", "resendAssetInvitation", "cancelAssetInvitation"],
    },
    Links {
        from: "sendInvitationForAsset",
        status: "201",
        body: None,
        parameters: &[("invitation_id", ID)],
        to: &["getAssetInvitation", "resendAssetInvitation", "cancelAssetInvitation"],
    },
    // A bulk invitation: its first row, and the batch's table and cards.
    Links {
        from: "sendAssetInvitationsInBulk",
        status: "201",
        body: None,
        parameters: &[("invitation_id", "$response.body#/invitations/0/id")],
        to: &["getAssetInvitation", "resendAssetInvitation", "cancelAssetInvitation"],
    },
    Links {
        from: "sendAssetInvitationsInBulk",
        status: "201",
        body: None,
        parameters: &[("query.batch_id", "$response.body#/batch_id")],
        to: &["listAssetInvitations", "getAssetInvitationStats"],
    },
    // The administrators' list leads to the operations on its first account.
    Links {
        from: "listUsers",
        status: "200",
        body: None,
        parameters: &[("user_id", "$response.body#/items/0/id")],
        to: &[
            "getUser",
            "disableUser",
            "enableUser",
            "sendUserPasswordReset",
            "sendUserVerification",
        ],
    },
    Links {
        from: "listMyInvitations",
        status: "200",
        body: None,
        parameters: &[("invitation_id", "$response.body#/items/0/id")],
        to: &["acceptMyInvitation", "declineMyInvitation"],
    },
    // An accepted asset invitation is a share the invitee may drop (for an
    // estate invitation the id is the estate's, and dropMyShare answers 404).
    Links {
        from: "acceptMyInvitation",
        status: "200",
        body: None,
        parameters: &[("asset_id", "$response.body#/resource/id")],
        to: &["dropMyShare"],
    },
    Links {
        from: "acceptInvitation",
        status: "200",
        body: None,
        parameters: &[("asset_id", "$response.body#/resource/id")],
        to: &["dropMyShare"],
    },
    Links {
        from: "addHouseholdMember",
        status: "201",
        body: None,
        parameters: &[("user_id", "$response.body#/user/id")],
        to: &["changeHouseholdMemberRole", "removeHouseholdMember"],
    },
    Links {
        from: "listMyHouseholdMemberships",
        status: "200",
        body: None,
        parameters: &[("head_id", "$response.body#/items/0/head/id")],
        to: &["leaveHousehold"],
    },
    // A site's own asset: the asset operations then run below an estate.
    Links {
        from: "createSite",
        status: "201",
        body: Some(|| json!({ "site_id": ID })),
        parameters: &[],
        to: &["createAsset"],
    },
    // A sign-in's session: refreshing its tokens, or ending it.
    Links {
        from: "logIn",
        status: "200",
        body: Some(|| json!({ "refresh_token": "$response.body#/refresh_token" })),
        parameters: &[],
        to: &["refreshSession"],
    },
    Links {
        from: "logIn",
        status: "200",
        body: None,
        parameters: &[("session_id", "$response.body#/session_id")],
        to: &["revokeSession"],
    },
    // The operations that name an asset in their body or query.
    Links {
        from: "createAsset",
        status: "201",
        body: Some(|| json!({ "asset_id": ID })),
        parameters: &[],
        to: &["sendAssetInvitation"],
    },
    Links {
        from: "createAsset",
        status: "201",
        body: Some(|| json!({ "asset_ids": [ID] })),
        parameters: &[],
        to: &["addCollaboratorsInBulk", "removeCollaboratorsInBulk", "sendAssetInvitationsInBulk"],
    },
    Links {
        from: "createAsset",
        status: "201",
        body: None,
        parameters: &[("query.resource_type", "asset"), ("query.resource_id", ID)],
        to: &["explainAccess"],
    },
    Links {
        from: "createAsset",
        status: "201",
        body: None,
        parameters: &[("query.asset_id", ID)],
        to: &["listAssetInvitations", "getAssetInvitationStats"],
    },
    Links {
        from: "createAsset",
        status: "201",
        body: None,
        parameters: &[("query.asset_ids", ID)],
        to: &["getCollaboratorSplit"],
    },
];

/// Adds the links of [`LINKS`] to the answers they start from.
///
/// utoipa 5's `Link` spells `operationId` and `requestBody` in snake_case,
/// so each answer's `links` member is written as JSON of its own (a raw
/// member of the response, in table order).
pub(super) struct OperationLinks;

impl utoipa::Modify for OperationLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in super::operations(item) {
                let id = op.operation_id.clone().unwrap_or_default();
                for (status, response) in op.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else { continue };
                    let rows = LINKS.iter().filter(|row| row.from == id && row.status == status);
                    let links: serde_json::Map<String, Value> = rows
                        .flat_map(|row| row.to.iter().map(move |target| (row, *target)))
                        .map(|(row, target)| (target.to_owned(), link(row, target)))
                        .collect();
                    if !links.is_empty() {
                        let extensions = response.extensions.get_or_insert_with(Default::default);
                        extensions.insert("links".to_owned(), Value::Object(links));
                    }
                }
            }
        }
    }
}

/// One Link Object: from `row`'s answer to operation `target`.
fn link(row: &Links, target: &str) -> Value {
    let parameters: serde_json::Map<String, Value> =
        row.parameters.iter().map(|(name, value)| ((*name).to_owned(), json!(value))).collect();
    let mut link = json!({ "operationId": target, "parameters": parameters });
    if let Some(body) = row.body {
        link["requestBody"] = body();
    }
    link["description"] = json!(format!("The {} of this answer, for {target}", names(row)));
    link
}

/// "estate_id" or "asset_id and record_id": what a row supplies.
fn names(row: &Links) -> String {
    let query = row.parameters.iter().filter_map(|(name, _)| name.strip_prefix("query."));
    let path = row.parameters.iter().map(|(name, _)| *name).filter(|n| !n.starts_with("query."));
    let body = row.body.map(|body| body()).unwrap_or_default();
    let fields = body.as_object().into_iter().flat_map(|o| o.keys()).map(String::as_str);
    let names: Vec<&str> = path.chain(query).chain(fields).collect();
    names.join(" and ")
}
