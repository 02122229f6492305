//! Token counting both sides bill by: the model's BPE encoding (counted with [`fast`]) and the
//! chat-message overhead OpenAI adds, as in OpenAI's `num_tokens_from_messages` recipe, plus the
//! stand-in rules for the providers whose tokenizers are not public (Anthropic, Gemini). The
//! client's `Tokenizer` (which can also ask a server) and the mock's [`Bpe`] apply the same
//! rules, so the mock's `usage` and the client's plan agree.

pub mod fast;

/// Tokens added per chat message (role and separators), per OpenAI's published recipe.
pub const TOKENS_PER_MESSAGE: u64 = 3;
/// Tokens added once per request to prime the assistant's reply.
pub const REPLY_PRIMING_TOKENS: u64 = 3;

/// The BPE encodings batchbench knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// gpt-4o, gpt-4.1, gpt-5, o-series (and the estimate used for other families).
    O200kBase,
    /// gpt-4, gpt-3.5-turbo.
    Cl100kBase,
}

impl Encoding {
    /// The encoding a model uses; unknown models get `o200k_base`.
    pub fn for_model(model: &str) -> Encoding {
        let m = model.to_ascii_lowercase();
        let m = m.rsplit('/').next().unwrap_or(&m);
        if (m.starts_with("gpt-4") && !m.starts_with("gpt-4o") && !m.starts_with("gpt-4.1"))
            || m.starts_with("gpt-3.5")
            || m.starts_with("text-embedding-3")
            || m.starts_with("text-embedding-ada")
        {
            Encoding::Cl100kBase
        } else {
            Encoding::O200kBase
        }
    }

    /// The encoding's name as tiktoken spells it.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }
}

/// Prompt tokens of a chat request as OpenAI bills them: 3 per message plus the role's and the
/// content's tokens, plus 3 to prime the reply; `count` counts one text.
pub fn chat_tokens<'a>(
    count: impl Fn(&str) -> u64,
    messages: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> u64 {
    let mut total = REPLY_PRIMING_TOKENS;
    for (role, content) in messages {
        total += TOKENS_PER_MESSAGE + count(role) + count(content);
    }
    total
}

/// Input tokens of an Anthropic messages request, by batchbench's stand-in rule (Anthropic's
/// tokenizer is not public): the system text, then per message 3 tokens plus its content, plus 1.
pub fn anthropic_tokens<'a>(
    count: impl Fn(&str) -> u64,
    system: Option<&str>,
    messages: impl IntoIterator<Item = &'a str>,
) -> u64 {
    let mut total = 1 + system.map_or(0, &count);
    for content in messages {
        total += TOKENS_PER_MESSAGE + count(content);
    }
    total
}

/// Prompt tokens of a Gemini `generateContent` request, by batchbench's stand-in rule. Gemini's
/// tokenizer is not public (its `countTokens` endpoint is the only exact count), so both sides
/// count with the model's BPE stand-in ([`Encoding::for_model`]: `o200k_base` for `gemini-*`)
/// and this rule, and a client-side figure is an estimate until a server reports usage.
///
/// The rule: the system instruction's text, plus every text part of every content in order
/// (each part counted on its own; no per-turn overhead, none being documented), plus the compact
/// JSON text of the response schema when one is asked for (`responseSchema` or
/// `responseJsonSchema`, counted once even when both are sent: the client sends one). Content
/// from a `cachedContent` counts too: its system instruction stands for the request's (a request
/// naming a cache may not carry its own) and its contents come before the request's, so
/// `promptTokenCount` includes the cached tokens, as Google reports it.
pub fn gemini_tokens<'a>(
    count: impl Fn(&str) -> u64,
    system: Option<&str>,
    parts: impl IntoIterator<Item = &'a str>,
    schema: Option<&str>,
) -> u64 {
    let mut total = system.map_or(0, &count) + schema.map_or(0, &count);
    for text in parts {
        total += count(text);
    }
    total
}

