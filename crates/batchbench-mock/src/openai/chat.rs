//! `POST /v1/chat/completions`: request validation, the answer (oracle, `n` samples, stop
//! sequences, `max_completion_tokens`), usage counted with [`batchbench_core::tokens`], prompt caching,
//! rate limits, faults and latency. Also used for Batch API lines.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::response::Response;
use serde_json::Value;

use batchbench_core::tokens::Bpe as Tokenizer;

use super::super::admission::{admit, charge};
use super::super::cache::OpenAiCacheUse;
use super::super::clock::{pause, unix_now};
use super::super::errors::{Api, ApiError};
use super::super::extract::ApiKey;
use super::super::faults::{Fault, FaultPlan};
use super::super::latency;
use super::super::oracle::AnswerFaults;
use super::super::respond::{self, StreamEnd};
use super::super::state::State;
use super::super::stats::TokenCounts;
use super::super::text::{self, apply_stop};
use super::plain::{self, ROLES};
use super::stream;
use super::types::{ChatParams, Choice, Completed};

fn content_text(v: &Value, param: &str) -> Result<String, ApiError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        Value::Array(parts) => {
            let mut out = String::new();
            for (i, p) in parts.iter().enumerate() {
                let kind = p.get("type").and_then(Value::as_str).ok_or_else(|| {
                    ApiError::invalid(
                        Some(&format!("{param}[{i}].type")),
                        format!("Missing required parameter: '{param}[{i}].type'."),
                    )
                })?;
                match kind {
                    "text" => match p.get("text") {
                        Some(Value::String(t)) => out.push_str(t),
                        _ => {
                            return Err(ApiError::invalid(
                                Some(&format!("{param}[{i}].text")),
                                format!("Missing required parameter: '{param}[{i}].text'."),
                            ));
                        }
                    },
                    "image_url" | "input_audio" | "file" | "refusal" => {}
                    other => {
                        return Err(ApiError::invalid(
                            Some(&format!("{param}[{i}].type")),
                            format!(
                                "Invalid value: '{other}'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', and 'file'."
                            ),
                        ));
                    }
                }
            }
            Ok(out)
        }
        _ => Err(ApiError::invalid(
            Some(param),
            format!("Invalid type for '{param}': expected a string or an array of content parts."),
        )),
    }
}

fn positive_int(v: &Value, name: &str) -> Result<Option<u64>, ApiError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => match x.as_u64() {
            Some(n) if n >= 1 => Ok(Some(n)),
            _ => Err(ApiError::invalid(
                Some(name),
                format!("Invalid '{name}': expected an integer >= 1, got {x}."),
            )
            .code("integer_below_min_value")),
        },
    }
}

/// `messages`: (role, text) in order, each role and content checked as the API checks them.
fn parse_messages(v: &Value) -> Result<Vec<(String, String)>, ApiError> {
    let raw = match v.get("messages") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                Some("messages"),
                "Missing required parameter: 'messages'.",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                Some("messages"),
                "Invalid type for 'messages': expected an array.",
            ));
        }
    };
    if raw.is_empty() {
        return Err(ApiError::invalid(
            Some("messages"),
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        )
        .code("empty_array"));
    }
    let mut messages = Vec::with_capacity(raw.len());
    for (i, m) in raw.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).ok_or_else(|| {
            ApiError::invalid(
                Some(&format!("messages[{i}].role")),
                format!("Missing required parameter: 'messages[{i}].role'."),
            )
        })?;
        if !ROLES.contains(&role) {
            return Err(ApiError::invalid(
                Some(&format!("messages[{i}].role")),
                format!(
                    "Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'."
                ),
            ));
        }
        let content = match m.get("content") {
            None if role == "assistant" => String::new(),
            None => {
                return Err(ApiError::invalid(
                    Some(&format!("messages[{i}].content")),
                    format!("Missing required parameter: 'messages[{i}].content'."),
                ));
            }
            Some(c) => content_text(c, &format!("messages[{i}].content"))?,
        };
        messages.push((role.to_string(), content));
    }
    Ok(messages)
}

