//! OpenAI's [`ChatApi`], [`BatchApi`] and [`EmbedApi`]: chat completions or the Responses API,
//! the Batch API (input files, batches, output files) and embeddings; also what every
//! OpenAI-compatible server speaks.

use futures_util::future::BoxFuture;

use super::{BatchApi, BatchEndpoint, ChatApi, EmbedApi, EmbedLine, Ended, Polled, patient};
use crate::provider::embeddings::{self, EmbedRequest, EmbedResponse};
use crate::provider::openai::{self, BatchResult};
use crate::provider::{CallError, ChatRequest, ChatResponse, Client, WireApi, responses};

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

/// OpenAI's chat completions and Batch API (input files, batches, output files).
pub(super) struct OpenAi(pub(super) Client);

impl ChatApi for OpenAi {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, CallError>> {
        Box::pin(async move { send_chat(&self.0.for_request(request), request).await })
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
