//! `models/{model}:generateContent`, `:streamGenerateContent` and `:countTokens`: the answer
//! (oracle, candidates, stop sequences, `maxOutputTokens` shared with thinking), usage by the
//! stand-in rule of [`batchbench_core::tokens::gemini_tokens`], explicit (`cachedContent`) and
//! implicit caching, service tiers, rate limits, faults and latency. Also used for batch lines.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use serde_json::{Value, json};

use batchbench_core::tokens::Bpe as Tokenizer;

use super::super::admission::{admit, charge, fault_error};
use super::super::clock::pause;
use super::super::errors::{Api, ApiError};
use super::super::faults::{Fault, FaultPlan};
use super::super::latency;
use super::super::oracle::AnswerFaults;
use super::super::respond::{self, StreamEnd};
use super::super::state::{State, lock};
use super::super::stats::TokenCounts;
use super::super::text::{self, apply_stop};
use super::request::{self, model_id};
use super::stream;
use super::types::{CachedPrefix, Candidate, GenerateParams, Generated, Usage, thought_tokens};

/// The body as JSON, or Google's 400 for a payload that is not.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(None, format!("Invalid JSON payload received. {e}")))
}

/// 404 for a model the mock does not serve, worded as Google words it for `method`.
pub fn check_model(state: &State, model: &str, method: &str) -> Result<(), ApiError> {
    if state.models.accepts(Api::Gemini, model) {
        return Ok(());
    }
    Err(ApiError::not_found(format!(
        "models/{model} is not found for API version v1beta, or is not supported for {method}. Call ListModels to see the list of available models and their supported methods."
    )))
}

/// The cached content a request names: its prefix, or Google's 403 when it does not exist or
/// has expired, and a 400 when it was made for another model.
pub fn resolve_cache(state: &State, p: &GenerateParams) -> Result<Option<CachedPrefix>, ApiError> {
    let Some(name) = &p.cached_content else {
        return Ok(None);
    };
    let id = name.trim_start_matches("cachedContents/");
    let mut store = lock(&state.gemini);
    let Some(c) = store.caches.live(id, chrono::Utc::now()) else {
        return Err(ApiError::new(
            403,
            "CachedContent not found (or permission denied)",
        ));
    };
    if c.model != p.model {
        return Err(ApiError::invalid(
            None,
            format!(
                "Model used by GenerateContent request (models/{}) and CachedContent (models/{}) has to be the same.",
                p.model, c.model
            ),
        ));
    }
    Ok(Some(c.prefix.clone()))
}

/// The prompt's token ids in the rule's order (system, cached contents, contents, schema), for
/// implicit prefix caching: its length is the rule's count.
fn prompt_sequence(p: &GenerateParams) -> Vec<u32> {
    let mut seq = Vec::new();
    if let Some(s) = &p.system {
        seq.extend(text::encode(&p.model, s));
    }
    for part in p.parts() {
        seq.extend(text::encode(&p.model, part));
    }
    if let Some(s) = &p.schema {
        seq.extend(text::encode(&p.model, s));
    }
    seq
}

/// Cached prompt tokens: the whole explicit cache, else what implicit caching finds.
fn cached_tokens(
    state: &State,
    p: &GenerateParams,
    prefix: Option<&CachedPrefix>,
    prompt: u64,
) -> u64 {
    if let Some(c) = prefix {
        return c.tokens.min(prompt);
    }
    if !state.config.cache.enabled
        || prompt < super::super::cache::PromptCache::gemini_min_tokens(&p.model)
    {
        return 0;
    }
    state
        .cache
        .gemini(&p.model, &prompt_sequence(p), Instant::now())
        .min(prompt)
}

