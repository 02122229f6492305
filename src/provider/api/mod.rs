//! What the runner needs from a provider, as two traits: [`ChatApi`] (one request, one
//! attempt, and the provider-side cache of a shared prefix where the API has one) and
//! [`BatchApi`] (the Batch API's lifecycle). OpenAI, Anthropic and Gemini implement both, one
//! file each beside this one, over their wire modules; [`build`] is the one place a provider kind
//! picks them, so the runner, the strategies and the bench never match on the kind, and tests can
//! put the in-memory fake (`provider::fake`) in their place.

mod anthropic;
mod gemini;
mod openai;

use crate::retry::RetryPolicy;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::embeddings::{EmbedRequest, EmbedResponse};
use super::openai::BatchResult;
use super::{CallError, CallErrorKind, ChatRequest, ChatResponse, Client, ProviderKind};
use anthropic::Anthropic;
use gemini::Gemini;
use openai::OpenAi;

/// Sends one chat request; the runner owns retries.
pub trait ChatApi: Send + Sync {
    /// One attempt: the answer with usage and timings, or a classified error.
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, CallError>>;

    /// Makes a cache of `request`'s shared prefix (its system prompt) that lives `ttl`, where
    /// the API caches by an object made beforehand (Gemini's `cachedContents`). `Ok(None)`:
    /// this API caches inside each request (Anthropic `cache_control`) or on its own (OpenAI),
    /// so there is nothing to make. An error says why no cache was made (too small, refused).
    fn open_prefix_cache<'a>(
        &'a self,
        request: &'a ChatRequest,
        ttl: std::time::Duration,
    ) -> BoxFuture<'a, Result<Option<PrefixCache>, CallError>> {
        let _ = (request, ttl);
        Box::pin(async { Ok(None) })
    }

    /// Deletes a cache [`ChatApi::open_prefix_cache`] made.
    fn close_prefix_cache<'a>(
        &'a self,
        cache: &'a PrefixCache,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        let _ = cache;
        Box::pin(async { Ok(()) })
    }
}

/// A provider-side cache of a shared prefix, made before the requests that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixCache {
    /// What requests name (`cachedContents/…`).
    pub name: String,
    /// The tokens it holds, as the server counted them: billed once at the input rate when
    /// made, and per token-hour while it is kept.
    pub tokens: u64,
    /// How long it is kept (what its storage is billed for).
    pub ttl: std::time::Duration,
}

/// A batch as a poll saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polled {
    /// A one-line progress note for the progress bar (`<id> <status> <done>/<total>`).
    pub progress: String,
    /// The batch's status as the provider names it (`validating`, `in_progress`,
    /// `JOB_STATE_RUNNING`, …): the runner records when each was first seen.
    pub status: String,
    /// `Some` once the batch has ended (completed, failed, expired, cancelled).
    pub ended: Option<Ended>,
}

/// An ended batch: its final status and where its results are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The final status as the provider names it (`completed`, `expired`, `ended`, …).
    pub status: String,
    /// Why the whole batch failed (OpenAI `failed`: validation errors), when it did.
    pub error: Option<String>,
    /// Opaque handles [`BatchApi::results`] downloads (OpenAI file ids, the Anthropic
    /// `results_url`).
    pub sources: Vec<String>,
}

