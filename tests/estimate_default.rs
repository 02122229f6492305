//! `estimate` on the shipped datasets equals what `run`'s own planners would send, priced
//! request by request: every strategy and K, OpenAI and Anthropic models, both token counters.
//! (The run-versus-estimate check against the mock is added where `run` is callable.)

mod estimate_common;

use std::path::Path;

use batchbench::estimate::{self, CounterKind, default_strategies};
use batchbench::provider::ProviderKind;
use batchbench::strategy::StrategySpec;
use estimate_common::{expected, expected_with, got, input};

fn check(dataset: &str, model: &str, provider: ProviderKind, counter: CounterKind) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dataset);
    let mut strategies = default_strategies(&[1, 2, 4, 8, 16, 32]);
    strategies.push(StrategySpec::NaiveMultiMessage(4));
    let mut i = input(&path, model, provider, &strategies, 3);
    i.counter = counter;
    let report = estimate::estimate(&i).unwrap();
    let rows = &report.models[0].strategies;
    assert_eq!(rows.len(), strategies.len());
    for (spec, row) in strategies.iter().zip(rows) {
        assert_eq!(row.strategy, spec.to_string());
        let want = expected(&path, model, provider, *spec, 3);
        assert_eq!(got(row), want, "{dataset} {model} {spec} ({counter:?})");
    }
}

#[test]
fn default_dataset_gpt_4o_mini() {
    check(
        "datasets/default.jsonl",
        "gpt-4o-mini",
        ProviderKind::Openai,
        CounterKind::BpeOpenai,
    );
    check(
        "datasets/default.jsonl",
        "gpt-4o-mini",
        ProviderKind::Openai,
        CounterKind::Tiktoken,
    );
}

#[test]
fn long_context_gpt_4o_mini_caches() {
    check(
        "datasets/long-context.jsonl",
        "gpt-4o-mini",
        ProviderKind::Openai,
        CounterKind::BpeOpenai,
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/long-context.jsonl");
    let r = estimate::estimate(&input(
        &path,
        "gpt-4o-mini",
        ProviderKind::Openai,
        &[
            StrategySpec::Sequential,
            StrategySpec::Cached(batchbench::provider::CacheTtl::Default),
        ],
        3,
    ))
    .unwrap();
    let cached = &r.models[0].strategies[1];
    // The long instructions pass OpenAI's 1,024-token minimum: every request but the first reads.
    assert!(cached.cached_tokens > 0);
    assert_eq!(cached.cached_tokens % (r.prompts - 1), 0);
    assert!(
        cached.saving_vs_sequential_pct.unwrap() > 10.0,
        "{cached:?}"
    );
}

#[test]
fn cl100k_model_and_k_lowering() {
    check(
        "datasets/long-context.jsonl",
        "gpt-4",
        ProviderKind::Openai,
        CounterKind::BpeOpenai,
    );
    check(
        "datasets/default.jsonl",
        "gpt-4",
        ProviderKind::Openai,
        CounterKind::Tiktoken,
    );
    // gpt-4 has an 8,192-token context: with 300 output tokens allowed per answer, 32 packed
    // prompts do not fit, so K is lowered the way run lowers it.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/long-context.jsonl");
    for spec in [StrategySpec::Packed(32), StrategySpec::BatchApi(Some(32))] {
        let mut i = input(&path, "gpt-4", ProviderKind::Openai, &[spec], 3);
        i.answer_tokens = 300;
        let r = estimate::estimate(&i).unwrap();
        let row = &r.models[0].strategies[0];
        let (want, k) = expected_with(&path, "gpt-4", ProviderKind::Openai, spec, 3, 300);
        assert!(k < spec.batch_size(), "{spec}: K {k}");
        assert_eq!(row.prompts_per_request, k, "{spec}");
        assert_eq!(got(row), want, "{spec}");
        assert!(
            r.warnings.iter().any(|w| w.contains("lower K")),
            "{:?}",
            r.warnings
        );
    }
}

#[test]
fn anthropic_models() {
    check(
        "datasets/default.jsonl",
        "claude-haiku-4-5",
        ProviderKind::Anthropic,
        CounterKind::BpeOpenai,
    );
    // claude-sonnet-4-5 caches prefixes from 1,024 tokens: the long instructions are written once
    // at 1.25x and read by every later request.
    check(
        "datasets/long-context.jsonl",
        "claude-sonnet-4-5",
        ProviderKind::Anthropic,
        CounterKind::BpeOpenai,
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/long-context.jsonl");
    let r = estimate::estimate(&input(
        &path,
        "claude-sonnet-4-5",
        ProviderKind::Anthropic,
        &[StrategySpec::Cached(
            batchbench::provider::CacheTtl::Default,
        )],
        3,
    ))
    .unwrap();
    let row = &r.models[0].strategies[0];
    assert!(
        row.cache_write_tokens > 0 && row.cached_tokens == row.cache_write_tokens * (r.prompts - 1)
    );
    assert_eq!(r.models[0].token_counts, "estimate");
}

#[test]
fn several_models_in_one_pass() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/default.jsonl");
    let strategies = [
        StrategySpec::Sequential,
        StrategySpec::Packed(8),
        StrategySpec::BatchApi(Some(8)),
    ];
    let mut i = input(&path, "gpt-4o-mini", ProviderKind::Openai, &strategies, 3);
    i.models = vec![
        ("gpt-4o-mini".into(), ProviderKind::Openai),
        ("gpt-4".into(), ProviderKind::Openai),
        ("claude-haiku-4-5".into(), ProviderKind::Anthropic),
    ];
    let r = estimate::estimate(&i).unwrap();
    assert_eq!(r.models.len(), 3);
    for m in &r.models {
        let provider = if m.provider == "anthropic" {
            ProviderKind::Anthropic
        } else {
            ProviderKind::Openai
        };
        for (spec, row) in strategies.iter().zip(&m.strategies) {
            assert_eq!(
                got(row),
                expected(&path, &m.model, provider, *spec, 3),
                "{} {spec}",
                m.model
            );
        }
    }
}
