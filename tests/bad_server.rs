//! A server that answers badly: truncated JSON, wrong types, no `usage`, an HTML error page from
//! a proxy, a 200 carrying an error, an empty batch output file, a batch result for a request
//! never sent, a stream cut before `[DONE]`, and a 429 `insufficient_quota`. The server is a tiny
//! axum app on 127.0.0.1 (port 0) inside the test; `batchbench run --provider … --base-url …`
//! is pointed at it with a dummy key. Every case must end with the prompts reported failed (exit
//! 1) or one clear `error:` line, and never a panic or a backtrace.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    TruncatedJson,
    UsageWrongType,
    MissingUsage,
    HtmlErrorPage502,
    ErrorBodyIn200,
    EmptyBatchOutputFile,
    UnknownCustomId,
    SseCutBeforeDone,
    InsufficientQuota429,
    AnthropicMissingUsage,
    AnthropicUsageWrongType,
    AnthropicErrorBodyIn200,
    AnthropicHtmlErrorPage502,
    AnthropicEmptyBatchResults,
}

struct Server {
    scenario: Scenario,
    /// Chat / messages requests received.
    chat_hits: AtomicUsize,
    /// custom_ids of the uploaded batch input.
    custom_ids: Mutex<Vec<String>>,
}

const HTML_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n";

fn json_response(status: u16, v: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn raw(status: u16, content_type: &str, body: impl Into<String>) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, content_type.to_string())],
        body.into(),
    )
        .into_response()
}

fn completion(text: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
           "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                        "finish_reason": "stop", "logprobs": null}],
           "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21}})
}

fn message(text: &str) -> Value {
    json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
           "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": null,
           "usage": {"input_tokens": 20, "output_tokens": 1}})
}

fn openai_error(status: u16, kind: &str, code: Option<&str>, message: &str) -> Response {
    json_response(
        status,
        json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
    )
}

fn batch_object(status: &str, n: usize) -> Value {
    let done = status == "completed";
    json!({"id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions", "errors": null,
           "input_file_id": "file-in", "completion_window": "24h", "status": status,
           "output_file_id": if done { json!("file-out") } else { Value::Null }, "error_file_id": null,
           "created_at": 0, "request_counts": {"total": n, "completed": if done { n } else { 0 }, "failed": 0},
           "metadata": {}})
}

fn message_batch(status: &str) -> Value {
    json!({"id": "msgbatch_1", "type": "message_batch", "processing_status": status,
           "request_counts": {"processing": 0, "succeeded": 3, "errored": 0, "canceled": 0, "expired": 0},
           "created_at": "2026-11-25T00:00:00Z", "expires_at": "2026-11-26T00:00:00Z", "results_url": null})
}

/// custom_ids found in a multipart upload or a JSON batch body: every line or request object that
/// carries one.
fn custom_ids_in(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    let mut ids: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter_map(|v| {
            v.get("custom_id")
                .and_then(|c| c.as_str())
                .map(str::to_string)
        })
        .collect();
    if ids.is_empty() {
        if let Ok(v) = serde_json::from_slice::<Value>(body) {
            if let Some(reqs) = v.get("requests").and_then(|r| r.as_array()) {
                ids = reqs
                    .iter()
                    .filter_map(|r| {
                        r.get("custom_id")
                            .and_then(|c| c.as_str())
                            .map(str::to_string)
                    })
                    .collect();
            }
        }
    }
    ids
}

