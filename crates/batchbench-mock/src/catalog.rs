//! `GET /v1/models` and `GET /v1/models/{id}`: one path for OpenAI and Anthropic (the SDKs of
//! both call it), answered in the shape of the API the request's headers name; and Gemini's
//! `GET /v1beta/models[/{name}]`, in Google's `Model` shape (the Gemini routes call these).

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
        Api::Gemini => json!({"models": ids.iter().map(|id| gemini_model(id)).collect::<Vec<_>>()}),
    };
    respond::json(200, &body, Vec::new())
}

/// Google's `Model` resource for a Gemini model id. The token limits are those Google lists for
/// the Gemini 2.5 and later models (1,048,576 input, 65,536 output); the mock does not enforce
/// them.
pub fn gemini_model(id: &str) -> serde_json::Value {
    let thinking = batchbench_core::facts::is_gemini_thinking_model(id);
    json!({
        "name": format!("models/{id}"),
        "version": "001",
        "displayName": id,
        "description": "A model served by batchbench's mock (answer quality is simulated).",
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"],
        "temperature": 1.0,
        "maxTemperature": 2.0,
        "topP": 0.95,
        "topK": 64,
        "thinking": thinking,
    })
}

/// `GET /v1/models/{id}`.
pub async fn model(
    Shared(state): Shared<Arc<State>>,
    Family(api): Family,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let id = id.as_str();
    if api == Api::Gemini && !state.models.accepts(api, id) {
        return Err(ApiError::not_found(format!(
            "models/{id} is not found for API version v1beta, or is not supported for getModel. Call ListModels to see the list of available models and their supported methods."
        )));
    }
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
        Api::Gemini => gemini_model(id),
    };
    Ok(respond::json(200, &body, Vec::new()))
}
