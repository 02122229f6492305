//! The six charts of a run (eight for embedding runs), drawn with plotters from [`ChartData`] (itself computed from the
//! summaries and prompt rows): each as SVG, and as PNG with text rendered from the embedded
//! DejaVu Sans font, so no system font or library is needed.
//!
//! A chart never fails a run: with nothing to draw (one strategy, no baseline, every prompt
//! failed, NaN values) it is drawn as an empty frame that says why.

pub mod data;
mod embed;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use data::ChartData;
use data::{CdfSeries, PositionSeries, Series};

use super::markdown::fmt_int;
use super::{Exporter, RunReport};
use crate::error::{Error, Result};

/// Chart width in pixels (SVG user units).
pub const WIDTH: u32 = 900;
/// Chart height in pixels (SVG user units).
pub const HEIGHT: u32 = 500;
/// The folder of the run in which charts are written.
pub const DIR: &str = "charts";

/// One of the charts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChartKind {
    /// Total cost per strategy (horizontal bars).
    CostByStrategy,
    /// Saving versus sequential against K, per packed family.
    SavingVsBatchSize,
    /// Accuracy against K, per packed family.
    AccuracyVsBatchSize,
    /// Share of prompts answered within a latency, per strategy.
    LatencyCdf,
    /// Uncached / cached / cache-write / output tokens per strategy (stacked bars).
    TokenBreakdown,
    /// Accuracy at each slot of the pack, per packed strategy.
    AccuracyByPosition,
    /// Embedding runs: wall time per strategy.
    WallByStrategy,
    /// Embedding runs: 1 − the lowest vector cosine with embed:sequential, per strategy.
    VectorAgreement,
}

impl ChartKind {
    /// Every chart, in report order.
    pub const ALL: [ChartKind; 6] = [
        ChartKind::CostByStrategy,
        ChartKind::SavingVsBatchSize,
        ChartKind::AccuracyVsBatchSize,
        ChartKind::LatencyCdf,
        ChartKind::TokenBreakdown,
        ChartKind::AccuracyByPosition,
    ];

    /// The charts embedding runs add to [`ChartKind::ALL`].
    pub const EMBED: [ChartKind; 2] = [ChartKind::WallByStrategy, ChartKind::VectorAgreement];

    /// The charts of this run: [`ChartKind::ALL`], and [`ChartKind::EMBED`] for embedding runs.
    pub fn for_report(report: &RunReport) -> Vec<ChartKind> {
        let mut kinds = ChartKind::ALL.to_vec();
        if report.info.task.as_deref() == Some("embed") {
            kinds.extend(ChartKind::EMBED);
        }
        kinds
    }

    /// The file stem, e.g. `cost_by_strategy` (files are `charts/<stem>.svg` and `.png`).
    pub fn name(self) -> &'static str {
        match self {
            ChartKind::CostByStrategy => "cost_by_strategy",
            ChartKind::SavingVsBatchSize => "saving_vs_batch_size",
            ChartKind::AccuracyVsBatchSize => "accuracy_vs_batch_size",
            ChartKind::LatencyCdf => "latency_cdf",
            ChartKind::TokenBreakdown => "token_breakdown",
            ChartKind::AccuracyByPosition => "accuracy_by_position",
            ChartKind::WallByStrategy => "wall_by_strategy",
            ChartKind::VectorAgreement => "vector_agreement",
        }
    }

    /// The chart's title.
    pub fn title(self) -> &'static str {
        match self {
            ChartKind::CostByStrategy => "Cost by strategy",
            ChartKind::SavingVsBatchSize => "Saving versus batch size",
            ChartKind::AccuracyVsBatchSize => "Accuracy versus batch size",
            ChartKind::LatencyCdf => "Latency per prompt (CDF)",
            ChartKind::TokenBreakdown => "Tokens by kind and strategy",
            ChartKind::AccuracyByPosition => "Accuracy by position in the pack",
            ChartKind::WallByStrategy => "Wall time by strategy",
            ChartKind::VectorAgreement => "Vector agreement with embed:sequential",
        }
    }

    /// One sentence on how the chart is computed, for captions.
    pub fn caption(self) -> &'static str {
        match self {
            ChartKind::CostByStrategy => {
                "Total cost of each strategy (sum of cost_usd in prompts.csv), with its saving versus sequential."
            }
            ChartKind::SavingVsBatchSize => {
                "saving_vs_sequential_pct of each packed:K and batch-api+packed:K row against K; K = 1 is sequential (packed) or batch-api (batch-api+packed)."
            }
            ChartKind::AccuracyVsBatchSize => {
                "accuracy_pct against K, bars its 95% Wilson interval; K = 1 is sequential (packed, naive) or batch-api (batch-api+packed). naive-multi-message is a demonstration of a mistaken method."
            }
            ChartKind::LatencyCdf => {
                "For each strategy, the share of all its prompts answered within x ms (latency_ms of answered rows in prompts.csv); a curve ending below 100% lost answers."
            }
            ChartKind::TokenBreakdown => {
                "uncached_input_tokens, cached_tokens, cache_write_tokens and output_tokens of each strategy (summary.csv), stacked; reasoning_tokens shown apart as the part of output they are."
            }
            ChartKind::AccuracyByPosition => {
                "For each packed strategy, the share of graded prompts answered correctly at each slot of the pack (pack_position and correct in prompts.csv): a dip in the middle or at the end means position hurts."
            }
            ChartKind::WallByStrategy => {
                "wall_ms of each strategy (summary.csv): from its first request sent to its last result."
            }
            ChartKind::VectorAgreement => {
                "1 − vector_cosine_min of each strategy (summary.csv; 0 = every vector equals sequential's), the dashed line at 1 − vector_tolerance; past it the strategy is flagged."
            }
        }
    }
}

