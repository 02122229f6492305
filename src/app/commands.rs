//! The small commands: `gen`, `mock` and `compare`.

use std::io::Write;

use crate::cli::{CompareArgs, Format, GenArgs, MockArgs};
use crate::dataset::{self};
use crate::error::{EXIT_FAILURES, EXIT_OK, Error, Result};
use crate::mock::{MockConfig, Oracle};

use super::plan::usage;

/// `batchbench gen`.
pub fn gen_command(args: &GenArgs) -> Result<i32> {
    if args.count == 0 {
        return Err(usage("--count must be at least 1"));
    }
    let write = |mut w: &mut dyn Write| -> std::io::Result<()> {
        match args.kind {
            crate::cli::GenKind::Chat => dataset::synth::generate_to(&mut w, args.count, args.seed),
            crate::cli::GenKind::Embed => {
                crate::embed::dataset::generate_to(&mut w, args.count, args.seed)
            }
        }
    };
    let what = match args.kind {
        crate::cli::GenKind::Chat => "prompts",
        crate::cli::GenKind::Embed => "texts",
    };
    match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| Error::write(path, e))?;
            let mut w = std::io::BufWriter::new(file);
            write(&mut w).map_err(|e| Error::io(path, e))?;
            w.flush().map_err(|e| Error::write(path, e))?;
            eprintln!(
                "wrote {} {what} (seed {}) to {}",
                args.count,
                args.seed,
                path.display()
            );
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            let _ = write(&mut w).and_then(|_| w.flush());
        }
    }
    Ok(EXIT_OK)
}

/// `batchbench mock`.
pub async fn mock_command(args: &MockArgs) -> Result<i32> {
    let mut config = match &args.config {
        Some(p) => MockConfig::load(p)?,
        None => MockConfig::default(),
    };
    if let Some(k) = &args.api_key {
        config.api_key = Some(k.clone());
    }
    if let Some(t) = args.time_scale {
        if !t.is_finite() || t < 0.0 {
            return Err(usage("--time-scale must be 0 or more"));
        }
        config.time_scale = t;
    }
    if let Some(s) = args.seed {
        config.seed = s;
    }
    let oracle = match &args.dataset {
        Some(p) => Oracle::from_prompt_set(&dataset::load(p, None)?),
        None => Oracle::empty(),
    };
    crate::mock::run_standalone(config, oracle, args.port).await?;
    Ok(EXIT_OK)
}

/// `batchbench compare`.
pub fn compare_command(args: &CompareArgs) -> Result<i32> {
    use crate::compare::{Thresholds, compare, load_side, parse_pct, render};
    let t = Thresholds {
        max_cost_increase_pct: parse_pct(&args.max_cost_increase)
            .map_err(|e| usage(format!("--max-cost-increase: {e}")))?,
        max_accuracy_drop_pts: parse_pct(&args.max_accuracy_drop)
            .map_err(|e| usage(format!("--max-accuracy-drop: {e}")))?,
        max_p95_increase_pct: parse_pct(&args.max_p95_increase)
            .map_err(|e| usage(format!("--max-p95-increase: {e}")))?,
    };
    // A folder baseline is read first, so that with both sides missing the error names it; a
    // history baseline needs the current run's dataset to be found.
    let (base, current) = match args
        .baseline
        .to_str()
        .and_then(|b| b.strip_prefix("history:"))
    {
        None => {
            let base = load_side(&args.baseline)?;
            (base, load_side(&args.current)?)
        }
        Some(branch) => {
            let current = load_side(&args.current)?;
            let base = {
                let file = args
                    .history
                    .as_ref()
                    .ok_or_else(|| usage("a history:BRANCH baseline needs --history FILE"))?;
                let run = crate::history::baseline(file, branch, &current)?;
                let commit = run.git.commit_sha.as_deref().unwrap_or("unknown commit");
                run.to_side(&format!(
                    "history:{branch} run {} (commit {})",
                    run.id,
                    &commit[..commit.len().min(10)]
                ))?
            };
            (base, current)
        }
    };
    let rows = compare(&base, &current, t, args.allow_dataset_change)?;
    let text = match args.format {
        Format::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "strategy": r.strategy,
                        "cost_change_pct": r.cost_change_pct,
                        "accuracy_change_pts": r.accuracy_change_pts,
                        "p95_change_pct": r.p95_change_pct,
                        "regressions": r.regressions,
                    })
                })
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&v).map_err(|e| Error::Output(e.to_string()))?
            )
        }
        Format::Md => render(&rows, &base, &current, true),
        Format::Table => render(&rows, &base, &current, false),
    };
    print!("{text}");
    let regressed = rows.iter().any(|r| !r.regressions.is_empty());
    Ok(if regressed { EXIT_FAILURES } else { EXIT_OK })
}
