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
use batchbench::provider::{CallError, ChatRequest, ChatResponse, ServiceTier};
use batchbench::record::{RequestKind, RequestRecord};
use batchbench::report::summary::summarise;
use batchbench::strategy::{StrategySpec, Tier};
use fake_pipeline::{pricing, prompts, responder, run, run_model, runner};

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

/// gpt-5-mini: $0.25 input and $2.00 output per million standard, $0.125 / $1.00 flex (and
/// batch), $0.45 / $3.60 priority (genai-prices bundled data).
const TIERED: &str = "gpt-5-mini";

/// Answers `yes` (10 input, 1 output tokens) reporting `tier` as the serving tier.
fn served_as(
    tier: Option<&'static str>,
) -> impl Fn(&ChatRequest, usize) -> Result<ChatResponse, CallError> + Send + Sync + 'static {
    move |_: &ChatRequest, _| {
        let mut r = FakeProvider::answer("yes", 10, 1);
        r.served_tier = tier.map(str::to_string);
        Ok(r)
    }
}

#[tokio::test]
async fn each_request_is_priced_by_the_tier_its_response_reports() {
    let set = prompts(1);
    let cases = [
        // (strategy, what the response reports, served_tier row, nano-dollars)
        // 10 x 0.125 + 1 x 1.00 per million = $0.00000225.
        (
            StrategySpec::Tier(Tier::Flex, None),
            Some("flex"),
            "flex",
            2_250,
        ),
        // 10 x 0.45 + 1 x 3.60 = $0.0000081.
        (
            StrategySpec::Tier(Tier::Priority, None),
            Some("priority"),
            "priority",
            8_100,
        ),
        // Flex asked, nothing reported: standard, 10 x 0.25 + 1 x 2.00 = $0.0000045.
        (
            StrategySpec::Tier(Tier::Flex, None),
            None,
            "standard",
            4_500,
        ),
        // Flex asked, `default` reported (served at standard after all).
        (
            StrategySpec::Tier(Tier::Flex, None),
            Some("default"),
            "standard",
            4_500,
        ),
        // Batch API items are batch-priced whatever their body says (OpenAI writes `default`).
        (
            StrategySpec::BatchApi(None),
            Some("default"),
            "batch",
            2_250,
        ),
    ];
    for (spec, reported, served, cost) in cases {
        let r = runner(FakeProvider::new(served_as(reported)));
        let run = run_model(&r, &pricing(), &set, spec, TIERED).await;
        assert_eq!(run.prompts[0].cost_usd, nd(cost), "{spec} {reported:?}");
        let row = run.requests.iter().find(|q| q.is_sent()).unwrap();
        assert_eq!(
            row.served_tier.as_deref(),
            Some(served),
            "{spec} {reported:?}"
        );
        assert_eq!(row.cost_usd, nd(cost));
    }
}

#[tokio::test]
async fn a_tier_without_prices_fails_the_strategy_never_a_silent_standard_price() {
    let set = prompts(2);
    // gpt-4o-mini has no flex rates: refused before anything is sent.
    let fake = FakeProvider::new(served_as(Some("flex")));
    let r = runner(fake);
    let run = run(&r, &pricing(), &set, StrategySpec::Tier(Tier::Flex, None)).await;
    assert!(run.prompts.iter().all(|p| !p.answered()));
    assert_eq!(run.requests.len(), 1, "only the aborted row");
    assert_eq!(run.requests[0].kind, RequestKind::Aborted);
    let why = run.requests[0].error.as_deref().unwrap();
    assert!(why.contains("gpt-4o-mini") && why.contains("flex"), "{why}");
    // A tier no price data knows, reported by the server: the strategy stops, naming it.
    let r = runner(FakeProvider::new(served_as(Some("scale"))));
    let run = run_model(&r, &pricing(), &set, StrategySpec::Sequential, TIERED).await;
    assert!(run.prompts.iter().all(|p| !p.answered()));
    let aborted = run.requests.iter().find(|q| q.kind == RequestKind::Aborted);
    assert!(
        aborted
            .unwrap()
            .error
            .as_deref()
            .unwrap()
            .contains("\"scale\"")
    );
}

/// Refuses every flex request with OpenAI's 429 resource-unavailable; answers the rest.
fn flex_has_no_capacity(request: &ChatRequest, n: usize) -> Result<ChatResponse, CallError> {
    if request.service_tier == Some(ServiceTier::Flex) {
        return Err(CallError::status(
            429,
            Some("resource_unavailable".into()),
            "Resource unavailable".into(),
            &Default::default(),
        ));
    }
    served_as(Some("default"))(request, n)
}

#[tokio::test]
async fn flex_refused_for_capacity_is_retried_then_falls_back_when_asked() {
    let set = prompts(1);
    let spec = StrategySpec::Tier(Tier::Flex, None);
    // Without the fallback: five flex attempts (four retries), all refused, nothing billed.
    let r = runner(FakeProvider::new(flex_has_no_capacity));
    let run = run_model(&r, &pricing(), &set, spec, TIERED).await;
    assert!(!run.prompts[0].answered());
    let tiers: Vec<(Option<&str>, &str)> = run
        .requests
        .iter()
        .map(|q| (q.asked_tier.as_deref(), q.status.as_str()))
        .collect();
    assert_eq!(tiers, vec![(Some("flex"), "429"); 5]);
    // With it: the same five, then one attempt at the default tier, priced standard.
    let r = runner(FakeProvider::new(flex_has_no_capacity)).with_flex_fallback(true);
    let run = run_model(&r, &pricing(), &set, spec, TIERED).await;
    assert!(run.prompts[0].answered());
    assert_eq!(run.prompts[0].cost_usd, nd(4_500));
    let last = run.requests.last().unwrap();
    assert_eq!(
        (
            last.attempt,
            last.asked_tier.as_deref(),
            last.served_tier.as_deref()
        ),
        (6, Some("default"), Some("standard"))
    );
    let rows: Vec<&RequestRecord> = run.requests.iter().collect();
    let s = summarise(
        &run.strategy,
        &run.prompts.iter().collect::<Vec<_>>(),
        &rows,
        None,
    );
    assert_eq!((s.flex_refused, s.flex_fallbacks), (5, 1));
    assert_eq!(s.served_tiers.as_deref(), Some("standard 1"));
}

#[tokio::test]
async fn reasoning_tokens_are_recorded_apart_and_priced_as_output() {
    let set = prompts(1);
    let reasoning = |_: &ChatRequest, _| {
        // 10 input, 9 output of which 8 reasoning.
        let mut r = FakeProvider::answer("yes", 10, 9);
        r.usage.reasoning_tokens = 8;
        Ok(r)
    };
    let r = runner(FakeProvider::new(reasoning));
    let run = run_model(&r, &pricing(), &set, StrategySpec::Sequential, TIERED).await;
    let p = &run.prompts[0];
    assert_eq!((p.output_tokens, p.reasoning_tokens), (9, 8));
    // 10 x 0.25 + 9 x 2.00 per million = $0.0000205: reasoning at the output rate.
    assert_eq!(p.cost_usd, nd(20_500));
    assert_eq!(run.requests[0].reasoning_tokens, 8);
}
