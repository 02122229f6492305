//! The trend of each strategy over the stored runs: cost per 1,000 prompts, accuracy (with its
//! interval when the summary has one) and p95 latency, each with its change against the
//! previous run that ran the strategy; rendered as a text table, Markdown, CSV or JSON.

use serde::Serialize;

use super::store::{StoredRun, SummaryRow};
use crate::error::{Error, Result};

/// One strategy in one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// Strategy id.
    pub strategy: String,
    /// Row id of the run in the history file.
    pub run: i64,
    /// The run's id.
    pub run_id: String,
    /// When the run started.
    pub started_at: String,
    /// Commit SHA, when known.
    pub commit_sha: Option<String>,
    /// Branch, when known.
    pub branch: Option<String>,
    /// Model.
    pub model: String,
    /// Cost per 1,000 prompts, USD.
    pub cost_per_1k_prompts: Option<f64>,
    /// Change of cost per 1,000 prompts against the previous run, percent.
    pub cost_change_pct: Option<f64>,
    /// Accuracy, percent.
    pub accuracy_pct: Option<f64>,
    /// Lower end of the accuracy interval, when the summary has one.
    pub accuracy_ci_low_pct: Option<f64>,
    /// Upper end of the accuracy interval.
    pub accuracy_ci_high_pct: Option<f64>,
    /// Change of accuracy against the previous run, points.
    pub accuracy_change_pts: Option<f64>,
    /// p95 latency per prompt, ms.
    pub latency_p95_ms: Option<f64>,
    /// Change of p95 latency against the previous run, percent.
    pub p95_change_pct: Option<f64>,
}

fn num(row: &SummaryRow, column: &str) -> Option<f64> {
    row.get(column)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn change_pct(prev: Option<f64>, cur: Option<f64>) -> Option<f64> {
    match (prev, cur) {
        (Some(p), Some(c)) if p > 0.0 => Some((c - p) / p * 100.0),
        (Some(p), Some(c)) if p == 0.0 && c == 0.0 => Some(0.0),
        _ => None,
    }
}

/// Strategies in order of first appearance across the runs.
pub fn strategies(runs: &[StoredRun]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for run in runs {
        for (s, _) in &run.strategies {
            if !names.contains(s) {
                names.push(s.clone());
            }
        }
    }
    names
}

/// The trend points of every strategy, grouped by strategy, runs oldest first.
pub fn points(runs: &[StoredRun]) -> Vec<TrendPoint> {
    let mut out = Vec::new();
    for strategy in strategies(runs) {
        let mut prev: Option<&SummaryRow> = None;
        for run in runs {
            let Some(row) = run.strategy(&strategy) else {
                continue;
            };
            let (cost, acc, p95) = (
                num(row, "cost_per_1k_prompts"),
                num(row, "accuracy_pct"),
                num(row, "latency_p95_ms"),
            );
            let before = |c: &str| prev.and_then(|p| num(p, c));
            out.push(TrendPoint {
                strategy: strategy.clone(),
                run: run.id,
                run_id: run.info.run_id.clone(),
                started_at: run.info.started_at.clone(),
                commit_sha: run.git.commit_sha.clone(),
                branch: run.git.branch.clone(),
                model: run.info.model.clone(),
                cost_per_1k_prompts: cost,
                cost_change_pct: change_pct(before("cost_per_1k_prompts"), cost),
                accuracy_pct: acc,
                accuracy_ci_low_pct: num(row, "accuracy_ci_low_pct"),
                accuracy_ci_high_pct: num(row, "accuracy_ci_high_pct"),
                accuracy_change_pts: before("accuracy_pct").zip(acc).map(|(p, c)| c - p),
                latency_p95_ms: p95,
                p95_change_pct: change_pct(before("latency_p95_ms"), p95),
            });
            prev = Some(row);
        }
    }
    out
}

fn f(v: Option<f64>, decimals: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.decimals$}"))
}

