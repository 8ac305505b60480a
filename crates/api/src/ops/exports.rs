//! Exports of the lists: the whole filtered list, read page by page with
//! the list's own keyset paging (inside the one snapshot transaction the
//! handler opened, so the pages agree), up to a limit of rows. The use
//! cases are beside their lists' (`invitations::asset::export`,
//! `audit::export`, `records::export`); this is the walk they share.

use keyholder_store::paging::{Page, Window};
use uuid::Uuid;

use crate::error::{ApiError, ProblemCode};
use crate::ops::Outcome;

/// How much one export reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most rows it holds (more is 422 `export_too_large`).
    pub rows: usize,
    /// Rows read per keyset page.
    pub page: i64,
}

impl Limits {
    /// The configured limits ([`crate::config::EXPORT_MAX_ROWS`] rows, read
    /// [`crate::config::EXPORT_PAGE_ROWS`] at a time, unless a test set others).
    pub fn of(config: &crate::config::Config) -> Self {
        Self { rows: config.export_max_rows, page: config.export_page_rows.max(1) }
    }
}

/// Every row of a list, read by `read` one keyset page after another from
/// the first (each page starting after the `key` and id of the last row of
/// the one before), or 422 `export_too_large` once more than `limits.rows`
/// rows are found: at most one row past the limit is ever read.
pub(crate) fn every_row<K, R>(
    limits: Limits,
    mut read: impl FnMut(&Window<K>) -> Outcome<Page<R>>,
    key: impl Fn(&R) -> (K, Uuid),
) -> Outcome<Vec<R>> {
    let Limits { rows: cap, page: per_page } = limits;
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        // One row past the cap is enough to know it is exceeded.
        let wanted = cap.saturating_add(1).saturating_sub(rows.len());
        let limit = i64::try_from(wanted).unwrap_or(per_page).clamp(1, per_page);
        let page = read(&Window { limit, offset: 0, after: after.take() })?;
        after = page.items.last().filter(|_| page.more).map(&key);
        rows.extend(page.items);
        if rows.len() > cap {
            return Err(too_large(cap));
        }
        if after.is_none() {
            return Ok(rows);
        }
    }
}

/// 422 `export_too_large`.
fn too_large(cap: usize) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        ProblemCode::ExportTooLarge,
        format!(
            "The export would hold more than {} rows; narrow the filters and export again.",
            thousands(cap)
        ),
    )
}

/// `50000` as `50,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list of `n` rows (ids 1..=n, newest first by their number) read as
    /// the store reads it: `limit + 1` rows after the keyset position.
    fn list(n: u128, reads: &mut Vec<i64>) -> impl FnMut(&Window<u128>) -> Outcome<Page<u128>> {
        move |w: &Window<u128>| {
            reads.push(w.limit);
            let start = w.after.as_ref().map_or(n, |(k, _)| k - 1);
            let fetched: Vec<u128> = (1..=start).rev().take((w.limit + 1) as usize).collect();
            let more = fetched.len() as i64 > w.limit;
            let mut items = fetched;
            items.truncate(w.limit as usize);
            Ok(Page { items, more, counted: 0 })
        }
    }

    fn limits(rows: usize) -> Limits {
        Limits { rows, page: 1000 }
    }

    fn key(r: &u128) -> (u128, Uuid) {
        (*r, Uuid::from_u128(*r))
    }

    #[test]
    fn every_row_is_read_once_in_order_page_after_page() {
        let mut reads = Vec::new();
        let rows = every_row(limits(10_000), list(2500, &mut reads), key).expect("rows");
        assert_eq!(rows, (1..=2500).rev().collect::<Vec<_>>());
        assert_eq!(reads, [1000, 1000, 1000]);
    }

    #[test]
    fn an_empty_list_is_one_read() {
        let mut reads = Vec::new();
        assert!(every_row(limits(10), list(0, &mut reads), key).expect("rows").is_empty());
        assert_eq!(reads.len(), 1);
    }

    #[test]
    fn exactly_the_cap_is_allowed_and_one_more_is_too_large_after_reading_one_row_past_it() {
        let mut reads = Vec::new();
        assert_eq!(every_row(limits(1500), list(1500, &mut reads), key).expect("rows").len(), 1500);
        let mut reads = Vec::new();
        let refused =
            every_row(limits(1500), list(1_000_000, &mut reads), key).expect_err("too large");
        assert_eq!(refused.code, ProblemCode::ExportTooLarge);
        assert_eq!(refused.status.as_u16(), 422);
        assert_eq!(
            refused.detail,
            "The export would hold more than 1,500 rows; narrow the filters and export again."
        );
        assert_eq!(reads, [1000, 501], "no more than cap + 1 rows are read");
    }

    #[test]
    fn the_default_cap_is_worded_as_the_catalogue_says() {
        let detail = too_large(crate::config::EXPORT_MAX_ROWS).detail;
        assert_eq!(detail, ProblemCode::ExportTooLarge.examples()[0].detail);
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
