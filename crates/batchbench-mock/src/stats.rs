//! Counters behind `GET /_mock/stats`: what clients really sent and what the mock answered.
//!
//! Per endpoint, per status, per fault, token totals, and completed counts per prompt id and per
//! batch `custom_id`, so a test can prove that no prompt was answered twice.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Value, json};

/// Thread-safe counters.
#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    requests: u64,
    /// Route (`/v1/files/{id}`, or `(unknown)`) → method → count: looked up with the method and
    /// the route axum matched, without building the `METHOD route` label per request.
    endpoints: BTreeMap<String, BTreeMap<String, u64>>,
    statuses: BTreeMap<u16, u64>,
    faults: BTreeMap<String, u64>,
    prompts_answered: BTreeMap<String, u64>,
    custom_ids_completed: BTreeMap<String, u64>,
    items_wrong: u64,
    items_missing: u64,
    items_answered: u64,
    input_tokens: u64,
    cached_tokens: u64,
    cache_write_tokens: u64,
    output_tokens: u64,
    rate_limited: u64,
}

/// Token usage of one answered request, as added to the totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    /// All input tokens (cached and cache writes included).
    pub input: u64,
    /// Cached input tokens read.
    pub cached: u64,
    /// Input tokens written to the cache.
    pub cache_write: u64,
    /// Output tokens.
    pub output: u64,
}

impl Stats {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// One request arrived with `method` at `route` (reported as `POST /v1/chat/completions`).
    pub fn request(&self, method: &str, route: &str) {
        self.with(|s| {
            s.requests += 1;
            let methods = match s.endpoints.get_mut(route) {
                Some(m) => m,
                None => s.endpoints.entry(route.to_string()).or_default(),
            };
            match methods.get_mut(method) {
                Some(n) => *n += 1,
                None => {
                    methods.insert(method.to_string(), 1);
                }
            }
        });
    }

    /// A response with `status` was sent.
    pub fn status(&self, status: u16) {
        self.with(|s| *s.statuses.entry(status).or_default() += 1);
    }

    /// A fault of kind `fault` was injected.
    pub fn fault(&self, fault: &str) {
        self.with(|s| *s.faults.entry(fault.to_string()).or_default() += 1);
    }

    /// A request was refused by the rate limiter.
    pub fn rate_limited(&self) {
        self.with(|s| s.rate_limited += 1);
    }

    /// A known prompt (by dataset id) received an answer.
    pub fn prompt_answered(&self, id: &str, wrong: bool, missing: bool) {
        self.with(|s| {
            s.items_answered += 1;
            if missing {
                s.items_missing += 1;
            } else {
                *s.prompts_answered.entry(id.to_string()).or_default() += 1;
            }
            if wrong {
                s.items_wrong += 1;
            }
        });
    }

    /// A batch request with `custom_id` completed successfully.
    pub fn custom_id_completed(&self, custom_id: &str) {
        self.with(|s| {
            *s.custom_ids_completed
                .entry(custom_id.to_string())
                .or_default() += 1
        });
    }

    /// Usage of one answered request.
    pub fn tokens(&self, t: TokenCounts) {
        self.with(|s| {
            s.input_tokens += t.input;
            s.cached_tokens += t.cached;
            s.cache_write_tokens += t.cache_write;
            s.output_tokens += t.output;
        });
    }

    /// How many times the prompt with this id was answered.
    pub fn answered(&self, id: &str) -> u64 {
        self.with(|s| s.prompts_answered.get(id).copied().unwrap_or(0))
    }

    /// Everything, as served by `GET /_mock/stats`.
    pub fn snapshot(&self) -> Value {
        self.with(|s| {
            let statuses: serde_json::Map<String, Value> = s.statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
            let endpoints: serde_json::Map<String, Value> = s
                .endpoints
                .iter()
                .flat_map(|(route, methods)| {
                    methods.iter().map(move |(method, n)| (format!("{method} {route}"), json!(n)))
                })
                .collect();
            let max_answers = s.prompts_answered.values().copied().max().unwrap_or(0);
            let max_custom = s.custom_ids_completed.values().copied().max().unwrap_or(0);
            json!({
                "simulated_quality": true,
                "requests": s.requests,
                "endpoints": endpoints,
                "statuses": statuses,
                "faults": s.faults,
                "rate_limited": s.rate_limited,
                "tokens": {
                    "input": s.input_tokens,
                    "cached": s.cached_tokens,
                    "cache_write": s.cache_write_tokens,
                    "output": s.output_tokens,
                },
                "items": {"answered": s.items_answered, "wrong": s.items_wrong, "missing": s.items_missing},
                "prompts_answered": s.prompts_answered,
                "max_answers_per_prompt": max_answers,
                "custom_ids_completed": s.custom_ids_completed,
                "max_completions_per_custom_id": max_custom,
            })
        })
    }

    /// Clears every counter (`POST /_mock/reset`).
    pub fn reset(&self) {
        self.with(|s| *s = Inner::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let s = Stats::default();
        s.request("POST", "/v1/chat/completions");
        s.request("GET", "(unknown)");
        s.status(200);
        s.prompt_answered("q1", false, false);
        s.prompt_answered("q1", true, false);
        s.prompt_answered("q2", false, true);
        s.custom_id_completed("c1");
        s.tokens(TokenCounts {
            input: 10,
            cached: 0,
            cache_write: 0,
            output: 2,
        });
        let v = s.snapshot();
        assert_eq!(v["endpoints"]["POST /v1/chat/completions"], 1);
        assert_eq!(v["endpoints"]["GET (unknown)"], 1);
        assert_eq!(v["statuses"]["200"], 1);
        assert_eq!(v["prompts_answered"]["q1"], 2);
        assert!(v["prompts_answered"].get("q2").is_none());
        assert_eq!(v["items"], json!({"answered": 3, "wrong": 1, "missing": 1}));
        assert_eq!(v["max_answers_per_prompt"], 2);
        assert_eq!(v["tokens"]["input"], 10);
        assert_eq!(s.answered("q1"), 2);
        s.reset();
        assert_eq!(s.snapshot()["requests"], 0);
    }
}
