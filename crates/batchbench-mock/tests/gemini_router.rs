//! The Gemini API through the router without the client: requests built by hand as Google's
//! REST reference and python-genai shape them, usage checked against values worked out by hand
//! from `batchbench_core::tokens::gemini_tokens`, auth and error shapes, caches, uploads and the
//! batch lifecycle.

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use batchbench_core::prompt::{Prompt, PromptSet};
use batchbench_core::tokens::Bpe;
use batchbench_mock::{InProcess, MockConfig, Oracle};
use serde_json::{Value, json};

const KEY: &str = "g-key";

fn mock() -> InProcess {
    let mut config = MockConfig {
        time_scale: 0.0,
        api_key: Some(KEY.into()),
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

/// One request; the status, headers and parsed body (`Null` when not JSON).
async fn send(
    m: &InProcess,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, HeaderMap, Value, Vec<u8>) {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let response = m.call(b.body(Body::from(body)).unwrap()).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap()
        .to_vec();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, json, bytes)
}

async fn call(m: &InProcess, method: &str, uri: &str, body: Value) -> (u16, Value) {
    let (s, _, v, _) = send(
        m,
        method,
        uri,
        &[
            ("x-goog-api-key", KEY),
            ("content-type", "application/json"),
        ],
        body.to_string().into_bytes(),
    )
    .await;
    (s, v)
}

fn user(text: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": text}]}]})
}

#[tokio::test]
async fn generate_answers_gold_with_hand_worked_usage() {
    let m = mock();
    let (s, v) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.0-flash:generateContent",
        user("hello world"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["candidates"][0]["content"]["parts"][0]["text"], "yes");
    assert_eq!(v["candidates"][0]["content"]["role"], "model");
    assert_eq!(v["candidates"][0]["finishReason"], "STOP");
    assert_eq!(v["modelVersion"], "gemini-2.0-flash");
    // "hello world" = 2 tokens, no per-turn overhead; "yes" = 1; gemini-2.0 does not think.
    assert_eq!(
        v["usageMetadata"],
        json!({"promptTokenCount": 2, "candidatesTokenCount": 1, "totalTokenCount": 3,
               "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 2}]})
    );
    // A system instruction counts: "Be brief." is 3 tokens. A thinking model adds its 224
    // thought tokens (192 + 32 for one item) to the total, not to candidatesTokenCount.
    let mut body = user("hello world");
    body["systemInstruction"] = json!({"parts": [{"text": "Be brief."}]});
    let (_, v) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        body,
    )
    .await;
    let u = &v["usageMetadata"];
    assert_eq!(
        (
            u["promptTokenCount"].clone(),
            u["candidatesTokenCount"].clone(),
            u["thoughtsTokenCount"].clone(),
            u["totalTokenCount"].clone()
        ),
        (json!(5), json!(1), json!(224), json!(230))
    );
    // countTokens agrees with promptTokenCount.
    let (s, v) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.5-flash:countTokens",
        user("hello world"),
    )
    .await;
    assert_eq!((s, v["totalTokens"].clone()), (200, json!(2)));
}

#[tokio::test]
async fn json_mode_answers_packed_items_as_one_object() {
    let m = mock();
    let text =
        batchbench_core::items::pack_user_message([("x1", "hello world"), ("x2", "Is 9 prime?")]);
    let mut body = user(&text);
    body["generationConfig"] = json!({"responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object"}});
    let (s, v) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.0-flash:generateContent",
        body,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let answer: Value = serde_json::from_str(
        v["candidates"][0]["content"]["parts"][0]["text"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(answer, json!({"x1": "yes", "x2": "no"}));
    let t = Bpe::for_model("gemini-2.0-flash");
    assert_eq!(
        v["usageMetadata"]["promptTokenCount"],
        t.count(&text) + t.count("{\"type\":\"object\"}")
    );
}

#[tokio::test]
async fn auth_by_header_or_query_in_googles_shapes() {
    let m = mock();
    let uri = "/v1beta/models/gemini-2.0-flash:generateContent";
    let body = user("hello world").to_string().into_bytes();
    let (s, _, v, _) = send(&m, "POST", uri, &[], body.clone()).await;
    assert_eq!(
        (s, v["error"]["status"].clone()),
        (403, json!("PERMISSION_DENIED")),
        "{v}"
    );
    let (s, _, v, _) = send(&m, "POST", uri, &[("x-goog-api-key", "nope")], body.clone()).await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(
        v["error"]["message"],
        "API key not valid. Please pass a valid API key."
    );
    assert_eq!(v["error"]["details"][0]["reason"], "API_KEY_INVALID");
    // A bearer token is not a Gemini API key.
    let (s, _, _, _) = send(
        &m,
        "POST",
        uri,
        &[("authorization", "Bearer g-key")],
        body.clone(),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _, _, _) = send(&m, "POST", &format!("{uri}?key={KEY}"), &[], body).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn errors_are_google_rpc_statuses() {
    let m = mock();
    let (s, v) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-nope:generateContent",
        user("x"),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].clone(), v["error"]["status"].clone()),
        (404, json!(404), json!("NOT_FOUND"))
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("models/gemini-nope is not found")
    );
    let (s, v) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.0-flash:embedTheWorld",
        user("x"),
    )
    .await;
    assert_eq!(s, 404, "{v}");
    let (s, _, v, _) = send(
        &m,
        "POST",
        "/v1beta/models/gemini-2.0-flash:generateContent",
        &[("x-goog-api-key", KEY)],
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!(
        (s, v["error"]["status"].clone()),
        (400, json!("INVALID_ARGUMENT"))
    );
    let (s, v) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.0-flash:generateContent",
        json!({"contents": []}),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = call(&m, "GET", "/v1beta/nothing-here", json!({})).await;
    assert_eq!(
        (s, v["error"]["status"].clone()),
        (404, json!("NOT_FOUND")),
        "{v}"
    );
    // An injected 429 carries RetryInfo (retry_after_secs = 1) and no retry-after header.
    let (s, _) = call(
        &m,
        "POST",
        "/_mock/inject",
        json!({"fault": "429", "count": 1}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, h, v, _) = send(
        &m,
        "POST",
        "/v1beta/models/gemini-2.0-flash:generateContent",
        &[("x-goog-api-key", KEY)],
        user("x").to_string().into_bytes(),
    )
    .await;
    assert_eq!(
        (s, v["error"]["status"].clone()),
        (429, json!("RESOURCE_EXHAUSTED"))
    );
    assert_eq!(
        v["error"]["details"][0],
        json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"})
    );
    assert!(h.get("retry-after").is_none());
    let (_, v) = call(&m, "GET", "/_mock/stats", json!({})).await;
    // nope, not JSON, empty contents, the 429: four generateContent calls, counted apart.
    assert_eq!(
        v["endpoints"]["POST /v1beta/models/{name}:generateContent"],
        4
    );
    assert_eq!(
        v["endpoints"]["POST /v1beta/models/{name}:embedTheWorld"],
        1
    );
}

#[tokio::test]
async fn explicit_cache_counts_its_tokens_and_expires() {
    let m = mock();
    let long = "Policy line number seven applies to every request. ".repeat(300);
    let t = Bpe::for_model("gemini-2.5-flash");
    let tokens = t.count(&long);
    assert!(tokens >= 2_048);
    let (s, c) = call(
        &m,
        "POST",
        "/v1beta/cachedContents",
        json!({"model": "models/gemini-2.5-flash",
        "systemInstruction": {"parts": [{"text": long}]}, "ttl": "300s"}),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["usageMetadata"]["totalTokenCount"], tokens);
    let name = c["name"].as_str().unwrap().to_string();
    let mut body = user("hello world");
    body["cachedContent"] = json!(name);
    body["generationConfig"] = json!({"thinkingConfig": {"thinkingBudget": 0}});
    let (s, v) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        body.clone(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["usageMetadata"]["cachedContentTokenCount"], tokens);
    assert_eq!(v["usageMetadata"]["promptTokenCount"], tokens + 2);
    assert_eq!(v["usageMetadata"]["totalTokenCount"], tokens + 3);
    // Another model may not use it.
    let mut pro = body.clone();
    pro.as_object_mut().unwrap().remove("generationConfig");
    let (s, v) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.5-pro:generateContent",
        pro,
    )
    .await;
    assert!(
        s == 400
            && v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("has to be the same"),
        "{v}"
    );
    // Too small for the model: 400.
    let (s, v) = call(
        &m,
        "POST",
        "/v1beta/cachedContents",
        json!({"model": "models/gemini-2.5-flash",
        "contents": [{"role": "user", "parts": [{"text": "short"}]}]}),
    )
    .await;
    assert!(
        s == 400
            && v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("too small"),
        "{v}"
    );
    // A cache past its expireTime is gone: using or reading it is a 403.
    let (_, e) = call(
        &m,
        "POST",
        "/v1beta/cachedContents",
        json!({"model": "models/gemini-2.5-flash",
        "systemInstruction": {"parts": [{"text": long}]}, "ttl": "0s"}),
    )
    .await;
    let expired = e["name"].as_str().unwrap().to_string();
    body["cachedContent"] = json!(expired);
    let (s, v) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        body,
    )
    .await;
    assert_eq!(
        (s, v["error"]["status"].clone()),
        (403, json!("PERMISSION_DENIED"))
    );
    let (s, _) = call(&m, "GET", &format!("/v1beta/{expired}"), json!({})).await;
    assert_eq!(s, 403);
    let (s, v) = call(&m, "GET", "/v1beta/cachedContents", json!({})).await;
    assert_eq!(
        (s, v["cachedContents"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let (s, _) = call(&m, "DELETE", &format!("/v1beta/{name}"), json!({})).await;
    assert_eq!(s, 200);
    let (s, _) = call(&m, "GET", &format!("/v1beta/{name}"), json!({})).await;
    assert_eq!(s, 403);
}

async fn wait_done(m: &InProcess, name: &str) -> Value {
    for _ in 0..2_000 {
        let (_, op) = call(m, "GET", &format!("/v1beta/{name}"), json!({})).await;
        if op["done"] == json!(true) {
            return op;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("batch {name} did not finish");
}

#[tokio::test]
async fn inline_batch_runs_to_succeeded_with_keyed_results_in_order() {
    let m = mock();
    let req = |text: &str| json!({"contents": [{"parts": [{"text": text}]}]});
    let body = json!({"batch": {"displayName": "t", "inputConfig": {"requests": {"requests": [
        {"request": req("Is 9 prime?"), "metadata": {"key": "k1"}},
        {"request": {"model": "models/gemini-nope", "contents": [{"parts": [{"text": "x"}]}]}, "metadata": {"key": "k2"}},
        {"request": req("hello world"), "metadata": {"key": "k3"}},
    ]}}}});
    let (s, op) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.0-flash:batchGenerateContent",
        body,
    )
    .await;
    assert_eq!(s, 200, "{op}");
    assert_eq!(op["metadata"]["state"], "BATCH_STATE_PENDING");
    assert_eq!(
        op["metadata"]["batchStats"],
        json!({"requestCount": "3", "pendingRequestCount": "3"})
    );
    let name = op["name"].as_str().unwrap().to_string();
    let done = wait_done(&m, &name).await;
    assert_eq!(done["metadata"]["state"], "BATCH_STATE_SUCCEEDED");
    assert_eq!(
        done["metadata"]["batchStats"],
        json!({"requestCount": "3", "successfulRequestCount": "2", "failedRequestCount": "1"})
    );
    let rows = done["response"]["inlinedResponses"]["inlinedResponses"]
        .as_array()
        .unwrap()
        .clone();
    let keys: Vec<&str> = rows
        .iter()
        .map(|r| r["metadata"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["k1", "k2", "k3"]);
    assert_eq!(
        rows[0]["response"]["candidates"][0]["content"]["parts"][0]["text"],
        "no"
    );
    assert_eq!(rows[1]["error"]["code"], 404);
    assert_eq!(rows[2]["response"]["usageMetadata"]["promptTokenCount"], 2);
    let (_, list) = call(&m, "GET", "/v1beta/batches?pageSize=1", json!({})).await;
    assert_eq!(list["operations"][0]["name"], json!(name));
    let (s, _) = call(&m, "DELETE", &format!("/v1beta/{name}"), json!({})).await;
    assert_eq!(s, 200);
    let (s, _) = call(&m, "GET", &format!("/v1beta/{name}"), json!({})).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn resumable_upload_then_file_batch_then_download() {
    let m = mock();
    let lines = "{\"key\": \"f1\", \"request\": {\"contents\": [{\"parts\": [{\"text\": \"hello world\"}]}]}}\n\
                 {\"key\": \"f2\", \"request\": {\"contents\": [{\"parts\": [{\"text\": \"Is 9 prime?\"}]}]}}\n";
    let size = lines.len().to_string();
    let (s, h, _, _) = send(
        &m,
        "POST",
        "/upload/v1beta/files",
        &[
            ("x-goog-api-key", KEY),
            ("x-goog-upload-protocol", "resumable"),
            ("x-goog-upload-command", "start"),
            ("x-goog-upload-header-content-length", &size),
            ("x-goog-upload-header-content-type", "jsonl"),
            ("content-type", "application/json"),
        ],
        br#"{"file": {"display_name": "in"}}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(h["x-goog-upload-status"], "active");
    let url = h["x-goog-upload-url"].to_str().unwrap().to_string();
    assert!(
        url.starts_with("http://127.0.0.1/upload/v1beta/files?upload_id="),
        "{url}"
    );
    let path = url.trim_start_matches("http://127.0.0.1");
    // The chunk carries no key: the upload URL is its credential (as python-genai sends it).
    let (s, h, v, _) = send(
        &m,
        "POST",
        path,
        &[
            ("x-goog-upload-command", "upload, finalize"),
            ("x-goog-upload-offset", "0"),
        ],
        lines.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(h["x-goog-upload-status"], "final");
    assert_eq!(v["file"]["sizeBytes"], size);
    assert_eq!(v["file"]["state"], "ACTIVE");
    assert_eq!(v["file"]["displayName"], "in");
    assert_eq!(v["file"]["mimeType"], "jsonl");
    let file = v["file"]["name"].as_str().unwrap().to_string();
    let (s, op) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.0-flash:batchGenerateContent",
        json!({"batch": {"displayName": "f", "inputConfig": {"fileName": file}}}),
    )
    .await;
    assert_eq!(s, 200, "{op}");
    assert_eq!(op["metadata"]["inputConfig"]["fileName"], json!(file));
    let done = wait_done(&m, op["name"].as_str().unwrap()).await;
    let out = done["response"]["responsesFile"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(out.starts_with("files/batch-"));
    let (s, _, _, bytes) = send(
        &m,
        "GET",
        &format!("/download/v1beta/{out}:download?alt=media"),
        &[("x-goog-api-key", KEY)],
        Vec::new(),
    )
    .await;
    assert_eq!(s, 200);
    let rows: Vec<Value> = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows.iter().map(|r| r["key"].clone()).collect::<Vec<_>>(),
        [json!("f1"), json!("f2")]
    );
    assert_eq!(
        rows[0]["response"]["candidates"][0]["content"]["parts"][0]["text"],
        "yes"
    );
    // Uploaded files cannot be downloaded; an unknown file is Google's 403.
    let (s, _) = call(
        &m,
        "GET",
        &format!("/v1beta/{file}:download?alt=media"),
        json!({}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = call(&m, "GET", "/v1beta/files/nope", json!({})).await;
    assert_eq!(s, 403);
    // A file whose lines are not requests: the batch is created, then fails.
    let (_, h, _, _) = send(
        &m,
        "POST",
        "/upload/v1beta/files",
        &[
            ("x-goog-api-key", KEY),
            ("x-goog-upload-protocol", "resumable"),
            ("x-goog-upload-command", "start"),
        ],
        Vec::new(),
    )
    .await;
    let path = h["x-goog-upload-url"]
        .to_str()
        .unwrap()
        .trim_start_matches("http://127.0.0.1")
        .to_string();
    let (_, _, v, _) = send(
        &m,
        "POST",
        &path,
        &[("x-goog-upload-command", "upload, finalize")],
        b"not json\n".to_vec(),
    )
    .await;
    let bad = v["file"]["name"].as_str().unwrap().to_string();
    let (_, op) = call(
        &m,
        "POST",
        "/v1beta/models/gemini-2.0-flash:batchGenerateContent",
        json!({"batch": {"inputConfig": {"fileName": bad}}}),
    )
    .await;
    let failed = wait_done(&m, op["name"].as_str().unwrap()).await;
    assert_eq!(failed["metadata"]["state"], "BATCH_STATE_FAILED");
    assert_eq!(failed["error"]["code"], 3);
}

#[tokio::test]
async fn api_version_v1_is_served_as_v1beta_when_the_request_is_geminis() {
    let m = mock();
    // python-genai 3.x sends `v1` by default; its key tells its /v1/ paths from OpenAI's.
    let (s, v) = call(
        &m,
        "POST",
        "/v1/models/gemini-2.0-flash:generateContent",
        user("hello world"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["usageMetadata"]["promptTokenCount"], 2);
    let (s, v) = call(&m, "GET", "/v1/models", json!({})).await;
    assert!(s == 200 && v["models"].is_array(), "{v}");
    // Without a Google key a custom method is still Gemini's (and refused in its shape) ...
    let (s, _, v, _) = send(
        &m,
        "POST",
        "/v1/models/gemini-2.0-flash:generateContent",
        &[],
        user("x").to_string().into_bytes(),
    )
    .await;
    assert_eq!(
        (s, v["error"]["status"].clone()),
        (403, json!("PERMISSION_DENIED")),
        "{v}"
    );
    // ... while OpenAI's /v1/models is untouched.
    let (s, _, v, _) = send(
        &m,
        "GET",
        "/v1/models",
        &[("authorization", "Bearer g-key")],
        Vec::new(),
    )
    .await;
    assert_eq!((s, v["object"].clone()), (200, json!("list")), "{v}");
    let (_, v) = call(&m, "GET", "/_mock/stats", json!({})).await;
    assert_eq!(
        v["endpoints"]["POST /v1beta/models/{name}:generateContent"],
        2
    );
}
