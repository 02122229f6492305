//! Anthropic wire format: messages (plain and streamed) and Message Batches. Usage is normalised
//! to the OpenAI convention on arrival (cache tokens become parts of the input total).

use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{CallError, CallErrorKind};
use super::http::{self, decode_error, json_body};
use super::sse::{self, Events};
use super::{ChatRequest, ChatResponse, Client, ProviderKind, Usage};

/// The API version header value batchbench speaks.
pub const API_VERSION: &str = "2023-06-01";
/// Requests per message batch (Anthropic's limit).
pub const BATCH_MAX_REQUESTS: usize = 100_000;
/// Bytes per message batch (Anthropic's limit: 256 MB).
pub const BATCH_MAX_BYTES: usize = 256 * 1024 * 1024;

fn authorized(client: &Client, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    builder
        .header("x-api-key", client.endpoint().key.expose())
        .header("anthropic-version", API_VERSION)
}

/// Anthropic's cache minimums live in the shared crate, which the mock reads too.
pub use batchbench_core::facts::{CACHE_MIN_PREFIX, DEFAULT_CACHE_MIN_PREFIX};

/// The smallest prefix Anthropic caches for `model` (case and a `vendor/` prefix ignored).
pub fn min_cacheable_prefix(model: &str) -> u64 {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    CACHE_MIN_PREFIX
        .iter()
        .filter(|(p, _)| m.starts_with(p))
        .max_by_key(|(p, _)| p.len())
        .map_or(DEFAULT_CACHE_MIN_PREFIX, |(_, n)| *n)
}

/// The JSON body of a messages request (also the `params` of a batch request).
pub fn request_body(request: &ChatRequest) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    let mut body =
        json!({"model": request.model, "max_tokens": request.max_tokens, "messages": messages});
    if let Some(system) = &request.system {
        body["system"] = if request.cache_prefix {
            let mut control = json!({"type": "ephemeral"});
            if let Ok(Some(ttl)) = request.cache_ttl.wire_value(ProviderKind::Anthropic) {
                control["ttl"] = json!(ttl);
            }
            json!([{"type": "text", "text": system, "cache_control": control}])
        } else {
            json!(system)
        };
    }
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    if request.stream {
        body["stream"] = json!(true);
    }
    if let Some(tier) = request.service_tier {
        body["service_tier"] = json!(tier.as_str());
    }
    body
}

/// `usage` of a message.
#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation: Option<WireCacheCreation>,
    /// `standard`, `priority` or `batch`: the tier that served (and prices) the request.
    #[serde(default)]
    service_tier: Option<String>,
    /// `thinking_tokens`: of `output_tokens`, those spent thinking (anthropic-sdk-python
    /// `OutputTokensDetails`).
    #[serde(default)]
    output_tokens_details: Option<WireOutputDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct WireOutputDetails {
    #[serde(default)]
    thinking_tokens: u64,
}

#[derive(Debug, Default, Deserialize)]
struct WireCacheCreation {
    #[serde(default)]
    ephemeral_1h_input_tokens: u64,
}

impl WireUsage {
    /// Anthropic reports cache tokens beside `input_tokens`; batchbench's convention (and
    /// genai-prices') counts them inside the input total.
    fn normalise(&self) -> Usage {
        let write = self.cache_creation_input_tokens.unwrap_or(0);
        let read = self.cache_read_input_tokens.unwrap_or(0);
        Usage {
            input_tokens: self.input_tokens.saturating_add(write).saturating_add(read),
            cached_tokens: read,
            cache_write_tokens: write,
            cache_write_1h_tokens: self
                .cache_creation
                .as_ref()
                .map_or(0, |c| c.ephemeral_1h_input_tokens)
                .min(write),
            output_tokens: self.output_tokens,
            reasoning_tokens: self
                .output_tokens_details
                .as_ref()
                .map_or(0, |d| d.thinking_tokens)
                .min(self.output_tokens),
        }
    }

