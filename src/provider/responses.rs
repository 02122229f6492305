//! OpenAI Responses API wire format (`POST /v1/responses`, plain and streamed, and as Batch API
//! lines with `url: /v1/responses`), selected with `--api responses`. Field names follow
//! openai-python's `types/responses` (`Response`, `ResponseUsage`, `ResponseTextDeltaEvent`,
//! `ResponseCompletedEvent`): the shared instructions go in `instructions`, the conversation in
//! `input`, packed answers ask for `text.format` json_schema, reasoning effort is
//! `reasoning.effort`, and usage is `input_tokens` (`input_tokens_details.cached_tokens`) and
//! `output_tokens` (`output_tokens_details.reasoning_tokens`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{CallError, CallErrorKind};
use super::http::{self, decode_error, json_body};
use super::openai::{BatchResult, authorized, parse_batch_envelope};
use super::sse::{self, Events};
use super::{ChatRequest, ChatResponse, Client, ProviderKind, Usage};

/// The endpoint Responses batch lines target.
pub const PATH: &str = "/v1/responses";

/// A Responses request as sent, borrowing the request's text.
#[derive(Debug, Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    input: Vec<WireInput<'a>>,
    max_output_tokens: u32,
    /// batchbench keeps nothing server-side: each request stands alone.
    store: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<WireText<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<WireReasoning<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_tier: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_retention: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
}

#[derive(Debug, Serialize)]
struct WireInput<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Debug, Serialize)]
struct WireText<'a> {
    format: WireFormat<'a>,
}

#[derive(Debug, Serialize)]
struct WireFormat<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    schema: &'a Value,
    strict: bool,
}

#[derive(Debug, Serialize)]
struct WireReasoning<'a> {
    effort: &'a str,
}

impl<'a> WireRequest<'a> {
    fn new(request: &'a ChatRequest, stream: bool) -> WireRequest<'a> {
        WireRequest {
            model: &request.model,
            instructions: request.system.as_deref(),
            input: request
                .messages
                .iter()
                .map(|m| WireInput {
                    role: m.role.as_str(),
                    content: &m.content,
                })
                .collect(),
            max_output_tokens: request.max_tokens,
            store: false,
            temperature: request.temperature.map(f64::from),
            text: request.json_schema.as_ref().map(|s| WireText {
                format: WireFormat {
                    kind: "json_schema",
                    name: &s.name,
                    schema: &s.schema,
                    strict: true,
                },
            }),
            reasoning: request
                .reasoning_effort
                .as_deref()
                .map(|effort| WireReasoning { effort }),
            service_tier: request.service_tier.map(super::ServiceTier::as_str),
            prompt_cache_key: request
                .cache_prefix
                .then(|| super::openai::prompt_cache_key(request)),
            prompt_cache_retention: super::openai::cache_retention(request),
            stream: stream.then_some(true),
        }
    }
}

/// The JSON body of a Responses request (the `body` of a batch line without `stream`).
pub fn request_body(request: &ChatRequest) -> Value {
    serde_json::to_value(WireRequest::new(request, false)).unwrap_or(Value::Null)
}

/// A `response` object, as far as batchbench reads it.
#[derive(Debug, Deserialize)]
struct WireResponse {
    id: Option<String>,
    status: Option<String>,
    #[serde(default)]
    output: Vec<WireOutputItem>,
    usage: Option<WireUsage>,
    incomplete_details: Option<WireIncomplete>,
    service_tier: Option<String>,
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct WireOutputItem {
    #[serde(rename = "type")]
    kind: String,
    /// Absent or `null` on reasoning items (`ResponseReasoningItem.content: Optional[List]`).
    #[serde(default, deserialize_with = "null_as_empty")]
    content: Vec<WireContent>,
}

/// A list the API may send as `null`.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Deserialize)]
struct WireContent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireIncomplete {
    reason: Option<String>,
}

/// `ResponseUsage`: cached tokens are a part of `input_tokens`, reasoning tokens a part of
/// `output_tokens`.
#[derive(Debug, Deserialize)]
struct WireUsage {
    input_tokens: u64,
    output_tokens: u64,
    input_tokens_details: Option<WireInputDetails>,
    output_tokens_details: Option<WireOutputDetails>,
}

#[derive(Debug, Deserialize)]
struct WireInputDetails {
    cached_tokens: Option<u64>,
    /// GPT-5.6 and later: tokens written to the prompt cache (a part of `input_tokens`).
    cache_write_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct WireOutputDetails {
    reasoning_tokens: Option<u64>,
}

impl WireUsage {
    fn normalise(&self) -> Usage {
        Usage {
            input_tokens: self.input_tokens,
            cached_tokens: self
                .input_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            cache_write_tokens: self
                .input_tokens_details
                .as_ref()
                .and_then(|d| d.cache_write_tokens)
                .unwrap_or(0),
            output_tokens: self.output_tokens,
            reasoning_tokens: self
                .output_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0)
                .min(self.output_tokens),
            ..Usage::default()
        }
    }
}

impl WireResponse {
    /// The SDK's `output_text`: every `output_text` part of every message, joined (a refusal
    /// stands in for the text when there is none).
    fn text(&self) -> String {
        let parts = self
            .output
            .iter()
            .filter(|i| i.kind == "message")
            .flat_map(|i| i.content.iter());
        let mut text = String::new();
        let mut refusal = None;
        for p in parts {
            match p.kind.as_str() {
                "output_text" => text.push_str(p.text.as_deref().unwrap_or_default()),
                "refusal" => refusal = refusal.or(p.refusal.clone()),
                _ => {}
            }
        }
        if text.is_empty() {
            refusal.unwrap_or_default()
        } else {
            text
        }
    }

