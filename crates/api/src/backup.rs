//! `keyholder backup FILE`: a consistent copy of the database, taken while
//! the server runs.
//!
//! - SQLite: `VACUUM INTO`, SQLite's online copy. It reads one snapshot
//!   (WAL mode lets writers go on meanwhile), writes a compact database
//!   file with every committed change and no `-wal` beside it, and the copy
//!   is then checked with `PRAGMA integrity_check`. Restore: stop the
//!   server, put the file in the database's place (removing any `-wal` and
//!   `-shm` files there), start it.
//! - PostgreSQL: `pg_dump --format=custom` (one snapshot, concurrent
//!   writers unaffected), run with the configured URL; the password goes to
//!   `pg_dump` in `PGPASSWORD`, not on its command line. Restore into an
//!   empty database with `pg_restore --no-owner --dbname=URL FILE`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use keyholder_store::DatabaseUrl;

use crate::config::Config;
use crate::startup;

/// Writes the backup to `output`, which must not exist yet.
pub fn run(config: &Config, output: &Path) -> anyhow::Result<()> {
    if output.exists() {
        bail!("{} exists already; name a new file", output.display());
    }
    let raw = config.resolved_database_url();
    match DatabaseUrl::parse(&raw)? {
        DatabaseUrl::Sqlite(path) => {
            if !path.exists() {
                bail!("there is no database at {}", path.display());
            }
            let db = startup::connect(config)?;
            db.copy_sqlite_to(output)
                .with_context(|| format!("cannot back up into {}", output.display()))?;
        }
        DatabaseUrl::Postgres(url) => pg_dump(&url, output)?,
    }
    let size = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    tracing::info!(file = %output.display(), bytes = size, "backup written");
    Ok(())
}

/// Runs `pg_dump` (from `PATH`) for `url` into `output`.
fn pg_dump(url: &str, output: &Path) -> anyhow::Result<()> {
    let (url, password) = split_password(url);
    let mut cmd = Command::new("pg_dump");
    cmd.args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
        .arg(output)
        .arg("--dbname")
        .arg(&url);
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    let status = cmd.status().map_err(|e| {
        anyhow::anyhow!(
            "cannot run pg_dump ({e}): install the PostgreSQL client tools of the server's \
             version or newer (Debian: apt-get install postgresql-client)"
        )
    })?;
    if !status.success() {
        let _ = std::fs::remove_file(output);
        bail!("pg_dump failed ({status})");
    }
    restrict(output)
}

/// The URL without its password, and the password (percent-decoded).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_owned(), None);
    };
    let authority_end = url[scheme_end..].find('/').map_or(url.len(), |i| scheme_end + i);
    let Some(at) = url[scheme_end..authority_end].rfind('@').map(|i| scheme_end + i) else {
        return (url.to_owned(), None);
    };
    let userinfo = &url[scheme_end..at];
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_owned(), None);
    };
    let password = percent_encoding::percent_decode_str(password).decode_utf8_lossy().into_owned();
    (format!("{}{user}{}", &url[..scheme_end], &url[at..]), Some(password))
}

/// Owner-only permissions: a backup holds every account.
fn restrict(output: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(output, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", output.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_password;

    #[test]
    fn the_password_is_taken_out_of_the_url() {
        assert_eq!(
            split_password("postgres://kh:s%40cret:x@db:5432/keyholder?sslmode=require"),
            (
                "postgres://kh@db:5432/keyholder?sslmode=require".to_owned(),
                Some("s@cret:x".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://kh@db/keyholder"),
            ("postgres://kh@db/keyholder".to_owned(), None)
        );
        assert_eq!(
            split_password("postgres://db/keyholder?user=a@b"),
            ("postgres://db/keyholder?user=a@b".to_owned(), None)
        );
    }
}
