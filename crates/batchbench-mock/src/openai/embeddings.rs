//! `POST /v1/embeddings`: validation with the real limits (2,048 inputs, 8,192 tokens per input,
//! 300,000 per request: [`batchbench_core::embed`]), usage counted with the shared BPE rules,
//! `float` and `base64` encodings, `dimensions` (truncate, then renormalise, as text-embedding-3
//! does), deterministic unit vectors per (model, text), and the optional batch-dependent
//! perturbation of [`EmbeddingsConfig`]. Also answers Batch API lines for `/v1/embeddings`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::response::Response;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use batchbench_core::embed::{self, MAX_INPUTS_PER_REQUEST, MAX_TOKENS_PER_INPUT};
use batchbench_core::tokens::Bpe;

use super::super::admission::{admit, charge};
use super::super::clock::pause;
use super::super::config::EmbeddingsConfig;
use super::super::errors::{Api, ApiError};
use super::super::extract::ApiKey;
use super::super::latency;
use super::super::respond;
use super::super::seed::Fnv;
use super::super::state::State;
use super::super::stats::TokenCounts;

/// One input: text, or token ids (the API takes both).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A string.
    Text(String),
    /// An array of token ids.
    Tokens(Vec<u64>),
}

/// A validated embeddings request.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedParams {
    /// Model id.
    pub model: String,
    /// The inputs, in order.
    pub inputs: Vec<Input>,
    /// `encoding_format: "base64"`.
    pub base64: bool,
    /// `dimensions`, when given.
    pub dimensions: Option<usize>,
}

fn bad_input(message: impl Into<String>) -> ApiError {
    ApiError::invalid(Some("input"), message)
}

fn token_array(a: &[Value]) -> Option<Vec<u64>> {
    a.iter().map(Value::as_u64).collect()
}

fn parse_inputs(v: Option<&Value>) -> Result<Vec<Input>, ApiError> {
    let inputs = match v {
        None | Some(Value::Null) => {
            return Err(bad_input("Missing required parameter: 'input'."));
        }
        Some(Value::String(s)) => vec![Input::Text(s.clone())],
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(bad_input(
                "Invalid 'input': empty array. Expected an array with minimum length 1.",
            )
            .code("empty_array"));
        }
        Some(Value::Array(a)) if a.iter().all(Value::is_number) => {
            vec![Input::Tokens(token_array(a).ok_or_else(|| {
                bad_input("Invalid 'input': token ids must be non-negative integers.")
            })?)]
        }
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::String(s) => Ok(Input::Text(s.clone())),
                Value::Array(t) => token_array(t)
                    .map(Input::Tokens)
                    .ok_or_else(|| bad_input(format!("Invalid 'input[{i}]': expected token ids."))),
                _ => Err(bad_input(format!(
                    "Invalid type for 'input[{i}]': expected a string or an array of token ids."
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(bad_input(
                "Invalid type for 'input': expected a string or an array.",
            ));
        }
    };
    if inputs.len() > MAX_INPUTS_PER_REQUEST {
        return Err(bad_input(format!(
            "Invalid 'input': array too long. Expected an array with maximum length {MAX_INPUTS_PER_REQUEST}, but got an array with length {} instead.",
            inputs.len()
        ))
        .code("array_above_max_length"));
    }
    for (i, input) in inputs.iter().enumerate() {
        let empty = match input {
            Input::Text(s) => s.is_empty(),
            Input::Tokens(t) => t.is_empty(),
        };
        if empty {
            return Err(bad_input(format!(
                "Invalid 'input[{i}]': an input cannot be empty."
            )));
        }
    }
    Ok(inputs)
}

/// Validates a request body as the real API does.
pub fn parse(v: &Value) -> Result<EmbedParams, ApiError> {
    if !v.is_object() {
        return Err(ApiError::invalid(
            None,
            "Invalid request body: expected a JSON object.",
        ));
    }
    let model = match v.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        _ => {
            return Err(ApiError::invalid(
                Some("model"),
                "you must provide a model parameter",
            ));
        }
    };
    let inputs = parse_inputs(v.get("input"))?;
    let base64 = match v.get("encoding_format") {
        None | Some(Value::Null) => false,
        Some(Value::String(f)) if f == "float" => false,
        Some(Value::String(f)) if f == "base64" => true,
        Some(other) => {
            return Err(ApiError::invalid(
                Some("encoding_format"),
                format!(
                    "Invalid value for 'encoding_format': {other}. Supported values are: 'float' and 'base64'."
                ),
            ));
        }
    };
    let dimensions = match v.get("dimensions") {
        None | Some(Value::Null) => None,
        Some(x) => match x.as_u64() {
            Some(d) if d >= 1 => Some(d as usize),
            _ => {
                return Err(ApiError::invalid(
                    Some("dimensions"),
                    format!("Invalid 'dimensions': expected an integer >= 1, got {x}."),
                )
                .code("integer_below_min_value"));
            }
        },
    };
    Ok(EmbedParams {
        model,
        inputs,
        base64,
        dimensions,
    })
}

