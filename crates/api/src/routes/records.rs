//! Records of an asset: request shapes, the documented handlers, and their
//! routes. The use cases are in [`crate::ops::records`].

use actix_web::web::Path;
use chrono::NaiveDate;
use keyholder_store::records::RecordFields;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::conditional::{ok_tagged, tagged};
use crate::ctx::Ctx;
use crate::error::{
    ApiError, AssetNotFound, BadPaging, InvalidFields, MalformedJson, Problem, Unauthorized,
};
use crate::extract::{ScopedJson, ValidQuery, double_option};
use crate::idempotency::Answer;
use crate::ops::exports::Limits;
use crate::ops::records::{self, RecordKey};
use crate::routes::{Reply, done, exported, listed};
use crate::views::assets::{RecordKind, RecordView};
use crate::views::common::{CursorPage, CursorQuery};
use crate::views::exports::{ExportDocument, ExportQuery};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "service", "date": "2026-11-01", "title": "Annual service", "cost": 189.5, "odometer": 48210}))]
pub struct RecordRequest {
    #[schema(value_type = RecordKind)]
    pub kind: String,
    /// Years 1 to 9999.
    #[validate(custom(function = "crate::extract::storable_date"))]
    #[schema(pattern = r"^(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-")]
    pub date: NaiveDate,
    /// 1 to 200 characters, not only spaces, no control characters.
    #[validate(length(max = 200))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub title: String,
    /// Free text: line breaks and tabs allowed, no other control characters;
    /// blank is none.
    #[validate(length(max = 10000))]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub notes: Option<String>,
    #[validate(range(min = 0.0, max = 1_000_000_000.0))]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub cost: Option<f64>,
    #[validate(range(min = 0, max = 100_000_000_000_i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000_i64)]
    pub odometer: Option<i64>,
}

/// The record body, kept to be checked after authorization.
fn fields(body: ScopedJson<RecordRequest>) -> Result<RecordFields, ApiError> {
    body.after_authorization().map(|RecordRequest { kind, date, title, notes, cost, odometer }| {
        RecordFields { kind, date, title, notes, cost, odometer }
    })
}

/// A partial edit of a record: a member left out keeps its value; `null`
/// clears `notes`, `cost` or `odometer`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Brakes and pads", "cost": 240}))]
pub struct RecordPatch {
    /// `null` is 422: a record always has a kind.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = RecordKind)]
    pub kind: Option<Option<String>>,
    /// Years 1 to 9999 (`null` is 422).
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "crate::extract::storable_date"))]
    #[schema(value_type = NaiveDate, pattern = r"^(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-")]
    pub date: Option<Option<NaiveDate>>,
    /// 1 to 200 characters, not only spaces, no control characters (`null`
    /// is 422).
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 200))]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$")]
    pub title: Option<Option<String>>,
    /// Free text (line breaks and tabs allowed); `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 10000))]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0.0, max = 1_000_000_000.0))]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 1_000_000_000)]
    pub cost: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0, max = 100_000_000_000_i64))]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000_000_000_i64)]
    pub odometer: Option<Option<i64>>,
}

/// List the records of an asset
///
/// Records (service, repair, inspection, work order, fuel, note), newest `date`
/// first. Any access level (view or above) may read them; an asset out of my
/// reach answers 404 `asset_not_found`. Paged by `cursor` (the previous page's
/// `next_cursor`) or `page` (from 1), and `per_page` (1 to 100, default 25).
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/records", operation_id = "listRecords", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), CursorQuery),
    responses((status = 200, description = "Records, newest date first; `total` counts up to 1,000 (`total_exact` says whether there are more); `next_cursor` gives the next page", body = CursorPage<RecordView>), Unauthorized, AssetNotFound, BadPaging))]
pub async fn list_records(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<CursorQuery>) -> Reply {
    listed(&ctx, ctx.run(move |c, actor, now| records::list(c, actor, *id, &q.0, now)).await)
}

/// Export the records of an asset
///
/// Every record of the asset as one attachment, newest `date` first as
/// `listRecords` orders them, not paged. Any access level (view or above) may
/// export them; an asset out of my reach answers 404 `asset_not_found`.
/// `format=csv` (the default) answers a CSV table (`text/csv`, UTF-8, a header
/// row, times in RFC 3339 UTC and dates as `YYYY-MM-DD`, a cell starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return prefixed with `'`);
/// `format=json` answers the records as the list shows them, with their
/// `count`. Read in one snapshot; more than 50,000 records answers 422
/// `export_too_large`.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/records/export", operation_id = "exportRecords", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ExportQuery),
    responses((status = 200, description = "The asset's records, as an attachment (`Content-Disposition`: `asset-<asset_id>-records-YYYY-MM-DD.csv` or `.json`)",
        content((String = "text/csv"), (ExportDocument<RecordView> = "application/json")),
        headers(("Content-Disposition" = String, description = "`attachment; filename=\"asset-7d3f9a21-4c6e-4b8a-9e15-2a0c6f8b3d47-records-2026-03-01.csv\"` (`.json` for JSON)"))), Unauthorized, AssetNotFound,
        (status = 422, description = "Bad format, or `export_too_large`", body = Problem, content_type = "application/problem+json")))]
