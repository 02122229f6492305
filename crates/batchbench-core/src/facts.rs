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

/// The OpenAI model version in an id (`gpt-5.6-sol` → (5, 6), `gpt-6-luna` → (6, 0)), case and
/// a `vendor/` prefix ignored; `None` for ids that are not `gpt-N[.M]…`.
fn gpt_version(model: &str) -> Option<(u32, u32)> {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m).to_string();
    let rest = m.strip_prefix("gpt-")?;
    let version = rest.split('-').next()?;
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Whether OpenAI reports (and bills) cache writes for `model`: GPT-5.6 and later report
/// `prompt_tokens_details.cache_write_tokens`, priced at 1.25× input (API-NOTES.md, "Prompt
/// caching"; genai-prices' bundled data has `cache_write_mtok` for exactly these ids).
pub fn openai_reports_cache_writes(model: &str) -> bool {
    gpt_version(model).is_some_and(|v| v >= (5, 6))
}

/// Whether `model` offers OpenAI's extended prompt cache retention
/// (`prompt_cache_retention: "24h"`): OpenAI's prompt-caching guide lists gpt-4.1 and the gpt-5
/// family (gpt-5, gpt-5.1 and their codex variants) and later models; earlier models (gpt-4o,
/// gpt-4o-mini, o-series) keep prefixes in memory only.
pub fn openai_extended_retention(model: &str) -> bool {
    gpt_version(model).is_some_and(|(major, minor)| major >= 5 || (major, minor) == (4, 1))
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
    fn openai_cache_facts_by_model_version() {
        for (model, writes, retention) in [
            ("gpt-4o-mini", false, false),
            ("gpt-4.1-mini", false, true),
            ("gpt-5", false, true),
            ("gpt-5.1-codex", false, true),
            ("gpt-5.5", false, true),
            ("gpt-5.6-sol", true, true),
            ("openai/GPT-6-luna", true, true),
            ("gpt-6.1-terra-2027-01-01", true, true),
            ("o4-mini", false, false),
            ("claude-haiku-4-5", false, false),
        ] {
            assert_eq!(openai_reports_cache_writes(model), writes, "{model}");
            assert_eq!(openai_extended_retention(model), retention, "{model}");
        }
    }

    #[test]
    fn gemini_thinking_models() {
        assert!(is_gemini_thinking_model("gemini-2.5-flash"));
        assert!(is_gemini_thinking_model("models/gemini-3-pro-preview"));
        assert!(!is_gemini_thinking_model("gemini-2.0-flash"));
        assert!(!is_gemini_thinking_model("gemini-2.5-flash-image"));
        assert!(!is_gemini_thinking_model("gpt-5"));
    }
}
