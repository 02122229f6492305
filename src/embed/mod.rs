//! `run --task embed`: what batching saves on embeddings, the one API where several inputs in
//! one call is native. Texts ([`dataset`]) are planned into arrays ([`plan`]) per strategy
//! ([`strategy`]), sent through the shared runner or Batch API lifecycle ([`run`]), priced
//! ([`price`]) and checked for vector agreement with `embed:sequential` ([`agree`]); the rows
//! are the chat run's, so summaries, reports, charts, `compare` and history read them unchanged.
//! `estimate --task embed` ([`estimate`]) prices a corpus without sending anything.

pub mod agree;
pub mod dataset;
pub mod estimate;
pub mod plan;
pub mod price;
pub mod run;
pub mod strategy;

use crate::app::{RunPlan, Session};
use crate::cli::{RunArgs, VectorEncoding};
use crate::error::{Error, Result};
use crate::provider::ProviderKind;
use crate::report::{RunReport, summary::RunStatus};

/// The model of an embedding run without `--model`.
pub const DEFAULT_MODEL: &str = "text-embedding-3-small";

/// The agreement tolerance without `--vector-tolerance`.
pub const DEFAULT_TOLERANCE: f64 = 0.9999;

/// Checks the options only embedding runs have, and those they cannot use.
pub fn check_args(args: &RunArgs, provider: ProviderKind) -> Result<()> {
    let usage = |m: &str| Err(Error::Usage(m.to_string()));
    if provider == ProviderKind::Anthropic {
        return usage(
            "--task embed needs --provider openai (or an OpenAI-compatible --base-url): Anthropic has no embeddings API",
        );
    }
    if provider == ProviderKind::Gemini {
        return usage(
            "--task embed needs --provider openai (or an OpenAI-compatible --base-url): Gemini's embedContent is not implemented in batchbench yet",
        );
    }
    if let Some(t) = args.vector_tolerance {
        if !t.is_finite() || !(-1.0..=1.0).contains(&t) {
            return usage("--vector-tolerance is a cosine: between -1 and 1 (e.g. 0.9999)");
        }
    }
    if args.dimensions == Some(0) {
        return usage("--dimensions must be at least 1");
    }
    if args.stream || args.repeat_baseline || args.shard.is_some() {
        return usage(
            "--stream, --repeat-baseline and --shard apply to chat runs only, not --task embed",
        );
    }
    Ok(())
}

/// Runs every embedding strategy of the plan in order, rewriting the run folder after each, and
/// returns the final report. A strategy the server refuses fails alone (its rows say why).
pub async fn run_all(mut session: Session, plan: &RunPlan) -> Result<RunReport> {
    let tolerance = plan.args.vector_tolerance.unwrap_or(DEFAULT_TOLERANCE);
    session.info.task = Some("embed".into());
    session.info.vector_tolerance = Some(tolerance);
    session.info.dimensions = plan.args.dimensions;
    session.info.economics = None;
    session.info.answer_tokens = 0;
    session.info.strategies = plan
        .embed_strategies
        .iter()
        .map(ToString::to_string)
        .collect();
    let ctx = run::EmbedContext {
        set: &plan.set,
        provider: plan.provider,
        model: &plan.model,
        tokenizer: session.tokenizer,
        runner: &session.runner,
        pricing: &plan.pricing,
        poll: session.poll,
        progress: session.progress,
        dimensions: plan.args.dimensions,
        base64: plan.args.encoding.unwrap_or_default() == VectorEncoding::Base64,
    };
    let mut runs: Vec<run::EmbedRun> = Vec::new();
    let mut outcome = Ok(());
    for s in &plan.embed_strategies {
        let t = std::time::Instant::now();
        match run::run_strategy(*s, &ctx).await {
            Ok(r) => {
                report_line(&r, t.elapsed(), &mut session.info.warnings);
                runs.push(r);
                agree::mark(&mut runs);
                write(plan, &session, &runs, false)?;
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    let report = write(plan, &session, &runs, true)?;
    session.finish().await;
    outcome.map(|()| report)
}

fn report_line(r: &run::EmbedRun, took: std::time::Duration, warnings: &mut Vec<String>) {
    for w in &r.run.warnings {
        eprintln!("warning: {w}");
        warnings.push(w.clone());
    }
    let answered = r.run.prompts.iter().filter(|p| p.answered()).count();
    let (status, failure) = r.run.status();
    let flag = match status {
        RunStatus::Complete => "",
        RunStatus::Partial => "  (partial)",
        RunStatus::Failed => "  FAILED",
    };
    eprintln!(
        "  {:<28} {answered}/{} embedded in {:.1} s{flag}",
        r.run.strategy,
        r.run.prompts.len(),
        took.as_secs_f64()
    );
    if let Some(reason) = failure {
        eprintln!("    error: {reason}");
    }
}

fn write(
    plan: &RunPlan,
    session: &Session,
    runs: &[run::EmbedRun],
    full: bool,
) -> Result<RunReport> {
    let rows: Vec<crate::bench::StrategyRun> = runs.iter().map(|r| r.run.clone()).collect();
    crate::app::write_report(&plan.out, &session.info, &rows, &plan.set, full)
}
