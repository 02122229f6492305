//! `report.md`: a short report that fits a pull-request comment and `$GITHUB_STEP_SUMMARY`:
//! run facts, the summary table, what the numbers mean, and warnings. Every number in it is a
//! field of `summary.csv` (or `run.json`), printed.

use super::summary::RunStatus;
use super::{Exporter, RunReport, StrategySummary};
use crate::error::Result;
use crate::pricing::Nanodollars;

/// Writes `report.md`.
#[derive(Debug, Clone, Copy)]
pub struct ReportMarkdown;

impl Exporter for ReportMarkdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn serialize(&self, report: &RunReport) -> Result<Vec<u8>> {
        Ok(render(report).into_bytes())
    }
}

/// Escapes text from data for a Markdown table cell or list item: no pipes, no HTML, one line.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push('\''),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A percentage with one decimal, or `-` when unknown.
pub fn fmt_pct(v: Option<f64>) -> String {
    match v {
        Some(p) if p.is_finite() => format!("{p:.1}%"),
        _ => "-".into(),
    }
}

/// Saving versus sequential: `+50.0%` (cheaper), `-3.2%` (dearer), `0.0%`, or `-` without a baseline.
pub fn fmt_saving(v: Option<f64>) -> String {
    match v {
        Some(p) if p.is_finite() && p.abs() < 0.05 => "0.0%".into(),
        Some(p) if p.is_finite() => format!("{p:+.1}%"),
        _ => "-".into(),
    }
}

/// Milliseconds for people: `850ms`, `12.3s`, `4.2min`.
pub fn fmt_ms(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v >= 120_000.0 {
        format!("{:.1}min", v / 60_000.0)
    } else if v >= 10_000.0 {
        format!("{:.1}s", v / 1000.0)
    } else {
        format!("{v:.0}ms")
    }
}

/// Cost per 1,000 prompts, printed like a cost (rounded to the nano-dollar first).
pub fn fmt_per_1k(s: &StrategySummary) -> String {
    Nanodollars::from_usd(s.cost_per_1k_prompts).to_string()
}

pub use super::format::fmt_int;

/// The strategy's name, marked when it is the demonstration or did not finish.
pub fn strategy_label(s: &StrategySummary) -> String {
    let mut label = s.strategy.clone();
    if s.demonstration {
        // It loses answers by design; that is its result, not a failure.
        label.push_str(" (demonstration)");
        return label;
    }
    match s.status {
        RunStatus::Complete => {}
        RunStatus::Partial => label.push_str(" (partial)"),
        RunStatus::Failed => label.push_str(" (FAILED)"),
    }
    label
}

/// The strategies that failed, in run order.
pub fn failed_names(report: &RunReport) -> Vec<String> {
    report
        .summaries
        .iter()
        .filter(|s| s.status == RunStatus::Failed)
        .map(|s| s.strategy.clone())
        .collect()
}

/// One plain-text line per strategy that did not complete: its status and why, and how to
/// finish it.
pub fn unfinished(report: &RunReport) -> Vec<String> {
    let mut out: Vec<String> = report
        .summaries
        .iter()
        .filter(|s| s.status != RunStatus::Complete && !s.demonstration)
        .map(|s| {
            format!(
                "{} {} ({}/{} answered): {}",
                s.strategy,
                s.status.as_str(),
                s.answered,
                s.prompts,
                s.failure.as_deref().unwrap_or("no reason recorded")
            )
        })
        .collect();
    let resumable = report.summaries.iter().any(|s| {
        s.status != RunStatus::Complete
            && !s.demonstration
            && !s.failure.as_deref().is_some_and(crate::advice::not_offered)
    });
    if !resumable {
        return out;
    }
    if !out.is_empty() && report.info.task.as_deref() == Some("embed") {
        out.push(format!(
            "Once the cause is fixed, `batchbench run --resume {}` runs the embedding strategies again (all of them: embedding runs keep no journal).",
            report.info.run_id
        ));
    } else if !out.is_empty() {
        out.push(format!(
            "Once the cause is fixed, `batchbench run --resume {}` runs the strategies that failed; the finished ones are kept.",
            report.info.run_id
        ));
    }
    out
}

