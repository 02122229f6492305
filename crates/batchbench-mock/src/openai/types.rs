//! OpenAI wire types: a validated chat request, an answered one, the `chat.completion` object
//! and its `usage` as serde structs (the hot path serialises them straight to bytes instead of
//! building a JSON tree first), and the list-page and optional-field rules of the OpenAPI spec.
//!
//! Field names and nesting follow the `CreateChatCompletionResponse` and `CompletionUsage`
//! schemas of openai/openai-openapi. The structs declare their fields in alphabetical order: that
//! is the order the mock wrote them in when it built `serde_json::Value` maps (which sort their
//! keys), so the bytes on the wire are unchanged.

use serde::Serialize;
use serde_json::{Value, json};

use super::super::seed::Fnv;

/// Leaves out the named keys of an object whose value is null: the OpenAPI spec types them
/// as plain strings or integers that are optional but not nullable, so an unset one is absent
/// (the SDKs read an absent field as unset).
pub fn omit_nulls(mut value: Value, keys: &[&str]) -> Value {
    if let Some(map) = value.as_object_mut() {
        for key in keys {
            if map.get(*key).is_some_and(Value::is_null) {
                map.remove(*key);
            }
        }
    }
    value
}

/// An OpenAI list page: `first_id` / `last_id` are the page's ends, left out when it is empty.
pub fn list_page(page: Vec<Value>, has_more: bool) -> Value {
    let first = page.first().and_then(|v| v.get("id")).cloned();
    let last = page.last().and_then(|v| v.get("id")).cloned();
    omit_nulls(
        json!({
            "object": "list",
            "data": page,
            "first_id": first,
            "last_id": last,
            "has_more": has_more,
        }),
        &["first_id", "last_id"],
    )
}

/// A validated chat completion request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatParams {
    /// Model id.
    pub model: String,
    /// (role, text) in order.
    pub messages: Vec<(String, String)>,
    /// Choices to sample.
    pub n: u32,
    /// `max_completion_tokens` (or the deprecated `max_tokens`).
    pub max_tokens: Option<u64>,
    /// Stream as SSE.
    pub stream: bool,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// Compact JSON text of `response_format.json_schema.schema`.
    pub schema: Option<String>,
    /// `prompt_cache_key`.
    pub cache_key: Option<String>,
    /// `prompt_cache_retention: "24h"` (extended retention) was asked.
    pub retain_24h: bool,
    /// Stop sequences.
    pub stop: Vec<String>,
    /// `service_tier` as asked (`auto`, `default`, `flex`, `scale`, `priority`).
    pub service_tier: Option<String>,
    /// `reasoning_effort` as asked.
    pub reasoning_effort: Option<String>,
}

impl ChatParams {
    /// The tier the response reports: `flex` and `priority` as asked, else `default`.
    pub fn served_tier(&self) -> &'static str {
        match self.service_tier.as_deref() {
            Some("flex") => "flex",
            Some("priority") => "priority",
            _ => "default",
        }
    }
}

/// One choice's text and why it stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The text.
    pub text: String,
    /// `stop` or `length`.
    pub finish_reason: &'static str,
    /// Its tokens.
    pub tokens: u64,
}

/// An answered chat request.
#[derive(Debug, Clone)]
pub struct Completed {
    /// The model id as requested (echoed in `model`).
    pub model: String,
    /// The choices.
    pub choices: Vec<Choice>,
    /// `usage.prompt_tokens`.
    pub prompt_tokens: u64,
    /// `usage.prompt_tokens_details.cached_tokens`.
    pub cached_tokens: u64,
    /// `usage.prompt_tokens_details.cache_write_tokens`, for the models that report it.
    pub cache_write_tokens: Option<u64>,
    /// `usage.completion_tokens` (reasoning included).
    pub completion_tokens: u64,
    /// `usage.completion_tokens_details.reasoning_tokens`.
    pub reasoning_tokens: u64,
    /// `service_tier`: the tier that served it.
    pub service_tier: &'static str,
    /// Id and creation time (reused by the stream).
    pub id: String,
    /// Unix seconds.
    pub created: i64,
}

impl Completed {
    /// The `chat.completion` object, borrowing the answer's texts.
    pub fn body(&self) -> ChatCompletion<'_> {
        ChatCompletion {
            choices: self
                .choices
                .iter()
                .enumerate()
                .map(|(index, c)| ChoiceObject {
                    finish_reason: c.finish_reason,
                    index,
                    logprobs: None,
                    message: Message {
                        annotations: [],
                        content: &c.text,
                        refusal: None,
                        role: "assistant",
                    },
                })
                .collect(),
            created: self.created,
            id: &self.id,
            model: &self.model,
            object: "chat.completion",
            service_tier: self.service_tier,
            system_fingerprint: fingerprint(&self.model),
            usage: Usage::new(
                self.prompt_tokens,
                self.cached_tokens,
                self.completion_tokens,
            )
            .with_reasoning(self.reasoning_tokens)
            .with_cache_writes(self.cache_write_tokens),
        }
    }
}

