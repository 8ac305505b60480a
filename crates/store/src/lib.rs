//! Keyholder's persistence layer: diesel over SQLite and PostgreSQL through one
//! connection enum, embedded migrations, and the queries the API runs inside
//! its transactions.

/// Implements `Debug` showing only the named fields: the others (password
/// hashes, mail bodies with one-time tokens) never reach a log.
macro_rules! debug_showing {
    ($ty:ident: $($field:ident),+) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))+
                    .finish_non_exhaustive()
            }
        }
    };
}

pub mod access;
pub mod account_deletion;
pub mod assets;
pub mod audit;
pub mod changes;
pub mod collaborators;
pub mod db;
pub mod email_changes;
pub mod email_tokens;
pub mod error;
pub mod estates;
pub mod export;
pub mod files;
pub mod garage;
pub mod grants;
pub mod households;
pub mod id;
pub mod idempotency;
pub mod invitations;
pub mod locks;
pub mod my_access;
pub mod notifications;
pub mod outbox;
pub mod paging;
pub mod photos;
pub mod predicates;
pub mod records;
pub mod schema;
pub mod seed;
pub mod sessions;
pub mod shares;
pub mod sites;
pub mod sql;
pub mod time;
pub mod users;
pub mod webhooks;

pub use db::{Backend, Conn, DatabaseUrl, Db, DbConnection, PoolOptions};
pub use error::StoreError;
