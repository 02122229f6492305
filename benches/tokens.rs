//! Token counting: `tokens.rs` (tiktoken-rs) on short and long prompts, and the `bpe-openai`
//! counter `estimate` uses, on the same text.

mod common;

use std::hint::black_box;

use batchbench::estimate::{Counter, CounterKind};
use batchbench::tokens::{Encoding, Tokenizer};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let (short, long) = common::texts();
    let mut g = c.benchmark_group("tokens");
    for (name, text) in [("short", &short), ("long", &long)] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        let t = Tokenizer::for_model("gpt-4o-mini");
        let _ = t.count(text);
        g.bench_function(format!("tokens.rs count o200k {name}"), |b| {
            b.iter(|| t.count(black_box(text)))
        });
        let msgs = [("system", "Answer briefly."), ("user", text.as_str())];
        g.bench_function(format!("tokens.rs count_chat o200k {name}"), |b| {
            b.iter(|| t.count_chat(black_box(msgs)))
        });
        for enc in [Encoding::O200kBase, Encoding::Cl100kBase] {
            for kind in [CounterKind::Tiktoken, CounterKind::BpeOpenai] {
                let counter = Counter::new(kind, enc);
                let _ = counter.count(text);
                g.bench_function(format!("{} {} {name}", kind.name(), enc.name()), |b| {
                    b.iter(|| counter.count(black_box(text)))
                });
            }
        }
    }
    g.finish();
}

criterion_group! { name = benches; config = common::quick(); targets = bench }
criterion_main!(benches);
