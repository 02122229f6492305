//! The mock's own routes (`/_mock/*`, no key needed): counters, health, reset and fault
//! injection, for tests and for watching what a client really sent.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::response::Response;
use serde_json::{Value, json};

use super::errors::ApiError;
use super::faults::Fault;
use super::respond;
use super::state::State;

/// `GET /_mock/stats`: the counters.
pub async fn stats(Shared(state): Shared<Arc<State>>) -> Response {
    respond::json(200, &state.stats.snapshot(), Vec::new())
}

/// `GET /_mock/health`.
pub async fn health() -> Response {
    respond::json(200, &json!({"status": "ok", "simulated": true}), Vec::new())
}

/// `POST /_mock/reset`: counters, queued faults and prompt caches back to empty.
pub async fn reset(Shared(state): Shared<Arc<State>>) -> Response {
    state.stats.reset();
    state.faults.clear();
    state.cache.clear();
    respond::json(200, &json!({"reset": true}), Vec::new())
}

/// `POST /_mock/inject`: queues faults for the next calls, or for one Files/Batches endpoint.
pub async fn inject(Shared(state): Shared<Arc<State>>, body: Bytes) -> Result<Response, ApiError> {
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid(None, format!("invalid JSON: {e}")))?;
    let name = v.get("fault").and_then(Value::as_str).unwrap_or_default();
    let fault = Fault::parse(name).ok_or_else(|| {
        ApiError::invalid(
            Some("fault"),
            format!("unknown fault {name:?}: use 429, 500, 503, 529, slow, drop, reset, truncated_sse, malformed_packed, missing_item"),
        )
    })?;
    let count = v.get("count").and_then(Value::as_u64).unwrap_or(1) as usize;
    match v.get("endpoint").and_then(Value::as_str) {
        None => state.faults.inject(fault, count),
        Some(endpoint) => {
            let files_or_batches = [
                "/v1/files",
                "/v1/batches",
                "/v1/messages/batches",
                "/v1beta/files",
                "/v1beta/batches",
                ":batchGenerateContent",
            ]
            .iter()
            .any(|p| endpoint.contains(p));
            if !files_or_batches {
                return Err(ApiError::invalid(
                    Some("endpoint"),
                    format!(
                        "{endpoint:?} is not a Files or Batches endpoint label such as \"POST /v1/batches\" (as /_mock/stats names them)"
                    ),
                ));
            }
            if !matches!(
                fault,
                Fault::RateLimit | Fault::Server | Fault::Overloaded | Fault::Reset | Fault::Drop
            ) {
                return Err(ApiError::invalid(
                    Some("fault"),
                    format!(
                        "{name:?} cannot hit a Files or Batches endpoint: use 429, 500, 503, 529, reset or drop"
                    ),
                ));
            }
            state.faults.inject_at(endpoint, fault, count);
        }
    }
    Ok(respond::json(
        200,
        &json!({"injected": fault.name(), "count": count, "endpoint": v.get("endpoint")}),
        Vec::new(),
    ))
}
