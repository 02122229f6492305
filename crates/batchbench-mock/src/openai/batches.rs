//! The OpenAI Batch API: `validating → in_progress → finalizing → completed` on a scaled
//! timeline, `request_counts` that move while it runs, validation failures listed by line,
//! cancel (`cancelling → cancelled`, partial output), expiry (partial output plus
//! `batch_expired` error lines), shuffled output, and an error file for failed lines.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::response::Response;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::super::clock::{pause, unix_now};
use super::super::errors::{Api, ApiError};
use super::super::extract::{Id, ListParams};
use super::super::respond;
use super::super::state::{State, lock};
use super::store::{BatchRecord, StoredFile};
use super::types::list_page;
use super::{chat, embeddings};
use batchbench_core::embed::MAX_INPUTS_PER_BATCH;

fn update(state: &State, id: &str, f: impl FnOnce(&mut BatchRecord)) {
    if let Some(r) = lock(&state.batches).map.get_mut(id) {
        f(r);
    }
}

fn cancel_requested(state: &State, id: &str) -> bool {
    lock(&state.batches).map.get(id).is_none_or(|r| r.cancel)
}

/// One validated input line: its `custom_id` and request body.
pub type BatchLine = (String, Value);

/// A validation error entry.
fn verr(code: &str, message: String, param: Option<&str>, line: Option<usize>) -> Value {
    json!({"code": code, "message": message, "param": param, "line": line})
}

