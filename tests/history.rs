//! The run history: runs appended to a SQLite file, `history` trends, `compare history:BRANCH`,
//! `--shard auto/N` from `JOB_COMPLETION_INDEX`, and parallel appends. All against the mock.

mod common;

use std::path::Path;

use batchbench::record::PromptRecord;
use batchbench::report::csv::read_rows;
use common::{batchbench, command, stderr, stdout};

const STRATEGIES: &str = "sequential,packed:4";

fn run_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "run",
        "--quiet",
        "--limit",
        "12",
        "--time-scale",
        "0",
        "--strategies",
        STRATEGIES,
        "--out",
        out,
    ];
    a.extend_from_slice(extra);
    a
}

fn run_into(out: &Path, extra: &[&str]) {
    let out = out.display().to_string();
    let o = batchbench(&run_args(&out, extra));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

fn count_runs(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn two_runs_show_with_their_change_and_a_dearer_model_fails_compare() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.sqlite");
    let h = db.display().to_string();
    run_into(
        &dir.path().join("a"),
        &["--history", &h, "--branch", "main", "--commit", "aaaa1111"],
    );
    run_into(
        &dir.path().join("b"),
        &["--history", &h, "--branch", "main", "--commit", "bbbb2222"],
    );

    let o = batchbench(&["history", "--history", &h, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let points: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let seq: Vec<_> = points
        .iter()
        .filter(|p| p["strategy"] == "sequential")
        .collect();
    assert_eq!(seq.len(), 2);
    assert_eq!(seq[0]["commit_sha"], "aaaa1111");
    assert_eq!(seq[1]["commit_sha"], "bbbb2222");
    assert!(seq[0]["cost_change_pct"].is_null());
    // Same seed, same mock: the cost is identical, so the change is exactly zero.
    assert_eq!(seq[1]["cost_change_pct"], 0.0);
    assert_eq!(seq[1]["accuracy_change_pts"], 0.0);
    let o = batchbench(&[
        "history",
        "--history",
        &h,
        "--format",
        "md",
        "--branch",
        "main",
    ]);
    let md = stdout(&o);
    assert!(
        md.contains("#### sequential") && md.contains("#### packed:4"),
        "{md}"
    );
    assert!(
        md.contains("aaaa1111") && md.contains("bbbb2222") && md.contains("+0.00%"),
        "{md}"
    );

    // The documented schema, read with plain SQL.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
    let (branch, model): (String, String) = conn
        .query_row("SELECT branch, model FROM runs WHERE id = 2", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((branch.as_str(), model.as_str()), ("main", "gpt-4o-mini"));
    let summary_csv = std::fs::read_to_string(dir.path().join("b/summary.csv")).unwrap();
    let header: Vec<&str> = summary_csv.lines().next().unwrap().split(',').collect();
    let stored: String = conn
        .query_row(
            "SELECT summary FROM strategy_results WHERE run = 2 AND strategy = 'sequential'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let stored: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&stored).unwrap();
    assert_eq!(
        stored.len(),
        header.len(),
        "every summary.csv column is stored"
    );
    let cost: f64 = conn
        .query_row(
            "SELECT CAST(json_extract(summary, '$.cost_per_1k_prompts') AS REAL) FROM strategy_results WHERE run = 2 AND strategy = 'sequential'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cost, seq[1]["cost_per_1k_prompts"].as_f64().unwrap());

    // Trend charts and the page.
    let charts = dir.path().join("charts");
    let o = batchbench(&[
        "history",
        "--history",
        &h,
        "--charts",
        charts.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "trend_cost_per_1k.svg",
        "trend_cost_per_1k.png",
        "trend_accuracy.png",
        "trend_p95.svg",
    ] {
        assert!(
            std::fs::metadata(charts.join(f)).unwrap().len() > 1000,
            "{f}"
        );
    }
    let page = std::fs::read_to_string(charts.join("history.html")).unwrap();
    assert!(
        page.contains("<svg")
            && page.contains("<h2>sequential</h2>")
            && !page.contains("src=\"http")
    );

    // A dearer model, not recorded: compared against the latest run on main, it regresses.
    let c = dir.path().join("c");
    run_into(&c, &["--model", "gpt-4o"]);
    let o = batchbench(&[
        "compare",
        "history:main",
        c.to_str().unwrap(),
        "--history",
        &h,
        "--format",
        "md",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let md = stdout(&o);
    assert!(md.contains("history:main run 2 (commit bbbb2222)"), "{md}");
    assert!(
        md.contains("model: gpt-4o-mini (baseline) vs gpt-4o (current)"),
        "{md}"
    );
    // The same model against the same baseline passes on cost and accuracy; p95 is the mock's
    // wall-clock timing of millisecond requests on a shared machine, so it is not gated here.
    let o = batchbench(&[
        "compare",
        "history:main",
        dir.path().join("b").to_str().unwrap(),
        "--history",
        &h,
        "--max-p95-increase",
        "100000%",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // No run on that branch: bad input.
    let o = batchbench(&[
        "compare",
        "history:nope",
        c.to_str().unwrap(),
        "--history",
        &h,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no run on branch \"nope\""),
        "{}",
        stderr(&o)
    );

    // Importing the third folder adds a third run on another branch.
    let o = batchbench(&[
        "history",
        "import",
        c.to_str().unwrap(),
        "--history",
        &h,
        "--branch",
        "feature",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(count_runs(&db), 3);
    let o = batchbench(&[
        "history",
        "--history",
        &h,
        "--model",
        "gpt-4o",
        "--format",
        "csv",
    ]);
    assert_eq!(stdout(&o).lines().count(), 1 + 2, "{}", stdout(&o));
}

#[test]
fn auto_shards_from_job_completion_index_merge_to_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    run_into(&whole, &[]);
    let mut shard_dirs = Vec::new();
    for i in 0..3 {
        let out = dir.path().join(format!("shard{i}"));
        let o = command(&run_args(out.to_str().unwrap(), &["--shard", "auto/3"]))
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .env_remove("BATCHBENCH_SHARD_INDEX")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
        assert_eq!(info["shard"], format!("{}/3", i + 1));
        shard_dirs.push(out.display().to_string());
    }
    let merged = dir.path().join("merged");
    let db = dir.path().join("h.sqlite");
    let o = batchbench(&[
        "merge",
        &shard_dirs[0],
        &shard_dirs[1],
        &shard_dirs[2],
        "--out",
        merged.to_str().unwrap(),
        "--history",
        db.to_str().unwrap(),
        "--branch",
        "main",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(count_runs(&db), 1, "a merged sharded run is one run");
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
    let a: Vec<PromptRecord> = read_rows(&whole.join("prompts.csv")).unwrap();
    let b: Vec<PromptRecord> = read_rows(&merged.join("prompts.csv")).unwrap();
    assert_eq!(a.len(), 24);
    assert_eq!(
        a.iter().map(key).collect::<Vec<_>>(),
        b.iter().map(key).collect::<Vec<_>>()
    );

    // auto without an index variable is a usage error that names the variables.
    let o = command(&run_args(
        dir.path().join("x").to_str().unwrap(),
        &["--shard", "auto/3"],
    ))
    .env_remove("JOB_COMPLETION_INDEX")
    .env_remove("BATCHBENCH_SHARD_INDEX")
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("JOB_COMPLETION_INDEX"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn four_processes_appending_at_once_lose_no_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let src = dir.path().join("src");
    run_into(&src, &[]);
    // Each process appends the folder 5 times (one import call, five transactions).
    let children: Vec<_> = (0..4)
        .map(|i| {
            let mut args = vec!["history".to_string(), "import".to_string()];
            args.extend((0..5).map(|_| src.display().to_string()));
            args.extend([
                "--history".into(),
                db.display().to_string(),
                "--branch".into(),
                format!("job{i}"),
            ]);
            command(&args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    assert_eq!(count_runs(&db), 20);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let per_branch: Vec<i64> = conn
        .prepare("SELECT count(*) FROM runs GROUP BY branch ORDER BY branch")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(per_branch, vec![5, 5, 5, 5]);
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM strategy_results", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 40);
}
