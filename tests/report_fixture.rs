//! Hand-made run data for the report tests (included by `report_*.rs` with `#[path]`); no test
//! of its own. Numbers are deterministic: a small linear congruential generator, no `rand`.

#![allow(dead_code)]

use batchbench::pricing::Nanodollars;
use batchbench::record::{PromptRecord, PromptStatus, RequestRecord};
use batchbench::report::{RunInfo, RunReport};

/// Deterministic pseudo-random numbers in 0..1.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407))
    }
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
}

pub fn info(strategies: &[&str], prompts: usize) -> RunInfo {
    RunInfo {
        schema_version: batchbench::report::run_info::SCHEMA_VERSION,
        run_id: "20250101-120000-test".into(),
        tool_version: "0.1.0".into(),
        started_at: "2025-01-01T12:00:00Z".into(),
        seed: 42,
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        endpoint: "mock".into(),
        simulated: true,
        mock_time_scale: Some(0.01),
        dataset: "support-tickets <b>&</b>".into(),
        dataset_path: "datasets/support-tickets.jsonl".into(),
        dataset_sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
        prompts,
        shard: None,
        strategies: strategies.iter().map(|s| s.to_string()).collect(),
        answer_tokens: 64,
        price_source: "genai-prices 0.2.1 (bundled)".into(),
        price_data_sha256: None,
        price_overrides: None,
        tokenizer: "o200k_base (exact)".into(),
        options: Default::default(),
        warnings: vec![
            "naive-multi-message:4 is a demonstration: expect lost answers".into(),
            "a <warning> with | pipes".into(),
        ],
        economics: None,
        task: None,
        vector_tolerance: None,
        dimensions: None,
    }
}

/// Per-strategy knobs of the fake run.
struct Profile {
    name: &'static str,
    k: usize,
    /// Nano-dollars per prompt (before jitter).
    cost: u64,
    /// Base latency, ms.
    latency: f64,
    accuracy: f64,
    /// Share of prompts answered.
    answered: f64,
    cached: u64,
    cache_write: u64,
}

const PROFILES: [Profile; 8] = [
    Profile {
        name: "sequential",
        k: 1,
        cost: 60_000,
        latency: 700.0,
        accuracy: 0.95,
        answered: 1.0,
        cached: 0,
        cache_write: 0,
    },
    Profile {
        name: "concurrent:8",
        k: 1,
        cost: 60_000,
        latency: 750.0,
        accuracy: 0.95,
        answered: 1.0,
        cached: 0,
        cache_write: 0,
    },
    Profile {
        name: "packed:4",
        k: 4,
        cost: 30_000,
        latency: 1_400.0,
        accuracy: 0.93,
        answered: 1.0,
        cached: 0,
        cache_write: 0,
    },
    Profile {
        name: "packed:8",
        k: 8,
        cost: 21_000,
        latency: 2_300.0,
        accuracy: 0.88,
        answered: 1.0,
        cached: 0,
        cache_write: 0,
    },
    Profile {
        name: "cached",
        k: 1,
        cost: 42_000,
        latency: 650.0,
        accuracy: 0.95,
        answered: 1.0,
        cached: 80,
        cache_write: 10,
    },
    Profile {
        name: "batch-api",
        k: 1,
        cost: 30_000,
        latency: 95_000.0,
        accuracy: 0.95,
        answered: 1.0,
        cached: 0,
        cache_write: 0,
    },
    Profile {
        name: "batch-api+packed:8",
        k: 8,
        cost: 10_500,
        latency: 120_000.0,
        accuracy: 0.88,
        answered: 1.0,
        cached: 0,
        cache_write: 0,
    },
    Profile {
        name: "naive-multi-message:4",
        k: 4,
        cost: 16_000,
        latency: 900.0,
        accuracy: 0.95,
        answered: 0.25,
        cached: 0,
        cache_write: 0,
    },
];

