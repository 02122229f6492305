//! The Files API as python-genai uses it: the resumable upload (`POST /upload/v1beta/files`
//! with `X-Goog-Upload-Protocol: resumable` and `X-Goog-Upload-Command: start`, then the upload
//! URL the mock hands out, on its own origin, with `upload` / `upload, finalize`), metadata,
//! list, delete, and the download of generated files (batch results) at
//! `/v1beta/files/{id}:download` and `/download/v1beta/files/{id}:download`, `alt=media`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Value, json};

use super::super::errors::ApiError;
use super::super::respond;
use super::super::state::{State, lock};
use super::request::{Paging, field, page_body, query_param};
use super::store::{GeminiFile, UploadSession};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Google's answer for a file that does not exist (or is not the caller's).
pub fn missing(id: &str) -> ApiError {
    ApiError::new(
        403,
        format!("You do not have permission to access the File {id} or it may not exist."),
    )
}

/// A fresh file id: 12 lower-case letters and digits, as Google's look.
pub fn new_file_id(state: &State) -> String {
    state.random_id("", 12).to_ascii_lowercase()
}

fn upload_response(status: &'static str, body: Option<&Value>) -> Response {
    let mut resp = match body {
        Some(b) => respond::json(200, b, Vec::new()),
        None => Response::new(Body::empty()),
    };
    resp.headers_mut()
        .insert("x-goog-upload-status", HeaderValue::from_static(status));
    resp
}

/// `POST /upload/v1beta/files`: a resumable upload's `start` (no `upload_id`), or a chunk sent
/// to the upload URL (`upload_id` in the query).
pub async fn upload(
    state: Arc<State>,
    base: &str,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Bytes,
) -> Result<Response, ApiError> {
    match query_param(query, "upload_id") {
        Some(upload_id) => chunk(&state, base, headers, &upload_id, body),
        None => start(&state, base, headers, &body),
    }
}

fn start(
    state: &State,
    base: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    if header(headers, "x-goog-upload-protocol") != Some("resumable")
        || !header(headers, "x-goog-upload-command")
            .is_some_and(|c| c.eq_ignore_ascii_case("start"))
    {
        return Err(ApiError::invalid(
            None,
            "The mock serves resumable uploads only: send X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.",
        ));
    }
    // python-genai sends the proto names (`display_name`, `mime_type`): both spellings are read.
    let meta: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid(None, format!("Invalid JSON payload received. {e}")))?
    };
    let file = meta.get("file").cloned().unwrap_or(json!({}));
    let declared =
        header(headers, "x-goog-upload-header-content-length").and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.config.files.max_file_bytes as u64) {
        return Err(ApiError::invalid(
            None,
            format!(
                "File too large: at most {} bytes.",
                state.config.files.max_file_bytes
            ),
        ));
    }
    let mime_type = header(headers, "x-goog-upload-header-content-type")
        .map(str::to_string)
        .or_else(|| {
            field(&file, "mimeType", "mime_type")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "application/octet-stream".into());
    let id = match file.get("name").and_then(Value::as_str) {
        Some(name) => name.trim_start_matches("files/").to_string(),
        None => new_file_id(state),
    };
    let upload_id = state.random_id("", 32);
    let session = UploadSession {
        id,
        display_name: field(&file, "displayName", "display_name")
            .and_then(Value::as_str)
            .map(str::to_string),
        mime_type,
        declared,
        data: Vec::new(),
    };
    lock(&state.gemini)
        .files
        .uploads
        .insert(upload_id.clone(), session);
    let mut resp = upload_response("active", None);
    let url = format!("{base}/upload/v1beta/files?upload_id={upload_id}&upload_protocol=resumable");
    if let Ok(v) = HeaderValue::from_str(&url) {
        resp.headers_mut().insert("x-goog-upload-url", v);
    }
    Ok(resp)
}

fn chunk(
    state: &State,
    base: &str,
    headers: &HeaderMap,
    upload_id: &str,
    body: Bytes,
) -> Result<Response, ApiError> {
    let command = header(headers, "x-goog-upload-command")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let finalize = command.split(',').any(|c| c.trim() == "finalize");
    let mut store = lock(&state.gemini);
    let session = store
        .files
        .uploads
        .get_mut(upload_id)
        .ok_or_else(|| ApiError::not_found(format!("No upload session {upload_id}.")))?;
    let offset = header(headers, "x-goog-upload-offset").and_then(|v| v.parse::<usize>().ok());
    if offset.is_some_and(|o| o != session.data.len()) {
        return Err(ApiError::invalid(
            None,
            format!(
                "The upload offset {offset:?} does not match the {} bytes received.",
                session.data.len()
            ),
        ));
    }
    session.data.extend_from_slice(&body);
    if session.data.len() > state.config.files.max_file_bytes {
        store.files.uploads.remove(upload_id);
        return Err(ApiError::invalid(None, "File too large."));
    }
    if !finalize {
        return Ok(upload_response("active", None));
    }
    let Some(done) = store.files.uploads.remove(upload_id) else {
        return Err(ApiError::not_found(format!(
            "No upload session {upload_id}."
        )));
    };
    if done.declared.is_some_and(|n| n != done.data.len() as u64) {
        return Err(ApiError::invalid(
            None,
            format!(
                "Received {} bytes; the upload declared {:?}.",
                done.data.len(),
                done.declared
            ),
        ));
    }
    let file = GeminiFile {
        id: done.id,
        display_name: done.display_name,
        mime_type: done.mime_type,
        data: Bytes::from(done.data),
        created: Utc::now(),
        generated: false,
    };
    let obj = file.object(base);
    store.files.put(&state.config.files, file)?;
    Ok(upload_response("final", Some(&json!({"file": obj}))))
}

/// `GET /v1beta/files/{id}`.
pub fn get(state: &State, base: &str, id: &str) -> Result<Response, ApiError> {
    let store = lock(&state.gemini);
    let f = store.files.get(id).ok_or_else(|| missing(id))?;
    Ok(respond::json(200, &f.object(base), Vec::new()))
}

/// `GET …/files/{id}:download?alt=media`: the bytes of a generated file.
pub fn download(state: &State, id: &str, query: Option<&str>) -> Result<Response, ApiError> {
    if query_param(query, "alt").as_deref() != Some("media") {
        return Err(ApiError::invalid(None, "Downloads need alt=media."));
    }
    let store = lock(&state.gemini);
    let f = store.files.get(id).ok_or_else(|| missing(id))?;
    if !f.generated {
        return Err(ApiError::invalid(
            None,
            format!("File files/{id} was uploaded: only generated files can be downloaded."),
        ));
    }
    let mut resp = Response::new(Body::from(f.data.clone()));
    if let Ok(v) = HeaderValue::from_str(&f.mime_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    Ok(resp)
}

/// `DELETE /v1beta/files/{id}` (an empty object back, as Google's `Empty`).
pub fn delete(state: &State, id: &str) -> Result<Response, ApiError> {
    lock(&state.gemini)
        .files
        .remove(id)
        .ok_or_else(|| missing(id))?;
    Ok(respond::json(200, &json!({}), Vec::new()))
}

/// `GET /v1beta/files?pageSize&pageToken` (newest first; `pageSize` up to 100, 10 unless given).
pub fn list(state: &State, base: &str, query: Option<&str>) -> Result<Response, ApiError> {
    let store = lock(&state.gemini);
    let all: Vec<Value> = store.files.newest_first().map(|f| f.object(base)).collect();
    let body = page_body(
        "files",
        all,
        query,
        Paging {
            default: 10,
            max: 100,
        },
    );
    Ok(respond::json(200, &body, Vec::new()))
}
