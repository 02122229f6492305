//! The numbers each chart draws, computed only from the summaries and the per-prompt rows (that
//! is, from `summary.csv` and `prompts.csv`). `report.json` carries the same data, so a chart can
//! be redrawn, or checked, without re-running anything.

use serde::{Deserialize, Serialize};

use crate::pricing::Nanodollars;
use crate::record::PromptRecord;
use crate::report::{RunReport, StrategySummary};
use crate::strategy::StrategySpec;

/// At most this many points per latency CDF curve; longer curves are thinned, keeping exact points.
pub const MAX_CDF_POINTS: usize = 500;

/// Everything the six charts draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    /// One bar per strategy: total cost.
    pub cost_by_strategy: Vec<CostBar>,
    /// One line per packed family: saving versus sequential (%) against K.
    pub saving_vs_batch_size: Vec<Series>,
    /// One line per packed family: accuracy (%) against K.
    pub accuracy_vs_batch_size: Vec<Series>,
    /// One step curve per strategy: share of prompts answered within a latency.
    pub latency_cdf: Vec<CdfSeries>,
    /// One stacked bar per strategy: token kinds.
    pub token_breakdown: Vec<TokenBar>,
    /// One line per packed strategy: accuracy (%) at each slot of the pack.
    #[serde(default)]
    pub accuracy_by_position: Vec<PositionSeries>,
}

/// A line of the accuracy-by-position chart: one packed strategy across its pack's slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionSeries {
    /// Strategy id, e.g. `packed:8`.
    pub strategy: String,
    /// Points in increasing slot, only slots with graded prompts.
    pub points: Vec<PositionPoint>,
}

/// One slot of a [`PositionSeries`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionPoint {
    /// Slot in the pack, from 1 (`pack_position` in prompts.csv).
    pub position: u32,
    /// Share of the graded prompts at this slot answered correctly, %.
    pub accuracy_pct: f64,
    /// Graded prompts at this slot.
    pub graded: u64,
}

/// Accuracy by pack slot, from prompts.csv (`pack_position`, `correct`) of packed strategies
/// that did not fail.
pub fn position_series(
    summaries: &[StrategySummary],
    prompts: &[PromptRecord],
) -> Vec<PositionSeries> {
    crate::report::quality::position_accuracy(prompts)
        .into_iter()
        .filter(|a| summaries.iter().any(|s| s.strategy == a.strategy))
        .map(|a| PositionSeries {
            strategy: a.strategy,
            points: a
                .slots
                .iter()
                .enumerate()
                .filter(|(_, (graded, _))| *graded > 0)
                .map(|(i, &(graded, correct))| PositionPoint {
                    position: i as u32 + 1,
                    accuracy_pct: correct as f64 * 100.0 / graded as f64,
                    graded,
                })
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// A bar of the cost chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostBar {
    /// Strategy id.
    pub strategy: String,
    /// Whether the strategy is the `naive-multi-message` demonstration.
    pub demonstration: bool,
    /// Total cost, exact (decimal string).
    #[serde(with = "crate::record::usd_string")]
    pub cost_usd: Nanodollars,
    /// Cost per 1,000 prompts, USD.
    pub cost_per_1k_prompts: f64,
    /// Saving versus sequential, %, when sequential ran.
    pub saving_vs_sequential_pct: Option<f64>,
}

/// A line of the saving or accuracy chart: one packed family across batch sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// `packed`, `batch-api+packed` or `naive-multi-message`.
    pub family: String,
    /// Whether this line is the `naive-multi-message` demonstration.
    pub demonstration: bool,
    /// Points in increasing K.
    pub points: Vec<SeriesPoint>,
}

/// One point of a [`Series`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// Prompts per request.
    pub k: u32,
    /// The value: saving in % or accuracy in %.
    pub value: f64,
    /// The strategy whose summary row gave the value (`sequential` or `batch-api` for K = 1).
    pub strategy: String,
    /// Lower end of the value's 95% interval (accuracy chart: Wilson), when known.
    #[serde(default)]
    pub low: Option<f64>,
    /// Upper end of the value's 95% interval, when known.
    #[serde(default)]
    pub high: Option<f64>,
}

/// The latency CDF of one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdfSeries {
    /// Strategy id.
    pub strategy: String,
    /// Whether the strategy is the `naive-multi-message` demonstration.
    pub demonstration: bool,
    /// Prompts in the set (the denominator of `fraction`).
    pub prompts: u64,
    /// Prompts answered (the curve ends at `answered / prompts`).
    pub answered: u64,
    /// Steps of the empirical CDF in increasing latency.
    pub points: Vec<CdfPoint>,
}

