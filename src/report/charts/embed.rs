//! The two charts embedding runs add: wall time by strategy, and how far each strategy's
//! vectors are from `embed:sequential`'s (1 − the lowest cosine), both read from summary.csv.

use plotters::prelude::*;

use super::{
    Area, ChartKind, Drawn, bar_chart, colour, empty, err, frame, place_bar_label, row_of,
};
use crate::report::RunReport;
use crate::report::summary::{RunStatus, StrategySummary};

fn charted(report: &RunReport) -> Vec<&StrategySummary> {
    report
        .summaries
        .iter()
        .filter(|s| s.status != RunStatus::Failed)
        .collect()
}

/// Horizontal bars of `value` per strategy, labelled by `label`.
fn bars<DB: DrawingBackend>(
    root: &Area<DB>,
    kind: ChartKind,
    rows: &[(&StrategySummary, f64, String)],
    x_desc: &str,
    foot: &[String],
    floor: Option<f64>,
) -> Drawn {
    let body = frame(root, kind.title(), foot)?;
    let names: Vec<String> = rows.iter().map(|(s, _, _)| s.strategy.clone()).collect();
    let max = rows
        .iter()
        .map(|(_, v, _)| *v)
        .chain(floor)
        .fold(0.0, f64::max);
    let xmax = if max > 0.0 { max * 1.15 } else { 1.0 };
    let xfmt = |v: &f64| format!("{v:.3}");
    let mut chart = bar_chart(&body, &names, xmax, x_desc, &xfmt)?;
    for (i, (_, v, label)) in rows.iter().enumerate() {
        let row = row_of(i, rows.len());
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, row + 0.2), (*v, row + 0.8)],
                colour(i, false).filled(),
            )))
            .map_err(err)?;
        place_bar_label(&chart, &body, label, *v, row + 0.5, true)?;
    }
    if let Some(line) = floor {
        let top = rows.len() as f64;
        chart
            .draw_series(DashedLineSeries::new(
                [(line, 0.0), (line, top)],
                6,
                4,
                RED.stroke_width(2),
            ))
            .map_err(err)?;
    }
    Ok(())
}

/// Wall time per strategy, in seconds.
pub(super) fn wall_chart<DB: DrawingBackend>(
    root: &Area<DB>,
    report: &RunReport,
    foot: &[String],
) -> Drawn {
    let rows: Vec<(&StrategySummary, f64, String)> = charted(report)
        .into_iter()
        .map(|s| {
            (
                s,
                s.wall_ms / 1000.0,
                format!("{:.1} s · {} requests", s.wall_ms / 1000.0, s.requests),
            )
        })
        .collect();
    if rows.is_empty() {
        return empty(
            root,
            ChartKind::WallByStrategy.title(),
            &["No strategy finished: nothing to chart."],
        );
    }
    bars(
        root,
        ChartKind::WallByStrategy,
        &rows,
        "Wall time, seconds",
        foot,
        None,
    )
}

/// 1 − the lowest cosine per strategy, with the tolerance's line.
pub(super) fn agreement_chart<DB: DrawingBackend>(
    root: &Area<DB>,
    report: &RunReport,
    foot: &[String],
) -> Drawn {
    let rows: Vec<(&StrategySummary, f64, String)> = charted(report)
        .into_iter()
        .filter_map(|s| {
            let min = s.vector_cosine_min?;
            let flag = if s.vector_flagged == Some(true) {
                " · flagged"
            } else {
                ""
            };
            Some((
                s,
                (1.0 - min).max(0.0),
                format!("lowest cosine {min:.6}{flag}"),
            ))
        })
        .collect();
    if rows.is_empty() {
        return empty(
            root,
            ChartKind::VectorAgreement.title(),
            &["No cosines: embed:sequential did not run or did not finish."],
        );
    }
    let tolerance = report.info.vector_tolerance.map(|t| 1.0 - t);
    bars(
        root,
        ChartKind::VectorAgreement,
        &rows,
        "1 − lowest cosine with embed:sequential (0 = identical)",
        foot,
        tolerance,
    )
}
