//! Appending runs to the history file and reading them back. A strategy's summary is stored as
//! the `summary.csv` row itself (column name → cell text, as JSON), so columns added to the
//! summary later are recorded without a schema change.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, TransactionBehavior, params};

use super::git::GitInfo;
use super::schema::db_error;
use crate::compare::RunSide;
use crate::error::{Error, Result};
use crate::report::{RunInfo, StrategySummary};

/// One strategy's `summary.csv` row: column name → cell text (empty: no value).
pub type SummaryRow = BTreeMap<String, String>;

/// A run's strategies with their summary rows, in `summary.csv` order.
pub type StrategyRows = Vec<(String, SummaryRow)>;

/// A run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    /// Row id in `runs` (increases with every append).
    pub id: i64,
    /// The run's `run.json`.
    pub info: RunInfo,
    /// Commit, branch and commit time.
    pub git: GitInfo,
    /// When it was appended (RFC 3339).
    pub recorded_at: String,
    /// Strategy id and its summary row, in `summary.csv` order.
    pub strategies: StrategyRows,
}

impl StoredRun {
    /// The summary row of one strategy.
    pub fn strategy(&self, name: &str) -> Option<&SummaryRow> {
        self.strategies
            .iter()
            .find(|(s, _)| s == name)
            .map(|(_, r)| r)
    }

    /// The run as a `compare` side: the summaries are rebuilt through the same CSV reader as
    /// `summary.csv`, so a stored row means exactly what the file meant.
    pub fn to_side(&self, label: &str) -> Result<RunSide> {
        let mut columns: Vec<&str> = Vec::new();
        for (_, row) in &self.strategies {
            for c in row.keys() {
                if !columns.contains(&c.as_str()) {
                    columns.push(c);
                }
            }
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        let bad = |e: csv::Error| Error::History(format!("history run {}: {e}", self.id));
        w.write_record(&columns).map_err(bad)?;
        for (_, row) in &self.strategies {
            w.write_record(
                columns
                    .iter()
                    .map(|c| row.get(*c).map_or("", String::as_str)),
            )
            .map_err(bad)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| Error::History(format!("history run {}: {e}", self.id)))?;
        let summaries = csv::Reader::from_reader(bytes.as_slice())
            .deserialize::<StrategySummary>()
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(bad)?;
        Ok(RunSide {
            path: label.into(),
            info: self.info.clone(),
            summaries,
        })
    }
}

/// Reads a run folder's `run.json` and `summary.csv` as they are on disk.
pub fn read_run_dir(dir: &Path) -> Result<(RunInfo, String, StrategyRows)> {
    let side = crate::compare::load_side(dir)?;
    if !dir.is_dir() {
        return Err(Error::History(format!(
            "{}: not a run folder (with run.json and summary.csv)",
            dir.display()
        )));
    }
    let info_path = dir.join("run.json");
    let run_json = std::fs::read_to_string(&info_path).map_err(|e| Error::io(&info_path, e))?;
    let path = dir.join("summary.csv");
    let mut r = csv::Reader::from_path(&path)
        .map_err(|e| Error::History(format!("{}: {e}", path.display())))?;
    let headers = r
        .headers()
        .map_err(|e| Error::History(format!("{}: {e}", path.display())))?
        .clone();
    let mut rows = Vec::new();
    for record in r.records() {
        let record = record.map_err(|e| Error::History(format!("{}: {e}", path.display())))?;
        let row: SummaryRow = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect();
        let strategy = row.get("strategy").cloned().unwrap_or_default();
        rows.push((strategy, row));
    }
    Ok((side.info, run_json, rows))
}

/// Appends one run (its `run.json` text and summary rows) in one transaction; returns its id.
pub fn append(
    conn: &mut Connection,
    path: &Path,
    info: &RunInfo,
    run_json: &str,
    git: &GitInfo,
    rows: &[(String, SummaryRow)],
) -> Result<i64> {
    let db = |e| db_error(path, e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    tx.execute(
        "INSERT INTO runs (run_id, started_at, recorded_at, commit_sha, branch, commit_time,
            tool_version, provider, model, endpoint, dataset, dataset_sha256, prompts, price_source, run_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            info.run_id,
            info.started_at,
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            git.commit_sha,
            git.branch,
            git.commit_time,
            info.tool_version,
            info.provider,
            info.model,
            info.endpoint,
            info.dataset,
            info.dataset_sha256,
            info.prompts as i64,
            info.price_source,
            run_json,
        ],
    )
    .map_err(db)?;
    let id = tx.last_insert_rowid();
    for (position, (strategy, row)) in rows.iter().enumerate() {
        let summary = serde_json::to_string(row).map_err(|e| Error::History(e.to_string()))?;
        tx.execute(
            "INSERT INTO strategy_results (run, position, strategy, summary) VALUES (?1, ?2, ?3, ?4)",
            params![id, position as i64, strategy, summary],
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)?;
    Ok(id)
}

/// Which runs to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this branch.
    pub branch: Option<String>,
    /// Only this model.
    pub model: Option<String>,
    /// Only this dataset: its name, or a prefix of its sha256.
    pub dataset: Option<String>,
    /// Only runs on this dataset hash exactly.
    pub dataset_sha256: Option<String>,
    /// At most this many of the latest runs (none: all).
    pub last: Option<usize>,
}

/// The runs matching `filter`, oldest first (the latest `last` of them).
pub fn load(conn: &Connection, path: &Path, filter: &Filter) -> Result<Vec<StoredRun>> {
    let db = |e| db_error(path, e);
    let mut stmt = conn
        .prepare(
            "SELECT id, recorded_at, commit_sha, branch, commit_time, run_json FROM runs
             WHERE (?1 IS NULL OR branch = ?1)
               AND (?2 IS NULL OR model = ?2)
               AND (?3 IS NULL OR dataset = ?3 OR dataset_sha256 LIKE ?3 || '%')
               AND (?4 IS NULL OR dataset_sha256 = ?4)
             ORDER BY id DESC LIMIT ?5",
        )
        .map_err(db)?;
    let limit = filter.last.map_or(-1, |n| n as i64);
    let heads = stmt
        .query_map(
            params![
                filter.branch,
                filter.model,
                filter.dataset,
                filter.dataset_sha256,
                limit
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    GitInfo {
                        commit_sha: r.get(2)?,
                        branch: r.get(3)?,
                        commit_time: r.get(4)?,
                    },
                    r.get::<_, String>(5)?,
                ))
            },
        )
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)?;
    let mut rows_stmt = conn
        .prepare("SELECT strategy, summary FROM strategy_results WHERE run = ?1 ORDER BY position")
        .map_err(db)?;
    let mut runs = Vec::with_capacity(heads.len());
    for (id, recorded_at, git, run_json) in heads.into_iter().rev() {
        let info: RunInfo = serde_json::from_str(&run_json).map_err(|e| {
            Error::History(format!("{}: run {id}: bad run.json: {e}", path.display()))
        })?;
        let strategies = rows_stmt
            .query_map([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?
            .into_iter()
            .map(|(s, json)| {
                serde_json::from_str::<SummaryRow>(&json)
                    .map(|row| (s, row))
                    .map_err(|e| {
                        Error::History(format!("{}: run {id}: bad summary: {e}", path.display()))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        runs.push(StoredRun {
            id,
            info,
            git,
            recorded_at,
            strategies,
        });
    }
    Ok(runs)
}
