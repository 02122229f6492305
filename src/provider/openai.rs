//! OpenAI wire format: chat completions (plain and streamed), files and the Batch API.
//! Works with any OpenAI-compatible server given its base URL.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{CallError, CallErrorKind};
use super::http::{self, Reply, decode_error, json_body};
use super::sse::Events;
use super::{ChatRequest, ChatResponse, Client, ProviderKind, Usage};

/// The content type of a JSON request body, as reqwest's `json` sets it.
const JSON: reqwest::header::HeaderValue =
    reqwest::header::HeaderValue::from_static("application/json");

/// The endpoint batch lines target.
pub const CHAT_PATH: &str = "/v1/chat/completions";
/// Requests per batch input file (OpenAI's limit).
pub const BATCH_MAX_REQUESTS: usize = 50_000;
/// Bytes per batch input file (OpenAI's limit: 200 MB).
pub const BATCH_MAX_BYTES: usize = 200 * 1024 * 1024;

pub(crate) fn authorized(
    client: &Client,
    builder: reqwest::RequestBuilder,
) -> reqwest::RequestBuilder {
    let key = &client.endpoint().key;
    if key.is_empty() {
        builder
    } else {
        builder.bearer_auth(key.expose())
    }
}

/// Whether the server is OpenAI's own (or our mock): those take `max_completion_tokens`;
/// other OpenAI-compatible servers are sent the older, more widely supported `max_tokens`.
fn uses_max_completion_tokens(base_url: &str) -> bool {
    base_url.contains("api.openai.com")
        || base_url.contains("127.0.0.1")
        || base_url.contains("localhost")
}

/// The JSON body of a chat completion request.
pub fn request_body(request: &ChatRequest, base_url: &str) -> Value {
    serde_json::to_value(WireRequest::new(request, base_url)).unwrap_or(Value::Null)
}

/// A chat completion request as sent, borrowing the request's text so that sending it copies
/// nothing but the bytes on the wire. Fields are in alphabetical order, the order in which
/// `serde_json` writes a [`Value`] object, so [`request_body`]'s text is the same.
#[derive(Debug, serde::Serialize)]
struct WireRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    messages: Vec<WireRequestMessage<'a>>,
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_retention: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<WireResponseFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_tier: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<WireStreamOptions>,
    /// As `f64`, the way a [`Value`] holds an `f32` (so `0.7f32` is written `0.699999988079071`
    /// as before).
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
}

#[derive(Debug, serde::Serialize)]
struct WireRequestMessage<'a> {
    content: &'a str,
    role: &'a str,
}

#[derive(Debug, serde::Serialize)]
struct WireResponseFormat<'a> {
    json_schema: WireJsonSchema<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, serde::Serialize)]
struct WireJsonSchema<'a> {
    name: &'a str,
    schema: &'a Value,
    strict: bool,
}

#[derive(Debug, serde::Serialize)]
struct WireStreamOptions {
    include_usage: bool,
}

impl<'a> WireRequest<'a> {
    fn new(request: &'a ChatRequest, base_url: &str) -> WireRequest<'a> {
        let (max_completion_tokens, max_tokens) = if uses_max_completion_tokens(base_url) {
            (Some(request.max_tokens), None)
        } else {
            (None, Some(request.max_tokens))
        };
        WireRequest {
            max_completion_tokens,
            max_tokens,
            messages: request
                .wire_messages()
                .into_iter()
                .map(|(role, content)| WireRequestMessage { content, role })
                .collect(),
            model: &request.model,
            prompt_cache_key: request.cache_prefix.then(|| prompt_cache_key(request)),
            prompt_cache_retention: cache_retention(request),
            reasoning_effort: request.reasoning_effort.as_deref(),
            response_format: request.json_schema.as_ref().map(|s| WireResponseFormat {
                json_schema: WireJsonSchema {
                    name: &s.name,
                    schema: &s.schema,
                    strict: true,
                },
                kind: "json_schema",
            }),
            service_tier: request.service_tier.map(super::ServiceTier::as_str),
            stream: request.stream.then_some(true),
            stream_options: request.stream.then_some(WireStreamOptions {
                include_usage: true,
            }),
            temperature: request.temperature.map(f64::from),
        }
    }
}

/// `prompt_cache_retention` for a request marked for caching with the 24-hour TTL.
pub(crate) fn cache_retention(request: &ChatRequest) -> Option<&'static str> {
    request
        .cache_prefix
        .then(|| {
            request
                .cache_ttl
                .wire_value(ProviderKind::Openai)
                .ok()
                .flatten()
        })
        .flatten()
}

