//! Classified call failures: what happened, whether a retry can help, and how long the server
//! asked us to wait.

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::headers::{header_str, request_id};

/// What kind of failure a call ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallErrorKind {
    /// Could not connect, or the connection broke before any response arrived.
    Connect,
    /// The server answered 2xx, then the connection broke (or the stream ended) before the whole
    /// response arrived: the server has probably done the work, and a provider bills it.
    Dropped,
    /// A time limit passed (connect, first byte, total, or a stalled stream).
    Timeout,
    /// The server answered with a non-success status.
    Status,
    /// The server answered 2xx, but the body is not what the API defines.
    Decode,
}

/// A failed call, with what the runner needs to decide on a retry.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CallError {
    /// The failure class.
    pub kind: CallErrorKind,
    /// HTTP status, when one arrived.
    pub status: Option<u16>,
    /// The provider's error type or code (`rate_limit_exceeded`, `insufficient_quota`, `overloaded_error`, …).
    pub code: Option<String>,
    /// One-line description, safe to print (never holds a key).
    pub message: String,
    /// The wait the server asked for (`retry-after-ms`, `retry-after`).
    #[serde(with = "opt_duration_ms", default)]
    pub retry_after: Option<Duration>,
    /// The server's `x-should-retry` verdict, when sent.
    pub should_retry: Option<bool>,
    /// The request id the server gave, when any.
    pub request_id: Option<String>,
    /// The rate limits the server reported with the error.
    #[serde(skip)]
    pub rate_limit: Option<super::ratelimit::RateLimitInfo>,
    /// The method and URL path the failed call went to (`POST /v1/files`), so that an error line
    /// says where; never the query string or host, which may carry credentials.
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// `Option<Duration>` as milliseconds, for the resume journal.
pub mod opt_duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes milliseconds (or null).
    pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&(d.as_secs_f64() * 1000.0)),
            None => s.serialize_none(),
        }
    }

    /// Reads milliseconds (or null).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let v: Option<f64> = Option::deserialize(d)?;
        Ok(v.filter(|x| x.is_finite() && *x >= 0.0)
            .map(|ms| Duration::from_secs_f64(ms / 1000.0)))
    }
}

impl CallError {
    /// A failure without HTTP details.
    pub fn new(kind: CallErrorKind, message: impl Into<String>) -> CallError {
        CallError {
            kind,
            status: None,
            code: None,
            message: message.into(),
            retry_after: None,
            should_retry: None,
            request_id: None,
            rate_limit: None,
            endpoint: None,
        }
    }

    /// A non-success status with the hints the server's headers give.
    pub fn status(
        status: u16,
        code: Option<String>,
        message: String,
        headers: &HeaderMap,
    ) -> CallError {
        CallError {
            kind: CallErrorKind::Status,
            status: Some(status),
            code,
            message,
            retry_after: retry_after(headers, std::time::SystemTime::now()),
            should_retry: header_str(headers, "x-should-retry").and_then(|v| match v {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            }),
            request_id: request_id(headers),
            rate_limit: super::ratelimit::RateLimitInfo::from_headers(
                headers,
                std::time::SystemTime::now(),
            ),
            endpoint: None,
        }
    }

    /// An error the server reported after its 2xx (an `error` stream event, a `failed`
    /// response): classified by its code as the status it stands for, so that a server error or a
    /// rate limit mid-stream is retried and counted like the same error before the stream began
    /// (openai-python `ResponseError.code`: `server_error`, `rate_limit_exceeded`, …).
    pub fn reported(code: Option<String>, message: String) -> CallError {
        let status = match code.as_deref() {
            Some("server_error" | "api_error" | "internal_error") => Some(500),
            Some("rate_limit_exceeded" | "rate_limit_error") => Some(429),
            Some("overloaded_error") => Some(529),
            _ => None,
        };
        let mut e = CallError::new(
            if status.is_some() {
                CallErrorKind::Status
            } else {
                CallErrorKind::Decode
            },
            message,
        );
        e.status = status;
        e.code = code;
        e
    }

    /// Whether flex processing refused for lack of capacity (OpenAI's 429 "resource
    /// unavailable"): retried with backoff, then optionally sent at the default tier.
    pub fn is_capacity(&self) -> bool {
        self.status == Some(429)
            && !self.is_quota()
            && (self.code.as_deref() == Some("resource_unavailable")
                || self
                    .message
                    .to_ascii_lowercase()
                    .contains("resource unavailable"))
    }

