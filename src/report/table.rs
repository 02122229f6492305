//! The summary table printed on stdout (aligned text, or Markdown with `--format md`).

use super::RunReport;
use super::markdown::{fmt_ms, fmt_pct, fmt_saving};
use super::summary::RunStatus;

/// Renders the per-strategy summary; `markdown` selects a Markdown table.
pub fn render(report: &RunReport, markdown: bool) -> String {
    let header = [
        "strategy",
        "requests",
        "answered",
        "input tok",
        "cached",
        "output tok",
        "cost",
        "per 1k",
        "saving",
        "wall",
        "p50",
        "p95",
        "accuracy",
        "agree",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for s in &report.summaries {
        let mut name = s.strategy.clone();
        if s.demonstration {
            name.push_str(" (demo)");
        }
        match s.status {
            _ if s.demonstration => {}
            RunStatus::Complete => {}
            RunStatus::Partial => name.push_str(" (partial)"),
            RunStatus::Failed => name.push_str(" FAILED"),
        }
        rows.push(vec![
            name,
            s.requests.to_string(),
            format!("{}/{}", s.answered, s.prompts),
            s.input_tokens.to_string(),
            s.cached_tokens.to_string(),
            s.output_tokens.to_string(),
            s.cost_usd.to_string(),
            format!("${:.4}", s.cost_per_1k_prompts),
            fmt_saving(s.saving_vs_sequential_pct),
            format!("{:.1}s", s.wall_ms / 1000.0),
            fmt_ms(s.latency_p50_ms),
            fmt_ms(s.latency_p95_ms),
            fmt_pct(s.accuracy_pct),
            fmt_pct(s.agreement_pct),
        ]);
    }
    let mut out = String::new();
    if markdown {
        out.push_str(&format!("| {} |\n", header.join(" | ")));
        out.push_str(&format!(
            "|{}\n",
            header
                .iter()
                .enumerate()
                .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
                .collect::<String>()
        ));
        for r in &rows {
            out.push_str(&format!("| {} |\n", r.join(" | ")));
        }
    } else {
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| -> String {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == 0 {
                        format!("{c:<w$}", w = widths[i])
                    } else {
                        format!("{c:>w$}", w = widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        out.push_str(&line(header.iter().map(|h| h.to_string()).collect()));
        out.push('\n');
        for r in rows {
            out.push_str(&line(r));
            out.push('\n');
        }
    }
    let info = &report.info;
    out.push('\n');
    out.push_str(&format!(
        "{} {} | {} prompts ({}) | seed {} | prices: {} at {}{}\n",
        info.provider,
        info.model,
        info.prompts,
        info.dataset,
        info.seed,
        info.price_source,
        info.started_at,
        if info.simulated {
            " | built-in mock: latency and answer quality are simulated"
        } else {
            ""
        }
    ));
    for line in super::markdown::unfinished(report) {
        out.push_str(&format!("! {line}\n"));
    }
    if report.summaries.iter().any(|s| s.demonstration) {
        out.push_str(
            "(demo) naive-multi-message is the mistaken tutorial method, shown to measure what it loses: \
             several user messages in one request get one answer, not one per message.\n",
        );
    }
    out
}
