use keyholder_domain::account::SharingAction;
use keyholder_domain::collaborators::CollaboratorRefusal;
use keyholder_domain::{
    GrantRefusal, HouseholdRefusal, InvitationState, Refusal, TransitionRefusal,
    asset::PlacementRefusal, invitation::InviteeRefusal,
};

use super::{ProblemCode, Scope};
use crate::error::ApiError;

/// Refusals of the domain that no request can meet, so not catalogued:
/// `invitation_not_expired` (only the expiry sweeper's transition returns
/// it), `empty_selection` (the API refuses an empty selection as a 422 on
/// `asset_ids` first) and `not_household_head` (the API only lets the head
/// change their household, and a member end their own membership).
const NEVER_ANSWERED: &[&str] =
    &["invitation_not_expired", "empty_selection", "not_household_head"];

/// Every refusal the domain has.
fn every_refusal() -> Vec<Box<dyn Refusal>> {
    let mut all: Vec<Box<dyn Refusal>> = Vec::new();
    all.extend(GrantRefusal::ALL.map(|r| Box::new(r) as Box<dyn Refusal>));
    all.extend(HouseholdRefusal::ALL.map(|r| Box::new(r) as Box<dyn Refusal>));
    all.extend(
        SharingAction::ALL
            .map(|a| Box::new(keyholder_domain::account::UnverifiedRefusal(a)) as Box<dyn Refusal>),
    );
    for r in [
        PlacementRefusal::FullAccessRequired,
        PlacementRefusal::SiteEditorRequired,
        PlacementRefusal::EstateAdminRequired,
    ] {
        all.push(Box::new(r));
    }
    for r in [TransitionRefusal::Expired, TransitionRefusal::Final(InvitationState::Accepted)] {
        all.push(Box::new(r));
    }
    all.push(Box::new(InviteeRefusal::SelfInvite));
    all.push(Box::new(InviteeRefusal::EmailMismatch));
    let ids = vec![uuid::Uuid::nil()];
    for r in [
        CollaboratorRefusal::AlreadyCollaborator,
        CollaboratorRefusal::NotACollaborator,
        CollaboratorRefusal::LastCollaborator { asset_ids: ids.clone() },
        CollaboratorRefusal::AssetsNotFound { asset_ids: ids.clone() },
        CollaboratorRefusal::FullAccessRequired { asset_ids: ids },
        CollaboratorRefusal::EmptySelection,
    ] {
        all.push(Box::new(r));
    }
    let blocked = keyholder_domain::account::DeletionFacts {
        is_root: false,
        owned_estates: vec![uuid::Uuid::nil()],
        sole_collaborator_of: Vec::new(),
    };
    all.push(Box::new(keyholder_domain::account::DeletionRefusal(blocked)));
    for r in [
        keyholder_domain::account::DisableRefusal::Myself,
        keyholder_domain::account::DisableRefusal::LastRoot,
    ] {
        all.push(Box::new(r));
    }
    all
}

#[test]
fn every_domain_refusal_is_catalogued_with_its_status() {
    for r in every_refusal().into_iter().filter(|r| !NEVER_ANSWERED.contains(&r.code())) {
        let code = ProblemCode::parse(r.code())
            .unwrap_or_else(|| panic!("refusal code {} is not in the catalogue", r.code()));
        let status = r.kind().http_status();
        assert!(
            code.examples().iter().any(|e| e.status == status),
            "{code} is catalogued without its refusal status {status}"
        );
        assert_eq!(ApiError::refused(&*r).code, code);
    }
}

