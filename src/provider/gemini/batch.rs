//! Batch Mode: `POST models/{model}:batchGenerateContent` with the requests inline (a batch under
//! 20 MB) or in an uploaded JSONL file (up to 2 GB), `GET batches/{id}` until its state ends,
//! then the results, inline or as a JSONL file, joined by each request's key. Shapes from
//! python-genai's `batches.py` converters: a batch is a long-running operation whose
//! `metadata` holds `state` (`BATCH_STATE_*` on the wire, which the SDK renames `JOB_STATE_*`;
//! both are read), `batchStats` and, once done, `output`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::{self, GenerateContentRequest};
use super::{authorized, model_name, url};
use crate::provider::error::{CallError, CallErrorKind};
use crate::provider::http::{self, decode_error, json_body};
use crate::provider::openai::BatchResult;
use crate::provider::{ChatRequest, Client, ProviderKind};

/// Above this many bytes of requests a batch goes through an uploaded file instead of inline
/// (Batch API guide: inline "keep the total request size under 20MB").
pub const INLINE_MAX_BYTES: usize = 20 * 1000 * 1000;

/// The largest input file (Gemini API rate-limits page: "2 GB" per batch input file).
pub const FILE_MAX_BYTES: usize = 2 * 1000 * 1000 * 1000;

/// One line of a batch input file: `{"key", "request"}` (Batch API guide), the request naming
/// its model (`GenerateContentRequest.model`) so that a batch knows it from its lines.
pub fn file_line(key: &str, request: &ChatRequest) -> Value {
    let mut body = GenerateContentRequest::new(request);
    body.service_tier = None;
    body.model = Some(model_name(&request.model));
    json!({"key": key, "request": body})
}

/// An input-file line turned into an inline request (`{"request", "metadata": {"key"}}`, the
/// request naming its model, as the SDK sends it); `None` for a line this module did not make.
pub fn inline_request(line: &str, model: &str) -> Option<Value> {
    let v: Value = serde_json::from_str(line).ok()?;
    let key = v.get("key")?.as_str()?.to_string();
    let mut request = v.get("request")?.clone();
    request
        .as_object_mut()?
        .insert("model".into(), json!(model_name(model)));
    Some(json!({"request": request, "metadata": {"key": key}}))
}

/// The body that creates a batch: inline requests, or the uploaded file's name.
pub fn create_body(display_name: &str, input: BatchInput) -> Value {
    let input_config = match input {
        BatchInput::Inline(requests) => json!({"requests": {"requests": requests}}),
        BatchInput::File(name) => json!({"fileName": name}),
    };
    json!({"batch": {"displayName": display_name, "inputConfig": input_config}})
}

/// Where a batch's requests are.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchInput {
    /// In the create call.
    Inline(Vec<Value>),
    /// In an uploaded file (`files/{id}`).
    File(String),
}

/// A batch as `batches.get` returns it (an operation).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Operation {
    /// `batches/{id}`.
    pub name: String,
    /// The batch itself.
    #[serde(default)]
    pub metadata: BatchMetadata,
    /// Why the whole batch failed.
    #[serde(default)]
    pub error: Option<Value>,
    /// The output, once done (also under `metadata.output`).
    #[serde(default)]
    pub response: Option<Value>,
}

/// An operation's `metadata`: the `GenerateContentBatch`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchMetadata {
    /// `BATCH_STATE_PENDING`, `_RUNNING`, `_SUCCEEDED`, `_FAILED`, `_CANCELLED`, `_EXPIRED`.
    #[serde(default)]
    pub state: Option<String>,
    /// Request counts (int64s, so JSON strings).
    #[serde(default)]
    pub batch_stats: Option<Value>,
    /// Where the results are, once done.
    #[serde(default)]
    pub output: Option<Value>,
}

impl Operation {
    /// The state without its prefix, lowercase (`pending`, `running`, `succeeded`, …).
    pub fn state(&self) -> String {
        let s = self.metadata.state.as_deref().unwrap_or("unspecified");
        s.trim_start_matches("BATCH_STATE_")
            .trim_start_matches("JOB_STATE_")
            .to_ascii_lowercase()
    }

