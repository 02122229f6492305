//! The sampling temperature a run sends. Quality comparisons are only fair when the same
//! request gets the same answer, so a run sends temperature 0 unless told otherwise, except to
//! models that reject any temperature but their default (OpenAI's reasoning models).

/// Model-id prefixes of models that accept only their default temperature (OpenAI reasoning
/// models: o1, o3, o4-mini and the gpt-5 family, per OpenAI's reasoning-model guide).
const DEFAULT_TEMPERATURE_ONLY: &[&str] = &["o1", "o3", "o4", "gpt-5"];

/// Whether `model` accepts a temperature other than its default.
pub fn accepts_temperature(model: &str) -> bool {
    let m = model.trim().to_ascii_lowercase();
    // `gpt-5-chat` models are chat models and take a temperature.
    m.starts_with("gpt-5-chat") || !DEFAULT_TEMPERATURE_ONLY.iter().any(|p| m.starts_with(p))
}

/// The temperature to send and why: the user's when given, else 0 where the model accepts it,
/// else none (the model's default, which samples).
pub fn choose(given: Option<f32>, model: &str) -> (Option<f32>, &'static str) {
    match given {
        Some(t) => (Some(t), "given"),
        None if accepts_temperature(model) => (Some(0.0), "default 0 for comparable answers"),
        None => (
            None,
            "not sent: the model accepts only its default; use --repeat-baseline to measure the noise",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_unless_given_or_refused() {
        assert_eq!(choose(None, "gpt-4o-mini").0, Some(0.0));
        assert_eq!(choose(None, "claude-haiku-4-5").0, Some(0.0));
        assert_eq!(choose(Some(0.7), "gpt-4o-mini"), (Some(0.7), "given"));
        assert_eq!(choose(None, "o3-mini").0, None);
        assert_eq!(choose(None, "GPT-5-mini").0, None);
        assert_eq!(choose(None, "gpt-5-chat-latest").0, Some(0.0));
        assert_eq!(choose(None, "qwen2.5-0.5b-instruct").0, Some(0.0));
        // The user's choice is sent as given, even to a model that may refuse it.
        assert_eq!(choose(Some(1.0), "o1").0, Some(1.0));
    }
}
