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
    // A zero line inside the plot when there are negative values (bars grow both ways).
    let lo = b.items.iter().map(|(_, v)| *v).fold(0.0f64, f64::min);
    let hi = b.items.iter().map(|(_, v)| *v).fold(0.0f64, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let neg_w = if lo < 0.0 { value_w } else { 0 };
    let x_of = |v: f64| x0 + neg_w + (((v - lo) / span) * (x1 - x0 - neg_w) as f64).round() as i32;
    let zero = x_of(0.0);
    for (i, (label, v)) in b.items.iter().enumerate() {
        let y = c.top + i as i32 * ROW;
        let end = x_of(*v);
        let (a, z) = if end >= zero {
            (zero, end.max(zero + 1))
        } else {
            (end, zero)
        };
        let color = if *v < 0.0 { PALETTE[3] } else { PALETTE[0] };
        c.rect((a, y + 3), (z, y + ROW - 3), color)?;
        c.text(
            label,
            x0 - 8,
            y + ROW / 2,
            LABEL_SIZE,
            TEXT,
            (HPos::Right, VPos::Center),
            false,
        )?;
        let (tx, anchor) = if *v < 0.0 {
            (a - 6, HPos::Right)
        } else {
            (z + 6, HPos::Left)
        };
        c.text(
            &format(*v),
            tx,
            y + ROW / 2,
            SMALL_SIZE,
            TEXT,
            (anchor, VPos::Center),
            false,
        )?;
    }
    if lo < 0.0 {
        let bottom = c.top + ROW * b.items.len() as i32;
        c.line(&[(zero, c.top), (zero, bottom)], super::MUTED, 1)?;
    }
    Ok(())
}
