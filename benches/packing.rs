//! Packing K prompts into one user message and unpacking a JSON answer by id, K = 8 and 32.

mod common;

use std::hint::black_box;

use batchbench::packing;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let prompts = batchbench::dataset::synth::generate(32, 1);
    let mut g = c.benchmark_group("packing");
    for k in [8usize, 32] {
        let items: Vec<(&str, &str)> = prompts[..k]
            .iter()
            .map(|p| (p.id.as_str(), p.prompt.as_str()))
            .collect();
        let ids: Vec<&str> = items.iter().map(|(id, _)| *id).collect();
        let answer = serde_json::to_string(
            &prompts[..k]
                .iter()
                .map(|p| {
                    (
                        p.id.clone(),
                        serde_json::Value::String(p.answer.clone().unwrap_or_default()),
                    )
                })
                .collect::<serde_json::Map<String, serde_json::Value>>(),
        )
        .unwrap_or_default();
        g.throughput(Throughput::Elements(k as u64));
        g.bench_function(format!("pack_user_message K={k}"), |b| {
            b.iter(|| packing::pack_user_message(black_box(items.iter().copied())))
        });
        g.bench_function(format!("answer_schema K={k}"), |b| {
            b.iter(|| packing::answer_schema(black_box(ids.iter().copied())))
        });
        g.bench_function(format!("unpack K={k}"), |b| {
            b.iter(|| packing::unpack(black_box(&answer), black_box(&ids)))
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = common::quick(); targets = bench }
criterion_main!(benches);
