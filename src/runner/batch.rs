//! Executing a plan through a provider's Batch API: build the input, split it at the provider's
//! request and byte limits, submit, poll with growing intervals, download and join the results
//! by `custom_id`. Ctrl-C cancels every submitted batch before returning.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::error::{Error, Result};
use crate::provider::{
    CallError, CallErrorKind, ChatRequest, ChatResponse, Client, ProviderKind, anthropic, openai,
};

/// Polling settings.
#[derive(Debug, Clone, Copy)]
pub struct PollConfig {
    /// First wait between polls.
    pub initial: Duration,
    /// Longest wait between polls.
    pub max: Duration,
    /// Give up waiting after this long (the batches are cancelled).
    pub timeout: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            timeout: Duration::from_secs(25 * 3600),
        }
    }
}

/// One submitted batch job.
#[derive(Debug, Clone)]
pub struct JobLog {
    /// The provider's batch id.
    pub batch_id: String,
    /// The final status (`completed`, `failed`, `expired`, `cancelled`, `ended`).
    pub status: String,
    /// Requests in it.
    pub requests: usize,
    /// Submitted, from the run's start.
    pub submitted: Duration,
    /// From submission to results downloaded.
    pub wall: Duration,
    /// Validation errors, for failed batches.
    pub error: Option<String>,
}

/// The results of a batch execution.
#[derive(Debug, Default)]
pub struct BatchRun {
    /// Per custom id: the answer or why there is none.
    pub results: HashMap<String, Result<ChatResponse, CallError>>,
    /// Per custom id: from the batch's submission to its results being downloaded.
    pub result_latency: HashMap<String, Duration>,
    /// Every batch job.
    pub jobs: Vec<JobLog>,
}

