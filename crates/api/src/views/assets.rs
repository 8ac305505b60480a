//! What the API answers about assets, their records and photos, and their
//! collaborators.

use chrono::{DateTime, NaiveDate, Utc};
use keyholder_domain::AssetLevel;
use keyholder_store::assets::Asset;
use keyholder_store::photos::Photo;
use keyholder_store::records::Record;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::common::UserSummary;

#[derive(Debug, Serialize, ToSchema)]
pub struct AssetView {
    pub id: Uuid,
    pub name: String,
    pub reference: Option<String>,
    /// Free attributes (a JSON object).
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    pub site_id: Option<Uuid>,
    pub estate_id: Option<Uuid>,
    /// My access level: `view`, `edit`, `manage` or `full`.
    #[schema(example = "full")]
    pub my_access: &'static str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AssetView {
    pub fn new(a: &Asset, level: AssetLevel) -> Self {
        Self {
            id: a.id,
            name: a.name.clone(),
            reference: a.reference.clone(),
            attributes: a.attributes.clone(),
            site_id: a.site_id,
            estate_id: a.estate_id,
            my_access: level.as_str(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// The kinds a record may have.
pub const RECORD_KINDS: [&str; 6] =
    ["service", "repair", "inspection", "work_order", "fuel", "note"];

pub(crate) fn record_kind_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    super::string_values(&RECORD_KINDS)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    pub id: Uuid,
    pub asset_id: Uuid,
    #[schema(example = "service")]
    pub kind: String,
    pub date: NaiveDate,
    pub title: String,
    pub notes: Option<String>,
    pub cost: Option<f64>,
    pub odometer: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Record> for RecordView {
    fn from(r: &Record) -> Self {
        Self {
            id: r.id,
            asset_id: r.asset_id,
            kind: r.fields.kind.clone(),
            date: r.fields.date,
            title: r.fields.title.clone(),
            notes: r.fields.notes.clone(),
            cost: r.fields.cost,
            odometer: r.fields.odometer,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoView {
    pub id: Uuid,
    pub asset_id: Uuid,
    #[schema(example = "https://photos.example.com/f150/front.jpg")]
    pub url: String,
    #[schema(example = "Front, after the brake job")]
    pub caption: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Photo> for PhotoView {
    fn from(p: Photo) -> Self {
        let Photo { id, asset_id, url, caption, created_at } = p;
        Self { id, asset_id, url, caption, created_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollaboratorView {
    pub user: UserSummary,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollaboratorList {
    pub items: Vec<CollaboratorView>,
    /// Whether I may add and remove collaborators (full access).
    pub can_manage: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollaboratorSplitView {
    /// Collaborators of every selected asset.
    pub common: Vec<UserSummary>,
    /// Collaborators of some selected assets.
    pub partial: Vec<PartialCollaborator>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartialCollaborator {
    pub user: UserSummary,
    /// The selected assets this user collaborates on.
    pub asset_ids: Vec<Uuid>,
}

crate::views::common::located! {
    AssetView => |v| format!("/api/v1/assets/{}", v.id);
    RecordView => |v| format!("/api/v1/assets/{}/records/{}", v.asset_id, v.id);
    PhotoView => |v| format!("/api/v1/assets/{}/photos/{}", v.asset_id, v.id);
}
