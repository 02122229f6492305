//! `report.html`: one self-contained page (inline CSS, the SVG charts inline, no script, no
//! external URL) that opens offline and prints: run facts, the summary table, the findings, the
//! charts, details per strategy, and samples of failed and wrong answers. Built with maud, which
//! escapes every interpolated value; only the charts' SVG and the fixed CSS go in unescaped.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::charts::{self, ChartData, ChartKind};
use super::markdown::{findings, fmt_int, fmt_ms, summary_cells, summary_header, unfinished};
use super::summary::{RunStatus, StrategySummary};
use super::{Exporter, RunReport};
use crate::error::Result;
use crate::record::PromptRecord;

/// At most this many rows in each of the "not answered" and "wrong answers" tables.
pub const MAX_SAMPLE_ROWS: usize = 30;

/// Writes `report.html`.
#[derive(Debug, Clone, Copy)]
pub struct ReportHtml;

impl Exporter for ReportHtml {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn serialize(&self, report: &RunReport) -> Result<Vec<u8>> {
        Ok(render(report).into_bytes())
    }
}

/// Shortens long data text (answers, errors) for a table cell, on a character boundary.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

const CSS: &str = r#"
:root { --text:#212529; --muted:#646a70; --line:#dee2e6; --bg:#f8f9fa; --accent:#0072b2; --warn:#fff3cd; --warn-line:#e0b400; }
* { box-sizing: border-box; }
body { margin:0; font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color:var(--text); background:#fff; line-height:1.45; font-size:15px; }
main { max-width: 1320px; margin: 0 auto; padding: 22px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0 0 16px; font-size: 16px; }
.banner { background: var(--warn); border: 1px solid var(--warn-line); border-left: 6px solid var(--warn-line); padding: 10px 14px; margin: 12px 0 18px; border-radius: 4px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 3px 18px; margin: 0; background: var(--bg); padding: 12px 16px; border-radius: 6px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0; }
th, td { padding: 4px 6px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: var(--bg); font-weight: 600; border-bottom: 2px solid var(--line); white-space: normal; vertical-align: bottom; }
table.summary .badge { display: block; width: max-content; margin: 2px 0 0; }
th:first-child, td:first-child { text-align: left; }
table.samples th { text-align: left; }
td.text { text-align: left; white-space: normal; max-width: 420px; overflow-wrap: anywhere; }
tr.demo td { color: var(--muted); font-style: italic; }
.badge { display: inline-block; font-size: 11px; font-style: normal; padding: 1px 6px; margin-left: 6px; border-radius: 8px; background: #e9ecef; color: #495057; border: 1px solid #ced4da; }
.badge.failed { background: #f8d7da; color: #842029; border-color: #f5c2c7; }
.note { color: var(--muted); font-size: 13px; margin: 6px 0; }
ul.findings li { margin: 4px 0; }
.charts { display: grid; grid-template-columns: 1fr; gap: 22px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; background: #fff; }
figure svg { display: block; width: 100%; max-width: 1040px; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 13px; padding: 6px 6px 2px; }
footer { margin-top: 36px; color: var(--muted); font-size: 13px; border-top: 1px solid var(--line); padding-top: 10px; }
@media (max-width: 900px) { dl.facts { grid-template-columns: max-content 1fr; } }
@media (min-width: 1900px) { .charts { grid-template-columns: 1fr 1fr; } }
@media print {
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  .scroll { overflow: visible; }
  table { font-size: 10px; }
  th, td { padding: 2px 4px; }
  figure, tr, .banner { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .banner { background: none; }
}
"#;

/// Renders `report.html`.
pub fn render(report: &RunReport) -> String {
    let i = &report.info;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "batchbench: " (i.dataset) " on " (i.provider) " " (i.model) }
                style { (PreEscaped(CSS)) }
            }
            body {
                main {
                    (title_and_banner(report))
                    (facts(report))
                    (summary_section(report))
                    (unfinished_section(report))
                    @if super::quality::has_quality(report) { (quality_section(report)) }
                    (findings_section(report))
                    (batches_section(report))
                    (charts_section(report))
                    (details_section(report))
                    (unanswered_section(report))
                    (wrong_section(report))
                    footer {
                        "Written by batchbench " (i.tool_version) ". Every number on this page recomputes from "
                        span.mono { "prompts.csv" } " and " span.mono { "requests.csv" }
                        " in this folder (see " span.mono { "summary.csv" } ", " span.mono { "report.json" }
                        " and docs/REPORTS.md)."
                    }
                }
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
    out
}

fn title_and_banner(report: &RunReport) -> Markup {
    let i = &report.info;
    let scale = i
        .mock_time_scale
        .map(|t| format!(" (time scale {t})"))
        .unwrap_or_default();
    html! {
        header {
            h1 { "batchbench report" }
            p.sub {
                (i.prompts) " prompts of " strong { (i.dataset) } " on "
                strong { (i.provider) " " (i.model) } ", " (report.summaries.len()) " strategies"
            }
        }
        @if i.simulated {
            div.banner #simulated {
                strong { "Simulated by the built-in mock" (scale) "." }
                " Latency and answer quality are simulated, not measured on a real model; token counts and prices are computed as for a real API."
            }
        }
    }
}

fn facts(report: &RunReport) -> Markup {
    let i = &report.info;
    let endpoint = if i.simulated {
        "built-in mock"
    } else {
        i.endpoint.as_str()
    };
    html! {
        section #facts {
            dl.facts {
                dt { "Model" } dd { (i.model) " (" (i.provider) ", " (endpoint) ")" }
                dt { "Dataset" }
                dd {
                    (i.dataset) " (" (i.prompts) " prompts"
                    @if let Some(s) = &i.shard { ", shard " (s) }
                    "), " span.mono { (i.dataset_path) }
                }
                dt { "Dataset SHA-256" } dd { code { (i.dataset_sha256) } }
                dt { "Seed" } dd { (i.seed) }
                dt { "Prices" }
                dd {
                    (i.price_source) " as of " (i.started_at)
                    @if let Some(sha) = &i.price_data_sha256 { ", data sha256 " code { (sha) } }
                    @if let Some(ov) = &i.price_overrides { ", overrides " (ov) }
                }
                dt { "Tokenizer" } dd { (i.tokenizer) }
                dt { "Answer tokens" } dd { (i.answer_tokens) }
                dt { "Strategies" } dd { (i.strategies.join(", ")) }
                dt { "Run" }
                dd { code { (i.run_id) } ", started " (i.started_at) ", batchbench " (i.tool_version) }
            }
        }
    }
}

fn badge(s: &StrategySummary) -> Markup {
    html! {
        @match (s.demonstration, s.status) {
            (true, _) => span.badge { "demonstration" },
            (_, RunStatus::Failed) => span.badge.failed { "failed" },
            (_, RunStatus::Partial) => span.badge { "partial" },
            _ => {},
        }
    }
}

fn summary_section(report: &RunReport) -> Markup {
    html! {
        section #summary {
            h2 { "Summary" }
            div.scroll {
                table.summary #summary-table {
                    thead { tr { @for h in summary_header() { th { (h) } } } }
                    tbody {
                        @for s in &report.summaries {
                            tr.demo[s.demonstration] {
                                td { (s.strategy) (badge(s)) }
                                @for cell in summary_cells(s).iter().skip(1) { td { (cell) } }
                            }
                        }
                    }
                }
            }
            p.note { "Cost is the exact sum of per-prompt costs; saving is versus sequential; tokens are input (uncached, cached, cache write) and output, summed over prompts; p50/p95 are per-prompt latencies of answered prompts; accuracy is versus gold answers, agreement versus sequential's answers." }
            @if report.summaries.iter().any(|s| s.demonstration) {
                p.note { em { "naive-multi-message" } " is a demonstration of a mistaken method (several user messages in one request get one reply, not one per message), measured to show what it loses." }
            }
        }
    }
}

fn unfinished_section(report: &RunReport) -> Markup {
    let lines = unfinished(report);
    html! {
        @if !lines.is_empty() {
            section #unfinished { h2 { "Did not finish" } ul { @for l in &lines { li { (l) } } } }
        }
    }
}

fn findings_section(report: &RunReport) -> Markup {
    let all: Vec<String> = findings(report)
        .into_iter()
        .chain(super::quality::quality_findings(report))
        .collect();
    let warnings = &report.info.warnings;
    html! {
        section #findings { h2 { "What this means" } ul.findings { @for f in &all { li { (f) } } } }
        @if !warnings.is_empty() {
            section #warnings { h2 { "Warnings" } ul { @for w in warnings { li { (w) } } } }
        }
    }
}

fn charts_section(report: &RunReport) -> Markup {
    let data = ChartData::from_report(report);
    html! {
        section #charts {
            h2 { "Charts" }
            div.charts {
                @for kind in ChartKind::for_report(report) {
                    figure id={ "chart-" (kind.name()) } {
                        (PreEscaped(charts::render_svg_with(kind, report, &data)))
                        figcaption {
                            strong { (kind.title()) "." } " " (kind.caption())
                            " (" span.mono { "charts/" (kind.name()) ".svg" } ")"
                        }
                    }
                }
            }
        }
    }
}