/// One step of a latency CDF.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CdfPoint {
    /// A latency that occurred, ms.
    pub latency_ms: f64,
    /// Share of all prompts answered with a latency at most `latency_ms`, 0..=1.
    pub fraction: f64,
}

/// A stacked bar of the token chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenBar {
    /// Strategy id.
    pub strategy: String,
    /// Whether the strategy is the `naive-multi-message` demonstration.
    pub demonstration: bool,
    /// Input tokens at the plain rate.
    pub uncached_input_tokens: u64,
    /// Input tokens read from the cache.
    pub cached_tokens: u64,
    /// Input tokens written to the cache.
    pub cache_write_tokens: u64,
    /// Output tokens (reasoning included).
    pub output_tokens: u64,
    /// Of the output tokens, hidden reasoning tokens (billed as output).
    pub reasoning_tokens: u64,
}

impl TokenBar {
    /// All four kinds together (reasoning is a part of output).
    pub fn total(&self) -> u64 {
        self.uncached_input_tokens
            + self.cached_tokens
            + self.cache_write_tokens
            + self.output_tokens
    }
}

/// The empirical CDF of `latencies` over `total` prompts: for each distinct finite latency `v`
/// (ascending), the point (`v`, count of latencies ≤ `v` / `total`). Non-finite values are
/// ignored. With more than `max_points` distinct values the curve is thinned to `max_points`
/// points spread evenly by rank, always keeping the first and the last; every kept point is
/// still exact.
pub fn cdf_points(latencies: &[f64], total: u64, max_points: usize) -> Vec<CdfPoint> {
    if total == 0 {
        return Vec::new();
    }
    let mut sorted: Vec<f64> = latencies
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    let mut points: Vec<CdfPoint> = Vec::new();
    for (i, v) in sorted.iter().enumerate() {
        let fraction = (i + 1) as f64 / total as f64;
        match points.last_mut() {
            Some(last) if last.latency_ms == *v => last.fraction = fraction,
            _ => points.push(CdfPoint {
                latency_ms: *v,
                fraction,
            }),
        }
    }
    thin(points, max_points)
}

fn thin(points: Vec<CdfPoint>, max_points: usize) -> Vec<CdfPoint> {
    let m = points.len();
    if m <= max_points.max(2) {
        return points;
    }
    let keep = max_points.max(2);
    let mut idx: Vec<usize> = (0..keep)
        .map(|j| ((j as f64) * ((m - 1) as f64) / ((keep - 1) as f64)).round() as usize)
        .collect();
    idx.dedup();
    idx.into_iter()
        .filter_map(|i| points.get(i).copied())
        .collect()
}

/// Which line of the batch-size charts a strategy belongs to, and at which K.
fn family(spec: &StrategySpec) -> Option<(&'static str, u32, bool)> {
    match *spec {
        StrategySpec::Packed(k) => Some(("packed", k as u32, false)),
        StrategySpec::BatchApi(Some(k)) => Some(("batch-api+packed", k as u32, false)),
        StrategySpec::NaiveMultiMessage(k) => Some(("naive-multi-message", k as u32, true)),
        _ => None,
    }
}

/// The K = 1 anchor of each family: what the family degenerates to with one prompt per request.
fn anchor(family: &str) -> Option<&'static str> {
    match family {
        "packed" | "naive-multi-message" => Some(crate::strategy::BASELINE),
        "batch-api+packed" => Some("batch-api"),
        _ => None,
    }
}

/// The lines of a batch-size chart: for each family present (`packed:K`, `batch-api+packed:K`,
/// and `naive-multi-message:K` when `with_demo`), one point per K with a finite value, plus a
/// K = 1 point from the family's anchor strategy (`sequential`, or `batch-api` for
/// `batch-api+packed`) when that ran and no explicit K = 1 row exists.
pub fn batch_size_series(
    summaries: &[StrategySummary],
    value: fn(&StrategySummary) -> Option<f64>,
    with_demo: bool,
) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for name in ["packed", "batch-api+packed", "naive-multi-message"] {
        let mut points: Vec<SeriesPoint> = Vec::new();
        let mut demonstration = false;
        for s in summaries {
            let Some(spec) = s.strategy.parse::<StrategySpec>().ok() else {
                continue;
            };
            let Some((fam, k, demo)) = family(&spec) else {
                continue;
            };
            if fam != name || (demo && !with_demo) {
                continue;
            }
            demonstration = demo;
            if let Some(v) = value(s).filter(|v| v.is_finite()) {
                points.push(SeriesPoint {
                    k,
                    value: v,
                    strategy: s.strategy.clone(),
                    low: None,
                    high: None,
                });
            }
        }
        if points.is_empty() {
            continue;
        }
        if !points.iter().any(|p| p.k == 1) {
            let base = anchor(name).and_then(|a| summaries.iter().find(|s| s.strategy == a));
            if let Some((b, v)) =
                base.and_then(|b| value(b).filter(|v| v.is_finite()).map(|v| (b, v)))
            {
                points.push(SeriesPoint {
                    k: 1,
                    value: v,
                    strategy: b.strategy.clone(),
                    low: None,
                    high: None,
                });
            }
        }
        points.sort_by_key(|p| p.k);
        out.push(Series {
            family: name.to_string(),
            demonstration,
            points,
        });
    }
    out
}