/// One candidate's text within `maxOutputTokens`, which its thoughts share: the thoughts are
/// cut to the budget first and the text gets what is left (nothing: an empty, `MAX_TOKENS`
/// candidate, as Gemini 2.5 answers when thinking uses the whole budget).
fn within_budget(model: &str, answer: String, thoughts: u64, max: Option<u64>) -> (Candidate, u64) {
    let Some(max) = max else {
        return (
            Candidate {
                text: answer,
                finish_reason: "STOP",
            },
            thoughts,
        );
    };
    let thoughts = thoughts.min(max);
    let room = max - thoughts;
    let (text, cut) = if room == 0 {
        (String::new(), !answer.is_empty())
    } else {
        text::truncate(model, answer, room)
    };
    let finish_reason = if cut { "MAX_TOKENS" } else { "STOP" };
    (
        Candidate {
            text,
            finish_reason,
        },
        thoughts,
    )
}

/// Answers a validated request (`prefix`: its cached content) and records the stats. `tier` is
/// the tier that serves it (the request's, or `batch` for batch lines, which Google serves at
/// the batch price).
pub fn complete(
    state: &State,
    p: &GenerateParams,
    prefix: Option<&CachedPrefix>,
    plan: &FaultPlan,
    tier: &str,
) -> Generated {
    let prompt = p.prompt_tokens(prefix);
    let cached = cached_tokens(state, p, prefix, prompt);
    let user_text = p.last_user_text();
    let t = Tokenizer::for_model(&p.model);
    let mut candidates = Vec::with_capacity(p.candidate_count as usize);
    let (mut out, mut thoughts) = (0, 0);
    for sample in 0..p.candidate_count {
        let faults = AnswerFaults::from(plan);
        let answer = state.oracle.answer(
            &state.config.error_model,
            state.config.seed,
            &p.model,
            &user_text,
            sample,
            faults,
        );
        if sample == 0 {
            if answer.packed && plan.malformed {
                state.stats.fault(Fault::MalformedPacked.name());
            }
            if answer.packed && plan.missing_item {
                state.stats.fault(Fault::MissingItem.name());
            }
            for item in &answer.items {
                if let Some(pid) = &item.prompt_id {
                    state.stats.prompt_answered(pid, item.wrong, item.missing);
                }
            }
        }
        let wanted = thought_tokens(&p.model, &p.thinking, answer.items.len());
        // JSON output is always JSON: a lone answer becomes a JSON string.
        let text = if p.json && !answer.packed {
            Value::String(answer.text).to_string()
        } else {
            answer.text
        };
        let (stopped, _) = apply_stop(text, &p.stop);
        let (candidate, used) = within_budget(&p.model, stopped, wanted, p.max_output_tokens);
        out += t.count(&candidate.text);
        thoughts += used;
        candidates.push(candidate);
    }
    state.stats.tokens(TokenCounts {
        input: prompt,
        cached,
        cache_write: 0,
        output: out + thoughts,
    });
    Generated {
        model: p.model.clone(),
        candidates,
        usage: Usage {
            prompt,
            cached,
            candidates: out,
            thoughts,
        },
        response_id: state.random_id("", 22),
        service_tier: tier.to_string(),
    }
}

