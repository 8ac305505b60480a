//! The request context: who asks, the request's clock reading, its id, and
//! the one call that runs a use case from [`crate::ops`] on the database.
//!
//! A handler takes a [`Ctx`] instead of the state, the caller and the clock
//! separately, builds the use case's command from the request, and hands
//! both to one of [`Ctx::write`], [`Ctx::read`], [`Ctx::snapshot`],
//! [`Ctx::run`] or [`Ctx::read_one`].

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Utc};
use keyholder_store::DbConnection;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ratelimit::Budget;
use crate::state::{AppState, Tx};

/// A use case's signature: the connection (in the transaction the handler
/// chose), the authenticated caller, and the request's clock reading; sent
/// to the blocking pool to run.
pub trait Op<T>:
    FnOnce(&mut DbConnection, &Caller, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static
{
}

impl<T, F> Op<T> for F where
    F: FnOnce(&mut DbConnection, &Caller, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static
{
}

/// An authenticated request's context (401 without a valid token).
pub struct Ctx {
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    now: DateTime<Utc>,
}

impl Ctx {
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The request itself: its URI (a list's `Link` points into it) and its
    /// conditional and idempotency headers.
    pub fn request(&self) -> &HttpRequest {
        &self.req
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The instant the request is judged at (one reading per request).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The request's share of the per-user budget for searches,
    /// invitations and household additions.
    pub fn user_budget(&self) -> Budget {
        self.state.user_limit.budget_for(&self.req)
    }

    /// Runs the use case `op` for this caller at this instant, on the
    /// database as `tx` says.
    pub async fn on<T: Send + 'static>(&self, tx: Tx, op: impl Op<T>) -> Result<T, ApiError> {
        let (caller, now) = (self.caller, self.now);
        self.state.on(tx, move |c| op(c, &caller, now)).await
    }

    /// [`Tx::Write`]: the change, its audit event and its email, all or none.
    pub async fn write<T: Send + 'static>(&self, op: impl Op<T>) -> Result<T, ApiError> {
        self.on(Tx::Write, op).await
    }

    /// [`Tx::Read`]: one read transaction (see there for what each
    /// database's reads see).
    pub async fn read<T: Send + 'static>(&self, op: impl Op<T>) -> Result<T, ApiError> {
        self.on(Tx::Read, op).await
    }

    /// [`Tx::Snapshot`]: many reads of one snapshot on both databases.
    pub async fn snapshot<T: Send + 'static>(&self, op: impl Op<T>) -> Result<T, ApiError> {
        self.on(Tx::Snapshot, op).await
    }

    /// [`Tx::Run`]: reads that need not agree with each other.
    pub async fn run<T: Send + 'static>(&self, op: impl Op<T>) -> Result<T, ApiError> {
        self.on(Tx::Run, op).await
    }

    /// [`Tx::One`]: one statement by primary keys.
    pub async fn read_one<T: Send + 'static>(&self, op: impl Op<T>) -> Result<T, ApiError> {
        self.on(Tx::One, op).await
    }
}

impl FromRequest for Ctx {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Caller::from_headers(req).map(|(caller, state)| Self {
            now: state.clock.now(),
            req: req.clone(),
            state,
            caller,
        }))
    }
}
