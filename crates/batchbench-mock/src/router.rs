//! Request routing: one entry point ([`dispatch`]) that authenticates, checks required headers,
//! reads the body within its size limit, matches the path and renders errors in the shape of the
//! API the path belongs to. The axum router is only a fallback to this function, so tests can
//! drive it in-process without sockets.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::anthropic;
use super::errors::{Api, ApiError};
use super::faults::Fault;
use super::openai;
use super::respond;
use super::state::State;

/// What a handler gets besides the state.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// API family of the path.
    pub api: Api,
    /// The API key (rate limits are per key).
    pub key: String,
    /// This request's id (sent back in `x-request-id` / `request-id`).
    pub request_id: String,
    /// The request body.
    pub body: Bytes,
    /// The raw query string.
    pub query: String,
    /// Request headers.
    pub headers: HeaderMap,
}

impl Ctx {
    /// A query parameter's value.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    /// `http://host` from the Host header (for `results_url`).
    pub fn base_url(&self) -> String {
        let host = self
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!("http://{host}")
    }
}

/// The axum router: every request goes to [`dispatch`].
pub fn router(state: Arc<State>) -> Router {
    Router::new().fallback(move |req: Request| {
        let state = state.clone();
        async move { dispatch(state, req).await }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Stats,
    Reset,
    Inject,
    Health,
    Models,
    Model,
    Chat,
    Embeddings,
    FilesCreate,
    FilesList,
    FileGet,
    FileContent,
    FileDelete,
    BatchCreate,
    BatchList,
    BatchGet,
    BatchCancel,
    Messages,
    CountTokens,
    MsgBatchCreate,
    MsgBatchList,
    MsgBatchGet,
    MsgBatchResults,
    MsgBatchCancel,
    MsgBatchDelete,
}

fn route(method: &Method, segs: &[&str]) -> Option<(Route, &'static str)> {
    use Route::*;
    let m = method.as_str();
    Some(match (m, segs) {
        ("GET", ["_mock", "stats"]) => (Stats, "GET /_mock/stats"),
        ("POST", ["_mock", "reset"]) => (Reset, "POST /_mock/reset"),
        ("POST", ["_mock", "inject"]) => (Inject, "POST /_mock/inject"),
        ("GET", ["_mock", "health"]) => (Health, "GET /_mock/health"),
        ("GET", ["v1", "models"]) => (Models, "GET /v1/models"),
        ("GET", ["v1", "models", _]) => (Model, "GET /v1/models/{id}"),
        ("POST", ["v1", "chat", "completions"]) => (Chat, "POST /v1/chat/completions"),
        ("POST", ["v1", "embeddings"]) => (Embeddings, "POST /v1/embeddings"),
        ("POST", ["v1", "files"]) => (FilesCreate, "POST /v1/files"),
        ("GET", ["v1", "files"]) => (FilesList, "GET /v1/files"),
        ("GET", ["v1", "files", _]) => (FileGet, "GET /v1/files/{id}"),
        ("GET", ["v1", "files", _, "content"]) => (FileContent, "GET /v1/files/{id}/content"),
        ("DELETE", ["v1", "files", _]) => (FileDelete, "DELETE /v1/files/{id}"),
        ("POST", ["v1", "batches"]) => (BatchCreate, "POST /v1/batches"),
        ("GET", ["v1", "batches"]) => (BatchList, "GET /v1/batches"),
        ("GET", ["v1", "batches", _]) => (BatchGet, "GET /v1/batches/{id}"),
        ("POST", ["v1", "batches", _, "cancel"]) => (BatchCancel, "POST /v1/batches/{id}/cancel"),
        ("POST", ["v1", "messages"]) => (Messages, "POST /v1/messages"),
        ("POST", ["v1", "messages", "count_tokens"]) => {
            (CountTokens, "POST /v1/messages/count_tokens")
        }
        ("POST", ["v1", "messages", "batches"]) => (MsgBatchCreate, "POST /v1/messages/batches"),
        ("GET", ["v1", "messages", "batches"]) => (MsgBatchList, "GET /v1/messages/batches"),
        ("GET", ["v1", "messages", "batches", _]) => (MsgBatchGet, "GET /v1/messages/batches/{id}"),
        ("GET", ["v1", "messages", "batches", _, "results"]) => {
            (MsgBatchResults, "GET /v1/messages/batches/{id}/results")
        }
        ("POST", ["v1", "messages", "batches", _, "cancel"]) => {
            (MsgBatchCancel, "POST /v1/messages/batches/{id}/cancel")
        }
        ("DELETE", ["v1", "messages", "batches", _]) => {
            (MsgBatchDelete, "DELETE /v1/messages/batches/{id}")
        }
        _ => return None,
    })
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The API key a request carries: Anthropic `x-api-key`, else a bearer token.
fn api_key(headers: &HeaderMap) -> Option<String> {
    if let Some(k) = header_str(headers, "x-api-key") {
        return Some(k.to_string());
    }
    let auth = header_str(headers, "authorization")?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn authenticate(state: &State, api: Api, headers: &HeaderMap) -> Result<String, ApiError> {
    let key = api_key(headers).filter(|k| !k.is_empty());
    let Some(key) = key else {
        let msg = match api {
            Api::OpenAi => {
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            }
            Api::Anthropic => "x-api-key header is required",
        };
        return Err(ApiError::new(401, msg).code("invalid_api_key"));
    };
    if let Some(expected) = &state.config.api_key {
        if &key != expected {
            let shown: String = key.chars().take(4).collect();
            let msg = match api {
                Api::OpenAi => format!(
                    "Incorrect API key provided: {shown}****. You can find your API key at https://platform.openai.com/account/api-keys."
                ),
                Api::Anthropic => "invalid x-api-key".to_string(),
            };
            return Err(ApiError::new(401, msg).code("invalid_api_key"));
        }
    }
    Ok(key)
}

fn body_limit(state: &State, route: Option<Route>) -> usize {
    match route {
        Some(Route::FilesCreate) => state.config.files.max_file_bytes.saturating_add(1 << 20),
        Some(Route::MsgBatchCreate) => state.config.batch.anthropic_max_bytes,
        _ => state.config.body_limit_bytes,
    }
}

/// Handles one request end to end. Never panics on any input.
pub async fn dispatch(state: Arc<State>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().trim_end_matches('/').to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let is_anthropic_path = segs.len() >= 2 && segs[0] == "v1" && segs[1] == "messages";
    let looks_anthropic =
        parts.headers.contains_key("x-api-key") || parts.headers.contains_key("anthropic-version");
    let api = if is_anthropic_path || (looks_anthropic && !segs.starts_with(&["v1", "chat"])) {
        Api::Anthropic
    } else {
        Api::OpenAi
    };
    let request_id = match api {
        Api::OpenAi => state.random_hex("req_", 32),
        Api::Anthropic => state.random_id("req_011C", 20),
    };
    let matched = route(&parts.method, &segs);
    let label: std::borrow::Cow<'static, str> = match matched {
        Some((_, l)) => l.into(),
        None => format!("{} (unknown)", parts.method).into(),
    };
    state.stats.request(&label);
    let result = run(
        &state,
        api,
        matched.map(|m| m.0),
        &segs,
        &parts.method,
        &path,
        query,
        parts.headers,
        body,
        &request_id,
        &label,
    )
    .await;
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => e.into_response(api, &request_id),
    };
    let h = resp.headers_mut();
    let rid = HeaderValue::from_str(&request_id).unwrap_or(HeaderValue::from_static("req_mock"));
    match api {
        Api::OpenAi => {
            h.insert("x-request-id", rid);
            h.insert("openai-version", HeaderValue::from_static("2020-10-01"));
            h.insert(
                "openai-organization",
                HeaderValue::from_static("batchbench-mock"),
            );
            if let Ok(v) = HeaderValue::from_str(&started.elapsed().as_millis().to_string()) {
                h.insert("openai-processing-ms", v);
            }
        }
        Api::Anthropic => {
            h.insert("request-id", rid);
        }
    }
    h.insert("x-batchbench-mock", HeaderValue::from_static("simulated"));
    if resp
        .extensions()
        .get::<respond::ConnectionReset>()
        .is_none()
    {
        state.stats.status(resp.status().as_u16());
    }
    resp
}

#[allow(clippy::too_many_arguments)]
async fn run(
    state: &Arc<State>,
    api: Api,
    route: Option<Route>,
    segs: &[&str],
    method: &Method,
    path: &str,
    query: String,
    headers: HeaderMap,
    body: Body,
    request_id: &str,
    label: &str,
) -> Result<Response, ApiError> {
    // Introspection and test controls (`/_mock/*`) need no key.
    match route {
        Some(Route::Stats) => return Ok(respond::json(200, &state.stats.snapshot(), &[])),
        Some(Route::Health) => {
            return Ok(respond::json(
                200,
                &json!({"status": "ok", "simulated": true}),
                &[],
            ));
        }
        _ => {}
    }
    let control = matches!(route, Some(Route::Reset | Route::Inject));
    let key = if control {
        String::new()
    } else {
        authenticate(state, api, &headers)?
    };
    if api == Api::Anthropic
        && is_anthropic(route)
        && header_str(&headers, "anthropic-version").is_none_or(str::is_empty)
    {
        return Err(ApiError::invalid(
            None,
            "anthropic-version: header is required",
        ));
    }
    let limit = body_limit(state, route);
    if let Some(len) = header_str(&headers, "content-length").and_then(|v| v.parse::<u64>().ok()) {
        if len > limit as u64 {
            return Err(too_large(limit));
        }
    }
    let body = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))?;
    let Some(route) = route else {
        return Err(
            ApiError::not_found(format!("Invalid URL ({method} {path})")).code("unknown_url"),
        );
    };
    let ctx = Ctx {
        api,
        key,
        request_id: request_id.to_string(),
        body,
        query,
        headers,
    };
    let cut_after = if is_files_or_batches(route) {
        control_fault(state, api, label)?
    } else {
        false
    };
    let response = endpoint(state, route, segs, &ctx).await?;
    if cut_after && response.status().is_success() {
        return Ok(respond::cut(response).await);
    }
    Ok(response)
}

