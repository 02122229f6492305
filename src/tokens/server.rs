//! `--tokenizer server`: token counts from the server's own tokenize endpoint, for servers whose
//! model is not an OpenAI one (a local llama.cpp or vLLM serving Qwen, Llama, …), where the
//! client's o200k count is only an estimate.
//!
//! Both servers expose `POST /tokenize` at their root (not under `/v1`), with different shapes
//! (llama.cpp `tools/server/README.md`; vLLM `entrypoints/openai/api_server.py`):
//! - llama.cpp: `{"content": text}` → `{"tokens": [...]}`;
//! - vLLM: `{"model", "prompt", "add_special_tokens"}` → `{"tokens", "count", "max_model_len"}`.
//!
//! Gemini's own counter is `POST /v1beta/models/{model}:countTokens` (`{"contents"}` →
//! `{"totalTokens"}`, python-genai's `count_tokens`): with `--provider gemini` it gives exact
//! counts where the local stand-in only estimates.
//!
//! Counts are memoised per text. Planning is synchronous, so a count not yet known is fetched
//! on the current tokio runtime with `block_in_place`; if the endpoint fails mid-run, counting
//! falls back to the local encoding with one warning.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

/// Which tokenize request shape the server speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialect {
    /// llama.cpp's server.
    LlamaCpp,
    /// vLLM's OpenAI-compatible server.
    Vllm,
    /// Gemini's `countTokens`.
    Gemini,
}

/// A server's tokenize endpoint, found by [`probe`].
#[derive(Debug)]
pub struct ServerTokenizer {
    http: reqwest::Client,
    url: String,
    model: String,
    dialect: Dialect,
    memo: Mutex<HashMap<String, u64>>,
    failed: AtomicBool,
}

/// The tokenize URL for an API base URL: the server root (a trailing `/v1` removed) + `/tokenize`.
pub fn tokenize_url(base_url: &str) -> String {
    let root = base_url.trim_end_matches('/');
    let root = root.strip_suffix("/v1").unwrap_or(root);
    format!("{root}/tokenize")
}

/// The request body for `text` in a dialect.
pub fn request_body(dialect: &Dialect, model: &str, text: &str) -> Value {
    match dialect {
        Dialect::LlamaCpp => json!({"content": text}),
        Dialect::Vllm => json!({"model": model, "prompt": text, "add_special_tokens": false}),
        Dialect::Gemini => crate::provider::gemini::caches::count_body(text),
    }
}

/// The token count in a tokenize reply: vLLM's `count`, else the length of `tokens`.
pub fn parse_count(v: &Value) -> Option<u64> {
    v.get("count")
        .or_else(|| v.get("totalTokens"))
        .and_then(Value::as_u64)
        .or_else(|| v.get("tokens")?.as_array().map(|t| t.len() as u64))
}

/// Gemini's `countTokens` for `model`, checked with one count; the key goes in
/// `x-goog-api-key`.
pub async fn gemini(base_url: &str, model: &str, key: &str) -> Result<ServerTokenizer, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = key
        .parse()
        .map_err(|_| "the API key is not a valid header value".to_string())?;
    headers.insert("x-goog-api-key", value);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build HTTP client: {e}"))?;
    let name = crate::provider::gemini::model_name(model);
    let t = ServerTokenizer {
        http,
        url: format!(
            "{}/{}/{name}:countTokens",
            base_url.trim_end_matches('/'),
            crate::provider::gemini::API_VERSION
        ),
        model: model.to_string(),
        dialect: Dialect::Gemini,
        memo: Mutex::new(HashMap::new()),
        failed: AtomicBool::new(false),
    };
    t.fetch("hello world")
        .await
        .map(|_| t)
        .map_err(|e| format!("POST {name}:countTokens: {e}"))
}

/// Finds the server's tokenize endpoint: tries the llama.cpp shape, then vLLM's. The error says
/// what the server answered, for the fallback message.
pub async fn probe(
    base_url: &str,
    model: &str,
    api_key: Option<&str>,
) -> Result<ServerTokenizer, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = api_key {
        let value = format!("Bearer {key}")
            .parse()
            .map_err(|_| "the API key is not a valid header value".to_string())?;
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build HTTP client: {e}"))?;
    let url = tokenize_url(base_url);
    let mut answers = Vec::new();
    for dialect in [Dialect::LlamaCpp, Dialect::Vllm] {
        let t = ServerTokenizer {
            http: http.clone(),
            url: url.clone(),
            model: model.to_string(),
            dialect,
            memo: Mutex::new(HashMap::new()),
            failed: AtomicBool::new(false),
        };
        match t.fetch("hello world").await {
            Ok(_) => return Ok(t),
            Err(e) => answers.push(e),
        }
    }
    Err(format!("POST {url}: {}", answers.join("; ")))
}