    /// Whether the batch has ended (succeeded, failed, cancelled or expired).
    pub fn is_ended(&self) -> bool {
        matches!(
            self.state().as_str(),
            "succeeded" | "failed" | "cancelled" | "expired"
        )
    }

    /// Requests finished so far (successful + failed), when the server says.
    pub fn finished(&self) -> Option<u64> {
        let stats = self.metadata.batch_stats.as_ref()?;
        let n = |k: &str| match stats.get(k) {
            Some(Value::String(s)) => s.parse::<u64>().ok(),
            Some(v) => v.as_u64(),
            None => None,
        };
        Some(n("successfulRequestCount").unwrap_or(0) + n("failedRequestCount").unwrap_or(0))
    }

    /// The batch's output: `metadata.output`, else the operation's `response`.
    fn output(&self) -> Option<&Value> {
        self.metadata.output.as_ref().or(self.response.as_ref())
    }

    /// The results file (`files/{id}`), when the results are in one.
    pub fn responses_file(&self) -> Option<String> {
        Some(self.output()?.get("responsesFile")?.as_str()?.to_string())
    }

    /// Inline results as result lines (`{"key", "response"|"error"}`), when they are inline.
    pub fn inline_lines(&self) -> Option<String> {
        let items = self
            .output()?
            .get("inlinedResponses")?
            .get("inlinedResponses")?
            .as_array()?;
        let lines: Vec<String> = items
            .iter()
            .map(|item| {
                let key = item.get("metadata").and_then(|m| m.get("key"));
                let mut line = json!({"key": key});
                for field in ["response", "error"] {
                    if let Some(v) = item.get(field) {
                        line[field] = v.clone();
                    }
                }
                line.to_string()
            })
            .collect();
        Some(lines.join("\n"))
    }

    /// Why the whole batch failed, in a line.
    pub fn error_summary(&self) -> Option<String> {
        let e = self.error.as_ref()?;
        Some(http::error_fields(ProviderKind::Gemini, &json!({"error": e})).1)
    }
}

async fn call(client: &Client, builder: reqwest::RequestBuilder) -> Result<Operation, CallError> {
    let reply = http::send(client, authorized(client, builder)).await?;
    let v = json_body(ProviderKind::Gemini, &reply)?;
    Operation::deserialize(&v).map_err(|e| decode_error(format!("not a batch: {e}"), &reply))
}

/// Creates a batch for `model`.
pub async fn create(client: &Client, model: &str, body: &Value) -> Result<Operation, CallError> {
    let target = url(client, &model_name(model), Some("batchGenerateContent"));
    call(client, client.http().post(target).json(body)).await
}

/// Reads a batch (`GET /v1beta/batches/{id}`).
pub async fn get(client: &Client, name: &str) -> Result<Operation, CallError> {
    call(client, client.http().get(url(client, name, None))).await
}

/// Asks the server to cancel a batch (`POST /v1beta/batches/{id}:cancel`).
pub async fn cancel(client: &Client, name: &str) -> Result<(), CallError> {
    let builder = client.http().post(url(client, name, Some("cancel")));
    http::send(client, authorized(client, builder)).await?;
    Ok(())
}

