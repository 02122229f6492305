//! What the Gemini side keeps in memory, with the wire object of each: files (uploaded, and the
//! batch result files the mock writes) and the resumable uploads under way, explicit context
//! caches (`cachedContents`), and batches as Google's long-running operations.

use std::collections::HashMap;

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::super::config::FilesConfig;
use super::super::errors::ApiError;
use super::types::CachedPrefix;

/// RFC 3339 in UTC with nanoseconds, as Google's `Timestamp` JSON is written.
pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// One stored file.
#[derive(Debug, Clone)]
pub struct GeminiFile {
    /// The id after `files/`.
    pub id: String,
    /// `displayName`, when given.
    pub display_name: Option<String>,
    /// `mimeType`.
    pub mime_type: String,
    /// The content.
    pub data: Bytes,
    /// `createTime` (also `updateTime`).
    pub created: DateTime<Utc>,
    /// A batch result file (`source: GENERATED`, downloadable), not an upload.
    pub generated: bool,
}

impl GeminiFile {
    /// The `File` resource; `base` is the mock's own origin (`http://host`), so `uri` and
    /// `downloadUri` point back at it.
    pub fn object(&self, base: &str) -> Value {
        // Uploaded files are deleted after 48 hours (ai.google.dev/gemini-api/docs/files).
        let expires = self.created + chrono::Duration::hours(48);
        let mut f = json!({
            "name": format!("files/{}", self.id),
            "mimeType": self.mime_type,
            "sizeBytes": self.data.len().to_string(),
            "createTime": timestamp(&self.created),
            "updateTime": timestamp(&self.created),
            "expirationTime": timestamp(&expires),
            "uri": format!("{base}/v1beta/files/{}", self.id),
            "state": "ACTIVE",
            "source": if self.generated { "GENERATED" } else { "UPLOADED" },
        });
        if let Some(d) = &self.display_name {
            f["displayName"] = json!(d);
        }
        if self.generated {
            f["downloadUri"] = json!(format!(
                "{base}/download/v1beta/files/{}:download?alt=media",
                self.id
            ));
        }
        f
    }
}

/// A resumable upload between its `start` and its `finalize`.
#[derive(Debug, Clone, Default)]
pub struct UploadSession {
    /// The file id it will get (`file.name` asked for at start, or a drawn one).
    pub id: String,
    /// `file.displayName`.
    pub display_name: Option<String>,
    /// `X-Goog-Upload-Header-Content-Type` (or `file.mimeType`).
    pub mime_type: String,
    /// `X-Goog-Upload-Header-Content-Length`, when declared.
    pub declared: Option<u64>,
    /// The bytes received so far.
    pub data: Vec<u8>,
}

/// Gemini files and the uploads under way, within the mock's file caps.
#[derive(Debug, Default)]
pub struct GeminiFiles {
    files: HashMap<String, GeminiFile>,
    order: Vec<String>,
    total_bytes: usize,
    /// Upload sessions by upload id.
    pub uploads: HashMap<String, UploadSession>,
}

impl GeminiFiles {
    /// Stores a file within the caps (`max_files`, `max_total_bytes`).
    pub fn put(&mut self, cfg: &FilesConfig, file: GeminiFile) -> Result<(), ApiError> {
        if self.files.contains_key(&file.id) {
            return Err(ApiError::new(
                409,
                format!("File files/{} already exists.", file.id),
            ));
        }
        if self.files.len() >= cfg.max_files
            || self.total_bytes + file.data.len() > cfg.max_total_bytes
        {
            return Err(ApiError::new(
                429,
                "Storage quota exceeded: the mock stores a bounded number of bytes and files; delete some first.",
            ));
        }
        self.total_bytes += file.data.len();
        self.order.push(file.id.clone());
        self.files.insert(file.id.clone(), file);
        Ok(())
    }

    /// A file by id.
    pub fn get(&self, id: &str) -> Option<&GeminiFile> {
        self.files.get(id)
    }

    /// Files newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &GeminiFile> {
        self.order.iter().rev().filter_map(|id| self.files.get(id))
    }

    /// Removes a file.
    pub fn remove(&mut self, id: &str) -> Option<GeminiFile> {
        let f = self.files.remove(id)?;
        self.total_bytes -= f.data.len();
        self.order.retain(|x| x != id);
        Some(f)
    }
}

/// One explicit context cache.
#[derive(Debug, Clone)]
pub struct CacheRecord {
    /// The id after `cachedContents/`.
    pub id: String,
    /// `displayName`.
    pub display_name: Option<String>,
    /// The model id (without `models/`).
    pub model: String,
    /// What it puts before a request.
    pub prefix: CachedPrefix,
    /// `createTime`.
    pub created: DateTime<Utc>,
    /// `updateTime`.
    pub updated: DateTime<Utc>,
    /// `expireTime`.
    pub expires: DateTime<Utc>,
}

