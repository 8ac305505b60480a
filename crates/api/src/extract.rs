//! Request extractors that answer problem+json: a JSON body that is checked
//! for content type, size, syntax, shape (422 naming the field) and field
//! rules; and query strings with 422 on bad values.
//!
//! Every string a client sends in a JSON body or a query string is checked
//! for control characters before any handler sees it (422 naming the field):
//! PostgreSQL text cannot hold NUL, and no stored or searched text needs the
//! others. Multi-line free text keeps line breaks and tabs; passwords, which
//! are only ever hashed, are left as typed. Path parameters are UUIDs.

use crate::problems::ProblemCode;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use keyholder_domain::values::{self, ValueError};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::ApiError;

/// The hex SHA-256 of the JSON body as read, kept in the request's
/// extensions for [`crate::idempotency`] (a retry must send the same bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyDigest(pub String);

impl BodyDigest {
    pub fn of(bytes: &[u8]) -> Self {
        Self(crate::conditional::hex_sha256(bytes))
    }
}

/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 64 * 1024;

/// A JSON body, deserialised and validated.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T> std::ops::Deref for ValidJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        })
}

/// Parses JSON bytes: syntax errors are 400, control characters in a string
/// (see [`check_json_text`]) and shape errors (missing field, wrong type,
/// unknown enum value) are 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = parse_syntax(bytes)?;
    check_json_text(&value)?;
    parse_shape(value)
}

/// Syntax first, so a truncated document is a 400 whatever its shape.
fn parse_syntax(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            ProblemCode::MalformedJson,
            format!("The body is not valid JSON: {}", clean_serde_message(&e.to_string())),
        )
    })
}

fn parse_shape<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    // Every body is an object; serde would also read a struct from an array
    // of its fields in order (`["North"]` as `{"name": "North"}`).
    if !value.is_object() {
        let message = "must be a JSON object".to_owned();
        return Err(ApiError::validation(BTreeMap::from([("body".to_owned(), message)])));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        let message = clean_serde_message(&err.into_inner().to_string());
        ApiError::validation(BTreeMap::from([(field, message)]))
    })
}

/// Top-level body members holding multi-line free text: line feed, carriage
/// return and tab are allowed in them (and anywhere inside `attributes`).
const FREE_TEXT_MEMBERS: &[&str] = &["message", "notes", "attributes"];

/// Top-level body members holding a password: never stored or compared in
/// SQL (only hashed), and refusing a character now would lock out whoever
/// already chose one, so they are not checked.
const SECRET_MEMBERS: &[&str] = &["password", "current_password", "new_password"];

/// Refuses control characters in every string of a JSON body, member names
/// included (422 naming each field, as `a.b` and `a[1]`). See
/// [`values::is_refused_control`].
pub fn check_json_text(value: &serde_json::Value) -> Result<(), ApiError> {
    let mut errors = BTreeMap::new();
    match value {
        serde_json::Value::Object(members) => {
            for (name, v) in members {
                if name.chars().any(|c| values::is_refused_control(c, false)) {
                    errors.entry("body".to_owned()).or_insert_with(|| {
                        "member names must not contain control characters".to_owned()
                    });
                } else if !SECRET_MEMBERS.contains(&name.as_str()) {
                    let multi_line = FREE_TEXT_MEMBERS.contains(&name.as_str());
                    walk_json(v, name.clone(), multi_line, &mut errors);
                }
            }
        }
        other => walk_json(other, "body".to_owned(), false, &mut errors),
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
}

fn walk_json(
    value: &serde_json::Value,
    path: String,
    multi_line: bool,
    errors: &mut BTreeMap<String, String>,
) {
    let refused = |s: &str| s.chars().any(|c| values::is_refused_control(c, multi_line));
    match value {
        serde_json::Value::String(s) => {
            if refused(s) {
                errors.insert(path, ValueError::ControlCharacter.to_string());
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk_json(v, format!("{path}[{i}]"), multi_line, errors);
            }
        }
        serde_json::Value::Object(members) => {
            for (name, v) in members {
                if refused(name) {
                    errors.insert(
                        path.clone(),
                        "member names must not contain control characters".to_owned(),
                    );
                } else {
                    walk_json(v, format!("{path}.{name}"), multi_line, errors);
                }
            }
        }
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {}
    }
}

/// Refuses control characters (line breaks and tabs included) in the
/// decoded names and values of a query string: 422 naming the parameter.
fn check_query_text(qs: &str) -> Result<(), ApiError> {
    let Ok(pairs) = web::Query::<Vec<(String, String)>>::from_query(qs) else {
        // Left to the typed parse, which names what is wrong.
        return Ok(());
    };
    let refused = |s: &str| s.chars().any(|c| values::is_refused_control(c, false));
    let mut errors = BTreeMap::new();
    for (name, value) in pairs.iter() {
        if refused(name) {
            errors.insert(
                "query".to_owned(),
                "parameter names must not contain control characters".to_owned(),
            );
        } else if refused(value) {
            errors.insert(name.clone(), ValueError::ControlCharacter.to_string());
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
}

fn year_error(e: &ValueError) -> validator::ValidationError {
    validator::ValidationError::new(e.code()).with_message(e.to_string().into())
}

/// `#[validate(custom(function = "crate::extract::storable_moment"))]` for a
/// client-supplied date-time: the years 1 to 9999 (see
/// [`values::storable_moment`]).
pub fn storable_moment(at: &DateTime<Utc>) -> Result<(), validator::ValidationError> {
    values::storable_moment(*at).map(drop).map_err(|e| year_error(&e))
}

/// `#[validate(custom(function = "crate::extract::storable_date"))]` for a
/// client-supplied date: the years 1 to 9999.
pub fn storable_date(d: &NaiveDate) -> Result<(), validator::ValidationError> {
    values::storable_date(*d).map(drop).map_err(|e| year_error(&e))
}

/// Drops serde's " at line X column Y" suffix.
fn clean_serde_message(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    /// A [`ScopedJson`] whose field errors are answered at once.
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let scoped = ScopedJson::<T>::from_request(req, payload);
        Box::pin(async move { scoped.await?.after_authorization().map(ValidJson) })
    }
}

/// A JSON body for a route that acts on a resource. Content type, size and
/// syntax are checked as the body is read (415-like 400, 413, 400); field
/// errors (422: shape, control characters, field rules) are held until the
/// handler has decided that the caller may act at all, so a caller without
/// authority hears 404 or 403 and never what was wrong with the body (the
/// order of answers: 401, 404, 403, 422, 409).
#[derive(Debug)]
pub struct ScopedJson<T>(Result<T, ApiError>);

impl<T> ScopedJson<T> {
    /// The body, or its 422: call once the caller is known to be allowed.
    pub fn after_authorization(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ScopedJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        read_json(req, payload, |bytes| {
            let value = parse_syntax(bytes)?;
            let fields = check_json_text(&value).and_then(|()| parse_shape::<T>(value));
            Ok(ScopedJson(fields.and_then(|v| v.validate().map(|()| v).map_err(ApiError::from))))
        })
    }
}

/// A sign-in body: like [`ValidJson`] but its strings are not checked for
/// control characters, so the handler can answer the same 401 for any bad
/// login or password (after refusing, without a lookup, a login no account
/// can have).
#[derive(Debug)]
pub struct CredentialsJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for CredentialsJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        read_json(req, payload, |bytes| {
            let value: T = parse_shape(parse_syntax(bytes)?)?;
            value.validate()?;
            Ok(CredentialsJson(value))
        })
    }
}

