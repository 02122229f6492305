//! The `generateContent` request and response as the wire carries them (field names from the
//! REST reference and python-genai's `types.py` / `models.py` converters): typed structs, the
//! body of one request, and the reader of one response into the provider-neutral shapes.
//!
//! Usage: `promptTokenCount` is the whole prompt, the cached content included
//! (`cachedContentTokenCount` is a part of it, as OpenAI counts cached tokens);
//! `toolUsePromptTokenCount` is input too; `thoughtsTokenCount` is billed as output beside
//! `candidatesTokenCount` (Google's price table: "output price (including thinking tokens)").

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::provider::{ChatRequest, ChatResponse, Role, ServiceTier, Usage};

/// One `generateContent` request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest {
    /// `models/{model}`: only inside Batch Mode's inline requests (the URL names it otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The conversation.
    pub contents: Vec<Content>,
    /// The shared instructions; never together with `cachedContent`, which holds them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<Content>,
    /// Output limits, sampling, the JSON answer format and thinking.
    pub generation_config: GenerationConfig,
    /// `cachedContents/{id}`: the explicit cache holding the shared prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_content: Option<String>,
    /// `flex`, `standard` or `priority` (python-genai `ServiceTier`, a top-level field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<&'static str>,
}

/// A turn: a role (`user` or `model`) and its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    /// `user` or `model`; absent on a system instruction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The parts (text only, here).
    #[serde(default)]
    pub parts: Vec<Part>,
}

/// One part of a content: text, possibly marked as the model's thought summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// True on a thought summary, which is not a part of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
}

impl Content {
    /// A content of one text part.
    pub fn text(role: Option<&str>, text: &str) -> Content {
        Content {
            role: role.map(str::to_string),
            parts: vec![Part {
                text: Some(text.to_string()),
                thought: None,
            }],
        }
    }
}

/// `generationConfig`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    /// Output tokens, thinking included on thinking models.
    pub max_output_tokens: u32,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// `application/json` for a packed answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mime_type: Option<&'static str>,
    /// The answer's schema, in the API's Schema form ([`response_schema`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_schema: Option<Value>,
    /// `--reasoning-effort`, as [`thinking_config`] reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<ThinkingConfig>,
}

/// `thinkingConfig`: a budget in tokens (Gemini 2.5: 0 turns thinking off, -1 lets the model
/// decide) or a level (Gemini 3: `MINIMAL`, `LOW`, `MEDIUM`, `HIGH`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingConfig {
    /// Thinking tokens allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<i64>,
    /// How much to think.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<String>,
}

/// The thinking levels Gemini accepts (python-genai `ThinkingLevel`).
pub const THINKING_LEVELS: &[&str] = &["minimal", "low", "medium", "high"];

/// `--reasoning-effort` as Gemini takes it: a whole number is a thinking budget, `none` a budget
/// of 0 (no thinking), a level word (`minimal`, `low`, `medium`, `high`) a thinking level.
/// Other words are refused before anything is sent (see [`check_effort`]).
pub fn thinking_config(effort: &str) -> ThinkingConfig {
    let effort = effort.trim();
    let budget = if effort.eq_ignore_ascii_case("none") {
        Some(0)
    } else {
        effort.parse::<i64>().ok()
    };
    match budget {
        Some(budget) => ThinkingConfig {
            thinking_budget: Some(budget),
            thinking_level: None,
        },
        None => ThinkingConfig {
            thinking_budget: None,
            thinking_level: Some(effort.to_ascii_uppercase()),
        },
    }
}

/// Why Gemini cannot take `effort`, if it cannot: OpenAI's `xhigh` or `max`, or a typo.
pub fn check_effort(effort: &str) -> Result<(), String> {
    let e = effort.trim();
    if e.parse::<i64>().is_ok()
        || e.eq_ignore_ascii_case("none")
        || THINKING_LEVELS.iter().any(|l| e.eq_ignore_ascii_case(l))
    {
        return Ok(());
    }
    Err(format!(
        "--reasoning-effort {e:?}: Gemini takes a thinking budget in tokens (a whole number, -1 for \
         dynamic, 0 or none for no thinking) or a thinking level ({})",
        THINKING_LEVELS.join(", ")
    ))
}

/// The order the model should write an object's properties in: the schema's `required` list
/// (the packed items' order), then any other property. A `serde_json::Map` sorts its keys, so
/// its own order would put `q10` before `q2`.
fn ordering(
    schema: &serde_json::Map<String, Value>,
    props: &serde_json::Map<String, Value>,
) -> Vec<String> {
    let mut order: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|name| props.contains_key(*name))
        .map(str::to_string)
        .collect();
    for name in props.keys() {
        if !order.contains(name) {
            order.push(name.clone());
        }
    }
    order
}

