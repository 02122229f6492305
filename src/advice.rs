//! What would help next, for an error line: read from the reason a strategy failed with (its
//! `failure` in summary.csv), so that the advice printed and the advice reported agree.

use crate::provider::ProviderKind;

/// The HTTP status a reason names (`… HTTP 404: …`), when it names one.
pub fn http_status(reason: &str) -> Option<u16> {
    reason.match_indices("HTTP ").find_map(|(i, _)| {
        let digits = reason.get(i + 5..i + 8)?;
        digits.parse().ok().filter(|s| (100..600).contains(s))
    })
}

/// How a strategy's failure reason begins when the provider does not offer it at all (no flex
/// tier on Anthropic, no 1-hour cache TTL on OpenAI): nothing was sent, and `--resume` cannot
/// help.
pub const NOT_OFFERED: &str = "not offered by this provider: ";

/// Whether a reason says the provider does not offer the strategy.
pub fn not_offered(reason: &str) -> bool {
    reason.starts_with(NOT_OFFERED)
}

/// Whether a reason says the server has no Batch API (its batch or file endpoints answer 404 or
/// 405, as llama.cpp, vLLM's OpenAI server and Ollama do).
pub fn no_batch_api(reason: &str) -> bool {
    reason.starts_with("batch API:") && matches!(http_status(reason), Some(404 | 405))
}

/// Next steps for a strategy that failed with `reason`, most specific first; `run_id` names the
/// run for `--resume`.
pub fn next_steps(reason: &str, provider: ProviderKind, run_id: &str) -> Vec<String> {
    if not_offered(reason) {
        return vec![format!(
            "nothing was sent: leave this strategy out of --strategies for {}",
            provider.as_str()
        )];
    }
    let mut steps = Vec::new();
    if no_batch_api(reason) {
        steps.push(
            "this server has no Batch API (llama.cpp, vLLM and Ollama have none): leave batch-api \
             strategies out of --strategies (sweep: --no-batch-api)"
                .to_string(),
        );
    }
    let key_refused = reason.contains("API key not valid") || reason.contains("API_KEY_INVALID");
    match http_status(reason) {
        Some(400) if key_refused => steps.push(format!(
            "the server refused the key: check {}{} (or --api-key-file)",
            provider.key_env(),
            provider
                .key_env_fallbacks()
                .iter()
                .map(|n| format!(" / {n}"))
                .collect::<String>()
        )),
        Some(401 | 403) => steps.push(format!(
            "the server refused the key: check {}{} (or --api-key-file) and --base-url",
            provider.key_env(),
            provider
                .key_env_fallbacks()
                .iter()
                .map(|n| format!(" / {n}"))
                .collect::<String>()
        )),
        Some(404) if !no_batch_api(reason) => steps.push(format!(
            "the path does not exist on this server: check --base-url (or {}) and --model",
            provider.base_url_env()
        )),
        Some(429) => steps.push(
            "rate limited after every retry: lower N in concurrent:N, or raise --max-retries"
                .into(),
        ),
        Some(500..=599) => {
            steps.push("the server kept failing after retries: try again later".into())
        }
        _ => {}
    }
    if reason.contains("connection failed") {
        steps.push(format!(
            "nothing answered: check that the server runs and --base-url (or {})",
            provider.base_url_env()
        ));
    }
    steps.push(format!(
        "once the cause is fixed, `batchbench run --resume {run_id}` runs what did not finish"
    ));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_a_reason_names() {
        assert_eq!(
            http_status("batch API: POST /v1/files: HTTP 404: Not Found"),
            Some(404)
        );
        assert_eq!(http_status("connection failed: refused"), None);
        assert_eq!(http_status("HTTP 99: x"), None);
    }

    #[test]
    fn a_404_from_the_batch_api_says_the_server_has_none() {
        let steps = next_steps(
            "batch API: POST /v1/files: HTTP 404: Not Found",
            ProviderKind::Openai,
            "r1",
        );
        assert!(steps[0].contains("no Batch API"), "{steps:?}");
        assert_eq!(steps.len(), 2);
        assert!(steps[1].contains("--resume r1"));
    }

    #[test]
    fn a_refused_key_names_the_variable() {
        let steps = next_steps(
            "5 of 5 prompts: POST /v1/messages: HTTP 401: invalid x-api-key",
            ProviderKind::Anthropic,
            "r2",
        );
        assert!(steps[0].contains("ANTHROPIC_API_KEY"), "{steps:?}");
    }
}
