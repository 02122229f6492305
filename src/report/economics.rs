//! Why packing wins or loses, and what the server's time cost: findings computed from the run's
//! own numbers.
//!
//! Per prompt, `sequential` pays the shared prefix P (system instructions and message framing)
//! once per prompt; `packed:K` pays it once per K prompts, but wraps every item (the packing
//! header shared by K items, the `<item id>` tags) and answers in JSON (ids, quotes, braces).
//! With r = output price / input price, w = packed's extra input per prompt beyond the prefix
//! (measured: its input per prompt − sequential's + P·(1 − 1/K)) and d = packed's extra output
//! per prompt (measured), packing costs less exactly when
//!
//! ```text
//! P · (1 − 1/K)  >  w + r · d,   i.e.   P  >  P* = (w + r · d) / (1 − 1/K)
//! ```
//!
//! (at uncached input prices; prompt caching shrinks what P costs sequential).

use serde::{Deserialize, Serialize};

use super::summary::RunStatus;
use super::{RunReport, StrategySummary};
use crate::strategy::StrategySpec;

/// The facts about a run's requests and prices the findings need beside `summary.csv`
/// (`run.json` field `economics`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEconomics {
    /// Client-counted tokens every request repeats: the system instructions and their message
    /// framing (0 when the dataset has no instructions).
    pub shared_prefix_tokens: u64,
    /// USD per million uncached input tokens.
    pub input_usd_per_mtok: f64,
    /// USD per million output tokens.
    pub output_usd_per_mtok: f64,
    /// The model's prompt-cache rates at the standard tier (absent in run folders written
    /// before they were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheRates>,
}

/// USD per million tokens of cache reads and writes, as the price data gives them (a model
/// without a write price bills writes at its input rate).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CacheRates {
    /// Cache reads.
    pub read_usd_per_mtok: f64,
    /// Cache writes with the default TTL (Anthropic 5 minutes; OpenAI GPT-5.6+ writes).
    pub write_usd_per_mtok: f64,
    /// Cache writes with Anthropic's 1-hour TTL.
    pub write_1h_usd_per_mtok: f64,
    /// Storage of a provider-side context cache (Gemini), USD per million tokens per hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_usd_per_mtok_hour: Option<f64>,
}

impl RunEconomics {
    /// The facts for a run: the instructions as every request sends them (OpenAI: a system
    /// message with its framing; Anthropic: the `system` text), and the model's standard rates.
    pub fn for_run(
        instructions: &str,
        provider: crate::provider::ProviderKind,
        tokenizer: &crate::tokens::Tokenizer,
        rates: Option<crate::pricing::Rates>,
        storage_usd_per_mtok_hour: Option<f64>,
    ) -> Option<RunEconomics> {
        let rates = rates?;
        let shared_prefix_tokens = match (instructions.is_empty(), provider) {
            (true, _) => 0,
            (false, crate::provider::ProviderKind::Openai) => {
                crate::tokens::TOKENS_PER_MESSAGE
                    + tokenizer.count("system")
                    + tokenizer.count(instructions)
            }
            (
                false,
                crate::provider::ProviderKind::Anthropic | crate::provider::ProviderKind::Gemini,
            ) => tokenizer.count(instructions),
        };
        Some(RunEconomics {
            shared_prefix_tokens,
            input_usd_per_mtok: rates.input_mtok,
            output_usd_per_mtok: rates.output_mtok,
            cache: Some(CacheRates {
                read_usd_per_mtok: rates.cached_mtok,
                write_usd_per_mtok: rates.cache_write_mtok,
                write_1h_usd_per_mtok: rates.cache_write_1h_mtok,
                storage_usd_per_mtok_hour,
            }),
        })
    }
}

/// Packing versus sequential, per prompt, from the two strategies' summaries.
#[derive(Debug, Clone, PartialEq)]
pub struct PackingWhy {
    /// K.
    pub k: usize,
    /// The shared prefix, tokens.
    pub prefix: f64,
    /// Input tokens per prompt that packing saves on the prefix: P · (1 − 1/K).
    pub prefix_saved: f64,
    /// Extra input per prompt for the packing header and item tags (w).
    pub wrap_input: f64,
    /// Extra output per prompt for the JSON answer (d).
    pub json_output: f64,
    /// Output price / input price (r).
    pub price_ratio: f64,
    /// The break-even shared prefix P*, tokens.
    pub break_even_prefix: f64,
}

