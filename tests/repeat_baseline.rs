//! `--repeat-baseline` sends `sequential` twice: the second run is reported as
//! `sequential-repeat`, paired with the first, and the findings state the noise floor. The mock
//! answers deterministically, so on it the floor is exactly zero.

mod common;

use batchbench::report::StrategySummary;
use batchbench::report::csv::read_rows;
use common::{batchbench, stderr};

#[test]
fn sequential_twice_measures_the_noise_floor() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let o = batchbench(&[
        "run",
        "--strategies",
        "sequential,packed:4",
        "--repeat-baseline",
        "--limit",
        "40",
        "--time-scale",
        "0",
        "--quiet",
        "--out",
        &out,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<StrategySummary> = read_rows(&dir.path().join("summary.csv")).unwrap();
    let names: Vec<&str> = rows.iter().map(|s| s.strategy.as_str()).collect();
    assert_eq!(names, ["sequential", "packed:4", "sequential-repeat"]);
    let r = &rows[2];
    assert_eq!(r.prompts, 40);
    assert_eq!(r.agreement_pct, Some(100.0));
    assert_eq!(
        (
            r.paired_prompts,
            r.worse_than_sequential,
            r.better_than_sequential
        ),
        (Some(40), Some(0), Some(0))
    );
    assert_eq!(r.accuracy_drop_pts, Some(0.0));
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        md.contains("Noise floor: sequential sent twice gave the same answer on 100.0% of prompts"),
        "{md}"
    );
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json")).unwrap())
            .unwrap();
    let opts = &run["options"];
    assert_eq!(opts["temperature"], 0.0, "{run}");
    assert_eq!(
        opts["temperature_source"],
        "default 0 for comparable answers"
    );
}
