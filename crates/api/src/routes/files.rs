//! Files uploaded to an asset (documents and photos): the documented
//! handlers and their routes. The use cases are in [`crate::ops::files`];
//! the bytes go to and come from [`crate::files::FileStore`].

use actix_multipart::Multipart;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, Bytes, BytesMut, Path};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use sha2::{Digest, Sha256};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::conditional::tagged;
use crate::ctx::Ctx;
use crate::error::{ApiError, AssetNotFound, BadPaging, Problem, Unauthorized};
use crate::extract::ValidQuery;
use crate::files::FileStore;
use crate::ops::files::{self, Upload};
use crate::problems::ProblemCode;
use crate::routes::{Reply, created, done, listed};
use crate::views::common::{CursorPage, CursorQuery};
use crate::views::files::FileView;

/// The bytes of a file, as sent and as answered.
pub struct FileBytes;

impl PartialSchema for FileBytes {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for FileBytes {}

/// An upload: `multipart/form-data` with the file in a part named `file`
/// (its `filename` kept as the name) and an optional `caption` part.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FileUpload {
    /// The file: JPEG, PNG, WebP, GIF, HEIF/HEIC or PDF, judged from its
    /// bytes; at most `KEYHOLDER_FILE_MAX_BYTES` (10 MiB by default).
    #[schema(value_type = FileBytes)]
    file: Vec<u8>,
    /// One line of at most 500 characters, no control characters; blank is
    /// none.
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    caption: Option<String>,
}

