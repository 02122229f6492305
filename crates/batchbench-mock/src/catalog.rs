//! `GET /v1/models` and `GET /v1/models/{id}`: one path for both APIs (the SDKs of both call
//! it), answered in the shape of the API the request's headers name.

use std::sync::Arc;

use axum::extract::State as Shared;
use axum::response::Response;
use serde_json::json;

use super::errors::{Api, ApiError};
use super::extract::{Family, Id};
use super::respond;
use super::state::State;

/// `GET /v1/models`, listed in the shape of the request's API.
pub async fn models(Shared(state): Shared<Arc<State>>, Family(api): Family) -> Response {
    let ids = state.models.list(api);
    let body = match api {
        Api::OpenAi => json!({
            "object": "list",
            "data": ids.iter().map(|id| json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": "system"})).collect::<Vec<_>>(),
        }),
        Api::Anthropic => json!({
            "data": ids.iter().map(|id| json!({"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"})).collect::<Vec<_>>(),
            "has_more": false,
            "first_id": ids.first(),
            "last_id": ids.last(),
        }),
    };
    respond::json(200, &body, Vec::new())
}

/// `GET /v1/models/{id}`.
pub async fn model(
    Shared(state): Shared<Arc<State>>,
    Family(api): Family,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let id = id.as_str();
    if !state.models.accepts(api, id) {
        return Err(ApiError::not_found(format!(
            "The model `{id}` does not exist or you do not have access to it."
        ))
        .code("model_not_found"));
    }
    let body = match api {
        Api::OpenAi => {
            json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": "system"})
        }
        Api::Anthropic => {
            json!({"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"})
        }
    };
    Ok(respond::json(200, &body, Vec::new()))
}
