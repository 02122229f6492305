//! Token-level text helpers on the same BPE encodings as [`batchbench_core::tokens`]: cutting an answer to
//! `max_tokens`, splitting it into per-token stream deltas, and the token sequence of a chat
//! prompt for prefix caching.

use tiktoken_rs::CoreBPE;

use batchbench_core::tokens::{Bpe as Tokenizer, Encoding};

fn bpe(model: &str) -> &'static CoreBPE {
    match Tokenizer::for_model(model).encoding() {
        Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
        Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
    }
}

/// Token ids of `text` (no special tokens).
pub fn encode(model: &str, text: &str) -> Vec<u32> {
    bpe(model).encode_ordinary(text)
}

/// `text` cut to at most `max` tokens; `true` when something was cut. A text that fits (the
/// common case) is only counted, not encoded, and handed back without a copy.
pub fn truncate(model: &str, text: String, max: u64) -> (String, bool) {
    if Tokenizer::for_model(model).count(&text) <= max {
        return (text, false);
    }
    let tokens = encode(model, &text);
    if (tokens.len() as u64) <= max {
        return (text, false);
    }
    let bytes = bpe(model)
        .decode_bytes(&tokens[..max as usize])
        .unwrap_or_default();
    (valid_prefix(&bytes), true)
}

/// The longest valid UTF-8 prefix of `bytes`.
fn valid_prefix(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(e) => String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned(),
    }
}

/// `text` split into one piece per token (pieces that would split a character are merged with
/// the next), for stream deltas. The pieces concatenate to `text`.
pub fn pieces(model: &str, text: &str) -> Vec<String> {
    let b = bpe(model);
    let mut out = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    for t in b.encode_ordinary(text) {
        if let Ok(bytes) = b.decode_bytes(&[t]) {
            pending.extend_from_slice(&bytes);
        }
        if let Ok(s) = std::str::from_utf8(&pending) {
            out.push(s.to_string());
            pending.clear();
        }
    }
    if !pending.is_empty() {
        out.push(String::from_utf8_lossy(&pending).into_owned());
    }
    if out.concat() != text {
        // Never expected; fall back to one piece so the stream still carries the exact text.
        return vec![text.to_string()];
    }
    out
}

/// Pseudo-token ids for the per-message and reply-priming overhead (outside every vocabulary).
const OVERHEAD_TOKEN: u32 = u32::MAX - 1;
const PRIMING_TOKEN: u32 = u32::MAX - 2;

/// The token sequence of an OpenAI chat prompt for prefix caching: per message 3 overhead
/// tokens, the role and the content; then the schema; then 3 reply-priming tokens. Its length is
/// exactly `count_chat(messages) + count_schema(schema)`.
pub fn chat_prompt_tokens(
    model: &str,
    messages: &[(String, String)],
    schema: Option<&str>,
) -> Vec<u32> {
    let mut out = Vec::new();
    for (role, content) in messages {
        out.extend([OVERHEAD_TOKEN; batchbench_core::tokens::TOKENS_PER_MESSAGE as usize]);
        out.extend(encode(model, role));
        out.extend(encode(model, content));
    }
    if let Some(s) = schema {
        out.extend(encode(model, s));
    }
    out.extend([PRIMING_TOKEN; batchbench_core::tokens::REPLY_PRIMING_TOKENS as usize]);
    out
}

/// `text` cut in place at the first stop sequence, and the sequence when one was found (the
/// answer is only copied when a sequence is hit).
pub fn apply_stop(mut text: String, stop: &[String]) -> (String, Option<String>) {
    let hit = stop
        .iter()
        .filter_map(|s| text.find(s.as_str()).map(|i| (i, s)))
        .min_by_key(|(i, _)| *i);
    match hit {
        Some((i, s)) => {
            text.truncate(i);
            (text, Some(s.clone()))
        }
        None => (text, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_and_pieces() {
        let (t, cut) = truncate("gpt-4o", "hello world, how are you".into(), 2);
        assert_eq!((t.as_str(), cut), ("hello world", true));
        let (t, cut) = truncate("gpt-4o", "hi".into(), 5);
        assert_eq!((t.as_str(), cut), ("hi", false));
        let p = pieces("gpt-4o", "héllo wörld ✓ 42");
        assert_eq!(p.concat(), "héllo wörld ✓ 42");
        assert!(p.len() > 3);
    }

    #[test]
    fn prompt_tokens_match_count_chat() {
        let msgs = vec![
            ("system".to_string(), "Be brief.".to_string()),
            ("user".to_string(), "What is 2+2?".to_string()),
        ];
        let t = Tokenizer::for_model("gpt-4o-mini");
        let pairs: Vec<(&str, &str)> = msgs.iter().map(|(r, c)| (r.as_str(), c.as_str())).collect();
        let schema = "{\"type\":\"object\"}";
        assert_eq!(
            chat_prompt_tokens("gpt-4o-mini", &msgs, Some(schema)).len() as u64,
            t.count_chat(pairs) + t.count(schema)
        );
    }

    #[test]
    fn stop_sequences() {
        assert_eq!(
            apply_stop("abc END def".into(), &["END".into()]),
            ("abc ".to_string(), Some("END".to_string()))
        );
        assert_eq!(apply_stop("abc".into(), &["x".into()]).1, None);
    }
}
