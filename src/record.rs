//! What a run records: one [`PromptRecord`] per prompt and strategy, one [`RequestRecord`] per
//! HTTP attempt or batch job. Every figure in every report is computed from these rows, and they
//! are written to `prompts.csv` and `requests.csv` as they are.

use serde::{Deserialize, Serialize};

use crate::pricing::Nanodollars;

/// The outcome for one prompt under one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptRecord {
    /// Strategy id, e.g. `packed:8`.
    pub strategy: String,
    /// The prompt's id in the dataset.
    pub prompt_id: String,
    /// The planned request that answered it (for re-asks, the re-ask's id).
    pub request_id: String,
    /// How many prompts shared that request (1 unless packed).
    pub request_prompts: u32,
    /// `answered` or `failed`.
    pub status: PromptStatus,
    /// Whether the answer came from an individual re-ask after the packed answer lacked it.
    pub reasked: bool,
    /// This prompt's share of input tokens (all input: uncached + cached + cache write).
    pub input_tokens: u64,
    /// Share of input tokens read from the cache.
    pub cached_tokens: u64,
    /// Share of input tokens written to the cache.
    pub cache_write_tokens: u64,
    /// Share of output tokens.
    pub output_tokens: u64,
    /// Client-side estimate of this prompt's share of input tokens.
    pub client_input_tokens: u64,
    /// This prompt's share of the cost, exact to the nano-dollar (a decimal string in CSV).
    #[serde(with = "usd_string")]
    pub cost_usd: Nanodollars,
    /// Whether it was billed at batch prices.
    pub batch_priced: bool,
    /// Time from sending (or submitting the batch) to having the answer, retries and re-asks included.
    pub latency_ms: f64,
    /// Time to first token, when streamed.
    pub ttft_ms: Option<f64>,
    /// The answer, as unpacked.
    pub answer: Option<String>,
    /// The gold answer, when the dataset has one.
    pub gold: Option<String>,
    /// Whether the answer matches the gold answer (normalised per task type).
    pub correct: Option<bool>,
    /// Whether the answer matches the `sequential` strategy's answer for the same prompt.
    pub agrees_with_sequential: Option<bool>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Its slot (1..K) in the packed request that first carried it; empty when unpacked.
    #[serde(default)]
    pub pack_position: Option<u32>,
    /// Embedding runs: the cosine similarity of this input's vector with its `embed:sequential`
    /// vector (1 for sequential itself); empty for chat runs and inputs without both vectors.
    #[serde(default)]
    pub vector_cosine: Option<f64>,
    /// Share of output tokens that were hidden reasoning (a part of `output_tokens`).
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl PromptRecord {
    /// Whether the prompt got an answer.
    pub fn answered(&self) -> bool {
        self.status == PromptStatus::Answered
    }
}

/// The `request_id` of the requests.csv row that records why a strategy stopped before it
/// finished (kind [`RequestKind::Aborted`]); its `error` is the reason.
pub const ABORTED: &str = "aborted";

/// Whether a prompt got an answer (`status` in prompts.csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStatus {
    /// It has an answer.
    Answered,
    /// It has none; `error` says why.
    Failed,
}

impl PromptStatus {
    /// `Answered` when `answered`, else `Failed`.
    pub fn from_answered(answered: bool) -> PromptStatus {
        if answered {
            PromptStatus::Answered
        } else {
            PromptStatus::Failed
        }
    }
}

/// What a requests.csv row records (`kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// One attempt of a planned chat request.
    Chat,
    /// One attempt of an embeddings request (`run --task embed`).
    Embed,
    /// One attempt of an individual re-ask of a prompt a packed answer or a batch lacked.
    Reask,
    /// One request inside a Batch API job.
    BatchItem,
    /// A Batch API job as a whole (bookkeeping, not a request sent).
    BatchJob,
    /// The making of a provider-side cache of the shared prefix (Gemini `cachedContents`),
    /// before the strategy's requests: its tokens as cache writes, its cost the making plus
    /// the storage for `cache_ttl_s`.
    CacheCreate,
    /// The strategy stopped early; `error` holds why.
    Aborted,
}

impl std::str::FromStr for RequestKind {
    type Err = String;

    /// Reads the name as written in requests.csv.
    fn from_str(s: &str) -> Result<RequestKind, String> {
        serde_json::from_value(serde_json::Value::String(s.to_string()))
            .map_err(|_| format!("{s:?} is not a request kind"))
    }
}

