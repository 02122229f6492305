//! The quality table and findings of `report.md` and `report.html`: every accuracy with its
//! 95% interval, the paired comparison with `sequential` and what the run's size can detect.
//! Methods and their sources are in `stats` and `docs/QUALITY.md`.

use super::{RunReport, StrategySummary, summary::BASELINE};

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
            "Within sampling error of sequential (p >= 0.05; 95% CI of the drop in pts): {}.",
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
    out
}
