//! Request-size limits per model, so packed requests stay inside them.
//!
//! Context windows come from the price data (genai-prices) where it has them; maximum output
//! tokens are not in that data, so the known values are listed here from the providers' model
//! pages (OpenAI "Models" reference, Anthropic "Models overview", Gemini API "Models"), with a
//! conservative default.

/// Size limits of one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ModelLimits {
    /// Input + output tokens per request.
    pub context_window: u64,
    /// Output tokens per request.
    pub max_output_tokens: u64,
}

/// Known limits by model-id prefix (longest prefix wins).
const KNOWN: &[(&str, u64, u64)] = &[
    ("gpt-4o-mini", 128_000, 16_384),
    ("gpt-4o", 128_000, 16_384),
    ("gpt-4.1", 1_047_576, 32_768),
    ("gpt-4-turbo", 128_000, 4_096),
    ("gpt-4", 8_192, 8_192),
    ("gpt-3.5-turbo", 16_385, 4_096),
    ("gpt-5", 400_000, 128_000),
    ("o1", 200_000, 100_000),
    ("o3", 200_000, 100_000),
    ("o4-mini", 200_000, 100_000),
    ("claude-haiku-4-5", 200_000, 64_000),
    ("claude-sonnet-4-5", 200_000, 64_000),
    ("claude-sonnet-4", 200_000, 64_000),
    ("claude-sonnet-5", 200_000, 64_000),
    ("claude-opus-4", 200_000, 32_000),
    ("claude-3-5-haiku", 200_000, 8_192),
    ("claude-3-haiku", 200_000, 4_096),
    // Gemini API models page (ai.google.dev/gemini-api/docs/models): input and output token
    // limits.
    ("gemini-2.0-flash", 1_048_576, 8_192),
    ("gemini-2.5-flash", 1_048_576, 65_536),
    ("gemini-2.5-pro", 1_048_576, 65_536),
    ("gemini-3", 1_048_576, 65_536),
];

/// The limits for `model`: the longest known prefix, else `context_window` from the price data
/// (or 8,192) with a 4,096-token output limit.
pub fn model_limits(model: &str, context_window_from_data: Option<u64>) -> ModelLimits {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    let known = KNOWN
        .iter()
        .filter(|(prefix, _, _)| m.starts_with(prefix))
        .max_by_key(|(prefix, _, _)| prefix.len());
    match known {
        Some(&(_, ctx, out)) => ModelLimits {
            context_window: context_window_from_data.unwrap_or(ctx),
            max_output_tokens: out,
        },
        None => ModelLimits {
            context_window: context_window_from_data.unwrap_or(8_192),
            max_output_tokens: 4_096,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(
            model_limits("gpt-4o-mini-2024-07-18", None).max_output_tokens,
            16_384
        );
        assert_eq!(model_limits("gpt-4", None).context_window, 8_192);
        assert_eq!(model_limits("gpt-4-turbo", None).context_window, 128_000);
        assert_eq!(
            model_limits("unknown", Some(32_000)),
            ModelLimits {
                context_window: 32_000,
                max_output_tokens: 4_096
            }
        );
    }
}
