//! Anthropic wire types: a validated messages request (content blocks with their cache
//! markers), an answered one, and the `usage` object, shared by the plain handler, the stream
//! and message batches.

use serde_json::{Value, json};

use batchbench_core::tokens::Bpe as Tokenizer;

use super::super::cache::{AnthropicCacheUse, Breakpoint};
use super::super::seed::Fnv;

/// A content block's text and its cache marker.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The block's text (empty for non-text blocks).
    pub text: String,
    /// `cache_control` present: `Some(true)` for a 1 h TTL, `Some(false)` for 5 min.
    pub cache: Option<bool>,
}

/// A validated messages request.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageParams {
    /// Model id.
    pub model: String,
    /// System blocks (a string becomes one block).
    pub system: Vec<Block>,
    /// (role, blocks) in order.
    pub messages: Vec<(String, Vec<Block>)>,
    /// `max_tokens` (required, except for count_tokens).
    pub max_tokens: u64,
    /// Stream as SSE.
    pub stream: bool,
    /// `stop_sequences`.
    pub stop: Vec<String>,
}

fn join(blocks: &[Block]) -> String {
    blocks.iter().map(|b| b.text.as_str()).collect()
}

impl MessageParams {
    /// The system text (blocks joined), if any.
    pub fn system_text(&self) -> Option<String> {
        (!self.system.is_empty()).then(|| join(&self.system))
    }

    /// Total input tokens by the stand-in rule.
    pub fn input_tokens(&self) -> u64 {
        let t = Tokenizer::for_model(&self.model);
        let texts: Vec<String> = self.messages.iter().map(|(_, b)| join(b)).collect();
        t.count_anthropic(
            self.system_text().as_deref(),
            texts.iter().map(String::as_str),
        )
    }

    /// The cache breakpoints, in prompt order.
    pub fn breakpoints(&self) -> Vec<Breakpoint> {
        let t = Tokenizer::for_model(&self.model);
        let mut out = Vec::new();
        let mut h = Fnv::default();
        h.str("anthropic").str(&self.model);
        let mut acc = String::new();
        for b in &self.system {
            acc.push_str(&b.text);
            h.str(&b.text);
            if let Some(ttl_1h) = b.cache {
                out.push(Breakpoint {
                    prefix_tokens: 1 + t.count(&acc),
                    hash: h.finish(),
                    ttl_1h,
                });
            }
        }
        let mut before = 1 + t.count(&acc);
        for (role, blocks) in &self.messages {
            h.str(role);
            let mut text = String::new();
            for b in blocks {
                text.push_str(&b.text);
                h.str(&b.text);
                if let Some(ttl_1h) = b.cache {
                    out.push(Breakpoint {
                        prefix_tokens: before + 3 + t.count(&text),
                        hash: h.finish(),
                        ttl_1h,
                    });
                }
            }
            before += 3 + t.count(&text);
        }
        out
    }

    /// The last user message's text (what the answer answers).
    pub fn last_user_text(&self) -> String {
        self.messages
            .iter()
            .rev()
            .find(|(r, _)| r == "user")
            .map(|(_, b)| join(b))
            .unwrap_or_default()
    }
}

/// An answered messages request.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The `message` object.
    pub body: Value,
    /// Answer text.
    pub text: String,
    /// Stop reason.
    pub stop_reason: &'static str,
    /// The stop sequence hit, if any.
    pub stop_sequence: Option<String>,
    /// Uncached input tokens (`usage.input_tokens`).
    pub input_tokens: u64,
    /// Cache use.
    pub cache: AnthropicCacheUse,
    /// Output tokens.
    pub output_tokens: u64,
    /// Message id.
    pub id: String,
}

/// The `usage` object.
pub fn usage_json(input: u64, cache: &AnthropicCacheUse, output: u64, tier: &str) -> Value {
    json!({
        "input_tokens": input,
        "cache_creation_input_tokens": cache.write_5m + cache.write_1h,
        "cache_read_input_tokens": cache.read,
        "cache_creation": {"ephemeral_5m_input_tokens": cache.write_5m, "ephemeral_1h_input_tokens": cache.write_1h},
        "output_tokens": output,
        "service_tier": tier,
    })
}
