//! `mock.toml`: every knob of the mock server, with defaults that make it behave like a
//! well-provisioned real account (high rate limits, no faults, a calibrated error model).
//!
//! Times given in seconds or milliseconds are *simulated* time: the server multiplies them by
//! [`MockConfig::time_scale`] before it sleeps (0 = no simulated delay at all). Rate-limit
//! windows are wall-clock time.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The whole mock configuration (`mock.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    /// Seed of every random choice (ids, jitter, faults, the error model, output order).
    pub seed: u64,
    /// Multiplier applied to every simulated delay; 0 disables sleeping entirely.
    pub time_scale: f64,
    /// When set, the only API key accepted (OpenAI bearer token or Anthropic `x-api-key`);
    /// when unset any non-empty key is accepted.
    pub api_key: Option<String>,
    /// Extra model ids accepted besides the ones the price data knows (exact ids).
    pub models: Vec<String>,
    /// Accept any model id (no 404 for unknown models).
    pub accept_any_model: bool,
    /// Largest request body accepted on JSON endpoints, in bytes (413 beyond).
    pub body_limit_bytes: usize,
    /// The latency model.
    pub latency: LatencyConfig,
    /// Per-key rate limits.
    pub rate_limits: RateLimitConfig,
    /// Injected faults.
    pub faults: FaultConfig,
    /// Batch job timelines and limits.
    pub batch: BatchConfig,
    /// The answer error model.
    pub error_model: ErrorModelConfig,
    /// Prompt caching.
    pub cache: CacheConfig,
    /// Stored files.
    pub files: FilesConfig,
    /// `/v1/embeddings`.
    pub embeddings: EmbeddingsConfig,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            seed: 42,
            time_scale: 1.0,
            api_key: None,
            models: Vec::new(),
            accept_any_model: false,
            body_limit_bytes: 32 * 1024 * 1024,
            latency: LatencyConfig::default(),
            rate_limits: RateLimitConfig::default(),
            faults: FaultConfig::default(),
            batch: BatchConfig::default(),
            error_model: ErrorModelConfig::default(),
            cache: CacheConfig::default(),
            files: FilesConfig::default(),
            embeddings: EmbeddingsConfig::default(),
        }
    }
}

