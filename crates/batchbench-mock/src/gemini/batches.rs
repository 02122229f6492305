//! Batch Mode: `models/{model}:batchGenerateContent` with inline requests
//! (`batch.inputConfig.requests.requests[{request, metadata}]`) or a JSONL file
//! (`batch.inputConfig.fileName`, lines `{"key", "request"}`), run as a long-running operation
//! `BATCH_STATE_PENDING → _RUNNING → _SUCCEEDED` (or `_FAILED` for an unreadable input file,
//! `_CANCELLED`, `_EXPIRED`) on the configured, time-scaled timeline; results inline
//! (`inlinedResponses`, input order, each with its `metadata`) or as a generated responses file
//! (`files/batch-{id}`, one `{"key", "response"}` or `{"key", "error"}` line per request, input
//! order). `GET /v1beta/batches[/{id}]`, `:cancel`, `DELETE`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use chrono::Utc;
use serde_json::{Value, json};

use super::super::clock::pause;
use super::super::errors::ApiError;
use super::super::respond;
use super::super::state::{State, lock};
use super::generate::{check_model, complete, parse_json, resolve_cache};
use super::request::{self, Paging, model_id, page_body};
use super::store::{BatchInput, BatchOutput, GeminiBatch, GeminiFile};

/// Inline requests are for batches under 20 MB (ai.google.dev/gemini-api/docs/batch-mode).
const INLINE_MAX_BYTES: usize = 20 * 1024 * 1024;
/// Pending or running batches expire after 48 hours (the same guide), unless configured.
const DEFAULT_WINDOW_SECS: f64 = 172_800.0;

/// One request of a batch: how its result is labelled (`metadata` inline, `key` in a file) and
/// the `GenerateContentRequest`.
#[derive(Debug, Clone)]
struct Item {
    label: Value,
    request: Value,
}

fn missing(id: &str) -> ApiError {
    ApiError::not_found(format!("Batch batches/{id} not found."))
}

fn update(state: &State, id: &str, f: impl FnOnce(&mut GeminiBatch)) -> bool {
    let mut store = lock(&state.gemini);
    match store.batches.map.get_mut(id) {
        Some(b) => {
            f(b);
            b.updated = Utc::now();
            true
        }
        None => false,
    }
}

/// The items of a JSONL input file, or why it cannot be read (the batch then fails).
fn file_items(data: &[u8]) -> Result<Vec<Item>, String> {
    let text = std::str::from_utf8(data).map_err(|_| "the input file is not UTF-8".to_string())?;
    let mut items = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line)
            .map_err(|e| format!("line {}: invalid JSON ({e})", n + 1))?;
        let request = v.get("request").filter(|r| r.is_object()).cloned();
        let Some(request) = request else {
            return Err(format!("line {}: a `request` object is required", n + 1));
        };
        let key = v.get("key").cloned().unwrap_or(Value::Null);
        items.push(Item {
            label: key,
            request,
        });
    }
    if items.is_empty() {
        return Err("the input file has no requests".into());
    }
    Ok(items)
}

/// Answers one request at the batch tier: its response, or its error as a `google.rpc.Status`.
fn process(state: &State, model: &str, request: &Value) -> Result<Value, Value> {
    let line_model = request
        .get("model")
        .and_then(Value::as_str)
        .map_or(model, model_id);
    let p = request::parse(request, line_model).map_err(|e| e.google_rpc_status())?;
    check_model(state, &p.model, "generateContent").map_err(|e| e.google_rpc_status())?;
    let prefix = resolve_cache(state, &p).map_err(|e| e.google_rpc_status())?;
    let plan = state.faults.answer_plan(&state.config.faults);
    if plan.status.is_some() {
        state.stats.fault("batch_line_500");
        return Err(
            ApiError::new(500, "Internal error (simulated by the mock)").google_rpc_status()
        );
    }
    Ok(complete(state, &p, prefix.as_ref(), &plan, "batch").body())
}

/// The result row of one item: inline `{response|error, metadata}`, file `{key, response|error}`.
fn row(inline: bool, label: &Value, result: Result<Value, Value>) -> Value {
    let (k, v) = match result {
        Ok(r) => ("response", r),
        Err(e) => ("error", e),
    };
    let mut row = json!({ k: v });
    if inline {
        if !label.is_null() {
            row["metadata"] = label.clone();
        }
    } else {
        row["key"] = label.clone();
    }
    row
}

/// How a run ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancelled,
    Expired,
    Deleted,
}

