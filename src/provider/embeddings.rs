//! The embeddings wire (OpenAI `POST /v1/embeddings`, which OpenAI-compatible servers such as
//! llama.cpp also serve): the request body, the reader of the `list` response in both
//! encodings, and the Batch API line in both directions. Field names and limits follow
//! openai/openai-python `types/embedding_create_params.py` and `create_embedding_response.py`.

use serde_json::{Value, json};

use super::http::{self, decode_error, json_body};
use super::ratelimit::RateLimitInfo;
use super::{CallError, Client, ProviderKind, openai};

/// The endpoint batch lines target.
pub const PATH: &str = "/v1/embeddings";

/// One embeddings request: several inputs when the strategy sends arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedRequest {
    /// Model id.
    pub model: String,
    /// The texts, in order (one vector comes back per text).
    pub inputs: Vec<String>,
    /// `dimensions`: shorter vectors (text-embedding-3 and later).
    pub dimensions: Option<u32>,
    /// `encoding_format: "base64"` (a quarter of the float text's size on the wire).
    pub base64: bool,
}

impl EmbedRequest {
    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "model": self.model,
            "input": self.inputs,
            "encoding_format": if self.base64 { "base64" } else { "float" },
        });
        if let Some(d) = self.dimensions {
            body["dimensions"] = json!(d);
        }
        body
    }

    /// What the request is charged against a tokens-per-minute limit before it runs, as
    /// providers estimate it: about four characters per token, no output.
    pub fn rate_estimate(&self) -> u64 {
        (self.inputs.iter().map(String::len).sum::<usize>() as u64).div_ceil(4)
    }
}

/// An answered embeddings request.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedResponse {
    /// One vector per input, in input order.
    pub vectors: Vec<Vec<f32>>,
    /// `usage.prompt_tokens`, when the server reported it.
    pub prompt_tokens: Option<u64>,
    /// The server's request id header (or the batch line's), when sent.
    pub request_id: Option<String>,
    /// The rate limits the server reported with this response.
    pub rate_limit: Option<RateLimitInfo>,
}

fn vector_of(item: &Value) -> Result<Vec<f32>, String> {
    match item.get("embedding") {
        Some(Value::String(b64)) => batchbench_core::embed::from_base64(b64),
        Some(Value::Array(values)) => values
            .iter()
            .map(|x| x.as_f64().map(|f| f as f32))
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| "an embedding holds a value that is not a number".to_string()),
        _ => Err("a data item has no embedding".into()),
    }
}

/// Reads a `list` response for `expected` inputs: vectors ordered by `index`, every index
/// exactly once.
pub fn parse(v: &Value, expected: usize) -> Result<EmbedResponse, String> {
    let data = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or("the response has no `data` array")?;
    if data.len() != expected {
        return Err(format!(
            "the response has {} embeddings for {expected} inputs",
            data.len()
        ));
    }
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; expected];
    for (k, item) in data.iter().enumerate() {
        let i = item
            .get("index")
            .and_then(Value::as_u64)
            .map_or(k, |i| i as usize);
        let slot = vectors
            .get_mut(i)
            .ok_or_else(|| format!("embedding index {i} is out of range for {expected} inputs"))?;
        if slot.is_some() {
            return Err(format!("embedding index {i} appears twice"));
        }
        *slot = Some(vector_of(item)?);
    }
    Ok(EmbedResponse {
        vectors: vectors.into_iter().map(Option::unwrap_or_default).collect(),
        prompt_tokens: v.pointer("/usage/prompt_tokens").and_then(Value::as_u64),
        request_id: None,
        rate_limit: None,
    })
}