/// The cells of the summary table shared by `report.md` and `report.html` (raw text, unescaped).
pub fn summary_header() -> [&'static str; 16] {
    [
        "strategy",
        "cost",
        "per 1k prompts",
        "saving",
        "requests",
        "answered",
        "uncached in",
        "cached in",
        "cache write",
        "output",
        "p50",
        "p95",
        "accuracy",
        "agreement",
        "re-asks",
        "parse failures",
    ]
}

/// One row of the summary table, matching [`summary_header`].
pub fn summary_cells(s: &StrategySummary) -> [String; 16] {
    [
        strategy_label(s),
        s.cost_usd.to_string(),
        fmt_per_1k(s),
        if s.strategy == crate::strategy::BASELINE {
            "baseline".into()
        } else {
            fmt_saving(s.saving_vs_sequential_pct)
        },
        fmt_int(s.requests),
        format!("{}/{}", s.answered, s.prompts),
        fmt_int(s.uncached_input_tokens),
        fmt_int(s.cached_tokens),
        fmt_int(s.cache_write_tokens),
        fmt_int(s.output_tokens),
        fmt_ms(s.latency_p50_ms),
        fmt_ms(s.latency_p95_ms),
        fmt_pct(s.accuracy_pct),
        fmt_pct(s.agreement_pct),
        fmt_int(s.reasks),
        fmt_int(s.parse_failures),
    ]
}

/// The "what this means" sentences, computed from the summaries only: the cheapest strategy that
/// answered every prompt and its saving, the largest accuracy drop versus sequential, the range
/// of p95 latency, re-asks and parse failures, and what the `naive-multi-message` demonstration
/// lost. Plain text (no Markdown), so that every format can use them.
pub fn findings(report: &RunReport) -> Vec<String> {
    let all = &report.summaries;
    let mut out = Vec::new();
    if all.is_empty() {
        out.push("No strategy ran.".to_string());
        return out;
    }
    let failed = failed_names(report);
    if !failed.is_empty() {
        out.push(format!(
            "Not results: {} failed (reasons under \"Did not finish\"); nothing below compares against {}.",
            failed.join(", "),
            if failed.len() == 1 { "it" } else { "them" }
        ));
    }
    let real: Vec<&StrategySummary> = all
        .iter()
        .filter(|s| !s.demonstration && s.status != RunStatus::Failed)
        .collect();
    let baseline = all
        .iter()
        .find(|s| s.strategy == crate::strategy::BASELINE && s.status != RunStatus::Failed);
    cost_findings(&real, baseline, &mut out);
    accuracy_findings(&real, baseline, &mut out);
    latency_findings(&real, &mut out);
    // Re-asks and parse failures.
    let reasks: u64 = real.iter().map(|s| s.reasks).sum();
    let parse: u64 = real.iter().map(|s| s.parse_failures).sum();
    if reasks > 0 || parse > 0 {
        out.push(format!(
            "Packed answers: {parse} could not be parsed and {reasks} prompts were re-asked individually (re-asks are included in cost and latency)."
        ));
    }

    // The demonstration.
    for s in all.iter().filter(|s| s.demonstration) {
        let lost = if s.prompts > 0 {
            s.failed as f64 * 100.0 / s.prompts as f64
        } else {
            0.0
        };
        out.push(format!(
            "{} is a demonstration of a mistaken method: several user messages in one request get one reply, not one per message. It lost {} of {} answers ({:.1}%).",
            s.strategy, s.failed, s.prompts, lost
        ));
    }

    out.extend(super::economics::packing_findings(report));
    out.extend(super::economics::time_findings(report));
    out.extend(super::tiers::tier_findings(report));
    out.extend(super::cache::cache_findings(report));

    if report.info.simulated {
        out.push("Latency and answer quality were simulated by the built-in mock; token counts and prices are computed as for a real API.".to_string());
    }
    out
}

