//! `batchbench sweep` on the default dataset against the mock: the recommendation matches its
//! own table and the run's summary, and a budget tighter than the prompts can vouch for
//! recommends nothing but sequential.

mod common;

use batchbench::report::StrategySummary;
use batchbench::report::csv::read_rows;
use common::{batchbench, stderr};

#[derive(Debug, serde::Deserialize)]
struct Row {
    strategy: String,
    cost_per_1k_prompts: f64,
    accuracy_drop_pts: Option<f64>,
    accuracy_drop_ci_high_pts: Option<f64>,
    eligible: bool,
    recommended: bool,
    reason: String,
}

fn sweep(max_drop: &str) -> (Option<Row>, Vec<Row>, Vec<StrategySummary>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let o = batchbench(&[
        "sweep",
        "--sizes",
        "1,8,16,32",
        "--time-scale",
        "0",
        "--quiet",
        "--max-accuracy-drop",
        max_drop,
        "--out",
        &out,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<Row> = read_rows(&dir.path().join("sweep.csv")).unwrap();
    let summary: Vec<StrategySummary> = read_rows(&dir.path().join("summary.csv")).unwrap();
    let mut rows = rows;
    let rec = rows
        .iter()
        .position(|r| r.recommended)
        .map(|i| rows.remove(i));
    (rec, rows, summary, common::stdout(&o))
}

#[test]
fn recommendation_matches_its_table_and_stays_honest() {
    let (loose, others, summary, text) = sweep("6");
    let loose = loose.expect("a recommendation");
    let seq = summary.iter().find(|s| s.strategy == "sequential").unwrap();
    let row = summary
        .iter()
        .find(|s| s.strategy == loose.strategy)
        .unwrap();
    assert_eq!(row.cost_per_1k_prompts, loose.cost_per_1k_prompts);
    let drop = seq.accuracy_pct.unwrap() - row.accuracy_pct.unwrap();
    assert!((drop - loose.accuracy_drop_pts.unwrap()).abs() < 1e-9);
    assert!(loose.accuracy_drop_ci_high_pts.unwrap() <= 6.0);
    assert!(
        text.contains(&format!("Recommendation: {}", loose.strategy)),
        "{text}"
    );
    // It is the cheapest eligible one, and every other K says why it lost.
    for r in &others {
        assert!(!r.reason.is_empty(), "{r:?}");
        if r.eligible {
            assert!(r.cost_per_1k_prompts >= loose.cost_per_1k_prompts, "{r:?}");
        }
    }
    // 240 prompts cannot vouch for a drop under 1 point: nothing is recommended.
    let (tight, rows, _, text) = sweep("1");
    assert!(tight.is_none(), "{text}");
    assert!(
        rows.iter()
            .all(|r| r.accuracy_drop_ci_high_pts.unwrap() > 1.0)
    );
    assert!(text.contains("stay with sequential"), "{text}");
}
