//! Sending one HTTP request and classifying what comes back, shared by both providers.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderMap;

use super::error::{CallError, CallErrorKind};
use super::headers::{header_str, request_id};
use super::{Client, ProviderKind};

/// A successful (2xx) response: headers, body and when the headers arrived.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn request_id(&self) -> Option<String> {
        request_id(&self.headers)
    }

    /// `response`, read from this reply, with the reply's request id and rate limits.
    pub(crate) fn stamp(&self, mut response: super::ChatResponse) -> super::ChatResponse {
        response.request_id = self.request_id();
        response.rate_limit = super::ratelimit::RateLimitInfo::from_headers(
            &self.headers,
            std::time::SystemTime::now(),
        );
        response
    }
}

/// Sends a request built by `build`, waits for headers within the first-byte limit and for the
/// body within the total limit, and turns every non-2xx into a classified [`CallError`].
pub(crate) async fn send(
    client: &Client,
    build: reqwest::RequestBuilder,
) -> Result<Reply, CallError> {
    let t = client.endpoint().timeouts;
    let (mut response, start) = open(client, build).await?;
    // Taken, not cloned: reading the body needs only the body.
    let headers = std::mem::take(response.headers_mut());
    let remaining = t.total.saturating_sub(start.elapsed());
    let body = match tokio::time::timeout(remaining, response.bytes()).await {
        Err(_) => return Err(timeout("response body not complete", t.total)),
        Ok(Err(e)) => return Err(dropped(transport(e), &headers)),
        Ok(Ok(b)) => b,
    };
    Ok(Reply { headers, body })
}

/// Sends a request and waits for its headers within the first-byte limit; a non-2xx status is
/// read (within the total limit) and turned into a classified [`CallError`]. The body of a 2xx
/// is left to the caller, to stream it.
pub(crate) async fn open(
    client: &Client,
    build: reqwest::RequestBuilder,
) -> Result<(reqwest::Response, Instant), CallError> {
    let t = client.endpoint().timeouts;
    let (http, request) = build.timeout(t.total).build_split();
    let request = request.map_err(transport)?;
    let at = format!("{} {}", request.method(), request.url().path());
    let start = Instant::now();
    opened(client, http.execute(request), start)
        .await
        .map_err(|e| e.at(at))
}

async fn opened(
    client: &Client,
    sending: impl std::future::Future<Output = reqwest::Result<reqwest::Response>>,
    start: Instant,
) -> Result<(reqwest::Response, Instant), CallError> {
    let t = client.endpoint().timeouts;
    let mut response = match tokio::time::timeout(t.first_byte, sending).await {
        Err(_) => return Err(timeout("no response headers", t.first_byte)),
        Ok(Err(e)) => return Err(transport(e)),
        Ok(Ok(r)) => r,
    };
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let headers = std::mem::take(response.headers_mut());
        let remaining = t.total.saturating_sub(start.elapsed());
        let body = match tokio::time::timeout(remaining, response.bytes()).await {
            Err(_) => return Err(timeout("response body not complete", t.total)),
            Ok(Err(e)) => return Err(transport(e)),
            Ok(Ok(b)) => b,
        };
        return Err(status_error(
            client.endpoint().kind,
            status,
            &headers,
            &body,
        ));
    }
    Ok((response, start))
}

/// Reclassifies a failure that came after a 2xx status line as [`CallErrorKind::Dropped`]: the
/// server had accepted the request, so it has probably been completed and billed.
pub(crate) fn dropped(mut e: CallError, headers: &HeaderMap) -> CallError {
    e.kind = CallErrorKind::Dropped;
    e.message = format!(
        "{} (after the server answered 2xx: it may have completed and billed this attempt)",
        e.message
    );
    e.request_id = request_id(headers);
    e
}

pub(crate) fn timeout(what: &str, limit: Duration) -> CallError {
    CallError::new(
        CallErrorKind::Timeout,
        format!("timed out: {what} after {:.1} s", limit.as_secs_f64()),
    )
}

