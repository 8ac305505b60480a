//! A fresh database per test: a SQLite file in a temp folder, or a new
//! PostgreSQL database dropped afterwards.

use diesel::{Connection, RunQueryDsl};

use crate::Backend;

/// A fresh database for one test, dropped afterwards.
pub struct TestDb {
    pub url: String,
    pg_admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("keyholder.db").display());
                Self { url, pg_admin: None, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = std::env::var("KEYHOLDER_TEST_POSTGRES_URL")
                    .expect("KEYHOLDER_TEST_POSTGRES_URL");
                let name = format!("kh_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!("PostgreSQL at KEYHOLDER_TEST_POSTGRES_URL does not answer: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let url = replace_db_name(&admin, &name);
                Self { url, pg_admin: Some((admin, name)), _dir: None }
            }
        }
    }

    /// Drops the PostgreSQL database now (simulates a lost database).
    pub fn drop_now(&mut self) {
        if let Some((admin, name)) = self.pg_admin.take()
            && let Ok(mut conn) = diesel::PgConnection::establish(&admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.drop_now();
    }
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}
