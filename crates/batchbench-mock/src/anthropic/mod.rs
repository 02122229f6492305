//! The Anthropic side of the mock: `types` (wire types), `store` (message batches in memory,
//! with their wire object) and the handlers: messages (plain and streamed), count_tokens, message batches.

pub mod batches;
pub mod messages;
pub mod store;
pub mod stream;
pub mod types;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use super::middleware::{BodyLimit, Guard, guarded};
use super::state::State;

/// The Anthropic routes with their middleware (every one needs `anthropic-version`).
pub fn routes(state: &Arc<State>) -> Router<Arc<State>> {
    let calls = Router::new()
        .route("/v1/messages", post(messages::handle))
        .route("/v1/messages/count_tokens", post(messages::count_tokens));
    let create = Router::new().route("/v1/messages/batches", post(batches::create));
    let stored = Router::new()
        .route("/v1/messages/batches", get(batches::list))
        .route(
            "/v1/messages/batches/{id}",
            get(batches::get).delete(batches::delete),
        )
        .route("/v1/messages/batches/{id}/results", get(batches::results))
        .route("/v1/messages/batches/{id}/cancel", post(batches::cancel));
    let guard = |limit, control_faults| Guard {
        key: true,
        anthropic_version: true,
        limit: Some(limit),
        control_faults,
        control_actions: &[],
    };
    guarded(calls, state, guard(BodyLimit::Json, false))
        .merge(guarded(create, state, guard(BodyLimit::MessageBatch, true)))
        .merge(guarded(stored, state, guard(BodyLimit::Json, true)))
}
