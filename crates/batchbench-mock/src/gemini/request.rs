//! Validation of a Gemini `GenerateContentRequest` as the API checks it (the checks that matter
//! to clients), into [`GenerateParams`]. Google's JSON parser takes both the lowerCamelCase and
//! the snake_case spelling of every field, so both are read here.

use serde_json::{Value, json};

use super::super::errors::ApiError;
use super::types::{Content, GenerateParams, Thinking};

/// `field` spelt as Google's JSON allows: lowerCamelCase (`camel`) or the proto name (`snake`).
pub fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel)
        .or_else(|| v.get(snake))
        .filter(|x| !x.is_null())
}

/// One query parameter (the values the Gemini routes read are ids, numbers and `sse`/`media`,
/// which need no percent-decoding).
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// A page of `items` from the `pageToken` offset (`None`: from the start), at most `size`
/// long, and the next page's token.
pub fn page<T>(items: Vec<T>, token: Option<&str>, size: usize) -> (Vec<T>, Option<String>) {
    let start = token.and_then(|t| t.parse::<usize>().ok()).unwrap_or(0);
    let end = start.saturating_add(size.max(1)).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    let page = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    (page, next)
}

/// How a list endpoint pages: its default and largest `pageSize`.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// Items per page when the query gives none.
    pub default: usize,
    /// The most a query may ask for.
    pub max: usize,
}

/// A list response for `query`'s `pageSize` and `pageToken`: the page of `items` under `key`
/// (left out when empty, as Google does) and `nextPageToken` when there is more.
pub fn page_body(key: &str, items: Vec<Value>, query: Option<&str>, paging: Paging) -> Value {
    let size = query_param(query, "pageSize")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(paging.default)
        .clamp(1, paging.max);
    let token = query_param(query, "pageToken");
    let (items, next) = page(items, token.as_deref(), size);
    let mut body = json!({});
    if !items.is_empty() {
        body[key] = Value::Array(items);
    }
    if let Some(n) = next {
        body["nextPageToken"] = json!(n);
    }
    body
}

/// A 400 `INVALID_ARGUMENT` naming the request field at fault, as Google words them.
pub fn invalid(path: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(
        None,
        format!("* GenerateContentRequest.{path}: {message}\n"),
    )
}

/// The model id of a path or body value: `models/` and a `tunedModels/` prefix stripped.
pub fn model_id(name: &str) -> &str {
    name.strip_prefix("models/").unwrap_or(name)
}

/// One `Content`: its role and the text of its text parts (other parts carry none).
pub fn content(v: &Value, path: &str, need_role: bool) -> Result<Content, ApiError> {
    if !v.is_object() {
        return Err(invalid(path, "must be an object"));
    }
    let role = match v.get("role") {
        None | Some(Value::Null) => "user".to_string(),
        Some(Value::String(r)) if r.is_empty() => "user".to_string(),
        Some(Value::String(r)) if r == "user" || r == "model" => r.clone(),
        Some(_) if !need_role => "user".to_string(),
        Some(other) => {
            return Err(ApiError::invalid(
                None,
                format!("Please use a valid role: user, model. (got {other} at {path}.role)"),
            ));
        }
    };
    let parts = match v.get("parts") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => {
            return Err(invalid(
                &format!("{path}.parts"),
                "contents.parts must not be empty.",
            ));
        }
    };
    let mut texts = Vec::with_capacity(parts.len());
    for (i, p) in parts.iter().enumerate() {
        if !p.is_object() {
            return Err(invalid(&format!("{path}.parts[{i}]"), "must be an object"));
        }
        match p.get("text") {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) => texts.push(t.clone()),
            Some(_) => {
                return Err(invalid(
                    &format!("{path}.parts[{i}].text"),
                    "must be a string",
                ));
            }
        }
    }
    Ok(Content { role, parts: texts })
}

fn contents(v: &Value) -> Result<Vec<Content>, ApiError> {
    let raw = match v.get("contents") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err(invalid("contents", "contents is not specified"));
        }
        Some(_) => return Err(invalid("contents", "must be a list of Content")),
    };
    raw.iter()
        .enumerate()
        .map(|(i, c)| content(c, &format!("contents[{i}]"), true))
        .collect()
}

/// The text of a `systemInstruction` (its text parts joined), if given.
pub fn system_instruction(v: &Value) -> Result<Option<String>, ApiError> {
    match field(v, "systemInstruction", "system_instruction") {
        None => Ok(None),
        Some(s) => Ok(Some(
            content(s, "system_instruction", false)?.parts.concat(),
        )),
    }
}

fn uint(
    cfg: &Value,
    camel: &str,
    snake: &str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ApiError> {
    match field(cfg, camel, snake) {
        None => Ok(None),
        Some(x) => match x.as_u64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(invalid(
                &format!("generation_config.{snake}"),
                format!("must be an integer in [{min}, {max}], got {x}"),
            )),
        },
    }
}