async fn handle(State(s): State<Arc<Server>>, method: Method, uri: Uri, body: Bytes) -> Response {
    use Scenario::*;
    let path = uri.path().to_string();
    match (method.as_str(), path.as_str()) {
        ("POST", "/v1/chat/completions") => {
            s.chat_hits.fetch_add(1, Ordering::SeqCst);
            match s.scenario {
                TruncatedJson => raw(
                    200,
                    "application/json",
                    r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"4"#,
                ),
                UsageWrongType => {
                    let mut v = completion("4");
                    v["usage"] = json!("lots");
                    json_response(200, v)
                }
                MissingUsage => {
                    let mut v = completion("4");
                    v.as_object_mut().unwrap().remove("usage");
                    json_response(200, v)
                }
                HtmlErrorPage502 => raw(502, "text/html", HTML_502),
                ErrorBodyIn200 => json_response(
                    200,
                    json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}}),
                ),
                InsufficientQuota429 => openai_error(
                    429,
                    "insufficient_quota",
                    Some("insufficient_quota"),
                    "You exceeded your current quota, please check your plan and billing details.",
                ),
                SseCutBeforeDone => {
                    let chunk = |delta: Value| {
                        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
                               "choices": [{"index": 0, "delta": delta, "finish_reason": null, "logprobs": null}]})
                    };
                    let body = format!(
                        "data: {}\n\ndata: {}\n\n",
                        chunk(json!({"role": "assistant", "content": ""})),
                        chunk(json!({"content": "4"}))
                    );
                    raw(200, "text/event-stream", body)
                }
                // Batch scenarios: this server does not answer ordinary requests (the re-asks of
                // the prompts the batch lost fail too, so the loss shows as failed prompts).
                _ => openai_error(
                    400,
                    "invalid_request_error",
                    None,
                    "this test server only serves batches",
                ),
            }
        }
        ("POST", "/v1/files") => {
            let ids = custom_ids_in(&body);
            *s.custom_ids.lock().unwrap() = ids;
            json_response(
                200,
                json!({"id": "file-in", "object": "file", "bytes": body.len(), "created_at": 0,
                                      "filename": "batchbench-input.jsonl", "purpose": "batch"}),
            )
        }
        ("POST", "/v1/batches") => json_response(
            200,
            batch_object("validating", s.custom_ids.lock().unwrap().len()),
        ),
        ("GET", "/v1/batches/batch_1") => json_response(
            200,
            batch_object("completed", s.custom_ids.lock().unwrap().len()),
        ),
        ("POST", "/v1/batches/batch_1/cancel") => json_response(200, batch_object("cancelling", 0)),
        ("GET", "/v1/files/file-out/content") => match s.scenario {
            UnknownCustomId => {
                let ids = s.custom_ids.lock().unwrap().clone();
                let mut lines: Vec<String> = ids
                    .iter()
                    .take(ids.len().saturating_sub(1))
                    .map(|id| {
                        json!({"id": "batch_req_1", "custom_id": id,
                               "response": {"status_code": 200, "request_id": "req_1", "body": completion("4")}, "error": null})
                        .to_string()
                    })
                    .collect();
                lines.push(
                    json!({"id": "batch_req_x", "custom_id": "r-unknown-999",
                           "response": {"status_code": 200, "request_id": "req_x", "body": completion("4")}, "error": null})
                    .to_string(),
                );
                raw(200, "application/octet-stream", lines.join("\n") + "\n")
            }
            _ => raw(200, "application/octet-stream", ""),
        },
        ("DELETE", p) if p.starts_with("/v1/files/") => json_response(
            200,
            json!({"id": p.trim_start_matches("/v1/files/"), "object": "file", "deleted": true}),
        ),
        ("POST", "/v1/messages") => {
            s.chat_hits.fetch_add(1, Ordering::SeqCst);
            match s.scenario {
                AnthropicMissingUsage => {
                    let mut v = message("4");
                    v.as_object_mut().unwrap().remove("usage");
                    json_response(200, v)
                }
                AnthropicUsageWrongType => {
                    let mut v = message("4");
                    v["usage"] = json!({"input_tokens": "many", "output_tokens": 1});
                    json_response(200, v)
                }
                AnthropicErrorBodyIn200 => json_response(
                    200,
                    json!({"type": "error", "error": {"type": "api_error", "message": "Internal server error"}, "request_id": "req_1"}),
                ),
                AnthropicHtmlErrorPage502 => raw(502, "text/html", HTML_502),
                _ => json_response(
                    400,
                    json!({"type": "error", "error": {"type": "invalid_request_error", "message": "this test server only serves batches"}}),
                ),
            }
        }
        ("POST", "/v1/messages/batches") => {
            *s.custom_ids.lock().unwrap() = custom_ids_in(&body);
            json_response(200, message_batch("in_progress"))
        }
        ("GET", "/v1/messages/batches/msgbatch_1") => json_response(200, message_batch("ended")),
        ("GET", "/v1/messages/batches/msgbatch_1/results") => raw(200, "application/x-jsonl", ""),
        ("POST", "/v1/messages/batches/msgbatch_1/cancel") => {
            json_response(200, message_batch("canceling"))
        }
        _ => openai_error(
            404,
            "invalid_request_error",
            None,
            &format!("no route {method} {path}"),
        ),
    }
}

/// The bad server, running on its own runtime until dropped.
struct BadServer {
    state: Arc<Server>,
    port: u16,
    _runtime: tokio::runtime::Runtime,
}