/// Writes `charts/<name>.svg` and `charts/<name>.png` for every chart.
#[derive(Debug, Clone, Copy)]
pub struct Charts;

impl Exporter for Charts {
    /// The folder the charts go to.
    fn file_name(&self) -> &'static str {
        DIR
    }

    /// The charts are several files: this gives the cost chart's SVG only; use [`Exporter::files`].
    fn serialize(&self, report: &RunReport) -> Result<Vec<u8>> {
        Ok(render_svg(ChartKind::CostByStrategy, report).into_bytes())
    }

    fn files(&self, report: &RunReport) -> Result<Vec<(String, Vec<u8>)>> {
        let data = ChartData::from_report(report);
        let mut out = Vec::new();
        for kind in ChartKind::for_report(report) {
            out.push((
                format!("{DIR}/{}.svg", kind.name()),
                render_svg_with(kind, report, &data).into_bytes(),
            ));
            out.push((
                format!("{DIR}/{}.png", kind.name()),
                render_png_with(kind, report, &data)?,
            ));
        }
        Ok(out)
    }
}

/// Registers DejaVu Sans (regular and bold, from the `dejavu` crate) as plotters' `sans-serif`,
/// once per process. Every text in every chart uses it.
pub fn ensure_fonts() -> Result<()> {
    static DONE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "cannot load the embedded DejaVu Sans font".to_string())?;
        plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold())
            .map_err(|_| "cannot load the embedded DejaVu Sans Bold font".to_string())
    })
    .clone()
    .map_err(Error::Output)
}

/// The chart as an SVG document (`<svg …>…</svg>`), [`WIDTH`]×[`HEIGHT`].
pub fn render_svg(kind: ChartKind, report: &RunReport) -> String {
    render_svg_with(kind, report, &ChartData::from_report(report))
}

/// Like [`render_svg`] with the chart data already computed.
pub fn render_svg_with(kind: ChartKind, report: &RunReport, data: &ChartData) -> String {
    let attempt = |f: &dyn Fn(&Area<SVGBackend>) -> Drawn| -> std::result::Result<String, String> {
        ensure_fonts().map_err(|e| e.to_string())?;
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
            f(&root)?;
            root.present().map_err(err)?;
        }
        Ok(buf)
    };
    match attempt(&|root| draw(root, kind, report, data)) {
        Ok(svg) => svg,
        Err(e) => attempt(&|root| {
            empty(
                root,
                kind.title(),
                &[&format!("This chart could not be drawn: {e}")],
            )
        })
        .unwrap_or_else(|_| fallback_svg(kind, &e)),
    }
}

/// The chart as PNG bytes, [`WIDTH`]×[`HEIGHT`].
pub fn render_png(kind: ChartKind, report: &RunReport) -> Result<Vec<u8>> {
    render_png_with(kind, report, &ChartData::from_report(report))
}

/// Like [`render_png`] with the chart data already computed.
///
/// plotters encodes PNG only to a file, so the image goes through a uniquely named temporary
/// file that is removed afterwards.
pub fn render_png_with(kind: ChartKind, report: &RunReport, data: &ChartData) -> Result<Vec<u8>> {
    ensure_fonts()?;
    let tmp = TempPng::new(kind);
    let attempt =
        |f: &dyn Fn(&Area<BitMapBackend>) -> Drawn| -> std::result::Result<Vec<u8>, String> {
            {
                let root = BitMapBackend::new(&tmp.0, (WIDTH, HEIGHT)).into_drawing_area();
                f(&root)?;
                root.present().map_err(err)?;
            }
            std::fs::read(&tmp.0).map_err(|e| format!("{}: {e}", tmp.0.display()))
        };
    match attempt(&|root| draw(root, kind, report, data)) {
        Ok(png) => Ok(png),
        Err(e) => attempt(&|root| {
            empty(
                root,
                kind.title(),
                &[&format!("This chart could not be drawn: {e}")],
            )
        })
        .map_err(|e2| Error::Output(format!("chart {}.png: {e2}", kind.name()))),
    }
}

/// A temporary PNG path, removed on drop.
struct TempPng(PathBuf);

impl TempPng {
    fn new(kind: ChartKind) -> TempPng {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        TempPng(std::env::temp_dir().join(format!(
            "batchbench-{}-{n}-{nanos}-{}.png",
            std::process::id(),
            kind.name()
        )))
    }
}

