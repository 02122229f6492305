//! Client-side token counting: the model's BPE encoding (built once, reused) and the chat-message
//! overhead OpenAI adds, as in OpenAI's `num_tokens_from_messages` recipe.
//!
//! The server's `usage` is the truth; batchbench keeps both and reports the difference. For
//! Anthropic models the tokenizer is not public: counts made here are estimates and are labelled so.

pub(crate) use batchbench_core::tokens::fast;
pub mod server;

pub use batchbench_core::tokens::{Encoding, REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE};

/// Whether a count is what the provider will bill, or only an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exactness {
    /// The provider's own tokenizer (OpenAI models).
    Exact,
    /// A stand-in tokenizer (Anthropic models, unknown families).
    Estimate,
}

/// A token counter for one model. Cheap to copy; the BPE tables are built once per process.
#[derive(Debug, Clone, Copy)]
pub struct Tokenizer {
    encoding: Encoding,
    exactness: Exactness,
    /// `--tokenizer server`: the server's tokenize endpoint, asked first.
    server: Option<&'static server::ServerTokenizer>,
}

impl Tokenizer {
    /// The tokenizer for `model`.
    pub fn for_model(model: &str) -> Tokenizer {
        let m = model.to_ascii_lowercase();
        let estimate = ["claude", "gemini", "gemma"]
            .iter()
            .any(|f| m.starts_with(f) || m.contains(&format!("/{f}")));
        let exactness = if estimate {
            Exactness::Estimate
        } else {
            Exactness::Exact
        };
        Tokenizer {
            encoding: Encoding::for_model(model),
            exactness,
            server: None,
        }
    }

    /// The same encoding, labelled an estimate: for a server whose model is not an OpenAI one
    /// (its own tokenizer counts differently).
    pub fn as_estimate(self) -> Tokenizer {
        Tokenizer {
            exactness: Exactness::Estimate,
            ..self
        }
    }

    /// Counts through the server's tokenize endpoint, falling back to the local encoding.
    pub fn with_server(self, server: &'static server::ServerTokenizer) -> Tokenizer {
        Tokenizer {
            server: Some(server),
            ..self
        }
    }

    /// How counts are made, for run.json: the server's endpoint, or the encoding and whether it
    /// is exact for this model.
    pub fn label(&self) -> String {
        match (self.server, self.exactness) {
            (Some(s), _) => format!(
                "server ({} {}; {} where it fails)",
                match s.dialect() {
                    server::Dialect::LlamaCpp => "llama.cpp",
                    server::Dialect::Vllm => "vLLM",
                    server::Dialect::Gemini => "Gemini countTokens",
                },
                s.url(),
                self.encoding.name()
            ),
            (None, Exactness::Exact) => format!("{} (exact)", self.encoding.name()),
            (None, Exactness::Estimate) => format!(
                "{} (estimate: the model's own tokenizer is not used; the server's usage is what is priced)",
                self.encoding.name()
            ),
        }
    }

    /// The encoding in use.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Whether counts are exact for this model or estimates.
    pub fn exactness(&self) -> Exactness {
        self.exactness
    }

    /// Tokens in a piece of text (no special tokens): the server's count under
    /// `--tokenizer server`, else exactly as tiktoken (and tiktoken-rs, the
    /// reference) counts them. Counted with `bpe-openai`, whose counts equal tiktoken-rs's on
    /// every shipped dataset and on adversarial text (`tests/estimate_bpe.rs`, the unit test of
    /// `tokens::fast`, and `examples/token_speed.rs` on 200,000 prompts) at 2–4× its speed;
    /// long texts seen before on this thread (a dataset's shared instructions) are answered
    /// from a memo.
    pub fn count(&self, text: &str) -> u64 {
        if let Some(n) = self.server.and_then(|s| s.count(text)) {
            return n;
        }
        fast::count(self.encoding, text)
    }

