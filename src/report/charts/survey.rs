//! Survey distribution: the five levels (Excellent … Weak) as horizontal bars in scale order,
//! green to red, with the count and share of each.

use plotters::prelude::RGBColor;
use plotters::style::text_anchor::{HPos, VPos};

use super::{Canvas, Drawn, LABEL_SIZE, MARGIN, SMALL_SIZE, TEXT, percent};

#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    pub title: String,
    /// (level name, answers), Excellent first.
    pub levels: Vec<(String, f64)>,
    /// Shown under the bars, e.g. "mean 4.1 of 5 over 900 answers".
    pub note: String,
}

const COLORS: [RGBColor; 5] = [
    RGBColor(26, 152, 80),
    RGBColor(145, 207, 96),
    RGBColor(217, 217, 130),
    RGBColor(252, 141, 89),
    RGBColor(215, 48, 39),
];

pub fn render(s: &Survey, c: &Canvas) -> Drawn {
    let total: f64 = s.levels.iter().map(|(_, v)| *v).sum();
    let label_w = s
        .levels
        .iter()
        .map(|(l, _)| c.text_width(l, LABEL_SIZE))
        .max()
        .unwrap_or(0)
        + 12;
    let x0 = MARGIN + label_w;
    let x1 = c.w - MARGIN - 150;
    let max = s
        .levels
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0f64, f64::max)
        .max(1.0);
    let row = ((c.h - c.top - MARGIN - 30) / s.levels.len().max(1) as i32).min(48);
    for (i, (label, v)) in s.levels.iter().enumerate() {
        let y = c.top + i as i32 * row;
        let len = ((x1 - x0) as f64 * v / max).round() as i32;
        c.rect(
            (x0, y + 4),
            (x0 + len.max(1), y + row - 4),
            COLORS[i % COLORS.len()],
        )?;
        c.text(
            label,
            x0 - 8,
            y + row / 2,
            LABEL_SIZE,
            TEXT,
            (HPos::Right, VPos::Center),
            false,
        )?;
        let share = if total > 0.0 {
            percent(v / total)
        } else {
            "–".into()
        };
        c.text(
            &format!("{v:.0}  ({share})"),
            x0 + len + 8,
            y + row / 2,
            SMALL_SIZE,
            TEXT,
            (HPos::Left, VPos::Center),
            false,
        )?;
    }
    c.text(
        &s.note,
        x0,
        c.h - MARGIN,
        SMALL_SIZE,
        TEXT,
        (HPos::Left, VPos::Bottom),
        false,
    )
}