impl Drop for TempPng {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn fallback_svg(kind: ChartKind, e: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    format!(
        "<svg width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/><text x=\"20\" y=\"40\" font-family=\"sans-serif\" font-size=\"18\">{}</text>\
         <text x=\"20\" y=\"80\" font-family=\"sans-serif\" font-size=\"14\">This chart could not be drawn: {}</text></svg>\n",
        esc(kind.title()),
        esc(e)
    )
}

// ---------------------------------------------------------------------------------------------
// Drawing

type Area<DB> = DrawingArea<DB, Shift>;
type Drawn = std::result::Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

const TEXT: RGBColor = RGBColor(33, 37, 41);
const MUTED: RGBColor = RGBColor(100, 106, 112);
const GRID: RGBColor = RGBColor(225, 228, 232);
const DEMO: RGBColor = RGBColor(150, 150, 150);

/// Okabe–Ito colours (distinguishable with colour-blindness; yellow left out, poor on white),
/// then three of Paul Tol's, so that the default set of strategies gets distinct colours.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(51, 34, 136),
    RGBColor(136, 34, 85),
    RGBColor(153, 153, 51),
];

/// Token kinds: uncached, cached, cache write, output.
const TOKEN_COLOURS: [RGBColor; 5] = [
    RGBColor(0, 114, 178),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
];

fn colour(i: usize, demo: bool) -> RGBColor {
    if demo {
        DEMO
    } else {
        PALETTE[i % PALETTE.len()]
    }
}

fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::SansSerif, size, FontStyle::Normal)
}

fn bold(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::SansSerif, size, FontStyle::Bold)
}

fn display_name(strategy: &str, demo: bool) -> String {
    if demo {
        format!("{strategy} (demo)")
    } else {
        strategy.to_string()
    }
}

fn draw<DB: DrawingBackend>(
    root: &Area<DB>,
    kind: ChartKind,
    report: &RunReport,
    data: &ChartData,
) -> Drawn {
    let foot = vec![footnote(report)];
    match kind {
        ChartKind::CostByStrategy => cost_chart(root, data, &foot),
        ChartKind::WallByStrategy => embed::wall_chart(root, report, &foot),
        ChartKind::VectorAgreement => embed::agreement_chart(root, report, &foot),
        ChartKind::TokenBreakdown => token_chart(root, data, &foot),
        ChartKind::LatencyCdf => latency_chart(root, data, &foot),
        ChartKind::AccuracyByPosition => position_chart(root, data, &foot),
        ChartKind::SavingVsBatchSize => {
            let has_baseline = report
                .summaries
                .iter()
                .any(|s| s.strategy == crate::strategy::BASELINE);
            let why: &[&str] = if !has_baseline {
                &[
                    "No sequential baseline in this run.",
                    "Savings are measured against the sequential strategy: add it to --strategies.",
                ]
            } else {
                &[
                    "No packed:K or batch-api+packed:K strategy in this run,",
                    "or none with a saving that could be computed.",
                ]
            };
            batch_size_chart(
                root,
                kind,
                &data.saving_vs_batch_size,
                BatchAxis::Saving,
                why,
                &foot,
            )
        }
        ChartKind::AccuracyVsBatchSize => {
            let graded = report
                .summaries
                .iter()
                .any(|s| s.accuracy_pct.is_some_and(f64::is_finite));
            let why: &[&str] = if !graded {
                &[
                    "No accuracy to plot: the dataset has no gold answers,",
                    "or no prompt was graded.",
                ]
            } else {
                &[
                    "No packed:K, batch-api+packed:K or naive-multi-message:K strategy",
                    "with an accuracy in this run.",
                ]
            };
            batch_size_chart(
                root,
                kind,
                &data.accuracy_vs_batch_size,
                BatchAxis::Accuracy,
                why,
                &foot,
            )
        }
    }
}

fn footnote(report: &RunReport) -> String {
    let i = &report.info;
    let mut s = format!(
        "{} prompts · {} {} · {}",
        i.prompts, i.provider, i.model, i.dataset
    );
    if i.simulated {
        s.push_str(" · simulated by the built-in mock");
    }
    let failed = super::markdown::failed_names(report);
    if !failed.is_empty() {
        s.push_str(&format!(
            " · not charted, failed: {} (see report.md)",
            failed.join(", ")
        ));
    }
    s
}

/// Fills the background, draws the title and the footnote lines; returns the area in between.
fn frame<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    foot: &[String],
) -> std::result::Result<Area<DB>, String> {
    root.fill(&WHITE).map_err(err)?;
    let body = root.titled(title, bold(24.0).color(&TEXT)).map_err(err)?;
    let h = body.dim_in_pixel().1 as i32;
    let line_h = 19;
    let (body, bottom) = body.split_vertically(h - line_h * foot.len() as i32 - 4);
    let style = font(14.0)
        .color(&MUTED)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, line) in foot.iter().enumerate() {
        bottom
            .draw_text(line, &style, (12, line_h / 2 + i as i32 * line_h))
            .map_err(err)?;
    }
    Ok(body)
}

/// An empty chart: the frame and centred lines of explanation.
fn empty<DB: DrawingBackend>(root: &Area<DB>, title: &str, lines: &[&str]) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    let body = root.titled(title, bold(24.0).color(&TEXT)).map_err(err)?;
    draw_empty_body(&body, lines)
}

fn draw_empty_body<DB: DrawingBackend>(body: &Area<DB>, lines: &[&str]) -> Drawn {
    let (w, h) = body.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    body.draw(&Rectangle::new(
        [(20, 10), (w - 20, h - 20)],
        ShapeStyle::from(&GRID).stroke_width(2),
    ))
    .map_err(err)?;
    let style = font(18.0)
        .color(&MUTED)
        .pos(Pos::new(HPos::Center, VPos::Center));
    let top = h / 2 - (lines.len() as i32 - 1) * 14;
    for (i, line) in lines.iter().enumerate() {
        body.draw_text(line, &style, (w / 2, top + i as i32 * 28))
            .map_err(err)?;
    }
    Ok(())
}

