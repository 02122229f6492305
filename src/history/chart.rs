//! Trend charts over the stored runs (cost per 1,000 prompts, accuracy with its interval when
//! present, p95 latency), one line per strategy against the run's position in the history, as
//! SVG and PNG with plotters and the embedded DejaVu font; and a self-contained HTML page.

use std::path::Path;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use plotters::prelude::*;

use super::trend::TrendPoint;
use crate::error::{Error, Result};
use crate::report::charts::{PALETTE, ensure_fonts};

/// Chart size in pixels.
const SIZE: (u32, u32) = (900, 420);

/// One of the trend charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendKind {
    /// Cost per 1,000 prompts, USD.
    Cost,
    /// Accuracy, percent, with its interval as whiskers when stored.
    Accuracy,
    /// p95 latency per prompt, ms.
    P95,
}

impl TrendKind {
    /// Every chart.
    pub const ALL: [TrendKind; 3] = [TrendKind::Cost, TrendKind::Accuracy, TrendKind::P95];

    /// File stem.
    pub fn name(self) -> &'static str {
        match self {
            TrendKind::Cost => "trend_cost_per_1k",
            TrendKind::Accuracy => "trend_accuracy",
            TrendKind::P95 => "trend_p95",
        }
    }

    fn title(self) -> &'static str {
        match self {
            TrendKind::Cost => "Cost per 1,000 prompts (USD) by run",
            TrendKind::Accuracy => "Accuracy (%) by run",
            TrendKind::P95 => "p95 latency per prompt (ms) by run",
        }
    }

    fn value(self, p: &TrendPoint) -> Option<(f64, Option<(f64, f64)>)> {
        match self {
            TrendKind::Cost => p.cost_per_1k_prompts.map(|v| (v, None)),
            TrendKind::Accuracy => p
                .accuracy_pct
                .map(|v| (v, p.accuracy_ci_low_pct.zip(p.accuracy_ci_high_pct))),
            TrendKind::P95 => p.latency_p95_ms.map(|v| (v, None)),
        }
    }
}

/// (strategy, [(x, y, interval)]) for one chart; x is the run's position (1 = oldest shown).
type Lines = Vec<(String, Vec<(f64, f64, Option<(f64, f64)>)>)>;

fn lines(kind: TrendKind, points: &[TrendPoint]) -> Lines {
    let mut runs: Vec<i64> = points.iter().map(|p| p.run).collect();
    runs.sort_unstable();
    runs.dedup();
    let mut out: Lines = Vec::new();
    for p in points {
        let Some((y, ci)) = kind.value(p) else {
            continue;
        };
        let x = runs.iter().position(|r| *r == p.run).unwrap_or(0) as f64 + 1.0;
        match out.iter_mut().find(|(s, _)| *s == p.strategy) {
            Some((_, v)) => v.push((x, y, ci)),
            None => out.push((p.strategy.clone(), vec![(x, y, ci)])),
        }
    }
    out
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    kind: TrendKind,
    points: &[TrendPoint],
) -> std::result::Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let data = lines(kind, points);
    let xs = data.iter().flat_map(|(_, v)| v.iter().map(|p| p.0));
    let x_max = xs.fold(1.0_f64, f64::max) + 0.5;
    let ys: Vec<f64> = data
        .iter()
        .flat_map(|(_, v)| {
            v.iter()
                .flat_map(|p| [Some(p.1), p.2.map(|c| c.0), p.2.map(|c| c.1)])
        })
        .flatten()
        .collect();
    let y_max = ys.iter().copied().fold(0.0_f64, f64::max);
    let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
    let mut chart = ChartBuilder::on(&root)
        .caption(kind.title(), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0.5..x_max, 0.0..y_max)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("run (oldest shown = 1)")
        .x_labels(((x_max - 0.5) as usize).clamp(1, 12) + 1)
        .x_label_formatter(&|x| {
            if (x - x.round()).abs() < 1e-6 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .light_line_style(RGBColor(240, 242, 244))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(e)?;
    if data.is_empty() {
        root.draw_text(
            "no values to draw",
            &("sans-serif", 16).into_text_style(&root),
            (SIZE.0 as i32 / 2 - 60, SIZE.1 as i32 / 2),
        )
        .map_err(e)?;
    }
    for (i, (strategy, pts)) in data.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                c.stroke_width(2),
            ))
            .map_err(e)?
            .label(strategy.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], c.stroke_width(3)));
        chart
            .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, c.filled())))
            .map_err(e)?;
        chart
            .draw_series(pts.iter().filter_map(|p| {
                p.2.map(|(lo, hi)| PathElement::new([(p.0, lo), (p.0, hi)], c.stroke_width(1)))
            }))
            .map_err(e)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 12))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}

/// The chart as an SVG document.
pub fn svg(kind: TrendKind, points: &[TrendPoint]) -> Result<String> {
    ensure_fonts()?;
    let mut buf = String::new();
    draw(
        SVGBackend::with_string(&mut buf, SIZE).into_drawing_area(),
        kind,
        points,
    )
    .map_err(|e| Error::Output(format!("trend chart {}: {e}", kind.name())))?;
    Ok(buf)
}

/// Writes every chart as `<dir>/<name>.svg` and `.png`, and `<dir>/history.html`.
pub fn write_all(dir: &Path, points: &[TrendPoint], tables_md: &str) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    ensure_fonts()?;
    let mut written = Vec::new();
    let mut svgs = Vec::new();
    for kind in TrendKind::ALL {
        let doc = svg(kind, points)?;
        let path = dir.join(format!("{}.svg", kind.name()));
        std::fs::write(&path, &doc).map_err(|e| Error::io(&path, e))?;
        written.push(path.display().to_string());
        let png = dir.join(format!("{}.png", kind.name()));
        draw(
            BitMapBackend::new(&png, SIZE).into_drawing_area(),
            kind,
            points,
        )
        .map_err(|e| Error::Output(format!("{}: {e}", png.display())))?;
        written.push(png.display().to_string());
        svgs.push(doc);
    }
    let path = dir.join("history.html");
    std::fs::write(&path, html(&svgs, tables_md)).map_err(|e| Error::io(&path, e))?;
    written.push(path.display().to_string());
    Ok(written)
}

/// The page: the charts inline (no external file, script or font) and the tables; maud escapes
/// every table cell.
fn html(svgs: &[String], tables_md: &str) -> String {
    const CSS: &str = "body{font-family:sans-serif;margin:2em;color:#212529}table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}figure{margin:0 0 1.5em 0}";
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "batchbench history" } style { (PreEscaped(CSS)) } }
            body {
                h1 { "batchbench history" }
                @for s in svgs {
                    figure { (PreEscaped(s.find("<svg").map_or(s.as_str(), |i| &s[i..]))) }
                }
                (tables_html(tables_md))
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
    out
}

/// The Markdown tables of [`super::trend::render`] as HTML tables.
fn tables_html(md: &str) -> Markup {
    let mut tables: Vec<(&str, Vec<Vec<&str>>)> = Vec::new();
    for line in md.lines() {
        if let Some(h) = line.strip_prefix("#### ") {
            tables.push((h, Vec::new()));
        } else if line.starts_with('|') && !line.starts_with("|---") {
            if let Some((_, rows)) = tables.last_mut() {
                rows.push(line.trim_matches('|').split(" | ").map(str::trim).collect());
            }
        }
    }
    html! {
        @for (title, rows) in &tables {
            h2 { (title) }
            table {
                @for (i, row) in rows.iter().enumerate() {
                    tr { @for c in row { @if i == 0 { th { (c) } } @else { td { (c) } } } }
                }
            }
        }
    }
}
