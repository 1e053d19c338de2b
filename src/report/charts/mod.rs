//! Charts: one module per chart kind, each a data struct (prepared elsewhere, see
//! [`super::data`]) and a `render` drawing it on a [`Canvas`]. Palette, font and sizes live
//! here, in one place.
//!
//! Drawing is plotters' SVG backend with the embedded DejaVu Sans (Latin, Cyrillic, Greek,
//! Arabic, Hebrew) registered for text metrics, so no system font is needed. In SVG the text
//! stays text: browsers shape Arabic and lay out right-to-left runs themselves. PNG is that SVG
//! rendered by resvg with the same embedded font; resvg's text layout shapes Arabic (harfrust)
//! and applies the Unicode bidirectional algorithm, which plotters' own bitmap text does not.

pub mod bars;
pub mod funnel;
pub mod heatmap;
pub mod histogram;
pub mod intervals;
pub mod stacked;
pub mod survey;
pub mod timeseries;

use std::sync::{Arc, OnceLock};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Error, Result};

/// The font family every chart uses, embedded in the binary.
pub const FONT: &str = "DejaVu Sans";
static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

pub const WIDTH: u32 = 860;
pub const HEIGHT: u32 = 440;
pub const TITLE_SIZE: f64 = 19.0;
pub const LABEL_SIZE: f64 = 14.0;
pub const SMALL_SIZE: f64 = 12.0;
pub const MARGIN: i32 = 16;

/// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
    RGBColor(90, 90, 90),
];
pub const TEXT: RGBColor = RGBColor(33, 37, 41);
pub const MUTED: RGBColor = RGBColor(108, 117, 125);
pub const GRID: RGBColor = RGBColor(222, 226, 230);
pub const BACKGROUND: RGBColor = RGBColor(255, 255, 255);

/// Every chart kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    Funnel(funnel::Funnel),
    Heatmap(heatmap::Heatmap),
    TimeSeries(timeseries::TimeSeries),
    Histogram(histogram::Histogram),
    Bars(bars::Bars),
    Stacked(stacked::Stacked),
    Intervals(intervals::Intervals),
    Survey(survey::Survey),
}

impl Chart {
    pub fn title(&self) -> &str {
        match self {
            Chart::Funnel(c) => &c.title,
            Chart::Heatmap(c) => &c.title,
            Chart::TimeSeries(c) => &c.title,
            Chart::Histogram(c) => &c.title,
            Chart::Bars(c) => &c.title,
            Chart::Stacked(c) => &c.title,
            Chart::Intervals(c) => &c.title,
            Chart::Survey(c) => &c.title,
        }
    }

    /// The chart as a standalone SVG document.
    pub fn to_svg(&self) -> Result<String> {
        let height = match self {
            Chart::Heatmap(h) => heatmap::height(h),
            Chart::Bars(b) => bars::height(b),
            Chart::Intervals(i) => intervals::height(i),
            Chart::Funnel(f) => funnel::height(f),
            _ => HEIGHT,
        };
        draw(WIDTH, height, self.title(), |c| match self {
            Chart::Funnel(x) => funnel::render(x, c),
            Chart::Heatmap(x) => heatmap::render(x, c),
            Chart::TimeSeries(x) => timeseries::render(x, c),
            Chart::Histogram(x) => histogram::render(x, c),
            Chart::Bars(x) => bars::render(x, c),
            Chart::Stacked(x) => stacked::render(x, c),
            Chart::Intervals(x) => intervals::render(x, c),
            Chart::Survey(x) => survey::render(x, c),
        })
    }
}

/// What a drawing step returns.
pub type Drawn = std::result::Result<(), String>;

fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            for style in [FontStyle::Normal, FontStyle::Bold] {
                plotters::style::register_font(FONT, style, FONT_BYTES)
                    .map_err(|_| "the embedded font cannot be read".to_string())?;
            }
            Ok(())
        })
        .clone()
        .map_err(Error::Report)
}