fn delta(v: Option<f64>, unit: &str) -> String {
    v.map_or("-".into(), |x| {
        let x = if x.abs() < 0.005 { 0.0 } else { x };
        format!("{x:+.2}{unit}")
    })
}

fn short(sha: &Option<String>) -> String {
    sha.as_deref()
        .map_or("-".into(), |s| s.chars().take(10).collect())
}

/// A table per strategy as aligned text (`markdown`: Markdown tables under `####` headings).
pub fn render(points: &[TrendPoint], markdown: bool) -> String {
    let mut out = String::new();
    let mut names: Vec<&str> = Vec::new();
    for p in points {
        if !names.contains(&p.strategy.as_str()) {
            names.push(&p.strategy);
        }
    }
    if names.is_empty() {
        out.push_str("no runs in the history match\n");
    }
    let header = [
        "run",
        "started",
        "commit",
        "branch",
        "model",
        if markdown { "cost / 1k" } else { "cost/1k" },
        if markdown { "Δ cost" } else { "d cost" },
        "accuracy",
        if markdown {
            "Δ accuracy"
        } else {
            "d accuracy"
        },
        "p95 ms",
        if markdown { "Δ p95" } else { "d p95" },
    ];
    for name in names {
        out.push_str(&if markdown {
            format!("#### {name}\n\n")
        } else {
            format!("{name}\n")
        });
        let rows: Vec<Vec<String>> = points
            .iter()
            .filter(|p| p.strategy == name)
            .map(|p| {
                let acc = match (
                    p.accuracy_pct,
                    p.accuracy_ci_low_pct,
                    p.accuracy_ci_high_pct,
                ) {
                    (Some(a), Some(l), Some(h)) if markdown => format!("{a:.1} [{l:.1}, {h:.1}]"),
                    (a, _, _) => f(a, 1),
                };
                vec![
                    p.run.to_string(),
                    p.started_at.clone(),
                    short(&p.commit_sha),
                    p.branch.clone().unwrap_or_else(|| "-".into()),
                    p.model.clone(),
                    p.cost_per_1k_prompts
                        .map_or("-".into(), |c| format!("${c:.4}")),
                    delta(p.cost_change_pct, "%"),
                    acc,
                    delta(p.accuracy_change_pts, if markdown { " pts" } else { "pt" }),
                    f(p.latency_p95_ms, 0),
                    delta(p.p95_change_pct, "%"),
                ]
            })
            .collect();
        out.push_str(&crate::report::tabular::render_aligned(
            &header,
            &rows,
            &[1, 2, 3, 4],
            crate::report::tabular::Style::markdown_if(markdown),
        ));
        out.push('\n');
    }
    out
}

/// One Mermaid `xychart-beta` line chart of cost per 1,000 prompts per strategy: GitHub draws
/// these in PR comments and step summaries, where images from files cannot be shown.
pub fn mermaid(points: &[TrendPoint]) -> String {
    let mut out = String::new();
    let mut names: Vec<&str> = Vec::new();
    for p in points {
        if !names.contains(&p.strategy.as_str()) {
            names.push(&p.strategy);
        }
    }
    for name in names {
        let pts: Vec<&TrendPoint> = points
            .iter()
            .filter(|p| p.strategy == name && p.cost_per_1k_prompts.is_some())
            .collect();
        if pts.is_empty() {
            continue;
        }
        let xs: Vec<String> = pts.iter().map(|p| format!("\"{}\"", p.run)).collect();
        let ys: Vec<String> = pts
            .iter()
            .filter_map(|p| p.cost_per_1k_prompts)
            .map(|c| format!("{c:.6}"))
            .collect();
        out.push_str(&format!(
            "```mermaid\nxychart-beta\n    title \"{name}: cost per 1,000 prompts (USD) by history run\"\n    x-axis [{}]\n    line [{}]\n```\n\n",
            xs.join(", "),
            ys.join(", ")
        ));
    }
    out
}

