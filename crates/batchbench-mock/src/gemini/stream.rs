//! The streamed form of a `GenerateContentResponse`: chunks of a few tokens, each a response
//! object with its `responseId` and `modelVersion`; the last chunk of each candidate carries its
//! `finishReason`, and the very last one the `usageMetadata` (as `alt=sse` events, or as one
//! JSON array without `alt=sse`).

use serde_json::{Value, json};

use super::super::latency::Timing;
use super::super::respond::SseEvent;
use super::super::text;
use super::types::{Generated, candidate_json};

/// Tokens per chunk (Gemini streams text in pieces of several tokens, not token by token).
const TOKENS_PER_CHUNK: usize = 8;

/// The chunk objects with the number of tokens each carries, in order.
fn chunk_values(model: &str, done: &Generated) -> Vec<(Value, usize)> {
    let mut out = Vec::new();
    let last_candidate = done.candidates.len().saturating_sub(1);
    for (i, c) in done.candidates.iter().enumerate() {
        let pieces = text::pieces(model, &c.text);
        let groups: Vec<&[String]> = pieces.chunks(TOKENS_PER_CHUNK).collect();
        let n = groups.len().max(1);
        for g in 0..n {
            let piece = groups.get(g).map(|p| p.concat()).unwrap_or_default();
            let last = g + 1 == n;
            let mut chunk = json!({
                "candidates": [candidate_json(i, &piece, last.then_some(c.finish_reason))],
                "modelVersion": done.model,
                "responseId": done.response_id,
            });
            if last && i == last_candidate {
                chunk["usageMetadata"] = done.usage.json();
            }
            out.push((chunk, groups.get(g).map_or(0, |p| p.len())));
        }
    }
    out
}

/// The chunks as one JSON array (`:streamGenerateContent` without `alt=sse`).
pub fn chunks(model: &str, done: &Generated) -> Value {
    Value::Array(
        chunk_values(model, done)
            .into_iter()
            .map(|(v, _)| v)
            .collect(),
    )
}

/// The SSE events (`data: {…}` without event names), paced by the latency model: the first
/// after the time to first token (thinking included), then one token interval per token sent.
pub fn events(model: &str, done: &Generated, timing: Timing) -> Vec<SseEvent> {
    let thinking = timing.per_token * u32::try_from(done.usage.thoughts).unwrap_or(u32::MAX);
    chunk_values(model, done)
        .into_iter()
        .enumerate()
        .map(|(i, (chunk, tokens))| SseEvent {
            delay: if i == 0 {
                timing.ttft + thinking
            } else {
                timing.per_token * u32::try_from(tokens).unwrap_or(u32::MAX)
            },
            name: None,
            data: chunk.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemini::types::{Candidate, Usage};

    #[test]
    fn chunks_join_to_the_text_and_usage_comes_last() {
        let text = "one two three four five six seven eight nine ten eleven".to_string();
        let done = Generated {
            model: "gemini-2.5-flash".into(),
            candidates: vec![Candidate {
                text: text.clone(),
                finish_reason: "STOP",
            }],
            usage: Usage {
                prompt: 5,
                cached: 0,
                candidates: 11,
                thoughts: 0,
            },
            response_id: "r".into(),
            service_tier: "standard".into(),
        };
        let Value::Array(chunks) = chunks("gemini-2.5-flash", &done) else {
            panic!("not an array");
        };
        // 11 tokens in chunks of 8: two chunks.
        assert_eq!(chunks.len(), 2);
        let joined: String = chunks
            .iter()
            .map(|c| {
                c["candidates"][0]["content"]["parts"][0]["text"]
                    .as_str()
                    .unwrap_or("")
            })
            .collect();
        assert_eq!(joined, text);
        assert!(chunks[0].get("usageMetadata").is_none());
        assert!(chunks[0]["candidates"][0].get("finishReason").is_none());
        assert_eq!(chunks[1]["usageMetadata"]["totalTokenCount"], 16);
        assert_eq!(chunks[1]["candidates"][0]["finishReason"], "STOP");
    }
}
