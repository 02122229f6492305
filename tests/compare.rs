//! `batchbench compare`: each exit code, each threshold, both input forms.

mod common;

use std::path::Path;

use batchbench::pricing::Nanodollars;
use batchbench::report::{RunInfo, StrategySummary};
use common::{batchbench, stderr, stdout};

fn info(sha: &str) -> RunInfo {
    serde_json::from_value(serde_json::json!({
        "schema_version": 1, "run_id": "r", "tool_version": "0", "started_at": "2026-11-25T00:00:00Z", "seed": 42,
        "provider": "openai", "model": "gpt-4o-mini", "endpoint": "mock", "simulated": true, "mock_time_scale": 0.0,
        "dataset": "default", "dataset_path": "datasets/default.jsonl", "dataset_sha256": sha, "prompts": 100,
        "shard": null, "strategies": ["sequential", "packed:8"], "answer_tokens": 64, "price_source": "x",
        "price_data_sha256": null, "price_overrides": null, "tokenizer": "o200k_base (exact)", "warnings": []
    }))
    .unwrap()
}

fn summary(strategy: &str, cost_per_1k: f64, accuracy: f64, p95: f64) -> StrategySummary {
    serde_json::from_value(serde_json::json!({
        "strategy": strategy, "batch_size": 1, "demonstration": false, "requests": 100, "attempts": 100,
        "prompts": 100, "answered": 100, "failed": 0, "input_tokens": 1000, "uncached_input_tokens": 1000,
        "cached_tokens": 0, "cache_write_tokens": 0, "output_tokens": 100, "client_input_tokens": 1000,
        "input_token_diff": 0, "cost_usd": Nanodollars::from_usd(cost_per_1k / 10.0).exact(),
        "cost_per_1k_prompts": cost_per_1k, "saving_vs_sequential_pct": null, "wall_ms": 1000.0,
        "latency_p50_ms": p95 / 2.0, "latency_p95_ms": p95, "latency_p99_ms": p95, "latency_max_ms": p95,
        "prompts_per_s": 100.0, "rate_limited": 0, "retries": 0, "errors": 0, "parse_failures": 0,
        "extra_items": 0, "reasks": 0, "accuracy_pct": accuracy, "agreement_pct": null
    }))
    .unwrap()
}

fn write_run(dir: &Path, sha: &str, rows: &[StrategySummary]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("run.json"),
        serde_json::to_vec_pretty(&info(sha)).unwrap(),
    )
    .unwrap();
    let mut w = csv::Writer::from_path(dir.join("summary.csv")).unwrap();
    for r in rows {
        w.serialize(r).unwrap();
    }
    w.flush().unwrap();
}

