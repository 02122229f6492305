//! The stdout summary of `estimate`: a table per model (plain or Markdown), then the
//! assumptions and warnings.

use std::fmt::Write;

use super::EstimateReport;
use crate::report::markdown::fmt_int;

const HEADERS: [&str; 10] = [
    "strategy",
    "requests",
    "input tok",
    "cached",
    "output tok",
    "cost",
    "per 1k prompts",
    "saving",
    "per day",
    "per 30 days",
];

/// The report as aligned text (`markdown`: as Markdown tables and lists).
pub fn text(report: &EstimateReport, markdown: bool) -> String {
    let mut out = String::new();
    let h = if markdown { "### " } else { "" };
    let _ = writeln!(
        out,
        "{h}Estimate for {} ({} prompts), projected at {} prompts/day",
        report.dataset,
        fmt_int(report.prompts),
        fmt_int(report.per_day)
    );
    for m in &report.models {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{h}{} ({}, {}, {} token counts)",
            m.model, m.provider, m.encoding, m.token_counts
        );
        if markdown {
            let _ = writeln!(out);
        }
        let rows: Vec<[String; 10]> = m
            .strategies
            .iter()
            .map(|s| {
                let name = if s.prompts_per_request > 1
                    && !s.strategy.ends_with(&format!(":{}", s.prompts_per_request))
                {
                    format!("{} (K={})", s.strategy, s.prompts_per_request)
                } else {
                    s.strategy.clone()
                };
                [
                    name,
                    fmt_int(s.requests),
                    fmt_int(s.input_tokens),
                    fmt_int(s.cached_tokens),
                    fmt_int(s.output_tokens),
                    s.cost_usd.to_string(),
                    s.cost_per_1k_prompts_usd.to_string(),
                    s.saving_vs_sequential_pct
                        .map_or_else(|| "-".to_string(), |p| format!("{p:.1}%")),
                    s.per_day_usd.to_string(),
                    s.per_month_usd.to_string(),
                ]
            })
            .collect();
        let rows: Vec<Vec<String>> = rows.into_iter().map(Vec::from).collect();
        out.push_str(&crate::report::tabular::render(
            &HEADERS,
            &rows,
            1,
            crate::report::tabular::Style::markdown_if(markdown),
        ));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{h}Assumptions");
    if markdown {
        let _ = writeln!(out);
    }
    for a in &report.assumptions {
        let _ = writeln!(out, "{}{a}", if a.starts_with("  ") { "" } else { "- " });
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{h}Warnings");
        if markdown {
            let _ = writeln!(out);
        }
        for w in &report.warnings {
            let _ = writeln!(out, "- {w}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(fmt_int(0), "0");
        assert_eq!(fmt_int(999), "999");
        assert_eq!(fmt_int(1_000), "1,000");
        assert_eq!(fmt_int(1_234_567), "1,234,567");
    }
}