/// Splits requests into chunks that respect the provider's per-batch request and byte limits.
pub fn split_at_limits(
    sizes: &[usize],
    max_requests: usize,
    max_bytes: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, &size) in sizes.iter().enumerate() {
        let full = i - start >= max_requests || (i > start && bytes + size > max_bytes);
        if full {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

fn job_error(e: CallError) -> Error {
    Error::Provider(format!("batch API: {e}"))
}

struct Submitted {
    id: String,
    ids: Vec<String>,
    submitted_at: Instant,
    submitted: Duration,
}

/// Batches a previous (interrupted) run already submitted, and a callback told of each new one.
pub struct Resume<'a> {
    /// Batches submitted before: polled by id, never resubmitted.
    pub previous: &'a [super::journal::SubmittedBatch],
    /// Called with (batch id, custom ids, ms since the run's start) right after each creation.
    pub on_submit: &'a (dyn Fn(&str, &[String], f64) + Send + Sync),
    /// OpenAI batch creations under way when a previous run stopped: a batch made from one of
    /// these input files is adopted (and reported to `on_submit`) instead of submitted again.
    pub creating: &'a [super::journal::PendingCreation],
    /// Called with (input file id, custom ids) after an upload, before its batch is created.
    pub on_creating: &'a (dyn Fn(&str, &[String]) + Send + Sync),
}

/// Runs the requests (keyed by custom id) through the Batch API and waits for every result.
pub async fn execute(
    client: &Client,
    requests: &[(String, ChatRequest)],
    poll: PollConfig,
    run_start: Instant,
    on_poll: &(dyn Fn(&str) + Send + Sync),
    resume: Resume<'_>,
) -> Result<BatchRun> {
    let kind = client.endpoint().kind;
    let lines: Vec<String> = requests
        .iter()
        .map(|(id, r)| match kind {
            ProviderKind::Openai => openai::batch_line(id, r).to_string(),
            ProviderKind::Anthropic => anthropic::batch_request(id, r).to_string(),
        })
        .collect();
    let sizes: Vec<usize> = lines.iter().map(|l| l.len() + 1).collect();
    let (max_req, max_bytes) = match kind {
        ProviderKind::Openai => (openai::BATCH_MAX_REQUESTS, openai::BATCH_MAX_BYTES),
        ProviderKind::Anthropic => (anthropic::BATCH_MAX_REQUESTS, anthropic::BATCH_MAX_BYTES),
    };
    let mut run = BatchRun::default();
    let mut submitted: Vec<Submitted> = Vec::new();
    let mut covered: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for prev in resume.previous {
        covered.extend(prev.custom_ids.iter().map(String::as_str));
        submitted.push(Submitted {
            id: prev.batch_id.clone(),
            ids: prev.custom_ids.clone(),
            submitted_at: Instant::now(),
            submitted: Duration::from_secs_f64(prev.submitted_ms.max(0.0) / 1000.0),
        });
    }
    if kind == ProviderKind::Openai && !resume.creating.is_empty() {
        let recent = patient(|| openai::list_batches(client, 100))
            .await
            .map_err(job_error)?;
        for pending in resume.creating {
            let made = recent
                .iter()
                .find(|b| b.input_file_id.as_deref() == Some(pending.input_file_id.as_str()));
            if let Some(batch) = made {
                let since_start = Instant::now().saturating_duration_since(run_start);
                (resume.on_submit)(
                    &batch.id,
                    &pending.custom_ids,
                    since_start.as_secs_f64() * 1000.0,
                );
                covered.extend(pending.custom_ids.iter().map(String::as_str));
                submitted.push(Submitted {
                    id: batch.id.clone(),
                    ids: pending.custom_ids.clone(),
                    submitted_at: Instant::now(),
                    submitted: since_start,
                });
            }
        }
    }
    let remaining: Vec<usize> = (0..requests.len())
        .filter(|&i| !covered.contains(requests[i].0.as_str()))
        .collect();
    let remaining_sizes: Vec<usize> = remaining.iter().map(|&i| sizes[i]).collect();
    for local in split_at_limits(&remaining_sizes, max_req, max_bytes) {
        let picked: Vec<usize> = remaining[local].to_vec();
        let ids: Vec<String> = picked.iter().map(|&i| requests[i].0.clone()).collect();
        let submitted_at = Instant::now();
        let id = match kind {
            ProviderKind::Openai => {
                let mut body = picked
                    .iter()
                    .map(|&i| lines[i].as_str())
                    .collect::<Vec<_>>()
                    .join("\n");
                body.push('\n');
                let body = body.into_bytes();
                let file = patient(|| {
                    openai::upload_batch_file(client, "batchbench-input.jsonl", body.clone())
                })
                .await;
                let file = match file {
                    Ok(f) => f,
                    Err(e) => return Err(cancel_all(client, &submitted, job_error(e)).await),
                };
                (resume.on_creating)(&file.id, &ids);
                match create_openai(client, &file.id).await {
                    Ok(id) => id,
                    Err(e) => return Err(cancel_all(client, &submitted, job_error(e)).await),
                }
            }
            ProviderKind::Anthropic => {
                let values: Vec<serde_json::Value> = picked
                    .iter()
                    .map(|&i| anthropic::batch_request(&requests[i].0, &requests[i].1))
                    .collect();
                match create_anthropic(client, &values).await {
                    Ok(b) => b.id,
                    Err(e) => return Err(cancel_all(client, &submitted, job_error(e)).await),
                }
            }
        };
        let since_start = submitted_at.duration_since(run_start);
        (resume.on_submit)(&id, &ids, since_start.as_secs_f64() * 1000.0);
        submitted.push(Submitted {
            id,
            ids,
            submitted_at,
            submitted: since_start,
        });
    }
    let waited = tokio::select! {
        r = wait_all(client, &submitted, poll, on_poll, &mut run) => r,
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted("interrupted: the submitted batches were cancelled".into())),
    };
    if let Err(e) = waited {
        return Err(cancel_all(client, &submitted, e).await);
    }
    Ok(run)
}

async fn cancel_all(client: &Client, submitted: &[Submitted], cause: Error) -> Error {
    for s in submitted {
        let _ = match client.endpoint().kind {
            ProviderKind::Openai => openai::cancel_batch(client, &s.id).await.map(|_| ()),
            ProviderKind::Anthropic => anthropic::cancel_batch(client, &s.id).await.map(|_| ()),
        };
    }
    cause
}

