//! The resume journal: an append-only JSONL file in the run folder, written within 2 ms of each
//! event and synced to disk within 20 ms, of what was sent and what came back. After a crash (even `kill -9`), `run --resume`
//! reads it back: completed requests are not sent again, submitted batches are polled by id
//! rather than resubmitted, and finished strategies are taken from the run's CSV files.
//!
//! Keys never enter it: it holds requests' ids, responses and errors only.
//!
//! Writes go through one writer thread that lets events gather for 2 ms, appends them and syncs
//! them within 20 ms (group commit), so 64 requests in flight cost one `write` per 2 ms and one
//! `fdatasync` per 20 ms rather than one each; callers never wait on the disk (except for the
//! few events whose loss would cost money), and the events are turned into JSON there too, off
//! the runner's sending loop.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
    /// A batch input file was uploaded and its batch is being created; if the run dies before
    /// the creation is answered, a resume looks for a batch made from this file.
    BatchCreating {
        /// Strategy id.
        strategy: String,
        /// The uploaded input file.
        input_file_id: String,
        /// The custom ids it carries.
        custom_ids: Vec<String>,
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

/// A batch whose creation was under way when a run stopped: it may exist at the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCreation {
    /// The uploaded input file the batch was being created from.
    pub input_file_id: String,
    /// The custom ids it carries.
    pub custom_ids: Vec<String>,
}

/// What a journal already holds.
#[derive(Debug, Default)]
struct Replay {
    outcomes: HashMap<(String, String, String), Outcome>,
    sending: HashSet<(String, String, String)>,
    batches: HashMap<String, Vec<SubmittedBatch>>,
    creating: HashMap<String, Vec<PendingCreation>>,
    done: HashSet<String>,
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    tx: Mutex<Option<mpsc::Sender<Queued>>>,
    writer: Option<JoinHandle<()>>,
    failed: Arc<Mutex<Option<String>>>,
    replay: Replay,
}

/// One event for the writer, and whom to tell once it is on disk.
type Queued = (Event, Option<mpsc::Sender<()>>);

/// The longest a written event waits for its `fdatasync` (unless a caller waits for it). One
/// sync per batch of events cost 5% of a 20,000-prompt run's CPU on a VM disk (about 300 syncs
/// a second); written lines are in the page cache, which a killed process does not lose, and a
/// machine that goes down loses at most this much of the journal (those requests are sent again
/// on resume).
const SYNC_EVERY: Duration = Duration::from_millis(20);

/// How long the writer lets events gather after the first of a batch (unless a caller waits for
/// it): 64 requests in flight would otherwise wake it and cost a `write` for nearly every event.
/// A killed process loses the events of this moment, as it lost those queued behind a sync.
const GATHER: Duration = Duration::from_millis(2);

/// Starts the writer thread: it turns every queued event into its line (so the callers, the
/// runner's sending loop among them, spend no time on JSON), appends them, syncs them within
/// [`SYNC_EVERY`] (at once when a caller waits), then tells the callers that wait for it.
fn spawn_writer(
    mut file: File,
    failed: Arc<Mutex<Option<String>>>,
) -> (mpsc::Sender<Queued>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Queued>();
    let handle = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut last_sync = Instant::now();
        let mut unsynced = false;
        loop {
            let first = if unsynced {
                match rx.recv_timeout(SYNC_EVERY.saturating_sub(last_sync.elapsed())) {
                    Ok(queued) => Some(queued),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match rx.recv() {
                    Ok(queued) => Some(queued),
                    Err(_) => break,
                }
            };
            if first.as_ref().is_some_and(|(_, ack)| ack.is_none()) {
                // Let the events of the next moments queue up: one wake-up and one write for
                // them all rather than one each.
                std::thread::sleep(GATHER);
            }
            buf.clear();
            let mut acks: Vec<mpsc::Sender<()>> = Vec::new();
            let mut failure = None;
            let queued = first
                .into_iter()
                .chain(std::iter::from_fn(|| rx.try_recv().ok()));
            for (event, ack) in queued {
                if let Err(e) = push_line(&mut buf, &event) {
                    failure.get_or_insert(e);
                }
                acks.extend(ack);
            }
            if !buf.is_empty() {
                if let Err(e) = file.write_all(&buf) {
                    failure.get_or_insert(e.to_string());
                }
                unsynced = true;
            }
            if unsynced && (!acks.is_empty() || last_sync.elapsed() >= SYNC_EVERY) {
                if let Err(e) = file.sync_data() {
                    failure.get_or_insert(e.to_string());
                }
                unsynced = false;
                last_sync = Instant::now();
            }
            if let Some(e) = failure {
                if let Ok(mut f) = failed.lock() {
                    f.get_or_insert(e);
                }
            }
            for ack in acks {
                let _ = ack.send(());
            }
        }
        if unsynced {
            if let Err(e) = file.sync_data() {
                if let Ok(mut f) = failed.lock() {
                    f.get_or_insert(e.to_string());
                }
            }
        }
    });
    (tx, handle)
}

