//! Strong `ETag`s, `If-None-Match` (304) on the reads of one resource and
//! `If-Match` (412 `precondition_failed`) on the writes to it.
//!
//! A single resource's tag is a hash of its JSON view as the caller reads
//! it. A conditional write locks the resource's row, reads that view again
//! inside the write transaction and compares, so of two writers sending the
//! same tag, the second waits for the first and then fails its check.
//!
//! The members matrix (Users & Permissions) is tagged by the estate's
//! `revision`, which every membership and site override change bumps in its
//! transaction: its tag is `"r<revision>-<hash of the page>"`, and a change
//! to a member or an override is checked against the revision part (the
//! estate row locked first, as every member change does). Those changes
//! answer `ETag: "r<new revision>"`, which is good as the next `If-Match`.

use actix_web::http::StatusCode;
use actix_web::http::header::{ETAG, IF_MATCH, IF_NONE_MATCH};
use actix_web::{HttpRequest, HttpResponse};
use keyholder_store::{estates, locks};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::ctx::{Ctx, Op};
use crate::error::ApiError;
use crate::ops::{Conn, Outcome};
use crate::routes::Reply;

/// Hex SHA-256 of some bytes.
pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The strong tag of a JSON body: the first 128 bits of its SHA-256.
fn tag_of(body: &[u8]) -> String {
    format!("\"{}\"", &hex_sha256(body)[..32])
}

fn json<T: Serialize>(view: &T) -> Outcome<Vec<u8>> {
    serde_json::to_vec(view).map_err(|_| ApiError::internal())
}

/// The tag of a view as it is answered.
pub fn tag_of_view<T: Serialize>(view: &T) -> Outcome<String> {
    json(view).map(|b| tag_of(&b))
}

/// The entity tags listed in a header (`"a", "b"`; `*` as itself). Weak
/// tags are kept with their `W/`, so they never match a strong one.
pub(crate) fn listed(
    req: &HttpRequest,
    name: actix_web::http::header::HeaderName,
) -> Option<Vec<String>> {
    let values: Vec<&str> = req.headers().get_all(name).filter_map(|v| v.to_str().ok()).collect();
    if values.is_empty() {
        return None;
    }
    Some(values.iter().flat_map(|v| v.split(',')).map(|t| t.trim().to_owned()).collect())
}

/// What `If-Match` asks: `None` when absent or `*` (apply as usual).
pub fn if_match(req: &HttpRequest) -> Option<Vec<String>> {
    listed(req, IF_MATCH).filter(|tags| !tags.iter().any(|t| t == "*"))
}

/// 412 `precondition_failed`.
pub fn stale() -> ApiError {
    ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        crate::problems::ProblemCode::PreconditionFailed,
        "The resource changed since the ETag sent in If-Match; read it again and retry.",
    )
}

/// 200 with the view, its `ETag`, or 304 without a body when
/// `If-None-Match` names that tag (or is `*`).
pub fn tagged<T: Serialize>(ctx: &Ctx, view: Outcome<T>) -> Reply {
    let body = json(&view?)?;
    let tag = tag_of(&body);
    Ok(unless_none_match(ctx, body, tag))
}

/// 200 with `body` and `ETag: tag`, or 304 with the tag alone when
/// `If-None-Match` names it (or is `*`).
fn unless_none_match(ctx: &Ctx, body: Vec<u8>, tag: String) -> HttpResponse {
    let wanted = listed(ctx.request(), IF_NONE_MATCH).unwrap_or_default();
    if wanted.iter().any(|t| *t == tag || t == "*") {
        return HttpResponse::NotModified().insert_header((ETAG, tag)).finish();
    }
    HttpResponse::Ok().insert_header((ETAG, tag)).content_type("application/json").body(body)
}

/// 200 with the view written and its new `ETag`.
pub fn ok_tagged<T: Serialize>(view: Outcome<T>) -> Reply {
    let body = json(&view?)?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, tag_of(&body)))
        .content_type("application/json")
        .body(body))
}

