//! The quality table and findings of `report.md` and `report.html`: every accuracy with its
//! 95% interval, the paired comparison with `sequential` and what the run's size can detect.
//! Methods and their sources are in `stats` and `docs/QUALITY.md`.

use super::summary::{BASELINE, REPEAT};
use super::{RunReport, StrategySummary};
use crate::record::PromptRecord;

/// Drop the report sizes its sample-size sentence for (the `sweep` default), points.
pub const REFERENCE_DROP_PTS: f64 = 2.0;

/// Header of the quality table.
pub fn quality_header() -> [&'static str; 6] {
    [
        "strategy",
        "accuracy (95% CI)",
        "drop vs sequential, pts (95% CI)",
        "worse / better",
        "p (McNemar)",
        "agreement (95% CI)",
    ]
}

fn pct_ci(v: Option<f64>, low: Option<f64>, high: Option<f64>) -> String {
    match (v, low, high) {
        (Some(v), Some(l), Some(h)) => format!("{v:.1}% ({l:.1}–{h:.1})"),
        (Some(v), _, _) => format!("{v:.1}%"),
        _ => "-".into(),
    }
}

/// One row of the quality table, matching [`quality_header`].
pub fn quality_cells(s: &StrategySummary) -> [String; 6] {
    let drop = match (
        s.accuracy_drop_pts,
        s.accuracy_drop_ci_low_pts,
        s.accuracy_drop_ci_high_pts,
    ) {
        (Some(d), Some(l), Some(h)) => format!("{d:.1} ({l:.1} to {h:.1})"),
        _ if s.strategy == BASELINE => "baseline".into(),
        _ => "-".into(),
    };
    [
        s.strategy.clone(),
        pct_ci(
            s.accuracy_pct,
            s.accuracy_ci_low_pct,
            s.accuracy_ci_high_pct,
        ),
        drop,
        match (s.worse_than_sequential, s.better_than_sequential) {
            (Some(w), Some(b)) => format!("{w} / {b}"),
            _ => "-".into(),
        },
        s.p_value_vs_sequential
            .map_or("-".into(), |p| format!("{p:.3}")),
        pct_ci(
            s.agreement_pct,
            s.agreement_ci_low_pct,
            s.agreement_ci_high_pct,
        ),
    ]
}

/// Whether the report has any graded paired comparison to show.
pub fn has_quality(report: &RunReport) -> bool {
    report.summaries.iter().any(|s| s.accuracy_pct.is_some())
}

/// Plain-text sentences: which differences are significant, which are within sampling error,
/// and how many prompts would detect a [`REFERENCE_DROP_PTS`] drop.
pub fn quality_findings(report: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    let paired: Vec<&StrategySummary> = report
        .summaries
        .iter()
        .filter(|s| !s.demonstration && s.accuracy_drop_ci_low_pts.is_some())
        .filter(|s| s.strategy != REPEAT)
        .collect();
    let (significant, noise): (Vec<&StrategySummary>, Vec<&StrategySummary>) = paired
        .iter()
        .partition(|s| s.p_value_vs_sequential.is_some_and(|p| p < 0.05));
    for s in &significant {
        out.push(format!(
            "{}: accuracy differs from sequential by {:.1} pts (95% CI {:.1} to {:.1}, McNemar p = {:.3}): not sampling noise.",
            s.strategy,
            s.accuracy_drop_pts.unwrap_or(0.0),
            s.accuracy_drop_ci_low_pts.unwrap_or(0.0),
            s.accuracy_drop_ci_high_pts.unwrap_or(0.0),
            s.p_value_vs_sequential.unwrap_or(1.0)
        ));
    }
    if !noise.is_empty() {
        let names: Vec<String> = noise
            .iter()
            .map(|s| {
                format!(
                    "{} ({:.1} to {:.1})",
                    s.strategy,
                    s.accuracy_drop_ci_low_pts.unwrap_or(0.0),
                    s.accuracy_drop_ci_high_pts.unwrap_or(0.0)
                )
            })
            .collect();
        out.push(format!(
            "Within sampling error of sequential (p ≥ 0.05; 95% CI of the drop in pts): {}.",
            names.join(", ")
        ));
    }
    let needed = paired
        .iter()
        .filter_map(|s| {
            s.discordance()?
                .prompts_to_detect(REFERENCE_DROP_PTS / 100.0)
        })
        .max();
    if let (Some(n), Some(s)) = (needed, paired.first()) {
        out.push(format!(
            "Detecting a {REFERENCE_DROP_PTS:.0}-point accuracy drop with 80% power (paired McNemar, at the discordance observed) takes about {n} prompts; this run had {}.",
            s.paired_prompts.unwrap_or(0)
        ));
    }
    out.extend(noise_floor(report, &paired));
    out.extend(position_lines(&report.prompts));
    out
}

