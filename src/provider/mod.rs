//! Providers: the provider-neutral request and response shapes, and the HTTP clients for OpenAI
//! (and OpenAI-compatible servers), Anthropic and Google's Gemini API. The runner decides when to call and retry;
//! this module only speaks the wire formats.

pub mod anthropic;
pub mod api;
pub mod embeddings;
pub mod error;
pub mod fake;
pub mod fallback;
pub mod gemini;
mod headers;
mod http;
pub mod openai;
pub mod origin;
pub mod overheads;
pub mod ratelimit;
pub mod responses;
mod sse;

use std::time::Duration;

pub use error::{CallError, CallErrorKind};

use crate::secret::Secret;

/// Which API family to speak.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI or any OpenAI-compatible server (`/v1/chat/completions`, `/v1/files`, `/v1/batches`).
    Openai,
    /// Anthropic (`/v1/messages`, `/v1/messages/batches`).
    Anthropic,
    /// Google's Gemini API (`/v1beta/models/{model}:generateContent`, Batch Mode, context caches).
    Gemini,
}

impl ProviderKind {
    /// Whether packed requests ask for structured output (OpenAI `response_format:
    /// json_schema`, Gemini `responseMimeType: application/json` with `responseSchema`);
    /// Anthropic's Messages API has no such option here, so the packed format alone carries it.
    pub fn structured_outputs(self) -> bool {
        match self {
            ProviderKind::Openai | ProviderKind::Gemini => true,
            ProviderKind::Anthropic => false,
        }
    }

    /// The provider a bare model id most likely belongs to, for commands given only `--model`.
    pub fn guess_from_model(model: &str) -> ProviderKind {
        let m = model.to_ascii_lowercase();
        if m.contains("claude") {
            ProviderKind::Anthropic
        } else if m.contains("gemini") || m.contains("gemma") {
            ProviderKind::Gemini
        } else {
            ProviderKind::Openai
        }
    }

    /// Lowercase name, as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
        }
    }

    /// The genai-prices provider id (genai-prices files Gemini under Google's id, `google`).
    pub fn price_provider_id(self) -> &'static str {
        match self {
            ProviderKind::Gemini => "google",
            other => other.as_str(),
        }
    }

    /// The environment variable holding the API key.
    pub fn key_env(self) -> &'static str {
        match self {
            ProviderKind::Openai => "OPENAI_API_KEY",
            ProviderKind::Anthropic => "ANTHROPIC_API_KEY",
            ProviderKind::Gemini => "GEMINI_API_KEY",
        }
    }

    /// Environment variables read for the key when [`ProviderKind::key_env`] is unset: the
    /// google-genai SDK also takes `GOOGLE_API_KEY`.
    pub fn key_env_fallbacks(self) -> &'static [&'static str] {
        match self {
            ProviderKind::Gemini => &["GOOGLE_API_KEY"],
            ProviderKind::Openai | ProviderKind::Anthropic => &[],
        }
    }

    /// The environment variable holding the base URL.
    pub fn base_url_env(self) -> &'static str {
        match self {
            ProviderKind::Openai => "OPENAI_BASE_URL",
            ProviderKind::Anthropic => "ANTHROPIC_BASE_URL",
            ProviderKind::Gemini => "GEMINI_BASE_URL",
        }
    }

    /// The public API's base URL.
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::Openai => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com",
            ProviderKind::Gemini => "https://generativelanguage.googleapis.com",
        }
    }

    /// The default model for this provider.
    pub fn default_model(self) -> &'static str {
        match self {
            ProviderKind::Openai => "gpt-4o-mini",
            ProviderKind::Anthropic => "claude-haiku-4-5",
            ProviderKind::Gemini => "gemini-2.5-flash",
        }
    }
}

/// Which OpenAI API carries chat requests (`--api`).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    /// Chat completions (`/v1/chat/completions`): every OpenAI-compatible server has it.
    #[default]
    Chat,
    /// The Responses API (`/v1/responses`), also inside the Batch API: what new OpenAI code uses.
    Responses,
}

/// A chat message role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user's turn.
    User,
    /// The model's turn.
    Assistant,
}

impl Role {
    /// The role as the wire spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What they say.
    pub content: String,
}

/// A structured-output request: a JSON schema the answer must follow.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JsonSchema {
    /// Schema name (OpenAI requires one: `^[a-zA-Z0-9_-]{1,64}$`).
    pub name: String,
    /// The JSON schema itself.
    pub schema: serde_json::Value,
}

