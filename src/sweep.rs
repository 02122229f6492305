//! `batchbench sweep`: runs `packed:K` and `batch-api+packed:K` for several K next to
//! `sequential`, and recommends the K with the lowest cost per prompt that keeps accuracy within
//! the allowed drop, p95 latency under the SLO, and every request inside the context window.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::report::StrategySummary;
use crate::report::summary::{BASELINE, REPEAT, RunStatus};
use crate::strategy::StrategySpec;

/// What the accuracy evidence says about one candidate, from the 95% interval of its paired
/// accuracy drop against `sequential`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The whole interval is within the allowed drop.
    Accepted,
    /// The whole interval is beyond the allowed drop: a significant drop.
    Rejected,
    /// The interval straddles the allowed drop: the prompts cannot tell.
    Undecided,
    /// No gold answers to compare.
    Ungraded,
}

impl Decision {
    /// Decides from the drop interval (points) and the allowed drop.
    pub fn from_interval(ci: Option<(f64, f64)>, max_drop_pts: f64) -> Decision {
        match ci {
            None => Decision::Ungraded,
            Some((_, high)) if high <= max_drop_pts => Decision::Accepted,
            Some((low, _)) if low > max_drop_pts => Decision::Rejected,
            Some(_) => Decision::Undecided,
        }
    }
}

/// What the sweep decided about one candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Strategy id.
    pub strategy: String,
    /// Prompts per request.
    pub k: u32,
    /// Cost per 1,000 prompts, USD.
    pub cost_per_1k_prompts: f64,
    /// Saving versus sequential, percent.
    pub saving_vs_sequential_pct: Option<f64>,
    /// Accuracy, percent.
    pub accuracy_pct: Option<f64>,
    /// Sequential's accuracy minus this one on the same prompts, points.
    pub accuracy_drop_pts: Option<f64>,
    /// p95 latency per prompt, ms.
    pub latency_p95_ms: f64,
    /// Prompts not answered.
    pub failed: u64,
    /// Whether it met every constraint.
    pub eligible: bool,
    /// Whether it is the recommendation.
    pub recommended: bool,
    /// Why it was not recommended (or why it was).
    pub reason: String,
    /// 95% paired interval of the drop, lower bound, points.
    pub accuracy_drop_ci_low_pts: Option<f64>,
    /// 95% paired interval of the drop, upper bound, points.
    pub accuracy_drop_ci_high_pts: Option<f64>,
    /// Exact McNemar p-value against sequential.
    pub p_value_vs_sequential: Option<f64>,
    /// What the interval says about the allowed drop.
    pub decision: Decision,
    /// For undecided candidates: prompts that would likely decide (80% power), given the
    /// observed drop and discordance.
    pub prompts_to_decide: Option<u64>,
    /// Prompts a paired McNemar test needs to detect a drop of exactly the allowed size with
    /// 80% power, given the observed discordance (Connor 1987).
    pub prompts_to_detect_allowed_drop: Option<u64>,
}

/// The constraints a recommendation must meet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constraints {
    /// Largest accuracy drop from sequential, points.
    pub max_accuracy_drop_pts: f64,
    /// Largest p95 latency, if any.
    pub latency_slo: Option<Duration>,
}

/// The strategies a sweep over `sizes` runs: sequential, then packed:K and batch-api+packed:K.
pub fn strategies(sizes: &[usize], with_batch_api: bool) -> Vec<StrategySpec> {
    let mut out = vec![StrategySpec::Sequential];
    out.extend(sizes.iter().map(|&k| StrategySpec::Packed(k)));
    if with_batch_api {
        out.extend(sizes.iter().map(|&k| StrategySpec::BatchApi(Some(k))));
    }
    out
}

pub use crate::strategy::parse_sizes;

