//! Records of an asset (service, repair, inspection, ...): list (view),
//! add and edit (edit), delete (manage). A record is always loaded through
//! its asset.

use crate::problems::ProblemCode;
use keyholder_domain::asset::AssetCapability;
use keyholder_domain::values::Name;

use keyholder_store::records::{self, RecordFields};
use uuid::Uuid;

use super::Deferred;
use super::access::{
    AssetList, asset_list_page, caller_asset, caller_asset_for, locked_asset_read, require,
};
use crate::auth::Caller;
use crate::error::{ApiError, FieldErrors};
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::ops::exports::{Limits, every_row};
use crate::views::assets::{RECORD_KINDS, RecordView};
use crate::views::common::{Cursor, CursorPage, CursorQuery};

fn record_not_found() -> ApiError {
    ApiError::not_found(ProblemCode::RecordNotFound, "No such record on this asset.")
}

/// The fields as sent, checked (422 naming each bad one) and normalised:
/// the title as a name, blank notes dropped, the cost to the cent.
fn record_fields(f: RecordFields) -> Outcome<RecordFields> {
    let mut v = FieldErrors::new();
    if !RECORD_KINDS.contains(&f.kind.as_str()) {
        v.add("kind", format!("must be one of {}", RECORD_KINDS.join(", ")));
    }
    let title = v.check("title", Name::parse(&f.title));
    if f.cost.is_some_and(|c| !c.is_finite() || c < 0.0) {
        v.add("cost", "must be a number of at least 0");
    }
    if f.notes.as_deref().is_some_and(|n| n.contains('\0')) {
        v.add("notes", "must not contain NUL characters");
    }
    let Some(title) = title else {
        return Err(v.into_error());
    };
    v.finish()?;
    Ok(RecordFields {
        kind: f.kind,
        date: f.date,
        title: title.as_str().to_owned(),
        notes: f.notes.filter(|n| !n.trim().is_empty()),
        cost: f.cost.map(|c| (c * 100.0).round() / 100.0),
        odometer: f.odometer,
    })
}

/// The records of an asset, newest date first (view).
pub fn list(
    c: &mut Conn,
    actor: &Caller,
    asset_id: Uuid,
    q: &CursorQuery,
    now: Now,
) -> Outcome<CursorPage<RecordView>> {
    let list = AssetList {
        key: record_key,
        read: records::records,
        cursor: |r| {
            Cursor::at_and(r.created_at, &r.fields.date.format("%Y-%m-%d").to_string(), r.id)
        },
        view: |r, _| RecordView::from(&r),
    };
    asset_list_page(c, (actor, asset_id, AssetCapability::Read), list, q, now)
}

/// Every record of an asset, newest date first, as [`list`] pages them
/// (view; 404 for an asset out of reach), up to `limits.rows` records (422
/// `export_too_large` beyond).
pub fn export(
    c: &mut Conn,
    actor: &Caller,
    asset_id: Uuid,
    limits: Limits,
    now: Now,
) -> Outcome<Vec<RecordView>> {
    caller_asset_for(c, actor, asset_id, AssetCapability::Read, now)?;
    let rows = every_row(
        limits,
        |window| Ok(records::records(c, asset_id, window)?),
        |r| ((r.fields.date, r.created_at), r.id),
    )?;
    Ok(rows.iter().map(RecordView::from).collect())
}

/// The key of a record list's cursor: the record's date and creation
/// instant (422 `cursor` for another list's).
fn record_key(cursor: &Cursor) -> Outcome<records::RecordKey> {
    let (at, date) = cursor.instant_and()?;
    let date = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .map_err(|_| ApiError::field("cursor", "not a cursor this list gave out"))?;
    Ok((date, at))
}

pub type Add = super::AddToAsset<RecordFields>;

/// Add a record (edit).
pub fn add(c: &mut Conn, actor: &Caller, cmd: Add, now: Now) -> Outcome<RecordView> {
    let (user, _, _) =
        caller_asset_for(c, actor, cmd.asset_id, AssetCapability::AddEditRecords, now)?;
    let fields = record_fields(cmd.fields?)?;
    let r = records::add_record(c, cmd.asset_id, &fields, user.id, now)?;
    Ok(RecordView::from(&r))
}

