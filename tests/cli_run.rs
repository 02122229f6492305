//! `batchbench run` end to end against the in-process mock, for both providers: every prompt
//! accounted for once, exact money that adds up and recomputes from tokens and rates, the
//! request counts each strategy promises, and the naive method shown losing answers.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::SystemTime;

use batchbench::pricing::{Nanodollars, Pricing};
use batchbench::provider::{ProviderKind, Usage};
use batchbench::record::{PromptRecord, RequestRecord};
use batchbench::report::csv::read_rows;
use batchbench::report::{RunInfo, StrategySummary, summarise_all};
use common::{batchbench, stderr};

const STRATEGIES: &str =
    "sequential,concurrent:4,packed:8,cached,batch-api,batch-api+packed:8,naive-multi-message:4";

struct Run {
    info: RunInfo,
    prompts: Vec<PromptRecord>,
    requests: Vec<RequestRecord>,
    summary: Vec<StrategySummary>,
}

fn run(dir: &Path, extra: &[&str]) -> Run {
    let out = dir.display().to_string();
    let mut args = vec!["run", "--quiet", "--time-scale", "0", "--out", &out];
    args.extend_from_slice(extra);
    let o = batchbench(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let info: RunInfo =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    Run {
        info,
        prompts: read_rows(&dir.join("prompts.csv")).unwrap(),
        requests: read_rows(&dir.join("requests.csv")).unwrap(),
        summary: read_rows(&dir.join("summary.csv")).unwrap(),
    }
}

fn usage(p: &PromptRecord) -> Usage {
    Usage {
        input_tokens: p.input_tokens,
        cached_tokens: p.cached_tokens,
        cache_write_tokens: p.cache_write_tokens,
        cache_write_1h_tokens: 0,
        output_tokens: p.output_tokens,
        reasoning_tokens: p.reasoning_tokens,
    }
}

fn check(r: &Run, provider: ProviderKind) {
    let set = batchbench::dataset::load(&common::repo("datasets/default.jsonl"), None).unwrap();
    let ids: HashSet<&str> = set.prompts.iter().map(|p| p.id.as_str()).collect();
    let pricing = Pricing::bundled(SystemTime::from(
        chrono::DateTime::parse_from_rfc3339(&r.info.started_at).unwrap(),
    ));
    assert!(r.info.simulated);
    for s in &r.summary {
        // Every strategy accounts for every prompt exactly once.
        let rows: Vec<&PromptRecord> = r
            .prompts
            .iter()
            .filter(|p| p.strategy == s.strategy)
            .collect();
        let seen: HashSet<&str> = rows.iter().map(|p| p.prompt_id.as_str()).collect();
        assert_eq!(rows.len(), ids.len(), "{}", s.strategy);
        assert_eq!(seen, ids, "{}", s.strategy);
        // Money adds up exactly: prompts.csv = requests.csv = summary.csv.
        let by_prompts: Nanodollars = rows.iter().map(|p| p.cost_usd).sum();
        let by_requests: Nanodollars = r
            .requests
            .iter()
            .filter(|q| q.strategy == s.strategy)
            .map(|q| q.cost_usd)
            .sum();
        assert_eq!(by_prompts, s.cost_usd, "{}", s.strategy);
        assert_eq!(by_requests, s.cost_usd, "{}", s.strategy);
        // Every request's cost recomputes from its tokens and the rates.
        for q in r
            .requests
            .iter()
            .filter(|q| q.strategy == s.strategy && q.status == "200")
        {
            let u = Usage {
                input_tokens: q.input_tokens,
                cached_tokens: q.cached_tokens,
                cache_write_tokens: q.cache_write_tokens,
                cache_write_1h_tokens: 0,
                output_tokens: q.output_tokens,
                reasoning_tokens: q.reasoning_tokens,
            };
            // Each row is priced at the tier it names: batch for every batch item.
            let tier = q.served_tier.as_deref().unwrap();
            let batch = q.kind == batchbench::record::RequestKind::BatchItem;
            assert_eq!(batch, tier == "batch", "{} {}", s.strategy, q.request_id);
            let tier = batchbench::pricing::ServedTier::from_reported(tier).unwrap();
            assert_eq!(
                pricing.cost_at(provider, &r.info.model, &u, tier).unwrap(),
                q.cost_usd,
                "{} {}",
                s.strategy,
                q.request_id
            );
        }
    }
    // Summaries recompute from the rows.
    assert_eq!(summarise_all(&r.prompts, &r.requests), r.summary);
    let get = |name: &str| r.summary.iter().find(|s| s.strategy == name).unwrap();
    // Unbatched rows recompute one by one.
    for p in r.prompts.iter().filter(|p| p.strategy == "sequential") {
        assert_eq!(
            pricing
                .cost(provider, &r.info.model, &usage(p), false)
                .unwrap(),
            p.cost_usd
        );
    }
    // packed:8 sends ceil(240/8) requests plus its re-asks.
    let packed = get("packed:8");
    assert_eq!(packed.requests, 30 + packed.reasks, "{packed:?}");
    // The batch API costs half of sequential for the same usage.
    let seq: HashMap<&str, &PromptRecord> = r
        .prompts
        .iter()
        .filter(|p| p.strategy == "sequential")
        .map(|p| (p.prompt_id.as_str(), p))
        .collect();
    let mut same = 0;
    for b in r.prompts.iter().filter(|p| p.strategy == "batch-api") {
        let s = seq[b.prompt_id.as_str()];
        if usage(s) == usage(b) {
            same += 1;
            assert!(b.batch_priced);
            assert!(
                (b.cost_usd.0 * 2).abs_diff(s.cost_usd.0) <= 1,
                "{} {} vs {}",
                b.prompt_id,
                b.cost_usd.0,
                s.cost_usd.0
            );
        }
    }
    assert!(same > 200, "most prompts have identical usage: {same}");
    // The tutorial's method loses answers: one per request.
    let naive = get("naive-multi-message:4");
    assert!(naive.demonstration);
    assert_eq!(naive.answered, 60);
    assert_eq!(naive.failed, 180);
    // The real savings show.
    assert!(get("batch-api").saving_vs_sequential_pct.unwrap() > 49.9);
    assert!(get("packed:8").saving_vs_sequential_pct.unwrap() > 30.0);
    assert!(
        get("batch-api+packed:8").saving_vs_sequential_pct.unwrap()
            > get("packed:8").saving_vs_sequential_pct.unwrap()
    );
}

#[test]
fn openai_on_the_mock() {
    let d = tempfile::tempdir().unwrap();
    let r = run(d.path(), &["--strategies", STRATEGIES]);
    assert_eq!(r.info.provider, "openai");
    check(&r, ProviderKind::Openai);
}

#[test]
fn anthropic_on_the_mock() {
    let d = tempfile::tempdir().unwrap();
    let r = run(
        d.path(),
        &[
            "--strategies",
            STRATEGIES,
            "--provider",
            "anthropic",
            "--mock",
        ],
    );
    assert_eq!(r.info.model, "claude-haiku-4-5");
    check(&r, ProviderKind::Anthropic);
}

#[test]
fn same_seed_same_numbers() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ra = run(
        a.path(),
        &[
            "--strategies",
            "sequential,packed:16",
            "--limit",
            "64",
            "--seed",
            "9",
        ],
    );
    let rb = run(
        b.path(),
        &[
            "--strategies",
            "sequential,packed:16",
            "--limit",
            "64",
            "--seed",
            "9",
        ],
    );
    let strip = |v: &[PromptRecord]| -> Vec<(String, String, Option<String>, u64, Nanodollars)> {
        v.iter()
            .map(|p| {
                (
                    p.strategy.clone(),
                    p.prompt_id.clone(),
                    p.answer.clone(),
                    p.input_tokens,
                    p.cost_usd,
                )
            })
            .collect()
    };
    assert_eq!(strip(&ra.prompts), strip(&rb.prompts));
    assert_eq!(ra.info.seed, 9);
}

