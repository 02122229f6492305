//! Behind a gateway: a key-swapping reverse proxy in front of a standalone mock. Credentials go
//! only to the configured origin, even when the upstream's replies name the upstream.

mod common;

use std::time::Duration;

use common::mock_process::MockProcess;
use common::proxy::{Proxy, ProxyConfig};

const PROXY_KEY: &str = "proxy-key-for-the-gateway";
const UPSTREAM_KEY: &str = "upstream-key-held-by-the-gateway";

fn gateway(upstream: &MockProcess, refuse: &[&str]) -> Proxy {
    Proxy::start(ProxyConfig {
        own_key: PROXY_KEY.into(),
        upstream_key: UPSTREAM_KEY.into(),
        upstream: upstream.anthropic_url(),
        refuse: refuse.iter().map(|s| s.to_string()).collect(),
    })
}

fn statuses(mock: &MockProcess) -> serde_json::Value {
    mock.stats()["statuses"].clone()
}

#[test]
fn anthropic_batch_results_come_through_the_proxy_and_the_key_stays_there() {
    let upstream = MockProcess::start(UPSTREAM_KEY, None);
    let proxy = gateway(&upstream, &[]);
    let out = tempfile::tempdir().unwrap();
    let mut cmd = common::command(&[
        "run",
        "--provider",
        "anthropic",
        "--base-url",
        &proxy.url(),
        "--strategies",
        "batch-api",
        "--limit",
        "12",
        "--poll-max",
        "0.2",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    cmd.env("ANTHROPIC_API_KEY", PROXY_KEY);
    let done = common::run_within(cmd, Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.code, Some(0), "{stderr}");
    let s = statuses(&upstream);
    assert!(
        s.get("401").is_none(),
        "the upstream saw a refused key: {s}"
    );
    let results: Vec<String> = proxy
        .seen()
        .into_iter()
        .filter(|l| l.starts_with("GET /v1/messages/batches/") && l.ends_with("/results"))
        .collect();
    assert_eq!(
        results.len(),
        1,
        "results not fetched through the proxy: {:?}",
        proxy.seen()
    );
    assert!(
        stderr.contains(&upstream.anthropic_url()) && stderr.contains(&proxy.url()),
        "the rewrite warning names both origins: {stderr}"
    );
    assert!(!stderr.contains(PROXY_KEY) && !stderr.contains(UPSTREAM_KEY));
}

/// Runs `batchbench run` through the proxy with the OpenAI API and the given key.
fn run_openai(proxy: &Proxy, key: &str, args: &[&str]) -> common::Finished {
    let base = format!("{}/v1", proxy.url());
    let mut all = vec!["run", "--provider", "openai", "--base-url", &base];
    all.extend_from_slice(args);
    let mut cmd = common::command(&all);
    cmd.env("OPENAI_API_KEY", key);
    common::run_within(cmd, Duration::from_secs(180))
}

fn summary_rows(dir: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    r.deserialize().map(|row| row.unwrap()).collect()
}

#[test]
fn a_gateway_without_files_fails_batch_api_alone_and_resume_finishes_it() {
    let upstream = MockProcess::start(UPSTREAM_KEY, None);
    let proxy = gateway(&upstream, &["POST /v1/files"]);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let args = [
        "--strategies",
        "sequential,batch-api,packed:4",
        "--limit",
        "12",
        "--poll-max",
        "0.2",
        "--out",
        dir,
    ];
    let done = run_openai(&proxy, PROXY_KEY, &args);
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.code, Some(1), "{stderr}");
    let rows = summary_rows(out.path());
    let by: std::collections::HashMap<&str, &std::collections::HashMap<String, String>> =
        rows.iter().map(|r| (r["strategy"].as_str(), r)).collect();
    assert_eq!(rows.len(), 3, "every strategy is in summary.csv: {rows:?}");
    assert_eq!(by["sequential"]["status"], "complete");
    assert_eq!(by["packed:4"]["status"], "complete");
    let failed = by["batch-api"];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["answered"], "0");
    assert_eq!(
        failed["saving_vs_sequential_pct"], "",
        "a failed strategy saves nothing"
    );
    let reason = &failed["failure"];
    assert!(
        reason.contains("POST /v1/files") && reason.contains("404") && reason.contains("Not Found"),
        "{reason}"
    );
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        md.contains("POST /v1/files"),
        "report.md names the failure:\n{md}"
    );
    assert!(stderr.contains("--resume"), "{stderr}");
    assert!(stderr.contains("no Batch API"), "{stderr}");
    let prompts = std::fs::read_to_string(out.path().join("prompts.csv")).unwrap();
    let failed_rows = prompts
        .lines()
        .filter(|l| l.starts_with("batch-api,") && l.contains("POST /v1/files"))
        .count();
    assert_eq!(
        failed_rows, 12,
        "every batch-api prompt failed with the reason"
    );

    proxy.stop_refusing();
    let resumed = run_openai(&proxy, PROXY_KEY, &["--resume", dir]);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert_eq!(resumed.code, Some(0), "{stderr}");
    let rows = summary_rows(out.path());
    assert_eq!(rows.len(), 3, "{rows:?}\n{stderr}");
    assert!(rows.iter().all(|r| r["status"] == "complete"), "{rows:?}");
    let sequential_posts = proxy
        .seen()
        .iter()
        .filter(|l| *l == "POST /v1/chat/completions")
        .count();
    assert_eq!(
        sequential_posts,
        12 + 3,
        "resume sent only batch-api: sequential (12) and packed:4 (3) ran once"
    );
}

