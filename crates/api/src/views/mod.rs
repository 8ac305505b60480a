//! The API's answers: the JSON shapes use cases return and handlers send,
//! shared by [`crate::ops`] (which builds them) and [`crate::routes`] (which
//! documents and sends them).

pub mod access;
pub mod accounts;
pub mod assets;
pub mod audit;
pub mod common;
pub mod estates;
pub mod households;
pub mod invitations;
pub mod shares;
pub mod wire;

/// A string schema that takes one of `values` (no description).
pub(crate) fn string_values(values: &[&str]) -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values.iter().copied()))
        .into()
}
