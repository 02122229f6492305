//! A small server-sent-events line splitter for streamed responses, and [`Events`], the read
//! loop every provider's stream shares.
//!
//! Hand-written (50 lines) because it is push-based: [`Events`] keeps the per-chunk idle timeout
//! and the "2xx, then broken" classification of the other calls, which a `Stream` adapter crate
//! (eventsource-stream) would take over.

use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::error::{CallError, CallErrorKind};
use super::http;

/// The events of a streamed response, a chunk at a time: a chunk that does not come within the
/// idle timeout is a timeout error, and a connection that breaks after the 2xx a `dropped` one.
pub(crate) struct Events {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    sse: SseBuffer,
    idle: Duration,
    headers: HeaderMap,
}

impl Events {
    /// Reads `response`'s body; `headers` are its headers (kept for the error of a cut stream).
    pub(crate) fn new(response: reqwest::Response, headers: HeaderMap, idle: Duration) -> Events {
        Events {
            body: Box::pin(response.bytes_stream()),
            sse: SseBuffer::default(),
            idle,
            headers,
        }
    }

    /// The events the next chunk completes (possibly none); `None` once the body has ended.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Vec<Event>>, CallError> {
        match tokio::time::timeout(self.idle, self.body.next()).await {
            Err(_) => Err(http::timeout("stream stalled", self.idle)),
            Ok(None) => Ok(None),
            Ok(Some(Err(e))) => Err(http::dropped(http::transport(e), &self.headers)),
            Ok(Some(Ok(c))) => Ok(Some(self.sse.push(&c))),
        }
    }

    /// The response's headers.
    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// An event's data as JSON, or a decode error saying so.
pub(crate) fn json(event: &Event) -> Result<Value, CallError> {
    serde_json::from_str(&event.data).map_err(|e| {
        CallError::new(
            CallErrorKind::Decode,
            format!("invalid JSON in a stream event: {e}"),
        )
    })
}

/// Accumulates bytes and yields complete `data:` payloads (and `event:` names) as they arrive.
#[derive(Debug, Default)]
pub(crate) struct SseBuffer {
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for a blank line (less three, for a split `\r\n\r\n`).
    scanned: usize,
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) event: Option<String>,
    pub(crate) data: String,
}

impl SseBuffer {
    /// Appends bytes; returns every event completed by them.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = find_blank_line(&self.buf, self.scanned) {
            let block: Vec<u8> = self.buf.drain(..end.0).collect();
            self.buf.drain(..end.1 - end.0);
            self.scanned = 0;
            let text = String::from_utf8_lossy(&block);
            let mut event = None;
            let mut data = Vec::new();
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_string());
                }
            }
            if !data.is_empty() || event.is_some() {
                events.push(Event {
                    event,
                    data: data.join("\n"),
                });
            }
        }
        self.scanned = self.buf.len().saturating_sub(3);
        events
    }
}

/// Finds the end of the first event block at or after `from`: (start of the blank line, end
/// of it).
fn find_blank_line(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    for i in from..buf.len() {
        if buf[i..].starts_with(b"\n\n") {
            return Some((i, i + 2));
        }
        if buf[i..].starts_with(b"\r\n\r\n") {
            return Some((i, i + 4));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_events_across_chunks() {
        let mut b = SseBuffer::default();
        assert!(b.push(b"data: {\"a\"").is_empty());
        let ev = b.push(b":1}\n\nevent: ping\ndata: x\n\ndata: [DONE]\n\n");
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[0].data, "{\"a\":1}");
        assert_eq!(ev[1].event.as_deref(), Some("ping"));
        assert_eq!(ev[2].data, "[DONE]");
    }

    #[test]
    fn a_blank_line_split_across_chunks_is_found() {
        let mut b = SseBuffer::default();
        assert!(b.push(b"data: a\r\n").is_empty());
        assert!(b.push(b"\r").is_empty());
        let ev = b.push(b"\ndata: b\n");
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].data, "a");
        assert_eq!(b.push(b"\n")[0].data, "b");
    }
}
