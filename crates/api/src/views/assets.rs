//! What the API answers about assets, their records and photos, and their
//! collaborators.

use chrono::{DateTime, NaiveDate, Utc};
use keyholder_store::assets::Asset;
use keyholder_store::photos::Photo;
use keyholder_store::records::Record;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use uuid::Uuid;

use crate::views::common::UserSummary;
use crate::views::estates::wire_enum;

wire_enum! {
    /// An access level on an asset, lowest first: `view` reads, `edit`
    /// changes details and adds records, `manage` also deletes records and
    /// photos, `full` also manages collaborators, shares and invitations.
    #[schema(example = "full")]
    AssetLevel = AssetLevel { View, Edit, Manage, Full }
}

/// The most attributes an asset holds.
pub const MAX_ATTRIBUTES: usize = 50;
/// The longest attribute name, in characters.
pub const MAX_ATTRIBUTE_NAME: usize = 100;
/// The longest text attribute value, in characters.
pub const MAX_ATTRIBUTE_TEXT: usize = 1000;

/// A single line of text: no control characters (Unicode Cc).
const SINGLE_LINE: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// Free text: no control characters but line feed, carriage return and tab.
pub(crate) const FREE_TEXT: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// The value of one asset attribute: text (line breaks allowed), a number or
/// a boolean. Lists, objects and null are not values.
pub struct AttributeValue;

impl utoipa::PartialSchema for AttributeValue {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Number,
                Type::Boolean,
            ]))
            .max_length(Some(MAX_ATTRIBUTE_TEXT))
            .pattern(Some(FREE_TEXT))
            .description(Some(
                "Text (at most 1,000 characters; line breaks and tabs allowed, no other control characters), a number or a boolean.",
            ))
            .examples([serde_json::json!("Ford")])
            .into()
    }
}

impl ToSchema for AttributeValue {}

/// A map of attribute names to `value`, with at most `max` members.
fn attribute_map(
    value: RefOr<Schema>,
    max: Option<usize>,
    description: &str,
    example: serde_json::Value,
) -> RefOr<Schema> {
    let name = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_ATTRIBUTE_NAME))
        .pattern(Some(SINGLE_LINE));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(name))
        .additional_properties(Some(AdditionalProperties::RefOr(value)))
        .max_properties(max)
        .description(Some(description))
        .examples([example])
        .into()
}

/// An asset's attributes: at most 50, each a name (1 to 100 characters, no
/// control characters) with a text, number or boolean value.
pub struct Attributes;

impl utoipa::PartialSchema for Attributes {
    fn schema() -> RefOr<Schema> {
        attribute_map(
            RefOr::Ref(utoipa::openapi::Ref::from_schema_name("AttributeValue")),
            Some(MAX_ATTRIBUTES),
            "Free attributes: at most 50 names (1 to 100 characters, no control characters), each with a text, number or boolean value.",
            serde_json::json!({"make": "Ford", "model": "Transit", "year": 2021, "hybrid": false}),
        )
    }
}

impl ToSchema for Attributes {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push(("AttributeValue".to_owned(), AttributeValue::schema()));
    }
}

/// A change to an asset's attributes, merged as JSON Merge Patch (RFC
/// 7396): a name with a value sets it, a name with `null` removes it, names
/// left out are kept.
pub struct AttributesPatch;

impl utoipa::PartialSchema for AttributesPatch {
    fn schema() -> RefOr<Schema> {
        let value = OneOfBuilder::new()
            .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("AttributeValue")))
            .item(ObjectBuilder::new().schema_type(Type::Null));
        attribute_map(
            value.into(),
            None,
            "Attributes to change, merged into the asset's as JSON Merge Patch (RFC 7396): a name with a value sets it, a name with null removes it, names left out are kept. The merged attributes must hold at most 50 names.",
            serde_json::json!({"model": "Transit Custom", "colour": null}),
        )
    }
}