#[test]
fn sharded_run_merges_to_the_unsharded_one() {
    let whole = tempfile::tempdir().unwrap();
    let strategies = "sequential,packed:4,batch-api";
    let w = run(whole.path(), &["--strategies", strategies, "--limit", "30"]);
    let shards: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, d) in shards.iter().enumerate() {
        let shard = format!("{}/3", i + 1);
        run(
            d.path(),
            &[
                "--strategies",
                strategies,
                "--limit",
                "30",
                "--shard",
                &shard,
            ],
        );
    }
    let merged = tempfile::tempdir().unwrap();
    let m_out = merged.path().display().to_string();
    let dirs: Vec<String> = shards
        .iter()
        .map(|d| d.path().display().to_string())
        .collect();
    let o = batchbench(&["merge", &dirs[0], &dirs[1], &dirs[2], "--out", &m_out]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mp: Vec<PromptRecord> = read_rows(&merged.path().join("prompts.csv")).unwrap();
    let key = |p: &PromptRecord| {
        (
            p.strategy.clone(),
            p.prompt_id.clone(),
            p.request_id.clone(),
            p.input_tokens,
            p.output_tokens,
            p.cost_usd,
            p.answer.clone(),
            p.correct,
        )
    };
    assert_eq!(
        mp.iter().map(key).collect::<Vec<_>>(),
        w.prompts.iter().map(key).collect::<Vec<_>>()
    );
    let ms: Vec<StrategySummary> = read_rows(&merged.path().join("summary.csv")).unwrap();
    for (a, b) in ms.iter().zip(&w.summary) {
        assert_eq!(
            (a.cost_usd, a.input_tokens, a.output_tokens, a.answered),
            (b.cost_usd, b.input_tokens, b.output_tokens, b.answered)
        );
    }
    // The same shard twice is refused.
    let o = batchbench(&["merge", &dirs[0], &dirs[0], "--out", &m_out]);
    assert_eq!(o.status.code(), Some(2));
}

