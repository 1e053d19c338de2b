//! Funnel: one horizontal bar per step, centred, its length the step's count; the count on
//! the bar and, between steps, the conversion from the previous step (and from the first).

use plotters::style::text_anchor::{HPos, VPos};

use super::{
    Canvas, Drawn, LABEL_SIZE, MARGIN, MUTED, PALETTE, SMALL_SIZE, TEXT, percent, short_number,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Funnel {
    pub title: String,
    /// (step, count), in funnel order.
    pub steps: Vec<(String, f64)>,
}

const ROW: i32 = 46;

pub fn height(f: &Funnel) -> u32 {
    (MARGIN * 2 + 40 + ROW * f.steps.len().max(1) as i32 + 10) as u32
}

pub fn render(f: &Funnel, c: &Canvas) -> Drawn {
    let label_w = f
        .steps
        .iter()
        .map(|(l, _)| c.text_width(l, LABEL_SIZE))
        .max()
        .unwrap_or(0)
        + 12;
    let conv_w = 150;
    let x0 = MARGIN + label_w;
    let x1 = c.w - MARGIN - conv_w;
    let mid = (x0 + x1) / 2;
    let max = f.steps.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let first = f.steps.first().map(|(_, v)| *v).unwrap_or(0.0);
    for (i, (label, value)) in f.steps.iter().enumerate() {
        let y = c.top + i as i32 * ROW;
        let half = (((x1 - x0) as f64 / 2.0) * value / max).round() as i32;
        let color = PALETTE[0];
        c.rect(
            (mid - half.max(1), y),
            (mid + half.max(1), y + ROW - 12),
            color,
        )?;
        let cy = y + (ROW - 12) / 2;
        c.text(
            label,
            x0 - 10,
            cy,
            LABEL_SIZE,
            TEXT,
            (HPos::Right, VPos::Center),
            false,
        )?;
        let count = short_number(*value);
        let inside = c.text_width(&count, LABEL_SIZE) + 8 < half * 2;
        c.text(
            &count,
            if inside { mid } else { mid + half + 6 },
            cy,
            LABEL_SIZE,
            if inside { super::BACKGROUND } else { TEXT },
            (if inside { HPos::Center } else { HPos::Left }, VPos::Center),
            true,
        )?;
        if i > 0 {
            let prev = f.steps[i - 1].1;
            let step = if prev > 0.0 {
                percent(value / prev)
            } else {
                "–".into()
            };
            let total = if first > 0.0 {
                percent(value / first)
            } else {
                "–".into()
            };
            c.text(
                &format!("{step} of previous"),
                x1 + 10,
                cy - 8,
                SMALL_SIZE,
                TEXT,
                (HPos::Left, VPos::Center),
                false,
            )?;
            c.text(
                &format!("{total} of first"),
                x1 + 10,
                cy + 8,
                SMALL_SIZE,
                MUTED,
                (HPos::Left, VPos::Center),
                false,
            )?;
        }
    }
    Ok(())
}
