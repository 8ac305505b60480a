//! An asset's uploaded files, as listed and shown.

use chrono::{DateTime, Utc};
use keyholder_store::files::StoredFile;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A file uploaded to an asset: its name, the type sniffed from its bytes,
/// its size and SHA-256, and where to download it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5b2-7c4d-7e8f-9a01-23456789abcd", "asset_id": "7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47", "name": "insurance-2026.pdf", "content_type": "application/pdf", "size_bytes": 183_204, "sha256": "9f2c1e0b8a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170615e4d3", "caption": "Policy schedule", "content_url": "/api/v1/assets/7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47/files/0193a5b2-7c4d-7e8f-9a01-23456789abcd/content", "created_at": "2026-03-01T09:30:00Z"}))]
pub struct FileView {
    pub id: Uuid,
    pub asset_id: Uuid,
    /// The file's name as uploaded, without any folder part and control
    /// characters (at most 255 characters).
    pub name: String,
    /// The type judged from the file's bytes: `image/jpeg`, `image/png`,
    /// `image/webp`, `image/gif`, `image/heif` or `application/pdf`.
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the bytes (also the download's `ETag`).
    pub sha256: String,
    #[schema(required = true)]
    pub caption: Option<String>,
    /// Where to download the bytes (with the same access as this file).
    pub content_url: String,
    pub created_at: DateTime<Utc>,
}

impl From<StoredFile> for FileView {
    fn from(f: StoredFile) -> Self {
        Self {
            content_url: format!("/api/v1/assets/{}/files/{}/content", f.asset_id, f.id),
            id: f.id,
            asset_id: f.asset_id,
            name: f.name,
            content_type: f.content_type,
            size_bytes: f.size_bytes,
            sha256: f.sha256,
            caption: f.caption,
            created_at: f.created_at,
        }
    }
}

crate::views::common::located! {
    FileView => |v| format!("/api/v1/assets/{}/files/{}", v.asset_id, v.id);
}