    /// A `message_delta`'s usage: its counts are cumulative, so each one it carries replaces
    /// the `message_start` value (anthropic-sdk-python `MessageDeltaUsage`).
    fn update(&mut self, delta: &Value) {
        let count = |k: &str| delta.get(k).and_then(Value::as_u64);
        if let Some(o) = count("output_tokens") {
            self.output_tokens = o;
        }
        if let Some(i) = count("input_tokens") {
            self.input_tokens = i;
        }
        if let Some(w) = count("cache_creation_input_tokens") {
            self.cache_creation_input_tokens = Some(w);
        }
        if let Some(r) = count("cache_read_input_tokens") {
            self.cache_read_input_tokens = Some(r);
        }
        if let Ok(d) = WireOutputDetails::deserialize(&delta["output_tokens_details"]) {
            self.output_tokens_details = Some(d);
        }
    }
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    id: Option<String>,
    content: Vec<WireBlock>,
    stop_reason: Option<String>,
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct WireBlock {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

/// Reads a `message` object into a [`ChatResponse`].
pub fn parse_message(v: &Value) -> Result<ChatResponse, String> {
    let m: WireMessage =
        WireMessage::deserialize(v).map_err(|e| format!("not a message object: {e}"))?;
    let usage = http::required_usage(m.usage.as_ref().map(WireUsage::normalise))?;
    let text: String = m
        .content
        .iter()
        .filter(|b| b.kind == "text")
        .filter_map(|b| b.text.as_deref())
        .collect::<Vec<_>>()
        .join("");
    Ok(ChatResponse {
        id: m.id.unwrap_or_default(),
        text,
        choices: 1,
        finish_reason: m.stop_reason.unwrap_or_default(),
        usage,
        request_id: None,
        ttft: None,
        served_tier: m.usage.and_then(|u| u.service_tier),
        rate_limit: None,
    })
}

/// One messages call; streamed when the request says so.
pub(crate) async fn chat(
    client: &Client,
    request: &ChatRequest,
) -> Result<ChatResponse, CallError> {
    let body = request_body(request);
    let builder = authorized(
        client,
        client.http().post(client.url("/v1/messages")).json(&body),
    );
    if request.stream {
        return chat_stream(client, builder).await;
    }
    let reply = http::send(client, builder).await?;
    let v = json_body(ProviderKind::Anthropic, &reply)?;
    let response = parse_message(&v).map_err(|e| decode_error(e, &reply))?;
    Ok(reply.stamp(response))
}

async fn chat_stream(
    client: &Client,
    builder: reqwest::RequestBuilder,
) -> Result<ChatResponse, CallError> {
    let t = client.endpoint().timeouts;
    let (response, start) = http::open(client, builder).await?;
    let headers = response.headers().clone();
    let request_id = super::headers::header_str(&headers, "request-id").map(str::to_string);
    let mut events = Events::new(response, headers, t.stream_idle);
    let (mut text, mut id, mut stop) = (String::new(), String::new(), String::new());
    let mut usage = WireUsage::default();
    let (mut ttft, mut done) = (None, false);
    while !done {
        let Some(chunk) = events.next_chunk().await? else {
            break;
        };
        for event in chunk {
            let v = sse::json(&event)?;
            match v.get("type").and_then(|t| t.as_str()).unwrap_or_default() {
                "message_start" => {
                    let m = &v["message"];
                    id = m
                        .get("id")
                        .and_then(|i| i.as_str())
                        .unwrap_or_default()
                        .to_string();
                    if let Ok(u) = WireUsage::deserialize(&m["usage"]) {
                        usage = u;
                    }
                }
                "content_block_delta" => {
                    if let Some(delta) = v["delta"].get("text").and_then(|t| t.as_str()) {
                        if ttft.is_none() && !delta.is_empty() {
                            ttft = Some(start.elapsed());
                        }
                        text.push_str(delta);
                    }
                }
                "message_delta" => {
                    if let Some(s) = v["delta"].get("stop_reason").and_then(|s| s.as_str()) {
                        stop = s.to_string();
                    }
                    usage.update(&v["usage"]);
                }
                "message_stop" => done = true,
                "error" => {
                    let (code, message) = http::error_fields(ProviderKind::Anthropic, &v);
                    let mut err = CallError::new(
                        CallErrorKind::Status,
                        format!("error in stream: {message}"),
                    );
                    err.status = Some(if code.as_deref() == Some("overloaded_error") {
                        529
                    } else {
                        500
                    });
                    err.code = code;
                    return Err(err);
                }
                _ => {}
            }
        }
    }
    let headers = events.headers();
    if !done {
        return Err(http::dropped(
            CallError::new(CallErrorKind::Connect, "stream ended before message_stop"),
            headers,
        ));
    }
    let served_tier = usage.service_tier.take();
    let usage = usage.normalise();
    http::check_usage(&usage).map_err(|e| CallError::new(CallErrorKind::Decode, e))?;
    Ok(ChatResponse {
        id,
        text,
        choices: 1,
        finish_reason: stop,
        usage,
        request_id,
        ttft: ttft.or(Some(start.elapsed())),
        served_tier,
        rate_limit: super::ratelimit::RateLimitInfo::from_headers(
            headers,
            std::time::SystemTime::now(),
        ),
    })
}

/// Counts of a message batch's requests.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub struct RequestCounts {
    /// Still running.
    #[serde(default)]
    pub processing: u64,
    /// Answered.
    #[serde(default)]
    pub succeeded: u64,
    /// Failed.
    #[serde(default)]
    pub errored: u64,
    /// Cancelled before they ran.
    #[serde(default)]
    pub canceled: u64,
    /// Not run within 24 h.
    #[serde(default)]
    pub expired: u64,
}

/// A message batch.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageBatch {
    /// `msgbatch_…`
    pub id: String,
    /// in_progress, canceling, ended.
    pub processing_status: String,
    /// Counts (other than `processing`, zero until the batch ends).
    #[serde(default)]
    pub request_counts: RequestCounts,
    /// Where the results are, once ended.
    #[serde(default)]
    pub results_url: Option<String>,
}

