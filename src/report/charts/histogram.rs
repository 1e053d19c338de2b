//! Histogram: counts per bin (CLV, time to convert), vertical bars with the bin labels below.

use plotters::style::text_anchor::{HPos, VPos};

use super::{Canvas, Drawn, MARGIN, MUTED, PALETTE, SMALL_SIZE, TEXT, short_number};

#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub title: String,
    /// (bin label, count), in bin order.
    pub bins: Vec<(String, f64)>,
    /// What is counted, under the axis (e.g. "customers by CLV").
    pub x_title: String,
}

pub fn render(h: &Histogram, c: &Canvas) -> Drawn {
    let (x0, x1, y_bottom, y) = c.value_plot(
        &mut h.bins.iter().map(|(_, v)| *v),
        &short_number,
        0,
        (8, 40),
    )?;
    let n = h.bins.len().max(1) as i32;
    let w = (x1 - x0) / n;
    let widest = h
        .bins
        .iter()
        .map(|(l, _)| c.text_width(l, SMALL_SIZE))
        .max()
        .unwrap_or(1)
        + 6;
    let every = (widest / w.max(1) + 1) as usize;
    for (i, (label, v)) in h.bins.iter().enumerate() {
        let x = x0 + i as i32 * w;
        c.rect((x + 1, y(*v)), (x + w - 1, y_bottom), PALETTE[0])?;
        if i % every == 0 {
            c.text(
                label,
                x + w / 2,
                y_bottom + 6,
                SMALL_SIZE,
                MUTED,
                (HPos::Center, VPos::Top),
                false,
            )?;
        }
    }
    c.text(
        &h.x_title,
        (x0 + x1) / 2,
        c.h - MARGIN,
        SMALL_SIZE,
        TEXT,
        (HPos::Center, VPos::Bottom),
        false,
    )
}
