//! The `Link` header of every list: documented on each `200` whose body is
//! the page envelope (a `CursorPage_*` schema).

use utoipa::openapi::RefOr;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{Object, Type};

/// What the `Link` header of a list answer holds.
const ABOUT: &str = "Links to other pages of this list, as GitHub writes them: \
    `<url>; rel=\"next\"` when a page follows (the same query with the next `cursor`); \
    when paging by number also `rel=\"prev\"`, `rel=\"first\"` and, when `total_exact`, \
    `rel=\"last\"`. The URLs are root-relative and keep the other query parameters. \
    Absent on a last page reached by cursor.";

/// Adds the `Link` header to every list's `200`.
pub(super) struct ListLinks;

impl utoipa::Modify for ListLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in super::operations(item) {
                let Some(RefOr::T(answer)) = op.responses.responses.get_mut("200") else {
                    continue;
                };
                let paged = answer.content.values().any(|c| {
                    matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.starts_with("#/components/schemas/CursorPage_"))
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
