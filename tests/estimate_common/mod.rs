//! Shared by the `estimate_*` tests: what `run` would send, from the real planners, priced
//! request by request. The estimate must agree with it exactly.

#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use batchbench::dataset;
use batchbench::estimate::{
    EstimateInput, OutputTokens, anthropic_cache_min, openai_cached_tokens,
};
use batchbench::pricing::{Nanodollars, Pricing, model_limits};
use batchbench::provider::{ProviderKind, Usage};
use batchbench::strategy::{PlanContext, StrategySpec};
use batchbench::tokens::Tokenizer;

/// 2026-11-25T00:00:00Z.
pub fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_564_800)
}

/// Totals of one strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub requests: u64,
    pub input: u64,
    pub cached: u64,
    pub cache_write: u64,
    pub output: u64,
    pub cost: Nanodollars,
}

/// The estimate's input for one model with a fixed output length per answer.
pub fn input(
    path: &Path,
    model: &str,
    provider: ProviderKind,
    strategies: &[StrategySpec],
    per_answer: u64,
) -> EstimateInput {
    let mut i = EstimateInput::new(path);
    i.models = vec![(model.to_string(), provider)];
    i.strategies = strategies.to_vec();
    i.output = OutputTokens::PerAnswer(per_answer);
    i.pricing = Pricing::bundled(at());
    i.per_day = 1_000_000;
    i
}

/// What the planners of `run` produce for `spec`, priced request by request.
pub fn expected(
    path: &Path,
    model: &str,
    provider: ProviderKind,
    spec: StrategySpec,
    per_answer: u64,
) -> Totals {
    expected_with(path, model, provider, spec, per_answer, 64).0
}

/// [`expected`] with `run`'s `--answer-tokens`; also returns the K of the first request.
pub fn expected_with(
    path: &Path,
    model: &str,
    provider: ProviderKind,
    spec: StrategySpec,
    per_answer: u64,
    answer_tokens: u32,
) -> (Totals, usize) {
    let set = dataset::load(path, None).unwrap();
    let pricing = Pricing::bundled(at());
    let tokenizer = Tokenizer::for_model(model);
    let ctx = PlanContext {
        set: &set,
        provider,
        model,
        tokenizer,
        limits: model_limits(model, pricing.context_window(provider, model)),
        answer_tokens,
        stream: false,
        temperature: None,
        json_schema: true,
        reasoning_effort: None,
    };
    let strategy = spec.build();
    let plan = strategy.plan(&ctx).unwrap();
    let batch = matches!(spec, StrategySpec::BatchApi(_));
    let packed = matches!(
        spec,
        StrategySpec::Packed(_) | StrategySpec::BatchApi(Some(_))
    );
    // The cached prefix: OpenAI system message + user framing; Anthropic the system block.
    let instr = tokenizer.count(&set.instructions);
    let (read, write) = match provider {
        ProviderKind::Openai => (openai_cached_tokens(3 + 1 + instr + 3 + 1), 0),
        ProviderKind::Anthropic => {
            let p = 1 + instr;
            if p >= anthropic_cache_min(model) {
                (p, p)
            } else {
                (0, 0)
            }
        }
        ProviderKind::Gemini => {
            let min = batchbench::provider::gemini::caches::min_cache_tokens(model);
            if instr >= min { (instr, instr) } else { (0, 0) }
        }
    };
    let mut t = Totals::default();
    for (i, r) in plan.requests.iter().enumerate() {
        let output = if packed {
            2 + r
                .prompt_ids
                .iter()
                .map(|id| per_answer + tokenizer.count(id) + 6)
                .sum::<u64>()
        } else {
            per_answer
        };
        let mut usage = Usage {
            input_tokens: r.client_input_tokens,
            output_tokens: output,
            ..Usage::default()
        };
        if spec == StrategySpec::Cached(batchbench::provider::CacheTtl::Default)
            && provider == ProviderKind::Gemini
        {
            // One stored cache: every request reads it; the first carries its making.
            usage.cached_tokens = read;
            if i == 0 {
                usage.input_tokens += write;
                usage.cache_write_tokens = write;
            }
        } else if spec == StrategySpec::Cached(batchbench::provider::CacheTtl::Default) {
            if i == 0 {
                usage.cache_write_tokens = write;
            } else {
                usage.cached_tokens = read;
            }
        }
        t.requests += 1;
        t.input += usage.input_tokens;
        t.cached += usage.cached_tokens;
        t.cache_write += usage.cache_write_tokens;
        t.output += usage.output_tokens;
        t.cost += pricing.cost(provider, model, &usage, batch).unwrap();
    }
    (t, plan.requests[0].prompt_ids.len())
}

/// The estimate's totals of a row.
pub fn got(row: &batchbench::estimate::StrategyEstimate) -> Totals {
    Totals {
        requests: row.requests,
        input: row.input_tokens,
        cached: row.cached_tokens,
        cache_write: row.cache_write_tokens,
        output: row.output_tokens,
        cost: row.cost_usd,
    }
}
