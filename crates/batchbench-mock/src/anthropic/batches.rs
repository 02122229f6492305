//! Anthropic Message Batches: `in_progress → ended` (or `canceling → ended`) on a scaled
//! timeline; counts other than `processing` stay 0 until the batch ends; results as JSONL in
//! shuffled order (`succeeded`, `errored`, `canceled`, `expired`); delete after it ended.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State as Shared;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use chrono::Utc;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::super::clock::pause;
use super::super::errors::{Api, ApiError};
use super::super::extract::{BaseUrl, Id, ListParams};
use super::super::respond;
use super::super::state::{State, lock};
use super::messages;
use super::store::MessageBatch;

fn update(state: &State, id: &str, f: impl FnOnce(&mut MessageBatch)) {
    if let Some(b) = lock(&state.message_batches).map.get_mut(id) {
        f(b);
    }
}

fn canceling(state: &State, id: &str) -> bool {
    lock(&state.message_batches)
        .map
        .get(id)
        .is_none_or(|b| b.status == "canceling")
}

fn valid_custom_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn errored(custom_id: &str, e: &ApiError, request_id: &str) -> Value {
    json!({"custom_id": custom_id, "result": {"type": "errored", "error": e.body(Api::Anthropic, request_id)}})
}

/// Answers one batch request.
fn process(state: &State, custom_id: &str, params: &Value) -> (Value, bool) {
    let request_id = state.random_id("req_011C", 20);
    let p = match messages::parse(params, true) {
        Ok(p) => p,
        Err(e) => return (errored(custom_id, &e, &request_id), false),
    };
    if !state.models.accepts(Api::Anthropic, &p.model) {
        return (
            errored(
                custom_id,
                &ApiError::not_found(format!("model: {}", p.model)),
                &request_id,
            ),
            false,
        );
    }
    let plan = state.faults.answer_plan(&state.config.faults);
    if plan.status.is_some() {
        state.stats.fault("batch_line_500");
        return (
            errored(
                custom_id,
                &ApiError::new(500, "Internal server error (simulated by the mock)"),
                &request_id,
            ),
            false,
        );
    }
    let id = state.random_id("msg_01", 22);
    let done = messages::complete(state, &p, p.input_tokens(), &plan, id, "batch");
    state.stats.custom_id_completed(custom_id);
    (
        json!({"custom_id": custom_id, "result": {"type": "succeeded", "message": done.body}}),
        true,
    )
}

async fn run(state: Arc<State>, id: String, requests: Vec<(String, Value)>) {
    let cfg = state.config.batch.clone();
    let window = cfg.completion_window_secs.unwrap_or(86_400.0);
    let n = requests.len();
    let duration = cfg
        .in_progress_min_secs
        .max(n as f64 * cfg.per_request_ms / 1000.0);
    let step = duration / n.max(1) as f64;
    let mut sim = 0.0;
    let mut results = Vec::with_capacity(n);
    let (mut ok, mut bad) = (0u64, 0u64);
    let mut stop: Option<&'static str> = None;
    let mut next = 0;
    while next < n {
        if canceling(&state, &id) {
            stop = Some("canceled");
            break;
        }
        if sim + step > window {
            stop = Some("expired");
            break;
        }
        pause(state.scaled(step)).await;
        sim += step;
        let (custom_id, params) = &requests[next];
        let (line, success) = process(&state, custom_id, params);
        if success {
            ok += 1;
        } else {
            bad += 1;
        }
        results.push(line);
        next += 1;
    }
    let rest = (n - next) as u64;
    if let Some(kind) = stop {
        for (custom_id, _) in &requests[next..] {
            results.push(json!({"custom_id": custom_id, "result": {"type": kind}}));
        }
        if kind == "canceled" {
            pause(state.scaled(cfg.cancel_secs)).await;
        }
    }
    if cfg.shuffle_output {
        results.shuffle(&mut ChaCha8Rng::seed_from_u64(state.shuffle_seed()));
    }
    update(&state, &id, |b| {
        b.status = "ended";
        b.ended_at = Some(Utc::now());
        b.succeeded = ok;
        b.errored = bad;
        match stop {
            Some("canceled") => b.canceled = rest,
            Some(_) => b.expired = rest,
            None => {}
        }
        b.results = results;
    });
}

