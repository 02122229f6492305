//! The Gemini side of the mock (Google's Gemini API, `v1beta`): `types` (wire types),
//! `request` (validation), `store` (files, uploads, caches and batches in memory, with their
//! wire objects) and one handler module per group: generate (plain, streamed, countTokens),
//! files, caches, batches. Google's custom methods (`models/{model}:generateContent`,
//! `batches/{id}:cancel`, `files/{id}:download`) end a path segment in `:action`, which axum's
//! router cannot match as a static suffix of a parameter: each such route takes the whole
//! segment and the dispatchers here split it on `:`.

pub mod batches;
pub mod caches;
pub mod files;
pub mod generate;
pub mod request;
pub mod store;
pub mod stream;
pub mod types;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State as Shared};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use super::catalog;
use super::errors::{Api, ApiError};
use super::extract::{ApiKey, BaseUrl, Family, Id};
use super::middleware::{BodyLimit, Guard, guarded};
use super::state::State;

/// `name` split at its custom method: `gemini-2.5-flash:generateContent` →
/// (`gemini-2.5-flash`, `Some("generateContent")`).
fn split(name: &str) -> (&str, Option<&str>) {
    match name.split_once(':') {
        Some((id, action)) => (id, Some(action)),
        None => (name, None),
    }
}

/// Google's 404 for a method a resource does not have.
fn no_method(name: &str) -> ApiError {
    ApiError::not_found(format!("Method not found: {name}."))
}

/// `POST /v1beta/models/{model}:{generateContent | streamGenerateContent | countTokens |
/// batchGenerateContent}`.
async fn model_action(
    Shared(state): Shared<Arc<State>>,
    ApiKey(key): ApiKey,
    Id(name): Id,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    match split(&name) {
        (model, Some("generateContent")) => {
            generate::generate(state, &key, model, &body, None).await
        }
        (model, Some("streamGenerateContent")) => {
            let sse = request::query_param(query.as_deref(), "alt").as_deref() == Some("sse");
            generate::generate(state, &key, model, &body, Some(sse)).await
        }
        (model, Some("countTokens")) => generate::count_tokens(state, model, &body).await,
        (model, Some("batchGenerateContent")) => batches::create(state, model, &body).await,
        _ => Err(no_method(&name)),
    }
}

/// `GET /v1beta/models/{model}`.
async fn model_get(shared: Shared<Arc<State>>, Id(name): Id) -> Result<Response, ApiError> {
    match split(&name) {
        (model, None) => catalog::model(shared, Family(Api::Gemini), Id(model.to_string())).await,
        _ => Err(no_method(&name)),
    }
}

/// `GET /v1beta/batches/{id}`, `POST …:cancel`, `DELETE …`.
async fn batch_get(Shared(state): Shared<Arc<State>>, Id(name): Id) -> Result<Response, ApiError> {
    match split(&name) {
        (id, None) => batches::get(&state, id),
        _ => Err(no_method(&name)),
    }
}

async fn batch_action(
    Shared(state): Shared<Arc<State>>,
    Id(name): Id,
) -> Result<Response, ApiError> {
    match split(&name) {
        (id, Some("cancel")) => batches::cancel(&state, id),
        _ => Err(no_method(&name)),
    }
}

async fn batch_delete(
    Shared(state): Shared<Arc<State>>,
    Id(name): Id,
) -> Result<Response, ApiError> {
    match split(&name) {
        (id, None) => batches::delete(&state, id),
        _ => Err(no_method(&name)),
    }
}

async fn batch_list(Shared(state): Shared<Arc<State>>, RawQuery(query): RawQuery) -> Response {
    batches::list(&state, query.as_deref())
}

/// `GET /v1beta/files/{id}` and `GET …/files/{id}:download?alt=media`.
async fn file_get(
    Shared(state): Shared<Arc<State>>,
    BaseUrl(base): BaseUrl,
    Id(name): Id,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    match split(&name) {
        (id, None) => files::get(&state, &base, id),
        (id, Some("download")) => files::download(&state, id, query.as_deref()),
        _ => Err(no_method(&name)),
    }
}

async fn file_download(
    Shared(state): Shared<Arc<State>>,
    Id(name): Id,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    match split(&name) {
        (id, Some("download")) => files::download(&state, id, query.as_deref()),
        _ => Err(no_method(&name)),
    }
}

async fn file_delete(
    Shared(state): Shared<Arc<State>>,
    Id(name): Id,
) -> Result<Response, ApiError> {
    files::delete(&state, split(&name).0)
}

async fn file_list(
    Shared(state): Shared<Arc<State>>,
    BaseUrl(base): BaseUrl,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    files::list(&state, &base, query.as_deref())
}

async fn file_upload(
    Shared(state): Shared<Arc<State>>,
    BaseUrl(base): BaseUrl,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    files::upload(state, &base, &headers, query.as_deref(), body).await
}

async fn cache_create(
    Shared(state): Shared<Arc<State>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caches::create(state, body).await
}

async fn cache_list(Shared(state): Shared<Arc<State>>, RawQuery(query): RawQuery) -> Response {
    caches::list(&state, query.as_deref())
}

async fn cache_get(Shared(state): Shared<Arc<State>>, Id(id): Id) -> Result<Response, ApiError> {
    caches::get(&state, &id)
}

async fn cache_update(
    Shared(state): Shared<Arc<State>>,
    Id(id): Id,
    body: Bytes,
) -> Result<Response, ApiError> {
    caches::update(&state, &id, &body)
}

async fn cache_delete(Shared(state): Shared<Arc<State>>, Id(id): Id) -> Result<Response, ApiError> {
    caches::delete(&state, &id)
}

/// The Gemini routes with their middleware: the key (`x-goog-api-key` or `?key=`) on every one;
/// the Files and Batches faults on the file, upload and batch routes and on
/// `:batchGenerateContent`.
pub fn routes(state: &Arc<State>) -> Router<Arc<State>> {
    let calls = Router::new()
        .route("/v1beta/models", get(catalog::models))
        .route("/v1beta/models/{name}", get(model_get).post(model_action))
        .route("/v1beta/cachedContents", post(cache_create).get(cache_list))
        .route(
            "/v1beta/cachedContents/{name}",
            get(cache_get).patch(cache_update).delete(cache_delete),
        );
    let upload = Router::new().route("/upload/v1beta/files", post(file_upload));
    let stored = Router::new()
        .route("/v1beta/files", get(file_list))
        .route("/v1beta/files/{name}", get(file_get).delete(file_delete))
        .route("/download/v1beta/files/{name}", get(file_download))
        .route("/v1beta/batches", get(batch_list))
        .route(
            "/v1beta/batches/{name}",
            get(batch_get).post(batch_action).delete(batch_delete),
        );
    let guard = |limit, control_faults| Guard {
        key: true,
        anthropic_version: false,
        limit: Some(limit),
        control_faults,
        control_actions: &["batchGenerateContent"],
    };
    guarded(calls, state, guard(BodyLimit::Json, false))
        .merge(guarded(upload, state, guard(BodyLimit::FileUpload, true)))
        .merge(guarded(stored, state, guard(BodyLimit::Json, true)))
}
