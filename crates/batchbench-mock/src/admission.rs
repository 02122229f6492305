//! The steps every synchronous call of either API takes before it is answered (the rate
//! limiter, then the seeded fault draw) and the errors a status fault turns into. Shared by the
//! OpenAI and Anthropic handlers and the Files/Batches fault middleware, so neither API's
//! handlers borrow from the other's.

use std::time::Instant;

use axum::http::header::RETRY_AFTER;

use super::config::{InputEstimate, RateLimitConfig, TpmCharge};
use super::errors::{Api, ApiError};
use super::faults::{Fault, FaultPlan};
use super::headers::Headers;
use super::respond;
use super::state::State;

/// `input` (tokens or chars/4, as configured) combined with `max` output tokens.
pub fn charge(cfg: &RateLimitConfig, input_tokens: u64, chars: usize, max: u64) -> u64 {
    let input = match cfg.input_estimate {
        InputEstimate::Tokens => input_tokens,
        InputEstimate::CharsDiv4 => (chars as u64).div_ceil(4),
    };
    match cfg.tpm_charge {
        TpmCharge::InputPlusMaxTokens => input + max,
        TpmCharge::MaxOfInputAndMaxTokens => input.max(max),
        TpmCharge::InputOnly => input,
    }
}

/// The steps every synchronous call of either API takes before it is answered: the rate
/// limiter (charging `tokens`), then the seeded fault draw, whose status faults end the call
/// here. On success: the rate-limit headers to send and the faults that shape the answer.
pub fn admit(
    state: &State,
    key: &str,
    tokens: u64,
    api: Api,
    model: &str,
) -> Result<(Headers, FaultPlan), ApiError> {
    let decision = state.limiter.check(key, tokens, Instant::now());
    if !decision.allowed {
        state.stats.rate_limited();
        return Err(respond::rate_limited(api, &decision, model));
    }
    let headers = respond::rate_headers(api, &decision);
    let plan = state.faults.plan(&state.config.faults);
    if plan.reset {
        // The connection goes before the request is processed: no other fault applies.
        state.stats.fault(Fault::Reset.name());
        return Err(ApiError::reset());
    }
    for name in plan.names() {
        if !matches!(name, "malformed_packed" | "missing_item") {
            state.stats.fault(name);
        }
    }
    if let Some(f) = plan.status {
        let mut e = fault_error(state, f, api);
        e.headers.extend(headers);
        return Err(e);
    }
    Ok((headers, plan))
}

/// OpenAI's answer when flex processing has no capacity: 429, code `resource_unavailable`
/// (the flex-processing guide: "429 Resource Unavailable"; not charged, retry with backoff).
fn flex_unavailable(retry_after: String) -> ApiError {
    let mut e = ApiError::new(
        429,
        "Resource unavailable: flex processing has no capacity for this request right now (simulated by the mock). Retry with backoff, or send it without service_tier: flex.",
    )
    .code("resource_unavailable");
    e.kind = "resource_unavailable".into();
    e.header(RETRY_AFTER, retry_after)
}

/// The error a status fault turns into.
pub fn fault_error(state: &State, fault: Fault, api: Api) -> ApiError {
    let retry = state.config.faults.retry_after_secs;
    let retry_text = if retry.fract() == 0.0 {
        format!("{}", retry as u64)
    } else {
        format!("{retry}")
    };
    match fault {
        Fault::RateLimit if api == Api::Gemini => ApiError::new(
            429,
            "Resource has been exhausted (e.g. check quota). (simulated by the mock)",
        )
        .header(RETRY_AFTER, retry_text.clone()),
        Fault::Overloaded | Fault::FlexUnavailable if api == Api::Gemini => ApiError::new(
            503,
            "The model is overloaded. Please try again later. (simulated by the mock)",
        )
        .header(RETRY_AFTER, retry_text.clone()),
        Fault::RateLimit => {
            let mut e = ApiError::new(
                429,
                "Rate limit reached (simulated by the mock). Please try again later.",
            )
            .code("rate_limit_exceeded");
            e.kind = "requests".into();
            e.header(RETRY_AFTER, retry_text)
        }
        Fault::FlexUnavailable => flex_unavailable(retry_text),
        Fault::Overloaded => {
            let msg = match api {
                Api::OpenAi => "The server is overloaded or not ready yet. (simulated by the mock)",
                Api::Anthropic => "Overloaded (simulated by the mock)",
                Api::Gemini => "The model is overloaded. Please try again later.",
            };
            ApiError::new(503, msg).header(RETRY_AFTER, retry_text)
        }
        _ if api == Api::Gemini => ApiError::new(
            500,
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting (simulated by the mock)",
        ),
        _ => ApiError::new(
            500,
            "The server had an error while processing your request. Sorry about that! (simulated by the mock)",
        ),
    }
}