/// The points as CSV, one row per strategy and run.
pub fn to_csv(points: &[TrendPoint]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for p in points {
        w.serialize(p)
            .map_err(|e| Error::Output(format!("history CSV: {e}")))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Output(format!("history CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Output(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::git::GitInfo;

    fn run(id: i64, rows: &[(&str, &str, &str, &str)]) -> StoredRun {
        let info: crate::report::RunInfo = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "run_id": format!("r{id}"), "tool_version": "0", "started_at": "2026-12-01T00:00:00Z",
            "seed": 42, "provider": "openai", "model": "gpt-4o-mini", "endpoint": "mock", "simulated": true,
            "mock_time_scale": 0.0, "dataset": "d", "dataset_path": "d.jsonl", "dataset_sha256": "ab", "prompts": 10,
            "shard": null, "strategies": [], "answer_tokens": 64, "price_source": "x", "price_data_sha256": null,
            "price_overrides": null, "tokenizer": "t", "warnings": []
        }))
        .unwrap();
        StoredRun {
            id,
            info,
            git: GitInfo::default(),
            recorded_at: String::new(),
            strategies: rows
                .iter()
                .map(|(s, cost, acc, p95)| {
                    let row: SummaryRow = [
                        ("strategy", *s),
                        ("cost_per_1k_prompts", *cost),
                        ("accuracy_pct", *acc),
                        ("latency_p95_ms", *p95),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                    (s.to_string(), row)
                })
                .collect(),
        }
    }

    #[test]
    fn changes_against_the_previous_run_of_the_same_strategy() {
        let runs = [
            run(1, &[("sequential", "2.0", "90", "100")]),
            run(2, &[("packed:8", "0.5", "", "40")]),
            run(
                3,
                &[
                    ("sequential", "3.0", "85", "120"),
                    ("packed:8", "0.4", "80", "50"),
                ],
            ),
        ];
        let p = points(&runs);
        assert_eq!(p.len(), 4);
        let seq: Vec<_> = p.iter().filter(|x| x.strategy == "sequential").collect();
        assert_eq!(seq[0].cost_change_pct, None);
        assert_eq!(seq[1].cost_change_pct, Some(50.0));
        assert_eq!(seq[1].accuracy_change_pts, Some(-5.0));
        assert_eq!(seq[1].p95_change_pct, Some(20.0));
        let packed: Vec<_> = p.iter().filter(|x| x.strategy == "packed:8").collect();
        assert_eq!(packed[0].accuracy_pct, None);
        assert!((packed[1].cost_change_pct.unwrap() - -20.0).abs() < 1e-9);
        assert_eq!(packed[1].accuracy_change_pts, None);
        assert_eq!(packed[1].p95_change_pct, Some(25.0));
        let text = render(&p, true);
        assert!(
            text.contains("#### sequential") && text.contains("+50.00%"),
            "{text}"
        );
        assert!(text.contains("-5.00 pts"), "{text}");
    }

    #[test]
    fn mermaid_has_one_chart_per_strategy_with_its_costs() {
        let runs = [
            run(1, &[("sequential", "2.0", "90", "100")]),
            run(2, &[("sequential", "3.0", "85", "120")]),
        ];
        let m = mermaid(&points(&runs));
        assert_eq!(m.matches("```mermaid").count(), 1);
        assert!(m.contains("x-axis [\"1\", \"2\"]"), "{m}");
        assert!(m.contains("line [2.000000, 3.000000]"), "{m}");
    }

    #[test]
    fn csv_has_one_row_per_point() {
        let runs = [run(1, &[("sequential", "2.0", "90", "100")])];
        let csv = to_csv(&points(&runs)).unwrap();
        assert_eq!(csv.lines().count(), 2);
        assert!(csv.starts_with("strategy,run,run_id,"));
    }
}