/// The `chat.completion` object (`CreateChatCompletionResponse`).
#[derive(Debug, Clone, Serialize)]
pub struct ChatCompletion<'a> {
    /// One per sample (`n`).
    pub choices: Vec<ChoiceObject<'a>>,
    /// Unix seconds.
    pub created: i64,
    /// `chatcmpl-…`.
    pub id: &'a str,
    /// The model as requested.
    pub model: &'a str,
    /// Always `chat.completion`.
    pub object: &'static str,
    /// The tier that served it (`default`, `flex`, `priority`).
    pub service_tier: &'static str,
    /// Stable per model ([`fingerprint`]).
    pub system_fingerprint: String,
    /// Token usage.
    pub usage: Usage,
}

/// One entry of `choices`.
#[derive(Debug, Clone, Serialize)]
pub struct ChoiceObject<'a> {
    /// `stop` or `length`.
    pub finish_reason: &'static str,
    /// Position in `choices`.
    pub index: usize,
    /// Always null: the mock returns no log probabilities.
    pub logprobs: Option<()>,
    /// The assistant message.
    pub message: Message<'a>,
}

/// The assistant message of a choice.
#[derive(Debug, Clone, Serialize)]
pub struct Message<'a> {
    /// Always empty: no web search annotations.
    pub annotations: [(); 0],
    /// The answer text.
    pub content: &'a str,
    /// Always null: the mock never refuses.
    pub refusal: Option<&'a str>,
    /// Always `assistant`.
    pub role: &'static str,
}

/// The `usage` object (`CompletionUsage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Output tokens.
    pub completion_tokens: u64,
    /// Breakdown of the output tokens (all plain text here).
    pub completion_tokens_details: CompletionTokensDetails,
    /// Input tokens, cached ones included.
    pub prompt_tokens: u64,
    /// Breakdown of the input tokens.
    pub prompt_tokens_details: PromptTokensDetails,
    /// Input plus output.
    pub total_tokens: u64,
}

/// `usage.completion_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct CompletionTokensDetails {
    /// Predicted-output tokens that appeared in the answer (none: no predictions).
    pub accepted_prediction_tokens: u64,
    /// Audio tokens (none).
    pub audio_tokens: u64,
    /// Reasoning tokens (reasoning-model ids only; a part of `completion_tokens`).
    pub reasoning_tokens: u64,
    /// Predicted-output tokens that did not appear (none).
    pub rejected_prediction_tokens: u64,
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PromptTokensDetails {
    /// Audio tokens (none).
    pub audio_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cached_tokens: u64,
    /// Input tokens written to the prompt cache (a part of `prompt_tokens`, beside
    /// `cached_tokens`); GPT-5.6 and later only, absent for other models.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
}

impl Usage {
    /// Usage of `prompt` input tokens (`cached` of them from the cache) and `completion` output
    /// tokens.
    pub fn new(prompt: u64, cached: u64, completion: u64) -> Usage {
        Usage {
            completion_tokens: completion,
            completion_tokens_details: CompletionTokensDetails::default(),
            prompt_tokens: prompt,
            prompt_tokens_details: PromptTokensDetails {
                audio_tokens: 0,
                cached_tokens: cached,
                cache_write_tokens: None,
            },
            total_tokens: prompt + completion,
        }
    }

    /// This usage reporting `writes` of its prompt tokens as cache writes (models that bill
    /// them), or no such field.
    pub fn with_cache_writes(mut self, writes: Option<u64>) -> Usage {
        self.prompt_tokens_details.cache_write_tokens = writes.map(|w| {
            w.min(
                self.prompt_tokens
                    .saturating_sub(self.prompt_tokens_details.cached_tokens),
            )
        });
        self
    }

    /// This usage with `reasoning` of its completion tokens reported as reasoning.
    pub fn with_reasoning(mut self, reasoning: u64) -> Usage {
        self.completion_tokens_details.reasoning_tokens = reasoning.min(self.completion_tokens);
        self
    }
}

/// A stable fingerprint per model.
pub fn fingerprint(model: &str) -> String {
    format!(
        "fp_{:010x}",
        Fnv::default().str(model).finish() & 0xff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered() -> Completed {
        Completed {
            model: "gpt-4o-mini".into(),
            choices: vec![Choice {
                text: "yes".into(),
                finish_reason: "stop",
                tokens: 1,
            }],
            prompt_tokens: 9,
            cached_tokens: 0,
            cache_write_tokens: None,
            completion_tokens: 1,
            reasoning_tokens: 0,
            service_tier: "default",
            id: "chatcmpl-x".into(),
            created: 1_700_000_000,
        }
    }

    #[test]
    fn completion_bytes_are_those_of_the_sorted_json_tree() {
        // The object as the mock built it before the typed structs, key for key.
        let tree = json!({
            "id": "chatcmpl-x",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-4o-mini",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "yes", "refusal": null, "annotations": []},
                "logprobs": null,
                "finish_reason": "stop",
            }],
            "usage": {
                "prompt_tokens": 9,
                "completion_tokens": 1,
                "total_tokens": 10,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": fingerprint("gpt-4o-mini"),
        });
        let typed = serde_json::to_string(&answered().body()).unwrap();
        assert_eq!(typed, tree.to_string());
    }

    #[test]
    fn usage_totals_input_and_output() {
        let u = Usage::new(120, 64, 7);
        assert_eq!(u.total_tokens, 127);
        assert_eq!(u.prompt_tokens_details.cached_tokens, 64);
        assert_eq!(
            serde_json::to_value(u).unwrap()["completion_tokens_details"]["reasoning_tokens"],
            0
        );
    }
}
