//! `batchbench compare`: the CI gate. Reads two runs (folders or `report.json` files), prints the
//! differences per strategy, and says whether the current run regressed against the baseline.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::report::run_info::SCHEMA_VERSION;
use crate::report::summary::RunStatus;
use crate::report::{RunInfo, StrategySummary};

/// One side of a comparison.
#[derive(Debug, Clone)]
pub struct RunSide {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its metadata.
    pub info: RunInfo,
    /// Its per-strategy summaries.
    pub summaries: Vec<StrategySummary>,
}

#[derive(Deserialize)]
struct ReportJson {
    schema_version: u32,
    info: RunInfo,
    summaries: Vec<StrategySummary>,
}

fn schema_check(path: &Path, found: u32) -> Result<()> {
    if found != SCHEMA_VERSION {
        return Err(Error::RunFiles(format!(
            "{}: schema version {found}, but this batchbench reads version {SCHEMA_VERSION}; re-run the baseline with this version",
            path.display()
        )));
    }
    Ok(())
}

/// Reads a run folder (`run.json` + `summary.csv`) or a `report.json` file.
pub fn load_side(path: &Path) -> Result<RunSide> {
    if path.is_dir() {
        let info_path = path.join("run.json");
        let text = std::fs::read_to_string(&info_path)
            .map_err(|e| Error::RunFiles(format!("{}: cannot read: {e}", info_path.display())))?;
        let raw: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::RunFiles(format!("{}: invalid JSON: {e}", info_path.display())))?;
        let version = raw
            .get("schema_version")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u32;
        schema_check(&info_path, version)?;
        let info: RunInfo = serde_json::from_value(raw).map_err(|e| {
            Error::RunFiles(format!(
                "{}: not a batchbench run.json: {e}",
                info_path.display()
            ))
        })?;
        let summaries = crate::report::csv::read_rows(&path.join("summary.csv"))?;
        return Ok(RunSide {
            path: path.to_path_buf(),
            info,
            summaries,
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            "no such file or folder".to_string()
        } else {
            e.to_string()
        };
        Error::RunFiles(format!("{}: cannot read: {what}", path.display()))
    })?;
    let raw: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::RunFiles(format!("{}: invalid JSON: {e}", path.display())))?;
    let version = raw
        .get("schema_version")
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as u32;
    schema_check(path, version)?;
    let r: ReportJson = serde_json::from_value(raw).map_err(|e| {
        Error::RunFiles(format!(
            "{}: not a batchbench report.json: {e}",
            path.display()
        ))
    })?;
    let _ = r.schema_version;
    Ok(RunSide {
        path: path.to_path_buf(),
        info: r.info,
        summaries: r.summaries,
    })
}

/// Regression thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Largest allowed increase of cost per 1,000 prompts, percent.
    pub max_cost_increase_pct: f64,
    /// Largest allowed accuracy drop, percentage points.
    pub max_accuracy_drop_pts: f64,
    /// Largest allowed increase of p95 latency, percent.
    pub max_p95_increase_pct: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_cost_increase_pct: 5.0,
            max_accuracy_drop_pts: 1.0,
            max_p95_increase_pct: 20.0,
        }
    }
}

/// Parses `5%`, `5` or `0.5%` as a non-negative percentage.
pub fn parse_pct(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage such as 5%"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{s:?} must be a non-negative percentage"));
    }
    Ok(v)
}

/// One strategy's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Strategy id.
    pub strategy: String,
    /// Baseline summary (None: new strategy).
    pub base: Option<StrategySummary>,
    /// Current summary (None: strategy dropped).
    pub current: Option<StrategySummary>,
    /// Cost per 1k change, percent.
    pub cost_change_pct: Option<f64>,
    /// Accuracy change, points.
    pub accuracy_change_pts: Option<f64>,
    /// p95 change, percent.
    pub p95_change_pct: Option<f64>,
    /// Why this strategy regressed (empty: it did not).
    pub regressions: Vec<String>,
}

fn change_pct(base: f64, cur: f64) -> Option<f64> {
    if base > 0.0 {
        Some((cur - base) / base * 100.0)
    } else if cur == 0.0 {
        Some(0.0)
    } else {
        None
    }
}