/// Reads a JSON body (content type, size) and makes the extractor of it
/// with `make`.
fn read_json<R: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    make: impl FnOnce(&[u8]) -> Result<R, ApiError> + 'static,
) -> Pin<Box<dyn Future<Output = Result<R, ApiError>>>> {
    let body = read_json_body(req, payload);
    Box::pin(async move { make(&body.await?) })
}

/// Reads a JSON body: content type (400) and size (413).
fn read_json_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> Pin<Box<dyn Future<Output = Result<web::BytesMut, ApiError>>>> {
    let json = is_json(req);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    let req = req.clone();
    Box::pin(async move {
        if !json {
            return Err(ApiError::bad_request(
                ProblemCode::UnsupportedContentType,
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        if declared.is_some_and(|n| n > JSON_LIMIT) {
            return Err(too_large());
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| {
                ApiError::bad_request(
                    ProblemCode::UnreadableBody,
                    "The request body could not be read.",
                )
            })?;
            if body.len() + chunk.len() > JSON_LIMIT {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        req.extensions_mut().insert(BodyDigest::of(&body));
        Ok(body)
    })
}

fn too_large() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        ProblemCode::PayloadTooLarge,
        format!("The body is larger than {JSON_LIMIT} bytes."),
    )
}

/// An optional JSON body: an empty body reads as `T::default()`; anything
/// else must be valid like [`ValidJson`].
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Validate + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
            || (!req.headers().contains_key(header::CONTENT_LENGTH)
                && !req.headers().contains_key(header::TRANSFER_ENCODING));
        if empty {
            return Box::pin(async { Ok(OptionalJson(T::default())) });
        }
        let inner = ValidJson::<T>::from_request(req, payload);
        Box::pin(async move { inner.await.map(|ValidJson(v)| OptionalJson(v)) })
    }
}

/// A query string, deserialised and validated (422 on bad values).
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let qs = req.query_string();
        let result =
            check_query_text(qs).and_then(|()| serde_urlencoded_path(qs)).and_then(|v: T| {
                v.validate()?;
                Ok(ValidQuery(v))
            });
        std::future::ready(result)
    }
}

fn serde_urlencoded_path<T: DeserializeOwned>(qs: &str) -> Result<T, ApiError> {
    web::Query::<T>::from_query(qs).map(web::Query::into_inner).map_err(|e| {
        let msg = e.to_string();
        let field =
            msg.split('`').nth(1).map(ToOwned::to_owned).unwrap_or_else(|| "query".to_owned());
        ApiError::field(&field, clean_serde_message(&msg))
    })
}

/// A body field that may be absent (`None`), `null` (`Some(None)`) or a
/// value (`Some(Some(v))`): use with `#[serde(default, deserialize_with =
/// "double_option")]`, e.g. for "absent: unchanged, null: never".
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
