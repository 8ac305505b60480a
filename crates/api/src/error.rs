//! The one error type at the HTTP edge. Every failure a client can see is an
//! RFC 9457 `application/problem+json` body with a stable `code`.

use std::collections::BTreeMap;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use keyholder_domain::values::ValueError;
use keyholder_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::problems::ProblemCode;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem document (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:keyholder:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:keyholder:problem:asset_not_found")]
    pub type_: String,
    /// The HTTP status phrase.
    #[schema(example = "Not Found")]
    pub title: String,
    /// The HTTP status code, repeated.
    #[schema(minimum = 400, maximum = 599, example = 404)]
    pub status: u16,
    /// What went wrong, for people.
    #[schema(example = "No such asset.")]
    pub detail: String,
    /// Stable machine-readable code (the catalogue in `ProblemCode`).
    pub code: ProblemCode,
    /// For validation failures: a message per field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, String>>,
    /// Extra members for some problems (for example the current `status` of
    /// an invitation on a 409).
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(ignore)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// An error that renders as problem+json.
///
/// `Debug` (which tracing-actix-web logs for every error response) shows the
/// status, the code and the names of invalid fields only: details and field
/// messages can echo what the client sent (an email typed as a username, a
/// value serde quotes back).
#[derive(Clone, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ProblemCode,
    pub detail: String,
    pub errors: Option<BTreeMap<String, String>>,
    pub extra: serde_json::Map<String, serde_json::Value>,
    pub retry_after: Option<u64>,
    /// What went wrong on our side (a 5xx's cause), for the request's one
    /// log line; never sent to the client.
    pub cause: Option<String>,
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("ApiError");
        d.field("status", &self.status.as_u16()).field("code", &self.code);
        if let Some(errors) = &self.errors {
            d.field("fields", &errors.keys().collect::<Vec<_>>());
        }
        d.finish_non_exhaustive()
    }
}

/// The constructors of an error by its status:
/// `ApiError::not_found(ProblemCode::AssetNotFound, "detail")` and so on.
macro_rules! by_status {
    ($($name:ident => $status:ident,)*) => {$(
        pub fn $name(code: ProblemCode, detail: impl Into<String>) -> Self {
            Self::new(StatusCode::$status, code, detail)
        }
    )*};
}

impl ApiError {
    /// A domain rule's refusal: the status its kind maps to, its code and
    /// its sentence. The one conversion from the domain's refusals.
    pub fn refused(r: impl keyholder_domain::Refusal) -> Self {
        let status = StatusCode::from_u16(r.kind().http_status()).unwrap_or(StatusCode::FORBIDDEN);
        Self::new(status, ProblemCode::of_refusal(r.code(), status), r.detail())
    }

    pub fn new(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: None,
            extra: serde_json::Map::new(),
            retry_after: None,
            cause: None,
        }
    }

    by_status! {
        bad_request => BAD_REQUEST,
        unauthorized => UNAUTHORIZED,
        forbidden => FORBIDDEN,
        not_found => NOT_FOUND,
        conflict => CONFLICT,
        gone => GONE,
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut e =
            Self::new(StatusCode::SERVICE_UNAVAILABLE, ProblemCode::ServiceUnavailable, detail);
        e.retry_after = Some(5);
        e
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ProblemCode::InternalError,
            "Something went wrong on our side; it has been logged.",
        )
    }

    /// 422 with a message per field.
    pub fn validation(errors: BTreeMap<String, String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::ValidationFailed,
            "Some fields are not valid.",
        );
        e.errors = Some(errors);
        e
    }

    /// 422 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(BTreeMap::from([(field.to_owned(), message.into())]))
    }

    /// Replaces the code (for a 422 that names a rule).
    pub fn with_code(mut self, code: ProblemCode) -> Self {
        self.code = code;
        self
    }

    pub fn with_extra(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:keyholder:problem:{}", self.code.as_str()),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
            extra: self.extra.clone(),
        }
    }
}

impl ApiError {
    /// The problem+json response (for handlers that return a response).
    pub fn error_response_owned(&self) -> HttpResponse {
        // Carries the error, so the access log names its code.
        HttpResponse::from_error(self.clone())
    }

    /// The same error, with the cause its log line names.
    pub fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut builder = HttpResponse::build(self.status);
        builder.content_type(PROBLEM_JSON);
        if let Some(secs) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        builder.json(self.problem())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => {
                Self::not_found(ProblemCode::NotFound, "The resource does not exist.")
            }
            StoreError::Conflict(_) => Self::conflict(
                ProblemCode::Conflict,
                "The change conflicts with the current state; reload and try again.",
            ),
            StoreError::Unavailable(msg) => {
                Self::unavailable("The database is unavailable; try again shortly.").caused_by(msg)
            }
            other => Self::internal().caused_by(other),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal().caused_by(format!("blocking task failed: {e}"))
    }
}