/// Each input's tokens, by the model's encoding (token-id inputs: their length).
pub fn input_tokens(p: &EmbedParams) -> Vec<u64> {
    let bpe = Bpe::for_model(&p.model);
    p.inputs
        .iter()
        .map(|i| match i {
            Input::Text(s) => bpe.count(s),
            Input::Tokens(t) => t.len() as u64,
        })
        .collect()
}

/// The per-input and per-request token limits and the `dimensions` rules, checked once the
/// tokens are counted.
pub fn check_limits(
    p: &EmbedParams,
    tokens: &[u64],
    cfg: &EmbeddingsConfig,
) -> Result<usize, ApiError> {
    if let Some((i, n)) = tokens
        .iter()
        .enumerate()
        .find(|(_, n)| **n > MAX_TOKENS_PER_INPUT)
    {
        return Err(bad_input(format!(
            "This model's maximum context length is {MAX_TOKENS_PER_INPUT} tokens, however you requested {n} tokens in input[{i}]. Please reduce the length of the input."
        )));
    }
    let total: u64 = tokens.iter().sum();
    if total > embed::MAX_TOKENS_PER_REQUEST {
        return Err(bad_input(format!(
            "Requested {total} tokens, max {} tokens per request",
            embed::MAX_TOKENS_PER_REQUEST
        ))
        .code("max_tokens_per_request"));
    }
    let native = embed::native_dimensions(&p.model).unwrap_or(cfg.default_dimensions);
    match p.dimensions {
        None => Ok(native),
        Some(_) if !embed::accepts_dimensions(&p.model) => Err(ApiError::invalid(
            Some("dimensions"),
            "This model does not support specifying dimensions.",
        )),
        Some(d) if d > native => Err(ApiError::invalid(
            Some("dimensions"),
            format!(
                "Invalid value for 'dimensions' = {d}. Must be less than or equal to {native}."
            ),
        )),
        Some(d) => Ok(d),
    }
}

fn key_of(model: &str, input: &Input) -> Fnv {
    let mut h = Fnv::default();
    h.str(model);
    match input {
        Input::Text(s) => h.str(s),
        Input::Tokens(t) => t.iter().fold(h.str("\u{0}tokens"), |h, v| h.u64(*v)),
    };
    h
}

