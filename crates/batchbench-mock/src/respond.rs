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
use super::headers::{Headers, add_headers};
use super::ratelimit::{Decision, openai_duration};

/// A JSON response with extra headers.
pub fn json(status: u16, value: &impl Serialize, headers: Headers) -> Response {
    let mut resp = Response::new(Body::from(serde_json::to_vec(value).unwrap_or_default()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    add_headers(&mut resp, headers);
    resp
}

/// A JSON body whose connection drops after about half of it was sent (the headers and the
/// first half arrive; then the connection breaks).
pub fn dropped_json(value: &impl Serialize, headers: Headers) -> Response {
    let mut resp = half_then_break(serde_json::to_vec(value).unwrap_or_default());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    add_headers(&mut resp, headers);
    resp
}

/// A header value from text the mock wrote itself (digits, durations, timestamps); text that
/// is not valid header text is left out.
fn text_value(text: String) -> Option<HeaderValue> {
    HeaderValue::try_from(text).ok()
}

// OpenAI's rate-limit headers (https://platform.openai.com/docs/guides/rate-limits).
const OPENAI_LIMIT_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-limit-requests");
const OPENAI_REMAINING_REQUESTS: HeaderName =
    HeaderName::from_static("x-ratelimit-remaining-requests");
const OPENAI_RESET_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-reset-requests");
const OPENAI_LIMIT_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-limit-tokens");
const OPENAI_REMAINING_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-tokens");
const OPENAI_RESET_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-reset-tokens");
// Anthropic's (https://docs.anthropic.com/en/api/rate-limits#response-headers).
const ANTHROPIC_REQUESTS: [HeaderName; 3] = [
    HeaderName::from_static("anthropic-ratelimit-requests-limit"),
    HeaderName::from_static("anthropic-ratelimit-requests-remaining"),
    HeaderName::from_static("anthropic-ratelimit-requests-reset"),
];
const ANTHROPIC_TOKENS: [[HeaderName; 3]; 3] = [
    [
        HeaderName::from_static("anthropic-ratelimit-tokens-limit"),
        HeaderName::from_static("anthropic-ratelimit-tokens-remaining"),
        HeaderName::from_static("anthropic-ratelimit-tokens-reset"),
    ],
    [
        HeaderName::from_static("anthropic-ratelimit-input-tokens-limit"),
        HeaderName::from_static("anthropic-ratelimit-input-tokens-remaining"),
        HeaderName::from_static("anthropic-ratelimit-input-tokens-reset"),
    ],
    [
        HeaderName::from_static("anthropic-ratelimit-output-tokens-limit"),
        HeaderName::from_static("anthropic-ratelimit-output-tokens-remaining"),
        HeaderName::from_static("anthropic-ratelimit-output-tokens-reset"),
    ],
];

/// The rate-limit headers of `api` for a limiter decision.
pub fn rate_headers(api: Api, d: &Decision) -> Headers {
    let mut h = Headers::new();
    let mut push = |name: HeaderName, value: Option<HeaderValue>| {
        if let Some(value) = value {
            h.push((name, value));
        }
    };
    match api {
        Api::OpenAi => {
            if let Some((limit, remaining, reset)) = d.requests {
                push(OPENAI_LIMIT_REQUESTS, Some(limit.into()));
                push(OPENAI_REMAINING_REQUESTS, Some(remaining.into()));
                push(OPENAI_RESET_REQUESTS, text_value(openai_duration(reset)));
            }
            if let Some((limit, remaining, reset)) = d.tokens {
                push(OPENAI_LIMIT_TOKENS, Some(limit.into()));
                push(OPENAI_REMAINING_TOKENS, Some(remaining.into()));
                push(OPENAI_RESET_TOKENS, text_value(openai_duration(reset)));
            }
        }
        // Google sends no rate-limit headers: a 429's body says how long to wait.
        Api::Gemini => {}
        Api::Anthropic => {
            let at = |d: Duration| {
                let t = chrono::Utc::now()
                    + chrono::Duration::milliseconds(d.as_millis().min(i64::MAX as u128) as i64);
                text_value(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            };
            if let Some((limit, remaining, reset)) = d.requests {
                let [l, r, t] = ANTHROPIC_REQUESTS;
                push(l, Some(limit.into()));
                push(r, Some(remaining.into()));
                push(t, at(reset));
            }
            if let Some((limit, remaining, reset)) = d.tokens {
                let reset = at(reset);
                for [l, r, t] in ANTHROPIC_TOKENS {
                    push(l, Some(limit.into()));
                    push(r, Some(remaining.into()));
                    push(t, reset.clone());
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
    if d.too_large {
        e
    } else {
        e.header(header::RETRY_AFTER, retry_after_secs(d.retry_after))
    }
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
pub fn sse(events: Vec<SseEvent>, end: StreamEnd, headers: Headers) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn decision() -> Decision {
        Decision {
            allowed: true,
            refused_by: None,
            too_large: false,
            retry_after: Duration::ZERO,
            requests: Some((500, 499, Duration::from_millis(120))),
            tokens: Some((200_000, 198_000, Duration::from_millis(1500))),
        }
    }

    fn text(h: &Headers) -> Vec<(&str, &str)> {
        h.iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or("?")))
            .collect()
    }

    #[test]
    fn openai_rate_headers_in_order() {
        assert_eq!(
            text(&rate_headers(Api::OpenAi, &decision())),
            [
                ("x-ratelimit-limit-requests", "500"),
                ("x-ratelimit-remaining-requests", "499"),
                ("x-ratelimit-reset-requests", "120ms"),
                ("x-ratelimit-limit-tokens", "200000"),
                ("x-ratelimit-remaining-tokens", "198000"),
                ("x-ratelimit-reset-tokens", "1.5s"),
            ]
        );
        let unlimited = Decision {
            requests: None,
            tokens: None,
            ..decision()
        };
        assert!(rate_headers(Api::OpenAi, &unlimited).is_empty());
    }

    #[test]
    fn anthropic_rate_headers_and_a_429s_retry_after() {
        let h = rate_headers(Api::Anthropic, &decision());
        let names: Vec<&str> = h.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names.len(), 12);
        assert_eq!(names[0], "anthropic-ratelimit-requests-limit");
        assert_eq!(names[11], "anthropic-ratelimit-output-tokens-reset");
        let values = text(&h);
        assert_eq!(
            values[4],
            ("anthropic-ratelimit-tokens-remaining", "198000")
        );
        assert!(values[2].1.ends_with('Z'));
        let refused = Decision {
            allowed: false,
            refused_by: Some("requests"),
            retry_after: Duration::from_millis(2_500),
            ..decision()
        };
        let e = rate_limited(Api::OpenAi, &refused, "gpt-4o-mini");
        assert_eq!(text(&e.headers).last(), Some(&("retry-after", "3")));
    }
}