impl Ctx {
    /// Runs the write `op` in one transaction; when `If-Match` names tags,
    /// first reads the resource as `current` does (which locks its row) and
    /// answers 412 unless its tag is among them.
    pub async fn write_if_match<V: Serialize, T: Send + 'static>(
        &self,
        current: impl Op<V>,
        op: impl Op<T>,
    ) -> Outcome<T> {
        let wanted = if_match(self.request());
        self.write(move |c, caller, now| {
            let stale_now = match wanted {
                Some(tags) => !tags.contains(&tag_of_view(&current(c, caller, now)?)?),
                None => false,
            };
            // The use case's own refusals (403, 422) come first; a stale tag
            // then rolls its change back.
            let outcome = op(c, caller, now)?;
            if stale_now { Err(stale()) } else { Ok(outcome) }
        })
        .await
    }

    /// Runs a change of the members matrix of the estate `estate(c)` names
    /// in one transaction: the estate row locked, `If-Match` checked against
    /// its revision (412 when stale), then `op`; answers `op`'s outcome with
    /// the new revision's tag. An estate that `estate` does not find is left
    /// to `op` to refuse.
    pub async fn write_matrix<T: Send + 'static>(
        &self,
        estate: impl FnOnce(&mut Conn) -> Outcome<Option<Uuid>> + Send + 'static,
        op: impl Op<T>,
    ) -> Outcome<(T, Option<String>)> {
        let wanted = if_match(self.request());
        self.write(move |c, caller, now| {
            let estate = estate(c)?;
            let mut stale_now = false;
            if let Some(id) = estate {
                locks::estate(c, id)?;
                let revision = estates::revision(c, id)?;
                if let (Some(tags), Some(r)) = (wanted, revision) {
                    stale_now = !tags.iter().any(|t| revision_of(t) == Some(r));
                }
            }
            // The use case's own refusals (404, 403, 422) come first, so a
            // stranger learns nothing from a tag; a stale one then rolls
            // the change back.
            let outcome = op(c, caller, now)?;
            if stale_now {
                return Err(stale());
            }
            let revision = match estate {
                Some(id) => estates::revision(c, id)?,
                None => None,
            };
            Ok((outcome, revision.map(matrix_tag)))
        })
        .await
    }
}

/// The tag a matrix change answers: `"r<revision>"`.
pub fn matrix_tag(revision: i64) -> String {
    format!("\"r{revision}\"")
}

/// The members matrix page's tag: its revision and its body's hash.
pub fn matrix_page_tag(revision: i64, body: &[u8]) -> String {
    format!("\"r{revision}-{}\"", &hex_sha256(body)[..16])
}

/// The revision a matrix tag names (`"r7"` or `"r7-…"`).
fn revision_of(tag: &str) -> Option<i64> {
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?.strip_prefix('r')?;
    inner.split('-').next()?.parse().ok()
}

/// A matrix change's answer: `reply` with the new revision's `ETag`.
pub fn with_matrix_tag(reply: Reply, tag: Option<String>) -> Reply {
    let mut r = reply?;
    if let Some(value) = tag.and_then(|t| actix_web::http::header::HeaderValue::from_str(&t).ok()) {
        r.headers_mut().insert(ETAG, value);
    }
    Ok(r)
}

/// The members matrix page with its `ETag` and `Link`, or 304 when
/// `If-None-Match` names it.
pub fn matrix_page<T: Serialize + utoipa::ToSchema>(
    ctx: &Ctx,
    page: Outcome<(crate::views::common::CursorPage<T>, Option<i64>)>,
) -> Reply {
    let (view, revision) = page?;
    let link = crate::routes::links::header(ctx.request().uri(), &view);
    let body = json(&view)?;
    let tag = matrix_page_tag(revision.unwrap_or_default(), &body);
    let mut answer = unless_none_match(ctx, body, tag);
    let link = link.and_then(|l| actix_web::http::header::HeaderValue::from_str(&l).ok());
    if let (StatusCode::OK, Some(link)) = (answer.status(), link) {
        answer.headers_mut().insert(actix_web::http::header::LINK, link);
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_tag_names_its_revision() {
        assert_eq!(revision_of(&matrix_tag(7)), Some(7));
        assert_eq!(revision_of(&matrix_page_tag(12, b"{}")), Some(12));
        assert_eq!(revision_of("W/\"r7\""), None);
        assert_eq!(revision_of("\"x7\""), None);
    }
}
