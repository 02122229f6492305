//! One strategy's pipeline over the in-memory fake provider (no sockets): exact tokens and
//! dollars per prompt, a packed answer missing an id re-asked, a failed batch item re-asked,
//! and a retried 503. Prices: gpt-4o-mini at $0.15 input and $0.60 output per million tokens,
//! batch half (genai-prices bundled data).

// The responders return the crate's `CallError`, large by design (see src/lib.rs).
#![allow(clippy::result_large_err)]

#[path = "common/fake_pipeline.rs"]
mod fake_pipeline;

use batchbench::pricing::Nanodollars;
use batchbench::provider::fake::FakeProvider;
use batchbench::provider::{CallError, ChatRequest};
use batchbench::record::RequestKind;
use batchbench::strategy::StrategySpec;
use fake_pipeline::{pricing, prompts, responder, run, runner};

fn nd(n: u64) -> Nanodollars {
    Nanodollars(n)
}

#[tokio::test]
async fn sequential_prices_every_prompt_from_its_usage() {
    let set = prompts(4);
    let r = runner(FakeProvider::new(responder(&[])));
    let run = run(&r, &pricing(), &set, StrategySpec::Sequential).await;
    assert_eq!(run.prompts.len(), 4);
    for p in &run.prompts {
        // 10 x $0.15/M + 1 x $0.60/M = $0.0000021.
        assert_eq!((p.input_tokens, p.output_tokens), (10, 1));
        assert_eq!(p.cost_usd, nd(2_100));
        assert_eq!(p.correct, Some(true), "{}", p.prompt_id);
    }
    assert_eq!(run.requests.len(), 4);
}

#[tokio::test]
async fn a_packed_answer_missing_an_id_is_reasked_alone() {
    let set = prompts(4);
    let r = runner(FakeProvider::new(responder(&["p2"])));
    let run = run(&r, &pricing(), &set, StrategySpec::Packed(4)).await;
    let kinds: Vec<RequestKind> = run.requests.iter().map(|q| q.kind).collect();
    assert_eq!(kinds, vec![RequestKind::Chat, RequestKind::Reask]);
    // The packed request: 40 input, 9 output = $0.0000114; the re-ask of p2: $0.0000021.
    let total: u64 = run.prompts.iter().map(|p| p.cost_usd.0).sum();
    assert_eq!(total, 11_400 + 2_100);
    let p2 = run.prompts.iter().find(|p| p.prompt_id == "p2").unwrap();
    assert!(p2.reasked && p2.answered());
    assert!(run.prompts.iter().all(|p| p.correct == Some(true)));
}

#[tokio::test]
async fn the_batch_api_costs_half_and_a_failed_item_is_reasked() {
    let set = prompts(3);
    let fail_p1 = |request: &ChatRequest, n: usize| {
        let user = request.messages.last().map_or("", |m| m.content.as_str());
        if user.contains("Is 1 a") && n == 1 {
            return Err(CallError::status(
                500,
                None,
                "boom".into(),
                &Default::default(),
            ));
        }
        responder(&[])(request, n)
    };
    let r = runner(FakeProvider::new(fail_p1));
    let run = run(&r, &pricing(), &set, StrategySpec::BatchApi(None)).await;
    let by_id = |id: &str| run.prompts.iter().find(|p| p.prompt_id == id).unwrap();
    // Batch rates: $0.075 and $0.30 per million: 10 x 0.075 + 1 x 0.30 = $0.00000105.
    assert_eq!(by_id("p0").cost_usd, nd(1_050));
    assert!(by_id("p0").batch_priced);
    // p1 failed in the batch and was answered by an ordinary request at standard rates.
    assert!(by_id("p1").reasked && by_id("p1").answered());
    assert_eq!(by_id("p1").cost_usd, nd(2_100));
    assert!(!by_id("p1").batch_priced);
}

#[tokio::test]
async fn a_transient_error_is_retried_and_every_attempt_recorded() {
    let set = prompts(1);
    let flaky = |request: &ChatRequest, n: usize| {
        if n == 1 {
            return Err(CallError::status(
                503,
                None,
                "busy".into(),
                &Default::default(),
            ));
        }
        responder(&[])(request, n)
    };
    let r = runner(FakeProvider::new(flaky));
    let run = run(&r, &pricing(), &set, StrategySpec::Sequential).await;
    let attempts: Vec<(u32, &str)> = run
        .requests
        .iter()
        .map(|q| (q.attempt, q.status.as_str()))
        .collect();
    assert_eq!(attempts, vec![(1, "503"), (2, "200")]);
    assert!(run.prompts[0].answered());
    assert_eq!(
        run.prompts[0].cost_usd,
        nd(2_100),
        "a failed attempt costs nothing"
    );
}
