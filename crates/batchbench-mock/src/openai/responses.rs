//! `POST /v1/responses`: the Responses API in its real shape (openai-python
//! `types/responses`: `Response`, `ResponseOutputMessage`, `ResponseUsage`, the
//! `response.*` stream events), plain, streamed and as Batch API lines. A request is read into
//! the same [`ChatParams`] chat completions use (`instructions` as a system message first,
//! `input` as the conversation, `text.format` json_schema as the schema) and answered by
//! [`chat::complete`], so the two APIs report the same tokens for the same prompt.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::admission::{admit, fault_error};
use super::super::clock::pause;
use super::super::errors::{Api, ApiError};
use super::super::extract::ApiKey;
use super::super::faults::Fault;
use super::super::latency;
use super::super::respond::{self, SseEvent, StreamEnd};
use super::super::state::State;
use super::super::text;
use super::chat::{self, REASONING_EFFORTS, SERVICE_TIERS, one_of};
use super::types::{ChatParams, Completed};

/// The smallest `max_output_tokens` the API accepts.
pub const MIN_OUTPUT_TOKENS: u64 = 16;

/// A validated Responses request: what chat completions would be asked, plus what the
/// response echoes.
#[derive(Debug, Clone)]
pub struct ResponsesParams {
    /// The request as chat completions would carry it.
    pub chat: ChatParams,
    /// `instructions`, echoed.
    pub instructions: Option<String>,
    /// `text.format`, echoed (`{"type": "text"}` when unset).
    pub format: Value,
    /// `store`, echoed (default true).
    pub store: bool,
    /// `temperature`, echoed.
    pub temperature: Option<f64>,
}

fn invalid(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(Some(param), message)
}

/// The text of one input item's `content`: a string, or `input_text` / `output_text` parts.
fn item_text(content: &Value, param: &str) -> Result<String, ApiError> {
    match content {
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => {
            let mut out = String::new();
            for (i, p) in parts.iter().enumerate() {
                match p.get("type").and_then(Value::as_str) {
                    Some("input_text" | "output_text") => {
                        out.push_str(p.get("text").and_then(Value::as_str).unwrap_or_default())
                    }
                    Some("input_image" | "input_file" | "refusal") => {}
                    _ => {
                        return Err(invalid(
                            &format!("{param}[{i}].type"),
                            format!("Invalid value for '{param}[{i}].type'."),
                        ));
                    }
                }
            }
            Ok(out)
        }
        _ => Err(invalid(param, format!("Invalid type for '{param}'."))),
    }
}

/// `input`: a string (one user message) or message items with a role and content.
fn parse_input(v: &Value) -> Result<Vec<(String, String)>, ApiError> {
    match v.get("input") {
        Some(Value::String(s)) => Ok(vec![("user".into(), s.clone())]),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let role = item.get("role").and_then(Value::as_str).ok_or_else(|| {
                    invalid(&format!("input[{i}].role"), format!("Missing required parameter: 'input[{i}].role'."))
                })?;
                if !["user", "assistant", "system", "developer"].contains(&role) {
                    return Err(invalid(
                        &format!("input[{i}].role"),
                        format!("Invalid value: '{role}'. Supported values are: 'user', 'assistant', 'system', and 'developer'."),
                    ));
                }
                let content = item.get("content").unwrap_or(&Value::Null);
                Ok((role.to_string(), item_text(content, &format!("input[{i}].content"))?))
            })
            .collect(),
        Some(Value::Array(_)) => Err(invalid("input", "Invalid 'input': empty array.")),
        None | Some(Value::Null) => Err(invalid("input", "Missing required parameter: 'input'.")),
        Some(_) => Err(invalid("input", "Invalid type for 'input': expected a string or an array.")),
    }
}