fn uniform(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// The input's unit vector: deterministic per (model, input) at the model's native width, cut
/// to `width` and renormalised (so a shorter vector is a prefix of the longer one, rescaled).
pub fn vector(model: &str, input: &Input, native: usize, width: usize) -> Vec<f32> {
    let mut v = uniform(key_of(model, input).finish(), native.max(width));
    v.truncate(width);
    embed::normalise(&mut v);
    v
}

/// Turns `v` (unit) away from itself so that the cosine of the result with `v` is `1 − p`,
/// along a direction fixed per (model, input).
pub fn perturb(v: &[f32], model: &str, input: &Input, p: f64) -> Vec<f32> {
    let mut u = uniform(key_of(model, input).str("perturb").finish(), v.len());
    let along: f64 = u
        .iter()
        .zip(v)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    u.iter_mut()
        .zip(v)
        .for_each(|(a, b)| *a = (f64::from(*a) - along * f64::from(*b)) as f32);
    embed::normalise(&mut u);
    let c = 1.0 - p;
    let s = (1.0 - c * c).max(0.0).sqrt();
    v.iter()
        .zip(&u)
        .map(|(a, b)| (c * f64::from(*a) + s * f64::from(*b)) as f32)
        .collect()
}

/// The `list` object for a validated request whose tokens are counted and limits checked.
pub fn body(p: &EmbedParams, tokens: &[u64], width: usize, cfg: &EmbeddingsConfig) -> Value {
    let native = embed::native_dimensions(&p.model).unwrap_or(cfg.default_dimensions);
    let batched = p.inputs.len() > 1 && cfg.perturb_when_batched > 0.0;
    let data: Vec<Value> = p
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let mut v = vector(&p.model, input, native, width);
            if batched {
                v = perturb(&v, &p.model, input, cfg.perturb_when_batched);
            }
            let embedding = if p.base64 {
                Value::String(embed::to_base64(&v))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let total: u64 = tokens.iter().sum();
    json!({
        "object": "list",
        "data": data,
        "model": p.model,
        "usage": {"prompt_tokens": total, "total_tokens": total},
    })
}

/// Parses, counts and checks a body: the params, their total tokens and the body to send.
pub fn answer(state: &State, v: &Value) -> Result<(EmbedParams, u64, Value), ApiError> {
    let p = parse(v)?;
    if !state.models.accepts(Api::OpenAi, &p.model) {
        return Err(ApiError::not_found(format!(
            "The model `{}` does not exist or you do not have access to it.",
            p.model
        ))
        .code("model_not_found"));
    }
    let tokens = input_tokens(&p);
    let width = check_limits(&p, &tokens, &state.config.embeddings)?;
    let total = tokens.iter().sum();
    let body = body(&p, &tokens, width, &state.config.embeddings);
    Ok((p, total, body))
}

/// The HTTP handler.
pub async fn handle(
    Shared(state): Shared<Arc<State>>,
    ApiKey(key): ApiKey,
    body: Bytes,
) -> Result<Response, ApiError> {
    let state = &state;
    let v: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(
            None,
            format!("We could not parse the JSON body of your request. (The OpenAI API expects a JSON payload. Error: {e})"),
        )
    })?;
    let (p, total, body) = answer(state, &v)?;
    let chars: usize = p
        .inputs
        .iter()
        .map(|i| match i {
            Input::Text(s) => s.len(),
            Input::Tokens(t) => t.len() * 4,
        })
        .sum();
    let charge = charge(&state.config.rate_limits, total, chars, 0);
    let (headers, plan) = admit(state, &key, charge, Api::OpenAi, &p.model)?;
    state.stats.tokens(TokenCounts {
        input: total,
        cached: 0,
        cache_write: 0,
        output: 0,
    });
    let prof = latency::profile(&state.config.latency, &p.model);
    let scale = state.config.time_scale
        * if plan.slow {
            state.config.faults.slow_factor
        } else {
            1.0
        };
    pause(latency::timing(&prof, total, 0, state.jitter(), scale).total).await;
    if plan.drop {
        return Ok(respond::dropped_json(&body, headers));
    }
    Ok(respond::json(200, &body, headers))
}

/// One Batch API line for `/v1/embeddings`: the response body and its input count and tokens,
/// or the error.
pub fn batch_line(state: &State, body: &Value) -> Result<(Value, usize, u64), ApiError> {
    let (p, total, out) = answer(state, body)?;
    state.stats.tokens(TokenCounts {
        input: total,
        cached: 0,
        cache_write: 0,
        output: 0,
    });
    Ok((out, p.inputs.len(), total))
}

