//! Property tests of everything that reads bytes batchbench did not write: the dataset readers
//! (JSONL and CSV) and the wire decoders for both providers' responses and batch result lines.
//! Whatever comes in, the answer is `Ok` or a typed error with a one-line message: never a panic.
//!
//! Sizes are kept small so the whole file runs in a few seconds in a debug build.

use std::io::Write;

use batchbench::Error;
use batchbench::provider::{anthropic, openai};
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Numbers where decoders tend to break: zero, the u64 edges, negatives, fractions, huge floats.
fn edgy_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(u64::MAX)),
        Just(json!(u64::MAX - 1)),
        Just(json!(u64::MAX / 2 + 1)),
        Just(json!(i64::MIN)),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(json!(1e300)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        (0u64..100_000).prop_map(|n| json!(n)),
    ]
}

/// Any JSON value, a few levels deep, with object keys drawn from the names the decoders look for
/// so that the random shapes actually reach their fields.
fn any_json() -> impl Strategy<Value = Value> {
    const KEYS: &[&str] = &[
        "id",
        "choices",
        "usage",
        "message",
        "delta",
        "content",
        "refusal",
        "finish_reason",
        "prompt_tokens",
        "completion_tokens",
        "prompt_tokens_details",
        "cached_tokens",
        "cache_write_tokens",
        "type",
        "text",
        "stop_reason",
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "cache_creation",
        "ephemeral_1h_input_tokens",
        "custom_id",
        "response",
        "status_code",
        "body",
        "error",
        "result",
        "code",
        "request_id",
        "x",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        edgy_number(),
        "[a-z0-9 _\\-]{0,8}".prop_map(Value::String),
        prop::sample::select(vec![
            "text",
            "succeeded",
            "errored",
            "canceled",
            "expired",
            "error",
            "message",
            "stop"
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(3, 32, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..6).prop_map(
                |kv| { Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()) }
            ),
        ]
    })
}

/// A chat.completion that is valid except where the generator says otherwise.
fn near_completion() -> impl Strategy<Value = Value> {
    (
        edgy_number(),
        edgy_number(),
        edgy_number(),
        edgy_number(),
        any_json(),
        0usize..6,
    )
        .prop_map(|(prompt, completion, cached, write, junk, mutation)| {
            let mut v = json!({
                "id": "chatcmpl-1", "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "4", "refusal": null},
                             "finish_reason": "stop", "logprobs": null}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": 0,
                          "prompt_tokens_details": {"cached_tokens": cached, "cache_write_tokens": write}}
            });
            match mutation {
                0 => v["usage"] = junk,
                1 => v["choices"] = junk,
                2 => v["choices"][0]["message"] = junk,
                3 => v["usage"]["prompt_tokens_details"] = junk,
                4 => v["id"] = junk,
                _ => {}
            }
            v
        })
}

/// An Anthropic message that is valid except where the generator says otherwise.
fn near_message() -> impl Strategy<Value = Value> {
    (
        edgy_number(),
        edgy_number(),
        edgy_number(),
        edgy_number(),
        edgy_number(),
        any_json(),
        0usize..6,
    )
        .prop_map(|(input, output, write, read, write_1h, junk, mutation)| {
            let mut v = json!({
                "id": "msg_1", "type": "message", "role": "assistant",
                "content": [{"type": "text", "text": "yes"}], "stop_reason": "end_turn",
                "usage": {"input_tokens": input, "output_tokens": output, "cache_creation_input_tokens": write,
                          "cache_read_input_tokens": read, "cache_creation": {"ephemeral_1h_input_tokens": write_1h}}
            });
            match mutation {
                0 => v["usage"] = junk,
                1 => v["content"] = junk,
                2 => v["content"][0] = junk,
                3 => v["usage"]["cache_creation"] = junk,
                4 => v["stop_reason"] = junk,
                _ => {}
            }
            v
        })
}

