//! Executing a plan through a provider's Batch API: build the input, split it at the provider's
//! request and byte limits, submit, poll with growing intervals, download and join the results
//! by `custom_id`. Ctrl-C cancels every submitted batch before returning.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::provider::api::{BatchApi, BatchEndpoint, Ended};
use crate::provider::{CallError, CallErrorKind, ChatRequest, ChatResponse, openai};

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
    /// Each status the batch was first seen in by a poll, with the time from its creation (so
    /// each time is late by at most one poll interval).
    pub states: Vec<(String, Duration)>,
}

impl JobLog {
    /// The states as requests.csv writes them: `in_progress 1012; completed 5311` (ms).
    pub fn states_text(&self) -> Option<String> {
        (!self.states.is_empty()).then(|| {
            self.states
                .iter()
                .map(|(s, t)| format!("{s} {}", t.as_millis()))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// The results of a batch execution; `T` is one line's answer (a chat completion unless said
/// otherwise).
#[derive(Debug)]
pub struct BatchRun<T = ChatResponse> {
    /// Per custom id: the answer or why there is none.
    pub results: HashMap<String, Result<T, CallError>>,
    /// Per custom id: from the batch's submission to its results being downloaded.
    pub result_latency: HashMap<String, Duration>,
    /// Every batch job.
    pub jobs: Vec<JobLog>,
}

impl<T> Default for BatchRun<T> {
    fn default() -> Self {
        BatchRun {
            results: HashMap::new(),
            result_latency: HashMap::new(),
            jobs: Vec::new(),
        }
    }
}

/// Reads one result line into (custom id, the answer or why there is none).
pub type LineParser<'a, T> = &'a (
        dyn Fn(&str) -> std::result::Result<(String, std::result::Result<T, CallError>), String>
            + Send
            + Sync
    );

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
    states: Vec<(String, Duration)>,
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
    api: &dyn BatchApi,
    requests: &[(String, ChatRequest)],
    poll: PollConfig,
    run_start: Instant,
    on_poll: &(dyn Fn(&str) + Send + Sync),
    resume: Resume<'_>,
) -> Result<BatchRun> {
    let lines: Vec<(String, String)> = requests
        .iter()
        .map(|(id, r)| (id.clone(), api.encode(id, r)))
        .collect();
    let parse = |line: &str| api.parse_result(line).map(|r| (r.custom_id, r.outcome));
    let job = Job {
        endpoint: BatchEndpoint::Chat,
        max_requests: api.limits().0,
    };
    execute_encoded(api, job, &lines, poll, run_start, on_poll, resume, &parse).await
}

/// Which endpoint a batch's lines go to, and the most lines one batch may take (below the
/// provider's request cap when the endpoint caps something else, such as embedding inputs).
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// The lines' endpoint.
    pub endpoint: BatchEndpoint,
    /// Most lines per batch.
    pub max_requests: usize,
}

/// [`execute`] over lines already encoded (custom id, line), read back with `parse`: the one
/// lifecycle (split, submit, adopt, poll, download, cancel) every endpoint shares.
#[allow(clippy::too_many_arguments)]
pub async fn execute_encoded<T>(
    api: &dyn BatchApi,
    job: Job,
    requests: &[(String, String)],
    poll: PollConfig,
    run_start: Instant,
    on_poll: &(dyn Fn(&str) + Send + Sync),
    resume: Resume<'_>,
    parse: LineParser<'_, T>,
) -> Result<BatchRun<T>> {
    let sizes: Vec<usize> = requests.iter().map(|(_, l)| l.len() + 1).collect();
    let (max_req, max_bytes) = api.limits();
    let max_req = max_req.min(job.max_requests).max(1);
    let mut run = BatchRun::default();
    let mut submitted = adopt(api, &resume, run_start).await?;
    let covered: std::collections::HashSet<&str> = submitted
        .iter()
        .flat_map(|s| s.ids.iter().map(String::as_str))
        .collect();
    let remaining: Vec<usize> = (0..requests.len())
        .filter(|&i| !covered.contains(requests[i].0.as_str()))
        .collect();
    let remaining_sizes: Vec<usize> = remaining.iter().map(|&i| sizes[i]).collect();
    for local in split_at_limits(&remaining_sizes, max_req, max_bytes) {
        let picked: Vec<usize> = remaining[local].to_vec();
        let ids: Vec<String> = picked.iter().map(|&i| requests[i].0.clone()).collect();
        let encoded: Vec<String> = picked.iter().map(|&i| requests[i].1.clone()).collect();
        let submitted_at = Instant::now();
        let on_input = |file_id: &str| (resume.on_creating)(file_id, &ids);
        let id = match api.submit(job.endpoint, encoded, &on_input).await {
            Ok(id) => id,
            Err(e) => return Err(cancel_all(api, &submitted, job_error(e)).await),
        };
        let since_start = submitted_at.duration_since(run_start);
        (resume.on_submit)(&id, &ids, since_start.as_secs_f64() * 1000.0);
        submitted.push(Submitted {
            id,
            ids,
            submitted_at,
            submitted: since_start,
            states: Vec::new(),
        });
    }
    let waited = tokio::select! {
        r = wait_all(api, &mut submitted, poll, on_poll, &mut run, parse) => r,
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted("interrupted: the submitted batches were cancelled".into())),
    };
    if let Err(e) = waited {
        return Err(cancel_all(api, &submitted, e).await);
    }
    Ok(run)
}

/// The batches a previous run submitted, and those whose creation it began: a batch the server
/// made from one of those input files is adopted (and reported to `on_submit`), not made again.
async fn adopt(
    api: &dyn BatchApi,
    resume: &Resume<'_>,
    run_start: Instant,
) -> Result<Vec<Submitted>> {
    let mut submitted: Vec<Submitted> = resume
        .previous
        .iter()
        .map(|prev| Submitted {
            id: prev.batch_id.clone(),
            ids: prev.custom_ids.clone(),
            submitted_at: Instant::now(),
            submitted: Duration::from_secs_f64(prev.submitted_ms.max(0.0) / 1000.0),
            states: Vec::new(),
        })
        .collect();
    if resume.creating.is_empty() {
        return Ok(submitted);
    }
    let recent = api.recent().await.map_err(job_error)?;
    for pending in resume.creating {
        let made = recent
            .iter()
            .find(|(_, file)| *file == pending.input_file_id);
        if let Some((batch_id, _)) = made {
            let since_start = Instant::now().saturating_duration_since(run_start);
            (resume.on_submit)(
                batch_id,
                &pending.custom_ids,
                since_start.as_secs_f64() * 1000.0,
            );
            submitted.push(Submitted {
                id: batch_id.clone(),
                ids: pending.custom_ids.clone(),
                submitted_at: Instant::now(),
                submitted: since_start,
                states: Vec::new(),
            });
        }
    }
    Ok(submitted)
}

async fn cancel_all(api: &dyn BatchApi, submitted: &[Submitted], cause: Error) -> Error {
    for s in submitted {
        let _ = api.cancel(&s.id).await;
    }
    cause
}

async fn wait_all<T>(
    api: &dyn BatchApi,
    submitted: &mut [Submitted],
    poll: PollConfig,
    on_poll: &(dyn Fn(&str) + Send + Sync),
    run: &mut BatchRun<T>,
    parse: LineParser<'_, T>,
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
            if !poll_once(api, &mut submitted[i], on_poll, run, parse).await? {
                still.push(i);
            }
        }
        pending = still;
    }
    Ok(())
}