/// The cheapest strategy that answered everything, against sequential; a cheaper one that did not.
fn cost_findings(
    real: &[&StrategySummary],
    baseline: Option<&StrategySummary>,
    out: &mut Vec<String>,
) {
    let complete = |s: &StrategySummary| s.prompts > 0 && s.answered == s.prompts;
    let cheapest = real
        .iter()
        .copied()
        .filter(|s| complete(s))
        .min_by_key(|s| s.cost_usd);
    match (cheapest, baseline) {
        (Some(c), Some(b)) if c.strategy != b.strategy && c.cost_usd < b.cost_usd => out.push(format!(
            "Cheapest strategy that answered every prompt: {} at {} ({} per 1,000 prompts), {:.1}% less than sequential ({}).",
            c.strategy,
            c.cost_usd,
            fmt_per_1k(c),
            c.saving_vs_sequential_pct.unwrap_or(0.0),
            b.cost_usd
        )),
        (Some(_), Some(b)) => {
            out.push(format!("No strategy that answered every prompt cost less than sequential ({}).", b.cost_usd))
        }
        (Some(c), None) => out.push(format!(
            "Cheapest strategy that answered every prompt: {} at {} ({} per 1,000 prompts); without a sequential run no saving is computed.",
            c.strategy,
            c.cost_usd,
            fmt_per_1k(c)
        )),
        (None, _) => out.push("No strategy answered every prompt.".to_string()),
    }
    if let Some(c) = cheapest {
        let cheaper_incomplete = real
            .iter()
            .filter(|s| !complete(s) && s.cost_usd < c.cost_usd)
            .min_by_key(|s| s.cost_usd);
        if let Some(s) = cheaper_incomplete {
            out.push(format!(
                "{} cost less ({}) but left {} of {} prompts unanswered.",
                s.strategy, s.cost_usd, s.failed, s.prompts
            ));
        }
    }
}

/// The largest accuracy drop versus sequential, or that there was none to measure.
fn accuracy_findings(
    real: &[&StrategySummary],
    baseline: Option<&StrategySummary>,
    out: &mut Vec<String>,
) {
    let graded: Vec<&&StrategySummary> = real
        .iter()
        .filter(|s| s.accuracy_pct.is_some_and(f64::is_finite))
        .collect();
    if graded.is_empty() {
        out.push("Accuracy was not measured: the dataset has no gold answers.".to_string());
    } else if let Some(a0) = baseline
        .and_then(|b| b.accuracy_pct)
        .filter(|a| a.is_finite())
    {
        let worst = graded
            .iter()
            .filter(|s| s.strategy != crate::strategy::BASELINE)
            .filter_map(|s| s.accuracy_pct.map(|a| (s, a0 - a)))
            .max_by(|x, y| x.1.total_cmp(&y.1));
        match worst {
            Some((s, drop)) if drop >= 0.05 => out.push(format!(
                "Largest accuracy drop: {}, {:.1}% against {:.1}% for sequential ({:.1} points lower).",
                s.strategy,
                a0 - drop,
                a0,
                drop
            )),
            _ => out.push(format!("No strategy lost accuracy against sequential ({a0:.1}%).")),
        }
    }
}

/// The range of p95 latency, and time to first token where streamed.
fn latency_findings(real: &[&StrategySummary], out: &mut Vec<String>) {
    let timed: Vec<&&StrategySummary> = real
        .iter()
        .filter(|s| s.answered > 0 && s.latency_p95_ms.is_finite())
        .collect();
    let fast = timed
        .iter()
        .min_by(|a, b| a.latency_p95_ms.total_cmp(&b.latency_p95_ms));
    let slow = timed
        .iter()
        .max_by(|a, b| a.latency_p95_ms.total_cmp(&b.latency_p95_ms));
    if let (Some(f), Some(s)) = (fast, slow) {
        if f.strategy != s.strategy {
            out.push(format!(
                "p95 latency per prompt ranges from {} ({}) to {} ({}).",
                fmt_ms(f.latency_p95_ms),
                f.strategy,
                fmt_ms(s.latency_p95_ms),
                s.strategy
            ));
        }
    }

    let streamed: Vec<String> = real
        .iter()
        .filter_map(|s| {
            s.ttft_p50_ms.map(|t| {
                let rate = s
                    .output_tokens_per_s
                    .map_or(String::new(), |r| format!(", {r:.0} output tokens/s"));
                format!("{} {}{rate}", s.strategy, fmt_ms(t))
            })
        })
        .collect();
    if !streamed.is_empty() {
        out.push(format!(
            "Streamed: median time to first token {}.",
            streamed.join("; ")
        ));
    }
}