/// What a legend swatch looks like.
#[derive(Clone, Copy)]
enum Swatch {
    Box,
    Line,
    Dashed,
}

/// Draws a one- or two-row legend across the top of `area`; returns the area below it.
fn legend<DB: DrawingBackend>(
    area: &Area<DB>,
    items: &[(String, RGBColor, Swatch)],
) -> std::result::Result<Area<DB>, String> {
    let (w, _) = area.dim_in_pixel();
    let style = font(15.0)
        .color(&TEXT)
        .pos(Pos::new(HPos::Left, VPos::Center));
    // Lay items out left to right, wrapping.
    let mut rows: Vec<Vec<(i32, usize)>> = vec![Vec::new()];
    let mut x = 0i32;
    let mut widths = Vec::new();
    for (i, (label, _, _)) in items.iter().enumerate() {
        let tw = area.estimate_text_size(label, &style).map_err(err)?.0 as i32;
        let iw = 26 + tw + 22;
        if x > 0 && x + iw > w as i32 - 40 {
            rows.push(Vec::new());
            x = 0;
        }
        if let Some(row) = rows.last_mut() {
            row.push((x, i));
        }
        widths.push(iw);
        x += iw;
    }
    let row_h = 24;
    let (top, rest) = area.split_vertically(rows.len() as i32 * row_h + 8);
    for (r, row) in rows.iter().enumerate() {
        let row_w = row.last().map_or(0, |(x, i)| x + widths[*i] - 22);
        let left = (w as i32 - row_w).max(0) / 2;
        let y = r as i32 * row_h + row_h / 2 + 2;
        for (x, i) in row {
            let (label, c, swatch) = &items[*i];
            let x0 = left + x;
            match swatch {
                Swatch::Box => top
                    .draw(&Rectangle::new([(x0, y - 7), (x0 + 18, y + 7)], c.filled()))
                    .map_err(err)?,
                Swatch::Line => top
                    .draw(&PathElement::new(
                        vec![(x0, y), (x0 + 20, y)],
                        c.stroke_width(3),
                    ))
                    .map_err(err)?,
                Swatch::Dashed => {
                    for d in [0, 8, 16] {
                        top.draw(&PathElement::new(
                            vec![(x0 + d, y), (x0 + (d + 5).min(20), y)],
                            c.stroke_width(3),
                        ))
                        .map_err(err)?;
                    }
                }
            }
            top.draw_text(label, &style, (x0 + 26, y)).map_err(err)?;
        }
    }
    Ok(rest)
}

fn label_width<DB: DrawingBackend>(
    area: &Area<DB>,
    names: &[String],
) -> std::result::Result<u32, String> {
    let style = font(15.0);
    let mut max = 0;
    for n in names {
        max = max.max(
            area.estimate_text_size(n, &TextStyle::from(style.clone()))
                .map_err(err)?
                .0,
        );
    }
    Ok((max + 20).clamp(60, 320))
}

/// `$0.0012`-style axis money, with enough decimals for the range.
fn money_tick(v: f64, range: f64) -> String {
    let decimals = if range >= 100.0 {
        0
    } else if range > 0.0 {
        ((-range.log10()).ceil() as i64 + 2).clamp(2, 9) as usize
    } else {
        2
    };
    format!("${v:.decimals$}")
}

/// Compact token counts for axes: `1.5k`, `2M`.
fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim_num(v / 1e6))
    } else if a >= 1e3 {
        format!("{}k", trim_num(v / 1e3))
    } else {
        trim_num(v)
    }
}

fn trim_num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// Milliseconds for axes, to about two significant digits.
fn ms_tick(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v >= 100.0 {
        fmt_int(v.round() as u64)
    } else if v >= 10.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        trim_num((v * 10.0).round() / 10.0)
    } else {
        trim_num((v * 100.0).round() / 100.0)
    }
}

fn saving_text(s: Option<f64>) -> String {
    match s {
        Some(p) if p.is_finite() && p.abs() < 0.05 => "same as sequential".into(),
        Some(p) if p.is_finite() && p > 0.0 => format!("saves {p:.1}%"),
        Some(p) if p.is_finite() => format!("costs {:.1}% more", -p),
        _ => String::new(),
    }
}

