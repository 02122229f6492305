//! Per-strategy summary statistics, computed only from the per-prompt and per-request rows, so
//! that every figure in every report can be recomputed from `prompts.csv` and `requests.csv`.

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use crate::pricing::Nanodollars;
use crate::record::{PromptRecord, RequestRecord};
use crate::stats;
use crate::strategy::StrategySpec;

pub use crate::strategy::BASELINE;
/// The baseline of embedding runs: every other embedding strategy is priced and its vectors
/// compared against it.
pub const EMBED_BASELINE: &str = "embed:sequential";
/// The label of `sequential` sent a second time (`--repeat-baseline`).
pub const REPEAT: &str = "sequential-repeat";

/// One row of `summary.csv`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StrategySummary {
    /// Strategy id.
    pub strategy: String,
    /// Prompts per request as configured (K), 1 for unbatched strategies.
    pub batch_size: u32,
    /// Shown only to demonstrate a mistake (`naive-multi-message`).
    pub demonstration: bool,
    /// Requests sent (chat requests, batch items and re-asks; retries not counted).
    pub requests: u64,
    /// HTTP attempts, retries included (batch items count once).
    pub attempts: u64,
    /// Prompts in the set.
    pub prompts: u64,
    /// Prompts answered.
    pub answered: u64,
    /// Prompts not answered.
    pub failed: u64,
    /// All input tokens.
    pub input_tokens: u64,
    /// Input tokens at the plain rate.
    pub uncached_input_tokens: u64,
    /// Input tokens read from the cache.
    pub cached_tokens: u64,
    /// Input tokens written to the cache.
    pub cache_write_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Client-side input token estimate.
    pub client_input_tokens: u64,
    /// Server-reported minus client-estimated input tokens.
    pub input_token_diff: i64,
    /// Total cost, exact.
    #[serde(with = "crate::record::usd_string")]
    pub cost_usd: Nanodollars,
    /// Cost per 1,000 prompts, USD.
    pub cost_per_1k_prompts: f64,
    /// Saving versus `sequential` in percent (positive: cheaper); empty without a baseline.
    pub saving_vs_sequential_pct: Option<f64>,
    /// From the first request sent to the last result, ms.
    pub wall_ms: f64,
    /// Per-prompt latency percentiles (nearest rank), ms.
    pub latency_p50_ms: f64,
    /// 95th percentile.
    pub latency_p95_ms: f64,
    /// 99th percentile.
    pub latency_p99_ms: f64,
    /// Maximum.
    pub latency_max_ms: f64,
    /// Answered prompts per second of wall time.
    pub prompts_per_s: f64,
    /// Attempts answered 429.
    pub rate_limited: u64,
    /// Attempts beyond the first.
    pub retries: u64,
    /// Attempts or batch items that ended in an error.
    pub errors: u64,
    /// Packed answers that could not be parsed at all.
    pub parse_failures: u64,
    /// Items answered that were never asked.
    pub extra_items: u64,
    /// Prompts re-asked individually.
    pub reasks: u64,
    /// Share of prompts with a gold answer answered correctly, in percent.
    pub accuracy_pct: Option<f64>,
    /// Share of prompts whose answer equals sequential's, in percent.
    pub agreement_pct: Option<f64>,
    /// Streamed requests: median time to first token over the answered attempts (empty when
    /// nothing was streamed).
    #[serde(default)]
    pub ttft_p50_ms: Option<f64>,
    /// Streamed requests: output tokens per second after the first token, over all answered
    /// attempts: Σ output tokens / Σ (latency − time to first token).
    #[serde(default)]
    pub output_tokens_per_s: Option<f64>,
    /// Whether the strategy finished: `complete` (every prompt answered), `partial` or `failed`.
    #[serde(default)]
    pub status: RunStatus,
    /// Why it is not complete: the error that stopped it, or its prompts' most common error
    /// with its count.
    #[serde(default)]
    pub failure: Option<String>,
    /// Output tokens per second of wall time (all strategies; a self-hosted server's throughput).
    #[serde(default)]
    pub output_tokens_per_wall_s: f64,
    /// `--price-per-hour`: the server's cost for this strategy's wall time, USD.
    #[serde(default)]
    pub time_cost_usd: Option<f64>,
    /// `--price-per-hour`: the wall-time cost per 1,000 prompts, USD.
    #[serde(default)]
    pub time_cost_per_1k_prompts: Option<f64>,
    /// 95% Wilson interval of `accuracy_pct`, lower bound, percent.
    #[serde(default)]
    pub accuracy_ci_low_pct: Option<f64>,
    /// 95% Wilson interval of `accuracy_pct`, upper bound, percent.
    #[serde(default)]
    pub accuracy_ci_high_pct: Option<f64>,
    /// Prompts graded under both this strategy and `sequential` (the paired comparison's n).
    #[serde(default)]
    pub paired_prompts: Option<u64>,
    /// Paired prompts `sequential` got right and this strategy wrong.
    #[serde(default)]
    pub worse_than_sequential: Option<u64>,
    /// Paired prompts `sequential` got wrong and this strategy right.
    #[serde(default)]
    pub better_than_sequential: Option<u64>,
    /// Exact two-sided McNemar p-value of the paired accuracy difference with `sequential`.
    #[serde(default)]
    pub p_value_vs_sequential: Option<f64>,
    /// Sequential's accuracy minus this one on the paired prompts, points.
    #[serde(default)]
    pub accuracy_drop_pts: Option<f64>,
    /// 95% Newcombe paired interval of `accuracy_drop_pts`, lower bound, points.
    #[serde(default)]
    pub accuracy_drop_ci_low_pts: Option<f64>,
    /// 95% Newcombe paired interval of `accuracy_drop_pts`, upper bound, points.
    #[serde(default)]
    pub accuracy_drop_ci_high_pts: Option<f64>,
    /// 95% Wilson interval of `agreement_pct`, lower bound, percent.
    #[serde(default)]
    pub agreement_ci_low_pct: Option<f64>,
    /// 95% Wilson interval of `agreement_pct`, upper bound, percent.
    #[serde(default)]
    pub agreement_ci_high_pct: Option<f64>,
    /// Embedding runs: the lowest cosine of an input's vector with its `embed:sequential` one.
    #[serde(default)]
    pub vector_cosine_min: Option<f64>,
    /// The 1st percentile (nearest rank) of those cosines.
    #[serde(default)]
    pub vector_cosine_p01: Option<f64>,
    /// Their mean.
    #[serde(default)]
    pub vector_cosine_mean: Option<f64>,
    /// Whether `vector_cosine_min` is below the run's `--vector-tolerance` (in run.json).
    #[serde(default)]
    pub vector_flagged: Option<bool>,
    /// Requests sent per minute of wall time (attempts, retries included).
    #[serde(default)]
    pub rpm_used: Option<f64>,
    /// Input plus output tokens per minute of wall time.
    #[serde(default)]
    pub tpm_used: Option<f64>,
    /// The lowest requests-per-minute limit the server reported (`x-ratelimit-limit-requests`).
    #[serde(default)]
    pub rpm_limit: Option<u64>,
    /// The lowest tokens-per-minute limit the server reported (`x-ratelimit-limit-tokens`).
    #[serde(default)]
    pub tpm_limit: Option<u64>,
    /// Of `output_tokens`, hidden reasoning tokens (priced as output).
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// The tiers that served the answered requests, with counts (`flex 98; standard 2`), from
    /// requests.csv's `served_tier`.
    #[serde(default)]
    pub served_tiers: Option<String>,
    /// Attempts that asked for flex and were refused with 429.
    #[serde(default)]
    pub flex_refused: u64,
    /// Requests answered after falling back from flex to the default tier (`--flex-fallback`).
    #[serde(default)]
    pub flex_fallbacks: u64,
    /// Of `cache_write_tokens`, those written with the 1-hour TTL (Anthropic `cached:1h`).
    #[serde(default)]
    pub cache_write_1h_tokens: u64,
    /// Cache reads per cache-written token (`cached_tokens / cache_write_tokens`): how many times
    /// each written prefix was reused; empty when nothing was written.
    #[serde(default)]
    pub cache_reuses: Option<f64>,
    /// Reuses after which a cache write has paid for itself at this model's rates: the smallest
    /// n with n × (input − cache-read rate) ≥ write premium (write rate − input rate), 0 when
    /// writes cost no more than input; empty when nothing was cached (see docs/REPORTS.md).
    #[serde(default)]
    pub cache_break_even_reuses: Option<u64>,
    /// Batch API jobs submitted (empty for other strategies).
    #[serde(default)]
    pub batches: Option<u64>,
    /// Median time from a batch's creation to its results downloaded, ms.
    #[serde(default)]
    pub batch_turnaround_p50_ms: Option<f64>,
    /// 95th percentile of the same.
    #[serde(default)]
    pub batch_turnaround_p95_ms: Option<f64>,
    /// Batch jobs that expired (their finished part kept and billed, the rest re-sent).
    #[serde(default)]
    pub batches_expired: Option<u64>,
    /// Batch jobs that failed or were cancelled.
    #[serde(default)]
    pub batches_failed: Option<u64>,
}

