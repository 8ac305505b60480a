//! Prometheus metrics.

use crate::problems::ProblemCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus::{Encoder, TextEncoder};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, Problem};
use crate::routes::Reply;
use crate::state::AppState;

/// App data marking the separate `KEYHOLDER_METRICS_BIND` listener.
#[derive(Clone, Copy, Debug)]
pub struct MetricsListener;

/// Prometheus metrics
///
/// Metrics in the Prometheus text format: requests by route and status, a
/// latency histogram, and the mail outbox. With `KEYHOLDER_METRICS_BIND` set
/// this path answers 404 here and is served on that address only. With
/// `KEYHOLDER_METRICS_TOKEN` set it needs
/// `Authorization: Bearer <that token>`.
#[utoipa::path(get, path = "/metrics", operation_id = "getMetrics", tag = "operations", security((), ("metrics_token" = [])),
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
        (status = 401, description = "`missing_token` or `invalid_token`: `KEYHOLDER_METRICS_TOKEN` is set and the request does not carry it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: metrics are served on `KEYHOLDER_METRICS_BIND` instead", body = Problem, content_type = "application/problem+json")))]
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Reply {
    admit(&req, &state)?;
    let mut buffer = Vec::new();
    let encoder = TextEncoder::new();
    if let Err(e) = encoder.encode(&state.metrics.registry.gather(), &mut buffer) {
        tracing::error!(error = %e, "metrics encoding failed");
    }
    Ok(HttpResponse::Ok().content_type(encoder.format_type()).body(buffer))
}

/// 404 on the API listener when metrics have their own; 401 without the
/// metrics token when one is set (compared in constant time).
fn admit(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let on_metrics_listener = req.app_data::<MetricsListener>().is_some();
    if state.config.metrics_bind.is_some() && !on_metrics_listener {
        return Err(ApiError::not_found(ProblemCode::NotFound, "No such resource."));
    }
    if let Some(expected) = state.config.metrics_token.as_deref().filter(|t| !t.is_empty()) {
        let given =
            req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
                v.split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, token)| token.trim())
            });
        let Some(given) = given else {
            return Err(ApiError::unauthorized(
                ProblemCode::MissingToken,
                "Send the metrics token as Authorization: Bearer <token>.",
            ));
        };
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ApiError::unauthorized(
                ProblemCode::InvalidToken,
                "The metrics token is not correct.",
            ));
        }
    }
    Ok(())
}

endpoints![metrics,];
