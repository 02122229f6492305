//! The mock over loopback with reqwest: wire shapes, errors, streaming, caching, rate limits,
//! faults and both batch APIs, at time scale 0 (or small) so the whole file runs in seconds.

use std::net::SocketAddr;
use std::time::Duration;

use batchbench::dataset::{Prompt, PromptSet};
use batchbench::mock::{MockConfig, MockServer, Oracle};
use serde_json::{Value, json};

fn prompt_set(n: usize) -> PromptSet {
    let prompts = (0..n)
        .map(|i| Prompt {
            id: format!("q{i:03}"),
            prompt: format!("What is {i} plus {i}?"),
            answer: Some((2 * i).to_string()),
            task: Some("arithmetic".into()),
        })
        .collect();
    PromptSet {
        name: "t".into(),
        path: "t.jsonl".into(),
        sha256: String::new(),
        instructions: "Answer with a number.".into(),
        prompts,
    }
}

fn quiet() -> MockConfig {
    let mut c = MockConfig {
        time_scale: 0.0,
        ..MockConfig::default()
    };
    c.error_model.enabled = false;
    c
}

async fn start(config: MockConfig) -> MockServer {
    MockServer::start(
        config,
        Oracle::from_prompt_set(&prompt_set(40)),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn openai(
    s: &MockServer,
    path: &str,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = client()
        .post(format!("{}{path}", s.openai_base_url()))
        .bearer_auth("sk-test")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

async fn anthropic(
    s: &MockServer,
    path: &str,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = client()
        .post(format!("{}{path}", s.anthropic_base_url()))
        .header("x-api-key", "sk-ant-test")
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

fn chat_body(user: &str) -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "Answer with a number."}, {"role": "user", "content": user}], "max_completion_tokens": 50})
}

#[tokio::test]
async fn chat_completion_wire_shape_and_usage() {
    let s = start(quiet()).await;
    let (status, headers, v) =
        openai(&s, "/chat/completions", chat_body("What is 3 plus 3?")).await;
    assert_eq!(status, 200, "{v}");
    assert!(headers.get("x-request-id").is_some());
    assert!(headers.get("x-ratelimit-remaining-requests").is_some());
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["content"], "6");
    assert_eq!(v["choices"][0]["message"]["refusal"], Value::Null);
    assert_eq!(v["choices"][0]["logprobs"], Value::Null);
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let t = batchbench::tokens::Tokenizer::for_model("gpt-4o-mini");
    let expected = t.count_chat([
        ("system", "Answer with a number."),
        ("user", "What is 3 plus 3?"),
    ]);
    assert_eq!(v["usage"]["prompt_tokens"], expected);
    assert_eq!(v["usage"]["completion_tokens"], 1);
    assert_eq!(v["usage"]["total_tokens"], expected + 1);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(v["service_tier"], "default");
    // batchbench's own client parses it.
    let parsed = batchbench::provider::openai::parse_completion(&v).unwrap();
    assert_eq!(parsed.text, "6");
    // Several user messages get one answer, to the last; n gives n choices of it.
    let body = json!({"model": "gpt-4o-mini", "n": 3, "messages": [
        {"role": "user", "content": "What is 1 plus 1?"}, {"role": "user", "content": "What is 2 plus 2?"}]});
    let (_, _, v) = openai(&s, "/chat/completions", body).await;
    let choices = v["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 3);
    assert!(choices.iter().all(|c| c["message"]["content"] == "4"));
    // max_completion_tokens cuts the answer.
    let mut body = chat_body("Tell me a story about the sea.");
    body["max_completion_tokens"] = json!(2);
    let (_, _, v) = openai(&s, "/chat/completions", body).await;
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["completion_tokens"], 2);
    let stats = s.stats();
    assert_eq!(stats["endpoints"]["POST /v1/chat/completions"], 3);
    assert_eq!(stats["prompts_answered"]["q003"], 1);
    s.shutdown().await;
}

#[tokio::test]
async fn packed_requests_answer_by_item_id() {
    let s = start(quiet()).await;
    let msg = batchbench::packing::pack_user_message([
        ("q001", "What is 1 plus 1?"),
        ("q002", "What is 2 plus 2?"),
    ]);
    let (_, _, v) = openai(&s, "/chat/completions", chat_body(&msg)).await;
    let text = v["choices"][0]["message"]["content"].as_str().unwrap();
    let u = batchbench::packing::unpack(text, &["q001", "q002"]);
    assert_eq!(u.answers.get("q001").map(String::as_str), Some("2"));
    assert_eq!(u.answers.get("q002").map(String::as_str), Some("4"));
    s.shutdown().await;
}

