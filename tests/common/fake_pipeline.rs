//! One strategy's whole pipeline (plan → execute → unpack → re-ask → grade → records) over the
//! in-memory [`FakeProvider`]: no sockets, no mock server. Shared by `tests/pipeline.rs` and
//! `benches/pipeline.rs`.

// The responder returns the crate's `CallError`, large by design (see src/lib.rs).
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use batchbench::bench::{self, BenchContext, StrategyRun};
use batchbench::dataset::{Prompt, PromptSet};
use batchbench::packing::parse_items;
use batchbench::pricing::{Pricing, model_limits};
use batchbench::provider::fake::FakeProvider;
use batchbench::provider::{CallError, ChatRequest, ChatResponse, ProviderKind};
use batchbench::runner::batch::PollConfig;
use batchbench::runner::progress::Progress;
use batchbench::runner::{RetryPolicy, Runner};
use batchbench::strategy::{PlanContext, StrategySpec};
use batchbench::tokens::Tokenizer;

/// The model every case prices with.
pub const MODEL: &str = "gpt-4o-mini";

/// `n` prompts `p0..`, each with the gold answer `yes`.
pub fn prompts(n: usize) -> PromptSet {
    PromptSet {
        name: "fake".into(),
        path: "fake.jsonl".into(),
        sha256: "0".repeat(64),
        instructions: "Answer yes or no.".into(),
        prompts: (0..n)
            .map(|i| Prompt {
                id: format!("p{i}"),
                prompt: format!("Is {i} a number?"),
                answer: Some("yes".into()),
                task: None,
            })
            .collect(),
    }
}

/// Answers `yes` to everything: a single prompt with 10 input and 1 output tokens, a packed
/// request with a JSON object holding every item but those `drop` names (10 input tokens per
/// item, 3 output tokens per answered item).
pub fn responder(
    drop: &'static [&'static str],
) -> impl Fn(&ChatRequest, usize) -> Result<ChatResponse, CallError> + Send + Sync + 'static {
    move |request: &ChatRequest, _| {
        let user = request.messages.last().map_or("", |m| m.content.as_str());
        let items = parse_items(user);
        if items.is_empty() {
            return Ok(FakeProvider::answer("yes", 10, 1));
        }
        let answers: serde_json::Map<String, serde_json::Value> = items
            .iter()
            .filter(|(id, _)| !drop.contains(&id.as_str()))
            .map(|(id, _)| (id.clone(), "yes".into()))
            .collect();
        let text = serde_json::Value::Object(answers.clone()).to_string();
        Ok(FakeProvider::answer(
            &text,
            10 * items.len() as u64,
            3 * answers.len() as u64,
        ))
    }
}

/// A runner over `fake`, with millisecond retry waits.
pub fn runner(fake: FakeProvider) -> Runner {
    let fake = Arc::new(fake);
    let retry = RetryPolicy {
        base: std::time::Duration::from_millis(1),
        max_backoff: std::time::Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    Runner::over(fake.clone(), fake, retry, Instant::now(), 42)
}

/// Runs one strategy of `set` through the pipeline over `runner`.
pub async fn run(
    runner: &Runner,
    pricing: &Pricing,
    set: &PromptSet,
    spec: StrategySpec,
) -> StrategyRun {
    run_model(runner, pricing, set, spec, MODEL).await
}

/// [`run`] priced as another OpenAI model (the tier cases need one with flex and priority
/// rates; the bench does not use it).
#[allow(dead_code)]
pub async fn run_model(
    runner: &Runner,
    pricing: &Pricing,
    set: &PromptSet,
    spec: StrategySpec,
    model: &str,
) -> StrategyRun {
    let ctx = BenchContext {
        plan: PlanContext {
            set,
            provider: ProviderKind::Openai,
            model,
            tokenizer: Tokenizer::for_model(model),
            limits: model_limits(model, pricing.context_window(ProviderKind::Openai, model)),
            answer_tokens: 16,
            stream: false,
            temperature: Some(0.0),
            json_schema: true,
            reasoning_effort: None,
        },
        runner,
        pricing,
        poll: PollConfig {
            initial: std::time::Duration::from_millis(1),
            max: std::time::Duration::from_millis(1),
            ..PollConfig::default()
        },
        progress: Progress::hidden(),
        shard: None,
        journal: None,
        resume_batches: false,
        skip: None,
        cache_ttl: std::time::Duration::from_secs(3600),
    };
    bench::run_strategy(spec.build().as_ref(), &ctx)
        .await
        .expect("the strategy runs")
}

/// Prices at a fixed date (2026-11-25, after the bundled batch rates start), so the amounts in
/// the tests do not move with the calendar.
pub fn pricing() -> Pricing {
    Pricing::bundled(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_564_800))
}
