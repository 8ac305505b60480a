//! `Idempotency-Key` on the creating `POST`s: a retry with the same key and
//! the same request (method, path, body bytes) within 24 hours gets the first
//! answer again, byte for byte, with `Idempotent-Replayed: true`, and
//! creates nothing. The same key on another request is 422
//! `idempotency_key_reused`; while the first request with a key is still
//! running, a second one is 409 `idempotency_key_in_progress`.
//!
//! The answer is stored in the transaction of the change it answers, so a
//! change never commits without its stored answer and a failed request
//! (any 4xx or 5xx) stores nothing and may be retried with the same key.
//! Keys belong to the caller: another account's key never matches.

use actix_web::HttpMessage;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use keyholder_store::idempotency::{self as store, Stored};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::ctx::{Ctx, Op};
use crate::error::ApiError;
use crate::extract::BodyDigest;
use crate::ops::{Conn, Now, Outcome};
use crate::routes::Reply;
use crate::views::common::Located;

/// The request header naming a retry-safe attempt.
pub const KEY_HEADER: &str = "idempotency-key";

/// The response header on a replayed answer.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A 2xx answer as sent: status, `Location` and JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Answer {
    /// 201 with the view and its own `Location`.
    pub fn created<T: Serialize + Located>(view: T) -> Outcome<Self> {
        let location = view.location();
        Self::of(StatusCode::CREATED, Some(location), &view)
    }

    /// 201 with the view and `location` as its `Location`.
    pub fn created_at<T: Serialize>(location: String, view: T) -> Outcome<Self> {
        Self::of(StatusCode::CREATED, Some(location), &view)
    }

    /// `status` with the view (and `location`, when there is one).
    pub fn of<T: Serialize>(
        status: StatusCode,
        location: Option<String>,
        view: &T,
    ) -> Outcome<Self> {
        let body = serde_json::to_string(view).map_err(|_| ApiError::internal())?;
        Ok(Self { status, location, body })
    }

    fn response(self, replayed: bool) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        r.insert_header((CONTENT_TYPE, "application/json"));
        if let Some(location) = self.location {
            r.insert_header((LOCATION, location));
        }
        if replayed {
            r.insert_header((REPLAYED_HEADER, "true"));
        }
        r.body(self.body)
    }
}

/// A keyed request: the key, what it asks (`METHOD /path`), its body's
/// hash, and the advisory lock slot of (caller, key).
struct Keyed {
    key: String,
    request: String,
    body_hash: String,
}

impl Keyed {
    /// The request's key, if it sent one: 422 naming `Idempotency-Key` when
    /// it is not 1 to 255 visible ASCII characters.
    fn of(ctx: &Ctx) -> Result<Option<Self>, ApiError> {
        let req = ctx.request();
        let Some(value) = req.headers().get(KEY_HEADER) else { return Ok(None) };
        let key = value.to_str().ok().filter(|k| valid_key(k)).ok_or_else(|| {
            ApiError::field(
                "Idempotency-Key",
                format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            )
        })?;
        let body_hash = req.extensions().get::<BodyDigest>().map(|d| d.0.clone());
        Ok(Some(Self {
            key: key.to_owned(),
            request: format!("{} {}", req.method(), req.path()),
            body_hash: body_hash.unwrap_or_default(),
        }))
    }

    /// The transaction-scoped lock slot of this caller's key.
    fn slot(&self, caller: &Caller) -> i64 {
        let digest = Sha256::new()
            .chain_update(caller.id.as_bytes())
            .chain_update(self.key.as_bytes())
            .finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(first)
    }

    /// Replays the stored answer, refuses a reused key, or runs `op` and
    /// stores its answer: all in the caller's write transaction.
    fn run(
        self,
        c: &mut Conn,
        caller: &Caller,
        now: Now,
        op: impl Op<Answer>,
    ) -> Outcome<(Answer, bool)> {
        if !store::try_claim(c, self.slot(caller))? {
            return Err(in_progress());
        }
        if let Some(s) = store::find(c, caller.id, &self.key, now)? {
            if s.request != self.request || s.body_hash != self.body_hash {
                return Err(reused());
            }
            let status = u16::try_from(s.status).ok().and_then(|s| StatusCode::from_u16(s).ok());
            let status = status.ok_or_else(ApiError::internal)?;
            return Ok((Answer { status, location: s.location, body: s.body }, true));
        }
        let answer = op(c, caller, now)?;
        let stored = Stored {
            request: self.request,
            body_hash: self.body_hash,
            status: i32::from(answer.status.as_u16()),
            location: answer.location.clone(),
            body: answer.body.clone(),
            created_at: now,
        };
        store::store(c, caller.id, &self.key, &stored)?;
        Ok((answer, false))
    }
}

/// 1 to 255 visible ASCII characters (`!` to `~`).
pub fn valid_key(key: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn in_progress() -> ApiError {
    let mut e = ApiError::conflict(
        crate::problems::ProblemCode::IdempotencyKeyInProgress,
        "A request with this Idempotency-Key is still being processed; retry after Retry-After.",
    );
    e.retry_after = Some(1);
    e
}

fn reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        crate::problems::ProblemCode::IdempotencyKeyReused,
        "This Idempotency-Key was used for a different request (another path or body) in the last 24 hours; use a new key.",
    )
}

impl Ctx {
    /// Runs a creating use case in one write transaction, once per
    /// `Idempotency-Key` (see the module's documentation); without the
    /// header, simply once.
    pub async fn once(&self, op: impl Op<Answer>) -> Reply {
        let Some(keyed) = Keyed::of(self)? else {
            return self.write(op).await.map(|a| a.response(false));
        };
        let (answer, replayed) =
            self.write(move |c, caller, now| keyed.run(c, caller, now, op)).await?;
        Ok(answer.response(replayed))
    }
}
