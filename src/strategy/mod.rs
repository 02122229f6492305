//! Batching strategies. Each one plans the requests for a prompt set and unpacks the answers
//! back to prompts by id; the runner executes the plan, so every strategy is measured on
//! identical work.

mod batch_api;
mod cached;
mod concurrent;
mod naive;
mod packed;
mod sequential;
mod tiered;

use std::fmt;
use std::str::FromStr;

pub use batch_api::BatchApi;
pub use cached::Cached;
pub use concurrent::Concurrent;
pub use naive::NaiveMultiMessage;
pub use packed::Packed;
pub use sequential::Sequential;
pub use tiered::{Tier, Tiered};

use crate::dataset::{Prompt, PromptSet};
use crate::error::{Error, Result};
use crate::pricing::ModelLimits;
use crate::provider::{CacheTtl, ChatRequest, ChatResponse, ProviderKind};
use crate::tokens::Tokenizer;

/// Largest accepted K or C, to catch typos such as `packed:80000`.
pub const MAX_FACTOR: usize = 10_000;

/// A strategy as named on the command line: `sequential`, `concurrent:C`, `packed:K`, `cached`,
/// `cached:1h`, `cached:24h`, `batch-api`, `batch-api+packed:K`, `flex`, `flex+packed:K`, `priority`, `priority+packed:K`,
/// `naive-multi-message:K`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StrategySpec {
    /// One request per prompt, one at a time: the baseline.
    Sequential,
    /// One request per prompt, C in flight.
    Concurrent(usize),
    /// K prompts per request, answers as JSON keyed by id.
    Packed(usize),
    /// One request per prompt, shared prefix marked for the provider's prompt cache, kept for
    /// the provider's default time or the TTL named (`cached:1h`, `cached:24h`).
    Cached(CacheTtl),
    /// The provider's Batch API, one request per prompt; `Some(K)` packs K prompts per request.
    BatchApi(Option<usize>),
    /// Ordinary requests, one at a time, asking for a service tier; `Some(K)` packs K prompts.
    Tier(Tier, Option<usize>),
    /// The mistaken tutorial method: K user messages in one request. A demonstration.
    NaiveMultiMessage(usize),
}

/// The strategy every saving, accuracy drop and agreement is measured against.
pub const BASELINE: &str = "sequential";

impl StrategySpec {
    /// The default set: shows the main savings in well under a minute against the mock.
    pub fn defaults() -> Vec<StrategySpec> {
        vec![
            StrategySpec::Sequential,
            StrategySpec::Concurrent(8),
            StrategySpec::Packed(8),
            StrategySpec::Cached(CacheTtl::Default),
            StrategySpec::BatchApi(None),
            StrategySpec::BatchApi(Some(8)),
            StrategySpec::NaiveMultiMessage(4),
        ]
    }

    /// Items per request (1 unless packed or naive).
    pub fn batch_size(&self) -> usize {
        match self {
            StrategySpec::Packed(k)
            | StrategySpec::BatchApi(Some(k))
            | StrategySpec::Tier(_, Some(k))
            | StrategySpec::NaiveMultiMessage(k) => *k,
            _ => 1,
        }
    }

    /// Whether it goes through the provider's Batch API (and so needs one).
    pub fn uses_batch_api(&self) -> bool {
        matches!(self.build().execution(), Execution::BatchApi)
    }

    /// The strategy itself, ready to plan and unpack.
    pub fn build(&self) -> Box<dyn Strategy> {
        match *self {
            StrategySpec::Sequential => Box::new(Sequential),
            StrategySpec::Concurrent(c) => Box::new(Concurrent { concurrency: c }),
            StrategySpec::Packed(k) => Box::new(Packed { k }),
            StrategySpec::Cached(ttl) => Box::new(Cached { ttl }),
            StrategySpec::BatchApi(k) => Box::new(BatchApi { packed: k }),
            StrategySpec::Tier(tier, packed) => Box::new(Tiered { tier, packed }),
            StrategySpec::NaiveMultiMessage(k) => Box::new(NaiveMultiMessage { k }),
        }
    }

