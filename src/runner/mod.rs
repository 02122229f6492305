//! Sending planned requests: a concurrency limit, retries with backoff that honour the server's
//! `retry-after`, a stop on exhausted quota, and one log entry per attempt. The runner knows
//! nothing about prices or answers.

pub mod batch;
pub mod journal;
pub mod pacing;
pub mod progress;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use rand::SeedableRng;
use tokio::sync::Semaphore;

pub use crate::retry::{self, Decision, RetryPolicy};

use crate::provider::api::{BatchApi, ChatApi, EmbedApi};
use crate::provider::embeddings::{EmbedRequest, EmbedResponse};
use crate::provider::ratelimit::RateLimitInfo;
use crate::provider::{CallError, CallErrorKind, ChatRequest, ChatResponse, Client, ServiceTier};

/// One attempt at one request; `T` is what a successful attempt returns (a chat answer unless
/// said otherwise, embeddings for `run --task embed`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AttemptLog<T = ChatResponse> {
    /// 1-based.
    pub attempt: u32,
    /// When it was sent, from the run's start.
    pub started: Duration,
    /// How long it took.
    pub latency: Duration,
    /// The response, or the error.
    pub result: Result<T, CallError>,
    /// The service tier this attempt asked for (a flex fallback asks for `default`).
    #[serde(default)]
    pub asked_tier: Option<ServiceTier>,
}

/// The final outcome of one request, with all its attempts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Outcome<T = ChatResponse> {
    /// Index into the slice that was executed.
    pub index: usize,
    /// Every attempt, in order; the last one holds the final result.
    pub attempts: Vec<AttemptLog<T>>,
    /// From the first send to the final result, backoff waits included.
    pub latency: Duration,
}

impl<T> Outcome<T> {
    /// The final result.
    pub fn result(&self) -> Result<&T, &CallError> {
        match self.attempts.last().map(|a| a.result.as_ref()) {
            Some(Ok(r)) => Ok(r),
            Some(Err(e)) => Err(e),
            None => Err(never_sent()),
        }
    }

    fn unsent(index: usize) -> Outcome<T> {
        Outcome {
            index,
            attempts: Vec::new(),
            latency: Duration::ZERO,
        }
    }
}

fn never_sent() -> &'static CallError {
    static NEVER_SENT: std::sync::LazyLock<CallError> = std::sync::LazyLock::new(|| {
        CallError::new(CallErrorKind::Connect, "request was never sent")
    });
    &NEVER_SENT
}

/// What a successful response tells the pacer: the rate limits the server reported with it.
pub trait Paced {
    /// The limits reported on this response, when the server sent any.
    fn rate_limit(&self) -> Option<RateLimitInfo>;
}

impl Paced for ChatResponse {
    fn rate_limit(&self) -> Option<RateLimitInfo> {
        self.rate_limit
    }
}

impl Paced for EmbedResponse {
    fn rate_limit(&self) -> Option<RateLimitInfo> {
        self.rate_limit
    }
}

/// What a request is charged against a tokens-per-minute limit before it runs, as providers
/// estimate it: about four characters per input token, plus the output allowance.
pub fn rate_estimate(request: &ChatRequest) -> u64 {
    let chars: usize = request.system.as_ref().map_or(0, String::len)
        + request
            .messages
            .iter()
            .map(|m| m.content.len())
            .sum::<usize>();
    (chars as u64).div_ceil(4) + u64::from(request.max_tokens)
}

/// Where a runner's outcomes go in the resume journal: the strategy, the phase and the planned
/// request ids (by position in the executed slice).
#[derive(Clone, Copy)]
pub struct JournalScope<'a> {
    /// The journal.
    pub journal: &'a journal::Journal,
    /// Strategy id.
    pub strategy: &'a str,
    /// `main` or `reask`.
    pub phase: &'a str,
    /// Planned request ids, one per executed request.
    pub ids: &'a [String],
}

impl JournalScope<'_> {
    fn replayed(&self, i: usize) -> Option<Outcome> {
        self.journal
            .outcome(self.strategy, self.phase, self.ids.get(i)?)
            .cloned()
    }

    fn sending(&self, i: usize) {
        if let Some(id) = self.ids.get(i) {
            let _ = self.journal.append(journal::Event::Sending {
                strategy: self.strategy.to_string(),
                phase: self.phase.to_string(),
                request_id: id.clone(),
            });
        }
    }

    fn record(&self, o: &Outcome) {
        if let Some(id) = self.ids.get(o.index) {
            let _ = self.journal.append(journal::Event::Outcome {
                strategy: self.strategy.to_string(),
                phase: self.phase.to_string(),
                request_id: id.clone(),
                outcome: o.clone(),
            });
        }
    }
}

