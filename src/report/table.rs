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
            match (s.agreement_pct, s.vector_cosine_min) {
                // Embedding runs: the lowest cosine with embed:sequential, `!` when flagged.
                (None, Some(c)) => {
                    format!(
                        "cos {c:.6}{}",
                        if s.vector_flagged == Some(true) {
                            " !"
                        } else {
                            ""
                        }
                    )
                }
                (a, _) => fmt_pct(a),
            },
        ]);
    }
    let mut out = super::tabular::render(
        &header,
        &rows,
        1,
        super::tabular::Style::markdown_if(markdown),
    );
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