#[tokio::test]
async fn errors_in_provider_shapes() {
    let mut cfg = quiet();
    cfg.api_key = Some("right".into());
    cfg.body_limit_bytes = 10_000;
    let s = start(cfg).await;
    let c = client();
    let url = format!("{}/chat/completions", s.openai_base_url());
    let r = c
        .post(&url)
        .bearer_auth("wrong")
        .json(&chat_body("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_api_key");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let r = c
        .post(&url)
        .bearer_auth("right")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let mut body = chat_body("x");
    body["model"] = json!("gpt-nonexistent");
    let r = c
        .post(&url)
        .bearer_auth("right")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let big = "x".repeat(20_000);
    let r = c
        .post(&url)
        .bearer_auth("right")
        .json(&chat_body(&big))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    // Anthropic: its own shape, anthropic-version required.
    let murl = format!("{}/v1/messages", s.anthropic_base_url());
    let body = json!({"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
    let r = c
        .post(&murl)
        .header("x-api-key", "wrong")
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get("request-id").is_some());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "authentication_error");
    assert!(v["request_id"].is_string());
    let r = c
        .post(&murl)
        .header("x-api-key", "right")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = c
        .post(&murl)
        .header("x-api-key", "right")
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "claude-haiku-4-5", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = c
        .get(format!("{}/batches/batch_nope", s.openai_base_url()))
        .bearer_auth("right")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = c
        .get(format!("{}/v1/nothing", s.anthropic_base_url()))
        .bearer_auth("right")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let stats: Value = c
        .get(format!("{}/_mock/stats", s.anthropic_base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["statuses"]["401"], 2);
    assert_eq!(stats["statuses"]["413"], 1);
    s.shutdown().await;
}

#[tokio::test]
async fn messages_wire_shape_and_cache() {
    let s = start(quiet()).await;
    let system = "Policy text. ".repeat(600);
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 20,
        "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "What is 5 plus 5?"}]});
    let (status, headers, v) = anthropic(&s, "/v1/messages", body.clone()).await;
    assert_eq!(status, 200, "{v}");
    assert!(headers.get("request-id").is_some());
    assert!(
        headers
            .get("anthropic-ratelimit-requests-remaining")
            .is_some()
    );
    assert!(v["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(v["type"], "message");
    assert_eq!(v["content"][0]["text"], "10");
    assert_eq!(v["stop_reason"], "end_turn");
    let t = batchbench::tokens::Tokenizer::for_model("claude-sonnet-4-5");
    let total = t.count_anthropic(Some(&system), ["What is 5 plus 5?"]);
    let prefix = 1 + t.count(&system);
    assert_eq!(v["usage"]["cache_creation_input_tokens"], prefix);
    assert_eq!(
        v["usage"]["cache_creation"]["ephemeral_5m_input_tokens"],
        prefix
    );
    assert_eq!(v["usage"]["cache_read_input_tokens"], 0);
    assert_eq!(v["usage"]["input_tokens"], total - prefix);
    assert_eq!(v["usage"]["service_tier"], "standard");
    let (_, _, v) = anthropic(&s, "/v1/messages", body.clone()).await;
    assert_eq!(v["usage"]["cache_read_input_tokens"], prefix);
    assert_eq!(v["usage"]["cache_creation_input_tokens"], 0);
    let parsed = batchbench::provider::anthropic::parse_message(&v).unwrap();
    assert_eq!(parsed.usage.input_tokens, total);
    let (_, _, v) = anthropic(
        &s,
        "/v1/messages/count_tokens",
        json!({"model": "claude-sonnet-4-5", "system": system, "messages": [{"role": "user", "content": "What is 5 plus 5?"}]}),
    )
    .await;
    assert_eq!(v["input_tokens"], total);
    s.shutdown().await;
}

#[tokio::test]
async fn openai_automatic_cache() {
    let s = start(quiet()).await;
    let system = "Shared instructions for every request. ".repeat(200);
    let body = |q: &str| json!({"model": "gpt-4o-mini", "messages": [{"role": "system", "content": system}, {"role": "user", "content": q}]});
    let (_, _, a) = openai(&s, "/chat/completions", body("What is 1 plus 1?")).await;
    assert_eq!(a["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    let (_, _, b) = openai(&s, "/chat/completions", body("What is 2 plus 2?")).await;
    let cached = b["usage"]["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap();
    let prompt = b["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(
        cached >= 1024 && (cached - 1024) % 128 == 0 && cached < prompt,
        "{cached} of {prompt}"
    );
    s.shutdown().await;
}

async fn sse_text(r: reqwest::Response) -> String {
    String::from_utf8_lossy(&r.bytes().await.unwrap()).into_owned()
}

#[tokio::test]
async fn streaming_both_providers() {
    let s = start(quiet()).await;
    let mut body = chat_body("What is 12 plus 12?");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let r = client()
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .bearer_auth("k")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = sse_text(r).await;
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let chunks: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "24");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["completion_tokens"], 1);
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    let body = json!({"model": "claude-haiku-4-5", "max_tokens": 20, "stream": true, "messages": [{"role": "user", "content": "What is 7 plus 7?"}]});
    let r = client()
        .post(format!("{}/v1/messages", s.anthropic_base_url()))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    let text = sse_text(r).await;
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    for n in [
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
    ] {
        assert!(names.contains(&n), "{n} missing in {names:?}");
    }
    assert!(text.contains("\"text\":\"14\""));
    s.shutdown().await;
}

#[tokio::test]
async fn streaming_timing_follows_the_profile() {
    let mut cfg = quiet();
    cfg.time_scale = 1.0;
    cfg.latency.profiles.insert(
        "gpt-4o-mini".into(),
        batchbench::mock::config::LatencyProfile {
            overhead_ms: 150.0,
            prefill_tps: 1e9,
            decode_tps: 20.0,
            jitter: 0.0,
        },
    );
    let s = start(cfg).await;
    let t0 = std::time::Instant::now();
    let (status, _, _) = openai(&s, "/chat/completions", chat_body("What is 3 plus 3?")).await;
    let took = t0.elapsed();
    assert_eq!(status, 200);
    // 150 ms overhead + 1 token at 50 ms. The lower bound is the model; the upper one only
    // catches a wildly wrong model and is loose because CI machines are shared.
    assert!(
        took >= Duration::from_millis(195) && took < Duration::from_millis(5000),
        "{took:?}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn rate_limits_and_injected_faults() {
    let mut cfg = quiet();
    cfg.rate_limits.rpm = Some(3);
    let s = start(cfg).await;
    for i in 0..3 {
        let (st, h, _) = openai(&s, "/chat/completions", chat_body("What is 1 plus 1?")).await;
        assert_eq!(st, 200);
        assert_eq!(h["x-ratelimit-limit-requests"], "3");
        assert_eq!(
            h["x-ratelimit-remaining-requests"].to_str().unwrap(),
            (2 - i).to_string()
        );
    }
    let (st, h, v) = openai(&s, "/chat/completions", chat_body("What is 1 plus 1?")).await;
    assert_eq!(st, 429);
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert_eq!(h["retry-after"], "20");
    assert_eq!(h["x-ratelimit-remaining-requests"], "0");
    s.shutdown().await;

    let s = start(quiet()).await;
    let inject = |f: &str, n: u64| {
        let url = format!("{}/_mock/inject", s.anthropic_base_url());
        let body = json!({"fault": f, "count": n});
        async move {
            client()
                .post(url)
                .bearer_auth("k")
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(inject("500", 1).await, 200);
    assert_eq!(inject("529", 1).await, 200);
    assert_eq!(openai(&s, "/chat/completions", chat_body("a")).await.0, 500);
    let (st, _, v) = anthropic(
        &s,
        "/v1/messages",
        json!({"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "a"}]}),
    )
    .await;
    assert_eq!(st, 529);
    assert_eq!(v["error"]["type"], "overloaded_error");
    assert_eq!(inject("drop", 1).await, 200);
    let r = client()
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .bearer_auth("k")
        .json(&chat_body("a"))
        .send()
        .await
        .unwrap();
    assert!(
        r.bytes().await.is_err(),
        "a dropped connection must fail the body read"
    );
    assert_eq!(inject("truncated_sse", 1).await, 200);
    let mut body = chat_body("What is 12 plus 12?");
    body["stream"] = json!(true);
    let r = client()
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .bearer_auth("k")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(!sse_text(r).await.contains("[DONE]"));
    assert_eq!(inject("bogus", 1).await, 400);
    let stats = s.stats();
    assert_eq!(stats["faults"]["500"], 1);
    assert_eq!(stats["faults"]["overloaded"], 1);
    assert_eq!(stats["faults"]["drop"], 1);
    assert_eq!(stats["faults"]["truncated_sse"], 1);
    s.shutdown().await;
}

async fn upload(s: &MockServer, text: String) -> String {
    let part = reqwest::multipart::Part::bytes(text.into_bytes()).file_name("in.jsonl");
    let form = reqwest::multipart::Form::new()
        .text("purpose", "batch")
        .part("file", part);
    let r = client()
        .post(format!("{}/files", s.openai_base_url()))
        .bearer_auth("k")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["object"], "file");
    v["id"].as_str().unwrap().to_string()
}

async fn get_json(s: &MockServer, path: &str) -> Value {
    client()
        .get(format!("{}{path}", s.openai_base_url()))
        .bearer_auth("k")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn poll_batch(s: &MockServer, id: &str, done: &[&str]) -> Value {
    for _ in 0..400 {
        let b = get_json(s, &format!("/batches/{id}")).await;
        if done.contains(&b["status"].as_str().unwrap_or_default()) {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("batch {id} did not finish");
}

fn line(custom_id: &str, body: Value) -> String {
    json!({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})
        .to_string()
}

#[tokio::test]
async fn openai_batch_lifecycle() {
    let s = start(quiet()).await;
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&line(
            &format!("c{i}"),
            chat_body(&format!("What is {i} plus {i}?")),
        ));
        text.push('\n');
    }
    let mut bad = chat_body("x");
    bad["n"] = json!(0);
    text.push_str(&line("bad", bad));
    text.push('\n');
    let file = upload(&s, text).await;
    let (st, _, b) = openai(
        &s,
        "/batches",
        json!({"input_file_id": file, "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["status"], "validating");
    assert!(b["id"].as_str().unwrap().starts_with("batch_"));
    let b = poll_batch(&s, b["id"].as_str().unwrap(), &["completed"]).await;
    assert_eq!(
        b["request_counts"],
        json!({"total": 21, "completed": 20, "failed": 1})
    );
    let out = client()
        .get(format!(
            "{}/files/{}/content",
            s.openai_base_url(),
            b["output_file_id"].as_str().unwrap()
        ))
        .bearer_auth("k")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 20);
    let order: Vec<&str> = lines
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    assert_ne!(
        order,
        (0..20)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        "output is shuffled"
    );
    for l in &lines {
        let r = batchbench::provider::openai::parse_batch_line(&l.to_string()).unwrap();
        let i: usize = r.custom_id[1..].parse().unwrap();
        assert_eq!(r.outcome.unwrap().text, (2 * i).to_string());
    }
    let err = client()
        .get(format!(
            "{}/files/{}/content",
            s.openai_base_url(),
            b["error_file_id"].as_str().unwrap()
        ))
        .bearer_auth("k")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let e: Value = serde_json::from_str(err.lines().next().unwrap()).unwrap();
    assert_eq!(e["custom_id"], "bad");
    assert_eq!(e["response"]["status_code"], 400);
    let list = get_json(&s, "/batches?limit=1").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let stats = s.stats();
    assert_eq!(stats["max_completions_per_custom_id"], 1);
    s.shutdown().await;
}

#[tokio::test]
async fn openai_batch_validation_failures() {
    let s = start(quiet()).await;
    let mut text = String::new();
    text.push_str(&line("a", chat_body("x")));
    text.push('\n');
    text.push_str("not json\n");
    text.push_str(&line("a", chat_body("y")));
    text.push('\n');
    let mut other = chat_body("z");
    other["model"] = json!("gpt-4o");
    text.push_str(&line("b", other));
    text.push('\n');
    let mut unknown = chat_body("z");
    unknown["model"] = json!("gpt-unknown");
    text.push_str(&line("c", unknown));
    text.push('\n');
    let file = upload(&s, text).await;
    let (_, _, b) = openai(
        &s,
        "/batches",
        json!({"input_file_id": file, "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
    )
    .await;
    let b = poll_batch(&s, b["id"].as_str().unwrap(), &["failed"]).await;
    let errors = b["errors"]["data"].as_array().unwrap();
    let codes: Vec<(&str, u64)> = errors
        .iter()
        .map(|e| (e["code"].as_str().unwrap(), e["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("invalid_json_line", 2),
            ("duplicate_custom_id", 3),
            ("mismatched_model", 4),
            ("model_not_found", 5)
        ]
    );
    assert!(b["failed_at"].is_i64());
    s.shutdown().await;
}

#[tokio::test]
async fn openai_batch_cancel_and_expiry() {
    let mut cfg = quiet();
    cfg.time_scale = 0.01;
    cfg.batch.validating_secs = 5.0;
    cfg.batch.per_request_ms = 1_000.0;
    let s = start(cfg).await;
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&line(
            &format!("c{i}"),
            chat_body(&format!("What is {i} plus {i}?")),
        ));
        text.push('\n');
    }
    let file = upload(&s, text.clone()).await;
    let (_, _, b) = openai(
        &s,
        "/batches",
        json!({"input_file_id": file, "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
    )
    .await;
    let id = b["id"].as_str().unwrap().to_string();
    // Wait until some requests ran, then cancel.
    for _ in 0..200 {
        if get_json(&s, &format!("/batches/{id}")).await["request_counts"]["completed"]
            .as_u64()
            .unwrap_or(0)
            >= 3
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (st, _, c) = openai(&s, &format!("/batches/{id}/cancel"), json!({})).await;
    assert_eq!(st, 200);
    assert_eq!(c["status"], "cancelling");
    let b = poll_batch(&s, &id, &["cancelled"]).await;
    let done = b["request_counts"]["completed"].as_u64().unwrap();
    assert!((3..30).contains(&done), "{b}");
    assert_eq!(b["request_counts"]["failed"].as_u64().unwrap(), 30 - done);
    let err = client()
        .get(format!(
            "{}/files/{}/content",
            s.openai_base_url(),
            b["error_file_id"].as_str().unwrap()
        ))
        .bearer_auth("k")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(err.lines().all(|l| l.contains("batch_cancelled")));
    s.shutdown().await;

    let mut cfg = quiet();
    cfg.batch.completion_window_secs = Some(1.0 + 2.5);
    cfg.batch.per_request_ms = 200.0; // 30 requests: 6 s of processing, the window allows 2.5 s
    let s = start(cfg).await;
    let file = upload(&s, text).await;
    let (_, _, b) = openai(
        &s,
        "/batches",
        json!({"input_file_id": file, "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
    )
    .await;
    let b = poll_batch(&s, b["id"].as_str().unwrap(), &["expired"]).await;
    assert_eq!(
        b["request_counts"],
        json!({"total": 30, "completed": 12, "failed": 18})
    );
    let err = client()
        .get(format!(
            "{}/files/{}/content",
            s.openai_base_url(),
            b["error_file_id"].as_str().unwrap()
        ))
        .bearer_auth("k")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        err.lines().filter(|l| l.contains("batch_expired")).count(),
        18
    );
    s.shutdown().await;
}

#[tokio::test]
async fn anthropic_message_batches() {
    let s = start(quiet()).await;
    let requests: Vec<Value> = (0..10)
        .map(|i| json!({"custom_id": format!("r-{i}"), "params": {"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": format!("What is {i} plus {i}?")}]}}))
        .chain(std::iter::once(json!({"custom_id": "bad", "params": {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "x"}]}})))
        .collect();
    let (st, _, b) = anthropic(&s, "/v1/messages/batches", json!({"requests": requests})).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["type"], "message_batch");
    let id = b["id"].as_str().unwrap().to_string();
    let mut ended = Value::Null;
    for _ in 0..400 {
        let r = client()
            .get(format!(
                "{}/v1/messages/batches/{id}",
                s.anthropic_base_url()
            ))
            .header("x-api-key", "k")
            .header("anthropic-version", "2023-06-01")
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        if v["processing_status"] == "ended" {
            ended = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        ended["request_counts"],
        json!({"processing": 0, "succeeded": 10, "errored": 1, "canceled": 0, "expired": 0})
    );
    let url = ended["results_url"].as_str().unwrap();
    let text = client()
        .get(url)
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut ok = 0;
    for l in text.lines() {
        let r = batchbench::provider::anthropic::parse_result_line(l).unwrap();
        if let Ok(resp) = r.outcome {
            let i: usize = r.custom_id[2..].parse().unwrap();
            assert_eq!(resp.text, (2 * i).to_string());
            ok += 1;
        }
    }
    assert_eq!(ok, 10);
    assert!(text.contains("\"service_tier\":\"batch\""));
    // Duplicate custom ids are refused at creation.
    let dup =
        json!({"requests": [{"custom_id": "a", "params": {}}, {"custom_id": "a", "params": {}}]});
    assert_eq!(anthropic(&s, "/v1/messages/batches", dup).await.0, 400);
    let r = client()
        .delete(format!(
            "{}/v1/messages/batches/{id}",
            s.anthropic_base_url()
        ))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    s.shutdown().await;
}

#[test]
fn example_config_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mock.example.toml");
    let c = MockConfig::load(&path).unwrap();
    assert_eq!(c.seed, 42);
    assert_eq!(c.error_model.task_difficulty.get("arithmetic"), Some(&1.3));
}