/// Executes requests against one provider, through its [`ChatApi`] and [`BatchApi`].
#[derive(Clone)]
pub struct Runner {
    chat: Arc<dyn ChatApi>,
    batch: Arc<dyn BatchApi>,
    embed: Option<Arc<dyn EmbedApi>>,
    client: Option<Client>,
    retry: RetryPolicy,
    run_start: Instant,
    seed: u64,
    quota_exhausted: Arc<AtomicBool>,
    pacer: Arc<pacing::Pacer>,
    flex_fallback: bool,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("client", &self.client)
            .field("retry", &self.retry)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner over a provider's HTTP client; `run_start` anchors every `started` offset,
    /// `seed` drives the backoff jitter.
    pub fn new(client: Client, retry: RetryPolicy, run_start: Instant, seed: u64) -> Runner {
        let (chat, batch) = crate::provider::api::build(client.clone());
        let mut runner = Runner::over(chat, batch, retry, run_start, seed);
        runner.embed = crate::provider::api::build_embed(client.clone());
        runner.client = Some(client);
        runner
    }

    /// A runner over any implementation of the provider traits (the in-memory fake in tests).
    pub fn over(
        chat: Arc<dyn ChatApi>,
        batch: Arc<dyn BatchApi>,
        retry: RetryPolicy,
        run_start: Instant,
        seed: u64,
    ) -> Runner {
        Runner {
            chat,
            batch,
            embed: None,
            client: None,
            retry,
            run_start,
            seed,
            quota_exhausted: Arc::new(AtomicBool::new(false)),
            pacer: Arc::new(pacing::Pacer::default()),
            flex_fallback: false,
        }
    }

    /// This runner sending a flex request once more at the default tier when flex stays
    /// unavailable after its retries (`--flex-fallback default`).
    pub fn with_flex_fallback(mut self, on: bool) -> Runner {
        self.flex_fallback = on;
        self
    }

    /// The HTTP client, when the runner was built over one.
    pub fn client(&self) -> Option<&Client> {
        self.client.as_ref()
    }

    /// The provider's chat API (for what is done once around a strategy's requests, such as
    /// a prefix cache's making).
    pub fn chat_api(&self) -> &dyn ChatApi {
        self.chat.as_ref()
    }

    /// The provider's Batch API.
    pub fn batch_api(&self) -> &dyn BatchApi {
        self.batch.as_ref()
    }

    /// When the run started.
    pub fn run_start(&self) -> Instant {
        self.run_start
    }

    /// Whether a request was refused for lack of quota (the run must stop).
    pub fn quota_exhausted(&self) -> bool {
        self.quota_exhausted.load(Ordering::SeqCst)
    }

    /// The provider's embeddings API, when it has one.
    pub fn embed_api(&self) -> Option<&Arc<dyn EmbedApi>> {
        self.embed.as_ref()
    }

    /// This runner over another embeddings API (the in-memory fake in tests).
    pub fn with_embed_api(mut self, embed: Arc<dyn EmbedApi>) -> Runner {
        self.embed = Some(embed);
        self
    }

    /// Sends one request with retries. A flex request that flex still refuses for capacity
    /// after them is sent once more at the default tier when the runner falls back; its
    /// attempts follow on, asking for `default`.
    pub async fn send(&self, request: &ChatRequest, index: usize) -> Outcome {
        let mut outcome = self.send_tiered(request, index).await;
        let refused = outcome.result().is_err_and(CallError::is_capacity);
        if self.flex_fallback && request.service_tier == Some(ServiceTier::Flex) && refused {
            let fallback = ChatRequest {
                service_tier: Some(ServiceTier::Default),
                ..request.clone()
            };
            let more = self.send_tiered(&fallback, index).await;
            let sent = outcome.attempts.len() as u32;
            outcome
                .attempts
                .extend(more.attempts.into_iter().map(|mut a| {
                    a.attempt += sent;
                    a
                }));
            outcome.latency += more.latency;
        }
        outcome
    }

    async fn send_tiered(&self, request: &ChatRequest, index: usize) -> Outcome {
        let mut outcome = self
            .send_with(rate_estimate(request), index, || self.chat.chat(request))
            .await;
        for a in &mut outcome.attempts {
            a.asked_tier = request.service_tier;
        }
        outcome
    }

    /// Sends one embeddings request with retries, paced like a chat request.
    pub async fn send_embed(&self, request: &EmbedRequest, index: usize) -> Outcome<EmbedResponse> {
        let Some(api) = self.embed.as_ref() else {
            let e = CallError::new(
                CallErrorKind::Status,
                "this provider has no embeddings API in batchbench",
            );
            return Outcome {
                index,
                attempts: vec![AttemptLog {
                    attempt: 1,
                    started: self.run_start.elapsed(),
                    latency: Duration::ZERO,
                    result: Err(e),
                    asked_tier: None,
                }],
                latency: Duration::ZERO,
            };
        };
        self.send_with(request.rate_estimate(), index, || api.embed(request))
            .await
    }

