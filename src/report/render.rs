//! Writing a report: `DIR/<name>.html` (one self-contained file: inline SVG and CSS, no
//! script, no network, printable), `DIR/<name>.md` (tables, charts linked), and
//! `DIR/charts/<name>-NN-<slug>.svg|png`. Every file is written atomically.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::charts::svg_to_png;
use super::run::{KeyValue, ReportData, Table, format_number};
use super::template::{Template, ValueFormat};
use crate::output::write_file_atomic;
use crate::{Error, Result};

/// What a report run wrote.
#[derive(Debug, serde::Serialize)]
pub struct Written {
    pub report: String,
    pub html: PathBuf,
    pub markdown: PathBuf,
    pub charts: Vec<PathBuf>,
    pub sections: usize,
    pub failed_sections: Vec<String>,
    pub query_ms: u64,
    pub render_ms: u64,
}

/// Facts printed under the title.
pub struct Meta {
    pub as_of: chrono::NaiveDate,
    pub dataset: PathBuf,
    pub currency: String,
    pub scope: Option<String>,
}

impl Meta {
    /// The header facts of a report rendered from this engine.
    pub async fn of(engine: &crate::engine::Engine) -> Result<Meta> {
        Ok(Meta {
            as_of: engine.as_of().await?,
            dataset: engine.dataset().root.clone(),
            currency: engine.config().currency.clone(),
            scope: engine.config().scope.as_ref().map(|s| s.to_string()),
        })
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(40).collect()
}

fn value_text(v: Option<f64>, f: ValueFormat, currency: &str) -> String {
    match v {
        None => "–".into(),
        Some(v) => match f {
            ValueFormat::Percent => format!("{:.1}%", v * 100.0),
            ValueFormat::Money => format!("{} {currency}", format_number(v, 0)),
            ValueFormat::Days => format!("{} d", format_number(v, 1)),
            ValueFormat::Number => format_number(v, 2),
        },
    }
}

/// The change against the previous period: percentage points for shares, else relative.
/// Returns (text, good) where good is None when there is no direction.
fn change(k: &KeyValue) -> Option<(String, Option<bool>)> {
    let (v, p) = (k.value?, k.previous?);
    let delta = v - p;
    let text = match k.format {
        ValueFormat::Percent => format!("{:+.1} pp", delta * 100.0),
        _ if p != 0.0 => format!("{:+.1}%", delta / p.abs() * 100.0),
        _ => return Some(("new".into(), None)),
    };
    let good = (delta != 0.0).then_some((delta > 0.0) != k.lower_is_better);
    Some((text, good))
}

const CSS: &str = "
body{font-family:'DejaVu Sans',system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#212529;margin:0 auto;max-width:960px;padding:24px;line-height:1.45}
header h1{margin:0 0 4px;font-size:28px}
header p{margin:0;color:#6c757d;font-size:14px}
.keys{display:flex;flex-wrap:wrap;gap:12px;margin:20px 0}
.key{flex:1 1 180px;border:1px solid #dee2e6;border-radius:8px;padding:12px 14px}
.key .label{font-size:13px;color:#6c757d}
.key .value{font-size:24px;font-weight:bold;margin:4px 0}
.key .change{font-size:13px}
.good{color:#1a7f37}.bad{color:#c0392b}.flat{color:#6c757d}
section{margin:28px 0;break-inside:avoid}
h2{font-size:20px;border-bottom:1px solid #dee2e6;padding-bottom:4px}
figure{margin:12px 0}
figure svg{max-width:100%;height:auto;display:block}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #e9ecef;padding:4px 8px;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#6c757d;font-size:12px}
.error{border:1px solid #c0392b;color:#c0392b;padding:8px;border-radius:6px}
@media print{body{max-width:none;padding:0}.key{break-inside:avoid}}
";

fn is_numeric_cell(s: &str) -> bool {
    !s.is_empty()
        && s.trim_end_matches('%')
            .replace(',', "")
            .parse::<f64>()
            .is_ok()
}

fn html_table(t: &Table) -> String {
    let numeric: Vec<bool> = (0..t.header.len())
        .map(|j| {
            t.rows
                .iter()
                .map(|r| &r[j])
                .filter(|c| !c.is_empty())
                .all(|c| is_numeric_cell(c))
        })
        .collect();
    let class = |j: usize| if numeric[j] { " class=\"n\"" } else { "" };
    let mut h = String::from("<table><thead><tr>");
    for (j, c) in t.header.iter().enumerate() {
        h.push_str(&format!("<th{}>{}</th>", class(j), esc(c)));
    }
    h.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        h.push_str("<tr>");
        for (j, c) in r.iter().enumerate() {
            h.push_str(&format!("<td{}>{}</td>", class(j), esc(c)));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    if t.total > t.rows.len() {
        h.push_str(&format!(
            "<p class=\"note\">first {} of {} rows</p>",
            t.rows.len(),
            t.total
        ));
    }
    h
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn md_table(t: &Table) -> String {
    if t.header.is_empty() {
        return "(no rows)\n".into();
    }
    let mut m = format!(
        "| {} |\n",
        t.header
            .iter()
            .map(|c| md_cell(c))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    m.push_str(&format!("|{}\n", "---|".repeat(t.header.len())));
    for r in &t.rows {
        m.push_str(&format!(
            "| {} |\n",
            r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    if t.total > t.rows.len() {
        m.push_str(&format!("\nfirst {} of {} rows\n", t.rows.len(), t.total));
    }
    m
}

/// Writes the HTML, Markdown and chart files; returns what was written.
pub fn write(t: &Template, data: &ReportData, meta: &Meta, out: &Path) -> Result<Written> {
    let start = Instant::now();
    let charts_dir = out.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|e| Error::io(&charts_dir, e))?;
    let subtitle = format!(
        "as of {} · dataset {}{} · crmlens {}",
        meta.as_of,
        meta.dataset.display(),
        meta.scope
            .as_deref()
            .map(|s| format!(" · scope {s}"))
            .unwrap_or_default(),
        env!("CARGO_PKG_VERSION")
    );
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{CSS}</style></head><body>\n<header><h1>{}</h1><p>{}</p>",
        esc(&t.title),
        esc(&t.title),
        esc(&subtitle)
    );
    if !t.description.is_empty() {
        html.push_str(&format!("<p>{}</p>", esc(&t.description)));
    }
    html.push_str("</header>\n");
    let mut md = format!("# {}\n\n{subtitle}\n\n", t.title);
    if !t.description.is_empty() {
        md.push_str(&format!("{}\n\n", t.description));
    }
    if !data.keys.is_empty() {
        html.push_str("<div class=\"keys\">");
        md.push_str("| figure | value | change |\n|---|---|---|\n");
        for k in &data.keys {
            let value = match &k.error {
                Some(_) => "error".to_string(),
                None => value_text(k.value, k.format, &meta.currency),
            };
            let (change_text, class) = match change(k) {
                Some((text, Some(true))) => (text, "good"),
                Some((text, Some(false))) => (text, "bad"),
                Some((text, None)) => (text, "flat"),
                None => (String::new(), "flat"),
            };
            let previous = k
                .previous
                .map(|p| format!(" vs {}", value_text(Some(p), k.format, &meta.currency)))
                .unwrap_or_default();
            html.push_str(&format!(
                "<div class=\"key\"><div class=\"label\">{}</div><div class=\"value\">{}</div>\
                 <div class=\"change {class}\">{}{}</div></div>",
                esc(&k.label),
                esc(&value),
                esc(&change_text),
                esc(&previous)
            ));
            md.push_str(&format!(
                "| {} | {} | {}{} |\n",
                md_cell(&k.label),
                value,
                change_text,
                previous
            ));
        }
        html.push_str("</div>\n");
        md.push('\n');
    }
    let mut charts = Vec::new();
    let mut failed = Vec::new();
    for (i, s) in data.sections.iter().enumerate() {
        html.push_str(&format!("<section><h2>{}</h2>", esc(&s.heading)));
        md.push_str(&format!("## {}\n\n", s.heading));
        if !s.text.is_empty() {
            html.push_str(&format!("<p>{}</p>", esc(&s.text)));
            md.push_str(&format!("{}\n\n", s.text));
        }
        if let Some(e) = &s.error {
            failed.push(s.heading.clone());
            html.push_str(&format!(
                "<p class=\"error\">This section could not be computed: {}</p>",
                esc(e)
            ));
            md.push_str(&format!("> This section could not be computed: {e}\n\n"));
        }
        if let Some(chart) = &s.chart {
            let svg = chart.to_svg()?;
            let base = format!("{}-{:02}-{}", t.name, i + 1, slug(&s.heading));
            let svg_path = charts_dir.join(format!("{base}.svg"));
            let png_path = charts_dir.join(format!("{base}.png"));
            write_file_atomic(&svg_path, svg.as_bytes())?;
            write_file_atomic(&png_path, &svg_to_png(&svg, 1.5)?)?;
            html.push_str(&format!(
                "<figure role=\"img\" aria-label=\"{}\">{}</figure>",
                esc(chart.title()),
                svg.trim()
            ));
            md.push_str(&format!("![{}](charts/{base}.svg)\n\n", chart.title()));
            charts.push(svg_path);
            charts.push(png_path);
        }
        if let Some(table) = &s.table {
            html.push_str(&html_table(table));
            md.push_str(&md_table(table));
            md.push('\n');
        }
        html.push_str("</section>\n");
    }
    html.push_str("</body></html>\n");
    let html_path = out.join(format!("{}.html", t.name));
    let md_path = out.join(format!("{}.md", t.name));
    write_file_atomic(&html_path, html.as_bytes())?;
    write_file_atomic(&md_path, md.as_bytes())?;
    Ok(Written {
        report: t.name.clone(),
        html: html_path,
        markdown: md_path,
        charts,
        sections: data.sections.len(),
        failed_sections: failed,
        query_ms: data.query_ms,
        render_ms: start.elapsed().as_millis() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_slugs() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
        assert_eq!(slug("Plan vs actual (by month)"), "plan-vs-actual-by-month");
    }

    #[test]
    fn changes_are_points_for_shares_and_relative_otherwise() {
        let k = |v, p, f, lower| KeyValue {
            label: String::new(),
            value: Some(v),
            previous: Some(p),
            format: f,
            lower_is_better: lower,
            error: None,
        };
        assert_eq!(
            change(&k(0.25, 0.2, ValueFormat::Percent, false)),
            Some(("+5.0 pp".into(), Some(true)))
        );
        assert_eq!(
            change(&k(0.25, 0.2, ValueFormat::Percent, true)),
            Some(("+5.0 pp".into(), Some(false)))
        );
        assert_eq!(
            change(&k(90.0, 100.0, ValueFormat::Money, false)),
            Some(("-10.0%".into(), Some(false)))
        );
    }
}
