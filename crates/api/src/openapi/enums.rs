//! The enum components every closed set is named by ([`crate::views::wire`]),
//! added to the document even where a field reaches them only through a
//! hand-written schema (the estate and site role schemas).

use utoipa::Modify;

pub struct EnumComponents;

impl Modify for EnumComponents {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in crate::views::wire::components() {
            components.schemas.entry(name).or_insert(schema);
        }
    }
}