/// One attempt at `POST {base}/embeddings`.
pub async fn embed(client: &Client, request: &EmbedRequest) -> Result<EmbedResponse, CallError> {
    let builder = openai::authorized(
        client,
        client
            .http()
            .post(client.url("/embeddings"))
            .json(&request.body()),
    );
    let reply = http::send(client, builder).await?;
    let v = json_body(ProviderKind::Openai, &reply)?;
    let mut response = parse(&v, request.inputs.len()).map_err(|e| decode_error(e, &reply))?;
    response.request_id = reply.request_id();
    response.rate_limit = RateLimitInfo::from_headers(&reply.headers, std::time::SystemTime::now());
    Ok(response)
}

/// The Batch API line of one request.
pub fn batch_line(custom_id: &str, request: &EmbedRequest) -> Value {
    json!({"custom_id": custom_id, "method": "POST", "url": PATH, "body": request.body()})
}

/// One embeddings batch result line as read: (custom id, vectors or why there are none), or why
/// the line is unreadable.
pub type EmbedLine = Result<(String, Result<EmbedResponse, CallError>), String>;

/// Reads one embeddings batch output or error line. The line does not say how many inputs its
/// request had, so the count is what `data` holds.
pub fn parse_batch_line(line: &str) -> EmbedLine {
    openai::parse_batch_envelope(line, |body, request_id| {
        let n = body
            .get("data")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let mut r = parse(body, n)?;
        r.request_id = request_id;
        Ok(r)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(base64: bool, dimensions: Option<u32>) -> EmbedRequest {
        EmbedRequest {
            model: "text-embedding-3-small".into(),
            inputs: vec!["a".into(), "b".into()],
            dimensions,
            base64,
        }
    }

    #[test]
    fn bodies_carry_every_field() {
        assert_eq!(
            req(false, None).body(),
            json!({"model": "text-embedding-3-small", "input": ["a", "b"], "encoding_format": "float"})
        );
        let b = req(true, Some(256)).body();
        assert_eq!(
            (b["encoding_format"].as_str(), b["dimensions"].as_u64()),
            (Some("base64"), Some(256))
        );
        let line = batch_line("r1", &req(false, None));
        assert_eq!(line["url"], "/v1/embeddings");
        assert_eq!(line["method"], "POST");
        assert_eq!(req(false, None).rate_estimate(), 1);
    }

    #[test]
    fn responses_in_both_encodings_ordered_by_index() {
        let v = json!({"object": "list", "data": [
            {"object": "embedding", "index": 1, "embedding": "AACAPw=="},
            {"object": "embedding", "index": 0, "embedding": [0.5, -0.25]},
        ], "model": "m", "usage": {"prompt_tokens": 7, "total_tokens": 7}});
        let r = parse(&v, 2).unwrap();
        assert_eq!(r.vectors, vec![vec![0.5, -0.25], vec![1.0]]);
        assert_eq!(r.prompt_tokens, Some(7));
        assert!(parse(&v, 3).unwrap_err().contains("2 embeddings for 3"));
        let dup =
            json!({"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]});
        assert!(parse(&dup, 2).unwrap_err().contains("twice"));
        let no_usage = json!({"data": [{"embedding": [1.0]}]});
        assert_eq!(parse(&no_usage, 1).unwrap().prompt_tokens, None);
    }

    #[test]
    fn batch_lines_read_back() {
        let ok = r#"{"custom_id":"r1","response":{"status_code":200,"request_id":"req_1","body":{"data":[{"index":0,"embedding":[1.0]}],"usage":{"prompt_tokens":3,"total_tokens":3}}},"error":null}"#;
        let (id, out) = parse_batch_line(ok).unwrap();
        let out = out.unwrap();
        assert_eq!(
            (id.as_str(), out.prompt_tokens, out.request_id.as_deref()),
            ("r1", Some(3), Some("req_1"))
        );
        let bad = r#"{"custom_id":"r2","response":{"status_code":400,"body":{"error":{"message":"too long","code":null}}},"error":null}"#;
        let (_, out) = parse_batch_line(bad).unwrap();
        assert_eq!(out.unwrap_err().status, Some(400));
    }
}
