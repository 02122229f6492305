//! `prompts.csv`, `requests.csv` and `summary.csv`: the rows every other report is computed from.
//!
//! Cells that hold model output, dataset text or server messages are written so that a
//! spreadsheet does not run them as formulas (OWASP "CSV Injection": a cell beginning with `=`,
//! `+`, `-`, `@`, tab or carriage return gets a leading `'`; so does one already beginning with
//! `'`, so that reading back is exact). [`read_rows`] removes the mark again.

use serde::Serialize;

use super::{Exporter, RunReport};
use crate::error::{Error, Result};

/// Columns whose text comes from outside batchbench (the dataset, the model, the server).
const TEXT_COLUMNS: &[&str] = &[
    "prompt_id",
    "request_id",
    "server_id",
    "answer",
    "gold",
    "error",
    "failure",
];

/// Characters a spreadsheet may read as the start of a formula (OWASP), plus the mark itself.
fn needs_mark(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\''])
}

/// The cell as written: marked with a leading `'` when a spreadsheet could run it.
pub fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_mark(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The cell as it was before [`defuse`].
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_mark(rest) => rest,
        _ => cell,
    }
}

fn to_csv<T: Serialize>(rows: &[T], what: &str) -> Result<Vec<u8>> {
    let bad = |e: &dyn std::fmt::Display| Error::Output(format!("cannot write {what}: {e}"));
    let mut plain = csv::Writer::from_writer(Vec::new());
    for row in rows {
        plain.serialize(row).map_err(|e| bad(&e))?;
    }
    let plain = plain.into_inner().map_err(|e| bad(&e))?;
    // Serde writes the cells; a second pass marks the text columns by header name.
    let mut r = csv::Reader::from_reader(plain.as_slice());
    let headers = r.headers().map_err(|e| bad(&e))?.clone();
    let text: Vec<bool> = headers.iter().map(|h| TEXT_COLUMNS.contains(&h)).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    if !headers.is_empty() {
        w.write_record(&headers).map_err(|e| bad(&e))?;
    }
    for record in r.records() {
        let record = record.map_err(|e| bad(&e))?;
        let cells: csv::StringRecord = record
            .iter()
            .zip(&text)
            .map(|(cell, &t)| if t { defuse(cell) } else { cell.into() })
            .collect();
        w.write_record(&cells).map_err(|e| bad(&e))?;
    }
    w.into_inner().map_err(|e| bad(&e))
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

/// Reads rows back from a CSV file written by these exporters, text cells restored.
pub fn read_rows<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<Vec<T>> {
    let at = |line: usize, e: &dyn std::fmt::Display| {
        Error::RunFiles(format!("{}:{line}: {e}", path.display()))
    };
    let mut r = csv::Reader::from_path(path)
        .map_err(|e| Error::RunFiles(format!("{}: {e}", path.display())))?;
    let headers = r.headers().map_err(|e| at(1, &e))?.clone();
    let text: Vec<bool> = headers.iter().map(|h| TEXT_COLUMNS.contains(&h)).collect();
    r.records()
        .enumerate()
        .map(|(i, record)| {
            let record = record.map_err(|e| at(i + 2, &e))?;
            let restored: csv::StringRecord = record
                .iter()
                .zip(&text)
                .map(|(cell, &t)| if t { restore(cell) } else { cell })
                .collect();
            restored
                .deserialize(Some(&headers))
                .map_err(|e| at(i + 2, &e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_marked_and_restored() {
        for cell in [
            "=1+1", "+1", "-5", "@SUM(A1)", "\tx", "\rx", "'quoted", "''", "'=x",
        ] {
            let written = defuse(cell);
            assert!(written.starts_with('\''), "{cell:?} → {written:?}");
            assert_eq!(restore(&written), cell);
        }
        for cell in ["Positive", "42", "", "a=b", "a'"] {
            assert_eq!(defuse(cell), cell);
            assert_eq!(restore(cell), cell);
        }
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Row {
        answer: Option<String>,
        cost: i64,
    }

    #[test]
    fn text_columns_round_trip_and_numbers_stay_plain() {
        let rows = vec![
            Row {
                answer: Some("=HYPERLINK(\"x\")".into()),
                cost: -3,
            },
            Row {
                answer: None,
                cost: 4,
            },
        ];
        let bytes = to_csv(&rows, "t").unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text, "answer,cost\n\"'=HYPERLINK(\"\"x\"\")\",-3\n,4\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(read_rows::<Row>(&path).unwrap(), rows);
    }
}