const DETAIL_HEADER: [&str; 14] = [
    "strategy",
    "wall time",
    "p99",
    "max",
    "prompts/s",
    "attempts",
    "retries",
    "429s",
    "errors",
    "parse failures",
    "extra items",
    "re-asks",
    "input tokens",
    "server − client",
];

fn detail_cells(s: &StrategySummary) -> [String; 14] {
    [
        s.strategy.clone(),
        fmt_ms(s.wall_ms),
        fmt_ms(s.latency_p99_ms),
        fmt_ms(s.latency_max_ms),
        format!("{:.2}", s.prompts_per_s),
        fmt_int(s.attempts),
        fmt_int(s.retries),
        fmt_int(s.rate_limited),
        fmt_int(s.errors),
        fmt_int(s.parse_failures),
        fmt_int(s.extra_items),
        fmt_int(s.reasks),
        fmt_int(s.input_tokens),
        format!("{:+}", s.input_token_diff),
    ]
}

fn details_section(report: &RunReport) -> Markup {
    html! {
        section #details {
            h2 { "Details per strategy" }
            div.scroll {
                table.details {
                    thead { tr { @for h in DETAIL_HEADER { th { (h) } } } }
                    tbody {
                        @for s in &report.summaries {
                            tr.demo[s.demonstration] { @for c in detail_cells(s) { td { (c) } } }
                        }
                    }
                }
            }
            p.note { "Wall time runs from the first request sent to the last result; prompts/s is answered prompts per second of wall time; attempts include retries; server − client is the server-reported minus the client-estimated input tokens." }
        }
    }
}

