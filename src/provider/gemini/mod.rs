//! Google's Gemini API (the Developer API at `generativelanguage.googleapis.com`, `v1beta`), as
//! the official `google-genai` SDK speaks it: `models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse` ([`chat`]), the request and response shapes ([`wire`]),
//! Batch Mode (`:batchGenerateContent`, inline or from an uploaded JSONL file; [`batch`]), the
//! Files API's resumable upload ([`files`]), and explicit context caches plus `countTokens`
//! ([`caches`]). The key travels in the `x-goog-api-key` header, never in a URL.

pub mod batch;
pub mod caches;
pub mod chat;
pub mod files;
pub mod wire;

use super::Client;

/// The API version every path is under.
pub const API_VERSION: &str = "v1beta";

/// Adds the key header (`x-goog-api-key`, as the SDK sends it; a `?key=` query would put the
/// key in every logged URL).
pub(crate) fn authorized(
    client: &Client,
    builder: reqwest::RequestBuilder,
) -> reqwest::RequestBuilder {
    builder.header("x-goog-api-key", client.endpoint().key.expose())
}

/// The resource name of a model (`models/gemini-2.5-flash`), whether given bare or named.
pub fn model_name(model: &str) -> String {
    if model.starts_with("models/") || model.starts_with("tunedModels/") {
        model.to_string()
    } else {
        format!("models/{model}")
    }
}

/// The URL of a method on a resource: `{base}/v1beta/{resource}:{method}`, or without a method.
pub(crate) fn url(client: &Client, resource: &str, method: Option<&str>) -> String {
    match method {
        Some(m) => client.url(&format!("/{API_VERSION}/{resource}:{m}")),
        None => client.url(&format!("/{API_VERSION}/{resource}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names() {
        assert_eq!(model_name("gemini-2.5-flash"), "models/gemini-2.5-flash");
        assert_eq!(model_name("models/gemini-2.5-pro"), "models/gemini-2.5-pro");
    }
}
