//! The Anthropic Message Batches held in memory, and their `message_batch` wire object.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// One message batch.
#[derive(Debug, Clone)]
pub struct MessageBatch {
    pub(crate) id: String,
    pub(crate) status: &'static str,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) ended_at: Option<DateTime<Utc>>,
    pub(crate) cancel_initiated_at: Option<DateTime<Utc>>,
    pub(crate) total: u64,
    pub(crate) succeeded: u64,
    pub(crate) errored: u64,
    pub(crate) canceled: u64,
    pub(crate) expired: u64,
    pub(crate) results: Vec<Value>,
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl MessageBatch {
    /// The `message_batch` object (`base` is `http://host` for `results_url`).
    pub fn object(&self, base: &str) -> Value {
        let ended = self.status == "ended";
        json!({
            "id": self.id,
            "type": "message_batch",
            "processing_status": self.status,
            "request_counts": {
                "processing": if ended { 0 } else { self.total },
                "succeeded": if ended { self.succeeded } else { 0 },
                "errored": if ended { self.errored } else { 0 },
                "canceled": if ended { self.canceled } else { 0 },
                "expired": if ended { self.expired } else { 0 },
            },
            "ended_at": self.ended_at.as_ref().map(ts),
            "created_at": ts(&self.created_at),
            "expires_at": ts(&self.expires_at),
            "cancel_initiated_at": self.cancel_initiated_at.as_ref().map(ts),
            "archived_at": null,
            "results_url": ended.then(|| format!("{base}/v1/messages/batches/{}/results", self.id)),
        })
    }
}

/// Message batches in memory.
#[derive(Debug, Default)]
pub struct MessageBatchStore {
    pub(crate) map: HashMap<String, MessageBatch>,
    pub(crate) order: Vec<String>,
}

impl MessageBatchStore {
    /// Stores a new batch, first evicting the oldest ended ones beyond `max` (running batches
    /// are never evicted).
    pub fn insert(&mut self, batch: MessageBatch, max: usize) {
        let max = max.max(1);
        while self.order.len() >= max {
            let Some(pos) = self
                .order
                .iter()
                .position(|i| self.map.get(i).is_none_or(|b| b.status == "ended"))
            else {
                break;
            };
            let old = self.order.remove(pos);
            self.map.remove(&old);
        }
        self.order.push(batch.id.clone());
        self.map.insert(batch.id.clone(), batch);
    }
}
