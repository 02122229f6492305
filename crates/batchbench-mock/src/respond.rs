//! Building responses: JSON bodies, rate-limit headers in each provider's names, SSE streams
//! paced by the latency model, and bodies cut off mid-way to simulate dropped connections.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

use super::clock::pause;
use super::connection::half_then_break;
use super::errors::{Api, ApiError};
use super::ratelimit::{Decision, openai_duration};

/// A JSON response with extra headers.
pub fn json(status: u16, value: &impl Serialize, headers: &[(String, String)]) -> Response {
    let mut resp = Response::new(Body::from(serde_json::to_vec(value).unwrap_or_default()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    add_headers(&mut resp, headers);
    resp
}

/// Adds headers, skipping any that are not valid header text.
pub fn add_headers(resp: &mut Response, headers: &[(String, String)]) {
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
}

/// A JSON body whose connection drops after about half of it was sent (the headers and the
/// first half arrive; then the connection breaks).
pub fn dropped_json(value: &impl Serialize, headers: &[(String, String)]) -> Response {
    let mut resp = half_then_break(serde_json::to_vec(value).unwrap_or_default());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    add_headers(&mut resp, headers);
    resp
}

/// The rate-limit headers of `api` for a limiter decision.
pub fn rate_headers(api: Api, d: &Decision) -> Vec<(String, String)> {
    let mut h = Vec::new();
    match api {
        Api::OpenAi => {
            if let Some((limit, remaining, reset)) = d.requests {
                h.push(("x-ratelimit-limit-requests".into(), limit.to_string()));
                h.push((
                    "x-ratelimit-remaining-requests".into(),
                    remaining.to_string(),
                ));
                h.push(("x-ratelimit-reset-requests".into(), openai_duration(reset)));
            }
            if let Some((limit, remaining, reset)) = d.tokens {
                h.push(("x-ratelimit-limit-tokens".into(), limit.to_string()));
                h.push(("x-ratelimit-remaining-tokens".into(), remaining.to_string()));
                h.push(("x-ratelimit-reset-tokens".into(), openai_duration(reset)));
            }
        }
        // Google sends no rate-limit headers: a 429's body says how long to wait.
        Api::Gemini => {}
        Api::Anthropic => {
            let at = |d: Duration| {
                let t = chrono::Utc::now()
                    + chrono::Duration::milliseconds(d.as_millis().min(i64::MAX as u128) as i64);
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };
            if let Some((limit, remaining, reset)) = d.requests {
                h.push((
                    "anthropic-ratelimit-requests-limit".into(),
                    limit.to_string(),
                ));
                h.push((
                    "anthropic-ratelimit-requests-remaining".into(),
                    remaining.to_string(),
                ));
                h.push(("anthropic-ratelimit-requests-reset".into(), at(reset)));
            }
            if let Some((limit, remaining, reset)) = d.tokens {
                for kind in ["tokens", "input-tokens", "output-tokens"] {
                    h.push((
                        format!("anthropic-ratelimit-{kind}-limit"),
                        limit.to_string(),
                    ));
                    h.push((
                        format!("anthropic-ratelimit-{kind}-remaining"),
                        remaining.to_string(),
                    ));
                    h.push((format!("anthropic-ratelimit-{kind}-reset"), at(reset)));
                }
            }
        }
    }
    h
}

/// `retry-after` in whole seconds (rounded up, at least 1 when a wait is needed).
pub fn retry_after_secs(d: Duration) -> String {
    let s = d.as_secs_f64().ceil() as u64;
    s.max(1).to_string()
}

/// A 429 from the limiter, with its headers.
pub fn rate_limited(api: Api, d: &Decision, model: &str) -> ApiError {
    let which = d.refused_by.unwrap_or("requests");
    let message = if api == Api::Gemini {
        let (metric, limit) = match which {
            "tokens" => ("input_token_count", d.tokens.map_or(0, |t| t.0)),
            _ => ("requests", d.requests.map_or(0, |t| t.0)),
        };
        format!(
            "You exceeded your current quota, please check your plan and billing details. Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_{metric}, limit: {limit}, model: {model} (simulated by the mock)"
        )
    } else if d.too_large {
        format!(
            "Request too large for {model}: the request needs more tokens than the per-minute limit ({}).",
            d.tokens.map_or(0, |t| t.0)
        )
    } else {
        let (label, limit) = match which {
            "tokens" => ("tokens per min (TPM)", d.tokens.map_or(0, |t| t.0)),
            _ => ("requests per min (RPM)", d.requests.map_or(0, |t| t.0)),
        };
        format!(
            "Rate limit reached for {model} on {label}: Limit {limit}. Please try again in {}.",
            openai_duration(d.retry_after)
        )
    };
    let mut e = ApiError::new(429, message).code("rate_limit_exceeded");
    e.kind = which.to_string();
    e.headers = rate_headers(api, d);
    if !d.too_large {
        e.headers
            .push(("retry-after".into(), retry_after_secs(d.retry_after)));
    }
    e
}

/// One event of an SSE stream and the pause before it.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// Wait before sending.
    pub delay: Duration,
    /// The `event:` name, when the API uses one (Anthropic).
    pub name: Option<&'static str>,
    /// The `data:` payload.
    pub data: String,
}

/// How a stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// Every event is sent.
    Complete,
    /// The stream stops cleanly after about half of the events (no final event).
    Truncated,
    /// The connection breaks after about half of the events.
    Dropped,
}

/// A `text/event-stream` response that sends `events` with their delays.
pub fn sse(events: Vec<SseEvent>, end: StreamEnd, headers: &[(String, String)]) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    let cut = match end {
        StreamEnd::Complete => events.len(),
        _ => (events.len() / 2).max(1),
    };
    tokio::spawn(async move {
        for ev in events.into_iter().take(cut) {
            pause(ev.delay).await;
            let mut text = String::new();
            if let Some(name) = ev.name {
                text.push_str("event: ");
                text.push_str(name);
                text.push('\n');
            }
            text.push_str("data: ");
            text.push_str(&ev.data);
            text.push_str("\n\n");
            if tx.send(Ok(Bytes::from(text))).await.is_err() {
                return;
            }
        }
        if end == StreamEnd::Dropped {
            let _ = tx
                .send(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "mock: connection dropped",
                )))
                .await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    add_headers(&mut resp, headers);
    resp
}