fn stop_sequences(cfg: &Value) -> Result<Vec<String>, ApiError> {
    match field(cfg, "stopSequences", "stop_sequences") {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) if a.len() <= 5 && a.iter().all(Value::is_string) => Ok(a
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()),
        Some(_) => Err(invalid(
            "generation_config.stop_sequences",
            "must be a list of at most 5 strings",
        )),
    }
}

/// `responseMimeType` is JSON, and the schema's compact JSON text.
fn response_format(cfg: &Value) -> Result<(bool, Option<String>), ApiError> {
    let mime = match field(cfg, "responseMimeType", "response_mime_type") {
        None => "text/plain",
        Some(Value::String(m)) => m.as_str(),
        Some(_) => {
            return Err(invalid(
                "generation_config.response_mime_type",
                "must be a string",
            ));
        }
    };
    if !matches!(mime, "text/plain" | "application/json" | "text/x.enum") {
        return Err(invalid(
            "generation_config.response_mime_type",
            format!(
                "allowed mimetypes are `text/plain`, `application/json`, `text/x.enum`; got `{mime}`"
            ),
        ));
    }
    let schema = field(cfg, "responseSchema", "response_schema");
    let json_schema = field(cfg, "responseJsonSchema", "response_json_schema");
    if schema.is_some() && json_schema.is_some() {
        return Err(invalid(
            "generation_config",
            "response_schema and response_json_schema cannot both be set",
        ));
    }
    let chosen = json_schema.or(schema);
    if let Some(s) = chosen {
        if !s.is_object() {
            return Err(invalid(
                "generation_config.response_schema",
                "must be an object",
            ));
        }
        if mime == "text/plain" {
            return Err(invalid(
                "generation_config.response_mime_type",
                "a response schema needs response_mime_type `application/json` or `text/x.enum`",
            ));
        }
    }
    Ok((mime == "application/json", chosen.map(Value::to_string)))
}

fn thinking(cfg: &Value, model: &str) -> Result<Thinking, ApiError> {
    let Some(t) = field(cfg, "thinkingConfig", "thinking_config") else {
        return Ok(Thinking::default());
    };
    let budget = match field(t, "thinkingBudget", "thinking_budget") {
        None => None,
        Some(x) => match x.as_i64() {
            Some(b) if b >= -1 => Some(b),
            _ => {
                return Err(invalid(
                    "generation_config.thinking_config.thinking_budget",
                    format!("must be -1 (dynamic), 0 (off) or a positive integer, got {x}"),
                ));
            }
        },
    };
    // Gemini 2.5 Pro cannot turn thinking off (ai.google.dev/gemini-api/docs/thinking).
    if budget == Some(0) && model.starts_with("gemini-2.5-pro") {
        return Err(ApiError::invalid(
            None,
            "Budget 0 is invalid. This model only works in thinking mode.",
        ));
    }
    let level = match field(t, "thinkingLevel", "thinking_level") {
        None => None,
        Some(Value::String(l)) => {
            let l = l.to_ascii_lowercase();
            if !matches!(l.as_str(), "minimal" | "low" | "medium" | "high") {
                return Err(invalid(
                    "generation_config.thinking_config.thinking_level",
                    format!("unknown level `{l}`"),
                ));
            }
            Some(l)
        }
        Some(_) => {
            return Err(invalid(
                "generation_config.thinking_config.thinking_level",
                "must be a string",
            ));
        }
    };
    Ok(Thinking { budget, level })
}

/// `serviceTier` (python-genai `ServiceTier`: `unspecified`, `standard`, `flex`, `priority`, sent
/// in lower case; the enum's upper-case names are taken too): the tier asked for.
fn service_tier(v: &Value) -> Result<String, ApiError> {
    let Some(raw) = field(v, "serviceTier", "service_tier") else {
        return Ok("standard".into());
    };
    let name = raw.as_str().unwrap_or_default().to_ascii_lowercase();
    let name = name.strip_prefix("service_tier_").unwrap_or(&name);
    match name {
        "unspecified" | "standard" => Ok("standard".into()),
        "flex" | "priority" => Ok(name.to_string()),
        _ => Err(invalid(
            "service_tier",
            format!("invalid value {raw}: use `standard`, `flex` or `priority`"),
        )),
    }
}

