//! Report generation on 10,000 hand-made prompt rows (5 strategies x 2,000 prompts): the CSV
//! exporters and the per-strategy summaries.

mod common;

use std::hint::black_box;

use batchbench::pricing::Nanodollars;
use batchbench::record::{PromptRecord, PromptStatus, RequestKind, RequestRecord};
use batchbench::report::csv::{PromptsCsv, RequestsCsv, SummaryCsv};
use batchbench::report::{Exporter, RunInfo, RunReport, summarise_all};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn rows() -> (Vec<PromptRecord>, Vec<RequestRecord>) {
    let strategies = [
        "sequential",
        "concurrent:8",
        "packed:8",
        "batch-api",
        "batch-api+packed:8",
    ];
    let mut prompts = Vec::new();
    let mut requests = Vec::new();
    for s in strategies {
        let k = if s.contains("packed") { 8 } else { 1 };
        for i in 0..2_000u64 {
            let request_id = format!("r{:06}", i / k + 1);
            prompts.push(PromptRecord {
                strategy: s.to_string(),
                prompt_id: format!("q{:06}", i + 1),
                request_id: request_id.clone(),
                request_prompts: k as u32,
                status: PromptStatus::Answered,
                reasked: i % 97 == 0,
                input_tokens: 60 + i % 17,
                cached_tokens: 0,
                cache_write_tokens: 0,
                output_tokens: 3 + i % 5,
                client_input_tokens: 60 + i % 17,
                cost_usd: Nanodollars(10_000 + i),
                batch_priced: s.starts_with("batch"),
                latency_ms: 100.0 + (i % 400) as f64,
                ttft_ms: None,
                answer: Some((i % 100).to_string()),
                gold: Some((i % 100).to_string()),
                correct: Some(i % 31 != 0),
                agrees_with_sequential: Some(i % 29 != 0),
                error: None,
                pack_position: None,
                vector_cosine: None,
                reasoning_tokens: 0,
            });
            if i % k == 0 {
                requests.push(RequestRecord {
                    strategy: s.to_string(),
                    request_id,
                    kind: RequestKind::Chat,
                    attempt: 1,
                    prompts: k as u32,
                    status: if i % 50 == 0 {
                        "429".into()
                    } else {
                        "200".into()
                    },
                    input_tokens: 60 * k,
                    cached_tokens: 0,
                    cache_write_tokens: 0,
                    output_tokens: 4 * k,
                    client_input_tokens: 60 * k,
                    cost_usd: Nanodollars(10_000 * k),
                    started_ms: i as f64,
                    latency_ms: 120.0,
                    ttft_ms: None,
                    server_id: Some(format!("req-{i}")),
                    error: None,
                    parse_failure: false,
                    extra_items: 0,
                    limit_rpm: None,
                    limit_tpm: None,
                    reasoning_tokens: 0,
                    asked_tier: None,
                    served_tier: None,
                    cache_ttl_s: None,
                });
            }
        }
    }
    (prompts, requests)
}

fn info() -> RunInfo {
    RunInfo {
        schema_version: 1,
        run_id: "bench".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        started_at: "2026-11-25T00:00:00Z".into(),
        seed: 1,
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        endpoint: "mock".into(),
        simulated: true,
        mock_time_scale: Some(0.0),
        dataset: "bench".into(),
        dataset_path: "bench.jsonl".into(),
        dataset_sha256: String::new(),
        prompts: 2_000,
        shard: None,
        strategies: vec![],
        answer_tokens: 64,
        price_source: "genai-prices".into(),
        price_data_sha256: None,
        price_overrides: None,
        tokenizer: "o200k_base".into(),
        options: Default::default(),
        warnings: vec![],
        economics: None,
        task: None,
        vector_tolerance: None,
        dimensions: None,
    }
}

fn bench(c: &mut Criterion) {
    let (prompts, requests) = rows();
    let report = RunReport::new(info(), prompts.clone(), requests.clone());
    let mut g = c.benchmark_group("report");
    g.throughput(Throughput::Elements(prompts.len() as u64));
    g.bench_function("prompts.csv 10,000 rows", |b| {
        b.iter(|| PromptsCsv.serialize(black_box(&report)))
    });
    g.bench_function("requests.csv", |b| {
        b.iter(|| RequestsCsv.serialize(black_box(&report)))
    });
    g.bench_function("summary.csv", |b| {
        b.iter(|| SummaryCsv.serialize(black_box(&report)))
    });
    g.bench_function("summarise_all 10,000 rows", |b| {
        b.iter(|| summarise_all(black_box(&prompts), black_box(&requests)))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::quick(); targets = bench }
criterion_main!(benches);
