//! The chat handler's per-request cost through the whole axum `Router` (frame, counting, auth,
//! body limit, handler) as a tower service, without sockets: one non-streamed chat completion,
//! and one packed request of 10 items with its JSON schema, at `time_scale = 0` and without
//! rate limits, so only handling is timed (routing, parsing, token counting, the oracle, usage,
//! serialisation). See benches/README.md for the numbers.

use std::hint::black_box;

use axum::body::Body;
use axum::http::Request;
use batchbench_core::items::pack_user_message;
use batchbench_mock::{InProcess, MockConfig, Oracle};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

fn chat(body: &[u8]) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/v1/chat/completions")
        .header("authorization", "Bearer k")
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
        .unwrap_or_default()
}

/// One answer read to the end, as a client would, so the body's serialisation is timed too.
async fn answer(mock: &InProcess, body: &[u8]) -> usize {
    let response = mock.call(chat(body)).await;
    assert_eq!(response.status(), 200);
    axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_or(0, |b| b.len())
}

fn packed_body(k: usize) -> Value {
    let items: Vec<(String, String)> = (0..k)
        .map(|i| (format!("q{i:06}"), format!("Is {} a prime number?", 10 + i)))
        .collect();
    let text = pack_user_message(items.iter().map(|(id, q)| (id.as_str(), q.as_str())));
    let properties: serde_json::Map<String, Value> = items
        .iter()
        .map(|(id, _)| (id.clone(), json!({"type": "string"})))
        .collect();
    let ids: Vec<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
    json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Answer with only the answer."},
                     {"role": "user", "content": text}],
        "max_completion_tokens": 400,
        "response_format": {"type": "json_schema", "json_schema": {"name": "answers", "strict": true,
            "schema": {"type": "object", "properties": properties, "required": ids,
                       "additionalProperties": false}}}
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let mut config = MockConfig {
        time_scale: 0.0,
        ..MockConfig::default()
    };
    config.rate_limits.rpm = None;
    config.rate_limits.tpm = None;
    let mock = InProcess::new(config, Oracle::empty());
    let single = json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Answer with only the answer."},
                     {"role": "user", "content": "A shop sold 40 balloons in the morning and 69 in the afternoon. How many balloons did it sell?"}],
        "max_completion_tokens": 16
    })
    .to_string()
    .into_bytes();
    let packed = packed_body(10).to_string().into_bytes();
    let mut g = c.benchmark_group("mock_handler");
    g.bench_function("chat_single", |b| {
        b.iter(|| rt.block_on(answer(&mock, black_box(&single))))
    });
    g.bench_function("chat_packed_10", |b| {
        b.iter(|| rt.block_on(answer(&mock, black_box(&packed))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