/// Parses a duration such as `2s`, `1500ms`, `1m` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let t = s.trim();
    let (num, scale) = if let Some(v) = t.strip_suffix("ms") {
        (v, 0.001)
    } else if let Some(v) = t.strip_suffix('s') {
        (v, 1.0)
    } else if let Some(v) = t.strip_suffix('m') {
        (v, 60.0)
    } else if let Some(v) = t.strip_suffix('h') {
        (v, 3600.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| Error::Usage(format!("{s:?} is not a duration such as 2s or 1500ms")))?;
    if !v.is_finite() || v <= 0.0 || v * scale > 1e7 {
        return Err(Error::Usage(format!("{s:?} must be a positive duration")));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

/// Decides on every candidate. `lowered` lists strategies whose K had to be lowered to fit the
/// model's limits (their requests would not fit as asked). Only candidates whose accuracy is
/// *accepted* (or ungraded), that meet every other constraint and cost less than `sequential`
/// are eligible; the cheapest of them is recommended.
pub fn recommend(
    summaries: &[StrategySummary],
    c: Constraints,
    lowered: &[String],
) -> Vec<Candidate> {
    let baseline_cost = summaries
        .iter()
        .find(|s| s.strategy == BASELINE)
        .map(|s| s.cost_per_1k_prompts);
    let mut out: Vec<Candidate> = summaries
        .iter()
        .filter(|s| s.strategy != BASELINE && s.strategy != REPEAT)
        .map(|s| candidate(s, c, lowered, baseline_cost))
        .collect();
    let best = out
        .iter()
        .enumerate()
        .filter(|(_, c)| c.eligible)
        .min_by(|(_, a), (_, b)| {
            a.cost_per_1k_prompts
                .total_cmp(&b.cost_per_1k_prompts)
                .then(a.k.cmp(&b.k))
        })
        .map(|(i, _)| i);
    if let Some(i) = best {
        let (cost, name) = (out[i].cost_per_1k_prompts, out[i].strategy.clone());
        for (j, cand) in out.iter_mut().enumerate() {
            if j == i {
                cand.recommended = true;
                cand.reason = "lowest cost per prompt within every constraint".into();
            } else if cand.eligible {
                cand.reason = format!(
                    "costs more: ${:.4} vs ${cost:.4} per 1k prompts ({name})",
                    cand.cost_per_1k_prompts
                );
            }
        }
    }
    out
}

/// One candidate's verdict against the constraints and the baseline's cost.
fn candidate(
    s: &StrategySummary,
    c: Constraints,
    lowered: &[String],
    baseline_cost: Option<f64>,
) -> Candidate {
    let ci = s.accuracy_drop_ci_low_pts.zip(s.accuracy_drop_ci_high_pts);
    let decision = Decision::from_interval(ci, c.max_accuracy_drop_pts);
    let margin = c.max_accuracy_drop_pts / 100.0;
    let table = s.discordance();
    let prompts_to_decide = (decision == Decision::Undecided)
        .then(|| table.and_then(|t| t.prompts_to_decide(margin)))
        .flatten();
    let mut reasons = Vec::new();
    let (low, high) = ci.unwrap_or((f64::NAN, f64::NAN));
    let drop = s.accuracy_drop_pts.unwrap_or(f64::NAN);
    match decision {
        Decision::Rejected => reasons.push(format!(
            "significant accuracy drop {drop:.1} pts (95% CI {low:.1} to {high:.1}) > {:.1} pts allowed",
            c.max_accuracy_drop_pts
        )),
        Decision::Undecided => reasons.push(format!(
            "undecided: accuracy drop {drop:.1} pts, 95% CI {low:.1} to {high:.1} straddles {:.1} pts allowed; {}",
            c.max_accuracy_drop_pts,
            prompts_to_decide.map_or("no number of prompts decides it at this drop".into(), |n| {
                format!("about {n} prompts would decide it")
            })
        )),
        Decision::Accepted | Decision::Ungraded => {}
    }
    if let Some(slo) = c.latency_slo {
        if s.latency_p95_ms > slo.as_secs_f64() * 1000.0 {
            reasons.push(format!(
                "p95 {:.0} ms > SLO {:.0} ms",
                s.latency_p95_ms,
                slo.as_secs_f64() * 1000.0
            ));
        }
    }
    if lowered.contains(&s.strategy) {
        reasons.push("K had to be lowered to fit the context window / output limit".into());
    }
    match (s.status, &s.failure) {
        (RunStatus::Failed, Some(why)) => reasons.push(format!("failed: {why}")),
        _ if s.failed > 0 => reasons.push(format!("{} prompts failed", s.failed)),
        _ => {}
    }
    if let Some(base) = baseline_cost {
        if s.cost_per_1k_prompts >= base {
            reasons.push(format!(
                "costs no less than sequential (${:.4} vs ${base:.4} per 1k prompts)",
                s.cost_per_1k_prompts
            ));
        }
    }
    Candidate {
        strategy: s.strategy.clone(),
        k: s.batch_size,
        cost_per_1k_prompts: s.cost_per_1k_prompts,
        saving_vs_sequential_pct: s.saving_vs_sequential_pct,
        accuracy_pct: s.accuracy_pct,
        accuracy_drop_pts: s.accuracy_drop_pts,
        latency_p95_ms: s.latency_p95_ms,
        failed: s.failed,
        eligible: reasons.is_empty(),
        recommended: false,
        reason: reasons.join("; "),
        accuracy_drop_ci_low_pts: s.accuracy_drop_ci_low_pts,
        accuracy_drop_ci_high_pts: s.accuracy_drop_ci_high_pts,
        p_value_vs_sequential: s.p_value_vs_sequential,
        decision,
        prompts_to_decide,
        prompts_to_detect_allowed_drop: table.and_then(|t| t.prompts_to_detect(margin)),
    }
}

/// Renders the sweep table and the verdict.
pub fn render(cands: &[Candidate], c: Constraints, markdown: bool) -> String {
    let header = [
        "strategy",
        "K",
        if markdown { "cost / 1k" } else { "cost/1k" },
        "saving",
        "accuracy",
        "drop (95% CI)",
        "p",
        "p95",
        "verdict",
    ];
    let rows: Vec<Vec<String>> = cands.iter().map(|c| row_cells(c).to_vec()).collect();
    let mut out = crate::report::tabular::render_aligned(
        &header,
        &rows,
        &[0, 8],
        crate::report::tabular::Style::markdown_if(markdown),
    );
    out.push('\n');
    out.push_str(&verdict(cands, c));
    out
}

fn row_cells(cand: &Candidate) -> [String; 9] {
    let drop = match (
        cand.accuracy_drop_pts,
        cand.accuracy_drop_ci_low_pts,
        cand.accuracy_drop_ci_high_pts,
    ) {
        (Some(d), Some(l), Some(h)) => format!("{d:.1} ({l:.1} to {h:.1})"),
        (Some(d), _, _) => format!("{d:.1}"),
        _ => "-".into(),
    };
    [
        cand.strategy.clone(),
        cand.k.to_string(),
        format!("${:.4}", cand.cost_per_1k_prompts),
        cand.saving_vs_sequential_pct
            .map_or("-".into(), |v| format!("{v:.1}%")),
        cand.accuracy_pct.map_or("-".into(), |v| format!("{v:.1}%")),
        drop,
        cand.p_value_vs_sequential
            .map_or("-".into(), |p| format!("{p:.3}")),
        format!("{:.0}ms", cand.latency_p95_ms),
        if cand.recommended {
            format!("RECOMMENDED: {}", cand.reason)
        } else {
            cand.reason.clone()
        },
    ]
}

/// The recommendation, how sure it is, and what more prompts would settle.
fn verdict(cands: &[Candidate], c: Constraints) -> String {
    let slo = c.latency_slo.map_or("none".to_string(), |d| {
        format!("{:.0} ms", d.as_secs_f64() * 1000.0)
    });
    let mut out = match cands.iter().find(|c| c.recommended) {
        Some(r) => {
            let sure = match (r.decision, r.accuracy_drop_ci_high_pts) {
                (Decision::Accepted, Some(h)) => format!(
                    "95% confident the accuracy drop is at most {h:.1} pts (allowed {:.1})",
                    c.max_accuracy_drop_pts
                ),
                _ => "accuracy not checked: the dataset has no gold answers".into(),
            };
            format!(
                "Recommendation: {} (K = {}): ${:.4} per 1,000 prompts, accuracy drop {} pts; {sure}; p95 {:.0} ms (SLO {slo}).\n",
                r.strategy,
                r.k,
                r.cost_per_1k_prompts,
                r.accuracy_drop_pts
                    .map_or("n/a".into(), |d| format!("{d:.1}")),
                r.latency_p95_ms
            )
        }
        None => format!(
            "No K is known to meet the constraints (accuracy drop <= {:.1} pts at 95% confidence, cheaper than sequential, p95 SLO {slo}): stay with sequential.\n",
            c.max_accuracy_drop_pts
        ),
    };
    let undecided: Vec<String> = cands
        .iter()
        .filter(|c| c.decision == Decision::Undecided)
        .map(|c| match c.prompts_to_decide {
            Some(n) => format!("{} (about {n} prompts)", c.strategy),
            None => c.strategy.clone(),
        })
        .collect();
    if !undecided.is_empty() {
        out.push_str(&format!(
            "Undecided at this sample size: {}. Rerun with more prompts to decide.\n",
            undecided.join(", ")
        ));
    }
    if let Some(n) = cands
        .iter()
        .filter_map(|c| c.prompts_to_detect_allowed_drop)
        .max()
    {
        out.push_str(&format!(
            "Detecting a drop of {:.1} pts with 80% power (paired McNemar, observed discordance) takes about {n} prompts.\n",
            c.max_accuracy_drop_pts
        ));
    }
    out
}

/// Writes `sweep.csv`.
pub fn write_csv(dir: &Path, cands: &[Candidate]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for c in cands {
        w.serialize(c)
            .map_err(|e| Error::Output(format!("cannot write sweep.csv: {e}")))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Output(format!("cannot write sweep.csv: {e}")))?;
    crate::report::write_atomic(&dir.join("sweep.csv"), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::Nanodollars;

    fn summary(strategy: &str, k: u32, cost: f64, acc: f64, p95: f64) -> StrategySummary {
        let mut s: StrategySummary = serde_json::from_value(serde_json::json!({
            "strategy": strategy, "batch_size": k, "demonstration": false, "requests": 1, "attempts": 1, "prompts": 100,
            "answered": 100, "failed": 0, "input_tokens": 0, "uncached_input_tokens": 0, "cached_tokens": 0,
            "cache_write_tokens": 0, "output_tokens": 0, "client_input_tokens": 0, "input_token_diff": 0,
            "cost_usd": "0.000000000", "cost_per_1k_prompts": cost, "saving_vs_sequential_pct": null, "wall_ms": 0.0,
            "latency_p50_ms": 0.0, "latency_p95_ms": p95, "latency_p99_ms": 0.0, "latency_max_ms": 0.0,
            "prompts_per_s": 0.0, "rate_limited": 0, "retries": 0, "errors": 0, "parse_failures": 0,
            "extra_items": 0, "reasks": 0, "accuracy_pct": acc, "agreement_pct": null
        }))
        .unwrap();
        s.cost_usd = Nanodollars::ZERO;
        s
    }

    /// A summary with a paired comparison: `worse`/`better` discordant of 100 prompts.
    fn paired(
        strategy: &str,
        k: u32,
        cost: f64,
        worse: u64,
        better: u64,
        p95: f64,
    ) -> StrategySummary {
        let t = crate::stats::Paired {
            both: 90 - worse,
            only_baseline: worse,
            only_other: better,
            neither: 10 - better,
        };
        let (l, h) = t.drop_ci().unwrap();
        StrategySummary {
            paired_prompts: Some(100),
            worse_than_sequential: Some(worse),
            better_than_sequential: Some(better),
            accuracy_drop_pts: t.drop().map(|d| d * 100.0),
            accuracy_drop_ci_low_pts: Some(l * 100.0),
            accuracy_drop_ci_high_pts: Some(h * 100.0),
            p_value_vs_sequential: t.mcnemar_p(),
            ..summary(
                strategy,
                k,
                cost,
                90.0 - (worse as f64 - better as f64),
                p95,
            )
        }
    }

    #[test]
    fn decisions_from_the_interval() {
        assert_eq!(
            Decision::from_interval(Some((-1.0, 1.9)), 2.0),
            Decision::Accepted
        );
        assert_eq!(
            Decision::from_interval(Some((-1.0, 2.0)), 2.0),
            Decision::Accepted
        );
        assert_eq!(
            Decision::from_interval(Some((2.1, 9.0)), 2.0),
            Decision::Rejected
        );
        assert_eq!(
            Decision::from_interval(Some((1.0, 9.0)), 2.0),
            Decision::Undecided
        );
        assert_eq!(Decision::from_interval(None, 2.0), Decision::Ungraded);
    }

    #[test]
    fn recommends_only_accepted_and_cheaper_than_sequential() {
        let s = vec![
            summary("sequential", 1, 1.0, 90.0, 100.0),
            // No discordance at all on 100 prompts: interval about ±3.7 pts.
            paired("packed:2", 2, 0.6, 0, 0, 200.0),
            // 20 worse, 0 better: drop 20 pts, clearly beyond 5.
            paired("packed:16", 16, 0.3, 20, 0, 400.0),
            // 3 worse, 1 better: drop 2 pts, interval straddles 5.
            paired("packed:4", 4, 0.5, 3, 1, 300.0),
            // No drop but dearer than sequential.
            paired("packed:1", 1, 1.2, 0, 0, 100.0),
        ];
        let c = Constraints {
            max_accuracy_drop_pts: 5.0,
            latency_slo: None,
        };
        let r = recommend(&s, c, &[]);
        let by = |name: &str| r.iter().find(|c| c.strategy == name).unwrap();
        assert_eq!(by("packed:2").decision, Decision::Accepted);
        assert!(by("packed:2").recommended);
        assert_eq!(by("packed:16").decision, Decision::Rejected);
        assert!(
            by("packed:16")
                .reason
                .starts_with("significant accuracy drop 20.0 pts")
        );
        let four = by("packed:4");
        assert_eq!(four.decision, Decision::Undecided);
        // D = 0.02, ψ = 0.04: 7.848879·(0.04 − 0.0004)/0.03² = 345.3 → 346.
        assert_eq!(four.prompts_to_decide, Some(346));
        assert!(
            four.reason.contains("about 346 prompts would decide it"),
            "{}",
            four.reason
        );
        let dear = by("packed:1");
        assert!(!dear.eligible && dear.reason.contains("costs no less than sequential"));
        let text = render(&r, c, false);
        assert!(text.contains("Recommendation: packed:2"), "{text}");
        assert!(
            text.contains("95% confident the accuracy drop is at most"),
            "{text}"
        );
        assert!(
            text.contains("Undecided at this sample size: packed:4 (about 346 prompts)"),
            "{text}"
        );
        // A tight SLO leaves nothing: stay with sequential, even though packed:1 is "accepted".
        let tight = Constraints {
            max_accuracy_drop_pts: 5.0,
            latency_slo: Some(Duration::from_millis(150)),
        };
        let none = recommend(&s, tight, &[]);
        assert!(none.iter().all(|c| !c.recommended));
        assert!(render(&none, tight, false).contains("stay with sequential"));
        let lowered = recommend(&s, c, &["packed:2".to_string()]);
        assert!(lowered.iter().all(|c| !c.recommended));
    }

    #[test]
    fn parsing() {
        assert_eq!(parse_sizes("8, 1,2").unwrap(), vec![1, 2, 8]);
        assert!(
            parse_sizes("0").is_err() && parse_sizes("2,2").is_err() && parse_sizes("").is_err()
        );
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(
            parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("-1s").is_err() && parse_duration("soon").is_err());
    }
}
