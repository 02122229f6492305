//! Service tiers and reasoning tokens end to end on the mock (gpt-5-mini, a reasoning model
//! with flex and priority rates): flex costs what the Batch API costs and answers
//! synchronously, priority costs more than sequential, reasoning tokens are recorded apart and
//! shared by packed requests, and every requests.csv row recomputes from its tokens, its
//! `served_tier` and the rates `batchbench prices --model gpt-5-mini --json` prints.

mod common;

use std::collections::HashMap;

use batchbench::record::RequestRecord;
use batchbench::report::StrategySummary;
use batchbench::report::csv::read_rows;
use common::{batchbench, stderr, stdout};
use serde_json::Value;

const MODEL: &str = "gpt-5-mini";

fn rates() -> Value {
    let o = batchbench(&["prices", "--model", MODEL, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    v["models"][0].clone()
}

/// A row's cost from the printed rates: uncached input, cached input and output, USD.
fn recomputed(row: &RequestRecord, rates: &Value) -> f64 {
    let tier = row.served_tier.as_deref().unwrap();
    let r = &rates[tier];
    let rate = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("no {tier}.{k}"));
    let uncached = row.input_tokens - row.cached_tokens;
    (uncached as f64 * rate("input_mtok")
        + row.cached_tokens as f64 * rate("cached_mtok")
        + row.output_tokens as f64 * rate("output_mtok"))
        / 1e6
}

#[test]
fn flex_priority_and_reasoning_on_the_mock() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().display().to_string();
    let o = batchbench(&[
        "run",
        "--quiet",
        "--time-scale",
        "0",
        "--model",
        MODEL,
        "--limit",
        "48",
        "--strategies",
        "sequential,flex,priority,batch-api,flex+packed:8",
        "--out",
        &out,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: Vec<StrategySummary> = read_rows(&d.path().join("summary.csv")).unwrap();
    let requests: Vec<RequestRecord> = read_rows(&d.path().join("requests.csv")).unwrap();
    let get = |s: &str| summary.iter().find(|x| x.strategy == s).unwrap();
    let (seq, flex, prio, batch) = (
        get("sequential"),
        get("flex"),
        get("priority"),
        get("batch-api"),
    );
    // Same usage everywhere; flex at Batch API prices, answered synchronously (one chat row
    // per prompt, no batch job); priority dearer than sequential.
    for s in [flex, prio, batch] {
        assert_eq!(
            (s.input_tokens, s.output_tokens),
            (seq.input_tokens, seq.output_tokens)
        );
    }
    assert_eq!(flex.cost_usd, batch.cost_usd);
    assert!(prio.cost_usd > seq.cost_usd);
    assert_eq!(flex.served_tiers.as_deref(), Some("flex 48"));
    assert_eq!(prio.served_tiers.as_deref(), Some("priority 48"));
    assert_eq!(batch.served_tiers.as_deref(), Some("batch 48"));
    assert!(
        requests
            .iter()
            .filter(|r| r.strategy == "flex")
            .all(|r| r.kind == batchbench::record::RequestKind::Chat)
    );
    // Reasoning tokens: part of the output, and packing shares one reasoning pass.
    assert!(seq.reasoning_tokens > 0 && seq.reasoning_tokens < seq.output_tokens);
    let packed = get("flex+packed:8");
    assert!(
        packed.reasoning_tokens * 2 < seq.reasoning_tokens,
        "{packed:?}"
    );
    // Every row recomputes from its tokens, its served tier and the printed rates.
    let rates = rates();
    let mut by_tier: HashMap<&str, usize> = HashMap::new();
    for r in requests.iter().filter(|r| r.is_sent() && r.error.is_none()) {
        let want = recomputed(r, &rates);
        let got = r.cost_usd.as_usd();
        assert!(
            (want - got).abs() < 2e-9,
            "{} {}: {got} vs {want}",
            r.strategy,
            r.request_id
        );
        *by_tier
            .entry(r.served_tier.as_deref().unwrap())
            .or_default() += 1;
    }
    assert_eq!(by_tier.len(), 4, "{by_tier:?}");
    let findings = std::fs::read_to_string(d.path().join("report.md")).unwrap();
    assert!(
        findings.contains("Reasoning tokens dominate sequential"),
        "{findings}"
    );
}

fn summary_of(extra: &[&str]) -> Vec<StrategySummary> {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().display().to_string();
    let mut args = vec![
        "run",
        "--quiet",
        "--time-scale",
        "0",
        "--limit",
        "40",
        "--out",
        &out,
    ];
    args.extend_from_slice(extra);
    let o = batchbench(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let info = std::fs::read_to_string(d.path().join("run.json")).unwrap();
    let responses = extra.contains(&"responses");
    assert_eq!(info.contains("\"api\": \"responses\""), responses);
    read_rows(&d.path().join("summary.csv")).unwrap()
}

#[test]
fn the_responses_api_runs_every_default_strategy_with_chat_completions_token_totals() {
    // The mock counts a Responses request as chat completions would count the same messages
    // (`instructions` as the system message), so the totals must be equal; real servers may
    // differ by their own framing (README, "The Responses API").
    let chat = summary_of(&[]);
    let responses = summary_of(&["--api", "responses"]);
    assert_eq!(chat.len(), responses.len());
    for (c, r) in chat.iter().zip(&responses) {
        assert_eq!(c.strategy, r.strategy);
        assert_eq!(r.answered, r.prompts - r.failed);
        assert_eq!(
            (c.input_tokens, c.output_tokens, c.cost_usd, c.requests),
            (r.input_tokens, r.output_tokens, r.cost_usd, r.requests),
            "{}",
            c.strategy
        );
    }
}
