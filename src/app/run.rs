//! `batchbench run`: every strategy of the plan in order, the run folder rewritten after each.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use crate::bench::StrategyRun;
use crate::cli::{Format, RunArgs};
use crate::dataset::PromptSet;
use crate::error::{EXIT_FAILURES, EXIT_OK, Error, Result};
use crate::report::summary::RunStatus;
use crate::report::{self, RunInfo, RunReport};
use crate::strategy::StrategySpec;

use super::plan::{RunPlan, resolve_run, resolve_run_at};
use super::resume::{RESUME_FILE, ResumeState, load_done, resume_dir};
use super::session::Session;

/// Runs every strategy of the plan in order, rewriting the run folder after each one (so a crash
/// loses nothing finished) and skipping strategies a resumed journal marks done. A strategy that
/// fails is recorded failed with its reason and the others still run (unless `--fail-fast`);
/// once the Batch API is found missing, later Batch API strategies are recorded failed unsent.
/// On an error that stops the run, the rows so far are still written before it is returned.
pub(super) async fn run_all(
    mut session: Session,
    plan: &RunPlan,
) -> Result<(Vec<StrategyRun>, RunReport)> {
    let mut runs: Vec<StrategyRun> = Vec::new();
    let mut outcome = Ok(());
    let mut failed: Vec<String> = Vec::new();
    let mut no_batch_api: Option<String> = None;
    // Read every finished strategy before the folder is rewritten: one that ran after a failed
    // one is in the files now, but would not be after the next rewrite.
    let mut finished: std::collections::HashMap<String, StrategyRun> = plan
        .strategies
        .iter()
        .map(ToString::to_string)
        .filter(|label| session.is_done(label))
        .map(|label| load_done(&plan.out, &label).map(|run| (label, run)))
        .collect::<Result<_>>()?;
    for spec in &plan.strategies {
        let label = spec.to_string();
        if let Some(run) = finished.remove(&label) {
            runs.push(run);
            eprintln!("  {label:<24} already finished (from the run folder)");
            continue;
        }
        let skip = no_batch_api.as_deref().filter(|_| spec.uses_batch_api());
        match session.run_strategy(plan, *spec, skip).await {
            Ok(run) => {
                let (status, failure) = run.status_as_reported();
                let stop = plan.args.fail_fast && status != RunStatus::Complete;
                if let Some(reason) = failure.clone().filter(|r| crate::advice::no_batch_api(r)) {
                    no_batch_api = Some(reason);
                }
                runs.push(run);
                write_report(&plan.out, &session.info, &runs, &plan.set, false)?;
                if status == RunStatus::Failed && !refused(&failure) {
                    failed.push(label);
                } else {
                    session.strategy_done(&label)?;
                }
                if stop {
                    outcome = Err(Error::Provider(format!(
                        "--fail-fast: {spec} did not complete"
                    )));
                    break;
                }
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    if !failed.is_empty() && outcome.is_ok() {
        let others = if failed.len() < plan.strategies.len() {
            "; the others ran"
        } else {
            ""
        };
        eprintln!(
            "{} of {} strategies failed ({}){others}. Fix the cause and run \
             `batchbench run --resume {}` to finish them.",
            failed.len(),
            plan.strategies.len(),
            failed.join(", "),
            plan.run_id
        );
    }
    if outcome.is_ok() && plan.args.repeat_baseline {
        outcome = repeat_baseline(&mut session, plan, &mut runs).await;
    }
    let info = session.info.clone();
    session.finish().await;
    let report = write_report(&plan.out, &info, &runs, &plan.set, true)?;
    outcome.map_err(|e| match e {
        Error::Fatal(m) | Error::Provider(m) => Error::Fatal(format!(
            "{m}; once the cause is fixed, `batchbench run --resume {}` runs what did not finish",
            plan.run_id
        )),
        other => other,
    })?;
    Ok((runs, report))
}

/// `--repeat-baseline`: sends `sequential` once more and records it as
/// [`report::summary::REPEAT`], so that its agreement with the first is the noise floor.
/// Whether a failure is the provider not offering the strategy at all: `--resume` cannot help.
fn refused(failure: &Option<String>) -> bool {
    failure.as_deref().is_some_and(crate::advice::not_offered)
}

async fn repeat_baseline(
    session: &mut Session,
    plan: &RunPlan,
    runs: &mut Vec<StrategyRun>,
) -> Result<()> {
    let label = report::summary::REPEAT;
    if !plan.strategies.contains(&StrategySpec::Sequential) {
        return Ok(());
    }
    if session.is_done(label) {
        runs.push(load_done(&plan.out, label)?);
        return Ok(());
    }
    let mut run = session
        .run_strategy(plan, StrategySpec::Sequential, None)
        .await?;
    run.strategy = label.to_string();
    run.prompts
        .iter_mut()
        .for_each(|p| p.strategy = label.to_string());
    run.requests
        .iter_mut()
        .for_each(|r| r.strategy = label.to_string());
    runs.push(run);
    write_report(&plan.out, &session.info, runs, &plan.set, false)?;
    session.strategy_done(label)
}

/// `batchbench run`.
pub async fn run(args: &RunArgs) -> Result<i32> {
    let (plan, journal) = match &args.resume {
        Some(id) => {
            let dir = resume_dir(id);
            let state_path = dir.join(RESUME_FILE);
            let text = std::fs::read_to_string(&state_path).map_err(|e| {
                Error::RunFiles(format!(
                    "{}: cannot resume run {id:?}: {e}",
                    state_path.display()
                ))
            })?;
            let state: ResumeState = serde_json::from_str(&text).map_err(|e| {
                Error::RunFiles(format!(
                    "{}: not a batchbench resume file: {e}",
                    state_path.display()
                ))
            })?;
            let started = chrono::DateTime::parse_from_rfc3339(&state.started_at).map_err(|e| {
                Error::RunFiles(format!("{}: bad started_at: {e}", state_path.display()))
            })?;
            let mut saved = state.args;
            saved.out = Some(dir.clone());
            saved.quiet |= args.quiet;
            let plan = resolve_run_at(&saved, Some((state.run_id, SystemTime::from(started))))?;
            let journal = crate::runner::journal::Journal::resume(&dir)?;
            eprintln!("resuming run {} in {}", plan.run_id, dir.display());
            (plan, journal)
        }
        None => {
            let plan = resolve_run(args)?;
            std::fs::create_dir_all(&plan.out).map_err(|e| Error::write(&plan.out, e))?;
            let mut saved = plan.args.clone();
            saved.out = Some(plan.out.clone());
            let state = ResumeState {
                run_id: plan.run_id.clone(),
                started_at: plan.pricing.source().as_of.clone(),
                args: saved,
            };
            let bytes =
                serde_json::to_vec_pretty(&state).map_err(|e| Error::Output(e.to_string()))?;
            report::write_atomic(&plan.out.join(RESUME_FILE), &bytes)?;
            let journal = crate::runner::journal::Journal::create(&plan.out)?;
            (plan, journal)
        }
    };
    let journal = (plan.embed_strategies.is_empty()).then_some(journal);
    let session = Session::start_with(&plan, journal).await?;
    std::fs::create_dir_all(&plan.out).map_err(|e| Error::write(&plan.out, e))?;
    let report = if plan.embed_strategies.is_empty() {
        run_all(session, &plan).await?.1
    } else {
        crate::embed::run_all(session, &plan).await?
    };
    print_summary(&report, plan.args.format.unwrap_or(Format::Table))?;
    eprintln!("wrote {}", plan.out.display());
    record_history(&plan.args, &plan.out)?;
    let failed = report
        .summaries
        .iter()
        .filter(|s| !s.demonstration)
        .any(|s| s.failed > 0);
    Ok(if failed { EXIT_FAILURES } else { EXIT_OK })
}

/// Appends a finished run folder to `--history`, when given.
pub(super) fn record_history(args: &RunArgs, out: &Path) -> Result<()> {
    if let Some(h) = &args.history {
        crate::history::record(h, out, args.commit.as_deref(), args.branch.as_deref())?;
    }
    Ok(())
}

/// Writes a run's files from its strategies' records; `full`: every exporter (charts, HTML,
/// Markdown), else only the row files and `run.json`.
pub fn write_report(
    out: &Path,
    info: &RunInfo,
    runs: &[StrategyRun],
    set: &PromptSet,
    full: bool,
) -> Result<RunReport> {
    let mut prompts: Vec<_> = runs
        .iter()
        .flat_map(|r| r.prompts.iter().cloned())
        .collect();
    crate::grade::mark_agreement(&mut prompts, Some(set));
    let requests = runs
        .iter()
        .flat_map(|r| r.requests.iter().cloned())
        .collect();
    write_rows(out, info.clone(), prompts, requests, full)
}

/// Builds the report from rows and writes the exporters' files into `out` (`full`: all of them,
/// else the row files and `run.json`).
pub fn write_rows(
    out: &Path,
    info: RunInfo,
    prompts: Vec<crate::record::PromptRecord>,
    requests: Vec<crate::record::RequestRecord>,
    full: bool,
) -> Result<RunReport> {
    let report = RunReport::new(info, prompts, requests);
    let exporters = if full {
        report::standard_exporters()
    } else {
        report::row_exporters()
    };
    let refs: Vec<&dyn report::Exporter> = exporters.iter().map(|e| e.as_ref()).collect();
    report::write_all(out, &report, &refs)?;
    Ok(report)
}

/// Prints the per-strategy summary on stdout in the chosen format.
pub fn print_summary(report: &RunReport, format: Format) -> Result<()> {
    let text = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report.summaries)
                .map_err(|e| Error::Output(e.to_string()))?;
            s.push('\n');
            s
        }
        Format::Table => crate::report::table::render(report, false),
        Format::Md => crate::report::table::render(report, true),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    Ok(())
}
