//! One `generateContent` call, or `streamGenerateContent?alt=sse` when the request streams: each
//! event is a whole response chunk (text deltas, the finish reason and usage on the last ones),
//! and the stream simply ends, with no `[DONE]` marker.

use serde::Deserialize;
use serde_json::Value;

use super::wire::{self, GenerateContentResponse, UsageMetadata};
use super::{authorized, model_name, url};
use crate::provider::error::{CallError, CallErrorKind};
use crate::provider::http::{self, decode_error, json_body};
use crate::provider::sse::{self, Events};
use crate::provider::{ChatRequest, ChatResponse, Client, ProviderKind};

/// The response header that names the tier that served a request.
pub const SERVED_TIER_HEADER: &str = "x-gemini-service-tier";

/// One call; streamed when the request says so.
pub(crate) async fn chat(
    client: &Client,
    request: &ChatRequest,
) -> Result<ChatResponse, CallError> {
    let body = wire::request_body(request);
    let model = model_name(&request.model);
    if request.stream {
        let target = format!(
            "{}?alt=sse",
            url(client, &model, Some("streamGenerateContent"))
        );
        let builder = authorized(client, client.http().post(target).json(&body));
        return chat_stream(client, builder).await;
    }
    let target = url(client, &model, Some("generateContent"));
    let builder = authorized(client, client.http().post(target).json(&body));
    let reply = http::send(client, builder).await?;
    let v = json_body(ProviderKind::Gemini, &reply)?;
    let mut response = reply.stamp(wire::parse_response(&v).map_err(|e| decode_error(e, &reply))?);
    response.served_tier = wire::served_tier(crate::provider::headers::header_str(
        &reply.headers,
        SERVED_TIER_HEADER,
    ));
    Ok(response)
}

/// What the chunks of a stream add up to.
#[derive(Debug, Default)]
pub(crate) struct Folded {
    pub(crate) text: String,
    pub(crate) finish_reason: Option<String>,
    pub(crate) usage: Option<UsageMetadata>,
    pub(crate) id: Option<String>,
}

impl Folded {
    /// Adds one chunk: its text is appended, its finish reason and usage replace earlier ones
    /// (each chunk's usage is the running total). Returns whether it carried text.
    pub(crate) fn push(&mut self, chunk: &GenerateContentResponse) -> bool {
        let text = chunk.text();
        self.text.push_str(&text);
        if let Some(r) = chunk.finish_reason() {
            self.finish_reason = Some(r);
        }
        if chunk.usage_metadata.is_some() {
            self.usage = chunk.usage_metadata;
        }
        if self.id.is_none() {
            self.id.clone_from(&chunk.response_id);
        }
        !text.is_empty()
    }
}

/// A chunk that is an error object (`{"error": {...}}`, or a one-element list of it).
fn stream_error(v: &Value) -> Option<CallError> {
    let v = match v {
        Value::Array(items) if items.len() == 1 => &items[0],
        other => other,
    };
    let err = v.get("error")?;
    let (code, message) = http::error_fields(ProviderKind::Gemini, v);
    let mut e = CallError::new(CallErrorKind::Status, format!("error in stream: {message}"));
    e.status = err
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .or(Some(500));
    e.code = code;
    Some(e)
}

async fn chat_stream(
    client: &Client,
    builder: reqwest::RequestBuilder,
) -> Result<ChatResponse, CallError> {
    let t = client.endpoint().timeouts;
    let (response, start) = http::open(client, builder).await?;
    let headers = response.headers().clone();
    let mut events = Events::new(response, headers, t.stream_idle);
    let mut folded = Folded::default();
    let mut ttft = None;
    while let Some(chunk) = events.next_chunk().await? {
        for event in chunk {
            let v = sse::json(&event)?;
            if let Some(e) = stream_error(&v) {
                return Err(e);
            }
            let part = GenerateContentResponse::deserialize(&v).map_err(|e| {
                CallError::new(CallErrorKind::Decode, format!("not a response chunk: {e}"))
            })?;
            if folded.push(&part) && ttft.is_none() {
                ttft = Some(start.elapsed());
            }
        }
    }
    let headers = events.headers();
    if folded.finish_reason.is_none() {
        return Err(http::dropped(
            CallError::new(
                CallErrorKind::Connect,
                "stream ended before a chunk carried a finish reason",
            ),
            headers,
        ));
    }
    let usage = http::required_usage(folded.usage.map(|u| u.normalise()))
        .map_err(|e| CallError::new(CallErrorKind::Decode, e))?;
    Ok(ChatResponse {
        id: folded.id.unwrap_or_default(),
        text: folded.text,
        choices: 1,
        finish_reason: folded.finish_reason.unwrap_or_default(),
        usage,
        request_id: crate::provider::headers::request_id(headers),
        ttft: ttft.or(Some(start.elapsed())),
        served_tier: wire::served_tier(crate::provider::headers::header_str(
            headers,
            SERVED_TIER_HEADER,
        )),
        rate_limit: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chunk(v: Value) -> GenerateContentResponse {
        GenerateContentResponse::deserialize(&v).unwrap()
    }

    #[test]
    fn chunks_fold_into_one_answer() {
        let mut f = Folded::default();
        assert!(
            f.push(&chunk(json!({"candidates": [{"content": {"role": "model",
            "parts": [{"text": "The answer"}]}}], "responseId": "r1",
            "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}})))
        );
        assert!(
            !f.push(&chunk(json!({"candidates": [{"content": {"role": "model",
            "parts": [{"text": "hmm", "thought": true}]}}]})))
        );
        assert!(
            f.push(&chunk(json!({"candidates": [{"content": {"role": "model",
            "parts": [{"text": " is 4."}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 5,
                "thoughtsTokenCount": 2, "totalTokenCount": 16}})))
        );
        assert_eq!(f.text, "The answer is 4.");
        assert_eq!(f.finish_reason.as_deref(), Some("STOP"));
        assert_eq!(f.id.as_deref(), Some("r1"));
        let u = f.usage.unwrap().normalise();
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.reasoning_tokens),
            (9, 7, 2)
        );
    }

    #[test]
    fn an_error_chunk_keeps_its_status() {
        let v = json!([{"error": {"code": 503, "message": "The model is overloaded.",
            "status": "UNAVAILABLE"}}]);
        let e = stream_error(&v).unwrap();
        assert_eq!(e.status, Some(503));
        assert_eq!(e.code.as_deref(), Some("UNAVAILABLE"));
        assert!(e.is_retryable());
        assert!(stream_error(&json!({"candidates": []})).is_none());
    }
}
