//! Use cases. Each is one function `(conn, actor, command, now) ->
//! Result<outcome, ApiError>` that loads the facts it needs (the caller with
//! the resource, in one statement where it can), asks the domain, writes the
//! change with its audit event, and returns what the API answers. A handler
//! builds the command from the request and runs the use case in one
//! transaction through [`crate::ctx::Ctx`]; nothing here knows about HTTP
//! beyond the error type.
//!
//! A command's body fields may be a [`Deferred`]: the request body's
//! validation outcome, raised only once the caller is known to be allowed
//! (403 before 422).

pub mod access;
pub mod account_deletion;
pub mod accounts;
pub mod admin;
pub mod assets;
pub mod audit;
pub mod changes;
pub mod collaborators;
pub mod email_change;
pub mod estates;
pub mod explain;
pub mod export;
pub mod exports;
pub mod files;
pub mod households;
pub mod invitations;
pub mod me;
pub mod members;
pub mod notify;
pub mod photos;
pub mod records;
pub mod sessions;
pub mod shares;
pub mod sites;
pub mod webhooks;

use keyholder_store::audit::NewAuditEvent;
use keyholder_store::users::User;

use crate::error::ApiError;

/// A request value whose validation error is raised after authorization.
pub type Deferred<T> = Result<T, ApiError>;

/// The connection a use case runs on, in the transaction its handler chose.
pub type Conn = keyholder_store::DbConnection;

/// The request's one clock reading, which every use case is given.
pub type Now = chrono::DateTime<chrono::Utc>;

/// What a use case answers: its view, or the problem to send.
pub type Outcome<T> = Result<T, ApiError>;

/// Add a record, photo or other child to an asset: its fields as sent,
/// checked once the caller may add to it.
pub struct AddToAsset<F> {
    pub asset_id: uuid::Uuid,
    pub fields: Deferred<F>,
}

/// Rename an estate or a site (`None`: the name stays as it is).
pub struct Rename {
    pub id: uuid::Uuid,
    pub name: Deferred<Option<String>>,
}

/// An audit event by `actor` on one target.
pub(crate) fn event(
    actor: &User,
    action: keyholder_store::audit::Action,
    target_type: &'static str,
    target_id: impl ToString,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> NewAuditEvent<'static> {
    NewAuditEvent {
        actor_id: Some(actor.id),
        action,
        target_type,
        target_id: target_id.to_string(),
        before,
        after,
    }
}
