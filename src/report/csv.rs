//! `prompts.csv`, `requests.csv` and `summary.csv`: the rows every other report is computed from.

use serde::Serialize;

use super::{Exporter, RunReport};
use crate::error::{Error, Result};

fn to_csv<T: Serialize>(rows: &[T], what: &str) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row)
            .map_err(|e| Error::Input(format!("cannot write {what}: {e}")))?;
    }
    w.into_inner()
        .map_err(|e| Error::Input(format!("cannot write {what}: {e}")))
}

/// One row per prompt and strategy.
#[derive(Debug, Clone, Copy)]
pub struct PromptsCsv;

impl Exporter for PromptsCsv {
    fn file_name(&self) -> &'static str {
        "prompts.csv"
    }
    fn serialize(&self, report: &RunReport) -> Result<Vec<u8>> {
        to_csv(&report.prompts, "prompts.csv")
    }
}

/// One row per HTTP attempt or batch job.
#[derive(Debug, Clone, Copy)]
pub struct RequestsCsv;

impl Exporter for RequestsCsv {
    fn file_name(&self) -> &'static str {
        "requests.csv"
    }
    fn serialize(&self, report: &RunReport) -> Result<Vec<u8>> {
        to_csv(&report.requests, "requests.csv")
    }
}

/// One row per strategy.
#[derive(Debug, Clone, Copy)]
pub struct SummaryCsv;

impl Exporter for SummaryCsv {
    fn file_name(&self) -> &'static str {
        "summary.csv"
    }
    fn serialize(&self, report: &RunReport) -> Result<Vec<u8>> {
        to_csv(&report.summaries, "summary.csv")
    }
}

/// Reads rows back from a CSV file written by these exporters.
pub fn read_rows<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<Vec<T>> {
    let mut r = csv::Reader::from_path(path)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    r.deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| Error::Input(format!("{}:{}: {e}", path.display(), i + 2))))
        .collect()
}
