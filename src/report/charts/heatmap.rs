//! Heatmap: a grid of cells coloured by value (white → blue), each with its text (a share in
//! a cohort retention triangle; a count and revenue in the RFM R×F grid).

use plotters::prelude::RGBColor;
use plotters::style::text_anchor::{HPos, VPos};

use super::{BACKGROUND, Canvas, Drawn, GRID, MARGIN, MUTED, SMALL_SIZE, TEXT};

#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub title: String,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// `cells[row][column]`: the value that sets the colour; None = empty cell.
    pub cells: Vec<Vec<Option<f64>>>,
    /// `labels[row][column]`: the text in the cell (lines split on `\n`).
    pub labels: Vec<Vec<String>>,
    pub row_title: String,
    pub column_title: String,
}

const CELL_H: i32 = 34;

pub fn height(h: &Heatmap) -> u32 {
    (MARGIN * 2 + 40 + 40 + CELL_H * h.rows.len().max(1) as i32 + 10) as u32
}

/// White → the palette's blue, by `t` in [0, 1].
fn shade(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    RGBColor(mix(247, 8), mix(251, 81), mix(255, 156))
}

pub fn render(h: &Heatmap, c: &Canvas) -> Drawn {
    let label_w = h
        .rows
        .iter()
        .map(|r| c.text_width(r, SMALL_SIZE))
        .max()
        .unwrap_or(0)
        .max(c.text_width(&h.row_title, SMALL_SIZE))
        + 14;
    let x0 = MARGIN + label_w;
    let y0 = c.top + 36;
    let n_cols = h.columns.len().max(1) as i32;
    let cell_w = ((c.w - MARGIN - x0) / n_cols).max(8);
    let max = h
        .cells
        .iter()
        .flatten()
        .flatten()
        .fold(0.0f64, |a, b| a.max(*b));
    c.text(
        &h.column_title,
        x0,
        c.top,
        SMALL_SIZE,
        MUTED,
        (HPos::Left, VPos::Top),
        false,
    )?;
    c.text(
        &h.row_title,
        x0 - 10,
        y0 - 6,
        SMALL_SIZE,
        MUTED,
        (HPos::Right, VPos::Bottom),
        false,
    )?;
    for (j, col) in h.columns.iter().enumerate() {
        let x = x0 + j as i32 * cell_w + cell_w / 2;
        c.text(
            col,
            x,
            y0 - 6,
            SMALL_SIZE,
            TEXT,
            (HPos::Center, VPos::Bottom),
            false,
        )?;
    }
    for (i, row) in h.rows.iter().enumerate() {
        let y = y0 + i as i32 * CELL_H;
        c.text(
            row,
            x0 - 10,
            y + CELL_H / 2,
            SMALL_SIZE,
            TEXT,
            (HPos::Right, VPos::Center),
            false,
        )?;
        for j in 0..h.columns.len() {
            let x = x0 + j as i32 * cell_w;
            let value = h.cells.get(i).and_then(|r| r.get(j)).copied().flatten();
            let Some(v) = value else {
                c.rect((x, y), (x + cell_w - 1, y + CELL_H - 1), BACKGROUND)?;
                continue;
            };
            let t = if max > 0.0 { v / max } else { 0.0 };
            c.rect((x, y), (x + cell_w - 1, y + CELL_H - 1), shade(t))?;
            let text = h
                .labels
                .get(i)
                .and_then(|r| r.get(j))
                .cloned()
                .unwrap_or_default();
            let color = if t > 0.55 { BACKGROUND } else { TEXT };
            let lines: Vec<&str> = text.split('\n').collect();
            let step = 13;
            let start = y + CELL_H / 2 - (lines.len() as i32 - 1) * step / 2;
            for (k, line) in lines.iter().enumerate() {
                if c.text_width(line, SMALL_SIZE - 1.0) < cell_w - 2 {
                    c.text(
                        line,
                        x + cell_w / 2,
                        start + k as i32 * step,
                        SMALL_SIZE - 1.0,
                        color,
                        (HPos::Center, VPos::Center),
                        false,
                    )?;
                }
            }
        }
        c.line(
            &[(x0, y + CELL_H - 1), (x0 + n_cols * cell_w, y + CELL_H - 1)],
            GRID,
            1,
        )?;
    }
    Ok(())
}