    /// Parses a comma-separated list, rejecting duplicates.
    pub fn parse_list(list: &str) -> Result<Vec<StrategySpec>> {
        let mut out: Vec<StrategySpec> = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let spec: StrategySpec = part.parse()?;
            if out.contains(&spec) {
                return Err(Error::Usage(format!("strategy {spec} is listed twice")));
            }
            out.push(spec);
        }
        if out.is_empty() {
            return Err(Error::Usage("no strategies given".into()));
        }
        Ok(out)
    }
}

impl fmt::Display for StrategySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StrategySpec::Sequential => f.write_str("sequential"),
            StrategySpec::Concurrent(c) => write!(f, "concurrent:{c}"),
            StrategySpec::Packed(k) => write!(f, "packed:{k}"),
            StrategySpec::Cached(ttl) => match ttl.suffix() {
                None => f.write_str("cached"),
                Some(t) => write!(f, "cached:{t}"),
            },
            StrategySpec::BatchApi(None) => f.write_str("batch-api"),
            StrategySpec::BatchApi(Some(k)) => write!(f, "batch-api+packed:{k}"),
            StrategySpec::Tier(t, None) => f.write_str(t.as_str()),
            StrategySpec::Tier(t, Some(k)) => write!(f, "{}+packed:{k}", t.as_str()),
            StrategySpec::NaiveMultiMessage(k) => write!(f, "naive-multi-message:{k}"),
        }
    }
}

fn factor(name: &str, value: Option<&str>, default: usize) -> Result<usize> {
    let Some(v) = value else { return Ok(default) };
    let n: usize = v.trim().parse().map_err(|_| {
        Error::Usage(format!(
            "strategy {name}:{v}: expected a whole number after the colon, e.g. {name}:8"
        ))
    })?;
    if n == 0 || n > MAX_FACTOR {
        return Err(Error::Usage(format!(
            "strategy {name}:{v}: the number must be between 1 and {MAX_FACTOR}"
        )));
    }
    Ok(n)
}

impl FromStr for StrategySpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<StrategySpec> {
        let s = s.trim();
        if let Some((stem, rest)) = s.split_once("+packed") {
            let arg = match rest {
                "" => None,
                r => Some(r.strip_prefix(':').ok_or_else(|| unknown(s))?),
            };
            let k = Some(factor(&format!("{stem}+packed"), arg, 8)?);
            return match stem {
                "batch-api" => Ok(StrategySpec::BatchApi(k)),
                "flex" => Ok(StrategySpec::Tier(Tier::Flex, k)),
                "priority" => Ok(StrategySpec::Tier(Tier::Priority, k)),
                _ => Err(unknown(s)),
            };
        }
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let no_arg = |spec: StrategySpec| match arg {
            None => Ok(spec),
            Some(_) => Err(Error::Usage(format!(
                "strategy {name} takes no number (got {s:?})"
            ))),
        };
        match name {
            "sequential" => no_arg(StrategySpec::Sequential),
            "cached" => match arg {
                None => Ok(StrategySpec::Cached(CacheTtl::Default)),
                Some("1h") => Ok(StrategySpec::Cached(CacheTtl::OneHour)),
                Some("24h") => Ok(StrategySpec::Cached(CacheTtl::Day)),
                Some(other) => Err(Error::Usage(format!(
                    "strategy cached:{other}: the cache TTLs are cached (the provider's default), \
                     cached:1h (Anthropic) and cached:24h (OpenAI extended retention)"
                ))),
            },
            "batch-api" => no_arg(StrategySpec::BatchApi(None)),
            "flex" => no_arg(StrategySpec::Tier(Tier::Flex, None)),
            "priority" => no_arg(StrategySpec::Tier(Tier::Priority, None)),
            "concurrent" => Ok(StrategySpec::Concurrent(factor(name, arg, 8)?)),
            "packed" => Ok(StrategySpec::Packed(factor(name, arg, 8)?)),
            "naive-multi-message" => Ok(StrategySpec::NaiveMultiMessage(factor(name, arg, 4)?)),
            _ => Err(unknown(s)),
        }
    }
}