/// A JSON schema (the packed answer's: an object of string properties) in the Gemini API's
/// Schema form, an OpenAPI subset: upper-case type names, no `additionalProperties`, and
/// `propertyOrdering` so the answer keeps the items' order.
pub fn response_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                match k.as_str() {
                    "additionalProperties" | "$schema" => {}
                    "type" => {
                        let t = v.as_str().unwrap_or_default().to_ascii_uppercase();
                        out.insert(k.clone(), json!(t));
                    }
                    "properties" => {
                        let props: serde_json::Map<String, Value> = v
                            .as_object()
                            .map(|p| {
                                p.iter()
                                    .map(|(name, s)| (name.clone(), response_schema(s)))
                                    .collect()
                            })
                            .unwrap_or_default();
                        out.insert("propertyOrdering".into(), json!(ordering(map, &props)));
                        out.insert(k.clone(), Value::Object(props));
                    }
                    "items" => {
                        out.insert(k.clone(), response_schema(v));
                    }
                    _ => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Output tokens a thinking model may spend on thoughts when no budget is given (dynamic
/// thinking has no documented default cap; budgets range up to 24,576 on 2.5 Flash and 32,768
/// on 2.5 Pro, ai.google.dev/gemini-api/docs/thinking): room for the short answers a benchmark
/// asks for without a cap far beyond them. `--reasoning-effort N` sets the budget exactly.
pub const DEFAULT_THINKING_ALLOWANCE: u32 = 8_192;

/// The tokens to add to the answer's budget for thinking: Gemini counts thoughts inside
/// `maxOutputTokens`, so a short answer budget alone leaves a thinking model nothing to answer
/// with (an empty `MAX_TOKENS` candidate). A numeric budget is its own allowance (0: none);
/// otherwise a thinking model gets [`DEFAULT_THINKING_ALLOWANCE`]. Only tokens generated are
/// billed, so a higher cap costs nothing by itself.
pub fn thinking_allowance(model: &str, thinking: Option<&ThinkingConfig>) -> u32 {
    match thinking.and_then(|t| t.thinking_budget) {
        Some(b) if b >= 0 => u32::try_from(b).unwrap_or(u32::MAX),
        _ if batchbench_core::facts::is_gemini_thinking_model(model) => DEFAULT_THINKING_ALLOWANCE,
        _ => 0,
    }
}

/// The `serviceTier` value for a tier asked for (`Default`, a flex fallback, is `standard`).
fn service_tier(tier: ServiceTier) -> &'static str {
    match tier {
        ServiceTier::Flex => "flex",
        ServiceTier::Priority => "priority",
        ServiceTier::Default | ServiceTier::Auto => "standard",
    }
}

impl GenerateContentRequest {
    /// The request for a provider-neutral one. A request naming a cache sends no system
    /// instruction: the API refuses both together, and the cache holds it.
    pub fn new(request: &ChatRequest) -> GenerateContentRequest {
        let contents = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::User => "user",
                    Role::Assistant => "model",
                };
                Content::text(Some(role), &m.content)
            })
            .collect();
        let system_instruction = match (&request.cached_content, &request.system) {
            (None, Some(system)) => Some(Content::text(None, system)),
            _ => None,
        };
        let schema = request
            .json_schema
            .as_ref()
            .map(|s| response_schema(&s.schema));
        let thinking = request.reasoning_effort.as_deref().map(thinking_config);
        let allowance = thinking_allowance(&request.model, thinking.as_ref());
        GenerateContentRequest {
            model: None,
            contents,
            system_instruction,
            generation_config: GenerationConfig {
                max_output_tokens: request.max_tokens.saturating_add(allowance),
                temperature: request.temperature,
                response_mime_type: schema.is_some().then_some("application/json"),
                response_schema: schema,
                thinking_config: thinking,
            },
            cached_content: request.cached_content.clone(),
            service_tier: request.service_tier.map(service_tier),
        }
    }
}

/// The JSON body of a `generateContent` request.
pub fn request_body(request: &ChatRequest) -> Value {
    serde_json::to_value(GenerateContentRequest::new(request)).unwrap_or(Value::Null)
}

/// A `generateContent` response, or one chunk of a streamed one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentResponse {
    /// The answers (one unless `candidateCount` asked for more).
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    /// Token counts.
    #[serde(default)]
    pub usage_metadata: Option<UsageMetadata>,
    /// Set when the prompt was blocked and no candidate was made.
    #[serde(default)]
    pub prompt_feedback: Option<PromptFeedback>,
    /// The response's id.
    #[serde(default)]
    pub response_id: Option<String>,
    /// The model version that answered.
    #[serde(default)]
    pub model_version: Option<String>,
}

