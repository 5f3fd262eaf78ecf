//! The PNG chart: validate and sweep cost against live sessions (log scale), both stores.
//! Text is drawn with DejaVu Sans embedded in the binary (crate `dejavu`), so drawing needs
//! no system font libraries.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::measure::Point;
use crate::report::{fmt_count, fmt_ns};

const SESSILE: RGBColor = RGBColor(0, 114, 178);
const NAIVE: RGBColor = RGBColor(213, 94, 0);

fn register_font() -> Result<(), String> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        )
        .map_err(|_| "the embedded DejaVu Sans font did not load".to_string());
    });
    result
}

fn err(e: impl std::fmt::Display) -> String {
    format!("chart: {e}")
}

/// One panel: `y(point, sessile?)` against live sessions, for both stores.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    points: &[Point],
    y: impl Fn(&Point, bool) -> f64,
    log_y: bool,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let x0 = points.iter().map(|p| p.live).min().unwrap_or(1) as f64;
    let x1 = points.iter().map(|p| p.live).max().unwrap_or(10) as f64;
    let ys: Vec<f64> = points
        .iter()
        .flat_map(|p| [y(p, true), y(p, false)])
        .collect();
    let ymax = ys.iter().copied().fold(f64::MIN, f64::max).max(1e-9);
    let ymin = ys.iter().copied().fold(f64::MAX, f64::min).max(1e-9);
    let series = |sessile: bool| -> Vec<(f64, f64)> {
        points
            .iter()
            .map(|p| (p.live as f64, y(p, sessile)))
            .collect()
    };
    let xr = (x0 / 1.3..x1 * 1.3).log_scale();
    let mut b = ChartBuilder::on(area);
    b.caption(title, ("sans-serif", 22))
        .margin(18)
        .x_label_area_size(50)
        .y_label_area_size(78);
    let label_x = |v: &f64| fmt_count(v.round() as usize);
    let label_y = |v: &f64| fmt_ns(*v);
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc("live sessions (log scale)")
                .x_label_formatter(&label_x)
                .y_label_formatter(&label_y)
                .label_style(("sans-serif", 15))
                .axis_desc_style(("sans-serif", 16))
                .draw()
                .map_err(err)?;
            for (sessile, color, name) in [
                (true, SESSILE, "sessile"),
                (false, NAIVE, "naive HashMap store"),
            ] {
                chart
                    .draw_series(
                        LineSeries::new(series(sessile), color.stroke_width(3)).point_size(4),
                    )
                    .map_err(err)?
                    .label(name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font(("sans-serif", 16))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }};
    }
    if log_y {
        draw!(
            b.build_cartesian_2d(xr, (ymin / 2.0..ymax * 3.0).log_scale())
                .map_err(err)?
        );
    } else {
        draw!(b.build_cartesian_2d(xr, 0.0..ymax * 1.35).map_err(err)?);
    }
    Ok(())
}

/// Draw the chart for `points` (ordered by live count) to `path` (PNG).
pub fn draw(points: &[Point], expiring: usize, path: &Path) -> Result<(), String> {
    if points.is_empty() {
        return Err("chart: no points".into());
    }
    register_font()?;
    let root = BitMapBackend::new(path, (1400, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (left, right) = root.split_horizontally(700);
    panel(
        &left,
        "validate: time per call",
        points,
        |p, s| {
            if s {
                p.sessile.validate_ns
            } else {
                p.naive.validate_ns
            }
        },
        false,
    )?;
    let title = format!(
        "sweep: time to reclaim {} expired (log scale)",
        fmt_count(expiring)
    );
    panel(
        &right,
        &title,
        points,
        |p, s| {
            1_000.0
                * if s {
                    p.sessile.sweep_us
                } else {
                    p.naive.sweep_us
                }
        },
        true,
    )?;
    root.present().map_err(err)?;
    Ok(())
}
