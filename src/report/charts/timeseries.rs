//! Time series: one line per series over ordered periods (months, weeks), a legend when
//! there are several; missing values break the line.

use plotters::style::text_anchor::{HPos, VPos};

use super::{Canvas, Drawn, GRID, MUTED, PALETTE, SMALL_SIZE, percent, short_number};

#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    pub title: String,
    /// Period labels, in order.
    pub periods: Vec<String>,
    /// (series name, one value per period).
    pub series: Vec<(String, Vec<Option<f64>>)>,
    /// Values are shares (0.25 = 25%).
    pub percent: bool,
}

pub fn render(t: &TimeSeries, c: &Canvas) -> Drawn {
    let format = |v: f64| {
        if t.percent {
            percent(v)
        } else {
            short_number(v)
        }
    };
    let widest = t
        .periods
        .iter()
        .map(|p| c.text_width(p, SMALL_SIZE))
        .max()
        .unwrap_or(1)
        + 10;
    let mut values = t
        .series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied());
    let (x0, x1, y_bottom, y) = c.value_plot(&mut values, &format, widest / 2, (8, 24))?;
    let n = t.periods.len().max(1);
    let x_of = |i: usize| {
        if n == 1 {
            (x0 + x1) / 2
        } else {
            x0 + 8 + ((x1 - x0 - 16) as f64 * i as f64 / (n - 1) as f64) as i32
        }
    };
    let every = ((widest * n as i32) / (x1 - x0).max(1) + 1) as usize;
    for (i, p) in t.periods.iter().enumerate() {
        if i % every == 0 {
            c.line(&[(x_of(i), y_bottom), (x_of(i), y_bottom + 4)], GRID, 1)?;
            c.text(
                p,
                x_of(i),
                y_bottom + 8,
                SMALL_SIZE,
                MUTED,
                (HPos::Center, VPos::Top),
                false,
            )?;
        }
    }
    for (k, (_, vals)) in t.series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let mut run: Vec<(i32, i32)> = Vec::new();
        for (i, v) in vals.iter().enumerate() {
            match v {
                Some(v) => run.push((x_of(i), y(*v))),
                None => {
                    if run.len() > 1 {
                        c.line(&run, color, 2)?;
                    }
                    run.clear();
                }
            }
            if let Some(v) = v {
                c.dot((x_of(i), y(*v)), 3, color)?;
            }
        }
        if run.len() > 1 {
            c.line(&run, color, 2)?;
        }
    }
    if t.series.len() > 1 {
        let names: Vec<_> = t
            .series
            .iter()
            .enumerate()
            .map(|(k, (name, _))| (name.clone(), PALETTE[k % PALETTE.len()]))
            .collect();
        c.legend(&names)?;
    }
    Ok(())
}