/// `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent` (`alt=sse` for
/// Server-Sent Events; without it the chunks come as one JSON array, as Google sends them).
pub async fn generate(
    state: Arc<State>,
    key: &str,
    model: &str,
    body: &Bytes,
    stream: Option<bool>,
) -> Result<Response, ApiError> {
    let v = parse_json(body)?;
    let p = request::parse(&v, model)?;
    let method = if stream.is_some() {
        "streamGenerateContent"
    } else {
        "generateContent"
    };
    check_model(&state, &p.model, method)?;
    let prefix = resolve_cache(&state, &p)?;
    let prompt = p.prompt_tokens(prefix.as_ref());
    let chars = p.parts().map(str::len).sum::<usize>() + p.system.as_ref().map_or(0, String::len);
    let max = p
        .max_output_tokens
        .unwrap_or(state.config.rate_limits.default_max_tokens)
        * u64::from(p.candidate_count);
    let tokens = charge(&state.config.rate_limits, prompt, chars, max);
    let (mut headers, plan) = admit(&state, key, tokens, Api::Gemini, &p.model)?;
    if p.service_tier == "flex" && state.faults.flex_refused(&state.config.faults) {
        state.stats.fault(Fault::FlexUnavailable.name());
        return Err(fault_error(&state, Fault::FlexUnavailable, Api::Gemini));
    }
    let done = complete(&state, &p, prefix.as_ref(), &plan, &p.service_tier);
    if let Ok(tier) = HeaderValue::from_str(&done.service_tier) {
        headers.push((HeaderName::from_static("x-gemini-service-tier"), tier));
    }
    let prof = latency::profile(&state.config.latency, &p.model);
    let slow = if plan.slow {
        state.config.faults.slow_factor
    } else {
        1.0
    };
    let output = done.usage.candidates + done.usage.thoughts;
    let timing = latency::timing(
        &prof,
        prompt,
        output,
        state.jitter(),
        state.config.time_scale * slow,
    );
    match stream {
        Some(true) => {
            let events = stream::events(&p.model, &done, timing);
            let end = if plan.drop {
                StreamEnd::Dropped
            } else if plan.truncate {
                StreamEnd::Truncated
            } else {
                StreamEnd::Complete
            };
            Ok(respond::sse(events, end, headers))
        }
        Some(false) => {
            pause(timing.total).await;
            Ok(respond::json(
                200,
                &stream::chunks(&p.model, &done),
                headers,
            ))
        }
        None => {
            pause(timing.total).await;
            if plan.drop {
                return Ok(respond::dropped_json(&done.body(), headers));
            }
            Ok(respond::json(200, &done.body(), headers))
        }
    }
}

/// `POST /v1beta/models/{model}:countTokens`: `contents` alone (what python-genai sends for the
/// Gemini API) counted by the rule without a system or schema, or a whole
/// `generateContentRequest` counted as `generateContent` would bill it.
pub async fn count_tokens(
    state: Arc<State>,
    model: &str,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let v = parse_json(body)?;
    check_model(&state, model_id(model), "countTokens")?;
    let full = request::field(&v, "generateContentRequest", "generate_content_request");
    if full.is_some() && v.get("contents").is_some() {
        return Err(ApiError::invalid(
            None,
            "* CountTokensRequest: contents and generate_content_request cannot both be set\n",
        ));
    }
    let (p, prefix) = match full {
        Some(r) => {
            let inner_model = r.get("model").and_then(Value::as_str).unwrap_or(model);
            let p = request::parse(r, inner_model)?;
            let prefix = resolve_cache(&state, &p)?;
            (p, prefix)
        }
        None => (
            request::parse(&json!({"contents": v.get("contents")}), model)?,
            None,
        ),
    };
    let total = p.prompt_tokens(prefix.as_ref());
    let mut body = json!({"totalTokens": total});
    if let Some(c) = &prefix {
        body["cachedContentTokenCount"] = json!(c.tokens);
    }
    if total > 0 {
        body["promptTokensDetails"] = json!([{"modality": "TEXT", "tokenCount": total}]);
    }
    Ok(respond::json(200, &body, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinking_shares_the_output_budget() {
        let m = "gemini-2.5-flash";
        // No cap: the answer and every thought token.
        let (c, t) = within_budget(m, "hello world".into(), 224, None);
        assert_eq!(
            (c.text.as_str(), c.finish_reason, t),
            ("hello world", "STOP", 224)
        );
        // 225 tokens: 224 thoughts leave 1 token of text ("hello"): cut.
        let (c, t) = within_budget(m, "hello world".into(), 224, Some(225));
        assert_eq!(
            (c.text.as_str(), c.finish_reason, t),
            ("hello", "MAX_TOKENS", 224)
        );
        // 100 tokens: thinking takes them all; an empty MAX_TOKENS candidate.
        let (c, t) = within_budget(m, "hello world".into(), 224, Some(100));
        assert_eq!(
            (c.text.as_str(), c.finish_reason, t),
            ("", "MAX_TOKENS", 100)
        );
        // Room enough: untouched.
        let (c, t) = within_budget(m, "hello world".into(), 0, Some(10));
        assert_eq!(
            (c.text.as_str(), c.finish_reason, t),
            ("hello world", "STOP", 0)
        );
    }
}