/// `text.format`: the schema text when it is `json_schema`, and the format to echo.
fn parse_format(v: &Value) -> Result<(Option<String>, Value), ApiError> {
    let Some(format) = v.pointer("/text/format").filter(|f| !f.is_null()) else {
        return Ok((None, json!({"type": "text"})));
    };
    match format.get("type").and_then(Value::as_str) {
        Some("text") | Some("json_object") => Ok((None, format.clone())),
        Some("json_schema") => {
            if format
                .get("name")
                .and_then(Value::as_str)
                .is_none_or(|n| n.is_empty() || n.len() > 64)
            {
                return Err(invalid(
                    "text.format.name",
                    "Missing required parameter: 'text.format.name'.",
                ));
            }
            let schema = format.get("schema").ok_or_else(|| {
                invalid(
                    "text.format.schema",
                    "Missing required parameter: 'text.format.schema'.",
                )
            })?;
            Ok((Some(schema.to_string()), format.clone()))
        }
        _ => Err(invalid(
            "text.format.type",
            "Invalid value for 'text.format.type': supported values are 'text', 'json_object' and 'json_schema'.",
        )),
    }
}

/// Validates a request body as the real API does (the checks that matter to clients).
pub fn parse(v: &Value) -> Result<ResponsesParams, ApiError> {
    let model = match v.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        _ => return Err(invalid("model", "Missing required parameter: 'model'.")),
    };
    let instructions = v
        .get("instructions")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut messages: Vec<(String, String)> = instructions
        .iter()
        .map(|i| ("system".to_string(), i.clone()))
        .collect();
    messages.extend(parse_input(v)?);
    let max_tokens = match v.get("max_output_tokens") {
        None | Some(Value::Null) => None,
        Some(x) => match x.as_u64() {
            Some(n) if n >= MIN_OUTPUT_TOKENS => Some(n),
            _ => {
                return Err(invalid(
                    "max_output_tokens",
                    format!("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= {MIN_OUTPUT_TOKENS}, but got {x} instead."),
                )
                .code("integer_below_min_value"));
            }
        },
    };
    let (schema, format) = parse_format(v)?;
    let stream = v.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let effort = match v.pointer("/reasoning/effort") {
        None | Some(Value::Null) => None,
        Some(_) => one_of(&v["reasoning"], "effort", REASONING_EFFORTS)?,
    };
    let retain_24h = chat::parse_retention(v, &model)?;
    Ok(ResponsesParams {
        chat: ChatParams {
            model,
            messages,
            n: 1,
            max_tokens,
            stream,
            include_usage: true,
            schema,
            cache_key: v
                .get("prompt_cache_key")
                .and_then(Value::as_str)
                .map(str::to_string),
            retain_24h,
            stop: Vec::new(),
            service_tier: one_of(v, "service_tier", SERVICE_TIERS)?,
            reasoning_effort: effort,
        },
        instructions,
        format,
        store: v.get("store").and_then(Value::as_bool).unwrap_or(true),
        temperature: v.get("temperature").and_then(Value::as_f64),
    })
}

/// The `response` object for an answered request; `status` `completed`, or `incomplete` when
/// cut at `max_output_tokens`. `text` is the output text so far (all of it once complete).
fn response_object(
    p: &ResponsesParams,
    done: &Completed,
    status: &str,
    text: Option<&str>,
) -> Value {
    let choice = &done.choices[0];
    let finished = status != "in_progress";
    let cut = finished && choice.finish_reason == "length";
    let mut output = Vec::new();
    if finished && done.reasoning_tokens > 0 {
        output.push(
            json!({"id": format!("rs_{}", &done.id[9..]), "type": "reasoning", "summary": []}),
        );
    }
    if let Some(text) = text {
        output.push(json!({
            "id": format!("msg_{}", &done.id[9..]), "type": "message", "role": "assistant",
            "status": if cut { "incomplete" } else { "completed" },
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
        }));
    }
    let usage = finished.then(|| {
        let mut details = json!({"cached_tokens": done.cached_tokens});
        if let Some(w) = done.cache_write_tokens {
            details["cache_write_tokens"] = json!(w);
        }
        json!({
            "input_tokens": done.prompt_tokens,
            "input_tokens_details": details,
            "output_tokens": done.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": done.reasoning_tokens},
            "total_tokens": done.prompt_tokens + done.completion_tokens,
        })
    });
    json!({
        "id": format!("resp_{}", &done.id[9..]),
        "object": "response",
        "created_at": done.created,
        "status": if cut { "incomplete" } else { status },
        "background": false,
        "error": null,
        "incomplete_details": if cut { json!({"reason": "max_output_tokens"}) } else { Value::Null },
        "instructions": p.instructions,
        "max_output_tokens": p.chat.max_tokens,
        "metadata": {},
        "model": p.chat.model,
        "output": output,
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "reasoning": {"effort": p.chat.reasoning_effort, "summary": null},
        "service_tier": done.service_tier,
        "store": p.store,
        "temperature": p.temperature.unwrap_or(1.0),
        "text": {"format": p.format},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": null,
    })
}