/// A line of an OpenAI batch output or error file, valid or broken in one place.
fn near_batch_line() -> impl Strategy<Value = String> {
    (near_completion(), any_json(), edgy_number(), 0usize..6).prop_map(|(body, junk, status, mutation)| {
        let mut v = json!({"id": "batch_req_1", "custom_id": "r000001",
                           "response": {"status_code": 200, "request_id": "req_1", "body": body}, "error": null});
        match mutation {
            0 => v["response"]["status_code"] = status,
            1 => v["response"] = junk,
            2 => v["custom_id"] = junk,
            3 => {
                v["response"] = Value::Null;
                v["error"] = junk;
            }
            4 => v["response"]["body"] = junk,
            _ => {}
        }
        v.to_string()
    })
}

/// A line of an Anthropic message batch results file, valid or broken in one place.
fn near_result_line() -> impl Strategy<Value = String> {
    (near_message(), any_json(), 0usize..6).prop_map(|(message, junk, mutation)| {
        let mut v =
            json!({"custom_id": "r000001", "result": {"type": "succeeded", "message": message}});
        match mutation {
            0 => v["result"]["type"] = junk,
            1 => v["result"] = junk,
            2 => v["custom_id"] = junk,
            3 => v["result"] = json!({"type": "errored", "error": junk}),
            4 => v["result"]["message"] = junk,
            _ => {}
        }
        v.to_string()
    })
}

/// One line of a dataset file: valid records, broken records, arbitrary JSON, or noise.
fn dataset_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => ("[a-zA-Z0-9_.-]{1,10}", "[ -~]{1,20}").prop_map(|(id, p)| json!({"id": id, "prompt": p}).to_string().into_bytes()),
        1 => ("[ -~]{0,70}", "[ -~]{0,20}").prop_map(|(id, p)| json!({"id": id, "prompt": p}).to_string().into_bytes()),
        1 => any_json().prop_map(|v| v.to_string().into_bytes()),
        1 => any_json().prop_map(|v| json!({"id": "a", "prompt": "p", "answer": v.clone(), "task": v}).to_string().into_bytes()),
        1 => any_json().prop_map(|v| json!({"instructions": v}).to_string().into_bytes()),
        1 => "[ -~]{0,30}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..30),
        1 => Just(b"\xef\xbb\xbf{\"id\":\"bom\",\"prompt\":\"p\"}".to_vec()),
        1 => Just(b"id,prompt,answer,task".to_vec()),
        1 => ("[a-z0-9]{1,5}", "[ -~]{0,12}", "[ -~]{0,5}").prop_map(|(a, b, c)| format!("{a},{b},{c}").into_bytes()),
        1 => Just(b"\"unterminated,quote".to_vec()),
    ]
}