/// Compares two runs. Errors (exit 2) when the datasets differ unless `allow_dataset_change`.
pub fn compare(
    base: &RunSide,
    current: &RunSide,
    t: Thresholds,
    allow_dataset_change: bool,
) -> Result<Vec<Row>> {
    if base.info.dataset_sha256 != current.info.dataset_sha256 && !allow_dataset_change {
        return Err(Error::RunFiles(format!(
            "the runs used different datasets ({} sha256 {}… vs {} sha256 {}…); pass --allow-dataset-change to compare anyway",
            base.info.dataset,
            &base.info.dataset_sha256.get(..12).unwrap_or(""),
            current.info.dataset,
            &current.info.dataset_sha256.get(..12).unwrap_or("")
        )));
    }
    let mut names: Vec<&str> = base.summaries.iter().map(|s| s.strategy.as_str()).collect();
    for s in &current.summaries {
        if !names.contains(&s.strategy.as_str()) {
            names.push(&s.strategy);
        }
    }
    let rows = names
        .into_iter()
        .map(|name| {
            let b = base.summaries.iter().find(|s| s.strategy == name).cloned();
            let c = current
                .summaries
                .iter()
                .find(|s| s.strategy == name)
                .cloned();
            let mut row = Row {
                strategy: name.to_string(),
                base: b.clone(),
                current: c.clone(),
                cost_change_pct: None,
                accuracy_change_pts: None,
                p95_change_pct: None,
                regressions: Vec::new(),
            };
            // Vector agreement is a property of the current run alone: a flagged strategy
            // regresses whether or not the baseline ran it.
            if let Some(c) = c.as_ref().filter(|c| c.vector_flagged == Some(true)) {
                row.regressions.push(format!(
                    "vectors disagree with embed:sequential: lowest cosine {:.6} (mean {:.6}) is below the run's --vector-tolerance",
                    c.vector_cosine_min.unwrap_or(f64::NAN),
                    c.vector_cosine_mean.unwrap_or(f64::NAN)
                ));
            }
            if let (Some(b), Some(c)) = (b, c) {
                row.cost_change_pct = change_pct(b.cost_per_1k_prompts, c.cost_per_1k_prompts);
                row.p95_change_pct = change_pct(b.latency_p95_ms, c.latency_p95_ms);
                row.accuracy_change_pts = match (b.accuracy_pct, c.accuracy_pct) {
                    (Some(x), Some(y)) => Some(y - x),
                    _ => None,
                };
                if b.demonstration {
                    return row;
                }
                if c.status == RunStatus::Failed {
                    row.regressions.push(format!(
                        "failed: {}",
                        c.failure.as_deref().unwrap_or("no prompt answered")
                    ));
                    return row;
                }
                if b.status == RunStatus::Failed {
                    // Nothing to compare against; the current run's figures stand on their own.
                    return row;
                }
                match row.cost_change_pct {
                    Some(p) if p > t.max_cost_increase_pct => row.regressions.push(format!(
                        "cost per 1k prompts +{p:.2}% (${:.6} -> ${:.6}) > {}%",
                        b.cost_per_1k_prompts, c.cost_per_1k_prompts, t.max_cost_increase_pct
                    )),
                    None => row.regressions.push("cost rose from zero".into()),
                    _ => {}
                }
                if let Some(d) = row.accuracy_change_pts {
                    if -d > t.max_accuracy_drop_pts {
                        row.regressions.push(format!(
                            "accuracy {d:+.2} pts > {} pts allowed drop",
                            t.max_accuracy_drop_pts
                        ));
                    }
                }
                if let Some(p) = row.p95_change_pct {
                    if p > t.max_p95_increase_pct {
                        row.regressions.push(format!(
                            "p95 latency +{p:.1}% ({:.0} ms -> {:.0} ms) > {}%",
                            b.latency_p95_ms, c.latency_p95_ms, t.max_p95_increase_pct
                        ));
                    }
                }
                if c.failed > b.failed {
                    row.regressions
                        .push(format!("failed prompts {} -> {}", b.failed, c.failed));
                }
            }
            row
        })
        .collect();
    Ok(rows)
}

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or("-".into(), |x| {
        let x = if x.abs() < 0.005 { 0.0 } else { x };
        format!("{x:+.2}{unit}")
    })
}

