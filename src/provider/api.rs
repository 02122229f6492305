//! What the runner needs from a provider, as two traits: [`ChatApi`] (one request, one
//! attempt, and the provider-side cache of a shared prefix where the API has one) and
//! [`BatchApi`] (the Batch API's lifecycle). OpenAI, Anthropic and Gemini implement both
//! here, over their wire modules; [`build`] is the one place a provider kind picks them, so the
//! runner, the strategies and the bench never match on the kind, and tests can put the in-memory
//! fake (`provider::fake`) in their place.

use crate::retry::RetryPolicy;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::embeddings::{self, EmbedRequest, EmbedResponse};
use super::openai::BatchResult;
use super::{
    CallError, CallErrorKind, ChatRequest, ChatResponse, Client, ProviderKind, WireApi, anthropic,
    gemini, openai, responses,
};

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
    /// answer was lost; empty where the API has no input files.
    fn recent(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, CallError>>;
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

impl EmbedApi for OpenAi {
    fn embed<'a>(
        &'a self,
        request: &'a EmbedRequest,
    ) -> BoxFuture<'a, Result<EmbedResponse, CallError>> {
        Box::pin(embeddings::embed(&self.0, request))
    }

    fn encode_batch(&self, custom_id: &str, request: &EmbedRequest) -> Option<String> {
        Some(embeddings::batch_line(custom_id, request).to_string())
    }

    fn parse_batch(&self, line: &str) -> EmbedLine {
        embeddings::parse_batch_line(line)
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

/// OpenAI's chat completions and Batch API (input files, batches, output files).
struct OpenAi(Client);

impl ChatApi for OpenAi {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, CallError>> {
        if request.service_tier == Some(super::ServiceTier::Flex) {
            return Box::pin(async move {
                let client = self.0.with_timeouts(self.0.endpoint().timeouts.for_flex());
                send_chat(&client, request).await
            });
        }
        Box::pin(send_chat(&self.0, request))
    }
}

/// One request through the API the client speaks.
async fn send_chat(client: &Client, request: &ChatRequest) -> Result<ChatResponse, CallError> {
    match client.api() {
        WireApi::Chat => openai::chat(client, request).await,
        WireApi::Responses => responses::chat(client, request).await,
    }
}

impl BatchApi for OpenAi {
    fn limits(&self) -> (usize, usize) {
        (openai::BATCH_MAX_REQUESTS, openai::BATCH_MAX_BYTES)
    }

    fn encode(&self, custom_id: &str, request: &ChatRequest) -> String {
        match self.0.api() {
            WireApi::Chat => openai::batch_line(custom_id, request).to_string(),
            WireApi::Responses => responses::batch_line(custom_id, request).to_string(),
        }
    }

    fn recent(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, CallError>> {
        Box::pin(async move {
            let batches = patient(|| openai::list_batches(&self.0, 100)).await?;
            Ok(batches
                .into_iter()
                .filter_map(|b| b.input_file_id.map(|f| (b.id, f)))
                .collect())
        })
    }

    fn submit<'a>(
        &'a self,
        endpoint: BatchEndpoint,
        encoded: Vec<String>,
        on_input: &'a (dyn Fn(&str) + Send + Sync),
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async move {
            let path = match (endpoint, self.0.api()) {
                (BatchEndpoint::Chat, WireApi::Chat) => openai::CHAT_PATH,
                (BatchEndpoint::Chat, WireApi::Responses) => responses::PATH,
                (BatchEndpoint::Embeddings, _) => embeddings::PATH,
            };
            let mut body = encoded.join("\n");
            body.push('\n');
            let body = body.into_bytes();
            let file = patient(|| {
                openai::upload_batch_file(&self.0, "batchbench-input.jsonl", body.clone())
            })
            .await?;
            on_input(&file.id);
            create_openai(&self.0, path, &file.id).await
        })
    }

    fn poll<'a>(
        &'a self,
        id: &'a str,
        _expected: usize,
    ) -> BoxFuture<'a, Result<Polled, CallError>> {
        Box::pin(async move {
            let batch = patient(|| openai::get_batch(&self.0, id)).await?;
            let counts = batch.request_counts.unwrap_or_default();
            let progress = format!(
                "{id} {} {}/{}",
                batch.status,
                counts.completed + counts.failed,
                counts.total
            );
            let ended = batch.is_terminal().then(|| Ended {
                status: batch.status.clone(),
                error: (batch.status == "failed").then(|| batch.error_summary()),
                sources: [&batch.output_file_id, &batch.error_file_id]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect(),
            });
            Ok(Polled {
                progress,
                status: batch.status.clone(),
                ended,
            })
        })
    }

    fn results<'a>(
        &'a self,
        _id: &'a str,
        ended: &'a Ended,
    ) -> BoxFuture<'a, Result<Vec<bytes::Bytes>, CallError>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for file in &ended.sources {
                out.push(patient(|| openai::file_content(&self.0, file)).await?);
                let _ = openai::delete_file(&self.0, file).await;
            }
            Ok(out)
        })
    }

    fn parse_result(&self, line: &str) -> Result<BatchResult, String> {
        match self.0.api() {
            WireApi::Chat => openai::parse_batch_line(line),
            WireApi::Responses => responses::parse_batch_line(line),
        }
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move { openai::cancel_batch(&self.0, id).await.map(|_| ()) })
    }
}