/// A stable cache key from the shared prefix, so requests sharing it are routed together.
pub(crate) fn prompt_cache_key(request: &ChatRequest) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(request.system.as_deref().unwrap_or_default().as_bytes());
    format!("batchbench-{}", &hex::encode(digest)[..16])
}

#[derive(Debug, Deserialize)]
struct WireCompletion {
    id: Option<String>,
    choices: Vec<WireChoice>,
    usage: Option<WireUsage>,
    /// The tier that served the request (`default`, `flex`, `priority`, …), the one to price by.
    service_tier: Option<String>,
    /// Present and not `null` on an error object; only its presence is read here (the `Value`
    /// path reads the error itself).
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct WireChoice {
    message: Option<WireMessage>,
    delta: Option<WireMessage>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    content: Option<String>,
    refusal: Option<String>,
}

/// `usage` of a chat completion.
#[derive(Debug, Deserialize)]
struct WireUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
    prompt_tokens_details: Option<WirePromptDetails>,
    completion_tokens_details: Option<WireCompletionDetails>,
}

/// `usage.completion_tokens_details`: reasoning tokens are a part of `completion_tokens`.
#[derive(Debug, Deserialize)]
struct WireCompletionDetails {
    reasoning_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct WirePromptDetails {
    cached_tokens: Option<u64>,
    cache_write_tokens: Option<u64>,
}

impl WireUsage {
    fn normalise(&self) -> Usage {
        let details = self.prompt_tokens_details.as_ref();
        Usage {
            input_tokens: self.prompt_tokens,
            cached_tokens: details.and_then(|d| d.cached_tokens).unwrap_or(0),
            cache_write_tokens: details.and_then(|d| d.cache_write_tokens).unwrap_or(0),
            cache_write_1h_tokens: 0,
            output_tokens: self.completion_tokens,
            reasoning_tokens: self
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0)
                .min(self.completion_tokens),
        }
    }
}

/// Reads a `chat.completion` object into a [`ChatResponse`].
pub fn parse_completion(v: &Value) -> Result<ChatResponse, String> {
    let c: WireCompletion =
        WireCompletion::deserialize(v).map_err(|e| format!("not a chat.completion object: {e}"))?;
    into_response(c)
}

/// A decoded completion as a [`ChatResponse`], its strings moved rather than copied.
fn into_response(c: WireCompletion) -> Result<ChatResponse, String> {
    let usage = http::required_usage(c.usage.as_ref().map(WireUsage::normalise))?;
    let choices = c.choices.len();
    let (text, finish_reason) = match c.choices.into_iter().next() {
        Some(first) => (
            first
                .message
                .and_then(|m| m.content.or(m.refusal))
                .unwrap_or_default(),
            first.finish_reason.unwrap_or_default(),
        ),
        None => (String::new(), String::new()),
    };
    Ok(ChatResponse {
        id: c.id.unwrap_or_default(),
        text,
        choices,
        finish_reason,
        usage,
        request_id: None,
        ttft: None,
        served_tier: c.service_tier,
        rate_limit: None,
    })
}

/// Reads a `chat.completion` body straight into a [`ChatResponse`], without a
/// `serde_json::Value` tree: what a 2xx reply costs the harness to read. A body that decodes
/// this way has `choices`, so it is no error object. Its errors are terse; the chat call reads a
/// body that fails here again through [`parse_completion`], whose errors say what is wrong.
pub fn read_completion(body: &[u8]) -> Result<ChatResponse, String> {
    let c: WireCompletion = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    into_response(c)
}

/// The bytes of a chat completion request body, as the chat call sends them.
pub fn encode_request(request: &ChatRequest, base_url: &str) -> Vec<u8> {
    // Borrowed strings, a `Value` schema and no map keys of other types: cannot fail.
    serde_json::to_vec(&WireRequest::new(request, base_url)).unwrap_or_default()
}