/// With `--repeat-baseline`: how much `sequential` moved against itself, and which strategies
/// differ from it by no more than that.
fn noise_floor(report: &RunReport, paired: &[&StrategySummary]) -> Vec<String> {
    let Some(r) = report.summaries.iter().find(|s| s.strategy == REPEAT) else {
        return Vec::new();
    };
    let Some(agreement) = r.agreement_pct else {
        return Vec::new();
    };
    // Answers that change on x% of prompts can move accuracy by up to x points.
    let floor = 100.0 - agreement;
    let mut out = vec![format!(
        "Noise floor: sequential sent twice gave the same answer on {agreement:.1}% of prompts (95% CI {:.1}–{:.1}); its accuracy moved by {} pts.",
        r.agreement_ci_low_pct.unwrap_or(0.0),
        r.agreement_ci_high_pct.unwrap_or(100.0),
        r.accuracy_drop_pts
            .map_or("n/a".into(), |d| format!("{:.1}", 0.0 - d + 0.0))
    )];
    let within: Vec<&str> = paired
        .iter()
        .filter(|s| s.accuracy_drop_pts.is_some_and(|d| d.abs() <= floor))
        .map(|s| s.strategy.as_str())
        .collect();
    if floor > 0.0 && !within.is_empty() {
        out.push(format!(
            "Warning: the accuracy differences of {} are within that noise floor ({floor:.1} pts): sequential differs from itself as much.",
            within.join(", ")
        ));
    }
    out
}

/// Accuracy by slot within the pack for one packed strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionAccuracy {
    /// Strategy id.
    pub strategy: String,
    /// `(graded, correct)` prompts at slot 1, 2, … K.
    pub slots: Vec<(u64, u64)>,
    /// Prompts re-asked individually (their id was missing or unusable in the packed answer).
    pub reasked: u64,
    /// Prompts in the strategy.
    pub prompts: u64,
}

/// Accuracy by pack slot per packed strategy, in the order the strategies appear: shows whether
/// the middle of a long pack is answered worse than its ends.
pub fn position_accuracy(prompts: &[PromptRecord]) -> Vec<PositionAccuracy> {
    let mut out: Vec<PositionAccuracy> = Vec::new();
    for p in prompts {
        let Some(pos) = p.pack_position.filter(|&k| k > 0) else {
            continue;
        };
        let i = match out.iter().position(|a| a.strategy == p.strategy) {
            Some(i) => i,
            None => {
                out.push(PositionAccuracy {
                    strategy: p.strategy.clone(),
                    slots: Vec::new(),
                    reasked: 0,
                    prompts: 0,
                });
                out.len() - 1
            }
        };
        let a = &mut out[i];
        a.prompts += 1;
        a.reasked += u64::from(p.reasked);
        let slot = pos as usize - 1;
        if a.slots.len() <= slot {
            a.slots.resize(slot + 1, (0, 0));
        }
        if let Some(c) = p.correct {
            a.slots[slot].0 += 1;
            a.slots[slot].1 += u64::from(c);
        }
    }
    out
}

/// One plain-text line per packed strategy: accuracy at each slot and the re-ask rate.
pub fn position_lines(prompts: &[PromptRecord]) -> Vec<String> {
    position_accuracy(prompts)
        .iter()
        .filter(|a| a.slots.iter().any(|s| s.0 > 0))
        .map(|a| {
            let slots: Vec<String> = a
                .slots
                .iter()
                .enumerate()
                .map(|(i, &(n, c))| match n {
                    0 => format!("{}: -", i + 1),
                    _ => format!("{}: {:.0}%", i + 1, c as f64 * 100.0 / n as f64),
                })
                .collect();
            format!(
                "{}: accuracy by slot {}; re-asked {} of {} prompts ({:.1}%).",
                a.strategy,
                slots.join(", "),
                a.reasked,
                a.prompts,
                a.reasked as f64 * 100.0 / a.prompts.max(1) as f64
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(strategy: &str, pos: Option<u32>, correct: Option<bool>, reasked: bool) -> PromptRecord {
        PromptRecord {
            strategy: strategy.into(),
            prompt_id: "p".into(),
            request_id: "r".into(),
            request_prompts: 2,
            status: crate::record::PromptStatus::Answered,
            reasked,
            input_tokens: 0,
            cached_tokens: 0,
            cache_write_tokens: 0,
            output_tokens: 0,
            client_input_tokens: 0,
            cost_usd: crate::pricing::Nanodollars::ZERO,
            batch_priced: false,
            latency_ms: 0.0,
            ttft_ms: None,
            answer: None,
            gold: None,
            correct,
            agrees_with_sequential: None,
            error: None,
            pack_position: pos,
            vector_cosine: None,
            reasoning_tokens: 0,
        }
    }

    #[test]
    fn accuracy_by_slot() {
        let rows = vec![
            row("sequential", None, Some(true), false),
            row("packed:2", Some(1), Some(true), false),
            row("packed:2", Some(2), Some(false), true),
            row("packed:2", Some(1), Some(false), false),
            row("packed:2", Some(2), None, false),
        ];
        let a = position_accuracy(&rows);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].slots, vec![(2, 1), (1, 0)]);
        assert_eq!((a[0].reasked, a[0].prompts), (1, 4));
        assert_eq!(
            position_lines(&rows),
            vec![
                "packed:2: accuracy by slot 1: 50%, 2: 0%; re-asked 1 of 4 prompts (25.0%)."
                    .to_string()
            ]
        );
    }
}