/// How far a strategy got; a failed strategy's numbers are not a result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Every prompt answered.
    #[default]
    Complete,
    /// Some prompts answered.
    Partial,
    /// No prompt answered, or the strategy stopped early with nothing to show.
    Failed,
}

impl RunStatus {
    /// The word written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Complete => "complete",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
        }
    }
}

/// The status of a strategy's rows and, unless complete, why: an `aborted` row's reason first,
/// else the most common prompt error with its count (ties: the first seen).
pub fn status_of(
    prompts: &[&PromptRecord],
    requests: &[&RequestRecord],
) -> (RunStatus, Option<String>) {
    let answered = prompts.iter().filter(|p| p.answered()).count();
    let failed = prompts.len() - answered;
    let aborted = requests
        .iter()
        .find(|r| r.kind == crate::record::RequestKind::Aborted)
        .and_then(|r| r.error.clone());
    if failed == 0 && aborted.is_none() {
        return (RunStatus::Complete, None);
    }
    let status = if answered == 0 {
        RunStatus::Failed
    } else {
        RunStatus::Partial
    };
    let reason = aborted.or_else(|| {
        most_common(prompts.iter().filter_map(|p| p.error.as_deref()))
            .map(|(e, k)| format!("{k} of {} prompts: {e}", prompts.len()))
    });
    (status, reason)
}

