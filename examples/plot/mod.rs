//! Pictures for the examples: SVG files drawn with plotters' pure-Rust SVG backend (no system
//! library and no font: the SVG names a font family and the viewer draws the text).
//!
//! An example pulls this file in with
//!
//! ```text
//! #[path = "plot/mod.rs"]
//! mod plot;
//! ```
//!
//! (a subdirectory of `examples/` is not compiled as an example of its own), asks
//! [`output_path`] where its picture goes (`target/plots/<name>.svg`, outside the source
//! tree), draws with [`loss_curve`] or [`curve_fit`] and prints the path.

#![allow(
    dead_code,
    reason = "each example includes this module and calls only the functions it draws with"
)]

use std::error::Error;
use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// What the plotting functions return: plotters' and the file system's errors, boxed.
pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The size of every picture, in SVG pixels.
const SIZE: (u32, u32) = (800, 480);
/// A line with more points than this is thinned to about this many, evenly spaced in its
/// index (the first and the last point kept), so a long run stays a small file.
const MAX_LINE_POINTS: usize = 1000;
/// How many points of each fitted curve are evaluated across the data's `x` range.
const CURVE_SAMPLES: usize = 300;
/// The colours of the series, in order (then repeated): blue, orange, green, red, purple.
const COLOURS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];
/// The font family the SVG asks the viewer for.
const FONT: &str = "sans-serif";

/// The scale of a loss axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Equal steps for equal differences.
    Linear,
    /// Equal steps for equal ratios; points `≤ 0` are left out, as a log scale cannot show
    /// them.
    Log,
}

/// Where the example `name` writes its picture: `target/plots/<name>.svg` in the target
/// directory the example was built in (found from the running executable, so
/// `CARGO_TARGET_DIR` is respected). Creates the directory.
pub fn output_path(name: &str) -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // The executable is <target>/<profile>/examples/<name>.
    let target = exe
        .ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf);
    let dir = target.join("plots");
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join(format!("{name}.svg")))
}

/// `path` as the user would type it: relative to the current directory where it lies below
/// it, for printing.
pub fn display_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// Draws loss curves: for each `(name, values)` of `series`, `values[k]` against `k` (the
/// iteration or epoch, named by `x_label`) on a `scale` loss axis, with a legend of the names.
pub fn loss_curve(
    path: &Path,
    title: &str,
    x_label: &str,
    scale: Scale,
    series: &[(&str, &[f64])],
) -> Result<()> {
    let lines: Vec<(&str, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, values)| (*name, thinned_line(values, scale)))
        .collect();
    let last = series.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let x_range = 0.0..last.saturating_sub(1).max(1) as f64;
    let (low, high) = bounds(lines.iter().flat_map(|(_, line)| line.iter().map(|p| p.1)));
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    match scale {
        Scale::Linear => {
            let y_range = padded(low, high);
            draw_lines(&root, title, x_label, x_range, y_range, &lines)?;
        }
        Scale::Log => {
            // `bounds` falls back to (0, 1) when no point is left to draw.
            let (low, high) = if low > 0.0 { (low, high) } else { (0.1, 1.0) };
            // A decade's margin would waste the picture; a tenth of one is enough.
            let y_range = (low / 1.25..high * 1.25).log_scale();
            draw_lines(&root, title, x_label, x_range, y_range, &lines)?;
        }
    }
    root.present()?;
    Ok(())
}

/// Draws a curve fit: the observations `data` as points and each `(name, f)` of `curves` as
/// the line `y = f(x)` across the data's `x` range, with a legend of the names. The `y` axis
/// covers the data and the curves.
pub fn curve_fit(
    path: &Path,
    title: &str,
    data: &[(f64, f64)],
    curves: &[(&str, &dyn Fn(f64) -> f64)],
) -> Result<()> {
    let (x_low, x_high) = bounds(data.iter().map(|p| p.0));
    let x_range = padded(x_low, x_high);
    let lines: Vec<(&str, Vec<(f64, f64)>)> = curves
        .iter()
        .map(|(name, f)| (*name, sampled(f, x_low..x_high)))
        .collect();
    let (y_low, y_high) = bounds(
        data.iter()
            .map(|p| p.1)
            .chain(lines.iter().flat_map(|(_, line)| line.iter().map(|p| p.1))),
    );
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = chart(&root, title, x_range, padded(y_low, y_high))?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("y")
        .max_light_lines(4)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .x_label_formatter(&|x| tick_label(*x))
        .y_label_formatter(&|y| tick_label(*y))
        .draw()?;
    chart
        .draw_series(
            data.iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .map(|&p| Circle::new(p, 3, BLACK.mix(0.6).filled())),
        )?
        .label("data")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, BLACK.mix(0.6).filled()));
    for (k, (name, line)) in lines.iter().enumerate() {
        draw_line(&mut chart, k, name, line)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present()?;
    Ok(())
}

