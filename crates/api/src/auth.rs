//! Access tokens (JWT, HS256) and the extractor that authenticates requests.
//! Tokens carry identity only; roles are read from the database each time.

use crate::problems::ProblemCode;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use keyholder_store::users::User;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::{AppState, Tx};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The account's credentials version (microseconds of its last password
    /// change or reset): a token from before a change, even within the same
    /// second, no longer matches.
    pub ver: i64,
    /// The session the token belongs to: once it ends (signed out, revoked,
    /// replaced after a password change), the token is refused.
    pub sid: String,
}

/// Signing and checking keys.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub ttl_seconds: u64,
    /// How long a session can go unrefreshed before it ends.
    pub refresh_ttl_seconds: u64,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl_seconds: u64, refresh_ttl_seconds: u64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl_seconds,
            refresh_ttl_seconds,
        }
    }

    /// An access token for `user` in the session `session`.
    /// An access token for `user` in `session`, expiring after the
    /// configured lifetime or when the session ends (`ends`), whichever
    /// comes first; with its lifetime in seconds.
    pub fn issue(
        &self,
        user: &User,
        (session, ends): (Uuid, DateTime<Utc>),
        now: DateTime<Utc>,
    ) -> Result<(String, u64), ApiError> {
        let iat = now.timestamp();
        let ttl = i64::try_from(self.ttl_seconds).unwrap_or(3600);
        let exp = (iat + ttl).min(ends.timestamp()).max(iat + 1);
        let claims = Claims {
            sub: user.id.to_string(),
            iat,
            exp,
            jti: Uuid::new_v4().to_string(),
            ver: credentials_version(user),
            sid: session.to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| {
            tracing::error!(error = %e, "token signing failed");
            ApiError::internal()
        })?;
        Ok((token, u64::try_from(exp - iat).unwrap_or(0)))
    }

    /// Checks signature, algorithm (HS256 only, so `alg: none` fails) and the
    /// required claims; expiry is checked against `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["sub", "exp", "iat", "jti"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| invalid_token())?;
        if data.claims.exp <= now.timestamp() {
            return Err(ApiError::unauthorized(
                ProblemCode::TokenExpired,
                "The access token has expired; sign in again.",
            ));
        }
        Ok(data.claims)
    }
}

/// The version a token must carry: the last credentials change, to the
/// microsecond (what both databases keep of a timestamp).
pub fn credentials_version(user: &User) -> i64 {
    user.credentials_changed_at.timestamp_micros()
}

/// The token's session is over: signed out, revoked, ended by a password
/// change, or its account is gone.
fn session_ended() -> ApiError {
    ApiError::unauthorized(
        ProblemCode::SessionEnded,
        "This session has ended (signed out or revoked); sign in again.",
    )
}

fn invalid_token() -> ApiError {
    ApiError::unauthorized(ProblemCode::InvalidToken, "The access token is not valid.")
}

/// The bearer of a valid access token, before any database read: the
/// account id and the credentials version the token carries. Routes that
/// read one resource resolve the caller in the same statement as the
/// resource and its access facts ([`Caller::admit`]); the rest load the
/// account on its own ([`AuthUser`]).
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub id: Uuid,
    /// The session the token belongs to.
    pub session: Uuid,
    ver: i64,
}

impl Caller {
    /// What the one-statement reads need to know of the caller: the
    /// account and the session, which must still be live.
    pub fn bearer(&self) -> keyholder_store::access::Bearer {
        keyholder_store::access::Bearer { user: self.id, session: self.session }
    }

    /// The account as read in the request's statement: 401 when it is gone
    /// or the token's session has ended (read in the same statement), or
    /// when its password changed since the token was issued (a password
    /// change ends every session that began before it).
    pub fn admit(&self, user: Option<User>) -> Result<User, ApiError> {
        let user = user.ok_or_else(session_ended)?;
        if self.ver != credentials_version(&user) {
            return Err(ApiError::unauthorized(
                ProblemCode::TokenRevoked,
                "The password was changed since this token was issued; sign in again.",
            ));
        }
        Ok(user)
    }

    /// Admits the account a one-statement read found, and passes on what
    /// else it read.
    pub fn admit_read<T>(
        &self,
        read: keyholder_store::access::Read<T>,
    ) -> Result<(User, Option<T>), ApiError> {
        match read {
            Some((user, found)) => Ok((self.admit(Some(user))?, found)),
            None => Err(self.admit(None).err().unwrap_or_else(session_ended)),
        }
    }

    /// Reads and admits the account on its own.
    pub fn user(&self, c: &mut keyholder_store::DbConnection) -> Result<User, ApiError> {
        self.admit(keyholder_store::access::caller(c, self.bearer())?)
    }

    pub(crate) fn from_headers(req: &HttpRequest) -> Result<(Self, web::Data<AppState>), ApiError> {
        let state =
            req.app_data::<web::Data<AppState>>().cloned().ok_or_else(ApiError::internal)?;
        let value = match req.headers().get(header::AUTHORIZATION) {
            None => {
                return Err(ApiError::unauthorized(
                    ProblemCode::MissingToken,
                    "Send an access token as Authorization: Bearer <token>.",
                ));
            }
            Some(v) => v.to_str().map_err(|_| invalid_token())?,
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(invalid_token)?;
        let claims = state.tokens.verify(token, state.clock.now())?;
        let id = Uuid::parse_str(&claims.sub).map_err(|_| invalid_token())?;
        let session = Uuid::parse_str(&claims.sid).map_err(|_| invalid_token())?;
        req.extensions_mut().insert(crate::telemetry::LoggedUser(id));
        Ok((Self { id, session, ver: claims.ver }, state))
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::from_headers(req).map(|(caller, _)| caller))
    }
}

/// The signed-in user, loaded from the database for this request (one
/// statement, no transaction).
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = Caller::from_headers(req);
        Box::pin(async move {
            let (caller, state) = found?;
            let user = state.on(Tx::One, move |c| caller.user(c)).await?;
            Ok(AuthUser(user))
        })
    }
}

/// 403 `email_not_verified` unless the user's email is verified: an account
/// that has not proven its inbox may not grant or set up anything shared
/// (the domain's rule, [`keyholder_domain::account::check_may_share`]).
pub fn require_verified(
    user: &User,
    action: keyholder_domain::account::SharingAction,
) -> Result<(), ApiError> {
    keyholder_domain::account::check_may_share(user.email_verified(), action)
        .map_err(ApiError::refused)
}