impl MockConfig {
    /// Reads and validates a `mock.toml`; errors name the file.
    pub fn load(path: &Path) -> Result<MockConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Input(format!("{}: cannot read mock config: {e}", path.display()))
        })?;
        let config: MockConfig = toml::from_str(&text).map_err(|e| {
            Error::Input(format!(
                "{}: invalid mock config: {}",
                path.display(),
                one_line(&e.to_string())
            ))
        })?;
        config
            .validate()
            .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        Ok(config)
    }

    /// Checks ranges (probabilities in 0..=1, positive rates, finite scales).
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !self.time_scale.is_finite() || self.time_scale < 0.0 {
            return Err(format!(
                "time_scale must be a finite number >= 0, not {}",
                self.time_scale
            ));
        }
        if !(1..=65_536).contains(&self.embeddings.default_dimensions) {
            return Err(format!(
                "embeddings.default_dimensions must be between 1 and 65536, not {}",
                self.embeddings.default_dimensions
            ));
        }
        if self.api_key.as_deref() == Some("") {
            return Err("api_key must not be empty (leave it out to accept any key)".into());
        }
        let probs = [
            ("faults.rate_429", self.faults.rate_429),
            ("faults.rate_500", self.faults.rate_500),
            ("faults.rate_overloaded", self.faults.rate_overloaded),
            ("faults.rate_slow", self.faults.rate_slow),
            ("faults.rate_drop", self.faults.rate_drop),
            ("faults.rate_reset", self.faults.rate_reset),
            ("faults.rate_truncated_sse", self.faults.rate_truncated_sse),
            (
                "faults.rate_malformed_packed",
                self.faults.rate_malformed_packed,
            ),
            ("faults.rate_missing_item", self.faults.rate_missing_item),
            ("error_model.base_error", self.error_model.base_error),
            ("error_model.max_error", self.error_model.max_error),
            ("latency.default.jitter", self.latency.default.jitter),
            (
                "embeddings.perturb_when_batched",
                self.embeddings.perturb_when_batched,
            ),
        ];
        for (name, p) in probs {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} must be between 0 and 1, not {p}"));
            }
        }
        let non_negative = [
            ("faults.slow_factor", self.faults.slow_factor),
            (
                "error_model.slope_before_knee",
                self.error_model.slope_before_knee,
            ),
            (
                "error_model.slope_after_knee",
                self.error_model.slope_after_knee,
            ),
            (
                "error_model.missing_per_item",
                self.error_model.missing_per_item,
            ),
            (
                "error_model.position_amplitude",
                self.error_model.position_amplitude,
            ),
            ("batch.validating_secs", self.batch.validating_secs),
            (
                "batch.in_progress_min_secs",
                self.batch.in_progress_min_secs,
            ),
            ("batch.per_request_ms", self.batch.per_request_ms),
            ("batch.finalizing_secs", self.batch.finalizing_secs),
            ("batch.cancel_secs", self.batch.cancel_secs),
        ];
        for (name, v) in non_negative {
            if !v.is_finite() || v < 0.0 {
                return Err(format!("{name} must be a finite number >= 0, not {v}"));
            }
        }
        for (name, p) in std::iter::once(("default", &self.latency.default))
            .chain(self.latency.profiles.iter().map(|(k, v)| (k.as_str(), v)))
        {
            p.validate()
                .map_err(|e| format!("latency profile {name:?}: {e}"))?;
        }
        if self.rate_limits.rpm == Some(0) || self.rate_limits.tpm == Some(0) {
            return Err(
                "rate_limits.rpm and rate_limits.tpm must be > 0 (or \"unlimited\" for no limit)"
                    .into(),
            );
        }
        if let Some(w) = self.batch.completion_window_secs {
            if !w.is_finite() || w <= 0.0 {
                return Err(format!("batch.completion_window_secs must be > 0, not {w}"));
            }
        }
        if self.cache.openai_increment == 0 {
            return Err("cache.openai_increment must be > 0".into());
        }
        Ok(())
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One model's simulated speed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyProfile {
    /// Fixed cost per request (network, queueing, scheduling), in ms.
    pub overhead_ms: f64,
    /// Input tokens processed per second before the first output token.
    pub prefill_tps: f64,
    /// Output tokens generated per second.
    pub decode_tps: f64,
    /// Relative jitter: the total is multiplied by a uniform factor in `1 ± jitter`.
    pub jitter: f64,
}

impl Default for LatencyProfile {
    fn default() -> Self {
        LatencyProfile {
            overhead_ms: 400.0,
            prefill_tps: 5_000.0,
            decode_tps: 50.0,
            jitter: 0.1,
        }
    }
}

impl LatencyProfile {
    fn validate(&self) -> std::result::Result<(), String> {
        if !self.overhead_ms.is_finite() || self.overhead_ms < 0.0 {
            return Err("overhead_ms must be >= 0".into());
        }
        if !(self.prefill_tps.is_finite()
            && self.prefill_tps > 0.0
            && self.decode_tps.is_finite()
            && self.decode_tps > 0.0)
        {
            return Err("prefill_tps and decode_tps must be > 0".into());
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err("jitter must be between 0 and 1".into());
        }
        Ok(())
    }
}

/// Latency profiles: `default` for unknown models and `profiles` keyed by model-id prefix
/// (longest prefix wins; these are looked up before the built-in profiles).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyConfig {
    /// The profile of models no prefix matches.
    pub default: LatencyProfile,
    /// Profiles by model-id prefix.
    pub profiles: BTreeMap<String, LatencyProfile>,
}

/// What a request is charged against the tokens-per-minute bucket before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TpmCharge {
    /// Input tokens plus the request's max output tokens.
    InputPlusMaxTokens,
    /// The larger of the input tokens and the max output tokens.
    MaxOfInputAndMaxTokens,
    /// Input tokens only.
    InputOnly,
}

/// How the input part of the TPM charge is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputEstimate {
    /// The exact token count (the same number `usage` reports).
    Tokens,
    /// Characters of the message texts divided by 4 (OpenAI's rule of thumb).
    CharsDiv4,
}

