//! Cache economics and the Batch API lifecycle end to end on the mock: `cached:1h` writes are
//! priced at the 1-hour rate and recompute from requests.csv; the break-even reuses follow from
//! the rates `batchbench prices` prints; a TTL a provider lacks fails only its strategy; OpenAI
//! models from GPT-5.6 report (and are billed for) cache writes; batch jobs record the states
//! they passed through, and an expired batch keeps and bills what it finished while only the
//! rest is sent again.

mod common;

use batchbench::record::{RequestKind, RequestRecord};
use batchbench::report::StrategySummary;
use batchbench::report::csv::read_rows;
use common::{batchbench, stderr, stdout};
use serde_json::Value;

struct Run {
    code: Option<i32>,
    summary: Vec<StrategySummary>,
    requests: Vec<RequestRecord>,
    report: String,
    _dir: tempfile::TempDir,
}

impl Run {
    fn get(&self, strategy: &str) -> &StrategySummary {
        self.summary
            .iter()
            .find(|s| s.strategy == strategy)
            .unwrap_or_else(|| panic!("no {strategy}"))
    }
}

fn run(extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let mut args = vec!["run", "--quiet", "--out", &out];
    args.extend_from_slice(extra);
    let o = batchbench(&args);
    let read = |f: &str| dir.path().join(f);
    Run {
        code: o.status.code(),
        summary: read_rows(&read("summary.csv")).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o))),
        requests: read_rows(&read("requests.csv")).unwrap(),
        report: std::fs::read_to_string(read("report.md")).unwrap(),
        _dir: dir,
    }
}

/// The standard rates `batchbench prices --model M --json` prints.
fn standard_rates(provider: &str, model: &str) -> Value {
    let o = batchbench(&["prices", "--provider", provider, "--model", model, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    v["models"][0]["standard"].clone()
}

/// A row's cost from its tokens and the printed rates, with 1-hour writes at their own rate.
fn recomputed(r: &RequestRecord, rates: &Value) -> f64 {
    let rate = |k: &str| rates[k].as_f64().unwrap();
    let uncached = r.input_tokens - r.cached_tokens - r.cache_write_tokens;
    let write_5m = r.cache_write_tokens - r.cache_write_1h_tokens;
    (uncached as f64 * rate("input_mtok")
        + r.cached_tokens as f64 * rate("cached_mtok")
        + write_5m as f64 * rate("cache_write_mtok")
        + r.cache_write_1h_tokens as f64 * rate("cache_write_1h_mtok")
        + r.output_tokens as f64 * rate("output_mtok"))
        / 1e6
}

fn assert_rows_recompute(run: &Run, strategy: &str, rates: &Value) {
    let rows: Vec<&RequestRecord> = run
        .requests
        .iter()
        .filter(|r| r.strategy == strategy && r.is_sent() && r.error.is_none())
        .collect();
    assert!(!rows.is_empty(), "{strategy}");
    for r in rows {
        let (want, got) = (recomputed(r, rates), r.cost_usd.as_usd());
        assert!(
            (want - got).abs() < 2e-9,
            "{strategy} {}: {got} vs {want}",
            r.request_id
        );
    }
}

#[test]
fn anthropic_one_hour_writes_are_priced_apart_and_break_even_later() {
    let r = run(&[
        "--provider",
        "anthropic",
        "--mock",
        "--time-scale",
        "0",
        "--dataset",
        "datasets/long-context.jsonl",
        "--limit",
        "12",
        "--strategies",
        "sequential,cached,cached:1h,cached:24h",
    ]);
    // cached:24h is refused for Anthropic with its reason; the others finish.
    assert_eq!(r.code, Some(1));
    let day = r.get("cached:24h");
    assert_eq!(day.answered, 0);
    assert!(
        day.failure
            .as_deref()
            .unwrap()
            .contains("1 hour (cached:1h)"),
        "{day:?}"
    );
    let (five, hour) = (r.get("cached"), r.get("cached:1h"));
    // The same prefix is written once and read by the 11 other prompts, at either TTL.
    assert!(five.cache_write_tokens > 1_000 && five.cache_write_1h_tokens == 0);
    assert_eq!(hour.cache_write_1h_tokens, hour.cache_write_tokens);
    assert_eq!(
        (hour.cache_write_tokens, hour.cached_tokens),
        (five.cache_write_tokens, five.cached_tokens)
    );
    assert_eq!(five.cached_tokens, 11 * five.cache_write_tokens);
    // Haiku 4.5: the 1-hour write costs $2/M against $1.25/M, so cached:1h costs exactly the
    // difference more: 0.75 × written tokens / 1e6.
    let extra = hour.cost_usd.as_usd() - five.cost_usd.as_usd();
    assert!((extra - 0.75 * five.cache_write_tokens as f64 / 1e6).abs() < 1e-9);
    let rates = standard_rates("anthropic", "claude-haiku-4-5");
    for s in ["sequential", "cached", "cached:1h"] {
        assert_rows_recompute(&r, s, &rates);
    }
    // Break-even: (1.25 − 1) / (1 − 0.1) → 1 reuse; (2 − 1) / 0.9 → 2; 11 reuses reached both.
    assert_eq!(five.cache_break_even_reuses, Some(1));
    assert_eq!(hour.cache_break_even_reuses, Some(2));
    assert_eq!(hour.cache_reuses, Some(11.0));
    assert!(
        r.report
            .contains("cached:1h: 4,742 tokens written to the cache (4,742 with the 1-hour TTL)"),
        "{}",
        r.report
    );
    assert!(r.report.contains("a write pays for itself after 2 reuses"));
}

#[test]
fn openai_cache_writes_and_retention_on_the_models_that_have_them() {
    // GPT-5.6+: writes reported and billed at 1.25× input; 24-hour retention accepted.
    let r = run(&[
        "--model",
        "gpt-5.6-sol",
        "--time-scale",
        "0",
        "--dataset",
        "datasets/long-context.jsonl",
        "--limit",
        "6",
        "--strategies",
        "sequential,cached:24h,cached:1h",
    ]);
    let day = r.get("cached:24h");
    assert_eq!(day.answered, 6);
    assert!(
        day.cache_write_tokens > 0 && day.cached_tokens > 0,
        "{day:?}"
    );
    let rates = standard_rates("openai", "gpt-5.6-sol");
    assert_eq!(
        rates["cache_write_mtok"].as_f64().unwrap(),
        1.25 * rates["input_mtok"].as_f64().unwrap()
    );
    assert_rows_recompute(&r, "cached:24h", &rates);
    assert_eq!(day.cache_break_even_reuses, Some(1));
    assert!(
        r.get("cached:1h")
            .failure
            .as_deref()
            .unwrap()
            .contains("no 1-hour TTL")
    );
    // gpt-4o-mini keeps prefixes in memory only: the server refuses the 24-hour retention and
    // only that strategy fails, naming the parameter.
    let old = run(&[
        "--time-scale",
        "0",
        "--limit",
        "4",
        "--strategies",
        "sequential,cached:24h",
    ]);
    assert_eq!(old.code, Some(1));
    assert_eq!(old.get("sequential").answered, 4);
    let refused = old.get("cached:24h");
    assert_eq!(refused.answered, 0);
    assert!(
        refused
            .failure
            .as_deref()
            .unwrap()
            .contains("prompt_cache_retention"),
        "{refused:?}"
    );
    // Caching reads on older models cost no writes: every read is a saving.
    assert_eq!(
        old.requests
            .iter()
            .filter(|q| q.cache_write_tokens > 0)
            .count(),
        0
    );
}

fn mock_config(body: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), body).unwrap();
    f
}