/// A run of all seven strategies over `n` prompts, with retries, re-asks, a parse failure,
/// wrong answers whose text needs escaping, and the demonstration losing answers.
pub fn full_report(n: usize) -> RunReport {
    let names: Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
    let mut rng = Lcg::new(7);
    let mut prompts = Vec::new();
    let mut requests = Vec::new();
    let mut clock = 0.0f64;
    for p in &PROFILES {
        let batches = n.div_ceil(p.k);
        for b in 0..batches {
            let rid = format!("{}-r{b:03}", p.name.replace([':', '+'], "-"));
            let items: Vec<usize> = (b * p.k..((b + 1) * p.k).min(n)).collect();
            let lat = (p.latency * (0.6 + 0.8 * rng.next_f64()) * 1000.0).round() / 1000.0;
            // Every 7th request of a sync strategy first got a 429.
            if p.latency < 10_000.0 && b % 7 == 3 {
                requests.push(request(
                    p.name,
                    &rid,
                    "chat",
                    1,
                    items.len() as u32,
                    "429",
                    clock,
                    12.5,
                    Nanodollars::ZERO,
                    0,
                    0,
                ));
                clock += 20.0;
            }
            let cost_sum: u64 = items.len() as u64 * p.cost;
            let parse_failure = p.name == "packed:8" && b == 1;
            let mut r = request(
                p.name,
                &rid,
                if p.latency > 10_000.0 {
                    "batch_item"
                } else {
                    "chat"
                },
                if p.latency < 10_000.0 && b % 7 == 3 {
                    2
                } else {
                    1
                },
                items.len() as u32,
                "200",
                clock,
                lat,
                Nanodollars(cost_sum),
                120 * items.len() as u64,
                8 * items.len() as u64,
            );
            r.parse_failure = parse_failure;
            requests.push(r);
            for (pos, i) in items.iter().enumerate() {
                let answered = if p.answered >= 1.0 { true } else { pos == 0 };
                let correct = answered && rng.next_f64() < p.accuracy;
                let reasked = parse_failure && pos < 2;
                let pid = format!("t{i:03}");
                let answer = if !answered {
                    None
                } else if correct {
                    Some(gold(*i))
                } else if i % 2 == 0 {
                    Some("<script>alert('x')</script> & \"wrong\"".to_string())
                } else {
                    Some("other".to_string())
                };
                prompts.push(PromptRecord {
                    strategy: p.name.into(),
                    prompt_id: pid,
                    request_id: if reasked { format!("{rid}-reask-{pos}") } else { rid.clone() },
                    request_prompts: items.len() as u32,
                    status: PromptStatus::from_answered(answered),
                    reasked,
                    input_tokens: 120 + p.cached + p.cache_write,
                    cached_tokens: p.cached,
                    cache_write_tokens: p.cache_write,
                    output_tokens: 8,
                    client_input_tokens: 118 + p.cached + p.cache_write,
                    cost_usd: Nanodollars(p.cost + (rng.next_f64() * 1000.0) as u64),
                    batch_priced: p.name.starts_with("batch"),
                    latency_ms: (lat * (1.0 + 0.3 * rng.next_f64()) * 1000.0).round() / 1000.0,
                    ttft_ms: None,
                    answer,
                    gold: Some(gold(*i)),
                    correct: Some(correct),
                    agrees_with_sequential: if p.name == "sequential" { None } else { Some(correct) },
                    error: (!answered).then(|| "no answer for this message: the model replied once to the whole conversation".into()),
                    pack_position: (items.len() > 1).then_some(pos as u32 + 1),
                    vector_cosine: None,
                    reasoning_tokens: 0,
                });
            }
            clock += lat;
        }
    }
    RunReport::new(info(&names, n), prompts, requests)
}

fn gold(i: usize) -> String {
    ["billing", "bug", "feature", "account"][i % 4].to_string()
}

#[allow(clippy::too_many_arguments)]
pub fn request(
    strategy: &str,
    id: &str,
    kind: &str,
    attempt: u32,
    prompts: u32,
    status: &str,
    started_ms: f64,
    latency_ms: f64,
    cost: Nanodollars,
    input: u64,
    output: u64,
) -> RequestRecord {
    RequestRecord {
        strategy: strategy.into(),
        request_id: id.into(),
        kind: kind.parse().unwrap(),
        attempt,
        prompts,
        status: status.into(),
        input_tokens: input,
        cached_tokens: 0,
        cache_write_tokens: 0,
        output_tokens: output,
        client_input_tokens: input,
        cost_usd: cost,
        started_ms,
        latency_ms,
        ttft_ms: None,
        server_id: Some(format!("srv-{id}")),
        error: (status != "200").then(|| format!("HTTP {status}")),
        parse_failure: false,
        extra_items: 0,
        limit_rpm: None,
        limit_tpm: None,
        reasoning_tokens: 0,
        asked_tier: None,
        served_tier: (status == "200").then(|| "standard".into()),
        cache_write_1h_tokens: 0,
        batch_states: None,
        cache_ttl_s: None,
    }
}

/// One prompt row with the given fields, the rest plain.
pub fn prompt(
    strategy: &str,
    id: &str,
    cost: u64,
    latency_ms: f64,
    answered: bool,
) -> PromptRecord {
    PromptRecord {
        strategy: strategy.into(),
        prompt_id: id.into(),
        request_id: format!("r-{id}"),
        request_prompts: 1,
        status: PromptStatus::from_answered(answered),
        reasked: false,
        input_tokens: if answered { 100 } else { 0 },
        cached_tokens: 0,
        cache_write_tokens: 0,
        output_tokens: if answered { 5 } else { 0 },
        client_input_tokens: 100,
        cost_usd: Nanodollars(cost),
        batch_priced: false,
        latency_ms,
        ttft_ms: None,
        answer: answered.then(|| "x".into()),
        gold: None,
        correct: None,
        agrees_with_sequential: None,
        error: (!answered).then(|| "HTTP 500".into()),
        pack_position: None,
        vector_cosine: None,
        reasoning_tokens: 0,
    }
}