/// Reads a 2xx chat completion reply: [`read_completion`], or when that fails the `Value` way
/// ([`json_body`], then [`parse_completion`]), which tells an error object or a wrong shape
/// apart and names it.
fn completion_from(reply: &Reply) -> Result<ChatResponse, CallError> {
    if let Ok(response) = read_completion(&reply.body) {
        return Ok(response);
    }
    let v = json_body(ProviderKind::Openai, reply)?;
    parse_completion(&v).map_err(|e| decode_error(e, reply))
}

/// Reads one `chat.completion.chunk` of a stream: typed straight from the text when it is one
/// without an `error`, else through a `serde_json::Value` (invalid JSON, an error in the
/// stream, a wrong shape), as before.
fn stream_chunk(data: &str) -> Result<WireCompletion, CallError> {
    if let Ok(c) = serde_json::from_str::<WireCompletion>(data) {
        if c.error.is_none() {
            return Ok(c);
        }
    }
    let v: Value = serde_json::from_str(data).map_err(|e| {
        CallError::new(
            CallErrorKind::Decode,
            format!("invalid JSON in a stream chunk: {e}"),
        )
    })?;
    if v.get("error").is_some_and(|e| !e.is_null()) {
        let (code, message) = http::error_fields(ProviderKind::Openai, &v);
        return Err(CallError::reported(
            code,
            format!("error in stream: {message}"),
        ));
    }
    WireCompletion::deserialize(&v).map_err(|e| {
        CallError::new(
            CallErrorKind::Decode,
            format!("not a chat.completion.chunk: {e}"),
        )
    })
}

/// One chat completion; streamed when the request says so. A server that refuses the
/// `json_schema` response format gets the request again without it (see [`super::fallback`]).
pub(crate) async fn chat(
    client: &Client,
    request: &ChatRequest,
) -> Result<ChatResponse, CallError> {
    super::fallback::send_with_fallback(
        client,
        request,
        |c, r| async move { chat_once(c, &r).await },
    )
    .await
}

async fn chat_once(client: &Client, request: &ChatRequest) -> Result<ChatResponse, CallError> {
    let body = encode_request(request, &client.endpoint().base_url);
    let builder = authorized(
        client,
        client
            .post_chat_completions()
            .header(reqwest::header::CONTENT_TYPE, JSON)
            .body(body),
    );
    if request.stream {
        return chat_stream(client, builder).await;
    }
    let reply = http::send(client, builder).await?;
    let response = completion_from(&reply)?;
    Ok(reply.stamp(response))
}