/// Creates an OpenAI batch over `file_id`, retrying transient failures without ever creating
/// two: before each retry it looks for a batch already made from the same input file (the
/// creation may have succeeded although its answer was lost) and adopts it.
async fn create_openai(client: &Client, path: &str, file_id: &str) -> Result<String, CallError> {
    let retrying = std::sync::atomic::AtomicBool::new(false);
    patient(|| async {
        if retrying.swap(true, std::sync::atomic::Ordering::Relaxed) {
            let recent = patient(|| openai::list_batches(client, 100)).await?;
            if let Some(b) = recent
                .into_iter()
                .find(|b| b.input_file_id.as_deref() == Some(file_id))
            {
                return Ok(b.id);
            }
        }
        openai::create_batch_for(
            client,
            path,
            file_id,
            serde_json::json!({"tool": "batchbench"}),
        )
        .await
        .map(|b| b.id)
    })
    .await
}

/// Anthropic's Messages API and Message Batches (requests inline, results by URL).
struct Anthropic(Client);

impl ChatApi for Anthropic {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, CallError>> {
        Box::pin(anthropic::chat(&self.0, request))
    }
}

impl BatchApi for Anthropic {
    fn limits(&self) -> (usize, usize) {
        (anthropic::BATCH_MAX_REQUESTS, anthropic::BATCH_MAX_BYTES)
    }

    fn encode(&self, custom_id: &str, request: &ChatRequest) -> String {
        anthropic::batch_request(custom_id, request).to_string()
    }

    fn recent(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, CallError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn submit<'a>(
        &'a self,
        endpoint: BatchEndpoint,
        encoded: Vec<String>,
        _on_input: &'a (dyn Fn(&str) + Send + Sync),
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async move {
            if endpoint != BatchEndpoint::Chat {
                return Err(CallError::new(
                    CallErrorKind::Status,
                    "Anthropic's Message Batches take no embeddings requests",
                ));
            }
            let values: Vec<serde_json::Value> = encoded
                .iter()
                .map(|line| serde_json::from_str(line).expect("encoded by Anthropic::encode"))
                .collect();
            create_anthropic(&self.0, &values).await
        })
    }

    fn poll<'a>(
        &'a self,
        id: &'a str,
        expected: usize,
    ) -> BoxFuture<'a, Result<Polled, CallError>> {
        Box::pin(async move {
            let batch = patient(|| anthropic::get_batch(&self.0, id)).await?;
            let progress = format!(
                "{id} {} {}/{expected}",
                batch.processing_status,
                (expected as u64).saturating_sub(batch.request_counts.processing),
            );
            let ended = batch.is_ended().then(|| Ended {
                status: "ended".into(),
                error: None,
                sources: batch.results_url.iter().cloned().collect(),
            });
            Ok(Polled {
                progress,
                status: batch.processing_status.clone(),
                ended,
            })
        })
    }

    fn results<'a>(
        &'a self,
        id: &'a str,
        ended: &'a Ended,
    ) -> BoxFuture<'a, Result<Vec<bytes::Bytes>, CallError>> {
        Box::pin(async move {
            let url = ended.sources.first().map(String::as_str);
            Ok(vec![
                patient(|| anthropic::results(&self.0, id, url)).await?,
            ])
        })
    }

    fn parse_result(&self, line: &str) -> Result<BatchResult, String> {
        anthropic::parse_result_line(line)
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move { anthropic::cancel_batch(&self.0, id).await.map(|_| ()) })
    }
}

