//! `batchbench sweep`: runs `packed:K` and `batch-api+packed:K` for several K next to
//! `sequential`, and recommends the K with the lowest cost per prompt that keeps accuracy within
//! the allowed drop, p95 latency under the SLO, and every request inside the context window.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::report::StrategySummary;
use crate::report::summary::RunStatus;
use crate::strategy::StrategySpec;

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
    /// Sequential's accuracy minus this one, points.
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

/// Parses `1,2,4,8` into sizes, each 1..=10,000, no duplicates.
pub fn parse_sizes(s: &str) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let k: usize = part
            .parse()
            .map_err(|_| Error::Usage(format!("--sizes: {part:?} is not a whole number")))?;
        if k == 0 || k > crate::strategy::MAX_FACTOR {
            return Err(Error::Usage(format!(
                "--sizes: {k} must be between 1 and {}",
                crate::strategy::MAX_FACTOR
            )));
        }
        if out.contains(&k) {
            return Err(Error::Usage(format!("--sizes: {k} is listed twice")));
        }
        out.push(k);
    }
    if out.is_empty() {
        return Err(Error::Usage(
            "--sizes: give at least one size, e.g. 1,2,4,8".into(),
        ));
    }
    out.sort_unstable();
    Ok(out)
}

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
/// model's limits (their requests would not fit as asked).
pub fn recommend(
    summaries: &[StrategySummary],
    c: Constraints,
    lowered: &[String],
) -> Vec<Candidate> {
    let baseline_acc = summaries
        .iter()
        .find(|s| s.strategy == crate::strategy::BASELINE)
        .and_then(|s| s.accuracy_pct);
    let mut out: Vec<Candidate> = summaries
        .iter()
        .filter(|s| s.strategy != crate::strategy::BASELINE)
        .map(|s| {
            let drop = match (baseline_acc, s.accuracy_pct) {
                (Some(b), Some(a)) => Some(b - a),
                _ => None,
            };
            let mut reasons = Vec::new();
            if let Some(d) = drop {
                if d > c.max_accuracy_drop_pts {
                    reasons.push(format!(
                        "accuracy drop {d:.1} pts > {:.1} pts allowed",
                        c.max_accuracy_drop_pts
                    ));
                }
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
            Candidate {
                strategy: s.strategy.clone(),
                k: s.batch_size,
                cost_per_1k_prompts: s.cost_per_1k_prompts,
                saving_vs_sequential_pct: s.saving_vs_sequential_pct,
                accuracy_pct: s.accuracy_pct,
                accuracy_drop_pts: drop,
                latency_p95_ms: s.latency_p95_ms,
                failed: s.failed,
                eligible: reasons.is_empty(),
                recommended: false,
                reason: reasons.join("; "),
            }
        })
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

/// Renders the sweep table and the verdict.
pub fn render(cands: &[Candidate], c: Constraints, markdown: bool) -> String {
    let mut out = String::new();
    let slo = c.latency_slo.map_or("none".to_string(), |d| {
        format!("{:.0} ms", d.as_secs_f64() * 1000.0)
    });
    if markdown {
        out.push_str("| strategy | K | cost / 1k | saving | accuracy | drop | p95 | verdict |\n|---|---:|---:|---:|---:|---:|---:|---|\n");
    } else {
        out.push_str(&format!(
            "{:<24} {:>4} {:>11} {:>8} {:>9} {:>8} {:>9}  {}\n",
            "strategy", "K", "cost/1k", "saving", "accuracy", "drop", "p95", "verdict"
        ));
    }
    for cand in cands {
        let cells = [
            cand.strategy.clone(),
            cand.k.to_string(),
            format!("${:.4}", cand.cost_per_1k_prompts),
            cand.saving_vs_sequential_pct
                .map_or("-".into(), |v| format!("{v:.1}%")),
            cand.accuracy_pct.map_or("-".into(), |v| format!("{v:.1}%")),
            cand.accuracy_drop_pts
                .map_or("-".into(), |v| format!("{v:.1}")),
            format!("{:.0}ms", cand.latency_p95_ms),
            if cand.recommended {
                format!("RECOMMENDED: {}", cand.reason)
            } else {
                cand.reason.clone()
            },
        ];
        if markdown {
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        } else {
            out.push_str(&format!(
                "{:<24} {:>4} {:>11} {:>8} {:>9} {:>8} {:>9}  {}\n",
                cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6], cells[7]
            ));
        }
    }
    out.push('\n');
    match cands.iter().find(|c| c.recommended) {
        Some(r) => out.push_str(&format!(
            "Recommendation: {} (K = {}): ${:.4} per 1,000 prompts, accuracy drop {} pts (allowed {:.1}), p95 {:.0} ms (SLO {slo}).\n",
            r.strategy,
            r.k,
            r.cost_per_1k_prompts,
            r.accuracy_drop_pts.map_or("n/a".into(), |d| format!("{d:.1}")),
            c.max_accuracy_drop_pts,
            r.latency_p95_ms
        )),
        None => out.push_str(&format!(
            "No K meets the constraints (accuracy drop <= {:.1} pts, p95 SLO {slo}): stay with sequential, or relax them.\n",
            c.max_accuracy_drop_pts
        )),
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

    #[test]
    fn picks_cheapest_within_constraints_and_explains_the_rest() {
        let s = vec![
            summary("sequential", 1, 1.0, 96.0, 100.0),
            summary("packed:4", 4, 0.5, 95.5, 200.0),
            summary("packed:16", 16, 0.3, 93.0, 400.0),
            summary("batch-api+packed:4", 4, 0.25, 95.0, 5000.0),
        ];
        let c = Constraints {
            max_accuracy_drop_pts: 2.0,
            latency_slo: None,
        };
        let r = recommend(&s, c, &[]);
        assert_eq!(
            r.iter().find(|c| c.recommended).unwrap().strategy,
            "batch-api+packed:4"
        );
        assert!(r[1].reason.starts_with("accuracy drop 3.0 pts"));
        let tight = Constraints {
            max_accuracy_drop_pts: 0.6,
            latency_slo: Some(Duration::from_secs(1)),
        };
        let r = recommend(&s, tight, &[]);
        assert_eq!(
            r.iter().find(|c| c.recommended).unwrap().strategy,
            "packed:4"
        );
        assert!(r[2].reason.contains("p95 5000 ms > SLO 1000 ms"));
        let none = recommend(
            &s,
            Constraints {
                max_accuracy_drop_pts: 0.1,
                latency_slo: None,
            },
            &[],
        );
        assert!(none.iter().all(|c| !c.recommended));
        assert!(render(&none, c, false).contains("No K meets"));
        let lowered = recommend(&s, c, &["batch-api+packed:4".to_string()]);
        assert_eq!(
            lowered.iter().find(|c| c.recommended).unwrap().strategy,
            "packed:4"
        );
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