/// The local BPE counter of one model: what the mock counts usage with (the client's
/// `Tokenizer` counts the same way unless told to ask a server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bpe {
    encoding: Encoding,
}

impl Bpe {
    /// The counter for `model`'s encoding.
    pub fn for_model(model: &str) -> Bpe {
        Bpe {
            encoding: Encoding::for_model(model),
        }
    }

    /// The encoding in use.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Tokens in a piece of text (no special tokens), as tiktoken counts them.
    pub fn count(&self, text: &str) -> u64 {
        fast::count(self.encoding, text)
    }

    /// Prompt tokens of an OpenAI chat request (see [`chat_tokens`]).
    pub fn count_chat<'a>(&self, messages: impl IntoIterator<Item = (&'a str, &'a str)>) -> u64 {
        chat_tokens(|t| self.count(t), messages)
    }

    /// Input tokens of an Anthropic messages request (see [`anthropic_tokens`]).
    pub fn count_anthropic<'a>(
        &self,
        system: Option<&str>,
        messages: impl IntoIterator<Item = &'a str>,
    ) -> u64 {
        anthropic_tokens(|t| self.count(t), system, messages)
    }

    /// Prompt tokens of a Gemini request (see [`gemini_tokens`]).
    pub fn count_gemini<'a>(
        &self,
        system: Option<&str>,
        parts: impl IntoIterator<Item = &'a str>,
        schema: Option<&str>,
    ) -> u64 {
        gemini_tokens(|t| self.count(t), system, parts, schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts every text as its length in bytes, so the overhead is visible.
    fn bytes(t: &str) -> u64 {
        t.len() as u64
    }

    #[test]
    fn chat_overhead_by_hand() {
        // 3 priming + (3 + "system"=6 + "ab"=2) + (3 + "user"=4 + "xyz"=3) = 3 + 11 + 10 = 24
        assert_eq!(chat_tokens(bytes, [("system", "ab"), ("user", "xyz")]), 24);
        assert_eq!(chat_tokens(bytes, []), 3);
    }

    #[test]
    fn anthropic_overhead_by_hand() {
        // 1 + "sys"=3 + (3 + "hello"=5) = 12; without a system: 1 + (3 + 0) = 4
        assert_eq!(anthropic_tokens(bytes, Some("sys"), ["hello"]), 12);
        assert_eq!(anthropic_tokens(bytes, None, [""]), 4);
    }

    #[test]
    fn gemini_rule_by_hand() {
        // "sys"=3 + "ab"=2 + "cde"=3 + schema "{}"=2 = 10; no per-turn overhead.
        assert_eq!(
            gemini_tokens(bytes, Some("sys"), ["ab", "cde"], Some("{}")),
            10
        );
        assert_eq!(gemini_tokens(bytes, None, ["xyz"], None), 3);
        assert_eq!(gemini_tokens(bytes, None, [], None), 0);
        // Gemini models count with the o200k_base stand-in: "hello world" is 2 tokens.
        let t = Bpe::for_model("gemini-2.5-flash");
        assert_eq!(t.encoding(), Encoding::O200kBase);
        // "Be brief." is 3 tokens ("Be", " brief", "."), "hello world" 2: 5.
        assert_eq!(t.count_gemini(Some("Be brief."), ["hello world"], None), 5);
    }

    #[test]
    fn bpe_counts_known_text() {
        // "hello world" is two tokens in both encodings ("hello", " world").
        assert_eq!(Bpe::for_model("gpt-4o-mini").count("hello world"), 2);
        assert_eq!(Bpe::for_model("gpt-4").encoding(), Encoding::Cl100kBase);
        assert_eq!(Bpe::for_model("gpt-4").count("hello world"), 2);
        // 3 + (3 + "user"=1 + "hello world"=2) = 9
        assert_eq!(
            Bpe::for_model("gpt-4o").count_chat([("user", "hello world")]),
            9
        );
    }
}
