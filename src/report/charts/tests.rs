//! One fixed small input per chart kind, with names in Latin, Cyrillic, Arabic and Hebrew:
//! insta snapshots of the SVG, and checks on the PNG rendered from it.

use super::*;

fn names() -> [&'static str; 4] {
    ["Anna Schmidt", "Иван Петров", "محمد العلي", "דוד כהן"]
}

pub fn samples() -> Vec<(&'static str, Chart)> {
    let n = names();
    vec![
        (
            "funnel",
            Chart::Funnel(funnel::Funnel {
                title: "Pipeline funnel".into(),
                steps: vec![
                    ("lead".into(), 1000.0),
                    ("qualified".into(), 620.0),
                    ("proposal".into(), 310.0),
                    ("won".into(), 120.0),
                ],
            }),
        ),
        (
            "heatmap",
            Chart::Heatmap(heatmap::Heatmap {
                title: "Cohort retention".into(),
                rows: vec!["2025-01".into(), "2025-02".into(), "2025-03".into()],
                columns: vec!["m0".into(), "m1".into(), "m2".into()],
                cells: vec![
                    vec![Some(1.0), Some(0.42), Some(0.3)],
                    vec![Some(1.0), Some(0.38), None],
                    vec![Some(1.0), None, None],
                ],
                labels: vec![
                    vec!["100%".into(), "42%".into(), "30%".into()],
                    vec!["100%".into(), "38%".into(), String::new()],
                    vec!["100%".into(), String::new(), String::new()],
                ],
                row_title: "first purchase".into(),
                column_title: "months since".into(),
            }),
        ),
        (
            "timeseries",
            Chart::TimeSeries(timeseries::TimeSeries {
                title: "Win rate by creation month".into(),
                periods: vec![
                    "2025-01".into(),
                    "2025-02".into(),
                    "2025-03".into(),
                    "2025-04".into(),
                ],
                series: vec![
                    (n[0].into(), vec![Some(0.2), Some(0.25), None, Some(0.3)]),
                    (
                        n[1].into(),
                        vec![Some(0.1), Some(0.15), Some(0.12), Some(0.18)],
                    ),
                ],
                percent: true,
            }),
        ),
        (
            "histogram",
            Chart::Histogram(histogram::Histogram {
                title: "CLV distribution".into(),
                bins: vec![
                    ("0–100".into(), 40.0),
                    ("100–200".into(), 25.0),
                    ("200–500".into(), 12.0),
                    ("500+".into(), 3.0),
                ],
                x_title: "customers by CLV".into(),
            }),
        ),
        (
            "bars",
            Chart::Bars(bars::Bars {
                title: "Revenue by manager".into(),
                items: n
                    .iter()
                    .zip([5200.0, 4100.0, 3900.0, 1200.0])
                    .map(|(a, b)| (a.to_string(), b))
                    .collect(),
                percent: false,
            }),
        ),
        (
            "stacked",
            Chart::Stacked(stacked::Stacked {
                title: "Weighted forecast".into(),
                categories: vec!["2026-01".into(), "2026-02".into(), "2026-03".into()],
                series: vec![
                    ("qualified".into(), vec![100.0, 80.0, 20.0]),
                    ("proposal".into(), vec![300.0, 150.0, 0.0]),
                ],
            }),
        ),
        (
            "intervals",
            Chart::Intervals(intervals::Intervals {
                title: "Uplift vs control (95% CI)".into(),
                items: vec![
                    ("Весенняя акция".into(), 0.031, 0.012, 0.05),
                    ("عرض الصيف".into(), -0.004, -0.02, 0.012),
                    ("מבצע חורף".into(), 0.01, -0.005, 0.025),
                ],
                percent: true,
            }),
        ),
        (
            "survey",
            Chart::Survey(survey::Survey {
                title: "Survey answers".into(),
                levels: vec![
                    ("Excellent".into(), 40.0),
                    ("Very good".into(), 30.0),
                    ("Good".into(), 15.0),
                    ("Acceptable".into(), 10.0),
                    ("Weak".into(), 5.0),
                ],
                note: "mean 3.9 of 5 over 100 answers".into(),
            }),
        ),
    ]
}

#[test]
fn every_chart_kind_renders_to_svg_snapshot() {
    for (name, chart) in samples() {
        let svg = chart.to_svg().unwrap();
        insta::assert_snapshot!(name, svg);
    }
}

#[test]
fn svg_keeps_text_in_every_script_as_text() {
    let svg = samples()
        .into_iter()
        .map(|(_, c)| c.to_svg().unwrap())
        .collect::<String>();
    for name in names() {
        assert!(svg.contains(name), "{name} missing from the SVG");
    }
}

/// The PNG of each chart: an image of the expected size with ink on it, and the same pixels
/// every time. With CRMLENS_CHART_DIR set, the PNGs are also written there to look at.
#[test]
fn png_renders_with_the_embedded_font() {
    for (name, chart) in samples() {
        let svg = chart.to_svg().unwrap();
        let png = svg_to_png(&svg, 1.0).unwrap();
        if let Some(dir) = std::env::var_os("CRMLENS_CHART_DIR") {
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), &png).unwrap();
        }
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!(pixmap.width(), WIDTH, "{name}");
        let dark = pixmap
            .pixels()
            .iter()
            .filter(|p| p.red() < 128 && p.green() < 128)
            .count();
        assert!(dark > 500, "{name}: {dark} dark pixels");
        assert_eq!(
            png,
            svg_to_png(&svg, 1.0).unwrap(),
            "{name}: not deterministic"
        );
    }
}

/// The Arabic name comes out shaped (joined letters, right to left), not as isolated
/// letters left to right: rendered alone, its ink is narrower than the same letters drawn
/// one by one side by side, as joined Arabic script is.
#[test]
fn arabic_is_shaped_in_png() {
    let text = |t: &str| {
        format!(
            "<svg xmlns='http://www.w3.org/2000/svg' width='400' height='60'>\
             <text x='10' y='40' font-family='DejaVu Sans' font-size='30'>{t}</text></svg>"
        )
    };
    let ink_width = |svg: String| {
        let png = svg_to_png(&svg, 1.0).unwrap();
        let p = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
        let cols: Vec<u32> = (0..p.width())
            .filter(|x| (0..p.height()).any(|y| p.pixel(*x, y).is_some_and(|px| px.alpha() > 100)))
            .collect();
        cols.last().unwrap() - cols.first().unwrap()
    };
    let joined = ink_width(text("محمد"));
    let isolated = ink_width(text("م ح م د"));
    assert!(joined > 20, "no Arabic glyphs drawn ({joined} px)");
    assert!(
        joined < isolated,
        "joined {joined} px, isolated {isolated} px"
    );
}