/// Draws a chart of `width` × `height` with its title; returns the SVG text.
pub fn draw(
    width: u32,
    height: u32,
    title: &str,
    f: impl FnOnce(&Canvas) -> Drawn,
) -> Result<String> {
    ensure_font()?;
    let mut svg = String::new();
    {
        let backend = SVGBackend::with_string(&mut svg, (width, height));
        let area = backend.into_drawing_area();
        let fail = |e: String| Error::Report(format!("chart {title:?}: {e}"));
        area.fill(&BACKGROUND).map_err(|e| fail(e.to_string()))?;
        let canvas = Canvas {
            area,
            w: width as i32,
            h: height as i32,
            top: MARGIN + TITLE_SIZE as i32 + 14,
        };
        canvas
            .text(
                title,
                MARGIN,
                MARGIN,
                TITLE_SIZE,
                TEXT,
                (HPos::Left, VPos::Top),
                true,
            )
            .map_err(fail)?;
        f(&canvas).map_err(fail)?;
        canvas.area.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(svg)
}

/// The drawing surface of one chart, in pixels; `top` is where the content starts (below the
/// title).
pub struct Canvas<'a> {
    area: DrawingArea<SVGBackend<'a>, Shift>,
    pub w: i32,
    pub h: i32,
    pub top: i32,
}

impl Canvas<'_> {
    pub fn rect(&self, (x0, y0): (i32, i32), (x1, y1): (i32, i32), color: RGBColor) -> Drawn {
        self.area
            .draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled()))
            .map_err(|e| e.to_string())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &self,
        text: &str,
        x: i32,
        y: i32,
        size: f64,
        color: RGBColor,
        (h, v): (HPos, VPos),
        bold: bool,
    ) -> Drawn {
        let style = TextStyle::from((FONT, size * 1.24).into_font().style(if bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        }))
        .color(&color)
        .pos(Pos::new(h, v));
        self.area
            .draw(&Text::new(text.to_string(), (x, y), style))
            .map_err(|e| e.to_string())
    }

    pub fn line(&self, points: &[(i32, i32)], color: RGBColor, width: u32) -> Drawn {
        self.area
            .draw(&PathElement::new(
                points.to_vec(),
                color.stroke_width(width),
            ))
            .map_err(|e| e.to_string())
    }

    pub fn dot(&self, (x, y): (i32, i32), r: i32, color: RGBColor) -> Drawn {
        self.area
            .draw(&Circle::new((x, y), r, color.filled()))
            .map_err(|e| e.to_string())
    }

    /// Width in pixels of a text at a size, from the embedded font's metrics.
    pub fn text_width(&self, text: &str, size: f64) -> i32 {
        let style = TextStyle::from((FONT, size * 1.24).into_font());
        self.area
            .estimate_text_size(text, &style)
            .map(|(w, _)| w as i32)
            .unwrap_or((text.chars().count() as f64 * size * 0.6) as i32)
    }

    /// A legend row at the top right: a colour square and the name of each series.
    pub fn legend(&self, names: &[(String, RGBColor)]) -> Drawn {
        let mut x = self.w - MARGIN;
        let y = MARGIN + 4;
        for (name, color) in names.iter().rev() {
            let w = self.text_width(name, SMALL_SIZE);
            x -= w;
            self.text(name, x, y, SMALL_SIZE, TEXT, (HPos::Left, VPos::Top), false)?;
            x -= 16;
            self.rect((x, y + 1), (x + 11, y + 12), *color)?;
            x -= 14;
        }
        Ok(())
    }

    /// The plot area of a chart with a value axis on the left: round ticks covering
    /// `[lo, hi]` (0 included), labelled with `format`, grid lines from just right of the
    /// widest label to `right` pixels before the right margin, between `top` pixels below the
    /// title and `bottom` pixels above the lower margin. Returns the x range, the y of the axis
    /// bottom and the value → y mapping.
    pub fn value_plot(
        &self,
        values: &mut dyn Iterator<Item = f64>,
        format: &dyn Fn(f64) -> String,
        right: i32,
        (top, bottom): (i32, i32),
    ) -> std::result::Result<(i32, i32, i32, impl Fn(f64) -> i32 + use<>), String> {
        let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let ticks = nice_ticks(lo, if hi > lo { hi } else { lo + 1.0 }, 5);
        let axis_w = ticks
            .iter()
            .map(|v| self.text_width(&format(*v), SMALL_SIZE))
            .max()
            .unwrap_or(0);
        let (x0, x1) = (MARGIN + axis_w + 10, self.w - MARGIN - right);
        let (y_top, y_bottom) = (self.top + top, self.h - MARGIN - bottom);
        let y = self.value_axis((x0, x1), (y_bottom, y_top), &ticks, format)?;
        Ok((x0, x1, y_bottom, y))
    }

    /// A vertical value axis with grid lines over `[x0, x1]`, from `y_bottom` (value `lo`) to
    /// `y_top` (value `hi`); returns the value → y mapping.
    fn value_axis(
        &self,
        (x0, x1): (i32, i32),
        (y_bottom, y_top): (i32, i32),
        ticks: &[f64],
        format: &dyn Fn(f64) -> String,
    ) -> std::result::Result<impl Fn(f64) -> i32 + use<>, String> {
        let lo = ticks.first().copied().unwrap_or(0.0);
        let hi = ticks.last().copied().unwrap_or(1.0);
        let span = if hi > lo { hi - lo } else { 1.0 };
        let map = move |v: f64| y_bottom - ((v - lo) / span * (y_bottom - y_top) as f64) as i32;
        for &t in ticks {
            let y = map(t);
            self.line(&[(x0, y), (x1, y)], GRID, 1)?;
            self.text(
                &format(t),
                x0 - 6,
                y,
                SMALL_SIZE,
                MUTED,
                (HPos::Right, VPos::Center),
                false,
            )?;
        }
        Ok(map)
    }
}