/// Runs the endpoint a request was routed to.
async fn endpoint(
    state: &Arc<State>,
    route: Route,
    segs: &[&str],
    ctx: &Ctx,
) -> Result<Response, ApiError> {
    let api = ctx.api;
    let id = segs.get(2).copied().unwrap_or_default();
    let batch_id = segs.get(3).copied().unwrap_or_default();
    match route {
        Route::Stats | Route::Health => unreachable_ok(),
        Route::Reset => {
            state.stats.reset();
            state.faults.clear();
            state.cache.clear();
            Ok(respond::json(200, &json!({"reset": true}), &[]))
        }
        Route::Inject => inject(state, ctx),
        Route::Models => Ok(models(state, api)),
        Route::Model => model(state, api, id),
        Route::Chat => openai::chat::handle(state, ctx).await,
        Route::Embeddings => openai::embeddings::handle(state, ctx).await,
        Route::FilesCreate => openai::files::create(state, ctx),
        Route::FilesList => openai::files::list(state, ctx),
        Route::FileGet => openai::files::get(state, id),
        Route::FileContent => openai::files::content(state, id),
        Route::FileDelete => openai::files::delete(state, id),
        Route::BatchCreate => openai::batches::create(state, ctx),
        Route::BatchList => openai::batches::list(state, ctx),
        Route::BatchGet => openai::batches::get(state, id),
        Route::BatchCancel => openai::batches::cancel(state, id),
        Route::Messages => anthropic::messages::handle(state, ctx).await,
        Route::CountTokens => anthropic::messages::count_tokens(state, ctx).await,
        Route::MsgBatchCreate => anthropic::batches::create(state, ctx),
        Route::MsgBatchList => anthropic::batches::list(state, ctx),
        Route::MsgBatchGet => anthropic::batches::get(state, ctx, batch_id),
        Route::MsgBatchResults => anthropic::batches::results(state, batch_id),
        Route::MsgBatchCancel => anthropic::batches::cancel(state, ctx, batch_id),
        Route::MsgBatchDelete => anthropic::batches::delete(state, batch_id),
    }
}