/// A per-minute limit in TOML: a whole number, or the string `"unlimited"` for none.
mod per_minute {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Limit {
        Count(u64),
        Word(String),
    }

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.serialize_u64(*n),
            None => s.serialize_str("unlimited"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Limit::deserialize(d)? {
            Limit::Count(n) => Ok(Some(n)),
            Limit::Word(w) if w == "unlimited" => Ok(None),
            Limit::Word(w) => Err(D::Error::custom(format!(
                "expected a whole number or \"unlimited\", not {w:?}"
            ))),
        }
    }
}

/// Per-key rate limits (token buckets refilled continuously over a minute).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests per minute, or `"unlimited"` (an omitted key keeps the default, 10,000).
    #[serde(with = "per_minute")]
    pub rpm: Option<u64>,
    /// Tokens per minute, or `"unlimited"` (an omitted key keeps the default, 10,000,000).
    #[serde(with = "per_minute")]
    pub tpm: Option<u64>,
    /// How a request is charged against TPM.
    pub tpm_charge: TpmCharge,
    /// How the input part of that charge is estimated.
    pub input_estimate: InputEstimate,
    /// Max output tokens assumed when a request gives none (OpenAI).
    pub default_max_tokens: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            rpm: Some(10_000),
            tpm: Some(10_000_000),
            tpm_charge: TpmCharge::InputPlusMaxTokens,
            input_estimate: InputEstimate::Tokens,
            default_max_tokens: 4_096,
        }
    }
}

/// Seeded fault injection: each rate is the probability per synchronous request (or per packed
/// answer for the answer faults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// 429 rate_limit_exceeded / rate_limit_error, as if another client had used the quota.
    pub rate_429: f64,
    /// 500 server error / api_error.
    pub rate_500: f64,
    /// 503 (OpenAI) or 529 overloaded_error (Anthropic).
    pub rate_overloaded: f64,
    /// Responses slowed by `slow_factor`.
    pub rate_slow: f64,
    /// Latency multiplier of a slow response.
    pub slow_factor: f64,
    /// Connection dropped after part of the response body was sent; the answer was generated,
    /// so it counts as completed (a real provider would bill it).
    pub rate_drop: f64,
    /// Connection closed before the request was processed: no status, no body, nothing
    /// generated or counted as completed.
    pub rate_reset: f64,
    /// SSE stream that ends before its last event (`[DONE]` / `message_stop`).
    pub rate_truncated_sse: f64,
    /// A packed answer whose JSON is cut short (invalid).
    pub rate_malformed_packed: f64,
    /// A packed answer with one item left out.
    pub rate_missing_item: f64,
    /// Flex requests (`service_tier: flex`) refused with 429 `resource_unavailable`, as OpenAI
    /// does when flex has no capacity.
    pub rate_flex_unavailable: f64,
    /// `retry-after` (seconds) sent with injected 429/503/529 faults.
    pub retry_after_secs: f64,
    /// Also hit the Files and Batches endpoints (upload, create, poll, download, cancel, list)
    /// with the 429 / 500 / overloaded / reset rates; counted as `files_batches_<fault>`.
    pub batch_endpoints: bool,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            rate_429: 0.0,
            rate_500: 0.0,
            rate_overloaded: 0.0,
            rate_slow: 0.0,
            slow_factor: 5.0,
            rate_drop: 0.0,
            rate_reset: 0.0,
            rate_truncated_sse: 0.0,
            rate_malformed_packed: 0.0,
            rate_missing_item: 0.0,
            rate_flex_unavailable: 0.0,
            retry_after_secs: 1.0,
            batch_endpoints: false,
        }
    }
}

