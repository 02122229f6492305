//! Run history: every run appended to one SQLite file (`--history FILE`), so CI can follow cost
//! per 1,000 prompts, accuracy and latency across commits, and `compare history:BRANCH` can
//! use the latest stored run of a branch as its baseline. docs/HISTORY.md documents the schema.

pub mod chart;
pub mod git;
pub mod schema;
pub mod store;
pub mod trend;

use std::path::{Path, PathBuf};

use crate::cli::{HistoryAction, HistoryArgs, HistoryFormat};
use crate::error::{EXIT_OK, Error, Result};
pub use store::{Filter, StoredRun};

use crate::compare::RunSide;

/// Appends the run in folder `dir` to the history file; commit and branch as given, else
/// detected. Returns the run's row id.
pub fn record(
    history: &Path,
    dir: &Path,
    commit: Option<&str>,
    branch: Option<&str>,
) -> Result<i64> {
    let (info, run_json, rows) = store::read_run_dir(dir)?;
    let git = git::detect(commit, branch);
    let mut conn = schema::open(history)?;
    let id = store::append(&mut conn, history, &info, &run_json, &git, &rows)?;
    eprintln!(
        "history: recorded {} as run {id} in {} (commit {}, branch {})",
        dir.display(),
        history.display(),
        git.commit_sha
            .as_deref()
            .map_or("unknown", |s| &s[..s.len().min(10)]),
        git.branch.as_deref().unwrap_or("unknown")
    );
    Ok(id)
}

/// The latest stored run on `branch` with the current run's dataset, leaving out the current
/// run itself when it was already recorded (same `run.json` and summaries: run ids alone can
/// repeat within a second, and latencies tell two otherwise equal runs apart).
pub fn baseline(history: &Path, branch: &str, current: &RunSide) -> Result<StoredRun> {
    let dataset_sha256 = current.info.dataset_sha256.as_str();
    if !history.is_file() {
        return Err(Error::History(format!(
            "{}: no such history file",
            history.display()
        )));
    }
    let conn = schema::open(history)?;
    let filter = Filter {
        branch: Some(branch.to_string()),
        dataset_sha256: Some(dataset_sha256.to_string()),
        ..Filter::default()
    };
    store::load(&conn, history, &filter)?
        .into_iter()
        .rev()
        .find(|r| {
            r.info != current.info
                || r.to_side("")
                    .is_ok_and(|side| side.summaries != current.summaries)
        })
        .ok_or_else(|| {
            Error::History(format!(
                "{}: no run on branch {branch:?} with dataset sha256 {}…",
                history.display(),
                dataset_sha256.get(..12).unwrap_or(dataset_sha256)
            ))
        })
}

/// The history file: `--history`, else `history` in ./bench.toml.
fn history_file(given: Option<&PathBuf>) -> Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    let (config, _) = crate::config::BenchConfig::for_run(&crate::cli::RunArgs::default())?;
    config.history.ok_or_else(|| {
        Error::Usage(
            "no history file: give --history FILE (or history = \"FILE\" in bench.toml)".into(),
        )
    })
}

/// `batchbench history` and `batchbench history import`.
pub fn command(args: &HistoryArgs) -> Result<i32> {
    let path = history_file(args.history.as_ref())?;
    if let Some(HistoryAction::Import {
        dirs,
        commit,
        branch,
    }) = &args.action
    {
        for dir in dirs {
            record(&path, dir, commit.as_deref(), branch.as_deref())?;
        }
        return Ok(EXIT_OK);
    }
    if !path.is_file() {
        return Err(Error::History(format!(
            "{}: no such history file",
            path.display()
        )));
    }
    let conn = schema::open(&path)?;
    let filter = Filter {
        branch: args.branch.clone(),
        model: args.model.clone(),
        dataset: args.dataset.clone(),
        dataset_sha256: None,
        last: Some(args.last),
    };
    let runs = store::load(&conn, &path, &filter)?;
    let points = trend::points(&runs);
    let text = match args.format {
        HistoryFormat::Table => trend::render(&points, false),
        HistoryFormat::Md => trend::render(&points, true),
        HistoryFormat::Mermaid => format!(
            "{}{}",
            trend::render(&points, true),
            trend::mermaid(&points)
        ),
        HistoryFormat::Csv => trend::to_csv(&points)?,
        HistoryFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&points).map_err(|e| Error::History(e.to_string()))?
        ),
    };
    print!("{text}");
    if let Some(dir) = &args.charts {
        for f in chart::write_all(dir, &points, &trend::render(&points, true))? {
            eprintln!("wrote {f}");
        }
    }
    Ok(EXIT_OK)
}
