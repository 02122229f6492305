//! `batchbench sweep`: the batch-size sweep command.

use std::path::PathBuf;

use crate::cli::{Format, SweepArgs};
use crate::error::{EXIT_FAILURES, EXIT_OK, Error, Result};
use crate::report::summary::RunStatus;

use super::plan::{resolve_run, usage};
use super::run::{record_history, run_all};
use super::session::Session;

/// `batchbench sweep`.
pub async fn sweep_command(args: &SweepArgs) -> Result<i32> {
    use crate::sweep;
    if args.run.strategies.is_some() {
        return Err(usage(
            "sweep chooses its own strategies from --sizes; drop --strategies",
        ));
    }
    if args.run.shard.is_some() {
        return Err(usage("sweep cannot be sharded; drop --shard"));
    }
    if !args.max_accuracy_drop.is_finite() || args.max_accuracy_drop < 0.0 {
        return Err(usage("--max-accuracy-drop must be 0 or more points"));
    }
    let sizes = sweep::parse_sizes(&args.sizes)?;
    let slo = args
        .latency_slo
        .as_deref()
        .map(|s| sweep::parse_duration(s).map_err(|e| usage(format!("--latency-slo: {e}"))))
        .transpose()?;
    let specs = sweep::strategies(&sizes, !args.no_batch_api);
    let mut run_args = args.run.clone();
    run_args.strategies = Some(
        specs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    let mut plan = resolve_run(&run_args)?;
    if args.run.out.is_none() {
        plan.out = PathBuf::from("reports").join(format!("{}-sweep", plan.run_id));
    }
    let session = Session::start(&plan).await?;
    std::fs::create_dir_all(&plan.out).map_err(|e| Error::write(&plan.out, e))?;
    let (runs, report) = run_all(session, &plan).await?;
    let lowered: Vec<String> = runs
        .iter()
        .filter(|r| r.warnings.iter().any(|w| w.contains("lowering K")))
        .map(|r| r.strategy.clone())
        .collect();
    let constraints = sweep::Constraints {
        max_accuracy_drop_pts: args.max_accuracy_drop,
        latency_slo: slo,
    };
    let candidates = sweep::recommend(&report.summaries, constraints, &lowered);
    sweep::write_csv(&plan.out, &candidates)?;
    let batchless = report.summaries.iter().any(|s| {
        s.failure
            .as_deref()
            .is_some_and(crate::advice::no_batch_api)
    });
    if batchless {
        eprintln!(
            "the server has no Batch API: batch-api+packed:K are reported failed and the sweep \
             stands on packed:K alone (pass --no-batch-api to skip them)"
        );
    }
    let other_failures = report.summaries.iter().any(|s| {
        s.status == RunStatus::Failed
            && !s
                .failure
                .as_deref()
                .is_some_and(crate::advice::no_batch_api)
    });
    let markdown = plan.args.format == Some(Format::Md);
    if plan.args.format == Some(Format::Json) {
        println!(
            "{}",
            serde_json::to_string_pretty(&candidates).map_err(|e| Error::Output(e.to_string()))?
        );
    } else {
        print!("{}", sweep::render(&candidates, constraints, markdown));
    }
    eprintln!("wrote {}", plan.out.display());
    record_history(&plan.args, &plan.out)?;
    Ok(if other_failures {
        EXIT_FAILURES
    } else {
        EXIT_OK
    })
}
