//! Explicit context caches (`cachedContents`) and `countTokens`. The `cached` strategy makes one
//! cache from the shared instructions before its requests, names it in each request, and
//! deletes it after; Google bills the cache's tokens once at the input rate when it is made and
//! then per token-hour of its TTL (see `pricing::storage`).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::Content;
use super::{authorized, model_name, url};
use crate::provider::error::CallError;
use crate::provider::http::{self, decode_error, json_body};
use crate::provider::{Client, ProviderKind};

/// Gemini's caching minimums live in the shared crate, which the mock reads too.
pub use batchbench_core::facts::{GEMINI_CACHE_MIN_PREFIX, GEMINI_DEFAULT_CACHE_MIN_PREFIX};

/// The smallest cacheable prompt for `model` (a `models/` prefix and case ignored); a smaller
/// explicit cache is refused with 400 `INVALID_ARGUMENT`.
pub fn min_cache_tokens(model: &str) -> u64 {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    GEMINI_CACHE_MIN_PREFIX
        .iter()
        .filter(|(p, _)| m.starts_with(p))
        .max_by_key(|(p, _)| p.len())
        .map_or(GEMINI_DEFAULT_CACHE_MIN_PREFIX, |(_, n)| *n)
}

/// A cache as the API returns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedContent {
    /// `cachedContents/{id}`: what requests name.
    pub name: String,
    /// When it expires (RFC 3339).
    #[serde(default)]
    pub expire_time: Option<String>,
    /// Its size.
    #[serde(default)]
    pub usage_metadata: Option<CacheUsage>,
}

/// A cache's `usageMetadata`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheUsage {
    /// Tokens held: what storage and the creation are billed for.
    #[serde(default)]
    pub total_token_count: u64,
}

/// The body that creates a cache holding `system` as the system instruction, for `ttl`
/// (a protobuf Duration: whole seconds and `s`).
pub fn create_body(model: &str, system: &str, ttl: Duration, display_name: &str) -> Value {
    json!({
        "model": model_name(model),
        "systemInstruction": Content::text(None, system),
        "ttl": format!("{}s", ttl.as_secs()),
        "displayName": display_name,
    })
}

/// Creates a cache (`POST /v1beta/cachedContents`).
pub async fn create(
    client: &Client,
    model: &str,
    system: &str,
    ttl: Duration,
) -> Result<CachedContent, CallError> {
    let body = create_body(model, system, ttl, "batchbench shared prefix");
    let builder = client
        .http()
        .post(url(client, "cachedContents", None))
        .json(&body);
    let reply = http::send(client, authorized(client, builder)).await?;
    let v = json_body(ProviderKind::Gemini, &reply)?;
    CachedContent::deserialize(&v)
        .map_err(|e| decode_error(format!("not a cachedContent: {e}"), &reply))
}

/// Deletes a cache (`DELETE /v1beta/cachedContents/{id}`), ending its storage.
pub async fn delete(client: &Client, name: &str) -> Result<(), CallError> {
    let builder = client.http().delete(url(client, name, None));
    http::send(client, authorized(client, builder)).await?;
    Ok(())
}

/// The body of a `countTokens` call for one text, as the SDK sends it (`contents` only).
pub fn count_body(text: &str) -> Value {
    json!({"contents": [Content::text(Some("user"), text)]})
}

/// The exact token count of `text` for `model` (`POST models/{model}:countTokens`), for the
/// pre-flight checks an estimate cannot make (a cache's minimum size).
pub async fn count_tokens(client: &Client, model: &str, text: &str) -> Result<u64, CallError> {
    let target = url(client, &model_name(model), Some("countTokens"));
    let builder = client.http().post(target).json(&count_body(text));
    let reply = http::send(client, authorized(client, builder)).await?;
    let v = json_body(ProviderKind::Gemini, &reply)?;
    v.get("totalTokens")
        .and_then(Value::as_u64)
        .ok_or_else(|| decode_error("countTokens answered without totalTokens", &reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimums_by_model() {
        assert_eq!(min_cache_tokens("gemini-2.5-flash"), 2_048);
        assert_eq!(min_cache_tokens("models/gemini-2.5-pro"), 2_048);
        assert_eq!(min_cache_tokens("gemini-3-pro-preview"), 4_096);
        assert_eq!(min_cache_tokens("something-else"), 4_096);
    }

    #[test]
    fn bodies_in_the_sdks_shape() {
        assert_eq!(
            create_body("gemini-2.5-flash", "Policy", Duration::from_secs(3600), "p"),
            json!({"model": "models/gemini-2.5-flash",
                "systemInstruction": {"parts": [{"text": "Policy"}]},
                "ttl": "3600s", "displayName": "p"})
        );
        assert_eq!(
            count_body("hi"),
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
        );
        let c: CachedContent = serde_json::from_value(json!({"name": "cachedContents/x1",
            "model": "models/gemini-2.5-flash", "expireTime": "2026-12-01T10:00:00Z",
            "usageMetadata": {"totalTokenCount": 4712}}))
        .unwrap();
        assert_eq!(c.name, "cachedContents/x1");
        assert_eq!(c.usage_metadata.unwrap().total_token_count, 4712);
    }
}
