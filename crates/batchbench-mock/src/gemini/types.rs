//! Gemini wire types: a validated `GenerateContentRequest`, the answer the handlers build from
//! it, and the `GenerateContentResponse` / `usageMetadata` JSON (camelCase, zero counts left out
//! as Google's proto3 JSON leaves them out). Shared by generateContent, the stream, countTokens,
//! cachedContents and batches.

use serde_json::{Map, Value, json};

use batchbench_core::tokens::Bpe as Tokenizer;

/// One `Content`: its role (`user` or `model`) and the text of each text part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// `user` or `model` (an omitted role is `user`).
    pub role: String,
    /// The text of each text part, in order (other parts carry no text).
    pub parts: Vec<String>,
}

/// The thinking asked for in `generationConfig.thinkingConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thinking {
    /// `thinkingBudget`: `Some(0)` off, `Some(-1)` dynamic, else a cap in tokens.
    pub budget: Option<i64>,
    /// `thinkingLevel` (Gemini 3): `minimal`, `low`, `medium`, `high`.
    pub level: Option<String>,
}

/// A validated `generateContent` request.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateParams {
    /// Model id without the `models/` prefix.
    pub model: String,
    /// `systemInstruction`: its text parts joined.
    pub system: Option<String>,
    /// `contents`, in order.
    pub contents: Vec<Content>,
    /// `generationConfig.maxOutputTokens` (thinking counts against it).
    pub max_output_tokens: Option<u64>,
    /// `generationConfig.candidateCount` (1 unless given).
    pub candidate_count: u32,
    /// `generationConfig.stopSequences`.
    pub stop: Vec<String>,
    /// `generationConfig.responseMimeType` is `application/json`.
    pub json: bool,
    /// Compact JSON text of `responseJsonSchema` or `responseSchema`.
    pub schema: Option<String>,
    /// `generationConfig.thinkingConfig`.
    pub thinking: Thinking,
    /// `cachedContent`: `cachedContents/{id}`.
    pub cached_content: Option<String>,
    /// The tier asked for (`serviceTier`): `standard`, `flex` or `priority`.
    pub service_tier: String,
}

impl GenerateParams {
    /// Every text part of the request's contents, in order.
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.contents
            .iter()
            .flat_map(|c| c.parts.iter().map(String::as_str))
    }

    /// The last user content's text (what the answer answers).
    pub fn last_user_text(&self) -> String {
        self.contents
            .iter()
            .rev()
            .find(|c| c.role == "user")
            .map(|c| c.parts.concat())
            .unwrap_or_default()
    }

    /// Prompt tokens by [`batchbench_core::tokens::gemini_tokens`], after a cached content's
    /// system instruction and contents (`cached`), which come first.
    pub fn prompt_tokens(&self, cached: Option<&CachedPrefix>) -> u64 {
        let t = Tokenizer::for_model(&self.model);
        let system = cached.map_or(self.system.as_deref(), |c| c.system.as_deref());
        let cached_parts = cached.into_iter().flat_map(|c| c.parts());
        t.count_gemini(
            system,
            cached_parts.chain(self.parts()),
            self.schema.as_deref(),
        )
    }
}

/// What a `cachedContent` puts before a request: its system instruction and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPrefix {
    /// The cache's system instruction text.
    pub system: Option<String>,
    /// The cache's contents.
    pub contents: Vec<Content>,
    /// Its `usageMetadata.totalTokenCount`.
    pub tokens: u64,
}

impl CachedPrefix {
    /// Every text part of the cached contents, in order.
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.contents
            .iter()
            .flat_map(|c| c.parts.iter().map(String::as_str))
    }
}

/// One answered candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The answer text (may be empty when thinking used the whole output budget).
    pub text: String,
    /// `STOP` or `MAX_TOKENS`.
    pub finish_reason: &'static str,
}

/// The token counts of one answer, as `usageMetadata` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// `promptTokenCount` (cached tokens included).
    pub prompt: u64,
    /// `cachedContentTokenCount` (a part of `prompt`).
    pub cached: u64,
    /// `candidatesTokenCount` (the answer text; thoughts excluded).
    pub candidates: u64,
    /// `thoughtsTokenCount` (billed as output by Google).
    pub thoughts: u64,
}

impl Usage {
    /// `totalTokenCount`: prompt + candidates + thoughts.
    pub fn total(&self) -> u64 {
        self.prompt + self.candidates + self.thoughts
    }

    /// The `usageMetadata` object (zero counts left out, as Google leaves them out).
    pub fn json(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: u64| {
            if v > 0 {
                m.insert(k.to_string(), json!(v));
            }
        };
        put("promptTokenCount", self.prompt);
        put("candidatesTokenCount", self.candidates);
        put("totalTokenCount", self.total());
        put("cachedContentTokenCount", self.cached);
        put("thoughtsTokenCount", self.thoughts);
        if self.prompt > 0 {
            m.insert("promptTokensDetails".into(), modality(self.prompt));
        }
        if self.cached > 0 {
            m.insert("cacheTokensDetails".into(), modality(self.cached));
        }
        Value::Object(m)
    }
}