async fn wait_all(
    client: &Client,
    submitted: &[Submitted],
    poll: PollConfig,
    on_poll: &(dyn Fn(&str) + Send + Sync),
    run: &mut BatchRun,
) -> Result<()> {
    let start = Instant::now();
    let mut pending: Vec<usize> = (0..submitted.len()).collect();
    let mut interval = poll.initial;
    while !pending.is_empty() {
        if start.elapsed() > poll.timeout {
            return Err(Error::Provider(format!(
                "batch API: {} batch(es) not finished after {:.0} s; cancelled",
                pending.len(),
                poll.timeout.as_secs_f64()
            )));
        }
        tokio::time::sleep(interval).await;
        interval = openai::next_poll(interval, poll.max);
        let mut still = Vec::new();
        for &i in &pending {
            let s = &submitted[i];
            let done = match client.endpoint().kind {
                ProviderKind::Openai => poll_openai(client, s, on_poll, run).await?,
                ProviderKind::Anthropic => poll_anthropic(client, s, on_poll, run).await?,
            };
            if !done {
                still.push(i);
            }
        }
        pending = still;
    }
    Ok(())
}

/// Retries a poll or download a few times on transient errors: a flaky poll must not lose a batch.
async fn patient<T, F, Fut>(mut f: F) -> std::result::Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, CallError>>,
{
    let mut wait = Duration::from_millis(200);
    for _ in 0..5 {
        match f().await {
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(e.retry_after.unwrap_or(wait).min(Duration::from_secs(30)))
                    .await;
                wait *= 2;
            }
            other => return other,
        }
    }
    f().await
}

/// Creates an OpenAI batch over `file_id`, retrying transient failures without ever creating
/// two: before each retry it looks for a batch already made from the same input file (the
/// creation may have succeeded although its answer was lost) and adopts it.
async fn create_openai(client: &Client, file_id: &str) -> std::result::Result<String, CallError> {
    let retrying = std::cell::Cell::new(false);
    patient(|| async {
        if retrying.replace(true) {
            let recent = patient(|| openai::list_batches(client, 100)).await?;
            if let Some(b) = recent
                .into_iter()
                .find(|b| b.input_file_id.as_deref() == Some(file_id))
            {
                return Ok(b.id);
            }
        }
        openai::create_batch(client, file_id, json!({"tool": "batchbench"}))
            .await
            .map(|b| b.id)
    })
    .await
}

/// Creates an Anthropic message batch, retrying only failures the server answered with a status
/// (429, 5xx, 529: nothing was created). A broken connection leaves the outcome unknown and
/// there is no idempotency key, so it is not retried: the error says so.
async fn create_anthropic(
    client: &Client,
    requests: &[serde_json::Value],
) -> std::result::Result<anthropic::MessageBatch, CallError> {
    let unknown_outcome = |e: &CallError| e.kind != CallErrorKind::Status;
    patient(|| async {
        anthropic::create_batch(client, requests)
            .await
            .map_err(|mut e| {
                if unknown_outcome(&e) {
                    e.should_retry = Some(false);
                }
                e
            })
    })
    .await
    .map_err(|mut e| {
        if unknown_outcome(&e) {
            e.message = format!(
                "{} (creating a message batch: whether it was created is unknown, so it was \
                 not retried; check the console for a batch to cancel)",
                e.message
            );
        }
        e
    })
}

fn record_missing(run: &mut BatchRun, s: &Submitted, why: &str) {
    let latency = s.submitted_at.elapsed();
    for id in &s.ids {
        run.results.entry(id.clone()).or_insert_with(|| {
            let mut e = CallError::new(CallErrorKind::Status, why.to_string());
            e.code = Some("missing_result".into());
            Err(e)
        });
        run.result_latency.entry(id.clone()).or_insert(latency);
    }
}