impl CacheRecord {
    /// The `CachedContent` resource (contents are not returned, as Google returns none).
    pub fn object(&self) -> Value {
        let mut c = json!({
            "name": format!("cachedContents/{}", self.id),
            "model": format!("models/{}", self.model),
            "createTime": timestamp(&self.created),
            "updateTime": timestamp(&self.updated),
            "expireTime": timestamp(&self.expires),
            "usageMetadata": {"totalTokenCount": self.prefix.tokens},
        });
        if let Some(d) = &self.display_name {
            c["displayName"] = json!(d);
        }
        c
    }
}

/// Explicit caches; an expired one is gone, as Google deletes it at its `expireTime`.
#[derive(Debug, Default)]
pub struct GeminiCaches {
    map: HashMap<String, CacheRecord>,
    order: Vec<String>,
}

impl GeminiCaches {
    /// Drops the caches whose `expireTime` has passed.
    pub fn purge(&mut self, now: DateTime<Utc>) {
        self.map.retain(|_, c| c.expires > now);
        let map = &self.map;
        self.order.retain(|id| map.contains_key(id));
    }

    /// Stores a cache.
    pub fn insert(&mut self, c: CacheRecord) {
        self.order.push(c.id.clone());
        self.map.insert(c.id.clone(), c);
    }

    /// A live cache by id, at `now`.
    pub fn live(&mut self, id: &str, now: DateTime<Utc>) -> Option<&mut CacheRecord> {
        self.purge(now);
        self.map.get_mut(id)
    }

    /// Removes a cache.
    pub fn remove(&mut self, id: &str) -> Option<CacheRecord> {
        self.order.retain(|x| x != id);
        self.map.remove(id)
    }

    /// Live caches, oldest first.
    pub fn all(&self) -> impl Iterator<Item = &CacheRecord> {
        self.order.iter().filter_map(|id| self.map.get(id))
    }
}

/// Where a batch's requests came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchInput {
    /// `inputConfig.requests`: inline requests.
    Inline,
    /// `inputConfig.fileName`: a JSONL file of `{"key", "request"}` lines.
    File(String),
}

/// Where a finished batch's results are.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchOutput {
    /// `inlinedResponses`: one entry per request, in input order.
    Inline(Vec<Value>),
    /// `responsesFile`: `files/batch-{id}`.
    File(String),
}

/// The `@type` of a batch operation's metadata and response (as the live API sends them).
const BATCH_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
const OUTPUT_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";

/// One batch: its state (`BATCH_STATE_*` on the wire; python-genai shows them as
/// `JOB_STATE_*`), counts and output.
#[derive(Debug, Clone)]
pub struct GeminiBatch {
    /// The id after `batches/`.
    pub id: String,
    /// Model id (without `models/`).
    pub model: String,
    /// `displayName`.
    pub display_name: String,
    /// Where the requests came from.
    pub input: BatchInput,
    /// `BATCH_STATE_PENDING`, `_RUNNING`, `_SUCCEEDED`, `_FAILED`, `_CANCELLED`, `_EXPIRED`.
    pub state: &'static str,
    /// `createTime`.
    pub created: DateTime<Utc>,
    /// `updateTime`.
    pub updated: DateTime<Utc>,
    /// `endTime`, once terminal.
    pub ended: Option<DateTime<Utc>>,
    /// Requests in the batch.
    pub total: u64,
    /// Requests answered.
    pub succeeded: u64,
    /// Requests that failed on their own.
    pub failed: u64,
    /// A cancel was asked for.
    pub cancel: bool,
    /// Results, once succeeded (also kept for the requests finished before a cancel or expiry).
    pub output: Option<BatchOutput>,
    /// The operation's `error` (a `google.rpc.Status` with a numeric code) when it failed.
    pub error: Option<Value>,
}

impl GeminiBatch {
    /// Succeeded, failed, cancelled or expired.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.state,
            "BATCH_STATE_SUCCEEDED"
                | "BATCH_STATE_FAILED"
                | "BATCH_STATE_CANCELLED"
                | "BATCH_STATE_EXPIRED"
        )
    }

    fn output_json(&self) -> Option<Value> {
        Some(match self.output.as_ref()? {
            BatchOutput::Inline(rows) => json!({"inlinedResponses": {"inlinedResponses": rows}}),
            BatchOutput::File(name) => json!({"responsesFile": name}),
        })
    }

    /// `batchStats`: int64 counts as strings, zeros left out (proto3 JSON).
    fn stats(&self) -> Value {
        let pending = self.total.saturating_sub(self.succeeded + self.failed);
        let mut s = json!({"requestCount": self.total.to_string()});
        for (k, v) in [
            ("successfulRequestCount", self.succeeded),
            ("failedRequestCount", self.failed),
            (
                "pendingRequestCount",
                if self.is_terminal() { 0 } else { pending },
            ),
        ] {
            if v > 0 {
                s[k] = json!(v.to_string());
            }
        }
        s
    }

    /// The long-running `Operation`: `name`, `metadata` (the `GenerateContentBatch`), and once
    /// terminal `done` with the `response` (output) or the `error`.
    pub fn operation(&self) -> Value {
        let name = format!("batches/{}", self.id);
        let mut meta = json!({
            "@type": BATCH_TYPE,
            "model": format!("models/{}", self.model),
            "displayName": self.display_name,
            "createTime": timestamp(&self.created),
            "updateTime": timestamp(&self.updated),
            "batchStats": self.stats(),
            "state": self.state,
            "name": name,
        });
        if let BatchInput::File(f) = &self.input {
            meta["inputConfig"] = json!({"fileName": f});
        }
        if let Some(end) = &self.ended {
            meta["endTime"] = json!(timestamp(end));
        }
        let output = self.output_json();
        if let Some(o) = &output {
            meta["output"] = o.clone();
        }
        let mut op = json!({"name": name, "metadata": meta});
        if self.is_terminal() {
            op["done"] = json!(true);
            if let Some(e) = &self.error {
                op["error"] = e.clone();
            } else if let (Some(mut o), "BATCH_STATE_SUCCEEDED") = (output, self.state) {
                o["@type"] = json!(OUTPUT_TYPE);
                op["response"] = o;
            }
        }
        op
    }
}

