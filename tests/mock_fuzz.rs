//! Fuzzing the mock's router in-process (no sockets): 12,000 random methods, paths, headers and
//! bodies (random bytes, truncated and mutated valid requests). The mock must never panic, and
//! every error must come back in the shape of its provider.

use axum::body::Body;
use axum::http::Request;
use batchbench::mock::{InProcess, MockConfig, Oracle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

const PATHS: &[&str] = &[
    "/v1/chat/completions",
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/v1/messages/batches",
    "/v1/messages/batches/msgbatch_x",
    "/v1/messages/batches/msgbatch_x/results",
    "/v1/messages/batches/msgbatch_x/cancel",
    "/v1/files",
    "/v1/files/file-x",
    "/v1/files/file-x/content",
    "/v1/batches",
    "/v1/batches/batch_x",
    "/v1/batches/batch_x/cancel",
    "/v1/models",
    "/v1/models/gpt-4o",
    "/_mock/stats",
    "/_mock/inject",
    "/",
    "/v2/whatever",
    "/v1/chat/completions/extra",
    "/v1//messages",
];

fn templates() -> Vec<Value> {
    vec![
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is 2+2?"}], "max_completion_tokens": 5}),
        json!({"model": "gpt-4o-mini", "n": 2, "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "hi"}]}]}),
        json!({"model": "claude-haiku-4-5", "max_tokens": 5, "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "ttl": "1h"}}], "messages": [{"role": "user", "content": "hi"}]}),
        json!({"requests": [{"custom_id": "a", "params": {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}}]}),
        json!({"input_file_id": "file-x", "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
        json!({"fault": "500", "count": 1}),
    ]
}

fn random_value(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 2 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random_range(-5i64..100_000)),
        3 => json!(rng.random::<f64>() * 1e6 - 10.0),
        4 => json!(
            [
                "",
                "x",
                "gpt-4o",
                "claude-haiku-4-5",
                "user",
                "assistant",
                "text",
                "ephemeral",
                "<item id=\"a\">q</item>",
                "\u{0}\u{ffff}"
            ][rng.random_range(0..10)]
        ),
        5 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "model",
                "messages",
                "role",
                "content",
                "max_tokens",
                "n",
                "stream",
                "system",
                "type",
                "text",
                "requests",
                "custom_id",
                "params",
                "cache_control",
                "response_format",
                "stop",
            ];
            Value::Object(
                (0..rng.random_range(0..5))
                    .map(|_| {
                        (
                            keys[rng.random_range(0..keys.len())].to_string(),
                            random_value(rng, depth + 1),
                        )
                    })
                    .collect(),
            )
        }
    }
}

fn mutate(rng: &mut ChaCha8Rng, v: &mut Value) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let k = &keys[rng.random_range(0..keys.len())];
            match rng.random_range(0..3) {
                0 => {
                    map.remove(k);
                }
                1 => {
                    map.insert(k.clone(), random_value(rng, 0));
                }
                _ => {
                    if let Some(inner) = map.get_mut(k) {
                        mutate(rng, inner);
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = rng.random_range(0..a.len());
            mutate(rng, &mut a[i]);
        }
        other => *other = random_value(rng, 1),
    }
}

fn body(rng: &mut ChaCha8Rng, templates: &[Value]) -> Vec<u8> {
    match rng.random_range(0..4) {
        0 => (0..rng.random_range(0..200))
            .map(|_| rng.random::<u8>())
            .collect(),
        1 => {
            let t = templates[rng.random_range(0..templates.len())]
                .to_string()
                .into_bytes();
            let cut = rng.random_range(0..=t.len());
            t[..cut].to_vec()
        }
        2 => random_value(rng, 0).to_string().into_bytes(),
        _ => {
            let mut v = templates[rng.random_range(0..templates.len())].clone();
            for _ in 0..rng.random_range(1..4) {
                mutate(rng, &mut v);
            }
            v.to_string().into_bytes()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_never_panic_and_errors_keep_their_shape() {
    let mut config = MockConfig {
        time_scale: 0.0,
        ..MockConfig::default()
    };
    config.batch.validating_secs = 0.0;
    config.faults.rate_500 = 0.02;
    config.faults.rate_drop = 0.0;
    let mock = InProcess::new(config, Oracle::empty());
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let templates = templates();
    let started = std::time::Instant::now();
    let n = 12_000;
    for i in 0..n {
        let path = PATHS[rng.random_range(0..PATHS.len())];
        let method = ["GET", "POST", "DELETE", "PUT", "PATCH"][rng.random_range(0..5)];
        let query = [
            "",
            "?limit=2",
            "?limit=-1",
            "?after=x&limit=1000",
            "?before_id=x",
        ][rng.random_range(0..5)];
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{path}{query}"));
        match rng.random_range(0..5) {
            0 => {}
            1 => req = req.header("authorization", "Bearer k"),
            2 => {
                req = req
                    .header("x-api-key", "k")
                    .header("anthropic-version", "2023-06-01")
            }
            3 => req = req.header("x-api-key", "k"),
            _ => {
                req = req
                    .header("authorization", "Basic zzz")
                    .header("anthropic-version", "")
            }
        }
        if rng.random_bool(0.2) {
            req = req.header("content-type", "multipart/form-data; boundary=b");
        }
        let request = req.body(Body::from(body(&mut rng, &templates))).unwrap();
        let resp = mock.call(request).await;
        let status = resp.status().as_u16();
        assert!(
            matches!(status, 200 | 400 | 401 | 404 | 413 | 429 | 500 | 503 | 529),
            "request {i}: status {status}"
        );
        let is_sse = resp
            .headers()
            .get("content-type")
            .is_some_and(|c| c.to_str().unwrap_or("").starts_with("text/event-stream"));
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24).await;
        if status != 200 {
            let bytes = bytes.unwrap_or_else(|e| panic!("request {i}: error body unreadable: {e}"));
            let v: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("request {i}: error body is not JSON: {e}"));
            let openai = v["error"]["message"].is_string()
                && v["error"]["type"].is_string()
                && v["error"].get("code").is_some()
                && v["error"].get("param").is_some();
            let anthropic = v["type"] == "error"
                && v["error"]["type"].is_string()
                && v["error"]["message"].is_string()
                && v["request_id"].is_string();
            assert!(openai || anthropic, "request {i}: bad error shape {v}");
        } else if !is_sse {
            let bytes = bytes.unwrap_or_default();
            if path.ends_with("/content") || path.ends_with("/results") {
                continue;
            }
            assert!(
                serde_json::from_slice::<Value>(&bytes).is_ok(),
                "request {i}: 200 body is not JSON"
            );
        }
    }
    let stats = mock.stats();
    assert_eq!(stats["requests"], n);
    assert!(
        started.elapsed().as_secs() < 60,
        "fuzzing took {:?}",
        started.elapsed()
    );
}