fn cost_chart<DB: DrawingBackend>(root: &Area<DB>, data: &ChartData, foot: &[String]) -> Drawn {
    let bars = &data.cost_by_strategy;
    if bars.is_empty() {
        return empty(
            root,
            ChartKind::CostByStrategy.title(),
            &["No strategy ran: nothing to chart."],
        );
    }
    let body = frame(root, ChartKind::CostByStrategy.title(), foot)?;
    let names: Vec<String> = bars
        .iter()
        .map(|b| display_name(&b.strategy, b.demonstration))
        .collect();
    let max = bars.iter().map(|b| b.cost_usd.as_usd()).fold(0.0, f64::max);
    let all_zero = max <= 0.0;
    let xmax = if all_zero { 1.0 } else { max * 1.08 };
    let xfmt = |v: &f64| money_tick(*v, xmax);
    let mut chart = bar_chart(&body, &names, xmax, "Total cost of the run, USD", &xfmt)?;
    for (i, b) in bars.iter().enumerate() {
        let row = row_of(i, bars.len());
        let c = colour(i, b.demonstration);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, row + 0.2), (b.cost_usd.as_usd(), row + 0.8)],
                c.filled(),
            )))
            .map_err(err)?;
        let mut label = b.cost_usd.to_string();
        let saving = saving_text(b.saving_vs_sequential_pct);
        if !saving.is_empty() {
            label = format!("{label} · {saving}");
        }
        if b.demonstration {
            label.push_str(" · demonstration, loses answers");
        }
        place_bar_label(&chart, &body, &label, b.cost_usd.as_usd(), row + 0.5, true)?;
    }
    if all_zero {
        let (w, h) = body.dim_in_pixel();
        let style = font(16.0)
            .color(&MUTED)
            .pos(Pos::new(HPos::Center, VPos::Center));
        body.draw_text(
            "Every strategy cost $0: no priced tokens were recorded.",
            &style,
            (w as i32 / 2, h as i32 / 3),
        )
        .map_err(err)?;
    }
    Ok(())
}

type BarChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The y position (bottom of the row) of the `i`-th of `n` bars, the first at the top.
fn row_of(i: usize, n: usize) -> f64 {
    (n - 1 - i) as f64
}

/// A horizontal bar chart: x from 0 to `xmax` labelled by `xfmt` and described by `x_desc`, one
/// row per name, its grid and row names drawn; the caller draws the bars.
fn bar_chart<'a, DB: DrawingBackend>(
    body: &'a Area<DB>,
    names: &[String],
    xmax: f64,
    x_desc: &str,
    xfmt: &dyn Fn(&f64) -> String,
) -> std::result::Result<BarChart<'a, DB>, String> {
    let mut chart = ChartBuilder::on(body)
        .margin_left(12)
        .margin_right(30)
        .margin_top(8)
        .x_label_area_size(48)
        .y_label_area_size(label_width(body, names)?)
        .build_cartesian_2d(0f64..xmax, 0f64..names.len().max(1) as f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .y_labels(0)
        .x_label_formatter(xfmt)
        .x_labels(8)
        .x_desc(x_desc)
        .label_style(font(15.0).color(&TEXT))
        .axis_desc_style(font(16.0).color(&TEXT))
        .draw()
        .map_err(err)?;
    draw_row_names(&chart, body, names)?;
    Ok(chart)
}

/// Writes each bar's name left of the y axis, centred on its row.
fn draw_row_names<DB: DrawingBackend>(
    chart: &BarChart<DB>,
    body: &Area<DB>,
    names: &[String],
) -> Drawn {
    let (bx, by) = body.get_base_pixel();
    let style = font(15.0)
        .color(&TEXT)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (i, name) in names.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0.0, row_of(i, names.len()) + 0.5));
        body.draw_text(name, &style, (x - 8 - bx, y - by))
            .map_err(err)?;
    }
    Ok(())
}

/// Puts a bar's label inside its end (white) when `inside` is allowed and it fits, else just
/// after it (dark), else at the right edge.
fn place_bar_label<DB: DrawingBackend>(
    chart: &BarChart<DB>,
    body: &Area<DB>,
    label: &str,
    end: f64,
    y: f64,
    inside: bool,
) -> Drawn {
    let style = font(15.0);
    let (x0, _) = chart.backend_coord(&(0.0, y));
    let (x1, py) = chart.backend_coord(&(end, y));
    let tw = body
        .estimate_text_size(label, &TextStyle::from(style.clone()))
        .map_err(err)?
        .0 as i32;
    let plot_right = chart.plotting_area().get_pixel_range().0.end;
    let (x, hpos, c) = if inside && x1 - x0 >= tw + 16 {
        (x1 - 8, HPos::Right, WHITE)
    } else if x1 + 6 + tw <= plot_right {
        (x1 + 6, HPos::Left, TEXT)
    } else {
        (plot_right - 4, HPos::Right, TEXT)
    };
    let (bx, by) = body.get_base_pixel();
    body.draw_text(
        label,
        &style.color(&c).pos(Pos::new(hpos, VPos::Center)),
        (x - bx, py - by),
    )
    .map_err(err)
}

