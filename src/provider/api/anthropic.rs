//! Anthropic's [`ChatApi`] and [`BatchApi`]: the Messages API and Message Batches (requests
//! inline, results by URL).

use futures_util::future::BoxFuture;

use super::{BatchApi, BatchEndpoint, ChatApi, Ended, Polled, once_unless_refused, patient};
use crate::provider::openai::BatchResult;
use crate::provider::{CallError, CallErrorKind, ChatRequest, ChatResponse, Client, anthropic};

/// Anthropic's Messages API and Message Batches (requests inline, results by URL).
pub(super) struct Anthropic(pub(super) Client);

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
    once_unless_refused(|| async {
        anthropic::create_batch(client, requests)
            .await
            .map(|b| b.id)
    })
    .await
    .map_err(|mut e| {
        if e.kind != CallErrorKind::Status {
            e.message = format!(
                "{} (creating a message batch: whether it was created is unknown, so it was \
                 not retried; check the console for a batch to cancel)",
                e.message
            );
        }
        e
    })
}
