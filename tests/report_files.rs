//! Every exporter writes its files into a run folder, and every number in `summary.csv`,
//! `report.json`, `report.md` and the charts recomputes from `prompts.csv` and `requests.csv`.

#[path = "report_fixture.rs"]
mod fixture;

use std::path::Path;

use batchbench::record::{PromptRecord, RequestRecord};
use batchbench::report::charts::{self, ChartData, ChartKind};
use batchbench::report::json::{REPORT_SCHEMA_VERSION, ReportDocument};
use batchbench::report::markdown::{fmt_per_1k, summary_cells};
use batchbench::report::{self, RunReport, StrategySummary, csv::read_rows, summarise_all};

fn write_run(report: &RunReport, dir: &Path) -> Vec<std::path::PathBuf> {
    let exporters = report::standard_exporters();
    let refs: Vec<&dyn report::Exporter> = exporters.iter().map(|e| e.as_ref()).collect();
    report::write_all(dir, report, &refs).expect("write_all")
}

/// Compares two JSON values, numbers within a relative 1e-12 (JSON float parsing may differ by
/// an ulp), everything else exactly.
fn assert_json_close(a: &serde_json::Value, b: &serde_json::Value, path: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0),
                "{path}: {x} != {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths differ");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                assert_json_close(p, q, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut kx: Vec<&String> = x.keys().collect();
            let mut ky: Vec<&String> = y.keys().collect();
            kx.sort();
            ky.sort();
            assert_eq!(kx, ky, "{path}: keys differ");
            for (k, v) in x {
                assert_json_close(v, &y[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn every_file_recomputes_from_the_csv_rows() {
    let report = fixture::full_report(40);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    let written = write_run(&report, &dir);

    // Every file is there.
    let mut expected: Vec<String> = [
        "prompts.csv",
        "requests.csv",
        "summary.csv",
        "run.json",
        "report.json",
        "report.md",
        "report.html",
    ]
    .map(String::from)
    .to_vec();
    for kind in ChartKind::ALL {
        expected.push(format!("charts/{}.svg", kind.name()));
        expected.push(format!("charts/{}.png", kind.name()));
    }
    for name in &expected {
        let p = dir.join(name);
        assert!(p.is_file(), "missing {name}");
        assert!(written.contains(&p), "write_all did not report {name}");
    }
    assert_eq!(written.len(), expected.len());
    assert!(
        std::fs::read_dir(&dir).expect("read_dir").all(|e| !e
            .expect("entry")
            .path()
            .to_string_lossy()
            .ends_with(".tmp"))
    );
    for kind in ChartKind::ALL {
        let png = std::fs::read(dir.join(format!("charts/{}.png", kind.name()))).expect("png");
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
            "{} png: {} bytes",
            kind.name(),
            png.len()
        );
        let svg =
            std::fs::read_to_string(dir.join(format!("charts/{}.svg", kind.name()))).expect("svg");
        assert!(
            svg.starts_with("<svg") && svg.contains(kind.title()),
            "{} svg",
            kind.name()
        );
    }

    // The summaries recompute from the CSV rows.
    let prompts: Vec<PromptRecord> = read_rows(&dir.join("prompts.csv")).expect("prompts.csv");
    let requests: Vec<RequestRecord> = read_rows(&dir.join("requests.csv")).expect("requests.csv");
    assert_eq!(prompts, report.prompts);
    assert_eq!(requests, report.requests);
    let recomputed = summarise_all(&prompts, &requests);
    let from_csv: Vec<StrategySummary> = read_rows(&dir.join("summary.csv")).expect("summary.csv");
    assert_eq!(recomputed, from_csv);
    assert_eq!(recomputed, report.summaries);
    assert_eq!(recomputed.len(), 8);

    // report.json: the same summaries, and chart data that recomputes from the rows.
    let doc = ReportDocument::read(&dir.join("report.json")).expect("report.json");
    assert_eq!(doc.schema_version, REPORT_SCHEMA_VERSION);
    assert_eq!(doc.info, report.info);
    assert_eq!(doc.baseline.as_deref(), Some("sequential"));
    let again = RunReport::new(report.info.clone(), prompts, requests);
    let want = serde_json::to_value(ReportDocument::from_report(&again)).expect("to_value");
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("read"))
            .expect("json");
    assert_json_close(&got, &want, "report.json");
    for (a, b) in doc.summaries.iter().zip(&recomputed) {
        assert_eq!(a.cost_usd, b.cost_usd, "exact cost of {}", a.strategy);
    }
    let cdf = &doc.charts.latency_cdf;
    assert_eq!(cdf.len(), 8);
    let naive = cdf
        .iter()
        .find(|c| c.strategy == "naive-multi-message:4")
        .expect("naive cdf");
    assert_eq!((naive.answered, naive.prompts), (10, 40));
    assert_eq!(naive.points.last().map(|p| p.fraction), Some(0.25));

    // report.md: the exact printed costs and table rows, the findings, short enough.
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    for s in &recomputed {
        assert!(
            md.contains(&s.cost_usd.to_string()),
            "report.md lacks cost {} of {}",
            s.cost_usd,
            s.strategy
        );
        assert!(
            md.contains(&fmt_per_1k(s)),
            "report.md lacks per-1k cost of {}",
            s.strategy
        );
        let cells: Vec<String> = summary_cells(s)
            .iter()
            .map(|c| batchbench::report::markdown::md_escape(c))
            .collect();
        assert!(
            md.contains(&format!("| {} |", cells.join(" | "))),
            "report.md lacks the row of {}",
            s.strategy
        );
    }
    let cheapest = recomputed
        .iter()
        .filter(|s| !s.demonstration)
        .min_by_key(|s| s.cost_usd)
        .expect("cheapest");
    assert_eq!(cheapest.strategy, "batch-api+packed:8");
    assert!(md.contains(&format!(
        "Cheapest strategy that answered every prompt: batch-api+packed:8 at {}",
        cheapest.cost_usd
    )));
    assert!(md.contains(&format!(
        "{:.1}% less than sequential",
        cheapest.saving_vs_sequential_pct.unwrap_or(f64::NAN)
    )));
    assert!(md.contains("Largest accuracy drop:"));
    assert!(md.contains("naive-multi-message:4 is a demonstration of a mistaken method"));
    assert!(md.contains("It lost 30 of 40 answers (75.0%)"));
    assert!(md.contains("Simulated by the built-in mock"));
    assert!(md.contains("sha256 0123456789ab"));
    assert!(md.contains("a &lt;warning&gt; with \\| pipes"));
    assert!(md.contains("support-tickets &lt;b&gt;&amp;&lt;/b&gt;"));
    let lines = md.lines().count();
    assert!(lines <= 60, "report.md has {lines} lines");

    // Chart labels: the printed numbers are the summaries'.
    let cost_svg = std::fs::read_to_string(dir.join("charts/cost_by_strategy.svg")).expect("svg");
    for s in &recomputed {
        assert!(
            cost_svg.contains(&s.cost_usd.to_string()),
            "cost chart lacks {}",
            s.cost_usd
        );
    }
    let saving_svg =
        std::fs::read_to_string(dir.join("charts/saving_vs_batch_size.svg")).expect("svg");
    for s in recomputed
        .iter()
        .filter(|s| s.strategy.starts_with("packed") || s.strategy.starts_with("batch-api+packed"))
    {
        let v = s.saving_vs_sequential_pct.expect("saving");
        assert!(
            saving_svg.contains(&format!("{v:.1}%")),
            "saving chart lacks {v:.1}% of {}",
            s.strategy
        );
    }
    let acc_svg =
        std::fs::read_to_string(dir.join("charts/accuracy_vs_batch_size.svg")).expect("svg");
    for s in recomputed.iter().filter(|s| s.batch_size > 1) {
        let v = s.accuracy_pct.expect("accuracy");
        assert!(
            acc_svg.contains(&format!("{v:.1}%")),
            "accuracy chart lacks {v:.1}% of {}",
            s.strategy
        );
    }
    let tok_svg = std::fs::read_to_string(dir.join("charts/token_breakdown.svg")).expect("svg");
    for b in &doc.charts.token_breakdown {
        let total =
            b.uncached_input_tokens + b.cached_tokens + b.cache_write_tokens + b.output_tokens;
        let s = recomputed
            .iter()
            .find(|s| s.strategy == b.strategy)
            .expect("row");
        assert_eq!(total, s.input_tokens + s.output_tokens);
        assert!(tok_svg.contains(&format!(
            "{} tokens",
            batchbench::report::markdown::fmt_int(total)
        )));
    }

    // The report is rewritten in place (a run writes it after each strategy).
    let md_only: [&dyn report::Exporter; 1] = [&report::markdown::ReportMarkdown];
    report::write_all(&dir, &report, &md_only).expect("rewrite");
    assert_eq!(
        std::fs::read_to_string(dir.join("report.md")).expect("md"),
        md
    );
}

fn all_charts(report: &RunReport) -> Vec<(ChartKind, String)> {
    let data = ChartData::from_report(report);
    ChartKind::ALL
        .iter()
        .map(|k| {
            let svg = charts::render_svg_with(*k, report, &data);
            let png = charts::render_png_with(*k, report, &data).expect("png");
            assert!(png.starts_with(b"\x89PNG"), "{} png", k.name());
            assert!(
                svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
                "{} svg",
                k.name()
            );
            (*k, svg)
        })
        .collect()
}

fn chart(charts: &[(ChartKind, String)], kind: ChartKind) -> &str {
    charts
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, s)| s.as_str())
        .unwrap_or("")
}