fn short_sha(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

/// The quality table: accuracy and agreement with their 95% intervals, the paired comparison.
fn render_quality(report: &RunReport, out: &mut String) {
    use super::quality::{quality_cells, quality_header};
    let header = quality_header();
    out.push_str("\n### Quality, with sampling error\n\n");
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!("|---|{}\n", "---:|".repeat(header.len() - 1)));
    for s in &report.summaries {
        let cells: Vec<String> = quality_cells(s).iter().map(|c| md_escape(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push_str("\nAccuracy intervals are Wilson score intervals; the drop is sequential minus the strategy on the same prompts, with Newcombe's paired score interval and the exact McNemar p-value (see docs/QUALITY.md).\n");
}

fn per_minute(used: Option<f64>, limit: Option<u64>) -> String {
    match (used, limit) {
        (Some(u), Some(l)) => format!("{u:.0} of {}", fmt_int(l)),
        (Some(u), None) => format!("{u:.0}"),
        _ => "-".into(),
    }
}

/// Embedding runs: vector agreement with `embed:sequential` and the rate limits used.
fn render_vectors(report: &RunReport, out: &mut String) {
    let rows: Vec<&StrategySummary> = report
        .summaries
        .iter()
        .filter(|s| s.vector_cosine_min.is_some())
        .collect();
    if rows.is_empty() {
        return;
    }
    let tolerance = report.info.vector_tolerance.unwrap_or(f64::NAN);
    out.push_str("\n### Vector agreement and rate limits\n\n");
    out.push_str("| strategy | lowest cosine | p01 | mean | flagged | requests/min used of limit | tokens/min used of limit |\n|---|---:|---:|---:|---|---:|---:|\n");
    let cos = |v: Option<f64>| v.map_or("-".into(), |c| format!("{c:.6}"));
    for s in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            md_escape(&s.strategy),
            cos(s.vector_cosine_min),
            cos(s.vector_cosine_p01),
            cos(s.vector_cosine_mean),
            if s.vector_flagged == Some(true) {
                "**yes**"
            } else {
                "no"
            },
            per_minute(s.rpm_used, s.rpm_limit),
            per_minute(s.tpm_used, s.tpm_limit),
        ));
    }
    out.push_str(&format!(
        "\nCosine of each text's vector with its embed:sequential vector; flagged below {tolerance} (`--vector-tolerance`). Used rates are per minute of each strategy's wall time; limits are the lowest the server reported (x-ratelimit-limit-*).\n"
    ));
}

/// The Batch API table's header (report.md and report.html).
pub const BATCH_HEADER: [&str; 6] = [
    "strategy",
    "batches",
    "turnaround p50",
    "turnaround p95",
    "expired",
    "failed or cancelled",
];

/// What the Batch API table says about turnaround and expiry, under it.
pub const BATCH_NOTE: &str = "Turnaround: from a batch's creation to its results downloaded. Each job's states, with the time a poll first saw each, are in requests.csv (`batch_states` of its `batch_job` row). An expired batch's finished requests are kept and billed at batch rates; only the unfinished ones are sent again, as ordinary requests.";

/// One Batch API strategy's row, `None` for strategies that sent no batch.
pub fn batch_cells(s: &StrategySummary) -> Option<[String; 6]> {
    let ms = |v: Option<f64>| v.map_or("-".into(), fmt_ms);
    let n = |v: Option<u64>| v.map_or("-".into(), fmt_int);
    Some([
        s.strategy.clone(),
        n(Some(s.batches?)),
        ms(s.batch_turnaround_p50_ms),
        ms(s.batch_turnaround_p95_ms),
        n(s.batches_expired),
        n(s.batches_failed),
    ])
}