/// How many inputs a batch line's body carries (for the 50,000-inputs-per-batch cap); 0 when
/// it has none readable (validation of the line reports that).
pub fn inputs_in(body: &Value) -> usize {
    match body.get("input") {
        Some(Value::Array(a)) if a.iter().all(Value::is_number) => 1,
        Some(Value::Array(a)) => a.len(),
        Some(Value::String(_)) => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> EmbedParams {
        parse(&v).unwrap()
    }

    #[test]
    fn inputs_of_every_shape() {
        let p = params(json!({"model": "m", "input": "hi"}));
        assert_eq!(p.inputs, vec![Input::Text("hi".into())]);
        let p = params(
            json!({"model": "m", "input": ["a", [1, 2]], "encoding_format": "base64", "dimensions": 8}),
        );
        assert_eq!(p.inputs[1], Input::Tokens(vec![1, 2]));
        assert!(p.base64);
        assert_eq!(p.dimensions, Some(8));
        assert_eq!(
            params(json!({"model": "m", "input": [5, 6]})).inputs.len(),
            1
        );
        for bad in [
            json!({"input": "x"}),
            json!({"model": "m"}),
            json!({"model": "m", "input": []}),
            json!({"model": "m", "input": [""]}),
            json!({"model": "m", "input": [{"a": 1}]}),
            json!({"model": "m", "input": "x", "encoding_format": "int8"}),
            json!({"model": "m", "input": "x", "dimensions": 0}),
        ] {
            assert_eq!(parse(&bad).unwrap_err().status, 400, "{bad}");
        }
        let many: Vec<&str> = vec!["a"; MAX_INPUTS_PER_REQUEST + 1];
        let e = parse(&json!({"model": "m", "input": many})).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("array_above_max_length"));
    }

    #[test]
    fn limits_and_widths() {
        let cfg = EmbeddingsConfig::default();
        let p = params(json!({"model": "text-embedding-3-small", "input": ["hello world"]}));
        let t = input_tokens(&p);
        assert_eq!(t, vec![2]);
        assert_eq!(check_limits(&p, &t, &cfg).unwrap(), 1536);
        let p =
            params(json!({"model": "text-embedding-3-small", "input": "x", "dimensions": 2000}));
        assert!(
            check_limits(&p, &[1], &cfg)
                .unwrap_err()
                .message
                .contains("1536")
        );
        let p = params(json!({"model": "text-embedding-ada-002", "input": "x", "dimensions": 8}));
        assert!(check_limits(&p, &[1], &cfg).is_err());
        let p = params(json!({"model": "local", "input": "x"}));
        assert_eq!(check_limits(&p, &[1], &cfg).unwrap(), 768);
        assert!(
            check_limits(&p, &[8193], &cfg)
                .unwrap_err()
                .message
                .contains("8192")
        );
        let e = check_limits(&p, &[8000; 38], &cfg).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("max_tokens_per_request"));
    }

    #[test]
    fn vectors_are_unit_deterministic_and_dimensions_renormalise() {
        let x = Input::Text("a cat".into());
        let a = vector("m", &x, 64, 64);
        assert_eq!(a, vector("m", &x, 64, 64));
        assert_ne!(a, vector("n", &x, 64, 64));
        assert_ne!(a, vector("m", &Input::Text("a dog".into()), 64, 64));
        let norm: f64 = a.iter().map(|v| f64::from(*v).powi(2)).sum();
        assert!((norm - 1.0).abs() < 1e-6);
        let short = vector("m", &x, 64, 8);
        assert_eq!(short.len(), 8);
        let mut prefix = a[..8].to_vec();
        embed::normalise(&mut prefix);
        assert!(embed::cosine(&short, &prefix).unwrap() > 1.0 - 1e-9);
    }

    #[test]
    fn perturbation_sets_the_cosine() {
        let x = Input::Text("a cat".into());
        let v = vector("m", &x, 256, 256);
        let w = perturb(&v, "m", &x, 0.01);
        let c = embed::cosine(&v, &w).unwrap();
        assert!((c - 0.99).abs() < 1e-5, "{c}");
    }

    #[test]
    fn batched_vectors_change_only_when_configured() {
        let mut cfg = EmbeddingsConfig::default();
        let single = params(json!({"model": "local", "input": "b"}));
        let pair = params(json!({"model": "local", "input": ["a", "b"]}));
        let first = |v: &Value, i: usize| v["data"][i]["embedding"].clone();
        let alone = body(&single, &[1], 768, &cfg);
        assert_eq!(first(&body(&pair, &[1, 1], 768, &cfg), 1), first(&alone, 0));
        cfg.perturb_when_batched = 0.01;
        assert_ne!(first(&body(&pair, &[1, 1], 768, &cfg), 1), first(&alone, 0));
        let b64 = params(json!({"model": "local", "input": "b", "encoding_format": "base64"}));
        let out = body(&b64, &[1], 4, &cfg);
        let decoded = embed::from_base64(out["data"][0]["embedding"].as_str().unwrap()).unwrap();
        assert_eq!(decoded, vector("local", &Input::Text("b".into()), 768, 4));
        assert_eq!(out["usage"], json!({"prompt_tokens": 1, "total_tokens": 1}));
    }
}
