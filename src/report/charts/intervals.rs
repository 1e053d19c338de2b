//! Point estimates with confidence intervals (campaign uplift): per row a dot and its
//! interval on a common axis, a line at zero, and the figures as text.

use plotters::style::text_anchor::{HPos, VPos};

use super::{
    Canvas, Drawn, GRID, LABEL_SIZE, MARGIN, MUTED, PALETTE, SMALL_SIZE, TEXT, nice_ticks,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Intervals {
    pub title: String,
    /// (label, estimate, low, high).
    pub items: Vec<(String, f64, f64, f64)>,
    /// Values are shares, shown in percentage points.
    pub percent: bool,
}

const ROW: i32 = 30;

pub fn height(i: &Intervals) -> u32 {
    (MARGIN * 2 + 70 + ROW * i.items.len().max(1) as i32) as u32
}

pub fn render(iv: &Intervals, c: &Canvas) -> Drawn {
    let scale = if iv.percent { 100.0 } else { 1.0 };
    let unit = if iv.percent { " pp" } else { "" };
    let fmt = |v: f64| format!("{:+.1}", v * scale);
    let lo = iv.items.iter().map(|r| r.2).fold(0.0f64, f64::min);
    let hi = iv.items.iter().map(|r| r.3).fold(0.0f64, f64::max);
    let ticks = nice_ticks(lo, if hi > lo { hi } else { lo + 0.01 }, 6);
    let label_w = iv
        .items
        .iter()
        .map(|r| c.text_width(&r.0, LABEL_SIZE))
        .max()
        .unwrap_or(0)
        + 12;
    let text_w = 190;
    let x0 = MARGIN + label_w;
    let x1 = c.w - MARGIN - text_w;
    let (t0, t1) = (ticks[0], *ticks.last().unwrap_or(&1.0));
    let x = |v: f64| x0 + ((v - t0) / (t1 - t0) * (x1 - x0) as f64) as i32;
    let bottom = c.top + ROW * iv.items.len() as i32 + 4;
    for t in &ticks {
        c.line(&[(x(*t), c.top), (x(*t), bottom)], GRID, 1)?;
        c.text(
            &format!("{}{unit}", fmt(*t).trim_start_matches('+')),
            x(*t),
            bottom + 6,
            SMALL_SIZE,
            MUTED,
            (HPos::Center, VPos::Top),
            false,
        )?;
    }
    c.line(&[(x(0.0), c.top - 4), (x(0.0), bottom)], MUTED, 1)?;
    for (i, (label, est, low, high)) in iv.items.iter().enumerate() {
        let y = c.top + i as i32 * ROW + ROW / 2;
        c.text(
            label,
            x0 - 8,
            y,
            LABEL_SIZE,
            TEXT,
            (HPos::Right, VPos::Center),
            false,
        )?;
        let color = if *low > 0.0 {
            PALETTE[2]
        } else if *high < 0.0 {
            PALETTE[3]
        } else {
            PALETTE[0]
        };
        c.line(&[(x(*low), y), (x(*high), y)], color, 2)?;
        c.line(&[(x(*low), y - 5), (x(*low), y + 5)], color, 2)?;
        c.line(&[(x(*high), y - 5), (x(*high), y + 5)], color, 2)?;
        c.dot((x(*est), y), 5, color)?;
        c.text(
            &format!("{}{unit} [{}, {}]", fmt(*est), fmt(*low), fmt(*high)),
            x1 + 12,
            y,
            SMALL_SIZE,
            TEXT,
            (HPos::Left, VPos::Center),
            false,
        )?;
    }
    Ok(())
}
