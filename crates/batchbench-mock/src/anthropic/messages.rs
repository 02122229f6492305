//! `POST /v1/messages` and `POST /v1/messages/count_tokens`: validation, the answer, usage by the
//! stand-in rule of [`batchbench_core::tokens::anthropic_tokens`], explicit `cache_control`
//! caching, rate limits, faults and latency. Also used for message batch requests.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::response::Response;
use serde_json::{Value, json};

use batchbench_core::tokens::Bpe as Tokenizer;

use super::super::admission::{admit, charge};
use super::super::clock::pause;
use super::super::errors::{Api, ApiError};
use super::super::extract::ApiKey;
use super::super::faults::{Fault, FaultPlan};
use super::super::latency;
use super::super::oracle::AnswerFaults;
use super::super::respond::{self, StreamEnd};
use super::super::state::State;
use super::super::stats::TokenCounts;
use super::super::text::{self, apply_stop};
use super::stream;
use super::types::{Answered, Block, MessageParams, usage_json};

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::invalid(None, msg)
}

fn blocks(v: &Value, path: &str) -> Result<Vec<Block>, ApiError> {
    match v {
        Value::String(s) => Ok(vec![Block {
            text: s.clone(),
            cache: None,
        }]),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, b) in items.iter().enumerate() {
                let kind = b
                    .get("type")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid(format!("{path}.{i}.type: Field required")))?;
                let text = match kind {
                    "text" => b
                        .get("text")
                        .and_then(Value::as_str)
                        .ok_or_else(|| invalid(format!("{path}.{i}.text: Field required")))?
                        .to_string(),
                    "tool_result" => match b.get("content") {
                        Some(Value::String(s)) => s.clone(),
                        _ => String::new(),
                    },
                    "image" | "document" | "tool_use" | "thinking" | "redacted_thinking"
                    | "search_result" => String::new(),
                    other => {
                        return Err(invalid(format!(
                            "{path}.{i}.type: Input tag '{other}' found using 'type' does not match any of the expected tags"
                        )));
                    }
                };
                let cache = match b.get("cache_control") {
                    None | Some(Value::Null) => None,
                    Some(cc) => {
                        if cc.get("type").and_then(Value::as_str) != Some("ephemeral") {
                            return Err(invalid(format!(
                                "{path}.{i}.cache_control.type: Input should be 'ephemeral'"
                            )));
                        }
                        match cc.get("ttl").and_then(Value::as_str) {
                            None | Some("5m") => Some(false),
                            Some("1h") => Some(true),
                            Some(_) => {
                                return Err(invalid(format!(
                                    "{path}.{i}.cache_control.ttl: Input should be '5m' or '1h'"
                                )));
                            }
                        }
                    }
                };
                out.push(Block { text, cache });
            }
            Ok(out)
        }
        _ => Err(invalid(format!(
            "{path}: Input should be a valid string or list of content blocks"
        ))),
    }
}

/// Validates a request body; `need_max_tokens` is false for count_tokens.
pub fn parse(v: &Value, need_max_tokens: bool) -> Result<MessageParams, ApiError> {
    if !v.is_object() {
        return Err(invalid("Request body must be a JSON object"));
    }
    let model = match v.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        _ => return Err(invalid("model: Field required")),
    };
    let max_tokens = match v.get("max_tokens") {
        Some(x) => match x.as_u64() {
            Some(n) if n >= 1 => n,
            _ => {
                return Err(invalid(format!(
                    "max_tokens: Input should be a valid integer greater than or equal to 1, got {x}"
                )));
            }
        },
        None if need_max_tokens => return Err(invalid("max_tokens: Field required")),
        None => 0,
    };
    let raw = match v.get("messages") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid("messages: Input should be a valid list")),
        None => return Err(invalid("messages: Field required")),
    };
    if raw.is_empty() {
        return Err(invalid("messages: at least one message is required"));
    }
    let mut messages = Vec::with_capacity(raw.len());
    for (i, m) in raw.iter().enumerate() {
        let role = match m.get("role").and_then(Value::as_str) {
            Some(r @ ("user" | "assistant")) => r.to_string(),
            Some(other) => {
                return Err(invalid(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant', got '{other}'"
                )));
            }
            None => return Err(invalid(format!("messages.{i}.role: Field required"))),
        };
        let content = m
            .get("content")
            .ok_or_else(|| invalid(format!("messages.{i}.content: Field required")))?;
        messages.push((role, blocks(content, &format!("messages.{i}.content"))?));
    }
    let system = match v.get("system") {
        None | Some(Value::Null) => Vec::new(),
        Some(s) => blocks(s, "system")?,
    };
    let stream = match v.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("stream: Input should be a valid boolean")),
    };
    let stop = match v.get("stop_sequences") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Ok(MessageParams {
        model,
        system,
        messages,
        max_tokens,
        stream,
        stop,
    })
}