/// The most frequent item and its count; ties go to the one seen first.
pub fn most_common<'a>(items: impl Iterator<Item = &'a str>) -> Option<(&'a str, usize)> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for item in items {
        match counts.iter_mut().find(|(e, _)| *e == item) {
            Some((_, k)) => *k += 1,
            None => counts.push((item, 1)),
        }
    }
    counts
        .into_iter()
        .fold(None, |best: Option<(&str, usize)>, c| match best {
            Some(b) if b.1 >= c.1 => Some(b),
            _ => Some(c),
        })
}

/// Prices each strategy by its wall time at `usd_per_hour` (a self-hosted server is paid by the
/// hour, not by the token, so batching saves time there, not tokens).
pub fn price_wall_time(summaries: &mut [StrategySummary], usd_per_hour: f64) {
    for s in summaries {
        let cost = usd_per_hour * s.wall_ms / 3_600_000.0;
        s.time_cost_usd = Some(cost);
        s.time_cost_per_1k_prompts = (s.prompts > 0).then(|| cost * 1000.0 / s.prompts as f64);
    }
}

/// Exact nearest-rank percentile of sorted values (`p` in 0..=100); 0 for no values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn pct(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 * 100.0 / den as f64)
}

/// Summarises one strategy's rows. `baseline` is sequential's total cost, when it ran.
pub fn summarise(
    strategy: &str,
    prompts: &[&PromptRecord],
    requests: &[&RequestRecord],
    baseline: Option<Nanodollars>,
) -> StrategySummary {
    let spec: Option<StrategySpec> = strategy.parse().ok();
    let sent: Vec<&&RequestRecord> = requests.iter().filter(|r| r.is_sent()).collect();
    let mut distinct: Vec<(crate::record::RequestKind, &str)> = sent
        .iter()
        .map(|r| (r.kind, r.request_id.as_str()))
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    let sum = |f: fn(&PromptRecord) -> u64| prompts.iter().map(|p| f(p)).sum::<u64>();
    let input = sum(|p| p.input_tokens);
    let cached = sum(|p| p.cached_tokens);
    let write = sum(|p| p.cache_write_tokens);
    let client = sum(|p| p.client_input_tokens);
    let cost: Nanodollars = prompts.iter().map(|p| p.cost_usd).sum();
    let answered = prompts.iter().filter(|p| p.answered()).count() as u64;
    let n = prompts.len() as u64;
    let mut lat: Vec<f64> = prompts
        .iter()
        .filter(|p| p.answered())
        .map(|p| p.latency_ms)
        .collect();
    lat.sort_by(f64::total_cmp);
    let start = requests
        .iter()
        .map(|r| r.started_ms)
        .fold(f64::INFINITY, f64::min);
    let end = requests
        .iter()
        .map(|r| r.started_ms + r.latency_ms)
        .fold(f64::NEG_INFINITY, f64::max);
    let wall_ms = if requests.is_empty() {
        0.0
    } else {
        ((end - start) * 1e3).round() / 1e3
    };
    let (status, failure) = status_of(prompts, requests);
    // A strategy that failed outright answered nothing: no accuracy or agreement to report (an
    // empty cell, not 0%). A partial one keeps its lost answers as wrong.
    let measured = status != RunStatus::Failed;
    let graded: Vec<&&PromptRecord> = prompts
        .iter()
        .filter(|p| measured && p.correct.is_some())
        .collect();
    let agreed: Vec<&&PromptRecord> = prompts
        .iter()
        .filter(|p| measured && p.agrees_with_sequential.is_some())
        .collect();
    StrategySummary {
        strategy: strategy.to_string(),
        batch_size: spec.map_or_else(
            || crate::embed::strategy::inputs_per_request(strategy) as u32,
            |s| s.batch_size() as u32,
        ),
        demonstration: matches!(spec, Some(StrategySpec::NaiveMultiMessage(_))),
        requests: distinct.len() as u64,
        attempts: sent.len() as u64,
        prompts: n,
        answered,
        failed: n - answered,
        input_tokens: input,
        uncached_input_tokens: input.saturating_sub(cached + write),
        cached_tokens: cached,
        cache_write_tokens: write,
        output_tokens: sum(|p| p.output_tokens),
        client_input_tokens: client,
        input_token_diff: input as i64 - client as i64,
        cost_usd: cost,
        cost_per_1k_prompts: if n > 0 {
            cost.as_usd() * 1000.0 / n as f64
        } else {
            0.0
        },
        saving_vs_sequential_pct: baseline
            .filter(|_| status != RunStatus::Failed)
            .and_then(|b| cost.saving_vs(b)),
        wall_ms,
        latency_p50_ms: percentile(&lat, 50.0),
        latency_p95_ms: percentile(&lat, 95.0),
        latency_p99_ms: percentile(&lat, 99.0),
        latency_max_ms: lat.last().copied().unwrap_or(0.0),
        prompts_per_s: if wall_ms > 0.0 {
            answered as f64 / (wall_ms / 1000.0)
        } else {
            0.0
        },
        rate_limited: sent.iter().filter(|r| r.rate_limited()).count() as u64,
        retries: sent.iter().filter(|r| r.attempt > 1).count() as u64,
        errors: sent.iter().filter(|r| r.error.is_some()).count() as u64,
        parse_failures: sent.iter().filter(|r| r.parse_failure).count() as u64,
        extra_items: sent.iter().map(|r| u64::from(r.extra_items)).sum(),
        reasks: prompts.iter().filter(|p| p.reasked).count() as u64,
        accuracy_pct: pct(
            graded.iter().filter(|p| p.correct == Some(true)).count() as u64,
            graded.len() as u64,
        ),
        agreement_pct: pct(
            agreed
                .iter()
                .filter(|p| p.agrees_with_sequential == Some(true))
                .count() as u64,
            agreed.len() as u64,
        ),
        ttft_p50_ms: None,
        output_tokens_per_s: None,
        output_tokens_per_wall_s: if wall_ms > 0.0 {
            sum(|p| p.output_tokens) as f64 / (wall_ms / 1000.0)
        } else {
            0.0
        },
        time_cost_usd: None,
        time_cost_per_1k_prompts: None,
        status,
        failure,
        accuracy_ci_low_pct: None,
        accuracy_ci_high_pct: None,
        paired_prompts: None,
        worse_than_sequential: None,
        better_than_sequential: None,
        p_value_vs_sequential: None,
        accuracy_drop_pts: None,
        accuracy_drop_ci_low_pts: None,
        accuracy_drop_ci_high_pts: None,
        agreement_ci_low_pct: None,
        agreement_ci_high_pct: None,
        vector_cosine_min: None,
        vector_cosine_p01: None,
        vector_cosine_mean: None,
        vector_flagged: None,
        rpm_used: per_minute(sent.len() as u64, wall_ms),
        tpm_used: per_minute(
            sent.iter().map(|r| r.input_tokens + r.output_tokens).sum(),
            wall_ms,
        ),
        rpm_limit: sent.iter().filter_map(|r| r.limit_rpm).min(),
        tpm_limit: sent.iter().filter_map(|r| r.limit_tpm).min(),
        reasoning_tokens: sum(|p| p.reasoning_tokens),
        served_tiers: served_tiers(&sent),
        flex_refused: sent
            .iter()
            .filter(|r| r.asked_tier.as_deref() == Some("flex") && r.status == "429")
            .count() as u64,
        flex_fallbacks: sent
            .iter()
            .filter(|r| r.asked_tier.as_deref() == Some("default") && r.error.is_none())
            .count() as u64,
        cache_write_1h_tokens: sent.iter().map(|r| r.cache_write_1h_tokens).sum(),
        cache_reuses: (write > 0).then(|| cached as f64 / write as f64),
        cache_break_even_reuses: None,
        ..StrategySummary::default()
    }
    .with_batches(requests)
    .with_vectors(prompts)
    .with_streaming(&sent)
    .with_intervals(prompts)
}