/// Batch job timelines (simulated seconds) and limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Time in `validating` (OpenAI).
    pub validating_secs: f64,
    /// Shortest time in `in_progress`.
    pub in_progress_min_secs: f64,
    /// Processing time per request; requests finish evenly over the in-progress phase, which
    /// lasts `max(in_progress_min_secs, requests × per_request_ms)`.
    pub per_request_ms: f64,
    /// Time in `finalizing` (OpenAI).
    pub finalizing_secs: f64,
    /// Time between a cancel request and `cancelled` / `ended`.
    pub cancel_secs: f64,
    /// Window after which an unfinished batch expires; absent = the request's
    /// `completion_window` (24 h).
    pub completion_window_secs: Option<f64>,
    /// Requests per OpenAI batch input file.
    pub openai_max_requests: usize,
    /// Bytes per OpenAI batch input file.
    pub openai_max_bytes: usize,
    /// Requests per Anthropic message batch.
    pub anthropic_max_requests: usize,
    /// Bytes per Anthropic message batch request body.
    pub anthropic_max_bytes: usize,
    /// Shuffle output lines (seeded), as the real APIs allow.
    pub shuffle_output: bool,
    /// Batches kept in memory; the oldest finished ones are dropped beyond this.
    pub max_batches: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            validating_secs: 1.0,
            in_progress_min_secs: 2.0,
            per_request_ms: 10.0,
            finalizing_secs: 1.0,
            cancel_secs: 1.0,
            completion_window_secs: None,
            openai_max_requests: 50_000,
            openai_max_bytes: 200 * 1024 * 1024,
            anthropic_max_requests: 100_000,
            anthropic_max_bytes: 256 * 1024 * 1024,
            shuffle_output: true,
            max_batches: 10_000,
        }
    }
}

/// The answer error model (see `docs/MOCK.md` for the calibration and its sources).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ErrorModelConfig {
    /// Off: every known prompt gets its gold answer.
    pub enabled: bool,
    /// Probability of a wrong answer with one item per request (before task and model factors).
    pub base_error: f64,
    /// Added error probability per item beyond the first, up to the knee.
    pub slope_before_knee: f64,
    /// Items per request where degradation speeds up.
    pub knee: usize,
    /// Added error probability per item beyond the knee.
    pub slope_after_knee: f64,
    /// Amplitude of the U-shaped position penalty (0 = position does not matter); the mean
    /// over the slots of one request stays 1, so it moves errors, it does not add them.
    pub position_amplitude: f64,
    /// Probability per extra item in a request that an item is left out of a packed answer.
    pub missing_per_item: f64,
    /// Upper bound of the error probability of one item.
    pub max_error: f64,
    /// Difficulty multipliers by task name (the dataset's `task`, lowercase), over the built-in
    /// ones by task kind (number 1.3, label 1.0, yes/no 0.7, text 1.2).
    pub task_difficulty: BTreeMap<String, f64>,
    /// Weakness multipliers by model-id prefix (longest wins), over the built-in ones
    /// (e.g. gpt-5 0.5, gpt-4o 0.7, gpt-4o-mini 1.0, gpt-3.5 2.0; 1.0 for unknown models).
    pub model_factor: BTreeMap<String, f64>,
}

impl Default for ErrorModelConfig {
    fn default() -> Self {
        ErrorModelConfig {
            enabled: true,
            base_error: 0.03,
            slope_before_knee: 0.002,
            knee: 16,
            slope_after_knee: 0.006,
            position_amplitude: 0.6,
            missing_per_item: 0.0005,
            max_error: 0.9,
            task_difficulty: BTreeMap::new(),
            model_factor: BTreeMap::new(),
        }
    }
}

/// Prompt caching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Off: no request ever reports cached tokens.
    pub enabled: bool,
    /// OpenAI: smallest prompt that is cached.
    pub openai_min_tokens: u64,
    /// OpenAI: cached prefixes grow in steps of this many tokens.
    pub openai_increment: u64,
    /// OpenAI: seconds a prefix stays cached after its last use (simulated seconds).
    pub openai_ttl_secs: f64,
    /// Anthropic: minimum cacheable prefix by model-id prefix (longest wins), over the built-in
    /// values (1,024 Sonnet/Opus 4 and 4.1; 2,048 Haiku 3 and 3.5; 4,096 Haiku 4.5, Opus 4.5+).
    pub anthropic_min_tokens: BTreeMap<String, u64>,
    /// Anthropic: minimum for models no prefix matches.
    pub anthropic_default_min_tokens: u64,
    /// Gemini implicit caching: cached prefixes grow in steps of this many tokens (Google does
    /// not document the granularity; the minimum per model is Google's, from
    /// `batchbench_core::facts::GEMINI_CACHE_MIN_PREFIX`).
    pub gemini_increment: u64,
    /// Gemini implicit caching: seconds a prefix stays cached after its last use (undocumented
    /// by Google; simulated seconds).
    pub gemini_ttl_secs: f64,
    /// Prefix entries kept in memory (expired ones are dropped first).
    pub max_entries: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            openai_min_tokens: 1_024,
            openai_increment: 128,
            openai_ttl_secs: 600.0,
            anthropic_min_tokens: BTreeMap::new(),
            anthropic_default_min_tokens: batchbench_core::facts::DEFAULT_CACHE_MIN_PREFIX,
            gemini_increment: 128,
            gemini_ttl_secs: 300.0,
            max_entries: 200_000,
        }
    }
}

