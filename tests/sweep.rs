//! `batchbench sweep` on the default dataset against the mock: the recommendation matches its
//! own table and the run's summary, and a tighter accuracy budget picks a smaller K.

mod common;

use batchbench::report::StrategySummary;
use batchbench::report::csv::read_rows;
use common::{batchbench, stderr};

#[derive(Debug, serde::Deserialize)]
struct Row {
    strategy: String,
    k: u32,
    cost_per_1k_prompts: f64,
    accuracy_drop_pts: Option<f64>,
    eligible: bool,
    recommended: bool,
    reason: String,
}

fn sweep(max_drop: &str) -> (Row, Vec<Row>, Vec<StrategySummary>, String) {
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
    let i = rows
        .iter()
        .position(|r| r.recommended)
        .expect("a recommendation");
    let rec = rows.remove(i);
    (rec, rows, summary, common::stdout(&o))
}

#[test]
fn recommendation_matches_its_table_and_tightens() {
    let (loose, others, summary, text) = sweep("6");
    let seq = summary.iter().find(|s| s.strategy == "sequential").unwrap();
    let row = summary
        .iter()
        .find(|s| s.strategy == loose.strategy)
        .unwrap();
    assert_eq!(row.cost_per_1k_prompts, loose.cost_per_1k_prompts);
    let drop = seq.accuracy_pct.unwrap() - row.accuracy_pct.unwrap();
    assert!((drop - loose.accuracy_drop_pts.unwrap()).abs() < 1e-9);
    assert!(drop <= 6.0);
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
    let (tight, _, _, _) = sweep("1");
    assert!(
        tight.k < loose.k,
        "tighter budget: K {} vs {}",
        tight.k,
        loose.k
    );
}