async fn run(
    state: Arc<State>,
    id: String,
    model: String,
    items: Result<Vec<Item>, String>,
    inline: bool,
) {
    let cfg = state.config.batch.clone();
    pause(state.scaled(cfg.validating_secs)).await;
    let items = match items {
        Ok(items) => items,
        Err(why) => {
            update(&state, &id, |b| {
                b.state = "BATCH_STATE_FAILED";
                b.ended = Some(Utc::now());
                b.error = Some(json!({"code": 3, "message": format!("Invalid input file: {why}")}));
            });
            return;
        }
    };
    if !update(&state, &id, |b| b.state = "BATCH_STATE_RUNNING") {
        return;
    }
    let window = cfg.completion_window_secs.unwrap_or(DEFAULT_WINDOW_SECS);
    let duration = cfg
        .in_progress_min_secs
        .max(items.len() as f64 * cfg.per_request_ms / 1000.0);
    let step = duration / items.len().max(1) as f64;
    let (mut sim, mut rows, mut stop) =
        (cfg.validating_secs, Vec::with_capacity(items.len()), None);
    for item in &items {
        let cancel = lock(&state.gemini).batches.map.get(&id).map(|b| b.cancel);
        match cancel {
            None => stop = Some(Stop::Deleted),
            Some(true) => stop = Some(Stop::Cancelled),
            Some(false) if sim + step > window => stop = Some(Stop::Expired),
            Some(false) => {}
        }
        if stop.is_some() {
            break;
        }
        pause(state.scaled(step)).await;
        sim += step;
        let result = process(&state, &model, &item.request);
        let ok = result.is_ok();
        if ok {
            if let Some(k) = item
                .label
                .get("key")
                .or(Some(&item.label))
                .and_then(Value::as_str)
            {
                state.stats.custom_id_completed(k);
            }
        }
        rows.push(row(inline, &item.label, result));
        update(&state, &id, |b| {
            if ok { b.succeeded += 1 } else { b.failed += 1 }
        });
    }
    if stop == Some(Stop::Cancelled) {
        pause(state.scaled(cfg.cancel_secs)).await;
    }
    finish(&state, &id, inline, rows, stop);
}

/// Stores the results (a generated file for file input) and the terminal state.
fn finish(state: &State, id: &str, inline: bool, rows: Vec<Value>, stop: Option<Stop>) {
    let terminal = match stop {
        None => "BATCH_STATE_SUCCEEDED",
        Some(Stop::Cancelled) => "BATCH_STATE_CANCELLED",
        Some(Stop::Expired) => "BATCH_STATE_EXPIRED",
        Some(Stop::Deleted) => return,
    };
    let output = if inline {
        BatchOutput::Inline(rows)
    } else {
        let mut text = String::new();
        for r in &rows {
            text.push_str(&r.to_string());
            text.push('\n');
        }
        let file = GeminiFile {
            id: format!("batch-{id}"),
            display_name: None,
            mime_type: "application/jsonl".into(),
            data: Bytes::from(text),
            created: Utc::now(),
            generated: true,
        };
        let stored = lock(&state.gemini).files.put(&state.config.files, file);
        if let Err(e) = stored {
            update(state, id, |b| {
                b.state = "BATCH_STATE_FAILED";
                b.ended = Some(Utc::now());
                b.error = Some(json!({"code": 8, "message": e.message}));
            });
            return;
        }
        BatchOutput::File(format!("files/batch-{id}"))
    };
    update(state, id, |b| {
        b.state = terminal;
        b.ended = Some(Utc::now());
        b.output = Some(output);
    });
}

/// The requests of `batch.inputConfig`: inline ones, or the items of a stored file (`Err` when
/// the file cannot be read: the batch is created and then fails, as Google validates later).
fn input(
    state: &State,
    batch: &Value,
) -> Result<(BatchInput, Result<Vec<Item>, String>), ApiError> {
    let cfg = request::field(batch, "inputConfig", "input_config").ok_or_else(|| {
        ApiError::invalid(
            None,
            "* GenerateContentBatch.input_config: input_config is required\n",
        )
    })?;
    let inline = cfg.pointer("/requests/requests").and_then(Value::as_array);
    let file = request::field(cfg, "fileName", "file_name").and_then(Value::as_str);
    match (inline, file) {
        (Some(reqs), None) if !reqs.is_empty() => {
            let mut items = Vec::with_capacity(reqs.len());
            for (i, r) in reqs.iter().enumerate() {
                let request = r.get("request").filter(|q| q.is_object()).cloned().ok_or_else(|| {
                    ApiError::invalid(None, format!("* batch.input_config.requests.requests[{i}].request: request is required\n"))
                })?;
                items.push(Item {
                    label: r.get("metadata").cloned().unwrap_or(Value::Null),
                    request,
                });
            }
            Ok((BatchInput::Inline, Ok(items)))
        }
        (None, Some(name)) => {
            let id = name.trim_start_matches("files/");
            let store = lock(&state.gemini);
            let f = store
                .files
                .get(id)
                .ok_or_else(|| super::files::missing(id))?;
            Ok((BatchInput::File(format!("files/{id}")), file_items(&f.data)))
        }
        _ => Err(ApiError::invalid(
            None,
            "* batch.input_config: exactly one of requests (non-empty) and file_name must be set\n",
        )),
    }
}