/// Compact JSON text of `response_format.json_schema.schema`, when one is asked for.
fn parse_schema(v: &Value) -> Result<Option<String>, ApiError> {
    match v.get("response_format") {
        None | Some(Value::Null) => Ok(None),
        Some(rf) => match rf.get("type").and_then(Value::as_str) {
            Some("text") | Some("json_object") => Ok(None),
            Some("json_schema") => {
                let js = rf.get("json_schema").ok_or_else(|| {
                    ApiError::invalid(
                        Some("response_format.json_schema"),
                        "Missing required parameter: 'response_format.json_schema'.",
                    )
                })?;
                if js
                    .get("name")
                    .and_then(Value::as_str)
                    .is_none_or(|n| n.is_empty() || n.len() > 64)
                {
                    return Err(ApiError::invalid(
                        Some("response_format.json_schema.name"),
                        "Missing required parameter: 'response_format.json_schema.name'.",
                    ));
                }
                Ok(js.get("schema").map(|s| s.to_string()))
            }
            _ => Err(ApiError::invalid(
                Some("response_format.type"),
                "Invalid value for 'response_format.type': supported values are 'text', 'json_object' and 'json_schema'.",
            )),
        },
    }
}

/// Validates a request body as the real API does (the checks that matter to clients).
pub fn parse(v: &Value) -> Result<ChatParams, ApiError> {
    if !v.is_object() {
        return Err(ApiError::invalid(
            None,
            "Invalid request body: expected a JSON object.",
        ));
    }
    let model = match v.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                Some("model"),
                "you must provide a model parameter",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                Some("model"),
                "Invalid type for 'model': expected a string.",
            ));
        }
    };
    let messages = parse_messages(v)?;
    let n = match v.get("n") {
        None | Some(Value::Null) => 1,
        Some(x) => match x.as_u64() {
            Some(n) if (1..=128).contains(&n) => n as u32,
            _ => {
                return Err(ApiError::invalid(
                    Some("n"),
                    format!("Invalid 'n': expected an integer between 1 and 128, got {x}."),
                ));
            }
        },
    };
    let max_tokens = match positive_int(v, "max_completion_tokens")? {
        Some(m) => Some(m),
        None => positive_int(v, "max_tokens")?,
    };
    let stream = match v.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::invalid(
                Some("stream"),
                "Invalid type for 'stream': expected a boolean.",
            ));
        }
    };
    let include_usage = v
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if v.get("stream_options").is_some_and(|o| !o.is_null()) && !stream {
        return Err(ApiError::invalid(
            Some("stream_options"),
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        ));
    }
    let schema = parse_schema(v)?;
    let cache_key = v
        .get("prompt_cache_key")
        .and_then(Value::as_str)
        .map(str::to_string);
    let retain_24h = parse_retention(v, &model)?;
    let stop = match v.get("stop") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .take(4)
            .collect(),
        _ => Vec::new(),
    };
    Ok(ChatParams {
        model,
        messages,
        n,
        max_tokens,
        stream,
        include_usage,
        schema,
        cache_key,
        retain_24h,
        stop,
        service_tier: one_of(v, "service_tier", SERVICE_TIERS)?,
        reasoning_effort: one_of(v, "reasoning_effort", REASONING_EFFORTS)?,
    })
}

/// `prompt_cache_retention`: `in_memory` (the mock's default) or `24h` (openai-python
/// `Literal["in_memory", "24h"]`; older SDKs spelled it `in-memory`, also accepted); `24h` only
/// on the models that offer extended retention (`batchbench_core::facts::openai_extended_retention`),
/// a 400 naming the parameter elsewhere.
pub fn parse_retention(v: &Value, model: &str) -> Result<bool, ApiError> {
    match one_of(
        v,
        "prompt_cache_retention",
        &["in_memory", "in-memory", "24h"],
    )?
    .as_deref()
    {
        Some("24h") if !batchbench_core::facts::openai_extended_retention(model) => {
            Err(ApiError::invalid(
                Some("prompt_cache_retention"),
                format!("prompt_cache_retention '24h' is not supported with the model '{model}'."),
            ))
        }
        Some("24h") => Ok(true),
        _ => Ok(false),
    }
}