impl ServerTokenizer {
    /// The dialect the server speaks.
    pub fn dialect(&self) -> &Dialect {
        &self.dialect
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn fetch(&self, text: &str) -> Result<u64, String> {
        let reply = self
            .http
            .post(&self.url)
            .json(&request_body(&self.dialect, &self.model, text))
            .send()
            .await
            .map_err(|e| format!("no answer ({e})"))?;
        let status = reply.status();
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        let v: Value = reply
            .json()
            .await
            .map_err(|_| "a reply that is not JSON".to_string())?;
        parse_count(&v).ok_or_else(|| "a reply without `tokens` or `count`".to_string())
    }

    /// The server's count for `text`, or `None` when the server cannot give one (then the
    /// caller counts locally); the first failure is announced on stderr.
    pub fn count(&self, text: &str) -> Option<u64> {
        if self.failed.load(Ordering::Relaxed) {
            return None;
        }
        if let Some(n) = self.memo.lock().ok()?.get(text) {
            return Some(*n);
        }
        let handle = tokio::runtime::Handle::try_current().ok()?;
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return None;
        }
        let got = tokio::task::block_in_place(|| handle.block_on(self.fetch(text)));
        match got {
            Ok(n) => {
                if let Ok(mut memo) = self.memo.lock() {
                    memo.insert(text.to_string(), n);
                }
                Some(n)
            }
            Err(e) => {
                if !self.failed.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "warning: --tokenizer server: POST {} failed ({e}); counting with the local encoding from now on",
                        self.url
                    );
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_shapes() {
        assert_eq!(
            tokenize_url("http://127.0.0.1:8080/v1"),
            "http://127.0.0.1:8080/tokenize"
        );
        assert_eq!(tokenize_url("http://h:8000/v1/"), "http://h:8000/tokenize");
        assert_eq!(tokenize_url("http://h:8000"), "http://h:8000/tokenize");
        assert_eq!(
            request_body(&Dialect::LlamaCpp, "m", "hi"),
            json!({"content": "hi"})
        );
        assert_eq!(
            request_body(&Dialect::Vllm, "m", "hi"),
            json!({"model": "m", "prompt": "hi", "add_special_tokens": false})
        );
        assert_eq!(parse_count(&json!({"tokens": [1, 2, 3]})), Some(3));
        assert_eq!(
            parse_count(&json!({"tokens": [9, 8], "count": 2, "max_model_len": 4096})),
            Some(2)
        );
        assert_eq!(parse_count(&json!({"tokens": []})), Some(0));
        assert_eq!(parse_count(&json!({"error": "x"})), None);
        assert_eq!(parse_count(&json!({"totalTokens": 31})), Some(31));
        assert_eq!(
            request_body(&Dialect::Gemini, "m", "hi"),
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
        );
    }
}

/// The tokenizer for a run against `endpoint`: the local encoding, labelled exact only for
/// OpenAI's own hosts (and the mock, which counts with it), and with `want_server` the server's
/// tokenize endpoint. The message says why the server's endpoint is not used, when it is not.
pub async fn for_run(
    model: &str,
    endpoint: &crate::provider::Endpoint,
    mock: bool,
    want_server: bool,
) -> (super::Tokenizer, Option<String>) {
    let mut tokenizer = super::Tokenizer::for_model(model);
    if !mock && !is_openai_host(&endpoint.base_url) {
        tokenizer = tokenizer.as_estimate();
    }
    if !want_server {
        return (tokenizer, None);
    }
    let encoding = tokenizer.encoding().name();
    let is_gemini = endpoint.kind == crate::provider::ProviderKind::Gemini;
    if mock && !is_gemini {
        return (
            tokenizer,
            Some(format!(
                "--tokenizer server: the built-in mock models OpenAI, which has no tokenize endpoint; counting with {encoding}"
            )),
        );
    }
    let key = Some(endpoint.key.expose()).filter(|k| !k.is_empty());
    let found = if is_gemini {
        gemini(&endpoint.base_url, model, key.unwrap_or_default()).await
    } else {
        probe(&endpoint.base_url, model, key).await
    };
    match found {
        Ok(server) => (tokenizer.with_server(Box::leak(Box::new(server))), None),
        Err(e) => (
            tokenizer,
            Some(format!(
                "--tokenizer server: the server has no usable tokenize endpoint ({e}); counting with {encoding}, an estimate"
            )),
        ),
    }
}

/// Whether a base URL is OpenAI's own API (or Azure OpenAI), where o200k/cl100k counts are the
/// provider's.
fn is_openai_host(base_url: &str) -> bool {
    let host = base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    host == "api.openai.com" || host.ends_with(".openai.azure.com")
}

#[cfg(test)]
mod host_tests {
    #[test]
    fn openai_hosts() {
        assert!(super::is_openai_host("https://api.openai.com/v1"));
        assert!(super::is_openai_host("https://x.openai.azure.com/openai"));
        assert!(!super::is_openai_host("http://127.0.0.1:8089/v1"));
        assert!(!super::is_openai_host(
            "https://api.openai.com.evil.test/v1"
        ));
        assert!(!super::is_openai_host("https://api.anthropic.com"));
    }
}
