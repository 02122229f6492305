//! Cost arithmetic: `Pricing::cost` for one request (genai-prices, bundled data), standard,
//! batch and cached, OpenAI and Anthropic; and a price-table override.

mod common;

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use batchbench::pricing::{Overrides, Pricing};
use batchbench::provider::{ProviderKind, Usage};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let at = UNIX_EPOCH + Duration::from_secs(1_795_564_800);
    let pricing = Pricing::bundled(at);
    let usage = Usage {
        input_tokens: 1_234,
        output_tokens: 56,
        ..Usage::default()
    };
    let cached = Usage {
        input_tokens: 3_000,
        cached_tokens: 2_048,
        output_tokens: 56,
        ..Usage::default()
    };
    let write = Usage {
        input_tokens: 5_000,
        cache_write_tokens: 4_100,
        output_tokens: 56,
        ..Usage::default()
    };
    let mut g = c.benchmark_group("pricing");
    g.bench_function("cost gpt-4o-mini", |b| {
        b.iter(|| {
            pricing.cost(
                ProviderKind::Openai,
                "gpt-4o-mini",
                black_box(&usage),
                false,
            )
        })
    });
    g.bench_function("cost gpt-4o-mini batch", |b| {
        b.iter(|| pricing.cost(ProviderKind::Openai, "gpt-4o-mini", black_box(&usage), true))
    });
    g.bench_function("cost gpt-4o-mini cached", |b| {
        b.iter(|| {
            pricing.cost(
                ProviderKind::Openai,
                "gpt-4o-mini",
                black_box(&cached),
                false,
            )
        })
    });
    g.bench_function("cost claude-haiku-4-5 cache write", |b| {
        b.iter(|| {
            pricing.cost(
                ProviderKind::Anthropic,
                "claude-haiku-4-5",
                black_box(&write),
                false,
            )
        })
    });
    if let Ok(o) = Overrides::parse(
        "[models.my-model]\ninput_mtok = 1.0\noutput_mtok = 2.0\n",
        "bench",
    ) {
        let p = Pricing::bundled(at).with_overrides(o, "bench");
        g.bench_function("cost override", |b| {
            b.iter(|| p.cost(ProviderKind::Openai, "my-model", black_box(&usage), false))
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = common::quick(); targets = bench }
criterion_main!(benches);
