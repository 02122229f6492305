//! Reading response headers: shared by errors, rate limits and replies, so none of them depends
//! on another for it.

use reqwest::header::HeaderMap;

/// The server's request id: OpenAI's `x-request-id` or Anthropic's `request-id`.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    header_str(headers, "x-request-id")
        .or_else(|| header_str(headers, "request-id"))
        .map(str::to_string)
}

/// A header's value, trimmed, when present and visible ASCII.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}
