//! `run --task embed` end to end on the in-process mock: arrays send ceil(N/K) requests at the
//! per-token price of sequential, the Batch API costs exactly half, vectors agree (cosine 1) by
//! default, and the mock's batch-dependent perturbation is flagged and fails `compare`.

mod common;

use std::path::Path;

use batchbench::pricing::Nanodollars;
use batchbench::record::{PromptRecord, RequestKind, RequestRecord};
use batchbench::report::csv::read_rows;
use batchbench::report::{RunInfo, StrategySummary};
use common::{batchbench, stderr};

/// Five texts of 2, 4, 1, 1 and 3 cl100k tokens: 11 in all.
const TEXTS: &str = r#"{"id":"a","text":"hello world"}
{"id":"b","text":"hello world hello world"}
{"id":"c","text":"hello"}
{"id":"d","text":"world"}
{"id":"e","text":"hello world hello"}
"#;

const ALL: &str =
    "embed:sequential,embed:concurrent:2,embed:array:2,embed:batch-api,embed:batch-api+array:2";

struct Run {
    info: RunInfo,
    prompts: Vec<PromptRecord>,
    requests: Vec<RequestRecord>,
    summary: Vec<StrategySummary>,
}

impl Run {
    fn summary(&self, s: &str) -> &StrategySummary {
        self.summary.iter().find(|x| x.strategy == s).unwrap()
    }
}

fn run(dir: &Path, extra: &[&str]) -> (Option<i32>, String, Option<Run>) {
    let data = dir.join("texts.jsonl");
    std::fs::write(&data, TEXTS).unwrap();
    let out = dir.join("out");
    let (data, out_s) = (data.display().to_string(), out.display().to_string());
    let mut args = vec![
        "run",
        "--task",
        "embed",
        "--quiet",
        "--time-scale",
        "0",
        "--dataset",
        &data,
        "--out",
        &out_s,
    ];
    args.extend_from_slice(extra);
    let o = batchbench(&args);
    let err = stderr(&o);
    let rows = out.join("summary.csv").exists().then(|| Run {
        info: serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap())
            .unwrap(),
        prompts: read_rows(&out.join("prompts.csv")).unwrap(),
        requests: read_rows(&out.join("requests.csv")).unwrap(),
        summary: read_rows(&out.join("summary.csv")).unwrap(),
    });
    (o.status.code(), err, rows)
}

fn ok(dir: &Path, extra: &[&str]) -> Run {
    let (code, err, r) = run(dir, extra);
    assert_eq!(code, Some(0), "{err}");
    r.unwrap()
}

#[test]
fn arrays_and_the_batch_api_save_requests_and_money_with_equal_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let r = ok(dir.path(), &["--strategies", ALL]);
    assert_eq!(r.info.task.as_deref(), Some("embed"));
    assert_eq!(r.info.vector_tolerance, Some(0.9999));
    // 11 tokens × $0.02 per million = 220 nano-dollars; through the Batch API, half: 110.
    let expect = [
        ("embed:sequential", 5, 220),
        ("embed:concurrent:2", 5, 220),
        ("embed:array:2", 3, 220),
        ("embed:batch-api", 5, 110),
        ("embed:batch-api+array:2", 3, 110),
    ];
    for (s, requests, nanos) in expect {
        let x = r.summary(s);
        assert_eq!(
            (x.requests, x.answered, x.input_tokens),
            (requests, 5, 11),
            "{s}"
        );
        assert_eq!(x.cost_usd, Nanodollars(nanos), "{s}");
        assert_eq!(
            (x.vector_cosine_min, x.vector_cosine_mean),
            (Some(1.0), Some(1.0)),
            "{s}"
        );
        assert_eq!(x.vector_flagged, Some(false), "{s}");
        let prompts: Nanodollars = r
            .prompts
            .iter()
            .filter(|p| p.strategy == s)
            .map(|p| p.cost_usd)
            .sum();
        assert_eq!(prompts, Nanodollars(nanos), "{s}: prompt shares add up");
    }
    assert_eq!(r.summary("embed:array:2").batch_size, 2);
    assert_eq!(
        r.summary("embed:batch-api").saving_vs_sequential_pct,
        Some(50.0)
    );
    // ceil(5 / 2) = 3 array requests of 2, 2 and 1 texts, with the server's token counts.
    let arrays: Vec<(u32, u64)> = r
        .requests
        .iter()
        .filter(|q| q.strategy == "embed:array:2")
        .map(|q| (q.prompts, q.input_tokens))
        .collect();
    assert_eq!(arrays, vec![(2, 6), (2, 2), (1, 3)]);
    assert!(r.requests.iter().any(|q| q.kind == RequestKind::BatchJob));
    assert!(
        r.requests
            .iter()
            .filter(|q| q.kind == RequestKind::Embed)
            .all(|q| q.limit_rpm.is_some())
    );
    let x = r.summary("embed:sequential");
    assert!(x.rpm_used.unwrap() > 0.0 && x.rpm_limit.is_some() && x.tpm_limit.is_some());
}

