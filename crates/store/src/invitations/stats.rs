//! The stats cards of the asset invitation table: exact counts by status
//! from `invitation_counts` (kept by triggers), with the table's visibility.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use keyholder_domain::InvitationState;
use uuid::Uuid;

use super::table::reach_ctes;
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::paging::Sql;
use crate::predicates;

/// The six counters of the stats cards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub total: i64,
    pub pending: i64,
    pub accepted: i64,
    pub declined: i64,
    pub expired: i64,
    pub cancelled: i64,
}

/// Sums over `invitation_counts` of the resources in scope (the `reach` CTE
/// for a user; every asset, or one, for root) and the count of pending
/// invitations past their expiry there.
pub(super) struct ResourceCounts {
    /// `FROM ...` of the counts rows (aliased `k`).
    pub(super) from: String,
    /// A scalar subquery: pending invitations past their expiry.
    pub(super) lapsed: String,
}

impl ResourceCounts {
    pub(super) fn total(&self) -> String {
        "CAST(COALESCE(SUM(k.n), 0) AS BIGINT)".to_owned()
    }

    /// The count of invitations stored with `status`.
    pub(super) fn status(&self, status: InvitationState) -> String {
        format!(
            "CAST(COALESCE(SUM(CASE WHEN k.status = '{}' THEN k.n ELSE 0 END), 0) AS BIGINT)",
            status.as_str()
        )
    }
}

pub(super) fn resource_counts(
    sql: &mut Sql,
    is_root: bool,
    asset_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> ResourceCounts {
    let now = sql.param(now.into());
    let lapsed = format!(
        "SELECT COUNT(*) FROM invitations i
         WHERE {} AND i.resource_type = 'asset'",
        predicates::lapsed("i", &now)
    );
    if is_root {
        let (k_only, i_only) = match asset_id {
            None => (String::new(), String::new()),
            Some(a) => {
                let a = sql.id(a);
                (format!(" AND k.resource_id = {a}"), format!(" AND i.resource_id = {a}"))
            }
        };
        return ResourceCounts {
            from: format!("invitation_counts k WHERE k.resource_type = 'asset'{k_only}"),
            lapsed: format!("({lapsed}{i_only})"),
        };
    }
    let from = if sql.pg {
        // OFFSET 0: one probe per managed asset, never a scan.
        "reach r CROSS JOIN LATERAL (
           SELECT k.status, k.n FROM invitation_counts k
           WHERE k.resource_type = 'asset' AND k.resource_id = r.id OFFSET 0) k"
    } else {
        "reach r CROSS JOIN invitation_counts k
         WHERE k.resource_type = 'asset' AND k.resource_id = r.id"
    };
    // From the expiry index (PostgreSQL: OFFSET 0 keeps it the driving
    // side): the sweeper keeps the pending ones past their expiry few.
    let lapsed = format!(
        "(SELECT COUNT(*) FROM ({lapsed} {fence}) l
          WHERE EXISTS (SELECT 1 FROM reach r WHERE r.id = l.resource_id))",
        lapsed = lapsed.replacen("SELECT COUNT(*)", "SELECT i.resource_id", 1),
        fence = if sql.pg { "OFFSET 0" } else { "" },
    );
    ResourceCounts { from: from.to_owned(), lapsed }
}