    /// Whether the account is out of quota: no retry can help and the run must stop.
    pub fn is_quota(&self) -> bool {
        self.code.as_deref() == Some("insufficient_quota") || self.status == Some(402)
    }

    /// Whether a retry may succeed: 408, 409, 429 (not quota), 5xx, 529, connection errors and
    /// timeouts; never other 4xx. A server's `x-should-retry` overrides.
    pub fn is_retryable(&self) -> bool {
        if self.is_quota() {
            return false;
        }
        if let Some(verdict) = self.should_retry {
            return verdict;
        }
        match self.kind {
            CallErrorKind::Connect | CallErrorKind::Dropped | CallErrorKind::Timeout => true,
            CallErrorKind::Decode => false,
            CallErrorKind::Status => matches!(self.status, Some(408 | 409 | 429) | Some(500..=599)),
        }
    }

    /// Names the call that failed (`POST /v1/files`), unless an earlier step already did.
    pub fn at(mut self, endpoint: impl Into<String>) -> CallError {
        self.endpoint.get_or_insert_with(|| endpoint.into());
        self
    }

    /// A short label for reports: the status, or the failure class.
    pub fn label(&self) -> String {
        match self.status {
            Some(s) => s.to_string(),
            None => match self.kind {
                CallErrorKind::Connect => "connect".into(),
                CallErrorKind::Dropped => "dropped".into(),
                CallErrorKind::Timeout => "timeout".into(),
                CallErrorKind::Status => "status".into(),
                CallErrorKind::Decode => "decode".into(),
            },
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(endpoint) = &self.endpoint {
            write!(f, "{endpoint}: ")?;
        }
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CallError {}

/// The wait a response asks for: `retry-after-ms` first, then `retry-after` in seconds or as an
/// HTTP date (relative to `now`).
pub fn retry_after(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    if let Some(ms) = header_str(headers, "retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let value = header_str(headers, "retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The wait a Google error body asks for: the `retryDelay` of its `google.rpc.RetryInfo`
/// detail, a protobuf Duration in JSON (`"37s"`, `"1.5s"`).
pub fn retry_info_delay(body: &serde_json::Value) -> Option<Duration> {
    let body = match body {
        serde_json::Value::Array(items) if items.len() == 1 => &items[0],
        other => other,
    };
    body.get("error")?
        .get("details")?
        .as_array()?
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|d| d.get("retryDelay")?.as_str())
        .and_then(|s| s.trim().strip_suffix('s')?.parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    #[test]
    fn retry_info_delays() {
        let body = |d: &str| {
            serde_json::json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": d}]}})
        };
        assert_eq!(
            retry_info_delay(&body("37s")),
            Some(Duration::from_secs(37))
        );
        assert_eq!(
            retry_info_delay(&body("1.5s")),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(retry_info_delay(&body("soon")), None);
        assert_eq!(retry_info_delay(&serde_json::json!({"error": {}})), None);
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn retry_after_forms() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "250")]), now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after-ms", "250"), ("retry-after", "9")]),
                now
            ),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")]), now),
            Some(Duration::from_secs(2))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[]), now), None);
    }

    #[test]
    fn retry_classification() {
        let h = HeaderMap::new();
        for s in [408, 409, 429, 500, 502, 503, 504, 529] {
            assert!(
                CallError::status(s, None, String::new(), &h).is_retryable(),
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 413, 422] {
            assert!(
                !CallError::status(s, None, String::new(), &h).is_retryable(),
                "{s}"
            );
        }
        let quota = CallError::status(429, Some("insufficient_quota".into()), String::new(), &h);
        assert!(quota.is_quota() && !quota.is_retryable());
        let told = CallError::status(
            500,
            None,
            String::new(),
            &headers(&[("x-should-retry", "false")]),
        );
        assert!(!told.is_retryable());
        let told = CallError::status(
            400,
            None,
            String::new(),
            &headers(&[("x-should-retry", "true")]),
        );
        assert!(told.is_retryable());
        assert!(CallError::new(CallErrorKind::Connect, "x").is_retryable());
        assert!(!CallError::new(CallErrorKind::Decode, "x").is_retryable());
    }
}
