//! The harness's own cost per prompt: one strategy's whole pipeline (plan → attempt → unpack →
//! grade → records) over the in-memory fake provider, so that no socket, server or network
//! time is in the figure and a regression in the pipeline shows without a load test.

#[path = "../tests/common/fake_pipeline.rs"]
mod fake_pipeline;

use std::hint::black_box;

use batchbench::provider::fake::FakeProvider;
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

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3))
        .sample_size(20);
    targets = pipeline
}
criterion_main!(benches);