/// Batches in memory, oldest first.
#[derive(Debug, Default)]
pub struct GeminiBatches {
    /// By id.
    pub map: HashMap<String, GeminiBatch>,
    /// Ids in creation order.
    pub order: Vec<String>,
}

impl GeminiBatches {
    /// Stores a new batch, first evicting the oldest finished ones beyond `max`.
    pub fn insert(&mut self, b: GeminiBatch, max: usize) {
        while self.order.len() >= max.max(1) {
            let Some(pos) = self
                .order
                .iter()
                .position(|id| self.map.get(id).is_none_or(GeminiBatch::is_terminal))
            else {
                break;
            };
            let old = self.order.remove(pos);
            self.map.remove(&old);
        }
        self.order.push(b.id.clone());
        self.map.insert(b.id.clone(), b);
    }
}

/// Everything the Gemini side stores.
#[derive(Debug, Default)]
pub struct GeminiStore {
    /// Files and uploads.
    pub files: GeminiFiles,
    /// Explicit caches.
    pub caches: GeminiCaches,
    /// Batches.
    pub batches: GeminiBatches,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(state: &'static str) -> GeminiBatch {
        let t = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap();
        GeminiBatch {
            id: "b1".into(),
            model: "gemini-2.5-flash".into(),
            display_name: "d".into(),
            input: BatchInput::Inline,
            state,
            created: t,
            updated: t,
            ended: None,
            total: 3,
            succeeded: 0,
            failed: 0,
            cancel: false,
            output: None,
            error: None,
        }
    }

    #[test]
    fn operation_in_each_state() {
        let pending = batch("BATCH_STATE_PENDING").operation();
        assert_eq!(pending["name"], "batches/b1");
        assert_eq!(pending["metadata"]["state"], "BATCH_STATE_PENDING");
        assert_eq!(pending["metadata"]["model"], "models/gemini-2.5-flash");
        assert_eq!(
            pending["metadata"]["batchStats"],
            json!({"requestCount": "3", "pendingRequestCount": "3"})
        );
        assert_eq!(
            pending["metadata"]["createTime"],
            "2026-12-01T00:00:00.000000000Z"
        );
        assert!(pending.get("done").is_none());

        let mut done = batch("BATCH_STATE_SUCCEEDED");
        done.succeeded = 2;
        done.failed = 1;
        done.ended = Some(done.created);
        done.output = Some(BatchOutput::Inline(vec![json!({"metadata": {"key": "a"}})]));
        let op = done.operation();
        assert_eq!(op["done"], true);
        assert_eq!(
            op["metadata"]["batchStats"],
            json!({"requestCount": "3", "successfulRequestCount": "2", "failedRequestCount": "1"})
        );
        assert_eq!(
            op["metadata"]["output"]["inlinedResponses"]["inlinedResponses"][0]["metadata"]["key"],
            "a"
        );
        assert_eq!(op["response"]["@type"], OUTPUT_TYPE);
        assert!(op["metadata"]["endTime"].is_string());

        let mut failed = batch("BATCH_STATE_FAILED");
        failed.error = Some(json!({"code": 3, "message": "bad input"}));
        let op = failed.operation();
        assert_eq!(
            (op["done"].clone(), op["error"]["code"].clone()),
            (json!(true), json!(3))
        );
        assert!(op.get("response").is_none());
        let cancelled = batch("BATCH_STATE_CANCELLED").operation();
        assert_eq!(cancelled["done"], true);
        assert!(cancelled.get("response").is_none());
    }

    #[test]
    fn expired_caches_are_gone() {
        let t0 = Utc::now();
        let mut caches = GeminiCaches::default();
        caches.insert(CacheRecord {
            id: "c1".into(),
            display_name: None,
            model: "gemini-2.5-flash".into(),
            prefix: CachedPrefix {
                system: None,
                contents: Vec::new(),
                tokens: 2_048,
            },
            created: t0,
            updated: t0,
            expires: t0 + chrono::Duration::seconds(60),
        });
        assert!(
            caches
                .live("c1", t0 + chrono::Duration::seconds(59))
                .is_some()
        );
        assert!(
            caches
                .live("c1", t0 + chrono::Duration::seconds(61))
                .is_none()
        );
        assert_eq!(caches.all().count(), 0);
    }
}
