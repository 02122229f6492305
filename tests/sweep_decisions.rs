//! `sweep` knows what its prompts can tell: on the mock, with an error model that makes
//! `packed:16` about 13 points and `packed:4` about 3 points worse than `sequential`, 800 prompts
//! reject K = 16 as a significant drop, while 24 prompts leave K = 4 undecided and name the
//! number of prompts that would decide it.

mod common;

use std::path::Path;

use batchbench::report::csv::read_rows;
use common::{batchbench, stderr};

/// A knee far away and a steep slope before it: (K − 1) · 1 point of extra error per item.
const MOCK: &str = "[error_model]\nbase_error = 0.03\nslope_before_knee = 0.01\nknee = 100\nmissing_per_item = 0.0\n";

#[derive(Debug, serde::Deserialize)]
struct Row {
    strategy: String,
    accuracy_drop_pts: Option<f64>,
    accuracy_drop_ci_low_pts: Option<f64>,
    accuracy_drop_ci_high_pts: Option<f64>,
    decision: String,
    prompts_to_decide: Option<u64>,
    recommended: bool,
    reason: String,
}

fn sweep(dir: &Path, limit: usize) -> (Vec<Row>, String) {
    let out = dir.join(format!("out-{limit}"));
    let o = batchbench(&[
        "sweep",
        "--dataset",
        &dir.join("d.jsonl").display().to_string(),
        "--limit",
        &limit.to_string(),
        "--sizes",
        "4,16",
        "--no-batch-api",
        "--time-scale",
        "0",
        "--quiet",
        "--mock-config",
        &dir.join("mock.toml").display().to_string(),
        "--max-accuracy-drop",
        "2",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (
        read_rows(&out.join("sweep.csv")).unwrap(),
        common::stdout(&o),
    )
}

#[test]
fn rejects_a_significant_drop_and_admits_what_it_cannot_tell() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mock.toml"), MOCK).unwrap();
    let data = dir.path().join("d.jsonl").display().to_string();
    let o = batchbench(&["gen", "--count", "800", "--seed", "7", "--out", &data]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let (rows, text) = sweep(dir.path(), 800);
    let by = |rows: &[Row], s: &str| rows.iter().position(|r| r.strategy == s).unwrap();
    let sixteen = &rows[by(&rows, "packed:16")];
    assert!(sixteen.accuracy_drop_pts.unwrap() > 10.0, "{sixteen:?}");
    assert_eq!(sixteen.decision, "rejected", "{sixteen:?}");
    assert!(sixteen.accuracy_drop_ci_low_pts.unwrap() > 2.0);
    assert!(
        sixteen.reason.starts_with("significant accuracy drop"),
        "{text}"
    );
    let four = &rows[by(&rows, "packed:4")];
    let drop4 = four.accuracy_drop_pts.unwrap();
    assert!((1.0..=5.0).contains(&drop4), "about 3 points: {four:?}");
    assert!(rows.iter().all(|r| !r.recommended), "{text}");
    assert!(text.contains("stay with sequential"), "{text}");

    let (rows, text) = sweep(dir.path(), 24);
    let four = &rows[by(&rows, "packed:4")];
    assert_eq!(four.decision, "undecided", "{four:?}");
    let (low, high) = (
        four.accuracy_drop_ci_low_pts.unwrap(),
        four.accuracy_drop_ci_high_pts.unwrap(),
    );
    assert!(low <= 2.0 && high > 2.0, "{four:?}");
    let needed = four.prompts_to_decide.expect("a number of prompts");
    assert!(needed > 24, "{four:?}");
    assert!(
        text.contains(&format!("packed:4 (about {needed} prompts)")),
        "{text}"
    );
    assert!(
        text.contains("Detecting a drop of 2.0 pts with 80% power"),
        "{text}"
    );
}