async fn chat_stream(
    client: &Client,
    builder: reqwest::RequestBuilder,
) -> Result<ChatResponse, CallError> {
    let t = client.endpoint().timeouts;
    let (mut response, start) = http::open(client, builder).await?;
    // Taken, not cloned: the body stream needs only the body.
    let headers = std::mem::take(response.headers_mut());
    let request_id = super::headers::header_str(&headers, "x-request-id").map(str::to_string);
    let mut events = Events::new(response, headers, t.stream_idle);
    let mut text = String::new();
    let (mut id, mut finish, mut usage, mut ttft, mut done) =
        (String::new(), String::new(), None, None, false);
    let mut served_tier = None;
    while !done {
        let Some(chunk) = events.next_chunk().await? else {
            break;
        };
        for event in chunk {
            if event.data == "[DONE]" {
                done = true;
                break;
            }
            let c = stream_chunk(&event.data)?;
            if let Some(cid) = c.id {
                id = cid;
            }
            if let Some(u) = c.usage {
                usage = Some(u.normalise());
            }
            if c.service_tier.is_some() {
                served_tier = c.service_tier;
            }
            for choice in c.choices.iter().take(1) {
                if let Some(delta) = choice.delta.as_ref().and_then(|d| d.content.as_deref()) {
                    if ttft.is_none() && !delta.is_empty() {
                        ttft = Some(start.elapsed());
                    }
                    text.push_str(delta);
                }
                if let Some(f) = &choice.finish_reason {
                    finish = f.clone();
                }
            }
        }
    }
    let headers = events.headers();
    if !done {
        return Err(http::dropped(
            CallError::new(CallErrorKind::Connect, "stream ended before data: [DONE]"),
            headers,
        ));
    }
    let usage = usage.ok_or_else(|| {
        CallError::new(
            CallErrorKind::Decode,
            "the stream carried no usage chunk: it cannot be priced",
        )
    })?;
    http::check_usage(&usage).map_err(|e| CallError::new(CallErrorKind::Decode, e))?;
    Ok(ChatResponse {
        id,
        text,
        choices: 1,
        finish_reason: finish,
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

/// A stored file (`/v1/files`).
#[derive(Debug, Clone, Deserialize)]
pub struct FileObject {
    /// `file-…`
    pub id: String,
    /// Size in bytes.
    #[serde(default)]
    pub bytes: u64,
}

/// Counts of a batch's requests.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub struct RequestCounts {
    /// All requests.
    #[serde(default)]
    pub total: u64,
    /// Finished successfully.
    #[serde(default)]
    pub completed: u64,
    /// Failed.
    #[serde(default)]
    pub failed: u64,
}

/// A batch job (`/v1/batches`).
#[derive(Debug, Clone, Deserialize)]
pub struct Batch {
    /// `batch_…`
    pub id: String,
    /// validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled.
    pub status: String,
    /// The uploaded input file the batch runs over.
    #[serde(default)]
    pub input_file_id: Option<String>,
    /// Results, once there are any.
    pub output_file_id: Option<String>,
    /// Failed requests, once there are any.
    pub error_file_id: Option<String>,
    /// Progress counts.
    #[serde(default)]
    pub request_counts: Option<RequestCounts>,
    /// Validation errors.
    #[serde(default)]
    pub errors: Option<Value>,
}

impl Batch {
    /// Whether the batch will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.status.as_str(),
            "completed" | "failed" | "expired" | "cancelled"
        )
    }

    /// The validation errors as one line.
    pub fn error_summary(&self) -> String {
        let Some(list) = self
            .errors
            .as_ref()
            .and_then(|e| e.get("data"))
            .and_then(|d| d.as_array())
        else {
            return String::from("no errors listed");
        };
        list.iter()
            .take(5)
            .map(|e| {
                let line = e
                    .get("line")
                    .and_then(|l| l.as_u64())
                    .map(|l| format!("line {l}: "))
                    .unwrap_or_default();
                format!(
                    "{line}{}",
                    e.get("message").and_then(|m| m.as_str()).unwrap_or("?")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &Client,
    builder: reqwest::RequestBuilder,
) -> Result<T, CallError> {
    let reply: Reply = http::send(client, authorized(client, builder)).await?;
    let v = json_body(ProviderKind::Openai, &reply)?;
    T::deserialize(&v).map_err(|e| decode_error(format!("unexpected response shape: {e}"), &reply))
}

/// Uploads a batch input file (`purpose=batch`).
pub async fn upload_batch_file(
    client: &Client,
    filename: &str,
    bytes: Vec<u8>,
) -> Result<FileObject, CallError> {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(filename.to_string())
        .mime_str("application/jsonl")
        .map_err(|e| CallError::new(CallErrorKind::Decode, e.to_string()))?;
    let form = reqwest::multipart::Form::new()
        .text("purpose", "batch")
        .part("file", part);
    get_json(
        client,
        client.http().post(client.url("/files")).multipart(form),
    )
    .await
}

/// Creates a batch over an uploaded file.
pub async fn create_batch(
    client: &Client,
    input_file_id: &str,
    metadata: Value,
) -> Result<Batch, CallError> {
    create_batch_for(client, CHAT_PATH, input_file_id, metadata).await
}

/// Creates a batch whose lines go to `endpoint` (`/v1/chat/completions`, `/v1/embeddings`).
pub async fn create_batch_for(
    client: &Client,
    endpoint: &str,
    input_file_id: &str,
    metadata: Value,
) -> Result<Batch, CallError> {
    let body = json!({
        "input_file_id": input_file_id,
        "endpoint": endpoint,
        "completion_window": "24h",
        "metadata": metadata,
    });
    get_json(
        client,
        client.http().post(client.url("/batches")).json(&body),
    )
    .await
}

/// The most recent batches of the organisation (`GET /batches?limit=N`, newest first).
pub async fn list_batches(client: &Client, limit: u32) -> Result<Vec<Batch>, CallError> {
    #[derive(Deserialize)]
    struct Page {
        data: Vec<Batch>,
    }
    let page: Page = get_json(
        client,
        client
            .http()
            .get(client.url("/batches"))
            .query(&[("limit", limit)]),
    )
    .await?;
    Ok(page.data)
}

/// Reads a batch's state.
pub async fn get_batch(client: &Client, id: &str) -> Result<Batch, CallError> {
    get_json(
        client,
        client.http().get(client.url(&format!("/batches/{id}"))),
    )
    .await
}

/// Asks the server to cancel a batch.
pub async fn cancel_batch(client: &Client, id: &str) -> Result<Batch, CallError> {
    get_json(
        client,
        client
            .http()
            .post(client.url(&format!("/batches/{id}/cancel"))),
    )
    .await
}

/// Downloads a file's content.
pub async fn file_content(client: &Client, id: &str) -> Result<bytes::Bytes, CallError> {
    let builder = authorized(
        client,
        client
            .http()
            .get(client.url(&format!("/files/{id}/content"))),
    );
    Ok(http::send(client, builder).await?.body)
}

/// Deletes a file (best effort clean-up after a batch).
pub async fn delete_file(client: &Client, id: &str) -> Result<(), CallError> {
    let builder = authorized(
        client,
        client.http().delete(client.url(&format!("/files/{id}"))),
    );
    http::send(client, builder).await.map(|_| ())
}

/// One line of a batch input file.
pub fn batch_line(custom_id: &str, request: &ChatRequest) -> Value {
    let mut body = request_body(request, "https://api.openai.com/v1");
    if let Some(obj) = body.as_object_mut() {
        obj.remove("stream");
        obj.remove("stream_options");
    }
    json!({"custom_id": custom_id, "method": "POST", "url": CHAT_PATH, "body": body})
}

/// What one output or error file line says about one request.
#[derive(Debug, Clone)]
pub struct BatchResult {
    /// The request's `custom_id`.
    pub custom_id: String,
    /// The answer, or why there is none.
    pub outcome: Result<ChatResponse, CallError>,
}

/// Parses one line of a batch output or error file.
pub fn parse_batch_line(line: &str) -> Result<BatchResult, String> {
    let (custom_id, outcome) = parse_batch_envelope(line, |body, request_id| {
        let mut resp = parse_completion(body)?;
        resp.request_id = request_id;
        Ok(resp)
    })?;
    Ok(BatchResult { custom_id, outcome })
}

/// Reads a batch output or error line of any endpoint: its `custom_id`, and the 200 body read
/// by `parse_body` (given the line's request id) or the error the line holds.
pub fn parse_batch_envelope<T>(
    line: &str,
    parse_body: impl Fn(&Value, Option<String>) -> Result<T, String>,
) -> Result<(String, Result<T, CallError>), String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let custom_id = v
        .get("custom_id")
        .and_then(|c| c.as_str())
        .ok_or("missing custom_id")?
        .to_string();
    let response = v.get("response").filter(|r| !r.is_null());
    let outcome = match response {
        Some(r) => {
            let status = r.get("status_code").and_then(|s| s.as_u64()).unwrap_or(0) as u16;
            let body = r.get("body").cloned().unwrap_or(Value::Null);
            let request_id = r
                .get("request_id")
                .and_then(|x| x.as_str())
                .map(str::to_string);
            if status == 200 {
                Ok(parse_body(&body, request_id)?)
            } else {
                let (code, message) = http::error_fields(ProviderKind::Openai, &body);
                let mut e = CallError::new(CallErrorKind::Status, message);
                e.status = Some(status);
                e.code = code;
                Err(e)
            }
        }
        None => {
            let err = v.get("error").cloned().unwrap_or(Value::Null);
            let code = err
                .get("code")
                .and_then(|c| c.as_str())
                .unwrap_or("unknown")
                .to_string();
            let message = err
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("no message")
                .to_string();
            let mut e = CallError::new(CallErrorKind::Status, format!("{code}: {message}"));
            e.code = Some(code);
            Err(e)
        }
    };
    Ok((custom_id, outcome))
}

/// A poll interval that grows from `start` towards `max` (×1.5 per poll).
pub fn next_poll(previous: Duration, max: Duration) -> Duration {
    (previous.mul_f64(1.5)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::JsonSchema;

    fn req() -> ChatRequest {
        ChatRequest::new("gpt-4o-mini", Some("Be brief."), "2+2?", 16)
    }

    #[test]
    fn body_shape() {
        let b = request_body(&req(), "https://api.openai.com/v1");
        assert_eq!(
            b,
            json!({"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"2+2?"}],"max_completion_tokens":16})
        );
        let b = request_body(&req(), "http://my-vllm:8000/v1");
        assert_eq!(b["max_tokens"], 16);
        let mut r = req();
        r.stream = true;
        r.cache_prefix = true;
        r.json_schema = Some(JsonSchema {
            name: "answers".into(),
            schema: json!({"type":"object"}),
        });
        let b = request_body(&r, "https://api.openai.com/v1");
        assert_eq!(b["stream_options"]["include_usage"], true);
        assert_eq!(b["response_format"]["json_schema"]["strict"], true);
        assert!(
            b["prompt_cache_key"]
                .as_str()
                .unwrap()
                .starts_with("batchbench-")
        );
        let line = batch_line("r1", &r);
        assert!(line["body"].get("stream").is_none());
        assert_eq!(line["url"], CHAT_PATH);
    }

    /// The body as it was built before [`WireRequest`]: a `json!` object.
    fn value_body(request: &ChatRequest, field: &str) -> Value {
        let messages: Vec<Value> = request
            .wire_messages()
            .into_iter()
            .map(|(role, content)| json!({"role": role, "content": content}))
            .collect();
        let mut body = json!({"model": request.model, "messages": messages});
        body[field] = json!(request.max_tokens);
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(schema) = &request.json_schema {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": schema.name, "schema": schema.schema, "strict": true}
            });
        }
        if request.cache_prefix {
            body["prompt_cache_key"] = json!(prompt_cache_key(request));
        }
        if request.stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }

    #[test]
    fn wire_text_equals_the_value_body() {
        let mut variants = vec![req()];
        let mut r = req();
        r.temperature = Some(0.7);
        r.system = None;
        variants.push(r);
        let mut r = req();
        r.stream = true;
        r.cache_prefix = true;
        r.temperature = Some(1.0);
        r.json_schema = Some(JsonSchema {
            name: "answers".into(),
            schema: json!({"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}}}),
        });
        r.system = Some("Quote \"this\"\n and é ✓".into());
        variants.push(r);
        for r in &variants {
            for (url, field) in [
                ("https://api.openai.com/v1", "max_completion_tokens"),
                ("http://my-vllm:8000/v1", "max_tokens"),
            ] {
                let text = serde_json::to_string(&WireRequest::new(r, url)).unwrap();
                assert_eq!(text, value_body(r, field).to_string());
                assert_eq!(request_body(r, url), value_body(r, field));
            }
        }
    }

    #[test]
    fn encoded_bytes_are_the_value_body() {
        let mut r = req();
        r.json_schema = Some(JsonSchema {
            name: "answers".into(),
            schema: json!({"type":"object","properties":{"q1":{"type":"string"}}}),
        });
        r.temperature = Some(0.7);
        let bytes = encode_request(&r, "https://api.openai.com/v1");
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            value_body(&r, "max_completion_tokens").to_string()
        );
    }

    fn reply(body: &str) -> Reply {
        Reply {
            headers: reqwest::header::HeaderMap::new(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn typed_read_equals_the_value_read_and_errors_keep_their_words() {
        let body = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"4","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":2}},"service_tier":"flex","error":null}"#;
        let value: Value = serde_json::from_str(body).unwrap();
        let typed = read_completion(body.as_bytes()).unwrap();
        assert_eq!(typed, parse_completion(&value).unwrap());
        assert_eq!(completion_from(&reply(body)).unwrap(), typed);
        assert_eq!(
            (typed.text.as_str(), typed.finish_reason.as_str()),
            ("4", "length")
        );
        assert_eq!(typed.usage.reasoning_tokens, 2);
        assert_eq!(typed.served_tier.as_deref(), Some("flex"));
        let refusal = r#"{"choices":[{"message":{"content":null,"refusal":"no"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
        assert_eq!(read_completion(refusal.as_bytes()).unwrap().text, "no");
        // What the typed read refuses goes the Value way, with the same outcome as before.
        let message = |body: &str| completion_from(&reply(body)).unwrap_err().message;
        assert!(
            message(r#"{"error":{"message":"boom","type":"server_error"}}"#)
                .contains("error body in a 2xx response: boom")
        );
        assert!(message("{").contains("invalid JSON in a 2xx response"));
        assert!(message(r#"{"choices":"nope"}"#).contains("not a chat.completion object"));
        assert!(message(r#"{"choices":[]}"#).contains("no usage"));
        // A repeated key is refused by the typed read; the Value read keeps the last one.
        let twice =
            r#"{"id":"a","id":"b","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0}}"#;
        assert!(read_completion(twice.as_bytes()).is_err());
        assert_eq!(completion_from(&reply(twice)).unwrap().id, "b");
    }

    #[test]
    fn stream_chunks_typed_and_errors_in_the_stream() {
        let c = stream_chunk(r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#).unwrap();
        assert_eq!(c.id.as_deref(), Some("c1"));
        let e =
            stream_chunk(r#"{"error":{"message":"overloaded","code":"server_busy"}}"#).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.code.as_deref()),
            ("error in stream: overloaded", Some("server_busy"))
        );
        let e = stream_chunk(r#"{"choices":[],"error":{"message":"late"}}"#).unwrap_err();
        assert_eq!(e.message, "error in stream: late");
        assert!(
            stream_chunk("{")
                .unwrap_err()
                .message
                .starts_with("invalid JSON in a stream chunk")
        );
        assert!(
            stream_chunk(r#"{"choices":3}"#)
                .unwrap_err()
                .message
                .starts_with("not a chat.completion.chunk")
        );
    }

    #[test]
    fn usage_cached_inside_prompt_tokens() {
        let v = json!({"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"4","refusal":null},"finish_reason":"stop","logprobs":null}],
            "usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920}}});
        let r = parse_completion(&v).unwrap();
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 2006,
                cached_tokens: 1920,
                cache_write_tokens: 0,
                cache_write_1h_tokens: 0,
                output_tokens: 300,
                reasoning_tokens: 0
            }
        );
        assert_eq!(r.usage.uncached_input(), 86);
        assert_eq!(r.text, "4");
    }

    #[test]
    fn missing_usage_and_bad_counts_are_errors() {
        let v = json!({"id":"x","choices":[{"message":{"content":"4"}}]});
        assert!(parse_completion(&v).unwrap_err().contains("no usage"));
        let v = json!({"id":"x","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":9}}});
        assert!(parse_completion(&v).unwrap_err().contains("inconsistent"));
        let v =
            json!({"id":"x","choices":"nope","usage":{"prompt_tokens":5,"completion_tokens":1}});
        assert!(parse_completion(&v).is_err());
    }

    #[test]
    fn batch_lines() {
        let ok = r#"{"id":"batch_req_1","custom_id":"r7","response":{"status_code":200,"request_id":"req_1","body":{"id":"c","choices":[{"message":{"content":"yes"}}],"usage":{"prompt_tokens":10,"completion_tokens":1}}},"error":null}"#;
        let r = parse_batch_line(ok).unwrap();
        assert_eq!(r.custom_id, "r7");
        assert_eq!(r.outcome.unwrap().usage.input_tokens, 10);
        let http_fail = r#"{"custom_id":"r8","response":{"status_code":400,"body":{"error":{"message":"bad","type":"invalid_request_error","code":null}}},"error":null}"#;
        assert_eq!(
            parse_batch_line(http_fail)
                .unwrap()
                .outcome
                .unwrap_err()
                .status,
            Some(400)
        );
        let expired = r#"{"custom_id":"r9","response":null,"error":{"code":"batch_expired","message":"expired"}}"#;
        assert_eq!(
            parse_batch_line(expired)
                .unwrap()
                .outcome
                .unwrap_err()
                .code
                .as_deref(),
            Some("batch_expired")
        );
        assert!(parse_batch_line("{").is_err());
    }
}
