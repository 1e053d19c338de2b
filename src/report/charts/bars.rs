//! Ranked bars: one horizontal bar per item (managers, sources, segments), largest first,
//! with the value after the bar.

use plotters::style::text_anchor::{HPos, VPos};

use super::{Canvas, Drawn, LABEL_SIZE, MARGIN, PALETTE, SMALL_SIZE, TEXT, percent, short_number};

#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    pub title: String,
    /// (label, value); drawn in this order (sort when preparing the data).
    pub items: Vec<(String, f64)>,
    /// Values are shares (0.25 = 25%).
    pub percent: bool,
}

const ROW: i32 = 26;

pub fn height(b: &Bars) -> u32 {
    (MARGIN * 2 + 44 + ROW * b.items.len().max(1) as i32) as u32
}

pub fn render(b: &Bars, c: &Canvas) -> Drawn {
    let format = |v: f64| {
        if b.percent {
            percent(v)
        } else {
            short_number(v)
        }
    };
    let label_w = b
        .items
        .iter()
        .map(|(l, _)| c.text_width(l, LABEL_SIZE))
        .max()
        .unwrap_or(0)
        + 12;
    let value_w = b
        .items
        .iter()
        .map(|(_, v)| c.text_width(&format(*v), SMALL_SIZE))
        .max()
        .unwrap_or(0)
        + 12;
    let x0 = MARGIN + label_w;
    let x1 = c.w - MARGIN - value_w;
    let max = b
        .items
        .iter()
        .map(|(_, v)| v.abs())
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    for (i, (label, v)) in b.items.iter().enumerate() {
        let y = c.top + i as i32 * ROW;
        let len = ((x1 - x0) as f64 * v.abs() / max).round() as i32;
        let color = if *v < 0.0 { PALETTE[3] } else { PALETTE[0] };
        c.rect((x0, y + 3), (x0 + len.max(1), y + ROW - 3), color)?;
        c.text(
            label,
            x0 - 8,
            y + ROW / 2,
            LABEL_SIZE,
            TEXT,
            (HPos::Right, VPos::Center),
            false,
        )?;
        c.text(
            &format(*v),
            x0 + len + 6,
            y + ROW / 2,
            SMALL_SIZE,
            TEXT,
            (HPos::Left, VPos::Center),
            false,
        )?;
    }
    Ok(())
}