/// Creates an Anthropic message batch, retrying only failures the server answered with a status
/// (429, 5xx, 529: nothing was created). A broken connection leaves the outcome unknown and
/// there is no idempotency key, so it is not retried: the error says so.
async fn create_anthropic(
    client: &Client,
    requests: &[serde_json::Value],
) -> Result<String, CallError> {
    let unknown_outcome = |e: &CallError| e.kind != CallErrorKind::Status;
    patient(|| async {
        anthropic::create_batch(client, requests)
            .await
            .map(|b| b.id)
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

/// Google's Gemini API: `generateContent`, Batch Mode (inline under 20 MB, else through an
/// uploaded JSONL file) and explicit context caches.
struct Gemini(Client);

impl ChatApi for Gemini {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, CallError>> {
        Box::pin(async move {
            if request.service_tier == Some(super::ServiceTier::Flex) {
                let client = self.0.with_timeouts(self.0.endpoint().timeouts.for_flex());
                return gemini::chat::chat(&client, request).await;
            }
            gemini::chat::chat(&self.0, request).await
        })
    }

    fn open_prefix_cache<'a>(
        &'a self,
        request: &'a ChatRequest,
        ttl: std::time::Duration,
    ) -> BoxFuture<'a, Result<Option<PrefixCache>, CallError>> {
        Box::pin(async move {
            let Some(system) = request.system.as_deref() else {
                return Err(CallError::new(
                    CallErrorKind::Status,
                    "there are no shared instructions to cache",
                ));
            };
            let min = gemini::caches::min_cache_tokens(&request.model);
            let counted = gemini::caches::count_tokens(&self.0, &request.model, system).await;
            if let Ok(n) = counted {
                if n < min {
                    return Err(CallError::new(
                        CallErrorKind::Status,
                        format!(
                            "the shared instructions are {n} tokens (countTokens) and {} caches \
                             {min} or more",
                            request.model
                        ),
                    ));
                }
            }
            let made = once_unless_refused(|| {
                gemini::caches::create(&self.0, &request.model, system, ttl)
            })
            .await?;
            let tokens = made
                .usage_metadata
                .map(|u| u.total_token_count)
                .filter(|n| *n > 0)
                .or(counted.ok())
                .unwrap_or(0);
            Ok(Some(PrefixCache {
                name: made.name,
                tokens,
                ttl,
            }))
        })
    }

    fn close_prefix_cache<'a>(
        &'a self,
        cache: &'a PrefixCache,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(patient(|| gemini::caches::delete(&self.0, &cache.name)))
    }
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

impl BatchApi for Gemini {
    fn limits(&self) -> (usize, usize) {
        (usize::MAX, gemini::batch::FILE_MAX_BYTES)
    }

    fn encode(&self, custom_id: &str, request: &ChatRequest) -> String {
        gemini::batch::file_line(custom_id, request).to_string()
    }

    fn recent(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, CallError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn submit<'a>(
        &'a self,
        endpoint: BatchEndpoint,
        encoded: Vec<String>,
        on_input: &'a (dyn Fn(&str) + Send + Sync),
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async move {
            if endpoint != BatchEndpoint::Chat {
                return Err(CallError::new(
                    CallErrorKind::Status,
                    "batchbench sends no embeddings to Gemini's Batch Mode",
                ));
            }
            let model = encoded
                .first()
                .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .and_then(|v| Some(v.get("request")?.get("model")?.as_str()?.to_string()))
                .unwrap_or_default();
            // Inline, each line becomes `{"request": …, "metadata": {"key": …}}` inside the create
            // body: allow for that wrapping (the model named in each request, the key's JSON)
            // so an input just under the limit as lines is not over it as a body.
            let wrapping = 64 + model.len();
            let bytes: usize = encoded.iter().map(|l| l.len() + wrapping).sum();
            let input = if bytes < gemini::batch::INLINE_MAX_BYTES {
                let inline = encoded
                    .iter()
                    .map(|l| gemini::batch::inline_request(l, &model))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        CallError::new(CallErrorKind::Decode, "unreadable batch line")
                    })?;
                gemini::batch::BatchInput::Inline(inline)
            } else {
                let mut body = encoded.join("\n");
                body.push('\n');
                let body = body.into_bytes();
                let file = once_unless_refused(|| {
                    gemini::files::upload(
                        &self.0,
                        "batchbench-input.jsonl",
                        gemini::files::JSONL_MIME,
                        body.clone(),
                    )
                })
                .await?;
                on_input(&file.name);
                gemini::batch::BatchInput::File(file.name)
            };
            let body = gemini::batch::create_body("batchbench", input);
            let made =
                once_unless_refused(|| gemini::batch::create(&self.0, &model, &body)).await?;
            Ok(made.name)
        })
    }

    fn poll<'a>(
        &'a self,
        id: &'a str,
        expected: usize,
    ) -> BoxFuture<'a, Result<Polled, CallError>> {
        Box::pin(async move {
            let op = patient(|| gemini::batch::get(&self.0, id)).await?;
            let done = op.finished().map_or("?".to_string(), |n| n.to_string());
            let progress = format!("{id} {} {done}/{expected}", op.state());
            let status = op.state();
            let ended = op.is_ended().then(|| Ended {
                status: op.state(),
                error: op.error_summary(),
                sources: vec![op.responses_file().unwrap_or_else(|| op.name.clone())],
            });
            Ok(Polled {
                progress,
                status,
                ended,
            })
        })
    }

    fn results<'a>(
        &'a self,
        id: &'a str,
        ended: &'a Ended,
    ) -> BoxFuture<'a, Result<Vec<bytes::Bytes>, CallError>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for source in &ended.sources {
                if source.starts_with("files/") {
                    out.push(patient(|| gemini::files::download(&self.0, source)).await?);
                    let _ = gemini::files::delete(&self.0, source).await;
                } else {
                    let op = patient(|| gemini::batch::get(&self.0, id)).await?;
                    out.extend(op.inline_lines().map(bytes::Bytes::from));
                }
            }
            Ok(out)
        })
    }

    fn parse_result(&self, line: &str) -> Result<BatchResult, String> {
        gemini::batch::parse_result_line(line)
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(gemini::batch::cancel(&self.0, id))
    }
}