/// `POST /v1beta/models/{model}:batchGenerateContent`: the new batch's operation.
pub async fn create(state: Arc<State>, model: &str, body: &Bytes) -> Result<Response, ApiError> {
    if body.len() > INLINE_MAX_BYTES {
        return Err(ApiError::invalid(
            None,
            format!("Request payload size exceeds the limit: {INLINE_MAX_BYTES} bytes."),
        ));
    }
    let v = parse_json(body)?;
    let model = model_id(model).to_string();
    check_model(&state, &model, "batchGenerateContent")?;
    let batch = v.get("batch").filter(|b| b.is_object()).ok_or_else(|| {
        ApiError::invalid(
            None,
            "* BatchGenerateContentRequest.batch: batch is required\n",
        )
    })?;
    let (source, items) = input(&state, batch)?;
    let total = items.as_ref().map_or(0, Vec::len) as u64;
    let now = Utc::now();
    let record = GeminiBatch {
        id: state.random_id("", 36).to_ascii_lowercase(),
        model: model.clone(),
        display_name: request::field(batch, "displayName", "display_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        input: source.clone(),
        state: "BATCH_STATE_PENDING",
        created: now,
        updated: now,
        ended: None,
        total,
        succeeded: 0,
        failed: 0,
        cancel: false,
        output: None,
        error: None,
    };
    let op = record.operation();
    let id = record.id.clone();
    lock(&state.gemini)
        .batches
        .insert(record, state.config.batch.max_batches);
    let inline = source == BatchInput::Inline;
    let handle = tokio::spawn(run(state.clone(), id, model, items, inline));
    state.track(handle.abort_handle());
    Ok(respond::json(200, &op, Vec::new()))
}

/// `GET /v1beta/batches/{id}`.
pub fn get(state: &State, id: &str) -> Result<Response, ApiError> {
    let store = lock(&state.gemini);
    let b = store.batches.map.get(id).ok_or_else(|| missing(id))?;
    Ok(respond::json(200, &b.operation(), Vec::new()))
}

/// `POST /v1beta/batches/{id}:cancel` (Google's `Empty` back; a finished batch stays as it is).
pub fn cancel(state: &State, id: &str) -> Result<Response, ApiError> {
    let mut store = lock(&state.gemini);
    let b = store.batches.map.get_mut(id).ok_or_else(|| missing(id))?;
    if !b.is_terminal() {
        b.cancel = true;
    }
    Ok(respond::json(200, &json!({}), Vec::new()))
}

/// `DELETE /v1beta/batches/{id}`: forgets the batch (a running one stops).
pub fn delete(state: &State, id: &str) -> Result<Response, ApiError> {
    let mut store = lock(&state.gemini);
    store.batches.map.remove(id).ok_or_else(|| missing(id))?;
    store.batches.order.retain(|x| x != id);
    Ok(respond::json(200, &json!({}), Vec::new()))
}

/// `GET /v1beta/batches?pageSize&pageToken` (newest first, as `operations`).
pub fn list(state: &State, query: Option<&str>) -> Response {
    let store = lock(&state.gemini);
    let all: Vec<Value> = store
        .batches
        .order
        .iter()
        .rev()
        .filter_map(|id| store.batches.map.get(id))
        .map(GeminiBatch::operation)
        .collect();
    let body = page_body(
        "operations",
        all,
        query,
        Paging {
            default: 50,
            max: 1000,
        },
    );
    respond::json(200, &body, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_file_lines() {
        let ok = file_items(b"{\"key\": \"a\", \"request\": {\"contents\": []}}\n\n{\"key\": \"b\", \"request\": {}}\n");
        let items = ok.unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].label, json!("b"));
        assert!(
            file_items(b"{\"key\": \"a\"}\n")
                .unwrap_err()
                .contains("line 1")
        );
        assert!(
            file_items(b"not json\n")
                .unwrap_err()
                .contains("invalid JSON")
        );
        assert!(file_items(b"\n").is_err());
    }

    #[test]
    fn result_rows() {
        let inline = row(true, &json!({"key": "k"}), Ok(json!({"candidates": []})));
        assert_eq!(
            inline,
            json!({"response": {"candidates": []}, "metadata": {"key": "k"}})
        );
        let file = row(false, &json!("k"), Err(json!({"code": 400})));
        assert_eq!(file, json!({"error": {"code": 400}, "key": "k"}));
    }
}
