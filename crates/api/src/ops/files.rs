//! Files uploaded to an asset (documents and photos): list and read (view),
//! upload (edit), delete (manage). A file is always reached through its
//! asset, and its bytes only after the asset's access check.
//!
//! An upload is three steps, so that no transaction is held open while the
//! bytes travel: [`prepare`] checks access and the asset's cap and
//! registers the object's key on the deletion queue (due an hour later);
//! the route writes the object; [`commit`] checks again with the asset's
//! row locked, lists the file and takes the key off the queue, with its
//! audit event. An upload that never commits leaves only a queued key, and
//! the sweeper deletes its object.

use chrono::Duration;
use keyholder_domain::asset::AssetCapability;
use keyholder_store::audit::{self, Action};
use keyholder_store::files::{self, NewFile, StoredFile};
use keyholder_store::locks;
use serde_json::json;
use uuid::Uuid;

use super::access::{AssetList, asset_list_page, caller_asset_for, locked_asset_read};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::{Conn, Now, Outcome};
use crate::problems::ProblemCode;
use crate::views::common::{Cursor, CursorPage, CursorQuery};
use crate::views::files::FileView;

/// The types taken, as sniffed from the bytes: images a browser shows and
/// PDF. Never SVG or HTML, which can carry scripts.
pub const ACCEPTED_TYPES: [&str; 6] =
    ["image/jpeg", "image/png", "image/webp", "image/gif", "image/heif", "application/pdf"];

/// How long an upload's object may wait for its row before the sweeper
/// deletes it.
pub const UPLOAD_GRACE_MINUTES: i64 = 60;

/// The type of `bytes` judged from their content, if it is one taken.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let kind = infer::get(bytes)?;
    ACCEPTED_TYPES.iter().copied().find(|t| *t == kind.mime_type())
}

/// Whether a browser may show the type inline: the images (a PDF is sent
/// as an attachment, as it can hold scripts).
pub fn shown_inline(content_type: &str) -> bool {
    content_type.starts_with("image/")
}

/// The name to keep: the last part of what the client sent (no folders),
/// without control characters, trimmed, at most 255 characters; `file`
/// when nothing is left.
pub fn clean_name(sent: Option<&str>) -> String {
    let last = sent.unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let kept = kept.trim();
    if kept.is_empty() || kept == "." || kept == ".." { "file".to_owned() } else { kept.to_owned() }
}

/// A caption as sent: one line of at most 500 characters; blank is none.
pub fn clean_caption(sent: Option<&str>) -> Outcome<Option<String>> {
    let Some(caption) = sent.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if caption.chars().any(char::is_control) {
        return Err(ApiError::field("caption", "must not contain control characters"));
    }
    if caption.chars().count() > 500 {
        return Err(ApiError::field("caption", "must be at most 500 characters"));
    }
    Ok(Some(caption.to_owned()))
}

/// The files of an asset, newest first (view).
pub fn list(
    c: &mut Conn,
    actor: &Caller,
    asset_id: Uuid,
    q: &CursorQuery,
    now: Now,
) -> Outcome<CursorPage<FileView>> {
    let list = AssetList {
        key: Cursor::instant,
        read: files::files,
        cursor: |f| Cursor::at(f.created_at, f.id),
        view: |f, _| FileView::from(f),
    };
    asset_list_page(c, (actor, asset_id, AssetCapability::Read), list, q, now)
}

fn file_not_found() -> ApiError {
    ApiError::not_found(ProblemCode::FileNotFound, "No such file on this asset.")
}

fn limit_reached(cap: u32) -> ApiError {
    ApiError::conflict(
        ProblemCode::FileLimitReached,
        format!("This asset already holds {cap} files; delete one before uploading another."),
    )
}

/// 409 when the asset holds `cap` files already.
fn check_cap(c: &mut Conn, asset_id: Uuid, cap: u32) -> Outcome<()> {
    if files::count_files(c, asset_id)? >= i64::from(cap) {
        return Err(limit_reached(cap));
    }
    Ok(())
}

/// Before the bytes are read: edit access (404, 403), room on the asset
/// (409), and the object's key registered for deletion unless committed.
/// Returns when the registration falls due, which [`commit`] names.
pub fn prepare(
    c: &mut Conn,
    actor: &Caller,
    (asset_id, key, cap): (Uuid, &str, u32),
    now: Now,
) -> Outcome<Now> {
    caller_asset_for(c, actor, asset_id, AssetCapability::AddPhotos, now)?;
    check_cap(c, asset_id, cap)?;
    Ok(files::register_upload(c, key, now, Duration::minutes(UPLOAD_GRACE_MINUTES))?)
}

/// 408: the upload outlasted `KEYHOLDER_UPLOAD_TIMEOUT` (or its grace
/// period); nothing is kept.
pub fn upload_timeout(seconds: u64) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::REQUEST_TIMEOUT,
        ProblemCode::UploadTimeout,
        format!("The upload took longer than {seconds} seconds; nothing was kept. Try again."),
    )
}

