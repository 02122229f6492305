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
