//! `estimate` against a measured `run` on the mock: given the run's output lengths
//! (`--from-run`), every strategy's estimated cost is within 1% of the measured one.

mod common;

use batchbench::estimate::{EstimateInput, OutputTokens, RunOutputs, estimate};
use batchbench::provider::ProviderKind;
use batchbench::report::StrategySummary;
use batchbench::report::csv::read_rows;
use batchbench::strategy::StrategySpec;
use common::{batchbench, repo, stderr};

#[test]
fn estimate_matches_the_measured_run_within_one_percent() {
    let strategies = "sequential,packed:8,batch-api,batch-api+packed:8";
    for (provider, dataset) in [
        ("openai", "datasets/default.jsonl"),
        ("anthropic", "datasets/default.jsonl"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().display().to_string();
        let o = batchbench(&[
            "run",
            "--quiet",
            "--time-scale",
            "0",
            "--provider",
            provider,
            "--mock",
            "--strategies",
            strategies,
            "--out",
            &out,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let measured: Vec<StrategySummary> = read_rows(&dir.path().join("summary.csv")).unwrap();
        let kind = if provider == "openai" {
            ProviderKind::Openai
        } else {
            ProviderKind::Anthropic
        };
        let model = kind.default_model().to_string();
        let mut input = EstimateInput::new(repo(dataset));
        input.models = vec![(model, kind)];
        input.strategies = StrategySpec::parse_list(strategies).unwrap();
        input.output = OutputTokens::FromRun(RunOutputs::load(dir.path()).unwrap());
        input.progress = false;
        let report = estimate(&input).unwrap();
        for est in &report.models[0].strategies {
            let m = measured
                .iter()
                .find(|s| s.strategy == est.strategy)
                .unwrap();
            let (e, r) = (est.cost_usd.as_usd(), m.cost_usd.as_usd());
            let off = (e - r).abs() / r;
            assert!(
                off <= 0.01,
                "{provider} {}: estimate ${e:.6} vs run ${r:.6} ({:.2}% off)",
                est.strategy,
                off * 100.0
            );
        }
    }
}