/// Stored files (OpenAI `/v1/files`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesConfig {
    /// Total bytes of all stored files (uploads and outputs); uploads beyond are refused.
    pub max_total_bytes: usize,
    /// Largest single upload.
    pub max_file_bytes: usize,
    /// Number of stored files.
    pub max_files: usize,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            max_total_bytes: 512 * 1024 * 1024,
            max_file_bytes: 200 * 1024 * 1024,
            max_files: 10_000,
        }
    }
}

/// `/v1/embeddings`: the width of models the mock does not know, and an optional change of the
/// vectors a multi-input request returns (a server that pads batches), so a client's agreement
/// check can be shown catching it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddingsConfig {
    /// Vector width for models without a known native width (self-hosted names).
    pub default_dimensions: usize,
    /// 0 (default): an input's vector is the same alone or in an array. p > 0: a vector
    /// returned in a request of two or more inputs is turned away from the single-input one
    /// so that their cosine is exactly 1 − p (deterministic per text and model).
    pub perturb_when_batched: f64,
}

impl Default for EmbeddingsConfig {
    fn default() -> Self {
        EmbeddingsConfig {
            default_dimensions: 768,
            perturb_when_batched: 0.0,
        }
    }
}

/// Longest-prefix lookup in a map keyed by model-id prefix.
pub(crate) fn by_prefix<'a, V>(
    map: impl IntoIterator<Item = (&'a str, V)>,
    model: &str,
) -> Option<V> {
    let m = model.as_bytes();
    map.into_iter()
        .filter(|(prefix, _)| {
            m.get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
        })
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_unknown_keys_fail() {
        let text = toml::to_string(&MockConfig::default()).unwrap();
        let back: MockConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, MockConfig::default());
        assert!(toml::from_str::<MockConfig>("sead = 1").is_err());
        assert!(toml::from_str::<MockConfig>("[faults]\nrate_430 = 0.1").is_err());
        let c: MockConfig = toml::from_str("seed = 7\n[faults]\nrate_429 = 0.25").unwrap();
        assert_eq!(
            (c.seed, c.faults.rate_429, c.faults.slow_factor),
            (7, 0.25, 5.0)
        );
    }

    #[test]
    fn validation_names_the_key() {
        let mut c = MockConfig::default();
        c.faults.rate_500 = 1.5;
        assert!(c.validate().unwrap_err().contains("faults.rate_500"));
        let c = MockConfig {
            time_scale: -1.0,
            ..MockConfig::default()
        };
        assert!(c.validate().unwrap_err().contains("time_scale"));
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mock.toml");
        std::fs::write(&p, "bogus = 1").unwrap();
        let e = MockConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains("mock.toml") && e.contains("bogus"), "{e}");
        std::fs::write(&p, "[rate_limits]\nrpm = \"unlimited\"").unwrap();
        let c = MockConfig::load(&p).unwrap();
        assert_eq!(c.rate_limits.rpm, None);
        assert_eq!(c.rate_limits.tpm, Some(10_000_000));
        std::fs::write(&p, "[rate_limits]\nrpm = \"lots\"").unwrap();
        assert!(MockConfig::load(&p).is_err());
        std::fs::write(&p, "time_scale = 0.0\n[rate_limits]\nrpm = 60").unwrap();
        let c = MockConfig::load(&p).unwrap();
        assert_eq!(c.rate_limits.rpm, Some(60));
    }

    #[test]
    fn longest_prefix() {
        let m = [("gpt-4o", 1), ("gpt-4o-mini", 2), ("gpt", 3)];
        assert_eq!(by_prefix(m, "gpt-4o-mini-2024-07-18"), Some(2));
        assert_eq!(by_prefix(m, "gpt-4o-2024"), Some(1));
        assert_eq!(by_prefix(m, "claude"), None);
    }
}