fn dataset_file() -> impl Strategy<Value = (bool, Vec<u8>)> {
    let separator = prop::sample::select(vec![&b"\n"[..], b"\r\n", b"\r", b"\n\n"]);
    (
        any::<bool>(),
        prop::collection::vec((dataset_line(), separator), 0..12),
    )
        .prop_map(|(csv, lines)| {
            let mut bytes = Vec::new();
            for (line, sep) in lines {
                bytes.extend_from_slice(&line);
                bytes.extend_from_slice(sep);
            }
            (csv, bytes)
        })
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn load_bytes(csv: bool, bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let path = dir.path().join(if csv { "data.csv" } else { "data.jsonl" });
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    match batchbench::dataset::load(&path, None) {
        Ok(set) => {
            prop_assert!(!set.prompts.is_empty());
            let mut ids: Vec<&str> = set.prompts.iter().map(|p| p.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(ids.len(), set.prompts.len(), "ids are unique");
        }
        Err(e) => {
            prop_assert!(matches!(e, Error::Dataset(_)), "not a Dataset error: {e:?}");
            prop_assert_eq!(e.exit_code(), 2);
            let msg = e.to_string();
            prop_assert!(
                msg.starts_with(&path.display().to_string()),
                "names the file: {msg}"
            );
            prop_assert!(!msg.contains('\n'), "one line: {msg:?}");
        }
    }
    Ok(())
}

fn one_line(e: &str) -> Result<(), TestCaseError> {
    prop_assert!(!e.contains('\n'), "one line: {e:?}");
    Ok(())
}

fn check_usage_consistent(u: &batchbench::provider::Usage) -> Result<(), TestCaseError> {
    prop_assert!(
        u.cached_tokens + u.cache_write_tokens <= u.input_tokens,
        "{u:?}"
    );
    prop_assert!(u.cache_write_1h_tokens <= u.cache_write_tokens, "{u:?}");
    Ok(())
}

fn decode_completion(v: &Value) -> Result<(), TestCaseError> {
    match openai::parse_completion(v) {
        Ok(r) => check_usage_consistent(&r.usage)?,
        Err(e) => one_line(&e)?,
    }
    Ok(())
}

fn decode_message(v: &Value) -> Result<(), TestCaseError> {
    match anthropic::parse_message(v) {
        Ok(r) => check_usage_consistent(&r.usage)?,
        Err(e) => one_line(&e)?,
    }
    Ok(())
}

fn decode_batch_line(line: &str) -> Result<(), TestCaseError> {
    match openai::parse_batch_line(line) {
        Ok(r) => match r.outcome {
            Ok(resp) => check_usage_consistent(&resp.usage)?,
            Err(e) => one_line(&e.to_string())?,
        },
        Err(e) => one_line(&e)?,
    }
    Ok(())
}

fn decode_result_line(line: &str) -> Result<(), TestCaseError> {
    match anthropic::parse_result_line(line) {
        Ok(r) => match r.outcome {
            Ok(resp) => check_usage_consistent(&resp.usage)?,
            Err(e) => one_line(&e.to_string())?,
        },
        Err(e) => one_line(&e)?,
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn dataset_random_bytes_load_or_input_error(csv in any::<bool>(), bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        load_bytes(csv, &bytes)?;
    }

    #[test]
    fn dataset_random_lines_load_or_input_error((csv, bytes) in dataset_file()) {
        load_bytes(csv, &bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parse_completion_any_json_never_panics(v in any_json()) {
        decode_completion(&v)?;
    }

    #[test]
    fn parse_completion_near_valid_never_panics(v in near_completion()) {
        decode_completion(&v)?;
    }

    #[test]
    fn parse_message_any_json_never_panics(v in any_json()) {
        decode_message(&v)?;
    }

    #[test]
    fn parse_message_near_valid_never_panics(v in near_message()) {
        decode_message(&v)?;
    }

    #[test]
    fn parse_batch_line_any_string_never_panics(s in "\\PC{0,200}") {
        decode_batch_line(&s)?;
    }

    #[test]
    fn parse_batch_line_any_json_never_panics(v in any_json()) {
        decode_batch_line(&v.to_string())?;
    }

    #[test]
    fn parse_batch_line_near_valid_never_panics(s in near_batch_line()) {
        decode_batch_line(&s)?;
    }

    #[test]
    fn parse_result_line_any_string_never_panics(s in "\\PC{0,200}") {
        decode_result_line(&s)?;
    }

    #[test]
    fn parse_result_line_any_json_never_panics(v in any_json()) {
        decode_result_line(&v.to_string())?;
    }

    #[test]
    fn parse_result_line_near_valid_never_panics(s in near_result_line()) {
        decode_result_line(&s)?;
    }
}

/// The overflow cases the generators found, pinned: token counts near u64::MAX must be a decode
/// error (or a consistent usage), never an arithmetic overflow.
#[test]
fn usage_counts_near_u64_max() {
    let max = u64::MAX;
    let v = json!({"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,
        "prompt_tokens_details":{"cached_tokens":max,"cache_write_tokens":max}}});
    assert!(openai::parse_completion(&v).is_err());
    let v = json!({"id":"m","content":[],"usage":{"input_tokens":max,"output_tokens":1,
        "cache_creation_input_tokens":max,"cache_read_input_tokens":max}});
    assert!(anthropic::parse_message(&v).is_err());
}