/// A sample table of prompts: `cells` gives each row's four cells (the last three as text).
fn samples(
    id: &str,
    title: &str,
    header: [&str; 4],
    rows: &[&PromptRecord],
    cells: impl Fn(&PromptRecord) -> [String; 3],
) -> Markup {
    html! {
        @if !rows.is_empty() {
            section id=(id) {
                h2 { (title) }
                div.scroll {
                    table.samples {
                        thead { tr { @for h in header { th { (h) } } } }
                        tbody {
                            @for p in rows.iter().take(MAX_SAMPLE_ROWS) {
                                @let [a, b, c] = cells(p);
                                tr {
                                    td { (p.strategy) }
                                    td.text.mono { (a) }
                                    td.text.mono[header[2] == "request"] { (b) }
                                    td.text { (c) }
                                }
                            }
                        }
                    }
                }
                @if rows.len() > MAX_SAMPLE_ROWS {
                    p.note { "… and " (rows.len() - MAX_SAMPLE_ROWS) " more in prompts.csv." }
                }
            }
        }
    }
}

/// Prompts not answered (the demonstration left out: it is expected to fail).
fn unanswered_section(report: &RunReport) -> Markup {
    let rows: Vec<&PromptRecord> = report
        .prompts
        .iter()
        .filter(|p| !p.answered() && !is_demo(report, &p.strategy))
        .collect();
    samples(
        "unanswered",
        "Prompts not answered",
        ["strategy", "prompt", "request", "error"],
        &rows,
        |p| {
            [
                p.prompt_id.clone(),
                p.request_id.clone(),
                clip(p.error.as_deref().unwrap_or("-"), 200),
            ]
        },
    )
}

fn wrong_section(report: &RunReport) -> Markup {
    let rows: Vec<&PromptRecord> = report
        .prompts
        .iter()
        .filter(|p| p.answered() && p.correct == Some(false) && !is_demo(report, &p.strategy))
        .collect();
    samples(
        "wrong",
        "Wrong answers",
        ["strategy", "prompt", "answer", "gold"],
        &rows,
        |p| {
            [
                p.prompt_id.clone(),
                clip(p.answer.as_deref().unwrap_or("-"), 200),
                clip(p.gold.as_deref().unwrap_or("-"), 200),
            ]
        },
    )
}

/// The quality table (see [`super::quality`]).
/// Batch API jobs: turnaround and how they ended (nothing for runs without a batch strategy).
fn batches_section(report: &RunReport) -> Markup {
    use super::markdown::{BATCH_HEADER, BATCH_NOTE, batch_cells};
    let rows: Vec<[String; 6]> = report.summaries.iter().filter_map(batch_cells).collect();
    html! {
        @if !rows.is_empty() {
            section #batches {
                h2 { "Batch API jobs" }
                div.scroll {
                    table.summary {
                        thead { tr { @for h in BATCH_HEADER { th { (h) } } } }
                        tbody { @for r in &rows { tr { @for c in r { td { (c) } } } } }
                    }
                }
                p.note { (BATCH_NOTE) }
            }
        }
    }
}

fn quality_section(report: &RunReport) -> Markup {
    use super::quality::{quality_cells, quality_header};
    html! {
        section #quality {
            h2 { "Quality, with sampling error" }
            div.scroll {
                table.summary #quality-table {
                    thead { tr { @for h in quality_header() { th { (h) } } } }
                    tbody { @for s in &report.summaries { tr { @for c in quality_cells(s) { td { (c) } } } } }
                }
            }
            p.note { "Accuracy intervals are 95% Wilson score intervals; the drop is sequential minus the strategy on the same prompts, with Newcombe's paired score interval and the exact McNemar p-value (docs/QUALITY.md)." }
        }
    }
}

fn is_demo(report: &RunReport, strategy: &str) -> bool {
    report
        .summaries
        .iter()
        .any(|s| s.strategy == strategy && s.demonstration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_on_a_character_boundary() {
        assert_eq!(clip("héllo", 3), "hél…");
        assert_eq!(clip("abc", 3), "abc");
    }
}