fn token_chart<DB: DrawingBackend>(root: &Area<DB>, data: &ChartData, foot: &[String]) -> Drawn {
    let title = ChartKind::TokenBreakdown.title();
    let bars = &data.token_breakdown;
    if bars.is_empty() {
        return empty(root, title, &["No strategy ran: nothing to chart."]);
    }
    let max = bars.iter().map(|b| b.total()).max().unwrap_or(0);
    if max == 0 {
        return empty(
            root,
            title,
            &[
                "No tokens were recorded:",
                "every request failed before the server counted any.",
            ],
        );
    }
    let body = frame(root, title, foot)?;
    // Reasoning gets its own segment (and legend entry) only in runs that have any.
    let reasoning = bars.iter().any(|b| b.reasoning_tokens > 0);
    let kinds: &[&str] = if reasoning {
        &[
            "uncached input",
            "cached input",
            "cache write",
            "output (answer)",
            "reasoning (output)",
        ]
    } else {
        &["uncached input", "cached input", "cache write", "output"]
    };
    let items: Vec<(String, RGBColor, Swatch)> = kinds
        .iter()
        .zip(TOKEN_COLOURS)
        .map(|(k, c)| (k.to_string(), c, Swatch::Box))
        .collect();
    let body = legend(&body, &items)?;
    let names: Vec<String> = bars
        .iter()
        .map(|b| display_name(&b.strategy, b.demonstration))
        .collect();
    let xmax = max as f64 * 1.22;
    let xfmt = |v: &f64| compact(*v);
    let mut chart = bar_chart(
        &body,
        &names,
        xmax,
        "Tokens, summed over all prompts of the strategy",
        &xfmt,
    )?;
    for (i, b) in bars.iter().enumerate() {
        let row = row_of(i, bars.len());
        let parts = [
            b.uncached_input_tokens,
            b.cached_tokens,
            b.cache_write_tokens,
            b.output_tokens - b.reasoning_tokens,
            b.reasoning_tokens,
        ];
        let mut start = 0u64;
        for (part, c) in parts.iter().zip(TOKEN_COLOURS) {
            if *part == 0 {
                continue;
            }
            let end = start + part;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(start as f64, row + 0.2), (end as f64, row + 0.8)],
                    c.filled(),
                )))
                .map_err(err)?;
            start = end;
        }
        let label = format!("{} tokens", fmt_int(b.total()));
        place_bar_label(&chart, &body, &label, b.total() as f64, row + 0.5, false)?;
    }
    Ok(())
}

fn position_chart<DB: DrawingBackend>(root: &Area<DB>, data: &ChartData, foot: &[String]) -> Drawn {
    let title = ChartKind::AccuracyByPosition.title();
    let lines: &[PositionSeries] = &data.accuracy_by_position;
    if lines.is_empty() {
        return empty(
            root,
            title,
            &[
                "No packed strategy with graded prompts in this run:",
                "accuracy by position needs packed:K and gold answers.",
            ],
        );
    }
    let body = frame(root, title, foot)?;
    let items: Vec<(String, RGBColor, Swatch)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.strategy.clone(), colour(i, false), Swatch::Line))
        .collect();
    let body = legend(&body, &items)?;
    let max_pos = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.position))
        .max()
        .unwrap_or(1);
    let mut chart = ChartBuilder::on(&body)
        .margin_left(12)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(0.5f64..f64::from(max_pos) + 0.5, 0f64..105.0)
        .map_err(err)?;
    let xfmt = |v: &f64| {
        if (v - v.round()).abs() < 1e-9 && *v >= 1.0 {
            format!("{}", v.round() as u32)
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .x_label_formatter(&xfmt)
        .y_label_formatter(&|v: &f64| format!("{v:.0}%"))
        .x_labels((max_pos as usize).min(32) * 2 + 1)
        .y_labels(6)
        .x_desc("Position in the pack (1 = first item)")
        .y_desc("Accuracy at that position")
        .label_style(font(15.0).color(&TEXT))
        .axis_desc_style(font(16.0).color(&TEXT))
        .draw()
        .map_err(err)?;
    for (i, l) in lines.iter().enumerate() {
        let col = colour(i, false);
        let pts: Vec<(f64, f64)> = l
            .points
            .iter()
            .map(|p| (f64::from(p.position), p.accuracy_pct))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), col.stroke_width(3)))
            .map_err(err)?;
        chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, 4, col.filled())))
            .map_err(err)?;
    }
    Ok(())
}