/// A provider-neutral chat request; each provider module turns it into its wire body.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChatRequest {
    /// Model id.
    pub model: String,
    /// Shared instructions (OpenAI: a system message first; Anthropic: the `system` field).
    pub system: Option<String>,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Maximum output tokens (`max_completion_tokens` / `max_tokens`).
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Ask for JSON following this schema (OpenAI: strict `json_schema`; Anthropic: instructed).
    pub json_schema: Option<JsonSchema>,
    /// Mark the shared prefix for caching (Anthropic `cache_control`; OpenAI `prompt_cache_key`).
    pub cache_prefix: bool,
    /// How long a marked prefix should stay cached (Anthropic `ttl`, OpenAI
    /// `prompt_cache_retention`); only read when `cache_prefix` is set.
    #[serde(default)]
    pub cache_ttl: CacheTtl,
    /// Stream the answer (SSE), recording time to first token.
    pub stream: bool,
    /// The service tier to ask for; `None` sends no `service_tier` (the account's default).
    #[serde(default)]
    pub service_tier: Option<ServiceTier>,
    /// Reasoning effort for reasoning models (`reasoning_effort` / `reasoning.effort`; Gemini
    /// `thinkingConfig`), passed through as given.
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    /// The provider-side cache that holds the shared prefix (Gemini `cachedContents/…`, made by
    /// [`api::ChatApi::open_prefix_cache`]): the request names it instead of sending the system
    /// prompt again.
    #[serde(default)]
    pub cached_content: Option<String>,
}

/// How long a cached prefix is kept, as the `cached`, `cached:1h` and `cached:24h` strategies
/// ask. Each provider offers only some of them (see [`CacheTtl::wire_value`]).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CacheTtl {
    /// The provider's default: Anthropic's 5-minute TTL, OpenAI's in-memory retention.
    #[default]
    Default,
    /// Anthropic `cache_control.ttl: "1h"` (writes cost 2× input instead of 1.25×).
    OneHour,
    /// OpenAI `prompt_cache_retention: "24h"` (extended retention, on the models that offer it);
    /// a Gemini context cache kept for 24 hours.
    Day,
}

impl CacheTtl {
    /// How long a cache made for it lives (a Gemini context cache's `ttl`); `None` for the
    /// provider's default (`--cache-ttl` on Gemini).
    pub fn duration(self) -> Option<Duration> {
        match self {
            CacheTtl::Default => None,
            CacheTtl::OneHour => Some(Duration::from_secs(3_600)),
            CacheTtl::Day => Some(Duration::from_secs(86_400)),
        }
    }

    /// The strategy-name suffix (`cached`, `cached:1h`, `cached:24h`).
    pub fn suffix(self) -> Option<&'static str> {
        match self {
            CacheTtl::Default => None,
            CacheTtl::OneHour => Some("1h"),
            CacheTtl::Day => Some("24h"),
        }
    }

    /// What this provider's wire carries for it (`None`: send nothing, the default), or why the
    /// provider has no such retention. Sources: Anthropic's prompt-caching guide (`ttl` `5m` |
    /// `1h`); openai-python `prompt_cache_retention: Literal["in_memory", "24h"]` (older SDKs
    /// spelled it `in-memory`; newer ones mark it deprecated for `prompt_cache_options.ttl`, and
    /// still send it); Gemini's `cachedContents` take any `ttl` in seconds.
    pub fn wire_value(self, provider: ProviderKind) -> Result<Option<&'static str>, String> {
        match (self, provider) {
            (CacheTtl::Default, _) => Ok(None),
            (CacheTtl::OneHour, ProviderKind::Anthropic) => Ok(Some("1h")),
            (CacheTtl::Day, ProviderKind::Openai) => Ok(Some("24h")),
            (CacheTtl::OneHour, ProviderKind::Openai) => Err(
                "OpenAI keeps cached prefixes for the account's default retention (cached) or for up \
                 to 24 hours (cached:24h, prompt_cache_retention); it has no 1-hour TTL"
                    .into(),
            ),
            // A Gemini context cache is made with its TTL (see `duration`), not sent per request.
            (_, ProviderKind::Gemini) => Ok(None),
            (CacheTtl::Day, ProviderKind::Anthropic) => Err(
                "Anthropic caches a prefix for 5 minutes (cached) or 1 hour (cached:1h); it has no \
                 24-hour retention"
                    .into(),
            ),
        }
    }
}

/// A service tier a request asks for. What it is billed at is the tier the response reports
/// (pricing's `ServedTier`), which may differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceTier {
    /// OpenAI `default`: standard processing, also what a flex fallback sends.
    Default,
    /// OpenAI `flex`: Batch API rates, synchronous, may be refused with 429.
    Flex,
    /// OpenAI `priority`: higher rates, lower latency.
    Priority,
    /// Anthropic `auto`: priority capacity where the account has it, else standard.
    Auto,
}

