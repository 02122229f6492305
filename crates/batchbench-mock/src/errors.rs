//! Errors in each provider's wire shape.
//!
//! OpenAI: `{"error":{"message","type","param","code"}}`. Anthropic:
//! `{"type":"error","error":{"type","message"},"request_id"}`. Gemini: Google's
//! `{"error":{"code","message","status","details"?}}` (google.rpc.Status), where a 429 carries a
//! `RetryInfo` detail instead of a `retry-after` header. The status code and the error type
//! follow the tables in API-NOTES.md, so the official SDKs raise the same exception classes they
//! raise against the real APIs.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Which API family a request belongs to (decides error shapes and header names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// OpenAI (`/v1/chat/completions`, files, batches, models).
    OpenAi,
    /// Anthropic (`/v1/messages…`).
    Anthropic,
    /// Google Gemini (`/v1beta/…`, `/upload/v1beta/…`, `/download/v1beta/…`).
    Gemini,
}

/// An error response waiting to be rendered in the shape of its API.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// OpenAI `type` (e.g. `invalid_request_error`) — Anthropic's type is derived from the status.
    pub kind: String,
    /// OpenAI `code` (e.g. `invalid_api_key`, `model_not_found`).
    pub code: Option<String>,
    /// OpenAI `param`.
    pub param: Option<String>,
    /// Human-readable message.
    pub message: String,
    /// Extra response headers (`retry-after`, rate-limit headers).
    pub headers: super::headers::Headers,
    /// Close the connection without any response instead (a simulated reset).
    pub reset: bool,
    /// Gemini `details` entries (`google.rpc.ErrorInfo`, …); a 429's `RetryInfo` is added when
    /// rendered.
    pub details: Vec<Value>,
}

