//! The SSE form of a chat completion: `chat.completion.chunk` objects (role, one per token,
//! finish), the usage chunk with empty `choices` when `stream_options.include_usage`, then
//! `data: [DONE]`. The first content arrives after the TTFT, the rest one token per
//! inter-token interval.

use std::time::Duration;

use serde_json::{Value, json};

use super::super::latency::Timing;
use super::super::respond::SseEvent;
use super::super::text;
use super::types::{ChatParams, Completed, Usage, fingerprint};

/// The events of one streamed completion.
pub fn events(p: &ChatParams, done: &Completed, timing: Timing) -> Vec<SseEvent> {
    let fp = fingerprint(&p.model);
    let chunk = |choices: Value, usage: Option<Value>| {
        let mut c = json!({
            "id": done.id,
            "object": "chat.completion.chunk",
            "created": done.created,
            "model": p.model,
            "service_tier": done.service_tier,
            "system_fingerprint": fp,
            "choices": choices,
        });
        if p.include_usage {
            c["usage"] = usage.unwrap_or(Value::Null);
        }
        c.to_string()
    };
    let ev = |delay: Duration, data: String| SseEvent {
        delay,
        name: None,
        data,
    };
    let mut out = Vec::new();
    let first: Vec<Value> = (0..done.choices.len())
        .map(|i| json!({"index": i, "delta": {"role": "assistant", "content": "", "refusal": null}, "logprobs": null, "finish_reason": null}))
        .collect();
    out.push(ev(Duration::ZERO, chunk(Value::Array(first), None)));
    let pieces: Vec<Vec<String>> = done
        .choices
        .iter()
        .map(|c| text::pieces(&p.model, &c.text))
        .collect();
    let steps = pieces.iter().map(Vec::len).max().unwrap_or(0);
    for step in 0..steps {
        let delay = if step == 0 {
            timing.ttft
        } else {
            timing.per_token
        };
        for (i, ps) in pieces.iter().enumerate() {
            if let Some(piece) = ps.get(step) {
                let c = json!([{"index": i, "delta": {"content": piece}, "logprobs": null, "finish_reason": null}]);
                let d = if i == 0 || pieces[..i].iter().all(|q| q.get(step).is_none()) {
                    delay
                } else {
                    Duration::ZERO
                };
                out.push(ev(d, chunk(c, None)));
            }
        }
    }
    let delay = if steps == 0 {
        timing.ttft
    } else {
        Duration::ZERO
    };
    for (i, c) in done.choices.iter().enumerate() {
        let fin =
            json!([{"index": i, "delta": {}, "logprobs": null, "finish_reason": c.finish_reason}]);
        out.push(ev(
            if i == 0 { delay } else { Duration::ZERO },
            chunk(fin, None),
        ));
    }
    if p.include_usage {
        let usage = Usage::new(
            done.prompt_tokens,
            done.cached_tokens,
            done.completion_tokens,
        )
        .with_reasoning(done.reasoning_tokens);
        out.push(ev(Duration::ZERO, chunk(json!([]), Some(json!(usage)))));
    }
    out.push(ev(Duration::ZERO, "[DONE]".to_string()));
    out
}
