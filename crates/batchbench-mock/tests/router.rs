//! The router end to end without the client: requests built by hand, answers and usage checked
//! against values worked out by hand from the token rules in `batchbench_core::tokens`.

use axum::body::Body;
use axum::http::Request;
use batchbench_core::items::pack_user_message;
use batchbench_core::prompt::{Prompt, PromptSet};
use batchbench_mock::{InProcess, MockConfig, Oracle};
use serde_json::{Value, json};

fn mock() -> InProcess {
    let mut config = MockConfig {
        time_scale: 0.0,
        ..MockConfig::default()
    };
    config.error_model.enabled = false;
    config.rate_limits.rpm = None;
    config.rate_limits.tpm = None;
    let prompt = |id: &str, text: &str, answer: &str| Prompt {
        id: id.into(),
        prompt: text.into(),
        answer: Some(answer.into()),
        task: Some("yesno".into()),
    };
    let set = PromptSet {
        name: "t".into(),
        path: "t.jsonl".into(),
        sha256: String::new(),
        instructions: String::new(),
        prompts: vec![
            prompt("a", "hello world", "yes"),
            prompt("b", "Is 9 prime?", "no"),
        ],
    };
    InProcess::new(config, Oracle::from_prompt_set(&set))
}

async fn post(mock: &InProcess, uri: &str, auth: (&str, &str), body: Value) -> (u16, Value) {
    let request = Request::builder()
        .method("POST")
        .uri(uri)
        .header(auth.0, auth.1)
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = mock.call(request).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn openai_chat_answers_gold_and_counts_usage() {
    let m = mock();
    let (status, body) = post(
        &m,
        "/v1/chat/completions",
        ("authorization", "Bearer k"),
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello world"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "yes");
    // 3 priming + 3 per message + "user" (1) + "hello world" (2) = 9; "yes" is 1 token.
    assert_eq!(body["usage"]["prompt_tokens"], 9);
    assert_eq!(body["usage"]["completion_tokens"], 1);
}

#[tokio::test]
async fn packed_request_is_answered_by_item_id() {
    let m = mock();
    let text = pack_user_message([("x1", "hello world"), ("x2", "Is 9 prime?")]);
    let (status, body) = post(
        &m,
        "/v1/chat/completions",
        ("authorization", "Bearer k"),
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    let answers: Value = serde_json::from_str(content).unwrap();
    assert_eq!(answers, json!({"x1": "yes", "x2": "no"}));
}

#[tokio::test]
async fn anthropic_messages_count_by_the_stand_in_rule() {
    let m = mock();
    let (status, body) = post(
        &m,
        "/v1/messages",
        ("x-api-key", "k"),
        json!({"model": "claude-haiku-4-5", "max_tokens": 16,
               "messages": [{"role": "user", "content": "hello world"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["content"][0]["text"], "yes");
    // 1 + (3 per message + "hello world" (2)) = 6.
    assert_eq!(body["usage"]["input_tokens"], 6);
}

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let m = mock();
    let (status, body) = post(&m, "/v1/nope", ("authorization", "Bearer k"), json!({})).await;
    assert_eq!(status, 404);
    assert!(body["error"].is_object(), "{body}");
}

/// A request with optional auth headers and a raw body; the answer's status, parsed body and
/// request-id header (either API's name).
async fn send(
    mock: &InProcess,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = mock.call(request.body(Body::from(body)).unwrap()).await;
    let status = response.status().as_u16();
    let has_id = response.headers().contains_key("x-request-id")
        || response.headers().contains_key("request-id");
    assert!(has_id, "{method} {uri}: no request id");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const BEARER: (&str, &str) = ("authorization", "Bearer k");

#[tokio::test]
async fn empty_segments_and_trailing_slashes_route_as_the_clean_path() {
    let m = mock();
    let chat =
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello world"}]});
    let (status, body) = send(
        &m,
        "POST",
        "/v1//chat/completions/",
        &[BEARER],
        chat.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["usage"]["prompt_tokens"], 9);
    let stats = m.stats();
    assert_eq!(
        stats["endpoints"]["POST /v1/chat/completions"], 1,
        "{stats}"
    );
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_head_are_404s_in_the_paths_api_shape() {
    let m = mock();
    let (status, body) = send(&m, "GET", "/v1/chat/completions", &[BEARER], vec![]).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "unknown_url");
    assert_eq!(
        body["error"]["message"],
        "Invalid URL (GET /v1/chat/completions)"
    );
    // The 404 quotes the path as sent, not as normalised.
    let (_, body) = send(&m, "PUT", "/v2//x/", &[BEARER], vec![]).await;
    assert_eq!(body["error"]["message"], "Invalid URL (PUT /v2//x)");
    let (status, body) = send(&m, "HEAD", "/v1/models", &[BEARER], vec![]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_url"))
    );
    let (status, body) = send(&m, "DELETE", "/v1/messages", &[("x-api-key", "k")], vec![]).await;
    assert_eq!(status, 404);
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "not_found_error");
    let stats = m.stats();
    assert_eq!(stats["endpoints"]["GET (unknown)"], 1, "{stats}");
    assert_eq!(stats["endpoints"]["HEAD (unknown)"], 1, "{stats}");
    assert_eq!(stats["endpoints"]["DELETE (unknown)"], 1, "{stats}");
    assert_eq!(stats["statuses"]["404"], 4, "{stats}");
}

#[tokio::test]
async fn a_key_is_checked_before_the_version_header_and_the_path() {
    let m = mock();
    let (status, body) = send(&m, "POST", "/v1/messages", &[], vec![]).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(body["error"]["message"], "x-api-key header is required");
    let (status, body) = send(&m, "POST", "/v1/messages", &[("x-api-key", "k")], vec![]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "anthropic-version: header is required"
    );
    let (status, body) = send(&m, "GET", "/nowhere", &[], vec![]).await;
    assert_eq!(status, 401, "an unknown path still needs a key: {body}");
    assert_eq!(body["error"]["code"], "invalid_api_key");
    // `/_mock/*` needs none.
    let (status, body) = send(&m, "GET", "/_mock/health", &[], vec![]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn bodies_over_their_routes_limit_are_413s() {
    let mut config = MockConfig {
        time_scale: 0.0,
        body_limit_bytes: 64,
        ..MockConfig::default()
    };
    config.files.max_file_bytes = 100;
    let m = InProcess::new(config, Oracle::empty());
    let big = vec![b' '; 65];
    let (status, body) = send(&m, "POST", "/v1/chat/completions", &[BEARER], big.clone()).await;
    assert_eq!(status, 413);
    assert_eq!(
        body["error"]["message"],
        "Request exceeds the maximum allowed size of 64 bytes."
    );
    // An upload may be as large as the largest file plus 1 MiB of framing.
    let (status, body) = send(&m, "POST", "/v1/files", &[BEARER], big).await;
    assert_eq!(status, 400, "{body}");
    let limit = 100 + (1 << 20);
    let (status, body) = send(&m, "POST", "/v1/files", &[BEARER], vec![b' '; limit + 1]).await;
    assert_eq!(status, 413);
    assert_eq!(
        body["error"]["message"],
        format!("Request exceeds the maximum allowed size of {limit} bytes.")
    );
}

#[tokio::test]
async fn multipart_uploads_are_stored_listed_and_paged() {
    let m = mock();
    let upload = |name: &str| {
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/jsonl\r\n\r\n{{\"a\":1}}\n\r\n--XyZ--\r\n"
        )
        .into_bytes()
    };
    let multipart = ("content-type", "multipart/form-data; boundary=XyZ");
    let (status, first) = send(
        &m,
        "POST",
        "/v1/files",
        &[BEARER, multipart],
        upload("a.jsonl"),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (first["bytes"].as_u64(), first["filename"].as_str()),
        (Some(8), Some("a.jsonl"))
    );
    let (_, second) = send(
        &m,
        "POST",
        "/v1/files",
        &[BEARER, multipart],
        upload("b.jsonl"),
    )
    .await;
    let (status, page) = send(
        &m,
        "GET",
        "/v1/files?limit=1&purpose=batch",
        &[BEARER],
        vec![],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["data"][0]["id"], second["id"], "newest first");
    assert_eq!(page["has_more"], true);
    let after = format!("/v1/files?limit=1&after={}", second["id"].as_str().unwrap());
    let (_, page) = send(&m, "GET", &after, &[BEARER], vec![]).await;
    assert_eq!(page["data"][0]["id"], first["id"]);
    assert_eq!(page["has_more"], false);
    let (_, page) = send(&m, "GET", "/v1/files?purpose=fine-tune", &[BEARER], vec![]).await;
    assert_eq!(page["data"], json!([]));
    let content = format!("/v1/files/{}/content", first["id"].as_str().unwrap());
    let (status, line) = send(&m, "GET", &content, &[BEARER], vec![]).await;
    assert_eq!((status, line), (200, json!({"a": 1})));
    let (status, body) = send(
        &m,
        "POST",
        "/v1/files",
        &[BEARER, ("content-type", "multipart/form-data")],
        upload("c"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "Invalid multipart body: the Content-Type has no multipart boundary"
    );
    let (_, body) = send(
        &m,
        "POST",
        "/v1/files",
        &[BEARER, ("content-type", "application/json")],
        upload("c"),
    )
    .await;
    assert_eq!(
        body["error"]["message"],
        "The request must be multipart/form-data with 'file' and 'purpose' fields."
    );
    let (status, body) = send(&m, "GET", "/v1/batches?limit=0", &[BEARER], vec![]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "limit");
}