/// One HTTP attempt (chat) or one batch job, as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Strategy id.
    pub strategy: String,
    /// The planned request's id (the `custom_id` in batch mode).
    pub request_id: String,
    /// `chat`, `embed`, `reask`, `batch_job`, `batch_item`, `cache_create`, or `aborted` (why the
    /// strategy stopped).
    pub kind: RequestKind,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// Prompts the request carries.
    pub prompts: u32,
    /// HTTP status, or `connect` / `timeout` / `decode`; for batch jobs, the final batch status.
    pub status: String,
    /// Input tokens the server reported (0 for failed attempts).
    pub input_tokens: u64,
    /// Cached input tokens.
    pub cached_tokens: u64,
    /// Cache-write input tokens.
    pub cache_write_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Client-side input token estimate for the request.
    pub client_input_tokens: u64,
    /// Cost of this attempt, exact (only successful attempts cost anything).
    #[serde(with = "usd_string")]
    pub cost_usd: Nanodollars,
    /// Milliseconds since the run's start when it was sent.
    pub started_ms: f64,
    /// Duration of this attempt (batch jobs: submit to results downloaded).
    pub latency_ms: f64,
    /// Time to first token, when streamed.
    pub ttft_ms: Option<f64>,
    /// The server's request id or batch id.
    pub server_id: Option<String>,
    /// The error, for failed attempts.
    pub error: Option<String>,
    /// Whether the packed answer of this response could not be parsed at all.
    pub parse_failure: bool,
    /// Items in the answer whose ids were never asked.
    pub extra_items: u32,
    /// The requests-per-minute limit the server reported on this attempt (`x-ratelimit-*`).
    #[serde(default)]
    pub limit_rpm: Option<u64>,
    /// The tokens-per-minute limit the server reported on this attempt.
    #[serde(default)]
    pub limit_tpm: Option<u64>,
    /// Of `output_tokens`, the hidden reasoning tokens (billed as output).
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// The service tier this attempt asked for (`flex`, `priority`, `auto`, `default` for a
    /// flex fallback); empty when it asked for none.
    #[serde(default)]
    pub asked_tier: Option<String>,
    /// The tier it was served and priced at (`standard`, `flex`, `priority`, `batch`): what the
    /// response reported, `batch` for every Batch API item, `standard` when a server reports none.
    #[serde(default)]
    pub served_tier: Option<String>,
    /// Of `cache_write_tokens`, those written with Anthropic's 1-hour TTL (priced at the 1-hour
    /// write rate).
    #[serde(default)]
    pub cache_write_1h_tokens: u64,
    /// Batch jobs: each status the job was first seen in, with the milliseconds from its creation
    /// (`validating 0; in_progress 1012; finalizing 5230; completed 5311`), as polls saw them.
    #[serde(default)]
    pub batch_states: Option<String>,
    /// `cache_create` rows: the TTL (seconds) the cache was made with, which its storage is
    /// billed for, so that the row's cost recomputes from its tokens and the printed rates.
    #[serde(default)]
    pub cache_ttl_s: Option<u64>,
}

impl RequestRecord {
    /// Whether the row is one request sent (a chat attempt, re-ask or batch item), not a batch
    /// job's bookkeeping or a strategy's stop.
    pub fn is_sent(&self) -> bool {
        !matches!(self.kind, RequestKind::BatchJob | RequestKind::Aborted)
    }

    /// A row with no tokens, cost, timings, ids or error yet: the base the others are filled
    /// in from.
    pub fn new(
        strategy: &str,
        request_id: &str,
        kind: RequestKind,
        attempt: u32,
        prompts: u32,
        status: String,
    ) -> RequestRecord {
        RequestRecord {
            strategy: strategy.into(),
            request_id: request_id.into(),
            kind,
            attempt,
            prompts,
            status,
            input_tokens: 0,
            cached_tokens: 0,
            cache_write_tokens: 0,
            output_tokens: 0,
            client_input_tokens: 0,
            cost_usd: Nanodollars::ZERO,
            started_ms: 0.0,
            latency_ms: 0.0,
            ttft_ms: None,
            server_id: None,
            error: None,
            parse_failure: false,
            extra_items: 0,
            limit_rpm: None,
            limit_tpm: None,
            reasoning_tokens: 0,
            asked_tier: None,
            served_tier: None,
            cache_write_1h_tokens: 0,
            batch_states: None,
            cache_ttl_s: None,
        }
    }

