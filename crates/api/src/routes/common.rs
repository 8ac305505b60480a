//! Shared pieces of the resource routes: pagination, user summaries, role
//! schemas and domain refusals as problems.

use keyholder_domain::RefusalKind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::ApiError;

/// `?page=` (from 1) and `?per_page=` (1 to 100, default 25).
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[validate(range(min = 1, max = 1_000_000))]
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// Items per page, 1 to 100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1)
    }

    pub fn per_page(&self) -> i64 {
        self.per_page.unwrap_or(25)
    }

    pub fn offset(&self) -> i64 {
        (self.page() - 1).saturating_mul(self.per_page())
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// All items across pages.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T: ToSchema> Page<T> {
    pub fn new(items: Vec<T>, total: i64, q: &PageQuery) -> Self {
        Self {
            items,
            total,
            page: q.page(),
            per_page: q.per_page(),
        }
    }
}

/// Another user as others see them. `email` is shown only where the person
/// was reached by email (estate and site members, asset shares and
/// invitations) and only to those who administer that resource; people added
/// by username (collaborators, household members) are shown without it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
}

fn string_enum(values: &[&str], description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .into()
}

fn nullable_string_enum(values: &[&str], description: &str) -> RefOr<Schema> {
    let mut options: Vec<serde_json::Value> = values.iter().map(|v| json!(v)).collect();
    options.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(options))
        .description(Some(description))
        .into()
}

pub fn nullable_estate_role_schema() -> RefOr<Schema> {
    nullable_string_enum(
        &["viewer", "editor", "admin", "owner"],
        "Estate role, or null",
    )
}

pub fn nullable_site_role_schema() -> RefOr<Schema> {
    nullable_string_enum(
        &["viewer", "editor", "admin"],
        "Effective site role; null when kept off the site",
    )
}

pub fn nullable_site_override_schema() -> RefOr<Schema> {
    nullable_string_enum(
        &["none", "viewer", "editor", "admin"],
        "Site override; null for the estate default",
    )
}

pub fn estate_role_schema() -> RefOr<Schema> {
    string_enum(&["viewer", "editor", "admin", "owner"], "Estate role")
}

pub fn site_role_schema() -> RefOr<Schema> {
    string_enum(&["viewer", "editor", "admin"], "Effective site role")
}

pub fn site_override_schema() -> RefOr<Schema> {
    string_enum(
        &["none", "viewer", "editor", "admin"],
        "Site override (`none` keeps the member off the site)",
    )
}

/// A refusal from the domain, as a problem with the status the rules give it.
pub fn refusal(kind: RefusalKind, code: &'static str, detail: &str) -> ApiError {
    let status = actix_web::http::StatusCode::from_u16(kind.http_status())
        .unwrap_or(actix_web::http::StatusCode::FORBIDDEN);
    ApiError::new(status, code, detail)
}

/// Parses a role-like value from a request field (422 naming the field).
pub fn parse_field<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e: T::Err| ApiError::field(field, e.to_string()))
}