#[test]
fn charts_survive_edge_cases() {
    use fixture::prompt;
    let info = |s: &[&str]| fixture::info(s, 3);

    // No strategy at all.
    let r = RunReport::new(info(&[]), vec![], vec![]);
    let c = all_charts(&r);
    assert!(chart(&c, ChartKind::CostByStrategy).contains("No strategy ran"));
    assert!(chart(&c, ChartKind::LatencyCdf).contains("No strategy ran"));
    // The other formats too.
    // (The charts were just rendered, PNG included; the other formats too.)
    for e in report::standard_exporters()
        .iter()
        .filter(|e| e.file_name() != "charts")
    {
        e.files(&r).expect("exporter on an empty run");
    }

    // One strategy, no sequential baseline, zero cost.
    let r = RunReport::new(
        info(&["packed:4"]),
        vec![
            prompt("packed:4", "a", 0, 10.0, true),
            prompt("packed:4", "b", 0, 10.0, true),
            prompt("packed:4", "c", 0, 12.0, true),
        ],
        vec![],
    );
    let c = all_charts(&r);
    assert!(chart(&c, ChartKind::CostByStrategy).contains("Every strategy cost $0"));
    assert!(chart(&c, ChartKind::SavingVsBatchSize).contains("No sequential baseline"));
    assert!(chart(&c, ChartKind::AccuracyVsBatchSize).contains("no gold answers"));
    let md = batchbench::report::markdown::render(&r);
    assert!(md.contains("without a sequential run no saving is computed"));

    // Every prompt failed; a NaN latency.
    let r = RunReport::new(
        info(&["sequential", "packed:2"]),
        vec![
            prompt("sequential", "a", 0, f64::NAN, false),
            prompt("sequential", "b", 0, 5.0, false),
            prompt("packed:2", "a", 0, f64::NAN, false),
            prompt("packed:2", "b", 0, 1.0, false),
        ],
        vec![],
    );
    let c = all_charts(&r);
    assert!(chart(&c, ChartKind::LatencyCdf).contains("No prompt was answered"));
    assert!(chart(&c, ChartKind::TokenBreakdown).contains("No tokens were recorded"));
    // (The charts were just rendered, PNG included; the other formats too.)
    for e in report::standard_exporters()
        .iter()
        .filter(|e| e.file_name() != "charts")
    {
        e.files(&r).expect("exporter when every prompt failed");
    }

    // A NaN latency among answered ones, and huge spread (log scale).
    let r = RunReport::new(
        info(&["sequential", "batch-api"]),
        vec![
            prompt("sequential", "a", 100, f64::NAN, true),
            prompt("sequential", "b", 100, 5.0, true),
            prompt("batch-api", "a", 50, 600_000.0, true),
            prompt("batch-api", "b", 50, 900_000.0, true),
        ],
        vec![],
    );
    let c = all_charts(&r);
    assert!(chart(&c, ChartKind::LatencyCdf).contains("log scale"));
    assert!(chart(&c, ChartKind::SavingVsBatchSize).contains("No packed:K"));
    let doc = serde_json::to_string(&batchbench::report::json::ReportDocument::from_report(&r))
        .expect("json");
    assert!(!doc.contains("NaN"));
}