/// One answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// The model's turn.
    #[serde(default)]
    pub content: Option<Content>,
    /// `STOP`, `MAX_TOKENS`, `SAFETY`, …; absent on all but a stream's last chunks.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// Why a prompt was refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptFeedback {
    /// `SAFETY`, `OTHER`, …
    #[serde(default)]
    pub block_reason: Option<String>,
}

/// `usageMetadata`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    /// The whole prompt, cached content included.
    #[serde(default)]
    pub prompt_token_count: u64,
    /// Of the prompt, the tokens read from a cache (explicit or implicit).
    #[serde(default)]
    pub cached_content_token_count: u64,
    /// The answer.
    #[serde(default)]
    pub candidates_token_count: u64,
    /// Thinking, billed as output.
    #[serde(default)]
    pub thoughts_token_count: u64,
    /// Tool results fed back as input.
    #[serde(default)]
    pub tool_use_prompt_token_count: u64,
    /// The sum of the others (not used: recomputed from the parts).
    #[serde(default)]
    pub total_token_count: u64,
}

impl UsageMetadata {
    /// The usage in batchbench's convention: input the whole prompt (cached tokens a part of
    /// it), output the answer and the thinking, reasoning the thinking alone.
    pub fn normalise(&self) -> Usage {
        let thoughts = self.thoughts_token_count;
        Usage {
            input_tokens: self
                .prompt_token_count
                .saturating_add(self.tool_use_prompt_token_count),
            cached_tokens: self.cached_content_token_count,
            cache_write_tokens: 0,
            cache_write_1h_tokens: 0,
            output_tokens: self.candidates_token_count.saturating_add(thoughts),
            reasoning_tokens: thoughts,
        }
    }
}

impl GenerateContentResponse {
    /// The first candidate's answer: its text parts joined, thought summaries left out (as the
    /// SDK's `response.text` does).
    pub fn text(&self) -> String {
        self.candidates
            .first()
            .and_then(|c| c.content.as_ref())
            .map(|c| {
                c.parts
                    .iter()
                    .filter(|p| p.thought != Some(true))
                    .filter_map(|p| p.text.as_deref())
                    .collect::<String>()
            })
            .unwrap_or_default()
    }

    /// Why generation stopped: the first candidate's finish reason, or the prompt's block
    /// reason when nothing was generated.
    pub fn finish_reason(&self) -> Option<String> {
        self.candidates
            .first()
            .and_then(|c| c.finish_reason.clone())
            .or_else(|| {
                self.prompt_feedback
                    .as_ref()
                    .and_then(|f| f.block_reason.as_ref())
                    .map(|r| format!("BLOCKED_{r}"))
            })
    }
}

/// Reads a `generateContent` response into a [`ChatResponse`] (usage required: nothing can be
/// priced without it).
pub fn parse_response(v: &Value) -> Result<ChatResponse, String> {
    let r = GenerateContentResponse::deserialize(v)
        .map_err(|e| format!("not a generateContent response: {e}"))?;
    let usage = crate::provider::http::required_usage(r.usage_metadata.map(|u| u.normalise()))?;
    Ok(ChatResponse {
        id: r.response_id.clone().unwrap_or_default(),
        text: r.text(),
        choices: r.candidates.len().max(1),
        finish_reason: r.finish_reason().unwrap_or_default(),
        usage,
        request_id: None,
        ttft: None,
        served_tier: None,
        rate_limit: None,
    })
}