/// Validates a request body sent for `model` (the path's or the batch line's model id).
pub fn parse(v: &Value, model: &str) -> Result<GenerateParams, ApiError> {
    if !v.is_object() {
        return Err(ApiError::invalid(
            None,
            "Invalid JSON payload received. Expected an object.",
        ));
    }
    let contents = contents(v)?;
    let system = system_instruction(v)?;
    let cached_content = match field(v, "cachedContent", "cached_content") {
        None => None,
        Some(Value::String(c)) if c.starts_with("cachedContents/") => Some(c.clone()),
        Some(other) => {
            return Err(invalid(
                "cached_content",
                format!("must name `cachedContents/{{id}}`, got {other}"),
            ));
        }
    };
    if cached_content.is_some() && system.is_some() {
        return Err(ApiError::invalid(
            None,
            "CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent request.",
        ));
    }
    let empty = Value::Object(Default::default());
    let cfg = field(v, "generationConfig", "generation_config").unwrap_or(&empty);
    if !cfg.is_object() {
        return Err(invalid("generation_config", "must be an object"));
    }
    if let Some(t) = field(cfg, "temperature", "temperature") {
        if !t.as_f64().is_some_and(|t| (0.0..=2.0).contains(&t)) {
            return Err(invalid(
                "generation_config.temperature",
                format!("temperature must be in the range [0.0, 2.0], got {t}"),
            ));
        }
    }
    let (json, schema) = response_format(cfg)?;
    Ok(GenerateParams {
        model: model_id(model).to_string(),
        system,
        contents,
        max_output_tokens: uint(
            cfg,
            "maxOutputTokens",
            "max_output_tokens",
            1,
            u64::from(u32::MAX),
        )?,
        candidate_count: uint(cfg, "candidateCount", "candidate_count", 1, 8)?.unwrap_or(1) as u32,
        stop: stop_sequences(cfg)?,
        json,
        schema,
        thinking: thinking(cfg, model_id(model))?,
        cached_content,
        service_tier: service_tier(v)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(extra: Value) -> Value {
        let mut b =
            json!({"contents": [{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}]});
        if let (Some(o), Value::Object(e)) = (b.as_object_mut(), extra) {
            o.extend(e);
        }
        b
    }

    #[test]
    fn pages_and_query() {
        let (p, next) = page(vec![1, 2, 3, 4, 5], None, 2);
        assert_eq!((p, next.as_deref()), (vec![1, 2], Some("2")));
        let (p, next) = page(vec![1, 2, 3, 4, 5], Some("4"), 2);
        assert_eq!((p, next), (vec![5], None));
        assert_eq!(
            query_param(Some("alt=sse&key=k"), "key").as_deref(),
            Some("k")
        );
        assert_eq!(query_param(None, "alt"), None);
    }

    #[test]
    fn reads_both_spellings_and_every_field() {
        let p = parse(
            &body(json!({
                "system_instruction": {"parts": [{"text": "Be brief."}]},
                "generationConfig": {"maxOutputTokens": 64, "stop_sequences": ["END"],
                    "responseMimeType": "application/json",
                    "responseJsonSchema": {"type": "object"},
                    "thinkingConfig": {"thinkingBudget": 128}, "temperature": 0},
                "serviceTier": "FLEX",
            })),
            "models/gemini-2.5-flash",
        )
        .unwrap();
        assert_eq!(p.model, "gemini-2.5-flash");
        assert_eq!(p.system.as_deref(), Some("Be brief."));
        assert_eq!(p.contents[0].parts, vec!["a", "b"]);
        assert_eq!(p.max_output_tokens, Some(64));
        assert_eq!(p.stop, vec!["END"]);
        assert!(p.json);
        assert_eq!(p.schema.as_deref(), Some("{\"type\":\"object\"}"));
        assert_eq!(p.thinking.budget, Some(128));
        assert_eq!(p.service_tier, "flex");
        assert_eq!(p.candidate_count, 1);
    }

    #[test]
    fn refuses_what_google_refuses() {
        let m = "gemini-2.5-flash";
        let e = parse(&json!({"contents": []}), m).unwrap_err();
        assert!(
            e.message.contains("contents is not specified"),
            "{}",
            e.message
        );
        assert!(
            parse(
                &json!({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}),
                m
            )
            .is_err()
        );
        assert!(parse(&json!({"contents": [{"parts": []}]}), m).is_err());
        assert!(parse(&body(json!({"generationConfig": {"temperature": 3}})), m).is_err());
        assert!(parse(&body(json!({"generationConfig": {"candidateCount": 9}})), m).is_err());
        assert!(
            parse(
                &body(json!({"generationConfig": {"responseSchema": {"type": "object"}}})),
                m
            )
            .is_err()
        );
        assert!(
            parse(
                &body(
                    json!({"generationConfig": {"responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT"}, "responseJsonSchema": {"type": "object"}}})
                ),
                m
            )
            .is_err()
        );
        assert!(parse(&body(json!({"serviceTier": "cheap"})), m).is_err());
        let pro = parse(
            &body(json!({"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}})),
            "gemini-2.5-pro",
        );
        assert!(
            pro.unwrap_err()
                .message
                .contains("only works in thinking mode")
        );
        let both = parse(
            &body(json!({"cachedContent": "cachedContents/x",
            "systemInstruction": {"parts": [{"text": "s"}]}})),
            m,
        );
        assert!(
            both.unwrap_err()
                .message
                .contains("CachedContent can not be used")
        );
        assert_eq!(parse(&json!([1]), m).unwrap_err().status, 400);
        // An omitted role is a user turn.
        let p = parse(&json!({"contents": [{"parts": [{"text": "x"}]}]}), m).unwrap();
        assert_eq!(p.contents[0].role, "user");
    }
}
