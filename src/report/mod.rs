//! Reports: summary statistics and one exporter per output format, each writing one file of the
//! run's folder from the same [`RunReport`].

pub mod cache;
pub mod charts;
pub mod csv;
pub mod economics;
pub mod format;
pub mod html;
pub mod json;
pub mod markdown;
pub mod quality;
pub mod run_info;
pub mod summary;
pub mod table;
pub mod tabular;
pub mod tiers;

use std::path::{Path, PathBuf};

pub use run_info::RunInfo;
pub use summary::{StrategySummary, summarise_all};

use crate::error::{Error, Result};
use crate::record::{PromptRecord, RequestRecord};

/// Everything a run produced: what every exporter reads.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Run metadata (`run.json`).
    pub info: RunInfo,
    /// One row per prompt and strategy.
    pub prompts: Vec<PromptRecord>,
    /// One row per attempt or batch job.
    pub requests: Vec<RequestRecord>,
    /// One row per strategy, computed from the rows above.
    pub summaries: Vec<StrategySummary>,
}

impl RunReport {
    /// Builds the report, computing the summaries from the rows.
    pub fn new(
        info: RunInfo,
        prompts: Vec<PromptRecord>,
        requests: Vec<RequestRecord>,
    ) -> RunReport {
        let mut summaries = summarise_all(&prompts, &requests);
        if let Some(usd) = info.options.price_per_hour_usd {
            summary::price_wall_time(&mut summaries, usd);
        }
        if let Some(e) = &info.economics {
            if let Some(rates) = &e.cache {
                cache::fill_break_even(&mut summaries, &requests, e.input_usd_per_mtok, rates);
            }
        }
        if let Some(tolerance) = info.vector_tolerance {
            summaries.iter_mut().for_each(|s| s.flag_vectors(tolerance));
        }
        RunReport {
            info,
            prompts,
            requests,
            summaries,
        }
    }
}

/// One output format.
pub trait Exporter {
    /// The file name inside the run folder.
    fn file_name(&self) -> &'static str;

    /// The file's bytes.
    fn serialize(&self, report: &RunReport) -> Result<Vec<u8>>;

    /// Every file this exporter writes, as (path relative to the run folder, bytes). One file by
    /// default; exporters that write several files (the charts) override it.
    fn files(&self, report: &RunReport) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(vec![(
            self.file_name().to_string(),
            self.serialize(report)?,
        )])
    }
}

/// Writes each exporter's file into `dir` (atomically: a temporary file renamed into place).
pub fn write_all(
    dir: &Path,
    report: &RunReport,
    exporters: &[&dyn Exporter],
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    let mut written = Vec::new();
    for exporter in exporters {
        for (name, bytes) in exporter.files(report)? {
            let path = dir.join(&name);
            if let Some(parent) = path.parent().filter(|p| *p != dir) {
                std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
            }
            write_atomic(&path, &bytes)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Writes a file via a temporary sibling and a rename, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| Error::write(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::write(path, e))
}

/// The exporters of a `run`, in the order their files are written.
pub fn standard_exporters() -> Vec<Box<dyn Exporter>> {
    let mut all = row_exporters();
    all.push(Box::new(json::ReportJson));
    all.push(Box::new(markdown::ReportMarkdown));
    all.push(Box::new(charts::Charts));
    all.push(Box::new(html::ReportHtml));
    all
}

/// The row files and `run.json` only: what a run rewrites after each strategy so a crash loses
/// nothing finished, without re-rendering charts and HTML every time.
pub fn row_exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(csv::PromptsCsv),
        Box::new(csv::RequestsCsv),
        Box::new(csv::SummaryCsv),
        Box::new(run_info::RunJson),
    ]
}
