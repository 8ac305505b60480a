//! The OpenAPI 3.1 document: its front matter here, its paths and tags from
//! each route module's list of handlers ([`crate::routes::documented_paths`]).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::error::{PROBLEM_JSON, Problem, ProblemCode};

mod conditional;
mod enums;
mod links;
mod lists;
mod problems;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".to_owned());
        http.description =
            Some("Access token from /api/v1/auth/login or /api/v1/auth/register.".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
        let mut metrics = Http::new(HttpAuthScheme::Bearer);
        metrics.description = Some(
            "`KEYHOLDER_METRICS_TOKEN`, when the server sets one: /metrics then needs it."
                .to_owned(),
        );
        components.add_security_scheme("metrics_token", SecurityScheme::Http(metrics));
    }
}

/// What every operation shares, written once: the `500` and `503` answers
/// (components, referenced from each API operation that does not document
/// its own), the `Location` header of every `201`, and `security: []` on the
/// operations that need no token, so that every operation states its
/// security.
struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, status, code, detail) in SHARED {
            components
                .responses
                .insert((*name).to_owned(), problem_response(*status, code, detail).into());
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            for op in operations(item) {
                if op.security.is_none() {
                    op.security = Some(Vec::new());
                }
                if let Some(RefOr::T(created)) = op.responses.responses.get_mut("201") {
                    let about = "Where the created resource (or, for a grant, the member) is found";
                    let header = HeaderBuilder::new()
                        .schema(Object::with_type(Type::String))
                        .description(Some(about))
                        .build();
                    created.headers.insert("Location".to_owned(), header);
                }
                if path.starts_with("/api/") {
                    for (name, status, _, _) in SHARED {
                        op.responses
                            .responses
                            .entry(status.to_string())
                            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
                    }
                }
            }
        }
    }
}

/// The shared answers: component name, status, `code`, `detail`.
const SHARED: &[(&str, u16, &str, &str)] = &[
    (
        "InternalError",
        500,
        "internal_error",
        "Something went wrong on our side; it has been logged.",
    ),
    ("ServiceUnavailable", 503, "service_unavailable", "The database is busy; try again shortly."),
];

/// A problem+json response with its example.
fn problem_response(status: u16, code: &str, detail: &str) -> Response {
    let title = actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let example = serde_json::json!({
        "type": format!("urn:keyholder:problem:{code}"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    });
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .example(Some(example))
        .build();
    ResponseBuilder::new()
        .description(format!("{title}: `{code}`"))
        .content(PROBLEM_JSON, content)
        .build()
}

/// The operations of one path item.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keyholder API",
        description = "Share access to estates, sites and assets: roles, collaborators, \
                       households and email invitations. Errors are RFC 9457 \
                       `application/problem+json` documents with a stable `code`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    servers((url = "/", description = "This server: the document is served by the API it describes")),
    components(schemas(Problem, ProblemCode, crate::views::wire::AccountStatusFilter)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// The document as served and committed.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::routes::documented_paths());
    SharedAnswers.modify(&mut doc);
    lists::ListLinks.modify(&mut doc);
    conditional::document(&mut doc);
    enums::EnumComponents.modify(&mut doc);
    problems::PerOperation.modify(&mut doc);
    links::OperationLinks.modify(&mut doc);
    optional_bodies(&mut doc);
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The operations whose body may be left out (`OptionalJson`): a resend
/// without one keeps the expiry. utoipa marks every typed body required.
const OPTIONAL_BODIES: [&str; 2] = ["resendAssetInvitation", "resendEstateInvitation"];

fn optional_bodies(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            let id = op.operation_id.as_deref().unwrap_or_default();
            if let (true, Some(body)) = (OPTIONAL_BODIES.contains(&id), op.request_body.as_mut()) {
                body.required = Some(utoipa::openapi::Required::False);
            }
        }
    }
}

/// Pretty JSON with a trailing newline, exactly as in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut s = document().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
