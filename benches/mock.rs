//! The mock's request handling, without sockets: one OpenAI chat completion (single prompt and
//! packed K = 8) and one Anthropic message through the same dispatch the server uses, at
//! `time_scale = 0` so only handling is timed (parsing, token counting, the oracle, usage,
//! serialisation).

use std::hint::black_box;

use axum::body::Body;
use axum::http::Request;
use batchbench::mock::{InProcess, MockConfig, Oracle};
use criterion::{Criterion, criterion_group, criterion_main};

fn chat(body: &serde_json::Value) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/v1/chat/completions")
        .header("authorization", "Bearer k")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let mut config = MockConfig {
        time_scale: 0.0,
        ..MockConfig::default()
    };
    config.rate_limits.rpm = None;
    config.rate_limits.tpm = None;
    let mock = InProcess::new(config, Oracle::empty());
    let single = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Answer with only the answer."},
                     {"role": "user", "content": "A shop sold 40 balloons in the morning and 69 in the afternoon. How many balloons did it sell?"}],
        "max_completion_tokens": 16
    });
    let items: Vec<(String, String)> = (0..8)
        .map(|i| (format!("q{i:06}"), format!("Is {} a prime number?", 10 + i)))
        .collect();
    let packed_text =
        batchbench::packing::pack_user_message(items.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let packed = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Answer with only the answer."}, {"role": "user", "content": packed_text}],
        "max_completion_tokens": 200,
        "response_format": {"type": "json_schema", "json_schema": {"name": "answers", "strict": true,
            "schema": batchbench::packing::answer_schema(items.iter().map(|(a, _)| a.as_str()))}}
    });
    let message = serde_json::json!({
        "model": "claude-haiku-4-5", "max_tokens": 16,
        "messages": [{"role": "user", "content": "Is 7 a prime number?"}]
    });
    let mut g = c.benchmark_group("mock");
    g.bench_function("openai_chat_single", |b| {
        b.iter(|| rt.block_on(mock.call(chat(black_box(&single)))))
    });
    g.bench_function("openai_chat_packed_8", |b| {
        b.iter(|| rt.block_on(mock.call(chat(black_box(&packed)))))
    });
    g.bench_function("anthropic_message", |b| {
        b.iter(|| {
            let req = Request::builder()
                .method("POST")
                .uri("/v1/messages")
                .header("x-api-key", "k")
                .header("anthropic-version", "2023-06-01")
                .header("content-type", "application/json")
                .body(Body::from(message.to_string()))
                .unwrap_or_default();
            rt.block_on(mock.call(black_box(req)))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
