//! `report.json`: the whole report in one versioned document (run facts, per-strategy summaries,
//! the findings and every chart's data), for tools and dashboards. Its fields are documented in
//! `docs/REPORT-SCHEMA.md`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::charts::ChartData;
use super::run_info::SCHEMA_VERSION;
use super::{Exporter, RunInfo, RunReport, StrategySummary};
use crate::error::{Error, Result};

/// The schema version of `report.json` (shared with `run.json`). Bumped when a field changes
/// meaning or is removed; adding a field does not bump it.
pub const REPORT_SCHEMA_VERSION: u32 = SCHEMA_VERSION;

/// The contents of `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportDocument {
    /// Schema version of this document ([`REPORT_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The program that wrote it, e.g. `batchbench 0.1.0`.
    pub generator: String,
    /// Run facts, as in `run.json`.
    pub info: RunInfo,
    /// The strategy savings are measured against (`sequential`), when it ran.
    pub baseline: Option<String>,
    /// One entry per strategy, as the rows of `summary.csv`.
    pub summaries: Vec<StrategySummary>,
    /// The "what this means" sentences of `report.md`, computed from the summaries.
    pub findings: Vec<String>,
    /// What each chart draws.
    pub charts: ChartData,
}

impl ReportDocument {
    /// Builds the document from a report.
    pub fn from_report(report: &RunReport) -> ReportDocument {
        ReportDocument {
            schema_version: REPORT_SCHEMA_VERSION,
            generator: format!("batchbench {}", env!("CARGO_PKG_VERSION")),
            info: report.info.clone(),
            baseline: report
                .summaries
                .iter()
                .find(|s| s.strategy == crate::strategy::BASELINE)
                .map(|s| s.strategy.clone()),
            summaries: report.summaries.clone(),
            findings: super::markdown::findings(report)
                .into_iter()
                .chain(super::quality::quality_findings(report))
                .collect(),
            charts: ChartData::from_report(report),
        }
    }

    /// Reads a `report.json`, refusing a newer schema than this program knows.
    pub fn read(path: &Path) -> Result<ReportDocument> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let version: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::RunFiles(format!("{}: {e}", path.display())))?;
        match version
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(v) if v <= u64::from(REPORT_SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(Error::RunFiles(format!(
                    "{}: schema_version {v} is newer than this batchbench understands ({REPORT_SCHEMA_VERSION})",
                    path.display()
                )));
            }
            None => {
                return Err(Error::RunFiles(format!(
                    "{}: no schema_version: not a batchbench report.json",
                    path.display()
                )));
            }
        }
        serde_json::from_value(version)
            .map_err(|e| Error::RunFiles(format!("{}: {e}", path.display())))
    }
}

/// Writes `report.json`.
#[derive(Debug, Clone, Copy)]
pub struct ReportJson;

impl Exporter for ReportJson {
    fn file_name(&self) -> &'static str {
        "report.json"
    }

    fn serialize(&self, report: &RunReport) -> Result<Vec<u8>> {
        let doc = ReportDocument::from_report(report);
        let mut v = serde_json::to_vec_pretty(&doc)
            .map_err(|e| Error::Output(format!("cannot write report.json: {e}")))?;
        v.push(b'\n');
        Ok(v)
    }
}