/// Validates an input file: JSONL lines, custom ids, method, url, one known model, limits.
/// Returns `(custom_id, body)` per line, or the errors by line.
pub fn validate(
    state: &State,
    endpoint: &str,
    data: &[u8],
) -> Result<(String, Vec<BatchLine>), Vec<Value>> {
    let cfg = &state.config.batch;
    let mut errors = Vec::new();
    if data.len() > cfg.openai_max_bytes {
        return Err(vec![verr(
            "file_too_large",
            format!(
                "The input file is {} bytes; the limit is {} bytes.",
                data.len(),
                cfg.openai_max_bytes
            ),
            None,
            None,
        )]);
    }
    let text = String::from_utf8_lossy(data);
    let mut lines = Vec::new();
    let mut seen = HashSet::new();
    let mut model: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        if errors.len() >= 1_000 {
            break;
        }
        if raw.trim().is_empty() {
            continue;
        }
        let v: Value = match serde_json::from_str(raw) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                errors.push(verr(
                    "invalid_json_line",
                    format!("Line {line_no} is not a valid JSON object."),
                    None,
                    Some(line_no),
                ));
                continue;
            }
        };
        let Some(custom_id) = v
            .get("custom_id")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
        else {
            errors.push(verr(
                "missing_required_parameter",
                "Missing required parameter: 'custom_id'.".into(),
                Some("custom_id"),
                Some(line_no),
            ));
            continue;
        };
        if v.get("method").and_then(Value::as_str) != Some("POST") {
            errors.push(verr(
                "invalid_method",
                "The 'method' must be 'POST'.".into(),
                Some("method"),
                Some(line_no),
            ));
            continue;
        }
        if v.get("url").and_then(Value::as_str) != Some(endpoint) {
            errors.push(verr(
                "mismatched_endpoint",
                format!("The 'url' of every line must be the batch endpoint '{endpoint}'."),
                Some("url"),
                Some(line_no),
            ));
            continue;
        }
        let Some(body) = v.get("body").filter(|b| b.is_object()) else {
            errors.push(verr(
                "missing_required_parameter",
                "Missing required parameter: 'body'.".into(),
                Some("body"),
                Some(line_no),
            ));
            continue;
        };
        let Some(m) = body.get("model").and_then(Value::as_str) else {
            errors.push(verr(
                "missing_required_parameter",
                "Missing required parameter: 'body.model'.".into(),
                Some("body.model"),
                Some(line_no),
            ));
            continue;
        };
        if !state.models.accepts(Api::OpenAi, m) {
            errors.push(verr(
                "model_not_found",
                format!("The model `{m}` does not exist or you do not have access to it."),
                Some("body.model"),
                Some(line_no),
            ));
            continue;
        }
        match &model {
            None => model = Some(m.to_string()),
            Some(first) if first != m => {
                errors.push(verr(
                    "mismatched_model",
                    format!("All requests in a batch must use the same model: line {line_no} uses '{m}', earlier lines '{first}'."),
                    Some("body.model"),
                    Some(line_no),
                ));
                continue;
            }
            _ => {}
        }
        if !seen.insert(custom_id.to_string()) {
            errors.push(verr(
                "duplicate_custom_id",
                format!("The custom_id '{custom_id}' is used more than once."),
                Some("custom_id"),
                Some(line_no),
            ));
            continue;
        }
        lines.push((custom_id.to_string(), body.clone()));
    }
    if errors.is_empty() && lines.len() > cfg.openai_max_requests {
        errors.push(verr(
            "too_many_requests",
            format!(
                "The input file has {} requests; the limit is {}.",
                lines.len(),
                cfg.openai_max_requests
            ),
            None,
            None,
        ));
    }
    let inputs: usize = lines.iter().map(|(_, b)| embeddings::inputs_in(b)).sum();
    if errors.is_empty() && endpoint == EMBEDDINGS && inputs > MAX_INPUTS_PER_BATCH {
        errors.push(verr(
            "too_many_inputs",
            format!(
                "The batch has {inputs} embedding inputs; /v1/embeddings batches take at most {MAX_INPUTS_PER_BATCH}."
            ),
            None,
            None,
        ));
    }
    if errors.is_empty() && lines.is_empty() {
        errors.push(verr(
            "empty_file",
            "The input file holds no requests.".into(),
            None,
            None,
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((model.unwrap_or_default(), lines))
}

/// Answers one batch line: `Ok(output line)` or `Err(error line)`, with usage.
fn process_line(
    state: &State,
    endpoint: &str,
    custom_id: &str,
    body: &Value,
) -> (Result<Value, Value>, u64, u64, u64) {
    let request_id = state.random_hex("req_", 32);
    let line_id = state.random_hex("batch_req_", 32);
    let fail = |status: u16, e: ApiError| {
        json!({"id": line_id, "custom_id": custom_id,
            "response": {"status_code": status, "request_id": request_id, "body": e.body(Api::OpenAi, &request_id)},
            "error": null})
    };
    if endpoint == EMBEDDINGS {
        return match embeddings::batch_line(state, body) {
            Ok((out, _, tokens)) => {
                state.stats.custom_id_completed(custom_id);
                let line = json!({"id": line_id, "custom_id": custom_id,
                    "response": {"status_code": 200, "request_id": request_id, "body": out},
                    "error": null});
                (Ok(line), tokens, 0, 0)
            }
            Err(e) => (Err(fail(e.status, e)), 0, 0, 0),
        };
    }
    if endpoint == RESPONSES {
        return responses_line(state, custom_id, body, &line_id, &request_id, fail);
    }
    let params = match chat::parse(body) {
        Ok(p) => p,
        Err(e) => return (Err(fail(e.status, e)), 0, 0, 0),
    };
    let plan = state.faults.answer_plan(&state.config.faults);
    if plan.status.is_some() {
        state.stats.fault("batch_line_500");
        return (
            Err(fail(
                500,
                ApiError::new(
                    500,
                    "The server had an error while processing your request. (simulated by the mock)",
                ),
            )),
            0,
            0,
            0,
        );
    }
    let mut params = params;
    params.stream = false;
    let input = chat::prompt_tokens(&params);
    let done = chat::complete(
        state,
        &params,
        input,
        &plan,
        state.random_id("chatcmpl-", 29),
    );
    state.stats.custom_id_completed(custom_id);
    let line = json!({"id": line_id, "custom_id": custom_id,
        "response": {"status_code": 200, "request_id": request_id, "body": done.body()},
        "error": null});
    (
        Ok(line),
        done.prompt_tokens,
        done.cached_tokens,
        done.completion_tokens,
    )
}

/// A `/v1/responses` line: the `response` object as its body, with the batch-line 500s of
/// chat lines.
fn responses_line(
    state: &State,
    custom_id: &str,
    body: &Value,
    line_id: &str,
    request_id: &str,
    fail: impl Fn(u16, ApiError) -> Value,
) -> (Result<Value, Value>, u64, u64, u64) {
    let plan = state.faults.answer_plan(&state.config.faults);
    if plan.status.is_some() {
        state.stats.fault("batch_line_500");
        let e = ApiError::new(
            500,
            "The server had an error while processing your request. (simulated by the mock)",
        );
        return (Err(fail(500, e)), 0, 0, 0);
    }
    match super::responses::batch_line(state, body, &plan) {
        Ok((out, done)) => {
            state.stats.custom_id_completed(custom_id);
            let line = json!({"id": line_id, "custom_id": custom_id,
                "response": {"status_code": 200, "request_id": request_id, "body": out},
                "error": null});
            (
                Ok(line),
                done.prompt_tokens,
                done.cached_tokens,
                done.completion_tokens,
            )
        }
        Err(e) => (Err(fail(e.status, e)), 0, 0, 0),
    }
}

fn store_file(
    state: &State,
    batch_id: &str,
    kind: &str,
    mut lines: Vec<Value>,
    seed: u64,
) -> Option<String> {
    if lines.is_empty() {
        return None;
    }
    if state.config.batch.shuffle_output {
        lines.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    }
    let mut text = String::new();
    for l in &lines {
        text.push_str(&l.to_string());
        text.push('\n');
    }
    let file = StoredFile {
        id: state.random_id("file-", 22),
        filename: format!("{batch_id}_{kind}.jsonl"),
        purpose: "batch_output".into(),
        data: text.into_bytes().into(),
        created_at: unix_now(),
    };
    let id = file.id.clone();
    lock(&state.files).put(&state.config.files, file).ok()?;
    Some(id)
}

/// The background worker of one batch.
async fn run(state: Arc<State>, id: String, input: Vec<u8>, endpoint: String) {
    let cfg = state.config.batch.clone();
    let window = cfg.completion_window_secs.unwrap_or(86_400.0);
    let mut sim = cfg.validating_secs;
    pause(state.scaled(cfg.validating_secs)).await;
    let validated = validate(&state, &endpoint, &input);
    drop(input);
    if cancel_requested(&state, &id) {
        pause(state.scaled(cfg.cancel_secs)).await;
        update(&state, &id, |r| {
            r.status = "cancelled";
            r.cancelled_at = Some(unix_now());
        });
        return;
    }
    let (model, lines) = match validated {
        Ok(v) => v,
        Err(errors) => {
            update(&state, &id, |r| {
                r.status = "failed";
                r.failed_at = Some(unix_now());
                r.errors = Some(json!({"object": "list", "data": errors}));
            });
            return;
        }
    };
    let n = lines.len();
    update(&state, &id, |r| {
        r.status = "in_progress";
        r.in_progress_at = Some(unix_now());
        r.total = n as u64;
        r.model = Some(model);
    });
    let duration = cfg
        .in_progress_min_secs
        .max(n as f64 * cfg.per_request_ms / 1000.0);
    let step = duration / n.max(1) as f64;
    let (mut out, mut errs) = (Vec::new(), Vec::new());
    let mut ended: Option<&'static str> = None;
    let mut next = 0;
    while next < n {
        if cancel_requested(&state, &id) {
            ended = Some("batch_cancelled");
            break;
        }
        if sim + step > window {
            ended = Some("batch_expired");
            break;
        }
        pause(state.scaled(step)).await;
        sim += step;
        let (custom_id, body) = &lines[next];
        let (result, input_tokens, cached, output) =
            process_line(&state, &endpoint, custom_id, body);
        let ok = result.is_ok();
        match result {
            Ok(l) => out.push(l),
            Err(l) => errs.push(l),
        }
        update(&state, &id, |r| {
            if ok {
                r.completed += 1;
            } else {
                r.failed += 1;
            }
            r.input_tokens += input_tokens;
            r.cached_tokens += cached;
            r.output_tokens += output;
        });
        next += 1;
    }
    if let Some(code) = ended {
        let message = if code == "batch_expired" {
            "This request could not be executed before the completion window expired."
        } else {
            "This request was not executed because the batch was cancelled."
        };
        for (custom_id, _) in &lines[next..] {
            errs.push(
                json!({"id": state.random_hex("batch_req_", 32), "custom_id": custom_id, "response": null,
                "error": {"code": code, "message": message}}),
            );
        }
        let rest = (n - next) as u64;
        update(&state, &id, |r| r.failed += rest);
    }
    let seed = state.shuffle_seed();
    match ended {
        Some("batch_cancelled") => pause(state.scaled(cfg.cancel_secs)).await,
        Some(_) => {}
        None => {
            update(&state, &id, |r| {
                r.status = "finalizing";
                r.finalizing_at = Some(unix_now());
            });
            pause(state.scaled(cfg.finalizing_secs)).await;
        }
    }
    let output_file_id = store_file(&state, &id, "output", out, seed);
    let error_file_id = store_file(&state, &id, "error", errs, seed ^ 1);
    update(&state, &id, |r| {
        r.output_file_id = output_file_id;
        r.error_file_id = error_file_id;
        let now = Some(unix_now());
        match ended {
            Some("batch_cancelled") => {
                r.status = "cancelled";
                r.cancelled_at = now;
            }
            Some(_) => {
                r.status = "expired";
                r.expired_at = now;
            }
            None => {
                r.status = "completed";
                r.completed_at = now;
            }
        }
    });
}

/// The batch endpoints the mock answers lines for.
const SERVED: &[&str] = &["/v1/chat/completions", RESPONSES, EMBEDDINGS];

/// The Responses endpoint: its lines are answered as `response` objects.
const RESPONSES: &str = "/v1/responses";

/// The embeddings endpoint, whose batches also cap the inputs summed over their lines.
const EMBEDDINGS: &str = "/v1/embeddings";

const ENDPOINTS: &[&str] = &[
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/completions",
];

/// `POST /v1/batches`.
pub async fn create(Shared(state): Shared<Arc<State>>, body: Bytes) -> Result<Response, ApiError> {
    let state = &state;
    let v: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(
            None,
            format!("We could not parse the JSON body of your request. ({e})"),
        )
    })?;
    let input_file_id = v
        .get("input_file_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::invalid(
                Some("input_file_id"),
                "Missing required parameter: 'input_file_id'.",
            )
        })?;
    let endpoint = v.get("endpoint").and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid(Some("endpoint"), "Missing required parameter: 'endpoint'.")
    })?;
    if !ENDPOINTS.contains(&endpoint) {
        return Err(ApiError::invalid(
            Some("endpoint"),
            format!("Invalid value for 'endpoint': '{endpoint}'."),
        ));
    }
    if !SERVED.contains(&endpoint) {
        return Err(ApiError::invalid(
            Some("endpoint"),
            format!(
                "The mock serves batches for /v1/chat/completions, /v1/responses and /v1/embeddings only, not '{endpoint}'."
            ),
        ));
    }
    let window = v
        .get("completion_window")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::invalid(
                Some("completion_window"),
                "Missing required parameter: 'completion_window'.",
            )
        })?;
    if window != "24h" {
        return Err(ApiError::invalid(
            Some("completion_window"),
            format!(
                "Invalid value for 'completion_window': '{window}'. Supported values are: '24h'."
            ),
        ));
    }
    let metadata = match v.get("metadata") {
        None | Some(Value::Null) => Value::Null,
        Some(m @ Value::Object(o)) if o.len() <= 16 && o.values().all(Value::is_string) => {
            m.clone()
        }
        Some(_) => {
            return Err(ApiError::invalid(
                Some("metadata"),
                "Invalid 'metadata': expected an object of at most 16 string values.",
            ));
        }
    };
    let input = {
        let files = lock(&state.files);
        let f = files
            .get(input_file_id)
            .ok_or_else(|| ApiError::not_found(format!("No such File object: {input_file_id}")))?;
        if f.purpose != "batch" {
            return Err(ApiError::invalid(
                Some("input_file_id"),
                format!(
                    "File {input_file_id} has purpose '{}', not 'batch'.",
                    f.purpose
                ),
            ));
        }
        f.data.to_vec()
    };
    let now = unix_now();
    let record = BatchRecord {
        id: state.random_id("batch_", 32),
        input_file_id: input_file_id.to_string(),
        endpoint: endpoint.to_string(),
        completion_window: window.to_string(),
        metadata,
        model: None,
        status: "validating",
        created_at: now,
        in_progress_at: None,
        expires_at: now + 86_400,
        finalizing_at: None,
        completed_at: None,
        failed_at: None,
        expired_at: None,
        cancelling_at: None,
        cancelled_at: None,
        errors: None,
        output_file_id: None,
        error_file_id: None,
        total: 0,
        completed: 0,
        failed: 0,
        cancel: false,
        input_tokens: 0,
        cached_tokens: 0,
        output_tokens: 0,
    };
    let obj = record.object();
    let id = record.id.clone();
    lock(&state.batches).insert(record, state.config.batch.max_batches);
    let handle = tokio::spawn(run(state.clone(), id, input, endpoint.to_string()));
    state.track(handle.abort_handle());
    Ok(respond::json(200, &obj, Vec::new()))
}