/// An upload whose object is written.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub key: String,
    pub name: String,
    pub content_type: &'static str,
    pub size_bytes: i64,
    pub sha256: String,
    pub caption: Option<String>,
    pub cap: u32,
    /// When its registration on the deletion queue falls due.
    pub registered_due: Now,
    /// `KEYHOLDER_UPLOAD_TIMEOUT`, for the answer when it ran out.
    pub timeout: u64,
}

/// Lists an uploaded file (edit), with the asset's row locked so that two
/// uploads cannot both take the last place; audited.
pub fn commit(c: &mut Conn, actor: &Caller, up: Upload, now: Now) -> Outcome<FileView> {
    locks::asset(c, up.asset_id)?;
    let (user, _, _) = caller_asset_for(c, actor, up.asset_id, AssetCapability::AddPhotos, now)?;
    check_cap(c, up.asset_id, up.cap)?;
    let file = NewFile {
        id: up.id,
        asset_id: up.asset_id,
        name: &up.name,
        content_type: up.content_type,
        size_bytes: up.size_bytes,
        sha256: &up.sha256,
        storage_key: &up.key,
        caption: up.caption.as_deref(),
        created_by: user.id,
    };
    // Gone or claimed by a sweeper: the upload outlasted its grace period.
    let stored = files::add_file(c, &file, up.registered_due, now)?
        .ok_or_else(|| upload_timeout(up.timeout))?;
    let after = json!({
        "file_id": stored.id,
        "name": stored.name,
        "content_type": stored.content_type,
        "size_bytes": stored.size_bytes,
    });
    let ev = super::assets::event(&user, Action::FileUploaded, up.asset_id, None, Some(after));
    audit::record(c, &ev, now)?;
    Ok(FileView::from(stored))
}

/// One file (view); a file of another asset is not found.
pub fn stored(
    c: &mut Conn,
    actor: &Caller,
    (asset_id, file_id): (Uuid, Uuid),
    now: Now,
) -> Outcome<StoredFile> {
    caller_asset_for(c, actor, asset_id, AssetCapability::Read, now)?;
    files::get_file(c, asset_id, file_id)?.ok_or_else(file_not_found)
}

/// One file's view (view).
pub fn get(c: &mut Conn, actor: &Caller, ids: (Uuid, Uuid), now: Now) -> Outcome<FileView> {
    stored(c, actor, ids, now).map(FileView::from)
}

/// [`get`] with the asset's row locked first, as a conditional delete reads
/// it before comparing `If-Match`.
pub fn get_locked(c: &mut Conn, actor: &Caller, ids: (Uuid, Uuid), now: Now) -> Outcome<FileView> {
    locked_asset_read(c, actor, ids.0, |c| get(c, actor, ids, now))
}

/// Delete a file (manage): its row goes now, and its object is queued for
/// deletion in the same transaction (the table's trigger); audited.
pub fn delete(
    c: &mut Conn,
    actor: &Caller,
    (asset_id, file_id): (Uuid, Uuid),
    now: Now,
) -> Outcome<()> {
    let (user, _, _) =
        caller_asset_for(c, actor, asset_id, AssetCapability::DeleteRecordsAndPhotos, now)?;
    let file = files::get_file(c, asset_id, file_id)?.ok_or_else(file_not_found)?;
    if !files::delete_file(c, asset_id, file_id)? {
        return Err(file_not_found());
    }
    let before = json!({
        "file_id": file.id,
        "name": file.name,
        "content_type": file.content_type,
        "size_bytes": file.size_bytes,
    });
    let ev = super::assets::event(&user, Action::FileDeleted, asset_id, Some(before), None);
    audit::record(c, &ev, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_judged_from_the_bytes_and_only_images_and_pdf_are_taken() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), Some("image/png"));
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00"), Some("image/gif"));
        assert_eq!(sniff(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"), Some("application/pdf"));
        assert_eq!(sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 "), Some("image/webp"));
        // Scriptable or unknown content is refused, whatever it is called.
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>"), None);
        assert_eq!(sniff(b"<!DOCTYPE html><html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00\x00\x00"), None);
        assert_eq!(sniff(b"plain text"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn names_lose_folders_and_control_characters() {
        assert_eq!(clean_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_name(Some("C:\\Users\\me\\scan 1.pdf")), "scan 1.pdf");
        assert_eq!(clean_name(Some("a\u{0}b\r\nc.png")), "abc.png");
        assert_eq!(clean_name(Some("  ")), "file");
        assert_eq!(clean_name(Some("..")), "file");
        assert_eq!(clean_name(None), "file");
        assert_eq!(clean_name(Some(&"é".repeat(300))).chars().count(), 255);
    }

    #[test]
    fn captions_are_one_short_line() {
        assert_eq!(clean_caption(Some("  Front  ")).ok().flatten().as_deref(), Some("Front"));
        assert!(clean_caption(Some("   ")).is_ok_and(|c| c.is_none()));
        assert!(clean_caption(Some("a\nb")).is_err());
        assert!(clean_caption(Some(&"x".repeat(501))).is_err());
    }

    #[test]
    fn only_images_are_shown_inline() {
        assert!(shown_inline("image/png"));
        assert!(!shown_inline("application/pdf"));
    }
}
