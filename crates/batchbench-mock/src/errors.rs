//! Errors in each provider's wire shape.
//!
//! OpenAI: `{"error":{"message","type","param","code"}}`. Anthropic:
//! `{"type":"error","error":{"type","message"},"request_id"}`. The status code and the error
//! type follow the tables in API-NOTES.md, so the official SDKs raise the same exception classes
//! they raise against the real APIs.

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

    /// The JSON body for `api`.
    pub fn body(&self, api: Api, request_id: &str) -> Value {
        match api {
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
        super::headers::add_headers(&mut resp, self.headers);
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
}