/// The first line of an exporter's file: its columns.
fn header_of(exporter: &dyn report::Exporter, report: &RunReport) -> String {
    let bytes = exporter.serialize(report).expect("serialize");
    String::from_utf8(bytes)
        .expect("utf-8")
        .lines()
        .next()
        .unwrap_or_default()
        .replace(',', "\n")
}

// Snapshots (insta) of what users read and scripts parse: a change to them shows up as a diff
// to review (`cargo insta review`, or INSTA_UPDATE=always), never silently.

#[test]
fn snapshot_csv_headers() {
    let r = fixture::full_report(24);
    insta::assert_snapshot!(
        "prompts_csv_header",
        header_of(&report::csv::PromptsCsv, &r)
    );
    insta::assert_snapshot!(
        "requests_csv_header",
        header_of(&report::csv::RequestsCsv, &r)
    );
    insta::assert_snapshot!(
        "summary_csv_header",
        header_of(&report::csv::SummaryCsv, &r)
    );
}

#[test]
fn snapshot_report_md_and_stdout_table() {
    let r = fixture::full_report(24);
    insta::assert_snapshot!("report_md", report::markdown::render(&r));
    insta::assert_snapshot!("stdout_table", report::table::render(&r, false));
    insta::assert_snapshot!("stdout_table_md", report::table::render(&r, true));
}

#[test]
fn accuracy_by_position_recomputes_from_prompts_csv() {
    let r = fixture::full_report(24);
    let data = ChartData::from_report(&r);
    assert!(!data.accuracy_by_position.is_empty());
    for line in &data.accuracy_by_position {
        for p in &line.points {
            let rows: Vec<&PromptRecord> = r
                .prompts
                .iter()
                .filter(|q| q.strategy == line.strategy && q.pack_position == Some(p.position))
                .filter(|q| q.correct.is_some())
                .collect();
            let right = rows.iter().filter(|q| q.correct == Some(true)).count();
            assert_eq!(p.graded, rows.len() as u64);
            assert_eq!(p.accuracy_pct, right as f64 * 100.0 / rows.len() as f64);
        }
    }
    assert!(
        data.accuracy_by_position
            .iter()
            .all(|l| !l.strategy.starts_with("sequential")),
        "only packed strategies have positions"
    );
}
