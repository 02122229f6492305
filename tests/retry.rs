//! The retry rules against the built-in mock: which statuses are retried, how many times, how
//! long the runner waits (the server's `retry-after`, else exponential backoff), the order of
//! attempts, and pacing from the rate-limit headers.

use std::time::{Duration, Instant};

use batchbench::mock::{MockConfig, MockServer, Oracle};
use batchbench::provider::{ChatRequest, Client, Endpoint, ProviderKind, Timeouts};
use batchbench::runner::{RetryPolicy, Runner};
use batchbench::secret::Secret;

async fn mock(config: MockConfig) -> MockServer {
    MockServer::start(config, Oracle::empty(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap()
}

fn quiet_config() -> MockConfig {
    let mut c = MockConfig {
        time_scale: 0.0,
        ..MockConfig::default()
    };
    c.error_model.enabled = false;
    c
}

fn runner(server: &MockServer, kind: ProviderKind, retry: RetryPolicy) -> Runner {
    let base_url = match kind {
        ProviderKind::Openai => server.openai_base_url(),
        ProviderKind::Anthropic => server.anthropic_base_url(),
        ProviderKind::Gemini => server.gemini_base_url(),
    };
    let client = Client::new(Endpoint {
        kind,
        base_url,
        key: Secret::new("test-key"),
        timeouts: Timeouts::default(),
    })
    .unwrap();
    Runner::new(client, retry, Instant::now(), 1)
}

fn request(model: &str) -> ChatRequest {
    ChatRequest::new(model, None, "Is 7 a prime number?", 8)
}

async fn inject(server: &MockServer, fault: &str, count: u32) {
    let r = reqwest::Client::new()
        .post(format!("http://{}/_mock/inject", server.addr()))
        .json(&serde_json::json!({"fault": fault, "count": count}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(40),
        max_backoff: Duration::from_millis(200),
        ..RetryPolicy::default()
    }
}

fn statuses(o: &batchbench::runner::Outcome) -> Vec<String> {
    o.attempts
        .iter()
        .map(|a| match &a.result {
            Ok(_) => "200".to_string(),
            Err(e) => e.label(),
        })
        .collect()
}

#[tokio::test]
async fn retries_429_after_the_servers_retry_after() {
    let server = mock(quiet_config()).await;
    let r = runner(&server, ProviderKind::Openai, fast());
    inject(&server, "429", 1).await;
    let o = r.send(&request("gpt-4o-mini"), 0).await;
    assert_eq!(statuses(&o), ["429", "200"]);
    // The mock asks for `retry-after: 1` (whole seconds): the second attempt starts after it.
    let gap = o.attempts[1].started - o.attempts[0].started;
    assert!(gap >= Duration::from_secs(1), "{gap:?}");
    assert!(o.attempts[0].result.as_ref().unwrap_err().retry_after == Some(Duration::from_secs(1)));
    server.shutdown().await;
}

#[tokio::test]
async fn retries_5xx_and_overloaded_with_backoff_in_order() {
    for (kind, fault, model) in [
        (ProviderKind::Openai, "500", "gpt-4o-mini"),
        (ProviderKind::Anthropic, "500", "claude-haiku-4-5"),
        (ProviderKind::Anthropic, "529", "claude-haiku-4-5"),
    ] {
        let server = mock(quiet_config()).await;
        let r = runner(&server, kind, fast());
        inject(&server, fault, 2).await;
        let o = r.send(&request(model), 0).await;
        let got = statuses(&o);
        assert_eq!(got.len(), 3, "{kind:?} {fault}: {got:?}");
        assert_eq!(got[2], "200");
        assert!(got[..2].iter().all(|s| s == fault), "{got:?}");
        for w in o.attempts.windows(2) {
            assert!(
                w[1].started > w[0].started + w[0].latency,
                "attempts are sequential and ordered"
            );
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    let server = mock(quiet_config()).await;
    let r = runner(
        &server,
        ProviderKind::Openai,
        RetryPolicy {
            max_retries: 2,
            ..fast()
        },
    );
    inject(&server, "500", 5).await;
    let o = r.send(&request("gpt-4o-mini"), 0).await;
    assert_eq!(statuses(&o), ["500", "500", "500"]);
    assert!(o.result().is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn never_retries_other_4xx() {
    let server = mock(quiet_config()).await;
    let r = runner(&server, ProviderKind::Openai, fast());
    let o = r.send(&request("no-such-model"), 0).await;
    assert_eq!(statuses(&o), ["404"]);
    let bad_key = Client::new(Endpoint {
        kind: ProviderKind::Openai,
        base_url: server.openai_base_url(),
        key: Secret::new(""),
        timeouts: Timeouts::default(),
    })
    .unwrap();
    let o = Runner::new(bad_key, fast(), Instant::now(), 1)
        .send(&request("gpt-4o-mini"), 0)
        .await;
    assert_eq!(statuses(&o), ["401"]);
    let stats = server.stats();
    assert_eq!(stats["statuses"]["404"], 1, "{stats}");
    server.shutdown().await;
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let server = mock(quiet_config()).await;
    let r = runner(&server, ProviderKind::Openai, fast());
    inject(&server, "drop", 1).await;
    let o = r.send(&request("gpt-4o-mini"), 0).await;
    // The 200 arrived before the body broke off: the attempt is labelled as possibly billed.
    assert_eq!(statuses(&o), ["dropped", "200"]);
    let err = o.attempts[0].result.as_ref().unwrap_err();
    assert!(
        err.message.contains("may have completed and billed"),
        "{err}"
    );
    assert!(err.request_id.is_some(), "{err:?}");
    // The mock generated (and counted) both answers: 8 output tokens each.
    let stats = server.stats();
    assert_eq!(stats["tokens"]["output"], 16, "{stats}");
    server.shutdown().await;
}

#[tokio::test]
async fn connections_reset_before_processing_are_retried_and_not_completed() {
    let server = mock(quiet_config()).await;
    let r = runner(&server, ProviderKind::Openai, fast());
    inject(&server, "reset", 1).await;
    let o = r.send(&request("gpt-4o-mini"), 0).await;
    // Nothing arrived: a plain connection failure, retried; the mock answered only once.
    assert_eq!(statuses(&o), ["connect", "200"]);
    let stats = server.stats();
    assert_eq!(stats["faults"]["reset"], 1, "{stats}");
    assert_eq!(
        stats["endpoints"]["POST /v1/chat/completions"], 2,
        "{stats}"
    );
    assert_eq!(stats["tokens"]["output"], 8, "{stats}");
    // Two statuses counted: the inject call and the answer; the reset wrote none.
    assert_eq!(stats["statuses"]["200"], 2, "{stats}");
    assert_eq!(stats["statuses"].as_object().unwrap().len(), 1, "{stats}");
    server.shutdown().await;
}

#[tokio::test]
async fn anthropic_stream_cut_after_200_is_dropped_not_connect() {
    let server = mock(quiet_config()).await;
    let r = runner(&server, ProviderKind::Anthropic, fast());
    inject(&server, "truncated_sse", 1).await;
    let mut req = request("claude-haiku-4-5");
    req.stream = true;
    let o = r.send(&req, 0).await;
    assert_eq!(statuses(&o), ["dropped", "200"]);
    server.shutdown().await;
}

#[tokio::test]
async fn pacing_from_rate_limit_headers_avoids_a_429_storm() {
    let mut config = quiet_config();
    config.rate_limits.rpm = Some(120);
    config.rate_limits.tpm = None;
    let server = mock(config).await;
    let r = runner(&server, ProviderKind::Openai, fast());
    let requests: Vec<ChatRequest> = (0..130).map(|_| request("gpt-4o-mini")).collect();
    let t = Instant::now();
    let outcomes = r.execute(&requests, 16, |_| {}).await;
    let attempts: usize = outcomes.iter().map(|o| o.attempts.len()).sum();
    let limited = outcomes
        .iter()
        .flat_map(|o| &o.attempts)
        .filter(|a| matches!(&a.result, Err(e) if e.status == Some(429)))
        .count();
    assert!(outcomes.iter().all(|o| o.result().is_ok()));
    // 130 requests against 120 per minute: the first ones drain the bucket, then the pacer waits
    // for it to refill (2 per second) instead of sending into 429s.
    assert!(limited <= 16, "{limited} 429s in {attempts} attempts");
    assert!(t.elapsed() >= Duration::from_secs(4), "{:?}", t.elapsed());
    server.shutdown().await;
}

/// With the Files and Batches endpoints failing too (429, 500, resets before processing), a
/// batch still completes: uploads, polls and downloads are retried, the creation is retried
/// without ever creating a second batch, and no request is completed twice.
#[tokio::test]
async fn batch_endpoint_faults_are_retried_without_a_second_batch() {
    let mut config = quiet_config();
    config.faults.batch_endpoints = true;
    config.faults.rate_429 = 0.12;
    config.faults.rate_500 = 0.08;
    config.faults.rate_reset = 0.05;
    config.faults.retry_after_secs = 0.01;
    let stats = batch_under_faults(config, 30, &[]).await;
    let control_faults: u64 = stats["faults"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("files_batches_"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    assert!(control_faults > 0, "{stats}");
}

/// A batch creation whose answer is lost (the body cut after the batch was made) is not
/// repeated: the client finds the batch made from its input file and adopts it.
#[tokio::test]
async fn a_lost_batch_creation_answer_adopts_the_batch_instead_of_a_second_one() {
    let stats = batch_under_faults(quiet_config(), 10, &[("POST /v1/batches", "drop")]).await;
    assert_eq!(stats["faults"]["files_batches_drop"], 1, "{stats}");
    assert_eq!(stats["endpoints"]["POST /v1/batches"], 1, "{stats}");
    // The client looked the batch up instead of creating another.
    assert_eq!(stats["endpoints"]["GET /v1/batches"], 1, "{stats}");
}

/// A creation refused with a status (nothing created) is simply sent again.
#[tokio::test]
async fn a_refused_batch_creation_is_sent_again() {
    let stats = batch_under_faults(quiet_config(), 10, &[("POST /v1/batches", "500")]).await;
    assert_eq!(stats["endpoints"]["POST /v1/batches"], 2, "{stats}");
}

/// Runs `n` requests through one OpenAI batch against a mock with `config` and the given
/// (endpoint, fault) one-shot faults; checks that every request was answered once, by one batch;
/// returns the mock's stats.
async fn batch_under_faults(
    config: MockConfig,
    n: usize,
    faults: &[(&str, &str)],
) -> serde_json::Value {
    use batchbench::runner::batch::{self, PollConfig, Resume};
    let server = mock(config).await;
    for (endpoint, fault) in faults {
        let r = reqwest::Client::new()
            .post(format!("http://{}/_mock/inject", server.addr()))
            .json(&serde_json::json!({"fault": fault, "endpoint": endpoint}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let r = runner(&server, ProviderKind::Openai, fast());
    let requests: Vec<(String, ChatRequest)> = (0..n)
        .map(|i| (format!("r{i}"), request("gpt-4o-mini")))
        .collect();
    let poll = PollConfig {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(50),
        timeout: Duration::from_secs(60),
    };
    let on_submit = |_: &str, _: &[String], _: f64| {};
    let run = batch::execute(
        r.batch_api(),
        &requests,
        poll,
        Instant::now(),
        &|_| {},
        Resume {
            previous: &[],
            on_submit: &on_submit,
            creating: &[],
            on_creating: &|_, _| {},
        },
    )
    .await
    .unwrap();
    let stats = server.stats();
    assert_eq!(run.jobs.len(), 1, "{:?}", run.jobs);
    assert_eq!(run.results.len(), n);
    assert!(run.results.values().all(|r| r.is_ok()), "{:?}", run.results);
    assert_eq!(stats["max_completions_per_custom_id"], 1, "{stats}");
    assert_eq!(
        stats["custom_ids_completed"].as_object().unwrap().len(),
        n,
        "{stats}"
    );
    server.shutdown().await;
    stats
}

/// A run killed while its batch was being created left the batch at the provider but not its id
/// in the journal; the resumed run finds the batch by its input file and polls it instead of
/// paying for a second one.
#[tokio::test]
async fn a_batch_created_before_a_crash_is_adopted_on_resume() {
    use batchbench::provider::openai;
    use batchbench::runner::batch::{self, PollConfig, Resume};
    use batchbench::runner::journal::PendingCreation;
    let server = mock(quiet_config()).await;
    let r = runner(&server, ProviderKind::Openai, fast());
    let requests: Vec<(String, ChatRequest)> = (0..10)
        .map(|i| (format!("r{i}"), request("gpt-4o-mini")))
        .collect();
    let mut lines: String = requests
        .iter()
        .map(|(id, req)| openai::batch_line(id, req).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    lines.push('\n');
    let file = openai::upload_batch_file(r.client().unwrap(), "input.jsonl", lines.into_bytes())
        .await
        .unwrap();
    let made = openai::create_batch(r.client().unwrap(), &file.id, serde_json::json!({}))
        .await
        .unwrap();
    let pending = [PendingCreation {
        input_file_id: file.id.clone(),
        custom_ids: requests.iter().map(|(id, _)| id.clone()).collect(),
    }];
    let journaled = std::sync::Mutex::new(Vec::new());
    let on_submit = |id: &str, ids: &[String], _: f64| {
        journaled.lock().unwrap().push((id.to_string(), ids.len()));
    };
    let run = batch::execute(
        r.batch_api(),
        &requests,
        PollConfig {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(50),
            timeout: Duration::from_secs(60),
        },
        Instant::now(),
        &|_| {},
        Resume {
            previous: &[],
            on_submit: &on_submit,
            creating: &pending,
            on_creating: &|_, _| panic!("nothing should be uploaded again"),
        },
    )
    .await
    .unwrap();
    assert_eq!(*journaled.lock().unwrap(), [(made.id.clone(), 10)]);
    assert_eq!(run.jobs.len(), 1);
    assert_eq!(run.jobs[0].batch_id, made.id);
    assert!(run.results.values().all(|r| r.is_ok()), "{:?}", run.results);
    let stats = server.stats();
    assert_eq!(stats["endpoints"]["POST /v1/batches"], 1, "{stats}");
    assert_eq!(stats["endpoints"]["POST /v1/files"], 1, "{stats}");
    assert_eq!(stats["max_completions_per_custom_id"], 1, "{stats}");
    server.shutdown().await;
}