fn latency_chart<DB: DrawingBackend>(root: &Area<DB>, data: &ChartData, foot: &[String]) -> Drawn {
    let title = ChartKind::LatencyCdf.title();
    let curves: Vec<(usize, &CdfSeries)> = data
        .latency_cdf
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.points.is_empty())
        .collect();
    if curves.is_empty() {
        let lines: &[&str] = if data.latency_cdf.is_empty() {
            &["No strategy ran: nothing to chart."]
        } else {
            &["No prompt was answered:", "there are no latencies to plot."]
        };
        return empty(root, title, lines);
    }
    let body = frame(root, title, foot)?;
    let items: Vec<(String, RGBColor, Swatch)> = curves
        .iter()
        .map(|(i, c)| {
            let mut notes = Vec::new();
            if c.demonstration {
                notes.push("demo".to_string());
            }
            if c.answered < c.prompts {
                notes.push(format!("{}/{} answered", c.answered, c.prompts));
            }
            let label = if notes.is_empty() {
                c.strategy.clone()
            } else {
                format!("{} ({})", c.strategy, notes.join(", "))
            };
            (
                label,
                colour(*i, c.demonstration),
                if c.demonstration {
                    Swatch::Dashed
                } else {
                    Swatch::Line
                },
            )
        })
        .collect();
    let body = legend(&body, &items)?;
    let all = || {
        curves
            .iter()
            .flat_map(|(_, c)| c.points.iter().map(|p| p.latency_ms))
    };
    let min = all().fold(f64::INFINITY, f64::min);
    let max = all().fold(f64::NEG_INFINITY, f64::max);
    let log = min > 0.0 && max / min > 20.0;
    let tx = |v: f64| if log { v.log10() } else { v };
    let (lo, hi) = if log {
        (min.log10().floor(), max.log10() + 0.1)
    } else {
        let lo = if min >= 0.0 { 0.0 } else { min };
        let hi = if max > lo { max * 1.05 } else { lo + 1.0 };
        (lo, hi)
    };
    let mut chart = ChartBuilder::on(&body)
        .margin_left(12)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(lo..hi, 0f64..1.02)
        .map_err(err)?;
    let xfmt = |v: &f64| {
        if !log {
            ms_tick(*v)
        } else if (v - v.round()).abs() < 1e-9 {
            ms_tick(10f64.powf(v.round()))
        } else {
            String::new()
        }
    };
    let yfmt = |v: &f64| format!("{:.0}%", v * 100.0);
    let desc = if log {
        "Latency per prompt, ms (log scale)"
    } else {
        "Latency per prompt, ms"
    };
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .x_labels(if log {
            ((hi - lo).ceil() as usize) * 2 + 1
        } else {
            10
        })
        .y_labels(6)
        .x_desc(desc)
        .y_desc("Share of prompts answered")
        .label_style(font(15.0).color(&TEXT))
        .axis_desc_style(font(16.0).color(&TEXT))
        .draw()
        .map_err(err)?;
    for (i, c) in &curves {
        let col = colour(*i, c.demonstration);
        let mut path: Vec<(f64, f64)> = Vec::with_capacity(c.points.len() * 2 + 2);
        let mut prev = 0.0;
        for p in &c.points {
            let x = tx(p.latency_ms);
            path.push((x, prev));
            path.push((x, p.fraction));
            prev = p.fraction;
        }
        if prev < 1.0 {
            path.push((hi, prev));
        }
        let style = col.stroke_width(if c.demonstration { 2 } else { 3 });
        if c.demonstration {
            chart
                .draw_series(DashedLineSeries::new(path, 8, 6, style))
                .map_err(err)?;
        } else {
            chart
                .draw_series(LineSeries::new(path, style))
                .map_err(err)?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum BatchAxis {
    Saving,
    Accuracy,
}

fn family_colour(family: &str) -> (RGBColor, Swatch) {
    match family {
        "packed" => (PALETTE[0], Swatch::Line),
        "batch-api+packed" => (PALETTE[1], Swatch::Line),
        _ => (DEMO, Swatch::Dashed),
    }
}

fn batch_size_chart<DB: DrawingBackend>(
    root: &Area<DB>,
    kind: ChartKind,
    series: &[Series],
    axis: BatchAxis,
    why: &[&str],
    foot: &[String],
) -> Drawn {
    let title = kind.title();
    if series.iter().all(|s| s.points.is_empty()) {
        return empty(root, title, why);
    }
    let mut lines = foot.to_vec();
    if let Some(line) = anchor_note(series) {
        lines.insert(0, line);
    }
    let body = frame(root, title, &lines)?;
    let items: Vec<(String, RGBColor, Swatch)> = series
        .iter()
        .map(|s| {
            let (c, sw) = family_colour(&s.family);
            let label = if s.demonstration {
                format!("{}:K (demonstration)", s.family)
            } else {
                format!("{}:K", s.family)
            };
            (label, c, sw)
        })
        .collect();
    let body = legend(&body, &items)?;
    let ((xlo, xhi), (ylo, yhi)) = batch_ranges(series, axis);
    let mut chart = ChartBuilder::on(&body)
        .margin_left(12)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(xlo..xhi, ylo..yhi)
        .map_err(err)?;
    let xfmt = |v: &f64| {
        let r = v.round();
        if (v - r).abs() < 1e-6 && r >= 0.0 {
            format!("{}", 2f64.powf(r).round() as u64)
        } else {
            String::new()
        }
    };
    let yfmt = |v: &f64| format!("{}%", trim_num(*v));
    let xlabels = ((xhi - xlo).ceil() as usize + 1).max(2);
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .x_labels(xlabels)
        .y_labels(8)
        .x_desc("K, prompts per request (log scale)")
        .y_desc(if axis == BatchAxis::Saving {
            "Saving versus sequential, %"
        } else {
            "Accuracy versus gold answers, %"
        })
        .label_style(font(15.0).color(&TEXT))
        .axis_desc_style(font(16.0).color(&TEXT))
        .draw()
        .map_err(err)?;
    if axis == BatchAxis::Saving && ylo < 0.0 {
        chart
            .draw_series(LineSeries::new(
                vec![(xlo, 0.0), (xhi, 0.0)],
                MUTED.stroke_width(1),
            ))
            .map_err(err)?;
    }
    let placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    for s in series {
        let (c, _) = family_colour(&s.family);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|p| (f64::from(p.k.max(1)).log2(), p.value))
            .collect();
        if s.demonstration {
            chart
                .draw_series(DashedLineSeries::new(pts.clone(), 8, 6, c.stroke_width(2)))
                .map_err(err)?;
        } else {
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))
                .map_err(err)?;
        }
        chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, 5, c.filled())))
            .map_err(err)?;
        // 95% interval error bars, where the points carry one (accuracy).
        let bars = s.points.iter().filter_map(|p| {
            let x = f64::from(p.k.max(1)).log2();
            Some(PathElement::new(
                vec![(x, p.low?), (x, p.high?)],
                c.stroke_width(2),
            ))
        });
        chart.draw_series(bars).map_err(err)?;
    }
    value_labels(&chart, &body, series, placed)
}