/// `flex 98; standard 2`: the served tiers of the answered rows, most first (ties by name);
/// `None` when no row says.
fn served_tiers(sent: &[&&RequestRecord]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, u64> = Default::default();
    for r in sent.iter().filter(|r| r.error.is_none()) {
        if let Some(t) = r.served_tier.as_deref() {
            *counts.entry(t).or_default() += 1;
        }
    }
    let mut v: Vec<(&str, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    (!v.is_empty()).then(|| {
        v.iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// `n` per minute of `wall_ms`; `None` without wall time.
fn per_minute(n: u64, wall_ms: f64) -> Option<f64> {
    (wall_ms > 0.0).then(|| n as f64 * 60_000.0 / wall_ms)
}

impl StrategySummary {
    /// The Batch API lifecycle figures, from the `batch_job` rows (none: not a batch strategy).
    fn with_batches(mut self, requests: &[&RequestRecord]) -> StrategySummary {
        let jobs: Vec<&&RequestRecord> = requests
            .iter()
            .filter(|r| r.kind == crate::record::RequestKind::BatchJob)
            .collect();
        if jobs.is_empty() {
            return self;
        }
        let mut turnaround: Vec<f64> = jobs.iter().map(|j| j.latency_ms).collect();
        turnaround.sort_by(f64::total_cmp);
        let count = |states: &[&str]| {
            jobs.iter()
                .filter(|j| states.contains(&j.status.as_str()))
                .count() as u64
        };
        self.batches = Some(jobs.len() as u64);
        self.batch_turnaround_p50_ms = Some(percentile(&turnaround, 50.0));
        self.batch_turnaround_p95_ms = Some(percentile(&turnaround, 95.0));
        self.batches_expired = Some(count(&["expired"]));
        self.batches_failed = Some(count(&["failed", "cancelled", "canceled"]));
        self
    }

    /// The vector agreement figures, from the prompts' `vector_cosine` (none: chat runs).
    fn with_vectors(mut self, prompts: &[&PromptRecord]) -> StrategySummary {
        let mut c: Vec<f64> = prompts.iter().filter_map(|p| p.vector_cosine).collect();
        if c.is_empty() {
            return self;
        }
        c.sort_by(f64::total_cmp);
        self.vector_cosine_min = c.first().copied();
        self.vector_cosine_p01 = Some(percentile(&c, 1.0));
        self.vector_cosine_mean = Some(c.iter().sum::<f64>() / c.len() as f64);
        self
    }

    /// Sets `vector_flagged`: the lowest cosine is below `tolerance`.
    pub fn flag_vectors(&mut self, tolerance: f64) {
        self.vector_flagged = self.vector_cosine_min.map(|c| c < tolerance);
    }
}

/// Percent bounds of a Wilson interval.
fn wilson_pct(hits: usize, n: usize) -> (Option<f64>, Option<f64>) {
    match stats::wilson(hits as u64, n as u64) {
        Some((l, h)) => (Some(l * 100.0), Some(h * 100.0)),
        None => (None, None),
    }
}

/// The paired table of `other` against `baseline` on the prompts both graded.
pub fn paired_table(baseline: &[&PromptRecord], other: &[&PromptRecord]) -> stats::Paired {
    let base: HashMap<&str, bool> = baseline
        .iter()
        .filter_map(|p| p.correct.map(|c| (p.prompt_id.as_str(), c)))
        .collect();
    stats::Paired::from_pairs(other.iter().filter_map(|p| {
        let b = *base.get(p.prompt_id.as_str())?;
        Some((b, p.correct?))
    }))
}

impl StrategySummary {
    /// Fills the streaming figures from the answered attempts that recorded a time to first
    /// token.
    fn with_streaming(mut self, sent: &[&&RequestRecord]) -> StrategySummary {
        let streamed: Vec<(f64, f64, u64)> = sent
            .iter()
            .filter(|r| r.error.is_none())
            .filter_map(|r| r.ttft_ms.map(|t| (t, r.latency_ms, r.output_tokens)))
            .collect();
        if streamed.is_empty() {
            return self;
        }
        let mut ttfts: Vec<f64> = streamed.iter().map(|s| s.0).collect();
        ttfts.sort_by(f64::total_cmp);
        self.ttft_p50_ms = Some(percentile(&ttfts, 50.0));
        let tokens: u64 = streamed.iter().map(|s| s.2).sum();
        let seconds: f64 = streamed.iter().map(|s| (s.1 - s.0).max(0.0)).sum::<f64>() / 1000.0;
        self.output_tokens_per_s = (seconds > 0.0).then(|| tokens as f64 / seconds);
        self
    }

    /// Fills the Wilson intervals of accuracy and agreement.
    fn with_intervals(mut self, prompts: &[&PromptRecord]) -> StrategySummary {
        let count = |f: fn(&PromptRecord) -> Option<bool>| {
            let known: Vec<bool> = prompts.iter().filter_map(|p| f(p)).collect();
            (known.iter().filter(|&&v| v).count(), known.len())
        };
        let (hits, n) = count(|p| p.correct);
        (self.accuracy_ci_low_pct, self.accuracy_ci_high_pct) = wilson_pct(hits, n);
        let (hits, n) = count(|p| p.agrees_with_sequential);
        (self.agreement_ci_low_pct, self.agreement_ci_high_pct) = wilson_pct(hits, n);
        self
    }

    /// Fills the paired comparison with the baseline from its table.
    fn with_paired(mut self, t: stats::Paired) -> StrategySummary {
        if t.n() == 0 {
            return self;
        }
        self.paired_prompts = Some(t.n());
        self.worse_than_sequential = Some(t.only_baseline);
        self.better_than_sequential = Some(t.only_other);
        self.p_value_vs_sequential = t.mcnemar_p();
        self.accuracy_drop_pts = t.drop().map(|d| d * 100.0);
        if let Some((l, h)) = t.drop_ci() {
            self.accuracy_drop_ci_low_pts = Some(l * 100.0);
            self.accuracy_drop_ci_high_pts = Some(h * 100.0);
        }
        self
    }

    /// The paired table with its concordant cells lumped together: enough for the p-value and
    /// the sample sizes (they use only n and the discordant cells), not for the interval.
    pub fn discordance(&self) -> Option<stats::Paired> {
        let n = self.paired_prompts?;
        let (worse, better) = (self.worse_than_sequential?, self.better_than_sequential?);
        Some(stats::Paired {
            both: n.saturating_sub(worse + better),
            only_baseline: worse,
            only_other: better,
            neither: 0,
        })
    }
}

/// Summaries for every strategy, in the order they first appear in the rows.
pub fn summarise_all(prompts: &[PromptRecord], requests: &[RequestRecord]) -> Vec<StrategySummary> {
    let mut order: Vec<&str> = Vec::new();
    for p in prompts {
        if !order.contains(&p.strategy.as_str()) {
            order.push(&p.strategy);
        }
    }
    let cost_of = |s: &str| {
        prompts
            .iter()
            .filter(|p| p.strategy == s)
            .map(|p| p.cost_usd)
            .sum::<Nanodollars>()
    };
    let baseline_ok = |s: &str| {
        let ps: Vec<&PromptRecord> = prompts.iter().filter(|p| p.strategy == s).collect();
        let rs: Vec<&RequestRecord> = requests.iter().filter(|r| r.strategy == s).collect();
        status_of(&ps, &rs).0 != RunStatus::Failed
    };
    let base_name = if order.contains(&EMBED_BASELINE) {
        EMBED_BASELINE
    } else {
        BASELINE
    };
    let baseline =
        (order.contains(&base_name) && baseline_ok(base_name)).then(|| cost_of(base_name));
    order
        .iter()
        .map(|s| {
            let ps: Vec<&PromptRecord> = prompts.iter().filter(|p| p.strategy == *s).collect();
            let rs: Vec<&RequestRecord> = requests.iter().filter(|r| r.strategy == *s).collect();
            let summary = summarise(s, &ps, &rs, baseline);
            // A strategy that failed outright answered nothing to compare: no paired test.
            if *s == BASELINE || !order.contains(&BASELINE) || summary.status == RunStatus::Failed {
                return summary;
            }
            let base: Vec<&PromptRecord> =
                prompts.iter().filter(|p| p.strategy == BASELINE).collect();
            summary.with_paired(paired_table(&base, &ps))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(
        strategy: &str,
        id: &str,
        cost: u64,
        latency: f64,
        correct: Option<bool>,
        answered: bool,
    ) -> PromptRecord {
        PromptRecord {
            strategy: strategy.into(),
            prompt_id: id.into(),
            request_id: format!("r-{id}"),
            request_prompts: 1,
            status: crate::record::PromptStatus::from_answered(answered),
            reasked: false,
            input_tokens: 100,
            cached_tokens: 20,
            cache_write_tokens: 10,
            output_tokens: 5,
            client_input_tokens: 98,
            cost_usd: Nanodollars(cost),
            batch_priced: false,
            latency_ms: latency,
            ttft_ms: None,
            answer: answered.then(|| "x".into()),
            gold: Some("x".into()),
            correct,
            agrees_with_sequential: None,
            error: None,
            pack_position: None,
            vector_cosine: None,
            reasoning_tokens: 0,
        }
    }

    fn request(
        strategy: &str,
        id: &str,
        attempt: u32,
        status: &str,
        start: f64,
        latency: f64,
    ) -> RequestRecord {
        RequestRecord {
            started_ms: start,
            latency_ms: latency,
            ..RequestRecord::chat_attempt(strategy, id, attempt, status)
        }
    }

    #[test]
    fn percentiles_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn wall_time_priced_by_the_hour() {
        let prompts = vec![
            prompt("sequential", "a", 1_000, 10.0, Some(true), true),
            prompt("sequential", "b", 3_000, 30.0, Some(false), true),
        ];
        // Wall time: first start 0 ms, last end 7,200 ms.
        let requests = vec![
            request("sequential", "r1", 1, "200", 0.0, 3_600.0),
            request("sequential", "r2", 1, "200", 3_600.0, 3_600.0),
        ];
        let mut s = summarise_all(&prompts, &requests);
        // 2 prompts x 5 output tokens over 7.2 s.
        assert_eq!(s[0].output_tokens_per_wall_s, 10.0 / 7.2);
        assert_eq!(s[0].time_cost_usd, None);
        // $1.80 an hour for 7.2 s: 1.80 x 7,200 / 3,600,000 = $0.0036; per 1,000 prompts:
        // 0.0036 x 1,000 / 2 = $1.80.
        price_wall_time(&mut s, 1.80);
        assert_eq!(s[0].time_cost_usd, Some(1.80 * 7_200.0 / 3_600_000.0));
        assert!((s[0].time_cost_usd.unwrap() - 0.0036).abs() < 1e-15);
        assert!((s[0].time_cost_per_1k_prompts.unwrap() - 1.8).abs() < 1e-12);
    }

    #[test]
    fn a_failed_strategy_has_no_accuracy_rather_than_zero() {
        let prompts = vec![
            prompt("sequential", "a", 1_000, 10.0, Some(true), true),
            prompt("batch-api", "a", 0, 0.0, Some(false), false),
        ];
        let requests = vec![request("sequential", "r1", 1, "200", 0.0, 10.0)];
        let s = summarise_all(&prompts, &requests);
        assert_eq!(s[1].status, RunStatus::Failed);
        assert_eq!((s[1].accuracy_pct, s[1].agreement_pct), (None, None));
        assert_eq!(s[0].accuracy_pct, Some(100.0));
    }

    #[test]
    fn hand_made_summary() {
        let prompts = vec![
            prompt("sequential", "a", 1_000, 10.0, Some(true), true),
            prompt("sequential", "b", 3_000, 30.0, Some(false), true),
            prompt("packed:2", "a", 500, 20.0, Some(true), true),
            prompt("packed:2", "b", 500, 20.0, Some(false), false),
        ];
        let requests = vec![
            request("sequential", "r1", 1, "429", 0.0, 5.0),
            request("sequential", "r1", 2, "200", 100.0, 10.0),
            request("sequential", "r2", 1, "200", 110.0, 30.0),
            request("packed:2", "r1", 1, "200", 200.0, 20.0),
        ];
        let s = summarise_all(&prompts, &requests);
        assert_eq!(s.len(), 2);
        let seq = &s[0];
        assert_eq!(seq.cost_usd, Nanodollars(4_000));
        assert_eq!(seq.cost_per_1k_prompts, 0.002);
        assert_eq!(
            (
                seq.requests,
                seq.attempts,
                seq.retries,
                seq.rate_limited,
                seq.errors
            ),
            (2, 3, 1, 1, 1)
        );
        assert_eq!(seq.wall_ms, 140.0);
        assert_eq!(seq.prompts_per_s, 2.0 / 0.14);
        assert_eq!((seq.latency_p50_ms, seq.latency_max_ms), (10.0, 30.0));
        assert_eq!(seq.accuracy_pct, Some(50.0));
        assert_eq!(seq.saving_vs_sequential_pct, Some(0.0));
        assert_eq!(
            (
                seq.input_tokens,
                seq.uncached_input_tokens,
                seq.input_token_diff
            ),
            (200, 140, 4)
        );
        let packed = &s[1];
        assert_eq!(packed.batch_size, 2);
        assert_eq!(packed.saving_vs_sequential_pct, Some(75.0));
        assert_eq!((packed.answered, packed.failed), (1, 1));
        assert_eq!(packed.accuracy_pct, Some(50.0));
        assert_eq!(packed.latency_p99_ms, 20.0);
    }

    #[test]
    fn paired_with_sequential() {
        let row = |s: &str, id: &str, c: bool| prompt(s, id, 1, 1.0, Some(c), true);
        let prompts = vec![
            row("sequential", "a", true),
            row("sequential", "b", true),
            row("sequential", "c", true),
            row("sequential", "d", false),
            row("packed:4", "a", true),
            row("packed:4", "b", false),
            row("packed:4", "c", false),
            row("packed:4", "d", false),
            // Not graded under sequential: not paired.
            row("packed:4", "e", true),
        ];
        let s = summarise_all(&prompts, &[]);
        let (seq, packed) = (&s[0], &s[1]);
        assert_eq!(seq.p_value_vs_sequential, None);
        let (l, h) = stats::wilson(3, 4).unwrap();
        assert_eq!(seq.accuracy_ci_low_pct, Some(l * 100.0));
        assert_eq!(seq.accuracy_ci_high_pct, Some(h * 100.0));
        assert_eq!(
            (
                packed.paired_prompts,
                packed.worse_than_sequential,
                packed.better_than_sequential
            ),
            (Some(4), Some(2), Some(0))
        );
        // 2 vs 0 discordant: 2 · ½² = 0.5; drop (2 − 0)/4 = 50 points.
        assert!((packed.p_value_vs_sequential.unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(packed.accuracy_drop_pts, Some(50.0));
        let (l, h) = stats::Paired {
            both: 1,
            only_baseline: 2,
            only_other: 0,
            neither: 1,
        }
        .drop_ci()
        .unwrap();
        assert_eq!(packed.accuracy_drop_ci_low_pts, Some(l * 100.0));
        assert_eq!(packed.accuracy_drop_ci_high_pts, Some(h * 100.0));
        assert_eq!(packed.discordance().unwrap().discordant(), 2);
    }

    #[test]
    fn streaming_figures() {
        let streamed = |id: &str, attempt: u32, status: &str, ttft: f64, latency: f64, out: u64| {
            RequestRecord {
                ttft_ms: Some(ttft),
                output_tokens: out,
                ..request("sequential", id, attempt, status, 0.0, latency)
            }
        };
        let prompts = vec![prompt("sequential", "a", 1_000, 10.0, Some(true), true)];
        let requests = vec![
            // A failed attempt and an unstreamed one do not count.
            streamed("r0", 1, "dropped", 5.0, 9_000.0, 0),
            request("sequential", "r9", 1, "200", 0.0, 50.0),
            streamed("r1", 1, "200", 100.0, 300.0, 10),
            streamed("r2", 1, "200", 200.0, 700.0, 40),
            streamed("r3", 1, "200", 300.0, 800.0, 20),
        ];
        let s = &summarise_all(&prompts, &requests)[0];
        // Nearest rank of [100, 200, 300] at 50 %: the 2nd.
        assert_eq!(s.ttft_p50_ms, Some(200.0));
        // 70 tokens over 0.2 + 0.5 + 0.5 s.
        assert_eq!(s.output_tokens_per_s, Some(70.0 / 1.2));
        let plain = &summarise_all(&prompts, &requests[1..2])[0];
        assert_eq!((plain.ttft_p50_ms, plain.output_tokens_per_s), (None, None));
    }
}