/// The answered `response` object.
pub fn body(p: &ResponsesParams, done: &Completed) -> Value {
    response_object(p, done, "completed", Some(&done.choices[0].text))
}

/// The stream of one response: created, in progress, the message item and its text part
/// opened, one `response.output_text.delta` per token (the first after the TTFT), then the
/// part, item and response closed with `response.completed` (or `.incomplete`).
fn events(p: &ResponsesParams, done: &Completed, timing: latency::Timing) -> Vec<SseEvent> {
    let item_id = format!("msg_{}", &done.id[9..]);
    let text = &done.choices[0].text;
    let mut seq = 0u64;
    let mut out = Vec::new();
    let mut push = |delay: Duration, name: &'static str, mut data: Value| {
        data["type"] = json!(name);
        data["sequence_number"] = json!(seq);
        seq += 1;
        out.push(SseEvent {
            delay,
            name: Some(name),
            data: data.to_string(),
        });
    };
    push(
        Duration::ZERO,
        "response.created",
        json!({"response": response_object(p, done, "in_progress", None)}),
    );
    push(
        Duration::ZERO,
        "response.in_progress",
        json!({"response": response_object(p, done, "in_progress", None)}),
    );
    let item = |status: &str, text: Option<&str>| {
        json!({"id": item_id, "type": "message", "role": "assistant", "status": status,
            "content": text.map_or(json!([]), |t| json!([{"type": "output_text", "text": t, "annotations": [], "logprobs": []}]))})
    };
    let part =
        |t: &str| json!({"type": "output_text", "text": t, "annotations": [], "logprobs": []});
    let at = |extra: Value| {
        let mut v = json!({"item_id": item_id, "output_index": 0, "content_index": 0});
        for (k, x) in extra.as_object().into_iter().flatten() {
            v[k] = x.clone();
        }
        v
    };
    push(
        Duration::ZERO,
        "response.output_item.added",
        json!({"output_index": 0, "item": item("in_progress", None)}),
    );
    push(
        Duration::ZERO,
        "response.content_part.added",
        at(json!({"part": part("")})),
    );
    for (i, piece) in text::pieces(&p.chat.model, text).iter().enumerate() {
        let delay = if i == 0 {
            timing.ttft
        } else {
            timing.per_token
        };
        push(
            delay,
            "response.output_text.delta",
            at(json!({"delta": piece, "logprobs": []})),
        );
    }
    push(
        Duration::ZERO,
        "response.output_text.done",
        at(json!({"text": text, "logprobs": []})),
    );
    push(
        Duration::ZERO,
        "response.content_part.done",
        at(json!({"part": part(text)})),
    );
    push(
        Duration::ZERO,
        "response.output_item.done",
        json!({"output_index": 0, "item": item("completed", Some(text))}),
    );
    let last = body(p, done);
    let name = if last["status"] == "incomplete" {
        "response.incomplete"
    } else {
        "response.completed"
    };
    push(Duration::ZERO, name, json!({"response": last}));
    out
}