impl ApiError {
    /// A bare error with the usual type for its status.
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        let kind = match status {
            400 | 404 | 409 | 413 | 422 => "invalid_request_error",
            401 => "invalid_request_error",
            403 => "permission_error",
            429 => "requests",
            _ => "server_error",
        };
        ApiError {
            status,
            kind: kind.into(),
            code: None,
            param: None,
            message: message.into(),
            headers: Vec::new(),
            reset: false,
            details: Vec::new(),
        }
    }

    /// 400 invalid request, naming the parameter at fault.
    pub fn invalid(param: Option<&str>, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(400, message);
        e.param = param.map(str::to_string);
        e
    }

    /// 404 for an id or path that does not exist.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, message)
    }

    /// No response at all: the connection is closed before the status line is written, as when
    /// a server or proxy resets the connection before the request is processed.
    pub fn reset() -> ApiError {
        let mut e = ApiError::new(500, "mock: connection reset before processing");
        e.reset = true;
        e
    }

    /// Sets the OpenAI `code`.
    pub fn code(mut self, code: &str) -> ApiError {
        self.code = Some(code.to_string());
        self
    }

    /// Adds a Gemini `details` entry.
    pub fn detail(mut self, detail: Value) -> ApiError {
        self.details.push(detail);
        self
    }

    /// Adds a response header; a value that is not valid header text is left out.
    pub fn header(mut self, name: header::HeaderName, value: String) -> ApiError {
        if let Ok(value) = HeaderValue::try_from(value) {
            self.headers.push((name, value));
        }
        self
    }

    /// The Anthropic error type for this status.
    pub fn anthropic_type(&self) -> &'static str {
        match self.status {
            400 | 405 | 409 | 422 => "invalid_request_error",
            401 => "authentication_error",
            402 => "billing_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            504 => "timeout_error",
            529 | 503 => "overloaded_error",
            _ => "api_error",
        }
    }

    /// Google's canonical status name for this HTTP status (google.rpc.Code).
    pub fn google_status(&self) -> &'static str {
        match self.status {
            400 | 413 | 422 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            409 => "ALREADY_EXISTS",
            429 => "RESOURCE_EXHAUSTED",
            499 => "CANCELLED",
            501 => "UNIMPLEMENTED",
            503 | 529 => "UNAVAILABLE",
            504 => "DEADLINE_EXCEEDED",
            _ => "INTERNAL",
        }
    }

    /// The `google.rpc.Status` of this error, as Gemini batch results carry it (no details).
    pub fn google_rpc_status(&self) -> Value {
        json!({"code": self.gemini_code(), "message": self.message, "status": self.google_status()})
    }

    /// The HTTP status Gemini answers with: Google has no 413 (an oversized payload is a 400
    /// `INVALID_ARGUMENT`) and no 529.
    fn gemini_code(&self) -> u16 {
        match self.status {
            413 | 422 => 400,
            529 => 503,
            s => s,
        }
    }

    /// Gemini's `details`: the explicit ones, then for a 429 a `RetryInfo` whose `retryDelay` is
    /// the `retry-after` seconds the error was given.
    fn gemini_details(&self) -> Vec<Value> {
        let mut details = self.details.clone();
        if self.status == 429 {
            let secs = self
                .headers
                .iter()
                .find(|(k, _)| k == header::RETRY_AFTER)
                .and_then(|(_, v)| v.to_str().ok()?.parse::<f64>().ok())
                .unwrap_or(1.0_f64);
            details.push(json!({
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": format!("{}s", secs.ceil() as u64),
            }));
        }
        details
    }

    /// The JSON body for `api`.
    pub fn body(&self, api: Api, request_id: &str) -> Value {
        match api {
            Api::Gemini => {
                let mut error = self.google_rpc_status();
                let details = self.gemini_details();
                if !details.is_empty() {
                    error["details"] = Value::Array(details);
                }
                json!({ "error": error })
            }
            Api::OpenAi => json!({"error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }}),
            Api::Anthropic => json!({
                "type": "error",
                "error": {"type": self.anthropic_type(), "message": self.message},
                "request_id": request_id,
            }),
        }
    }

    /// The full HTTP response in the shape of `api` (without the request-id header, which the
    /// frame middleware adds).
    pub fn render(self, api: Api, request_id: &str) -> Response {
        if self.reset {
            return super::connection::reset();
        }
        let status = match api {
            // Anthropic has no 503 of its own: overload is 529.
            Api::Anthropic if self.status == 503 => 529,
            Api::Gemini => self.gemini_code(),
            _ => self.status,
        };
        let body = self.body(api, request_id).to_string();
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let headers = if api == Api::Gemini {
            // Google states the wait in the body's RetryInfo, not in a header.
            self.headers
                .into_iter()
                .filter(|(name, _)| name != header::RETRY_AFTER)
                .collect()
        } else {
            self.headers
        };
        super::headers::add_headers(&mut resp, headers);
        resp
    }
}

/// A handler or middleware returning an error does not know the API family or the request id
/// yet: the error travels in the response's extensions and the frame middleware renders it
/// ([`ApiError::render`]) once it knows both.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = Response::new(Body::empty());
        resp.extensions_mut().insert(self);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let e = ApiError::new(401, "Incorrect API key provided.").code("invalid_api_key");
        assert_eq!(
            e.body(Api::OpenAi, "req_1"),
            json!({"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})
        );
        assert_eq!(
            e.body(Api::Anthropic, "req_1"),
            json!({"type":"error","error":{"type":"authentication_error","message":"Incorrect API key provided."},"request_id":"req_1"})
        );
        assert_eq!(
            ApiError::new(503, "x")
                .render(Api::Anthropic, "r")
                .status()
                .as_u16(),
            529
        );
        assert_eq!(
            ApiError::new(503, "x")
                .render(Api::OpenAi, "r")
                .status()
                .as_u16(),
            503
        );
    }

    #[test]
    fn gemini_shape_status_names_and_retry_info() {
        let e = ApiError::new(429, "Quota exceeded").header(header::RETRY_AFTER, "7".into());
        assert_eq!(
            e.body(Api::Gemini, "r"),
            json!({"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]}})
        );
        let r = e.render(Api::Gemini, "r");
        assert_eq!(r.status().as_u16(), 429);
        assert!(r.headers().get("retry-after").is_none());
        assert_eq!(
            ApiError::not_found("x").body(Api::Gemini, "r"),
            json!({"error": {"code": 404, "message": "x", "status": "NOT_FOUND"}})
        );
        let big = ApiError::new(413, "too big");
        assert_eq!(big.body(Api::Gemini, "r")["error"]["code"], 400);
        assert_eq!(big.render(Api::Gemini, "r").status().as_u16(), 400);
        assert_eq!(ApiError::new(503, "x").google_status(), "UNAVAILABLE");
        assert_eq!(ApiError::new(500, "x").google_status(), "INTERNAL");
    }
}