/// The tier a response says served it: Google reports it in the `x-gemini-service-tier`
/// header. Only the service tiers are taken (`standard`, `flex`, `priority`); anything else
/// is not a service tier and is read as no report.
pub fn served_tier(header: Option<&str>) -> Option<String> {
    let v = header?.trim().to_ascii_lowercase();
    matches!(v.as_str(), "standard" | "flex" | "priority").then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::JsonSchema;

    fn request() -> ChatRequest {
        ChatRequest {
            temperature: Some(0.0),
            ..ChatRequest::new(
                "gemini-2.5-flash",
                Some("Answer briefly."),
                "What is 2+2?",
                64,
            )
        }
    }

    #[test]
    fn body_in_the_sdks_shape() {
        let r = ChatRequest {
            model: "gemini-2.0-flash".into(),
            ..request()
        };
        assert_eq!(
            request_body(&r),
            json!({
                "contents": [{"role": "user", "parts": [{"text": "What is 2+2?"}]}],
                "systemInstruction": {"parts": [{"text": "Answer briefly."}]},
                "generationConfig": {"maxOutputTokens": 64, "temperature": 0.0}
            })
        );
    }

    #[test]
    fn thinking_shares_max_output_tokens_so_its_allowance_is_added() {
        // gemini-2.5-flash thinks: 64 answer tokens + the default allowance.
        let b = request_body(&request());
        assert_eq!(b["generationConfig"]["maxOutputTokens"], 64 + 8_192);
        let budget = |e: &str| {
            let r = ChatRequest {
                reasoning_effort: Some(e.into()),
                ..request()
            };
            request_body(&r)["generationConfig"]["maxOutputTokens"].clone()
        };
        assert_eq!(budget("0"), 64);
        assert_eq!(budget("512"), 64 + 512);
        assert_eq!(budget("-1"), 64 + 8_192);
        assert_eq!(budget("low"), 64 + 8_192);
    }

    #[test]
    fn a_cached_prefix_replaces_the_system_instruction() {
        let r = ChatRequest {
            cached_content: Some("cachedContents/abc".into()),
            service_tier: Some(ServiceTier::Flex),
            reasoning_effort: Some("0".into()),
            ..request()
        };
        let b = request_body(&r);
        assert_eq!(b["generationConfig"]["maxOutputTokens"], 64);
        assert_eq!(b["cachedContent"], "cachedContents/abc");
        assert!(b.get("systemInstruction").is_none());
        assert_eq!(b["serviceTier"], "flex");
        assert_eq!(
            b["generationConfig"]["thinkingConfig"],
            json!({"thinkingBudget": 0})
        );
        assert_eq!(thinking_config("none").thinking_budget, Some(0));
        assert!(check_effort("low").is_ok() && check_effort("1024").is_ok());
        assert!(
            check_effort("xhigh")
                .unwrap_err()
                .contains("minimal, low, medium, high")
        );
        let level = thinking_config("high");
        assert_eq!(level.thinking_level.as_deref(), Some("HIGH"));
    }

    #[test]
    fn packed_answers_ask_for_json_with_a_gemini_schema() {
        let schema = crate::packing::answer_schema(["q2", "q1"]);
        let r = ChatRequest {
            json_schema: Some(JsonSchema {
                name: "answers".into(),
                schema,
            }),
            ..request()
        };
        let b = request_body(&r);
        assert_eq!(
            b["generationConfig"]["responseMimeType"],
            "application/json"
        );
        assert_eq!(
            b["generationConfig"]["responseSchema"],
            json!({
                "type": "OBJECT",
                "properties": {"q1": {"type": "STRING"}, "q2": {"type": "STRING"}},
                "propertyOrdering": ["q2", "q1"],
                "required": ["q2", "q1"]
            })
        );
    }

    #[test]
    fn usage_counts_thoughts_as_output_and_cached_tokens_inside_the_prompt() {
        let v = json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "thinking...", "thought": true}, {"text": "4"}]},
                "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 11500, "cachedContentTokenCount": 10000,
                "candidatesTokenCount": 1000, "thoughtsTokenCount": 10000,
                "totalTokenCount": 22500},
            "modelVersion": "gemini-2.5-pro", "responseId": "resp-1"
        });
        let r = parse_response(&v).unwrap();
        assert_eq!(r.text, "4");
        assert_eq!(r.finish_reason, "STOP");
        assert_eq!(r.id, "resp-1");
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 11500,
                cached_tokens: 10000,
                cache_write_tokens: 0,
                cache_write_1h_tokens: 0,
                output_tokens: 11000,
                reasoning_tokens: 10000,
            }
        );
        assert_eq!(r.usage.uncached_input(), 1500);
    }

    #[test]
    fn a_blocked_prompt_and_a_response_without_usage() {
        let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"},
            "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7}});
        let r = parse_response(&blocked).unwrap();
        assert_eq!(
            (r.text.as_str(), r.finish_reason.as_str()),
            ("", "BLOCKED_SAFETY")
        );
        assert_eq!(r.usage.input_tokens, 7);
        let e = parse_response(&json!({"candidates": []})).unwrap_err();
        assert!(e.contains("no usage"), "{e}");
    }

    #[test]
    fn served_tier_header() {
        assert_eq!(served_tier(Some("Flex")).as_deref(), Some("flex"));
        assert_eq!(served_tier(Some("standard")).as_deref(), Some("standard"));
        assert_eq!(served_tier(Some("paid")), None);
        assert_eq!(served_tier(None), None);
    }
}