#[test]
fn every_example_is_a_valid_problem_document() {
    for &code in ProblemCode::ALL {
        assert!(!code.meaning().is_empty(), "{code} has a meaning");
        for e in code.examples() {
            let doc = code.document(e.status);
            let obj = doc.as_object().expect("an object");
            assert_eq!(doc["type"], format!("urn:keyholder:problem:{code}"));
            let status = actix_web::http::StatusCode::from_u16(e.status).expect("a status");
            assert!(status.is_client_error() || status.is_server_error(), "{code}: {status}");
            assert_eq!(doc["title"], status.canonical_reason().expect("a reason"));
            assert_eq!(doc["status"], e.status);
            assert!(doc["detail"].as_str().is_some_and(|d| !d.trim().is_empty()), "{code}");
            assert_eq!(doc["code"], code.as_str());
            if let Some(errors) = obj.get("errors") {
                let errors = errors.as_object().expect("errors is an object");
                assert!(!errors.is_empty() && errors.values().all(serde_json::Value::is_string));
            }
            for (k, v) in e.extra {
                let parsed: serde_json::Value = serde_json::from_str(v)
                    .unwrap_or_else(|err| panic!("{code}: extra {k} is not JSON ({err})"));
                assert_eq!(doc[*k], parsed);
            }
            // The same document the error type renders.
            let mut err = ApiError::new(status, code, e.detail);
            if !e.errors.is_empty() {
                err.errors = Some(
                    e.errors.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
                );
            }
            for (k, v) in e.extra {
                err = err.with_extra(k, serde_json::from_str(v).expect("JSON"));
            }
            assert_eq!(serde_json::to_value(err.problem()).expect("JSON"), doc);
        }
    }
}

#[test]
fn codes_are_distinct_and_parse_back() {
    let mut seen = std::collections::HashSet::new();
    for &code in ProblemCode::ALL {
        assert!(seen.insert(code.as_str()), "{code} twice");
        assert_eq!(ProblemCode::parse(code.as_str()), Some(code));
        assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    }
}

#[test]
fn every_code_is_documented_where_it_can_be_sent() {
    let doc = serde_json::to_value(crate::openapi::document()).expect("JSON");
    let mut on_operations = std::collections::HashSet::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("item").values() {
            for response in op["responses"].as_object().expect("responses").values() {
                let examples = &response["content"]["application/problem+json"]["examples"];
                if let Some(examples) = examples.as_object() {
                    on_operations.extend(examples.keys().cloned());
                }
            }
        }
    }
    for response in doc["components"]["responses"].as_object().expect("shared").values() {
        let examples = &response["content"]["application/problem+json"]["examples"];
        on_operations.extend(examples.as_object().expect("examples").keys().cloned());
    }
    let any = &doc["components"]["schemas"]["ProblemCode"]["x-any-request"];
    let mut missing = Vec::new();
    for &code in ProblemCode::ALL {
        let documented = match code.scope() {
            Scope::Operation => on_operations.contains(code.as_str()),
            Scope::AnyRequest => any.as_array().is_some_and(|a| a.contains(&code.as_str().into())),
        };
        if !documented {
            missing.push(code.as_str());
        }
    }
    assert!(missing.is_empty(), "codes on no operation (or not in x-any-request): {missing:?}");
}

#[test]
fn the_readme_lists_the_catalogue() {
    let readme = include_str!("../../../../README.md");
    assert!(
        readme.contains(&ProblemCode::table()),
        "README's Problem codes table differs from ProblemCode::table()"
    );
}

#[test]
fn every_error_response_of_every_operation_lists_its_codes() {
    let doc = serde_json::to_value(crate::openapi::document()).expect("JSON");
    let mut bare = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            for (status, response) in op["responses"].as_object().expect("responses") {
                if status.starts_with(['4', '5']) && response.get("$ref").is_none() {
                    let examples = &response["content"]["application/problem+json"]["examples"];
                    let named = examples.as_object().map(|e| e.keys().cloned().collect::<Vec<_>>());
                    let listed = named.unwrap_or_default();
                    let valid = listed.iter().all(|c| ProblemCode::parse(c).is_some());
                    if listed.is_empty() || !valid {
                        bare.push(format!("{method} {path} {status}"));
                    }
                }
            }
        }
    }
    assert!(bare.is_empty(), "error responses without catalogued codes: {bare:?}");
}