impl MessageBatch {
    /// Whether results can be read.
    pub fn is_ended(&self) -> bool {
        self.processing_status == "ended"
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &Client,
    builder: reqwest::RequestBuilder,
) -> Result<T, CallError> {
    let reply = http::send(client, authorized(client, builder)).await?;
    let v = json_body(ProviderKind::Anthropic, &reply)?;
    T::deserialize(&v).map_err(|e| decode_error(format!("unexpected response shape: {e}"), &reply))
}

/// One request of a message batch.
pub fn batch_request(custom_id: &str, request: &ChatRequest) -> Value {
    let mut params = request_body(request);
    if let Some(obj) = params.as_object_mut() {
        obj.remove("stream");
    }
    json!({"custom_id": custom_id, "params": params})
}

/// Creates a message batch from already-built requests.
pub async fn create_batch(client: &Client, requests: &[Value]) -> Result<MessageBatch, CallError> {
    let body = json!({"requests": requests});
    get_json(
        client,
        client
            .http()
            .post(client.url("/v1/messages/batches"))
            .json(&body),
    )
    .await
}

/// Reads a message batch's state.
pub async fn get_batch(client: &Client, id: &str) -> Result<MessageBatch, CallError> {
    get_json(
        client,
        client
            .http()
            .get(client.url(&format!("/v1/messages/batches/{id}"))),
    )
    .await
}

/// Asks the server to cancel a message batch.
pub async fn cancel_batch(client: &Client, id: &str) -> Result<MessageBatch, CallError> {
    get_json(
        client,
        client
            .http()
            .post(client.url(&format!("/v1/messages/batches/{id}/cancel"))),
    )
    .await
}

/// Downloads the results (JSONL) of an ended batch.
pub async fn results(
    client: &Client,
    id: &str,
    results_url: Option<&str>,
) -> Result<bytes::Bytes, CallError> {
    let url = match results_url {
        Some(u) if !u.is_empty() => client.confined_url(u),
        _ => client.url(&format!("/v1/messages/batches/{id}/results")),
    };
    let builder = authorized(client, client.http().get(url));
    Ok(http::send(client, builder).await?.body)
}

/// One result line of a message batch: the custom id and the answer or why there is none.
pub fn parse_result_line(line: &str) -> Result<super::openai::BatchResult, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let custom_id = v
        .get("custom_id")
        .and_then(|c| c.as_str())
        .ok_or("missing custom_id")?
        .to_string();
    let result = v.get("result").ok_or("missing result")?;
    let kind = result
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    let outcome = match kind {
        "succeeded" => Ok(parse_message(
            result.get("message").unwrap_or(&Value::Null),
        )?),
        "errored" => {
            let (code, message) = http::error_fields(
                ProviderKind::Anthropic,
                result.get("error").unwrap_or(&Value::Null),
            );
            let mut e = CallError::new(CallErrorKind::Status, message);
            e.code = code;
            Err(e)
        }
        "canceled" | "expired" => {
            let mut e = CallError::new(CallErrorKind::Status, format!("request {kind}"));
            e.code = Some(format!("batch_{kind}"));
            Err(e)
        }
        other => return Err(format!("unknown result type {other:?}")),
    };
    Ok(super::openai::BatchResult { custom_id, outcome })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_tokens_are_added_to_input() {
        let v = json!({"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"yes"}],
            "stop_reason":"end_turn","usage":{"input_tokens":50,"output_tokens":3,"cache_creation_input_tokens":1000,
            "cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":400,"ephemeral_1h_input_tokens":600}}});
        let r = parse_message(&v).unwrap();
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 3050,
                cached_tokens: 2000,
                cache_write_tokens: 1000,
                cache_write_1h_tokens: 600,
                output_tokens: 3,
                reasoning_tokens: 0
            }
        );
        assert_eq!(r.usage.uncached_input(), 50);
        assert_eq!(r.text, "yes");
    }

    #[test]
    fn body_marks_the_cached_prefix() {
        let r = ChatRequest {
            temperature: Some(0.0),
            cache_prefix: true,
            ..ChatRequest::new("claude-haiku-4-5", Some("Policy"), "q", 20)
        };
        let b = request_body(&r);
        assert_eq!(b["system"][0]["cache_control"]["type"], "ephemeral");
        assert_eq!(b["max_tokens"], 20);
        let line = batch_request("c1", &r);
        assert_eq!(line["params"]["model"], "claude-haiku-4-5");
    }

    #[test]
    fn result_lines() {
        let ok = r#"{"custom_id":"a","result":{"type":"succeeded","message":{"id":"m","content":[{"type":"text","text":"4"}],"usage":{"input_tokens":5,"output_tokens":1}}}}"#;
        assert_eq!(parse_result_line(ok).unwrap().outcome.unwrap().text, "4");
        let exp = r#"{"custom_id":"b","result":{"type":"expired"}}"#;
        assert_eq!(
            parse_result_line(exp)
                .unwrap()
                .outcome
                .unwrap_err()
                .code
                .as_deref(),
            Some("batch_expired")
        );
        let err = r#"{"custom_id":"c","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}}}"#;
        assert_eq!(
            parse_result_line(err)
                .unwrap()
                .outcome
                .unwrap_err()
                .code
                .as_deref(),
            Some("invalid_request_error")
        );
    }

    #[test]
    fn thinking_tokens_and_the_cumulative_counts_of_a_message_delta() {
        let mut u = WireUsage::deserialize(&json!({"input_tokens": 10, "output_tokens": 1,
            "cache_read_input_tokens": 0}))
        .unwrap();
        u.update(
            &json!({"output_tokens": 300, "input_tokens": 12, "cache_read_input_tokens": 4000,
            "output_tokens_details": {"thinking_tokens": 256}}),
        );
        let n = u.normalise();
        assert_eq!(
            (
                n.input_tokens,
                n.cached_tokens,
                n.output_tokens,
                n.reasoning_tokens
            ),
            (4012, 4000, 300, 256)
        );
        // A delta carrying only the output keeps the start's input counts.
        u.update(&json!({"output_tokens": 301}));
        assert_eq!(u.normalise().input_tokens, 4012);
    }
}