fn unknown(s: &str) -> Error {
    Error::Usage(format!(
        "unknown strategy {s:?}; known: sequential, concurrent:C, packed:K, cached, cached:1h, cached:24h, batch-api, batch-api+packed:K, \
         flex, flex+packed:K, priority, priority+packed:K, naive-multi-message:K"
    ))
}

/// How a plan's requests are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Execution {
    /// Ordinary requests, this many in flight.
    Sync {
        /// Requests in flight.
        concurrency: usize,
    },
    /// Through the provider's Batch API (billed at batch prices).
    BatchApi,
}

/// What a strategy needs to plan.
#[derive(Debug, Clone)]
pub struct PlanContext<'a> {
    /// The prompts.
    pub set: &'a PromptSet,
    /// Which API.
    pub provider: ProviderKind,
    /// Model id.
    pub model: &'a str,
    /// Client-side token counter for the model.
    pub tokenizer: Tokenizer,
    /// The model's size limits.
    pub limits: ModelLimits,
    /// Output tokens allowed per answer.
    pub answer_tokens: u32,
    /// Whether sync requests are streamed.
    pub stream: bool,
    /// Sampling temperature, if set.
    pub temperature: Option<f32>,
    /// Whether packed OpenAI requests carry the strict `json_schema` response format.
    pub json_schema: bool,
    /// `--reasoning-effort`, passed through on every request.
    pub reasoning_effort: Option<&'a str>,
}

impl PlanContext<'_> {
    /// Client-side estimate of a request's input tokens.
    pub fn estimate_input(&self, request: &ChatRequest) -> u64 {
        self.tokenizer.count_request(self.provider, request)
    }

    /// A request of this run with the shared instructions as the system prompt and `user` as
    /// the one user message: the run's model, temperature and reasoning effort, nothing else.
    pub fn base_request(&self, user: &str, max_tokens: u32) -> ChatRequest {
        let system = (!self.set.instructions.is_empty()).then_some(self.set.instructions.as_str());
        ChatRequest {
            temperature: self.temperature,
            reasoning_effort: self.reasoning_effort.map(str::to_string),
            ..ChatRequest::new(self.model, system, user, max_tokens)
        }
    }

    /// One ordinary request for one prompt: the shared instructions as the system prompt, the
    /// prompt as the user message.
    pub fn single_request(&self, prompt: &Prompt, cache_prefix: bool) -> ChatRequest {
        ChatRequest {
            cache_prefix,
            stream: self.stream,
            ..self.base_request(&prompt.prompt, self.answer_tokens)
        }
    }

    /// One planned single request per prompt, ids `r000001`, … in dataset order.
    pub fn planned_singles(&self, cache_prefix: bool) -> Vec<PlannedRequest> {
        self.set
            .prompts
            .iter()
            .enumerate()
            .map(|(i, p)| self.planned_single(request_id(i), p, cache_prefix))
            .collect()
    }

    /// A planned single request.
    pub fn planned_single(
        &self,
        id: String,
        prompt: &Prompt,
        cache_prefix: bool,
    ) -> PlannedRequest {
        let request = self.single_request(prompt, cache_prefix);
        PlannedRequest {
            client_input_tokens: self.estimate_input(&request),
            id,
            prompt_ids: vec![prompt.id.clone()],
            request,
        }
    }
}

/// One request a strategy wants sent.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRequest {
    /// Unique within the strategy; the Batch API's `custom_id`.
    pub id: String,
    /// The prompts it carries, in order.
    pub prompt_ids: Vec<String>,
    /// What to send.
    pub request: ChatRequest,
    /// Client-side estimate of its input tokens.
    pub client_input_tokens: u64,
}

/// A plan and the warnings planning produced (e.g. K lowered to fit the context window).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The requests.
    pub requests: Vec<PlannedRequest>,
    /// Things the user should know.
    pub warnings: Vec<String>,
}

/// What unpacking found for one prompt of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemResult {
    /// The prompt's answer.
    Answer(String),
    /// The answer is missing, duplicated or unparsable: ask again on its own.
    Reask(String),
    /// Lost, and not re-asked (the naive demonstration).
    Lost(String),
}