impl ServiceTier {
    /// The value as the wire spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceTier::Default => "default",
            ServiceTier::Flex => "flex",
            ServiceTier::Priority => "priority",
            ServiceTier::Auto => "auto",
        }
    }
}

impl ChatRequest {
    /// One user message with optional shared instructions, and nothing else asked for (no
    /// schema, cache, stream, tier or effort): the base the strategies and tests fill in with
    /// `..ChatRequest::new(…)`.
    pub fn new(model: &str, system: Option<&str>, user: &str, max_tokens: u32) -> ChatRequest {
        ChatRequest {
            model: model.to_string(),
            system: system.map(str::to_string),
            messages: vec![Message {
                role: Role::User,
                content: user.to_string(),
            }],
            max_tokens,
            temperature: None,
            json_schema: None,
            cache_prefix: false,
            cache_ttl: CacheTtl::Default,
            stream: false,
            service_tier: None,
            reasoning_effort: None,
            cached_content: None,
        }
    }

    /// The messages as (role, content) pairs in wire order, system first.
    pub fn wire_messages(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::with_capacity(self.messages.len() + 1);
        if let Some(system) = &self.system {
            out.push(("system", system.as_str()));
        }
        out.extend(
            self.messages
                .iter()
                .map(|m| (m.role.as_str(), m.content.as_str())),
        );
        out
    }
}

/// Token usage in one convention (OpenAI's): `input_tokens` is the total input, and the cache
/// counts are parts of it. Anthropic usage is normalised into this on arrival.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// All input tokens, cached and cache-write included.
    pub input_tokens: u64,
    /// Input tokens read from the provider's prompt cache (a part of `input_tokens`).
    pub cached_tokens: u64,
    /// Input tokens written to the cache (a part of `input_tokens`), 1 h writes included.
    pub cache_write_tokens: u64,
    /// Of `cache_write_tokens`, those written with a 1 h TTL.
    pub cache_write_1h_tokens: u64,
    /// Output tokens (reasoning included).
    pub output_tokens: u64,
    /// Of `output_tokens`, the hidden reasoning tokens a reasoning model billed as output.
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Input tokens billed at the plain input rate.
    pub fn uncached_input(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cached_tokens + self.cache_write_tokens)
    }

    /// Adds another usage to this one.
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.cached_tokens += other.cached_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.cache_write_1h_tokens += other.cache_write_1h_tokens;
        self.output_tokens += other.output_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
    }
}

/// A successful chat response in provider-neutral form.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChatResponse {
    /// The response id (`chatcmpl-…` / `msg_…`).
    pub id: String,
    /// The answer text (for OpenAI with n > 1, the first choice; the number of choices is kept).
    pub text: String,
    /// How many choices the server returned.
    pub choices: usize,
    /// Why generation stopped (`stop`, `length`, `end_turn`, …).
    pub finish_reason: String,
    /// Token usage, normalised.
    pub usage: Usage,
    /// The server's request id header, when sent.
    pub request_id: Option<String>,
    /// Time to first token when streaming.
    pub ttft: Option<Duration>,
    /// The service tier the response says served it (OpenAI `service_tier`, Anthropic
    /// `usage.service_tier`), as reported; `None` when the server says nothing.
    #[serde(default)]
    pub served_tier: Option<String>,
    /// The rate limits the server reported with this response.
    #[serde(skip)]
    pub rate_limit: Option<ratelimit::RateLimitInfo>,
}

/// How to reach a provider.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// API family.
    pub kind: ProviderKind,
    /// Base URL (OpenAI: including `/v1`; Anthropic: without).
    pub base_url: String,
    /// The API key (never printed).
    pub key: Secret,
    /// Per-request timeouts.
    pub timeouts: Timeouts,
}

/// Per-request time limits.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// Time until the response headers (first byte) arrive.
    pub first_byte: Duration,
    /// Whole request, body included.
    pub total: Duration,
    /// Longest silence between two chunks of a stream.
    pub stream_idle: Duration,
}

impl Timeouts {
    /// Flex requests queue for capacity: OpenAI advises a 15-minute client timeout, so the
    /// first-byte and total limits are raised to at least that.
    pub fn for_flex(self) -> Timeouts {
        let flex = Duration::from_secs(900);
        Timeouts {
            first_byte: self.first_byte.max(flex),
            total: self.total.max(flex),
            ..self
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(120),
            total: Duration::from_secs(600),
            stream_idle: Duration::from_secs(60),
        }
    }
}

/// The chat completions path under an OpenAI base URL.
const CHAT_COMPLETIONS: &str = "/chat/completions";

/// `path` joined onto `base_url`.
fn join(base_url: &str, path: &str) -> String {
    format!("{}{}", base_url.trim_end_matches('/'), path)
}

