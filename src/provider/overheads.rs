//! What each provider's wire format adds to a request's input tokens besides the prompts, and
//! what its prompt cache reads and writes: the facts `estimate` prices a dataset with, kept
//! beside the request bodies they describe so that a new provider is one more arm here.

use super::ProviderKind;
use crate::tokens::{REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE};

/// OpenAI's automatic prompt caching: the minimum cacheable prompt and the step of cached
/// prefixes (API-NOTES).
pub const OPENAI_CACHE_MIN: u64 = 1_024;
/// See [`OPENAI_CACHE_MIN`].
pub const OPENAI_CACHE_STEP: u64 = 128;

/// Tokens OpenAI reads from its cache for a shared prefix of `prefix` tokens (0 below the minimum).
pub fn openai_cached_tokens(prefix: u64) -> u64 {
    if prefix < OPENAI_CACHE_MIN {
        0
    } else {
        OPENAI_CACHE_MIN + (prefix - OPENAI_CACHE_MIN) / OPENAI_CACHE_STEP * OPENAI_CACHE_STEP
    }
}

/// Input tokens of a request other than its prompts' own, and its cache behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overheads {
    /// A single request, besides the prompt.
    pub single_base: u64,
    /// A packed request, besides the user message and the schema.
    pub packed_base: u64,
    /// A naive multi-message request: fixed tokens.
    pub naive_base: u64,
    /// Per naive user message, besides its content.
    pub naive_per_message: u64,
    /// Tokens read from the cache by every cached request but the first (0: nothing cached).
    pub cache_read: u64,
    /// Tokens the first cached request writes at cache-write prices (Anthropic).
    pub cache_write: u64,
    /// How the provider caches the shared prefix.
    pub cache: CacheStyle,
}

/// How a provider caches the shared prefix of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStyle {
    /// Cached without being asked, from `min` tokens, in steps of `step` (OpenAI).
    Automatic {
        /// Shortest cacheable prefix.
        min: u64,
        /// Granularity of the cached length.
        step: u64,
    },
    /// Cached where the request marks it (`cache_control`), from `min` tokens for this model
    /// (Anthropic).
    Explicit {
        /// Shortest cacheable prefix.
        min: u64,
    },
    /// Cached in an object made before the requests (Gemini `cachedContents`), from `min`
    /// tokens for this model: made once at the input rate, read by every request, and billed
    /// per token-hour while it is kept.
    Stored {
        /// Shortest cacheable prefix.
        min: u64,
    },
}

impl Overheads {
    /// The overheads of `kind`'s requests to `model` with `instructions` as the system prompt,
    /// counting text with `count`.
    pub fn new(
        kind: ProviderKind,
        model: &str,
        instructions: &str,
        count: impl Fn(&str) -> u64,
    ) -> Overheads {
        let has_system = !instructions.is_empty();
        let instr = if has_system { count(instructions) } else { 0 };
        match kind {
            ProviderKind::Openai => {
                let system = if has_system {
                    TOKENS_PER_MESSAGE + count("system") + instr
                } else {
                    0
                };
                let user = TOKENS_PER_MESSAGE + count("user");
                let base = REPLY_PRIMING_TOKENS + system + user;
                Overheads {
                    single_base: base,
                    packed_base: base,
                    naive_base: REPLY_PRIMING_TOKENS + system,
                    naive_per_message: user,
                    cache_read: openai_cached_tokens(system + user),
                    cache_write: 0,
                    cache: CacheStyle::Automatic {
                        min: OPENAI_CACHE_MIN,
                        step: OPENAI_CACHE_STEP,
                    },
                }
            }
            ProviderKind::Anthropic => {
                let prefix = 1 + instr;
                let min = super::anthropic::min_cacheable_prefix(model);
                let cacheable = has_system && prefix >= min;
                Overheads {
                    single_base: 1 + instr + TOKENS_PER_MESSAGE,
                    packed_base: 1 + instr + TOKENS_PER_MESSAGE,
                    naive_base: 1 + instr,
                    naive_per_message: TOKENS_PER_MESSAGE,
                    cache_read: if cacheable { prefix } else { 0 },
                    cache_write: if cacheable { prefix } else { 0 },
                    cache: CacheStyle::Explicit { min },
                }
            }
            ProviderKind::Gemini => {
                // batchbench's stand-in rule (tokens::count_gemini_request): the system
                // instruction's text and every part's, no per-turn framing.
                let min = super::gemini::caches::min_cache_tokens(model);
                let cacheable = has_system && instr >= min;
                Overheads {
                    single_base: instr,
                    packed_base: instr,
                    naive_base: instr,
                    naive_per_message: 0,
                    cache_read: if cacheable { instr } else { 0 },
                    cache_write: if cacheable { instr } else { 0 },
                    cache: CacheStyle::Stored { min },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts one token per whitespace-separated word: enough to check the arithmetic.
    fn words(s: &str) -> u64 {
        s.split_whitespace().count() as u64
    }

    #[test]
    fn openai_framing_by_hand() {
        // system: 3 per message + 1 ("system") + 2 words; user: 3 + 1; reply priming 3.
        let o = Overheads::new(ProviderKind::Openai, "gpt-4o-mini", "be brief", words);
        assert_eq!(o.single_base, 3 + (3 + 1 + 2) + (3 + 1));
        assert_eq!(o.naive_base, 3 + 6);
        assert_eq!(o.naive_per_message, 4);
        assert_eq!(
            (o.cache_read, o.cache_write),
            (0, 0),
            "far below 1,024 tokens"
        );
        assert_eq!(openai_cached_tokens(1_023), 0);
        assert_eq!(openai_cached_tokens(1_024), 1_024);
        assert_eq!(openai_cached_tokens(1_300), 1_024 + 256);
    }

    #[test]
    fn anthropic_caches_a_long_enough_system_prompt() {
        let long = "w ".repeat(5_000);
        let o = Overheads::new(ProviderKind::Anthropic, "claude-sonnet-4-5", &long, words);
        assert_eq!(o.single_base, 1 + 5_000 + 3);
        assert_eq!((o.cache_read, o.cache_write), (5_001, 5_001));
        let short = Overheads::new(ProviderKind::Anthropic, "claude-sonnet-4-5", "hi", words);
        assert_eq!((short.cache_read, short.cache_write), (0, 0));
    }

    #[test]
    fn gemini_has_no_framing_and_caches_from_its_minimum() {
        let long = "w ".repeat(4_700);
        let o = Overheads::new(ProviderKind::Gemini, "gemini-2.5-flash", &long, words);
        assert_eq!(
            (o.single_base, o.packed_base, o.naive_per_message),
            (4_700, 4_700, 0)
        );
        assert_eq!((o.cache_read, o.cache_write), (4_700, 4_700));
        assert_eq!(o.cache, CacheStyle::Stored { min: 2_048 });
        let short = Overheads::new(ProviderKind::Gemini, "gemini-2.5-flash", "hi", words);
        assert_eq!((short.single_base, short.cache_read), (1, 0));
    }
}
