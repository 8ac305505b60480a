//! What happens before the server listens: the database, the JWT secret and
//! the root account.

use keyholder_store::audit::Action;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use keyholder_domain::values::{Email, Password, Username};
use keyholder_store::audit::{self, NewAuditEvent};
use keyholder_store::users::{self, NewUser, Taken};
use keyholder_store::{DatabaseUrl, Db, PoolOptions};
use serde_json::json;

use crate::clock::Clock;
use crate::config::Config;
use crate::passwords;

/// Connects to the configured database.
pub fn connect(config: &Config) -> anyhow::Result<Db> {
    let raw = config.resolved_database_url();
    let url = DatabaseUrl::parse(&raw)?;
    let options = PoolOptions {
        max_size: config.pool_size(),
        connection_timeout: std::time::Duration::from_secs(config.db_timeout.max(1)),
    };
    Db::connect(&url, &options).with_context(|| {
        format!("cannot open the database {}", keyholder_store::db::redact_url(&raw))
    })
}

/// The secret file beside a SQLite database.
pub fn secret_file(db_path: &Path) -> PathBuf {
    db_path.parent().unwrap_or_else(|| Path::new(".")).join("jwt-secret")
}

/// `KEYHOLDER_JWT_SECRET`, or on SQLite the secret kept beside the database
/// (generated once, mode 0600). PostgreSQL deployments must set it: replicas
/// have to share one secret.
pub fn jwt_secret(config: &Config, url: &DatabaseUrl) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = config.jwt_secret.as_deref().filter(|s| !s.is_empty()) {
        if secret.len() < 32 {
            bail!("KEYHOLDER_JWT_SECRET must be at least 32 characters long");
        }
        return Ok(secret.as_bytes().to_vec());
    }
    let Some(db_path) = url.sqlite_path() else {
        bail!(
            "KEYHOLDER_JWT_SECRET is not set. With PostgreSQL every replica must share one \
             secret: set KEYHOLDER_JWT_SECRET to at least 32 random characters \
             (for example the output of `openssl rand -base64 48`)."
        );
    };
    let path = secret_file(db_path);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(existing.as_bytes().to_vec());
        }
        bail!("{} is shorter than 32 characters; delete it to generate a new one", path.display());
    }
    let mut bytes = [0u8; 48];
    rand::fill(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    // Written whole under a name of this process's own, then linked into
    // place: a process started at the same moment sees no file or the
    // whole secret, never a half-written one.
    let draft = path.with_file_name(format!("jwt-secret.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(&draft)
        .and_then(|mut f| f.write_all(secret.as_bytes()).and_then(|()| f.sync_all()))
        .with_context(|| format!("cannot write {}", draft.display()))?;
    let linked = std::fs::hard_link(&draft, &path);
    let _ = std::fs::remove_file(&draft);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a JWT secret");
            Ok(secret.into_bytes())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(&path)?.trim().as_bytes().to_vec())
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// Creates the root user from `KEYHOLDER_ROOT_*` when missing. Refuses when
/// that email or username belongs to an ordinary account.
pub fn bootstrap_root(config: &Config, db: &Db, clock: &Clock) -> anyhow::Result<()> {
    let (email, username, password) =
        match (&config.root_email, &config.root_username, &config.root_password) {
            (None, None, None) => return Ok(()),
            (Some(e), Some(u), Some(p)) => (e, u, p),
            _ => bail!(
                "set all three of KEYHOLDER_ROOT_EMAIL, KEYHOLDER_ROOT_USERNAME and \
                 KEYHOLDER_ROOT_PASSWORD, or none"
            ),
        };
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("KEYHOLDER_ROOT_EMAIL {e}"))?;
    let username =
        Username::parse(username).map_err(|e| anyhow::anyhow!("KEYHOLDER_ROOT_USERNAME {e}"))?;
    let password =
        Password::parse(password).map_err(|e| anyhow::anyhow!("KEYHOLDER_ROOT_PASSWORD {e}"))?;
    if root_present(db, &email, &username)? {
        return Ok(());
    }
    let hash = passwords::hash(password.expose()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = clock.now();
    let created: Result<Option<_>, keyholder_store::StoreError> = db.write(|c| {
        let new = NewUser {
            email: email.as_str(),
            username: username.as_str(),
            display_name: username.as_str(),
            password_hash: &hash,
            is_root: true,
            email_verified_at: Some(now),
        };
        let user = match users::insert(c, &new, now)? {
            Ok(u) => u,
            // Another replica starting at the same time created it first.
            Err(Taken::Email | Taken::Username) => return Ok(None),
        };
        audit::record(
            c,
            &NewAuditEvent {
                actor_id: None,
                action: Action::UserRootCreated,
                target_type: "user",
                target_id: user.id.to_string(),
                before: None,
                after: Some(
                    json!({"email": user.email, "username": user.username, "is_root": true}),
                ),
            },
            now,
        )?;
        Ok(Some(user))
    });
    match created {
        Ok(Some(user)) => {
            tracing::info!(user_id = %user.id, "root account created");
            Ok(())
        }
        // Lost a race to another replica (on PostgreSQL the unique index
        // refuses the second insert): what it created must be this root.
        Ok(None) | Err(keyholder_store::StoreError::Conflict(_)) => {
            if root_present(db, &email, &username)? {
                Ok(())
            } else {
                bail!("the root account could not be created: its email or username was taken")
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether the configured root exists; an error when its email or username
/// belongs to an ordinary account.
fn root_present(db: &Db, email: &Email, username: &Username) -> anyhow::Result<bool> {
    let existing = db.read(|c| {
        Ok::<_, keyholder_store::StoreError>((
            users::find_by_email(c, email.as_str())?,
            users::find_by_username(c, username.as_str())?,
        ))
    })?;
    for user in [&existing.0, &existing.1].into_iter().flatten() {
        if !user.is_root {
            bail!(
                "the root account cannot be created: {} or {} already belongs to the ordinary \
                 account {}. Choose another KEYHOLDER_ROOT_EMAIL / KEYHOLDER_ROOT_USERNAME.",
                email,
                username.as_str(),
                user.username
            );
        }
    }
    let present = existing.0.is_some() || existing.1.is_some();
    if present {
        tracing::info!(username = username.as_str(), "root account present");
    }
    Ok(present)
}
