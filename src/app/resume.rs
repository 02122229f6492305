//! Resuming an interrupted run: the saved options and the finished strategies read back from
//! the run folder.

use std::path::{Path, PathBuf};

use crate::bench::StrategyRun;
use crate::cli::RunArgs;
use crate::error::Result;
use crate::report::{self};
use crate::strategy::StrategySpec;

/// What `run` saves to resume an interrupted run with the same options.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct ResumeState {
    pub(super) run_id: String,
    pub(super) started_at: String,
    pub(super) args: RunArgs,
}

pub(super) const RESUME_FILE: &str = "resume.json";

pub(super) fn resume_dir(id: &str) -> PathBuf {
    let p = PathBuf::from(id);
    if p.join(RESUME_FILE).is_file() {
        p
    } else {
        PathBuf::from("reports").join(id)
    }
}

/// Rebuilds a finished strategy's records from the run folder's CSV files.
pub(super) fn load_done(out: &Path, strategy: &str) -> Result<StrategyRun> {
    let prompts: Vec<crate::record::PromptRecord> =
        report::csv::read_rows(&out.join("prompts.csv"))?;
    let requests: Vec<crate::record::RequestRecord> =
        report::csv::read_rows(&out.join("requests.csv"))?;
    let spec: StrategySpec = strategy.parse()?;
    Ok(StrategyRun {
        strategy: strategy.to_string(),
        batch_size: spec.batch_size(),
        demonstration: spec.build().is_demonstration(),
        prompts: prompts
            .into_iter()
            .filter(|p| p.strategy == strategy)
            .collect(),
        requests: requests
            .into_iter()
            .filter(|r| r.strategy == strategy)
            .collect(),
        warnings: Vec::new(),
    })
}