/// `POST /v1/messages/batches`.
pub async fn create(
    Shared(state): Shared<Arc<State>>,
    BaseUrl(base): BaseUrl,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(
            None,
            format!("There was an issue with your request body: invalid JSON ({e})"),
        )
    })?;
    let reqs = match v.get("requests") {
        Some(Value::Array(a)) => a,
        _ => return Err(ApiError::invalid(None, "requests: Field required")),
    };
    if reqs.is_empty() {
        return Err(ApiError::invalid(
            None,
            "requests: List should have at least 1 item after validation, not 0",
        ));
    }
    if reqs.len() > state.config.batch.anthropic_max_requests {
        return Err(ApiError::invalid(
            None,
            format!(
                "requests: the batch has {} requests; the limit is {}",
                reqs.len(),
                state.config.batch.anthropic_max_requests
            ),
        ));
    }
    let mut seen = HashSet::new();
    let mut requests = Vec::with_capacity(reqs.len());
    for (i, r) in reqs.iter().enumerate() {
        let custom_id = r
            .get("custom_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !valid_custom_id(custom_id) {
            return Err(ApiError::invalid(
                None,
                format!(
                    "requests.{i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
                ),
            ));
        }
        if !seen.insert(custom_id.to_string()) {
            return Err(ApiError::invalid(
                None,
                format!(
                    "requests.{i}.custom_id: duplicate custom_id '{custom_id}'; custom_id must be unique within a batch"
                ),
            ));
        }
        let params = r.get("params").filter(|p| p.is_object()).ok_or_else(|| {
            ApiError::invalid(None, format!("requests.{i}.params: Field required"))
        })?;
        requests.push((custom_id.to_string(), params.clone()));
    }
    let now = Utc::now();
    let batch = MessageBatch {
        id: state.random_id("msgbatch_01", 22),
        status: "in_progress",
        created_at: now,
        expires_at: now + chrono::Duration::hours(24),
        ended_at: None,
        cancel_initiated_at: None,
        total: requests.len() as u64,
        succeeded: 0,
        errored: 0,
        canceled: 0,
        expired: 0,
        results: Vec::new(),
    };
    let obj = batch.object(&base);
    let id = batch.id.clone();
    lock(&state.message_batches).insert(batch, state.config.batch.max_batches);
    let handle = tokio::spawn(run(state.clone(), id, requests));
    state.track(handle.abort_handle());
    Ok(respond::json(200, &obj, Vec::new()))
}

fn missing(id: &str) -> ApiError {
    ApiError::not_found(format!("Message batch {id} not found"))
}

/// `GET /v1/messages/batches/{id}`.
pub async fn get(
    Shared(state): Shared<Arc<State>>,
    BaseUrl(base): BaseUrl,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let id = id.as_str();
    let store = lock(&state.message_batches);
    let b = store.map.get(id).ok_or_else(|| missing(id))?;
    Ok(respond::json(200, &b.object(&base), Vec::new()))
}

/// `GET /v1/messages/batches/{id}/results` (JSONL, once ended).
pub async fn results(Shared(state): Shared<Arc<State>>, Id(id): Id) -> Result<Response, ApiError> {
    let id = id.as_str();
    let store = lock(&state.message_batches);
    let b = store.map.get(id).ok_or_else(|| missing(id))?;
    if b.status != "ended" {
        return Err(ApiError::not_found(format!(
            "No results for message batch {id} yet: it has not ended."
        )));
    }
    let mut text = String::new();
    for l in &b.results {
        text.push_str(&l.to_string());
        text.push('\n');
    }
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/binary"),
    );
    Ok(resp)
}

/// `POST /v1/messages/batches/{id}/cancel`.
pub async fn cancel(
    Shared(state): Shared<Arc<State>>,
    BaseUrl(base): BaseUrl,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let id = id.as_str();
    let mut store = lock(&state.message_batches);
    let b = store.map.get_mut(id).ok_or_else(|| missing(id))?;
    if b.status == "in_progress" {
        b.status = "canceling";
        b.cancel_initiated_at = Some(Utc::now());
    }
    Ok(respond::json(200, &b.object(&base), Vec::new()))
}

/// `DELETE /v1/messages/batches/{id}` (only once ended).
pub async fn delete(Shared(state): Shared<Arc<State>>, Id(id): Id) -> Result<Response, ApiError> {
    let id = id.as_str();
    let mut store = lock(&state.message_batches);
    let b = store.map.get(id).ok_or_else(|| missing(id))?;
    if b.status != "ended" {
        return Err(ApiError::invalid(
            None,
            format!(
                "Message batch {id} cannot be deleted while it is still processing; cancel it first."
            ),
        ));
    }
    store.map.remove(id);
    store.order.retain(|x| x != id);
    Ok(respond::json(
        200,
        &json!({"id": id, "type": "message_batch_deleted"}),
        Vec::new(),
    ))
}

/// `GET /v1/messages/batches` (newest first; `limit` 1–1000, `after_id`, `before_id`).
pub async fn list(
    Shared(state): Shared<Arc<State>>,
    BaseUrl(base): BaseUrl,
    query: ListParams,
) -> Result<Response, ApiError> {
    let limit = match query.limit {
        None => 20,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(
                    None,
                    format!("limit: Input should be between 1 and 1000, got '{l}'"),
                ));
            }
        },
    };
    let store = lock(&state.message_batches);
    let ids: Vec<&String> = store.order.iter().rev().collect();
    let (start, end) = if let Some(before) = query.before_id {
        let e = ids.iter().position(|i| **i == before).unwrap_or(0);
        (e.saturating_sub(limit), e)
    } else {
        let s = query
            .after_id
            .and_then(|a| ids.iter().position(|i| **i == a).map(|i| i + 1))
            .unwrap_or(0);
        (s, (s + limit).min(ids.len()))
    };
    let page: Vec<Value> = ids[start.min(ids.len())..end.min(ids.len()).max(start.min(ids.len()))]
        .iter()
        .filter_map(|i| store.map.get(*i))
        .map(|b| b.object(&base))
        .collect();
    let body = json!({
        "data": page,
        "has_more": end < ids.len(),
        "first_id": page.first().and_then(|b| b.get("id")).cloned(),
        "last_id": page.last().and_then(|b| b.get("id")).cloned(),
    });
    Ok(respond::json(200, &body, Vec::new()))
}
