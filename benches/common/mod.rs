//! Shared by the benches: a short run of Criterion and hand-made data.

#![allow(dead_code)]

use std::time::Duration;

use criterion::Criterion;

/// Small enough to finish quickly: 1 s warm-up, 3 s of measurement, 20 samples.
pub fn quick() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

/// A short prompt (about 20 tokens) and a long one (about 2,000 tokens), from the synthetic generator.
pub fn texts() -> (String, String) {
    let prompts = batchbench::dataset::synth::generate(200, 1);
    let short = prompts[0].prompt.clone();
    let long: String = prompts
        .iter()
        .map(|p| p.prompt.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    (short, long)
}