/// Collects field errors, so one 422 names every bad field at once.
#[derive(Debug, Default)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records the error under `field`.
    pub fn check<T>(&mut self, field: &str, r: Result<T, ValueError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err(422)` when anything was recorded.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::validation(self.0)) }
    }

    pub fn into_error(self) -> ApiError {
        ApiError::validation(self.0)
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut map = BTreeMap::new();
        for (field, errs) in errors.field_errors() {
            let message = errs
                .first()
                .map(|e| e.message.as_ref().map(ToString::to_string).unwrap_or_else(|| describe(e)))
                .unwrap_or_else(|| "is not valid".to_owned());
            map.insert(field.to_string(), message);
        }
        Self::validation(map)
    }
}

fn describe(e: &validator::ValidationError) -> String {
    let p = |k: &str| e.params.get(k).map(ToString::to_string);
    match e.code.as_ref() {
        "length" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max} characters"),
            (Some(min), None) => format!("must be at least {min} characters"),
            (None, Some(max)) => format!("must be at most {max} characters"),
            _ => "has the wrong length".to_owned(),
        },
        "range" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".to_owned(),
        },
        other => format!("is not valid ({other})"),
    }
}

/// Rewrites any error response that is not already problem+json (actix's own
/// 404, 405, 413 and extractor errors) into one, so no client ever sees a
/// plain-text error body.
pub fn problemize<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    // A refused CORS request (origin, method or headers not allowed): 403.
    if let Some(cors) = res.response().error().and_then(|e| e.as_error::<actix_cors::CorsError>()) {
        let err =
            ApiError::forbidden(ProblemCode::CorsRefused, format!("CORS request refused: {cors}."));
        let (req, old) = res.into_parts();
        let mut new = err.error_response_owned();
        if let Some(vary) = old.headers().get(header::VARY) {
            new.headers_mut().insert(header::VARY, vary.clone());
        }
        return Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, new).map_into_right_body(),
        ));
    }
    let status = res.status();
    let (code, detail): (ProblemCode, String) = match status {
        StatusCode::NOT_FOUND => (ProblemCode::NotFound, "No such resource.".into()),
        StatusCode::METHOD_NOT_ALLOWED => (
            ProblemCode::MethodNotAllowed,
            format!("{} is not allowed on this path.", res.request().method()),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            (ProblemCode::PayloadTooLarge, "The request body is too large.".into())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            (ProblemCode::UnsupportedMediaType, "Send the body as application/json.".into())
        }
        StatusCode::BAD_REQUEST => {
            (ProblemCode::BadRequest, "The request could not be read.".into())
        }
        StatusCode::UNAUTHORIZED => {
            (ProblemCode::Unauthorized, "Authentication is required.".into())
        }
        StatusCode::TOO_MANY_REQUESTS => {
            (ProblemCode::RateLimited, "Too many requests; slow down.".into())
        }
        s if s.is_server_error() => {
            (ProblemCode::InternalError, "Something went wrong on our side.".into())
        }
        _ => (ProblemCode::Error, status.canonical_reason().unwrap_or("Error").to_owned()),
    };
    let mut err = ApiError::new(status, code, detail);
    if status.is_server_error()
        && let Some(original) = res.response().error()
    {
        err = err.caused_by(original);
    }
    let (req, old) = res.into_parts();
    let mut new = err.error_response_owned();
    // Keep headers such as Allow, Retry-After and the rate-limit ones.
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    new.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body()))
}

/// Declares an error response many operations share, so that each
/// operation's `responses(...)` names it instead of repeating it.
macro_rules! common_response {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal) => {
        $(#[$doc])*
        #[derive(utoipa::IntoResponses)]
        #[response(
            status = $status,
            description = $description,
            content_type = "application/problem+json"
        )]
        pub struct $name(pub Problem);
    };
}

common_response!(
    /// 401 `missing_token`, `invalid_token` or `token_revoked`.
    Unauthorized, 401, "No valid access token"
);
common_response!(
    /// 400: the body is not JSON.
    MalformedJson, 400, "Malformed JSON"
);
common_response!(
    /// 400: the body is not JSON, or not sent as JSON.
    MalformedJsonOrType, 400, "Malformed JSON or wrong content type"
);
common_response!(
    /// 413: the body is over the limit.
    BodyTooLarge, 413, "Body too large"
);
common_response!(
    /// 429 from the per-address limit of the sign-in and token routes.
    TooManyFromAddress, 429, "Too many requests from this address"
);
common_response!(
    /// 422: `page`, `per_page` or `cursor` out of range.
    BadPaging, 422, "Bad paging"
);
common_response!(
    /// 404 `asset_not_found`: no such asset, or out of the caller's reach.
    AssetNotFound, 404, "`asset_not_found`"
);
common_response!(
    /// 422: one or more fields are invalid (each named).
    InvalidFields, 422, "Invalid fields"
);
common_response!(
    /// 404 `estate_not_found`.
    NoSuchEstate, 404, "No such estate"
);
common_response!(
    /// 403 `full_access_required`.
    FullAccessRequired, 403, "`full_access_required`"
);
common_response!(
    /// 422: the body's fields are invalid.
    InvalidBody, 422, "Invalid body"
);
common_response!(
    /// 404 `invitation_not_found`.
    InvitationNotFound, 404, "`invitation_not_found`"
);
common_response!(
    /// 429: the per-user or daily invitation limit.
    TooManyInvitations, 429, "Too many invitations"
);
common_response!(
    /// 410 `invitation_expired`.
    InvitationExpired, 410, "`invitation_expired`"
);
common_response!(
    /// 409 `invitation_not_pending`, naming the current status.
    InvitationNotPending, 409, "`invitation_not_pending`, with `invitation_status`"
);
common_response!(
    /// 403 `insufficient_role`.
    InsufficientRole, 403, "`insufficient_role`"
);
common_response!(
    /// 503 `server_busy`: the password hashing budget is spent.
    ServerBusy, 503, "`server_busy`: too many passwords being checked at once; retry after `Retry-After`"
);
common_response!(
    /// 422: the name is empty, too long or has control characters.
    InvalidName, 422, "Invalid name"
);
common_response!(
    /// 404 `webhook_not_found`.
    WebhookNotFound, 404, "`webhook_not_found`"
);
