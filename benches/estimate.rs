//! `estimate` throughput on 10,000 generated prompts: sequential only, and the default
//! strategies (sizes 1..32), on both cores and on one.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use batchbench::estimate::{self, CounterKind, EstimateInput, OutputTokens};
use batchbench::pricing::Pricing;
use batchbench::strategy::StrategySpec;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("batchbench-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("10k.jsonl");
    let Ok(file) = std::fs::File::create(&path) else {
        return;
    };
    let mut w = std::io::BufWriter::new(file);
    if batchbench::dataset::synth::generate_to(&mut w, 10_000, 1).is_err() {
        return;
    }
    drop(w);
    let input = |strategies: Option<Vec<StrategySpec>>, threads: usize, counter: CounterKind| {
        let mut i = EstimateInput::new(&path);
        if let Some(s) = strategies {
            i.strategies = s;
        }
        i.threads = threads;
        i.counter = counter;
        i.output = OutputTokens::PerAnswer(4);
        i.pricing = Pricing::bundled(UNIX_EPOCH + Duration::from_secs(1_795_564_800));
        i
    };
    let mut g = c.benchmark_group("estimate 10k prompts");
    g.throughput(Throughput::Elements(10_000));
    g.sample_size(10);
    for (name, strategies) in [
        ("sequential", Some(vec![StrategySpec::Sequential])),
        ("default strategies", None),
    ] {
        for threads in [1, 2] {
            for counter in [CounterKind::BpeOpenai, CounterKind::Tiktoken] {
                let i = input(strategies.clone(), threads, counter);
                g.bench_function(
                    format!("{name}, {threads} thread(s), {}", counter.name()),
                    |b| b.iter(|| estimate::estimate(&i)),
                );
            }
        }
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! { name = benches; config = common::quick(); targets = bench }
criterion_main!(benches);
