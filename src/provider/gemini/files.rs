//! The Files API as Batch Mode uses it: a resumable upload of the JSONL input (`POST
//! /upload/v1beta/files` with `X-Goog-Upload-Command: start`, then the bytes to the
//! `x-goog-upload-url` it returns, in chunks, the last one `upload, finalize`, as
//! python-genai's `files.upload` does), the results file's download (`GET
//! /v1beta/files/{id}:download?alt=media`, as its `files.download` does), and deletion. The
//! upload URL comes from the server, so it is kept on the configured origin before the key is
//! sent to it.

use serde::Deserialize;
use serde_json::json;

use super::{API_VERSION, authorized, url};
use crate::provider::error::{CallError, CallErrorKind};
use crate::provider::headers::header_str;
use crate::provider::http::{self, decode_error, json_body};
use crate::provider::{Client, ProviderKind};

/// The SDK's upload chunk size (8 MiB): every chunk but the last is this long.
pub const CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// The MIME type of a batch input file.
pub const JSONL_MIME: &str = "application/jsonl";

/// A file as the API describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    /// `files/{id}`.
    pub name: String,
    /// Its size, as the server counted it (an int64, so a JSON string).
    #[serde(default)]
    pub size_bytes: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Uploaded {
    file: File,
}

/// The chunks of an upload of `len` bytes: (offset, length, command).
pub fn chunks(len: usize) -> Vec<(usize, usize, &'static str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let n = CHUNK_BYTES.min(len - offset);
        let last = offset + n >= len;
        out.push((offset, n, if last { "upload, finalize" } else { "upload" }));
        offset += n;
        if last {
            return out;
        }
    }
}

/// Uploads `bytes` as a file and returns it once the server has finalised it.
pub async fn upload(
    client: &Client,
    display_name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> Result<File, CallError> {
    let start = client
        .http()
        .post(client.url(&format!("/upload/{API_VERSION}/files")))
        .header("X-Goog-Upload-Protocol", "resumable")
        .header("X-Goog-Upload-Command", "start")
        .header(
            "X-Goog-Upload-Header-Content-Length",
            bytes.len().to_string(),
        )
        .header("X-Goog-Upload-Header-Content-Type", mime)
        .json(&json!({"file": {"displayName": display_name}}));
    let reply = http::send(client, authorized(client, start)).await?;
    let Some(location) = header_str(&reply.headers, "x-goog-upload-url") else {
        return Err(decode_error(
            "the upload start answered without an x-goog-upload-url header",
            &reply,
        ));
    };
    let target = client.confined_url(location);
    let mut last = None;
    for (offset, n, command) in chunks(bytes.len()) {
        let part = bytes[offset..offset + n].to_vec();
        let builder = client
            .http()
            .post(&target)
            .header("X-Goog-Upload-Command", command)
            .header("X-Goog-Upload-Offset", offset.to_string())
            .body(part);
        last = Some(http::send(client, authorized(client, builder)).await?);
    }
    let reply = last.ok_or_else(|| CallError::new(CallErrorKind::Decode, "nothing uploaded"))?;
    if header_str(&reply.headers, "x-goog-upload-status") != Some("final") {
        return Err(decode_error(
            "the upload did not end with x-goog-upload-status: final",
            &reply,
        ));
    }
    let v = json_body(ProviderKind::Gemini, &reply)?;
    Uploaded::deserialize(&v)
        .map(|u| u.file)
        .map_err(|e| decode_error(format!("not an uploaded file: {e}"), &reply))
}

/// The bytes of a file the server made (a batch's results).
pub async fn download(client: &Client, name: &str) -> Result<bytes::Bytes, CallError> {
    let target = format!("{}?alt=media", url(client, name, Some("download")));
    let builder = client.http().get(target);
    Ok(http::send(client, authorized(client, builder)).await?.body)
}

/// Deletes a file (best effort after use: files also expire after 48 hours).
pub async fn delete(client: &Client, name: &str) -> Result<(), CallError> {
    let builder = client.http().delete(url(client, name, None));
    http::send(client, authorized(client, builder)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_cut_into_sdk_sized_chunks() {
        assert_eq!(chunks(10), vec![(0, 10, "upload, finalize")]);
        assert_eq!(chunks(0), vec![(0, 0, "upload, finalize")]);
        let big = CHUNK_BYTES * 2 + 5;
        assert_eq!(
            chunks(big),
            vec![
                (0, CHUNK_BYTES, "upload"),
                (CHUNK_BYTES, CHUNK_BYTES, "upload"),
                (2 * CHUNK_BYTES, 5, "upload, finalize"),
            ]
        );
        assert_eq!(
            chunks(CHUNK_BYTES),
            vec![(0, CHUNK_BYTES, "upload, finalize")]
        );
    }
}
