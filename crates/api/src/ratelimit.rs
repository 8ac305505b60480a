//! Per-address rate limiting of the sign-in, registration, reset and token
//! endpoints, answering 429 problem+json with `Retry-After`.

use crate::problems::ProblemCode;
use std::net::IpAddr;
use std::sync::Arc;

use actix_governor::governor::NotUntil;
use actix_governor::governor::clock::{Clock as _, DefaultClock, QuantaInstant};
use actix_governor::governor::middleware::NoOpMiddleware;
use actix_governor::{
    Governor, GovernorConfig, GovernorConfigBuilder, KeyExtractor, SimpleKeyExtractionError,
};
use actix_web::dev::ServiceRequest;
use actix_web::middleware::Condition;
use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::error::ApiError;
use crate::proxy::Proxies;

/// The client address: the peer, or the right-most address in the forwarding
/// chain that is not a trusted proxy (see [`crate::proxy`]).
#[derive(Clone, Debug)]
pub struct ClientIp {
    pub proxies: Arc<Proxies>,
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<IpAddr, Self::KeyExtractionError> {
        self.proxies
            .client_ip(req.peer_addr().map(|a| a.ip()), req.headers())
            .ok_or_else(|| SimpleKeyExtractionError::new("cannot tell the client address"))
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        _response: HttpResponseBuilder,
    ) -> HttpResponse {
        too_many(negative, "this address").error_response_owned()
    }
}

pub type AuthLimiterConfig = GovernorConfig<ClientIp, NoOpMiddleware<QuantaInstant>>;
pub type AuthLimiter = Condition<Governor<ClientIp, NoOpMiddleware<QuantaInstant>>>;

/// The shared limiter state for the auth routes: `per_minute` requests per
/// minute per address with a burst of the same size; 0 turns it off.
#[derive(Clone)]
pub struct AuthLimit {
    config: AuthLimiterConfig,
    enabled: bool,
}

impl AuthLimit {
    pub fn new(per_minute: u32, proxies: Arc<Proxies>) -> Self {
        let enabled = per_minute > 0;
        let period_ms = (60_000 / u64::from(per_minute.max(1))).max(1);
        let config = GovernorConfigBuilder::default()
            .milliseconds_per_request(period_ms)
            .burst_size(per_minute.max(1))
            .key_extractor(ClientIp { proxies })
            .finish()
            .expect("a non-zero period and burst make a valid limiter");
        Self { config, enabled }
    }

    /// The middleware for one route; every route shares the same counters.
    pub fn middleware(&self) -> AuthLimiter {
        Condition::new(self.enabled, Governor::new(&self.config))
    }
}

/// Limits for user search, invitations and adding people by username:
/// `per_minute` per signed-in user and, separately, per client address
/// (0 turns both off). Checked in the handler, after authentication, so an
/// anonymous request still gets its 401.
pub struct UserLimit {
    per_minute: u32,
    by_user: Option<actix_governor::governor::DefaultKeyedRateLimiter<uuid::Uuid>>,
    by_address: Option<actix_governor::governor::DefaultKeyedRateLimiter<IpAddr>>,
    proxies: Arc<Proxies>,
}

impl UserLimit {
    pub fn new(per_minute: u32, proxies: Arc<Proxies>) -> Self {
        let quota =
            std::num::NonZeroU32::new(per_minute).map(actix_governor::governor::Quota::per_minute);
        Self {
            per_minute,
            by_user: quota.map(actix_governor::governor::RateLimiter::keyed),
            by_address: quota.map(actix_governor::governor::RateLimiter::keyed),
            proxies,
        }
    }

    /// This limit's budget for the client of `req`, to spend once the
    /// user is known.
    pub fn budget_for(self: &Arc<Self>, req: &actix_web::HttpRequest) -> Budget {
        Budget { ip: self.client_ip(req), limit: Arc::clone(self) }
    }

    /// The client address of a request (see [`crate::proxy`]).
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> Option<IpAddr> {
        self.proxies.client_ip(req.peer_addr().map(|a| a.ip()), req.headers())
    }

    /// 429 with `Retry-After` once the user's or the address's budget is spent.
    pub fn check(&self, user: uuid::Uuid, ip: Option<IpAddr>) -> Result<(), ApiError> {
        self.check_n(user, ip, std::num::NonZeroU32::MIN)
    }

    /// [`Self::check`] for `n` at once: all of them fit in the remaining
    /// budget, or none is spent (429). `n` must not exceed the per-minute
    /// limit ([`Budget::capacity`]); more never fits, and is answered 429
    /// as well.
    pub fn check_n(
        &self,
        user: uuid::Uuid,
        ip: Option<IpAddr>,
        n: std::num::NonZeroU32,
    ) -> Result<(), ApiError> {
        let never = || too_many_at_once(n, self.per_minute);
        if let Some(limiter) = &self.by_user {
            limiter
                .check_key_n(&user, n)
                .map_err(|_| never())?
                .map_err(|w| too_many(&w, "your account"))?;
        }
        if let (Some(limiter), Some(ip)) = (&self.by_address, ip) {
            limiter
                .check_key_n(&ip, n)
                .map_err(|_| never())?
                .map_err(|w| too_many(&w, "this address"))?;
        }
        Ok(())
    }
}

fn too_many(negative: &NotUntil<QuantaInstant>, whom: &str) -> ApiError {
    let wait = negative.wait_time_from(DefaultClock::default().now()).as_secs().max(1);
    let mut err = ApiError::new(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        ProblemCode::RateLimited,
        format!("Too many requests from {whom}; try again in {wait} seconds."),
    );
    err.retry_after = Some(wait);
    err
}

/// 429 for more at once than a minute's budget holds: waiting does not
/// help, so no `Retry-After`.
fn too_many_at_once(n: std::num::NonZeroU32, per_minute: u32) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        ProblemCode::RateLimited,
        format!(
            "This request counts {n} at once; at most {per_minute} are allowed per minute: send fewer."
        ),
    )
}

/// A request's share of a [`UserLimit`]: a use case spends it once it knows
/// the user (429 once the user's or the address's budget is spent).
pub struct Budget {
    limit: Arc<UserLimit>,
    ip: Option<IpAddr>,
}

impl Budget {
    pub fn spend(&self, user: uuid::Uuid) -> Result<(), ApiError> {
        self.limit.check(user, self.ip)
    }

    /// Spends `n` at once, or nothing (429).
    pub fn spend_n(&self, user: uuid::Uuid, n: usize) -> Result<(), ApiError> {
        match u32::try_from(n).ok().and_then(std::num::NonZeroU32::new) {
            Some(n) => self.limit.check_n(user, self.ip, n),
            None if n == 0 => Ok(()),
            None => Err(too_many_at_once(std::num::NonZeroU32::MAX, self.limit.per_minute)),
        }
    }

    /// The most one request may spend at once (the per-minute limit), or
    /// `None` when the limit is off.
    pub fn capacity(&self) -> Option<usize> {
        (self.limit.per_minute > 0).then(|| self.limit.per_minute as usize)
    }
}
