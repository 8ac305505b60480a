//! The page envelope of every list in the contract: the `Link` header
//! documented on each `200` whose body is a `CursorPage_*` schema, and each
//! envelope's (and each export's, `ExportDocument_*`) `items` referring to
//! its item's own schema (utoipa writes a generic's item inline, leaving the
//! component unused).

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ArrayBuilder, Object, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

/// The schema name of the page envelope, before its item's name.
const ENVELOPE: &str = "CursorPage_";

/// The generic schemas whose `items` are a list's items: the page envelope
/// and the JSON document of an export.
const ITEM_HOLDERS: [&str; 2] = [ENVELOPE, "ExportDocument_"];

/// What the `Link` header of a list answer holds.
const ABOUT: &str = "Links to other pages of this list, as GitHub writes them: \
    `<url>; rel=\"next\"` when a page follows (the same query with the next `cursor`); \
    when paging by number also `rel=\"prev\"`, `rel=\"first\"` and, when `total_exact`, \
    `rel=\"last\"`. The URLs are root-relative and keep the other query parameters. \
    Absent on a last page reached by cursor.";

/// Adds the `Link` header to every list's `200` and points each envelope's
/// `items` at its item's component.
pub(super) struct ListLinks;

impl utoipa::Modify for ListLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        refer_to_items(openapi);
        for item in openapi.paths.paths.values_mut() {
            for op in super::operations(item) {
                let Some(RefOr::T(answer)) = op.responses.responses.get_mut("200") else {
                    continue;
                };
                let paged = answer.content.values().any(|c| {
                    matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.starts_with(&format!("#/components/schemas/{ENVELOPE}")))
                });
                if paged {
                    let header = HeaderBuilder::new()
                        .schema(Object::with_type(Type::String))
                        .description(Some(ABOUT))
                        .build();
                    answer.headers.insert("Link".to_owned(), header);
                }
            }
        }
    }
}

/// Writes each envelope's (and export document's) `items` as an array of
/// references to the item's component, where there is one.
fn refer_to_items(openapi: &mut utoipa::openapi::OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for name in names {
        let Some(item) = ITEM_HOLDERS.iter().find_map(|prefix| name.strip_prefix(prefix)) else {
            continue;
        };
        if !components.schemas.contains_key(item) {
            continue;
        }
        let items = ArrayBuilder::new().items(Ref::from_schema_name(item)).build();
        if let Some(RefOr::T(Schema::Object(envelope))) = components.schemas.get_mut(&name) {
            envelope.properties.insert("items".to_owned(), RefOr::T(Schema::Array(items)));
        }
    }
}
