//! `/v1/files`: multipart upload, metadata, content, delete and list, held in memory within a
//! total-bytes cap (uploads beyond it are refused with 413 / 400).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::super::errors::ApiError;
use super::super::respond;
use super::super::router::Ctx;
use super::super::state::{State, lock, unix_now};

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
    pub fn put(
        &mut self,
        state_cfg: &super::super::config::FilesConfig,
        file: StoredFile,
    ) -> Result<(), ApiError> {
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

    /// Removes a file.
    pub fn remove(&mut self, id: &str) -> Option<StoredFile> {
        let f = self.files.remove(id)?;
        self.total_bytes -= f.data.len();
        self.order.retain(|x| x != id);
        Some(f)
    }
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Form field name.
    pub name: String,
    /// File name, for file parts.
    pub filename: Option<String>,
    /// Content.
    pub data: Bytes,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn disposition_param(line: &str, name: &str) -> Option<String> {
    for piece in line.split(';') {
        let piece = piece.trim();
        if let Some(v) = piece.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            return Some(v.trim_matches('"').to_string());
        }
    }
    None
}

/// Parses a `multipart/form-data` body.
pub fn parse_multipart(content_type: &str, body: &Bytes) -> Result<Vec<Part>, String> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .filter(|b| !b.is_empty())
        .ok_or("the Content-Type has no multipart boundary")?;
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut pos = find(body, &delim, 0).ok_or("the multipart body has no boundary line")?;
    loop {
        let after = pos + delim.len();
        if body.get(after..after + 2) == Some(b"--") {
            break;
        }
        let head_start = after + 2; // CRLF after the boundary
        let head_end =
            find(body, b"\r\n\r\n", head_start).ok_or("a multipart part has no header end")?;
        let head = String::from_utf8_lossy(&body[head_start.min(head_end)..head_end]).to_string();
        let data_start = head_end + 4;
        let mut next_delim = b"\r\n".to_vec();
        next_delim.extend_from_slice(&delim);
        let data_end =
            find(body, &next_delim, data_start).ok_or("a multipart part is not terminated")?;
        let mut name = None;
        let mut filename = None;
        for line in head.split("\r\n") {
            if line
                .to_ascii_lowercase()
                .starts_with("content-disposition:")
            {
                name = disposition_param(line, "name");
                filename = disposition_param(line, "filename");
            }
        }
        if let Some(name) = name {
            parts.push(Part {
                name,
                filename,
                data: body.slice(data_start..data_end),
            });
        }
        pos = data_end + 2;
        if parts.len() > 100 {
            return Err("too many multipart parts".into());
        }
    }
    Ok(parts)
}

/// `POST /v1/files`.
pub fn create(state: &Arc<State>, ctx: &Ctx) -> Result<Response, ApiError> {
    let ct = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(ApiError::invalid(
            None,
            "The request must be multipart/form-data with 'file' and 'purpose' fields.",
        ));
    }
    let parts = parse_multipart(ct, &ctx.body)
        .map_err(|e| ApiError::invalid(None, format!("Invalid multipart body: {e}")))?;
    let purpose = parts
        .iter()
        .find(|p| p.name == "purpose")
        .map(|p| String::from_utf8_lossy(&p.data).trim().to_string())
        .ok_or_else(|| {
            ApiError::invalid(Some("purpose"), "Missing required parameter: 'purpose'.")
        })?;
    const PURPOSES: &[&str] = &[
        "batch",
        "assistants",
        "fine-tune",
        "vision",
        "user_data",
        "evals",
    ];
    if !PURPOSES.contains(&purpose.as_str()) {
        return Err(ApiError::invalid(
            Some("purpose"),
            format!("Invalid value for 'purpose': '{purpose}'."),
        ));
    }
    let file = parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or_else(|| ApiError::invalid(Some("file"), "Missing required parameter: 'file'."))?;
    if file.data.len() > state.config.files.max_file_bytes {
        return Err(ApiError::new(
            413,
            format!(
                "File too large: at most {} bytes.",
                state.config.files.max_file_bytes
            ),
        )
        .code("file_too_large"));
    }
    let stored = StoredFile {
        id: state.random_id("file-", 22),
        filename: file
            .filename
            .clone()
            .unwrap_or_else(|| "upload".to_string()),
        purpose,
        data: file.data.clone(),
        created_at: unix_now(),
    };
    let obj = stored.object();
    lock(&state.files).put(&state.config.files, stored)?;
    Ok(respond::json(200, &obj, &[]))
}

fn missing(id: &str) -> ApiError {
    ApiError::not_found(format!("No such File object: {id}"))
}

/// `GET /v1/files/{id}`.
pub fn get(state: &Arc<State>, id: &str) -> Result<Response, ApiError> {
    let files = lock(&state.files);
    let f = files.get(id).ok_or_else(|| missing(id))?;
    Ok(respond::json(200, &f.object(), &[]))
}

/// `GET /v1/files/{id}/content`: the raw bytes.
pub fn content(state: &Arc<State>, id: &str) -> Result<Response, ApiError> {
    let data = lock(&state.files)
        .get(id)
        .map(|f| f.data.clone())
        .ok_or_else(|| missing(id))?;
    let mut resp = Response::new(Body::from(data));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(resp)
}

/// `DELETE /v1/files/{id}`.
pub fn delete(state: &Arc<State>, id: &str) -> Result<Response, ApiError> {
    lock(&state.files).remove(id).ok_or_else(|| missing(id))?;
    Ok(respond::json(
        200,
        &json!({"id": id, "object": "file", "deleted": true}),
        &[],
    ))
}

/// `GET /v1/files` (newest first, `limit`, `after`, `purpose`).
pub fn list(state: &Arc<State>, ctx: &Ctx) -> Result<Response, ApiError> {
    let limit = ctx
        .query_param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10_000)
        .clamp(1, 10_000);
    let purpose = ctx.query_param("purpose");
    let after = ctx.query_param("after");
    let files = lock(&state.files);
    let all: Vec<&StoredFile> = files
        .order
        .iter()
        .rev()
        .filter_map(|id| files.files.get(id))
        .filter(|f| purpose.as_ref().is_none_or(|p| &f.purpose == p))
        .collect();
    let start = after
        .and_then(|a| all.iter().position(|f| f.id == a).map(|i| i + 1))
        .unwrap_or(0);
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|f| f.object())
        .collect();
    let has_more = all.len() > start + page.len();
    let body = respond::list_page(page, has_more);
    Ok(respond::json(200, &body, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart() {
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n{\"a\":1}\n{\"b\":2}\n\r\n--XyZ--\r\n",
        );
        let parts = parse_multipart("multipart/form-data; boundary=XyZ", &body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "purpose");
        assert_eq!(&parts[0].data[..], b"batch");
        assert_eq!(parts[1].filename.as_deref(), Some("in.jsonl"));
        assert_eq!(&parts[1].data[..], b"{\"a\":1}\n{\"b\":2}\n");
        assert!(parse_multipart("multipart/form-data", &body).is_err());
        assert!(parse_multipart("multipart/form-data; boundary=Q", &body).is_err());
        assert!(
            parse_multipart(
                "multipart/form-data; boundary=XyZ",
                &Bytes::from_static(b"--XyZ\r\nno end")
            )
            .is_err()
        );
    }
}