    /// This row with the limits a server reported on it.
    pub fn with_limits(
        self,
        info: Option<&crate::provider::ratelimit::RateLimitInfo>,
    ) -> RequestRecord {
        RequestRecord {
            limit_rpm: info.and_then(|i| i.requests).map(|l| l.limit),
            limit_tpm: info.and_then(|i| i.tokens).map(|l| l.limit),
            ..self
        }
    }

    /// This row with the token counts the server reported.
    pub fn with_usage(self, usage: &crate::provider::Usage) -> RequestRecord {
        RequestRecord {
            input_tokens: usage.input_tokens,
            cached_tokens: usage.cached_tokens,
            cache_write_tokens: usage.cache_write_tokens,
            cache_write_1h_tokens: usage.cache_write_1h_tokens,
            output_tokens: usage.output_tokens,
            reasoning_tokens: usage.reasoning_tokens,
            ..self
        }
    }

    /// A one-prompt chat attempt with no tokens, cost or timings, failed unless `status` is
    /// `200`: the base of hand-built rows in tests.
    #[cfg(test)]
    pub(crate) fn chat_attempt(
        strategy: &str,
        request_id: &str,
        attempt: u32,
        status: &str,
    ) -> RequestRecord {
        RequestRecord {
            error: (status != "200").then(|| "e".to_string()),
            ..RequestRecord::new(
                strategy,
                request_id,
                RequestKind::Chat,
                attempt,
                1,
                status.into(),
            )
        }
    }

    /// Whether this attempt was answered 429.
    pub fn rate_limited(&self) -> bool {
        self.status == "429"
    }

    /// Whether the server answered 2xx and the connection broke before the whole response
    /// arrived (`status` = `dropped`): the provider has probably billed it, though this row
    /// costs nothing because no usage arrived.
    pub fn dropped(&self) -> bool {
        self.status == "dropped"
    }
}

/// Attempts that were cut off after a 2xx, and what they probably cost: each is priced as the
/// attempt of the same request (strategy, request id, kind) that later succeeded; one whose
/// request never succeeded is counted but not priced. This is what a provider may have billed
/// beyond the cost the report shows, computed from `requests.csv` alone.
pub fn dropped_attempts(requests: &[RequestRecord]) -> (u32, Nanodollars) {
    let succeeded: std::collections::HashMap<(&str, &str, RequestKind), Nanodollars> = requests
        .iter()
        .filter(|r| r.error.is_none())
        .map(|r| {
            (
                (r.strategy.as_str(), r.request_id.as_str(), r.kind),
                r.cost_usd,
            )
        })
        .collect();
    let mut count = 0;
    let mut cost = Nanodollars::ZERO;
    for r in requests.iter().filter(|r| r.dropped()) {
        count += 1;
        if let Some(c) = succeeded.get(&(r.strategy.as_str(), r.request_id.as_str(), r.kind)) {
            cost += *c;
        }
    }
    (count, cost)
}

/// Money in CSV and JSON as an exact decimal string with nine places.
pub mod usd_string {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::pricing::Nanodollars;

    /// Writes `0.000123456`.
    pub fn serialize<S: Serializer>(v: &Nanodollars, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.exact())
    }

    /// Reads a decimal string back exactly.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Nanodollars, D::Error> {
        let text = String::deserialize(d)?;
        Nanodollars::parse_exact(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a dollar amount: {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(request_id: &str, attempt: u32, status: &str, cost_nanos: u64) -> RequestRecord {
        RequestRecord {
            cost_usd: Nanodollars(cost_nanos),
            ..RequestRecord::chat_attempt("sequential", request_id, attempt, status)
        }
    }

    #[test]
    fn dropped_attempts_are_priced_as_their_successful_retry() {
        let rows = [
            // r1: dropped twice, then answered for 1,500 nano-dollars: 2 × 1,500.
            row("r1", 1, "dropped", 0),
            row("r1", 2, "dropped", 0),
            row("r1", 3, "200", 1_500),
            // r2: a connection failure before any response is not a dropped attempt.
            row("r2", 1, "connect", 0),
            row("r2", 2, "200", 700),
            // r3: dropped, never answered: counted, not priced.
            row("r3", 1, "dropped", 0),
            row("r3", 2, "500", 0),
        ];
        let (n, cost) = dropped_attempts(&rows);
        assert_eq!(n, 3);
        assert_eq!(cost, Nanodollars(3_000));
        assert_eq!(cost.exact(), "0.000003000");
    }

    #[test]
    fn no_dropped_attempts() {
        assert_eq!(
            dropped_attempts(&[row("r1", 1, "200", 10)]),
            (0, Nanodollars::ZERO)
        );
    }
}