/// Answers a validated request whose input tokens (`total`, [`MessageParams::input_tokens`]) the
/// caller counted; records the stats. `tier` is `standard` or `batch`.
pub fn complete(
    state: &State,
    p: &MessageParams,
    total: u64,
    plan: &FaultPlan,
    id: String,
    tier: &str,
) -> Answered {
    let cache = state
        .cache
        .anthropic(&p.model, &p.breakpoints(), Instant::now());
    let input_tokens = total.saturating_sub(cache.read + cache.write_5m + cache.write_1h);
    let faults = AnswerFaults::from(plan);
    let answer = state.oracle.answer(
        &state.config.error_model,
        state.config.seed,
        &p.model,
        &p.last_user_text(),
        0,
        faults,
    );
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
    let (stopped, hit) = apply_stop(answer.text, &p.stop);
    let (text, cut) = text::truncate(&p.model, stopped, p.max_tokens);
    let stop_reason = if cut {
        "max_tokens"
    } else if hit.is_some() {
        "stop_sequence"
    } else {
        "end_turn"
    };
    let stop_sequence = if cut { None } else { hit };
    let output_tokens = Tokenizer::for_model(&p.model).count(&text);
    state.stats.tokens(TokenCounts {
        input: total,
        cached: cache.read,
        cache_write: cache.write_5m + cache.write_1h,
        output: output_tokens,
    });
    let body = json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": p.model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage_json(input_tokens, &cache, output_tokens, tier),
    });
    Answered {
        body,
        text,
        stop_reason,
        stop_sequence,
        input_tokens,
        cache,
        output_tokens,
        id,
    }
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        invalid(format!(
            "There was an issue with your request body: invalid JSON ({e})"
        ))
    })
}

/// `POST /v1/messages`.
pub async fn handle(
    Shared(state): Shared<Arc<State>>,
    ApiKey(key): ApiKey,
    body: Bytes,
) -> Result<Response, ApiError> {
    let state = &state;
    let v = parse_body(&body)?;
    let p = parse(&v, true)?;
    if !state.models.accepts(Api::Anthropic, &p.model) {
        return Err(ApiError::not_found(format!("model: {}", p.model)));
    }
    let total = p.input_tokens();
    let chars: usize = p
        .messages
        .iter()
        .flat_map(|(_, b)| b.iter())
        .chain(p.system.iter())
        .map(|b| b.text.len())
        .sum();
    let tokens = charge(&state.config.rate_limits, total, chars, p.max_tokens);
    let (headers, plan) = admit(state, &key, tokens, Api::Anthropic, &p.model)?;
    let id = state.random_id("msg_01", 22);
    let done = complete(state, &p, total, &plan, id, "standard");
    let prof = latency::profile(&state.config.latency, &p.model);
    let scale = state.config.time_scale
        * if plan.slow {
            state.config.faults.slow_factor
        } else {
            1.0
        };
    let timing = latency::timing(&prof, total, done.output_tokens, state.jitter(), scale);
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
        return Ok(respond::dropped_json(&done.body, headers));
    }
    Ok(respond::json(200, &done.body, headers))
}

/// `POST /v1/messages/count_tokens`.
pub async fn count_tokens(
    Shared(state): Shared<Arc<State>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v = parse_body(&body)?;
    let p = parse(&v, false)?;
    if !state.models.accepts(Api::Anthropic, &p.model) {
        return Err(ApiError::not_found(format!("model: {}", p.model)));
    }
    Ok(respond::json(
        200,
        &json!({"input_tokens": p.input_tokens()}),
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_count() {
        let v = json!({"model":"claude-haiku-4-5","max_tokens":10,
            "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral","ttl":"1h"}}],
            "messages":[{"role":"user","content":"hello world"}]});
        let p = parse(&v, true).unwrap();
        let t = Tokenizer::for_model("claude-haiku-4-5");
        assert_eq!(
            p.input_tokens(),
            t.count_anthropic(Some("Be brief."), ["hello world"])
        );
        let bp = p.breakpoints();
        assert_eq!(bp.len(), 1);
        assert_eq!(bp[0].prefix_tokens, 1 + t.count("Be brief."));
        assert!(bp[0].ttl_1h);
        assert!(
            parse(
                &json!({"model":"m","messages":[{"role":"user","content":"x"}]}),
                true
            )
            .unwrap_err()
            .message
            .contains("max_tokens")
        );
        assert!(
            parse(
                &json!({"model":"m","messages":[{"role":"user","content":"x"}]}),
                false
            )
            .is_ok()
        );
        assert!(
            parse(
                &json!({"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]}),
                true
            )
            .is_err()
        );
    }
}