/// Appends `event` as one JSON line; on failure `buf` is left as it was.
fn push_line(buf: &mut Vec<u8>, event: &Event) -> std::result::Result<(), String> {
    let start = buf.len();
    match serde_json::to_writer(&mut *buf, event) {
        Ok(()) => {
            buf.push(b'\n');
            Ok(())
        }
        Err(e) => {
            buf.truncate(start);
            Err(e.to_string())
        }
    }
}

impl Drop for Journal {
    /// Writes and syncs what is queued before the journal closes.
    fn drop(&mut self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
    }
}

impl Journal {
    /// Starts a new journal (truncating an old one).
    pub fn create(dir: &Path) -> Result<Journal> {
        let path = dir.join(FILE_NAME);
        let file = File::create(&path).map_err(|e| Error::write(&path, e))?;
        Ok(Journal::open(path, file, Replay::default()))
    }

    /// Opens an existing journal to resume from it, then appends to it. A last line cut short by
    /// a crash is ignored.
    pub fn resume(dir: &Path) -> Result<Journal> {
        let path = dir.join(FILE_NAME);
        let file = File::open(&path)
            .map_err(|e| Error::RunFiles(format!("{}: cannot resume: {e}", path.display())))?;
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
                Event::BatchCreating {
                    strategy,
                    input_file_id,
                    custom_ids,
                } => {
                    replay
                        .creating
                        .entry(strategy)
                        .or_default()
                        .push(PendingCreation {
                            input_file_id,
                            custom_ids,
                        });
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
        Ok(Journal::open(path, file, replay))
    }

    fn open(path: PathBuf, file: File, replay: Replay) -> Journal {
        let failed = Arc::new(Mutex::new(None));
        let (tx, writer) = spawn_writer(file, failed.clone());
        Journal {
            path,
            tx: Mutex::new(Some(tx)),
            writer: Some(writer),
            failed,
            replay,
        }
    }

    /// Queues one event for the writer, which appends and syncs it with whatever else is queued.
    /// A write error of an earlier event is returned here.
    pub fn append(&self, event: Event) -> Result<()> {
        self.queue(event, None)
    }

    /// Appends one event and waits until it is written and synced: for the rare events whose
    /// loss would cost money (a batch being created, a batch id).
    pub fn append_durable(&self, event: Event) -> Result<()> {
        let (ack, written) = mpsc::channel();
        self.queue(event, Some(ack))?;
        // The writer drops the sender without a word only if it stopped.
        let _ = written.recv();
        self.check_failed()
    }

    fn check_failed(&self) -> Result<()> {
        if let Some(e) = self.failed.lock().ok().and_then(|f| f.clone()) {
            return Err(Error::Output(format!(
                "{}: cannot write the journal: {e}",
                self.path.display()
            )));
        }
        Ok(())
    }

    fn queue(&self, event: Event, ack: Option<mpsc::Sender<()>>) -> Result<()> {
        self.check_failed()?;
        let tx = self
            .tx
            .lock()
            .map_err(|_| Error::Internal("journal: lock poisoned".into()))?;
        match tx.as_ref() {
            Some(tx) if tx.send((event, ack)).is_ok() => Ok(()),
            _ => Err(Error::Output(format!(
                "{}: the journal writer has stopped",
                self.path.display()
            ))),
        }
    }

    /// The journaled outcome of a request, if it completed before.
    pub fn outcome(&self, strategy: &str, phase: &str, request_id: &str) -> Option<&Outcome> {
        // A new run's journal holds none: no key is built for each of its requests.
        if self.replay.outcomes.is_empty() {
            return None;
        }
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

    /// Batch creations that were under way when the previous run stopped and have no
    /// journaled batch: the batch may exist at the provider although its id was never recorded.
    pub fn pending_creations(&self, strategy: &str) -> Vec<PendingCreation> {
        let covered: HashSet<&str> = self
            .batches(strategy)
            .iter()
            .flat_map(|b| b.custom_ids.iter().map(String::as_str))
            .collect();
        self.replay
            .creating
            .get(strategy)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter(|c| !c.custom_ids.iter().any(|id| covered.contains(id.as_str())))
            .cloned()
            .collect()
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
        j.append(Event::Sending {
            strategy: "s".into(),
            phase: "main".into(),
            request_id: "r1".into(),
        })
        .unwrap();
        j.append(Event::Sending {
            strategy: "s".into(),
            phase: "main".into(),
            request_id: "r2".into(),
        })
        .unwrap();
        j.append(Event::Outcome {
            strategy: "s".into(),
            phase: "main".into(),
            request_id: "r1".into(),
            outcome,
        })
        .unwrap();
        j.append(Event::BatchSubmitted {
            strategy: "b".into(),
            batch_id: "batch_1".into(),
            custom_ids: vec!["r1".into()],
            submitted_ms: 1.0,
        })
        .unwrap();
        j.append(Event::StrategyDone {
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

    #[test]
    fn events_reach_the_file_before_their_sync_is_due() {
        // A killed process loses only the last moments: the writer writes each batch within
        // milliseconds and only paces the `fdatasync`.
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::create(dir.path()).unwrap();
        j.append(Event::StrategyDone {
            strategy: "s".into(),
        })
        .unwrap();
        let path = dir.path().join(FILE_NAME);
        let start = std::time::Instant::now();
        while std::fs::read_to_string(&path).unwrap().lines().count() < 1 {
            assert!(start.elapsed() < Duration::from_secs(30), "never written");
            std::thread::yield_now();
        }
        drop(j);
        assert!(Journal::resume(dir.path()).unwrap().is_done("s"));
    }

    #[test]
    fn creations_without_a_journaled_batch_are_pending() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::create(dir.path()).unwrap();
        let creating = |file: &str, ids: &[&str]| Event::BatchCreating {
            strategy: "b".into(),
            input_file_id: file.into(),
            custom_ids: ids.iter().map(|s| s.to_string()).collect(),
        };
        // file-1's batch was journaled; file-2's creation was under way when the run died.
        j.append_durable(creating("file-1", &["r1", "r2"])).unwrap();
        j.append_durable(Event::BatchSubmitted {
            strategy: "b".into(),
            batch_id: "batch_1".into(),
            custom_ids: vec!["r1".into(), "r2".into()],
            submitted_ms: 1.0,
        })
        .unwrap();
        j.append_durable(creating("file-2", &["r3"])).unwrap();
        // Written and synced before append_durable returns: readable while the journal is open.
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(text.lines().count(), 3);
        drop(j);
        let r = Journal::resume(dir.path()).unwrap();
        assert_eq!(
            r.pending_creations("b"),
            [PendingCreation {
                input_file_id: "file-2".into(),
                custom_ids: vec!["r3".into()],
            }]
        );
        assert!(r.pending_creations("other").is_empty());
    }
}