/// List the files of an asset
///
/// The files uploaded to the asset (name, sniffed type, size, SHA-256,
/// caption and `content_url`), newest first. Any access level (view or
/// above) may read it; an asset out of my reach answers 404
/// `asset_not_found`. Paged by `cursor` (the previous page's `next_cursor`)
/// or `page` (from 1), and `per_page` (1 to 100, default 25).
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/files", operation_id = "listFiles", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), CursorQuery),
    responses((status = 200, description = "Files, newest first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<FileView>), Unauthorized, AssetNotFound, BadPaging))]
pub async fn list_files(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.run(move |c, actor, now| files::list(c, actor, *id, &q.0, now)).await)
}

/// Upload a file to an asset
///
/// A document or photo, sent as `multipart/form-data`: the bytes in a part
/// named `file` (its `filename` is kept as the name, without folders) and an
/// optional `caption`. Needs edit access or above (403
/// `edit_access_required`, checked before the body is read). The type is
/// judged from the bytes, never from the name or the declared type: JPEG,
/// PNG, WebP, GIF, HEIF/HEIC and PDF are taken, anything else (SVG and HTML
/// included) is 415 `unsupported_file_type`. Over `KEYHOLDER_FILE_MAX_BYTES`
/// (10 MiB by default) is 413 `file_too_large`; an asset holding
/// `KEYHOLDER_FILES_PER_ASSET` files (200 by default) answers 409
/// `file_limit_reached`; a file that takes longer than
/// `KEYHOLDER_UPLOAD_TIMEOUT` (600 s) to arrive and be stored is 408
/// `upload_timeout`, with nothing kept. Writes an audit event
/// (`file.uploaded`).
#[utoipa::path(post, path = "/api/v1/assets/{asset_id}/files", operation_id = "uploadFile", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path)),
    request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses((status = 201, description = "Uploaded; `Location` is the file", body = FileView),
        (status = 400, description = "`malformed_multipart`", body = Problem, content_type = "application/problem+json"),
        Unauthorized,
        (status = 403, description = "`edit_access_required`", body = Problem, content_type = "application/problem+json"),
        AssetNotFound,
        (status = 408, description = "`upload_timeout`: the file took longer than `KEYHOLDER_UPLOAD_TIMEOUT` to arrive and be stored", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`file_limit_reached`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`file_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_file_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parts (`caption`, an empty `file`, unknown parts)", body = Problem, content_type = "application/problem+json")))]
pub async fn upload_file(ctx: Ctx, id: Path<Uuid>, payload: web::Payload) -> Reply {
    let asset_id = id.into_inner();
    let state = ctx.state().clone();
    let cap = state.config.files_per_asset;
    let file_id = Uuid::now_v7();
    let key = FileStore::key(asset_id, file_id);
    let registered_due = {
        let key = key.clone();
        ctx.write(move |c, actor, now| files::prepare(c, actor, (asset_id, &key, cap), now)).await?
    };
    let max = usize::try_from(state.config.file_max_bytes).unwrap_or(usize::MAX);
    let timeout = state.config.upload_timeout;
    // The body and the store's write within the timeout, well inside the
    // grace period after which the sweeper would delete the object.
    let arrived = tokio::time::timeout(std::time::Duration::from_secs(timeout), async {
        let sent = read_upload(ctx.request(), payload, max).await?;
        let content_type = files::sniff(&sent.bytes).ok_or_else(unsupported_type)?;
        state.files.put(&key, sent.bytes.clone()).await.map_err(store_unavailable)?;
        Ok::<_, ApiError>((sent, content_type))
    })
    .await;
    let (sent, content_type) = match arrived {
        Ok(done) => done?,
        Err(_) => {
            // The key stays queued: the sweeper deletes whatever was written.
            return Err(files::upload_timeout(timeout));
        }
    };
    let upload = Upload {
        id: file_id,
        asset_id,
        key: key.clone(),
        name: files::clean_name(sent.filename.as_deref()),
        content_type,
        size_bytes: i64::try_from(sent.bytes.len()).unwrap_or(i64::MAX),
        sha256: hex::encode(Sha256::digest(&sent.bytes)),
        caption: sent.caption,
        cap,
        registered_due,
        timeout,
    };
    let committed = ctx.write(move |c, actor, now| files::commit(c, actor, upload, now)).await;
    if committed.is_err() {
        // The key stays queued: the sweeper deletes the object if this
        // fails too.
        if state.files.delete(&key).await.is_err() {
            tracing::warn!(key, "an uncommitted upload's object is left for the sweeper");
        }
    }
    created(committed)
}

/// Read a file's details
///
/// One file's name, type, size, SHA-256 and caption, with its `ETag` (304
/// on a matching `If-None-Match`). Any access level (view or above) may
/// read it; an asset out of my reach answers 404 `asset_not_found`, a file
/// of another asset 404 `file_not_found`.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/files/{file_id}", operation_id = "getFile", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("file_id" = Uuid, Path)),
    responses((status = 200, description = "The file's details", body = FileView), Unauthorized,
        (status = 404, description = "`asset_not_found` or `file_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn get_file(ctx: Ctx, ids: Path<(Uuid, Uuid)>) -> Reply {
    let ids = ids.into_inner();
    tagged(&ctx, ctx.run(move |c, actor, now| files::get(c, actor, ids, now)).await)
}

/// Download a file
///
/// The file's bytes, through the same access check as the asset (view or
/// above; 404 otherwise), proxied by the server (no link outlives the
/// access). `Content-Type` is the type sniffed at upload; images are sent
/// `inline`, PDFs as an `attachment`, always with `nosniff` and a sandboxing
/// content policy. The `ETag` is the SHA-256 of the bytes (304 on a
/// matching `If-None-Match`); `Cache-Control: private, no-cache` makes a
/// cache ask again, so a removed access holds on the next request.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/files/{file_id}/content", operation_id = "downloadFile", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("file_id" = Uuid, Path),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of an earlier download: 304 without a body while the file is the same and still mine to read.")),
    responses((status = 200, description = "The bytes",
            headers(("ETag" = String, description = "`\"<sha256>\"`: the hex SHA-256 of the bytes"), ("Content-Disposition" = String, description = "`inline` for images, `attachment` for PDFs, with the file's name")),
            content((FileBytes = "image/jpeg"), (FileBytes = "image/png"), (FileBytes = "image/webp"), (FileBytes = "image/gif"), (FileBytes = "image/heif"), (FileBytes = "application/pdf"))),
        (status = 304, description = "Not modified: the `ETag` sent is current", headers(("ETag" = String, description = "`\"<sha256>\"`"))),
        Unauthorized,
        (status = 404, description = "`asset_not_found` or `file_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn download_file(ctx: Ctx, ids: Path<(Uuid, Uuid)>) -> Reply {
    let ids = ids.into_inner();
    let file = ctx.run(move |c, actor, now| files::stored(c, actor, ids, now)).await?;
    let tag = format!("\"{}\"", file.sha256);
    let wanted = crate::conditional::listed(ctx.request(), header::IF_NONE_MATCH);
    if wanted.unwrap_or_default().iter().any(|t| *t == tag || t == "*") {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .finish());
    }
    let stream = match ctx.state().files.get(&file.storage_key).await {
        Ok(stream) => stream,
        Err(crate::files::StoreFailure(object_store::Error::NotFound { .. })) => {
            tracing::warn!(key = file.storage_key, "a listed file's object is missing");
            return Err(ApiError::not_found(
                ProblemCode::FileNotFound,
                "No such file on this asset.",
            ));
        }
        Err(e) => return Err(store_unavailable(e)),
    };
    let size = u64::try_from(file.size_bytes).unwrap_or(0);
    let disposition = if files::shown_inline(&file.content_type) { "inline" } else { "attachment" };
    Ok(HttpResponse::Ok()
        .content_type(file.content_type.as_str())
        .insert_header((header::CONTENT_SECURITY_POLICY, crate::app::FILE_CSP))
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::CONTENT_DISPOSITION, content_disposition(disposition, &file.name)))
        .no_chunking(size)
        .streaming(stream.map(|chunk| {
            chunk.map_err(|e| {
                tracing::warn!(error = %e, "a file's download broke off");
                std::io::Error::other("the file store broke off")
            })
        })))
}

/// Delete a file
///
/// Removes the file from the asset at once; its bytes are deleted from the
/// store right after (retried until the store confirms). Needs manage access
/// or above (403 `manage_access_required`); a file of another asset answers
/// 404 `file_not_found`. Writes an audit event (`file.deleted`).
#[utoipa::path(delete, path = "/api/v1/assets/{asset_id}/files/{file_id}", operation_id = "deleteFile", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("file_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), Unauthorized, (status = 403, description = "`manage_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `file_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_file(ctx: Ctx, ids: Path<(Uuid, Uuid)>) -> Reply {
    let ids = ids.into_inner();
    let current = move |c: &mut _, actor: &_, now| files::get_locked(c, actor, ids, now);
    let deleted =
        ctx.write_if_match(current, move |c, actor, now| files::delete(c, actor, ids, now)).await;
    if deleted.is_ok() {
        ctx.state().files.deletions_queued();
    }
    done(deleted)
}

