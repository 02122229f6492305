//! `report.html`: one self-contained page (inline CSS, the SVG charts inline, no script, no
//! external URL) that opens offline and prints: run facts, the summary table, the findings, the
//! charts, details per strategy, and samples of failed and wrong answers. All text that comes
//! from data is escaped.

use super::charts::{self, ChartData, ChartKind};
use super::markdown::{findings, fmt_int, fmt_ms, summary_cells, summary_header, unfinished};
use super::summary::RunStatus;
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

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

fn fact(out: &mut String, name: &str, value_html: &str) {
    out.push_str(&format!(
        "<dt>{}</dt><dd>{}</dd>\n",
        escape(name),
        value_html
    ));
}

/// Renders `report.html`.
pub fn render(report: &RunReport) -> String {
    let i = &report.info;
    let e = escape;
    let mut o = String::with_capacity(256 * 1024);
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(&format!(
        "<title>batchbench: {} on {} {}</title>\n",
        e(&i.dataset),
        e(&i.provider),
        e(&i.model)
    ));
    o.push_str(&format!("<style>{CSS}</style>\n</head>\n<body>\n<main>\n"));
    o.push_str("<header>\n<h1>batchbench report</h1>\n");
    o.push_str(&format!(
        "<p class=\"sub\">{} prompts of <strong>{}</strong> on <strong>{} {}</strong>, {} strategies</p>\n</header>\n",
        i.prompts,
        e(&i.dataset),
        e(&i.provider),
        e(&i.model),
        report.summaries.len()
    ));
    if i.simulated {
        let scale = i
            .mock_time_scale
            .map(|t| format!(" (time scale {t})"))
            .unwrap_or_default();
        o.push_str(&format!(
            "<div class=\"banner\" id=\"simulated\"><strong>Simulated by the built-in mock{}.</strong> Latency and answer quality are simulated, not measured on a real model; token counts and prices are computed as for a real API.</div>\n",
            e(&scale)
        ));
    }

    // Facts.
    o.push_str("<section id=\"facts\">\n<dl class=\"facts\">\n");
    let endpoint = if i.simulated {
        "built-in mock".to_string()
    } else {
        i.endpoint.clone()
    };
    fact(
        &mut o,
        "Model",
        &format!("{} ({}, {})", e(&i.model), e(&i.provider), e(&endpoint)),
    );
    let shard = i
        .shard
        .as_deref()
        .map(|s| format!(", shard {}", e(s)))
        .unwrap_or_default();
    fact(
        &mut o,
        "Dataset",
        &format!(
            "{} ({} prompts{shard}), <span class=\"mono\">{}</span>",
            e(&i.dataset),
            i.prompts,
            e(&i.dataset_path)
        ),
    );
    fact(
        &mut o,
        "Dataset SHA-256",
        &format!("<code>{}</code>", e(&i.dataset_sha256)),
    );
    fact(&mut o, "Seed", &i.seed.to_string());
    let mut prices = format!("{} as of {}", e(&i.price_source), e(&i.started_at));
    if let Some(sha) = &i.price_data_sha256 {
        prices.push_str(&format!(", data sha256 <code>{}</code>", e(sha)));
    }
    if let Some(ov) = &i.price_overrides {
        prices.push_str(&format!(", overrides {}", e(ov)));
    }
    fact(&mut o, "Prices", &prices);
    fact(&mut o, "Tokenizer", &e(&i.tokenizer));
    fact(&mut o, "Answer tokens", &i.answer_tokens.to_string());
    fact(&mut o, "Strategies", &e(&i.strategies.join(", ")));
    fact(
        &mut o,
        "Run",
        &format!(
            "<code>{}</code>, started {}, batchbench {}",
            e(&i.run_id),
            e(&i.started_at),
            e(&i.tool_version)
        ),
    );
    o.push_str("</dl>\n</section>\n");

    // Summary table.
    o.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"scroll\">\n<table class=\"summary\" id=\"summary-table\">\n<thead><tr>");
    for h in summary_header() {
        o.push_str(&format!("<th>{}</th>", e(h)));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for s in &report.summaries {
        let cells = summary_cells(s);
        o.push_str(if s.demonstration {
            "<tr class=\"demo\">"
        } else {
            "<tr>"
        });
        for (c, cell) in cells.iter().enumerate() {
            if c == 0 {
                let badge = match (s.demonstration, s.status) {
                    (true, _) => "<span class=\"badge\">demonstration</span>",
                    (_, RunStatus::Failed) => "<span class=\"badge failed\">failed</span>",
                    (_, RunStatus::Partial) => "<span class=\"badge\">partial</span>",
                    _ => "",
                };
                o.push_str(&format!("<td>{}{badge}</td>", e(&s.strategy)));
            } else {
                o.push_str(&format!("<td>{}</td>", e(cell)));
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n</div>\n");
    o.push_str("<p class=\"note\">Cost is the exact sum of per-prompt costs; saving is versus sequential; tokens are input (uncached, cached, cache write) and output, summed over prompts; p50/p95 are per-prompt latencies of answered prompts; accuracy is versus gold answers, agreement versus sequential's answers.</p>\n");
    if report.summaries.iter().any(|s| s.demonstration) {
        o.push_str("<p class=\"note\"><em>naive-multi-message</em> is a demonstration of a mistaken method (several user messages in one request get one reply, not one per message), measured to show what it loses.</p>\n");
    }
    o.push_str("</section>\n");

    let unfinished = unfinished(report);
    if !unfinished.is_empty() {
        o.push_str("<section id=\"unfinished\">\n<h2>Did not finish</h2>\n<ul>\n");
        for line in &unfinished {
            o.push_str(&format!("<li>{}</li>\n", e(line)));
        }
        o.push_str("</ul>\n</section>\n");
    }
    if super::quality::has_quality(report) {
        quality_section(report, &mut o);
    }

    // Findings.
    o.push_str("<section id=\"findings\">\n<h2>What this means</h2>\n<ul class=\"findings\">\n");
    for f in findings(report)
        .into_iter()
        .chain(super::quality::quality_findings(report))
    {
        o.push_str(&format!("<li>{}</li>\n", e(&f)));
    }
    o.push_str("</ul>\n</section>\n");
    if !i.warnings.is_empty() {
        o.push_str("<section id=\"warnings\">\n<h2>Warnings</h2>\n<ul>\n");
        for w in &i.warnings {
            o.push_str(&format!("<li>{}</li>\n", e(w)));
        }
        o.push_str("</ul>\n</section>\n");
    }

    // Charts.
    let data = ChartData::from_report(report);
    o.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n<div class=\"charts\">\n");
    for kind in ChartKind::for_report(report) {
        let svg = charts::render_svg_with(kind, report, &data);
        o.push_str(&format!("<figure id=\"chart-{}\">\n", kind.name()));
        o.push_str(&svg);
        o.push_str(&format!(
            "<figcaption><strong>{}.</strong> {} (<span class=\"mono\">charts/{}.svg</span>)</figcaption>\n</figure>\n",
            e(kind.title()),
            e(kind.caption()),
            kind.name()
        ));
    }
    o.push_str("</div>\n</section>\n");

    // Details.
    o.push_str("<section id=\"details\">\n<h2>Details per strategy</h2>\n<div class=\"scroll\">\n<table class=\"details\">\n<thead><tr>");
    for h in [
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
    ] {
        o.push_str(&format!("<th>{}</th>", e(h)));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for s in &report.summaries {
        o.push_str(if s.demonstration {
            "<tr class=\"demo\">"
        } else {
            "<tr>"
        });
        let cells = [
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
        ];
        for c in cells {
            o.push_str(&format!("<td>{}</td>", e(&c)));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n</div>\n");
    o.push_str("<p class=\"note\">Wall time runs from the first request sent to the last result; prompts/s is answered prompts per second of wall time; attempts include retries; server − client is the server-reported minus the client-estimated input tokens.</p>\n</section>\n");

    // Samples of failures and wrong answers (the demonstration left out: it is expected to fail).
    let failed: Vec<&PromptRecord> = report
        .prompts
        .iter()
        .filter(|p| !p.answered() && !is_demo(report, &p.strategy))
        .collect();
    if !failed.is_empty() {
        o.push_str("<section id=\"unanswered\">\n<h2>Prompts not answered</h2>\n<div class=\"scroll\">\n<table class=\"samples\">\n<thead><tr><th>strategy</th><th>prompt</th><th>request</th><th>error</th></tr></thead>\n<tbody>\n");
        for p in failed.iter().take(MAX_SAMPLE_ROWS) {
            o.push_str(&format!(
                "<tr><td>{}</td><td class=\"text mono\">{}</td><td class=\"text mono\">{}</td><td class=\"text\">{}</td></tr>\n",
                e(&p.strategy),
                e(&p.prompt_id),
                e(&p.request_id),
                e(&clip(p.error.as_deref().unwrap_or("-"), 200))
            ));
        }
        o.push_str("</tbody>\n</table>\n</div>\n");
        if failed.len() > MAX_SAMPLE_ROWS {
            o.push_str(&format!(
                "<p class=\"note\">… and {} more in prompts.csv.</p>\n",
                failed.len() - MAX_SAMPLE_ROWS
            ));
        }
        o.push_str("</section>\n");
    }
    let wrong: Vec<&PromptRecord> = report
        .prompts
        .iter()
        .filter(|p| p.answered() && p.correct == Some(false) && !is_demo(report, &p.strategy))
        .collect();
    if !wrong.is_empty() {
        o.push_str("<section id=\"wrong\">\n<h2>Wrong answers</h2>\n<div class=\"scroll\">\n<table class=\"samples\">\n<thead><tr><th>strategy</th><th>prompt</th><th>answer</th><th>gold</th></tr></thead>\n<tbody>\n");
        for p in wrong.iter().take(MAX_SAMPLE_ROWS) {
            o.push_str(&format!(
                "<tr><td>{}</td><td class=\"text mono\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td></tr>\n",
                e(&p.strategy),
                e(&p.prompt_id),
                e(&clip(p.answer.as_deref().unwrap_or("-"), 200)),
                e(&clip(p.gold.as_deref().unwrap_or("-"), 200))
            ));
        }
        o.push_str("</tbody>\n</table>\n</div>\n");
        if wrong.len() > MAX_SAMPLE_ROWS {
            o.push_str(&format!(
                "<p class=\"note\">… and {} more in prompts.csv.</p>\n",
                wrong.len() - MAX_SAMPLE_ROWS
            ));
        }
        o.push_str("</section>\n");
    }

    o.push_str(&format!(
        "<footer>Written by batchbench {}. Every number on this page recomputes from <span class=\"mono\">prompts.csv</span> and <span class=\"mono\">requests.csv</span> in this folder (see <span class=\"mono\">summary.csv</span>, <span class=\"mono\">report.json</span> and docs/REPORTS.md).</footer>\n",
        e(&i.tool_version)
    ));
    o.push_str("</main>\n</body>\n</html>\n");
    o
}

/// The quality table (see [`super::quality`]).
fn quality_section(report: &RunReport, o: &mut String) {
    use super::quality::{quality_cells, quality_header};
    o.push_str("<section id=\"quality\">\n<h2>Quality, with sampling error</h2>\n<div class=\"scroll\">\n<table class=\"summary\" id=\"quality-table\">\n<thead><tr>");
    for h in quality_header() {
        o.push_str(&format!("<th>{}</th>", escape(h)));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for s in &report.summaries {
        o.push_str("<tr>");
        for cell in quality_cells(s) {
            o.push_str(&format!("<td>{}</td>", escape(&cell)));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n</div>\n<p class=\"note\">Accuracy intervals are 95% Wilson score intervals; the drop is sequential minus the strategy on the same prompts, with Newcombe's paired score interval and the exact McNemar p-value (docs/QUALITY.md).</p>\n</section>\n");
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
    fn escapes_and_clips() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(clip("héllo", 3), "hél…");
        assert_eq!(clip("abc", 3), "abc");
    }
}
