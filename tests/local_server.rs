//! A self-hosted OpenAI-compatible server as a client meets it (facts in
//! ../shared/REAL-MODEL.md): `POST /tokenize` as llama.cpp has it, packed answers in a markdown
//! fence with the ids in another case, and — as Ollama and older vLLM do — a 400 naming
//! `response_format` for `json_schema`. The server is a tiny axum app on 127.0.0.1 inside the
//! test. Packed runs must fall back to instructed JSON with one warning, unpack every answer,
//! and count tokens through the server under `--tokenizer server`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Default)]
struct Hits {
    schema_refusals: AtomicUsize,
    tokenize: AtomicUsize,
    chats: AtomicUsize,
}

struct Server {
    hits: Arc<Hits>,
    port: u16,
    has_tokenize: bool,
    _runtime: tokio::runtime::Runtime,
}

fn json_response(status: u16, v: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// Item ids of a packed user message (`<item id="…">`).
fn item_ids(text: &str) -> Vec<String> {
    text.split("<item id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// One token per whitespace-separated word: easy to tell from o200k counts.
fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

async fn handle(
    State((hits, has_tokenize)): State<(Arc<Hits>, bool)>,
    uri: Uri,
    body: axum::body::Bytes,
) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match uri.path() {
        "/tokenize" if has_tokenize => {
            hits.tokenize.fetch_add(1, Ordering::SeqCst);
            let n = word_count(v["content"].as_str().unwrap_or_default());
            json_response(200, json!({"tokens": vec![1; n]}))
        }
        "/v1/chat/completions" => {
            if v["response_format"]["type"] == "json_schema" {
                hits.schema_refusals.fetch_add(1, Ordering::SeqCst);
                return json_response(
                    400,
                    json!({"error": {"message": "'response_format.type' must be 'json_object' or 'text'",
                                     "type": "invalid_request_error", "param": "response_format"}}),
                );
            }
            hits.chats.fetch_add(1, Ordering::SeqCst);
            let user = v["messages"]
                .as_array()
                .and_then(|m| m.last())
                .and_then(|m| m["content"].as_str())
                .unwrap_or_default()
                .to_string();
            let ids = item_ids(&user);
            let text = if ids.is_empty() {
                "**42**".to_string()
            } else {
                let pairs: Vec<String> = ids
                    .iter()
                    .map(|id| format!("\"{}\": {{\"answer\": \"42\"}}", id.to_uppercase()))
                    .collect();
                format!(
                    "Sure, here are the answers:\n```json\n{{{}}}\n```",
                    pairs.join(", ")
                )
            };
            json_response(
                200,
                json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "local",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}}),
            )
        }
        _ => json_response(
            404,
            json!({"error": {"code": 404, "message": "File Not Found"}}),
        ),
    }
}

impl Server {
    fn start(has_tokenize: bool) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let hits = Arc::new(Hits::default());
        let app = Router::new()
            .fallback(handle)
            .with_state((hits.clone(), has_tokenize));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Server {
            hits,
            port,
            has_tokenize,
            _runtime: runtime,
        }
    }

    fn run(&self, out: &std::path::Path, extra: &[&str]) -> common::Finished {
        let base = format!("http://127.0.0.1:{}/v1", self.port);
        let mut args: Vec<String> = [
            "run",
            "--quiet",
            "--provider",
            "openai",
            "--base-url",
            &base,
            "--model",
            "local-model",
            "--limit",
            "6",
            "--strategies",
            "sequential,packed:3",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let prices = out.with_extension("prices.toml");
        std::fs::write(
            &prices,
            "[models.\"local-model\"]\ninput_mtok = 0.10\noutput_mtok = 0.40\n",
        )
        .unwrap();
        args.extend(["--out".to_string(), out.display().to_string()]);
        args.extend(["--prices".to_string(), prices.display().to_string()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut cmd = common::command(&args);
        cmd.env("OPENAI_API_KEY", "sk-dummy-local-server-test");
        let f = common::run_within(cmd, Duration::from_secs(120));
        assert!(
            self.has_tokenize || self.hits.tokenize.load(Ordering::SeqCst) == 0,
            "no tokenize hits without the endpoint"
        );
        f
    }
}

fn csv_rows(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
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

fn warnings(stderr: &str, needle: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.starts_with("warning:") && l.contains(needle))
        .count()
}

#[test]
fn refused_json_schema_falls_back_once_and_tokens_come_from_the_server() {
    let server = Server::start(true);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let f = server.run(&out, &["--tokenizer", "server"]);
    let stderr = String::from_utf8_lossy(&f.stderr).into_owned();
    assert_eq!(f.code, Some(0), "{stderr}");
    assert_eq!(
        server.hits.schema_refusals.load(Ordering::SeqCst),
        1,
        "json_schema is tried once, then left out"
    );
    assert_eq!(
        warnings(&stderr, "response_format: json_schema"),
        1,
        "{stderr}"
    );
    let prompts = csv_rows(&out.join("prompts.csv"));
    let packed: Vec<_> = prompts
        .iter()
        .filter(|p| p["strategy"] == "packed:3")
        .collect();
    assert_eq!(packed.len(), 6);
    assert!(
        packed
            .iter()
            .all(|p| p["answer"] == "42" && p["status"] == "answered"),
        "{packed:?}"
    );
    // Client-side counts came from the server's /tokenize (one token per word here), so they
    // are far below o200k's for the same text, and every request's count was asked for.
    assert!(server.hits.tokenize.load(Ordering::SeqCst) > 0);
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let label = run["tokenizer"].as_str().unwrap();
    assert!(
        label.starts_with("server (llama.cpp http://127.0.0.1:"),
        "{label}"
    );
}

#[test]
fn a_server_without_tokenize_falls_back_with_a_clear_message() {
    let server = Server::start(false);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let f = server.run(&out, &["--tokenizer", "server"]);
    let stderr = String::from_utf8_lossy(&f.stderr).into_owned();
    assert_eq!(f.code, Some(0), "{stderr}");
    assert_eq!(
        warnings(
            &stderr,
            "--tokenizer server: the server has no usable tokenize endpoint"
        ),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("/tokenize: HTTP 404"), "{stderr}");
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(
        run["tokenizer"]
            .as_str()
            .unwrap()
            .starts_with("o200k_base (estimate"),
        "{run}"
    );
}