async fn poll_openai(
    client: &Client,
    s: &Submitted,
    on_poll: &(dyn Fn(&str) + Send + Sync),
    run: &mut BatchRun,
) -> Result<bool> {
    let batch = patient(|| openai::get_batch(client, &s.id))
        .await
        .map_err(job_error)?;
    let counts = batch.request_counts.unwrap_or_default();
    on_poll(&format!(
        "{} {} {}/{}",
        s.id,
        batch.status,
        counts.completed + counts.failed,
        counts.total
    ));
    if !batch.is_terminal() {
        return Ok(false);
    }
    let mut error = None;
    for file in [&batch.output_file_id, &batch.error_file_id]
        .into_iter()
        .flatten()
    {
        let bytes = patient(|| openai::file_content(client, file))
            .await
            .map_err(job_error)?;
        ingest(run, s, &bytes, openai::parse_batch_line)?;
        let _ = openai::delete_file(client, file).await;
    }
    if batch.status == "failed" {
        error = Some(batch.error_summary());
    }
    let why = match batch.status.as_str() {
        "failed" => format!(
            "batch {} failed validation: {}",
            s.id,
            error.as_deref().unwrap_or("")
        ),
        status => format!("no result for this request in batch {} ({status})", s.id),
    };
    record_missing(run, s, &why);
    run.jobs.push(JobLog {
        batch_id: s.id.clone(),
        status: batch.status.clone(),
        requests: s.ids.len(),
        submitted: s.submitted,
        wall: s.submitted_at.elapsed(),
        error,
    });
    Ok(true)
}

async fn poll_anthropic(
    client: &Client,
    s: &Submitted,
    on_poll: &(dyn Fn(&str) + Send + Sync),
    run: &mut BatchRun,
) -> Result<bool> {
    let batch = patient(|| anthropic::get_batch(client, &s.id))
        .await
        .map_err(job_error)?;
    let c = batch.request_counts;
    on_poll(&format!(
        "{} {} {}/{}",
        s.id,
        batch.processing_status,
        s.ids.len() as u64 - c.processing,
        s.ids.len()
    ));
    if !batch.is_ended() {
        return Ok(false);
    }
    let bytes = patient(|| anthropic::results(client, &batch))
        .await
        .map_err(job_error)?;
    ingest(run, s, &bytes, anthropic::parse_result_line)?;
    record_missing(
        run,
        s,
        &format!("no result for this request in batch {}", s.id),
    );
    run.jobs.push(JobLog {
        batch_id: s.id.clone(),
        status: "ended".into(),
        requests: s.ids.len(),
        submitted: s.submitted,
        wall: s.submitted_at.elapsed(),
        error: None,
    });
    Ok(true)
}

/// Joins result lines to requests by custom id; unknown ids and unparsable lines are errors in the
/// provider's output, reported rather than guessed at.
fn ingest(
    run: &mut BatchRun,
    s: &Submitted,
    bytes: &[u8],
    parse: fn(&str) -> std::result::Result<openai::BatchResult, String>,
) -> Result<()> {
    let text = String::from_utf8_lossy(bytes);
    let latency = s.submitted_at.elapsed();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let r = parse(line)
            .map_err(|e| Error::Provider(format!("batch {}: result line {}: {e}", s.id, n + 1)))?;
        if !s.ids.contains(&r.custom_id) {
            return Err(Error::Provider(format!(
                "batch {}: result line {} has custom_id {:?}, which this batch never sent",
                s.id,
                n + 1,
                r.custom_id
            )));
        }
        if run.results.contains_key(&r.custom_id) && run.results[&r.custom_id].is_ok() {
            continue;
        }
        run.result_latency.insert(r.custom_id.clone(), latency);
        run.results.insert(r.custom_id, r.outcome);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_at_limits;

    #[test]
    fn splits_on_count_and_bytes() {
        assert_eq!(split_at_limits(&[10; 5], 2, 1000), vec![0..2, 2..4, 4..5]);
        assert_eq!(split_at_limits(&[40, 40, 40], 10, 100), vec![0..2, 2..3]);
        assert_eq!(split_at_limits(&[200], 10, 100), vec![0..1]);
        assert!(split_at_limits(&[], 10, 100).is_empty());
    }
}