#[test]
fn a_refused_key_names_the_most_common_error() {
    let upstream = MockProcess::start(UPSTREAM_KEY, None);
    let proxy = gateway(&upstream, &[]);
    let out = tempfile::tempdir().unwrap();
    let args = [
        "--strategies",
        "sequential,packed:4",
        "--limit",
        "5",
        "--out",
        out.path().to_str().unwrap(),
    ];
    let done = run_openai(&proxy, "not-the-proxy-key", &args);
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.code, Some(1), "{stderr}");
    assert!(
        stderr.contains("5 of 5 prompts: POST /v1/chat/completions: HTTP 401: proxy: bad key"),
        "{stderr}"
    );
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
    let rows = summary_rows(out.path());
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["status"] == "failed"), "{rows:?}");
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains("HTTP 401"), "{md}");
}

#[test]
fn sweep_behind_a_server_without_batches_stands_on_packed_alone() {
    let upstream = MockProcess::start(UPSTREAM_KEY, None);
    let proxy = gateway(&upstream, &["POST /v1/files"]);
    let out = tempfile::tempdir().unwrap();
    let base = format!("{}/v1", proxy.url());
    let mut cmd = common::command(&[
        "sweep",
        "--provider",
        "openai",
        "--base-url",
        &base,
        "--sizes",
        "2,4",
        "--limit",
        "8",
        "--poll-max",
        "0.2",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    cmd.env("OPENAI_API_KEY", PROXY_KEY);
    let done = common::run_within(cmd, Duration::from_secs(180));
    let stderr = String::from_utf8_lossy(&done.stderr);
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert_eq!(done.code, Some(0), "{stderr}");
    assert!(stderr.contains("no Batch API"), "{stderr}");
    let files_posts = proxy
        .seen()
        .iter()
        .filter(|l| *l == "POST /v1/files")
        .count();
    assert_eq!(
        files_posts, 1,
        "after the first 404 no batch is tried again"
    );
    let rows = summary_rows(out.path());
    let status = |name: &str| {
        rows.iter()
            .find(|r| r["strategy"] == name)
            .map(|r| r["status"].clone())
    };
    assert_eq!(status("packed:4").as_deref(), Some("complete"), "{rows:?}");
    assert_eq!(status("batch-api+packed:4").as_deref(), Some("failed"));
    assert!(stdout.contains("packed:"), "{stdout}");
}
