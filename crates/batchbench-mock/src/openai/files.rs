//! `/v1/files`: multipart upload (axum's `Multipart`), metadata, content, delete and list; the
//! files themselves are in [`super::store::FileStore`], within its caps.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State as Shared;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::super::clock::unix_now;
use super::super::errors::ApiError;
use super::super::extract::{Id, ListParams};
use super::super::respond;
use super::super::state::{State, lock};
use super::store::StoredFile;
use super::types::list_page;

/// `POST /v1/files`: the `purpose` and `file` fields of a `multipart/form-data` body.
pub async fn create(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(ApiError::invalid(
            None,
            "The request must be multipart/form-data with 'file' and 'purpose' fields.",
        ));
    }
    let bad = |e: String| ApiError::invalid(None, format!("Invalid multipart body: {e}"));
    let multipart = multipart.map_err(|e| match e {
        MultipartRejection::InvalidBoundary(_) => {
            bad("the Content-Type has no multipart boundary".into())
        }
        other => bad(other.body_text()),
    })?;
    let (purpose, file) = upload_fields(multipart).await.map_err(bad)?;
    let purpose = purpose.ok_or_else(|| {
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
    let file =
        file.ok_or_else(|| ApiError::invalid(Some("file"), "Missing required parameter: 'file'."))?;
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
        filename: file.filename.unwrap_or_else(|| "upload".to_string()),
        purpose,
        data: file.data,
        created_at: unix_now(),
    };
    let obj = stored.object();
    lock(&state.files).put(&state.config.files, stored)?;
    Ok(respond::json(200, &obj, Vec::new()))
}

/// A file part of an upload.
struct Upload {
    filename: Option<String>,
    data: Bytes,
}

/// The first `purpose` and the first `file` field of an upload (others are skipped, as the API
/// ignores unknown fields), within 100 parts.
async fn upload_fields(
    mut multipart: Multipart,
) -> Result<(Option<String>, Option<Upload>), String> {
    let (mut purpose, mut file) = (None, None);
    let mut parts = 0;
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        parts += 1;
        if parts > 100 {
            return Err("too many multipart parts".into());
        }
        match field.name() {
            Some("purpose") if purpose.is_none() => {
                let data = field.bytes().await.map_err(|e| e.body_text())?;
                purpose = Some(String::from_utf8_lossy(&data).trim().to_string());
            }
            Some("file") if file.is_none() => {
                let filename = field.file_name().map(str::to_string);
                let data = field.bytes().await.map_err(|e| e.body_text())?;
                file = Some(Upload { filename, data });
            }
            _ => {}
        }
    }
    Ok((purpose, file))
}

fn missing(id: &str) -> ApiError {
    ApiError::not_found(format!("No such File object: {id}"))
}

/// `GET /v1/files/{id}`.
pub async fn get(Shared(state): Shared<Arc<State>>, Id(id): Id) -> Result<Response, ApiError> {
    let id = id.as_str();
    let files = lock(&state.files);
    let f = files.get(id).ok_or_else(|| missing(id))?;
    Ok(respond::json(200, &f.object(), Vec::new()))
}

/// `GET /v1/files/{id}/content`: the raw bytes.
pub async fn content(Shared(state): Shared<Arc<State>>, Id(id): Id) -> Result<Response, ApiError> {
    let id = id.as_str();
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
pub async fn delete(Shared(state): Shared<Arc<State>>, Id(id): Id) -> Result<Response, ApiError> {
    let id = id.as_str();
    lock(&state.files).remove(id).ok_or_else(|| missing(id))?;
    Ok(respond::json(
        200,
        &json!({"id": id, "object": "file", "deleted": true}),
        Vec::new(),
    ))
}

/// `GET /v1/files` (newest first, `limit`, `after`, `purpose`).
pub async fn list(
    Shared(state): Shared<Arc<State>>,
    query: ListParams,
) -> Result<Response, ApiError> {
    let limit = query
        .limit
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10_000)
        .clamp(1, 10_000);
    let purpose = query.purpose;
    let after = query.after;
    let files = lock(&state.files);
    let all: Vec<&StoredFile> = files
        .newest_first()
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
    let body = list_page(page, has_more);
    Ok(respond::json(200, &body, Vec::new()))
}