/// Batch API strategies: how long their jobs took and how they ended.
fn render_batches(report: &RunReport, out: &mut String) {
    let rows: Vec<[String; 6]> = report.summaries.iter().filter_map(batch_cells).collect();
    if rows.is_empty() {
        return;
    }
    out.push_str("\n### Batch API jobs\n\n");
    out.push_str(&format!(
        "| {} |\n|---|---:|---:|---:|---:|---:|\n",
        BATCH_HEADER.join(" | ")
    ));
    for cells in rows {
        let cells: Vec<String> = cells.iter().map(|c| md_escape(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push_str(&format!("\n{BATCH_NOTE}\n"));
}

/// Renders `report.md`.
pub fn render(report: &RunReport) -> String {
    let i = &report.info;
    let e = md_escape;
    let mut out = String::new();
    out.push_str(&format!(
        "## batchbench: {} on {} {}\n\n",
        e(&i.dataset),
        e(&i.provider),
        e(&i.model)
    ));
    if i.simulated {
        out.push_str("> **Simulated by the built-in mock**: latency and answer quality are simulated, not measured on a real model.\n\n");
    }
    let endpoint = if i.simulated {
        "built-in mock".to_string()
    } else {
        e(&i.endpoint)
    };
    out.push_str(&format!(
        "- **Model**: {} ({}, {})\n",
        e(&i.model),
        e(&i.provider),
        endpoint
    ));
    out.push_str(&format!(
        "- **Dataset**: {} ({} prompts{}), sha256 {}\n",
        e(&i.dataset),
        i.prompts,
        i.shard
            .as_deref()
            .map(|s| format!(", shard {}", e(s)))
            .unwrap_or_default(),
        e(short_sha(&i.dataset_sha256))
    ));
    out.push_str(&format!(
        "- **Seed**: {} · **run** {} · batchbench {}\n",
        i.seed,
        e(&i.run_id),
        e(&i.tool_version)
    ));
    let overrides = i
        .price_overrides
        .as_deref()
        .map(|o| format!(", overrides {}", e(o)))
        .unwrap_or_default();
    out.push_str(&format!(
        "- **Prices**: {}{} as of {}\n\n",
        e(&i.price_source),
        overrides,
        e(&i.started_at)
    ));

    let header = summary_header();
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!(
        "|{}\n",
        (0..header.len())
            .map(|c| if c == 0 { "---|" } else { "---:|" })
            .collect::<String>()
    ));
    for s in &report.summaries {
        let cells: Vec<String> = summary_cells(s).iter().map(|c| e(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push_str("\nTokens are input tokens (uncached, cached, cache write) and output tokens; p50/p95 are per-prompt latencies of answered prompts; saving is versus sequential.\n");

    let unfinished = unfinished(report);
    if !unfinished.is_empty() {
        out.push_str("\n### Did not finish\n\n");
        for line in &unfinished {
            out.push_str(&format!("- {}\n", e(line)));
        }
    }

    if super::quality::has_quality(report) {
        render_quality(report, &mut out);
    }
    render_vectors(report, &mut out);
    render_batches(report, &mut out);
    out.push_str("\n### What this means\n\n");
    for f in findings(report)
        .into_iter()
        .chain(super::quality::quality_findings(report))
    {
        out.push_str(&format!("- {}\n", e(&f)));
    }
    if !i.warnings.is_empty() {
        out.push_str("\n### Warnings\n\n");
        for w in i.warnings.iter().take(10) {
            out.push_str(&format!("- {}\n", e(w)));
        }
        if i.warnings.len() > 10 {
            out.push_str(&format!(
                "- … and {} more (see run.json)\n",
                i.warnings.len() - 10
            ));
        }
    }
    out.push_str(
        "\n<sub>Every number here recomputes from prompts.csv and requests.csv (see summary.csv); charts in charts/, full report in report.html.</sub>\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_saving(Some(50.0)), "+50.0%");
        assert_eq!(fmt_saving(Some(-3.25)), "-3.2%");
        assert_eq!(fmt_saving(Some(0.01)), "0.0%");
        assert_eq!(fmt_saving(None), "-");
        assert_eq!(fmt_saving(Some(f64::NAN)), "-");
        assert_eq!(fmt_pct(Some(96.04)), "96.0%");
        assert_eq!(fmt_ms(850.4), "850ms");
        assert_eq!(fmt_ms(12_345.0), "12.3s");
        assert_eq!(fmt_ms(300_000.0), "5.0min");
        assert_eq!(fmt_int(1_234_567), "1,234,567");
        assert_eq!(fmt_int(12), "12");
        assert_eq!(md_escape("a|b<c>\nd`"), "a\\|b&lt;c&gt; d'");
    }
}
