//! Crash and resume: a run killed with SIGKILL at several points (mid-sequential, just before a
//! batch is submitted, mid-batch) and resumed with `--resume` ends with the same prompts,
//! tokens and costs as an uninterrupted run, sends no completed request again, and polls its
//! submitted batch instead of resubmitting it. The mock runs as a separate process so that it
//! outlives the killed run, as a real provider would.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use batchbench::record::{PromptRecord, PromptStatus};
use batchbench::report::csv::read_rows;
use common::{bin, repo};

struct Mock {
    child: Child,
    url: String,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Mock {
    fn start() -> Mock {
        let mut child = Command::new(bin())
            .args([
                "mock",
                "--port",
                "0",
                "--time-scale",
                "0.03",
                "--seed",
                "42",
                "--dataset",
            ])
            .arg(repo("datasets/default.jsonl"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{line}");
        Mock {
            child,
            url,
            _stdout: stdout,
        }
    }

    fn stats(&self) -> serde_json::Value {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            reqwest::get(format!("{}/_mock/stats", self.url))
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const STRATEGIES: &str = "sequential,batch-api,packed:4";

fn run_cmd(mock: &Mock, out: &Path) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("OPENAI_API_KEY", "test-key")
        .args([
            "run",
            "--quiet",
            "--provider",
            "openai",
            "--limit",
            "24",
            "--strategies",
            STRATEGIES,
            "--seed",
            "42",
        ])
        .args(["--base-url", &format!("{}/v1", mock.url), "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

fn journal_lines(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

type Key = (
    String,
    String,
    String,
    u64,
    u64,
    u64,
    PromptStatus,
    Option<String>,
);

fn rows(out: &Path) -> Vec<Key> {
    let v: Vec<PromptRecord> = read_rows(&out.join("prompts.csv")).unwrap();
    v.into_iter()
        .map(|p| {
            (
                p.strategy,
                p.prompt_id,
                p.request_id,
                p.input_tokens,
                p.output_tokens,
                p.cost_usd.0,
                p.status,
                p.answer,
            )
        })
        .collect()
}

/// Runs until `kill_when` holds for the journal, kills the run with SIGKILL, resumes it, and
/// compares with an uninterrupted run against a fresh mock.
fn crash_and_resume(kill_when: impl Fn(&[String]) -> bool) -> (serde_json::Value, Vec<String>) {
    let reference = {
        let mock = Mock::start();
        let dir = tempfile::tempdir().unwrap();
        let o = run_cmd(&mock, dir.path()).output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        rows(dir.path())
    };
    let mock = Mock::start();
    let dir = tempfile::tempdir().unwrap();
    let mut child = run_cmd(&mock, dir.path()).spawn().unwrap();
    let start = Instant::now();
    loop {
        if kill_when(&journal_lines(dir.path())) {
            child.kill().unwrap();
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run finished ({status}) before the kill point was reached");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "kill point not reached"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.wait();
    let killed_journal = journal_lines(dir.path());
    let resumed = Command::new(bin())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("OPENAI_API_KEY", "test-key")
        .args(["run", "--quiet", "--resume"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let got = rows(dir.path());
    for (a, b) in got.iter().zip(&reference) {
        assert_eq!(
            a, b,
            "the resumed run equals an uninterrupted one, prompt by prompt"
        );
    }
    assert_eq!(got.len(), reference.len());
    (mock.stats(), killed_journal)
}

fn count(lines: &[String], needle: &str) -> usize {
    lines.iter().filter(|l| l.contains(needle)).count()
}

#[test]
fn killed_mid_sequential() {
    let (stats, journal) = crash_and_resume(|j| count(j, "\"event\":\"outcome\"") >= 8);
    // Each prompt answered by the sequential strategy's requests at most once more than the
    // one request that may have been in flight at the kill.
    let answered = stats["prompts_answered"].as_object().unwrap();
    let twice = answered
        .values()
        .filter(|v| v.as_u64().unwrap_or(0) > 3)
        .count();
    assert!(
        twice <= 1,
        "{twice} prompts answered more often than once per strategy"
    );
    assert!(count(&journal, "\"event\":\"outcome\"") >= 8);
}

#[test]
fn killed_before_the_batch_is_submitted() {
    // Between the first strategy's end and the batch's submission there are only a few
    // milliseconds against the mock, so the kill can land after the submission: that is the
    // mid-batch case (tested below), not this one, so try again.
    for _ in 0..8 {
        let (stats, journal) = crash_and_resume(|j| count(j, "strategy_done") >= 1);
        assert!(
            stats["max_completions_per_custom_id"].as_u64().unwrap_or(0) <= 1,
            "{stats}"
        );
        if count(&journal, "batch_submitted") == 0 {
            return;
        }
    }
    panic!("the kill never landed between the first strategy's end and the batch's submission");
}

#[test]
fn killed_mid_batch_polls_instead_of_resubmitting() {
    let (stats, journal) = crash_and_resume(|j| count(j, "batch_submitted") >= 1);
    assert_eq!(count(&journal, "batch_submitted"), 1);
    // One batch only: the resumed run polled the submitted one by id.
    assert_eq!(
        stats["max_completions_per_custom_id"].as_u64(),
        Some(1),
        "{stats}"
    );
    let batches = stats["endpoints"]["POST /v1/batches"].as_u64().unwrap_or(0);
    assert_eq!(batches, 1, "{stats}");
}
