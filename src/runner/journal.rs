//! The resume journal: an append-only JSONL file in the run folder, synced to disk after every
//! line, of what was sent and what came back. After a crash (even `kill -9`), `run --resume`
//! reads it back: completed requests are not sent again, submitted batches are polled by id
//! rather than resubmitted, and finished strategies are taken from the run's CSV files.
//!
//! Keys never enter it: it holds requests' ids, responses and errors only.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::Outcome;
use crate::error::{Error, Result};

/// The journal's file name inside the run folder.
pub const FILE_NAME: &str = "journal.jsonl";

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A request is about to be sent (its outcome may never be journaled if the run dies).
    Sending {
        /// Strategy id.
        strategy: String,
        /// `main` or `reask`.
        phase: String,
        /// Planned request id.
        request_id: String,
    },
    /// A request's final outcome, every attempt included.
    Outcome {
        /// Strategy id.
        strategy: String,
        /// `main` or `reask`.
        phase: String,
        /// Planned request id.
        request_id: String,
        /// The outcome.
        outcome: Outcome,
    },
    /// A batch was created at the provider.
    BatchSubmitted {
        /// Strategy id.
        strategy: String,
        /// The provider's batch id.
        batch_id: String,
        /// The custom ids it carries.
        custom_ids: Vec<String>,
        /// Milliseconds since the run's start.
        submitted_ms: f64,
    },
    /// A strategy finished and its rows are in the CSV files.
    StrategyDone {
        /// Strategy id.
        strategy: String,
    },
}

/// A batch recorded as submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmittedBatch {
    /// The provider's batch id.
    pub batch_id: String,
    /// The custom ids it carries.
    pub custom_ids: Vec<String>,
    /// Milliseconds since the original run's start.
    pub submitted_ms: f64,
}

/// What a journal already holds.
#[derive(Debug, Default)]
struct Replay {
    outcomes: HashMap<(String, String, String), Outcome>,
    sending: HashSet<(String, String, String)>,
    batches: HashMap<String, Vec<SubmittedBatch>>,
    done: HashSet<String>,
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    replay: Replay,
}

impl Journal {
    /// Starts a new journal (truncating an old one).
    pub fn create(dir: &Path) -> Result<Journal> {
        let path = dir.join(FILE_NAME);
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Journal {
            path,
            file: Mutex::new(file),
            replay: Replay::default(),
        })
    }

    /// Opens an existing journal to resume from it, then appends to it. A last line cut short by
    /// a crash is ignored.
    pub fn resume(dir: &Path) -> Result<Journal> {
        let path = dir.join(FILE_NAME);
        let file = File::open(&path)
            .map_err(|e| Error::Input(format!("{}: cannot resume: {e}", path.display())))?;
        let mut replay = Replay::default();
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| Error::io(&path, e))?;
            let Ok(event) = serde_json::from_str::<Event>(&line) else {
                continue;
            };
            match event {
                Event::Sending {
                    strategy,
                    phase,
                    request_id,
                } => {
                    replay.sending.insert((strategy, phase, request_id));
                }
                Event::Outcome {
                    strategy,
                    phase,
                    request_id,
                    outcome,
                } => {
                    replay
                        .outcomes
                        .insert((strategy, phase, request_id), outcome);
                }
                Event::BatchSubmitted {
                    strategy,
                    batch_id,
                    custom_ids,
                    submitted_ms,
                } => {
                    replay
                        .batches
                        .entry(strategy)
                        .or_default()
                        .push(SubmittedBatch {
                            batch_id,
                            custom_ids,
                            submitted_ms,
                        });
                }
                Event::StrategyDone { strategy } => {
                    replay.done.insert(strategy);
                }
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok(Journal {
            path,
            file: Mutex::new(file),
            replay,
        })
    }

    /// Appends one event and syncs it to disk.
    pub fn append(&self, event: &Event) -> Result<()> {
        let mut line =
            serde_json::to_vec(event).map_err(|e| Error::Input(format!("journal: {e}")))?;
        line.push(b'\n');
        let mut f = self
            .file
            .lock()
            .map_err(|_| Error::Input("journal: lock poisoned".into()))?;
        f.write_all(&line)
            .and_then(|_| f.sync_data())
            .map_err(|e| Error::io(&self.path, e))
    }

    /// The journaled outcome of a request, if it completed before.
    pub fn outcome(&self, strategy: &str, phase: &str, request_id: &str) -> Option<&Outcome> {
        self.replay.outcomes.get(&(
            strategy.to_string(),
            phase.to_string(),
            request_id.to_string(),
        ))
    }

    /// Requests that were being sent when the previous run stopped and have no outcome: the
    /// provider may have answered (and billed) them once already.
    pub fn in_flight(&self, strategy: &str) -> usize {
        self.replay
            .sending
            .iter()
            .filter(|k| k.0 == strategy && !self.replay.outcomes.contains_key(*k))
            .count()
    }

    /// Batches submitted before.
    pub fn batches(&self, strategy: &str) -> &[SubmittedBatch] {
        self.replay.batches.get(strategy).map_or(&[], Vec::as_slice)
    }

    /// Whether a strategy finished before.
    pub fn is_done(&self, strategy: &str) -> bool {
        self.replay.done.contains(strategy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn round_trip_and_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::create(dir.path()).unwrap();
        let outcome = Outcome {
            index: 3,
            attempts: Vec::new(),
            latency: Duration::from_millis(5),
        };
        j.append(&Event::Sending {
            strategy: "s".into(),
            phase: "main".into(),
            request_id: "r1".into(),
        })
        .unwrap();
        j.append(&Event::Sending {
            strategy: "s".into(),
            phase: "main".into(),
            request_id: "r2".into(),
        })
        .unwrap();
        j.append(&Event::Outcome {
            strategy: "s".into(),
            phase: "main".into(),
            request_id: "r1".into(),
            outcome,
        })
        .unwrap();
        j.append(&Event::BatchSubmitted {
            strategy: "b".into(),
            batch_id: "batch_1".into(),
            custom_ids: vec!["r1".into()],
            submitted_ms: 1.0,
        })
        .unwrap();
        j.append(&Event::StrategyDone {
            strategy: "x".into(),
        })
        .unwrap();
        drop(j);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE_NAME))
            .unwrap();
        f.write_all(b"{\"event\":\"outcome\",\"strat").unwrap();
        let r = Journal::resume(dir.path()).unwrap();
        assert_eq!(r.outcome("s", "main", "r1").unwrap().index, 3);
        assert!(r.outcome("s", "main", "r2").is_none());
        assert_eq!(r.in_flight("s"), 1);
        assert_eq!(r.batches("b")[0].batch_id, "batch_1");
        assert!(r.is_done("x") && !r.is_done("s"));
    }
}
