//! Gemini end to end on the built-in mock (issue 14's acceptance): `run --provider gemini
//! --mock` runs every default strategy on the default dataset with every prompt answered once;
//! `batch-api` costs exactly half of `sequential` for the same usage; `cached` on the
//! long-context set makes one context cache whose tokens are read by every request and whose
//! making and storage are a `cache_create` row; every requests.csv row recomputes from its
//! tokens and the rates `batchbench prices --model gemini-2.5-flash --json` prints; the tier
//! strategies stop naming the model and tier (gemini-2.5-flash has no flex or priority rates in
//! the price data); and a batch large enough to go through an uploaded file comes back joined
//! by key.

mod common;

use std::collections::HashMap;

use batchbench::mock::{MockConfig, MockServer, Oracle};
use batchbench::provider::gemini::{batch, files};
use batchbench::provider::{ChatRequest, Client, Endpoint, ProviderKind, Timeouts};
use batchbench::record::{PromptRecord, RequestKind, RequestRecord};
use batchbench::report::StrategySummary;
use batchbench::report::csv::read_rows;
use batchbench::secret::Secret;
use common::{batchbench, stderr, stdout};
use serde_json::Value;

const MODEL: &str = "gemini-2.5-flash";

fn rates() -> Value {
    let o = batchbench(&["prices", "--model", MODEL, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["provider"], "gemini");
    v["models"][0].clone()
}

/// A row's cost from the printed rates, USD: uncached input, cached input and output at its
/// served tier; a cache's making at the write rate and its storage for its TTL.
fn recomputed(row: &RequestRecord, rates: &Value) -> f64 {
    let tier = row.served_tier.as_deref().unwrap();
    let rate = |k: &str| rates[tier][k].as_f64().unwrap();
    if row.kind == RequestKind::CacheCreate {
        let hours = row.cache_ttl_s.unwrap() as f64 / 3600.0;
        let storage = rates["cache_storage_mtok_hour"].as_f64().unwrap();
        return row.cache_write_tokens as f64 * (rate("cache_write_mtok") + storage * hours) / 1e6;
    }
    let uncached = row.input_tokens - row.cached_tokens - row.cache_write_tokens;
    (uncached as f64 * rate("input_mtok")
        + row.cached_tokens as f64 * rate("cached_mtok")
        + row.output_tokens as f64 * rate("output_mtok"))
        / 1e6
}

fn run(extra: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().display().to_string();
    let mut args = vec![
        "run",
        "--provider",
        "gemini",
        "--mock",
        "--quiet",
        "--time-scale",
        "0",
        "--out",
        &out,
    ];
    args.extend_from_slice(extra);
    let o = batchbench(&args);
    (d, o)
}

fn check_rows_recompute(dir: &std::path::Path) -> Vec<RequestRecord> {
    let requests: Vec<RequestRecord> = read_rows(&dir.join("requests.csv")).unwrap();
    let rates = rates();
    for r in requests.iter().filter(|r| r.is_sent() && r.error.is_none()) {
        let want = recomputed(r, &rates);
        let got = r.cost_usd.as_usd();
        assert!(
            (want - got).abs() < 2e-9,
            "{} {}: {got} vs {want}",
            r.strategy,
            r.request_id
        );
    }
    requests
}

#[test]
fn every_default_strategy_on_the_default_dataset() {
    let (d, o) = run(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: Vec<StrategySummary> = read_rows(&d.path().join("summary.csv")).unwrap();
    let prompts: Vec<PromptRecord> = read_rows(&d.path().join("prompts.csv")).unwrap();
    let names: Vec<&str> = summary.iter().map(|s| s.strategy.as_str()).collect();
    assert_eq!(
        names,
        [
            "sequential",
            "concurrent:8",
            "packed:8",
            "cached",
            "batch-api",
            "batch-api+packed:8",
            "naive-multi-message:4"
        ]
    );
    // Every prompt once per strategy, and answered (the naive demonstration loses answers by
    // design: one per request).
    let total = summary[0].prompts;
    assert_eq!(total, 240);
    for s in &summary {
        let rows: Vec<&PromptRecord> = prompts
            .iter()
            .filter(|p| p.strategy == s.strategy)
            .collect();
        let mut ids: Vec<&str> = rows.iter().map(|p| p.prompt_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            (rows.len() as u64, ids.len() as u64),
            (total, total),
            "{}",
            s.strategy
        );
        if !s.demonstration {
            assert_eq!(s.answered, total, "{}", s.strategy);
        }
    }
    let get = |n: &str| summary.iter().find(|s| s.strategy == n).unwrap();
    let (seq, batch) = (get("sequential"), get("batch-api"));
    // Same usage (no prefix here reaches Gemini's 2,048-token caching minimum), half the cost.
    assert_eq!(
        (batch.input_tokens, batch.cached_tokens, batch.output_tokens),
        (seq.input_tokens, 0, seq.output_tokens)
    );
    assert_eq!(batch.cost_usd.0 * 2, seq.cost_usd.0);
    // Thinking is billed as output and recorded apart.
    assert!(seq.reasoning_tokens > 0 && seq.reasoning_tokens < seq.output_tokens);
    let requests = check_rows_recompute(d.path());
    assert!(
        requests
            .iter()
            .filter(|r| r.kind == RequestKind::BatchItem)
            .all(|r| r.served_tier.as_deref() == Some("batch"))
    );
    assert!(!requests.iter().any(|r| r.kind == RequestKind::CacheCreate));
}

#[test]
fn cached_makes_one_context_cache_on_the_long_context_set() {
    let (d, o) = run(&[
        "--dataset",
        "datasets/long-context.jsonl",
        "--limit",
        "24",
        "--strategies",
        "sequential,cached",
        "--cache-ttl",
        "600",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let requests = check_rows_recompute(d.path());
    let made: Vec<&RequestRecord> = requests
        .iter()
        .filter(|r| r.kind == RequestKind::CacheCreate)
        .collect();
    assert_eq!(made.len(), 1);
    let cache = made[0];
    assert_eq!(
        (cache.strategy.as_str(), cache.cache_ttl_s),
        ("cached", Some(600))
    );
    assert!(cache.cache_write_tokens > 4_000, "{cache:?}");
    assert!(
        cache
            .server_id
            .as_deref()
            .unwrap()
            .starts_with("cachedContents/")
    );
    // By hand from Google's rates for gemini-2.5-flash, in nano-dollars: the making at $0.30
    // per million (300 per token), the storage at $1.00 per million per hour for 10 minutes
    // (1,000 / 6 per token, rounded half up once).
    let n = cache.cache_write_tokens;
    let by_hand = n * 300 + (n * 1_000 + 3) / 6;
    assert_eq!(cache.cost_usd.0, by_hand);
    // Every cached request reads the whole cache; the summary carries the making's tokens and
    // cost in its prompts.
    let chats: Vec<&RequestRecord> = requests
        .iter()
        .filter(|r| r.strategy == "cached" && r.kind == RequestKind::Chat)
        .collect();
    assert_eq!(chats.len(), 24);
    assert!(chats.iter().all(|r| r.cached_tokens == n));
    let summary: Vec<StrategySummary> = read_rows(&d.path().join("summary.csv")).unwrap();
    let cached = summary.iter().find(|s| s.strategy == "cached").unwrap();
    assert_eq!(cached.cache_write_tokens, n);
    assert_eq!(cached.cached_tokens, 24 * n);
    let rows_cost: u64 = requests
        .iter()
        .filter(|r| r.strategy == "cached")
        .map(|r| r.cost_usd.0)
        .sum();
    assert_eq!(cached.cost_usd.0, rows_cost);
}

#[test]
fn tier_strategies_stop_naming_model_and_tier() {
    let (_d, o) = run(&["--limit", "4", "--strategies", "sequential,flex,priority"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    for tier in ["flex", "priority"] {
        assert!(
            err.contains(&format!("model {MODEL} has no {tier} price")),
            "{err}"
        );
    }
}

fn request(i: usize, padding: &str) -> ChatRequest {
    ChatRequest {
        temperature: Some(0.0),
        reasoning_effort: Some("0".into()),
        ..ChatRequest::new(MODEL, Some(padding), &format!("What is {i} + {i}?"), 16)
    }
}

#[tokio::test]
async fn a_batch_from_an_uploaded_file_comes_back_joined_by_key() {
    let mut config = MockConfig {
        time_scale: 0.0,
        ..MockConfig::default()
    };
    config.error_model.enabled = false;
    let server = MockServer::start(config, Oracle::empty(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let client = Client::new(Endpoint {
        kind: ProviderKind::Gemini,
        base_url: server.gemini_base_url(),
        key: Secret::new("batchbench-mock-key"),
        timeouts: Timeouts::default(),
    })
    .unwrap();
    // A file bigger than one 8 MiB upload chunk, so the resumable upload takes two requests.
    let padding = "policy text ".repeat(200_000);
    let lines: Vec<String> = (0..4)
        .map(|i| batch::file_line(&format!("k{i}"), &request(i, &padding)).to_string())
        .collect();
    let body = lines.join("\n").into_bytes();
    assert!(body.len() > files::CHUNK_BYTES);
    let file = files::upload(&client, "input.jsonl", files::JSONL_MIME, body)
        .await
        .unwrap();
    assert!(file.name.starts_with("files/"), "{file:?}");
    let create = batch::create_body("t", batch::BatchInput::File(file.name.clone()));
    let mut op = batch::create(&client, MODEL, &create).await.unwrap();
    for _ in 0..200 {
        if op.is_ended() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        op = batch::get(&client, &op.name).await.unwrap();
    }
    assert_eq!(op.state(), "succeeded");
    let out = op.responses_file().expect("results in a file");
    let bytes = files::download(&client, &out).await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let by_key: HashMap<String, _> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let r = batch::parse_result_line(l).unwrap();
            (r.custom_id, r.outcome.unwrap())
        })
        .collect();
    assert_eq!(by_key.len(), 4);
    for i in 0..4 {
        let answer = &by_key[&format!("k{i}")];
        assert!(answer.usage.input_tokens > 400_000, "{:?}", answer.usage);
        assert_eq!(answer.usage.reasoning_tokens, 0);
    }
    files::delete(&client, &file.name).await.unwrap();
    server.shutdown().await;
}