/// What unpacking one response found, per prompt, plus counters for the report.
#[derive(Debug, Clone, Default)]
pub struct Unpacked {
    /// Per prompt id, in the request's order.
    pub items: Vec<(String, ItemResult)>,
    /// Whether the answer could not be parsed at all.
    pub parse_failure: bool,
    /// Ids in the answer that were never asked.
    pub extra_items: usize,
}

/// A way of sending a prompt set.
pub trait Strategy: Send + Sync {
    /// The id as on the command line.
    fn spec(&self) -> StrategySpec;

    /// How the plan is sent.
    fn execution(&self) -> Execution;

    /// The requests for the whole set.
    fn plan(&self, ctx: &PlanContext<'_>) -> Result<Plan>;

    /// Splits a response back to the request's prompts, by id.
    fn unpack(&self, request: &PlannedRequest, response: &ChatResponse) -> Unpacked;

    /// Whether this strategy is shown only as a demonstration of a mistake.
    fn is_demonstration(&self) -> bool {
        false
    }

    /// Why this provider cannot run the strategy at all (e.g. Anthropic has no flex tier): the
    /// strategy is then recorded failed, unsent, with this reason, and the run goes on.
    fn refusal(&self, _provider: ProviderKind) -> Option<String> {
        None
    }
}

/// Unpacking for one-prompt-per-request strategies: the text is the answer.
pub(crate) fn unpack_single(request: &PlannedRequest, response: &ChatResponse) -> Unpacked {
    let items = request
        .prompt_ids
        .iter()
        .map(|id| {
            (
                id.clone(),
                ItemResult::Answer(response.text.trim().to_string()),
            )
        })
        .collect();
    Unpacked {
        items,
        ..Unpacked::default()
    }
}

/// Request ids like `r000042`, stable across runs.
pub(crate) fn request_id(index: usize) -> String {
    format!("r{:06}", index + 1)
}

/// Parses `1,2,4,8` into batch sizes for `sweep` and `estimate --sizes`: each 1..=10,000, no
/// duplicates, sorted.
pub fn parse_sizes(s: &str) -> crate::error::Result<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let k: usize = part.parse().map_err(|_| {
            crate::error::Error::Usage(format!("--sizes: {part:?} is not a whole number"))
        })?;
        if k == 0 || k > MAX_FACTOR {
            return Err(crate::error::Error::Usage(format!(
                "--sizes: {k} must be between 1 and {}",
                MAX_FACTOR
            )));
        }
        if out.contains(&k) {
            return Err(crate::error::Error::Usage(format!(
                "--sizes: {k} is listed twice"
            )));
        }
        out.push(k);
    }
    if out.is_empty() {
        return Err(crate::error::Error::Usage(
            "--sizes: give at least one size, e.g. 1,2,4,8".into(),
        ));
    }
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        for s in [
            "sequential",
            "concurrent:4",
            "packed:16",
            "cached",
            "cached:1h",
            "cached:24h",
            "batch-api",
            "batch-api+packed:8",
            "flex",
            "flex+packed:4",
            "priority",
            "priority+packed:2",
            "naive-multi-message:3",
        ] {
            assert_eq!(s.parse::<StrategySpec>().unwrap().to_string(), s);
        }
        assert_eq!(
            "packed".parse::<StrategySpec>().unwrap(),
            StrategySpec::Packed(8)
        );
        assert_eq!(
            "batch-api+packed".parse::<StrategySpec>().unwrap(),
            StrategySpec::BatchApi(Some(8))
        );
        assert_eq!(
            "flex+packed".parse::<StrategySpec>().unwrap(),
            StrategySpec::Tier(Tier::Flex, Some(8))
        );
        for bad in [
            "packed:0",
            "packed:-1",
            "packed:x",
            "packed:100000",
            "bogus",
            "sequential:2",
            "concurrent:",
            "flex:2",
            "flex+packed:0",
            "flex+packedx",
            "cached+packed:2",
            "cached:5m",
            "cached:",
        ] {
            let e = bad.parse::<StrategySpec>().unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
        assert!(StrategySpec::parse_list("sequential,sequential").is_err());
        assert!(StrategySpec::parse_list(" , ").is_err());
        assert_eq!(
            StrategySpec::parse_list("sequential, packed:4")
                .unwrap()
                .len(),
            2
        );
    }
}