/// The Batch API's lifecycle: submit, poll, download, cancel. Control calls are retried by
/// [`patient`] inside the implementations; the runner decides what a failure means.
pub trait BatchApi: Send + Sync {
    /// Most requests and bytes one batch may carry.
    fn limits(&self) -> (usize, usize);
    /// The wire form of one request in a batch (a JSONL line or a request object).
    fn encode(&self, custom_id: &str, request: &ChatRequest) -> String;
    /// Batches already made from input files (id, input file id), to adopt a creation whose
    /// answer was lost; empty where the API has no input files (the default).
    fn recent(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, CallError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    /// Creates one batch of encoded requests to `endpoint` and returns its id; `on_input` hears
    /// the id of an uploaded input file before the batch is created over it.
    fn submit<'a>(
        &'a self,
        endpoint: BatchEndpoint,
        encoded: Vec<String>,
        on_input: &'a (dyn Fn(&str) + Send + Sync),
    ) -> BoxFuture<'a, Result<String, CallError>>;
    /// One poll; `expected` is how many requests the batch carries.
    fn poll<'a>(&'a self, id: &'a str, expected: usize)
    -> BoxFuture<'a, Result<Polled, CallError>>;
    /// Downloads an ended batch's result files (JSONL), each once.
    fn results<'a>(
        &'a self,
        id: &'a str,
        ended: &'a Ended,
    ) -> BoxFuture<'a, Result<Vec<bytes::Bytes>, CallError>>;
    /// Reads one result line.
    fn parse_result(&self, line: &str) -> Result<BatchResult, String>;
    /// Cancels a batch (best effort).
    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), CallError>>;
}

/// What a batch's lines are: chat requests, or embeddings requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEndpoint {
    /// Chat completions / messages.
    Chat,
    /// Embeddings (`/v1/embeddings`).
    Embeddings,
}

/// Sends one embeddings request, and encodes and reads its Batch API lines; the runner owns
/// retries. OpenAI and any OpenAI-compatible server implement it here; Gemini's
/// `batchEmbedContents` is the next implementation (see docs/EMBEDDINGS.md).
pub trait EmbedApi: Send + Sync {
    /// One attempt: the vectors with usage and timings, or a classified error.
    fn embed<'a>(
        &'a self,
        request: &'a EmbedRequest,
    ) -> BoxFuture<'a, Result<EmbedResponse, CallError>>;
    /// The wire form of one request in a batch, `None` when the provider's Batch API takes no
    /// embeddings.
    fn encode_batch(&self, custom_id: &str, request: &EmbedRequest) -> Option<String>;
    /// Reads one batch result line: (custom id, vectors or why there are none).
    fn parse_batch(&self, line: &str) -> EmbedLine;
}

pub use super::embeddings::EmbedLine;

/// The provider's embeddings API, `None` when batchbench has none for it (Anthropic has no
/// embeddings endpoint; Gemini's `batchEmbedContents` is not implemented yet).
pub fn build_embed(client: Client) -> Option<Arc<dyn EmbedApi>> {
    match client.endpoint().kind {
        ProviderKind::Openai => Some(Arc::new(OpenAi(client))),
        ProviderKind::Anthropic | ProviderKind::Gemini => None,
    }
}

/// The provider behind a client: its chat and batch APIs.
pub fn build(client: Client) -> (Arc<dyn ChatApi>, Arc<dyn BatchApi>) {
    match client.endpoint().kind {
        ProviderKind::Openai => {
            let p = Arc::new(OpenAi(client));
            (p.clone(), p)
        }
        ProviderKind::Anthropic => {
            let p = Arc::new(Anthropic(client));
            (p.clone(), p)
        }
        ProviderKind::Gemini => {
            let p = Arc::new(Gemini(client));
            (p.clone(), p)
        }
    }
}

/// A control call under the shared policy's [`RetryPolicy::CONTROL`] settings.
pub(crate) async fn patient<T, F, Fut>(f: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    crate::retry::with_retries(&RetryPolicy::CONTROL, f).await
}

/// A creation call retried only when the server answered with a status (nothing was made):
/// after a broken connection the outcome is unknown, and a second try could make (and bill)
/// a second object.
async fn once_unless_refused<T, F, Fut>(f: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let mut f = f;
    patient(|| {
        let attempt = f();
        async move {
            attempt.await.map_err(|mut e| {
                if e.kind != CallErrorKind::Status {
                    e.should_retry = Some(false);
                }
                e
            })
        }
    })
    .await
}