/// `POST /v1/responses`.
pub async fn handle(
    Shared(state): Shared<Arc<State>>,
    ApiKey(key): ApiKey,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let state = &state;
    let v: Value = serde_json::from_slice(&raw).map_err(|e| {
        ApiError::invalid(
            None,
            format!("We could not parse the JSON body of your request. Error: {e}"),
        )
    })?;
    let p = parse(&v)?;
    if !state.models.accepts(Api::OpenAi, &p.chat.model) {
        return Err(ApiError::not_found(format!(
            "The model `{}` does not exist or you do not have access to it.",
            p.chat.model
        ))
        .code("model_not_found"));
    }
    let input = chat::prompt_tokens(&p.chat);
    let (headers, plan) = admit(
        state,
        &key,
        chat::tpm_charge(state, &p.chat, input),
        Api::OpenAi,
        &p.chat.model,
    )?;
    if p.chat.service_tier.as_deref() == Some("flex")
        && state.faults.flex_refused(&state.config.faults)
    {
        state.stats.fault(Fault::FlexUnavailable.name());
        let mut e = fault_error(state, Fault::FlexUnavailable, Api::OpenAi);
        e.headers.extend(headers);
        return Err(e);
    }
    let done = chat::complete(
        state,
        &p.chat,
        input,
        &plan,
        state.random_id("chatcmpl-", 29),
    );
    let prof = latency::profile(&state.config.latency, &p.chat.model);
    let scale = state.config.time_scale
        * if plan.slow {
            state.config.faults.slow_factor
        } else {
            1.0
        };
    let timing = latency::timing(&prof, input, done.choices[0].tokens, state.jitter(), scale);
    if p.chat.stream {
        let end = if plan.drop {
            StreamEnd::Dropped
        } else if plan.truncate {
            StreamEnd::Truncated
        } else {
            StreamEnd::Complete
        };
        return Ok(respond::sse(events(&p, &done, timing), end, headers));
    }
    pause(timing.total).await;
    let out = body(&p, &done);
    if plan.drop {
        return Ok(respond::dropped_json(&out, headers));
    }
    Ok(respond::json(200, &out, headers))
}

/// Answers one `/v1/responses` batch line: the response object and its usage, or the error.
pub fn batch_line(
    state: &State,
    request: &Value,
    plan: &super::super::faults::FaultPlan,
) -> Result<(Value, Completed), ApiError> {
    let mut p = parse(request)?;
    p.chat.stream = false;
    let input = chat::prompt_tokens(&p.chat);
    let done = chat::complete(
        state,
        &p.chat,
        input,
        plan,
        state.random_id("chatcmpl-", 29),
    );
    Ok((body(&p, &done), done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_instructions_input_format_and_effort() {
        let p = parse(&json!({"model": "gpt-5-mini", "instructions": "Be brief.",
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "Is 7 prime?"}]}],
            "max_output_tokens": 64, "reasoning": {"effort": "low"}, "service_tier": "flex",
            "text": {"format": {"type": "json_schema", "name": "a", "schema": {"type": "object"}, "strict": true}}}))
        .unwrap();
        assert_eq!(
            p.chat.messages,
            vec![
                ("system".into(), "Be brief.".into()),
                ("user".into(), "Is 7 prime?".into())
            ]
        );
        assert_eq!(p.chat.schema.as_deref(), Some("{\"type\":\"object\"}"));
        assert_eq!(p.chat.reasoning_effort.as_deref(), Some("low"));
        assert_eq!(p.chat.served_tier(), "flex");
        let p = parse(&json!({"model": "m", "input": "hi"})).unwrap();
        assert_eq!(p.chat.messages, vec![("user".into(), "hi".into())]);
        let e = parse(&json!({"model": "m", "input": "hi", "max_output_tokens": 8})).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("max_output_tokens"));
        assert!(parse(&json!({"model": "m"})).is_err());
        assert!(
            parse(&json!({"model": "m", "input": "x", "reasoning": {"effort": "max"}})).is_err()
        );
    }
}