/// Sets each accuracy point's error bar to its strategy's Wilson interval.
pub fn with_accuracy_intervals(
    mut series: Vec<Series>,
    summaries: &[StrategySummary],
) -> Vec<Series> {
    for p in series.iter_mut().flat_map(|s| s.points.iter_mut()) {
        if let Some(s) = summaries.iter().find(|s| s.strategy == p.strategy) {
            (p.low, p.high) = (s.accuracy_ci_low_pct, s.accuracy_ci_high_pct);
        }
    }
    series
}

/// Latency CDFs per strategy, from the answered prompts' latencies.
pub fn latency_cdfs(summaries: &[StrategySummary], prompts: &[PromptRecord]) -> Vec<CdfSeries> {
    summaries
        .iter()
        .map(|s| {
            let rows: Vec<&PromptRecord> = prompts
                .iter()
                .filter(|p| p.strategy == s.strategy)
                .collect();
            let lat: Vec<f64> = rows
                .iter()
                .filter(|p| p.answered())
                .map(|p| p.latency_ms)
                .collect();
            let total = rows.len() as u64;
            CdfSeries {
                strategy: s.strategy.clone(),
                demonstration: s.demonstration,
                prompts: total,
                answered: rows.iter().filter(|p| p.answered()).count() as u64,
                points: cdf_points(&lat, total, MAX_CDF_POINTS),
            }
        })
        .collect()
}

