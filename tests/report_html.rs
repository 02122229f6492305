//! `report.html` is self-contained, escapes data, and renders in headless Chromium with its
//! summary table and charts. The screenshot is kept as `target/test-artifacts/report.png`.
//! Without Chromium the browser part is skipped with a message (install: `apt-get install chromium`).

#[path = "report_fixture.rs"]
mod fixture;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use batchbench::report::charts::ChartKind;
use batchbench::report::{self, Exporter};

fn write_html(dir: &Path) -> PathBuf {
    let report = fixture::full_report(40);
    let exporters: [&dyn Exporter; 1] = [&report::html::ReportHtml];
    report::write_all(dir, &report, &exporters).expect("write report.html");
    dir.join("report.html")
}

#[test]
fn html_is_self_contained_and_escaped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let html = std::fs::read_to_string(write_html(tmp.path())).expect("read");
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Self-contained: no script, no external resource. (The SVG namespace is an identifier, not a fetch.)
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for bad in ["<script", "http://", "https://", "<link", "@import", "src="] {
        assert!(!without_ns.contains(bad), "report.html contains {bad:?}");
    }
    // Data is escaped (maud escapes & < > "; a quote in text content is harmless).
    assert!(html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;wrong&quot;"));
    assert!(html.contains("support-tickets &lt;b&gt;&amp;&lt;/b&gt;"));
    assert!(html.contains("a &lt;warning&gt; with | pipes"));
    // Contents.
    assert!(html.contains("id=\"summary-table\""));
    assert!(html.contains("id=\"simulated\""));
    assert!(html.contains("<span class=\"badge\">demonstration</span>"));
    assert_eq!(html.matches("<svg").count(), ChartKind::ALL.len());
    for kind in ChartKind::ALL {
        assert!(html.contains(&format!("id=\"chart-{}\"", kind.name())));
    }
    let report = fixture::full_report(40);
    for s in &report.summaries {
        assert!(
            html.contains(&format!("<td>{}</td>", s.cost_usd)),
            "html lacks cost of {}",
            s.strategy
        );
    }
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
    {
        return Some(p);
    }
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs Chromium with a deadline; returns (exit ok, stdout). Stdout goes to a file: a DOM larger
/// than a pipe's buffer would otherwise block Chromium until the deadline.
fn run_chromium(bin: &Path, profile: &Path, extra: &[String], url: &str) -> (bool, String) {
    let out_path = profile.with_extension("stdout");
    let out_file = std::fs::File::create(&out_path).expect("stdout file");
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(url)
    .stdout(out_file)
    .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    let ok = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
        }
    };
    (ok, std::fs::read_to_string(&out_path).unwrap_or_default())
}

#[test]
fn html_renders_in_headless_chromium() {
    let Some(bin) = chromium() else {
        println!("skipped: chromium not installed (apt-get install chromium)");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let html = write_html(&tmp.path().join("run"));
    let url = format!("file://{}", html.display());

    // The DOM has the summary table and the inline SVG charts.
    let (ok, dom) = run_chromium(
        &bin,
        &tmp.path().join("profile-dom"),
        &["--dump-dom".into()],
        &url,
    );
    assert!(ok, "chromium --dump-dom failed");
    assert!(
        dom.contains("id=\"summary-table\""),
        "DOM lacks the summary table"
    );
    assert!(
        dom.contains("<td>batch-api+packed:8</td>"),
        "DOM lacks a summary row"
    );
    assert!(
        dom.matches("<svg").count() >= ChartKind::ALL.len(),
        "DOM lacks the charts"
    );
    assert!(dom.contains("Cost by strategy") && dom.contains("Latency per prompt (CDF)"));

    // A screenshot, kept as a test artifact.
    let shot = tmp.path().join("report.png");
    let (ok, _) = run_chromium(
        &bin,
        &tmp.path().join("profile-shot"),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400".into(),
        ],
        &url,
    );
    assert!(ok, "chromium --screenshot failed");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "screenshot is not a PNG"
    );
    assert!(png.len() > 50_000, "screenshot is only {} bytes", png.len());
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifact dir");
    std::fs::write(artifacts.join("report.png"), &png).expect("keep screenshot");
    std::fs::copy(&html, artifacts.join("report.html")).expect("keep html");
    println!("screenshot: {}", artifacts.join("report.png").display());

    // The whole page, every chart included, for people to look at.
    let full = tmp.path().join("report-full.png");
    let (ok, _) = run_chromium(
        &bin,
        &tmp.path().join("profile-full"),
        &[
            format!("--screenshot={}", full.display()),
            "--window-size=1280,6000".into(),
        ],
        &url,
    );
    if ok && full.is_file() {
        std::fs::copy(&full, artifacts.join("report-full.png")).expect("keep full screenshot");
    }
}