    /// One request's attempts: pacing before each, the pacer fed by what the server reports,
    /// retries as the policy decides, a stop once the quota is known to be exhausted.
    async fn send_with<'a, T: Paced, F>(&self, estimate: u64, index: usize, call: F) -> Outcome<T>
    where
        F: Fn() -> futures_util::future::BoxFuture<'a, Result<T, CallError>>,
    {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            self.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let first = Instant::now();
        let mut attempts = Vec::new();
        let mut attempt = 1;
        loop {
            if self.quota_exhausted() {
                let e = CallError::new(
                    CallErrorKind::Status,
                    "not sent: the account's quota is exhausted",
                );
                attempts.push(AttemptLog {
                    attempt,
                    started: self.run_start.elapsed(),
                    latency: Duration::ZERO,
                    result: Err(e),
                    asked_tier: None,
                });
                break;
            }
            self.pacer.before_send(estimate).await;
            let started = self.run_start.elapsed();
            let t = Instant::now();
            let result = call().await;
            let latency = t.elapsed();
            let info = match &result {
                Ok(r) => r.rate_limit(),
                Err(e) => e.rate_limit,
            };
            if let Some(info) = info {
                self.pacer.observe(&info);
            }
            let decision = match &result {
                Ok(_) => Decision::GiveUp,
                Err(e) if e.is_quota() => {
                    self.quota_exhausted.store(true, Ordering::SeqCst);
                    Decision::GiveUp
                }
                Err(e) => self.retry.decide(e, attempt, first.elapsed(), &mut rng),
            };
            let ok = result.is_ok();
            attempts.push(AttemptLog {
                attempt,
                started,
                latency,
                result,
                asked_tier: None,
            });
            match decision {
                Decision::Retry(wait) if !ok => {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => break,
            }
        }
        Outcome {
            index,
            attempts,
            latency: first.elapsed(),
        }
    }

    /// Sends every request with at most `concurrency` in flight; outcomes come back in input order.
    /// `on_done` is called as each request finishes (for progress bars).
    pub async fn execute(
        &self,
        requests: &[ChatRequest],
        concurrency: usize,
        on_done: impl Fn(&Outcome) + Send + Sync,
    ) -> Vec<Outcome> {
        self.execute_journaled(requests.into(), concurrency, None, on_done)
            .await
    }

    /// [`Runner::execute`] with a resume journal: requests whose outcome the journal holds are
    /// not sent again, and every new outcome is journaled (synced) as soon as it arrives. The
    /// requests are shared with the tasks that send them, not copied per request.
    pub async fn execute_journaled(
        &self,
        requests: Arc<[ChatRequest]>,
        concurrency: usize,
        journal: Option<JournalScope<'_>>,
        on_done: impl Fn(&Outcome) + Send + Sync,
    ) -> Vec<Outcome> {
        let hooks = Hooks {
            replayed: |i: usize| journal.as_ref().and_then(|j| j.replayed(i)),
            sending: |i: usize| {
                if let Some(j) = &journal {
                    j.sending(i);
                }
            },
            record: |o: &Outcome| {
                if let Some(j) = &journal {
                    j.record(o);
                }
            },
            done: on_done,
        };
        self.fan_out(requests, concurrency, hooks, |runner, requests, i| {
            Box::pin(async move { runner.send(&requests[i], i).await })
        })
        .await
    }

    /// Sends embeddings requests with at most `concurrency` in flight, outcomes in input order
    /// (not journaled: an embedding run is cheap to send again, see docs/EMBEDDINGS.md).
    pub async fn execute_embeddings(
        &self,
        requests: Arc<[EmbedRequest]>,
        concurrency: usize,
        on_done: impl Fn(&Outcome<EmbedResponse>) + Send + Sync,
    ) -> Vec<Outcome<EmbedResponse>> {
        let hooks = Hooks {
            replayed: |_| None,
            sending: |_| {},
            record: |_: &Outcome<EmbedResponse>| {},
            done: on_done,
        };
        self.fan_out(requests, concurrency, hooks, |runner, requests, i| {
            Box::pin(async move { runner.send_embed(&requests[i], i).await })
        })
        .await
    }

    /// The concurrency limit shared by every kind of request: replayed outcomes are not sent,
    /// the others go out `concurrency` at a time through `send`.
    async fn fan_out<R, T, P, S, J, D>(
        &self,
        requests: Arc<[R]>,
        concurrency: usize,
        hooks: Hooks<P, S, J, D>,
        send: SendFn<R, T>,
    ) -> Vec<Outcome<T>>
    where
        R: Send + Sync + 'static,
        T: Clone + Send + 'static,
        P: Fn(usize) -> Option<Outcome<T>>,
        S: Fn(usize),
        J: Fn(&Outcome<T>),
        D: Fn(&Outcome<T>),
    {
        let finished = |o: &Outcome<T>| {
            (hooks.record)(o);
            (hooks.done)(o);
        };
        let concurrency = concurrency.max(1);
        // One copy of the runner for all the sending tasks, not one per request (a runner
        // holds the endpoint's URL and key).
        let runner = Arc::new(self.clone());
        let mut outcomes: Vec<Option<Outcome<T>>> = vec![None; requests.len()];
        let mut todo: Vec<usize> = Vec::new();
        for (i, slot) in outcomes.iter_mut().enumerate() {
            match (hooks.replayed)(i) {
                Some(mut o) => {
                    o.index = i;
                    (hooks.done)(&o);
                    *slot = Some(o);
                }
                None => todo.push(i),
            }
        }
        if concurrency == 1 {
            for i in todo {
                (hooks.sending)(i);
                let o = send(runner.clone(), requests.clone(), i).await;
                finished(&o);
                outcomes[i] = Some(o);
            }
        } else {
            let semaphore = Arc::new(Semaphore::new(concurrency));
            let mut set = tokio::task::JoinSet::new();
            for i in todo {
                let permit = match semaphore.clone().acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => break,
                };
                while let Some(done) = set.try_join_next() {
                    if let Ok(o) = done {
                        finished(&o);
                        let idx = o.index;
                        outcomes[idx] = Some(o);
                    }
                }
                (hooks.sending)(i);
                let sending = send(runner.clone(), requests.clone(), i);
                set.spawn(async move {
                    let o = sending.await;
                    drop(permit);
                    o
                });
            }
            while let Some(done) = set.join_next().await {
                if let Ok(o) = done {
                    finished(&o);
                    let idx = o.index;
                    outcomes[idx] = Some(o);
                }
            }
        }
        outcomes
            .into_iter()
            .enumerate()
            .map(|(i, o)| o.unwrap_or_else(|| Outcome::unsent(i)))
            .collect()
    }
}