/// The break-even shared prefix P* = (w + r·d) / (1 − 1/K); `None` for K < 2 (nothing is shared).
pub fn break_even_prefix(k: usize, wrap_input: f64, json_output: f64, ratio: f64) -> Option<f64> {
    (k >= 2).then(|| (wrap_input + ratio * json_output) / (1.0 - 1.0 / k as f64))
}

/// Why `packed` costs what it does against `seq`, or `None` when it is not packed, either ran
/// no prompts, or prices are unknown.
pub fn packing_why(
    seq: &StrategySummary,
    packed: &StrategySummary,
    e: &RunEconomics,
) -> Option<PackingWhy> {
    let Ok(StrategySpec::Packed(k)) = packed.strategy.parse() else {
        return None;
    };
    let failed = |s: &StrategySummary| s.status == RunStatus::Failed || s.answered == 0;
    if failed(seq) || failed(packed) || e.input_usd_per_mtok <= 0.0 {
        return None;
    }
    let per = |tokens: u64, s: &StrategySummary| tokens as f64 / s.prompts as f64;
    let prefix = e.shared_prefix_tokens as f64;
    let prefix_saved = prefix * (1.0 - 1.0 / k as f64);
    let wrap_input = per(packed.input_tokens, packed) - per(seq.input_tokens, seq) + prefix_saved;
    let json_output = per(packed.output_tokens, packed) - per(seq.output_tokens, seq);
    let price_ratio = e.output_usd_per_mtok / e.input_usd_per_mtok;
    Some(PackingWhy {
        k,
        prefix,
        prefix_saved,
        wrap_input,
        json_output,
        price_ratio,
        break_even_prefix: break_even_prefix(k, wrap_input, json_output, price_ratio)?,
    })
}

/// One sentence per packed strategy (at most three, the largest K first) explaining its cost
/// against sequential and where packing starts to pay.
pub fn packing_findings(report: &RunReport) -> Vec<String> {
    let Some(e) = &report.info.economics else {
        return Vec::new();
    };
    let Some(seq) = report.summaries.iter().find(|s| s.strategy == "sequential") else {
        return Vec::new();
    };
    let mut whys: Vec<(&StrategySummary, PackingWhy)> = report
        .summaries
        .iter()
        .filter_map(|s| packing_why(seq, s, e).map(|w| (s, w)))
        .collect();
    whys.sort_by_key(|w| std::cmp::Reverse(w.1.k));
    whys.into_iter()
        .take(3)
        .map(|(s, w)| sentence(s, &w))
        .collect()
}

fn sentence(s: &StrategySummary, w: &PackingWhy) -> String {
    let verdict = match s.saving_vs_sequential_pct {
        Some(p) if p >= 0.05 => format!("costs {p:.1}% less than sequential"),
        Some(p) if p <= -0.05 => format!("costs {:.1}% more than sequential", -p),
        _ => "costs about what sequential costs".to_string(),
    };
    let pays = if w.prefix >= w.break_even_prefix {
        "so packing pays here"
    } else {
        "so packing does not pay here"
    };
    format!(
        "Why {} {verdict}: it sends the {:.0}-token shared prefix once per {} prompts (saving {:.1} input tokens per prompt) \
         but adds {:.1} input tokens of item wrapping and {:.1} output tokens of JSON per prompt, and output costs {:.1}× input. \
         At K={} and uncached input prices, packing breaks even with a shared prefix of {:.0} tokens (this run's: {:.0}), {pays}.",
        s.strategy,
        w.prefix,
        w.k,
        w.prefix_saved,
        w.wrap_input,
        w.json_output,
        w.price_ratio,
        w.k,
        w.break_even_prefix.max(0.0),
        w.prefix,
    )
}