/// Connections cut after a 200 are retried, labelled `dropped` in requests.csv, and the warning
/// states their count and probable cost, recomputable from requests.csv; connections reset
/// before any response are plain `connect` failures and cost nothing extra.
#[test]
fn dropped_and_reset_connections_are_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mock.toml");
    std::fs::write(&cfg, "[faults]\nrate_drop = 0.1\nrate_reset = 0.1\n").unwrap();
    let out = dir.path().join("out");
    let r = run(
        &out,
        &[
            "--strategies",
            "sequential",
            "--limit",
            "30",
            "--mock-config",
            cfg.to_str().unwrap(),
        ],
    );
    assert!(r.prompts.iter().all(|p| p.answered()));
    let dropped = r.requests.iter().filter(|q| q.status == "dropped").count();
    let reset = r.requests.iter().filter(|q| q.status == "connect").count();
    assert!(dropped > 0 && reset > 0, "{dropped} dropped, {reset} reset");
    // Each dropped attempt is priced as its request's answered attempt.
    let answered: HashMap<&str, Nanodollars> = r
        .requests
        .iter()
        .filter(|q| q.status == "200")
        .map(|q| (q.request_id.as_str(), q.cost_usd))
        .collect();
    let extra: Nanodollars = r
        .requests
        .iter()
        .filter(|q| q.status == "dropped")
        .map(|q| answered[q.request_id.as_str()])
        .sum();
    let warning = r
        .info
        .warnings
        .iter()
        .find(|w| w.contains("dropped"))
        .unwrap_or_else(|| panic!("no dropped warning in {:?}", r.info.warnings));
    assert!(
        warning.contains(&format!("sequential: {dropped} attempt(s)")),
        "{warning}"
    );
    assert!(
        warning.contains(&format!("${}", extra.exact())),
        "{warning}"
    );
    // The report's cost is the answered attempts' cost only.
    let total: Nanodollars = r.requests.iter().map(|q| q.cost_usd).sum();
    let billed: Nanodollars = answered.values().copied().sum();
    assert_eq!(total, billed);
}

/// Outside the batchbench folder the default run uses the dataset built into the binary: the
/// same bytes as datasets/default.jsonl (the same sha256 in run.json), so its numbers compare.
#[test]
fn default_dataset_is_built_in_outside_the_repository() {
    let cwd = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(common::bin())
        .args([
            "run",
            "--quiet",
            "--time-scale",
            "0",
            "--strategies",
            "sequential",
            "--limit",
            "5",
            "--out",
            "out",
        ])
        .current_dir(cwd.path())
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let info: RunInfo =
        serde_json::from_str(&std::fs::read_to_string(cwd.path().join("out/run.json")).unwrap())
            .unwrap();
    let set = batchbench::dataset::load(&common::repo("datasets/default.jsonl"), None).unwrap();
    assert_eq!(info.dataset_sha256, set.sha256);
    assert_eq!(info.dataset, "default");
}

/// `--no-json-schema` packs without the strict response format (fewer input tokens: the schema
/// is not sent) and run.json records the options that shaped the requests.
#[test]
fn no_json_schema_is_recorded_and_costs_fewer_input_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--strategies", "packed:4", "--limit", "16"];
    let with = run(&dir.path().join("with"), &args);
    let mut more = args.to_vec();
    more.extend(["--no-json-schema", "--max-retries", "2"]);
    let without = run(&dir.path().join("without"), &more);
    assert!(with.info.options.json_schema);
    assert!(!without.info.options.json_schema);
    assert_eq!(without.info.options.max_retries, 2);
    assert!(without.prompts.iter().all(|p| p.answered()));
    assert!(without.summary[0].input_tokens < with.summary[0].input_tokens);
}