    /// The chat-completions name for why it stopped: `stop`, or `length` when cut at
    /// `max_output_tokens` (Anthropic-style names stay out of it).
    fn finish_reason(&self) -> String {
        match (self.status.as_deref(), &self.incomplete_details) {
            (Some("incomplete"), Some(d)) if d.reason.as_deref() == Some("max_output_tokens") => {
                "length".into()
            }
            (Some("incomplete"), Some(d)) => {
                d.reason.clone().unwrap_or_else(|| "incomplete".into())
            }
            (Some(s), _) if s != "completed" => s.to_string(),
            _ => "stop".into(),
        }
    }

    fn into_chat(self) -> Result<ChatResponse, String> {
        if self.status.as_deref() == Some("failed") {
            let why = self
                .error
                .as_ref()
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            return Err(format!("the response failed: {why}"));
        }
        let usage = http::required_usage(self.usage.as_ref().map(WireUsage::normalise))?;
        Ok(ChatResponse {
            text: self.text(),
            finish_reason: self.finish_reason(),
            id: self.id.clone().unwrap_or_default(),
            choices: 1,
            usage,
            request_id: None,
            ttft: None,
            served_tier: self.service_tier,
            rate_limit: None,
        })
    }
}

/// A `failed` response's error, classified by its code (`server_error` is retried like a 500).
fn failure(v: &Value) -> Option<CallError> {
    (v.get("status").and_then(Value::as_str) == Some("failed")).then(|| {
        let e = v.get("error").unwrap_or(&Value::Null);
        let code = e.get("code").and_then(Value::as_str).map(str::to_string);
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("the response failed, no reason given");
        CallError::reported(code, format!("the response failed: {message}"))
    })
}

/// Reads a `response` object into a [`ChatResponse`].
pub fn parse_response(v: &Value) -> Result<ChatResponse, String> {
    WireResponse::deserialize(v)
        .map_err(|e| format!("not a response object: {e}"))?
        .into_chat()
}

/// One Responses call; streamed when the request says so. A server that refuses the
/// `json_schema` format gets the request again without it, as for chat completions.
pub(crate) async fn chat(
    client: &Client,
    request: &ChatRequest,
) -> Result<ChatResponse, CallError> {
    super::fallback::send_with_fallback(client, request, |c, r| async move { once(c, &r).await })
        .await
}

async fn once(client: &Client, request: &ChatRequest) -> Result<ChatResponse, CallError> {
    let body = WireRequest::new(request, request.stream);
    let builder = authorized(
        client,
        client.http().post(client.url("/responses")).json(&body),
    );
    if request.stream {
        return stream(client, builder).await;
    }
    let reply = http::send(client, builder).await?;
    let v = json_body(ProviderKind::Openai, &reply)?;
    if let Some(e) = failure(&v) {
        return Err(e);
    }
    let response = parse_response(&v).map_err(|e| decode_error(e, &reply))?;
    Ok(reply.stamp(response))
}

/// A streamed response: `response.output_text.delta` events carry the text (the first one is
/// the time to first token), `response.completed` (or `.incomplete`) the whole response with
/// its usage; `response.failed` and `error` events are errors.
async fn stream(
    client: &Client,
    builder: reqwest::RequestBuilder,
) -> Result<ChatResponse, CallError> {
    let t = client.endpoint().timeouts;
    let (response, start) = http::open(client, builder).await?;
    let headers = response.headers().clone();
    let request_id = super::headers::header_str(&headers, "x-request-id").map(str::to_string);
    let mut events = Events::new(response, headers, t.stream_idle);
    let (mut ttft, mut last) = (None, None);
    while last.is_none() {
        let Some(chunk) = events.next_chunk().await? else {
            break;
        };
        for event in chunk {
            let v = sse::json(&event)?;
            match v.get("type").and_then(Value::as_str).unwrap_or_default() {
                "response.output_text.delta" => {
                    let delta = v.get("delta").and_then(Value::as_str).unwrap_or_default();
                    if ttft.is_none() && !delta.is_empty() {
                        ttft = Some(start.elapsed());
                    }
                }
                "response.completed" | "response.incomplete" | "response.failed" => {
                    last = Some(v["response"].clone());
                    break;
                }
                "error" => {
                    let (code, message) =
                        http::error_fields(ProviderKind::Openai, &json!({"error": v}));
                    return Err(CallError::reported(
                        code,
                        format!("error in stream: {message}"),
                    ));
                }
                _ => {}
            }
        }
    }
    let headers = events.headers();
    let Some(last) = last else {
        return Err(http::dropped(
            CallError::new(
                CallErrorKind::Connect,
                "stream ended before response.completed",
            ),
            headers,
        ));
    };
    if let Some(e) = failure(&last) {
        return Err(e);
    }
    let mut response =
        parse_response(&last).map_err(|e| CallError::new(CallErrorKind::Decode, e))?;
    http::check_usage(&response.usage).map_err(|e| CallError::new(CallErrorKind::Decode, e))?;
    response.request_id = request_id;
    response.ttft = ttft.or(Some(start.elapsed()));
    response.rate_limit =
        super::ratelimit::RateLimitInfo::from_headers(headers, std::time::SystemTime::now());
    Ok(response)
}

/// One line of a batch input file for `/v1/responses`.
pub fn batch_line(custom_id: &str, request: &ChatRequest) -> Value {
    json!({"custom_id": custom_id, "method": "POST", "url": PATH, "body": request_body(request)})
}

/// Parses one line of a Responses batch's output or error file.
pub fn parse_batch_line(line: &str) -> Result<BatchResult, String> {
    let (custom_id, outcome) = parse_batch_envelope(line, |body, request_id| {
        let mut resp = parse_response(body)?;
        resp.request_id = request_id;
        Ok(resp)
    })?;
    Ok(BatchResult { custom_id, outcome })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{JsonSchema, ServiceTier};

    fn req() -> ChatRequest {
        ChatRequest::new("gpt-5-mini", Some("Answer briefly."), "Is 7 prime?", 16)
    }

    #[test]
    fn body_puts_instructions_input_format_and_effort_where_the_api_reads_them() {
        let mut r = req();
        r.json_schema = Some(JsonSchema {
            name: "answers".into(),
            schema: json!({"type": "object"}),
        });
        r.reasoning_effort = Some("low".into());
        r.service_tier = Some(ServiceTier::Flex);
        assert_eq!(
            request_body(&r),
            json!({
                "model": "gpt-5-mini",
                "instructions": "Answer briefly.",
                "input": [{"role": "user", "content": "Is 7 prime?"}],
                "max_output_tokens": 16,
                "store": false,
                "text": {"format": {"type": "json_schema", "name": "answers", "schema": {"type": "object"}, "strict": true}},
                "reasoning": {"effort": "low"},
                "service_tier": "flex"
            })
        );
        let line = batch_line("r1", &req());
        assert_eq!(line["url"], "/v1/responses");
        assert!(line["body"].get("stream").is_none());
    }

    #[test]
    fn usage_text_tier_and_finish_from_a_response_object() {
        let v = json!({"id": "resp_1", "object": "response", "status": "completed", "service_tier": "default",
            "output": [
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                 "content": [{"type": "output_text", "text": "Yes", "annotations": []},
                             {"type": "output_text", "text": ".", "annotations": []}]}],
            "usage": {"input_tokens": 2006, "input_tokens_details": {"cached_tokens": 1920},
                      "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 256},
                      "total_tokens": 2306}});
        let r = parse_response(&v).unwrap();
        assert_eq!(r.text, "Yes.");
        assert_eq!(r.finish_reason, "stop");
        assert_eq!(r.served_tier.as_deref(), Some("default"));
        assert_eq!(
            (
                r.usage.input_tokens,
                r.usage.cached_tokens,
                r.usage.output_tokens,
                r.usage.reasoning_tokens
            ),
            (2006, 1920, 300, 256)
        );
        let cut = json!({"id": "resp_2", "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"}, "output": [],
            "usage": {"input_tokens": 5, "output_tokens": 16}});
        assert_eq!(parse_response(&cut).unwrap().finish_reason, "length");
        let failed = json!({"id": "resp_3", "status": "failed", "error": {"code": "server_error", "message": "boom"}, "output": []});
        assert!(parse_response(&failed).unwrap_err().contains("boom"));
        assert!(
            parse_response(&json!({"id": "x", "output": []}))
                .unwrap_err()
                .contains("usage")
        );
    }

    #[test]
    fn failures_after_the_2xx_are_classified_by_their_code() {
        let failed = json!({"id": "resp_4", "status": "failed", "output": [],
            "error": {"code": "server_error", "message": "The model failed"}});
        let e = failure(&failed).unwrap();
        assert_eq!((e.status, e.is_retryable()), (Some(500), true));
        let limited = CallError::reported(Some("rate_limit_exceeded".into()), "slow down".into());
        assert_eq!((limited.status, limited.is_retryable()), (Some(429), true));
        let bad = CallError::reported(Some("invalid_prompt".into()), "no".into());
        assert_eq!((bad.status, bad.is_retryable()), (None, false));
        assert!(failure(&json!({"status": "completed"})).is_none());
        // Reasoning items may carry `content: null`.
        let v = json!({"id": "resp_5", "status": "completed", "output": [
            {"type": "reasoning", "content": null, "summary": []},
            {"type": "message", "content": [{"type": "output_text", "text": "ok"}]}],
            "usage": {"input_tokens": 1, "output_tokens": 1}});
        assert_eq!(parse_response(&v).unwrap().text, "ok");
    }
}