/// Renders the comparison as a text table or Markdown.
pub fn render(rows: &[Row], base: &RunSide, current: &RunSide, markdown: bool) -> String {
    let mut out = String::new();
    let regressed = rows.iter().any(|r| !r.regressions.is_empty());
    if markdown {
        out.push_str(&format!(
            "### batchbench compare: {}\n\nbaseline `{}` ({}) vs current `{}` ({})\n\n",
            if regressed {
                "regression"
            } else {
                "no regression"
            },
            base.path.display(),
            base.info.run_id,
            current.path.display(),
            current.info.run_id
        ));
    } else {
        out.push_str(&format!(
            "baseline: {} ({})\ncurrent:  {} ({})\n\n",
            base.path.display(),
            base.info.run_id,
            current.path.display(),
            current.info.run_id
        ));
    }
    let mut table = Vec::new();
    for r in rows {
        let costs = match (&r.base, &r.current) {
            (Some(b), Some(c)) => format!(
                "${:.4} -> ${:.4}",
                b.cost_per_1k_prompts, c.cost_per_1k_prompts
            ),
            (None, Some(c)) => format!("new: ${:.4}", c.cost_per_1k_prompts),
            (Some(b), None) => format!("${:.4} -> (not run)", b.cost_per_1k_prompts),
            (None, None) => String::new(),
        };
        let verdict = if !r.regressions.is_empty() {
            format!("REGRESSION: {}", r.regressions.join("; "))
        } else if r.base.as_ref().is_some_and(|b| b.demonstration) {
            "demonstration (not gated)".into()
        } else if r.base.is_none() || r.current.is_none() {
            "not compared".into()
        } else {
            "ok".into()
        };
        let pts = if markdown { " pts" } else { "pt" };
        table.push(vec![
            r.strategy.clone(),
            costs,
            opt(r.cost_change_pct, "%"),
            opt(r.accuracy_change_pts, pts),
            opt(r.p95_change_pct, "%"),
            verdict,
        ]);
    }
    let header: [&str; 6] = if markdown {
        [
            "strategy",
            "cost / 1k (base → now)",
            "Δ cost",
            "Δ accuracy",
            "Δ p95",
            "verdict",
        ]
    } else {
        [
            "strategy",
            "cost/1k base -> now",
            "d cost",
            "d accuracy",
            "d p95",
            "verdict",
        ]
    };
    out.push_str(&crate::report::tabular::render_aligned(
        &header,
        &table,
        &[0, 5],
        crate::report::tabular::Style::markdown_if(markdown),
    ));
    let differences = setup_differences(&base.info, &current.info);
    if !differences.is_empty() {
        out.push_str(if markdown {
            "\nThe runs were not set up alike, so part of a change may come from that:\n\n"
        } else {
            "\nnote: the runs were not set up alike, so part of a change may come from that:\n"
        });
        for d in differences {
            out.push_str(&format!("- {d}\n"));
        }
    }
    out
}

/// What differs between two runs' set-ups besides the code under test: provider, model,
/// endpoint, mock or real API, tool version, seed, answer tokens, request options, prices.
pub fn setup_differences(
    base: &crate::report::RunInfo,
    current: &crate::report::RunInfo,
) -> Vec<String> {
    let (b, c) = (&base.options, &current.options);
    let fields: [(&str, String, String); 12] = [
        ("provider", base.provider.clone(), current.provider.clone()),
        ("model", base.model.clone(), current.model.clone()),
        ("endpoint", base.endpoint.clone(), current.endpoint.clone()),
        (
            "built-in mock",
            base.simulated.to_string(),
            current.simulated.to_string(),
        ),
        (
            "batchbench",
            base.tool_version.clone(),
            current.tool_version.clone(),
        ),
        ("seed", base.seed.to_string(), current.seed.to_string()),
        (
            "answer tokens",
            base.answer_tokens.to_string(),
            current.answer_tokens.to_string(),
        ),
        (
            "prices",
            base.price_source.clone(),
            current.price_source.clone(),
        ),
        ("stream", b.stream.to_string(), c.stream.to_string()),
        (
            "temperature",
            format!("{:?}", b.temperature),
            format!("{:?}", c.temperature),
        ),
        (
            "json_schema",
            b.json_schema.to_string(),
            c.json_schema.to_string(),
        ),
        (
            "max retries",
            b.max_retries.to_string(),
            c.max_retries.to_string(),
        ),
    ];
    fields
        .into_iter()
        .filter(|(_, b, c)| b != c)
        .map(|(name, b, c)| format!("{name}: {b} (baseline) vs {c} (current)"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(parse_pct("5%"), Ok(5.0));
        assert_eq!(parse_pct(" 0.5 "), Ok(0.5));
        assert!(parse_pct("-1%").is_err());
        assert!(parse_pct("five").is_err());
        assert_eq!(change_pct(2.0, 3.0), Some(50.0));
        assert_eq!(change_pct(0.0, 0.0), Some(0.0));
        assert_eq!(change_pct(0.0, 1.0), None);
    }
}
