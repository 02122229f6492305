//! Provider facts the client and the mock must agree on (API-NOTES.md).

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
