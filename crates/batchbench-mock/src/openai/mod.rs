//! The OpenAI side of the mock: `types` (wire objects), `store` (files and batches in memory),
//! `plain` (the common chat request read without a JSON tree),
//! and one handler module per endpoint group: chat completions (plain and streamed), files,
//! batches, embeddings, responses. A new endpoint is a module here and one `.route` line in [`routes`].

pub mod batches;
pub mod chat;
pub mod embeddings;
pub mod files;
pub mod plain;
pub mod responses;
pub mod store;
pub mod stream;
pub mod types;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use super::middleware::{BodyLimit, Guard, guarded};
use super::state::State;

/// The OpenAI routes with their middleware (models are shared with Anthropic: see the router).
pub fn routes(state: &Arc<State>) -> Router<Arc<State>> {
    let calls = Router::new()
        .route("/v1/chat/completions", post(chat::handle))
        .route("/v1/responses", post(responses::handle))
        .route("/v1/embeddings", post(embeddings::handle));
    let upload = Router::new().route("/v1/files", post(files::create));
    let stored = Router::new()
        .route("/v1/files", get(files::list))
        .route("/v1/files/{id}", get(files::get).delete(files::delete))
        .route("/v1/files/{id}/content", get(files::content))
        .route("/v1/batches", post(batches::create).get(batches::list))
        .route("/v1/batches/{id}", get(batches::get))
        .route("/v1/batches/{id}/cancel", post(batches::cancel));
    let guard = |limit, control_faults| Guard {
        key: true,
        anthropic_version: false,
        limit: Some(limit),
        control_faults,
        control_actions: &[],
    };
    guarded(calls, state, guard(BodyLimit::Json, false))
        .merge(guarded(upload, state, guard(BodyLimit::FileUpload, true)))
        .merge(guarded(stored, state, guard(BodyLimit::Json, true)))
}