/// Reads one result line: the key and the answer, or why there is none (an `error`, or a
/// `status` object, both `google.rpc.Status`).
pub fn parse_result_line(line: &str) -> Result<BatchResult, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let custom_id = v
        .get("key")
        .and_then(Value::as_str)
        .ok_or("missing key")?
        .to_string();
    let failure = v.get("error").or_else(|| v.get("status"));
    let outcome = match (v.get("response"), failure) {
        (Some(response), _) => Ok(wire::parse_response(response)?),
        (None, Some(status)) => {
            let (code, message) =
                http::error_fields(ProviderKind::Gemini, &json!({"error": status}));
            // A google.rpc.Status: its `code` is a canonical code (3, 13, …), not an HTTP
            // status, so it names the failure rather than filling `status`.
            let numeric = status.get("code").and_then(Value::as_u64);
            let mut e = CallError::new(CallErrorKind::Status, message);
            e.code = code
                .or_else(|| numeric.map(|c| format!("rpc_code_{c}")))
                .or_else(|| Some("batch_error".into()));
            Err(e)
        }
        (None, None) => return Err("neither a response nor an error".into()),
    };
    Ok(BatchResult { custom_id, outcome })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ChatRequest {
        ChatRequest::new("gemini-2.5-flash", Some("Be brief."), "2+2?", 16)
    }

    #[test]
    fn file_lines_and_inline_requests() {
        let line = file_line("r000001", &request()).to_string();
        assert_eq!(
            serde_json::from_str::<Value>(&line).unwrap(),
            json!({"key": "r000001", "request": {"model": "models/gemini-2.5-flash",
                "contents": [{"role": "user", "parts": [{"text": "2+2?"}]}],
                "systemInstruction": {"parts": [{"text": "Be brief."}]},
                "generationConfig": {"maxOutputTokens": 16 + 8_192}}})
        );
        let inline = inline_request(&line, "gemini-2.5-flash").unwrap();
        assert_eq!(inline["metadata"], json!({"key": "r000001"}));
        assert_eq!(inline["request"]["model"], "models/gemini-2.5-flash");
        assert_eq!(
            create_body("b", BatchInput::Inline(vec![inline.clone()])),
            json!({"batch": {"displayName": "b",
                "inputConfig": {"requests": {"requests": [inline]}}}})
        );
        assert_eq!(
            create_body("b", BatchInput::File("files/f1".into())),
            json!({"batch": {"displayName": "b", "inputConfig": {"fileName": "files/f1"}}})
        );
    }

    #[test]
    fn states_counts_and_outputs() {
        let running: Operation = serde_json::from_value(json!({"name": "batches/b1",
            "metadata": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
                "state": "BATCH_STATE_RUNNING", "batchStats": {"requestCount": "3",
                "successfulRequestCount": "1", "failedRequestCount": "1", "pendingRequestCount": "1"}}}))
        .unwrap();
        assert_eq!(running.state(), "running");
        assert!(!running.is_ended());
        assert_eq!(running.finished(), Some(2));
        let done: Operation = serde_json::from_value(json!({"name": "batches/b1", "done": true,
            "metadata": {"state": "JOB_STATE_SUCCEEDED", "output": {"inlinedResponses": {"inlinedResponses": [
                {"response": {"candidates": [], "usageMetadata": {"promptTokenCount": 3}},
                 "metadata": {"key": "r1"}},
                {"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"},
                 "metadata": {"key": "r2"}}]}}}}))
        .unwrap();
        assert!(done.is_ended());
        let lines = done.inline_lines().unwrap();
        let results: Vec<BatchResult> = lines
            .lines()
            .map(|l| parse_result_line(l).unwrap())
            .collect();
        assert_eq!(results[0].custom_id, "r1");
        assert_eq!(results[0].outcome.as_ref().unwrap().usage.input_tokens, 3);
        let e = results[1].outcome.as_ref().unwrap_err();
        assert_eq!(
            (e.status, e.code.as_deref()),
            (None, Some("INVALID_ARGUMENT"))
        );
        let filed: Operation = serde_json::from_value(json!({"name": "batches/b2",
            "metadata": {"state": "BATCH_STATE_SUCCEEDED"},
            "response": {"responsesFile": "files/out-1"}}))
        .unwrap();
        assert_eq!(filed.responses_file().as_deref(), Some("files/out-1"));
        let failed: Operation = serde_json::from_value(json!({"name": "batches/b3",
            "metadata": {"state": "BATCH_STATE_FAILED"},
            "error": {"code": 400, "message": "Invalid JSONL on line 2"}}))
        .unwrap();
        assert_eq!(
            failed.error_summary().as_deref(),
            Some("Invalid JSONL on line 2")
        );
    }

    #[test]
    fn result_lines_from_a_file() {
        let ok = r#"{"key":"a","response":{"candidates":[{"content":{"parts":[{"text":"4"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":1,"totalTokenCount":6}}}"#;
        assert_eq!(parse_result_line(ok).unwrap().outcome.unwrap().text, "4");
        let status = r#"{"key":"b","status":{"code":13,"message":"internal"}}"#;
        let e = parse_result_line(status).unwrap().outcome.unwrap_err();
        assert_eq!(e.message, "internal");
        assert_eq!(e.code.as_deref(), Some("rpc_code_13"));
        assert!(parse_result_line(r#"{"key":"c"}"#).is_err());
        assert!(parse_result_line(r#"{"response":{}}"#).is_err());
    }
}
