//! The common chat completion request read without a JSON tree: `model`, `messages` of
//! `{role, content}` with string content, and optionally `max_completion_tokens` or
//! `max_tokens`, nothing else. That is what a plain client (and `run`'s unpacked strategies)
//! sends; building a `serde_json::Value` for it was 8% of the mock's CPU under load. Anything
//! else (another field, content parts, a value the API refuses) is not read here, and the
//! handler validates it the `Value` way (`chat::parse`), whose error messages quote the API's;
//! for what it accepts, the result is the one `chat::parse` gives (checked in `chat`'s tests).

use std::borrow::Cow;

use serde::Deserialize;

use super::types::ChatParams;

/// The roles the API accepts (openai-python `ChatCompletionMessageParam`).
pub const ROLES: &[&str] = &[
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body<'a> {
    #[serde(borrow)]
    model: Cow<'a, str>,
    #[serde(borrow)]
    messages: Vec<PlainMessage<'a>>,
    #[serde(default)]
    max_completion_tokens: Option<u64>,
    #[serde(default)]
    max_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainMessage<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow)]
    content: Cow<'a, str>,
}

/// The request's parameters when it has the plain shape and nothing the API would refuse;
/// `None` sends it the `Value` way.
pub fn parse(body: &[u8]) -> Option<ChatParams> {
    let b: Body = serde_json::from_slice(body).ok()?;
    let valid_limit = |m: Option<u64>| m.is_none_or(|n| n >= 1);
    if b.model.is_empty()
        || b.messages.is_empty()
        || b.messages.iter().any(|m| !ROLES.contains(&m.role.as_ref()))
        || !valid_limit(b.max_completion_tokens)
        || !valid_limit(b.max_tokens)
    {
        return None;
    }
    Some(ChatParams {
        model: b.model.into_owned(),
        messages: b
            .messages
            .into_iter()
            .map(|m| (m.role.into_owned(), m.content.into_owned()))
            .collect(),
        n: 1,
        max_tokens: b.max_completion_tokens.or(b.max_tokens),
        stream: false,
        include_usage: false,
        schema: None,
        cache_key: None,
        retain_24h: false,
        stop: Vec::new(),
        service_tier: None,
        reasoning_effort: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_but_the_plain_shape_is_declined() {
        for body in [
            // Refused by the API: the Value way words the error.
            r#"{"model":"","messages":[{"role":"user","content":"x"}]}"#,
            r#"{"model":"m","messages":[]}"#,
            r#"{"model":"m","messages":[{"role":"boss","content":"x"}]}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":0}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":-1}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":2.0}"#,
            r#"{"model":"m"}"#,
            "not json",
            // Accepted, but with more than the plain shape.
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":false}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":0}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"x","name":"n"}]}"#,
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}"#,
            r#"{"model":"m","messages":[{"role":"user","content":null}]}"#,
            r#"{"model":"m","messages":[{"role":"assistant"}]}"#,
            r#"{"model":"a","model":"b","messages":[{"role":"user","content":"x"}]}"#,
        ] {
            assert_eq!(parse(body.as_bytes()), None, "{body}");
        }
    }
}