/// `service_tier` values the API accepts (openai-python `ChatCompletionCreateParams`).
pub const SERVICE_TIERS: &[&str] = &["auto", "default", "flex", "scale", "priority"];
/// `reasoning_effort` values the API accepts (openai-python `ReasoningEffort`).
pub const REASONING_EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh"];

/// An optional string parameter that must be one of `allowed`.
pub fn one_of(v: &Value, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
        Some(x) => Err(ApiError::invalid(
            Some(name),
            format!(
                "Invalid value for '{name}': {x}. Supported values are: {}.",
                allowed
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The hidden reasoning tokens the mock bills a reasoning model for one answer of `items`
/// prompts: a fixed pass per request plus a little per item, by effort (medium when unset).
/// The mock's own model, calibrated so that packing 8 prompts saves about three quarters of
/// the reasoning tokens, as published for batched prompts (docs/MOCK.md); not a measurement.
pub fn reasoning_tokens(model: &str, effort: Option<&str>, items: usize) -> u64 {
    if !batchbench_core::facts::is_reasoning_model(model) {
        return 0;
    }
    let (base, per_item) = match effort.unwrap_or("medium") {
        "none" => (0, 0),
        "minimal" => (16, 8),
        "low" => (64, 16),
        "high" => (512, 64),
        "xhigh" => (1024, 128),
        _ => (192, 32),
    };
    base + per_item * items.max(1) as u64
}

/// The input tokens `usage.prompt_tokens` reports (messages plus schema).
pub fn prompt_tokens(p: &ChatParams) -> u64 {
    let t = Tokenizer::for_model(&p.model);
    t.count_chat(p.messages.iter().map(|(r, c)| (r.as_str(), c.as_str())))
        + p.schema.as_deref().map_or(0, |s| t.count(s))
}

/// The estimate charged against TPM before the request runs.
pub fn tpm_charge(state: &State, p: &ChatParams, input_tokens: u64) -> u64 {
    let chars: usize = p.messages.iter().map(|(_, c)| c.len()).sum();
    let max = p
        .max_tokens
        .unwrap_or(state.config.rate_limits.default_max_tokens)
        * u64::from(p.n);
    charge(&state.config.rate_limits, input_tokens, chars, max)
}

/// Answers a validated request whose [`prompt_tokens`] the caller counted: oracle, usage,
/// cache; records the stats.
pub fn complete(
    state: &State,
    p: &ChatParams,
    prompt_tokens: u64,
    plan: &FaultPlan,
    id: String,
) -> Completed {
    let t = Tokenizer::for_model(&p.model);
    let cache = if prompt_tokens >= state.config.cache.openai_min_tokens {
        let seq = text::chat_prompt_tokens(&p.model, &p.messages, p.schema.as_deref());
        state.cache.openai(
            &p.model,
            p.cache_key.as_deref(),
            &seq,
            Instant::now(),
            p.retain_24h,
        )
    } else {
        OpenAiCacheUse::default()
    };
    let cached_tokens = cache.read.min(prompt_tokens);
    let cache_write_tokens = batchbench_core::facts::openai_reports_cache_writes(&p.model)
        .then(|| cache.write.min(prompt_tokens - cached_tokens));
    let user_text = p
        .messages
        .iter()
        .rev()
        .find(|(r, _)| r == "user")
        .map_or("", |(_, c)| c.as_str());
    let cfg = &state.config.error_model;
    let mut choices = Vec::with_capacity(p.n as usize);
    let mut reasoning = 0;
    for sample in 0..p.n {
        let faults = AnswerFaults::from(plan);
        let answer =
            state
                .oracle
                .answer(cfg, state.config.seed, &p.model, user_text, sample, faults);
        reasoning += reasoning_tokens(&p.model, p.reasoning_effort.as_deref(), answer.items.len());
        if sample == 0 {
            if answer.packed {
                if plan.malformed {
                    state.stats.fault(Fault::MalformedPacked.name());
                }
                if plan.missing_item {
                    state.stats.fault(Fault::MissingItem.name());
                }
            }
            for item in &answer.items {
                if let Some(pid) = &item.prompt_id {
                    state.stats.prompt_answered(pid, item.wrong, item.missing);
                }
            }
        }
        let (stopped, hit) = apply_stop(answer.text, &p.stop);
        let (text, cut) = match p.max_tokens {
            Some(max) => text::truncate(&p.model, stopped, max),
            None => (stopped, false),
        };
        let _ = hit;
        let tokens = t.count(&text);
        choices.push(Choice {
            text,
            finish_reason: if cut { "length" } else { "stop" },
            tokens,
        });
    }
    let completion_tokens = choices.iter().map(|c| c.tokens).sum::<u64>() + reasoning;
    state.stats.tokens(TokenCounts {
        input: prompt_tokens,
        cached: cached_tokens,
        cache_write: cache_write_tokens.unwrap_or(0),
        output: completion_tokens,
    });
    let created = unix_now();
    Completed {
        model: p.model.clone(),
        choices,
        prompt_tokens,
        cached_tokens,
        cache_write_tokens,
        completion_tokens,
        reasoning_tokens: reasoning,
        service_tier: p.served_tier(),
        id,
        created,
    }
}

/// `POST /v1/chat/completions`.
pub async fn handle(
    Shared(state): Shared<Arc<State>>,
    ApiKey(key): ApiKey,
    body: Bytes,
) -> Result<Response, ApiError> {
    let state = &state;
    let p = match plain::parse(&body) {
        Some(p) => p,
        None => {
            let v: Value = serde_json::from_slice(&body).map_err(|e| {
                ApiError::invalid(None, format!("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. Error: {e})"))
            })?;
            parse(&v)?
        }
    };
    if !state.models.accepts(Api::OpenAi, &p.model) {
        return Err(ApiError::not_found(format!(
            "The model `{}` does not exist or you do not have access to it.",
            p.model
        ))
        .code("model_not_found"));
    }
    let input = prompt_tokens(&p);
    let (headers, plan) = admit(
        state,
        &key,
        tpm_charge(state, &p, input),
        Api::OpenAi,
        &p.model,
    )?;
    if p.service_tier.as_deref() == Some("flex") && state.faults.flex_refused(&state.config.faults)
    {
        state.stats.fault(Fault::FlexUnavailable.name());
        let mut e =
            super::super::admission::fault_error(state, Fault::FlexUnavailable, Api::OpenAi);
        e.headers.extend(headers);
        return Err(e);
    }
    let id = state.random_id("chatcmpl-", 29);
    let done = complete(state, &p, input, &plan, id);
    let longest = done.choices.iter().map(|c| c.tokens).max().unwrap_or(0);
    let prof = latency::profile(&state.config.latency, &p.model);
    let scale = state.config.time_scale
        * if plan.slow {
            state.config.faults.slow_factor
        } else {
            1.0
        };
    let timing = latency::timing(&prof, input, longest, state.jitter(), scale);
    if p.stream {
        let events = stream::events(&p, &done, timing);
        let end = if plan.drop {
            StreamEnd::Dropped
        } else if plan.truncate {
            StreamEnd::Truncated
        } else {
            StreamEnd::Complete
        };
        return Ok(respond::sse(events, end, headers));
    }
    pause(timing.total).await;
    if plan.drop {
        return Ok(respond::dropped_json(&done.body(), headers));
    }
    Ok(respond::json(200, &done.body(), headers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validation() {
        assert!(
            parse(&json!({"messages": [{"role":"user","content":"hi"}]}))
                .unwrap_err()
                .message
                .contains("model")
        );
        assert_eq!(
            parse(&json!({"model":"m","messages": []}))
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            parse(&json!({"model":"m","messages": [{"role":"boss","content":"x"}]}))
                .unwrap_err()
                .param
                .as_deref(),
            Some("messages[0].role")
        );
        assert!(
            parse(&json!({"model":"m","messages": [{"role":"user","content":"x"}], "n": 0}))
                .is_err()
        );
        assert!(parse(&json!({"model":"m","messages": [{"role":"user","content":"x"}], "max_completion_tokens": -1})).is_err());
        let p = parse(
            &json!({"model":"m","messages": [{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
            "max_tokens": 5, "stream": true, "stream_options": {"include_usage": true},
            "response_format": {"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}),
        )
        .unwrap();
        assert_eq!(p.messages[0].1, "ab");
        assert_eq!(
            (p.max_tokens, p.stream, p.include_usage),
            (Some(5), true, true)
        );
        assert_eq!(p.schema.as_deref(), Some("{\"type\":\"object\"}"));
    }

    /// The `Value` way, as the handler takes it when `plain::parse` declines.
    fn by_value(body: &str) -> Result<ChatParams, String> {
        let v: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
        parse(&v).map_err(|e| e.message)
    }

    #[test]
    fn plain_bodies_read_without_a_tree_as_the_value_way_reads_them() {
        for body in [
            r#"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Answer briefly."},{"role":"user","content":"Is 7 a prime number?"}],"max_completion_tokens":16}"#,
            r#"{"messages":[{"content":"q \"quoted\" \u00e9\n","role":"user"}],"model":"m","max_tokens":5}"#,
            r#"{"model":"m","messages":[{"role":"developer","content":""}],"max_completion_tokens":null,"max_tokens":7}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":3,"max_tokens":9}"#,
            r#" {"model":"m","messages":[{"role":"assistant","content":"x"},{"role":"user","content":"y"}]} "#,
        ] {
            let fast = plain::parse(body.as_bytes());
            assert!(fast.is_some(), "{body}");
            assert_eq!(fast, by_value(body).ok(), "{body}");
        }
        // What plain::parse declines keeps the Value way's answer: the last repeated key wins.
        let twice = r#"{"model":"a","model":"b","messages":[{"role":"user","content":"x"}]}"#;
        assert_eq!(plain::parse(twice.as_bytes()), None);
        assert_eq!(by_value(twice).unwrap().model, "b");
    }

    #[test]
    fn service_tier_and_reasoning_effort_are_checked_and_echoed() {
        let base = json!({"model": "gpt-5-mini", "messages": [{"role": "user", "content": "x"}]});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            parse(&b)
        };
        assert_eq!(
            with("service_tier", json!("flex")).unwrap().served_tier(),
            "flex"
        );
        assert_eq!(
            with("service_tier", json!("priority"))
                .unwrap()
                .served_tier(),
            "priority"
        );
        assert_eq!(
            with("service_tier", json!("auto")).unwrap().served_tier(),
            "default"
        );
        assert_eq!(parse(&base).unwrap().served_tier(), "default");
        let e = with("service_tier", json!("cheap")).unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some("service_tier")));
        assert!(with("reasoning_effort", json!("high")).is_ok());
        assert!(with("reasoning_effort", json!(3)).is_err());
    }

    #[test]
    fn reasoning_models_bill_one_pass_per_request_plus_a_little_per_item() {
        assert_eq!(reasoning_tokens("gpt-4o-mini", None, 1), 0);
        assert_eq!(reasoning_tokens("gpt-5-mini", None, 1), 224);
        assert_eq!(reasoning_tokens("gpt-5-mini", Some("medium"), 8), 448);
        assert_eq!(reasoning_tokens("o4-mini", Some("low"), 1), 80);
        assert_eq!(reasoning_tokens("gpt-5-chat-latest", None, 1), 0);
        // Packing 8 prompts: 448 reasoning tokens against 8 x 224 = 1,792 (-75%).
        assert_eq!(8 * reasoning_tokens("gpt-5-mini", None, 1), 1_792);
    }
}
