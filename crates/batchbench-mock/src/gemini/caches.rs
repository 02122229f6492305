//! Explicit context caching: `POST/GET/PATCH/DELETE /v1beta/cachedContents[/{id}]`. A cache
//! holds a system instruction and contents for one model, counted by the Gemini token rule; it
//! must reach Google's minimum for the model (400 below it), lives for its `ttl` (one hour
//! unless given) or until its `expireTime`, and is gone afterwards: using or reading an expired
//! or unknown cache is Google's 403 `PERMISSION_DENIED`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use batchbench_core::tokens::Bpe as Tokenizer;

use super::super::cache::PromptCache;
use super::super::errors::ApiError;
use super::super::respond;
use super::super::state::{State, lock};
use super::generate::{check_model, parse_json};
use super::request::{self, Paging, field, model_id, page_body};
use super::store::CacheRecord;
use super::types::CachedPrefix;

/// Google's answer for a cache that does not exist, was deleted or has expired.
pub fn missing() -> ApiError {
    ApiError::new(403, "CachedContent not found (or permission denied)")
}

/// A `Duration` in Google's JSON form (`"300s"`, `"1.5s"`) as seconds.
pub fn parse_ttl(v: &Value) -> Result<f64, ApiError> {
    v.as_str()
        .and_then(|s| s.strip_suffix('s'))
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| {
            ApiError::invalid(
                None,
                format!("Invalid value for ttl: {v}; expected a duration such as \"300s\"."),
            )
        })
}

/// The expiry a create or update asks for: `ttl` from `now`, or `expireTime`, not both.
fn expiry(
    v: &Value,
    now: DateTime<Utc>,
    default_secs: Option<f64>,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let ttl = field(v, "ttl", "ttl");
    let at = field(v, "expireTime", "expire_time");
    match (ttl, at) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            None,
            "Only one of ttl and expire_time may be set.",
        )),
        (Some(t), None) => {
            let secs = parse_ttl(t)?;
            Ok(Some(
                now + Duration::milliseconds((secs * 1000.0).min(1e15) as i64),
            ))
        }
        (None, Some(e)) => e
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| Some(t.with_timezone(&Utc)))
            .ok_or_else(|| ApiError::invalid(None, format!("Invalid value for expire_time: {e}."))),
        (None, None) => Ok(default_secs.map(|s| now + Duration::seconds(s as i64))),
    }
}

/// `POST /v1beta/cachedContents`.
pub async fn create(state: Arc<State>, body: Bytes) -> Result<Response, ApiError> {
    let v = parse_json(&body)?;
    let model = match v.get("model") {
        Some(Value::String(m)) if !m.is_empty() => model_id(m).to_string(),
        _ => {
            return Err(ApiError::invalid(
                None,
                "* CachedContent.model: model is required\n",
            ));
        }
    };
    check_model(&state, &model, "createCachedContent")?;
    let system = request::system_instruction(&v)?;
    let contents = match v.get("contents") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, c)| request::content(c, &format!("contents[{i}]"), true))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid(
                None,
                "* CachedContent.contents: must be a list\n",
            ));
        }
    };
    let now = Utc::now();
    let expires = expiry(&v, now, Some(3_600.0))?.unwrap_or(now);
    let mut prefix = CachedPrefix {
        system,
        contents,
        tokens: 0,
    };
    prefix.tokens =
        Tokenizer::for_model(&model).count_gemini(prefix.system.as_deref(), prefix.parts(), None);
    let min = PromptCache::gemini_min_tokens(&model);
    if prefix.tokens < min {
        return Err(ApiError::invalid(
            None,
            format!(
                "Cached content is too small. total_token_count={}, min_total_token_count={min}",
                prefix.tokens
            ),
        ));
    }
    let record = CacheRecord {
        id: state.random_id("", 12).to_ascii_lowercase(),
        display_name: field(&v, "displayName", "display_name")
            .and_then(Value::as_str)
            .map(str::to_string),
        model,
        prefix,
        created: now,
        updated: now,
        expires,
    };
    let obj = record.object();
    lock(&state.gemini).caches.insert(record);
    Ok(respond::json(200, &obj, Vec::new()))
}

/// `GET /v1beta/cachedContents/{id}`.
pub fn get(state: &State, id: &str) -> Result<Response, ApiError> {
    let mut store = lock(&state.gemini);
    let c = store.caches.live(id, Utc::now()).ok_or_else(missing)?;
    Ok(respond::json(200, &c.object(), Vec::new()))
}

/// `PATCH /v1beta/cachedContents/{id}`: a new `ttl` or `expireTime` (nothing else may change).
pub fn update(state: &State, id: &str, body: &Bytes) -> Result<Response, ApiError> {
    let v = parse_json(body)?;
    let now = Utc::now();
    let mut store = lock(&state.gemini);
    let c = store.caches.live(id, now).ok_or_else(missing)?;
    if let Some(expires) = expiry(&v, now, None)? {
        c.expires = expires;
        c.updated = now;
    }
    Ok(respond::json(200, &c.object(), Vec::new()))
}

/// `DELETE /v1beta/cachedContents/{id}`.
pub fn delete(state: &State, id: &str) -> Result<Response, ApiError> {
    let mut store = lock(&state.gemini);
    store.caches.live(id, Utc::now()).ok_or_else(missing)?;
    store.caches.remove(id);
    Ok(respond::json(200, &json!({}), Vec::new()))
}

/// `GET /v1beta/cachedContents?pageSize&pageToken` (live caches, oldest first).
pub fn list(state: &State, query: Option<&str>) -> Response {
    let mut store = lock(&state.gemini);
    store.caches.purge(Utc::now());
    let all: Vec<Value> = store.caches.all().map(CacheRecord::object).collect();
    let body = page_body(
        "cachedContents",
        all,
        query,
        Paging {
            default: 50,
            max: 1000,
        },
    );
    respond::json(200, &body, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_and_expiry() {
        assert_eq!(parse_ttl(&json!("300s")).unwrap(), 300.0);
        assert_eq!(parse_ttl(&json!("1.5s")).unwrap(), 1.5);
        assert!(parse_ttl(&json!("5m")).is_err());
        assert!(parse_ttl(&json!(300)).is_err());
        let now = Utc::now();
        assert_eq!(
            expiry(&json!({"ttl": "60s"}), now, None).unwrap(),
            Some(now + Duration::seconds(60))
        );
        assert_eq!(
            expiry(&json!({}), now, Some(3_600.0)).unwrap(),
            Some(now + Duration::hours(1))
        );
        assert_eq!(expiry(&json!({}), now, None).unwrap(), None);
        assert!(
            expiry(
                &json!({"ttl": "1s", "expireTime": "2030-01-01T00:00:00Z"}),
                now,
                None
            )
            .is_err()
        );
        let at = expiry(&json!({"expire_time": "2030-01-01T00:00:00Z"}), now, None).unwrap();
        assert_eq!(
            at.map(|t| t.to_rfc3339()),
            Some("2030-01-01T00:00:00+00:00".to_string())
        );
    }
}