fn missing(id: &str) -> ApiError {
    ApiError::not_found(format!("No batch found with id '{id}'."))
}

/// `GET /v1/batches/{id}`.
pub async fn get(Shared(state): Shared<Arc<State>>, Id(id): Id) -> Result<Response, ApiError> {
    let id = id.as_str();
    let store = lock(&state.batches);
    let r = store.map.get(id).ok_or_else(|| missing(id))?;
    Ok(respond::json(200, &r.object(), Vec::new()))
}

/// `POST /v1/batches/{id}/cancel`.
pub async fn cancel(Shared(state): Shared<Arc<State>>, Id(id): Id) -> Result<Response, ApiError> {
    let id = id.as_str();
    let mut store = lock(&state.batches);
    let r = store.map.get_mut(id).ok_or_else(|| missing(id))?;
    match r.status {
        "validating" | "in_progress" => {
            r.cancel = true;
            r.status = "cancelling";
            r.cancelling_at = Some(unix_now());
        }
        "cancelling" => {}
        other => {
            return Err(ApiError::invalid(
                None,
                format!("Cannot cancel a batch with status '{other}'."),
            ));
        }
    }
    Ok(respond::json(200, &r.object(), Vec::new()))
}

/// `GET /v1/batches` (newest first, `limit` up to 100, `after`).
pub async fn list(
    Shared(state): Shared<Arc<State>>,
    query: ListParams,
) -> Result<Response, ApiError> {
    let limit = match query.limit {
        None => 20,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(
                    Some("limit"),
                    format!("Invalid 'limit': expected an integer between 1 and 100, got '{l}'."),
                ));
            }
        },
    };
    let after = query.after;
    let store = lock(&state.batches);
    let ids: Vec<&String> = store.order.iter().rev().collect();
    let start = after
        .and_then(|a| ids.iter().position(|id| **id == a).map(|i| i + 1))
        .unwrap_or(0);
    let page: Vec<Value> = ids
        .iter()
        .skip(start)
        .take(limit)
        .filter_map(|id| store.map.get(*id))
        .map(BatchRecord::object)
        .collect();
    let has_more = ids.len() > start + page.len();
    let body = list_page(page, has_more);
    Ok(respond::json(200, &body, Vec::new()))
}