#[test]
fn batch_jobs_record_their_states_and_an_expired_batch_keeps_what_it_finished() {
    // 20 requests finish evenly over 2 simulated seconds; the window closes after 1.05: about
    // half are done, the rest expire.
    let cfg = mock_config(
        "[batch]\nvalidating_secs = 0.1\nin_progress_min_secs = 2.0\nfinalizing_secs = 0.1\n\
         completion_window_secs = 1.05\n",
    );
    let r = run(&[
        "--time-scale",
        "0.5",
        "--limit",
        "20",
        "--strategies",
        "sequential,batch-api",
        "--mock-config",
        cfg.path().to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0));
    let b = r.get("batch-api");
    assert_eq!(
        (b.answered, b.batches, b.batches_expired),
        (20, Some(1), Some(1))
    );
    let job = r
        .requests
        .iter()
        .find(|q| q.kind == RequestKind::BatchJob)
        .unwrap();
    assert_eq!(job.status, "expired");
    // `validating 25; in_progress 58; expired 663`: each state with its ms since creation.
    let states: Vec<(&str, f64)> = job
        .batch_states
        .as_deref()
        .unwrap()
        .split("; ")
        .map(|s| {
            let (name, ms) = s.split_once(' ').unwrap();
            (name, ms.parse().unwrap())
        })
        .collect();
    let names: Vec<&str> = states.iter().map(|s| s.0).collect();
    assert_eq!(names.last(), Some(&"expired"), "{states:?}");
    assert!(names.contains(&"in_progress"), "{states:?}");
    assert!(states.windows(2).all(|w| w[0].1 <= w[1].1), "{states:?}");
    assert_eq!(b.batch_turnaround_p50_ms, Some(job.latency_ms));
    // The finished part is billed at batch rates; only the expired ids are sent again.
    let items: Vec<&RequestRecord> = r
        .requests
        .iter()
        .filter(|q| q.strategy == "batch-api" && q.kind == RequestKind::BatchItem)
        .collect();
    let done: Vec<&&RequestRecord> = items.iter().filter(|q| q.status == "200").collect();
    let expired: Vec<&&RequestRecord> = items.iter().filter(|q| q.status != "200").collect();
    assert!(!done.is_empty() && !expired.is_empty(), "{items:?}");
    assert!(
        done.iter()
            .all(|q| q.served_tier.as_deref() == Some("batch") && q.cost_usd.0 > 0)
    );
    assert!(expired.iter().all(|q| q.cost_usd.0 == 0));
    let reasks: Vec<&RequestRecord> = r
        .requests
        .iter()
        .filter(|q| q.strategy == "batch-api" && q.kind == RequestKind::Reask)
        .collect();
    assert_eq!(reasks.len(), expired.len());
    // Re-asks are keyed by prompt id (`reask-q000010` for item `r000010`).
    let digits = |id: &str| {
        id.trim_start_matches(|c: char| !c.is_ascii_digit())
            .to_string()
    };
    let mut resent: Vec<String> = reasks.iter().map(|q| digits(&q.request_id)).collect();
    let mut lost: Vec<String> = expired.iter().map(|q| digits(&q.request_id)).collect();
    resent.sort_unstable();
    lost.sort_unstable();
    assert_eq!(resent, lost);
}