impl BadServer {
    fn start(scenario: Scenario) -> BadServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(Server {
            scenario,
            chat_hits: AtomicUsize::new(0),
            custom_ids: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        BadServer {
            state,
            port,
            _runtime: runtime,
        }
    }

    fn hits(&self) -> usize {
        self.state.chat_hits.load(Ordering::SeqCst)
    }
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs batchbench with a dummy key for both providers, at most `limit` long.
fn bb(args: &[String], limit: Duration) -> Out {
    let mut cmd = common::command(args);
    cmd.env("OPENAI_API_KEY", "sk-dummy-bad-server-test")
        .env("ANTHROPIC_API_KEY", "sk-ant-dummy-bad-server-test");
    let f = common::run_within(cmd, limit);
    Out {
        code: f.code,
        stdout: String::from_utf8_lossy(&f.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&f.stderr).into_owned(),
    }
}

/// Runs 3 prompts of the default dataset against the bad server.
fn run_against(server: &BadServer, provider: &str, out: &Path, extra: &[&str]) -> Out {
    let base = match provider {
        "openai" => format!("http://127.0.0.1:{}/v1", server.port),
        _ => format!("http://127.0.0.1:{}", server.port),
    };
    let mut args: Vec<String> = [
        "run",
        "--quiet",
        "--provider",
        provider,
        "--base-url",
        &base,
        "--limit",
        "3",
        "--poll-max",
        "0.2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(["--out".to_string(), out.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = bb(&args, Duration::from_secs(120));
    for text in [&o.stdout, &o.stderr] {
        assert!(
            !text.contains("panicked")
                && !text.contains("RUST_BACKTRACE")
                && !text.contains("stack backtrace"),
            "panic: {text}"
        );
    }
    o
}

fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .map(String::from)
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The run finished with every prompt reported failed (exit 1), and each failed request's error
/// in requests.csv is one line holding `needle`.
fn expect_failed_prompts(o: &Out, out: &Path, needle: &str) {
    assert_eq!(o.code, Some(1), "exit 1 expected; stderr: {}", o.stderr);
    if let Some(l) = o.stderr.lines().find(|l| l.starts_with("error:")) {
        panic!("failed prompts are reported, not a run error: {l}");
    }
    let prompts = csv_rows(&out.join("prompts.csv"));
    assert_eq!(prompts.len(), 3, "every prompt accounted for");
    assert!(
        prompts.iter().all(|p| p["status"] == "failed"),
        "{prompts:?}"
    );
    let requests = csv_rows(&out.join("requests.csv"));
    let errors: Vec<&String> = requests
        .iter()
        .map(|r| &r["error"])
        .filter(|e| !e.is_empty())
        .collect();
    assert!(
        !errors.is_empty(),
        "the failures are explained in requests.csv"
    );
    for e in &errors {
        assert!(!e.contains('\n'), "one line: {e:?}");
    }
    assert!(
        errors.iter().any(|e| e.contains(needle)),
        "expected {needle:?} among {errors:?}"
    );
}

/// The strategy failed with one clear `error:` line holding every needle (the run went on to
/// write its reports), exit 1.
fn expect_run_error(o: &Out, needles: &[&str]) {
    assert_eq!(o.code, Some(1), "exit 1 expected; stderr: {}", o.stderr);
    let errors: Vec<&str> = o
        .stderr
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {}", o.stderr);
    assert!(
        o.stderr.contains("--resume"),
        "the way to finish is named: {}",
        o.stderr
    );
    for n in needles {
        assert!(errors[0].contains(n), "expected {n:?} in {:?}", errors[0]);
    }
}

// ---------------------------------------------------------------------------------------------
// OpenAI shapes
// ---------------------------------------------------------------------------------------------

#[test]
fn openai_truncated_json() {
    let s = BadServer::start(Scenario::TruncatedJson);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(&s, "openai", d.path(), &["--strategies", "sequential"]);
    expect_failed_prompts(&o, d.path(), "invalid JSON in a 2xx response");
}

#[test]
fn openai_usage_wrong_type_lots() {
    let s = BadServer::start(Scenario::UsageWrongType);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(&s, "openai", d.path(), &["--strategies", "sequential"]);
    expect_failed_prompts(&o, d.path(), "not a chat.completion object");
}

#[test]
fn openai_missing_usage() {
    let s = BadServer::start(Scenario::MissingUsage);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(&s, "openai", d.path(), &["--strategies", "sequential"]);
    expect_failed_prompts(&o, d.path(), "no usage");
}

#[test]
fn openai_html_error_page_502_from_proxy() {
    let s = BadServer::start(Scenario::HtmlErrorPage502);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(
        &s,
        "openai",
        d.path(),
        &["--strategies", "sequential", "--max-retries", "1"],
    );
    expect_failed_prompts(&o, d.path(), "not a JSON body (text/html)");
    let requests = std::fs::read_to_string(d.path().join("requests.csv")).unwrap();
    assert!(
        requests.contains("502 Bad Gateway"),
        "the page's text is summarised: {requests}"
    );
    assert!(
        !requests.contains("<html>"),
        "the page's markup is not: {requests}"
    );
}

#[test]
fn openai_error_body_in_200() {
    let s = BadServer::start(Scenario::ErrorBodyIn200);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(&s, "openai", d.path(), &["--strategies", "sequential"]);
    expect_failed_prompts(&o, d.path(), "error body in a 2xx response");
}

#[test]
fn openai_empty_batch_output_file() {
    let s = BadServer::start(Scenario::EmptyBatchOutputFile);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(&s, "openai", d.path(), &["--strategies", "batch-api"]);
    expect_failed_prompts(&o, d.path(), "no result for this request in batch batch_1");
    let requests = csv_rows(&d.path().join("requests.csv"));
    let items: Vec<_> = requests
        .iter()
        .filter(|r| r["kind"] == "batch_item")
        .collect();
    assert_eq!(items.len(), 3, "{requests:?}");
    assert!(
        items
            .iter()
            .all(|r| r["cost_usd"].trim_start_matches(['0', '.', '$']).is_empty()),
        "nothing billed: {items:?}"
    );
}

#[test]
fn openai_batch_output_unknown_custom_id() {
    let s = BadServer::start(Scenario::UnknownCustomId);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(&s, "openai", d.path(), &["--strategies", "batch-api"]);
    expect_run_error(&o, &["r-unknown-999", "never sent"]);
}

#[test]
fn openai_sse_stream_cut_before_done() {
    let s = BadServer::start(Scenario::SseCutBeforeDone);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(
        &s,
        "openai",
        d.path(),
        &[
            "--strategies",
            "sequential",
            "--stream",
            "--max-retries",
            "1",
        ],
    );
    expect_failed_prompts(&o, d.path(), "stream ended before data: [DONE]");
}

#[test]
fn openai_429_insufficient_quota_stops_the_run() {
    let s = BadServer::start(Scenario::InsufficientQuota429);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(
        &s,
        "openai",
        d.path(),
        &["--strategies", "sequential,packed:2"],
    );
    expect_run_error(&o, &["quota"]);
    assert_eq!(
        s.hits(),
        1,
        "quota is not coming back: one request, no retry, no further prompts"
    );
}

// ---------------------------------------------------------------------------------------------
// Anthropic shapes
// ---------------------------------------------------------------------------------------------

#[test]
fn anthropic_missing_usage() {
    let s = BadServer::start(Scenario::AnthropicMissingUsage);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(&s, "anthropic", d.path(), &["--strategies", "sequential"]);
    expect_failed_prompts(&o, d.path(), "no usage");
}

#[test]
fn anthropic_usage_wrong_type() {
    let s = BadServer::start(Scenario::AnthropicUsageWrongType);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(&s, "anthropic", d.path(), &["--strategies", "sequential"]);
    expect_failed_prompts(&o, d.path(), "not a message object");
}

#[test]
fn anthropic_type_error_body_in_200() {
    let s = BadServer::start(Scenario::AnthropicErrorBodyIn200);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(&s, "anthropic", d.path(), &["--strategies", "sequential"]);
    expect_failed_prompts(&o, d.path(), "error body in a 2xx response");
}

#[test]
fn anthropic_html_error_page_502_from_proxy() {
    let s = BadServer::start(Scenario::AnthropicHtmlErrorPage502);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(
        &s,
        "anthropic",
        d.path(),
        &["--strategies", "sequential", "--max-retries", "1"],
    );
    expect_failed_prompts(&o, d.path(), "not a JSON body (text/html)");
}

#[test]
fn anthropic_empty_batch_results_file() {
    let s = BadServer::start(Scenario::AnthropicEmptyBatchResults);
    let d = tempfile::tempdir().unwrap();
    let o = run_against(&s, "anthropic", d.path(), &["--strategies", "batch-api"]);
    expect_failed_prompts(
        &o,
        d.path(),
        "no result for this request in batch msgbatch_1",
    );
}
