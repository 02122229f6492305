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
