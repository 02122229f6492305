//! The SSE form of a message: `message_start`, `content_block_start`, `ping`, one
//! `content_block_delta` per token, `content_block_stop`, `message_delta` (stop reason and
//! usage), `message_stop`.

use std::time::Duration;

use serde_json::json;

use super::super::latency::Timing;
use super::super::respond::SseEvent;
use super::super::text;
use super::types::{Answered, MessageParams, usage_json};

/// The events of one streamed message.
pub fn events(p: &MessageParams, done: &Answered, timing: Timing) -> Vec<SseEvent> {
    let ev = |delay: Duration, name: &'static str, data: serde_json::Value| SseEvent {
        delay,
        name: Some(name),
        data: data.to_string(),
    };
    let mut start_usage = usage_json(done.input_tokens, &done.cache, 1, "standard");
    start_usage["output_tokens"] = json!(1);
    let mut out = vec![
        ev(
            Duration::ZERO,
            "message_start",
            json!({"type": "message_start", "message": {
                "id": done.id, "type": "message", "role": "assistant", "model": p.model, "content": [],
                "stop_reason": null, "stop_sequence": null, "usage": start_usage,
            }}),
        ),
        ev(
            Duration::ZERO,
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ev(Duration::ZERO, "ping", json!({"type": "ping"})),
    ];
    let pieces = text::pieces(&p.model, &done.text);
    for (i, piece) in pieces.iter().enumerate() {
        let delay = if i == 0 {
            timing.ttft
        } else {
            timing.per_token
        };
        out.push(ev(
            delay,
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    let last_delay = if pieces.is_empty() {
        timing.ttft
    } else {
        Duration::ZERO
    };
    out.push(ev(
        last_delay,
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    out.push(ev(
        Duration::ZERO,
        "message_delta",
        json!({"type": "message_delta",
        "delta": {"stop_reason": done.stop_reason, "stop_sequence": done.stop_sequence},
        "usage": {
            "input_tokens": done.input_tokens,
            "cache_creation_input_tokens": done.cache.write_5m + done.cache.write_1h,
            "cache_read_input_tokens": done.cache.read,
            "output_tokens": done.output_tokens,
        }}),
    ));
    out.push(ev(
        Duration::ZERO,
        "message_stop",
        json!({"type": "message_stop"}),
    ));
    out
}