pub async fn export_records(ctx: Ctx, id: Path<Uuid>, q: ValidQuery<ExportQuery>) -> Reply {
    let format = q.0.format()?;
    let (asset_id, limits) = (id.into_inner(), Limits::of(&ctx.state().config));
    let records =
        ctx.snapshot(move |c, actor, now| records::export(c, actor, asset_id, limits, now));
    exported(&ctx, format, &format!("asset-{asset_id}-records"), records.await)
}

/// Add a record to an asset
///
/// Adds a record and returns it. Needs edit access or above (403
/// `edit_access_required`, checked before the body's fields). The cost is kept to
/// the cent and blank notes are dropped.
#[utoipa::path(post, path = "/api/v1/assets/{asset_id}/records", operation_id = "addRecord", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path)), request_body = RecordRequest,
    responses((status = 201, description = "Added", body = RecordView), MalformedJson, Unauthorized, (status = 403, description = "`edit_access_required`", body = Problem, content_type = "application/problem+json"), AssetNotFound, InvalidFields))]
pub async fn add_record(ctx: Ctx, id: Path<Uuid>, body: ScopedJson<RecordRequest>) -> Reply {
    let cmd = records::Add { asset_id: id.into_inner(), fields: fields(body) };
    ctx.once(move |c, actor, now| records::add(c, actor, cmd, now).and_then(Answer::created)).await
}

/// Read a record
///
/// One record of the asset, with its `ETag` (304 on a matching
/// `If-None-Match`). Any access level (view or above) may read it; an asset out
/// of my reach answers 404 `asset_not_found`, a record of another asset 404
/// `record_not_found`.
#[utoipa::path(get, path = "/api/v1/assets/{asset_id}/records/{record_id}", operation_id = "getRecord", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("record_id" = Uuid, Path)),
    responses((status = 200, description = "The record", body = RecordView), Unauthorized,
        (status = 404, description = "`asset_not_found` or `record_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn get_record(ctx: Ctx, key: Path<(Uuid, Uuid)>) -> Reply {
    let key = RecordKey::from(key.into_inner());
    tagged(&ctx, ctx.read_one(move |c, actor, now| records::get(c, actor, &key, now)).await)
}

/// Edit a record
///
/// Changes only the fields sent: a field left out keeps its value, and
/// `null` clears `notes`, `cost` or `odometer`. Needs edit access or above (403 `edit_access_required`). A
/// record of another asset is not found (404 `record_not_found`).
#[utoipa::path(patch, path = "/api/v1/assets/{asset_id}/records/{record_id}", operation_id = "updateRecord", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("record_id" = Uuid, Path)), request_body = RecordPatch,
    responses((status = 200, description = "Saved", body = RecordView), MalformedJson, Unauthorized, (status = 403, description = "`edit_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `record_not_found`", body = Problem, content_type = "application/problem+json"), InvalidFields))]
pub async fn update_record(
    ctx: Ctx,
    key: Path<(Uuid, Uuid)>,
    body: ScopedJson<RecordPatch>,
) -> Reply {
    let change = body.after_authorization().map(
        |RecordPatch { kind, date, title, notes, cost, odometer }| records::Change {
            kind,
            date,
            title,
            notes,
            cost,
            odometer,
        },
    );
    let key = RecordKey::from(key.into_inner());
    let cmd = records::Edit { record: key, change };
    let current = move |c: &mut _, actor: &_, now| records::get_locked(c, actor, &key, now);
    ok_tagged(
        ctx.write_if_match(current, move |c, actor, now| records::edit(c, actor, cmd, now)).await,
    )
}

/// Delete a record
///
/// Deletes the record for good. Needs manage access or above (403
/// `manage_access_required`); a record of another asset answers 404
/// `record_not_found`.
#[utoipa::path(delete, path = "/api/v1/assets/{asset_id}/records/{record_id}", operation_id = "deleteRecord", tag = "records", security(("bearer" = [])), params(("asset_id" = Uuid, Path), ("record_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), Unauthorized, (status = 403, description = "`manage_access_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found` or `record_not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_record(ctx: Ctx, key: Path<(Uuid, Uuid)>) -> Reply {
    let key = RecordKey::from(key.into_inner());
    let current = move |c: &mut _, actor: &_, now| records::get_locked(c, actor, &key, now);
    done(
        ctx.write_if_match(current, move |c, actor, now| records::delete(c, actor, key, now)).await,
    )
}

endpoints![list_records, add_record, export_records, get_record, update_record, delete_record,
    ; tags:
    ("records", "Records and photos of an asset"),
];