/// Classifies a reqwest transport error without echoing the URL's credentials (there are none in
/// our URLs; keys travel in headers only).
pub(crate) fn transport(e: reqwest::Error) -> CallError {
    if e.is_timeout() {
        return CallError::new(CallErrorKind::Timeout, "timed out waiting for the server");
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    CallError::new(CallErrorKind::Connect, format!("connection failed: {msg}"))
}

/// Reads an error body in either provider's shape; anything else (an HTML page from a proxy) is
/// summarised by its content type and first characters.
pub(crate) fn status_error(
    kind: ProviderKind,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> CallError {
    let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
    let (code, message) = match &parsed {
        Some(v) => error_fields(kind, v),
        None => (None, non_json_summary(headers, body)),
    };
    let mut e = CallError::status(status, code, message, headers);
    if e.retry_after.is_none() {
        e.retry_after = parsed.as_ref().and_then(super::error::retry_info_delay);
    }
    e
}

/// Extracts (code, message) from `{"error": {...}}` (OpenAI), `{"type":"error","error":{...}}`
/// (Anthropic) or Google's `{"error": {"code", "message", "status", "details"}}` (its
/// `status`, such as `RESOURCE_EXHAUSTED`, is the code; a stream may wrap it in a list of one).
pub(crate) fn error_fields(kind: ProviderKind, v: &serde_json::Value) -> (Option<String>, String) {
    let v = match v {
        serde_json::Value::Array(items) if items.len() == 1 => &items[0],
        other => other,
    };
    let err = v.get("error").unwrap_or(v);
    // Gateways answer in their own shapes: FastAPI/LiteLLM `{"detail": "…"}`, Ollama
    // `{"error": "…"}`; the server's own words are what the user needs to see.
    let message = err
        .get("message")
        .or_else(|| v.get("detail"))
        .and_then(|m| m.as_str())
        .or_else(|| err.as_str())
        .map(|m| truncate(m, 300))
        .unwrap_or_else(|| truncate(&v.to_string(), 200));
    let code = match kind {
        ProviderKind::Openai => err
            .get("code")
            .and_then(|c| c.as_str())
            .or_else(|| err.get("type").and_then(|c| c.as_str())),
        ProviderKind::Anthropic => err.get("type").and_then(|c| c.as_str()),
        ProviderKind::Gemini => err.get("status").and_then(|c| c.as_str()),
    };
    (code.map(str::to_string), message)
}

pub(crate) fn non_json_summary(headers: &HeaderMap, body: &[u8]) -> String {
    let ctype = header_str(headers, "content-type").unwrap_or("no content type");
    let text = String::from_utf8_lossy(body);
    let text = if ctype.contains("html") {
        strip_tags(&text)
    } else {
        text.into_owned()
    };
    let snippet: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if snippet.is_empty() {
        format!("empty body ({ctype})")
    } else {
        format!("not a JSON body ({ctype}): {}", truncate(&snippet, 120))
    }
}

/// The text of an HTML page without its markup (a proxy's error page: its title and message).
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Parses a 2xx JSON body, treating a 200 that carries an error object as the error it is.
pub(crate) fn json_body(kind: ProviderKind, reply: &Reply) -> Result<serde_json::Value, CallError> {
    let v: serde_json::Value = serde_json::from_slice(&reply.body).map_err(|e| {
        let mut err = CallError::new(
            CallErrorKind::Decode,
            format!(
                "invalid JSON in a 2xx response ({e}); {}",
                non_json_summary(&reply.headers, &reply.body)
            ),
        );
        err.request_id = reply.request_id();
        err
    })?;
    let is_error = match kind {
        ProviderKind::Openai => {
            v.get("error").is_some_and(|e| !e.is_null()) && v.get("choices").is_none()
        }
        ProviderKind::Anthropic => v.get("type").and_then(|t| t.as_str()) == Some("error"),
        ProviderKind::Gemini => {
            v.get("error").is_some_and(|e| !e.is_null()) && v.get("candidates").is_none()
        }
    };
    if is_error {
        let (code, message) = error_fields(kind, &v);
        let mut err = CallError::new(
            CallErrorKind::Decode,
            format!("error body in a 2xx response: {message}"),
        );
        err.code = code;
        err.request_id = reply.request_id();
        return Err(err);
    }
    Ok(v)
}

/// The largest token count one response may report: far above any model's context window, and
/// small enough that sums over millions of requests cannot overflow a `u64`.
pub(crate) const MAX_PLAUSIBLE_TOKENS: u64 = 1_000_000_000_000;

/// The usage of a complete response, required (nothing can be priced without it) and checked.
pub(crate) fn required_usage(usage: Option<super::Usage>) -> Result<super::Usage, String> {
    let usage = usage.ok_or("the response has no usage: it cannot be priced")?;
    check_usage(&usage)?;
    Ok(usage)
}

/// Checks a normalised usage before it is priced: every count plausible, the cache counts parts
/// of the input total (never more than it), 1 h cache writes a part of the cache writes.
pub(crate) fn check_usage(u: &super::Usage) -> Result<(), String> {
    let counts = [
        ("input", u.input_tokens),
        ("cached", u.cached_tokens),
        ("cache write", u.cache_write_tokens),
        ("output", u.output_tokens),
    ];
    for (name, n) in counts {
        if n > MAX_PLAUSIBLE_TOKENS {
            return Err(format!(
                "usage is implausible: {n} {name} tokens in one response"
            ));
        }
    }
    if u.cached_tokens + u.cache_write_tokens > u.input_tokens {
        return Err(format!(
            "usage is inconsistent: cached_tokens {} + cache_write_tokens {} exceed prompt_tokens {}",
            u.cached_tokens, u.cache_write_tokens, u.input_tokens
        ));
    }
    if u.cache_write_1h_tokens > u.cache_write_tokens {
        return Err(format!(
            "usage is inconsistent: 1 h cache writes {} exceed cache writes {}",
            u.cache_write_1h_tokens, u.cache_write_tokens
        ));
    }
    Ok(())
}

pub(crate) fn decode_error(what: impl Into<String>, reply: &Reply) -> CallError {
    let mut err = CallError::new(CallErrorKind::Decode, what);
    err.request_id = reply.request_id();
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: serde_json::Value) -> (Option<String>, String) {
        error_fields(ProviderKind::Openai, &v)
    }

    #[test]
    fn error_messages_in_every_servers_shape() {
        let openai = json!({"error": {"message": "No such file", "type": "invalid_request_error", "code": "file_not_found"}});
        assert_eq!(
            fields(openai),
            (Some("file_not_found".into()), "No such file".into())
        );
        let fastapi = json!({"detail": "Not Found"});
        assert_eq!(fields(fastapi), (None, "Not Found".into()));
        let ollama = json!({"error": "model 'x' not found"});
        assert_eq!(fields(ollama), (None, "model 'x' not found".into()));
        let vllm =
            json!({"object": "error", "message": "bad", "type": "BadRequestError", "code": 400});
        assert_eq!(fields(vllm), (Some("BadRequestError".into()), "bad".into()));
        let odd = json!({"detail": [{"loc": ["body"], "msg": "field required"}]});
        assert!(fields(odd).1.contains("field required"));
    }

    #[test]
    fn google_errors_give_their_status_and_retry_delay() {
        let body = json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
            "status": "RESOURCE_EXHAUSTED", "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]}});
        let e = status_error(
            ProviderKind::Gemini,
            429,
            &HeaderMap::new(),
            body.to_string().as_bytes(),
        );
        assert_eq!(e.code.as_deref(), Some("RESOURCE_EXHAUSTED"));
        assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(37)));
        assert!(e.is_retryable() && !e.is_quota());
        let listed =
            json!([{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}]);
        assert_eq!(
            error_fields(ProviderKind::Gemini, &listed),
            (Some("INVALID_ARGUMENT".into()), "bad".into())
        );
    }
}