fn compare(base: &Path, cur: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["compare", base.to_str().unwrap(), cur.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = batchbench(&args);
    (
        o.status.code().unwrap(),
        format!("{}{}", stdout(&o), stderr(&o)),
    )
}

#[test]
fn exit_codes_and_thresholds() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("base");
    write_run(
        &base,
        "aaa",
        &[
            summary("sequential", 10.0, 95.0, 100.0),
            summary("packed:8", 4.0, 94.0, 200.0),
        ],
    );
    // Identical: 0.
    assert_eq!(compare(&base, &base, &[]).0, 0);
    // Cost +4% passes the default 5%, fails --max-cost-increase 3%.
    let cur = d.path().join("cost");
    write_run(
        &cur,
        "aaa",
        &[
            summary("sequential", 10.4, 95.0, 100.0),
            summary("packed:8", 4.0, 94.0, 200.0),
        ],
    );
    assert_eq!(compare(&base, &cur, &[]).0, 0);
    let (code, out) = compare(&base, &cur, &["--max-cost-increase", "3%"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("REGRESSION") && out.contains("cost per 1k prompts +4.00%"),
        "{out}"
    );
    // Accuracy -1.5 pts fails the default 1, passes --max-accuracy-drop 2.
    let cur = d.path().join("acc");
    write_run(
        &cur,
        "aaa",
        &[
            summary("sequential", 10.0, 95.0, 100.0),
            summary("packed:8", 4.0, 92.5, 200.0),
        ],
    );
    assert_eq!(compare(&base, &cur, &[]).0, 1);
    assert_eq!(compare(&base, &cur, &["--max-accuracy-drop", "2"]).0, 0);
    // p95 +30% fails the default 20%, passes --max-p95-increase 50%.
    let cur = d.path().join("p95");
    write_run(
        &cur,
        "aaa",
        &[
            summary("sequential", 10.0, 95.0, 130.0),
            summary("packed:8", 4.0, 94.0, 200.0),
        ],
    );
    assert_eq!(compare(&base, &cur, &[]).0, 1);
    assert_eq!(compare(&base, &cur, &["--max-p95-increase", "50%"]).0, 0);
    // Cheaper and faster is not a regression; Markdown for PR comments.
    let cur = d.path().join("better");
    write_run(
        &cur,
        "aaa",
        &[
            summary("sequential", 9.0, 96.0, 90.0),
            summary("packed:8", 3.0, 95.0, 150.0),
        ],
    );
    let (code, out) = compare(&base, &cur, &["--format", "md"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("| strategy |") && out.contains("no regression"),
        "{out}"
    );
}

#[test]
fn bad_input_exits_2() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("base");
    write_run(&base, "aaa", &[summary("sequential", 10.0, 95.0, 100.0)]);
    let (code, out) = compare(&base, &d.path().join("missing"), &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("missing") && out.contains("cannot read"),
        "{out}"
    );
    let other = d.path().join("other");
    write_run(&other, "bbb", &[summary("sequential", 10.0, 95.0, 100.0)]);
    let (code, out) = compare(&base, &other, &[]);
    assert_eq!(code, 2);
    assert!(
        out.contains("different datasets") && out.contains("--allow-dataset-change"),
        "{out}"
    );
    assert_eq!(compare(&base, &other, &["--allow-dataset-change"]).0, 0);
    let old = d.path().join("old");
    write_run(&old, "aaa", &[summary("sequential", 10.0, 95.0, 100.0)]);
    let text = std::fs::read_to_string(old.join("run.json"))
        .unwrap()
        .replace("\"schema_version\": 1", "\"schema_version\": 99");
    std::fs::write(old.join("run.json"), text).unwrap();
    let (code, out) = compare(&base, &old, &[]);
    assert_eq!(code, 2);
    assert!(out.contains("schema version 99"), "{out}");
    assert_eq!(compare(&base, &base, &["--max-cost-increase", "lots"]).0, 2);
}

/// Runs set up differently (another model, no json_schema) are still compared, and the output
/// says what differs; identical set-ups print no such note.
#[test]
fn setup_differences_are_named() {
    let d = tempfile::tempdir().unwrap();
    let (base, cur) = (d.path().join("base"), d.path().join("cur"));
    let rows = [summary("sequential", 0.05, 97.0, 10.0)];
    write_run(&base, "abc", &rows);
    write_run(&cur, "abc", &rows);
    let (code, out) = compare(&base, &cur, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("not set up alike"), "{out}");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cur.join("run.json")).unwrap()).unwrap();
    v["model"] = "gpt-4.1-mini".into();
    v["options"] = serde_json::json!({"stream": false, "temperature": null, "json_schema": false, "max_retries": 4});
    std::fs::write(cur.join("run.json"), serde_json::to_vec(&v).unwrap()).unwrap();
    let (code, out) = compare(&base, &cur, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("note: the runs were not set up alike"),
        "{out}"
    );
    assert!(
        out.contains("- model: gpt-4o-mini (baseline) vs gpt-4.1-mini (current)"),
        "{out}"
    );
    assert!(
        out.contains("- json_schema: true (baseline) vs false (current)"),
        "{out}"
    );
    assert_eq!(out.matches("\n- ").count(), 2, "{out}");
}

#[test]
fn a_failed_strategy_is_a_regression_and_a_failed_baseline_is_not() {
    let d = tempfile::tempdir().unwrap();
    let ok = d.path().join("ok");
    write_run(
        &ok,
        "aaa",
        &[
            summary("sequential", 10.0, 95.0, 100.0),
            summary("batch-api", 5.0, 95.0, 900.0),
        ],
    );
    let mut failed = summary("batch-api", 0.0, 0.0, 0.0);
    failed.answered = 0;
    failed.failed = 100;
    failed.status = batchbench::report::summary::RunStatus::Failed;
    failed.failure = Some("batch API: POST /v1/files: HTTP 404: Not Found".into());
    let broken = d.path().join("broken");
    write_run(
        &broken,
        "aaa",
        &[summary("sequential", 10.0, 95.0, 100.0), failed],
    );
    let (code, out) = compare(&ok, &broken, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("REGRESSION") && out.contains("failed: batch API: POST /v1/files: HTTP 404"),
        "{out}"
    );
    // Fixed since: the baseline's failure is nothing to regress from.
    let (code, out) = compare(&broken, &ok, &[]);
    assert_eq!(code, 0, "{out}");
}
