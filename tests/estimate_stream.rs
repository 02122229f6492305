//! `estimate` streams: 5,000 generated prompts give the same totals whatever the thread count,
//! with packed groups that straddle chunks (K = 7, 17 and 150: no common chunk multiple below 16,384) and
//! a partial last group, and equal to `run`'s planners. The 1,000,000-prompt memory check is
//! `benches/estimate_scale.sh` (too slow for the default test run).

mod estimate_common;

use batchbench::dataset::synth;
use batchbench::estimate;
use batchbench::provider::ProviderKind;
use batchbench::strategy::StrategySpec;
use estimate_common::{expected, got, input};

#[test]
fn five_thousand_prompts_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gen.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    synth::generate_to(&mut f, 5_000, 7).unwrap();
    drop(f);
    let strategies = [
        StrategySpec::Cached(batchbench::provider::CacheTtl::Default),
        StrategySpec::Packed(7),
        StrategySpec::BatchApi(Some(150)),
        StrategySpec::NaiveMultiMessage(17),
    ];
    let mut reports = Vec::new();
    for threads in [1, 2] {
        let mut i = input(&path, "gpt-4o-mini", ProviderKind::Openai, &strategies, 4);
        i.threads = threads;
        reports.push(estimate::estimate(&i).unwrap());
    }
    assert_eq!(reports[0].prompts, 5_000);
    assert_eq!(reports[0].models, reports[1].models);
    for (spec, row) in strategies.iter().zip(&reports[0].models[0].strategies) {
        assert_eq!(
            got(row),
            expected(&path, "gpt-4o-mini", ProviderKind::Openai, *spec, 4),
            "{spec}"
        );
    }
    let rows = &reports[0].models[0].strategies;
    assert_eq!(rows[1].requests, 715);
    assert_eq!(rows[2].requests, 34);
    assert_eq!(rows[3].requests, 295);
}