#[test]
fn a_batch_dependent_perturbation_is_flagged_and_fails_compare() {
    let dir = tempfile::tempdir().unwrap();
    let strategies = "embed:sequential,embed:array:2,embed:batch-api,embed:batch-api+array:2";
    let base_dir = dir.path().join("base");
    std::fs::create_dir_all(&base_dir).unwrap();
    let base = ok(&base_dir, &["--strategies", strategies]);
    assert!(base.summary.iter().all(|s| s.vector_flagged == Some(false)));
    let cfg = dir.path().join("mock.toml");
    std::fs::write(&cfg, "[embeddings]\nperturb_when_batched = 0.01\n").unwrap();
    let cur_dir = dir.path().join("cur");
    std::fs::create_dir_all(&cur_dir).unwrap();
    let cfg_s = cfg.display().to_string();
    let cur = ok(
        &cur_dir,
        &["--strategies", strategies, "--mock-config", &cfg_s],
    );
    for (s, flagged) in [
        ("embed:sequential", false),
        ("embed:array:2", true),
        ("embed:batch-api", false),
        ("embed:batch-api+array:2", true),
    ] {
        let x = cur.summary(s);
        assert_eq!(x.vector_flagged, Some(flagged), "{s}");
        if flagged {
            // The mock turns a batched vector so its cosine with the single one is 1 − 0.01.
            assert!((x.vector_cosine_min.unwrap() - 0.99).abs() < 1e-5, "{s}");
            // The text sent alone in the last array (e) is not perturbed.
            assert_eq!(
                cur.prompts
                    .iter()
                    .find(|p| p.strategy == s && p.prompt_id == "e")
                    .unwrap()
                    .vector_cosine,
                Some(1.0)
            );
        }
    }
    let (b, c) = (base_dir.join("out"), cur_dir.join("out"));
    let md = std::fs::read_to_string(c.join("report.md")).unwrap();
    assert!(md.contains("### Vector agreement and rate limits"), "{md}");
    assert!(md.contains("| embed:array:2 | 0.990000 |"), "{md}");
    for chart in ["wall_by_strategy", "vector_agreement"] {
        let svg = std::fs::read_to_string(c.join("charts").join(format!("{chart}.svg"))).unwrap();
        assert!(svg.contains("embed:array:2"), "{chart}");
    }
    let html = std::fs::read_to_string(c.join("report.html")).unwrap();
    assert!(html.contains("chart-vector_agreement"));
    let o = batchbench(&[
        "compare",
        &b.display().to_string(),
        &c.display().to_string(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_ne!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("REGRESSION: vectors disagree with embed:sequential"),
        "{out}"
    );
    let same = batchbench(&[
        "compare",
        &b.display().to_string(),
        &b.display().to_string(),
    ]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );
}

#[test]
fn dimensions_and_float_encoding_pass_through() {
    let dir = tempfile::tempdir().unwrap();
    let r = ok(
        dir.path(),
        &[
            "--strategies",
            "embed:sequential,embed:array:4",
            "--dimensions",
            "8",
            "--encoding",
            "float",
        ],
    );
    assert_eq!(r.info.dimensions, Some(8));
    assert_eq!(r.summary("embed:array:4").vector_cosine_min, Some(1.0));
    let dir = tempfile::tempdir().unwrap();
    let (code, err, r) = run(
        dir.path(),
        &["--strategies", "embed:sequential", "--dimensions", "2000"],
    );
    assert_eq!(code, Some(1), "{err}");
    let failure = r
        .unwrap()
        .summary("embed:sequential")
        .failure
        .clone()
        .unwrap();
    assert!(failure.contains("less than or equal to 1536"), "{failure}");
}

#[test]
fn refusals_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, _) = run(dir.path(), &["--provider", "anthropic", "--mock"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("Anthropic has no embeddings API"), "{err}");
    let (code, err, _) = run(dir.path(), &["--strategies", "packed:8"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("valid: embed:sequential"), "{err}");
    let (code, err, _) = run(dir.path(), &["--vector-tolerance", "2"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cosine"), "{err}");
}

#[test]
fn estimate_prices_a_corpus_like_run() {
    let o = batchbench(&[
        "estimate",
        "--task",
        "embed",
        "--dataset",
        "datasets/embed-default.jsonl",
        "--sizes",
        "64",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let get = |s: &str| rows.iter().find(|r| r["strategy"] == s).unwrap().clone();
    let (seq, arr, batch) = (
        get("embed:sequential"),
        get("embed:array:64"),
        get("embed:batch-api"),
    );
    assert_eq!(
        (seq["requests"].as_u64(), arr["requests"].as_u64()),
        (Some(200), Some(4))
    );
    assert_eq!(seq["cost_usd"], arr["cost_usd"]);
    let nanos = |v: &serde_json::Value| {
        Nanodollars::parse_exact(v["cost_usd"].as_str().unwrap())
            .unwrap()
            .0
    };
    assert_eq!(nanos(&seq), 20 * seq["tokens"].as_u64().unwrap());
    assert_eq!(nanos(&batch) * 2, nanos(&seq));
}