fn record_missing<T>(run: &mut BatchRun<T>, s: &Submitted, why: &str) {
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

/// Polls one batch; once it has ended, downloads and joins its results, records every request
/// without one, and logs the job. Returns whether it has ended.
async fn poll_once<T>(
    api: &dyn BatchApi,
    s: &mut Submitted,
    on_poll: &(dyn Fn(&str) + Send + Sync),
    run: &mut BatchRun<T>,
    parse: LineParser<'_, T>,
) -> Result<bool> {
    let polled = api.poll(&s.id, s.ids.len()).await.map_err(job_error)?;
    on_poll(&polled.progress);
    if s.states
        .last()
        .is_none_or(|(last, _)| *last != polled.status)
    {
        s.states
            .push((polled.status.clone(), s.submitted_at.elapsed()));
    }
    let Some(ended) = polled.ended else {
        return Ok(false);
    };
    for bytes in api.results(&s.id, &ended).await.map_err(job_error)? {
        ingest(run, s, &bytes, parse)?;
    }
    record_missing(run, s, &missing_reason(&s.id, &ended));
    run.jobs.push(JobLog {
        batch_id: s.id.clone(),
        status: ended.status.clone(),
        requests: s.ids.len(),
        submitted: s.submitted,
        wall: s.submitted_at.elapsed(),
        error: ended.error.clone(),
        states: s.states.clone(),
    });
    Ok(true)
}

/// Why a request of an ended batch has no result.
fn missing_reason(id: &str, ended: &Ended) -> String {
    match (ended.status.as_str(), &ended.error) {
        ("failed", error) => format!(
            "batch {id} failed validation: {}",
            error.as_deref().unwrap_or("")
        ),
        ("ended", _) => format!("no result for this request in batch {id}"),
        (status, _) => format!("no result for this request in batch {id} ({status})"),
    }
}

/// Joins result lines to requests by custom id; unknown ids and unparsable lines are errors in the
/// provider's output, reported rather than guessed at.
fn ingest<T>(
    run: &mut BatchRun<T>,
    s: &Submitted,
    bytes: &[u8],
    parse: LineParser<'_, T>,
) -> Result<()> {
    let text = String::from_utf8_lossy(bytes);
    let latency = s.submitted_at.elapsed();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (custom_id, outcome) = parse(line)
            .map_err(|e| Error::Provider(format!("batch {}: result line {}: {e}", s.id, n + 1)))?;
        if !s.ids.contains(&custom_id) {
            return Err(Error::Provider(format!(
                "batch {}: result line {} has custom_id {custom_id:?}, which this batch never sent",
                s.id,
                n + 1,
            )));
        }
        if run.results.get(&custom_id).is_some_and(|r| r.is_ok()) {
            continue;
        }
        run.result_latency.insert(custom_id.clone(), latency);
        run.results.insert(custom_id, outcome);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::fake::FakeProvider;
    use crate::runner::tests::request;

    fn poll() -> PollConfig {
        PollConfig {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(2),
            timeout: Duration::from_secs(10),
        }
    }

    async fn run_through(fake: &FakeProvider, n: usize) -> (Result<BatchRun>, Vec<String>) {
        let requests: Vec<(String, ChatRequest)> = (0..n)
            .map(|i| (format!("r{i}"), request(&format!("q{i}"))))
            .collect();
        let journaled = std::sync::Mutex::new(Vec::new());
        let on_submit = |id: &str, _: &[String], _: f64| journaled.lock().unwrap().push(id.into());
        let resume = Resume {
            previous: &[],
            on_submit: &on_submit,
            creating: &[],
            on_creating: &|_, _| {},
        };
        let run = execute(fake, &requests, poll(), Instant::now(), &|_| {}, resume).await;
        (run, journaled.into_inner().unwrap())
    }

    #[tokio::test]
    async fn splits_at_the_limit_polls_until_ended_and_joins_by_custom_id() {
        let mut fake = FakeProvider::new(|r, _| {
            Ok(FakeProvider::answer(
                &r.messages[0].content.replace('q', "a"),
                5,
                1,
            ))
        });
        fake.limits = (2, 1 << 20);
        fake.polls_until_ended = 3;
        let (run, journaled) = run_through(&fake, 5).await;
        let run = run.unwrap();
        assert_eq!(journaled, vec!["batch_0", "batch_1", "batch_2"]);
        let sizes: Vec<usize> = fake.submitted().iter().map(|(_, ids)| ids.len()).collect();
        assert_eq!(sizes, vec![2, 2, 1]);
        assert_eq!(run.jobs.len(), 3);
        assert!(run.jobs.iter().all(|j| j.status == "completed"));
        for i in 0..5 {
            let answer = run.results[&format!("r{i}")].as_ref().unwrap();
            assert_eq!(answer.text, format!("a{i}"));
        }
    }

    #[tokio::test]
    async fn a_failed_submission_cancels_the_batches_already_made() {
        let mut fake = FakeProvider::new(|_, _| Ok(FakeProvider::answer("x", 1, 1)));
        fake.limits = (1, 1 << 20);
        let mut refused = CallError::new(CallErrorKind::Status, "Not Found");
        refused.status = Some(404);
        refused.endpoint = Some("POST /v1/files".into());
        fake.fail_submit = Some((2, refused));
        let (run, _) = run_through(&fake, 3).await;
        let e = run.unwrap_err().to_string();
        assert_eq!(e, "batch API: POST /v1/files: HTTP 404: Not Found");
        assert_eq!(fake.cancelled(), vec!["batch_0", "batch_1"]);
    }

    #[test]
    fn splits_on_count_and_bytes() {
        assert_eq!(split_at_limits(&[10; 5], 2, 1000), vec![0..2, 2..4, 4..5]);
        assert_eq!(split_at_limits(&[40, 40, 40], 10, 100), vec![0..2, 2..3]);
        assert_eq!(split_at_limits(&[200], 10, 100), vec![0..1]);
        assert!(split_at_limits(&[], 10, 100).is_empty());
    }
}
