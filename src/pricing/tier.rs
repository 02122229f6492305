//! Service tiers: which price a request pays is decided by the tier the **response** says
//! served it (OpenAI `service_tier` in the body, Anthropic `usage.service_tier`), not the one
//! asked for. genai-prices carries tier rates as price variants (`service_tier: flex`,
//! `priority`, `fast`; `processing: batch`) for the OpenAI models that have them.

use std::fmt;

/// The tier a request was served (and is priced) at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServedTier {
    /// Standard rates (OpenAI `default`/`auto`, Anthropic `standard`).
    Standard,
    /// OpenAI flex processing: Batch API rates, answered synchronously, may be refused.
    Flex,
    /// Higher rates for lower latency (OpenAI `priority`, also called `fast`; Anthropic
    /// `priority`).
    Priority,
    /// A provider's Batch API.
    Batch,
}

impl ServedTier {
    /// Reads the tier a response reports. `None` for a value no price data knows (such as
    /// OpenAI's `scale`), which the caller reports instead of pricing it as standard.
    pub fn from_reported(value: &str) -> Option<ServedTier> {
        Some(match value.trim().to_ascii_lowercase().as_str() {
            "default" | "auto" | "standard" | "standard_only" => ServedTier::Standard,
            "flex" => ServedTier::Flex,
            "priority" | "fast" => ServedTier::Priority,
            "batch" => ServedTier::Batch,
            _ => return None,
        })
    }

    /// The genai-prices price context that selects this tier's rates (none for standard).
    pub(crate) fn price_context(self) -> Option<(&'static str, &'static str)> {
        match self {
            ServedTier::Standard => None,
            ServedTier::Flex => Some(("service_tier", "flex")),
            ServedTier::Priority => Some(("service_tier", "priority")),
            ServedTier::Batch => Some(("processing", "batch")),
        }
    }

    /// Lowercase name, as in `requests.csv` and `prices`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServedTier::Standard => "standard",
            ServedTier::Flex => "flex",
            ServedTier::Priority => "priority",
            ServedTier::Batch => "batch",
        }
    }
}

impl fmt::Display for ServedTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_tiers_from_both_providers() {
        for (v, t) in [
            ("default", ServedTier::Standard),
            ("auto", ServedTier::Standard),
            ("standard", ServedTier::Standard),
            ("flex", ServedTier::Flex),
            ("priority", ServedTier::Priority),
            ("fast", ServedTier::Priority),
            ("batch", ServedTier::Batch),
            (" Flex ", ServedTier::Flex),
        ] {
            assert_eq!(ServedTier::from_reported(v), Some(t), "{v}");
        }
        assert_eq!(ServedTier::from_reported("scale"), None);
    }
}