/// The six stats cards, exact, with the table's visibility: from
/// `invitation_counts` (kept by triggers), one probe per asset the user
/// manages; pending invitations past their expiry (expired, not yet written
/// so by the sweeper) from the expiry index. Root's from the whole counts
/// table.
pub fn asset_stats(
    conn: &mut Conn,
    user_id: Uuid,
    is_root: bool,
    asset_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Stats> {
    let mut sql = Sql::new(conn);
    let ctes = if is_root { String::new() } else { reach_ctes(&mut sql, user_id, asset_id, None) };
    let counts = resource_counts(&mut sql, is_root, asset_id, now);
    stats_of(sql, conn, &ctes, &counts)
}

/// The six stats cards of one bulk invitation's rows, with the table's
/// visibility (the rows of assets the user manages; root: all), optionally
/// of one asset. Counted from the batch's own rows (at most 2,500), as
/// `invitation_counts` keeps no batch.
pub fn batch_stats(
    conn: &mut Conn,
    (user_id, is_root): (Uuid, bool),
    batch_id: Uuid,
    asset_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Stats> {
    let mut sql = Sql::new(conn);
    let ctes = if is_root { String::new() } else { reach_ctes(&mut sql, user_id, asset_id, None) };
    let batch = sql.id(batch_id);
    let mut scope = format!(
        "i.resource_type = 'asset' AND i.id IN (
           SELECT br.invitation_id FROM invitation_batch_rows br WHERE br.batch_id = {batch})"
    );
    if is_root {
        if let Some(a) = asset_id {
            scope.push_str(&format!(" AND i.resource_id = {}", sql.id(a)));
        }
    } else {
        scope.push_str(" AND i.resource_id IN (SELECT r.id FROM reach r)");
    }
    let now = sql.param(now.into());
    let counts = ResourceCounts {
        from: format!(
            "(SELECT i.status, COUNT(*) AS n FROM invitations i WHERE {scope} GROUP BY i.status) k"
        ),
        lapsed: format!(
            "(SELECT COUNT(*) FROM invitations i WHERE {} AND {scope})",
            predicates::lapsed("i", &now)
        ),
    };
    stats_of(sql, conn, &ctes, &counts)
}

/// The six cards over `counts`, after the CTEs `ctes`.
fn stats_of(sql: Sql, conn: &mut Conn, ctes: &str, counts: &ResourceCounts) -> Result<Stats> {
    let query = format!(
        "{ctes} SELECT {} AS total, {} AS pending, {} AS accepted, {} AS declined,
           {} AS expired, {} AS cancelled, {} AS lapsed
         FROM {}",
        counts.total(),
        counts.status(InvitationState::Pending),
        counts.status(InvitationState::Accepted),
        counts.status(InvitationState::Declined),
        counts.status(InvitationState::Expired),
        counts.status(InvitationState::Cancelled),
        counts.lapsed,
        counts.from,
    );
    let row = sql.load::<StatsRow>(conn, &query)?.into_iter().next().ok_or(StoreError::NotFound)?;
    // A pending invitation past its expiry counts as expired.
    Ok(Stats {
        total: row.total,
        pending: row.pending - row.lapsed,
        accepted: row.accepted,
        declined: row.declined,
        expired: row.expired + row.lapsed,
        cancelled: row.cancelled,
    })
}

/// The six stats cards of one estate's invitations, exact: from
/// `invitation_counts` (kept by triggers) and, for pending invitations past
/// their expiry (expired, not yet written so by the sweeper), the expiry
/// index.
pub fn estate_stats(conn: &mut Conn, estate_id: Uuid, now: DateTime<Utc>) -> Result<Stats> {
    let mut sql = Sql::new(conn);
    let estate = sql.id(estate_id);
    let now = sql.param(now.into());
    let counts = ResourceCounts {
        from: format!(
            "invitation_counts k WHERE k.resource_type = 'estate' AND k.resource_id = {estate}"
        ),
        lapsed: format!(
            "(SELECT COUNT(*) FROM invitations i
              WHERE {} AND i.resource_type = 'estate' AND i.resource_id = {estate})",
            predicates::lapsed("i", &now)
        ),
    };
    stats_of(sql, conn, "", &counts)
}

#[derive(QueryableByName)]
struct StatsRow {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = BigInt)]
    accepted: i64,
    #[diesel(sql_type = BigInt)]
    declined: i64,
    #[diesel(sql_type = BigInt)]
    expired: i64,
    #[diesel(sql_type = BigInt)]
    cancelled: i64,
    #[diesel(sql_type = BigInt)]
    lapsed: i64,
}
