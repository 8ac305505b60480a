//! Prometheus metrics.

use actix_web::{HttpResponse, web};
use prometheus::{Encoder, TextEncoder};

use crate::state::AppState;

/// Metrics in the Prometheus text format: requests by route and status, a
/// latency histogram, and the mail outbox.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"))
)]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut buffer = Vec::new();
    let encoder = TextEncoder::new();
    if let Err(e) = encoder.encode(&state.metrics.registry.gather(), &mut buffer) {
        tracing::error!(error = %e, "metrics encoding failed");
    }
    HttpResponse::Ok()
        .content_type(encoder.format_type())
        .body(buffer)
}