/// How [`Runner::fan_out`] sends request `i` of the shared slice on the shared runner.
type SendFn<R, T> = fn(Arc<Runner>, Arc<[R]>, usize) -> BoxFuture<'static, Outcome<T>>;

/// What [`Runner::fan_out`] calls around each request: a replayed outcome instead of sending,
/// a note before sending, the journal entry of a new outcome, and every outcome once known.
struct Hooks<P, S, J, D> {
    replayed: P,
    sending: S,
    record: J,
    done: D,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::provider::fake::FakeProvider;

    pub(crate) fn request(text: &str) -> ChatRequest {
        ChatRequest::new("gpt-4o-mini", None, text, 8)
    }

    pub(crate) fn quick() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..RetryPolicy::default()
        }
    }

    fn status(code: u16) -> CallError {
        let mut e = CallError::new(CallErrorKind::Status, format!("HTTP {code}"));
        e.status = Some(code);
        e
    }

    fn over(fake: FakeProvider) -> Runner {
        let fake = Arc::new(fake);
        Runner::over(fake.clone(), fake, quick(), Instant::now(), 7)
    }

    #[tokio::test]
    async fn retries_a_429_then_keeps_the_answer_without_sockets() {
        let runner = over(FakeProvider::new(|_, n| match n {
            1 | 2 => Err(status(429)),
            _ => Ok(FakeProvider::answer("4", 10, 1)),
        }));
        let out = runner.send(&request("2+2?"), 0).await;
        let statuses: Vec<Option<u16>> = out
            .attempts
            .iter()
            .map(|a| a.result.as_ref().err().and_then(|e| e.status))
            .collect();
        assert_eq!(statuses, vec![Some(429), Some(429), None]);
        assert_eq!(out.result().unwrap().text, "4");
    }

    #[tokio::test]
    async fn a_400_is_not_retried_and_quota_stops_every_later_request() {
        let runner = over(FakeProvider::new(|r, _| {
            match r.messages[0].content.as_str() {
                "bad" => Err(status(400)),
                _ => {
                    let mut e = status(429);
                    e.code = Some("insufficient_quota".into());
                    Err(e)
                }
            }
        }));
        assert_eq!(runner.send(&request("bad"), 0).await.attempts.len(), 1);
        assert!(!runner.quota_exhausted());
        assert_eq!(runner.send(&request("broke"), 1).await.attempts.len(), 1);
        assert!(runner.quota_exhausted());
        let after = runner.send(&request("later"), 2).await;
        assert_eq!(after.attempts.len(), 1);
        assert!(after.result().unwrap_err().message.contains("not sent"));
    }
}