/// One record of one asset.
#[derive(Clone, Copy)]
pub struct RecordKey {
    pub asset_id: Uuid,
    pub record_id: Uuid,
}

impl From<(Uuid, Uuid)> for RecordKey {
    fn from((asset_id, record_id): (Uuid, Uuid)) -> Self {
        Self { asset_id, record_id }
    }
}

/// What an edit changes: `None` keeps a field; `Some(None)` clears an
/// optional one (and is refused for `kind`, `date` and `title`).
#[derive(Debug, Default)]
pub struct Change {
    pub kind: Option<Option<String>>,
    pub date: Option<Option<chrono::NaiveDate>>,
    pub title: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub cost: Option<Option<f64>>,
    pub odometer: Option<Option<i64>>,
}

impl Change {
    /// The record's fields after this change (422 naming a required field
    /// sent as `null`).
    fn applied_to(self, f: RecordFields) -> Outcome<RecordFields> {
        let mut v = FieldErrors::new();
        let mut required = |name: &str, sent: Option<Option<String>>, kept: String| match sent {
            None => kept,
            Some(Some(value)) => value,
            Some(None) => {
                v.add(name, "must not be null");
                kept
            }
        };
        let kind = required("kind", self.kind, f.kind);
        let title = required("title", self.title, f.title);
        let date = match self.date {
            None => f.date,
            Some(Some(date)) => date,
            Some(None) => {
                v.add("date", "must not be null");
                f.date
            }
        };
        v.finish()?;
        Ok(RecordFields {
            kind,
            date,
            title,
            notes: self.notes.unwrap_or(f.notes),
            cost: self.cost.unwrap_or(f.cost),
            odometer: self.odometer.unwrap_or(f.odometer),
        })
    }
}

/// One record (view); a record of another asset is not found.
pub fn get(c: &mut Conn, actor: &Caller, key: &RecordKey, now: Now) -> Outcome<RecordView> {
    caller_asset_for(c, actor, key.asset_id, AssetCapability::Read, now)?;
    let r = records::get_record(c, key.asset_id, key.record_id)?.ok_or_else(record_not_found)?;
    Ok(RecordView::from(&r))
}

/// [`get`] with the asset's row locked first, as the record's conditional
/// writes read it before comparing `If-Match`.
pub fn get_locked(c: &mut Conn, actor: &Caller, key: &RecordKey, now: Now) -> Outcome<RecordView> {
    locked_asset_read(c, actor, key.asset_id, |c| get(c, actor, key, now))
}

pub struct Edit {
    pub record: RecordKey,
    /// As sent.
    pub change: Deferred<Change>,
}

/// Edit a record (edit): the fields sent change, the others stay. A record
/// of another asset is not found.
pub fn edit(c: &mut Conn, actor: &Caller, cmd: Edit, now: Now) -> Outcome<RecordView> {
    let RecordKey { asset_id, record_id } = cmd.record;
    let (_, _, level) = caller_asset(c, actor, asset_id, now)?;
    let current = records::get_record(c, asset_id, record_id)?.ok_or_else(record_not_found)?;
    require(level, AssetCapability::AddEditRecords)?;
    let fields = record_fields(cmd.change?.applied_to(current.fields)?)?;
    records::update_record(c, asset_id, record_id, &fields, now)?;
    let r = records::get_record(c, asset_id, record_id)?.ok_or_else(record_not_found)?;
    Ok(RecordView::from(&r))
}

/// Delete a record (manage).
pub fn delete(c: &mut Conn, actor: &Caller, key: RecordKey, now: Now) -> Outcome<()> {
    let RecordKey { asset_id, record_id } = key;
    let (_, _, level) = caller_asset(c, actor, asset_id, now)?;
    records::get_record(c, asset_id, record_id)?.ok_or_else(record_not_found)?;
    require(level, AssetCapability::DeleteRecordsAndPhotos)?;
    records::delete_record(c, asset_id, record_id)?;
    Ok(())
}