impl ChartData {
    /// Computes every chart's data from a report.
    pub fn from_report(report: &RunReport) -> ChartData {
        // A failed strategy's zeros are not a result: it is named in the footnote instead.
        let summaries: &[StrategySummary] = &report
            .summaries
            .iter()
            .filter(|s| s.status != crate::report::summary::RunStatus::Failed)
            .cloned()
            .collect::<Vec<_>>();
        ChartData {
            cost_by_strategy: summaries
                .iter()
                .map(|s| CostBar {
                    strategy: s.strategy.clone(),
                    demonstration: s.demonstration,
                    cost_usd: s.cost_usd,
                    cost_per_1k_prompts: s.cost_per_1k_prompts,
                    saving_vs_sequential_pct: s.saving_vs_sequential_pct,
                })
                .collect(),
            saving_vs_batch_size: batch_size_series(
                summaries,
                |s| s.saving_vs_sequential_pct,
                false,
            ),
            accuracy_vs_batch_size: with_accuracy_intervals(
                batch_size_series(summaries, |s| s.accuracy_pct, true),
                summaries,
            ),
            // Failed strategies answered nothing, so they draw no curve; kept so that a run
            // where every strategy failed says so.
            latency_cdf: latency_cdfs(&report.summaries, &report.prompts),
            token_breakdown: report
                .summaries
                .iter()
                .map(|s| TokenBar {
                    strategy: s.strategy.clone(),
                    demonstration: s.demonstration,
                    uncached_input_tokens: s.uncached_input_tokens,
                    cached_tokens: s.cached_tokens,
                    cache_write_tokens: s.cache_write_tokens,
                    output_tokens: s.output_tokens,
                    reasoning_tokens: s.reasoning_tokens.min(s.output_tokens),
                })
                .collect(),
            accuracy_by_position: position_series(summaries, &report.prompts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(latency_ms: f64, fraction: f64) -> CdfPoint {
        CdfPoint {
            latency_ms,
            fraction,
        }
    }

    #[test]
    fn cdf_of_hand_made_latencies() {
        // Four prompts, three answered, one latency repeated.
        let p = cdf_points(&[30.0, 10.0, 10.0], 4, 100);
        assert_eq!(p, vec![pt(10.0, 0.5), pt(30.0, 0.75)]);
        // All answered: ends at 1.
        let p = cdf_points(&[5.0, 1.0, 3.0, 2.0], 4, 100);
        assert_eq!(
            p,
            vec![pt(1.0, 0.25), pt(2.0, 0.5), pt(3.0, 0.75), pt(5.0, 1.0)]
        );
    }

    #[test]
    fn cdf_edge_cases() {
        assert!(cdf_points(&[], 0, 10).is_empty());
        assert!(cdf_points(&[], 5, 10).is_empty());
        assert!(cdf_points(&[1.0], 0, 10).is_empty());
        assert_eq!(
            cdf_points(&[f64::NAN, 2.0, f64::INFINITY], 2, 10),
            vec![pt(2.0, 0.5)]
        );
    }

    #[test]
    fn cdf_thinning_keeps_exact_ends() {
        let lat: Vec<f64> = (1..=1000).map(f64::from).collect();
        let p = cdf_points(&lat, 1000, 11);
        assert_eq!(p.len(), 11);
        assert_eq!(p[0], pt(1.0, 0.001));
        assert_eq!(p[10], pt(1000.0, 1.0));
        assert_eq!(p[5], pt(501.0, 0.501));
        for w in p.windows(2) {
            assert!(w[0].latency_ms < w[1].latency_ms && w[0].fraction < w[1].fraction);
        }
        // Every kept point is exact: fraction = rank / total.
        assert!(p.iter().all(|q| q.fraction == q.latency_ms / 1000.0));
    }

    fn summary(strategy: &str, saving: Option<f64>, accuracy: Option<f64>) -> StrategySummary {
        let spec: Option<StrategySpec> = strategy.parse().ok();
        StrategySummary {
            strategy: strategy.into(),
            batch_size: spec.map_or(1, |s| s.batch_size() as u32),
            demonstration: strategy.starts_with("naive"),
            requests: 0,
            attempts: 0,
            prompts: 0,
            answered: 0,
            failed: 0,
            input_tokens: 0,
            uncached_input_tokens: 0,
            cached_tokens: 0,
            cache_write_tokens: 0,
            output_tokens: 0,
            client_input_tokens: 0,
            input_token_diff: 0,
            cost_usd: Nanodollars::ZERO,
            cost_per_1k_prompts: 0.0,
            saving_vs_sequential_pct: saving,
            wall_ms: 0.0,
            latency_p50_ms: 0.0,
            latency_p95_ms: 0.0,
            latency_p99_ms: 0.0,
            latency_max_ms: 0.0,
            prompts_per_s: 0.0,
            rate_limited: 0,
            retries: 0,
            errors: 0,
            parse_failures: 0,
            extra_items: 0,
            reasks: 0,
            accuracy_pct: accuracy,
            agreement_pct: None,
            ..StrategySummary::default()
        }
    }

    #[test]
    fn batch_size_lines_with_anchors() {
        let s = vec![
            summary("sequential", Some(0.0), Some(96.0)),
            summary("packed:8", Some(60.0), Some(90.0)),
            summary("packed:2", Some(30.0), Some(94.0)),
            summary("batch-api", Some(50.0), Some(96.0)),
            summary("batch-api+packed:8", Some(80.0), Some(f64::NAN)),
            summary("naive-multi-message:4", Some(70.0), Some(25.0)),
            summary("concurrent:8", Some(0.0), Some(96.0)),
        ];
        let saving = batch_size_series(&s, |s| s.saving_vs_sequential_pct, false);
        assert_eq!(saving.len(), 2);
        assert_eq!(saving[0].family, "packed");
        let ks: Vec<(u32, f64, &str)> = saving[0]
            .points
            .iter()
            .map(|p| (p.k, p.value, p.strategy.as_str()))
            .collect();
        assert_eq!(
            ks,
            vec![
                (1, 0.0, "sequential"),
                (2, 30.0, "packed:2"),
                (8, 60.0, "packed:8")
            ]
        );
        let ks: Vec<(u32, f64)> = saving[1].points.iter().map(|p| (p.k, p.value)).collect();
        assert_eq!(ks, vec![(1, 50.0), (8, 80.0)]);

        let acc = batch_size_series(&s, |s| s.accuracy_pct, true);
        // batch-api+packed's only value is NaN: the line is dropped; the demo line is kept.
        let fams: Vec<&str> = acc.iter().map(|a| a.family.as_str()).collect();
        assert_eq!(fams, vec!["packed", "naive-multi-message"]);
        assert!(acc[1].demonstration);
        let ks: Vec<(u32, f64)> = acc[1].points.iter().map(|p| (p.k, p.value)).collect();
        assert_eq!(ks, vec![(1, 96.0), (4, 25.0)]);
    }

    #[test]
    fn batch_size_lines_without_baseline_or_packing() {
        // One K, no sequential: a single point, still drawn.
        let s = vec![summary("packed:4", None, Some(80.0))];
        let acc = batch_size_series(&s, |s| s.accuracy_pct, true);
        assert_eq!(acc.len(), 1);
        assert_eq!(acc[0].points.len(), 1);
        assert!(batch_size_series(&s, |s| s.saving_vs_sequential_pct, false).is_empty());
        let s = vec![
            summary("sequential", Some(0.0), None),
            summary("cached", Some(10.0), None),
        ];
        assert!(batch_size_series(&s, |s| s.saving_vs_sequential_pct, false).is_empty());
    }
}
