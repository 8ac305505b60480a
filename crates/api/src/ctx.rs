//! The request context: who asks, the request's clock reading, its id, and
//! the one call that runs a use case from [`crate::ops`] on the database.
//!
//! A handler takes a [`Ctx`] instead of the state, the caller and the clock
//! separately, builds the use case's command from the request, and hands
//! both to one of [`Ctx::write`], [`Ctx::read`], [`Ctx::run`] or
//! [`Ctx::read_one`].

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use keyholder_store::DbConnection;
use tracing_actix_web::RequestId;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ratelimit::Budget;
use crate::state::AppState;

/// A use case's signature: the connection (in the transaction the handler
/// chose), the authenticated caller, and the request's clock reading.
pub trait Op<T>: FnOnce(&mut DbConnection, &Caller, DateTime<Utc>) -> Result<T, ApiError> {}

impl<T, F> Op<T> for F where
    F: FnOnce(&mut DbConnection, &Caller, DateTime<Utc>) -> Result<T, ApiError>
{
}

/// An authenticated request's context (401 without a valid token).
pub struct Ctx {
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    now: DateTime<Utc>,
    request_id: Option<RequestId>,
}

impl Ctx {
    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The instant the request is judged at (one reading per request).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The request id the logs carry (`x-request-id`).
    pub fn request_id(&self) -> Option<RequestId> {
        self.request_id
    }

    /// The request's share of the per-user budget for searches,
    /// invitations and household additions.
    pub fn user_budget(&self) -> Budget {
        self.state.user_limit.budget_for(&self.req)
    }

    /// Runs `op` in one write transaction: the change, its audit event and
    /// any email it queues commit together or not at all.
    pub async fn write<T, F>(&self, op: F) -> Result<T, ApiError>
    where
        F: Op<T> + Send + 'static,
        T: Send + 'static,
    {
        let (caller, now) = (self.caller, self.now);
        self.state.write(move |c| op(c, &caller, now)).await
    }

    /// Runs `op` in one read transaction (one snapshot for several reads).
    pub async fn read<T, F>(&self, op: F) -> Result<T, ApiError>
    where
        F: Op<T> + Send + 'static,
        T: Send + 'static,
    {
        let (caller, now) = (self.caller, self.now);
        self.state.read(move |c| op(c, &caller, now)).await
    }

    /// Runs `op` on a pooled connection without a transaction: reads whose
    /// statements do not need to agree with each other.
    pub async fn run<T, F>(&self, op: F) -> Result<T, ApiError>
    where
        F: Op<T> + Send + 'static,
        T: Send + 'static,
    {
        let (caller, now) = (self.caller, self.now);
        self.state.db(move |db| db.run(|c| op(c, &caller, now))).await
    }

    /// Runs a read that is one statement by primary keys; see
    /// [`AppState::read_one`].
    pub async fn read_one<T, F>(&self, op: F) -> Result<T, ApiError>
    where
        F: Op<T> + Send + 'static,
        T: Send + 'static,
    {
        let (caller, now) = (self.caller, self.now);
        self.state.read_one(move |c| op(c, &caller, now)).await
    }
}

impl FromRequest for Ctx {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Caller::from_headers(req).map(|(caller, state)| Self {
            now: state.clock.now(),
            request_id: req.extensions().get::<RequestId>().copied(),
            req: req.clone(),
            state,
            caller,
        }))
    }
}