fn modality(tokens: u64) -> Value {
    json!([{"modality": "TEXT", "tokenCount": tokens}])
}

/// An answered request: its candidates, usage and ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The model id (`modelVersion`).
    pub model: String,
    /// One per `candidateCount`.
    pub candidates: Vec<Candidate>,
    /// Token counts.
    pub usage: Usage,
    /// `responseId`.
    pub response_id: String,
    /// The tier that served it (the `x-gemini-service-tier` header).
    pub service_tier: String,
}

impl Generated {
    /// The `GenerateContentResponse` object.
    pub fn body(&self) -> Value {
        let candidates: Vec<Value> = self
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| candidate_json(i, &c.text, Some(c.finish_reason)))
            .collect();
        json!({
            "candidates": candidates,
            "usageMetadata": self.usage.json(),
            "modelVersion": self.model,
            "responseId": self.response_id,
        })
    }
}

/// One candidate object: its content (no `parts` when the text is empty, as Google sends a
/// candidate whose output budget went to thinking), its finish reason when known, its index.
pub fn candidate_json(index: usize, text: &str, finish: Option<&str>) -> Value {
    let mut content = json!({"role": "model"});
    if !text.is_empty() {
        content["parts"] = json!([{ "text": text }]);
    }
    let mut c = json!({"content": content, "index": index});
    if let Some(f) = finish {
        c["finishReason"] = json!(f);
    }
    c
}

/// The thought tokens the mock bills a thinking model for one answer of `items` prompts, before
/// `maxOutputTokens` caps it: like the OpenAI side's reasoning tokens, a fixed pass per request
/// plus a little per item (the mock's own model, not a measurement), by `thinkingLevel`, capped
/// by a positive `thinkingBudget`; none with a budget of 0 or for a model that does not think.
pub fn thought_tokens(model: &str, thinking: &Thinking, items: usize) -> u64 {
    if !batchbench_core::facts::is_gemini_thinking_model(model) || thinking.budget == Some(0) {
        return 0;
    }
    let (base, per_item) = match thinking.level.as_deref() {
        Some("minimal") => (16, 8),
        Some("low") => (64, 16),
        Some("high") => (512, 64),
        _ => (192, 32),
    };
    let want = base + per_item * items.max(1) as u64;
    match thinking.budget {
        Some(b) if b > 0 => want.min(b as u64),
        _ => want,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_adds_thoughts_to_the_total_and_leaves_zeros_out() {
        let u = Usage {
            prompt: 10,
            cached: 0,
            candidates: 3,
            thoughts: 224,
        };
        assert_eq!(
            u.json(),
            json!({"promptTokenCount": 10, "candidatesTokenCount": 3, "totalTokenCount": 237,
                   "thoughtsTokenCount": 224,
                   "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10}]})
        );
        let cached = Usage {
            prompt: 3_000,
            cached: 2_944,
            candidates: 0,
            thoughts: 0,
        };
        let j = cached.json();
        assert_eq!(j["cachedContentTokenCount"], 2_944);
        assert_eq!(j["totalTokenCount"], 3_000);
        assert!(j.get("candidatesTokenCount").is_none());
        assert_eq!(j["cacheTokensDetails"][0]["tokenCount"], 2_944);
    }

    #[test]
    fn thoughts_by_level_budget_and_model() {
        let t = Thinking::default();
        assert_eq!(thought_tokens("gemini-2.5-flash", &t, 1), 224);
        // Packing 8 prompts: 448 against 8 x 224 = 1,792.
        assert_eq!(thought_tokens("gemini-2.5-flash", &t, 8), 448);
        let off = Thinking {
            budget: Some(0),
            level: None,
        };
        assert_eq!(thought_tokens("gemini-2.5-flash", &off, 1), 0);
        let capped = Thinking {
            budget: Some(100),
            level: None,
        };
        assert_eq!(thought_tokens("gemini-2.5-pro", &capped, 1), 100);
        let low = Thinking {
            budget: None,
            level: Some("low".into()),
        };
        assert_eq!(thought_tokens("gemini-3-pro-preview", &low, 2), 96);
        assert_eq!(thought_tokens("gemini-2.0-flash", &t, 1), 0);
    }

    #[test]
    fn a_candidate_without_text_has_no_parts() {
        assert_eq!(
            candidate_json(0, "", Some("MAX_TOKENS")),
            json!({"content": {"role": "model"}, "index": 0, "finishReason": "MAX_TOKENS"})
        );
        assert_eq!(
            candidate_json(1, "hi", None),
            json!({"content": {"role": "model", "parts": [{"text": "hi"}]}, "index": 1})
        );
    }
}