/// The chart of a loss curve, on either kind of `y` axis.
fn draw_lines<Y>(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    x_label: &str,
    x_range: Range<f64>,
    y_range: Y,
    lines: &[(&str, Vec<(f64, f64)>)],
) -> Result<()>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    root.fill(&WHITE)?;
    let mut chart = chart(root, title, x_range, y_range)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("loss")
        .max_light_lines(4)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .x_label_formatter(&|x| tick_label(*x))
        .y_label_formatter(&|y| tick_label(*y))
        .draw()?;
    for (k, (name, line)) in lines.iter().enumerate() {
        draw_line(&mut chart, k, name, line)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

/// The axes, title and margins every picture shares.
fn chart<'a, 'b, Y: AsRangedCoord<Value = f64>>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    x_range: Range<f64>,
    y_range: Y,
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y::CoordDescType>>> {
    Ok(ChartBuilder::on(root)
        .caption(title, (FONT, 24))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, y_range)?)
}

/// Draws `line` in the `k`-th colour and gives it a legend entry.
fn draw_line<Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, Y>>,
    k: usize,
    name: &str,
    line: &[(f64, f64)],
) -> Result<()>
where
    Y: Ranged<ValueType = f64>,
{
    let colour = COLOURS[k % COLOURS.len()];
    chart
        .draw_series(LineSeries::new(
            line.iter().copied(),
            colour.stroke_width(2),
        ))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
    Ok(())
}

/// Draws the legend of the named series at `position`.
fn legend<'a, 'b: 'a, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>,
    position: SeriesLabelPosition,
) -> Result<()>
where
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 17))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

/// The points `(k, values[k])` worth drawing: finite ones (and positive ones on a log scale),
/// at most about `MAX_LINE_POINTS` of them.
fn thinned_line(values: &[f64], scale: Scale) -> Vec<(f64, f64)> {
    let stride = values.len().div_ceil(MAX_LINE_POINTS).max(1);
    let last = values.len().saturating_sub(1);
    values
        .iter()
        .enumerate()
        .filter(|&(k, _)| k % stride == 0 || k == last)
        .filter(|&(_, &v)| v.is_finite() && (scale == Scale::Linear || v > 0.0))
        .map(|(k, &v)| (k as f64, v))
        .collect()
}

/// `f` at `CURVE_SAMPLES` evenly spaced points of `range`, its ends included; non-finite
/// values left out.
fn sampled(f: &dyn Fn(f64) -> f64, range: Range<f64>) -> Vec<(f64, f64)> {
    (0..CURVE_SAMPLES)
        .map(|i| {
            let x = range.start + (range.end - range.start) * i as f64 / (CURVE_SAMPLES - 1) as f64;
            (x, f(x))
        })
        .filter(|p| p.1.is_finite())
        .collect()
}

/// A tick's label, short: `500`, `0.25`, `1e-14` (plotters writes `500.0` and, on a log
/// scale, `9.999999999999e-5`).
fn tick_label(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-3..1e5).contains(&magnitude) {
        let fixed = format!("{value:.4}");
        fixed
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        let scientific = format!("{value:.2e}");
        match scientific.split_once('e') {
            Some((mantissa, exponent)) => {
                let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
                format!("{mantissa}e{exponent}")
            }
            None => scientific,
        }
    }
}

/// The least and the greatest finite value, or `(0, 1)` if there is none.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
            (low.min(v), high.max(v))
        });
    if low <= high {
        (low, high)
    } else {
        (0.0, 1.0)
    }
}

/// `low..high` widened by 5% on each side (to a unit width if it is a single value), so that
/// nothing is drawn on the frame.
fn padded(low: f64, high: f64) -> Range<f64> {
    let margin = if high > low { 0.05 * (high - low) } else { 0.5 };
    low - margin..high + margin
}