/// With `--price-per-hour`: what each strategy's wall time cost on the server, beside its
/// throughput; on a self-hosted server batching saves time, not tokens.
pub fn time_findings(report: &RunReport) -> Vec<String> {
    let Some(usd) = report.info.options.price_per_hour_usd else {
        return Vec::new();
    };
    let parts: Vec<String> = report
        .summaries
        .iter()
        .filter(|s| !s.demonstration && s.status != RunStatus::Failed)
        .filter_map(|s| {
            Some(format!(
                "{} ${:.6} (${:.4} per 1,000 prompts; {:.2} prompts/s, {:.1} output tokens/s)",
                s.strategy,
                s.time_cost_usd?,
                s.time_cost_per_1k_prompts?,
                s.prompts_per_s,
                s.output_tokens_per_wall_s
            ))
        })
        .collect();
    if parts.is_empty() {
        return Vec::new();
    }
    let mut out = vec![format!(
        "Server time at ${usd:.2}/hour: {}.",
        parts.join("; ")
    )];
    let timed: Vec<&StrategySummary> = report
        .summaries
        .iter()
        .filter(|s| !s.demonstration && s.status == RunStatus::Complete)
        .filter(|s| s.answered == s.prompts && s.time_cost_usd.is_some())
        .collect();
    let seq = timed.iter().find(|s| s.strategy == "sequential");
    let best = timed.iter().min_by(|a, b| a.wall_ms.total_cmp(&b.wall_ms));
    if let (Some(seq), Some(best)) = (seq, best) {
        if best.strategy != seq.strategy && seq.wall_ms > 0.0 {
            out.push(format!(
                "By the hour, {} is the cheapest complete strategy: {:.1}% less server time than sequential.",
                best.strategy,
                (1.0 - best.wall_ms / seq.wall_ms) * 100.0
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(strategy: &str, prompts: u64, input: u64, output: u64) -> StrategySummary {
        let mut s = crate::report::summary::summarise(strategy, &[], &[], None);
        s.prompts = prompts;
        s.answered = prompts;
        s.input_tokens = input;
        s.output_tokens = output;
        s
    }

    #[test]
    fn break_even_arithmetic() {
        // K=4, w=5, d=7, r=4: (5 + 28) / 0.75 = 44.
        assert_eq!(break_even_prefix(4, 5.0, 7.0, 4.0), Some(44.0));
        // K=2: (1 + 2·3) / 0.5 = 14.
        assert_eq!(break_even_prefix(2, 1.0, 3.0, 2.0), Some(14.0));
        assert_eq!(break_even_prefix(1, 5.0, 7.0, 4.0), None);
    }

    #[test]
    fn explained_from_the_run_numbers() {
        // 16 prompts, a 23-token prefix, 20-token items, 3-token answers.
        // sequential: 16 x (23 + 20) = 688 input, 16 x 3 = 48 output.
        // packed:4: 4 requests of 23 + 8 (header) + 4 x (20 + 3 tags) = 123 -> 492 input;
        // output 10 per prompt -> 160.
        let seq = summary("sequential", 16, 688, 48);
        let packed = summary("packed:4", 16, 492, 160);
        let e = RunEconomics {
            shared_prefix_tokens: 23,
            input_usd_per_mtok: 0.10,
            output_usd_per_mtok: 0.40,
            cache: None,
        };
        let w = packing_why(&seq, &packed, &e).unwrap();
        assert_eq!(w.k, 4);
        // P(1 - 1/K) = 23 x 0.75 = 17.25
        assert_eq!(w.prefix_saved, 17.25);
        // w = 492/16 - 688/16 + 17.25 = 30.75 - 43 + 17.25 = 5 (= 8/4 header + 3 tags)
        assert_eq!(w.wrap_input, 5.0);
        // d = 160/16 - 48/16 = 7
        assert_eq!(w.json_output, 7.0);
        assert!((w.price_ratio - 4.0).abs() < 1e-12);
        // P* = (5 + 4 x 7) / 0.75 = 44
        assert!((w.break_even_prefix - 44.0).abs() < 1e-9);
        assert_eq!(packing_why(&seq, &seq, &e), None);
        let mut failed = packed.clone();
        failed.status = RunStatus::Failed;
        assert_eq!(packing_why(&seq, &failed, &e), None);
    }
}