/// A client for one provider endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Endpoint,
    http: reqwest::Client,
    schema_fallback: fallback::SchemaFallback,
    api: WireApi,
    /// `{base_url}/chat/completions`, parsed once: every chat request is sent to it, and
    /// parsing a URL per request showed in the harness's profile. `None` when it does not
    /// parse (the request then fails as it always did, parsing the text).
    chat_url: Option<reqwest::Url>,
}

impl Client {
    /// Builds a client (one connection pool, reused for every request) that keeps up to 256
    /// idle connections.
    pub fn new(endpoint: Endpoint) -> Result<Client, CallError> {
        Client::with_pool(endpoint, Client::DEFAULT_IDLE_CONNECTIONS)
    }

    /// How many idle connections [`Client::new`] keeps.
    pub const DEFAULT_IDLE_CONNECTIONS: usize = 256;

    /// Builds a client whose pool keeps up to `idle` connections open between requests: at
    /// least the most requests a run has in flight, so that none of them opens a new
    /// connection once the first round has connected.
    pub fn with_pool(endpoint: Endpoint, idle: usize) -> Result<Client, CallError> {
        let http = reqwest::Client::builder()
            .connect_timeout(endpoint.timeouts.connect)
            .pool_max_idle_per_host(idle.max(1))
            .redirect(origin::same_origin_redirects(&endpoint.base_url))
            .user_agent(concat!("batchbench/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                CallError::new(
                    CallErrorKind::Connect,
                    format!("cannot build HTTP client: {e}"),
                )
            })?;
        let chat_url = reqwest::Url::parse(&join(&endpoint.base_url, CHAT_COMPLETIONS)).ok();
        Ok(Client {
            endpoint,
            http,
            schema_fallback: fallback::SchemaFallback::default(),
            api: WireApi::default(),
            chat_url,
        })
    }

    /// This client speaking another OpenAI API (Anthropic clients ignore it).
    pub fn with_api(mut self, api: WireApi) -> Client {
        self.api = api;
        self
    }

    /// The OpenAI API this client speaks.
    pub fn api(&self) -> WireApi {
        self.api
    }

    /// The client to send `request` with: this one, or for a flex request the same one with
    /// flex's longer time limits ([`Timeouts::for_flex`]).
    pub fn for_request(&self, request: &ChatRequest) -> std::borrow::Cow<'_, Client> {
        if request.service_tier == Some(ServiceTier::Flex) {
            std::borrow::Cow::Owned(self.with_timeouts(self.endpoint.timeouts.for_flex()))
        } else {
            std::borrow::Cow::Borrowed(self)
        }
    }

    /// The same client (and connection pool) with other per-request time limits.
    pub fn with_timeouts(&self, timeouts: Timeouts) -> Client {
        let mut c = self.clone();
        c.endpoint.timeouts = timeouts;
        c
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Whether the server refused `json_schema` response formats (see [`fallback`]).
    pub fn schema_fallback(&self) -> &fallback::SchemaFallback {
        &self.schema_fallback
    }

    /// The underlying HTTP client.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Joins a path onto the base URL.
    pub(crate) fn url(&self, path: &str) -> String {
        join(&self.endpoint.base_url, path)
    }

    /// A request builder for `POST {base_url}/chat/completions`, from the URL parsed once.
    pub(crate) fn post_chat_completions(&self) -> reqwest::RequestBuilder {
        match &self.chat_url {
            Some(url) => self.http.post(url.clone()),
            None => self.http.post(self.url(CHAT_COMPLETIONS)),
        }
    }

    /// A URL the server returned, kept on the configured origin (see [`origin::confine`]); a
    /// rewrite is announced on stderr, naming both origins.
    pub(crate) fn confined_url(&self, candidate: &str) -> String {
        let confined = origin::confine(&self.endpoint.base_url, candidate);
        if let Some(w) = &confined.warning {
            eprintln!("warning: {w}");
        }
        confined.url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base_url: &str) -> Client {
        Client::new(Endpoint {
            kind: ProviderKind::Openai,
            base_url: base_url.into(),
            key: Secret::new("k"),
            timeouts: Timeouts::default(),
        })
        .unwrap()
    }

    #[test]
    fn the_parsed_chat_url_is_the_joined_one() {
        for base in [
            "http://127.0.0.1:8080/v1",
            "http://127.0.0.1:8080/v1/",
            "https://api.openai.com/v1",
            "http://localhost:11434/v1/openai//",
        ] {
            let c = client(base);
            let built = c.post_chat_completions().build().unwrap();
            assert_eq!(built.url().as_str(), c.url("/chat/completions"), "{base}");
            assert_eq!(built.method(), reqwest::Method::POST);
        }
        // A base URL that does not parse fails the request as before, when it is built.
        assert!(client("not a url").post_chat_completions().build().is_err());
    }
}