/// About `n` round tick values covering `[lo, hi]` (1, 2, 2.5 or 5 × 10^k steps).
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let mut ticks = Vec::new();
    let mut t = start;
    while t < hi + step * 0.999 {
        ticks.push(((t / step).round() * step * 1e9).round() / 1e9);
        t += step;
        if ticks.len() > 50 {
            break;
        }
    }
    ticks
}

/// 1234567 → "1.23M", 12345 → "12.3k", 123.4 → "123", 1.234 → "1.23".
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 1e9 {
        format!("{:.3}", v / 1e9)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + "B"
    } else if a >= 1e6 {
        format!("{:.3}", v / 1e6)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + "M"
    } else if a >= 1e4 {
        format!("{:.1}", v / 1e3)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + "k"
    } else if a >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    };
    if s == "-0" { "0".into() } else { s }
}

/// 0.4213 → "42.1%".
pub fn percent(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// Renders an SVG document to PNG with the embedded font (no system fonts), at `scale`.
pub fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>> {
    static FONTDB: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    let fontdb = FONTDB
        .get_or_init(|| {
            let mut db = resvg::usvg::fontdb::Database::new();
            db.load_font_data(FONT_BYTES.to_vec());
            db.set_sans_serif_family(FONT);
            Arc::new(db)
        })
        .clone();
    let options = resvg::usvg::Options {
        font_family: FONT.to_string(),
        fontdb,
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &options)
        .map_err(|e| Error::Report(format!("SVG cannot be read for PNG: {e}")))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or_else(|| Error::Report("the chart has no size".into()))?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| Error::Report("the chart has no size".into()))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| Error::Report(format!("PNG encoding: {e}")))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 10.0, 5), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(0.0, 0.42, 5), [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]);
        assert_eq!(nice_ticks(0.0, 0.42, 4), [0.0, 0.2, 0.4, 0.6]);
        assert_eq!(
            nice_ticks(0.0, 950.0, 4),
            [0.0, 250.0, 500.0, 750.0, 1000.0]
        );
        let t = nice_ticks(-3.0, 7.0, 5);
        assert!(t[0] <= -3.0 && *t.last().unwrap() >= 7.0, "{t:?}");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(short_number(1_234_567.0), "1.235M");
        assert_eq!(short_number(12_345.0), "12.3k");
        assert_eq!(short_number(123.4), "123");
        assert_eq!(short_number(1.234), "1.23");
        assert_eq!(short_number(5.0), "5");
        assert_eq!(percent(0.4213), "42.1%");
    }
}
