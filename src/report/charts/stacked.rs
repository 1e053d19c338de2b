//! Stacked bars: per category (e.g. expected close month) one bar split by series (e.g.
//! stage), with a legend and the total above each bar.

use plotters::style::text_anchor::{HPos, VPos};

use super::{Canvas, Drawn, MUTED, PALETTE, SMALL_SIZE, TEXT, short_number};

#[derive(Debug, Clone, PartialEq)]
pub struct Stacked {
    pub title: String,
    pub categories: Vec<String>,
    /// (series, one non-negative value per category), bottom first.
    pub series: Vec<(String, Vec<f64>)>,
}

pub fn render(s: &Stacked, c: &Canvas) -> Drawn {
    let totals: Vec<f64> = (0..s.categories.len())
        .map(|i| {
            s.series
                .iter()
                .map(|(_, v)| v.get(i).copied().unwrap_or(0.0).max(0.0))
                .sum()
        })
        .collect();
    let (x0, x1, y_bottom, y) =
        c.value_plot(&mut totals.iter().copied(), &short_number, 0, (22, 24))?;
    let n = s.categories.len().max(1) as i32;
    let w = (x1 - x0) / n;
    for (i, cat) in s.categories.iter().enumerate() {
        let x = x0 + i as i32 * w;
        let mut base = 0.0;
        for (k, (_, vals)) in s.series.iter().enumerate() {
            let v = vals.get(i).copied().unwrap_or(0.0).max(0.0);
            if v > 0.0 {
                c.rect(
                    (x + w / 8, y(base + v)),
                    (x + w - w / 8, y(base)),
                    PALETTE[k % PALETTE.len()],
                )?;
            }
            base += v;
        }
        c.text(
            &short_number(totals[i]),
            x + w / 2,
            y(base) - 3,
            SMALL_SIZE,
            TEXT,
            (HPos::Center, VPos::Bottom),
            false,
        )?;
        c.text(
            cat,
            x + w / 2,
            y_bottom + 6,
            SMALL_SIZE,
            MUTED,
            (HPos::Center, VPos::Top),
            false,
        )?;
    }
    let names: Vec<_> = s
        .series
        .iter()
        .enumerate()
        .map(|(k, (n, _))| (n.clone(), PALETTE[k % PALETTE.len()]))
        .collect();
    c.legend(&names)
}
