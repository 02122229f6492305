//! What the OpenAI side keeps in memory: uploaded files within a total-bytes cap, and batches
//! with their `file` / `batch` wire objects.

use std::collections::HashMap;

use axum::body::Bytes;
use serde_json::{Value, json};

use super::super::config::FilesConfig;
use super::super::errors::ApiError;
use super::types::omit_nulls;

/// One stored file.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// `file-…`
    pub id: String,
    /// The name given at upload.
    pub filename: String,
    /// `batch`, `batch_output`, …
    pub purpose: String,
    /// Content.
    pub data: Bytes,
    /// Unix seconds.
    pub created_at: i64,
}

impl StoredFile {
    /// The `file` object.
    pub fn object(&self) -> Value {
        // `expires_at` (never set here) and the deprecated `status_details` are optional,
        // non-nullable fields of the spec's `OpenAIFile`: left out.
        json!({
            "id": self.id,
            "object": "file",
            "bytes": self.data.len(),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        })
    }
}

/// Files in memory.
#[derive(Debug, Default)]
pub struct FileStore {
    files: HashMap<String, StoredFile>,
    order: Vec<String>,
    total_bytes: usize,
}

impl FileStore {
    /// Stores a file, within the caps.
    pub fn put(&mut self, state_cfg: &FilesConfig, file: StoredFile) -> Result<(), ApiError> {
        if self.files.len() >= state_cfg.max_files {
            return Err(ApiError::invalid(
                None,
                format!(
                    "File limit reached: the mock stores at most {} files; delete some first.",
                    state_cfg.max_files
                ),
            ));
        }
        if self.total_bytes + file.data.len() > state_cfg.max_total_bytes {
            return Err(ApiError::new(
                413,
                format!(
                    "Storage limit reached: the mock stores at most {} bytes of files; delete some first.",
                    state_cfg.max_total_bytes
                ),
            )
            .code("storage_limit_exceeded"));
        }
        self.total_bytes += file.data.len();
        self.order.push(file.id.clone());
        self.files.insert(file.id.clone(), file);
        Ok(())
    }

    /// A file by id.
    pub fn get(&self, id: &str) -> Option<&StoredFile> {
        self.files.get(id)
    }

    /// Files newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &StoredFile> {
        self.order.iter().rev().filter_map(|id| self.files.get(id))
    }

    /// Removes a file.
    pub fn remove(&mut self, id: &str) -> Option<StoredFile> {
        let f = self.files.remove(id)?;
        self.total_bytes -= f.data.len();
        self.order.retain(|x| x != id);
        Some(f)
    }
}

/// One batch.
#[derive(Debug, Clone)]
pub struct BatchRecord {
    pub(crate) id: String,
    pub(crate) input_file_id: String,
    pub(crate) endpoint: String,
    pub(crate) completion_window: String,
    pub(crate) metadata: Value,
    pub(crate) model: Option<String>,
    pub(crate) status: &'static str,
    pub(crate) created_at: i64,
    pub(crate) in_progress_at: Option<i64>,
    pub(crate) expires_at: i64,
    pub(crate) finalizing_at: Option<i64>,
    pub(crate) completed_at: Option<i64>,
    pub(crate) failed_at: Option<i64>,
    pub(crate) expired_at: Option<i64>,
    pub(crate) cancelling_at: Option<i64>,
    pub(crate) cancelled_at: Option<i64>,
    pub(crate) errors: Option<Value>,
    pub(crate) output_file_id: Option<String>,
    pub(crate) error_file_id: Option<String>,
    pub(crate) total: u64,
    pub(crate) completed: u64,
    pub(crate) failed: u64,
    pub(crate) cancel: bool,
    pub(crate) input_tokens: u64,
    pub(crate) cached_tokens: u64,
    pub(crate) output_tokens: u64,
}

impl BatchRecord {
    /// The `batch` object.
    pub fn object(&self) -> Value {
        let object = json!({
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": self.errors,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "in_progress_at": self.in_progress_at,
            "expires_at": self.expires_at,
            "finalizing_at": self.finalizing_at,
            "completed_at": self.completed_at,
            "failed_at": self.failed_at,
            "expired_at": self.expired_at,
            "cancelling_at": self.cancelling_at,
            "cancelled_at": self.cancelled_at,
            "request_counts": {"total": self.total, "completed": self.completed, "failed": self.failed},
            "metadata": self.metadata,
            "usage": {
                "input_tokens": self.input_tokens,
                "input_tokens_details": {"cached_tokens": self.cached_tokens},
                "output_tokens": self.output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": self.input_tokens + self.output_tokens,
            },
        });
        // Per the OpenAPI spec's `Batch`: these are optional, not nullable (`metadata` is).
        omit_nulls(
            object,
            &[
                "errors",
                "output_file_id",
                "error_file_id",
                "in_progress_at",
                "expires_at",
                "finalizing_at",
                "completed_at",
                "failed_at",
                "expired_at",
                "cancelling_at",
                "cancelled_at",
            ],
        )
    }

    /// Completed, failed, expired or cancelled.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.status,
            "completed" | "failed" | "expired" | "cancelled"
        )
    }
}

/// Batches in memory.
#[derive(Debug, Default)]
pub struct BatchStore {
    pub(crate) map: HashMap<String, BatchRecord>,
    pub(crate) order: Vec<String>,
}

impl BatchStore {
    /// Stores a new batch, first evicting the oldest finished ones beyond `max`.
    pub fn insert(&mut self, r: BatchRecord, max: usize) {
        while self.order.len() >= max.max(1) {
            let Some(pos) = self
                .order
                .iter()
                .position(|id| self.map.get(id).is_none_or(BatchRecord::is_terminal))
            else {
                break;
            };
            let old = self.order.remove(pos);
            self.map.remove(&old);
        }
        self.order.push(r.id.clone());
        self.map.insert(r.id.clone(), r);
    }
}
