//! Cursor paging checks the list suites share, and rows written straight
//! to the database so that their times can tie.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use keyholder_store::invitations::{self, NewInvitation, ResourceType};
use serde_json::Value;
use uuid::Uuid;

use crate::{Reply, Session, TestApp};

/// A well-formed cursor of another list (an email key): no position in
/// lists keyed by time or by member.
pub const FOREIGN_CURSOR: &str =
    "eyJrIjoiYUBleGFtcGxlLmNvbSIsImkiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAifQ";

/// A pending invitation to seed: `(kind, resource, email, invited_at,
/// expires_at)`.
pub type PendingRow<'a> = (ResourceType, &'a str, &'a str, DateTime<Utc>, Option<DateTime<Utc>>);

/// A pending asset invitation to seed: `(asset, email, invited_at,
/// expires_at)`.
pub type AssetRow<'a> = (&'a str, &'a str, DateTime<Utc>, Option<DateTime<Utc>>);

/// Parses an id the server gave.
pub fn uid(s: &str) -> Uuid {
    Uuid::parse_str(s).expect("uuid")
}

/// The `id` of each item, in order.
pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["id"].as_str().expect("id").to_owned()).collect()
}

/// Two string members of each item, named by JSON pointer (`/name`,
/// `/user/username`), in order.
pub fn pairs(items: &[Value], a: &str, b: &str) -> Vec<(String, String)> {
    let text = |item: &Value, at: &str| match item.pointer(at).and_then(Value::as_str) {
        Some(s) => s.to_owned(),
        None => panic!("no string {at} in {item}"),
    };
    items.iter().map(|item| (text(item, a), text(item, b))).collect()
}

/// The ids sorted newest first by the time member `at`, then by id
/// descending: the order the time-keyed lists promise.
pub fn newest_first(items: &[Value], at: &str) -> Vec<String> {
    let mut sorted = items.to_vec();
    let time = |v: &Value| {
        DateTime::parse_from_rfc3339(v[at].as_str().expect(at)).expect("rfc 3339").to_utc()
    };
    sorted.sort_by(|a, b| {
        time(b).cmp(&time(a)).then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
    });
    ids(&sorted)
}

impl Reply {
    /// Asserts the 422 a cursor the server did not give earns, naming the
    /// cursor.
    #[track_caller]
    pub fn assert_bad_cursor(&self) {
        self.assert_problem(422, "validation_failed");
        assert!(!self.body["errors"]["cursor"].is_null(), "{}", self.text);
    }
}

impl TestApp {
    /// Lists `path` in one page, newest first by `at`, then walks it by
    /// cursor with each of `per_pages`: the same items, each once, in as
    /// many pages as it takes. The number of items.
    pub async fn check_walk(
        &self,
        token: &str,
        path: &str,
        at: &str,
        per_pages: &[usize],
    ) -> usize {
        let sep = if path.contains('?') { '&' } else { '?' };
        let full = self.get(&format!("{path}{sep}per_page=100"), Some(token)).await;
        full.assert_status(200);
        let all = full.items().clone();
        let n = all.len();
        assert_eq!(full.body["total"], n, "{path}");
        assert_eq!(full.body["total_exact"], true);
        assert!(full.body["next_cursor"].is_null());
        assert_eq!(ids(&all), newest_first(&all, at), "{path}");
        for &per_page in per_pages {
            let (walked, pages) = self.walk(token, path, per_page).await;
            assert_eq!(ids(&walked), ids(&all), "{path} per_page={per_page}");
            assert_eq!(pages, n.div_ceil(per_page).max(1), "{path} per_page={per_page}");
            let unique: HashSet<String> = ids(&walked).into_iter().collect();
            assert_eq!(unique.len(), n);
        }
        n
    }

    /// Asserts that each of `bad` as a cursor on `path` is refused.
    pub async fn assert_cursors_refused(&self, token: &str, path: &str, bad: &[&str]) {
        let sep = if path.contains('?') { '&' } else { '?' };
        for cursor in bad {
            self.get(&format!("{path}{sep}cursor={cursor}"), Some(token)).await.assert_bad_cursor();
        }
    }

    /// Pending asset invitations by `by`, as [`TestApp::seed_invitations`].
    pub fn seed_asset_invitations(&self, by: &Session, rows: &[AssetRow<'_>]) {
        let rows: Vec<PendingRow<'_>> = rows
            .iter()
            .map(|&(asset, email, at, expires)| (ResourceType::Asset, asset, email, at, expires))
            .collect();
        self.seed_invitations(by, &rows);
    }

    /// Lists `path` and walks it as [`TestApp::check_walk`] does, by 2 and
    /// by 3, expecting `n` items newest first by `invited_at`; then
    /// cursors it did not give are refused.
    pub async fn check_walk_and_cursors(&self, token: &str, path: &str, n: usize) {
        assert_eq!(self.check_walk(token, path, "invited_at", &[2, 3]).await, n, "{path}");
        self.assert_cursors_refused(token, path, &["garbage", "e30", FOREIGN_CURSOR]).await;
    }

    /// Pending invitations by `by` written straight to the database, so
    /// that their times can tie (role `viewer` on estates, `view` on
    /// assets).
    pub fn seed_invitations(&self, by: &Session, rows: &[PendingRow<'_>]) {
        let by = uid(&by.id);
        self.app_state
            .db
            .write(|c| {
                for (kind, resource, email, at, expires) in rows {
                    let token = Uuid::new_v4().to_string();
                    let role = match kind {
                        ResourceType::Estate => "viewer",
                        ResourceType::Asset => "view",
                    };
                    invitations::insert(
                        c,
                        &NewInvitation {
                            resource_type: *kind,
                            resource_id: uid(resource),
                            email,
                            role,
                            message: None,
                            token_hash: &token,
                            invited_by: by,
                            expires_at: *expires,
                            access_expires_at: None,
                        },
                        *at,
                    )?
                    .expect("not already pending");
                }
                Ok::<_, keyholder_store::StoreError>(())
            })
            .expect("seeded invitations");
    }
}