fn is_files_or_batches(route: Route) -> bool {
    matches!(
        route,
        Route::FilesCreate
            | Route::FilesList
            | Route::FileGet
            | Route::FileContent
            | Route::FileDelete
            | Route::BatchCreate
            | Route::BatchList
            | Route::BatchGet
            | Route::BatchCancel
    ) || is_message_batches(route)
}

fn is_message_batches(route: Route) -> bool {
    matches!(
        route,
        Route::MsgBatchCreate
            | Route::MsgBatchList
            | Route::MsgBatchGet
            | Route::MsgBatchResults
            | Route::MsgBatchCancel
            | Route::MsgBatchDelete
    )
}

/// A status fault or a reset for a Files or Batches call, drawn before it does anything (a
/// failed creation creates nothing); `Ok(true)` when the call is to be done and its answer cut
/// off half-way (the work is done, the client never learns it).
fn control_fault(state: &State, api: Api, endpoint: &str) -> Result<bool, ApiError> {
    let plan = state.faults.control_plan(&state.config.faults, endpoint);
    if plan.reset {
        state.stats.fault("files_batches_reset");
        return Err(ApiError::reset());
    }
    if let Some(f) = plan.status {
        state.stats.fault(&format!("files_batches_{}", f.name()));
        return Err(openai::chat::fault_error(state, f, api));
    }
    if plan.drop {
        state.stats.fault("files_batches_drop");
    }
    Ok(plan.drop)
}

fn unreachable_ok() -> Result<Response, ApiError> {
    Err(ApiError::new(500, "internal routing error"))
}

fn is_anthropic(route: Option<Route>) -> bool {
    route
        .is_some_and(|r| matches!(r, Route::Messages | Route::CountTokens) || is_message_batches(r))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        413,
        format!("Request exceeds the maximum allowed size of {limit} bytes."),
    )
    .code("request_too_large")
}

fn inject(state: &State, ctx: &Ctx) -> Result<Response, ApiError> {
    let v: Value = serde_json::from_slice(&ctx.body)
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
            let files_or_batches = endpoint.contains("/v1/files")
                || endpoint.contains("/v1/batches")
                || endpoint.contains("/v1/messages/batches");
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
        &[],
    ))
}

fn models(state: &State, api: Api) -> Response {
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
    respond::json(200, &body, &[])
}

fn model(state: &State, api: Api, id: &str) -> Result<Response, ApiError> {
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
    Ok(respond::json(200, &body, &[]))
}