impl ToSchema for AttributesPatch {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push(("AttributeValue".to_owned(), AttributeValue::schema()));
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47", "name": "Ford Transit", "reference": "KX21 ABC", "attributes": {"make": "Ford", "model": "Transit", "year": 2021}, "site_id": "9b2e4c7d-1f3a-4e6b-8a5c-2d7f0e9b4a61", "estate_id": "3f6c1a52-8d4e-4b7a-9c21-5e0d7f4a2b19", "my_access": "full", "created_at": "2026-03-01T09:30:00Z", "updated_at": "2026-03-02T16:10:00Z"}))]
pub struct AssetView {
    pub id: Uuid,
    pub name: String,
    #[schema(required = true)]
    pub reference: Option<String>,
    #[schema(value_type = Attributes)]
    pub attributes: serde_json::Value,
    #[schema(required = true)]
    pub site_id: Option<Uuid>,
    #[schema(required = true)]
    pub estate_id: Option<Uuid>,
    /// My access level.
    pub my_access: AssetLevel,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AssetView {
    pub fn new(a: &Asset, level: keyholder_domain::AssetLevel) -> Self {
        Self {
            id: a.id,
            name: a.name.clone(),
            reference: a.reference.clone(),
            attributes: a.attributes.clone(),
            site_id: a.site_id,
            estate_id: a.estate_id,
            my_access: level.into(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// The kinds a record may have.
pub const RECORD_KINDS: [&str; 6] =
    ["service", "repair", "inspection", "work_order", "fuel", "note"];

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "service")]
pub enum RecordKind {
    Service,
    Repair,
    Inspection,
    WorkOrder,
    Fuel,
    Note,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "5a8c2e71-9d4b-4f3a-8c6e-1b7d0f2a9e54", "asset_id": "7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47", "kind": "service", "date": "2026-11-01", "title": "Annual service", "notes": "Oil and filters changed; brake pads at 60%.", "cost": 189.5, "odometer": 48210, "created_at": "2026-11-01T15:20:00Z", "updated_at": "2026-11-01T15:20:00Z"}))]
pub struct RecordView {
    pub id: Uuid,
    pub asset_id: Uuid,
    #[schema(value_type = RecordKind)]
    pub kind: String,
    pub date: NaiveDate,
    pub title: String,
    #[schema(required = true)]
    pub notes: Option<String>,
    #[schema(required = true)]
    pub cost: Option<f64>,
    #[schema(required = true)]
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

fn url_schema(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(2000))
        .description(Some(description))
        .examples([serde_json::json!("https://photos.example.com/transit/front.jpg")])
}

/// A stored photo's URL: http or https.
pub(crate) fn photo_url_schema() -> RefOr<Schema> {
    url_schema("Where the photo is stored: an http or https URL.").into()
}

/// A photo URL as sent: `http://` or `https://` and at least one more
/// character (9 to 2,000 characters in all once trimmed), without spaces or
/// control characters; surrounding spaces are trimmed. The API does not
/// fetch it, so it checks no more of its syntax.
pub(crate) fn photo_url_request_schema() -> RefOr<Schema> {
    url_schema("Where the photo is stored: `http://` or `https://` followed by at least one character (9 to 2,000 characters in all), without spaces or control characters; surrounding spaces are trimmed.")
        .min_length(Some(9))
        .pattern(Some(r"^\s*https?://[^\s\u0000-\u001F\u007F-\u009F]+\s*$"))
        .into()
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "2c9e5b38-6a1d-4e7f-b4c2-8f0a3d6e1b95", "asset_id": "7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47", "url": "https://photos.example.com/transit/front.jpg", "caption": "Front, after the brake job", "created_at": "2026-11-01T15:25:00Z"}))]
pub struct PhotoView {
    pub id: Uuid,
    pub asset_id: Uuid,
    #[schema(schema_with = photo_url_schema)]
    pub url: String,
    #[schema(required = true)]
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
#[schema(example = json!({"user": {"id": "c4a7e2f9-5b1d-4c8e-a3f6-7d9b0e2c5a18", "username": "alex.morgan", "display_name": "Alex Morgan", "email": null}, "added_at": "2026-03-01T09:30:00Z"}))]
pub struct CollaboratorView {
    pub user: UserSummary,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"common": [{"id": "c4a7e2f9-5b1d-4c8e-a3f6-7d9b0e2c5a18", "username": "alex.morgan", "display_name": "Alex Morgan", "email": null}], "partial": [{"user": {"id": "e1b6d4a9-3c7f-4a2e-9d58-6f0b2c8e7a13", "username": "sam.patel", "display_name": "Sam Patel", "email": null}, "asset_ids": ["7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47"]}]}))]
pub struct CollaboratorSplitView {
    /// Collaborators of every selected asset.
    pub common: Vec<UserSummary>,
    /// Collaborators of some selected assets.
    pub partial: Vec<PartialCollaborator>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"user": {"id": "e1b6d4a9-3c7f-4a2e-9d58-6f0b2c8e7a13", "username": "sam.patel", "display_name": "Sam Patel", "email": null}, "asset_ids": ["7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47", "0f4a8c2e-6b1d-4e9a-a7c3-5d2e8b0f6a14"]}))]
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn contract_enums_keep_the_wire_names() {
        for v in keyholder_domain::AssetLevel::ALL {
            assert_eq!(json!(super::AssetLevel::from(v)), json!(v.as_str()));
        }
        let kinds: Vec<super::RecordKind> = super::RECORD_KINDS
            .iter()
            .map(|k| serde_json::from_value(json!(k)).expect(k))
            .collect();
        assert_eq!(json!(kinds), json!(super::RECORD_KINDS));
    }
}
