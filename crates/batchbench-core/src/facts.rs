//! Provider facts the client and the mock must agree on (API-NOTES.md): cache minimums and which
//! models bill hidden reasoning, for Anthropic, OpenAI and Gemini.

/// Anthropic's minimum cacheable prompt prefix per model family, in tokens (API-NOTES.md; the
/// longest matching prefix of the model id wins; other models [`DEFAULT_CACHE_MIN_PREFIX`]).
pub const CACHE_MIN_PREFIX: &[(&str, u64)] = &[
    ("claude-3-haiku", 2_048),
    ("claude-3-5-haiku", 2_048),
    ("claude-haiku-3", 2_048),
    ("claude-haiku-4-5", 4_096),
    ("claude-opus-4-5", 4_096),
    ("claude-opus-4-6", 4_096),
    ("claude-opus-4-7", 4_096),
    ("claude-opus-4-8", 4_096),
    ("claude-opus-5", 4_096),
    ("claude-sonnet-4", 1_024),
    ("claude-opus-4", 1_024),
];

/// The minimum cacheable prefix of models not in [`CACHE_MIN_PREFIX`].
pub const DEFAULT_CACHE_MIN_PREFIX: u64 = 1_024;

/// Model-id prefixes of OpenAI's reasoning models (they bill hidden reasoning tokens as output,
/// reported in `completion_tokens_details.reasoning_tokens` / `output_tokens_details`).
pub const REASONING_MODEL_PREFIXES: &[&str] = &["o1", "o3", "o4", "gpt-5"];

/// Whether `model` is a reasoning model (case and a `vendor/` prefix ignored); `gpt-5-chat`
/// variants are not.
pub fn is_reasoning_model(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    !m.contains("-chat") && REASONING_MODEL_PREFIXES.iter().any(|p| m.starts_with(p))
}

/// Gemini's minimum prompt size for context caching (implicit, and explicit `cachedContents`),
/// in tokens, by model-id prefix (longest wins; a `models/` prefix is ignored by the caller).
/// Source: ai.google.dev/gemini-api/docs/caching, "Min token limit" table (updated 2026-10-13):
/// Gemini 2.5 Flash and Pro 2,048; Gemini 3.x and later 4,096.
pub const GEMINI_CACHE_MIN_PREFIX: &[(&str, u64)] = &[
    ("gemini-2.5", 2_048),
    ("gemini-3", 4_096),
    ("gemini-4", 4_096),
];

/// The Gemini caching minimum of models not in [`GEMINI_CACHE_MIN_PREFIX`] (the newest models'
/// value, so an unknown model never caches more readily than a listed one).
pub const GEMINI_DEFAULT_CACHE_MIN_PREFIX: u64 = 4_096;

/// Whether a Gemini model thinks before it answers (and bills `thoughtsTokenCount` as output):
/// Gemini 2.5 and later are thinking models (ai.google.dev/gemini-api/docs/thinking); the
/// `-image` and `-tts` variants are not.
pub fn is_gemini_thinking_model(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    let thinking = ["gemini-2.5", "gemini-3", "gemini-4"]
        .iter()
        .any(|p| m.starts_with(p));
    thinking && !m.contains("-image") && !m.contains("-tts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_thinking_models() {
        assert!(is_gemini_thinking_model("gemini-2.5-flash"));
        assert!(is_gemini_thinking_model("models/gemini-3-pro-preview"));
        assert!(!is_gemini_thinking_model("gemini-2.0-flash"));
        assert!(!is_gemini_thinking_model("gemini-2.5-flash-image"));
        assert!(!is_gemini_thinking_model("gpt-5"));
    }
}
