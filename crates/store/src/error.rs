//! Store errors. The API maps them: `NotFound` to 404, `Conflict` to 409,
//! `Unavailable` to 503.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated; carries the constraint name when known.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached, or no connection freed up in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Bad configuration (URL, folder).
    #[error("{0}")]
    Config(String),
    #[error("migration failed: {0}")]
    Migration(String),
    /// Stored data that does not parse (a bug or a manual edit).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(DieselError),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Self::Conflict(info.constraint_name().unwrap_or(info.message()).to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            DieselError::DatabaseError(_, ref info) if is_transient(info.message()) => {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Database(other),
        }
    }
}

/// Messages of errors that mean "try again later" rather than a bug.
fn is_transient(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("database is locked")
        || m.contains("deadlock detected")
        || m.contains("server closed the connection")
        || m.contains("terminating connection")
        || m.contains("connection refused")
        || m.contains("no connection to the server")
        || m.contains("could not connect")
}

impl StoreError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// The store's result: its error is a [`StoreError`] unless named.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A stored enum value (a role, a permission) parsed back; a value the
/// code does not know is a corrupt row.
pub(crate) fn parse<T: std::str::FromStr>(s: &str) -> Result<T> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("unexpected value {s:?}")))
}

/// [`parse`] for a value that may be absent (no row, or a left join's
/// column).
pub(crate) fn parse_opt<T: std::str::FromStr>(s: Option<String>) -> Result<Option<T>> {
    s.as_deref().map(parse).transpose()
}

/// The parsed `role` of the row of `$table` whose primary key is `$key`, if
/// there is one.
macro_rules! role_at {
    ($conn:expr, $table:ident, $key:expr) => {
        crate::error::parse_opt(
            $table::table.find($key).select($table::role).first::<String>($conn).optional()?,
        )
    };
}
pub(crate) use role_at;
