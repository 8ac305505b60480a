//! Liveness and readiness.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::routes::{Reply, ok};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness check
///
/// Answers 200 while the process is up. No sign-in needed.
#[utoipa::path(get, path = "/health/live", operation_id = "checkLiveness", tag = "operations",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness check
///
/// Answers 200 when the process can serve, that is when the database
/// answers; 503 when it does not, or once the server is shutting down (so
/// a balancer stops sending it requests). No sign-in needed.
#[utoipa::path(get, path = "/health/ready", operation_id = "checkReadiness", tag = "operations",
    responses((status = 200, description = "Ready", body = Health), (status = 503, description = "The database does not answer, or the server is shutting down", body = Problem, content_type = "application/problem+json")))]
pub async fn ready(state: web::Data<AppState>) -> Reply {
    if state.drain.is_draining() {
        return Err(ApiError::unavailable("The server is shutting down."));
    }
    let unavailable = |_| ApiError::unavailable("The database does not answer.");
    let pinged = state.db(move |db| db.ping(Duration::from_secs(2)).map_err(unavailable)).await;
    ok(pinged.map(|()| Health { status: "ok" }))
}

endpoints![live, ready,
    ; tags:
    ("operations", "Health and metrics"),
];
