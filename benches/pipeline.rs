//! The harness's own cost per prompt: one strategy's whole pipeline (plan → attempt → unpack →
//! grade → records) over the in-memory fake provider, so that no socket, server or network
//! time is in the figure and a regression in the pipeline shows without a load test; and what
//! the OpenAI wire adds to each attempt (the request body written, the reply read), which the
//! fake provider skips.

#[path = "../tests/common/fake_pipeline.rs"]
mod fake_pipeline;

use std::hint::black_box;

use batchbench::provider::ChatRequest;
use batchbench::provider::fake::FakeProvider;
use batchbench::provider::openai::{encode_request, parse_completion, read_completion};
use batchbench::strategy::StrategySpec;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const PROMPTS: usize = 256;

fn pipeline(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let set = fake_pipeline::prompts(PROMPTS);
    let pricing = fake_pipeline::pricing();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(PROMPTS as u64));
    for spec in [
        StrategySpec::Concurrent(64),
        StrategySpec::Packed(8),
        StrategySpec::BatchApi(None),
    ] {
        g.bench_function(format!("{spec}, {PROMPTS} prompts"), |b| {
            b.iter(|| {
                let runner =
                    fake_pipeline::runner(FakeProvider::new(fake_pipeline::responder(&[])));
                let run = rt.block_on(fake_pipeline::run(&runner, &pricing, &set, spec));
                black_box(run.prompts.len())
            })
        });
    }
    g.finish();
}

/// A request as `concurrent:C` sends one (shared instructions of about 1.3 KB, one prompt) and
/// a reply in the shape the mock and OpenAI send.
fn wire_request() -> ChatRequest {
    let system = "Answer the question with only the answer, no explanation. ".repeat(22);
    ChatRequest::new(
        "gpt-4o-mini",
        Some(&system),
        "A shop sold 40 balloons in the morning and 69 in the afternoon. How many balloons did it \
         sell?",
        64,
    )
}

const REPLY: &str = r#"{"id":"chatcmpl-Bx7kqN2v3T0Ybp1mJ8hW4sRfLc9Ae","object":"chat.completion","created":1795615143,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"109","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":352,"completion_tokens":2,"total_tokens":354,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_mock"}"#;

/// One attempt's wire work, without the socket: the body written, the 2xx reply read.
fn openai_wire(c: &mut Criterion) {
    let request = wire_request();
    let mut g = c.benchmark_group("openai_wire");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode request + read reply", |b| {
        b.iter(|| {
            let body = encode_request(black_box(&request), "http://127.0.0.1:1/v1");
            let reply = read_completion(black_box(REPLY.as_bytes()));
            black_box((body.len(), reply.map(|r| r.usage.input_tokens)))
        })
    });
    g.bench_function("read reply through a Value tree (before #17)", |b| {
        b.iter(|| {
            let tree: serde_json::Value =
                serde_json::from_slice(black_box(REPLY.as_bytes())).unwrap_or_default();
            black_box(parse_completion(&tree).map(|r| r.usage.input_tokens))
        })
    });
    g.bench_function("read reply", |b| {
        b.iter(|| {
            black_box(read_completion(black_box(REPLY.as_bytes())).map(|r| r.usage.input_tokens))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3))
        .sample_size(20);
    targets = pipeline, openai_wire
}
criterion_main!(benches);