endpoints![list_files, upload_file, get_file, download_file, delete_file,];

/// What an upload carried.
struct Sent {
    bytes: Bytes,
    filename: Option<String>,
    caption: Option<String>,
}

fn malformed() -> ApiError {
    ApiError::bad_request(
        ProblemCode::MalformedMultipart,
        "Send the file as multipart/form-data, in a part named file.",
    )
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        ProblemCode::FileTooLarge,
        format!("The file is larger than {max} bytes."),
    )
}

fn unsupported_type() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ProblemCode::UnsupportedFileType,
        "Only JPEG, PNG, WebP, GIF, HEIF/HEIC and PDF files are taken; this file is none of them.",
    )
}

fn store_unavailable(e: crate::files::StoreFailure) -> ApiError {
    ApiError::unavailable("The file store is not answering; try again shortly.")
        .caused_by(e.to_string())
}

/// The largest caption part read (500 characters of up to 4 bytes each).
const CAPTION_BYTES: usize = 2000;

/// Reads the multipart body: one `file` part of at most `max` bytes and an
/// optional `caption`. A file over the limit is read to its end (up to
/// four times the limit) before the 413, so the client gets the answer
/// rather than a broken connection.
async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
    max: usize,
) -> Result<Sent, ApiError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.type_() == mime::MULTIPART && m.subtype() == mime::FORM_DATA);
    if !multipart {
        return Err(malformed());
    }
    let mut parts = Multipart::new(req.headers(), payload);
    let mut sent = Sent { bytes: Bytes::new(), filename: None, caption: None };
    let mut has_file = false;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|_| malformed())?;
        let name = part.name().map(str::to_owned);
        match name.as_deref() {
            Some("file") if !has_file => {
                has_file = true;
                sent.filename =
                    part.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
                let mut bytes = BytesMut::new();
                let mut over = false;
                let mut seen = 0usize;
                while let Some(chunk) = part.next().await {
                    let chunk = chunk.map_err(|_| malformed())?;
                    seen = seen.saturating_add(chunk.len());
                    if seen > max {
                        over = true;
                        if seen > max.saturating_mul(4) {
                            break;
                        }
                        continue;
                    }
                    bytes.extend_from_slice(&chunk);
                }
                if over {
                    return Err(too_large(max));
                }
                sent.bytes = bytes.freeze();
            }
            Some("file") => return Err(ApiError::field("file", "send one file per upload")),
            Some("caption") if sent.caption.is_none() => {
                let mut text = BytesMut::new();
                while let Some(chunk) = part.next().await {
                    let chunk = chunk.map_err(|_| malformed())?;
                    if text.len().saturating_add(chunk.len()) > CAPTION_BYTES {
                        return Err(ApiError::field("caption", "must be at most 500 characters"));
                    }
                    text.extend_from_slice(&chunk);
                }
                let text = String::from_utf8(text.to_vec())
                    .map_err(|_| ApiError::field("caption", "must be UTF-8 text"))?;
                sent.caption = files::clean_caption(Some(&text))?;
            }
            Some("caption") => return Err(ApiError::field("caption", "send one caption")),
            _ => {
                return Err(ApiError::field(
                    "body",
                    "unknown part: send the file in a part named file and an optional caption",
                ));
            }
        }
    }
    if !has_file {
        return Err(ApiError::field("file", "is required"));
    }
    if sent.bytes.is_empty() {
        return Err(ApiError::field("file", "must not be empty"));
    }
    Ok(sent)
}

/// `inline` or `attachment` with the file's name: an ASCII fallback in
/// `filename` and the exact name in `filename*` (RFC 6266).
fn content_disposition(kind: &str, name: &str) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let exact = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{exact}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn names_are_quoted_safely_in_the_disposition() {
        let v = content_disposition("inline", "Schéma \"1\".png");
        assert_eq!(
            v.to_str().ok(),
            Some(
                "inline; filename=\"Sch_ma _1_.png\"; filename*=UTF-8''Sch%C3%A9ma%20%221%22%2Epng"
            )
        );
    }
}
