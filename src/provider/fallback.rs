//! Servers that refuse `response_format: json_schema` (Ollama, older vLLM and LM Studio, some
//! gateways) answer 400 naming the field. Packed requests then fall back to the instructed JSON
//! the user message already asks for, once per client, with one warning, instead of failing
//! every packed prompt.

use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, Mutex};

use super::{CallError, ChatRequest, ChatResponse, Client};

/// Sends `request` through `once`; a request with a schema that the server refuses is sent again
/// without it, and every later one of this client goes without it from the start.
pub(crate) async fn send_with_fallback<'a, F, Fut>(
    client: &'a Client,
    request: &'a ChatRequest,
    once: F,
) -> Result<ChatResponse, CallError>
where
    F: Fn(&'a Client, Cow<'a, ChatRequest>) -> Fut,
    Fut: Future<Output = Result<ChatResponse, CallError>> + 'a,
{
    let fallback = client.schema_fallback();
    if request.json_schema.is_none() {
        return once(client, Cow::Borrowed(request)).await;
    }
    let plain = || {
        Cow::Owned(ChatRequest {
            json_schema: None,
            ..request.clone()
        })
    };
    if fallback.refused() {
        return once(client, plain()).await;
    }
    match once(client, Cow::Borrowed(request)).await {
        Err(e) if rejects_json_schema(&e) => {
            fallback.refuse(&e);
            once(client, plain()).await
        }
        other => other,
    }
}

/// Whether `e` is a server refusing the request's `response_format` / `json_schema`: a 400 or
/// 422 whose message or code names it.
pub fn rejects_json_schema(e: &CallError) -> bool {
    if !matches!(e.status, Some(400 | 422)) {
        return false;
    }
    let text = format!("{} {}", e.message, e.code.as_deref().unwrap_or_default())
        .to_ascii_lowercase()
        .replace([' ', '.'], "_");
    text.contains("response_format") || text.contains("json_schema")
}

/// Shared by the clones of one client: whether the server refused `json_schema`, and the
/// warning not yet handed to a report.
#[derive(Debug, Clone, Default)]
pub struct SchemaFallback(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    refused: bool,
    warning: Option<String>,
}

impl SchemaFallback {
    /// Whether requests should leave `json_schema` out.
    pub fn refused(&self) -> bool {
        self.0.lock().map(|s| s.refused).unwrap_or(false)
    }

    /// Records a refusal; the first one leaves a warning naming the server's reason.
    pub fn refuse(&self, e: &CallError) {
        if let Ok(mut s) = self.0.lock() {
            if !s.refused {
                s.refused = true;
                s.warning = Some(format!(
                    "the server refused `response_format: json_schema` (HTTP {}: {}); packed requests \
                     fall back to the JSON object the prompt asks for, without a schema",
                    e.status.unwrap_or_default(),
                    e.message
                ));
            }
        }
    }

    /// The warning, once.
    pub fn take_warning(&self) -> Option<String> {
        self.0.lock().ok().and_then(|mut s| s.warning.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::CallErrorKind;

    fn status(code: u16, message: &str, kind: Option<&str>) -> CallError {
        let mut e = CallError::new(CallErrorKind::Status, message);
        e.status = Some(code);
        e.code = kind.map(str::to_string);
        e
    }

    #[test]
    fn which_errors_are_refusals() {
        // Ollama / vLLM / LM Studio / gateway shapes.
        assert!(rejects_json_schema(&status(
            400,
            "'response_format.type' must be 'json_object' or 'text'",
            None
        )));
        assert!(rejects_json_schema(&status(
            400,
            "json_schema response format is not supported by this model",
            Some("invalid_request_error")
        )));
        assert!(rejects_json_schema(&status(
            422,
            "Unsupported response format",
            None
        )));
        assert!(!rejects_json_schema(&status(
            400,
            "maximum context length exceeded",
            None
        )));
        assert!(!rejects_json_schema(&status(
            500,
            "response_format crashed",
            None
        )));
        assert!(!rejects_json_schema(&CallError::new(
            CallErrorKind::Connect,
            "response_format"
        )));
    }

    #[test]
    fn one_warning_shared_by_clones() {
        let f = SchemaFallback::default();
        let g = f.clone();
        assert!(!g.refused());
        f.refuse(&status(400, "no json_schema here", None));
        f.refuse(&status(400, "again", None));
        assert!(g.refused());
        let w = g.take_warning().unwrap();
        assert!(w.contains("HTTP 400: no json_schema here"), "{w}");
        assert_eq!(f.take_warning(), None);
    }
}
