//! Gemini's [`ChatApi`] and [`BatchApi`]: `generateContent`, Batch Mode (inline under 20 MB,
//! else through an uploaded JSONL file) and explicit context caches.

use futures_util::future::BoxFuture;

use super::{
    BatchApi, BatchEndpoint, ChatApi, Ended, Polled, PrefixCache, once_unless_refused, patient,
};
use crate::provider::openai::BatchResult;
use crate::provider::{CallError, CallErrorKind, ChatRequest, ChatResponse, Client, gemini};

/// Google's Gemini API: `generateContent`, Batch Mode (inline under 20 MB, else through an
/// uploaded JSONL file) and explicit context caches.
pub(super) struct Gemini(pub(super) Client);

impl ChatApi for Gemini {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, CallError>> {
        Box::pin(async move { gemini::chat::chat(&self.0.for_request(request), request).await })
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

impl BatchApi for Gemini {
    fn limits(&self) -> (usize, usize) {
        (usize::MAX, gemini::batch::FILE_MAX_BYTES)
    }

    fn encode(&self, custom_id: &str, request: &ChatRequest) -> String {
        gemini::batch::file_line(custom_id, request).to_string()
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