    /// Prompt tokens of a chat request as OpenAI bills them: 3 per message plus the role's and the
    /// content's tokens, plus 3 to prime the reply.
    pub fn count_chat<'a>(&self, messages: impl IntoIterator<Item = (&'a str, &'a str)>) -> u64 {
        batchbench_core::tokens::chat_tokens(|t| self.count(t), messages)
    }

    /// Tokens a JSON schema adds to a request that asks for structured output: its compact JSON
    /// text. (OpenAI bills the schema as input; the exact rendering is undocumented, so the mock
    /// and the client both use this rule.)
    pub fn count_schema(&self, schema: &serde_json::Value) -> u64 {
        self.count(&schema.to_string())
    }

    /// Client-side estimate of a request's input tokens under `kind`'s counting rules.
    pub fn count_request(
        &self,
        kind: crate::provider::ProviderKind,
        request: &crate::provider::ChatRequest,
    ) -> u64 {
        match kind {
            crate::provider::ProviderKind::Openai => self.count_openai_request(request),
            crate::provider::ProviderKind::Anthropic => self.count_anthropic(
                request.system.as_deref(),
                request.messages.iter().map(|m| m.content.as_str()),
            ),
            crate::provider::ProviderKind::Gemini => self.count_gemini_request(request),
        }
    }

    /// Prompt tokens of an OpenAI chat request: the messages plus the schema, if any.
    pub fn count_openai_request(&self, request: &crate::provider::ChatRequest) -> u64 {
        self.count_chat(request.wire_messages())
            + request
                .json_schema
                .as_ref()
                .map_or(0, |s| self.count_schema(&s.schema))
    }

    /// Input tokens of a Gemini `generateContent` request, by batchbench's stand-in rule
    /// (Gemini's tokenizer is not public; the mock uses the same rule): the system
    /// instruction, every message's text, and the compact JSON of the `responseSchema` sent.
    /// A request naming a cache counts its cached system instruction too, as Google's
    /// `promptTokenCount` does.
    pub fn count_gemini_request(&self, request: &crate::provider::ChatRequest) -> u64 {
        let schema = request
            .json_schema
            .as_ref()
            .map(|s| crate::provider::gemini::wire::response_schema(&s.schema).to_string());
        batchbench_core::tokens::gemini_tokens(
            |t| self.count(t),
            request.system.as_deref(),
            request.messages.iter().map(|m| m.content.as_str()),
            schema.as_deref(),
        )
    }

    /// Input tokens of an Anthropic messages request, by batchbench's stand-in rule (Anthropic's
    /// tokenizer is not public; the mock uses the same rule): the system text, then per message
    /// 3 tokens plus its content, plus 1.
    pub fn count_anthropic<'a>(
        &self,
        system: Option<&str>,
        messages: impl IntoIterator<Item = &'a str>,
    ) -> u64 {
        batchbench_core::tokens::anthropic_tokens(|t| self.count(t), system, messages)
    }
}

/// Which BPE implementation counts tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CounterKind {
    /// `bpe-openai` (the default: faster, same counts).
    #[default]
    BpeOpenai,
    /// tiktoken-rs's `CoreBPE::count_ordinary` (the reference implementation).
    Tiktoken,
}

impl CounterKind {
    /// The name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CounterKind::BpeOpenai => "bpe-openai",
            CounterKind::Tiktoken => "tiktoken-rs",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_per_model() {
        assert_eq!(Encoding::for_model("gpt-4o-mini"), Encoding::O200kBase);
        assert_eq!(Encoding::for_model("gpt-4.1"), Encoding::O200kBase);
        assert_eq!(Encoding::for_model("gpt-5"), Encoding::O200kBase);
        assert_eq!(Encoding::for_model("o4-mini"), Encoding::O200kBase);
        assert_eq!(Encoding::for_model("gpt-4"), Encoding::Cl100kBase);
        assert_eq!(Encoding::for_model("gpt-4-turbo"), Encoding::Cl100kBase);
        assert_eq!(Encoding::for_model("gpt-3.5-turbo"), Encoding::Cl100kBase);
        assert_eq!(
            Tokenizer::for_model("claude-haiku-4-5").exactness(),
            Exactness::Estimate
        );
        assert_eq!(Tokenizer::for_model("gpt-4o").exactness(), Exactness::Exact);
    }

    #[test]
    fn hand_counted_texts() {
        let t = Tokenizer::for_model("gpt-4o");
        assert_eq!(t.count("hello world"), 2);
        assert_eq!(t.count(""), 0);
        let c = Tokenizer::for_model("gpt-4");
        assert_eq!(c.count("hello world"), 2);
        // "user" and "system" are one token each in both encodings.
        assert_eq!(t.count("user"), 1);
        assert_eq!(t.count("system"), 1);
    }

    #[test]
    fn chat_overhead_matches_recipe() {
        let t = Tokenizer::for_model("gpt-4o-mini");
        // one user message "hello world": 3 + 1 (role) + 2 (content) + 3 (priming) = 9
        assert_eq!(t.count_chat([("user", "hello world")]), 9);
        // system + user: 3 + (3+1+2) + (3+1+2) = 15
        assert_eq!(
            t.count_chat([("system", "hello world"), ("user", "hello world")]),
            15
        );
        assert_eq!(t.count_chat([]), 3);
    }
}