/// Which strategy stands in for K = 1 on each line, as a footnote ("K = 1 is sequential for packed").
fn anchor_note(series: &[Series]) -> Option<String> {
    let mut anchors: Vec<(String, Vec<&str>)> = Vec::new();
    for s in series {
        if let Some(p) = s
            .points
            .iter()
            .find(|p| p.k == 1 && !p.strategy.contains(':'))
        {
            match anchors.iter_mut().find(|(a, _)| *a == p.strategy) {
                Some((_, fams)) => fams.push(&s.family),
                None => anchors.push((p.strategy.clone(), vec![&s.family])),
            }
        }
    }
    if anchors.is_empty() {
        return None;
    }
    let parts: Vec<String> = anchors
        .iter()
        .map(|(a, fams)| format!("{a} for {}", fams.join(" and ")))
        .collect();
    Some(format!("K = 1 is {}.", parts.join("; ")))
}

/// The x range (log2 K, padded) and y range (per axis) of a batch-size chart.
fn batch_ranges(series: &[Series], axis: BatchAxis) -> ((f64, f64), (f64, f64)) {
    let ks = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| f64::from(p.k.max(1)).log2()))
    };
    let kmin = ks().fold(f64::INFINITY, f64::min);
    let kmax = ks().fold(f64::NEG_INFINITY, f64::max);
    let x = if kmax - kmin < 1.0 {
        (kmin - 0.7, kmax + 0.7)
    } else {
        (kmin - 0.35, kmax + 0.35)
    };
    let vals = || series.iter().flat_map(|s| s.points.iter().map(|p| p.value));
    let vmin = vals().fold(f64::INFINITY, f64::min);
    let vmax = vals().fold(f64::NEG_INFINITY, f64::max);
    let y = match axis {
        BatchAxis::Accuracy => (vmin.min(0.0), vmax.max(100.0) + 9.0),
        BatchAxis::Saving => {
            let lo = vmin.min(0.0);
            let hi = vmax.max(0.0);
            let pad = ((hi - lo) * 0.12).max(5.0);
            (lo - if lo < 0.0 { pad } else { 0.0 }, hi + pad)
        }
    };
    (x, y)
}

/// Value labels, placed where they overlap no other label and no point; a value shared by
/// several lines at the same K (the K = 1 anchor) is written once.
fn value_labels<DB: DrawingBackend>(
    chart: &LineChart<DB>,
    body: &Area<DB>,
    series: &[Series],
    mut placed: Vec<(i32, i32, i32, i32)>,
) -> Drawn {
    for s in series {
        for sp in &s.points {
            let (px, py) = chart.backend_coord(&(f64::from(sp.k.max(1)).log2(), sp.value));
            placed.push((px - 6, py - 6, px + 6, py + 6));
        }
    }
    let mut labelled: Vec<(u32, u64)> = Vec::new();
    for s in series {
        for sp in &s.points {
            if labelled.contains(&(sp.k, sp.value.to_bits())) {
                continue;
            }
            labelled.push((sp.k, sp.value.to_bits()));
            let p = (f64::from(sp.k.max(1)).log2(), sp.value);
            point_label(chart, body, &format!("{:.1}%", sp.value), p, &mut placed)?;
        }
    }
    Ok(())
}

type LineChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Writes `text` next to the point `p`: above, below, right or left, the first place that
/// overlaps no rectangle in `placed` (above if none is free).
fn point_label<DB: DrawingBackend>(
    chart: &LineChart<DB>,
    body: &Area<DB>,
    text: &str,
    p: (f64, f64),
    placed: &mut Vec<(i32, i32, i32, i32)>,
) -> Drawn {
    let style = font(15.0);
    let (w, h) = body
        .estimate_text_size(text, &TextStyle::from(style.clone()))
        .map_err(err)?;
    let (w, h) = (w as i32, h as i32);
    let (px, py) = chart.backend_coord(&p);
    let candidates = [
        (px - w / 2, py - 9 - h),
        (px - w / 2, py + 9),
        (px + 10, py - h / 2),
        (px - 10 - w, py - h / 2),
    ];
    let free = |(x, y): (i32, i32)| {
        placed
            .iter()
            .all(|&(a, b, c, d)| x + w <= a || x >= c || y + h <= b || y >= d)
    };
    let (x, y) = candidates
        .iter()
        .copied()
        .find(|c| free(*c))
        .unwrap_or(candidates[0]);
    placed.push((x, y, x + w, y + h));
    let (bx, by) = body.get_base_pixel();
    body.draw_text(
        text,
        &style.color(&TEXT).pos(Pos::new(HPos::Left, VPos::Top)),
        (x - bx, y - by),
    )
    .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_formats() {
        assert_eq!(fmt_int(0), "0");
        assert_eq!(fmt_int(1234567), "1,234,567");
        assert_eq!(compact(1500.0), "1.5k");
        assert_eq!(compact(2_000_000.0), "2M");
        assert_eq!(compact(12.0), "12");
        assert_eq!(ms_tick(1234.4), "1,234");
        assert_eq!(ms_tick(31.62), "32");
        assert_eq!(ms_tick(3.16), "3.2");
        assert_eq!(money_tick(0.0015, 0.002), "$0.00150");
        assert_eq!(saving_text(Some(50.0)), "saves 50.0%");
        assert_eq!(saving_text(Some(-12.5)), "costs 12.5% more");
        assert_eq!(saving_text(Some(f64::NAN)), "");
    }
}
