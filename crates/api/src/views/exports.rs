//! What the exports of the lists answer (`.../export?format=csv|json`): the
//! whole filtered list as one attachment, a CSV table or a JSON document of
//! the list's own items. (`GET /me/export`, everything stored about me, is
//! [`super::export`].)
//!
//! CSV follows RFC 4180 (a header row, `CRLF` line ends, fields quoted when
//! they hold a comma, a quote or a line break), in UTF-8. Nested objects are
//! flattened to named columns (`asset_id`, `asset_name`...), times are RFC
//! 3339 in UTC as in JSON, and a cell a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
//! leading `'`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::error::ApiError;
use crate::views::assets::RecordView;
use crate::views::audit::AuditEventView;
use crate::views::invitations::AssetInvitationView;
use crate::views::wire::ExportFormat;

/// The `format` of an export.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (the default): a table with a header row; `json`: the list's
    /// items in one document.
    #[param(value_type = Option<ExportFormat>)]
    pub format: Option<String>,
}

impl ExportQuery {
    /// The format asked for (422 naming `format` for another value).
    pub fn format(&self) -> Result<ExportFormat, ApiError> {
        match self.format.as_deref() {
            None => Ok(ExportFormat::Csv),
            Some(f) => ExportFormat::ALL
                .iter()
                .copied()
                .find(|known| known.as_str() == f)
                .ok_or_else(|| ApiError::field("format", "must be one of csv, json")),
        }
    }
}

/// An export as JSON: every item of the filtered list (`items`), in the
/// list's order and as the list shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportDocument<T: ToSchema> {
    pub items: Vec<T>,
    /// How many items there are.
    #[schema(example = 57, minimum = 0)]
    pub count: usize,
    /// When the export was read.
    #[schema(example = "2026-03-01T09:30:00Z")]
    pub exported_at: DateTime<Utc>,
}

/// An item as one row of a CSV table.
pub trait CsvRow {
    /// The column names, in order.
    const COLUMNS: &'static [&'static str];

    /// The row's cells, one per column (empty for null).
    fn cells(&self) -> Vec<String>;
}

/// A time as RFC 3339 in UTC, as the JSON answers write it.
fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn opt_time(t: Option<DateTime<Utc>>) -> String {
    t.map(time).unwrap_or_default()
}

fn opt(s: Option<&String>) -> String {
    s.cloned().unwrap_or_default()
}

impl CsvRow for AssetInvitationView {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "asset_id",
        "asset_name",
        "asset_reference",
        "email",
        "permission",
        "status",
        "message",
        "invited_by_id",
        "invited_by_username",
        "invited_by_display_name",
        "invited_at",
        "expires_at",
        "access_expires_at",
        "last_sent_at",
        "resend_count",
        "responded_at",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.asset.id.to_string(),
            self.asset.name.clone(),
            opt(self.asset.reference.as_ref()),
            self.email.clone(),
            self.permission.clone(),
            self.status.clone(),
            opt(self.message.as_ref()),
            self.invited_by.id.to_string(),
            self.invited_by.username.clone(),
            self.invited_by.display_name.clone(),
            time(self.invited_at),
            opt_time(self.expires_at),
            opt_time(self.access_expires_at),
            time(self.last_sent_at),
            self.resend_count.to_string(),
            opt_time(self.responded_at),
        ]
    }
}

impl CsvRow for AuditEventView {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "created_at",
        "action",
        "target_type",
        "target_id",
        "actor_id",
        "actor_username",
        "actor_display_name",
        "actor_deleted",
        "before",
        "after",
    ];

    fn cells(&self) -> Vec<String> {
        let actor = self.actor.as_ref();
        let change = |v: Option<&serde_json::Value>| v.map(|v| v.to_string()).unwrap_or_default();
        vec![
            self.id.to_string(),
            time(self.created_at),
            self.action.clone(),
            self.target.type_.clone(),
            self.target.id.clone(),
            actor.map(|a| a.id.to_string()).unwrap_or_default(),
            opt(actor.and_then(|a| a.username.as_ref())),
            opt(actor.and_then(|a| a.display_name.as_ref())),
            actor.map(|a| a.deleted.to_string()).unwrap_or_default(),
            change(self.before.as_ref()),
            change(self.after.as_ref()),
        ]
    }
}

impl CsvRow for RecordView {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "asset_id",
        "kind",
        "date",
        "title",
        "notes",
        "cost",
        "odometer",
        "created_at",
        "updated_at",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.asset_id.to_string(),
            self.kind.clone(),
            self.date.format("%Y-%m-%d").to_string(),
            self.title.clone(),
            opt(self.notes.as_ref()),
            self.cost.map(|c| c.to_string()).unwrap_or_default(),
            self.odometer.map(|o| o.to_string()).unwrap_or_default(),
            time(self.created_at),
            time(self.updated_at),
        ]
    }
}

/// A cell a spreadsheet would read as a formula (or that starts with a
/// character some spreadsheets strip before reading one), with a leading
/// `'` so that it shows as text; any other cell as it is.
pub fn neutralised(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell }
}

/// The items as a CSV table: the header row, then a row per item.
pub fn csv<T: CsvRow>(items: &[T]) -> Result<Vec<u8>, ApiError> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    let failed = |e: csv::Error| ApiError::internal().caused_by(e);
    out.write_record(T::COLUMNS).map_err(failed)?;
    for item in items {
        out.write_record(item.cells().into_iter().map(neutralised)).map_err(failed)?;
    }
    out.into_inner().map_err(|e| ApiError::internal().caused_by(e.error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(Vec<&'static str>);

    impl CsvRow for Row {
        const COLUMNS: &'static [&'static str] = &["a", "b"];
        fn cells(&self) -> Vec<String> {
            self.0.iter().map(|s| (*s).to_owned()).collect()
        }
    }

    fn text(rows: &[Row]) -> String {
        String::from_utf8(csv(rows).expect("csv")).expect("utf-8")
    }

    #[test]
    fn fields_are_quoted_as_rfc_4180_says_with_crlf_line_ends() {
        let rows = [Row(vec!["plain", "a, b"]), Row(vec!["say \"hi\"", "two\nlines"])];
        assert_eq!(text(&rows), "a,b\r\nplain,\"a, b\"\r\n\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
    }

    #[test]
    fn formula_cells_get_a_leading_quote() {
        for cell in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralised(cell.to_owned()), format!("'{cell}"));
        }
        for cell in ["", "plain", "1-2", "a=b", "'quoted"] {
            assert_eq!(neutralised(cell.to_owned()), cell);
        }
        assert_eq!(
            text(&[Row(vec!["=HYPERLINK(\"x\")", "ok"])]),
            "a,b\r\n\"'=HYPERLINK(\"\"x\"\")\",ok\r\n"
        );
    }

    #[test]
    fn text_stays_utf_8() {
        assert_eq!(text(&[Row(vec!["Zoë's Škoda", "東京"])]), "a,b\r\nZoë's Škoda,東京\r\n");
    }

    #[test]
    fn times_are_written_as_the_json_answers_write_them() {
        let t = DateTime::parse_from_rfc3339("2026-03-01T09:30:00.123456Z")
            .expect("time")
            .with_timezone(&Utc);
        let json = serde_json::to_value(t).expect("json");
        assert_eq!(json, time(t));
        let whole =
            DateTime::parse_from_rfc3339("2026-03-01T09:30:00Z").expect("time").with_timezone(&Utc);
        assert_eq!(serde_json::to_value(whole).expect("json"), time(whole));
    }
}
